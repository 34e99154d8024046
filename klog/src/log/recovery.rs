//! Opening a log: loading segments, recovery after an unclean stop (Kafka's `LogLoader`),
//! transaction indexes rebuilt with the segments recovered, producer state from snapshots
//! plus replay (Kafka's `rebuildProducerState`).

use super::{Log, LogError};
use crate::checkpoint;
use crate::config::LogConfig;
use crate::error::StorageError;
use crate::names::{self, FileKind, LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT};
use crate::producer_state::{ProducerStateManager, SnapshotError};
use crate::segment::{InvalidOffset, LogSegment, SegmentError};
use crate::storage::{join, Storage};
use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use kproto::records::RecordError;

/// What opening a log found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// The recovery point read from the checkpoint.
    pub checkpoint_recovery_point: u64,
    /// The log start offset read from `log-start-offset-checkpoint` (0: no entry).
    pub checkpoint_log_start_offset: u64,
    /// The directory had a clean shutdown marker: no segment was re-validated.
    pub had_clean_shutdown: bool,
    /// Why the recovery point checkpoint could not be read, when [`Log::open`] read it and
    /// could not (the recovery point is then 0, as Kafka resets it).
    pub unreadable_checkpoint: Option<checkpoint::CheckpointError>,
    /// Why the log start offset checkpoint could not be read, when [`Log::open`] read it and
    /// could not (the log then starts at its first segment, as Kafka resets it).
    pub unreadable_log_start_checkpoint: Option<checkpoint::CheckpointError>,
    /// Base offsets of the segments re-validated batch by batch.
    pub recovered_segments: Vec<u64>,
    /// Base offsets of segments whose indexes were missing or inconsistent and rebuilt.
    pub rebuilt_indexes: Vec<u64>,
    /// Bytes cut from torn or corrupt tails.
    pub truncated_bytes: u64,
    /// Batches whose base offset did not follow the previous batch's (or the segment's base
    /// offset): the segment was cut there.
    pub invalid_offsets: Vec<InvalidOffset>,
    /// Why a tail was cut (the first one).
    pub truncation_reason: Option<RecordError>,
    /// Base offsets of segments deleted because an earlier one was truncated.
    pub deleted_segments: Vec<u64>,
    /// Leftover files removed (`.tmp`, `.deleted`, orphan indexes, snapshots past the log end,
    /// at or below the log start or stray, by Kafka's rules).
    pub removed_files: Vec<String>,
    /// The producer snapshot loaded, if any.
    pub snapshot_offset: Option<u64>,
    /// Producer snapshots deleted because they could not be used (Kafka deletes a corrupt
    /// snapshot and rebuilds the state from an older one or the log), with why.
    pub corrupt_snapshots: Vec<(u64, SnapshotError)>,
}

/// What the log directory layer read for a partition before opening it (the arguments
/// Kafka's `LogManager.loadLog` passes to `UnifiedLog`): its entries in the directory's two
/// checkpoint files and whether the directory had a clean shutdown marker.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// The partition's entry in `recovery-point-offset-checkpoint` (0 when it has none, as
    /// Kafka's `getOrDefault(tp, 0)`): segments from the one holding it on are re-validated
    /// after an unclean stop.
    pub recovery_point: u64,
    /// The partition's entry in `log-start-offset-checkpoint` (0 when it has none): the log
    /// starts at the larger of it and the first segment's base offset (DeleteRecords may have
    /// moved it into a segment). A log ending below it is emptied and restarted there, as
    /// Kafka's `LogLoader` does.
    pub log_start_offset: u64,
    /// `.kafka_cleanshutdown` was present when the directory was opened: no segment is
    /// re-validated (only a missing or inconsistent index makes one be rebuilt), the recovery
    /// point is the log end offset, and without any producer snapshot the producer state
    /// starts empty at the log end (Kafka's `rebuildProducerState` with
    /// `reloadFromCleanShutdown`).
    pub had_clean_shutdown: bool,
}

