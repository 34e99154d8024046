//! A partition's log (Kafka's `UnifiedLog` + `LocalLog` + `LogLoader`): segments, leader
//! appends, reads, timestamp lookups, roll, retention, flush and recovery.

mod append;
#[cfg(test)]
mod crash_tests;
mod read;
mod recovery;
#[cfg(test)]
mod recovery_tests;
#[cfg(test)]
mod start_offset_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod txn_tests;

pub use append::{AppendError, AppendInfo};
pub use read::ListOffsetsTimestamp;
pub use recovery::{LoadOptions, RecoveryReport};

use crate::checkpoint;
use crate::config::LogConfig;
use crate::error::StorageError;
use crate::names;
use crate::producer_state::{ProducerStateManager, SnapshotError};
use crate::segment::{LogSegment, SegmentError};
use crate::storage::Storage;
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use kproto::ErrorCode;

/// A log operation other than an append failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A segment failed.
    #[error(transparent)]
    Segment(#[from] SegmentError),
    /// The recovery point checkpoint is unreadable.
    #[error(transparent)]
    Checkpoint(#[from] checkpoint::CheckpointError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// An offset outside `log start offset..=log end offset` was asked for (OFFSET_OUT_OF_RANGE).
    #[error("offset {offset} is outside {log_start_offset}..={log_end_offset}")]
    OffsetOutOfRange {
        /// The offset asked for.
        offset: u64,
        /// The log start offset.
        log_start_offset: u64,
        /// The log end offset.
        log_end_offset: u64,
    },
    /// The log start offset cannot move past the high watermark (Kafka's
    /// `maybeIncrementLogStartOffset`: OFFSET_OUT_OF_RANGE).
    #[error("cannot increment the log start offset of {dir} to {offset}: it is larger than the high watermark {high_watermark}")]
    AboveHighWatermark {
        /// The partition directory.
        dir: String,
        /// The log start offset asked for.
        offset: u64,
        /// The high watermark.
        high_watermark: u64,
    },
    /// An earlier storage failure left the log unusable; reopen it to recover.
    #[error("log {dir} failed earlier ({cause}); reopen it to recover")]
    Failed {
        /// The partition directory.
        dir: String,
        /// The first failure.
        cause: String,
    },
}

impl LogError {
    /// Kafka's error code for it.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            LogError::OffsetOutOfRange { .. } | LogError::AboveHighWatermark { .. } => {
                ErrorCode::OffsetOutOfRange
            }
            LogError::Config(_) => ErrorCode::InvalidConfig,
            _ => ErrorCode::KafkaStorageError,
        }
    }
}

/// What [`Log::truncate_to`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TruncateReport {
    /// Offsets were removed (false when the offset was at or past the log end: nothing
    /// changed).
    pub truncated: bool,
    /// Producer snapshots found corrupt while the producer state was reloaded, by offset with
    /// the reason: each was deleted and an older snapshot or the log used instead.
    pub corrupt_snapshots: Vec<(u64, SnapshotError)>,
}

/// One partition's log on a [`Storage`] whose root is a Kafka log directory (`log.dirs`):
/// the partition lives in `topic-partition/`. Its recovery point and log start offset are
/// checkpointed in the root's `recovery-point-offset-checkpoint` and
/// `log-start-offset-checkpoint` by the log directory layer
/// ([`crate::log_dir::LogManager`]), for all partitions at once; the log reads them (through
/// [`Log::open`] or [`LoadOptions`]) but never writes them.
#[derive(Debug)]
pub struct Log<S: Storage> {
    st: S,
    topic: String,
    partition: i32,
    dir: String,
    cfg: LogConfig,
    segments: BTreeMap<u64, LogSegment<S::File>>,
    log_start_offset: u64,
    log_end_offset: u64,
    recovery_point: u64,
    last_flush_ms: i64,
    leader_epoch: i32,
    producers: ProducerStateManager,
    /// The offset of the newest producer snapshot taken or loaded (Kafka's `lastSnapOffset`).
    last_snap_offset: u64,
    /// Offsets below it are replicated (klog has no replication: the owner sets it; opening
    /// sets it to the log end offset).
    high_watermark: u64,
    /// Files were created or removed since the directory was last synced.
    dir_dirty: bool,
    failed: Option<String>,
}

