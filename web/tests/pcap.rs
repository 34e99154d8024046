//! Captures: pcap (Ethernet, IPv4) and pcapng (Linux cooked, IPv6) written here packet by
//! packet with etherparse, with out-of-order segments, retransmissions, a capture started
//! mid-connection and a connection that is not Kafka.

use bytes::BytesMut;
use kproto::frame::{encode_request_frame, encode_response_frame};
use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
use kproto::messages::{ApiVersionsRequest, MetadataRequest, ProduceRequest, RequestHeader};
use kproto::records::{BatchBuilder, BatchConfig, Compression};
use kproto::{ApiKey, RequestBody, ResponseBody};
use web::frames::Direction;
use web::pcap::read_capture;
use web::SliceSource;

mod fixture;
use fixture::pcap::{v4, Capture, Link, Side};

fn header(key: ApiKey, version: i16, id: i32) -> RequestHeader {
    RequestHeader {
        request_api_key: key.key(),
        request_api_version: version,
        correlation_id: id,
        client_id: Some("pcap-test".into()),
        ..Default::default()
    }
}

fn req(key: ApiKey, version: i16, id: i32, body: RequestBody) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode_request_frame(&header(key, version, id), &body, &mut b).unwrap();
    b.to_vec()
}

fn resp(id: i32, body: ResponseBody, version: i16) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode_response_frame(id, &body, version, &mut b).unwrap();
    b.to_vec()
}

