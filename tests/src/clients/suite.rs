//! The client scenarios every broker test runs: one per client, each on its own topic of
//! [`PARTITIONS`] partitions (created by [`create_topics`]), each producing realistic records
//! ([`super::payload`]) and comparing the read-back record by record with what was sent
//! ([`check::read_back`]: every record once with its key, value and headers, offsets dense from
//! 0, each producer's order kept per partition, delivery reports naming where each record is,
//! dense per partition), panicking with the first difference. [`run_all`] runs them one after
//! another, a failure not hiding the others. `tests/tests/clients_kafka_reference.rs` proves
//! them against Apache Kafka 4.4.0, so a broker that fails one differs from Kafka.

// A test harness: it reads the clock to report how long each scenario took (nothing is
// asserted on times).
#![allow(clippy::disallowed_methods)]

use super::batches::{self, BatchKind};
use super::check::{self, Reports, Run};
use super::java::{self, AdminPlan};
use super::kafka_tools::{
    self, config_command, parse_config_describe, parse_describe, topic_command,
};
use super::payload::{records, Shape};
use super::{confluent_kafka, kafka_python, kafkajs, kcat, Acks, Codec, ReadBack};
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

/// Partitions of every topic the drivers produce to.
pub const PARTITIONS: i32 = 3;

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