impl<S: Storage> Log<S> {
    /// The partition directory (`topic-partition`).
    pub fn dir(&self) -> &str {
        &self.dir
    }

    /// The configuration.
    pub fn config(&self) -> &LogConfig {
        &self.cfg
    }

    /// The first offset still in the log (at or above the first segment's base offset: after
    /// [`Log::increment_log_start_offset`] it may lie inside a segment).
    pub fn log_start_offset(&self) -> u64 {
        self.log_start_offset
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The partition.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// When the log was last flushed (or opened), for the `flush.ms` policy.
    pub fn last_flush_ms(&self) -> i64 {
        self.last_flush_ms
    }

    /// Replaces the configuration (Kafka's `updateConfig`, after an AlterConfigs or a broker
    /// default change); refused when invalid. It applies from the next append, roll,
    /// retention pass or flush check; the existing segments and their preallocated indexes
    /// are left as they are (Kafka's behaviour too).
    pub fn set_config(&mut self, cfg: LogConfig) -> Result<(), LogError> {
        cfg.validate()?;
        self.cfg = cfg;
        Ok(())
    }

    /// Moves the log start offset up to `offset` (Kafka's `UnifiedLog.maybeIncrementLogStartOffset`
    /// for DeleteRecords): offsets below it are no longer read or listed; the producer state
    /// forgets what lies below it. An offset at or below the current log start changes nothing;
    /// one above the high watermark is refused ([`LogError::AboveHighWatermark`],
    /// OFFSET_OUT_OF_RANGE). Segments wholly below the new log start stay on disk until the
    /// next retention pass ([`Log::delete_old_segments`]) deletes them, as Kafka's
    /// `deleteLogStartOffsetBreachedSegments` does; the directory layer checkpoints the new
    /// log start in `log-start-offset-checkpoint`.
    pub fn increment_log_start_offset(&mut self, offset: u64) -> Result<(), LogError> {
        self.check_failed()?;
        if offset > self.high_watermark {
            return Err(LogError::AboveHighWatermark {
                dir: self.dir.clone(),
                offset,
                high_watermark: self.high_watermark,
            });
        }
        if offset > self.log_start_offset {
            self.log_start_offset = offset;
            self.producers.on_log_start_offset_incremented(offset);
        }
        Ok(())
    }

    /// The offset the next record will get.
    pub fn log_end_offset(&self) -> u64 {
        self.log_end_offset
    }

    /// Every offset below it is durable (synced).
    pub fn recovery_point(&self) -> u64 {
        self.recovery_point
    }

    /// Sum of the segments' sizes.
    pub fn size(&self) -> u64 {
        self.segments.values().map(|s| u64::from(s.size())).sum()
    }

    /// The segments, by base offset.
    pub fn segments(&self) -> impl Iterator<Item = &LogSegment<S::File>> {
        self.segments.values()
    }

    /// Number of segments.
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// The producer state.
    pub fn producer_state(&self) -> &ProducerStateManager {
        &self.producers
    }

    /// Forgets the producers idle for `producer.id.expiration.ms` at `now_ms` with no
    /// transaction in progress (Kafka's periodic `removeExpiredProducers`); a later batch of
    /// theirs may start at any sequence.
    pub fn remove_expired_producers(&mut self, now_ms: i64) {
        self.producers
            .remove_expired(now_ms, self.cfg.producer_id_expiration_ms);
    }

    /// The partition leader epoch stamped on appended batches.
    pub fn leader_epoch(&self) -> i32 {
        self.leader_epoch
    }

    /// Sets the partition leader epoch stamped on appended batches.
    pub fn set_leader_epoch(&mut self, epoch: i32) {
        self.leader_epoch = epoch;
    }

    /// The storage.
    pub fn storage(&self) -> &S {
        &self.st
    }

    /// Whether an earlier storage failure made the log unusable.
    pub fn is_failed(&self) -> bool {
        self.failed.is_some()
    }

    fn check_failed(&self) -> Result<(), LogError> {
        match &self.failed {
            Some(cause) => Err(LogError::Failed {
                dir: self.dir.clone(),
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Records a storage failure: from now on the log refuses work (as Kafka takes the log
    /// directory offline) until it is reopened.
    fn fail<E: core::fmt::Display>(&mut self, e: &E) {
        if self.failed.is_none() {
            self.failed = Some(e.to_string());
        }
    }

    fn active(&mut self) -> &mut LogSegment<S::File> {
        self.segments
            .values_mut()
            .next_back()
            .expect("a log always has a segment")
    }

    /// Syncs every segment holding offsets below `upto` and not yet synced, the directory
    /// when files came or went, then moves the recovery point to `upto` (in memory: the log
    /// directory layer checkpoints every partition's recovery point, as Kafka's `LogManager`
    /// does; a log never writes `recovery-point-offset-checkpoint` itself).
    pub fn flush_upto(&mut self, upto: u64, now_ms: i64) -> Result<(), LogError> {
        self.check_failed()?;
        let r = self.flush_inner(upto, now_ms);
        if let Err(e) = &r {
            self.fail(e);
        }
        r
    }

    fn flush_inner(&mut self, upto: u64, now_ms: i64) -> Result<(), LogError> {
        let upto = upto.min(self.log_end_offset);
        if upto <= self.recovery_point && !self.dir_dirty {
            return Ok(());
        }
        let from = self.recovery_point;
        let st = &mut self.st;
        for (_, seg) in self.segments.range_mut(..upto.max(1)).rev() {
            if seg.next_offset() <= from && seg.size() > 0 {
                break;
            }
            seg.flush(st)?;
        }
        if self.dir_dirty {
            self.st.sync_dir(&self.dir)?;
            self.dir_dirty = false;
        }
        if upto > self.recovery_point {
            self.recovery_point = upto;
        }
        self.last_flush_ms = now_ms;
        Ok(())
    }

    /// Syncs everything (Kafka's `flush()`): the recovery point becomes the log end offset.
    pub fn flush(&mut self, now_ms: i64) -> Result<(), LogError> {
        let leo = self.log_end_offset;
        self.flush_upto(leo, now_ms)
    }

    /// The time-based flush policy (`flush.ms`): flushes when the last flush is older.
    pub fn maybe_flush(&mut self, now_ms: i64) -> Result<bool, LogError> {
        if self.log_end_offset > self.recovery_point
            && now_ms.saturating_sub(self.last_flush_ms) >= self.cfg.flush_ms
        {
            self.flush(now_ms)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Rolls: the active segment becomes inactive (roll-time time index entry, indexes
    /// trimmed), a new segment starts at the log end offset, the producer state is
    /// snapshotted there, and everything below it is flushed.
    pub fn roll(&mut self, now_ms: i64) -> Result<(), LogError> {
        self.check_failed()?;
        let r = self.roll_inner(now_ms);
        if let Err(e) = &r {
            self.fail(e);
        }
        r
    }

    fn roll_inner(&mut self, now_ms: i64) -> Result<(), LogError> {
        let new_base = self.log_end_offset;
        if self.active().base_offset() == new_base && self.active().size() == 0 {
            // nothing to roll away from: recreate the empty active segment in place
            let seg = self.segments.remove(&new_base).expect("active segment");
            seg.delete(&mut self.st)?;
        } else {
            let st = &mut self.st;
            self.segments
                .values_mut()
                .next_back()
                .expect("a log always has a segment")
                .on_become_inactive(st)?;
        }
        let seg = LogSegment::create(
            &mut self.st,
            &self.dir,
            new_base,
            self.cfg.index_interval_bytes,
            self.cfg.segment_index_bytes,
            now_ms,
        )?;
        self.segments.insert(new_base, seg);
        self.dir_dirty = true;
        self.producers.set_map_end_offset(new_base);
        self.take_producer_snapshot()?;
        self.flush_inner(new_base, now_ms)?;
        Ok(())
    }

    /// Writes the producer state as `<map end offset>.snapshot` (tmp, sync, rename) unless a
    /// snapshot at or past that offset was taken or loaded already (Kafka's `takeSnapshot`:
    /// a Kafka-written snapshot is never rewritten).
    fn take_producer_snapshot(&mut self) -> Result<(), LogError> {
        let offset = self.producers.map_end_offset();
        if offset <= self.last_snap_offset {
            return Ok(());
        }
        let path = names::segment_file(&self.dir, offset, names::SNAPSHOT_SUFFIX);
        let tmp = alloc::format!("{path}{}", names::TMP_SUFFIX);
        let bytes = self.producers.encode_snapshot();
        let mut f = self.st.open(&tmp, true)?;
        self.st.set_len(&mut f, 0)?;
        self.st.write_at(&mut f, 0, &bytes)?;
        self.st.sync(&mut f)?;
        self.st.rename(&tmp, &path)?;
        self.dir_dirty = true;
        self.last_snap_offset = offset;
        Ok(())
    }

    /// The offsets of the producer snapshots in the partition directory.
    fn snapshot_offsets(&mut self) -> Result<BTreeSet<u64>, LogError> {
        Ok(self
            .st
            .list(&self.dir)?
            .iter()
            .filter_map(|n| match names::parse_file_name(n) {
                Some((o, names::FileKind::Snapshot)) => Some(o),
                _ => None,
            })
            .collect())
    }

    /// Removes the snapshot at `offset`, if there is one.
    fn remove_snapshot(&mut self, offset: u64) -> Result<(), LogError> {
        let path = names::segment_file(&self.dir, offset, names::SNAPSHOT_SUFFIX);
        match self.st.remove(&path) {
            Ok(()) | Err(StorageError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// A clean close: the active segment's roll-time time index entry and trimmed indexes,
    /// a producer snapshot, everything flushed. Returns the storage.
    pub fn close(mut self, now_ms: i64) -> Result<S, LogError> {
        self.check_failed()?;
        let st = &mut self.st;
        if let Some(seg) = self.segments.values_mut().next_back() {
            seg.on_become_inactive(st)?;
        }
        self.take_producer_snapshot()?;
        let leo = self.log_end_offset;
        self.flush_inner(leo, now_ms)?;
        // flush_inner only syncs segments holding unsynced offsets; the trim is new
        let st = &mut self.st;
        if let Some(seg) = self.segments.values_mut().next_back() {
            seg.flush(st)?;
        }
        Ok(self.st)
    }

    /// Gives the storage back without flushing (what a crash leaves is up to the storage).
    pub fn into_storage(self) -> S {
        self.st
    }

    /// Removes every offset from `offset` on (Kafka's `truncateTo`, what a follower does
    /// to a diverging log): later segments are deleted with their transaction indexes and
    /// snapshots, the segment holding `offset` is cut (its offset, time and transaction
    /// indexes with it), and the producer state is reloaded from the newest snapshot at or
    /// below `offset` plus the batches after it. A batch holding `offset` is removed whole
    /// (the log then ends at its base offset). A snapshot found corrupt while reloading is
    /// deleted and listed in the report, as recovery lists it. `offset` below the log start
    /// offset is OFFSET_OUT_OF_RANGE.
    pub fn truncate_to(&mut self, offset: u64) -> Result<TruncateReport, LogError> {
        self.check_failed()?;
        if offset >= self.log_end_offset {
            return Ok(TruncateReport::default());
        }
        if offset < self.log_start_offset {
            return Err(LogError::OffsetOutOfRange {
                offset,
                log_start_offset: self.log_start_offset,
                log_end_offset: self.log_end_offset,
            });
        }
        let r = self.truncate_inner(offset);
        if let Err(e) = &r {
            self.fail(e);
        }
        r
    }

    fn truncate_inner(&mut self, offset: u64) -> Result<TruncateReport, LogError> {
        let doomed: alloc::vec::Vec<u64> =
            self.segments.range(offset + 1..).map(|(b, _)| *b).collect();
        for b in doomed {
            let seg = self.segments.remove(&b).expect("listed segment");
            seg.delete(&mut self.st)?;
        }
        let st = &mut self.st;
        let last = self
            .segments
            .values_mut()
            .next_back()
            .expect("a log always has a segment");
        last.truncate_to(st, offset)?;
        // a batch holding `offset` goes whole: the log ends where the batches left end
        let offset = last.next_offset().max(last.base_offset()).min(offset);
        self.dir_dirty = true;
        self.log_end_offset = offset;
        self.recovery_point = self.recovery_point.min(offset);
        self.high_watermark = self.high_watermark.min(offset);
        // the producer state at `offset`: snapshots past it go, the newest one left is loaded
        let mut snapshots = self.snapshot_offsets()?;
        for o in snapshots.clone().range(offset + 1..) {
            self.remove_snapshot(*o)?;
            snapshots.remove(o);
        }
        let mut recovery = RecoveryReport::default();
        let start = self.log_start_offset;
        let (from, mut state) =
            match self.newest_snapshot_at_or_below(offset, &mut snapshots, &mut recovery)? {
                Some((o, s)) if o >= start => (o, s),
                _ => (start, ProducerStateManager::starting_at(start)),
            };
        self.last_snap_offset = snapshots.last().copied().unwrap_or(start).min(offset);
        self.replay_from(from, &mut state)?;
        state.set_map_end_offset(offset);
        state.on_high_watermark_updated(self.high_watermark);
        self.producers = state;
        Ok(TruncateReport {
            truncated: true,
            corrupt_snapshots: recovery.corrupt_snapshots,
        })
    }

    /// Deletes whole segments beyond `retention.ms` (newest timestamp older than
    /// `now - retention.ms`), `retention.bytes` (oldest first while the log stays at or
    /// above the limit without them) and the log start offset (segments wholly below it, after
    /// [`Log::increment_log_start_offset`]), moving the log start offset; the producer snapshots
    /// below the new log start go with them (the producers stay, as in Kafka). When every
    /// segment goes, a new empty one is rolled first. Returns how many segments were deleted.
    pub fn delete_old_segments(&mut self, now_ms: i64) -> Result<usize, LogError> {
        self.check_failed()?;
        let r = self.delete_old_inner(now_ms);
        if let Err(e) = &r {
            self.fail(e);
        }
        r
    }

    fn delete_old_inner(&mut self, now_ms: i64) -> Result<usize, LogError> {
        let mut doomed = 0usize;
        let bases: alloc::vec::Vec<u64> = self.segments.keys().copied().collect();
        let last_base = *bases.last().expect("a log always has a segment");
        let mut size_over = if self.cfg.retention_bytes >= 0 {
            self.size() as i64 - self.cfg.retention_bytes
        } else {
            i64::MIN
        };
        for (i, b) in bases.iter().enumerate() {
            let seg = &self.segments[b];
            if *b == last_base && seg.size() == 0 {
                break;
            }
            let by_time = self.cfg.retention_ms >= 0
                && now_ms.saturating_sub(seg.largest_timestamp()) > self.cfg.retention_ms;
            let by_size = size_over != i64::MIN && size_over - i64::from(seg.size()) >= 0;
            // Kafka's deleteLogStartOffsetBreachedSegments: the next segment starts at or
            // below the log start offset (DeleteRecords moved it past this one)
            let by_start = bases
                .get(i + 1)
                .is_some_and(|next| *next <= self.log_start_offset);
            if !(by_time || by_size || by_start) {
                break;
            }
            // what goes for any reason no longer counts against retention.bytes (Kafka runs
            // the size pass after the time pass, on the size left)
            if size_over != i64::MIN {
                size_over -= i64::from(seg.size());
            }
            doomed += 1;
        }
        if doomed == 0 {
            return Ok(0);
        }
        if doomed == bases.len() {
            self.roll_inner(now_ms)?;
        }
        for b in &bases[..doomed] {
            let seg = self.segments.remove(b).expect("listed segment");
            seg.delete(&mut self.st)?;
        }
        self.dir_dirty = true;
        let first = *self.segments.keys().next().expect("a segment is left");
        self.log_start_offset = self.log_start_offset.max(first);
        let start = self.log_start_offset;
        // every snapshot below the new log start goes: the deleted segments' (Kafka's
        // deleteProducerSnapshots) and one a close took inside a deleted segment, which Kafka
        // leaves until the next load (truncateAndReload removes snapshots up to the log start)
        for o in self.snapshot_offsets()?.range(..start) {
            self.remove_snapshot(*o)?;
        }
        self.producers.on_log_start_offset_incremented(start);
        self.high_watermark = self.high_watermark.max(start);
        self.st.sync_dir(&self.dir)?;
        self.dir_dirty = false;
        Ok(doomed)
    }
}
