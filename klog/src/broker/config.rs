//! The broker's configuration under Apache Kafka 4.4.0's names (`server.properties` keys), with
//! Kafka's types, defaults, validators and precedence rules (`log.retention.ms` over
//! `log.retention.minutes` over `log.retention.hours`, `log.dirs` over `log.dir`, ...).
//!
//! [`BrokerConfig::from_pairs`] takes `key=value` pairs, already read from a properties file
//! and `--override` flags by an adapter (this module reads no files). As Kafka does, a key it does
//! not know is not an error but a [`ConfigWarning`]; so is a key Kafka knows that this broker does
//! not act on (a copied `server.properties` with controller, SASL or cleaner settings loads).
//! A bad value of a key the broker uses is an error naming the key, the value and what is
//! accepted, in Kafka's words (`Invalid value x for configuration num.partitions: ...`).
//!
//! Deviations from Kafka, each because this is one combined node with no controller quorum:
//! `node.id` defaults to 1 and `process.roles` to `broker,controller` (Kafka requires both);
//! listeners named in `controller.listener.names` are accepted and not served;
//! `default.replication.factor` must be 1; only PLAINTEXT listeners are served.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::config::{LogConfig, TimestampType, TopicCompression};

pub use super::kafka_names::KAFKA_BROKER_CONFIG_NAMES;

/// Kafka's `ConfigDef.Type` of a config value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    /// `true` / `false`, case-insensitive.
    Boolean,
    /// A 16-bit integer.
    Short,
    /// A 32-bit integer.
    Int,
    /// A 64-bit integer.
    Long,
    /// A string (trimmed).
    String,
    /// A comma-separated list (items trimmed; an empty string is the empty list).
    List,
    /// A 64-bit float.
    Double,
}

impl ConfigType {
    /// Kafka's name of the type (`INT`, `LIST`, ...), as DescribeConfigs and the docs show it.
    pub fn name(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::Short => "SHORT",
            ConfigType::Int => "INT",
            ConfigType::Long => "LONG",
            ConfigType::String => "STRING",
            ConfigType::List => "LIST",
            ConfigType::Double => "DOUBLE",
        }
    }
}

/// Kafka's validators, printed as Kafka prints them (`[1,...]`, `[1,...,9] or -1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validator {
    /// Any value of the type.
    None,
    /// `Range.atLeast(min)`.
    AtLeast(i64),
    /// `Range.between(min, max)`.
    Between(i64, i64),
    /// `Range.between(min, max)` or exactly `or` (Kafka's gzip level validator).
    BetweenOr(i64, i64, i64),
    /// `ValidString.in(...)` (a string), or `ValidList.in(...)` (each list item).
    OneOf(&'static [&'static str]),
    /// `Range.between(min, max)` of a double.
    DoubleBetween(i64, i64),
    /// Kafka's `ThrottledReplicaListValidator`: `*`, or `partition:broker` items.
    ThrottledReplicas,
}

impl fmt::Display for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Validator::None => Ok(()),
            Validator::AtLeast(min) => write!(f, "[{min},...]"),
            Validator::Between(min, max) => write!(f, "[{min},...,{max}]"),
            Validator::BetweenOr(min, max, or) => write!(f, "[{min},...,{max}] or {or}"),
            Validator::OneOf(items) => write!(f, "[{}]", items.join(", ")),
            Validator::DoubleBetween(min, max) => write!(f, "[{min},...,{max}]"),
            Validator::ThrottledReplicas => {
                f.write_str("[partitionId]:[brokerId],[partitionId]:[brokerId],...")
            }
        }
    }
}

/// One config the broker acts on: Kafka's definition of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfigDef {
    /// The key (`log.segment.bytes`).
    pub name: &'static str,
    /// Its type.
    pub kind: ConfigType,
    /// Kafka's default as Kafka prints it; `None` is Kafka's `null` (unset), and a required
    /// key of Kafka's whose default here differs is said so in the module docs.
    pub default: Option<&'static str>,
    /// What values are valid.
    pub validator: Validator,
}

const fn def(
    name: &'static str,
    kind: ConfigType,
    default: Option<&'static str>,
    validator: Validator,
) -> ConfigDef {
    ConfigDef {
        name,
        kind,
        default,
        validator,
    }
}

use ConfigType as T;
use Validator as V;

const DEFAULT_PROTOCOL_MAP: &str =
    "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT";

pub(crate) const COMPRESSION_TYPES: &[&str] =
    &["uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"];

