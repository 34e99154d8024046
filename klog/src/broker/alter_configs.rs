//! IncrementalAlterConfigs (key 44, v0–v1) and AlterConfigs (key 33, v0–v2), as Kafka 4.4.0
//! answers them on a broker that forwards to its controller: the broker's preprocessing
//! (`ConfigAdminManager.preprocess`) and then the controller's
//! (`ConfigurationControlManager.incrementalAlterConfigs` / `legacyAlterConfigs`, with
//! `ControllerConfigurationValidator` and the topic existence check).
//!
//! For every resource, in Kafka's order: a resource named twice is INVALID_REQUEST ("Each
//! resource must appear at most once."), a key named twice INVALID_REQUEST ("Error due to
//! duplicate config keys"), a null value (other than for DELETE) INVALID_REQUEST ("Null value
//! not supported for : k").
//!
//! TOPIC: the name `""` is INVALID_REQUEST ("Default topic resources are not allowed."), a
//! bad name INVALID_TOPIC_EXCEPTION. IncrementalAlterConfigs applies SET, DELETE, APPEND and
//! SUBTRACT (the last two only to LIST configs: "Can't APPEND to key k because its type is not
//! LIST.", over the default when the topic does not override it) to the topic's overrides;
//! AlterConfigs replaces the whole override set. The result is checked as Kafka's
//! `LogConfig.validate` does (INVALID_CONFIG with Kafka's message, "Unknown topic config
//! name: k" for a key Kafka does not know) before the topic's existence
//! (UNKNOWN_TOPIC_OR_PARTITION, "The topic 't' does not exist."). Unless `validate_only`, the
//! overrides are written to the cluster metadata file and then given to the topic's logs.
//!
//! BROKER: the name must be `""` or this node's id (INVALID_REQUEST "Node id must be an
//! integer, but it is: x" / "Unexpected broker id, expected 1, but received 2"). Setting a
//! broker config Kafka cannot change at runtime is INVALID_REQUEST "Cannot update these
//! configs dynamically: [k, ...]", Kafka's answer (KAFKA-13609 keeps it INVALID_REQUEST).
//! DELETE of a broker config, or an empty change, succeeds and changes nothing (there is no
//! dynamic value to remove).
//!
//! Deviations: this broker has no dynamic broker configs, so setting one of those Kafka does
//! change at runtime (`log.retention.ms`, `message.max.bytes`, ...) is refused too, with
//! INVALID_REQUEST and a message saying so; BROKER_LOGGER, CLIENT_METRICS and GROUP
//! resources are INVALID_REQUEST (nothing of theirs is kept here); an operation id Kafka does
//! not define on a topic is INVALID_REQUEST "Unknown operations type n" (Kafka's controller
//! fails the request).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kproto::messages::alter_configs::response::AlterConfigsResourceResponse as LegacyResult;
use kproto::messages::incremental_alter_configs::response::AlterConfigsResourceResponse as IncrementalResult;
use kproto::messages::{
    AlterConfigsRequest, AlterConfigsResponse, IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse,
};
use kproto::{ApiKey, ErrorCode, KStr};

use super::config::{ConfigType, BROKER_CONFIGS, KAFKA_BROKER_CONFIG_NAMES};
use super::config_docs::KAFKA_DYNAMIC_BROKER_CONFIGS;
use super::core::Broker;
use super::describe_configs::{
    resource_type_name, topic_def, RESOURCE_BROKER, RESOURCE_BROKER_LOGGER,
    RESOURCE_CLIENT_METRICS, RESOURCE_GROUP, RESOURCE_TOPIC,
};
use super::events::BrokerEvent;
use super::topic_config::TopicConfigs;
use super::topics::validate_name;
use crate::storage::Storage;

/// An operation of IncrementalAlterConfigs (`AlterConfigOp.OpType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OpType {
    Set,
    Delete,
    Append,
    Subtract,
}

impl OpType {
    fn from_id(id: i8) -> Option<Self> {
        match id {
            0 => Some(OpType::Set),
            1 => Some(OpType::Delete),
            2 => Some(OpType::Append),
            3 => Some(OpType::Subtract),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            OpType::Set => "SET",
            OpType::Delete => "DELETE",
            OpType::Append => "APPEND",
            OpType::Subtract => "SUBTRACT",
        }
    }
}

