//! Kafka's `LogManager` for one log directory: opening (and recovering) every partition in it,
//! creating and deleting partitions, both offset checkpoints for all of them at once, and the
//! clean shutdown.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use kproto::{ErrorCode, Uuid};

use super::dir_name::{parse_dir_name, set_aside_dir_name, DirKind};
use super::files::{
    CleanShutdown, LogDirFileError, MetaProperties, PartitionMetadata, CLEAN_SHUTDOWN,
    META_PROPERTIES, PARTITION_METADATA,
};
use crate::checkpoint::{self, CheckpointEntry, CheckpointError};
use crate::config::LogConfig;
use crate::error::StorageError;
use crate::log::{LoadOptions, Log, LogError, RecoveryReport};
use crate::names::TMP_SUFFIX;
use crate::storage::{join, Storage};

/// The recovery point checkpoint's file name (Kafka's `RECOVERY_POINT_CHECKPOINT_FILE`).
pub const RECOVERY_POINT_CHECKPOINT: &str = crate::names::RECOVERY_POINT_CHECKPOINT;
/// The log start offset checkpoint's file name (Kafka's `LOG_START_OFFSET_CHECKPOINT_FILE`).
pub const LOG_START_OFFSET_CHECKPOINT: &str = crate::names::LOG_START_OFFSET_CHECKPOINT;

/// Kafka's `log.initial.task.delay.ms` default: the periodic tasks first run this long after
/// the directory is opened (not configurable here).
pub(super) const INITIAL_TASK_DELAY_MS: i64 = 30_000;

/// Kafka skips these directories when loading logs (the tiered storage index cache and the
/// KRaft metadata log, which is not a partition log of this layer).
const REMOTE_INDEX_CACHE: &str = "remote-log-index-cache";
const METADATA_TOPIC: &str = "__cluster_metadata";

/// The log directory's settings, named after Kafka's broker configs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogManagerConfig {
    /// `node.id`: must match `meta.properties` when the directory has one.
    pub node_id: i32,
    /// The cluster id written to `meta.properties` when it is missing (ignored otherwise).
    pub cluster_id: String,
    /// The directory id written to `meta.properties` when it is missing or has none.
    pub directory_id: Uuid,
    /// The configuration of logs created without one of their own (the broker's defaults).
    pub default_log: LogConfig,
    /// `log.flush.offset.checkpoint.interval.ms` (60000).
    pub recovery_point_checkpoint_interval_ms: i64,
    /// `log.flush.start.offset.checkpoint.interval.ms` (60000).
    pub log_start_offset_checkpoint_interval_ms: i64,
    /// `log.retention.check.interval.ms` (300000).
    pub retention_check_interval_ms: i64,
    /// `producer.id.expiration.check.interval.ms` (600000).
    pub producer_id_expiration_check_interval_ms: i64,
}

impl LogManagerConfig {
    /// A configuration with Kafka 4.4.0's default intervals and log configuration.
    pub fn new(node_id: i32, cluster_id: String, directory_id: Uuid) -> Self {
        LogManagerConfig {
            node_id,
            cluster_id,
            directory_id,
            default_log: LogConfig::default(),
            recovery_point_checkpoint_interval_ms: 60_000,
            log_start_offset_checkpoint_interval_ms: 60_000,
            retention_check_interval_ms: 300_000,
            producer_id_expiration_check_interval_ms: 600_000,
        }
    }
}

