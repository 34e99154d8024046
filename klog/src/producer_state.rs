//! Producer state per partition, as Kafka's `ProducerStateManager`, `ProducerStateEntry` and
//! `ProducerAppendInfo`: the metadata of the last 5 batches of every producer id, duplicate
//! detection, sequence, epoch and coordinator epoch checks, the transactions in progress (for
//! the last stable offset and the transaction index), and Kafka's `.snapshot` file format.
//!
//! Snapshot format (`ProducerSnapshot` v1, big-endian): version int16 (1), crc uint32
//! (CRC-32C of everything after it), entry count int32, then per producer: producer id int64,
//! epoch int16, last sequence int32, last offset int64, offset delta int32, timestamp int64,
//! coordinator epoch int32, current transaction first offset int64 (-1). Like Kafka, only the
//! last batch of each producer is in a snapshot (last sequence -1, last offset -1, offset
//! delta 0 when the producer has none, e.g. after a marker bumped its epoch), while the
//! timestamp is the producer's last timestamp (of its last batch or marker). Batches after the
//! snapshot's offset are replayed from the log on load.
//!
//! Replay follows `ProducerAppendInfo.append`: a data batch adds its metadata (a new epoch
//! forgets the old epoch's batches) and its max timestamp becomes the producer's last
//! timestamp; a transactional data batch starts a transaction when none is open (its base
//! offset is the transaction's first offset); a control batch's end transaction marker ends
//! the open transaction (a `CompletedTxn`), sets the epoch, the coordinator epoch and the
//! last timestamp (the marker record's) and leaves the sequence alone.
//!
//! Public for reading (the types are re-exported at the crate root too; the `kpp dump` CLI
//! names [`ProducerStateManager`] by this path to decode `.snapshot` files): a log's state
//! ([`crate::Log::producer_state`]), its entries and the snapshot codec. Preparing, checking
//! and applying an append, replay and the offset bookkeeping are crate-internal: only the log
//! changes its producer state.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use kproto::records::control::{parse_control_record, ControlRecord};
use kproto::records::{BatchView, RecordError};
use kproto::ErrorCode;

/// How many batches per producer are remembered for duplicate detection (Kafka's
/// `NUM_BATCHES_TO_RETAIN`).
pub const BATCHES_TO_RETAIN: usize = 5;

/// Kafka's `RecordBatch.NO_SEQUENCE`.
const NO_SEQUENCE: i32 = -1;
/// Kafka's `RecordBatch.NO_PRODUCER_EPOCH`.
const NO_PRODUCER_EPOCH: i16 = -1;
/// Kafka's `RecordBatch.NO_TIMESTAMP`.
const NO_TIMESTAMP: i64 = -1;

/// Metadata of one appended batch of a producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchMetadata {
    /// Sequence of the batch's last record.
    pub last_seq: i32,
    /// Offset of the batch's last record.
    pub last_offset: u64,
    /// `last offset - first offset` (= last sequence - first sequence).
    pub offset_delta: i32,
    /// The batch's max timestamp.
    pub timestamp: i64,
}

impl BatchMetadata {
    /// Sequence of the batch's first record.
    pub fn first_seq(&self) -> i32 {
        decrement_seq(self.last_seq, self.offset_delta)
    }

    /// Offset of the batch's first record (0 for an inconsistent delta, which loading a
    /// snapshot refuses).
    pub fn first_offset(&self) -> u64 {
        u64::try_from(self.offset_delta)
            .ok()
            .and_then(|d| self.last_offset.checked_sub(d))
            .unwrap_or(0)
    }
}

/// Kafka's `DefaultRecordBatch.decrementSequence`, with Java's wrapping int arithmetic (the
/// values may come from a snapshot file).
fn decrement_seq(seq: i32, by: i32) -> i32 {
    if seq < by {
        i32::MAX.wrapping_sub(by.wrapping_sub(seq)).wrapping_add(1)
    } else {
        seq.wrapping_sub(by)
    }
}

