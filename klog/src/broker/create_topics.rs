//! CreateTopics (key 19, v2–v7), as Kafka 4.4.0's controller decides it for one node
//! (`ControllerApis.createTopics` → `ReplicationControlManager.createTopics`): a duplicate
//! name in the request is INVALID_REQUEST; a bad name INVALID_TOPIC_EXCEPTION; an existing
//! topic TOPIC_ALREADY_EXISTS; a partition count of 0 or below -1 INVALID_PARTITIONS; a
//! replication factor other than 1 (or -1, the default) INVALID_REPLICATION_FACTOR; a manual
//! assignment must put every partition 0, 1, ... on this node (INVALID_REPLICA_ASSIGNMENT);
//! a bad config INVALID_CONFIG with Kafka's message. `validate_only` checks everything and
//! creates nothing. From v5 a created topic's answer carries its partition count, replication
//! factor and every config with its source, as Kafka's.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kproto::messages::create_topics::request::CreatableTopic;
use kproto::messages::create_topics::response::{CreatableTopicConfigs, CreatableTopicResult};
use kproto::messages::{CreateTopicsRequest, CreateTopicsResponse, ResponseBody};
use kproto::{ApiKey, ErrorCode, KStr};

use super::core::Broker;
use super::topic_config::TopicConfigs;
use super::topics::TopicError;
use crate::storage::Storage;

fn e(code: ErrorCode, message: impl Into<String>) -> TopicError {
    TopicError::new(code, message)
}

impl<S: Storage + Clone> Broker<S> {
    /// The partition count and configs of one topic to create, or why not.
    fn check_creatable(&self, t: &CreatableTopic) -> Result<(i32, TopicConfigs), TopicError> {
        let brokers = 1;
        let partitions = if t.assignments.is_empty() {
            if t.replication_factor == 0 || t.replication_factor < -1 {
                return Err(e(
                    ErrorCode::InvalidReplicationFactor,
                    "Replication factor must be larger than 0, or -1 to use the default value.",
                ));
            }
            let rf = if t.replication_factor == -1 {
                self.config.default_replication_factor
            } else {
                t.replication_factor
            };
            if i32::from(rf) > brokers {
                return Err(e(
                    ErrorCode::InvalidReplicationFactor,
                    format!("Unable to replicate the partition {rf} time(s): The target replication factor of {rf} cannot be reached because only {brokers} broker(s) are registered."),
                ));
            }
            match t.num_partitions {
                -1 => self.config.num_partitions,
                n if n <= 0 => {
                    return Err(e(
                        ErrorCode::InvalidPartitions,
                        "Number of partitions was set to an invalid non-positive value.",
                    ))
                }
                n => n,
            }
        } else {
            if t.num_partitions != -1 || t.replication_factor != -1 {
                return Err(e(ErrorCode::InvalidRequest, "A manual partition assignment was specified, but numPartitions or replicationFactor was not set to -1."));
            }
            for (i, a) in t.assignments.iter().enumerate() {
                if a.partition_index != i as i32 {
                    return Err(e(
                        ErrorCode::InvalidReplicaAssignment,
                        "partitions should be a consecutive 0-based integer sequence",
                    ));
                }
                if a.broker_ids.is_empty() {
                    return Err(e(
                        ErrorCode::InvalidReplicaAssignment,
                        "The manual partition assignment includes an empty replica list.",
                    ));
                }
                for (j, b) in a.broker_ids.iter().enumerate() {
                    if a.broker_ids[..j].contains(b) {
                        return Err(e(ErrorCode::InvalidReplicaAssignment, format!("The manual partition assignment includes the broker {b} more than once.")));
                    }
                    if *b != self.config.node_id {
                        return Err(e(ErrorCode::InvalidReplicaAssignment, format!("The manual partition assignment includes broker {b}, but no broker with that ID is registered.")));
                    }
                }
            }
            i32::try_from(t.assignments.len()).unwrap_or(i32::MAX)
        };
        let mut configs = TopicConfigs::default();
        for c in &t.configs {
            let Some(v) = &c.value else {
                return Err(e(
                    ErrorCode::InvalidConfig,
                    format!("Null value not supported for topic configs: {}", c.name),
                ));
            };
            configs
                .set(&c.name, v)
                .map_err(|err| e(ErrorCode::InvalidConfig, err.to_string()))?;
        }
        Ok((partitions, configs))
    }

    pub(crate) fn handle_create_topics(
        &mut self,
        req: &CreateTopicsRequest,
        version: i16,
        now_ms: i64,
    ) -> ResponseBody {
        let mut results = Vec::with_capacity(req.topics.len());
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for t in &req.topics {
            *count.entry(t.name.as_str()).or_default() += 1;
        }
        for t in &req.topics {
            let name = t.name.as_str();
            let duplicate = count[name] > 1;
            let outcome = if duplicate {
                Err(TopicError::new(
                    ErrorCode::InvalidRequest,
                    "Duplicate topic name.",
                ))
            } else {
                self.check_creatable(t).and_then(|(n, configs)| {
                    let shown = configs.clone();
                    self.create_topic(name, n, configs, req.validate_only, now_ms)
                        .map(|id| (id, n, shown))
                })
            };
            let result = match outcome {
                Ok((topic_id, partitions, configs)) => CreatableTopicResult {
                    name: t.name.clone(),
                    topic_id,
                    error_code: ErrorCode::None.code(),
                    error_message: None,
                    num_partitions: if version >= 5 { partitions } else { -1 },
                    replication_factor: if version >= 5 { 1 } else { -1 },
                    configs: (version >= 5).then(|| self.created_configs(&configs)),
                    ..CreatableTopicResult::default()
                },
                Err(e) => {
                    self.metrics.error(ApiKey::CreateTopics.key(), e.code);
                    CreatableTopicResult {
                        name: t.name.clone(),
                        error_code: e.code.code(),
                        error_message: Some(KStr::from(e.message)),
                        configs: None,
                        ..CreatableTopicResult::default()
                    }
                }
            };
            results.push(result);
        }
        ResponseBody::CreateTopics(Box::new(CreateTopicsResponse {
            topics: results,
            ..CreateTopicsResponse::default()
        }))
    }

    fn created_configs(&self, configs: &TopicConfigs) -> Vec<CreatableTopicConfigs> {
        configs
            .describe(&self.config)
            .into_iter()
            .map(|d| CreatableTopicConfigs {
                name: KStr::from(d.name),
                value: d.value.map(|v: String| KStr::from(v)),
                read_only: false,
                config_source: d.source.code(),
                is_sensitive: false,
                ..CreatableTopicConfigs::default()
            })
            .collect()
    }
}
