//! Captures (`tcpdump -w`: pcap or pcapng; Ethernet, Linux cooked v1/v2, raw IP and BSD
//! loopback link types; IPv4 and IPv6) read with `pcap-parser` and `etherparse`: TCP streams
//! are reassembled per direction (retransmitted bytes dropped, out-of-order segments put back
//! in order), Kafka is found on any port by framing the client's stream as requests, and each
//! Kafka connection's frames are decoded in capture order with responses matched to their
//! requests ([`crate::frames::Conversation`]).
//!
//! The capture is read through the [`ByteSource`] in chunks; what is kept is the reassembled
//! payload of each connection.

use crate::error::Problem;
use crate::frames::{Conversation, Direction, FrameInfo};
use crate::source::{read_clamped, ByteSource};
use bytes::Bytes;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use kproto::frame::{decode_request, FrameDecoder, DEFAULT_MAX_FRAME_SIZE};
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Block, LegacyPcapReader, Linktype, PcapBlockOwned, PcapError, PcapNGReader};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};

/// The largest pcap block accepted (the buffer grows up to it).
const MAX_BLOCK: usize = 16 << 20;

/// One TCP connection seen in the capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// Its index in the report.
    pub index: usize,
    /// The client (the side that sent SYN, or whose stream frames as Kafka requests).
    pub client: String,
    /// The server.
    pub server: String,
    /// Whether the client's stream frames as Kafka requests.
    pub kafka: bool,
    /// TCP packets of the connection.
    pub packets: usize,
    /// Payload bytes reassembled, client to server.
    pub client_bytes: u64,
    /// Payload bytes reassembled, server to client.
    pub server_bytes: u64,
    /// Retransmitted payload bytes dropped (both directions).
    pub retransmitted_bytes: u64,
    /// The decoded frames, in capture order (Kafka connections only).
    pub frames: Vec<FrameInfo>,
    /// What went wrong (gaps, partial frames).
    pub problems: Vec<Problem>,
}

/// A capture read and decoded.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CaptureReport {
    /// The capture file.
    pub file: String,
    /// `pcap` or `pcapng`.
    pub format: &'static str,
    /// Packets read.
    pub packets: usize,
    /// TCP packets among them.
    pub tcp_packets: usize,
    /// The TCP connections, in order of their first packet.
    pub connections: Vec<Connection>,
    /// Problems with the capture itself (truncation, unknown link types, undecodable packets).
    pub problems: Vec<Problem>,
}

/// `std::io::Read` over a [`ByteSource`], for pcap-parser's streaming readers.
struct SourceReader<'a> {
    src: &'a mut dyn ByteSource,
    pos: u64,
    error: Option<crate::InspectError>,
}

impl std::io::Read for SourceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let end = (self.pos + buf.len() as u64).min(self.src.len());
        if end <= self.pos {
            return Ok(0);
        }
        match read_clamped(self.src, self.pos, end) {
            Ok(b) => {
                buf[..b.len()].copy_from_slice(&b);
                self.pos = end;
                Ok(b.len())
            }
            Err(e) => {
                self.error = Some(e);
                Err(std::io::Error::other("read failed"))
            }
        }
    }
}

/// A frame of a stream: where it starts in the stream, its bytes, its capture time.
type StreamFrame = (u64, Bytes, Option<i64>);

/// One direction of a connection, reassembled.
#[derive(Debug, Default)]
struct HalfStream {
    isn: Option<u32>,
    next: u32,
    data: Vec<u8>,
    /// (stream offset where a packet's bytes start, capture time in µs).
    times: Vec<(u64, i64)>,
    pending: BTreeMap<u32, (Vec<u8>, i64)>,
    dropped: u64,
    syn: bool,
}

impl HalfStream {
    fn append(&mut self, payload: &[u8], t: i64) {
        if payload.is_empty() {
            return;
        }
        self.times.push((self.data.len() as u64, t));
        self.data.extend_from_slice(payload);
        self.next = self.next.wrapping_add(payload.len() as u32);
    }