fn in_sequence(last_seq: i32, next_seq: i32) -> bool {
    i64::from(next_seq) == i64::from(last_seq) + 1 || (next_seq == 0 && last_seq == i32::MAX)
}

/// What is known about one producer id (Kafka's `ProducerStateEntry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerEntry {
    /// The producer epoch of its last batch or marker.
    pub epoch: i16,
    /// Its last batches of the current epoch, oldest first (at most [`BATCHES_TO_RETAIN`]).
    pub batches: VecDeque<BatchMetadata>,
    /// The coordinator epoch of the last transaction marker (-1: none).
    pub coordinator_epoch: i32,
    /// The timestamp of its last batch (max timestamp) or marker; -1 when unknown.
    pub last_timestamp: i64,
    /// First offset of the transaction in progress, if one is.
    pub current_txn_first_offset: Option<u64>,
}

impl ProducerEntry {
    /// A producer nothing is known about (Kafka's `ProducerStateEntry.empty`).
    pub(crate) fn empty() -> Self {
        ProducerEntry {
            epoch: NO_PRODUCER_EPOCH,
            batches: VecDeque::new(),
            coordinator_epoch: -1,
            last_timestamp: NO_TIMESTAMP,
            current_txn_first_offset: None,
        }
    }

    /// Sequence of its last appended record, or -1.
    pub fn last_seq(&self) -> i32 {
        self.batches.back().map_or(NO_SEQUENCE, |b| b.last_seq)
    }

    /// Offset of its last appended record, or -1.
    pub fn last_data_offset(&self) -> i64 {
        self.batches.back().map_or(-1, |b| b.last_offset as i64)
    }

    /// The offset delta of its last batch, or 0.
    pub fn last_offset_delta(&self) -> i32 {
        self.batches.back().map_or(0, |b| b.offset_delta)
    }

    /// Its last timestamp (of its last batch or marker), or -1.
    pub fn last_timestamp(&self) -> i64 {
        self.last_timestamp
    }

    fn maybe_update_epoch(&mut self, epoch: i16) {
        if self.epoch != epoch {
            self.batches.clear();
            self.epoch = epoch;
        }
    }

    fn add_batch_metadata(&mut self, b: BatchMetadata) {
        if self.batches.len() == BATCHES_TO_RETAIN {
            self.batches.pop_front();
        }
        self.batches.push_back(b);
    }

    fn add_batch(&mut self, epoch: i16, b: BatchMetadata) {
        self.maybe_update_epoch(epoch);
        self.add_batch_metadata(b);
        self.last_timestamp = b.timestamp;
    }

    /// The retained batch of `epoch` with exactly these sequences (a retried batch).
    pub fn find_duplicate(
        &self,
        epoch: i16,
        first_seq: i32,
        last_seq: i32,
    ) -> Option<BatchMetadata> {
        if epoch != self.epoch {
            return None;
        }
        self.batches
            .iter()
            .find(|b| b.first_seq() == first_seq && b.last_seq == last_seq)
            .copied()
    }
}

/// Who appends (Kafka's `AppendOrigin`), which decides what is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppendOrigin {
    /// A producer (Produce): epochs, sequences and coordinator epochs are checked.
    Client,
    /// The transaction coordinator (WriteTxnMarkers): epochs and coordinator epochs.
    Coordinator,
    /// Replication, recovery and replay: nothing is refused.
    Replication,
}

/// A transaction a marker ended (Kafka's `CompletedTxn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CompletedTxn {
    /// The producer.
    pub producer_id: i64,
    /// The transaction's first offset.
    pub first_offset: u64,
    /// The marker's offset.
    pub last_offset: u64,
    /// Aborted (`true`) or committed.
    pub is_aborted: bool,
}

