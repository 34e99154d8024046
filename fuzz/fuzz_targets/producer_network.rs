//! kproducer's network client fed arbitrary broker bytes, interleaved with a real broker's
//! answers (klog's core over MemStorage), timeouts and disconnects. The client must never
//! panic, whatever the broker says: a bad frame, a wrong correlation id, a response that does
//! not decode, an ApiVersions or Metadata answer that makes no sense.
//!
//! The input is a list of operations `[op][len][bytes]`:
//! - op % 5 == 0: `len` bytes arrive on the open connection as if from the broker;
//! - 1: the real broker answers what the client sent (so the handshake can progress);
//! - 2: virtual time jumps `len * 50` ms and the client handles its timeout;
//! - 3: the connection drops;
//! - 4: the client is asked to send a Metadata request for a topic named by the bytes.
#![no_main]

use bytes::Bytes;
use klog::broker::{Broker, BrokerConfig, Handled};
use klog::MemStorage;
use kproducer::network::{NetworkClient, NetworkEvent};
use kproducer::ProducerConfig;
use kproto::frame::FrameDecoder;
use libfuzzer_sys::fuzz_target;

const T0: u64 = 1_700_000_000_000;

fuzz_target!(|data: &[u8]| {
    let config = ProducerConfig {
        bootstrap_servers: vec!["localhost:9092".into()],
        ..ProducerConfig::default()
    };
    let Ok(mut client) = NetworkClient::<u32>::new(&config) else {
        return;
    };
    let mut bc = BrokerConfig::default();
    bc.log.segment_index_bytes = 4096;
    let Ok((mut broker, _)) = Broker::open(MemStorage::new(), bc, 1, T0 as i64) else {
        return;
    };
    let mut now = T0;
    let mut conn: Option<u64> = None;
    let mut to_broker = FrameDecoder::new(1 << 20);
    let mut pending: Vec<u8> = Vec::new();
    client.handle_timeout(now);
    let mut rest = data;
    while let [op, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (bytes, after) = tail.split_at(n);
        rest = after;
        // the client's events and bytes first
        while let Some(ev) = client.poll_event() {
            match ev {
                NetworkEvent::ConnectTo { conn: c, .. } => {
                    conn = Some(c);
                    to_broker = FrameDecoder::new(1 << 20);
                    client.handle_connected(c, now);
                }
                NetworkEvent::Close { conn: c } if Some(c) == conn => {
                    broker.connection_closed(c);
                    conn = None;
                }
                _ => {}
            }
        }
        let mut buf = Vec::new();
        while let Some(c) = client.poll_transmit(now, &mut buf) {
            if Some(c) == conn {
                to_broker.feed(&buf);
            }
            buf.clear();
        }
        match op % 5 {
            0 => {
                if let Some(c) = conn {
                    client.handle_bytes(c, bytes, now);
                }
            }
            1 => {
                let Some(c) = conn else { continue };
                while let Ok(Some(frame)) = to_broker.next_frame() {
                    let frame: Bytes = frame;
                    match broker.handle_frame(c, frame, now as i64) {
                        Handled::Respond(b) => pending.extend_from_slice(&b),
                        Handled::Close(_) => break,
                        _ => {}
                    }
                }
                if !pending.is_empty() {
                    client.handle_bytes(c, &pending, now);
                    pending.clear();
                }
            }
            2 => {
                now += 50 * n as u64;
                client.handle_timeout(now);
            }
            3 => {
                if let Some(c) = conn.take() {
                    broker.connection_closed(c);
                    client.handle_disconnect(c, now);
                }
            }
            _ => {
                let topic: String = bytes
                    .iter()
                    .map(|b| char::from(b'a' + b % 26))
                    .take(40)
                    .collect();
                if !topic.is_empty() {
                    client.metadata_mut().add(&topic, now);
                }
            }
        }
        let _ = client.poll_timeout();
    }
});