    /// Adds a segment at sequence number `seq`, trimming what was already received.
    fn push(&mut self, seq: u32, syn: bool, payload: &[u8], t: i64) {
        if syn {
            self.syn = true;
            self.isn = Some(seq.wrapping_add(1));
            return;
        }
        if payload.is_empty() {
            return;
        }
        let isn = *self.isn.get_or_insert(seq);
        let rel = seq.wrapping_sub(isn);
        let ahead = rel.wrapping_sub(self.next) as i32;
        if ahead > 0 {
            self.pending
                .entry(rel)
                .or_insert_with(|| (payload.to_vec(), t));
            return;
        }
        let skip = (-(ahead as i64)) as usize;
        if skip >= payload.len() {
            self.dropped += payload.len() as u64;
            return;
        }
        self.dropped += skip as u64;
        self.append(&payload[skip..], t);
        // Segments that arrived early and now follow on.
        while let Some((&k, _)) = self.pending.iter().next() {
            let ahead = k.wrapping_sub(self.next) as i32;
            if ahead > 0 {
                break;
            }
            let (p, t) = self.pending.remove(&k).unwrap_or_default();
            let skip = (-(ahead as i64)) as usize;
            if skip >= p.len() {
                self.dropped += p.len() as u64;
            } else {
                self.dropped += skip as u64;
                self.append(&p[skip..], t);
            }
        }
    }

    fn time_at(&self, offset: u64) -> Option<i64> {
        let i = self.times.partition_point(|(o, _)| *o <= offset);
        (i > 0).then(|| self.times[i - 1].1)
    }

    /// The stream's frames: (position, frame, capture time); and a problem if it does not end
    /// on a frame boundary.
    fn frames(&self) -> (Vec<StreamFrame>, Option<String>) {
        let mut dec = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        dec.feed(&self.data);
        let mut out = Vec::new();
        let mut pos = 0u64;
        loop {
            match dec.next_frame() {
                Ok(Some(f)) => {
                    let t = self.time_at(pos);
                    let len = f.len() as u64;
                    out.push((pos, f, t));
                    pos += 4 + len;
                }
                Ok(None) if dec.buffered() == 0 => return (out, None),
                Ok(None) => {
                    return (
                        out,
                        Some(format!(
                            "{} bytes at the end are not a whole frame",
                            dec.buffered()
                        )),
                    )
                }
                Err(e) => return (out, Some(format!("cannot frame at byte {pos}: {e}"))),
            }
        }
    }
}

#[derive(Debug)]
struct Conn {
    /// The endpoints in the order first seen: `a` sent the first packet.
    a: SocketAddr,
    b: SocketAddr,
    /// `[a -> b, b -> a]`.
    half: [HalfStream; 2],
    packets: usize,
}

struct Packet {
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    syn: bool,
    ack: bool,
    payload: Vec<u8>,
}

fn tcp_of(link: Linktype, data: &[u8]) -> Result<Option<Packet>, String> {
    let sliced = match link {
        Linktype::ETHERNET => SlicedPacket::from_ethernet(data),
        Linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data),
        Linktype::RAW | Linktype::IPV4 | Linktype::IPV6 => SlicedPacket::from_ip(data),
        Linktype::NULL | Linktype::LOOP => SlicedPacket::from_ip(data.get(4..).unwrap_or_default()),
        Linktype::LINUX_SLL2 => SlicedPacket::from_ip(data.get(20..).unwrap_or_default()),
        other => return Err(format!("link type {} is not supported", other.0)),
    }
    .map_err(|e| e.to_string())?;
    let (src_ip, dst_ip) = match &sliced.net {
        Some(NetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
        ),
        Some(NetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
        ),
        _ => return Ok(None),
    };
    let Some(TransportSlice::Tcp(tcp)) = &sliced.transport else {
        return Ok(None);
    };
    Ok(Some(Packet {
        src: SocketAddr::new(src_ip, tcp.source_port()),
        dst: SocketAddr::new(dst_ip, tcp.destination_port()),
        seq: tcp.sequence_number(),
        syn: tcp.syn(),
        ack: tcp.ack(),
        payload: tcp.payload().to_vec(),
    }))
}

/// Does this stream start with a whole Kafka request frame?
fn starts_with_request(h: &HalfStream) -> bool {
    let d = &h.data;
    if d.len() < 4 {
        return false;
    }
    let size = i32::from_be_bytes([d[0], d[1], d[2], d[3]]);
    if size < 8 || size as usize > DEFAULT_MAX_FRAME_SIZE || d.len() < 4 + size as usize {
        return false;
    }
    // A whole request must decode: a response's correlation id often reads as a valid API key
    // and version, but its body rarely decodes as that request.
    let frame = Bytes::copy_from_slice(&d[4..4 + size as usize]);
    decode_request(&frame).is_ok()
}