/// A batch the producer state refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProducerStateError {
    /// The batch's epoch is older than the producer's current one (`INVALID_PRODUCER_EPOCH`).
    #[error(
        "producer {producer_id}: epoch {epoch} is older than the current epoch {current_epoch}"
    )]
    InvalidProducerEpoch {
        /// The producer id.
        producer_id: i64,
        /// The batch's epoch.
        epoch: i16,
        /// The epoch known.
        current_epoch: i16,
    },
    /// The batch's first sequence does not follow the last one (`OUT_OF_ORDER_SEQUENCE_NUMBER`).
    #[error("producer {producer_id} epoch {epoch}: out of order sequence {first_seq} after last sequence {last_seq}")]
    OutOfOrderSequence {
        /// The producer id.
        producer_id: i64,
        /// The batch's epoch.
        epoch: i16,
        /// The batch's first sequence.
        first_seq: i32,
        /// The last sequence appended (-1: none in this epoch).
        last_seq: i32,
    },
    /// A non-transactional batch while the producer's transaction is open (`INVALID_TXN_STATE`).
    #[error("producer {producer_id}: non-transactional batch while its transaction from offset {txn_first_offset} is open")]
    InvalidTxnState {
        /// The producer id.
        producer_id: i64,
        /// The open transaction's first offset.
        txn_first_offset: u64,
    },
    /// A marker from an older transaction coordinator (`TRANSACTION_COORDINATOR_FENCED`).
    #[error("producer {producer_id}: marker coordinator epoch {coordinator_epoch} is older than {current}")]
    CoordinatorFenced {
        /// The producer id.
        producer_id: i64,
        /// The marker's coordinator epoch.
        coordinator_epoch: i32,
        /// The coordinator epoch known.
        current: i32,
    },
}

impl ProducerStateError {
    /// Kafka's error code for it.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            ProducerStateError::InvalidProducerEpoch { .. } => ErrorCode::InvalidProducerEpoch,
            ProducerStateError::OutOfOrderSequence { .. } => ErrorCode::OutOfOrderSequenceNumber,
            ProducerStateError::InvalidTxnState { .. } => ErrorCode::InvalidTxnState,
            ProducerStateError::CoordinatorFenced { .. } => ErrorCode::TransactionCoordinatorFenced,
        }
    }
}

/// A producer snapshot could not be used (Kafka's `CorruptSnapshotException`, and klog's
/// checks of the entries against the snapshot's offset).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The file is shorter than its contents claim.
    #[error("{path}: truncated at byte {at}")]
    Truncated {
        /// The file.
        path: String,
        /// Where the data ran out.
        at: usize,
    },
    /// Unsupported version.
    #[error("{path}: snapshot version {version}, expected 1")]
    Version {
        /// The file.
        path: String,
        /// The version read.
        version: i16,
    },
    /// The CRC does not match.
    #[error("{path}: crc {stored:#010x} but contents give {computed:#010x}")]
    Crc {
        /// The file.
        path: String,
        /// The CRC in the file.
        stored: u32,
        /// The CRC computed.
        computed: u32,
    },
    /// The entry count is negative (a null array, which the format does not allow).
    #[error("{path}: entry count {count}")]
    NegativeCount {
        /// The file.
        path: String,
        /// The count read.
        count: i32,
    },
    /// An entry contradicts itself or the snapshot's offset.
    #[error("{path}: entry {entry} (producer {producer_id}): {what}")]
    InvalidEntry {
        /// The file.
        path: String,
        /// The entry (0-based).
        entry: u32,
        /// Its producer id.
        producer_id: i64,
        /// What is wrong.
        what: &'static str,
    },
}

/// The validation and the pending update of one producer's batches in one append (Kafka's
/// `ProducerAppendInfo`); [`ProducerStateManager::update`] applies it.
#[derive(Debug, Clone)]
pub(crate) struct ProducerAppendInfo {
    producer_id: i64,
    origin: AppendOrigin,
    /// The entry before this append.
    current: ProducerEntry,
    /// The entry after this append's batches so far (its batches are this append's only).
    updated: ProducerEntry,
    started_txns: Vec<u64>,
}