/// The configs this broker acts on, with Kafka 4.4.0's type, default and validator for each
/// (checked against `KafkaConfig.configDef()` of Kafka's jar by `tests/tests/broker_config_kafka.rs`).
pub const BROKER_CONFIGS: &[ConfigDef] = &[
    def("advertised.listeners", T::List, None, V::None),
    def(
        "auto.create.topics.enable",
        T::Boolean,
        Some("true"),
        V::None,
    ),
    def("broker.id", T::Int, Some("-1"), V::None),
    def(
        "compression.gzip.level",
        T::Int,
        Some("-1"),
        V::BetweenOr(1, 9, -1),
    ),
    def(
        "compression.lz4.level",
        T::Int,
        Some("9"),
        V::Between(1, 17),
    ),
    def(
        "compression.type",
        T::String,
        Some("producer"),
        V::OneOf(COMPRESSION_TYPES),
    ),
    def(
        "compression.zstd.level",
        T::Int,
        Some("3"),
        V::Between(-131072, 22),
    ),
    def("connections.max.idle.ms", T::Long, Some("600000"), V::None),
    def("controller.listener.names", T::List, None, V::None),
    def("default.replication.factor", T::Int, Some("1"), V::None),
    def(
        "fetch.max.bytes",
        T::Int,
        Some("57671680"),
        V::AtLeast(1024),
    ),
    def(
        "listener.security.protocol.map",
        T::String,
        Some(DEFAULT_PROTOCOL_MAP),
        V::None,
    ),
    def("listeners", T::List, Some("PLAINTEXT://:9092"), V::None),
    def(
        "log.cleanup.policy",
        T::List,
        Some("delete"),
        V::OneOf(&["compact", "delete"]),
    ),
    def("log.dir", T::List, Some("/tmp/kafka-logs"), V::None),
    def("log.dirs", T::List, None, V::None),
    def(
        "log.flush.interval.messages",
        T::Long,
        Some("9223372036854775807"),
        V::AtLeast(1),
    ),
    def("log.flush.interval.ms", T::Long, None, V::None),
    def(
        "log.flush.offset.checkpoint.interval.ms",
        T::Int,
        Some("60000"),
        V::AtLeast(0),
    ),
    def(
        "log.flush.scheduler.interval.ms",
        T::Long,
        Some("9223372036854775807"),
        V::None,
    ),
    def(
        "log.flush.start.offset.checkpoint.interval.ms",
        T::Int,
        Some("60000"),
        V::AtLeast(0),
    ),
    def(
        "log.index.interval.bytes",
        T::Int,
        Some("4096"),
        V::AtLeast(0),
    ),
    def(
        "log.index.size.max.bytes",
        T::Int,
        Some("10485760"),
        V::AtLeast(4),
    ),
    def(
        "log.message.timestamp.after.max.ms",
        T::Long,
        Some("3600000"),
        V::AtLeast(0),
    ),
    def(
        "log.message.timestamp.before.max.ms",
        T::Long,
        Some("9223372036854775807"),
        V::AtLeast(0),
    ),
    def(
        "log.message.timestamp.type",
        T::String,
        Some("CreateTime"),
        V::OneOf(&["CreateTime", "LogAppendTime"]),
    ),
    def("log.retention.bytes", T::Long, Some("-1"), V::None),
    def(
        "log.retention.check.interval.ms",
        T::Long,
        Some("300000"),
        V::AtLeast(1),
    ),
    def("log.retention.hours", T::Int, Some("168"), V::None),
    def("log.retention.minutes", T::Int, None, V::None),
    def("log.retention.ms", T::Long, None, V::None),
    def("log.roll.hours", T::Int, Some("168"), V::AtLeast(1)),
    def("log.roll.jitter.hours", T::Int, Some("0"), V::AtLeast(0)),
    def("log.roll.jitter.ms", T::Long, None, V::None),
    def("log.roll.ms", T::Long, None, V::None),
    def(
        "log.segment.bytes",
        T::Int,
        Some("1073741824"),
        V::AtLeast(1_048_576),
    ),
    def("message.max.bytes", T::Int, Some("1048588"), V::AtLeast(0)),
    def("node.id", T::Int, None, V::AtLeast(0)),
    def("num.partitions", T::Int, Some("1"), V::AtLeast(1)),
    def(
        "process.roles",
        T::List,
        None,
        V::OneOf(&["broker", "controller"]),
    ),
    def(
        "producer.id.expiration.check.interval.ms",
        T::Int,
        Some("600000"),
        V::AtLeast(1),
    ),
    def(
        "producer.id.expiration.ms",
        T::Int,
        Some("86400000"),
        V::AtLeast(1),
    ),
    def(
        "socket.request.max.bytes",
        T::Int,
        Some("104857600"),
        V::AtLeast(1),
    ),
];

/// A listener: `NAME://host:port` (an empty host binds every address; port 0 picks a free one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// The listener name, upper-cased as Kafka normalises it (`PLAINTEXT`).
    pub name: String,
    /// The host or address (IPv6 without brackets); `None` for Kafka's empty host (wildcard).
    pub host: Option<String>,
    /// The port.
    pub port: u16,
}

impl fmt::Display for Listener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.host {
            Some(h) if h.contains(':') => write!(f, "{}://[{}]:{}", self.name, h, self.port),
            Some(h) => write!(f, "{}://{}:{}", self.name, h, self.port),
            None => write!(f, "{}://:{}", self.name, self.port),
        }
    }
}

/// A supplied key that does not change what the broker does. Kafka logs these and starts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigWarning {
    /// Not a Kafka 4.4.0 broker config at all (a typo, or a client's key).
    #[error("The configuration '{name}' was supplied but isn't a known config.")]
    Unknown {
        /// The key.
        name: String,
    },
    /// A Kafka broker config this broker does not act on (controller, security, cleaner ...).
    #[error("The configuration '{name}' is a Kafka broker config that this broker does not use; ignored.")]
    NotUsed {
        /// The key.
        name: String,
    },
}

/// A value the broker cannot start with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerConfigError {
    /// Not a value of the key's type, or outside its validator (Kafka's `ConfigException`).
    #[error("Invalid value {value} for configuration {name}: {reason}")]
    InvalidValue {
        /// The key.
        name: String,
        /// The value given.
        value: String,
        /// What is accepted.
        reason: String,
    },
    /// A valid Kafka value this single-node broker does not implement.
    #[error("Unsupported value {value} for configuration {name}: {reason}")]
    Unsupported {
        /// The key.
        name: String,
        /// The value given.
        value: String,
        /// Why, and what is supported.
        reason: String,
    },
}