impl<S: Storage> Log<S> {
    /// Opens (or creates) the log of `topic`-`partition` on `st` on its own, outside a log
    /// directory layer: reads the partition's entries in the root's
    /// `recovery-point-offset-checkpoint` and `log-start-offset-checkpoint` (so a directory
    /// Kafka wrote opens with its offsets; an unreadable file counts as no entry, as Kafka's
    /// `LogManager` resets it, and is listed in the report) and opens as after an unclean stop
    /// (it does not consume the directory's `.kafka_cleanshutdown`, which belongs to the
    /// directory layer). The log never writes either checkpoint itself: the directory layer
    /// ([`crate::log_dir::LogManager`]) writes them for all its partitions at once.
    ///
    /// See [`Log::open_with`] for what opening does.
    pub fn open(
        mut st: S,
        topic: &str,
        partition: i32,
        cfg: LogConfig,
        now_ms: i64,
    ) -> Result<(Self, RecoveryReport), LogError> {
        let mut report = RecoveryReport::default();
        let mut entry =
            |path: &str| -> Result<(u64, Option<checkpoint::CheckpointError>), LogError> {
                match checkpoint::read(&mut st, path) {
                    Ok(entries) => Ok((
                        entries
                            .into_iter()
                            .find(|e| e.topic == topic && e.partition == partition)
                            .map_or(0, |e| e.offset),
                        None,
                    )),
                    Err(checkpoint::CheckpointError::Storage(e)) => Err(e.into()),
                    Err(e) => Ok((0, Some(e))),
                }
            };
        let (recovery_point, bad_rp) = entry(RECOVERY_POINT_CHECKPOINT)?;
        let (log_start_offset, bad_ls) = entry(LOG_START_OFFSET_CHECKPOINT)?;
        report.unreadable_checkpoint = bad_rp;
        report.unreadable_log_start_checkpoint = bad_ls;
        let opts = LoadOptions {
            recovery_point,
            log_start_offset,
            had_clean_shutdown: false,
        };
        Self::load(st, topic, partition, cfg, opts, report, now_ms)
    }

    /// Opens (or creates) the log of `topic`-`partition` on `st` with the offsets the log
    /// directory layer read (Kafka's `LogLoader`): after an unclean stop segments from the one
    /// holding the recovery point on are re-validated batch by batch and cut at the first torn
    /// or corrupt byte (later segments are then deleted); earlier segments (every segment after
    /// a clean shutdown) are loaded after an index check and have their indexes rebuilt when
    /// missing or inconsistent. The log start offset is the larger of the checkpointed one and
    /// the first segment's base. The producer state is loaded from the newest usable snapshot
    /// and the batches after it replayed. Everything recovered is then flushed, so the recovery
    /// point is the log end offset.
    pub fn open_with(
        st: S,
        topic: &str,
        partition: i32,
        cfg: LogConfig,
        opts: LoadOptions,
        now_ms: i64,
    ) -> Result<(Self, RecoveryReport), LogError> {
        Self::load(
            st,
            topic,
            partition,
            cfg,
            opts,
            RecoveryReport::default(),
            now_ms,
        )
    }