impl ProducerAppendInfo {
    /// The producer id.
    pub(crate) fn producer_id(&self) -> i64 {
        self.producer_id
    }

    fn check_epoch(&self, epoch: i16) -> Result<(), ProducerStateError> {
        if epoch < self.updated.epoch && self.origin != AppendOrigin::Replication {
            return Err(ProducerStateError::InvalidProducerEpoch {
                producer_id: self.producer_id,
                epoch,
                current_epoch: self.updated.epoch,
            });
        }
        Ok(())
    }

    fn check_sequence(&self, epoch: i16, first_seq: i32) -> Result<(), ProducerStateError> {
        let out_of_order = |last_seq| ProducerStateError::OutOfOrderSequence {
            producer_id: self.producer_id,
            epoch,
            first_seq,
            last_seq,
        };
        if epoch != self.updated.epoch {
            if first_seq != 0 && self.updated.epoch != NO_PRODUCER_EPOCH {
                return Err(out_of_order(NO_SEQUENCE));
            }
        } else {
            let current_last_seq = if !self.updated.batches.is_empty() {
                self.updated.last_seq()
            } else if epoch == self.current.epoch {
                self.current.last_seq()
            } else {
                NO_SEQUENCE
            };
            if !(self.current.epoch == NO_PRODUCER_EPOCH
                || in_sequence(current_last_seq, first_seq))
            {
                return Err(out_of_order(current_last_seq));
            }
        }
        Ok(())
    }

    /// A data batch with offsets `first_offset..=last_offset` (Kafka's `appendDataBatch`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn append_data_batch(
        &mut self,
        epoch: i16,
        first_seq: i32,
        last_seq: i32,
        max_timestamp: i64,
        first_offset: u64,
        last_offset: u64,
        transactional: bool,
    ) -> Result<(), ProducerStateError> {
        self.check_epoch(epoch)?;
        if self.origin == AppendOrigin::Client {
            self.check_sequence(epoch, first_seq)?;
        }
        let delta = i32::try_from(last_offset.saturating_sub(first_offset)).unwrap_or(i32::MAX);
        self.updated.add_batch(
            epoch,
            BatchMetadata {
                last_seq,
                last_offset,
                offset_delta: delta,
                timestamp: max_timestamp,
            },
        );
        match self.updated.current_txn_first_offset {
            Some(txn_first_offset) if !transactional => {
                return Err(ProducerStateError::InvalidTxnState {
                    producer_id: self.producer_id,
                    txn_first_offset,
                })
            }
            None if transactional => {
                self.updated.current_txn_first_offset = Some(first_offset);
                self.started_txns.push(first_offset);
            }
            _ => {}
        }
        Ok(())
    }

    /// An end transaction marker at `offset` (Kafka's `appendEndTxnMarker`): the transaction
    /// in progress, if any, is completed.
    pub(crate) fn append_end_txn_marker(
        &mut self,
        commit: bool,
        coordinator_epoch: i32,
        epoch: i16,
        offset: u64,
        timestamp: i64,
    ) -> Result<Option<CompletedTxn>, ProducerStateError> {
        self.check_epoch(epoch)?;
        if self.updated.coordinator_epoch > coordinator_epoch
            && self.origin != AppendOrigin::Replication
        {
            return Err(ProducerStateError::CoordinatorFenced {
                producer_id: self.producer_id,
                coordinator_epoch,
                current: self.updated.coordinator_epoch,
            });
        }
        let completed = self
            .updated
            .current_txn_first_offset
            .map(|first_offset| CompletedTxn {
                producer_id: self.producer_id,
                first_offset,
                last_offset: offset,
                is_aborted: !commit,
            });
        self.updated.maybe_update_epoch(epoch);
        self.updated.coordinator_epoch = coordinator_epoch;
        self.updated.current_txn_first_offset = None;
        self.updated.last_timestamp = timestamp;
        Ok(completed)
    }

    /// Any batch with a producer id, as replay sees it (Kafka's `ProducerAppendInfo.append`):
    /// a control batch's first record is its end transaction marker (an empty control batch
    /// changes nothing). Fails on a control record that is not a valid marker.
    pub(crate) fn append_batch<T: AsRef<[u8]>>(
        &mut self,
        b: &BatchView<T>,
        scratch: &mut Vec<u8>,
    ) -> Result<Result<Option<CompletedTxn>, ProducerStateError>, RecordError> {
        let base = u64::try_from(b.base_offset()).unwrap_or(0);
        if b.is_control() {
            let mut recs = b.records(scratch, kproto::records::DEFAULT_MAX_UNCOMPRESSED)?;
            let Some(rec) = recs.next() else {
                return Ok(Ok(None));
            };
            let rec = rec?;
            match parse_control_record(&rec)? {
                ControlRecord::EndTransaction {
                    commit,
                    coordinator_epoch,
                    ..
                } => Ok(self.append_end_txn_marker(
                    commit,
                    coordinator_epoch,
                    b.producer_epoch(),
                    base,
                    rec.timestamp,
                )),
                ControlRecord::Other { .. } => Err(RecordError::Invalid {
                    offset: rec.span.start,
                    field: "control record type",
                    expected: "an end transaction marker (ABORT or COMMIT)",
                }),
            }
        } else {
            let last = u64::try_from(b.last_offset()).unwrap_or(base).max(base);
            Ok(self
                .append_data_batch(
                    b.producer_epoch(),
                    b.base_sequence(),
                    b.last_sequence(),
                    b.max_timestamp(),
                    base,
                    last,
                    b.is_transactional(),
                )
                .map(|()| None))
        }
    }
}