fn invalid(name: &str, value: &str, reason: impl Into<String>) -> BrokerConfigError {
    BrokerConfigError::InvalidValue {
        name: name.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

fn unsupported(name: &str, value: &str, reason: impl Into<String>) -> BrokerConfigError {
    BrokerConfigError::Unsupported {
        name: name.to_owned(),
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// A parsed value (Kafka's `ConfigDef.parseType`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<String>),
}

/// Parses `raw` as `d`'s type and checks `d`'s validator, in Kafka's words.
pub(crate) fn parse_value(d: &ConfigDef, raw: &str) -> Result<Value, BrokerConfigError> {
    let t = raw.trim();
    let value =
        match d.kind {
            T::Boolean => {
                if t.eq_ignore_ascii_case("true") {
                    Value::Bool(true)
                } else if t.eq_ignore_ascii_case("false") {
                    Value::Bool(false)
                } else {
                    return Err(invalid(
                        d.name,
                        raw,
                        "Expected value to be either true or false",
                    ));
                }
            }
            T::Short => Value::Int(i64::from(t.parse::<i16>().map_err(|_| {
                invalid(d.name, raw, "Expected value to be a 16-bit integer (short)")
            })?)),
            T::Int => Value::Int(i64::from(t.parse::<i32>().map_err(|_| {
                invalid(d.name, raw, "Expected value to be a 32-bit integer")
            })?)),
            T::Long => Value::Int(t.parse::<i64>().map_err(|_| {
                invalid(d.name, raw, "Expected value to be a 64-bit integer (long)")
            })?),
            T::String => Value::Str(t.to_owned()),
            T::List => Value::List(if t.is_empty() {
                Vec::new()
            } else {
                t.split(',').map(|s| s.trim().to_owned()).collect()
            }),
            T::Double => {
                let x: f64 = t
                    .parse()
                    .map_err(|_| invalid(d.name, raw, "Expected value to be a double"))?;
                if let V::DoubleBetween(min, max) = d.validator {
                    if x < min as f64 {
                        return Err(invalid(
                            d.name,
                            raw,
                            format!("Value must be at least {min}"),
                        ));
                    }
                    if x > max as f64 {
                        return Err(invalid(
                            d.name,
                            raw,
                            format!("Value must be no more than {max}"),
                        ));
                    }
                }
                Value::Str(t.to_owned())
            }
        };
    let out_of_range = match (d.validator, &value) {
        (V::AtLeast(min), Value::Int(n)) if *n < min => {
            Some(format!("Value must be at least {min}"))
        }
        (V::Between(min, _), Value::Int(n)) if *n < min => {
            Some(format!("Value must be at least {min}"))
        }
        (V::Between(_, max), Value::Int(n)) if *n > max => {
            Some(format!("Value must be no more than {max}"))
        }
        (V::BetweenOr(min, max, or), Value::Int(n)) if *n != or && (*n < min || *n > max) => {
            Some(format!("Value must be in {}", d.validator))
        }
        (V::OneOf(items), Value::Str(s)) if !items.contains(&s.as_str()) => {
            Some(format!("String must be one of: {}", items.join(", ")))
        }
        (V::ThrottledReplicas, Value::List(l)) => {
            let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
            let item_ok = |s: &String| {
                s.split_once(':')
                    .is_some_and(|(p, b)| digits(p.trim()) && digits(b.trim()))
            };
            let ok = (l.len() == 1 && l[0] == "*") || l.iter().all(item_ok);
            (!ok).then(|| {
                "Should be a comma-separated list of [partitionId]:[brokerId], or *".to_owned()
            })
        }
        (V::OneOf(items), Value::List(l)) => {
            l.iter().find(|s| !items.contains(&s.as_str())).map(|bad| {
                format!(
                    "Invalid value {bad}; the valid values are {}",
                    items.join(", ")
                )
            })
        }
        _ => None,
    };
    if let Some(reason) = out_of_range {
        return Err(invalid(d.name, raw, reason));
    }
    Ok(value)
}

/// The broker's configuration: what it serves, where its logs live and the defaults of every
/// topic's [`LogConfig`]. [`Default`] is Kafka 4.4.0's defaults (with the deviations in the
/// module docs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerConfig {
    /// `node.id` (or `broker.id` when only that is given); 1 when neither is.
    pub node_id: i32,
    /// `listeners` this broker serves (PLAINTEXT; controller listeners left out).
    pub listeners: Vec<Listener>,
    /// `advertised.listeners`, or `listeners` when unset: what Metadata tells clients.
    pub advertised_listeners: Vec<Listener>,
    /// `log.dirs`, or `log.dir` when unset (one directory).
    pub log_dir: String,
    /// `num.partitions`: partitions of an auto-created topic (1).
    pub num_partitions: i32,
    /// `default.replication.factor` (1, the only value a single node accepts).
    pub default_replication_factor: i16,
    /// `auto.create.topics.enable` (true).
    pub auto_create_topics_enable: bool,
    /// `socket.request.max.bytes`: the largest request frame accepted (100 MiB).
    pub socket_request_max_bytes: i32,
    /// `connections.max.idle.ms`: idle connections are closed after this (10 minutes).
    pub connections_max_idle_ms: i64,
    /// `log.retention.check.interval.ms`: how often retention runs (5 minutes).
    pub log_retention_check_interval_ms: i64,
    /// `fetch.max.bytes`: the most record bytes one consumer Fetch response carries (55 MiB);
    /// a request's own `max_bytes` can only lower it.
    pub fetch_max_bytes: i32,
    /// `log.flush.offset.checkpoint.interval.ms`: how often recovery points are checkpointed.
    pub log_flush_offset_checkpoint_interval_ms: i32,
    /// `log.flush.start.offset.checkpoint.interval.ms`: how often log start offsets are.
    pub log_flush_start_offset_checkpoint_interval_ms: i32,
    /// `producer.id.expiration.check.interval.ms`: how often idle producer ids are expired.
    pub producer_id_expiration_check_interval_ms: i32,
    /// `compression.type`: the default topic compression (`producer`: keep the producer's).
    pub compression_type: String,
    /// `compression.gzip.level`, `compression.lz4.level`, `compression.zstd.level`.
    pub compression_levels: (i32, i32, i32),
    /// Every topic's defaults, from the `log.*` keys and `message.max.bytes`.
    pub log: LogConfig,
    /// The keys the broker acts on as they were supplied (key, value as given), in order:
    /// DescribeConfigs reports these as `STATIC_BROKER_CONFIG`.
    pub supplied: Vec<(String, String)>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig::from_pairs::<&str, &str>([])
            .expect("Kafka's defaults are valid")
            .0
    }
}

/// The broker key that sets a topic config's default (`segment.bytes` -> `log.segment.bytes`).
fn broker_key_of(topic_key: &str) -> &str {
    match topic_key {
        "segment.bytes" => "log.segment.bytes",
        "segment.ms" => "log.roll.ms",
        "segment.jitter.ms" => "log.roll.jitter.ms",
        "segment.index.bytes" => "log.index.size.max.bytes",
        "index.interval.bytes" => "log.index.interval.bytes",
        "retention.ms" => "log.retention.ms",
        "retention.bytes" => "log.retention.bytes",
        "flush.messages" => "log.flush.interval.messages",
        "flush.ms" => "log.flush.interval.ms",
        "max.message.bytes" => "message.max.bytes",
        "message.timestamp.before.max.ms" | "message.timestamp.*.max.ms" => {
            "log.message.timestamp.before.max.ms"
        }
        "message.timestamp.after.max.ms" => "log.message.timestamp.after.max.ms",
        other => other,
    }
}

impl BrokerConfig {
    /// Builds the configuration from `key=value` pairs (a later pair for the same key wins, so
    /// pass the file's pairs first and `--override`s after them). Returns the configuration and
    /// the warnings about keys it does not use, or the first invalid value.
    pub fn from_pairs<K: AsRef<str>, W: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, W)>,
    ) -> Result<(BrokerConfig, Vec<ConfigWarning>), BrokerConfigError> {
        let mut given: Vec<(String, String)> = Vec::new();
        for (k, v) in pairs {
            let (k, v) = (k.as_ref().trim(), v.as_ref());
            match given.iter_mut().find(|(gk, _)| gk == k) {
                Some(slot) => slot.1 = v.to_owned(),
                None => given.push((k.to_owned(), v.to_owned())),
            }
        }
        let mut warnings = Vec::new();
        let mut values: Vec<(&'static str, Value, String)> = Vec::new();
        for (k, raw) in &given {
            match BROKER_CONFIGS.iter().find(|d| d.name == k) {
                Some(d) => values.push((d.name, parse_value(d, raw)?, raw.clone())),
                None if KAFKA_BROKER_CONFIG_NAMES.binary_search(&k.as_str()).is_ok() => {
                    warnings.push(ConfigWarning::NotUsed { name: k.clone() })
                }
                None => warnings.push(ConfigWarning::Unknown { name: k.clone() }),
            }
        }
        let r = Resolved { values };
        let cfg = r.build()?;
        Ok((cfg, warnings))
    }
}

