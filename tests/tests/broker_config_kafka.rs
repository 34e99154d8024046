//! klog's broker and topic configuration against Kafka 4.4.0's own ConfigDefs
//! (`KafkaConfig.configDef()`, `LogConfig.configDefCopy()` and `ServerTopicConfigSynonyms`): the
//! known broker keys are Kafka's, every key the broker acts on and every topic config has
//! Kafka's type, default and validator, and each topic config Kafka's broker synonyms. Runs `tests/java/config/BrokerConfigDef.java` over Kafka's jars (installed by
//! `.ci/install`; fails, never skips, without them).

use std::collections::BTreeMap;
use std::time::Duration;

use integration_tests::kafka::{run_java, KafkaInstall, TempDir};
use klog::broker::config::{ConfigType, BROKER_CONFIGS, KAFKA_BROKER_CONFIG_NAMES};
use klog::broker::topic_config::TOPIC_CONFIGS;

/// Kafka requires these; a single combined node gives them defaults (klog::broker::config docs).
const REQUIRED_IN_KAFKA_DEFAULTED_HERE: &[&str] =
    &["controller.listener.names", "node.id", "process.roles"];

/// Kafka's ConfigDef `which` (`broker` or `topic`): name -> [type, default, validator(, synonyms)].
fn kafka_config_def(which: &str, columns: usize) -> BTreeMap<String, Vec<String>> {
    let install = KafkaInstall::locate();
    let work = TempDir::new("broker-config");
    let src = integration_tests::repo_root().join("tests/java/config/BrokerConfigDef.java");
    let out = run_java(
        &install.classpath(),
        work.path(),
        src.to_str().expect("utf-8 path"),
        &[which],
        Duration::from_secs(120),
    )
    .expect_success("BrokerConfigDef");
    out.stdout
        .lines()
        .map(|l| {
            let cols: Vec<String> = l.split('\t').map(str::to_owned).collect();
            assert_eq!(cols.len(), columns, "line {l:?}");
            (cols[0].clone(), cols[1..].to_vec())
        })
        .collect()
}

/// Kafka prints a list default as `[a, b]`; ours is the property text `a,b`.
fn as_property_text(kind: ConfigType, kafka_default: &str) -> String {
    match kind {
        ConfigType::List if kafka_default.starts_with('[') => {
            kafka_default[1..kafka_default.len() - 1].replace(", ", ",")
        }
        _ => kafka_default.to_string(),
    }
}

#[test]
fn topic_configs_are_kafkas() {
    let kafka = kafka_config_def("topic", 5);
    assert!(
        kafka.len() > 30,
        "only {} topic configs printed",
        kafka.len()
    );
    let ours: Vec<&str> = TOPIC_CONFIGS.iter().map(|t| t.def.name).collect();
    let theirs: Vec<&str> = kafka.keys().map(String::as_str).collect();
    assert_eq!(ours, theirs, "the topic configs differ from Kafka's");
    for t in TOPIC_CONFIGS {
        let d = &t.def;
        let k = &kafka[d.name];
        assert_eq!(d.kind.name(), k[0], "type of {}", d.name);
        assert_eq!(
            d.default.unwrap_or("null"),
            as_property_text(d.kind, &k[1]),
            "default of {}",
            d.name
        );
        assert_eq!(d.validator.to_string(), k[2], "validator of {}", d.name);
        assert_eq!(t.synonyms.join(","), k[3], "broker synonyms of {}", d.name);
    }
}

#[test]
fn broker_configs_are_kafkas() {
    let kafka = kafka_config_def("broker", 4);
    assert!(kafka.len() > 300, "only {} configs printed", kafka.len());
    let kafka_names: Vec<&str> = kafka.keys().map(String::as_str).collect();
    assert_eq!(
        KAFKA_BROKER_CONFIG_NAMES,
        kafka_names.as_slice(),
        "the known keys differ from Kafka's"
    );
    for d in BROKER_CONFIGS {
        let k = &kafka[d.name];
        assert_eq!(d.kind.name(), k[0], "type of {}", d.name);
        let kafka_default = as_property_text(d.kind, &k[1]);
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
