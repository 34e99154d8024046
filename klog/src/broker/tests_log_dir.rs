//! The broker over Kafka's log directory layout: `meta.properties`, both offset checkpoints,
//! `partition.metadata`, `.kafka_cleanshutdown`; clean restarts, crashes, missing and unknown
//! partition directories.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;
use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
use kproto::messages::{ProduceRequest, ResponseBody};
use kproto::records::{BatchBuilder, BatchConfig, Compression};
use kproto::{ApiKey, ErrorCode, RequestBody};

use super::tests::{decode_answer, frame, header, NOW};
use super::{Broker, BrokerConfig, BrokerEvent, Handled, OpenReport, TopicConfigs};
use crate::storage::Storage;
use crate::MemStorage;

fn config(pairs: &[(&str, &str)]) -> BrokerConfig {
    let small = [("log.index.size.max.bytes", "4096"), ("node.id", "3")];
    BrokerConfig::from_pairs(small.iter().chain(pairs).copied())
        .unwrap()
        .0
}

fn open(st: &MemStorage, pairs: &[(&str, &str)]) -> (Broker<MemStorage>, OpenReport) {
    Broker::open(st.clone(), config(pairs), 11, NOW).unwrap()
}

fn batch(n: usize, seq_tag: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(BatchConfig {
        compression: Compression::Lz4,
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    });
    for i in 0..n {
        let v = format!("{seq_tag}-{i}-{}", "v".repeat(1200));
        b.try_append(NOW + i as i64, Some(b"key"), Some(v.as_bytes()), &[])
            .unwrap();
    }
    b.finish().unwrap()
}

/// Produces `n` records to `topic`-`p` with acks=all; the base offset.
fn produce(b: &mut Broker<MemStorage>, topic: &str, p: i32, n: usize) -> i64 {
    let req = ProduceRequest {
        acks: -1,
        timeout_ms: 1000,
        topic_data: alloc::vec![TopicProduceData {
            name: topic.into(),
            partition_data: alloc::vec![PartitionProduceData {
                index: p,
                records: Some(Bytes::from(batch(n, p as usize))),
                ..PartitionProduceData::default()
            }],
            ..TopicProduceData::default()
        }],
        ..ProduceRequest::default()
    };
    let h = header(ApiKey::Produce, 11, 1);
    let Handled::Respond(bytes) =
        b.handle_frame(1, frame(&h, &RequestBody::Produce(Box::new(req))), NOW)
    else {
        panic!("no answer")
    };
    let ResponseBody::Produce(r) = decode_answer(&bytes, ApiKey::Produce, 11).1 else {
        panic!("not Produce")
    };
    let pr = &r.responses[0].partition_responses[0];
    assert_eq!(ErrorCode::from_code(pr.error_code), Some(ErrorCode::None));
    pr.base_offset
}

fn text(st: &MemStorage, path: &str) -> String {
    String::from_utf8(
        st.contents(path)
            .unwrap_or_else(|| panic!("{path} is missing")),
    )
    .unwrap()
}

#[test]
fn a_clean_shutdown_leaves_kafkas_files_and_the_restart_validates_nothing() {
    let st = MemStorage::new();
    let (mut b, report) = open(&st, &[]);
    assert!(!report.had_clean_shutdown);
    let cluster = String::from(b.cluster_id());
    let orders = b
        .create_topic("orders", 40, TopicConfigs::default(), false, NOW)
        .unwrap();
    let audit = b
        .create_topic("audit", 2, TopicConfigs::default(), false, NOW)
        .unwrap();
    for p in 0..40 {
        produce(&mut b, "orders", p, 5 + p as usize);
    }
    produce(&mut b, "audit", 1, 300);
    let mut st = b.shutdown(NOW + 5).unwrap();
    // meta.properties: Kafka's KRaft form, this node and the broker's cluster id
    let meta = text(&st, "meta.properties");
    assert!(meta.contains("node.id=3"), "{meta}");
    assert!(meta.contains(&format!("cluster.id={cluster}")), "{meta}");
    assert!(meta.contains("directory.id="), "{meta}");
    assert!(st.exists(".kafka_cleanshutdown").unwrap());
    // one recovery point checkpoint for all 42 partitions, each at its log end offset
    let rp = text(&st, "recovery-point-offset-checkpoint");
    let lines: Vec<&str> = rp.lines().collect();
    assert_eq!(lines[0], "0");
    assert_eq!(lines[1], "42");
    assert!(lines.contains(&"orders 39 44"), "{rp}");
    assert!(lines.contains(&"audit 1 300"), "{rp}");
    assert!(st.contents("log-start-offset-checkpoint").is_some());
    // partition.metadata with the topic id
    let md = text(&st, "orders-17/partition.metadata");
    assert!(
        md.contains(&format!("topic_id: {}", orders.to_kafka_string())),
        "{md}"
    );
    let md = text(&st, "audit-0/partition.metadata");
    assert!(md.contains(&audit.to_kafka_string()), "{md}");
    // the restart: clean, every partition where it was, nothing re-validated
    let (mut b, report) = open(&st, &[]);
    assert!(report.had_clean_shutdown);
    assert!(report.recovered.is_empty());
    assert_eq!(report.partitions.len(), 42);
    assert!(report.partitions.contains(&(("orders".into(), 39), 44)));
    assert!(matches!(
        b.poll_event(),
        Some(BrokerEvent::LogDirOpened {
            had_clean_shutdown: true,
            partitions: 42,
            ..
        })
    ));
    assert_eq!(b.cluster_id(), cluster);
    assert!(
        !b.logs.storage_mut().exists(".kafka_cleanshutdown").unwrap(),
        "the marker is removed while running"
    );
    assert_eq!(produce(&mut b, "orders", 39, 1), 44);
}

