//! One log segment: a `.log` file of record batches and its two sparse indexes.

use crate::error::{IndexError, StorageError};
use crate::index::{
    AbortedTxn, OffsetIndex, OffsetPosition, TimeIndex, TimestampOffset, TransactionIndex,
    NO_TIMESTAMP,
};
use crate::names::{segment_file, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX};
use crate::producer_state::ProducerStateManager;
use crate::scan::{scan, ScanEnd};
use crate::storage::Storage;
use alloc::string::String;
use alloc::vec::Vec;
use kproto::records::{BatchView, RecordError, DEFAULT_MAX_UNCOMPRESSED};

/// A segment operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// The storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// An index failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// An offset does not fit the segment's int32 relative offsets.
    #[error("{path}: offset {offset} cannot be stored relative to base offset {base_offset}")]
    OffsetOverflow {
        /// The segment's `.log`.
        path: String,
        /// The offset.
        offset: u64,
        /// The base offset.
        base_offset: u64,
    },
    /// The segment would grow past 2 GiB.
    #[error("{path}: {size} bytes would exceed the int32 positions of a segment")]
    TooLarge {
        /// The segment's `.log`.
        path: String,
        /// The size it would have.
        size: u64,
    },
    /// A batch read back from the segment is not valid.
    #[error("{path}: invalid batch at byte {position}: {source}")]
    Corrupt {
        /// The segment's `.log`.
        path: String,
        /// Where the batch starts.
        position: u32,
        /// What is wrong.
        source: RecordError,
    },
}

/// What [`LogSegment::recover`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecoverInfo {
    /// Bytes cut from the end of the `.log` (a torn or corrupt tail).
    pub(crate) truncated_bytes: u32,
    /// Why the tail was cut, when it was.
    pub(crate) reason: Option<RecordError>,
    /// The batch cut because its base offset did not follow, when that was the reason.
    pub(crate) invalid_offset: Option<InvalidOffset>,
}

/// A batch whose base offset is not the offset after the previous batch (or, for a segment's
/// first batch, the segment's base offset): klog writes no gaps (no compaction), so the bytes
/// are not what was appended (Kafka's invalid offset during recovery).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidOffset {
    /// The segment's base offset.
    pub segment: u64,
    /// Where the batch starts in the `.log`.
    pub position: u32,
    /// The base offset it should have.
    pub expected: u64,
    /// The base offset it has.
    pub found: i64,
}

/// Facts about one batch being appended (computed by the log's validation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BatchInfo {
    /// Its last offset.
    pub(crate) last_offset: u64,
    /// Its max timestamp.
    pub(crate) max_timestamp: i64,
    /// Its size in bytes.
    pub(crate) size: u32,
}

/// The inputs of a roll decision (Kafka's `RollParams`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RollParams {
    /// `segment.bytes`.
    pub(crate) segment_bytes: u32,
    /// `segment.ms`.
    pub(crate) segment_ms: i64,
    /// `segment.jitter.ms`.
    pub(crate) jitter_ms: i64,
    /// Bytes about to be appended.
    pub(crate) messages_size: u32,
    /// Their max timestamp.
    pub(crate) max_timestamp: i64,
    /// Their last offset.
    pub(crate) max_offset: u64,
    /// The time now.
    pub(crate) now_ms: i64,
}

/// A log segment (Kafka's `LogSegment`): batches in `<base>.log`, an offset index in
/// `<base>.index`, a time index in `<base>.timeindex` and, once a transaction whose marker is
/// in the segment was aborted, a transaction index in `<base>.txnindex`.
#[derive(Debug)]
pub struct LogSegment<F> {
    base_offset: u64,
    log: F,
    log_path: String,
    size: u32,
    next_offset: u64,
    offset_index: OffsetIndex<F>,
    time_index: TimeIndex<F>,
    txn_index: TransactionIndex<F>,
    index_interval_bytes: u32,
    max_index_size: u32,
    bytes_since_last_index_entry: u32,
    /// The largest timestamp in the segment and the last offset of its batch.
    max_ts: TimestampOffset,
    /// The first batch's max timestamp (what `segment.ms` counts from), when known.
    rolling_based_timestamp: Option<i64>,
    created_ms: i64,
}