/// One requested change: key, operation id, value.
type Change<'a> = (&'a str, i8, Option<&'a str>);

/// A refusal: Kafka's code and message.
type Refusal = (ErrorCode, Option<String>);

fn invalid_request(m: impl Into<String>) -> Refusal {
    (ErrorCode::InvalidRequest, Some(m.into()))
}

fn invalid_config(m: impl Into<String>) -> Refusal {
    (ErrorCode::InvalidConfig, Some(m.into()))
}

/// Which resource of the request: those named more than once.
fn duplicated<'a>(resources: impl Iterator<Item = (i8, &'a str)>) -> BTreeSet<(i8, &'a str)> {
    let mut seen = BTreeSet::new();
    let mut dup = BTreeSet::new();
    for r in resources {
        if !seen.insert(r) {
            dup.insert(r);
        }
    }
    dup
}

/// The broker preprocessing common to both APIs: duplicate keys, null values.
fn check_changes(changes: &[Change<'_>], incremental: bool) -> Result<(), Refusal> {
    let mut keys = BTreeSet::new();
    if !changes.iter().all(|(k, ..)| keys.insert(*k)) {
        return Err(invalid_request("Error due to duplicate config keys"));
    }
    let nulls: Vec<&str> = changes
        .iter()
        .filter(|(_, op, v)| v.is_none() && !(incremental && *op == 1))
        .map(|(k, ..)| *k)
        .collect();
    if !nulls.is_empty() {
        return Err(invalid_request(format!(
            "Null value not supported for : {}",
            nulls.join(", ")
        )));
    }
    Ok(())
}

/// Kafka's comma split of a list value (`String.split(",")`, empty parts dropped).
fn parts(v: &str) -> Vec<String> {
    v.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

impl<S: Storage + Clone> Broker<S> {
    /// IncrementalAlterConfigs: one answer per resource, in request order.
    pub(crate) fn handle_incremental_alter_configs(
        &mut self,
        req: &IncrementalAlterConfigsRequest,
    ) -> IncrementalAlterConfigsResponse {
        let dup = duplicated(
            req.resources
                .iter()
                .map(|r| (r.resource_type, r.resource_name.as_str())),
        );
        let mut responses = Vec::with_capacity(req.resources.len());
        for r in &req.resources {
            let name = r.resource_name.as_str();
            let changes: Vec<Change<'_>> = r
                .configs
                .iter()
                .map(|c| {
                    (
                        c.name.as_str(),
                        c.config_operation,
                        c.value.as_ref().map(|v| v.as_str()),
                    )
                })
                .collect();
            let outcome = if dup.contains(&(r.resource_type, name)) {
                Err(invalid_request("Each resource must appear at most once."))
            } else {
                check_changes(&changes, true).and_then(|()| match r.resource_type {
                    RESOURCE_TOPIC => self.alter_topic(name, &changes, true, req.validate_only),
                    RESOURCE_BROKER => self.alter_broker(name, &changes, true),
                    t => Err(unsupported_resource(t, true)),
                })
            };
            let (code, message) = self.note(ApiKey::IncrementalAlterConfigs, outcome);
            responses.push(IncrementalResult {
                error_code: code,
                error_message: message,
                resource_type: r.resource_type,
                resource_name: r.resource_name.clone(),
                ..IncrementalResult::default()
            });
        }
        IncrementalAlterConfigsResponse {
            responses,
            ..IncrementalAlterConfigsResponse::default()
        }
    }

    /// AlterConfigs: one answer per resource, in request order.
    pub(crate) fn handle_alter_configs(
        &mut self,
        req: &AlterConfigsRequest,
    ) -> AlterConfigsResponse {
        let dup = duplicated(
            req.resources
                .iter()
                .map(|r| (r.resource_type, r.resource_name.as_str())),
        );
        let mut responses = Vec::with_capacity(req.resources.len());
        for r in &req.resources {
            let name = r.resource_name.as_str();
            let changes: Vec<Change<'_>> = r
                .configs
                .iter()
                .map(|c| (c.name.as_str(), 0, c.value.as_ref().map(|v| v.as_str())))
                .collect();
            let outcome = if dup.contains(&(r.resource_type, name)) {
                Err(invalid_request("Each resource must appear at most once."))
            } else {
                check_changes(&changes, false).and_then(|()| match r.resource_type {
                    RESOURCE_TOPIC => self.alter_topic(name, &changes, false, req.validate_only),
                    RESOURCE_BROKER => self.alter_broker(name, &changes, false),
                    t => Err(unsupported_resource(t, false)),
                })
            };
            let (code, message) = self.note(ApiKey::AlterConfigs, outcome);
            responses.push(LegacyResult {
                error_code: code,
                error_message: message,
                resource_type: r.resource_type,
                resource_name: r.resource_name.clone(),
                ..LegacyResult::default()
            });
        }
        AlterConfigsResponse {
            responses,
            ..AlterConfigsResponse::default()
        }
    }

    fn note(&mut self, api: ApiKey, outcome: Result<(), Refusal>) -> (i16, Option<KStr>) {
        match outcome {
            Ok(()) => (ErrorCode::None.code(), None),
            Err((code, m)) => {
                self.metrics.error(api.key(), code);
                (code.code(), m.map(KStr::from))
            }
        }
    }

    /// A topic's change: checked as the controller does, then (unless `validate_only`)
    /// written to the metadata file and applied to the topic's logs. `incremental`: the
    /// changes are operations on the current overrides; else they replace them.
    fn alter_topic(
        &mut self,
        name: &str,
        changes: &[Change<'_>],
        incremental: bool,
        validate_only: bool,
    ) -> Result<(), Refusal> {
        if name.is_empty() {
            return Err(invalid_request("Default topic resources are not allowed."));
        }
        validate_name(name).map_err(|e| (e.code, Some(e.message)))?;
        let current: BTreeMap<String, String> = self
            .meta
            .topics
            .get(name)
            .map(|t| {
                t.configs
                    .overrides()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect()
            })
            .unwrap_or_default();
        let mut next = if incremental {
            current.clone()
        } else {
            BTreeMap::new()
        };
        for (key, op, value) in changes {
            let value = value.unwrap_or_default();
            let op = OpType::from_id(*op)
                .ok_or_else(|| invalid_request(format!("Unknown operations type {op}")))?;
            match op {
                OpType::Set => {
                    next.insert(key.to_string(), value.to_string());
                }
                OpType::Delete => {
                    next.remove(*key);
                }
                OpType::Append | OpType::Subtract => {
                    let def = topic_def(key).filter(|t| t.def.kind == ConfigType::List);
                    let Some(def) = def else {
                        return Err(invalid_config(format!(
                            "Can't {} to key {key} because its type is not LIST.",
                            op.name()
                        )));
                    };
                    let mut list = parts(
                        next.get(*key)
                            .map(String::as_str)
                            .or(def.def.default)
                            .unwrap_or(""),
                    );
                    for v in value.split(',') {
                        if op == OpType::Append {
                            if !list.iter().any(|x| x == v) {
                                list.push(v.to_string());
                            }
                        } else if let Some(i) = list.iter().position(|x| x == v) {
                            list.remove(i);
                        }
                    }
                    next.insert(key.to_string(), list.join(","));
                }
            }
        }
        let configs =
            TopicConfigs::from_pairs(next.iter()).map_err(|e| invalid_config(e.to_string()))?;
        if !self.meta.topics.contains_key(name) {
            return Err((
                ErrorCode::UnknownTopicOrPartition,
                Some(format!("The topic '{name}' does not exist.")),
            ));
        }
        if validate_only {
            return Ok(());
        }
        self.set_topic_configs(name, configs)
    }

    /// Writes `configs` as `topic`'s overrides (metadata file first) and gives its logs the
    /// resulting config.
    pub(crate) fn set_topic_configs(
        &mut self,
        topic: &str,
        configs: TopicConfigs,
    ) -> Result<(), Refusal> {
        let Some(t) = self.meta.topics.get_mut(topic) else {
            return Err((ErrorCode::UnknownTopicOrPartition, None));
        };
        let old = core::mem::replace(&mut t.configs, configs.clone());
        if let Err(e) = self.meta.store(self.logs.storage_mut()) {
            if let Some(t) = self.meta.topics.get_mut(topic) {
                t.configs = old;
            }
            let m = format!("writing the cluster metadata failed: {e}");
            self.events
                .push_back(BrokerEvent::MetadataWriteFailed { error: m.clone() });
            return Err((ErrorCode::KafkaStorageError, Some(m)));
        }
        let log_cfg = configs.log_config(&self.config.log);
        self.logs
            .set_log_config(topic, log_cfg)
            .map_err(|e| (e.source.error_code(), Some(e.source.to_string())))?;
        self.events.push_back(BrokerEvent::TopicConfigsAltered {
            topic: topic.to_string(),
            overrides: configs
                .overrides()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        });
        Ok(())
    }

    /// A broker resource's change, as `ConfigAdminManager.validateBrokerConfigChange`
    /// decides it; nothing is ever changed (no dynamic broker configs here).
    fn alter_broker(
        &self,
        name: &str,
        changes: &[Change<'_>],
        incremental: bool,
    ) -> Result<(), Refusal> {
        if !name.is_empty() {
            let id: i32 = name.parse().map_err(|_| {
                invalid_request(format!("Node id must be an integer, but it is: {name}"))
            })?;
            if id != self.config.node_id {
                return Err(invalid_request(format!(
                    "Unexpected broker id, expected {}, but received {name}",
                    self.config.node_id
                )));
            }
        }
        // the keys the change would give a dynamic value (Kafka's prepareIncrementalConfigs)
        let mut set: Vec<&str> = Vec::new();
        for (key, op, _) in changes {
            let op = if incremental {
                OpType::from_id(*op)
                    .ok_or_else(|| invalid_request(format!("Unknown operations type {op}")))?
            } else {
                OpType::Set
            };
            match op {
                OpType::Set => set.push(key),
                OpType::Delete => set.retain(|k| k != key),
                OpType::Append | OpType::Subtract => {
                    if KAFKA_BROKER_CONFIG_NAMES.binary_search(key).is_err() {
                        return Err(invalid_config(format!("Unknown config name: {key}")));
                    }
                    let list = BROKER_CONFIGS
                        .iter()
                        .find(|d| d.name == *key)
                        .is_none_or(|d| d.kind == ConfigType::List);
                    if !list {
                        let verb = if op == OpType::Append {
                            "append"
                        } else {
                            "subtract"
                        };
                        return Err(invalid_config(format!(
                            "Config value {verb} is not allowed for config key: {key}"
                        )));
                    }
                    set.push(key);
                }
            }
        }
        if set.is_empty() {
            return Ok(());
        }
        let static_only: Vec<&str> = set
            .iter()
            .copied()
            .filter(|k| {
                KAFKA_BROKER_CONFIG_NAMES.binary_search(k).is_ok()
                    && KAFKA_DYNAMIC_BROKER_CONFIGS.binary_search(k).is_err()
            })
            .collect();
        if !static_only.is_empty() {
            return Err(invalid_request(format!(
                "Cannot update these configs dynamically: [{}]",
                static_only.join(", ")
            )));
        }
        Err(invalid_request(format!(
            "Cannot update these configs dynamically: [{}] (this broker has no dynamic broker configs: set them in its properties and restart)",
            set.join(", ")
        )))
    }
}

fn unsupported_resource(t: i8, incremental: bool) -> Refusal {
    match t {
        RESOURCE_CLIENT_METRICS | RESOURCE_GROUP => invalid_request(format!(
            "Unsupported resource type: {} (not kept by this broker)",
            resource_type_name(t)
        )),
        RESOURCE_BROKER_LOGGER if incremental => invalid_request(
            "Unsupported resource type: BROKER_LOGGER (this broker has no log4j loggers to set)",
        ),
        _ => invalid_request(format!("Unknown resource type {t}")),
    }
}
