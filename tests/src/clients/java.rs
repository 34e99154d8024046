//! Kafka's Java client 4.4.0 (`tests/java/clients/JavaClients.java`, compiled by
//! `.ci/install.d/33-java-clients.sh` against the kafka-clients 4.4.0 jars of
//! `30-java-harness.sh`): a `KafkaProducer` with its defaults (idempotence on, acks=all), a
//! `KafkaConsumer` without `group.id` (`assign`, `seekToBeginning`, `endOffsets`) and an `Admin`
//! walk through createTopics, describeConfigs, incrementalAlterConfigs, createPartitions,
//! listOffsets, deleteRecords and deleteTopics.

use super::lines::{parse_output, records_input, Output};
use super::process::{run, Finished};
use super::{ProduceReport, ReadBack, Record};
use crate::cache_dir;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

/// The kafka-clients version the program is compiled against and runs with.
pub const VERSION: &str = "4.4.0";

fn classpath() -> String {
    let classes = cache_dir().join(format!("java/clients-{VERSION}"));
    let libs = cache_dir().join(format!("java/kafka-clients-{VERSION}/libs"));
    assert!(
        classes.join("JavaClients.class").is_file(),
        "{} is missing: run `bash .ci/install` (or `bash .ci/install.d/33-java-clients.sh`)",
        classes.join("JavaClients.class").display()
    );
    format!("{}:{}/*", classes.display(), libs.display())
}

fn client(args: &[&str], stdin: &[u8], timeout: Duration) -> (Finished, Output) {
    let mut cmd = Command::new("java");
    cmd.args(["-Xmx256M", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"])
        .arg("-cp")
        .arg(classpath())
        .arg("JavaClients")
        .args(args);
    let what = format!("Java client {}", args[0]);
    let f = run(&what, &mut cmd, stdin, timeout);
    let out = parse_output(&f.stdout).unwrap_or_else(|e| panic!("{what}: {e}"));
    (f, out)
}

/// Produces `records` with one `KafkaProducer` with Kafka's defaults (idempotent, acks=all),
/// each record to its partition or to the one the default partitioner picks; returns a delivery
/// report per record, from the send callbacks. Panics unless the producer said its effective
/// config is `enable.idempotence=true acks=-1`.
pub fn produce(bootstrap: &str, topic: &str, records: &[Record]) -> ProduceReport {
    let (f, out) = client(
        &["produce", bootstrap, topic],
        records_input(records).as_bytes(),
        Duration::from_secs(300),
    );
    assert!(
        f.stdout.contains("#\tenable.idempotence=true acks=-1"),
        "the Java producer's defaults are not idempotent acks=all: {}",
        f.stdout.lines().next().unwrap_or_default()
    );
    ProduceReport {
        deliveries: out.deliveries,
    }
}

/// Reads every partition of `topic` from the beginning to its `endOffsets` with a
/// `KafkaConsumer` that has no `group.id`.
pub fn consume(bootstrap: &str, topic: &str) -> ReadBack {
    let (_, out) = client(
        &["consume", bootstrap, topic],
        b"",
        Duration::from_secs(180),
    );
    ReadBack {
        records: out.records,
        end_offsets: out.end_offsets,
    }
}

/// What [`admin`] does to a topic it creates.
#[derive(Debug, Clone)]
pub struct AdminPlan {
    /// Partitions at creation.
    pub partitions: i32,
    /// Configs given to createTopics.
    pub create_configs: Vec<(String, String)>,
    /// incrementalAlterConfigs SET operations.
    pub set_configs: Vec<(String, String)>,
    /// incrementalAlterConfigs DELETE operations (back to the default).
    pub delete_configs: Vec<String>,
    /// createPartitions raises the count to this.
    pub grow_to: i32,
    /// Records then written to every partition (record `j` at `base + j` seconds).
    pub records_per_partition: i32,
    /// The record given the partition's largest timestamp (`base` + 2 h) instead.
    pub max_timestamp_at: i32,
    /// deleteRecords deletes every partition's records before this offset.
    pub delete_before: i64,
}

/// A topic config as describeConfigs showed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigValue {
    /// Its value (`None` when not described).
    pub value: Option<String>,
    /// Its source (`DYNAMIC_TOPIC_CONFIG`, `DEFAULT_CONFIG`, ...).
    pub source: String,
}

/// One partition's listOffsets results (timestamps relative to the plan's base timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionOffsets {
    /// `OffsetSpec.earliest()`.
    pub earliest: i64,
    /// `OffsetSpec.latest()`.
    pub latest: i64,
    /// `OffsetSpec.maxTimestamp()`: the offset.
    pub max_timestamp_offset: i64,
    /// `OffsetSpec.maxTimestamp()`: the timestamp, minus the base.
    pub max_timestamp: i64,
    /// `OffsetSpec.forTimestamp(base + (max_timestamp_at + 1) s + 500 ms)`: the offset.
    pub by_timestamp_offset: i64,
    /// The same: the timestamp found, minus the base.
    pub by_timestamp: i64,
}

