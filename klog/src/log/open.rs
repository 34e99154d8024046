//! Opening a log: loading segments, recovery after an unclean stop (Kafka's `LogLoader`),
//! producer state from snapshots plus replay.

use super::{Log, LogError};
use crate::checkpoint;
use crate::config::LogConfig;
use crate::error::StorageError;
use crate::names::{self, FileKind, RECOVERY_POINT_CHECKPOINT};
use crate::producer_state::{ProducerStateManager, SnapshotError};
use crate::segment::{LogSegment, SegmentError};
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
    /// Base offsets of the segments re-validated batch by batch.
    pub recovered_segments: Vec<u64>,
    /// Base offsets of segments whose indexes were missing or inconsistent and rebuilt.
    pub rebuilt_indexes: Vec<u64>,
    /// Bytes cut from torn or corrupt tails.
    pub truncated_bytes: u64,
    /// Why a tail was cut (the first one).
    pub truncation_reason: Option<RecordError>,
    /// Base offsets of segments deleted because an earlier one was truncated.
    pub deleted_segments: Vec<u64>,
    /// Leftover files removed (`.tmp`, `.deleted`, orphan indexes).
    pub removed_files: Vec<String>,
    /// The producer snapshot loaded, if any.
    pub snapshot_offset: Option<u64>,
    /// Producer snapshots deleted because they could not be used (Kafka deletes a corrupt
    /// snapshot and rebuilds the state from an older one or the log), with why.
    pub corrupt_snapshots: Vec<(u64, SnapshotError)>,
}

impl<S: Storage> Log<S> {
    /// Opens (or creates) the log of `topic`-`partition` on `st`, recovering after an
    /// unclean stop: segments from the one holding the checkpointed recovery point on are
    /// re-validated batch by batch and cut at the first torn or corrupt byte (later segments
    /// are then deleted); earlier segments are loaded after an index check and have their
    /// indexes rebuilt when missing or inconsistent. The producer state is loaded from the
    /// newest usable snapshot and the batches after it replayed. Everything recovered is then
    /// flushed, so the recovery point is the log end offset.
    pub fn open(
        mut st: S,
        topic: &str,
        partition: i32,
        cfg: LogConfig,
        now_ms: i64,
    ) -> Result<(Self, RecoveryReport), LogError> {
        cfg.validate()?;
        let dir = names::partition_dir(topic, partition);
        st.create_dir(&dir)?;
        st.sync_dir("")?;
        let mut report = RecoveryReport::default();
        let recovery_point = checkpoint::read(&mut st, RECOVERY_POINT_CHECKPOINT)?
            .into_iter()
            .find(|e| e.topic == topic && e.partition == partition)
            .map_or(0, |e| e.offset);
        report.checkpoint_recovery_point = recovery_point;

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
            let orphan = matches!(names::parse_file_name(f), Some((b, FileKind::Index | FileKind::TimeIndex)) if !logs.contains(&b));
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
            dir_dirty: !report.removed_files.is_empty(),
            failed: None,
            cfg,
        };
        let bases: Vec<u64> = logs.into_iter().collect();
        // the segment holding the recovery point and every later one are recovered
        let first_unflushed = bases
            .iter()
            .rposition(|b| *b <= recovery_point)
            .unwrap_or(0);
        let mut truncated = false;
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
                let info = seg.recover(&mut log.st, |_| {})?;
                if info.truncated_bytes > 0 {
                    report.truncated_bytes += u64::from(info.truncated_bytes);
                    if report.truncation_reason.is_none() {
                        report.truncation_reason = info.reason;
                    }
                    truncated = true;
                }
                // a segment whose first batch starts past its base is fine; one that is empty
                // after truncation and not the first is removed below
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
        if log.segments.is_empty() {
            let seg = LogSegment::create(
                &mut log.st,
                &log.dir,
                0,
                log.cfg.index_interval_bytes,
                log.cfg.segment_index_bytes,
                now_ms,
            )?;
            log.segments.insert(0, seg);
            log.dir_dirty = true;
        }
        log.log_start_offset = *log.segments.keys().next().expect("a segment");
        let last = log.segments.values().next_back().expect("a segment");
        log.log_end_offset = last.next_offset().max(last.base_offset());
        log.recovery_point = log.recovery_point.min(log.log_end_offset);
        // the active segment's indexes are preallocated again
        {
            let st = &mut log.st;
            log.segments
                .values_mut()
                .next_back()
                .expect("a segment")
                .resize_indexes(st)?;
        }
        report.snapshot_offset = log.load_producer_state(&snapshots, &mut report)?;
        // make what recovery wrote (truncations, rebuilt indexes) durable
        log.recovery_point = log.recovery_point.min(
            report
                .recovered_segments
                .first()
                .copied()
                .unwrap_or(u64::MAX),
        );
        let leo = log.log_end_offset;
        log.flush_inner_all(leo, now_ms)?;
        Ok((log, report))
    }

    /// Syncs every segment and the directory, then checkpoints `upto`.
    fn flush_inner_all(&mut self, upto: u64, now_ms: i64) -> Result<(), LogError> {
        let st = &mut self.st;
        for seg in self.segments.values_mut() {
            seg.flush(st)?;
        }
        self.st.sync_dir(&self.dir)?;
        self.dir_dirty = false;
        self.recovery_point = upto;
        self.write_checkpoint()?;
        self.last_flush_ms = now_ms;
        Ok(())
    }

    /// Loads the newest snapshot at or below the log end offset (removing newer or unreadable
    /// ones) and replays the batches after it.
    fn load_producer_state(
        &mut self,
        snapshots: &BTreeSet<u64>,
        report: &mut RecoveryReport,
    ) -> Result<Option<u64>, LogError> {
        let mut loaded = None;
        for &off in snapshots.iter().rev() {
            let path = names::segment_file(&self.dir, off, names::SNAPSHOT_SUFFIX);
            if loaded.is_some() {
                continue;
            }
            let usable = off <= self.log_end_offset && off >= self.log_start_offset;
            let state = if usable {
                match self.read_snapshot(&path, off)? {
                    Some(Ok(s)) => Some(s),
                    Some(Err(e)) => {
                        report.corrupt_snapshots.push((off, e));
                        None
                    }
                    None => None,
                }
            } else {
                None
            };
            match state {
                Some(s) => {
                    self.producers = s;
                    loaded = Some(off);
                }
                None => {
                    self.st.remove(&path)?;
                    self.dir_dirty = true;
                }
            }
        }
        let from = loaded.unwrap_or(self.log_start_offset);
        let mut producers = core::mem::take(&mut self.producers);
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
                    if let Err(source) = producers.replay(b, &mut scratch) {
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
        producers.set_map_end_offset(self.log_end_offset);
        self.producers = producers;
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