fn as_u64(o: i64) -> u64 {
    o.max(0) as u64
}

impl<F: core::fmt::Debug> LogSegment<F> {
    /// Creates the three files of a new, empty segment (indexes preallocated).
    pub(crate) fn create<S: Storage<File = F>>(
        st: &mut S,
        dir: &str,
        base_offset: u64,
        index_interval_bytes: u32,
        max_index_size: u32,
        now_ms: i64,
    ) -> Result<Self, SegmentError> {
        let log_path = segment_file(dir, base_offset, LOG_SUFFIX);
        let mut log = st.open(&log_path, true)?;
        st.set_len(&mut log, 0)?;
        let offset_index = OffsetIndex::create(
            st,
            &segment_file(dir, base_offset, INDEX_SUFFIX),
            base_offset,
            max_index_size,
        )?;
        let time_index = TimeIndex::create(
            st,
            &segment_file(dir, base_offset, TIME_INDEX_SUFFIX),
            base_offset,
            max_index_size,
        )?;
        let txn_index = TransactionIndex::new(
            &segment_file(dir, base_offset, TXN_INDEX_SUFFIX),
            base_offset,
        );
        Ok(LogSegment {
            base_offset,
            log,
            log_path,
            size: 0,
            next_offset: base_offset,
            offset_index,
            time_index,
            txn_index,
            index_interval_bytes,
            max_index_size,
            bytes_since_last_index_entry: 0,
            max_ts: TimestampOffset {
                timestamp: NO_TIMESTAMP,
                offset: base_offset,
            },
            rolling_based_timestamp: None,
            created_ms: now_ms,
        })
    }

    /// Opens an existing segment. Missing index files are created empty and `needs_recovery`
    /// is set in the result; the caller then runs [`recover`](Self::recover) or
    /// [`load`](Self::load).
    pub(crate) fn open<S: Storage<File = F>>(
        st: &mut S,
        dir: &str,
        base_offset: u64,
        index_interval_bytes: u32,
        max_index_size: u32,
        now_ms: i64,
    ) -> Result<(Self, bool), SegmentError> {
        let log_path = segment_file(dir, base_offset, LOG_SUFFIX);
        let mut log = st.open(&log_path, false)?;
        let len = st.len(&mut log)?;
        let size = u32::try_from(len)
            .ok()
            .filter(|s| *s <= i32::MAX as u32)
            .ok_or(SegmentError::TooLarge {
                path: log_path.clone(),
                size: len,
            })?;
        let mut missing = false;
        let ipath = segment_file(dir, base_offset, INDEX_SUFFIX);
        let offset_index = match OffsetIndex::open(st, &ipath, base_offset) {
            Ok(i) => i,
            Err(StorageError::NotFound { .. }) => {
                missing = true;
                OffsetIndex::create(st, &ipath, base_offset, max_index_size)?
            }
            Err(e) => return Err(e.into()),
        };
        let tpath = segment_file(dir, base_offset, TIME_INDEX_SUFFIX);
        let time_index = match TimeIndex::open(st, &tpath, base_offset) {
            Ok(i) => i,
            Err(StorageError::NotFound { .. }) => {
                missing = true;
                TimeIndex::create(st, &tpath, base_offset, max_index_size)?
            }
            Err(e) => return Err(e.into()),
        };
        let txn_index = TransactionIndex::open(
            st,
            &segment_file(dir, base_offset, TXN_INDEX_SUFFIX),
            base_offset,
        )?;
        Ok((
            LogSegment {
                base_offset,
                log,
                log_path,
                size,
                next_offset: base_offset,
                offset_index,
                time_index,
                txn_index,
                index_interval_bytes,
                max_index_size,
                bytes_since_last_index_entry: 0,
                max_ts: TimestampOffset {
                    timestamp: NO_TIMESTAMP,
                    offset: base_offset,
                },
                rolling_based_timestamp: None,
                created_ms: now_ms,
            },
            missing,
        ))
    }

