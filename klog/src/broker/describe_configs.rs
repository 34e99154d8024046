//! DescribeConfigs (key 32, v1–v4), as Kafka 4.4.0's `ConfigHelper.describeConfigs` answers
//! it on a broker.
//!
//! - TOPIC: the name is checked as `Topic.validate` does (INVALID_TOPIC_EXCEPTION); an unknown
//!   topic is UNKNOWN_TOPIC_OR_PARTITION with no message; otherwise every topic config with
//!   its value in force and source ([`super::TopicConfigs::describe`]).
//! - BROKER named by this node's id: every config of [`BROKER_CONFIGS`] with its value, source
//!   (`STATIC_BROKER_CONFIG` when supplied, else `DEFAULT_CONFIG`) and synonyms as Kafka's
//!   `configSynonyms` lists them (`log.retention.ms`, `.minutes`, `.hours` are synonyms of each
//!   other, and so on). BROKER named `""` is the cluster's dynamic defaults, which Kafka lists
//!   from its dynamic config and this broker has none of: an empty list. Another id is
//!   INVALID_REQUEST ("Unexpected broker id, expected 1 or empty string, but received 2"), a
//!   name that is not a number INVALID_REQUEST ("Broker id must be an integer, ...").
//! - `configuration_keys` null or empty means every config; `include_synonyms` adds the
//!   synonyms; `include_documentation` (v3+) Kafka's documentation of each config; from v3
//!   each config carries its type.
//!
//! Deviations: the broker describes the configs it acts on ([`BROKER_CONFIGS`]), not the
//! hundreds a Kafka broker lists; every broker config is read-only here (this broker has no
//! dynamic broker configs, see `alter_configs`), where Kafka marks the dynamic ones
//! writable. BROKER_LOGGER, CLIENT_METRICS and GROUP resources are answered INVALID_REQUEST
//! (no log4j loggers, client metrics subscriptions or group configs here).
//!
//! A resource type Kafka does not define fails the whole request, as in Kafka: every
//! resource is answered INVALID_REQUEST with the default message.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kproto::messages::describe_configs::request::DescribeConfigsResource;
use kproto::messages::describe_configs::response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kproto::messages::{DescribeConfigsRequest, DescribeConfigsResponse};
use kproto::{ApiKey, ErrorCode, KStr};

use super::config::{parse_value, ConfigDef, ConfigType, Value, BROKER_CONFIGS};
use super::config_docs::{doc, BROKER_DOCS, TOPIC_DOCS};
use super::core::Broker;
use super::topic_config::{ConfigSource, TOPIC_CONFIGS};
use super::topics::validate_name;
use crate::storage::Storage;

/// `ConfigResource.Type` TOPIC.
pub(crate) const RESOURCE_TOPIC: i8 = 2;
/// `ConfigResource.Type` BROKER.
pub(crate) const RESOURCE_BROKER: i8 = 4;
/// `ConfigResource.Type` BROKER_LOGGER.
pub(crate) const RESOURCE_BROKER_LOGGER: i8 = 8;
/// `ConfigResource.Type` CLIENT_METRICS.
pub(crate) const RESOURCE_CLIENT_METRICS: i8 = 16;
/// `ConfigResource.Type` GROUP.
pub(crate) const RESOURCE_GROUP: i8 = 32;

/// Kafka's name of a resource type (`ConfigResource.Type`), for messages.
pub(crate) fn resource_type_name(t: i8) -> &'static str {
    match t {
        RESOURCE_TOPIC => "TOPIC",
        RESOURCE_BROKER => "BROKER",
        RESOURCE_BROKER_LOGGER => "BROKER_LOGGER",
        RESOURCE_CLIENT_METRICS => "CLIENT_METRICS",
        RESOURCE_GROUP => "GROUP",
        _ => "UNKNOWN",
    }
}

/// DescribeConfigs' `ConfigType` of a config type (`DescribeConfigsResponse.ConfigType`).
pub(crate) fn config_type_id(t: ConfigType) -> i8 {
    match t {
        ConfigType::Boolean => 1,
        ConfigType::String => 2,
        ConfigType::Int => 3,
        ConfigType::Short => 4,
        ConfigType::Long => 5,
        ConfigType::Double => 6,
        ConfigType::List => 7,
    }
}

/// A resource refused, with Kafka's code and message (`None`: no message).
type Refusal = (ErrorCode, Option<String>);

/// Kafka's `DynamicBrokerConfig.brokerConfigSynonyms` of a broker key (listener overrides
/// aside): the keys that set the same thing, in precedence order.
pub(crate) fn broker_synonyms(name: &str) -> Vec<&str> {
    match name {
        "log.roll.ms" | "log.roll.hours" => alloc::vec!["log.roll.ms", "log.roll.hours"],
        "log.roll.jitter.ms" | "log.roll.jitter.hours" => {
            alloc::vec!["log.roll.jitter.ms", "log.roll.jitter.hours"]
        }
        "log.flush.interval.ms" => {
            alloc::vec!["log.flush.interval.ms", "log.flush.scheduler.interval.ms"]
        }
        "log.retention.ms" | "log.retention.minutes" | "log.retention.hours" => alloc::vec![
            "log.retention.ms",
            "log.retention.minutes",
            "log.retention.hours"
        ],
        other => alloc::vec![other],
    }
}