/// The parsed values given, with Kafka's defaults behind them.
struct Resolved {
    values: Vec<(&'static str, Value, String)>,
}

impl Resolved {
    fn given(&self, name: &str) -> Option<&Value> {
        self.values
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(_, v, _)| v)
    }

    fn raw(&self, name: &str) -> String {
        self.values
            .iter()
            .find(|(n, ..)| *n == name)
            .map(|(.., raw)| raw.clone())
            .or_else(|| self.def(name).default.map(str::to_owned))
            .unwrap_or_default()
    }

    fn def(&self, name: &str) -> &'static ConfigDef {
        BROKER_CONFIGS
            .iter()
            .find(|d| d.name == name)
            .expect("every key read is in BROKER_CONFIGS")
    }

    /// The given value, else Kafka's default (parsed); `None` for an unset key without one.
    fn get(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.given(name) {
            return Some(v.clone());
        }
        let d = self.def(name);
        d.default
            .map(|s| parse_value(d, s).expect("Kafka's defaults parse"))
    }

    fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(Value::Int(n)) => Some(n),
            _ => None,
        }
    }

    fn int_or_default(&self, name: &str) -> i64 {
        self.int(name).expect("a key with a numeric default")
    }

    fn string(&self, name: &str) -> Option<String> {
        match self.get(name) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn list(&self, name: &str) -> Option<Vec<String>> {
        match self.get(name) {
            Some(Value::List(l)) => Some(l),
            _ => None,
        }
    }

    fn bool(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Bool(true)))
    }

    fn build(&self) -> Result<BrokerConfig, BrokerConfigError> {
        let node_id = match (self.int("node.id"), self.int_or_default("broker.id")) {
            (Some(n), b) if b >= 0 && b != n => {
                return Err(invalid(
                    "broker.id",
                    &self.raw("broker.id"),
                    format!("must equal node.id ({n}) when both are set"),
                ))
            }
            (Some(n), _) => n as i32,
            (None, b) if b >= 0 => b as i32,
            (None, _) => 1,
        };
        if let Some(roles) = self.list("process.roles") {
            if !roles.iter().any(|r| r == "broker") {
                return Err(unsupported(
                    "process.roles",
                    &self.raw("process.roles"),
                    "this node is always a broker: the roles must include broker",
                ));
            }
        }
        let protocols = self.protocol_map()?;
        let controller = self.list("controller.listener.names").unwrap_or_default();
        let controller: Vec<String> = controller.iter().map(|s| s.to_ascii_uppercase()).collect();
        let listeners = self.listeners("listeners", &protocols, &controller)?;
        if listeners.is_empty() {
            return Err(invalid(
                "listeners",
                &self.raw("listeners"),
                "at least one broker (non-controller) listener is needed",
            ));
        }
        let advertised = match self.given("advertised.listeners") {
            Some(_) => self.listeners("advertised.listeners", &protocols, &controller)?,
            None => listeners.clone(),
        };
        let dirs = match self.list("log.dirs") {
            Some(d) => ("log.dirs", d),
            None => ("log.dir", self.list("log.dir").unwrap_or_default()),
        };
        let log_dir = match dirs.1.as_slice() {
            [one] if !one.is_empty() => one.clone(),
            [] => {
                return Err(invalid(
                    dirs.0,
                    &self.raw(dirs.0),
                    "at least one directory is needed",
                ))
            }
            _ => {
                return Err(unsupported(
                    dirs.0,
                    &self.raw(dirs.0),
                    "one log directory only (several, JBOD, is not supported)",
                ))
            }
        };
        let rf = self.int_or_default("default.replication.factor");
        if rf != 1 {
            return Err(unsupported(
                "default.replication.factor",
                &self.raw("default.replication.factor"),
                "this broker is a single node: the replication factor is 1",
            ));
        }
        if self
            .list("log.cleanup.policy")
            .is_some_and(|p| p.iter().any(|p| p == "compact"))
        {
            return Err(unsupported(
                "log.cleanup.policy",
                &self.raw("log.cleanup.policy"),
                "log compaction is not implemented: delete only",
            ));
        }
        let log = self.log_config()?;
        Ok(BrokerConfig {
            node_id,
            listeners,
            advertised_listeners: advertised,
            log_dir,
            num_partitions: self.int_or_default("num.partitions") as i32,
            default_replication_factor: 1,
            auto_create_topics_enable: self.bool("auto.create.topics.enable"),
            socket_request_max_bytes: self.int_or_default("socket.request.max.bytes") as i32,
            connections_max_idle_ms: self.int_or_default("connections.max.idle.ms"),
            log_retention_check_interval_ms: self.int_or_default("log.retention.check.interval.ms"),
            fetch_max_bytes: self.int_or_default("fetch.max.bytes") as i32,
            log_flush_offset_checkpoint_interval_ms: self
                .int_or_default("log.flush.offset.checkpoint.interval.ms")
                as i32,
            log_flush_start_offset_checkpoint_interval_ms: self
                .int_or_default("log.flush.start.offset.checkpoint.interval.ms")
                as i32,
            producer_id_expiration_check_interval_ms: self
                .int_or_default("producer.id.expiration.check.interval.ms")
                as i32,
            compression_type: self.string("compression.type").unwrap_or_default(),
            compression_levels: (
                self.int_or_default("compression.gzip.level") as i32,
                self.int_or_default("compression.lz4.level") as i32,
                self.int_or_default("compression.zstd.level") as i32,
            ),
            log,
            supplied: self
                .values
                .iter()
                .map(|(name, _, raw)| ((*name).to_owned(), raw.trim().to_owned()))
                .collect(),
        })
    }

    /// `listener.security.protocol.map`: `NAME:PROTOCOL,...`.
    fn protocol_map(&self) -> Result<Vec<(String, String)>, BrokerConfigError> {
        let raw = self
            .string("listener.security.protocol.map")
            .unwrap_or_default();
        let mut map = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let Some((name, proto)) = entry.split_once(':') else {
                return Err(invalid(
                    "listener.security.protocol.map",
                    &raw,
                    format!("'{entry}' is not NAME:PROTOCOL"),
                ));
            };
            let proto = proto.trim().to_ascii_uppercase();
            if !["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].contains(&proto.as_str()) {
                return Err(invalid(
                    "listener.security.protocol.map",
                    &raw,
                    format!("unknown security protocol {proto}"),
                ));
            }
            map.push((name.trim().to_ascii_uppercase(), proto));
        }
        Ok(map)
    }

    /// Kafka's `listenerListToEndPoints`: `NAME://host:port` with `^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)`.
    fn listeners(
        &self,
        key: &str,
        protocols: &[(String, String)],
        controller: &[String],
    ) -> Result<Vec<Listener>, BrokerConfigError> {
        let raw = self.raw(key);
        let mut out = Vec::new();
        for entry in self.list(key).unwrap_or_default() {
            let bad = || {
                invalid(
                    key,
                    &raw,
                    format!("Unable to parse {entry} to a broker endpoint"),
                )
            };
            let (name, rest) = entry.split_once("://").ok_or_else(bad)?;
            let (host, port) = rest.rsplit_once(':').ok_or_else(bad)?;
            let host = host.strip_prefix('[').unwrap_or(host);
            let host = host.strip_suffix(']').unwrap_or(host);
            let host_ok = host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-%._:".contains(c));
            if !host_ok || port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let port: u16 = port.parse().map_err(|_| {
                invalid(
                    key,
                    &raw,
                    format!("port {port} of {entry} is not in 0..=65535"),
                )
            })?;
            let name = name.to_ascii_uppercase();
            if controller.contains(&name) {
                continue;
            }
            let proto = protocols
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, p)| p.as_str())
                .ok_or_else(|| {
                    invalid(
                        key,
                        &raw,
                        format!("No security protocol defined for listener {name}"),
                    )
                })?;
            if proto != "PLAINTEXT" {
                return Err(unsupported(
                    key,
                    &raw,
                    format!("listener {name} uses {proto}; this broker serves PLAINTEXT only"),
                ));
            }
            if out.iter().any(|l: &Listener| l.name == name) {
                return Err(invalid(
                    key,
                    &raw,
                    format!("Each listener must have a different name, {name} is repeated"),
                ));
            }
            out.push(Listener {
                name,
                host: (!host.is_empty()).then(|| host.to_string()),
                port,
            });
        }
        Ok(out)
    }

    /// The topic defaults, with Kafka's precedence (`KafkaConfig.logRetentionTimeMillis`,
    /// `logRollTimeMillis`, `logRollTimeJitterMillis`, `logFlushIntervalMs`).
    fn log_config(&self) -> Result<LogConfig, BrokerConfigError> {
        const MINUTE: i64 = 60_000;
        const HOUR: i64 = 60 * MINUTE;
        let retention_ms = match (
            self.int("log.retention.ms"),
            self.int("log.retention.minutes"),
        ) {
            (Some(ms), _) => ms,
            (None, Some(min)) => min * MINUTE,
            (None, None) => self.int_or_default("log.retention.hours") * HOUR,
        };
        let segment_ms = self
            .int("log.roll.ms")
            .unwrap_or_else(|| self.int_or_default("log.roll.hours") * HOUR);
        let segment_jitter_ms = self
            .int("log.roll.jitter.ms")
            .unwrap_or_else(|| self.int_or_default("log.roll.jitter.hours") * HOUR);
        let flush_ms = self
            .int("log.flush.interval.ms")
            .unwrap_or_else(|| self.int_or_default("log.flush.scheduler.interval.ms"));
        let timestamp_type = match self.string("log.message.timestamp.type").as_deref() {
            Some("LogAppendTime") => TimestampType::LogAppendTime,
            _ => TimestampType::CreateTime,
        };
        // A field LogConfig gains later (and no broker key sets) keeps Kafka's default.
        #[allow(clippy::needless_update)]
        let log = LogConfig {
            segment_bytes: self.int_or_default("log.segment.bytes") as u32,
            segment_ms,
            segment_jitter_ms,
            segment_index_bytes: self.int_or_default("log.index.size.max.bytes") as u32,
            index_interval_bytes: self.int_or_default("log.index.interval.bytes") as u32,
            retention_ms: if retention_ms < 0 { -1 } else { retention_ms },
            retention_bytes: self.int_or_default("log.retention.bytes"),
            flush_messages: self.int_or_default("log.flush.interval.messages"),
            flush_ms,
            max_message_bytes: self.int_or_default("message.max.bytes") as u32,
            message_timestamp_type: timestamp_type,
            producer_id_expiration_ms: self.int_or_default("producer.id.expiration.ms"),
            // validated against Kafka's names above
            compression_type: self
                .string("compression.type")
                .and_then(|v| TopicCompression::from_name(&v))
                .unwrap_or_default(),
            ..LogConfig::default()
        };
        log.validate().map_err(|e| match e {
            crate::config::ConfigError::OutOfRange {
                name,
                value,
                expected,
            } => {
                let key = broker_key_of(name);
                invalid(key, &value.to_string(), expected)
            }
        })?;
        Ok(log)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn parse(
        pairs: &[(&str, &str)],
    ) -> Result<(BrokerConfig, Vec<ConfigWarning>), BrokerConfigError> {
        BrokerConfig::from_pairs(pairs.iter().copied())
    }

    fn err(pairs: &[(&str, &str)]) -> BrokerConfigError {
        parse(pairs).expect_err("must be refused")
    }

    fn listener(name: &str, host: Option<&str>, port: u16) -> Listener {
        Listener {
            name: name.into(),
            host: host.map(Into::into),
            port,
        }
    }

    #[test]
    fn defaults_are_kafka_4_4_0s() {
        let c = BrokerConfig::default();
        assert_eq!(c.node_id, 1);
        assert_eq!(c.listeners, vec![listener("PLAINTEXT", None, 9092)]);
        assert_eq!(c.advertised_listeners, c.listeners);
        assert_eq!(c.log_dir, "/tmp/kafka-logs");
        assert_eq!(c.num_partitions, 1);
        assert!(c.auto_create_topics_enable);
        assert_eq!(c.socket_request_max_bytes, 104_857_600);
        assert_eq!(c.connections_max_idle_ms, 600_000);
        assert_eq!(c.log_retention_check_interval_ms, 300_000);
        assert_eq!(c.compression_type, "producer");
        assert_eq!(c.compression_levels, (-1, 9, 3));
        // The topic defaults a broker with no overrides gives: Kafka's LogConfig defaults.
        assert_eq!(c.log, LogConfig::default());
    }

    /// Kafka 4.4.0's own `config/server.properties` (the combined KRaft node of the quick
    /// start), as a user copies it: every key loads, the controller listener is not served.
    #[test]
    fn kafkas_quickstart_server_properties_load() {
        let text = "process.roles=broker,controller\n\
            node.id=1\n\
            controller.quorum.bootstrap.servers=localhost:9093\n\
            listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n\
            inter.broker.listener.name=PLAINTEXT\n\
            advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093\n\
            controller.listener.names=CONTROLLER\n\
            listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL\n\
            num.network.threads=3\n\
            num.io.threads=8\n\
            socket.send.buffer.bytes=102400\n\
            socket.receive.buffer.bytes=102400\n\
            socket.request.max.bytes=104857600\n\
            log.dirs=/tmp/kraft-combined-logs\n\
            num.partitions=1\n\
            num.recovery.threads.per.data.dir=1\n\
            offsets.topic.replication.factor=1\n\
            share.coordinator.state.topic.replication.factor=1\n\
            share.coordinator.state.topic.min.isr=1\n\
            transaction.state.log.replication.factor=1\n\
            transaction.state.log.min.isr=1\n\
            log.retention.hours=168\n\
            log.segment.bytes=1073741824\n\
            log.retention.check.interval.ms=300000\n";
        let pairs: Vec<(&str, &str)> = text
            .lines()
            .map(|l| l.split_once('=').expect("key=value"))
            .collect();
        let (c, warnings) = parse(&pairs).unwrap();
        assert_eq!(c.node_id, 1);
        assert_eq!(c.listeners, vec![listener("PLAINTEXT", None, 9092)]);
        assert_eq!(
            c.advertised_listeners,
            vec![listener("PLAINTEXT", Some("localhost"), 9092)]
        );
        assert_eq!(c.log_dir, "/tmp/kraft-combined-logs");
        assert_eq!(c.log.retention_ms, 168 * 3_600_000);
        // Known Kafka keys the broker does not act on are warnings, none is "unknown".
        assert!(warnings
            .iter()
            .all(|w| matches!(w, ConfigWarning::NotUsed { .. })));
        let names: Vec<String> = warnings
            .iter()
            .map(|w| match w {
                ConfigWarning::NotUsed { name } | ConfigWarning::Unknown { name } => name.clone(),
            })
            .collect();
        assert!(names.contains(&"num.io.threads".to_string()), "{names:?}");
        assert!(names.contains(&"controller.quorum.bootstrap.servers".to_string()));
        assert_eq!(names.len(), 12, "{names:?}");
    }

    #[test]
    fn kafkas_precedence_rules() {
        let (c, _) = parse(&[
            ("log.retention.hours", "1"),
            ("log.retention.minutes", "3"),
            ("log.retention.ms", "1234"),
        ])
        .unwrap();
        assert_eq!(c.log.retention_ms, 1234);
        let (c, _) =
            parse(&[("log.retention.hours", "1"), ("log.retention.minutes", "3")]).unwrap();
        assert_eq!(c.log.retention_ms, 180_000);
        let (c, _) = parse(&[("log.retention.hours", "2")]).unwrap();
        assert_eq!(c.log.retention_ms, 7_200_000);
        // Any negative retention is "forever", as KafkaConfig.logRetentionTimeMillis says.
        let (c, _) = parse(&[("log.retention.ms", "-5")]).unwrap();
        assert_eq!(c.log.retention_ms, -1);
        let (c, _) = parse(&[("log.roll.hours", "2"), ("log.roll.jitter.hours", "1")]).unwrap();
        assert_eq!(
            (c.log.segment_ms, c.log.segment_jitter_ms),
            (7_200_000, 3_600_000)
        );
        let (c, _) = parse(&[("log.roll.hours", "2"), ("log.roll.ms", "99")]).unwrap();
        assert_eq!(c.log.segment_ms, 99);
        let (c, _) = parse(&[("log.flush.scheduler.interval.ms", "700")]).unwrap();
        assert_eq!(c.log.flush_ms, 700);
        let (c, _) = parse(&[
            ("log.flush.scheduler.interval.ms", "700"),
            ("log.flush.interval.ms", "5"),
        ])
        .unwrap();
        assert_eq!(c.log.flush_ms, 5);
        let (c, _) = parse(&[("log.dir", "/a"), ("log.dirs", "/b")]).unwrap();
        assert_eq!(c.log_dir, "/b");
        let (c, _) = parse(&[("log.dir", "/a")]).unwrap();
        assert_eq!(c.log_dir, "/a");
        let (c, _) = parse(&[("broker.id", "7")]).unwrap();
        assert_eq!(c.node_id, 7);
        // A later pair for the same key wins: the file, then --override.
        let (c, _) = parse(&[("num.partitions", "3"), ("num.partitions", "12")]).unwrap();
        assert_eq!(c.num_partitions, 12);
        // Values are trimmed and booleans case-insensitive, as ConfigDef.parseType.
        let (c, _) = parse(&[
            ("auto.create.topics.enable", " FALSE "),
            ("message.max.bytes", " 2000000 "),
        ])
        .unwrap();
        assert!(!c.auto_create_topics_enable);
        assert_eq!(c.log.max_message_bytes, 2_000_000);
        let (c, _) = parse(&[
            ("log.segment.bytes", "1048576"),
            ("log.index.interval.bytes", "100"),
            ("log.index.size.max.bytes", "4096"),
            ("log.flush.interval.messages", "1"),
            ("log.message.timestamp.type", "LogAppendTime"),
            ("log.retention.bytes", "5000000"),
            ("producer.id.expiration.ms", "1000"),
        ])
        .unwrap();
        assert_eq!(c.log.segment_bytes, 1_048_576);
        assert_eq!(c.log.index_interval_bytes, 100);
        assert_eq!(c.log.segment_index_bytes, 4096);
        assert_eq!(c.log.flush_messages, 1);
        assert_eq!(c.log.message_timestamp_type, TimestampType::LogAppendTime);
        assert_eq!(c.log.retention_bytes, 5_000_000);
        assert_eq!(c.log.producer_id_expiration_ms, 1000);
    }

    #[test]
    fn listeners_parse_as_kafka_does() {
        let (c, _) = parse(&[
            (
                "listeners",
                "PLAINTEXT://127.0.0.1:0, INTERNAL://[::1]:19092",
            ),
            (
                "listener.security.protocol.map",
                "PLAINTEXT:PLAINTEXT,internal:plaintext",
            ),
            (
                "advertised.listeners",
                "PLAINTEXT://kafka-1.example:9092,INTERNAL://[fe80::1%eth0]:19092",
            ),
        ])
        .unwrap();
        assert_eq!(
            c.listeners,
            vec![
                listener("PLAINTEXT", Some("127.0.0.1"), 0),
                listener("INTERNAL", Some("::1"), 19092)
            ]
        );
        assert_eq!(
            c.advertised_listeners[1].to_string(),
            "INTERNAL://[fe80::1%eth0]:19092"
        );
        assert_eq!(
            c.advertised_listeners[0].to_string(),
            "PLAINTEXT://kafka-1.example:9092"
        );
        let bad = |v: &str| match err(&[("listeners", v)]) {
            BrokerConfigError::InvalidValue { name, reason, .. } => {
                assert_eq!(name, "listeners");
                reason
            }
            e => panic!("{e}"),
        };
        assert!(bad("localhost:9092").contains("Unable to parse localhost:9092"));
        assert!(bad("PLAINTEXT://host:port").contains("Unable to parse"));
        assert!(bad("PLAINTEXT://h o s t:9092").contains("Unable to parse"));
        assert!(bad("PLAINTEXT://:70000").contains("not in 0..=65535"));
        assert!(bad("CLIENT://:9092").contains("No security protocol defined for listener CLIENT"));
        assert!(bad("PLAINTEXT://:1,PLAINTEXT://:2").contains("PLAINTEXT is repeated"));
        assert!(bad("").contains("at least one broker"));
        let e = err(&[("listeners", "SSL://:9093")]);
        assert!(
            matches!(&e, BrokerConfigError::Unsupported { name, .. } if name == "listeners"),
            "{e}"
        );
        assert!(e.to_string().contains("PLAINTEXT only"), "{e}");
    }

    #[test]
    fn bad_values_name_the_key_in_kafkas_words() {
        let e = err(&[("num.partitions", "0")]);
        assert_eq!(
            e.to_string(),
            "Invalid value 0 for configuration num.partitions: Value must be at least 1"
        );
        let e = err(&[("num.partitions", "many")]);
        assert_eq!(
            e.to_string(),
            "Invalid value many for configuration num.partitions: Expected value to be a 32-bit integer"
        );
        let e = err(&[("auto.create.topics.enable", "yes")]);
        assert_eq!(
            e.to_string(),
            "Invalid value yes for configuration auto.create.topics.enable: Expected value to be either true or false"
        );
        let e = err(&[("log.segment.bytes", "1000")]);
        assert!(
            e.to_string()
                .contains("log.segment.bytes: Value must be at least 1048576"),
            "{e}"
        );
        let e = err(&[("message.max.bytes", "3000000000")]);
        assert!(e.to_string().contains("32-bit integer"), "{e}");
        let e = err(&[("compression.zstd.level", "23")]);
        assert!(
            e.to_string().ends_with("Value must be no more than 22"),
            "{e}"
        );
        let e = err(&[("compression.gzip.level", "0")]);
        assert!(
            e.to_string().ends_with("Value must be in [1,...,9] or -1"),
            "{e}"
        );
        assert!(parse(&[("compression.gzip.level", "-1")]).is_ok());
        let e = err(&[("compression.type", "brotli")]);
        assert!(
            e.to_string()
                .contains("String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"),
            "{e}"
        );
        let e = err(&[("log.message.timestamp.type", "createtime")]);
        assert!(e.to_string().contains("log.message.timestamp.type"), "{e}");
        let e = err(&[("process.roles", "broker,observer")]);
        assert!(e.to_string().contains("Invalid value observer"), "{e}");
        let e = err(&[("process.roles", "controller")]);
        assert!(matches!(e, BrokerConfigError::Unsupported { .. }), "{e}");
        let e = err(&[("default.replication.factor", "3")]);
        assert!(e.to_string().contains("replication factor is 1"), "{e}");
        let e = err(&[("log.dirs", "/a,/b")]);
        assert!(e.to_string().contains("JBOD"), "{e}");
        let e = err(&[("log.cleanup.policy", "compact,delete")]);
        assert!(e.to_string().contains("compaction"), "{e}");
        let e = err(&[("node.id", "1"), ("broker.id", "2")]);
        assert!(e.to_string().contains("must equal node.id"), "{e}");
        // A LogConfig check behind the broker keys names the broker key.
        let e = err(&[("log.index.size.max.bytes", "12")]);
        assert!(
            e.to_string()
                .contains("configuration log.index.size.max.bytes"),
            "{e}"
        );
    }

    #[test]
    fn unknown_and_unused_keys_are_warnings() {
        let (_, w) = parse(&[
            ("num.partitons", "3"),
            ("log.cleaner.threads", "4"),
            ("num.partitions", "2"),
        ])
        .unwrap();
        assert_eq!(
            w,
            vec![
                ConfigWarning::Unknown {
                    name: "num.partitons".into()
                },
                ConfigWarning::NotUsed {
                    name: "log.cleaner.threads".into()
                },
            ]
        );
        assert_eq!(
            w[0].to_string(),
            "The configuration 'num.partitons' was supplied but isn't a known config."
        );
    }

    #[test]
    fn tables_are_sorted_and_consistent() {
        assert!(KAFKA_BROKER_CONFIG_NAMES.windows(2).all(|w| w[0] < w[1]));
        assert!(BROKER_CONFIGS.windows(2).all(|w| w[0].name < w[1].name));
        for d in BROKER_CONFIGS {
            assert!(
                KAFKA_BROKER_CONFIG_NAMES.binary_search(&d.name).is_ok(),
                "{} is not Kafka's",
                d.name
            );
            if let Some(s) = d.default {
                parse_value(d, s).unwrap_or_else(|e| panic!("default of {}: {e}", d.name));
            }
        }
    }
}