/// A log directory operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogDirError {
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A checkpoint file could not be written.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A partition's log failed.
    #[error("{topic}-{partition}: {source}")]
    Log {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// What failed.
        source: LogError,
    },
    /// A topic configuration is invalid (INVALID_CONFIG); nothing was changed.
    #[error("topic {topic}: {source}")]
    Config {
        /// The topic.
        topic: String,
        /// What is wrong.
        source: crate::config::ConfigError,
    },
    /// `meta.properties` is unreadable (Kafka refuses to start).
    #[error("{META_PROPERTIES}: {0}")]
    MetaProperties(LogDirFileError),
    /// `meta.properties` names another node (Kafka's `MetaPropertiesEnsemble.verify`, with
    /// its message).
    #[error("Stored node id {stored} doesn't match previous node id {configured} in {META_PROPERTIES}. If you moved your data, make sure your configured node id matches. If you intend to create a new node, you should remove all data in your data directories.")]
    NodeIdMismatch {
        /// `node.id` in `meta.properties`.
        stored: i32,
        /// The configured node id.
        configured: i32,
    },
    /// A directory whose name is not a partition's (Kafka refuses to start).
    #[error("found directory {name}, '{name}' is not in the form of topic-partition or topic-partition.uniqueId-delete (if marked for deletion)")]
    NotAPartitionDir {
        /// The directory's name.
        name: String,
    },
    /// A partition's `partition.metadata` is unreadable.
    #[error("{dir}/{PARTITION_METADATA}: {source}")]
    PartitionMetadata {
        /// The partition directory.
        dir: String,
        /// What is wrong.
        source: LogDirFileError,
    },
    /// The partition exists with another topic id (Kafka's `InconsistentTopicIdException`).
    #[error("tried to assign topic id {requested:?} to the log of {topic}-{partition}, but it already has topic id {existing:?}")]
    InconsistentTopicId {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The log's topic id.
        existing: Uuid,
        /// The one asked for.
        requested: Uuid,
    },
    /// An earlier failure of this directory made it unusable (Kafka takes it offline).
    #[error("the log directory failed earlier ({cause}); reopen it")]
    Offline {
        /// The first failure.
        cause: String,
    },
}

impl LogDirError {
    /// Kafka's error code for it.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            LogDirError::Log { source, .. } => source.error_code(),
            LogDirError::InconsistentTopicId { .. } => ErrorCode::InconsistentTopicId,
            LogDirError::Config { .. } => ErrorCode::InvalidConfig,
            _ => ErrorCode::KafkaStorageError,
        }
    }
}

/// What opening one partition found (for the broker's logs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionReport {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// Its topic id, from `partition.metadata`.
    pub topic_id: Uuid,
    /// The log start offset after opening.
    pub log_start_offset: u64,
    /// The log end offset after opening.
    pub log_end_offset: u64,
    /// Segments.
    pub segments: usize,
    /// What recovery did.
    pub recovery: RecoveryReport,
}

/// What [`LogManager::open`] found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogDirReport {
    /// `.kafka_cleanshutdown` was there (and was deleted before loading, as Kafka does): no
    /// partition was re-validated.
    pub had_clean_shutdown: bool,
    /// `meta.properties` was missing and written (or rewritten to add the directory id).
    pub wrote_meta_properties: bool,
    /// Why `recovery-point-offset-checkpoint` could not be read, if so (every partition then
    /// recovered from offset 0, as Kafka resets it).
    pub unreadable_recovery_point_checkpoint: Option<CheckpointError>,
    /// Why `log-start-offset-checkpoint` could not be read, if so (logs then start at their
    /// first segment, as Kafka resets it).
    pub unreadable_log_start_checkpoint: Option<CheckpointError>,
    /// Every partition opened, by (topic, partition).
    pub partitions: Vec<PartitionReport>,
    /// `-delete` directories found and removed.
    pub deleted_dirs: Vec<String>,
    /// Partition directories without `partition.metadata`, renamed `-stray` as Kafka 4.4 does
    /// with a log without topic id: `(old name, new name)`.
    pub made_stray: Vec<(String, String)>,
    /// `-stray` and `-future` directories found and left alone (not opened).
    pub ignored_dirs: Vec<String>,
}