    /// Loads a segment below the recovery point without re-validating its batches: checks
    /// both indexes against the log (Kafka's sanity check and klog's stricter one: the last
    /// offset index entry must point at a batch ending at that offset) and finds the next
    /// offset by walking the batch headers after the last index entry. An error means the
    /// segment must be recovered instead.
    pub(crate) fn load<S: Storage<File = F>>(&mut self, st: &mut S) -> Result<(), SegmentError> {
        self.offset_index.sanity_check(u64::from(self.size))?;
        let from = match self.offset_index.entries() {
            0 => OffsetPosition {
                offset: self.base_offset,
                position: 0,
            },
            n => self.offset_index.entry(n - 1),
        };
        if self.offset_index.entries() > 1 {
            // the first entry must point at a batch ending at its offset too
            let e = self.offset_index.entry(0);
            let mut ok = false;
            scan(st, &mut self.log, e.position, self.size, |_, b| {
                ok = as_u64(b.last_offset()) == e.offset;
                Ok::<bool, SegmentError>(false)
            })?;
            if !ok {
                return Err(IndexError::Corrupt {
                    path: String::from(self.offset_index.path()),
                    entry: 0,
                    what: "the first offset index entry does not point at its batch",
                }
                .into());
            }
        }
        let mut next = self.base_offset;
        let mut first = true;
        let mut bad: Option<&'static str> = None;
        let log_path = self.log_path.clone();
        let end = scan(
            st,
            &mut self.log,
            from.position,
            self.size,
            |_, b: BatchView<&[u8]>| {
                if first && from.position > 0 && as_u64(b.last_offset()) != from.offset {
                    bad = Some("the last offset index entry does not point at its batch");
                    return Ok::<bool, SegmentError>(false);
                }
                if b.base_offset() != next as i64 && !(first && from.position > 0) {
                    bad = Some("a batch's base offset does not follow the previous batch");
                    return Ok(false);
                }
                first = false;
                next = as_u64(b.next_offset());
                Ok(true)
            },
        )?;
        if let Some(what) = bad {
            return Err(IndexError::Corrupt {
                path: log_path,
                entry: self.offset_index.entries(),
                what,
            }
            .into());
        }
        if let ScanEnd::Invalid(position, source) = end {
            return Err(SegmentError::Corrupt {
                path: log_path,
                position,
                source,
            });
        }
        self.next_offset = next;
        self.time_index.sanity_check(next)?;
        self.txn_index.check(next)?;
        if self.time_index.entries() > 0 {
            self.max_ts = self.time_index.last_entry();
        }
        // batches after the last time index entry may hold a larger timestamp
        let after = self.offset_index.lookup(self.max_ts.offset).position;
        let mut max_ts = self.max_ts;
        scan(st, &mut self.log, after, self.size, |_, b| {
            if b.max_timestamp() > max_ts.timestamp {
                max_ts = TimestampOffset {
                    timestamp: b.max_timestamp(),
                    offset: as_u64(b.last_offset()),
                };
            }
            Ok::<bool, SegmentError>(true)
        })?;
        self.max_ts = max_ts;
        self.load_first_batch_timestamp(st)?;
        Ok(())
    }