/// What [`admin`] saw, step by step.
#[derive(Debug, Clone, Default)]
pub struct AdminReport {
    /// createTopics: partitions and topic id from its result.
    pub created: Option<(i32, String)>,
    /// describeConfigs after createTopics, for every config the plan names.
    pub configs_created: BTreeMap<String, ConfigValue>,
    /// describeConfigs after incrementalAlterConfigs.
    pub configs_altered: BTreeMap<String, ConfigValue>,
    /// describeTopics after createPartitions: partitions, and how many have a leader.
    pub described: Option<(i32, i32)>,
    /// listOffsets per partition.
    pub offsets: BTreeMap<i32, PartitionOffsets>,
    /// deleteRecords: the low watermark per partition.
    pub low_watermarks: BTreeMap<i32, i64>,
    /// listOffsets earliest after deleteRecords.
    pub earliest_after_delete: BTreeMap<i32, i64>,
    /// deleteTopics, then listTopics no longer had the topic.
    pub deleted: bool,
}

fn n<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse()
        .unwrap_or_else(|e| panic!("Java admin: {s:?} is not a number: {e:?}"))
}

fn report(lines: &[Vec<String>]) -> AdminReport {
    let mut r = AdminReport::default();
    for f in lines {
        let f: Vec<&str> = f.iter().map(String::as_str).collect();
        match f.as_slice() {
            ["created", _, p, id] => r.created = Some((n(p), id.to_string())),
            ["config", when, name, value, source] => {
                let v = ConfigValue {
                    value: (*value != "-").then(|| value.to_string()),
                    source: source.to_string(),
                };
                match *when {
                    "created" => r.configs_created.insert(name.to_string(), v),
                    _ => r.configs_altered.insert(name.to_string(), v),
                };
            }
            ["described", _, p, led] => r.described = Some((n(p), n(led))),
            ["base-timestamp", _] => {}
            ["offsets", p, e, l, mo, mt, bo, bt] => {
                r.offsets.insert(
                    n(p),
                    PartitionOffsets {
                        earliest: n(e),
                        latest: n(l),
                        max_timestamp_offset: n(mo),
                        max_timestamp: n(mt),
                        by_timestamp_offset: n(bo),
                        by_timestamp: n(bt),
                    },
                );
            }
            ["deleted-records", p, low] => {
                r.low_watermarks.insert(n(p), n(low));
            }
            ["earliest-after-delete", p, o] => {
                r.earliest_after_delete.insert(n(p), n(o));
            }
            ["deleted-topic", _, _] => r.deleted = true,
            other => panic!("Java admin: unknown result line {other:?}"),
        }
    }
    r
}

/// Runs `plan` on a new topic `topic` with `Admin` (see `JavaClients.java` for the steps):
/// the topic is created, altered, grown, written, trimmed and deleted. Every step's result is
/// in the report; a failing step fails the program and so this call.
pub fn admin(bootstrap: &str, topic: &str, plan: &AdminPlan) -> AdminReport {
    let mut args: Vec<String> = vec![
        "admin".into(),
        bootstrap.into(),
        topic.into(),
        plan.partitions.to_string(),
        plan.grow_to.to_string(),
        plan.records_per_partition.to_string(),
        plan.max_timestamp_at.to_string(),
        plan.delete_before.to_string(),
    ];
    for (k, v) in &plan.create_configs {
        args.extend(["--config".into(), format!("{k}={v}")]);
    }
    for (k, v) in &plan.set_configs {
        args.extend(["--set".into(), format!("{k}={v}")]);
    }
    for k in &plan.delete_configs {
        args.extend(["--delete".into(), k.clone()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, out) = client(&args, b"", Duration::from_secs(180));
    report(&out.admin)
}