/// Kafka's `LogManager` for one log directory: the partitions' logs over one storage, the
/// directory's `meta.properties`, both offset checkpoints written for all partitions at once,
/// the time-driven maintenance ([`poll_timeout`](LogManager::poll_timeout) /
/// [`handle_timeout`](LogManager::handle_timeout)) and the clean shutdown marker.
///
/// Call order: [`open`](LogManager::open), then any of the partition calls, with
/// `handle_timeout` called when `poll_timeout` is due, then [`shutdown`](LogManager::shutdown).
#[derive(Debug)]
pub struct LogManager<S: Storage + Clone> {
    pub(super) st: S,
    pub(super) cfg: LogManagerConfig,
    meta: MetaProperties,
    pub(super) logs: BTreeMap<(String, i32), Log<S>>,
    topic_ids: BTreeMap<String, Uuid>,
    pub(super) next_retention_ms: i64,
    pub(super) next_recovery_checkpoint_ms: i64,
    pub(super) next_start_checkpoint_ms: i64,
    pub(super) next_producer_expiry_ms: i64,
    set_aside_count: u64,
    pub(super) failed: Option<String>,
}

/// Writes `data` to `path` durably and atomically: a `.tmp` file, synced, renamed over `path`,
/// the directory synced.
fn write_file<S: Storage>(
    st: &mut S,
    dir: &str,
    path: &str,
    data: &[u8],
) -> Result<(), StorageError> {
    let tmp = format!("{path}{TMP_SUFFIX}");
    let mut f = st.open(&tmp, true)?;
    st.set_len(&mut f, 0)?;
    st.write_at(&mut f, 0, data)?;
    st.sync(&mut f)?;
    st.rename(&tmp, path)?;
    st.sync_dir(dir)
}

