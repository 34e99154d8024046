//! Topic names and topic creation, as Kafka's `Topic.validate` and the controller's
//! `ReplicationControlManager.createTopics` decide them for a single node.

use alloc::format;
use alloc::string::{String, ToString};

use kproto::{ErrorCode, Uuid};

use super::cluster_metadata::TopicMeta;
use super::core::{random_uuid, Broker};
use super::events::BrokerEvent;
use super::topic_config::TopicConfigs;
use crate::storage::Storage;

/// Kafka's longest topic name.
pub(crate) const MAX_NAME_LENGTH: usize = 249;
/// Kafka's controller refuses an operation writing more metadata records than this
/// (`QuorumController.MAX_RECORDS_PER_USER_OP`): a topic record, one per partition, one per
/// config.
pub(crate) const MAX_RECORDS_PER_OP: i64 = 10_000;

/// A topic operation refused, with Kafka's code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicError {
    pub(crate) code: ErrorCode,
    pub(crate) message: String,
}

impl TopicError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        TopicError {
            code,
            message: message.into(),
        }
    }
}

/// Kafka's `Topic.validate`, with its messages (INVALID_TOPIC_EXCEPTION).
pub(crate) fn validate_name(name: &str) -> Result<(), TopicError> {
    let bad = |m: String| Err(TopicError::new(ErrorCode::InvalidTopicException, m));
    if name.is_empty() {
        return bad("Topic name is illegal, it can't be empty".into());
    }
    if name == "." || name == ".." {
        return bad("Topic name cannot be \".\" or \"..\"".into());
    }
    if name.len() > MAX_NAME_LENGTH {
        return bad(format!(
            "Topic name is illegal, it can't be longer than {MAX_NAME_LENGTH} characters, topic name: {name}"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return bad(format!("Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"));
    }
    Ok(())
}

/// Kafka's internal topics (`Topic.isInternal`).
pub(crate) fn is_internal(name: &str) -> bool {
    matches!(
        name,
        "__consumer_offsets" | "__transaction_state" | "__share_group_state"
    )
}

fn collides(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .all(|(x, y)| x == y || (matches!(x, b'.' | b'_') && matches!(y, b'.' | b'_')))
}

impl<S: Storage + Clone> Broker<S> {
    /// Creates `name` with `partitions` partitions and `configs` (already validated), or with
    /// `validate_only` only checks that it could. The topic is in the metadata file before
    /// its logs are created; a restart creates logs that are missing.
    pub(crate) fn create_topic(
        &mut self,
        name: &str,
        partitions: i32,
        configs: TopicConfigs,
        validate_only: bool,
        now_ms: i64,
    ) -> Result<Uuid, TopicError> {
        validate_name(name)?;
        if self.meta.topics.contains_key(name) {
            return Err(TopicError::new(
                ErrorCode::TopicAlreadyExists,
                format!("Topic '{name}' already exists."),
            ));
        }
        if let Some(other) = self.meta.topics.keys().find(|t| collides(t, name)) {
            return Err(TopicError::new(
                ErrorCode::InvalidTopicException,
                format!("Topic '{name}' collides with existing topic: {other}"),
            ));
        }
        if partitions <= 0 {
            return Err(TopicError::new(
                ErrorCode::InvalidPartitions,
                "Number of partitions was set to an invalid non-positive value.",
            ));
        }
        let records = 1 + i64::from(partitions) + configs.overrides().count() as i64;
        if records > MAX_RECORDS_PER_OP {
            return Err(TopicError::new(
                ErrorCode::PolicyViolation,
                "Unable to perform excessively large batch operation.",
            ));
        }
        if validate_only {
            return Ok(Uuid::ZERO);
        }
        let id = loop {
            let id = random_uuid(&mut self.rng);
            self.meta.uuids_drawn += 1;
            if self.meta.topic_name(id).is_none() {
                break id;
            }
        };
        let log_cfg = configs.log_config(&self.config.log);
        self.meta.topics.insert(
            name.to_string(),
            TopicMeta {
                id,
                partitions,
                configs,
            },
        );
        if let Err(e) = self.meta.store(self.logs.storage_mut()) {
            self.meta.topics.remove(name);
            return Err(TopicError::new(
                ErrorCode::KafkaStorageError,
                format!("writing the cluster metadata failed: {e}"),
            ));
        }
        for p in 0..partitions {
            if let Err(e) = self.logs.create_log(name, p, id, log_cfg.clone(), now_ms) {
                return Err(TopicError::new(
                    ErrorCode::KafkaStorageError,
                    format!("creating partition {p} failed: {}", e.source),
                ));
            }
        }
        self.metrics.partition_count += partitions as u64;
        self.events.push_back(BrokerEvent::TopicCreated {
            topic: name.to_string(),
            topic_id: id,
            partitions,
        });
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_kafkas_topic_validate() {
        for ok in ["a", "orders", "a.b_c-D9", &"x".repeat(249)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for (bad, says) in [
            ("", "can't be empty"),
            (".", "cannot be"),
            ("..", "cannot be"),
            ("a b", "character other than"),
            ("ü", "character other than"),
            (&"x".repeat(250), "longer than 249"),
        ] {
            let e = validate_name(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidTopicException);
            assert!(e.message.contains(says), "{bad}: {}", e.message);
        }
        assert!(collides("a.b", "a_b"));
        assert!(!collides("a.b", "a.c"));
    }
}
