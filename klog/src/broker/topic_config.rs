//! Topic configs (`retention.ms`, `segment.bytes`, ...) under Apache Kafka 4.4.0's names, types,
//! defaults and validators (`LogConfig`'s `ConfigDef`), with the broker keys that set each one's
//! default (Kafka's `ServerTopicConfigSynonyms`): what CreateTopics, DescribeConfigs,
//! AlterConfigs and IncrementalAlterConfigs read and write for a topic.
//!
//! [`TopicConfigs`] holds one topic's overrides as validated text; [`TopicConfigs::log_config`]
//! lays them over the broker's defaults into the [`LogConfig`] klog runs the topic's partitions
//! with, and [`TopicConfigs::describe`] reports every config with its value and source as
//! DescribeConfigs does. Every Kafka topic config is accepted and described; the ones klog does
//! not act on are listed by [`TopicConfigDef::used`]. Two values are refused because acting as
//! if they were set would lose data or promises: `cleanup.policy` with `compact` and
//! `remote.storage.enable=true`.

use alloc::borrow::ToOwned;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::config::{
    parse_value, BrokerConfig, BrokerConfigError, ConfigDef, ConfigType, Validator,
    COMPRESSION_TYPES,
};
use crate::config::{LogConfig, TimestampType, TopicCompression};

use ConfigType as T;
use Validator as V;

/// One topic config: Kafka's definition and the broker keys that set its default, in
/// precedence order (`retention.ms`: `log.retention.ms`, `log.retention.minutes`,
/// `log.retention.hours`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopicConfigDef {
    /// Name, type, Kafka's default and validator.
    pub def: ConfigDef,
    /// The broker keys behind it.
    pub synonyms: &'static [&'static str],
}

impl TopicConfigDef {
    /// Whether klog acts on this config (the rest are accepted, stored and described).
    pub fn used(&self) -> bool {
        USED.contains(&self.def.name)
    }
}

const fn topic(
    name: &'static str,
    kind: ConfigType,
    default: Option<&'static str>,
    validator: Validator,
    synonyms: &'static [&'static str],
) -> TopicConfigDef {
    TopicConfigDef {
        def: ConfigDef {
            name,
            kind,
            default,
            validator,
        },
        synonyms,
    }
}

/// The topic configs klog's [`LogConfig`] honours (`internal.segment.bytes` overrides
/// `segment.bytes`, as in Kafka, for tests that need segments under 1 MiB).
const USED: &[&str] = &[
    "cleanup.policy",
    "flush.messages",
    "flush.ms",
    "index.interval.bytes",
    "internal.segment.bytes",
    "max.message.bytes",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.type",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
];