/// The whole file at `path`, `None` when missing; `what` names it in errors.
fn read_file<S: Storage>(st: &mut S, path: &str) -> Result<Option<Vec<u8>>, StorageError> {
    let mut f = match st.open(path, false) {
        Ok(f) => f,
        Err(StorageError::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(e),
    };
    let len = st.len(&mut f)?;
    // the directory's own files are small; refuse to allocate for a huge one
    if len > 1 << 20 {
        return Err(StorageError::Io {
            op: "read",
            path: path.to_string(),
            detail: format!("{len} bytes: larger than the 1 MiB a log directory file may have"),
        });
    }
    let mut buf = vec![0u8; len as usize];
    st.read_exact_at(&mut f, 0, &mut buf)?;
    Ok(Some(buf))
}

fn text_of(bytes: &[u8], file: &'static str) -> Result<String, LogDirFileError> {
    core::str::from_utf8(bytes)
        .map(str::to_string)
        .map_err(|_| LogDirFileError::Malformed {
            file,
            line: String::new(),
            expected: "UTF-8 text",
        })
}

/// The partition's entry in a checkpoint read, 0 when none (Kafka's `getOrDefault(tp, 0)`).
fn entry_of(entries: &[CheckpointEntry], topic: &str, partition: i32) -> u64 {
    entries
        .iter()
        .find(|e| e.topic == topic && e.partition == partition)
        .map_or(0, |e| e.offset)
}

impl<S: Storage + Clone> LogManager<S> {
    /// Opens the log directory at `st`'s root as Kafka's `LogManager.loadLogs` does:
    /// `meta.properties` checked (its `node.id` must be `cfg.node_id`) or written when missing;
    /// `.kafka_cleanshutdown` deleted if present (before loading, so a crash while loading
    /// counts as unclean) and then honoured by every partition (no segment re-validated); both
    /// checkpoints read (an unreadable one is reset, as Kafka does, and reported); every
    /// `topic-partition` directory opened with its `partition.metadata` topic id and
    /// `topic_config(topic)`, and recovered. A partition directory without `partition.metadata`
    /// is renamed `-stray` and not opened (Kafka 4.4 treats a log without topic id as stray);
    /// `-delete` directories are removed at once (Kafka removes them after
    /// `file.delete.delay.ms`); `-stray` and `-future` ones are left alone; the KRaft metadata
    /// log and `remote-log-index-cache` are skipped; any other directory name is an error
    /// ([`LogDirError::NotAPartitionDir`]: Kafka refuses to start). Files in the root other
    /// than its own are left alone.
    pub fn open(
        mut st: S,
        cfg: LogManagerConfig,
        topic_config: &dyn Fn(&str) -> LogConfig,
        now_ms: i64,
    ) -> Result<(Self, LogDirReport), LogDirError> {
        let mut report = LogDirReport::default();
        let meta = Self::load_meta(&mut st, &cfg, &mut report)?;

        if st.exists(CLEAN_SHUTDOWN)? {
            st.remove(CLEAN_SHUTDOWN)?;
            st.sync_dir("")?;
            report.had_clean_shutdown = true;
        }
        let mut read_ckpt =
            |path: &str| -> Result<(Vec<CheckpointEntry>, Option<CheckpointError>), LogDirError> {
                match checkpoint::read(&mut st, path) {
                    Ok(e) => Ok((e, None)),
                    Err(CheckpointError::Storage(e)) => Err(e.into()),
                    Err(e) => Ok((Vec::new(), Some(e))),
                }
            };
        let (recovery_points, bad_rp) = read_ckpt(RECOVERY_POINT_CHECKPOINT)?;
        let (log_starts, bad_ls) = read_ckpt(LOG_START_OFFSET_CHECKPOINT)?;
        report.unreadable_recovery_point_checkpoint = bad_rp;
        report.unreadable_log_start_checkpoint = bad_ls;

        let first_task = now_ms.saturating_add(INITIAL_TASK_DELAY_MS);
        let mut mgr = LogManager {
            st,
            meta,
            logs: BTreeMap::new(),
            topic_ids: BTreeMap::new(),
            next_retention_ms: first_task,
            next_recovery_checkpoint_ms: first_task,
            next_start_checkpoint_ms: first_task,
            next_producer_expiry_ms: if cfg.producer_id_expiration_check_interval_ms <= 0 {
                now_ms
            } else {
                now_ms.saturating_add(cfg.producer_id_expiration_check_interval_ms)
            },
            set_aside_count: 0,
            failed: None,
            cfg,
        };
        for name in mgr.st.list_dirs("")? {
            if name == REMOTE_INDEX_CACHE {
                continue;
            }
            let parsed = parse_dir_name(&name)
                .ok_or_else(|| LogDirError::NotAPartitionDir { name: name.clone() })?;
            if parsed.topic == METADATA_TOPIC {
                continue;
            }
            match parsed.kind {
                DirKind::Delete => {
                    mgr.remove_dir_files(&name)?;
                    report.deleted_dirs.push(name);
                    continue;
                }
                DirKind::Stray | DirKind::Future => {
                    report.ignored_dirs.push(name);
                    continue;
                }
                DirKind::Partition => {}
            }
            let (topic, partition) = (parsed.topic, parsed.partition);
            let md_path = join(&name, PARTITION_METADATA);
            let topic_id = match read_file(&mut mgr.st, &md_path)? {
                Some(bytes) => {
                    let md = text_of(&bytes, PARTITION_METADATA)
                        .and_then(|t| PartitionMetadata::parse(&t))
                        .map_err(|source| LogDirError::PartitionMetadata {
                            dir: name.clone(),
                            source,
                        })?;
                    md.topic_id
                }
                None => {
                    let stray = mgr.set_aside(&topic, partition, "-stray", now_ms)?;
                    report.made_stray.push((name, stray));
                    continue;
                }
            };
            let opts = LoadOptions {
                recovery_point: entry_of(&recovery_points, &topic, partition),
                log_start_offset: entry_of(&log_starts, &topic, partition),
                had_clean_shutdown: report.had_clean_shutdown,
            };
            let (log, recovery) = Log::open_with(
                mgr.st.clone(),
                &topic,
                partition,
                topic_config(&topic),
                opts,
                now_ms,
            )
            .map_err(|source| LogDirError::Log {
                topic: topic.clone(),
                partition,
                source,
            })?;
            report.partitions.push(PartitionReport {
                topic: topic.clone(),
                partition,
                topic_id,
                log_start_offset: log.log_start_offset(),
                log_end_offset: log.log_end_offset(),
                segments: log.segment_count(),
                recovery,
            });
            mgr.topic_ids.insert(topic.clone(), topic_id);
            mgr.logs.insert((topic, partition), log);
        }
        report
            .partitions
            .sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        Ok((mgr, report))
    }

    /// `meta.properties`: read and checked, or written when missing (or lacking the directory
    /// id, which Kafka 4.4 adds at startup).
    fn load_meta(
        st: &mut S,
        cfg: &LogManagerConfig,
        report: &mut LogDirReport,
    ) -> Result<MetaProperties, LogDirError> {
        let meta = match read_file(st, META_PROPERTIES)? {
            Some(bytes) => {
                let m = text_of(&bytes, META_PROPERTIES)
                    .and_then(|t| MetaProperties::parse(&t))
                    .map_err(LogDirError::MetaProperties)?;
                if m.node_id != cfg.node_id {
                    return Err(LogDirError::NodeIdMismatch {
                        stored: m.node_id,
                        configured: cfg.node_id,
                    });
                }
                if m.directory_id.is_some() {
                    return Ok(m);
                }
                MetaProperties {
                    directory_id: Some(cfg.directory_id),
                    ..m
                }
            }
            None => MetaProperties {
                cluster_id: cfg.cluster_id.clone(),
                node_id: cfg.node_id,
                directory_id: Some(cfg.directory_id),
            },
        };
        write_file(st, "", META_PROPERTIES, meta.render().as_bytes())?;
        report.wrote_meta_properties = true;
        Ok(meta)
    }

    /// The directory's `meta.properties` (the effective cluster id, node id and directory id).
    pub fn meta(&self) -> &MetaProperties {
        &self.meta
    }

    /// The configuration.
    pub fn config(&self) -> &LogManagerConfig {
        &self.cfg
    }

    /// The storage (the directory's root).
    pub fn storage(&self) -> &S {
        &self.st
    }

    /// The storage, to keep other files in the directory's root (the broker's own metadata).
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.st
    }

    fn check_online(&self) -> Result<(), LogDirError> {
        match &self.failed {
            Some(cause) => Err(LogDirError::Offline {
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Records a failure of the directory's own files: from now on it refuses work (Kafka
    /// takes the log directory offline).
    pub(super) fn fail<T>(&mut self, r: Result<T, LogDirError>) -> Result<T, LogDirError> {
        if let Err(e) = &r {
            if self.failed.is_none() {
                self.failed = Some(e.to_string());
            }
        }
        r
    }

    /// Creates the log of `topic`-`partition` (Kafka's `getOrCreateLog`), or returns it when
    /// it exists with the same topic id ([`LogDirError::InconsistentTopicId`] with another).
    /// `partition.metadata` is written (tmp, sync, rename, directory sync) before the log is
    /// returned, so a log holding data always has its topic id on disk.
    pub fn create_log(
        &mut self,
        topic: &str,
        partition: i32,
        topic_id: Uuid,
        cfg: LogConfig,
        now_ms: i64,
    ) -> Result<&mut Log<S>, LogDirError> {
        self.check_online()?;
        let key = (topic.to_string(), partition);
        if self.logs.contains_key(&key) {
            let existing = self.topic_ids.get(topic).copied().unwrap_or(Uuid::ZERO);
            if existing != topic_id {
                return Err(LogDirError::InconsistentTopicId {
                    topic: topic.to_string(),
                    partition,
                    existing,
                    requested: topic_id,
                });
            }
            return Ok(self.logs.get_mut(&key).expect("present"));
        }
        let (log, _) = Log::open_with(
            self.st.clone(),
            topic,
            partition,
            cfg,
            LoadOptions::default(),
            now_ms,
        )
        .map_err(|source| LogDirError::Log {
            topic: topic.to_string(),
            partition,
            source,
        })?;
        let dir = log.dir().to_string();
        let md = PartitionMetadata { topic_id }.render();
        let r = write_file(
            &mut self.st,
            &dir,
            &join(&dir, PARTITION_METADATA),
            md.as_bytes(),
        )
        .map_err(LogDirError::from);
        self.fail(r)?;
        self.topic_ids.insert(topic.to_string(), topic_id);
        Ok(self.logs.entry(key).or_insert(log))
    }

    /// The log of `topic`-`partition`.
    pub fn log(&self, topic: &str, partition: i32) -> Option<&Log<S>> {
        self.logs.get(&(topic.to_string(), partition))
    }

    /// The log of `topic`-`partition`, to append, read, flush, truncate ...
    pub fn log_mut(&mut self, topic: &str, partition: i32) -> Option<&mut Log<S>> {
        self.logs.get_mut(&(topic.to_string(), partition))
    }

    /// Every log, sorted by (topic, partition).
    pub fn logs(&self) -> impl Iterator<Item = ((&str, i32), &Log<S>)> {
        self.logs.iter().map(|((t, p), l)| ((t.as_str(), *p), l))
    }

    /// The topic id of a topic with a partition here.
    pub fn topic_id(&self, topic: &str) -> Option<Uuid> {
        self.topic_ids.get(topic).copied()
    }

    /// Deletes the log of `topic`-`partition` (Kafka's `asyncDelete`): its directory is renamed
    /// `topic-partition.<id>-delete` (durable), both checkpoints are rewritten without it, then
    /// its files and the directory are removed. Kafka removes them `file.delete.delay.ms` (60 s)
    /// later; klog at once (a `-delete` directory left by a crash is removed by the next
    /// [`open`](LogManager::open)). A partition that is not here is no error, as in Kafka.
    pub fn delete_log(
        &mut self,
        topic: &str,
        partition: i32,
        now_ms: i64,
    ) -> Result<(), LogDirError> {
        self.check_online()?;
        let Some(log) = self.logs.remove(&(topic.to_string(), partition)) else {
            return Ok(());
        };
        drop(log.into_storage());
        if !self.logs.keys().any(|(t, _)| t == topic) {
            self.topic_ids.remove(topic);
        }
        let r = self.delete_inner(topic, partition, now_ms);
        self.fail(r)
    }

    fn delete_inner(
        &mut self,
        topic: &str,
        partition: i32,
        now_ms: i64,
    ) -> Result<(), LogDirError> {
        let doomed = self.set_aside(topic, partition, "-delete", now_ms)?;
        self.checkpoint_inner()?;
        self.remove_dir_files(&doomed)
    }

    /// Renames the partition's directory `topic-partition.<id><suffix>` (durable); returns the
    /// new name. The id is unique in this directory: derived from the directory id, `now_ms`
    /// and a counter (Kafka uses a random UUID; klog reads no OS randomness).
    fn set_aside(
        &mut self,
        topic: &str,
        partition: i32,
        suffix: &str,
        now_ms: i64,
    ) -> Result<String, LogDirError> {
        let from = crate::names::partition_dir(topic, partition);
        let taken = self.st.list_dirs("")?;
        let name = loop {
            self.set_aside_count += 1;
            let id = unique_id(self.cfg.directory_id, now_ms, self.set_aside_count);
            let name = set_aside_dir_name(topic, partition, id, suffix);
            if !taken.contains(&name) {
                break name;
            }
        };
        self.st.rename_dir(&from, &name)?;
        self.st.sync_dir("")?;
        Ok(name)
    }

    /// Removes every file in directory `dir`, then the directory (durable).
    fn remove_dir_files(&mut self, dir: &str) -> Result<(), LogDirError> {
        for f in self.st.list(dir)? {
            self.st.remove(&join(dir, &f))?;
        }
        self.st.remove_dir(dir)?;
        self.st.sync_dir("")?;
        Ok(())
    }

    /// Sets the configuration of every partition of `topic` (Kafka's `updateTopicConfig`);
    /// refused, with nothing changed, when invalid.
    pub fn set_log_config(&mut self, topic: &str, cfg: LogConfig) -> Result<(), LogDirError> {
        cfg.validate().map_err(|source| LogDirError::Config {
            topic: topic.to_string(),
            source,
        })?;
        for ((t, p), log) in self.logs.iter_mut() {
            if t == topic {
                log.set_config(cfg.clone())
                    .map_err(|source| LogDirError::Log {
                        topic: t.clone(),
                        partition: *p,
                        source,
                    })?;
            }
        }
        Ok(())
    }

    /// Writes both checkpoints for all partitions (Kafka's `checkpointLogRecoveryOffsets` and
    /// `checkpointLogStartOffsets`): every partition's recovery point, and the log start offset
    /// of those whose log starts above their first segment (Kafka leaves the others out). Each
    /// file is written whole (tmp, sync, rename, directory sync), entries sorted by (topic,
    /// partition).
    pub fn checkpoint(&mut self) -> Result<(), LogDirError> {
        self.check_online()?;
        let r = self.checkpoint_inner();
        self.fail(r)
    }

    pub(super) fn checkpoint_recovery_points(&mut self) -> Result<(), LogDirError> {
        let entries: Vec<CheckpointEntry> = self
            .logs
            .iter()
            .map(|((t, p), l)| CheckpointEntry {
                topic: t.clone(),
                partition: *p,
                offset: l.recovery_point(),
            })
            .collect();
        checkpoint::write(&mut self.st, "", RECOVERY_POINT_CHECKPOINT, &entries)?;
        Ok(())
    }

    pub(super) fn checkpoint_log_starts(&mut self) -> Result<(), LogDirError> {
        let entries: Vec<CheckpointEntry> = self
            .logs
            .iter()
            .filter(|(_, l)| {
                l.segments()
                    .next()
                    .is_some_and(|s| l.log_start_offset() > s.base_offset())
            })
            .map(|((t, p), l)| CheckpointEntry {
                topic: t.clone(),
                partition: *p,
                offset: l.log_start_offset(),
            })
            .collect();
        checkpoint::write(&mut self.st, "", LOG_START_OFFSET_CHECKPOINT, &entries)?;
        Ok(())
    }

    fn checkpoint_inner(&mut self) -> Result<(), LogDirError> {
        self.checkpoint_recovery_points()?;
        self.checkpoint_log_starts()
    }

    /// Stops cleanly (Kafka's `LogManager.shutdown`): every log flushed and closed (roll-time
    /// index entries, trimmed indexes, producer snapshots), both checkpoints written (every
    /// recovery point is then the log end offset), then `.kafka_cleanshutdown` (broker epoch
    /// -1: this layer knows none), so the next [`open`](LogManager::open) re-validates nothing.
    /// When a log fails to close, the checkpoints and the marker are not written (as Kafka
    /// skips them for a directory whose logs did not all close) and the first error is
    /// returned. Returns the storage.
    pub fn shutdown(mut self, now_ms: i64) -> Result<S, LogDirError> {
        self.check_online()?;
        let logs = core::mem::take(&mut self.logs);
        let mut entries = Vec::with_capacity(logs.len());
        let mut starts = Vec::new();
        let mut first_err = None;
        for ((topic, partition), log) in logs {
            let (leo, start) = (log.log_end_offset(), log.log_start_offset());
            let first_base = log.segments().next().map_or(0, |s| s.base_offset());
            match log.close(now_ms) {
                Ok(_) => {}
                Err(source) => {
                    first_err.get_or_insert(LogDirError::Log {
                        topic: topic.clone(),
                        partition,
                        source,
                    });
                }
            }
            if start > first_base {
                starts.push(CheckpointEntry {
                    topic: topic.clone(),
                    partition,
                    offset: start,
                });
            }
            entries.push(CheckpointEntry {
                topic,
                partition,
                offset: leo,
            });
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        checkpoint::write(&mut self.st, "", RECOVERY_POINT_CHECKPOINT, &entries)?;
        checkpoint::write(&mut self.st, "", LOG_START_OFFSET_CHECKPOINT, &starts)?;
        let marker = CleanShutdown { broker_epoch: -1 }.render();
        write_file(&mut self.st, "", CLEAN_SHUTDOWN, marker.as_bytes())?;
        Ok(self.st)
    }
}

/// A 128-bit id from the directory id, a time and a counter (splitmix64 over them): distinct
/// for distinct counters.
fn unique_id(dir: Uuid, now_ms: i64, counter: u64) -> u128 {
    fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let d = u128::from_be_bytes(dir.0);
    let seed = mix((d as u64) ^ mix((d >> 64) as u64) ^ mix(now_ms as u64));
    // the low half is the counter itself, so ids never repeat within a directory's life
    (u128::from(mix(seed ^ counter)) << 64) | u128::from(counter)
}
