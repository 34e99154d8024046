//! CreatePartitions (key 37, v0–v3), as Kafka 4.4.0's controller answers it for one node
//! (`ControllerApis.createPartitions` → `ReplicationControlManager.createPartitions`).
//!
//! A topic named twice is INVALID_REQUEST ("Duplicate topic name.", answered once); an
//! unknown topic UNKNOWN_TOPIC_OR_PARTITION; a count that is not an increase
//! INVALID_PARTITIONS in Kafka's words. Manual assignments must be null or one per new
//! partition, each exactly this node (INVALID_REPLICA_ASSIGNMENT with Kafka's messages).
//! More partitions in one request than the controller writes records for in one operation
//! (10,000) is POLICY_VIOLATION, as CreateTopics. `validate_only` checks and changes nothing.
//! The accepted increases of one request are one change, as Kafka's atomic record batch:
//! the cluster metadata file is written first, then the new partitions' logs are created
//! (a restart creates the logs still missing).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kproto::messages::create_partitions::request::CreatePartitionsTopic;
use kproto::messages::create_partitions::response::CreatePartitionsTopicResult;
use kproto::messages::{CreatePartitionsRequest, CreatePartitionsResponse};
use kproto::{ApiKey, ErrorCode, KStr};

use super::core::Broker;
use super::events::BrokerEvent;
use super::topics::{TopicError, MAX_RECORDS_PER_OP};
use crate::storage::Storage;

/// A topic's outcome: `Ok((from, to))` for an accepted increase.
type Outcome<'a> = (&'a str, Result<(i32, i32), TopicError>);

fn e(code: ErrorCode, message: impl Into<String>) -> TopicError {
    TopicError::new(code, message)
}

impl<S: Storage + Clone> Broker<S> {
    /// The topic's new partition count, or why not (Kafka's per-topic checks).
    fn check_new_partitions(&self, t: &CreatePartitionsTopic) -> Result<(i32, i32), TopicError> {
        let name = t.name.as_str();
        let Some(meta) = self.meta.topics.get(name) else {
            // Kafka: `new UnknownTopicOrPartitionException()`, no message
            return Err(TopicError {
                code: ErrorCode::UnknownTopicOrPartition,
                message: String::new(),
            });
        };
        let current = meta.partitions;
        if t.count == current {
            return Err(e(
                ErrorCode::InvalidPartitions,
                format!("Topic already has {current} partition(s)."),
            ));
        }
        if t.count < current {
            return Err(e(
                ErrorCode::InvalidPartitions,
                format!(
                    "The topic {name} currently has {current} partition(s); {} would not be an increase.",
                    t.count
                ),
            ));
        }
        let additional = t.count - current;
        if let Some(assignments) = &t.assignments {
            if assignments.len() != additional as usize {
                return Err(e(
                    ErrorCode::InvalidReplicaAssignment,
                    format!(
                        "Attempted to add {additional} additional partition(s), but only {} assignment(s) were specified.",
                        assignments.len()
                    ),
                ));
            }
            for a in assignments {
                self.check_manual_assignment(&a.broker_ids)?;
            }
        }
        Ok((current, t.count))
    }

    /// Kafka's `validateManualPartitionAssignment` with the topic's replication factor (1).
    fn check_manual_assignment(&self, broker_ids: &[i32]) -> Result<(), TopicError> {
        let bad = |m: String| Err(e(ErrorCode::InvalidReplicaAssignment, m));
        if broker_ids.is_empty() {
            return bad("The manual partition assignment includes an empty replica list.".into());
        }
        let mut sorted = broker_ids.to_vec();
        sorted.sort_unstable();
        let mut prev = None;
        for b in &sorted {
            if *b != self.config.node_id {
                return bad(format!("The manual partition assignment includes broker {b}, but no such broker is registered."));
            }
            if prev == Some(*b) {
                return bad(format!(
                    "The manual partition assignment includes the broker {b} more than once."
                ));
            }
            prev = Some(*b);
        }
        if sorted.len() != 1 {
            return bad(format!("The manual partition assignment includes a partition with {} replica(s), but this is not consistent with previous partitions, which have 1 replica(s).", sorted.len()));
        }
        Ok(())
    }