/// Every topic config of Kafka 4.4.0 (`LogConfig.configDefCopy()`), sorted by name; checked
/// against Kafka's jar by `tests/tests/broker_config_kafka.rs`.
pub const TOPIC_CONFIGS: &[TopicConfigDef] = &[
    topic(
        "cleanup.policy",
        T::List,
        Some("delete"),
        V::OneOf(&["compact", "delete"]),
        &["log.cleanup.policy"],
    ),
    topic(
        "compression.gzip.level",
        T::Int,
        Some("-1"),
        V::BetweenOr(1, 9, -1),
        &["compression.gzip.level"],
    ),
    topic(
        "compression.lz4.level",
        T::Int,
        Some("9"),
        V::Between(1, 17),
        &["compression.lz4.level"],
    ),
    topic(
        "compression.type",
        T::String,
        Some("producer"),
        V::OneOf(COMPRESSION_TYPES),
        &["compression.type"],
    ),
    topic(
        "compression.zstd.level",
        T::Int,
        Some("3"),
        V::Between(-131072, 22),
        &["compression.zstd.level"],
    ),
    topic(
        "delete.retention.ms",
        T::Long,
        Some("86400000"),
        V::AtLeast(0),
        &["log.cleaner.delete.retention.ms"],
    ),
    topic(
        "errors.deadletterqueue.group.enable",
        T::Boolean,
        Some("false"),
        V::None,
        &[],
    ),
    topic(
        "file.delete.delay.ms",
        T::Long,
        Some("60000"),
        V::AtLeast(0),
        &["log.segment.delete.delay.ms"],
    ),
    topic(
        "flush.messages",
        T::Long,
        Some("9223372036854775807"),
        V::AtLeast(1),
        &["log.flush.interval.messages"],
    ),
    topic(
        "flush.ms",
        T::Long,
        Some("9223372036854775807"),
        V::AtLeast(0),
        &["log.flush.interval.ms", "log.flush.scheduler.interval.ms"],
    ),
    topic(
        "follower.replication.throttled.replicas",
        T::List,
        Some(""),
        V::ThrottledReplicas,
        &[],
    ),
    topic(
        "index.interval.bytes",
        T::Int,
        Some("4096"),
        V::AtLeast(0),
        &["log.index.interval.bytes"],
    ),
    topic("internal.segment.bytes", T::Int, None, V::None, &[]),
    topic(
        "leader.replication.throttled.replicas",
        T::List,
        Some(""),
        V::ThrottledReplicas,
        &[],
    ),
    topic(
        "local.retention.bytes",
        T::Long,
        Some("-2"),
        V::AtLeast(-2),
        &["log.local.retention.bytes"],
    ),
    topic(
        "local.retention.ms",
        T::Long,
        Some("-2"),
        V::AtLeast(-2),
        &["log.local.retention.ms"],
    ),
    topic(
        "max.compaction.lag.ms",
        T::Long,
        Some("9223372036854775807"),
        V::AtLeast(1),
        &["log.cleaner.max.compaction.lag.ms"],
    ),
    topic(
        "max.decompressed.message.bytes",
        T::Int,
        Some("2147483639"),
        V::Between(1, 2147483639),
        &["max.decompressed.message.bytes"],
    ),
    topic(
        "max.message.bytes",
        T::Int,
        Some("1048588"),
        V::AtLeast(0),
        &["message.max.bytes"],
    ),
    topic(
        "message.timestamp.after.max.ms",
        T::Long,
        Some("3600000"),
        V::AtLeast(0),
        &["log.message.timestamp.after.max.ms"],
    ),
    topic(
        "message.timestamp.before.max.ms",
        T::Long,
        Some("9223372036854775807"),
        V::AtLeast(0),
        &["log.message.timestamp.before.max.ms"],
    ),
    topic(
        "message.timestamp.type",
        T::String,
        Some("CreateTime"),
        V::OneOf(&["CreateTime", "LogAppendTime"]),
        &["log.message.timestamp.type"],
    ),
    topic(
        "min.cleanable.dirty.ratio",
        T::Double,
        Some("0.5"),
        V::DoubleBetween(0, 1),
        &["log.cleaner.min.cleanable.ratio"],
    ),
    topic(
        "min.compaction.lag.ms",
        T::Long,
        Some("0"),
        V::AtLeast(0),
        &["log.cleaner.min.compaction.lag.ms"],
    ),
    topic(
        "min.insync.replicas",
        T::Int,
        Some("1"),
        V::AtLeast(1),
        &["min.insync.replicas"],
    ),
    topic(
        "preallocate",
        T::Boolean,
        Some("false"),
        V::None,
        &["log.preallocate"],
    ),
    topic(
        "remote.copy.lag.bytes",
        T::Long,
        Some("-1"),
        V::AtLeast(-1),
        &["log.remote.copy.lag.bytes"],
    ),
    topic(
        "remote.copy.lag.ms",
        T::Long,
        Some("0"),
        V::AtLeast(-1),
        &["log.remote.copy.lag.ms"],
    ),
    topic(
        "remote.log.copy.disable",
        T::Boolean,
        Some("false"),
        V::None,
        &[],
    ),
    topic(
        "remote.log.delete.on.disable",
        T::Boolean,
        Some("false"),
        V::None,
        &[],
    ),
    topic(
        "remote.storage.enable",
        T::Boolean,
        Some("false"),
        V::None,
        &[],
    ),
    topic(
        "retention.bytes",
        T::Long,
        Some("-1"),
        V::None,
        &["log.retention.bytes"],
    ),
    topic(
        "retention.ms",
        T::Long,
        Some("604800000"),
        V::AtLeast(-1),
        &[
            "log.retention.ms",
            "log.retention.minutes",
            "log.retention.hours",
        ],
    ),
    topic(
        "segment.bytes",
        T::Int,
        Some("1073741824"),
        V::AtLeast(1048576),
        &["log.segment.bytes"],
    ),
    topic(
        "segment.index.bytes",
        T::Int,
        Some("10485760"),
        V::AtLeast(4),
        &["log.index.size.max.bytes"],
    ),
    topic(
        "segment.jitter.ms",
        T::Long,
        Some("0"),
        V::AtLeast(0),
        &["log.roll.jitter.ms", "log.roll.jitter.hours"],
    ),
    topic(
        "segment.ms",
        T::Long,
        Some("604800000"),
        V::AtLeast(1),
        &["log.roll.ms", "log.roll.hours"],
    ),
    topic(
        "unclean.leader.election.enable",
        T::Boolean,
        Some("false"),
        V::None,
        &["unclean.leader.election.enable"],
    ),
];

