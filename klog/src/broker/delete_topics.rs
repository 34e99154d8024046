//! DeleteTopics (key 20, v1–v6), as Kafka 4.4.0's controller answers it for one node
//! (`ControllerApis.deleteTopics` → `ReplicationControlManager.deleteTopics`).
//!
//! Up to v5 topics come by name (`topic_names`); from v6 each entry has a name or a topic id
//! (`topics`). As Kafka decides: an entry with neither, or with both, is INVALID_REQUEST; a
//! name or id given twice is INVALID_REQUEST ("Duplicate topic name." / "Duplicate topic
//! id."), and so is a name that maps to an id given too; an unknown name is
//! UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID (with Kafka's default messages).
//! The deletions of one request are one change, as Kafka's single atomic record batch: every
//! deleted topic leaves the cluster metadata file, which is written before any log is
//! deleted (a crash in between leaves logs the next start does not open; the log directory
//! layer removes them). Waiting fetches on a deleted partition are answered at once.
//!
//! Deviation: Kafka shuffles the answers (so that positions do not tell absent topics from
//! unauthorized ones); with no authorization here they come in request order.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kproto::messages::delete_topics::response::DeletableTopicResult;
use kproto::messages::{DeleteTopicsRequest, DeleteTopicsResponse};
use kproto::{ApiKey, ErrorCode, KStr, Uuid};

use super::cluster_metadata::TopicMeta;
use super::core::Broker;
use super::events::BrokerEvent;
use crate::storage::Storage;

/// One entry of the request: by name or by id (v6 may give both or neither).
#[derive(Debug, Clone)]
struct Entry {
    name: Option<String>,
    id: Uuid,
}

/// What an entry comes to.
#[derive(Debug, Clone)]
enum Outcome {
    /// Answered with this error (name and id as answered).
    Error(Option<String>, Uuid, ErrorCode, Option<String>),
    /// To delete.
    Delete(String, Uuid),
}

impl<S: Storage + Clone> Broker<S> {
    /// DeleteTopics: the answer, in request order.
    pub(crate) fn handle_delete_topics(
        &mut self,
        req: &DeleteTopicsRequest,
        version: i16,
        now_ms: i64,
    ) -> DeleteTopicsResponse {
        let entries: Vec<Entry> = if version >= 6 {
            req.topics
                .iter()
                .map(|t| Entry {
                    name: t.name.as_ref().map(|n| n.as_str().to_string()),
                    id: t.topic_id,
                })
                .collect()
        } else {
            req.topic_names
                .iter()
                .map(|n| Entry {
                    name: Some(n.as_str().to_string()),
                    id: Uuid::ZERO,
                })
                .collect()
        };
        let outcomes = self.resolve_deletions(&entries);
        let doomed: Vec<(String, Uuid)> = outcomes
            .iter()
            .filter_map(|o| match o {
                Outcome::Delete(n, id) => Some((n.clone(), *id)),
                Outcome::Error(..) => None,
            })
            .collect();
        let failure = self.delete_topics(&doomed, now_ms).err();
        let mut responses = Vec::with_capacity(outcomes.len());
        for o in outcomes {
            let (name, id, code, message) = match o {
                Outcome::Error(n, id, code, m) => (n, id, code, m),
                Outcome::Delete(n, id) => match &failure {
                    None => (Some(n), id, ErrorCode::None, None),
                    Some(m) => (Some(n), id, ErrorCode::KafkaStorageError, Some(m.clone())),
                },
            };
            if code != ErrorCode::None {
                self.metrics.error(ApiKey::DeleteTopics.key(), code);
            }
            responses.push(DeletableTopicResult {
                name: name.map(KStr::from),
                topic_id: id,
                error_code: code.code(),
                error_message: message.map(KStr::from),
                ..DeletableTopicResult::default()
            });
        }
        DeleteTopicsResponse {
            responses,
            ..DeleteTopicsResponse::default()
        }
    }

