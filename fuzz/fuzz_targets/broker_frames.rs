//! Arbitrary request frames through the broker core (`klog::broker::Broker` over MemStorage):
//! it never panics, every response frame it returns carries its own size, and a closed
//! connection is only ever the one that sent the frame.
//!
//! The first input byte picks how the rest is used:
//! - even: a stream of frames, each a 2-byte big-endian length and that many bytes (header and
//!   body, as the network adapter hands them over), on connections that move on when one is
//!   closed;
//! - odd: the records of a well-formed Produce request (the second byte picks the version
//!   3–13 and acks) to a topic created up front, so the fuzzer reaches the log's validation and
//!   append paths without having to find a whole request first.
//!
//! Between frames the core's timers, completed answers and events are drained, as an adapter
//! does.
#![no_main]

use bytes::{Bytes, BytesMut};
use klog::broker::{Broker, BrokerConfig, Handled};
use klog::MemStorage;
use kproto::frame::encode_request_frame;
use kproto::messages::create_topics::request::CreatableTopic;
use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
use kproto::messages::{CreateTopicsRequest, ProduceRequest, RequestHeader};
use kproto::{ApiKey, RequestBody};
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_700_000_000_000;

fn frame(key: ApiKey, version: i16, corr: i32, body: &RequestBody) -> Bytes {
    let h = RequestHeader {
        request_api_key: key.key(),
        request_api_version: version,
        correlation_id: corr,
        client_id: Some("fuzz".into()),
        ..RequestHeader::default()
    };
    let mut buf = BytesMut::new();
    encode_request_frame(&h, body, &mut buf).expect("a well-formed request encodes");
    buf.freeze().slice(4..)
}

fn check(h: &Handled) {
    if let Handled::Respond(bytes) = h {
        assert!(
            bytes.len() >= 8,
            "a response frame has a size and a correlation id"
        );
        let size = i32::from_be_bytes(bytes[..4].try_into().unwrap());
        assert_eq!(
            size as usize,
            bytes.len() - 4,
            "the size prefix is the frame's"
        );
    }
}

fn drain(b: &mut Broker<MemStorage>, now: i64) {
    if b.poll_timeout().is_some_and(|t| t <= now) {
        b.handle_timeout(now);
    }
    while let Some((_, bytes)) = b.poll_completed() {
        check(&Handled::Respond(bytes));
    }
    while b.poll_event().is_some() {}
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Small index files: a fresh broker per input must be cheap (10 MiB indexes are
    // preallocated by default).
    let (config, _) = BrokerConfig::from_pairs([("log.index.size.max.bytes", "4096")])
        .expect("a valid broker config");
    let (mut b, _) =
        Broker::open(MemStorage::new(), config, 1, NOW).expect("a broker opens on empty storage");
    let create = CreateTopicsRequest {
        topics: vec![CreatableTopic {
            name: "f".into(),
            num_partitions: 2,
            replication_factor: 1,
            ..CreatableTopic::default()
        }],
        timeout_ms: 1000,
        ..CreateTopicsRequest::default()
    };
    let body = RequestBody::CreateTopics(Box::new(create));
    let h = b.handle_frame(1, frame(ApiKey::CreateTopics, 7, 1, &body), NOW);
    assert!(matches!(h, Handled::Respond(_)), "{h:?}");
    let mut now = NOW;
    if mode % 2 == 1 {
        let Some((&pick, records)) = rest.split_first() else {
            return;
        };
        let version = 3 + i16::from(pick % 11);
        let acks = [1i16, -1, 0][usize::from(pick / 11) % 3];
        let req = ProduceRequest {
            acks,
            timeout_ms: 1000,
            topic_data: vec![TopicProduceData {
                name: "f".into(),
                partition_data: vec![PartitionProduceData {
                    index: i32::from(pick >> 7),
                    records: Some(Bytes::copy_from_slice(records)),
                    ..PartitionProduceData::default()
                }],
                ..TopicProduceData::default()
            }],
            ..ProduceRequest::default()
        };
        let body = RequestBody::Produce(Box::new(req));
        // twice: the second append meets the state the first one left (duplicates, sequences)
        for corr in 2..4 {
            let h = b.handle_frame(2, frame(ApiKey::Produce, version, corr, &body), now);
            check(&h);
            drain(&mut b, now);
        }
        return;
    }
    let mut conn = 10u64;
    let mut at = rest;
    while at.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([at[0], at[1]])).min(at.len() - 2);
        let bytes = Bytes::copy_from_slice(&at[2..2 + len]);
        at = &at[2 + len..];
        let h = b.handle_frame(conn, bytes, now);
        check(&h);
        if matches!(h, Handled::Close(_)) {
            b.connection_closed(conn);
            conn += 1;
        }
        now += 7;
        drain(&mut b, now);
    }
});