    fn load(
        mut st: S,
        topic: &str,
        partition: i32,
        cfg: LogConfig,
        opts: LoadOptions,
        mut report: RecoveryReport,
        now_ms: i64,
    ) -> Result<(Self, RecoveryReport), LogError> {
        cfg.validate()?;
        let dir = names::partition_dir(topic, partition);
        st.create_dir(&dir)?;
        st.sync_dir("")?;
        let recovery_point = opts.recovery_point;
        report.checkpoint_recovery_point = recovery_point;
        report.checkpoint_log_start_offset = opts.log_start_offset;
        report.had_clean_shutdown = opts.had_clean_shutdown;

        // leftovers, orphan indexes, the segments there are
        let files = st.list(&dir)?;
        let mut logs = BTreeSet::new();
        let mut snapshots = BTreeSet::new();
        for f in &files {
            if let Some((base, kind)) = names::parse_file_name(f) {
                match kind {
                    FileKind::Log => {
                        logs.insert(base);
                    }
                    FileKind::Snapshot => {
                        snapshots.insert(base);
                    }
                    _ => {}
                }
            }
        }
        for f in &files {
            let orphan = matches!(names::parse_file_name(f), Some((b, FileKind::Index | FileKind::TimeIndex | FileKind::TxnIndex)) if !logs.contains(&b));
            if f.ends_with(names::TMP_SUFFIX) || f.ends_with(names::DELETED_SUFFIX) || orphan {
                st.remove(&join(&dir, f))?;
                report.removed_files.push(f.clone());
            }
        }

        let mut log = Log {
            st,
            topic: String::from(topic),
            partition,
            dir,
            segments: BTreeMap::new(),
            log_start_offset: 0,
            log_end_offset: 0,
            recovery_point,
            last_flush_ms: now_ms,
            leader_epoch: 0,
            producers: ProducerStateManager::new(),
            last_snap_offset: 0,
            high_watermark: 0,
            dir_dirty: !report.removed_files.is_empty(),
            failed: None,
            cfg,
        };
        let bases: Vec<u64> = logs.into_iter().collect();
        // the segment holding the recovery point and every later one are recovered (none
        // after a clean shutdown)
        let first_unflushed = if opts.had_clean_shutdown {
            bases.len()
        } else {
            bases
                .iter()
                .rposition(|b| *b <= recovery_point)
                .unwrap_or(0)
        };
        let mut truncated = false;
        // the producer state after the last segment recovered (its index in `bases`)
        let mut recovered_state: Option<(usize, ProducerStateManager)> = None;
        for (i, &base) in bases.iter().enumerate() {
            if truncated {
                let (seg, _) = LogSegment::open(
                    &mut log.st,
                    &log.dir,
                    base,
                    log.cfg.index_interval_bytes,
                    log.cfg.segment_index_bytes,
                    now_ms,
                )?;
                seg.delete(&mut log.st)?;
                report.deleted_segments.push(base);
                log.dir_dirty = true;
                continue;
            }
            let (mut seg, missing) = LogSegment::open(
                &mut log.st,
                &log.dir,
                base,
                log.cfg.index_interval_bytes,
                log.cfg.segment_index_bytes,
                now_ms,
            )?;
            if missing {
                log.dir_dirty = true;
            }
            let must_recover = i >= first_unflushed || missing || seg.load(&mut log.st).is_err();
            if must_recover {
                if i < first_unflushed {
                    report.rebuilt_indexes.push(base);
                } else {
                    report.recovered_segments.push(base);
                }
                // the producer state at the segment's base: from the segment recovered just
                // before, else from a snapshot and the segments loaded so far
                let mut state = match recovered_state.take() {
                    Some((j, mut s)) if j + 1 == i => {
                        s.set_map_end_offset(base);
                        s
                    }
                    _ => log.producer_state_at(base, &mut snapshots, &mut report)?,
                };
                let info = seg.recover(&mut log.st, &mut state)?;
                recovered_state = Some((i, state));
                if let Some(bad) = info.invalid_offset {
                    report.invalid_offsets.push(bad);
                }
                if info.truncated_bytes > 0 {
                    report.truncated_bytes += u64::from(info.truncated_bytes);
                    if report.truncation_reason.is_none() {
                        report.truncation_reason = info.reason;
                    }
                    truncated = true;
                }
                // one that is empty after truncation and not the first is removed below
            }
            if let Some(prev) = log.segments.values().next_back() {
                if seg.size() > 0 && seg.base_offset() < prev.next_offset() {
                    // overlapping segments cannot be trusted: drop this and later ones
                    seg.delete(&mut log.st)?;
                    report.deleted_segments.push(base);
                    truncated = true;
                    continue;
                }
            }
            log.segments.insert(base, seg);
        }
        // drop empty trailing segments except the first one (their base is where the log ends)
        while log.segments.len() > 1 {
            let (&last, seg) = log.segments.iter().next_back().expect("non-empty");
            if seg.size() > 0 {
                break;
            }
            let prev_next = log
                .segments
                .range(..last)
                .next_back()
                .map(|(_, s)| s.next_offset())
                .unwrap_or(0);
            if prev_next == last {
                break; // a freshly rolled empty active segment: keep it
            }
            let seg = log.segments.remove(&last).expect("present");
            seg.delete(&mut log.st)?;
            report.deleted_segments.push(last);
            log.dir_dirty = true;
        }
        // Kafka's deleteSegmentsIfLogStartGreaterThanLogEnd: a log ending below the
        // checkpointed log start (its files were deleted behind its back) is emptied, its
        // snapshots with it, and restarts there
        let ckpt_start = opts.log_start_offset;
        let mut emptied = false;
        if let Some(last) = log.segments.values().next_back() {
            if last.next_offset().max(last.base_offset()) < ckpt_start {
                for (b, seg) in core::mem::take(&mut log.segments) {
                    seg.delete(&mut log.st)?;
                    report.deleted_segments.push(b);
                }
                for off in core::mem::take(&mut snapshots) {
                    log.remove_snapshot(off)?;
                    report.removed_files.push(alloc::format!(
                        "{}{}",
                        names::file_stem(off),
                        names::SNAPSHOT_SUFFIX
                    ));
                }
                log.dir_dirty = true;
                emptied = true;
            }
        }
        if log.segments.is_empty() {
            let seg = LogSegment::create(
                &mut log.st,
                &log.dir,
                ckpt_start,
                log.cfg.index_interval_bytes,
                log.cfg.segment_index_bytes,
                now_ms,
            )?;
            log.segments.insert(ckpt_start, seg);
            log.dir_dirty = true;
        }
        let first_base = *log.segments.keys().next().expect("a segment");
        log.log_start_offset = ckpt_start.max(first_base);
        let last = log.segments.values().next_back().expect("a segment");
        log.log_end_offset = last.next_offset().max(last.base_offset());
        let clean = opts.had_clean_shutdown && !emptied;
        log.recovery_point = if clean {
            log.log_end_offset
        } else {
            log.recovery_point.min(log.log_end_offset)
        };
        // the active segment's indexes are preallocated again
        {
            let st = &mut log.st;
            log.segments
                .values_mut()
                .next_back()
                .expect("a segment")
                .resize_indexes(st)?;
        }
        report.snapshot_offset =
            log.load_producer_state(&mut snapshots, &mut report, clean, now_ms)?;
        // make what recovery wrote (truncations, rebuilt indexes) durable
        let leo = log.log_end_offset;
        if clean {
            // nothing was re-validated: only rebuilt indexes and the active segment's
            // preallocated ones were written
            let st = &mut log.st;
            let active = *log.segments.keys().next_back().expect("a segment");
            for (b, seg) in log.segments.iter_mut() {
                if *b == active || report.rebuilt_indexes.contains(b) {
                    seg.flush(st)?;
                }
            }
            if log.dir_dirty {
                log.st.sync_dir(&log.dir)?;
                log.dir_dirty = false;
            }
            log.recovery_point = leo;
            log.last_flush_ms = now_ms;
        } else {
            log.flush_inner_all(leo, now_ms)?;
        }
        Ok((log, report))
    }