    fn load_first_batch_timestamp<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
    ) -> Result<(), SegmentError> {
        if self.rolling_based_timestamp.is_none() && self.size > 0 {
            let mut ts = None;
            let end = self.size;
            scan(st, &mut self.log, 0, end, |_, b| {
                ts = Some(b.max_timestamp());
                Ok::<bool, SegmentError>(false)
            })?;
            self.rolling_based_timestamp = ts;
        }
        Ok(())
    }

    /// Re-validates every batch (CRC, header, offsets increasing and within the segment's
    /// relative range, transaction markers), truncates the `.log` at the first invalid byte
    /// and rebuilds the indexes as an append would have built them (Kafka's
    /// `LogSegment.recover`). `producers` must hold the producer state at the segment's base
    /// offset: every valid batch is replayed into it, and every transaction aborted by a marker
    /// in the segment is written to the transaction index with the last stable offset it
    /// gives.
    pub(crate) fn recover<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        producers: &mut ProducerStateManager,
    ) -> Result<RecoverInfo, SegmentError> {
        self.offset_index.reset(st, self.max_index_size)?;
        self.time_index.reset(st, self.max_index_size)?;
        self.txn_index.reset(st)?;
        let mut aborted: Vec<AbortedTxn> = Vec::new();
        let mut scratch = Vec::new();
        self.max_ts = TimestampOffset {
            timestamp: NO_TIMESTAMP,
            offset: self.base_offset,
        };
        self.bytes_since_last_index_entry = 0;
        self.rolling_based_timestamp = None;
        let mut batches: Vec<(BatchInfo, u64)> = Vec::new();
        let mut next = self.base_offset;
        let mut reason = None;
        let mut invalid_offset = None;
        let base = self.base_offset;
        let end = scan(st, &mut self.log, 0, self.size, |pos, b| {
            if let Err(e) = b.validate() {
                reason = Some(e);
                return Ok(false);
            }
            let last = b.last_offset();
            if b.base_offset() != next as i64 {
                // not covered by the CRC: a flipped base offset would move the log end
                invalid_offset = Some(InvalidOffset {
                    segment: base,
                    position: pos,
                    expected: next,
                    found: b.base_offset(),
                });
                reason = Some(RecordError::Invalid {
                    offset: pos as usize,
                    field: "baseOffset",
                    expected: "the offset after the previous batch (the segment's base offset for the first)",
                });
                return Ok(false);
            }
            if crate::index::relative_offset(base, as_u64(last)).is_none() {
                reason = Some(RecordError::Invalid {
                    offset: pos as usize,
                    field: "lastOffsetDelta",
                    expected: "a last offset within int32 of the segment's base offset",
                });
                return Ok(false);
            }
            match producers.replay_batch(&b, &mut scratch) {
                Ok(Some(txn)) => {
                    if txn.is_aborted {
                        let lso = producers.last_stable_offset(&txn);
                        aborted.push(AbortedTxn::new(
                            txn.producer_id,
                            txn.first_offset as i64,
                            txn.last_offset as i64,
                            lso as i64,
                        ));
                    }
                    producers.complete_txn(&txn);
                }
                Ok(None) => {}
                Err(e) => {
                    reason = Some(e);
                    return Ok(false);
                }
            }
            next = as_u64(b.next_offset());
            batches.push((
                BatchInfo {
                    last_offset: as_u64(last),
                    max_timestamp: b.max_timestamp(),
                    size: b.size() as u32,
                },
                as_u64(b.base_offset()),
            ));
            Ok::<bool, SegmentError>(true)
        })?;
        let valid_end = match end {
            ScanEnd::Complete => self.size,
            ScanEnd::Stopped(p) => p,
            ScanEnd::Invalid(p, e) => {
                reason = Some(e);
                p
            }
        };
        let truncated = self.size - valid_end;
        if truncated > 0 {
            st.set_len(&mut self.log, u64::from(valid_end))?;
        }
        self.size = 0;
        self.next_offset = self.base_offset;
        for (info, _) in &batches {
            self.index_batch(st, *info)?;
        }
        debug_assert_eq!(self.size, valid_end);
        self.offset_index.trim_to_valid_size(st)?;
        self.time_index
            .maybe_append(st, self.max_ts.timestamp, self.max_ts.offset, true)?;
        self.time_index.trim_to_valid_size(st)?;
        for txn in aborted {
            self.txn_index.append(st, txn)?;
        }
        if let Some((first, _)) = batches.first() {
            self.rolling_based_timestamp = Some(first.max_timestamp);
        }
        Ok(RecoverInfo {
            truncated_bytes: truncated,
            reason: if truncated > 0 { reason } else { None },
            invalid_offset: invalid_offset.filter(|_| truncated > 0),
        })
    }

    /// Index maintenance for one batch that sits at the current end (`self.size`), exactly
    /// as Kafka's recovery does it: update the max timestamp, add an index entry when more
    /// than `index.interval.bytes` were written since the last one, advance.
    fn index_batch<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        b: BatchInfo,
    ) -> Result<(), SegmentError> {
        if b.max_timestamp > self.max_ts.timestamp {
            self.max_ts = TimestampOffset {
                timestamp: b.max_timestamp,
                offset: b.last_offset,
            };
        }
        if self.bytes_since_last_index_entry > self.index_interval_bytes {
            self.offset_index.append(b.last_offset, self.size)?;
            self.time_index
                .maybe_append(st, self.max_ts.timestamp, self.max_ts.offset, false)?;
            self.bytes_since_last_index_entry = 0;
        }
        self.size += b.size;
        self.bytes_since_last_index_entry =
            self.bytes_since_last_index_entry.saturating_add(b.size);
        self.next_offset = b.last_offset + 1;
        Ok(())
    }

    /// Appends already validated batches (`data`, described batch by batch in `batches`) and
    /// maintains the indexes: one offset index entry `(last offset, position)` and one time
    /// index entry `(max timestamp so far, its offset)` at the first batch after more than
    /// `index.interval.bytes` since the previous entry.
    pub(crate) fn append<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        data: &[u8],
        batches: &[BatchInfo],
    ) -> Result<(), SegmentError> {
        if data.is_empty() {
            return Ok(());
        }
        let new_size = u64::from(self.size) + data.len() as u64;
        if new_size > i32::MAX as u64 {
            return Err(SegmentError::TooLarge {
                path: self.log_path.clone(),
                size: new_size,
            });
        }
        if let Some(last) = batches.last() {
            if !self.offset_index.can_append_offset(last.last_offset) {
                return Err(SegmentError::OffsetOverflow {
                    path: self.log_path.clone(),
                    offset: last.last_offset,
                    base_offset: self.base_offset,
                });
            }
        }
        if self.size == 0 {
            self.rolling_based_timestamp = batches.iter().map(|b| b.max_timestamp).max();
        }
        st.write_at(&mut self.log, u64::from(self.size), data)?;
        for b in batches {
            self.index_batch(st, *b)?;
        }
        // One write per index for the whole append, not one per entry.
        self.offset_index.write_entries(st)?;
        self.time_index.write_entries(st)?;
        Ok(())
    }

    /// Whether the next append must go to a new segment (Kafka's `shouldRoll`).
    pub(crate) fn should_roll(&self, p: &RollParams) -> bool {
        let reached_ms = self.time_waited_for_roll(p.now_ms, p.max_timestamp)
            > p.segment_ms.saturating_sub(p.jitter_ms);
        i64::from(self.size) > i64::from(p.segment_bytes) - i64::from(p.messages_size)
            || (self.size > 0 && reached_ms)
            || self.offset_index.is_full()
            || self.time_index.is_full()
            || !self.offset_index.can_append_offset(p.max_offset)
    }

    /// How long this segment has waited to roll: since its first batch's timestamp when it
    /// has one, else since it was created or loaded.
    pub(crate) fn time_waited_for_roll(&self, now_ms: i64, message_timestamp: i64) -> i64 {
        match self.rolling_based_timestamp {
            Some(t) if t >= 0 => message_timestamp.saturating_sub(t),
            _ => now_ms.saturating_sub(self.created_ms),
        }
    }

    /// Where the first batch with a last offset `>= offset` starts, and that batch's base
    /// offset; `None` when every batch ends before `offset`.
    pub(crate) fn translate_offset<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        offset: u64,
    ) -> Result<Option<(u32, u64)>, SegmentError> {
        let from = self.offset_index.lookup(offset).position;
        let mut found = None;
        let end = scan(st, &mut self.log, from, self.size, |pos, b| {
            if as_u64(b.last_offset()) >= offset {
                found = Some((pos, as_u64(b.base_offset())));
                return Ok::<bool, SegmentError>(false);
            }
            Ok(true)
        })?;
        if let (None, ScanEnd::Invalid(position, source)) = (found, end) {
            // an unreadable batch may hold the offset: say so rather than skip past it
            return Err(SegmentError::Corrupt {
                path: self.log_path.clone(),
                position,
                source,
            });
        }
        Ok(found)
    }

    /// Reads whole batches from the first one holding `offset`, up to `max_bytes` (at least
    /// one batch, however large, as Kafka's `minOneMessage`). Empty when `offset` is past the
    /// last batch.
    pub(crate) fn read<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        offset: u64,
        max_bytes: u32,
    ) -> Result<Vec<u8>, SegmentError> {
        let Some((start, _)) = self.translate_offset(st, offset)? else {
            return Ok(Vec::new());
        };
        let mut end = start;
        scan(st, &mut self.log, start, self.size, |pos, b| {
            let e = pos + b.size() as u32;
            if pos == start || e - start <= max_bytes {
                end = e;
                return Ok::<bool, SegmentError>(true);
            }
            Ok(false)
        })?;
        let mut out = alloc::vec![0u8; (end - start) as usize];
        st.read_exact_at(&mut self.log, u64::from(start), &mut out)?;
        Ok(out)
    }

    /// The first record with a timestamp `>= timestamp` and an offset `>= start_offset`
    /// (Kafka's `findOffsetByTimestamp`): time index, then offset index, then a scan.
    pub(crate) fn find_offset_by_timestamp<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        timestamp: i64,
        start_offset: u64,
    ) -> Result<Option<TimestampOffset>, SegmentError> {
        let ts_entry = self.time_index.lookup(timestamp);
        let from = self
            .offset_index
            .lookup(ts_entry.offset.max(start_offset))
            .position;
        let path = self.log_path.clone();
        let mut found = None;
        let mut scratch = Vec::new();
        scan(st, &mut self.log, from, self.size, |pos, b| {
            if b.max_timestamp() < timestamp || as_u64(b.last_offset()) < start_offset {
                return Ok::<bool, SegmentError>(true);
            }
            let recs = b
                .records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED)
                .map_err(|source| SegmentError::Corrupt {
                    path: path.clone(),
                    position: pos,
                    source,
                })?;
            for r in recs {
                let r = r.map_err(|source| SegmentError::Corrupt {
                    path: path.clone(),
                    position: pos,
                    source,
                })?;
                if r.timestamp >= timestamp && as_u64(r.offset) >= start_offset {
                    found = Some(TimestampOffset {
                        timestamp: r.timestamp,
                        offset: as_u64(r.offset),
                    });
                    return Ok(false);
                }
            }
            Ok(true)
        })?;
        Ok(found)
    }

    /// The record holding the segment's max timestamp (ListOffsets `MAX_TIMESTAMP`).
    pub(crate) fn offset_of_max_timestamp<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
    ) -> Result<Option<TimestampOffset>, SegmentError> {
        let ts = self.max_ts.timestamp;
        if self.size == 0 || ts < 0 {
            return Ok(None);
        }
        self.find_offset_by_timestamp(st, ts, self.base_offset)
    }

    /// Removes every batch from the one holding `offset` on (Kafka's `truncateTo`); returns
    /// the bytes removed. The indexes are preallocated again: the segment becomes active.
    pub(crate) fn truncate_to<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        offset: u64,
    ) -> Result<u32, SegmentError> {
        // aborted transactions whose marker is at or after `offset` go in any case
        self.txn_index.truncate_to(st, offset)?;
        let pos = match self.translate_offset(st, offset)? {
            Some((pos, _)) => pos,
            None => return Ok(0),
        };
        self.offset_index.truncate_to(offset);
        self.time_index.truncate_to(offset);
        self.offset_index.resize(st, self.max_index_size)?;
        self.time_index.resize(st, self.max_index_size)?;
        let removed = self.size - pos;
        st.set_len(&mut self.log, u64::from(pos))?;
        self.size = pos;
        self.bytes_since_last_index_entry = 0;
        // the next offset and max timestamp: walk what is left after the last index entry
        let last = match self.offset_index.entries() {
            0 => OffsetPosition {
                offset: self.base_offset,
                position: 0,
            },
            n => self.offset_index.entry(n - 1),
        };
        self.max_ts = self.time_index.last_entry();
        let (mut next, mut max_ts) = (
            if last.position == 0 {
                self.base_offset
            } else {
                last.offset + 1
            },
            self.max_ts,
        );
        scan(st, &mut self.log, last.position, self.size, |_, b| {
            next = as_u64(b.next_offset());
            if b.max_timestamp() > max_ts.timestamp {
                max_ts = TimestampOffset {
                    timestamp: b.max_timestamp(),
                    offset: as_u64(b.last_offset()),
                };
            }
            Ok::<bool, SegmentError>(true)
        })?;
        self.next_offset = next;
        self.max_ts = max_ts;
        if self.size == 0 {
            self.rolling_based_timestamp = None;
        }
        Ok(removed)
    }

    /// The segment stops being the active one: the roll-time time index entry, then both
    /// indexes trimmed to their entries (Kafka's `onBecomeInactiveSegment`).
    pub(crate) fn on_become_inactive<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
    ) -> Result<(), SegmentError> {
        self.time_index
            .maybe_append(st, self.max_ts.timestamp, self.max_ts.offset, true)?;
        self.offset_index.trim_to_valid_size(st)?;
        self.time_index.trim_to_valid_size(st)?;
        Ok(())
    }

    /// Preallocates the indexes again (the segment becomes the active one after a load).
    pub(crate) fn resize_indexes<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
    ) -> Result<(), SegmentError> {
        self.offset_index.resize(st, self.max_index_size)?;
        self.time_index.resize(st, self.max_index_size)?;
        Ok(())
    }

    /// Syncs the `.log` and both indexes.
    pub(crate) fn flush<S: Storage<File = F>>(&mut self, st: &mut S) -> Result<(), SegmentError> {
        st.sync(&mut self.log)?;
        self.offset_index.sync(st)?;
        self.time_index.sync(st)?;
        self.txn_index.sync(st)?;
        Ok(())
    }

    /// Removes the segment's files.
    pub(crate) fn delete<S: Storage<File = F>>(self, st: &mut S) -> Result<(), SegmentError> {
        self.txn_index.delete(st)?;
        for p in [
            &self.log_path,
            &String::from(self.offset_index.path()),
            &String::from(self.time_index.path()),
        ] {
            match st.remove(p) {
                Ok(()) | Err(StorageError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// The base offset.
    pub fn base_offset(&self) -> u64 {
        self.base_offset
    }

    /// Bytes of batches in the `.log`.
    pub fn size(&self) -> u32 {
        self.size
    }

    /// The offset after the last batch (the base offset when empty).
    pub fn next_offset(&self) -> u64 {
        self.next_offset
    }

    /// The largest timestamp in the segment and the last offset of its batch (-1 if none).
    pub fn max_timestamp(&self) -> TimestampOffset {
        self.max_ts
    }

    /// The largest timestamp, or the creation time when no batch has one (what
    /// `retention.ms` compares).
    pub fn largest_timestamp(&self) -> i64 {
        if self.max_ts.timestamp >= 0 {
            self.max_ts.timestamp
        } else {
            self.created_ms
        }
    }

    /// The offset index.
    pub fn offset_index(&self) -> &OffsetIndex<F> {
        &self.offset_index
    }

    /// The time index.
    pub fn time_index(&self) -> &TimeIndex<F> {
        &self.time_index
    }

    /// The transaction index.
    pub fn txn_index(&self) -> &TransactionIndex<F> {
        &self.txn_index
    }

    /// Records an aborted transaction whose marker was appended to this segment.
    pub(crate) fn append_aborted_txn<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        txn: AbortedTxn,
    ) -> Result<(), SegmentError> {
        Ok(self.txn_index.append(st, txn)?)
    }

    /// The `.log` path.
    pub fn log_path(&self) -> &str {
        &self.log_path
    }

    /// Visits every batch in the segment from `from_offset` on (CRCs not checked).
    pub(crate) fn for_each_batch<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        from_offset: u64,
        mut f: impl FnMut(u32, &BatchView<&[u8]>),
    ) -> Result<(), SegmentError> {
        let from = self.offset_index.lookup(from_offset).position;
        let path = self.log_path.clone();
        let end = scan(st, &mut self.log, from, self.size, |pos, b| {
            if as_u64(b.last_offset()) >= from_offset {
                f(pos, &b);
            }
            Ok::<bool, SegmentError>(true)
        })?;
        match end {
            ScanEnd::Invalid(position, source) => Err(SegmentError::Corrupt {
                path,
                position,
                source,
            }),
            _ => Ok(()),
        }
    }
}