#[test]
fn after_a_crash_every_acknowledged_record_is_there_with_flush_messages_1() {
    let st = MemStorage::new();
    let (mut b, _) = open(&st, &[("log.flush.interval.messages", "1")]);
    b.create_topic("durable", 3, TopicConfigs::default(), false, NOW)
        .unwrap();
    let mut acked = [0i64; 3];
    for i in 0..60 {
        let p = (i % 3) as i32;
        let n = 1 + i % 7;
        assert_eq!(produce(&mut b, "durable", p, n), acked[p as usize]);
        acked[p as usize] += n as i64;
    }
    // kill -9: only what was synced survives
    let crashed = b.logs.storage_mut().crash();
    drop(b);
    let (mut b, report) = open(&crashed, &[("log.flush.interval.messages", "1")]);
    assert!(!report.had_clean_shutdown);
    for p in 0..3 {
        assert_eq!(
            b.logs.log("durable", p).unwrap().log_end_offset() as i64,
            acked[p as usize],
            "partition {p}"
        );
        // offsets go on densely
        assert_eq!(produce(&mut b, "durable", p, 2), acked[p as usize]);
    }
}

#[test]
fn a_missing_partition_directory_of_a_known_topic_is_created_and_an_unknown_one_reported() {
    let st = MemStorage::new();
    let (mut b, _) = open(&st, &[]);
    let id = b
        .create_topic("t", 3, TopicConfigs::default(), false, NOW)
        .unwrap();
    b.create_topic("gone", 1, TopicConfigs::default(), false, NOW)
        .unwrap();
    produce(&mut b, "t", 0, 10);
    let mut st = b.shutdown(NOW).unwrap();
    // the broker stopped after recording t but before creating t-2's directory
    for f in st.list("t-2").unwrap() {
        st.remove(&format!("t-2/{f}")).unwrap();
    }
    st.remove_dir("t-2").unwrap();
    // and a directory of a topic the metadata does not name
    let mut meta = text(&st, super::CLUSTER_METADATA_FILE);
    let gone: Vec<&str> = meta.lines().filter(|l| l.contains("gone")).collect();
    assert!(!gone.is_empty(), "{meta}");
    meta = meta
        .lines()
        .filter(|l| !l.contains("gone"))
        .map(|l| format!("{l}\n"))
        .collect();
    st.put(super::CLUSTER_METADATA_FILE, meta.as_bytes());
    let (mut b, report) = open(&st, &[]);
    assert_eq!(report.unknown_partitions, [("gone".into(), 0)]);
    match b.poll_event() {
        Some(BrokerEvent::LogDirOpened {
            created, unknown, ..
        }) => {
            assert_eq!(created, [("t".into(), 2)]);
            assert_eq!(unknown, [("gone".into(), 0)]);
        }
        other => panic!("{other:?}"),
    }
    let md = text(&st, "t-2/partition.metadata");
    assert!(md.contains(&id.to_kafka_string()));
    assert_eq!(produce(&mut b, "t", 2, 4), 0);
    assert_eq!(produce(&mut b, "t", 0, 4), 10);
}