    /// Syncs every segment and the directory; the recovery point becomes `upto`.
    fn flush_inner_all(&mut self, upto: u64, now_ms: i64) -> Result<(), LogError> {
        let st = &mut self.st;
        for seg in self.segments.values_mut() {
            seg.flush(st)?;
        }
        self.st.sync_dir(&self.dir)?;
        self.dir_dirty = false;
        self.recovery_point = upto;
        self.last_flush_ms = now_ms;
        Ok(())
    }

    /// The newest usable snapshot at or below `offset` (corrupt ones on the way are deleted
    /// and reported), or `None`.
    pub(super) fn newest_snapshot_at_or_below(
        &mut self,
        offset: u64,
        snapshots: &mut BTreeSet<u64>,
        report: &mut RecoveryReport,
    ) -> Result<Option<(u64, ProducerStateManager)>, LogError> {
        while let Some(&off) = snapshots.range(..=offset).next_back() {
            let path = names::segment_file(&self.dir, off, names::SNAPSHOT_SUFFIX);
            match self.read_snapshot(&path, off)? {
                Some(Ok(state)) => return Ok(Some((off, state))),
                Some(Err(e)) => {
                    self.st.remove(&path)?;
                    self.dir_dirty = true;
                    report.corrupt_snapshots.push((off, e));
                }
                None => {}
            }
            snapshots.remove(&off);
        }
        Ok(None)
    }

    /// Replays the batches of the loaded segments from `from` into `state`.
    pub(super) fn replay_from(
        &mut self,
        from: u64,
        state: &mut ProducerStateManager,
    ) -> Result<(), LogError> {
        let st = &mut self.st;
        let mut scratch = Vec::new();
        let mut bad = None;
        for seg in self.segments.values_mut() {
            if seg.next_offset() <= from {
                continue;
            }
            let path = String::from(seg.log_path());
            seg.for_each_batch(st, from, |pos, b| {
                if bad.is_none() {
                    if let Err(source) = state.replay(b, &mut scratch) {
                        bad = Some(SegmentError::Corrupt {
                            path: path.clone(),
                            position: pos,
                            source,
                        });
                    }
                }
            })?;
            if let Some(e) = bad.take() {
                return Err(e.into());
            }
        }
        Ok(())
    }

