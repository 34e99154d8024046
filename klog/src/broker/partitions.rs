//! The partitions' logs: the broker's view of its log directory
//! ([`LogManager`](crate::log_dir::LogManager): `meta.properties`, one
//! `recovery-point-offset-checkpoint` and `log-start-offset-checkpoint` for every partition,
//! `partition.metadata` with the topic id, `.kafka_cleanshutdown`).
//!
//! Which partitions the broker hosts comes from its cluster metadata file, as Kafka's KRaft
//! metadata decides which logs a broker hosts: a partition of a known topic whose directory is
//! missing (the broker stopped between recording a topic and creating its logs) is created when
//! the broker opens. A partition directory of a topic the metadata does not know is opened and
//! left alone (reported), as Kafka leaves a log the metadata does not name until it is told.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kproto::Uuid;

use crate::config::LogConfig;
use crate::log::{Log, RecoveryReport};
use crate::log_dir::{LogDirError, LogDirReport, LogManager, LogManagerConfig};
use crate::storage::Storage;

/// The settings the partitions need from the broker's configuration.
#[derive(Debug, Clone)]
pub(crate) struct PartitionsConfig {
    /// `node.id` (checked against `meta.properties`).
    pub node_id: i32,
    /// The cluster id written to a new `meta.properties`.
    pub cluster_id: String,
    /// The directory id written to a new `meta.properties`.
    pub directory_id: Uuid,
    /// The broker's topic defaults.
    pub default_log: LogConfig,
    /// `log.retention.check.interval.ms`.
    pub retention_check_interval_ms: i64,
    /// `producer.id.expiration.check.interval.ms`.
    pub producer_id_expiration_check_interval_ms: i64,
    /// `log.flush.offset.checkpoint.interval.ms`.
    pub recovery_point_checkpoint_interval_ms: i64,
    /// `log.flush.start.offset.checkpoint.interval.ms`.
    pub log_start_offset_checkpoint_interval_ms: i64,
}

/// A log (or, with partition −1, the log directory) failed: which one and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PartitionError {
    pub topic: String,
    pub partition: i32,
    pub source: Box<LogDirError>,
}

impl PartitionError {
    fn new(topic: &str, partition: i32, source: LogDirError) -> Self {
        PartitionError {
            topic: topic.to_string(),
            partition,
            source: Box::new(source),
        }
    }
}

/// What opening found, per partition, and for the directory.
pub(crate) struct Opened {
    /// `(topic, partition)`, what recovery did, the log end offset.
    pub partitions: Vec<((String, i32), RecoveryReport, u64)>,
    /// The directory's own report (clean shutdown, checkpoints, stray directories).
    pub dir: LogDirReport,
    /// Partitions of known topics created because their directory was missing.
    pub created: Vec<(String, i32)>,
    /// Partition directories of topics the cluster metadata does not know.
    pub unknown: Vec<(String, i32)>,
}

/// Every partition's log in the broker's log directory.
#[derive(Debug)]
pub(crate) struct Partitions<S: Storage + Clone> {
    dir: LogManager<S>,
}

impl<S: Storage + Clone> Partitions<S> {
    /// Opens the log directory and recovers its logs; `partitions` (topic, partition count,
    /// topic id, config) are the ones the cluster metadata names.
    pub(crate) fn open(
        st: S,
        cfg: PartitionsConfig,
        partitions: &[(String, i32, Uuid, LogConfig)],
        now_ms: i64,
    ) -> Result<(Self, Opened), PartitionError> {
        let mut mcfg = LogManagerConfig::new(cfg.node_id, cfg.cluster_id, cfg.directory_id);
        mcfg.default_log = cfg.default_log.clone();
        mcfg.retention_check_interval_ms = cfg.retention_check_interval_ms;
        mcfg.producer_id_expiration_check_interval_ms =
            cfg.producer_id_expiration_check_interval_ms;
        mcfg.recovery_point_checkpoint_interval_ms = cfg.recovery_point_checkpoint_interval_ms;
        mcfg.log_start_offset_checkpoint_interval_ms = cfg.log_start_offset_checkpoint_interval_ms;
        let config_of = |topic: &str| {
            partitions
                .iter()
                .find(|(t, ..)| t == topic)
                .map_or_else(|| cfg.default_log.clone(), |(.., c)| c.clone())
        };
        let (dir, report) = LogManager::open(st, mcfg, &config_of, now_ms)
            .map_err(|e| PartitionError::new("", -1, e))?;
        let mut me = Partitions { dir };
        let mut opened = Opened {
            partitions: Vec::new(),
            dir: LogDirReport::default(),
            created: Vec::new(),
            unknown: Vec::new(),
        };
        for p in &report.partitions {
            let known = partitions
                .iter()
                .any(|(t, n, ..)| *t == p.topic && p.partition < *n);
            if !known {
                opened.unknown.push((p.topic.clone(), p.partition));
            }
            opened.partitions.push((
                (p.topic.clone(), p.partition),
                p.recovery.clone(),
                p.log_end_offset,
            ));
        }
        for (topic, count, id, log_cfg) in partitions {
            for p in 0..*count {
                if me.dir.log(topic, p).is_none() {
                    let log = me
                        .dir
                        .create_log(topic, p, *id, log_cfg.clone(), now_ms)
                        .map_err(|e| PartitionError::new(topic, p, e))?;
                    let leo = log.log_end_offset();
                    opened.created.push((topic.clone(), p));
                    opened
                        .partitions
                        .push(((topic.clone(), p), RecoveryReport::default(), leo));
                }
            }
        }
        opened.partitions.sort_by(|a, b| a.0.cmp(&b.0));
        opened.dir = report;
        Ok((me, opened))
    }

