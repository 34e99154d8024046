//! klog's broker configuration against Kafka 4.4.0's own `KafkaConfig.configDef()`: the list of
//! known keys is Kafka's, and every key the broker acts on has Kafka's type, default and
//! validator. Runs `tests/java/config/BrokerConfigDef.java` over Kafka's jars (installed by
//! `.ci/install`; fails, never skips, without them).

use std::collections::BTreeMap;
use std::time::Duration;

use integration_tests::kafka::{run_java, KafkaInstall, TempDir};
use klog::broker::config::{ConfigType, BROKER_CONFIGS, KAFKA_BROKER_CONFIG_NAMES};

/// Kafka requires these; a single combined node gives them defaults (klog::broker::config docs).
const REQUIRED_IN_KAFKA_DEFAULTED_HERE: &[&str] =
    &["controller.listener.names", "node.id", "process.roles"];

#[test]
fn broker_configs_are_kafkas() {
    let install = KafkaInstall::locate();
    let work = TempDir::new("broker-config");
    let src = integration_tests::repo_root().join("tests/java/config/BrokerConfigDef.java");
    let out = run_java(
        &install.classpath(),
        work.path(),
        src.to_str().expect("utf-8 path"),
        &[],
        Duration::from_secs(120),
    )
    .expect_success("BrokerConfigDef");
    let kafka: BTreeMap<&str, Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "line {l:?}");
            (cols[0], cols[1..].to_vec())
        })
        .collect();
    assert!(kafka.len() > 300, "only {} configs printed", kafka.len());
    let kafka_names: Vec<&str> = kafka.keys().copied().collect();
    assert_eq!(
        KAFKA_BROKER_CONFIG_NAMES,
        kafka_names.as_slice(),
        "the known keys differ from Kafka's"
    );
    for d in BROKER_CONFIGS {
        let k = &kafka[d.name];
        assert_eq!(d.kind.name(), k[0], "type of {}", d.name);
        let kafka_default = match (d.kind, k[1]) {
            // Kafka prints a list default as [a, b]; ours is the property text a,b.
            (ConfigType::List, s) if s.starts_with('[') => s[1..s.len() - 1].replace(", ", ","),
            (_, s) => s.to_string(),
        };
        let ours = d.default.unwrap_or("null");
        if REQUIRED_IN_KAFKA_DEFAULTED_HERE.contains(&d.name) {
            assert_eq!(
                kafka_default, "<required>",
                "{} is no longer required in Kafka",
                d.name
            );
            assert_eq!(ours, "null", "{}", d.name);
        } else {
            assert_eq!(ours, kafka_default, "default of {}", d.name);
        }
        assert_eq!(d.validator.to_string(), k[2], "validator of {}", d.name);
    }
}