/// Where a described value comes from (DescribeConfigs' `ConfigSource`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    /// Set on the topic (`TOPIC_CONFIG`, 1).
    TopicConfig,
    /// Set in the broker's `server.properties` or `--override` (`STATIC_BROKER_CONFIG`, 4).
    StaticBrokerConfig,
    /// Kafka's default (`DEFAULT_CONFIG`, 5).
    DefaultConfig,
}

impl ConfigSource {
    /// The wire value of DescribeConfigs' `ConfigSource`.
    pub fn code(self) -> i8 {
        match self {
            ConfigSource::TopicConfig => 1,
            ConfigSource::StaticBrokerConfig => 4,
            ConfigSource::DefaultConfig => 5,
        }
    }
}

/// A config's value as DescribeConfigs reports it, with its synonyms (the same config set at
/// other levels, the one in force first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedConfig {
    /// The topic config's name.
    pub name: &'static str,
    /// The value in force (`None` for Kafka's null).
    pub value: Option<String>,
    /// Where it comes from.
    pub source: ConfigSource,
    /// Its type.
    pub kind: ConfigType,
    /// `(name, value, source)` of each level that sets it, in precedence order.
    pub synonyms: Vec<(String, Option<String>, ConfigSource)>,
}

/// A topic config that cannot be set (CreateTopics and AlterConfigs answer `INVALID_CONFIG`
/// with this message).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TopicConfigError {
    /// Not a topic config of Kafka's.
    #[error("Unknown topic config name: {name}")]
    Unknown {
        /// The name given.
        name: String,
    },
    /// A bad value, in Kafka's words.
    #[error(transparent)]
    Value(#[from] BrokerConfigError),
}

/// One topic's config overrides, validated: what `CreateTopics` set and `AlterConfigs` changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicConfigs {
    overrides: BTreeMap<String, String>,
}

fn find(name: &str) -> Option<&'static TopicConfigDef> {
    TOPIC_CONFIGS.iter().find(|t| t.def.name == name)
}