/// The producer ids of one partition, their last batches and their transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerStateManager {
    producers: BTreeMap<i64, ProducerEntry>,
    /// Transactions in progress: first offset -> producer id.
    ongoing_txns: BTreeMap<u64, i64>,
    /// Completed transactions whose marker may be above the high watermark: first offset ->
    /// (producer id, marker offset).
    unreplicated_txns: BTreeMap<u64, (i64, u64)>,
    /// The offset after the last batch applied.
    map_end_offset: u64,
}

/// What the producer state says about a batch about to be appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SequenceCheck {
    /// Append it.
    Append,
    /// It was appended before: answer with these offsets, append nothing.
    Duplicate(BatchMetadata),
}

const CRC32C: crc::Crc<u32, crc::Table<16>> =
    crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);
const ENTRY_SIZE: usize = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;

impl ProducerStateManager {
    /// No producers.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// An empty state standing at `offset`.
    pub(crate) fn starting_at(offset: u64) -> Self {
        ProducerStateManager {
            map_end_offset: offset,
            ..Self::default()
        }
    }

    /// The producer ids known.
    pub fn producers(&self) -> &BTreeMap<i64, ProducerEntry> {
        &self.producers
    }

    /// The transactions in progress, by first offset (-> producer id).
    pub fn ongoing_txns(&self) -> &BTreeMap<u64, i64> {
        &self.ongoing_txns
    }

    /// The offset after the last batch applied.
    pub fn map_end_offset(&self) -> u64 {
        self.map_end_offset
    }

    /// Sets where the state stands (after loading a snapshot or replaying).
    pub(crate) fn set_map_end_offset(&mut self, offset: u64) {
        self.map_end_offset = offset;
    }

    /// The validation of one producer's batches in an append (Kafka's `prepareUpdate`).
    pub(crate) fn prepare_update(
        &self,
        producer_id: i64,
        origin: AppendOrigin,
    ) -> ProducerAppendInfo {
        let current = self
            .producers
            .get(&producer_id)
            .cloned()
            .unwrap_or_else(ProducerEntry::empty);
        let mut updated = current.clone();
        updated.batches.clear();
        ProducerAppendInfo {
            producer_id,
            origin,
            current,
            updated,
            started_txns: Vec::new(),
        }
    }

