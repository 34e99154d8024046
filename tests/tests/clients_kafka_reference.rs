//! The real-client drivers (`tests/src/clients/`) proven against a real Apache Kafka 4.4.0
//! broker (KRaft, one node, from the Maven jars: `tests/src/kafka.rs`), so that the broker
//! tests can point the same drivers at `kpp serve` and expect the same: one broker start, then
//! every driver once, each on its own 3-partition topic, each read-back compared record by
//! record with what was sent ([`check::read_back`]: every record once with its key, value and
//! headers, offsets dense from 0, each producer's order kept per partition, delivery reports
//! naming where each record is, dense per partition).
//!
//! - kcat: `-L`; 10,000 keyed messages with headers through `-P` (idempotent, lz4); `-C -e`;
//! - kafka-python: a producer per codec (none, gzip, snappy, lz4, zstd) × acks 0, 1, all;
//!   a consumer with `assign` reads all fifteen runs back;
//! - confluent-kafka: an idempotent producer per codec, delivery reports dense per partition;
//!   a consumer with `assign`;
//! - kafkajs: an idempotent (gzip) and a non-idempotent (acks=1) producer; kcat reads back;
//! - the Java client 4.4.0: `KafkaProducer` with its defaults, `KafkaConsumer` without a group,
//!   and the `Admin` walk (createTopics ... deleteTopics) with every result checked.
//!
//! A driver's failure does not hide the others': each runs, the failures are listed together.
//! Run with `--nocapture` to see the client versions and each step's time.

// A test harness: it reads the clock to report how long each client took (nothing is asserted
// on times).
#![allow(clippy::disallowed_methods)]

use integration_tests::clients::check::{self, Reports, Run};
use integration_tests::clients::java::AdminPlan;
use integration_tests::clients::payload::{records, Shape};
use integration_tests::clients::{
    confluent_kafka, java, kafka_python, kafkajs, kcat, Acks, Codec, ReadBack,
};
use integration_tests::kafka::{Broker, KafkaInstall, TempDir};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// Partitions of every topic the drivers produce to.
const PARTITIONS: i32 = 3;

/// Binary values, null keys and values, null header values, some records naming a partition.
const BINARY: Shape = Shape {
    text_only: false,
    nulls: true,
    null_header_values: true,
    same_headers: false,
    partitions: Some(PARTITIONS),
};

/// Checks a read-back against the runs, and its end offsets; returns a one-line summary.
fn compare(runs: &[Run<'_>], read: &ReadBack) -> String {
    let s = check::read_back(runs, &read.records).unwrap_or_else(|e| panic!("{e}"));
    check::end_offsets(&read.end_offsets, PARTITIONS, &s).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        read.records.iter().all(|r| r.timestamp > 0),
        "a record without a CreateTime"
    );
    format!(
        "{} records ({} KB of keys, values, headers) per partition {:?}",
        s.records,
        s.bytes / 1024,
        s.per_partition.values().collect::<Vec<_>>()
    )
}

fn kcat_driver(bootstrap: &str) -> String {
    let md = kcat::metadata(bootstrap, None);
    assert_eq!(md.brokers, vec![(1, bootstrap.to_string())], "{md:?}");
    assert_eq!(md.controller_id, 1);
    let (_, parts) = md
        .topics
        .iter()
        .find(|(t, _)| t == "kcat")
        .unwrap_or_else(|| panic!("kcat -L lists no topic kcat: {md:?}"));
    let parts = parts.as_ref().expect("topic kcat has no error");
    assert_eq!(parts.len(), PARTITIONS as usize, "{parts:?}");
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(
            (p.partition, p.leader, &p.replicas[..], &p.isrs[..]),
            (i as i32, 1, &[1][..], &[1][..])
        );
    }
    let shape = Shape {
        text_only: true,
        nulls: false,
        null_header_values: false,
        same_headers: true,
        partitions: None,
    };
    let sent = records("kcat", 10_000, 1, shape);
    kcat::produce(bootstrap, "kcat", &sent, Codec::Lz4, true);
    let read = kcat::consume(bootstrap, "kcat");
    let runs = [Run {
        name: "kcat -P",
        records: &sent,
        reports: Reports::None,
    }];
    compare(&runs, &read)
}

