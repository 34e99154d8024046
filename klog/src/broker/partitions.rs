//! The partitions' logs, behind the method names of the log directory layer
//! (`klog::log_dir::LogManager`, being built beside this module): the broker calls only these,
//! so switching to the manager changes this file alone.
//!
//! Until then it keeps one [`Log`] per partition on the shared storage. Which partitions exist
//! comes from the broker's cluster metadata file (the storage cannot list directories), as
//! Kafka's KRaft metadata decides which logs a broker hosts.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kproto::Uuid;

use crate::config::LogConfig;
use crate::log::{Log, LogError, RecoveryReport};
use crate::storage::Storage;

/// The settings the partitions need from the broker's configuration.
#[derive(Debug, Clone)]
pub(crate) struct PartitionsConfig {
    /// `log.retention.check.interval.ms`.
    pub retention_check_interval_ms: i64,
    /// `producer.id.expiration.check.interval.ms`.
    pub producer_id_expiration_check_interval_ms: i64,
}

/// A log failed: which one and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionError {
    pub topic: String,
    pub partition: i32,
    pub source: LogError,
}

/// Every partition's log on one storage.
#[derive(Debug)]
pub(crate) struct Partitions<S: Storage + Clone> {
    st: S,
    cfg: PartitionsConfig,
    logs: BTreeMap<(String, i32), Log<S>>,
    topic_ids: BTreeMap<String, Uuid>,
    next_retention_ms: i64,
    next_expiry_ms: i64,
}

#[allow(dead_code)] // log_mut, logs, topic_id: the Produce and Fetch handlers (next commits)
impl<S: Storage + Clone> Partitions<S> {
    /// Opens (and recovers) the logs of `partitions` (topic, partition count, topic id, config).
    #[allow(clippy::type_complexity)]
    pub(crate) fn open(
        st: S,
        cfg: PartitionsConfig,
        partitions: &[(String, i32, Uuid, LogConfig)],
        now_ms: i64,
    ) -> Result<(Self, Vec<((String, i32), RecoveryReport, u64)>), PartitionError> {
        let mut me = Partitions {
            next_retention_ms: now_ms.saturating_add(cfg.retention_check_interval_ms),
            next_expiry_ms: now_ms.saturating_add(cfg.producer_id_expiration_check_interval_ms),
            st,
            cfg,
            logs: BTreeMap::new(),
            topic_ids: BTreeMap::new(),
        };
        let mut reports = Vec::new();
        for (topic, count, id, log_cfg) in partitions {
            me.topic_ids.insert(topic.clone(), *id);
            for p in 0..*count {
                let (log, report) = Log::open(me.st.clone(), topic, p, log_cfg.clone(), now_ms)
                    .map_err(|source| PartitionError {
                        topic: topic.clone(),
                        partition: p,
                        source,
                    })?;
                let leo = log.log_end_offset();
                me.logs.insert((topic.clone(), p), log);
                reports.push(((topic.clone(), p), report, leo));
            }
        }
        Ok((me, reports))
    }

    /// Creates (or reopens) partition `partition` of `topic`.
    pub(crate) fn create_log(
        &mut self,
        topic: &str,
        partition: i32,
        topic_id: Uuid,
        cfg: LogConfig,
        now_ms: i64,
    ) -> Result<&mut Log<S>, PartitionError> {
        let key = (topic.to_string(), partition);
        if !self.logs.contains_key(&key) {
            let (log, _) =
                Log::open(self.st.clone(), topic, partition, cfg, now_ms).map_err(|source| {
                    PartitionError {
                        topic: topic.to_string(),
                        partition,
                        source,
                    }
                })?;
            self.logs.insert(key.clone(), log);
        }
        self.topic_ids.insert(topic.to_string(), topic_id);
        Ok(self.logs.get_mut(&key).expect("inserted above"))
    }

    /// Deletes partition `partition` of `topic` (its log and files). A partition that is not
    /// here is no error, as in Kafka.
    pub(crate) fn delete_log(
        &mut self,
        topic: &str,
        partition: i32,
        _now_ms: i64,
    ) -> Result<(), PartitionError> {
        self.logs.remove(&(topic.to_string(), partition));
        if !self.logs.keys().any(|(t, _)| t == topic) {
            self.topic_ids.remove(topic);
        }
        Ok(())
    }

    /// Sets the configuration of every partition of `topic`; refused, with nothing changed,
    /// when invalid.
    pub(crate) fn set_log_config(
        &mut self,
        topic: &str,
        cfg: LogConfig,
    ) -> Result<(), PartitionError> {
        if let Err(e) = cfg.validate() {
            return Err(PartitionError {
                topic: topic.to_string(),
                partition: -1,
                source: LogError::Config(e),
            });
        }
        for ((t, p), log) in self.logs.iter_mut() {
            if t == topic {
                log.set_config(cfg.clone()).map_err(|source| PartitionError {
                    topic: t.clone(),
                    partition: *p,
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// A partition's log.
    pub(crate) fn log(&self, topic: &str, partition: i32) -> Option<&Log<S>> {
        self.logs.get(&(topic.to_string(), partition))
    }

    /// A partition's log, to append to.
    pub(crate) fn log_mut(&mut self, topic: &str, partition: i32) -> Option<&mut Log<S>> {
        self.logs.get_mut(&(topic.to_string(), partition))
    }

    /// Every log, by (topic, partition).
    pub(crate) fn logs(&self) -> impl Iterator<Item = ((&str, i32), &Log<S>)> {
        self.logs.iter().map(|((t, p), l)| ((t.as_str(), *p), l))
    }

    /// The topic's id, if it has partitions here.
    pub(crate) fn topic_id(&self, topic: &str) -> Option<Uuid> {
        self.topic_ids.get(topic).copied()
    }

    /// The earliest time maintenance is due.
    pub(crate) fn poll_timeout(&self) -> Option<i64> {
        if self.logs.is_empty() {
            return None;
        }
        Some(self.next_retention_ms.min(self.next_expiry_ms))
    }

    /// Runs the maintenance due at `now_ms`: the time flush policy, retention, producer id
    /// expiration. Returns the logs that failed.
    pub(crate) fn handle_timeout(&mut self, now_ms: i64) -> Vec<PartitionError> {
        let mut failed = Vec::new();
        let retention = now_ms >= self.next_retention_ms;
        let expiry = now_ms >= self.next_expiry_ms;
        for ((topic, partition), log) in &mut self.logs {
            if log.is_failed() {
                continue;
            }
            let mut r = log.maybe_flush(now_ms).map(|_| ());
            if retention && r.is_ok() {
                r = log.delete_old_segments(now_ms).map(|_| ());
            }
            if expiry {
                log.remove_expired_producers(now_ms);
            }
            if let Err(source) = r {
                failed.push(PartitionError {
                    topic: topic.clone(),
                    partition: *partition,
                    source,
                });
            }
        }
        if retention {
            self.next_retention_ms = now_ms.saturating_add(self.cfg.retention_check_interval_ms);
        }
        if expiry {
            self.next_expiry_ms =
                now_ms.saturating_add(self.cfg.producer_id_expiration_check_interval_ms);
        }
        failed
    }

    /// Closes every log cleanly; returns the storage.
    pub(crate) fn shutdown(self, now_ms: i64) -> Result<S, PartitionError> {
        for ((topic, partition), log) in self.logs {
            log.close(now_ms).map_err(|source| PartitionError {
                topic,
                partition,
                source,
            })?;
        }
        Ok(self.st)
    }

    /// The storage (for the broker's own metadata file).
    pub(crate) fn storage_mut(&mut self) -> &mut S {
        &mut self.st
    }
}