/// kcat: `-L` shows one broker (at `bootstrap`, the controller) leading topic `kcat`'s
/// partitions; 10,000 keyed
/// text messages with three headers through `-P` (idempotent, lz4), read back with `-C -e`.
pub fn kcat_scenario(bootstrap: &str) -> String {
    let md = kcat::metadata(bootstrap, None);
    let [(node, address)] = &md.brokers[..] else {
        panic!("kcat -L: one broker expected: {md:?}");
    };
    assert_eq!(
        address, bootstrap,
        "the broker's advertised address: {md:?}"
    );
    assert_eq!(md.controller_id, i64::from(*node), "{md:?}");
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
            (i as i32, *node, &[*node][..], &[*node][..])
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

/// kafka-python on topic `kafka-python`: fifteen producers, one per codec × acks (60 records
/// each; acks=0 runs last, see below), then a consumer with `assign` reads them all back.
pub fn kafka_python_scenario(bootstrap: &str) -> String {
    let shape = Shape {
        null_header_values: false,
        ..BINARY
    };
    // The acks=0 runs go last: a request nobody waits for may still be in the broker when the
    // next producer's first one arrives on another connection, and interleaved records would
    // break that producer's dense delivery reports (the acks=0 runs report no offsets).
    let mut plan = Vec::new();
    for (j, acks) in [Acks::Leader, Acks::All, Acks::None]
        .into_iter()
        .enumerate()
    {
        for (i, codec) in Codec::ALL.into_iter().enumerate() {
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

/// confluent-kafka on topic `confluent-kafka`: an idempotent producer per codec (200 records
/// each), delivery reports dense per partition, a consumer with `assign` reads back.
pub fn confluent_kafka_scenario(bootstrap: &str) -> String {
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

/// kafkajs on topic `kafkajs`: an idempotent producer (gzip) and a non-idempotent one (acks=1,
/// no codec), 600 text records each; kcat reads back.
pub fn kafkajs_scenario(bootstrap: &str) -> String {
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

/// The Java client on topic `java`: `KafkaProducer` with its defaults (1,000 records),
/// `KafkaConsumer` without a group reads back; then the `Admin` walk on topic `java-admin`, each
/// result as Kafka 4.4.0 gives it (configs and their sources, partitions, offsets by
/// spec, low watermarks, the topic gone).
pub fn java_scenario(bootstrap: &str) -> String {
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
        let v = m
            .get(k)
            .unwrap_or_else(|| panic!("describeConfigs shows no {k}: {m:?}"));
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
        let o = *r
            .offsets
            .get(&p)
            .unwrap_or_else(|| panic!("listOffsets shows no partition {p}: {r:?}"));
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
        assert_eq!(r.low_watermarks.get(&p), Some(&plan.delete_before), "{r:?}");
        assert_eq!(
            r.earliest_after_delete.get(&p),
            Some(&plan.delete_before),
            "{r:?}"
        );
    }
    assert!(r.deleted, "deleteTopics: the topic is still listed");
    format!("{summary}; Admin walk as planned")
}

/// Kafka's own tools on topic `tools`, which they create: `kafka-topics.sh --create` (2
/// partitions, `retention.ms`), `--alter --partitions 3`, `kafka-configs.sh --alter
/// --add-config` and `--describe`, `kafka-topics.sh --describe`, `--delete`, `--list`.
pub fn kafka_tools_scenario(bootstrap: &str) -> String {
    let topic = "tools";
    topic_command(
        bootstrap,
        &[
            "--create",
            "--topic",
            topic,
            "--partitions",
            "2",
            "--replication-factor",
            "1",
            "--config",
            "retention.ms=3600000",
        ],
    );
    topic_command(
        bootstrap,
        &["--alter", "--topic", topic, "--partitions", "3"],
    );
    let entity = ["--entity-type", "topics", "--entity-name", topic];
    let mut alter = vec!["--alter"];
    alter.extend(entity);
    alter.extend([
        "--add-config",
        "retention.ms=86400000,segment.bytes=2097152",
    ]);
    config_command(bootstrap, &alter);
    let mut describe = vec!["--describe"];
    describe.extend(entity);
    let configs = parse_config_describe(&config_command(bootstrap, &describe));
    let dynamic = |v: &str| (v.to_string(), "DYNAMIC_TOPIC_CONFIG".to_string());
    assert_eq!(
        configs.get("retention.ms"),
        Some(&dynamic("86400000")),
        "{configs:?}"
    );
    assert_eq!(
        configs.get("segment.bytes"),
        Some(&dynamic("2097152")),
        "{configs:?}"
    );

    let t = parse_describe(&topic_command(bootstrap, &["--describe", "--topic", topic]));
    assert_eq!((t.partition_count, t.replication_factor), (3, 1), "{t:?}");
    assert_eq!(
        t.configs.get("retention.ms").map(String::as_str),
        Some("86400000"),
        "{t:?}"
    );
    assert_eq!(
        t.configs.get("segment.bytes").map(String::as_str),
        Some("2097152"),
        "{t:?}"
    );
    assert_eq!(
        t.leaders.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
        vec![0, 1, 2],
        "{t:?}"
    );
    assert!(
        t.leaders.iter().all(|(_, l)| *l >= 0),
        "a partition without a leader: {t:?}"
    );

    topic_command(bootstrap, &["--delete", "--topic", topic]);
    let listed = topic_command(bootstrap, &["--list"]);
    assert!(
        !listed.lines().any(|l| l.trim() == topic),
        "{topic} still listed:\n{listed}"
    );
    assert!(
        listed.lines().any(|l| l.trim() == "kcat"),
        "--list misses kcat:\n{listed}"
    );
    "7 tool runs, each result as planned".to_string()
}

/// The topics the scenarios produce to, each of [`PARTITIONS`] partitions.
pub const TOPICS: [&str; 5] = ["kcat", "kafka-python", "confluent-kafka", "kafkajs", "java"];

/// Creates [`TOPICS`] (with kafka-python's `KafkaAdminClient`). The Java scenario creates and
/// deletes its Admin topic itself.
pub fn create_topics(bootstrap: &str) {
    let topics: Vec<(&str, i32)> = TOPICS.iter().map(|t| (*t, PARTITIONS)).collect();
    kafka_python::create_topics(bootstrap, &topics);
}

/// A scenario: it returns a summary of what it checked, or panics with the first difference.
pub type Scenario = fn(&str) -> String;

/// The scenarios, each named by its client and version.
pub fn scenarios() -> Vec<(String, Scenario)> {
    vec![
        (
            format!("kcat {}", kcat::version()),
            kcat_scenario as Scenario,
        ),
        (
            format!("kafka-python {}", kafka_python::version()),
            kafka_python_scenario,
        ),
        (
            format!("confluent-kafka {}", confluent_kafka::version()),
            confluent_kafka_scenario,
        ),
        (format!("kafkajs {}", kafkajs::version()), kafkajs_scenario),
        (
            format!("Java kafka-clients {}", java::VERSION),
            java_scenario,
        ),
        (
            format!("Kafka {} tools", kafka_tools::VERSION),
            kafka_tools_scenario,
        ),
    ]
}

/// How one scenario went.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The client and its version.
    pub name: String,
    /// Its summary, or its panic message.
    pub result: Result<String, String>,
    /// How long it ran, in seconds.
    pub seconds: f64,
}

/// Runs every scenario against `bootstrap` (whose [`TOPICS`] exist and are empty), one after
/// another, printing each outcome as it ends.
pub fn run_all(bootstrap: &str) -> Vec<Outcome> {
    scenarios()
        .into_iter()
        .map(|(name, scenario)| {
            let t = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| scenario(bootstrap))).map_err(|e| {
                e.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            });
            let seconds = t.elapsed().as_secs_f64();
            match &result {
                Ok(summary) => println!("{name}: {summary} in {seconds:.1} s"),
                Err(_) => println!("{name}: FAILED in {seconds:.1} s"),
            }
            Outcome {
                name,
                result,
                seconds,
            }
        })
        .collect()
}

/// Panics listing every failed scenario with its message.
pub fn assert_all_passed(outcomes: &[Outcome]) {
    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().err().map(|e| format!("{}: {e}", o.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What each scenario's topic holds once it ran: the kinds of batch (the codecs its producers
/// used, idempotent or not) and the number of records.
pub fn expected_batches() -> Vec<(&'static str, BTreeSet<BatchKind>, u64)> {
    let all = |idempotent: bool| Codec::ALL.map(|c| BatchKind::new(c, idempotent));
    vec![
        (
            "kcat",
            BTreeSet::from([BatchKind::new(Codec::Lz4, true)]),
            10_000,
        ),
        // acks=all runs are idempotent, acks 0 and 1 runs not.
        (
            "kafka-python",
            all(true).into_iter().chain(all(false)).collect(),
            15 * 60,
        ),
        ("confluent-kafka", all(true).into_iter().collect(), 5 * 200),
        (
            "kafkajs",
            BTreeSet::from([
                BatchKind::new(Codec::Gzip, true),
                BatchKind::new(Codec::None, false),
            ]),
            2 * 600,
        ),
        (
            "java",
            BTreeSet::from([BatchKind::new(Codec::None, true)]),
            1_000,
        ),
    ]
}

/// Reads each scenario topic's batches from the broker's `log_dir` (after [`run_all`]) and
/// panics unless they are of exactly the kinds [`expected_batches`] names and hold its number
/// of records; returns a summary line.
pub fn assert_batches_as_sent(log_dir: &Path) -> String {
    let mut summary = Vec::new();
    for (topic, want, want_records) in expected_batches() {
        let (got, records) = batches::kinds(log_dir, topic, PARTITIONS);
        assert_eq!(
            got,
            want,
            "topic {topic}: the batches in {}",
            log_dir.display()
        );
        assert_eq!(
            records,
            want_records,
            "topic {topic}: records in {}",
            log_dir.display()
        );
        summary.push(format!("{topic} {}", got.len()));
    }
    format!(
        "batch kinds (codec, idempotent) per topic as sent: {}",
        summary.join(", ")
    )
}