fn kafka_python_driver(bootstrap: &str) -> String {
    let shape = Shape {
        null_header_values: false,
        ..BINARY
    };
    let mut plan = Vec::new();
    for (i, codec) in Codec::ALL.into_iter().enumerate() {
        for (j, acks) in Acks::ALL.into_iter().enumerate() {
            let tag = format!("kafka-python-{}-acks{}", codec.name(), acks.wire());
            let sent = records(&tag, 60, (10 * i + j) as u64, shape);
            plan.push((tag, codec, acks, sent));
        }
    }
    let runs: Vec<(Codec, Acks, &[_])> = plan.iter().map(|(_, c, a, r)| (*c, *a, &r[..])).collect();
    let reports = kafka_python::produce(bootstrap, "kafka-python", &runs);
    let read = kafka_python::consume(bootstrap, "kafka-python");
    let runs: Vec<Run<'_>> = plan
        .iter()
        .zip(&reports)
        .map(|((tag, _, acks, sent), report)| Run {
            name: tag,
            records: sent,
            reports: match acks {
                Acks::None => Reports::Partitions(&report.deliveries),
                _ => Reports::Offsets(&report.deliveries),
            },
        })
        .collect();
    compare(&runs, &read)
}

fn confluent_kafka_driver(bootstrap: &str) -> String {
    let plan: Vec<(String, Codec, Vec<_>)> = Codec::ALL
        .into_iter()
        .enumerate()
        .map(|(i, codec)| {
            let tag = format!("confluent-kafka-{}", codec.name());
            let sent = records(&tag, 200, 100 + i as u64, BINARY);
            (tag, codec, sent)
        })
        .collect();
    let runs: Vec<(Codec, &[_])> = plan.iter().map(|(_, c, r)| (*c, &r[..])).collect();
    let reports = confluent_kafka::produce(bootstrap, "confluent-kafka", &runs);
    let read = confluent_kafka::consume(bootstrap, "confluent-kafka");
    let runs: Vec<Run<'_>> = plan
        .iter()
        .zip(&reports)
        .map(|((tag, _, sent), report)| Run {
            name: tag,
            records: sent,
            reports: Reports::Offsets(&report.deliveries),
        })
        .collect();
    compare(&runs, &read)
}

fn kafkajs_driver(bootstrap: &str) -> String {
    // kcat reads the records back as JSON text, so they are text; kafkajs sends no null header.
    let shape = Shape {
        text_only: true,
        null_header_values: false,
        ..BINARY
    };
    let idempotent = records("kafkajs-idempotent", 600, 200, shape);
    let plain = records("kafkajs-plain", 600, 201, shape);
    let a = kafkajs::produce(
        bootstrap,
        "kafkajs",
        &idempotent,
        true,
        Acks::All,
        Codec::Gzip,
    );
    let b = kafkajs::produce(
        bootstrap,
        "kafkajs",
        &plain,
        false,
        Acks::Leader,
        Codec::None,
    );
    let read = kcat::consume(bootstrap, "kafkajs");
    let runs = [
        Run {
            name: "kafkajs idempotent gzip",
            records: &idempotent,
            reports: Reports::Offsets(&a.deliveries),
        },
        Run {
            name: "kafkajs acks=1",
            records: &plain,
            reports: Reports::Offsets(&b.deliveries),
        },
    ];
    compare(&runs, &read)
}