    /// The producer state at `offset` (a segment about to be recovered, after the segments
    /// loaded so far): the newest usable snapshot at or below it, then the batches after it.
    fn producer_state_at(
        &mut self,
        offset: u64,
        snapshots: &mut BTreeSet<u64>,
        report: &mut RecoveryReport,
    ) -> Result<ProducerStateManager, LogError> {
        let start = self.segments.keys().next().copied().unwrap_or(offset);
        let (from, mut state) = match self.newest_snapshot_at_or_below(offset, snapshots, report)? {
            Some((off, s)) if off >= start => (off, s),
            _ => (start, ProducerStateManager::starting_at(start)),
        };
        self.replay_from(from, &mut state)?;
        state.set_map_end_offset(offset);
        Ok(state)
    }

    /// Kafka's `removeStraySnapshots` then `rebuildProducerState` up to the log end offset:
    /// snapshots at no segment's base offset are removed except the newest one if it is past
    /// the last segment's base; snapshots past the log end offset or at or below the log start
    /// offset are removed; the newest usable one is loaded (its producers idle for
    /// `producer.id.expiration.ms` at `now_ms` dropped) and the batches after it replayed; a
    /// snapshot is then taken at the log end offset if there is none. After a clean shutdown
    /// with no snapshot left, nothing is replayed (Kafka's `reloadFromCleanShutdown`).
    fn load_producer_state(
        &mut self,
        snapshots: &mut BTreeSet<u64>,
        report: &mut RecoveryReport,
        clean_shutdown: bool,
        now_ms: i64,
    ) -> Result<Option<u64>, LogError> {
        let bases: BTreeSet<u64> = self.segments.keys().copied().collect();
        let max_base = bases.last().copied().unwrap_or(0);
        let mut stray: Option<u64> = None;
        let mut doomed = Vec::new();
        for &off in snapshots.iter() {
            if !bases.contains(&off) {
                if let Some(prev) = stray.replace(off) {
                    doomed.push(prev);
                }
            }
        }
        if let Some(s) = stray {
            if s < max_base {
                doomed.push(s);
            }
        }
        let (start, end) = (self.log_start_offset, self.log_end_offset);
        doomed.extend(snapshots.iter().filter(|o| **o > end || **o <= start));
        for off in doomed {
            if snapshots.remove(&off) {
                self.st
                    .remove(&names::segment_file(&self.dir, off, names::SNAPSHOT_SUFFIX))?;
                self.dir_dirty = true;
                report.removed_files.push(alloc::format!(
                    "{}{}",
                    names::file_stem(off),
                    names::SNAPSHOT_SUFFIX
                ));
            }
        }
        if clean_shutdown && snapshots.is_empty() {
            // Kafka skips the scan after a clean shutdown without snapshots: the state starts
            // empty at the log end and is snapshotted there
            self.last_snap_offset = start;
            let mut state = ProducerStateManager::starting_at(start);
            state.set_map_end_offset(end);
            self.producers = state;
            self.high_watermark = end;
            self.producers.on_high_watermark_updated(end);
            self.take_producer_snapshot()?;
            return Ok(None);
        }
        let loaded = self.newest_snapshot_at_or_below(end, snapshots, report)?;
        let (from, mut state, loaded) = match loaded {
            Some((off, mut s)) => {
                s.remove_expired(now_ms, self.cfg.producer_id_expiration_ms);
                (off, s, Some(off))
            }
            None => (start, ProducerStateManager::starting_at(start), None),
        };
        self.last_snap_offset = loaded.unwrap_or(start);
        self.replay_from(from, &mut state)?;
        state.set_map_end_offset(end);
        self.producers = state;
        self.high_watermark = end;
        self.producers.on_high_watermark_updated(end);
        self.take_producer_snapshot()?;
        Ok(loaded)
    }

    fn read_snapshot(
        &mut self,
        path: &str,
        offset: u64,
    ) -> Result<Option<Result<ProducerStateManager, SnapshotError>>, LogError> {
        let mut f = match self.st.open(path, false) {
            Ok(f) => f,
            Err(StorageError::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let len = self.st.len(&mut f)?;
        let Ok(n) = usize::try_from(len) else {
            return Ok(Some(Err(SnapshotError::Truncated {
                path: String::from(path),
                at: usize::MAX,
            })));
        };
        let mut buf = vec![0u8; n];
        self.st.read_exact_at(&mut f, 0, &mut buf)?;
        Ok(Some(ProducerStateManager::decode_snapshot(
            path, offset, &buf,
        )))
    }
}