    /// Applies a validated append (Kafka's `update`).
    pub(crate) fn update(&mut self, info: ProducerAppendInfo) {
        let ProducerAppendInfo {
            producer_id,
            updated,
            started_txns,
            ..
        } = info;
        match self.producers.get_mut(&producer_id) {
            Some(e) => {
                e.maybe_update_epoch(updated.epoch);
                for b in updated.batches {
                    e.add_batch_metadata(b);
                }
                e.coordinator_epoch = updated.coordinator_epoch;
                e.current_txn_first_offset = updated.current_txn_first_offset;
                e.last_timestamp = updated.last_timestamp;
            }
            None => {
                self.producers.insert(producer_id, updated);
            }
        }
        for first in started_txns {
            self.ongoing_txns.insert(first, producer_id);
        }
    }

    /// The last stable offset to record with an aborted transaction (Kafka's
    /// `lastStableOffset(CompletedTxn)`): the first offset of the earliest transaction in
    /// progress of another producer, else the marker's offset + 1.
    pub(crate) fn last_stable_offset(&self, txn: &CompletedTxn) -> u64 {
        self.ongoing_txns
            .iter()
            .find(|(_, pid)| **pid != txn.producer_id)
            .map_or(txn.last_offset + 1, |(first, _)| *first)
    }

    /// Marks a transaction completed (Kafka's `completeTxn`); it stays unstable until the
    /// high watermark passes its marker.
    pub(crate) fn complete_txn(&mut self, txn: &CompletedTxn) {
        if self.ongoing_txns.remove(&txn.first_offset).is_some() {
            self.unreplicated_txns
                .insert(txn.first_offset, (txn.producer_id, txn.last_offset));
        }
    }

    /// Forgets completed transactions whose marker is below `high_watermark`.
    pub(crate) fn on_high_watermark_updated(&mut self, high_watermark: u64) {
        self.unreplicated_txns
            .retain(|_, (_, last)| *last >= high_watermark);
    }

    /// The first offset of the earliest transaction in progress.
    pub fn first_undecided_offset(&self) -> Option<u64> {
        self.ongoing_txns.keys().next().copied()
    }