    /// Creates (or returns) partition `partition` of `topic`, its topic id on disk first.
    pub(crate) fn create_log(
        &mut self,
        topic: &str,
        partition: i32,
        topic_id: Uuid,
        cfg: LogConfig,
        now_ms: i64,
    ) -> Result<&mut Log<S>, PartitionError> {
        self.dir
            .create_log(topic, partition, topic_id, cfg, now_ms)
            .map_err(|e| PartitionError::new(topic, partition, e))
    }

    /// Deletes partition `partition` of `topic` (its directory and files; both checkpoints
    /// rewritten without it). A partition that is not here is no error, as in Kafka.
    #[allow(dead_code)] // the admin APIs (next commits)
    pub(crate) fn delete_log(
        &mut self,
        topic: &str,
        partition: i32,
        now_ms: i64,
    ) -> Result<(), PartitionError> {
        self.dir
            .delete_log(topic, partition, now_ms)
            .map_err(|e| PartitionError::new(topic, partition, e))
    }

    /// Sets the configuration of every partition of `topic`; refused, with nothing changed,
    /// when invalid.
    #[allow(dead_code)] // the admin APIs (next commits)
    pub(crate) fn set_log_config(
        &mut self,
        topic: &str,
        cfg: LogConfig,
    ) -> Result<(), PartitionError> {
        self.dir
            .set_log_config(topic, cfg)
            .map_err(|e| PartitionError::new(topic, -1, e))
    }

    /// A partition's log.
    pub(crate) fn log(&self, topic: &str, partition: i32) -> Option<&Log<S>> {
        self.dir.log(topic, partition)
    }

    /// A partition's log, to append to.
    pub(crate) fn log_mut(&mut self, topic: &str, partition: i32) -> Option<&mut Log<S>> {
        self.dir.log_mut(topic, partition)
    }

    /// Every log, by (topic, partition).
    #[allow(dead_code)] // the admin APIs' describe calls (next commits)
    pub(crate) fn logs(&self) -> impl Iterator<Item = ((&str, i32), &Log<S>)> {
        self.dir.logs()
    }

    /// The topic's id, if it has partitions here.
    #[allow(dead_code)] // the admin APIs (next commits)
    pub(crate) fn topic_id(&self, topic: &str) -> Option<Uuid> {
        self.dir.topic_id(topic)
    }

    /// The earliest time maintenance is due (None once the directory failed).
    pub(crate) fn poll_timeout(&self) -> Option<i64> {
        self.dir.poll_timeout()
    }

    /// Runs the maintenance due at `now_ms`: the time flush policy, retention, both
    /// checkpoints, producer id expiration. Returns the logs that failed, and the directory's
    /// own failure (partition −1) when a checkpoint could not be written.
    pub(crate) fn handle_timeout(&mut self, now_ms: i64) -> Vec<PartitionError> {
        match self.dir.handle_timeout(now_ms) {
            Ok(report) => report
                .failed
                .into_iter()
                .map(|((topic, partition), source)| {
                    let e = LogDirError::Log {
                        topic: topic.clone(),
                        partition,
                        source,
                    };
                    PartitionError::new(&topic, partition, e)
                })
                .collect(),
            Err(e) => alloc::vec![PartitionError::new("", -1, e)],
        }
    }

    /// Closes every log cleanly, writes both checkpoints and the clean shutdown marker;
    /// returns the storage.
    pub(crate) fn shutdown(self, now_ms: i64) -> Result<S, PartitionError> {
        self.dir
            .shutdown(now_ms)
            .map_err(|e| PartitionError::new("", -1, e))
    }

    /// The storage (for the broker's own metadata file, beside the logs in the root).
    pub(crate) fn storage_mut(&mut self) -> &mut S {
        self.dir.storage_mut()
    }
}