    /// Kafka's checks of the names and ids given, per entry (`ControllerApis.deleteTopics`).
    fn resolve_deletions(&self, entries: &[Entry]) -> Vec<Outcome> {
        let invalid = |n: Option<String>, id: Uuid, m: &str| {
            Outcome::Error(n, id, ErrorCode::InvalidRequest, Some(m.to_string()))
        };
        let mut names: BTreeMap<&str, usize> = BTreeMap::new();
        let mut ids: BTreeMap<Uuid, usize> = BTreeMap::new();
        for e in entries {
            match (&e.name, e.id == Uuid::ZERO) {
                (Some(n), true) => *names.entry(n.as_str()).or_default() += 1,
                (None, false) => *ids.entry(e.id).or_default() += 1,
                _ => {}
            }
        }
        // a name given and an id given that are the same topic: the name's entry is refused
        let ids_given: BTreeSet<Uuid> = ids.keys().copied().collect();
        let mut out = Vec::with_capacity(entries.len());
        let mut answered_duplicates: BTreeSet<String> = BTreeSet::new();
        let mut answered_ids: BTreeSet<Uuid> = BTreeSet::new();
        for e in entries {
            let o = match (&e.name, e.id == Uuid::ZERO) {
                (None, true) => invalid(
                    None,
                    Uuid::ZERO,
                    "Neither topic name nor id were specified.",
                ),
                (Some(n), false) => invalid(
                    Some(n.clone()),
                    e.id,
                    "You may not specify both topic name and topic id.",
                ),
                (Some(n), true) => {
                    if names[n.as_str()] > 1 {
                        if !answered_duplicates.insert(n.clone()) {
                            continue;
                        }
                        invalid(Some(n.clone()), Uuid::ZERO, "Duplicate topic name.")
                    } else {
                        match self.meta.topics.get(n.as_str()) {
                            None => Outcome::Error(
                                Some(n.clone()),
                                Uuid::ZERO,
                                ErrorCode::UnknownTopicOrPartition,
                                Some(ErrorCode::UnknownTopicOrPartition.message().to_string()),
                            ),
                            Some(t) if ids_given.contains(&t.id) => invalid(
                                Some(n.clone()),
                                t.id,
                                "The provided topic name maps to an ID that was already supplied.",
                            ),
                            Some(t) => Outcome::Delete(n.clone(), t.id),
                        }
                    }
                }
                (None, false) => {
                    let named_too = self
                        .meta
                        .topic_name(e.id)
                        .is_some_and(|n| names.get(n) == Some(&1));
                    if ids[&e.id] > 1 || named_too {
                        if !answered_ids.insert(e.id) {
                            continue;
                        }
                        if ids[&e.id] > 1 {
                            invalid(None, e.id, "Duplicate topic id.")
                        } else {
                            // Kafka drops the id's deletion and answers only the name's entry
                            continue;
                        }
                    } else {
                        match self.meta.topic_name(e.id) {
                            None => Outcome::Error(
                                None,
                                e.id,
                                ErrorCode::UnknownTopicId,
                                Some(ErrorCode::UnknownTopicId.message().to_string()),
                            ),
                            Some(n) => Outcome::Delete(n.to_string(), e.id),
                        }
                    }
                }
            };
            out.push(o);
        }
        out
    }

    /// Deletes `topics` (name, id) as one change: the metadata file first, then the logs.
    /// On a metadata write failure nothing is deleted and the error is returned.
    pub(crate) fn delete_topics(
        &mut self,
        topics: &[(String, Uuid)],
        now_ms: i64,
    ) -> Result<(), String> {
        if topics.is_empty() {
            return Ok(());
        }
        let mut removed: Vec<(String, TopicMeta)> = Vec::with_capacity(topics.len());
        for (name, _) in topics {
            if let Some(t) = self.meta.topics.remove(name) {
                removed.push((name.clone(), t));
            }
        }
        if let Err(e) = self.meta.store(self.logs.storage_mut()) {
            let error = alloc::format!("writing the cluster metadata failed: {e}");
            for (name, t) in removed {
                self.meta.topics.insert(name, t);
            }
            self.events.push_back(BrokerEvent::MetadataWriteFailed {
                error: error.clone(),
            });
            return Err(error);
        }
        for (name, t) in removed {
            let mut deleted = 0u64;
            for p in 0..t.partitions {
                let present = self.logs.log(&name, p).is_some();
                match self.logs.delete_log(&name, p, now_ms) {
                    Ok(()) => deleted += u64::from(present),
                    Err(e) => self.events.push_back(BrokerEvent::LogFailed {
                        topic: name.clone(),
                        partition: p,
                        error: e.source.to_string(),
                    }),
                }
            }
            self.metrics.partition_count = self.metrics.partition_count.saturating_sub(deleted);
            self.events.push_back(BrokerEvent::TopicDeleted {
                topic: name,
                topic_id: t.id,
                partitions: t.partitions,
            });
        }
        // a fetch waiting on a partition that is gone is answered now (Kafka's DelayedFetch
        // completes when a partition is no longer led here)
        self.wake_delayed_fetches(now_ms);
        Ok(())
    }
}
