//! Kafka's own command-line tools, run from the Maven jars `.ci/install.d/35-kafka-broker.sh`
//! resolves (what `kafka-topics.sh` and `kafka-configs.sh` start):
//! `org.apache.kafka.tools.TopicCommand` and `org.apache.kafka.tools.ConfigCommand`, each one
//! JVM run to completion, its output parsed where a test needs the fields.

use crate::kafka::{run_java, KafkaInstall, TempDir, KAFKA_VERSION};
use std::collections::BTreeMap;
use std::time::Duration;

/// The Kafka release whose tools these are.
pub const VERSION: &str = KAFKA_VERSION;

fn tool(main_class: &str, bootstrap: &str, args: &[&str]) -> String {
    let install = KafkaInstall::locate();
    let work = TempDir::new("kafka-tool");
    let mut all = vec!["--bootstrap-server", bootstrap];
    all.extend_from_slice(args);
    let what = format!("{main_class} {}", args.join(" "));
    run_java(
        &install.classpath(),
        work.path(),
        main_class,
        &all,
        Duration::from_secs(120),
    )
    .expect_success(&what)
    .stdout
}

/// `kafka-topics.sh --bootstrap-server BOOTSTRAP ARGS...`: its stdout; panics with its output
/// when it fails.
pub fn topic_command(bootstrap: &str, args: &[&str]) -> String {
    tool("org.apache.kafka.tools.TopicCommand", bootstrap, args)
}

/// `kafka-configs.sh --bootstrap-server BOOTSTRAP ARGS...`: its stdout; panics with its output
/// when it fails.
pub fn config_command(bootstrap: &str, args: &[&str]) -> String {
    tool("org.apache.kafka.tools.ConfigCommand", bootstrap, args)
}

/// A topic as `kafka-topics.sh --describe` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicListing {
    /// `PartitionCount`.
    pub partition_count: i32,
    /// `ReplicationFactor`.
    pub replication_factor: i32,
    /// `Configs` (the topic's non-default configs).
    pub configs: BTreeMap<String, String>,
    /// `(Partition, Leader)` of each partition line.
    pub leaders: Vec<(i32, i32)>,
}

fn tab_fields(line: &str) -> BTreeMap<&str, &str> {
    line.split('\t')
        .filter_map(|f| {
            f.split_once(": ")
                .or_else(|| f.strip_suffix(':').map(|k| (k, "")))
        })
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect()
}

fn num(fields: &BTreeMap<&str, &str>, key: &str, out: &str) -> i32 {
    fields
        .get(key)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("kafka-topics --describe: no number {key:?} in:\n{out}"))
}

/// Parses `kafka-topics.sh --describe --topic TOPIC` output (one topic).
pub fn parse_describe(out: &str) -> TopicListing {
    let mut lines = out.lines().filter(|l| !l.trim().is_empty());
    let head = lines
        .next()
        .unwrap_or_else(|| panic!("kafka-topics --describe printed nothing"));
    let h = tab_fields(head);
    let configs = h
        .get("Configs")
        .copied()
        .unwrap_or_default()
        .split(',')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let leaders = lines
        .map(|l| {
            let f = tab_fields(l);
            (num(&f, "Partition", out), num(&f, "Leader", out))
        })
        .collect();
    TopicListing {
        partition_count: num(&h, "PartitionCount", out),
        replication_factor: num(&h, "ReplicationFactor", out),
        configs,
        leaders,
    }
}

/// Parses `kafka-configs.sh --describe --entity-type topics --entity-name T` output: each
/// dynamic config's value and the source of its first synonym (e.g. `DYNAMIC_TOPIC_CONFIG`).
pub fn parse_config_describe(out: &str) -> BTreeMap<String, (String, String)> {
    out.lines()
        .filter(|l| l.starts_with("  "))
        .map(|l| {
            let l = l.trim();
            let (kv, rest) = l.split_once(' ').unwrap_or((l, ""));
            let (k, v) = kv
                .split_once('=')
                .unwrap_or_else(|| panic!("kafka-configs --describe: no key=value in {l:?}"));
            let source = rest
                .split_once("synonyms={")
                .and_then(|(_, s)| s.split_once(':'))
                .map_or("", |(s, _)| s);
            (k.to_string(), (v.to_string(), source.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_4_4_tool_output_parses() {
        let describe = "Topic: tools\tTopicId: 5uumpwglQZyh9Q2PgKZ4vQ\tPartitionCount: 3\t\
            ReplicationFactor: 1\tConfigs: min.insync.replicas=1,segment.bytes=2097152\n\
            \tTopic: tools\tPartition: 0\tLeader: 1\tReplicas: 1\tIsr: 1\tElr: \tLastKnownElr: \n\
            \tTopic: tools\tPartition: 1\tLeader: 7\tReplicas: 7\tIsr: 7\tElr: \tLastKnownElr: \n";
        let t = parse_describe(describe);
        assert_eq!((t.partition_count, t.replication_factor), (3, 1));
        assert_eq!(t.configs["segment.bytes"], "2097152");
        assert_eq!(t.leaders, vec![(0, 1), (1, 7)]);

        let configs = "Dynamic configs for topic tools are:\n  retention.ms=86400000 \
            sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:retention.ms=86400000}\n  \
            segment.bytes=2097152 sensitive=false synonyms={DYNAMIC_TOPIC_CONFIG:segment.bytes=\
            2097152, DEFAULT_CONFIG:log.segment.bytes=1073741824}\n";
        let c = parse_config_describe(configs);
        assert_eq!(
            c["retention.ms"],
            ("86400000".to_string(), "DYNAMIC_TOPIC_CONFIG".to_string())
        );
        assert_eq!(c.len(), 2);
    }
}