impl TopicConfigs {
    /// Overrides from `(name, value)` pairs (a later pair for a name wins).
    pub fn from_pairs<K: AsRef<str>, W: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, W)>,
    ) -> Result<TopicConfigs, TopicConfigError> {
        let mut c = TopicConfigs::default();
        for (k, v) in pairs {
            c.set(k.as_ref(), v.as_ref())?;
        }
        Ok(c)
    }

    /// Sets `name` to `value` after checking both as Kafka does (and the two values klog
    /// refuses, see the module docs).
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), TopicConfigError> {
        let t = find(name).ok_or_else(|| TopicConfigError::Unknown {
            name: name.to_owned(),
        })?;
        parse_value(&t.def, value)?;
        let v = value.trim();
        let refuse = |reason: &str| {
            Err(TopicConfigError::Value(BrokerConfigError::Unsupported {
                name: name.to_owned(),
                value: value.to_owned(),
                reason: reason.to_owned(),
            }))
        };
        match name {
            "cleanup.policy" if v.split(',').any(|p| p.trim() == "compact") => {
                return refuse("log compaction is not implemented: delete only")
            }
            "remote.storage.enable" if v.eq_ignore_ascii_case("true") => {
                return refuse("tiered storage is not implemented")
            }
            _ => {}
        }
        // a check LogConfig makes on the whole (segment.index.bytes room for the time index)
        let mut trial = self.clone();
        trial.overrides.insert(name.to_owned(), v.to_owned());
        trial
            .log_config(&LogConfig::default())
            .validate()
            .map_err(|e| match e {
                crate::config::ConfigError::OutOfRange { expected, .. } => {
                    BrokerConfigError::InvalidValue {
                        name: name.to_owned(),
                        value: value.to_owned(),
                        reason: expected.to_owned(),
                    }
                }
            })?;
        self.overrides = trial.overrides;
        Ok(())
    }

    /// Removes the override of `name` (IncrementalAlterConfigs `DELETE`): it goes back to the
    /// broker's default. Returns the value it had.
    pub fn remove(&mut self, name: &str) -> Option<String> {
        self.overrides.remove(name)
    }

    /// The overrides, by name.
    pub fn overrides(&self) -> impl Iterator<Item = (&str, &str)> {
        self.overrides.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    fn int(&self, name: &str) -> Option<i64> {
        self.overrides.get(name).and_then(|v| v.parse().ok())
    }

    /// The topic's log settings: `defaults` (the broker's [`BrokerConfig::log`]) with the
    /// overrides klog acts on laid over them.
    pub fn log_config(&self, defaults: &LogConfig) -> LogConfig {
        let mut c = defaults.clone();
        let u32_of = |v: i64| u32::try_from(v).unwrap_or(u32::MAX);
        if let Some(v) = self
            .int("internal.segment.bytes")
            .or(self.int("segment.bytes"))
        {
            c.segment_bytes = u32_of(v);
        }
        if let Some(v) = self.int("segment.ms") {
            c.segment_ms = v;
        }
        if let Some(v) = self.int("segment.jitter.ms") {
            c.segment_jitter_ms = v;
        }
        if let Some(v) = self.int("segment.index.bytes") {
            c.segment_index_bytes = u32_of(v);
        }
        if let Some(v) = self.int("index.interval.bytes") {
            c.index_interval_bytes = u32_of(v);
        }
        if let Some(v) = self.int("retention.ms") {
            c.retention_ms = v;
        }
        if let Some(v) = self.int("retention.bytes") {
            c.retention_bytes = v;
        }
        if let Some(v) = self.int("flush.messages") {
            c.flush_messages = v;
        }
        if let Some(v) = self.int("flush.ms") {
            c.flush_ms = v;
        }
        if let Some(v) = self.int("max.message.bytes") {
            c.max_message_bytes = u32_of(v);
        }
        if let Some(v) = self.int("message.timestamp.before.max.ms") {
            c.message_timestamp_before_max_ms = v;
        }
        if let Some(v) = self.int("message.timestamp.after.max.ms") {
            c.message_timestamp_after_max_ms = v;
        }
        if let Some(v) = self
            .overrides
            .get("compression.type")
            .and_then(|v| TopicCompression::from_name(v))
        {
            c.compression_type = v;
        }
        if let Some(v) = self.overrides.get("message.timestamp.type") {
            c.message_timestamp_type = if v == "LogAppendTime" {
                TimestampType::LogAppendTime
            } else {
                TimestampType::CreateTime
            };
        }
        c
    }

    /// Every topic config (internal ones only when overridden) with its value in force and
    /// where it comes from, as DescribeConfigs answers for a topic on `broker`.
    pub fn describe(&self, broker: &BrokerConfig) -> Vec<DescribedConfig> {
        let mut out = Vec::new();
        for t in TOPIC_CONFIGS {
            let name = t.def.name;
            let own = self.overrides.get(name);
            if name.starts_with("internal.") && own.is_none() {
                continue;
            }
            let mut synonyms = Vec::new();
            if let Some(v) = own {
                synonyms.push((name.to_owned(), Some(v.clone()), ConfigSource::TopicConfig));
            }
            let mut broker_value = None;
            for s in t.synonyms {
                if let Some((_, v)) = broker.supplied.iter().find(|(k, _)| k == s) {
                    synonyms.push((
                        (*s).to_owned(),
                        Some(v.clone()),
                        ConfigSource::StaticBrokerConfig,
                    ));
                    broker_value.get_or_insert_with(|| broker_effective(name, broker, v));
                }
            }
            let kafka_default = t.def.default.map(str::to_owned);
            if let Some(first) = t.synonyms.first() {
                // Kafka lists the broker default under the broker key that carries it.
                synonyms.push((
                    (*first).to_owned(),
                    kafka_default.clone(),
                    ConfigSource::DefaultConfig,
                ));
            }
            let (value, source) = match (own, broker_value) {
                (Some(v), _) => (Some(v.clone()), ConfigSource::TopicConfig),
                (None, Some(v)) => (Some(v), ConfigSource::StaticBrokerConfig),
                (None, None) => (kafka_default, ConfigSource::DefaultConfig),
            };
            out.push(DescribedConfig {
                name,
                value,
                source,
                kind: t.def.kind,
                synonyms,
            });
        }
        out
    }
}