/// Kafka's `ConfigDef.convertToString` of a parsed value.
fn render(v: &Value) -> String {
    match v {
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Str(s) => s.clone(),
        Value::List(l) => l.join(","),
    }
}

/// A broker key's value as Kafka prints it: the supplied value, parsed and printed again
/// (`" TRUE "` is `true`), else Kafka's default.
fn broker_value(d: &ConfigDef, supplied: Option<&str>) -> Option<String> {
    match supplied {
        Some(raw) => Some(
            parse_value(d, raw)
                .map(|v| render(&v))
                .unwrap_or_else(|_| raw.trim().to_owned()),
        ),
        None => d.default.map(str::to_owned),
    }
}

fn broker_def(name: &str) -> Option<&'static ConfigDef> {
    BROKER_CONFIGS.iter().find(|d| d.name == name)
}

impl<S: Storage + Clone> Broker<S> {
    /// DescribeConfigs: one result per resource, in request order.
    pub(crate) fn handle_describe_configs(
        &mut self,
        req: &DescribeConfigsRequest,
        version: i16,
    ) -> DescribeConfigsResponse {
        let known = [
            RESOURCE_TOPIC,
            RESOURCE_BROKER,
            RESOURCE_BROKER_LOGGER,
            RESOURCE_CLIENT_METRICS,
            RESOURCE_GROUP,
        ];
        if req
            .resources
            .iter()
            .any(|r| !known.contains(&r.resource_type))
        {
            // Kafka's authorization step throws for the whole request ("Unexpected resource
            // type"): every resource gets INVALID_REQUEST with the default message
            return self.describe_configs_failed(req, ErrorCode::InvalidRequest);
        }
        let mut results = Vec::with_capacity(req.resources.len());
        for r in &req.resources {
            let include_docs = version >= 3 && req.include_documentation;
            let outcome = match r.resource_type {
                RESOURCE_TOPIC => {
                    self.describe_topic(r, req.include_synonyms, include_docs, version)
                }
                RESOURCE_BROKER => {
                    self.describe_broker(r, req.include_synonyms, include_docs, version)
                }
                t @ (RESOURCE_BROKER_LOGGER | RESOURCE_CLIENT_METRICS | RESOURCE_GROUP) => Err((
                    ErrorCode::InvalidRequest,
                    Some(format!(
                        "Unsupported resource type: {} (not kept by this broker)",
                        resource_type_name(t)
                    )),
                )),
                t => Err((
                    ErrorCode::InvalidRequest,
                    Some(format!(
                        "Unsupported resource type: {}",
                        resource_type_name(t)
                    )),
                )),
            };
            let result = match outcome {
                Ok(configs) => DescribeConfigsResult {
                    error_code: ErrorCode::None.code(),
                    error_message: None,
                    resource_type: r.resource_type,
                    resource_name: r.resource_name.clone(),
                    configs,
                    ..DescribeConfigsResult::default()
                },
                Err((code, message)) => {
                    self.metrics.error(ApiKey::DescribeConfigs.key(), code);
                    DescribeConfigsResult {
                        error_code: code.code(),
                        error_message: message.map(KStr::from),
                        resource_type: r.resource_type,
                        resource_name: r.resource_name.clone(),
                        configs: Vec::new(),
                        ..DescribeConfigsResult::default()
                    }
                }
            };
            results.push(result);
        }
        DescribeConfigsResponse {
            results,
            ..DescribeConfigsResponse::default()
        }
    }

    /// The answer when the whole request fails (`DescribeConfigsRequest.getErrorResponse`).
    fn describe_configs_failed(
        &mut self,
        req: &DescribeConfigsRequest,
        code: ErrorCode,
    ) -> DescribeConfigsResponse {
        let results = req
            .resources
            .iter()
            .map(|r| {
                self.metrics.error(ApiKey::DescribeConfigs.key(), code);
                DescribeConfigsResult {
                    error_code: code.code(),
                    error_message: Some(KStr::from(code.message())),
                    resource_type: r.resource_type,
                    resource_name: r.resource_name.clone(),
                    configs: Vec::new(),
                    ..DescribeConfigsResult::default()
                }
            })
            .collect();
        DescribeConfigsResponse {
            results,
            ..DescribeConfigsResponse::default()
        }
    }