/// Reads a capture and decodes its Kafka connections.
pub fn read_capture(src: &mut dyn ByteSource) -> CaptureReport {
    let file = src.name().to_owned();
    let magic = read_clamped(src, 0, 4).unwrap_or_default();
    let ng = magic == [0x0a, 0x0d, 0x0d, 0x0a];
    let mut report = CaptureReport {
        file: file.clone(),
        format: if ng { "pcapng" } else { "pcap" },
        packets: 0,
        tcp_packets: 0,
        connections: Vec::new(),
        problems: Vec::new(),
    };
    let mut conns: Vec<Conn> = Vec::new();
    let mut by_key: HashMap<(SocketAddr, SocketAddr), usize> = HashMap::new();
    let mut reader = SourceReader {
        src,
        pos: 0,
        error: None,
    };
    let capacity = 1 << 16;
    let mut it: Box<dyn PcapReaderIterator + '_> = if ng {
        match PcapNGReader::new(capacity, &mut reader) {
            Ok(r) => Box::new(r),
            Err(e) => {
                report.problems.push(Problem::new(
                    &file,
                    0,
                    "capture",
                    format!("not a pcapng capture: {e}"),
                ));
                return report;
            }
        }
    } else {
        match LegacyPcapReader::new(capacity, &mut reader) {
            Ok(r) => Box::new(r),
            Err(e) => {
                report.problems.push(Problem::new(
                    &file,
                    0,
                    "capture",
                    format!("neither a pcap nor a pcapng capture: {e}"),
                ));
                return report;
            }
        }
    };
    let mut legacy_link = Linktype::ETHERNET;
    let mut nanos = false;
    let mut interfaces: Vec<(Linktype, u64, i64)> = Vec::new();
    let mut size = capacity;
    let mut unsupported = std::collections::BTreeSet::new();
    loop {
        let at = it.consumed() as u64;
        match it.next() {
            Ok((offset, block)) => {
                let pkt: Option<(Linktype, &[u8], i64)> = match &block {
                    PcapBlockOwned::LegacyHeader(h) => {
                        legacy_link = h.network;
                        nanos = h.is_nanosecond_precision();
                        None
                    }
                    PcapBlockOwned::Legacy(b) => {
                        let frac = if nanos {
                            i64::from(b.ts_usec) / 1000
                        } else {
                            i64::from(b.ts_usec)
                        };
                        let n = (b.caplen as usize).min(b.data.len());
                        Some((
                            legacy_link,
                            &b.data[..n],
                            i64::from(b.ts_sec) * 1_000_000 + frac,
                        ))
                    }
                    PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                        interfaces.clear();
                        None
                    }
                    PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                        interfaces.push((
                            idb.linktype,
                            idb.ts_resolution().unwrap_or(1_000_000),
                            idb.ts_offset(),
                        ));
                        None
                    }
                    PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                        match interfaces.get(epb.if_id as usize) {
                            Some(&(link, res, off)) => {
                                let (s, frac) = epb.decode_ts(off.max(0) as u64, res);
                                let us = if res >= 1_000_000 {
                                    u64::from(frac) * 1_000_000 / res
                                } else {
                                    u64::from(frac) * (1_000_000 / res.max(1))
                                };
                                let n = (epb.caplen as usize).min(epb.data.len());
                                Some((link, &epb.data[..n], i64::from(s) * 1_000_000 + us as i64))
                            }
                            None => {
                                report.problems.push(Problem::new(
                                    &file,
                                    at,
                                    "capture",
                                    format!("packet on unknown interface {}", epb.if_id),
                                ));
                                None
                            }
                        }
                    }
                    PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                        interfaces.first().map(|&(link, _, _)| (link, spb.data, 0))
                    }
                    PcapBlockOwned::NG(_) => None,
                };
                if let Some((link, data, t)) = pkt {
                    report.packets += 1;
                    match tcp_of(link, data) {
                        Ok(Some(p)) => {
                            report.tcp_packets += 1;
                            let key = if p.src <= p.dst {
                                (p.src, p.dst)
                            } else {
                                (p.dst, p.src)
                            };
                            let i = *by_key.entry(key).or_insert_with(|| {
                                conns.push(Conn {
                                    a: p.src,
                                    b: p.dst,
                                    half: Default::default(),
                                    packets: 0,
                                });
                                conns.len() - 1
                            });
                            let c = &mut conns[i];
                            c.packets += 1;
                            let dir = usize::from(p.src != c.a);
                            // A SYN without ACK names the client: make it side `a`.
                            if p.syn
                                && !p.ack
                                && dir == 1
                                && c.half[0].data.is_empty()
                                && c.half[1].data.is_empty()
                            {
                                core::mem::swap(&mut c.a, &mut c.b);
                                c.half.swap(0, 1);
                            }
                            let dir = usize::from(p.src != c.a);
                            c.half[dir].push(p.seq, p.syn, &p.payload, t);
                        }
                        Ok(None) => {}
                        Err(e) if e.contains("not supported") => {
                            unsupported.insert(e);
                        }
                        Err(e) => report.problems.push(Problem::new(
                            &file,
                            at,
                            "packet",
                            format!("packet {}: {e}", report.packets),
                        )),
                    }
                }
                it.consume(offset);
            }
            Err(PcapError::Eof) => break,
            Err(PcapError::Incomplete(_)) => {
                if it.refill().is_err() {
                    report.problems.push(Problem::new(
                        &file,
                        at,
                        "capture",
                        "reading the capture failed",
                    ));
                    break;
                }
            }
            Err(PcapError::BufferTooSmall) => {
                size *= 2;
                if size > MAX_BLOCK || !it.grow(size) {
                    report.problems.push(Problem::new(
                        &file,
                        at,
                        "capture",
                        format!("a block larger than {MAX_BLOCK} bytes"),
                    ));
                    break;
                }
                if it.refill().is_err() {
                    break;
                }
            }
            Err(PcapError::UnexpectedEof) => {
                report.problems.push(Problem::new(
                    &file,
                    at,
                    "tail",
                    "the capture ends inside a packet (truncated file)",
                ));
                break;
            }
            Err(e) => {
                report.problems.push(Problem::new(
                    &file,
                    at,
                    "capture",
                    format!("unreadable block: {e}"),
                ));
                break;
            }
        }
    }
    drop(it);
    if let Some(e) = reader.error {
        report.problems.push(e.into());
    }
    for u in unsupported {
        report.problems.push(Problem::new(&file, 0, "capture", u));
    }
    for (index, mut c) in conns.into_iter().enumerate() {
        // Without a SYN, the client is the side whose stream starts with a request.
        if !c.half[0].syn && !starts_with_request(&c.half[0]) && starts_with_request(&c.half[1]) {
            core::mem::swap(&mut c.a, &mut c.b);
            c.half.swap(0, 1);
        }
        let kafka = starts_with_request(&c.half[0]);
        let name = format!("{file} {} -> {}", c.a, c.b);
        let mut conn = Connection {
            index,
            client: c.a.to_string(),
            server: c.b.to_string(),
            kafka,
            packets: c.packets,
            client_bytes: c.half[0].data.len() as u64,
            server_bytes: c.half[1].data.len() as u64,
            retransmitted_bytes: c.half[0].dropped + c.half[1].dropped,
            frames: Vec::new(),
            problems: Vec::new(),
        };
        for (d, h) in c.half.iter().enumerate() {
            if let Some((&k, _)) = h.pending.iter().next() {
                let who = if d == 0 { "client" } else { "server" };
                conn.problems.push(Problem::new(
                    &name,
                    u64::from(k),
                    "gap",
                    format!("the {who}'s stream has a gap after byte {} (bytes missing from the capture); later bytes are not decoded", h.data.len()),
                ));
            }
        }
        if kafka {
            let (req, e0) = c.half[0].frames();
            let (resp, e1) = c.half[1].frames();
            for (who, e) in [("client", e0), ("server", e1)] {
                if let Some(e) = e {
                    conn.problems.push(Problem::new(
                        &name,
                        0,
                        "framing",
                        format!("the {who}'s stream: {e}"),
                    ));
                }
            }
            let mut all: Vec<(i64, usize, u64, Bytes)> = req
                .into_iter()
                .map(|(p, f, t)| (t.unwrap_or(0), 0, p, f))
                .chain(resp.into_iter().map(|(p, f, t)| (t.unwrap_or(0), 1, p, f)))
                .collect();
            // Capture order; a request before a response captured in the same microsecond.
            all.sort_by_key(|(t, d, p, _)| (*t, *d, *p));
            let mut conv = Conversation::new();
            for (t, d, p, f) in all {
                let dir = if d == 0 {
                    Direction::Request
                } else {
                    Direction::Response
                };
                conv.push(&f, p, dir, Some(t));
            }
            conn.frames = conv.frames;
        }
        report.connections.push(conn);
    }
    report
}