/// The topic-level value a supplied broker key gives `topic_key` (hours and minutes become
/// milliseconds, as Kafka's synonym converters do; a negative retention is -1).
fn broker_effective(topic_key: &str, broker: &BrokerConfig, raw: &str) -> String {
    let log = &broker.log;
    match topic_key {
        "retention.ms" => log.retention_ms.to_string(),
        "segment.ms" => log.segment_ms.to_string(),
        "segment.jitter.ms" => log.segment_jitter_ms.to_string(),
        "flush.ms" => log.flush_ms.to_string(),
        _ => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broker(pairs: &[(&str, &str)]) -> BrokerConfig {
        BrokerConfig::from_pairs(pairs.iter().copied()).unwrap().0
    }

    #[test]
    fn overrides_lay_over_the_broker_defaults() {
        let b = broker(&[
            ("log.retention.hours", "1"),
            ("log.segment.bytes", "2097152"),
        ]);
        let t = TopicConfigs::from_pairs([
            ("retention.ms", "5000"),
            ("message.timestamp.type", "LogAppendTime"),
            ("max.message.bytes", "3000000"),
            ("flush.messages", "1"),
            ("min.insync.replicas", "1"),
            ("cleanup.policy", "delete"),
        ])
        .unwrap();
        let c = t.log_config(&b.log);
        assert_eq!(c.retention_ms, 5000);
        assert_eq!(c.segment_bytes, 2_097_152, "from the broker");
        assert_eq!(c.message_timestamp_type, TimestampType::LogAppendTime);
        assert_eq!(c.max_message_bytes, 3_000_000);
        assert_eq!(c.flush_messages, 1);
        assert_eq!(TopicConfigs::default().log_config(&b.log), b.log);
        // Kafka's internal.segment.bytes goes below segment.bytes' 1 MiB minimum, for tests.
        let small = TopicConfigs::from_pairs([("internal.segment.bytes", "4096")]).unwrap();
        assert_eq!(small.log_config(&b.log).segment_bytes, 4096);
        let mut t = t;
        assert_eq!(t.remove("retention.ms").as_deref(), Some("5000"));
        assert_eq!(t.log_config(&b.log).retention_ms, 3_600_000);
    }

    #[test]
    fn bad_names_and_values_are_refused_in_kafkas_words() {
        let e = TopicConfigs::from_pairs([("retention.mss", "1")]).unwrap_err();
        assert_eq!(e.to_string(), "Unknown topic config name: retention.mss");
        let e = TopicConfigs::from_pairs([("segment.bytes", "1000")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid value 1000 for configuration segment.bytes: Value must be at least 1048576"
        );
        let e = TopicConfigs::from_pairs([("min.cleanable.dirty.ratio", "1.5")]).unwrap_err();
        assert!(
            e.to_string().ends_with("Value must be no more than 1"),
            "{e}"
        );
        assert!(TopicConfigs::from_pairs([("min.cleanable.dirty.ratio", "0.25")]).is_ok());
        let e = TopicConfigs::from_pairs([("leader.replication.throttled.replicas", "0:a")])
            .unwrap_err();
        assert!(e.to_string().contains("[partitionId]:[brokerId]"), "{e}");
        assert!(
            TopicConfigs::from_pairs([("leader.replication.throttled.replicas", "0:1, 1:1")])
                .is_ok()
        );
        assert!(TopicConfigs::from_pairs([("leader.replication.throttled.replicas", "*")]).is_ok());
        let e = TopicConfigs::from_pairs([("cleanup.policy", "compact")]).unwrap_err();
        assert!(
            e.to_string().contains("compaction is not implemented"),
            "{e}"
        );
        let e = TopicConfigs::from_pairs([("cleanup.policy", "nope")]).unwrap_err();
        assert!(e.to_string().contains("Invalid value nope"), "{e}");
        let e = TopicConfigs::from_pairs([("remote.storage.enable", "true")]).unwrap_err();
        assert!(e.to_string().contains("tiered storage"), "{e}");
        let e = TopicConfigs::from_pairs([("segment.index.bytes", "8")]).unwrap_err();
        assert!(e.to_string().contains("segment.index.bytes"), "{e}");
        // A refused set leaves the earlier overrides as they were.
        let mut t = TopicConfigs::from_pairs([("retention.ms", "7")]).unwrap();
        assert!(t.set("retention.ms", "-2").is_err());
        assert_eq!(t.overrides().collect::<Vec<_>>(), [("retention.ms", "7")]);
    }

    #[test]
    fn describe_reports_value_and_source_like_describe_configs() {
        let b = broker(&[
            ("log.retention.hours", "2"),
            ("message.max.bytes", "2000000"),
        ]);
        let t = TopicConfigs::from_pairs([("segment.ms", "60000")]).unwrap();
        let d = t.describe(&b);
        let get = |n: &str| {
            d.iter()
                .find(|c| c.name == n)
                .unwrap_or_else(|| panic!("{n}"))
        };
        let seg = get("segment.ms");
        assert_eq!(
            (seg.value.as_deref(), seg.source),
            (Some("60000"), ConfigSource::TopicConfig)
        );
        assert_eq!(
            seg.synonyms[0],
            (
                "segment.ms".into(),
                Some("60000".into()),
                ConfigSource::TopicConfig
            )
        );
        let ret = get("retention.ms");
        assert_eq!(
            ret.value.as_deref(),
            Some("7200000"),
            "hours become milliseconds"
        );
        assert_eq!(ret.source, ConfigSource::StaticBrokerConfig);
        assert_eq!(
            ret.synonyms[0],
            (
                "log.retention.hours".into(),
                Some("2".into()),
                ConfigSource::StaticBrokerConfig
            )
        );
        let max = get("max.message.bytes");
        assert_eq!(
            (max.value.as_deref(), max.source),
            (Some("2000000"), ConfigSource::StaticBrokerConfig)
        );
        let lag = get("min.compaction.lag.ms");
        assert_eq!(
            (lag.value.as_deref(), lag.source),
            (Some("0"), ConfigSource::DefaultConfig)
        );
        assert_eq!(lag.kind, ConfigType::Long);
        assert!(d.iter().all(|c| !c.name.starts_with("internal.")));
        assert_eq!(d.len(), TOPIC_CONFIGS.len() - 1);
        assert_eq!(ConfigSource::StaticBrokerConfig.code(), 4);
    }

    #[test]
    fn table_is_sorted_and_its_defaults_valid() {
        assert!(TOPIC_CONFIGS
            .windows(2)
            .all(|w| w[0].def.name < w[1].def.name));
        for t in TOPIC_CONFIGS {
            if let Some(d) = t.def.default {
                parse_value(&t.def, d).unwrap_or_else(|e| panic!("{}: {e}", t.def.name));
            }
        }
        for u in USED {
            assert!(find(u).is_some(), "{u}");
        }
    }
}