    /// The first offset not yet stable: of the earliest transaction in progress or completed
    /// with its marker not yet below the high watermark (Kafka's `firstUnstableOffset`).
    pub fn first_unstable_offset(&self) -> Option<u64> {
        let a = self.ongoing_txns.keys().next().copied();
        let b = self.unreplicated_txns.keys().next().copied();
        match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Checks a client batch of `producer_id` (>= 0) with sequences `first_seq..=last_seq`
    /// against the state before the append: a duplicate of one of the last 5 batches, a
    /// fenced epoch, or a sequence gap. A query, changing nothing; public so that a loaded
    /// snapshot's entries can be checked against any batch (the `klog_producer_snapshot` fuzz
    /// target does, over arbitrary snapshot bytes).
    pub fn check(
        &self,
        producer_id: i64,
        epoch: i16,
        first_seq: i32,
        last_seq: i32,
    ) -> Result<SequenceCheck, ProducerStateError> {
        if let Some(dup) = self
            .producers
            .get(&producer_id)
            .and_then(|e| e.find_duplicate(epoch, first_seq, last_seq))
        {
            return Ok(SequenceCheck::Duplicate(dup));
        }
        let info = self.prepare_update(producer_id, AppendOrigin::Client);
        info.check_epoch(epoch)?;
        info.check_sequence(epoch, first_seq)?;
        Ok(SequenceCheck::Append)
    }

    /// Replays one batch read from the log (origin replication: nothing is refused) and
    /// moves the state past it. Returns the transaction its marker completed; the caller
    /// records an aborted one in the transaction index and then calls [`complete_txn`]
    /// (as Kafka's `LogSegment.updateProducerState`), or calls [`replay`] which does both.
    ///
    /// [`complete_txn`]: Self::complete_txn
    /// [`replay`]: Self::replay
    pub(crate) fn replay_batch<T: AsRef<[u8]>>(
        &mut self,
        b: &BatchView<T>,
        scratch: &mut Vec<u8>,
    ) -> Result<Option<CompletedTxn>, RecordError> {
        let mut completed = None;
        if b.producer_id() >= 0 {
            let mut info = self.prepare_update(b.producer_id(), AppendOrigin::Replication);
            // replication origin refuses nothing but a non-transactional batch inside a
            // transaction, which Kafka's replay would throw on; the batch is recorded anyway
            completed = info.append_batch(b, scratch)?.unwrap_or(None);
            self.update(info);
        }
        if let Ok(next) = u64::try_from(b.next_offset()) {
            self.map_end_offset = self.map_end_offset.max(next);
        }
        Ok(completed)
    }

    /// [`replay_batch`](Self::replay_batch), completing the transaction it ended.
    pub(crate) fn replay<T: AsRef<[u8]>>(
        &mut self,
        b: &BatchView<T>,
        scratch: &mut Vec<u8>,
    ) -> Result<(), RecordError> {
        if let Some(txn) = self.replay_batch(b, scratch)? {
            self.complete_txn(&txn);
        }
        Ok(())
    }

    /// Forgets producers that are idle (last timestamp `expiration_ms` or more before
    /// `now_ms`) with no transaction in progress (Kafka's `removeExpiredProducers`).
    pub(crate) fn remove_expired(&mut self, now_ms: i64, expiration_ms: i64) {
        self.producers
            .retain(|_, e| !is_expired(e, now_ms, expiration_ms));
    }

    /// The log start offset moved to `log_start_offset` (Kafka's
    /// `onLogStartOffsetIncremented`): completed transactions whose marker is below it are
    /// forgotten and the state stands at least there. Producers stay (Kafka expires them by
    /// time only, [`remove_expired`](Self::remove_expired)).
    pub(crate) fn on_log_start_offset_incremented(&mut self, log_start_offset: u64) {
        self.unreplicated_txns
            .retain(|_, (_, last)| *last >= log_start_offset);
        self.map_end_offset = self.map_end_offset.max(log_start_offset);
    }

    /// Encodes a Kafka `ProducerSnapshot` v1 of the current state (entries by producer id).
    pub fn encode_snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + self.producers.len() * ENTRY_SIZE);
        out.extend_from_slice(&1i16.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(self.producers.len() as i32).to_be_bytes());
        for (pid, e) in &self.producers {
            out.extend_from_slice(&pid.to_be_bytes());
            out.extend_from_slice(&e.epoch.to_be_bytes());
            out.extend_from_slice(&e.last_seq().to_be_bytes());
            out.extend_from_slice(&e.last_data_offset().to_be_bytes());
            out.extend_from_slice(&e.last_offset_delta().to_be_bytes());
            out.extend_from_slice(&e.last_timestamp.to_be_bytes());
            out.extend_from_slice(&e.coordinator_epoch.to_be_bytes());
            let txn = e.current_txn_first_offset.map_or(-1, |o| o as i64);
            out.extend_from_slice(&txn.to_be_bytes());
        }
        let crc = CRC32C.checksum(&out[6..]);
        out[2..6].copy_from_slice(&crc.to_be_bytes());
        out
    }

    /// Decodes a Kafka `ProducerSnapshot` v1 taken at `offset` (the file's name). Besides
    /// Kafka's checks (version, CRC, a whole non-null entry array), every entry must be
    /// consistent with itself and the offset: `0 <= offset delta <= last offset < offset`
    /// when it has a last batch, and a transaction in progress starts below `offset`.
    pub fn decode_snapshot(path: &str, offset: u64, data: &[u8]) -> Result<Self, SnapshotError> {
        let truncated = |at| SnapshotError::Truncated {
            path: String::from(path),
            at,
        };
        if data.len() < 10 {
            return Err(truncated(data.len()));
        }
        let version = i16::from_be_bytes([data[0], data[1]]);
        if version != 1 {
            return Err(SnapshotError::Version {
                path: String::from(path),
                version,
            });
        }
        let stored = u32::from_be_bytes([data[2], data[3], data[4], data[5]]);
        let computed = CRC32C.checksum(&data[6..]);
        if stored != computed {
            return Err(SnapshotError::Crc {
                path: String::from(path),
                stored,
                computed,
            });
        }
        let count = i32::from_be_bytes([data[6], data[7], data[8], data[9]]);
        let Ok(count) = usize::try_from(count) else {
            return Err(SnapshotError::NegativeCount {
                path: String::from(path),
                count,
            });
        };
        if (data.len() - 10) / ENTRY_SIZE < count {
            return Err(truncated(data.len()));
        }
        let mut m = ProducerStateManager::starting_at(offset);
        for (i, e) in data[10..].chunks_exact(ENTRY_SIZE).take(count).enumerate() {
            let i64_at = |p: usize| {
                let mut b = [0u8; 8];
                b.copy_from_slice(&e[p..p + 8]);
                i64::from_be_bytes(b)
            };
            let i32_at = |p: usize| i32::from_be_bytes([e[p], e[p + 1], e[p + 2], e[p + 3]]);
            let pid = i64_at(0);
            let epoch = i16::from_be_bytes([e[8], e[9]]);
            let last_seq = i32_at(10);
            let last_offset = i64_at(14);
            let offset_delta = i32_at(22);
            let timestamp = i64_at(26);
            let coordinator_epoch = i32_at(34);
            let txn_first = i64_at(38);
            let bad = |what| SnapshotError::InvalidEntry {
                path: String::from(path),
                entry: i as u32,
                producer_id: pid,
                what,
            };
            let mut batches = VecDeque::new();
            if last_offset >= 0 {
                if last_offset as u64 >= offset {
                    return Err(bad("last offset at or after the snapshot's offset"));
                }
                if offset_delta < 0 || i64::from(offset_delta) > last_offset {
                    return Err(bad("offset delta negative or larger than the last offset"));
                }
                batches.push_back(BatchMetadata {
                    last_seq,
                    last_offset: last_offset as u64,
                    offset_delta,
                    timestamp,
                });
            }
            let current_txn_first_offset = if txn_first >= 0 {
                if txn_first as u64 >= offset {
                    return Err(bad(
                        "transaction first offset at or after the snapshot's offset",
                    ));
                }
                Some(txn_first as u64)
            } else {
                None
            };
            m.load_entry(
                pid,
                ProducerEntry {
                    epoch,
                    batches,
                    coordinator_epoch,
                    last_timestamp: timestamp,
                    current_txn_first_offset,
                },
            );
        }
        Ok(m)
    }

    /// Adds a producer as loaded from a snapshot (Kafka's `loadProducerEntry`).
    fn load_entry(&mut self, producer_id: i64, entry: ProducerEntry) {
        if let Some(old) = self.producers.get(&producer_id) {
            if let Some(first) = old.current_txn_first_offset {
                self.ongoing_txns.remove(&first);
            }
        }
        if let Some(first) = entry.current_txn_first_offset {
            self.ongoing_txns.insert(first, producer_id);
        }
        self.producers.insert(producer_id, entry);
    }
}

fn is_expired(e: &ProducerEntry, now_ms: i64, expiration_ms: i64) -> bool {
    e.current_txn_first_offset.is_none() && now_ms.saturating_sub(e.last_timestamp) >= expiration_ms
}

#[cfg(test)]
mod tests;