/// A Produce v9 request of about 200 KB: 4 lz4 batches of 50 records of 1 KB.
fn produce(id: i32) -> Vec<u8> {
    let mut records = Vec::new();
    for b in 0..4 {
        let mut bb = BatchBuilder::new(BatchConfig {
            compression: Compression::Lz4,
            write_limit: 1 << 24,
            ..BatchConfig::default()
        });
        for i in 0..50 {
            let mut rng = kproto::testing::Rng::new(b * 100 + i);
            let v: String = (0..64)
                .map(|_| format!("{:016x}", rng.next_u64()))
                .collect();
            bb.try_append(1_700_000_000_000 + i as i64, None, Some(v.as_bytes()), &[])
                .unwrap();
        }
        records.extend(bb.finish().unwrap());
    }
    let body = ProduceRequest {
        acks: -1,
        timeout_ms: 1000,
        topic_data: vec![TopicProduceData {
            name: "t".into(),
            partition_data: vec![PartitionProduceData {
                index: 0,
                records: Some(records.into()),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    req(ApiKey::Produce, 9, id, RequestBody::Produce(Box::new(body)))
}

#[test]
fn a_pcap_with_reordered_and_retransmitted_segments_decodes_every_pair() {
    let mut cap = Capture::new(Link::EthernetV4);
    let (mut c, mut s) = (v4(1, 50_000, 1000), v4(2, 19_092, 9000));
    cap.packet(&c, &s, c.seq, 1, &[]);
    c.seq += 1;
    cap.packet(&s, &c, s.seq, 2, &[]);
    s.seq += 1;
    let av = req(
        ApiKey::ApiVersions,
        3,
        1,
        RequestBody::ApiVersions(Box::<ApiVersionsRequest>::default()),
    );
    cap.send(&mut c, &s, &av, 1460);
    cap.send(
        &mut s,
        &c,
        &resp(1, ResponseBody::ApiVersions(Box::default()), 3),
        1460,
    );
    // The Produce request in 16 KB segments: the second arrives before the first, the first is
    // then retransmitted whole, and the third half again (overlapping the fourth).
    let p = produce(2);
    assert!(p.len() > 200_000);
    let mss = 16_384;
    let base = c.seq;
    let seg = |i: usize| {
        (
            base.wrapping_add((i * mss) as u32),
            &p[i * mss..((i + 1) * mss).min(p.len())],
        )
    };
    let (s1, d1) = seg(1);
    cap.packet(&c, &s, s1, 0, d1);
    let (s0, d0) = seg(0);
    cap.packet(&c, &s, s0, 0, d0);
    cap.packet(&c, &s, s0, 0, d0);
    for i in 2..p.len().div_ceil(mss) {
        let (sq, d) = seg(i);
        cap.packet(&c, &s, sq, 0, d);
        if i == 2 {
            cap.packet(
                &c,
                &s,
                sq.wrapping_add(8192),
                0,
                &p[2 * mss + 8192..4 * mss],
            );
        }
    }
    c.seq = base.wrapping_add(p.len() as u32);
    cap.send(
        &mut s,
        &c,
        &resp(2, ResponseBody::Produce(Box::default()), 9),
        1460,
    );
    cap.send(
        &mut c,
        &s,
        &req(
            ApiKey::Metadata,
            12,
            3,
            RequestBody::Metadata(Box::<MetadataRequest>::default()),
        ),
        1460,
    );
    cap.send(
        &mut s,
        &c,
        &resp(3, ResponseBody::Metadata(Box::default()), 12),
        1460,
    );
    // Another connection that is not Kafka.
    let (mut h, hs) = (v4(1, 50_001, 77), v4(3, 8080, 88));
    cap.packet(&h, &hs, h.seq, 1, &[]);
    h.seq += 1;
    cap.send(&mut h, &hs, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 1460);

    let data = cap.pcap();
    let r = read_capture(&mut SliceSource::new("lo.pcap", &data[..]));
    assert_eq!(r.format, "pcap");
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert_eq!(r.packets, r.tcp_packets);
    assert_eq!(r.connections.len(), 2);
    let k = &r.connections[0];
    assert!(k.kafka && k.problems.is_empty(), "{:?}", k.problems);
    assert_eq!(
        (k.client.as_str(), k.server.as_str()),
        ("10.0.0.1:50000", "10.0.0.2:19092")
    );
    // Dropped: the first segment's copy, the overlap of the half-and-more segment with the
    // third (8 KB), and the fourth, which that segment had already delivered.
    assert_eq!(k.retransmitted_bytes, mss as u64 + 8192 + mss as u64);
    let got: Vec<_> = k
        .frames
        .iter()
        .map(|f| {
            (
                f.direction,
                f.api_name,
                f.api_version,
                f.correlation_id,
                f.pair,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                Direction::Request,
                Some("ApiVersions"),
                Some(3),
                Some(1),
                Some(1)
            ),
            (
                Direction::Response,
                Some("ApiVersions"),
                Some(3),
                Some(1),
                Some(0)
            ),
            (
                Direction::Request,
                Some("Produce"),
                Some(9),
                Some(2),
                Some(3)
            ),
            (
                Direction::Response,
                Some("Produce"),
                Some(9),
                Some(2),
                Some(2)
            ),
            (
                Direction::Request,
                Some("Metadata"),
                Some(12),
                Some(3),
                Some(5)
            ),
            (
                Direction::Response,
                Some("Metadata"),
                Some(12),
                Some(3),
                Some(4)
            ),
        ]
    );
    assert!(k.frames.iter().all(|f| f.error.is_none()));
    let sets = &k.frames[2].record_sets;
    assert_eq!(sets[0].batches.len(), 4);
    assert!(sets[0]
        .batches
        .iter()
        .all(|b| b.crc_ok && b.count == 50 && b.compression == "lz4"));
    assert!(k.frames.windows(2).all(|w| w[0].time_us <= w[1].time_us));
    let http = &r.connections[1];
    assert!(!http.kafka && http.frames.is_empty());
    assert_eq!(http.client_bytes, 27);
}

#[test]
fn a_pcapng_of_linux_cooked_ipv6_started_mid_connection_finds_the_client_by_framing() {
    let mut cap = Capture::new(Link::SllV6);
    let mut cip = [0u8; 16];
    cip[15] = 1; // ::1
    let mut c = Side {
        ip: cip,
        port: 40_000,
        seq: 0xffff_ff00,
    }; // wraps around 2^32
    let mut s = Side {
        ip: cip,
        port: 9092,
        seq: 42,
    };
    // The first packet seen is the server's bare ACK: no SYN in the capture.
    cap.packet(&s, &c, s.seq, 0, &[]);
    let big = produce(10);
    cap.send(&mut c, &s, &big, 30_000);
    cap.send(
        &mut s,
        &c,
        &resp(10, ResponseBody::Produce(Box::default()), 9),
        1000,
    );
    // The capture stops inside a request: a partial frame at the end.
    let md = req(
        ApiKey::Metadata,
        12,
        11,
        RequestBody::Metadata(Box::<MetadataRequest>::default()),
    );
    cap.send(&mut c, &s, &md[..md.len() - 3], 1000);
    let data = cap.pcapng();
    let r = read_capture(&mut SliceSource::new("cooked.pcapng", &data[..]));
    assert_eq!(r.format, "pcapng");
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    let k = &r.connections[0];
    assert!(k.kafka);
    assert_eq!(k.client, "[::1]:40000");
    assert_eq!(k.frames.len(), 2);
    assert_eq!(
        (
            k.frames[0].api_name,
            k.frames[1].direction,
            k.frames[1].pair
        ),
        (Some("Produce"), Direction::Response, Some(0))
    );
    assert_eq!(k.problems.len(), 1, "{:?}", k.problems);
    assert!(
        k.problems[0].reason.contains("are not a whole frame"),
        "{}",
        k.problems[0].reason
    );
    // A truncated capture file is reported, what came before it still decoded.
    let cut = &data[..data.len() - 10];
    let r = read_capture(&mut SliceSource::new("cut.pcapng", cut));
    assert!(
        r.problems.iter().any(|p| p.kind == "tail"),
        "{:?}",
        r.problems
    );
    assert_eq!(r.connections[0].frames.len(), 2);
    // Not a capture at all.
    let r = read_capture(&mut SliceSource::new(
        "x.pcap",
        &b"hello, this is not a capture file"[..],
    ));
    assert_eq!(r.problems[0].kind, "capture");
}