    /// CreatePartitions: one answer per topic named (a duplicate once), in request order.
    pub(crate) fn handle_create_partitions(
        &mut self,
        req: &CreatePartitionsRequest,
        now_ms: i64,
    ) -> CreatePartitionsResponse {
        let mut count: BTreeMap<&str, usize> = BTreeMap::new();
        for t in &req.topics {
            *count.entry(t.name.as_str()).or_default() += 1;
        }
        let mut answered: BTreeMap<&str, ()> = BTreeMap::new();
        let mut outcomes: Vec<Outcome<'_>> = Vec::new();
        let mut records: i64 = 0;
        for t in &req.topics {
            let name = t.name.as_str();
            if answered.insert(name, ()).is_some() {
                continue;
            }
            let outcome = if count[name] > 1 {
                Err(e(ErrorCode::InvalidRequest, "Duplicate topic name."))
            } else {
                self.check_new_partitions(t).and_then(|(from, to)| {
                    let added = i64::from(to - from);
                    if records + added > MAX_RECORDS_PER_OP {
                        Err(e(
                            ErrorCode::PolicyViolation,
                            "Unable to perform excessively large batch operation.",
                        ))
                    } else {
                        records += added;
                        Ok((from, to))
                    }
                })
            };
            outcomes.push((name, outcome));
        }
        if !req.validate_only {
            if let Err(m) = self.raise_partition_counts(&outcomes, now_ms) {
                for (_, o) in &mut outcomes {
                    if o.is_ok() {
                        *o = Err(e(ErrorCode::KafkaStorageError, m.clone()));
                    }
                }
            }
        }
        let mut results = Vec::with_capacity(outcomes.len());
        for (name, o) in outcomes {
            let (code, message) = match o {
                Ok(_) => (ErrorCode::None, None),
                Err(err) => {
                    self.metrics.error(ApiKey::CreatePartitions.key(), err.code);
                    let m = (!err.message.is_empty()).then(|| KStr::from(err.message));
                    (err.code, m)
                }
            };
            results.push(CreatePartitionsTopicResult {
                name: KStr::from(name),
                error_code: code.code(),
                error_message: message,
                ..CreatePartitionsTopicResult::default()
            });
        }
        CreatePartitionsResponse {
            results,
            ..CreatePartitionsResponse::default()
        }
    }

    /// Applies the accepted increases: the metadata file first, then the new logs.
    fn raise_partition_counts(
        &mut self,
        outcomes: &[Outcome<'_>],
        now_ms: i64,
    ) -> Result<(), String> {
        let raised: Vec<(&str, i32, i32)> = outcomes
            .iter()
            .filter_map(|(n, o)| o.as_ref().ok().map(|(f, t)| (*n, *f, *t)))
            .collect();
        if raised.is_empty() {
            return Ok(());
        }
        for (name, _, to) in &raised {
            if let Some(t) = self.meta.topics.get_mut(*name) {
                t.partitions = *to;
            }
        }
        if let Err(err) = self.meta.store(self.logs.storage_mut()) {
            for (name, from, _) in &raised {
                if let Some(t) = self.meta.topics.get_mut(*name) {
                    t.partitions = *from;
                }
            }
            let m = format!("writing the cluster metadata failed: {err}");
            self.events
                .push_back(BrokerEvent::MetadataWriteFailed { error: m.clone() });
            return Err(m);
        }
        for (name, from, to) in raised {
            let Some(t) = self.meta.topics.get(name) else {
                continue;
            };
            let (id, cfg) = (t.id, t.configs.log_config(&self.config.log));
            for p in from..to {
                match self.logs.create_log(name, p, id, cfg.clone(), now_ms) {
                    Ok(_) => self.metrics.partition_count += 1,
                    // the partition is in the metadata: the next start creates its log
                    Err(err) => self.events.push_back(BrokerEvent::LogFailed {
                        topic: name.to_string(),
                        partition: p,
                        error: err.source.to_string(),
                    }),
                }
            }
            self.events.push_back(BrokerEvent::PartitionsCreated {
                topic: name.to_string(),
                from,
                to,
            });
        }
        Ok(())
    }
}