    fn describe_topic(
        &self,
        r: &DescribeConfigsResource,
        include_synonyms: bool,
        include_docs: bool,
        version: i16,
    ) -> Result<Vec<DescribeConfigsResourceResult>, Refusal> {
        let name = r.resource_name.as_str();
        validate_name(name).map_err(|e| (e.code, Some(e.message)))?;
        let Some(t) = self.meta.topics.get(name) else {
            return Err((ErrorCode::UnknownTopicOrPartition, None));
        };
        let keys = wanted(r);
        let mut out = Vec::new();
        for d in t.configs.describe(&self.config) {
            if !keys.as_ref().is_none_or(|k| k.contains(&d.name)) {
                continue;
            }
            let synonyms = if include_synonyms {
                d.synonyms
                    .iter()
                    .map(|(n, v, s)| synonym(n, v.as_deref(), *s))
                    .collect()
            } else {
                Vec::new()
            };
            out.push(DescribeConfigsResourceResult {
                name: KStr::from(d.name),
                value: d.value.map(KStr::from),
                read_only: false,
                config_source: d.source.code(),
                is_sensitive: false,
                synonyms,
                config_type: if version >= 3 {
                    config_type_id(d.kind)
                } else {
                    0
                },
                documentation: include_docs
                    .then(|| doc(TOPIC_DOCS, d.name).map(KStr::from))
                    .flatten(),
                ..DescribeConfigsResourceResult::default()
            });
        }
        Ok(out)
    }

    fn describe_broker(
        &self,
        r: &DescribeConfigsResource,
        include_synonyms: bool,
        include_docs: bool,
        version: i16,
    ) -> Result<Vec<DescribeConfigsResourceResult>, Refusal> {
        let name = r.resource_name.as_str();
        if name.is_empty() {
            // the cluster-wide dynamic defaults: none on this broker
            return Ok(Vec::new());
        }
        let id: i32 = name.parse().map_err(|_| {
            (
                ErrorCode::InvalidRequest,
                Some(format!("Broker id must be an integer, but it is: {name}")),
            )
        })?;
        if id != self.config.node_id {
            return Err((
                ErrorCode::InvalidRequest,
                Some(format!(
                    "Unexpected broker id, expected {} or empty string, but received {name}",
                    self.config.node_id
                )),
            ));
        }
        let keys = wanted(r);
        let supplied = |k: &str| {
            self.config
                .supplied
                .iter()
                .find(|(s, _)| s == k)
                .map(|(_, v)| v.as_str())
        };
        let mut out = Vec::new();
        for d in BROKER_CONFIGS {
            if !keys.as_ref().is_none_or(|k| k.contains(&d.name)) {
                continue;
            }
            // Kafka's configSynonyms: the supplied synonyms, then those with a default, from
            // the first entry naming this key on
            let names = broker_synonyms(d.name);
            let mut all: Vec<(&str, Option<String>, ConfigSource)> = Vec::new();
            for n in &names {
                if let (Some(v), Some(sd)) = (supplied(n), broker_def(n)) {
                    all.push((
                        n,
                        broker_value(sd, Some(v)),
                        ConfigSource::StaticBrokerConfig,
                    ));
                }
            }
            for n in &names {
                if let Some(sd) = broker_def(n).filter(|sd| sd.default.is_some()) {
                    all.push((n, broker_value(sd, None), ConfigSource::DefaultConfig));
                }
            }
            let from = all
                .iter()
                .position(|(n, ..)| *n == d.name)
                .unwrap_or(all.len());
            let all = &all[from..];
            let source = all
                .first()
                .map_or(ConfigSource::DefaultConfig, |(_, _, s)| *s);
            let synonyms = if include_synonyms {
                all.iter()
                    .map(|(n, v, s)| synonym(n, v.as_deref(), *s))
                    .collect()
            } else {
                Vec::new()
            };
            out.push(DescribeConfigsResourceResult {
                name: KStr::from(d.name),
                value: broker_value(d, supplied(d.name)).map(KStr::from),
                read_only: true,
                config_source: source.code(),
                is_sensitive: false,
                synonyms,
                config_type: if version >= 3 {
                    config_type_id(d.kind)
                } else {
                    0
                },
                documentation: include_docs
                    .then(|| doc(BROKER_DOCS, d.name).map(KStr::from))
                    .flatten(),
                ..DescribeConfigsResourceResult::default()
            });
        }
        Ok(out)
    }
}

/// The keys asked for; `None` (null or empty) is every key.
fn wanted(r: &DescribeConfigsResource) -> Option<Vec<&str>> {
    r.configuration_keys
        .as_ref()
        .filter(|k| !k.is_empty())
        .map(|k| k.iter().map(|s| s.as_str()).collect())
}

fn synonym(name: &str, value: Option<&str>, source: ConfigSource) -> DescribeConfigsSynonym {
    DescribeConfigsSynonym {
        name: KStr::from(name),
        value: value.map(KStr::from),
        source: source.code(),
        ..DescribeConfigsSynonym::default()
    }
}

/// Whether `name` is a topic config Kafka knows (for the alter APIs' LIST checks).
pub(crate) fn topic_def(name: &str) -> Option<&'static super::topic_config::TopicConfigDef> {
    TOPIC_CONFIGS.iter().find(|t| t.def.name == name)
}