fn java_driver(bootstrap: &str) -> String {
    let sent = records("java", 1_000, 300, BINARY);
    let report = java::produce(bootstrap, "java", &sent);
    let read = java::consume(bootstrap, "java");
    let runs = [Run {
        name: "KafkaProducer",
        records: &sent,
        reports: Reports::Offsets(&report.deliveries),
    }];
    let summary = compare(&runs, &read);

    let s = |k: &str, v: &str| (k.to_string(), v.to_string());
    let plan = AdminPlan {
        partitions: 2,
        create_configs: vec![
            s("retention.ms", "3600000"),
            s("max.message.bytes", "2097152"),
        ],
        set_configs: vec![s("retention.ms", "7200000")],
        delete_configs: vec!["max.message.bytes".into()],
        grow_to: 4,
        records_per_partition: 12,
        max_timestamp_at: 3,
        delete_before: 5,
    };
    let r = java::admin(bootstrap, "java-admin", &plan);
    let (partitions, topic_id) = r.created.clone().expect("createTopics result");
    assert_eq!(partitions, 2);
    assert_eq!(topic_id.len(), 22, "a base64 topic id: {topic_id}");
    let cfg = |m: &std::collections::BTreeMap<String, java::ConfigValue>, k: &str| {
        let v = &m[k];
        (v.value.clone().unwrap_or_default(), v.source.clone())
    };
    let dynamic = |v: &str| (v.to_string(), "DYNAMIC_TOPIC_CONFIG".to_string());
    assert_eq!(cfg(&r.configs_created, "retention.ms"), dynamic("3600000"));
    assert_eq!(
        cfg(&r.configs_created, "max.message.bytes"),
        dynamic("2097152")
    );
    assert_eq!(cfg(&r.configs_altered, "retention.ms"), dynamic("7200000"));
    // DELETE restores the default (message.max.bytes, 1 MiB + 12 bytes of batch overhead).
    assert_eq!(
        cfg(&r.configs_altered, "max.message.bytes"),
        ("1048588".to_string(), "DEFAULT_CONFIG".to_string())
    );
    assert_eq!(r.described, Some((4, 4)), "createPartitions to 4, each led");
    let n = i64::from(plan.records_per_partition);
    let max_at = i64::from(plan.max_timestamp_at);
    for p in 0..plan.grow_to {
        let o = r.offsets[&p];
        assert_eq!((o.earliest, o.latest), (0, n), "partition {p}: {o:?}");
        // The largest timestamp is record max_at's (base + 2 h), not the last record's.
        assert_eq!(
            (o.max_timestamp_offset, o.max_timestamp),
            (max_at, 7_200_000),
            "{o:?}"
        );
        // The first record at or after base + (max_at + 1) s + 500 ms is record max_at itself,
        // whose timestamp is past it, not the first record after it in time order.
        assert_eq!(
            (o.by_timestamp_offset, o.by_timestamp),
            (max_at, 7_200_000),
            "{o:?}"
        );
        assert_eq!(r.low_watermarks[&p], plan.delete_before, "partition {p}");
        assert_eq!(
            r.earliest_after_delete[&p], plan.delete_before,
            "partition {p}"
        );
    }
    assert!(r.deleted, "deleteTopics: the topic is still listed");
    format!("{summary}; Admin walk as planned")
}

#[test]
fn every_client_driver_reads_back_from_kafka_4_4_0_what_it_sent() {
    let install = KafkaInstall::locate();
    let tmp = TempDir::new("clients-kafka-reference");
    let start = Instant::now();
    let mut broker = Broker::start(&install, tmp.path(), &[], Duration::from_secs(120));
    let bootstrap = broker.bootstrap();
    println!(
        "Kafka {} started in {:?}",
        integration_tests::kafka::KAFKA_VERSION,
        broker.started_in
    );

    let topics: Vec<(&str, i32)> = ["kcat", "kafka-python", "confluent-kafka", "kafkajs", "java"]
        .into_iter()
        .map(|t| (t, PARTITIONS))
        .collect();
    kafka_python::create_topics(&bootstrap, &topics);

    type Driver = fn(&str) -> String;
    let drivers: [(String, Driver); 5] = [
        (format!("kcat ({})", kcat::version()), kcat_driver),
        (
            format!("kafka-python {}", kafka_python::version()),
            kafka_python_driver,
        ),
        (
            format!("confluent-kafka {}", confluent_kafka::version()),
            confluent_kafka_driver,
        ),
        (format!("kafkajs {}", kafkajs::version()), kafkajs_driver),
        (format!("Java kafka-clients {}", java::VERSION), java_driver),
    ];
    let mut failures = Vec::new();
    for (name, driver) in drivers {
        let t = Instant::now();
        match catch_unwind(AssertUnwindSafe(|| driver(&bootstrap))) {
            Ok(summary) => println!("{name}: {summary} in {:.1} s", t.elapsed().as_secs_f64()),
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                println!("{name}: FAILED in {:.1} s", t.elapsed().as_secs_f64());
                failures.push(format!("{name}: {msg}"));
            }
        }
    }
    let stop = broker.stop(Duration::from_secs(60));
    println!(
        "all clients against one broker in {:.1} s (broker stop {:?}, clean: {})",
        start.elapsed().as_secs_f64(),
        stop.elapsed,
        stop.clean_shutdown
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The JVM exits with 128 + SIGTERM after running Kafka's shutdown hook.
    assert!(
        (stop.status.success() || stop.status.code() == Some(143)) && stop.clean_shutdown,
        "the broker did not stop cleanly: {stop:?}"
    );
}
