//! The idempotent producer's state, as Kafka's `TransactionManager` keeps it for a producer
//! without a `transactional.id` (`TxnPartitionMap`/`TxnPartitionEntry` included): the
//! producer id and epoch from InitProducerId, the next sequence per partition, the batches in
//! flight per partition ordered by sequence, the last acknowledged sequence and offset, and
//! the epoch bump that restarts a partition's sequences after OUT_OF_ORDER_SEQUENCE_NUMBER or
//! UNKNOWN_PRODUCER_ID. Transactions are refused ([`IdempotenceError::TransactionalIdNotSupported`]).
//!
//! The batches themselves live in the accumulator: this module tracks them as
//! [`InFlightBatch`] (id, partition, producer id/epoch, base sequence, record count). When an
//! epoch bump rewrites the sequences of batches in flight, the new values come out of
//! [`TransactionManager::poll_sequence_rewrite`] for the Sender to apply to its batches
//! (Java's `ProducerBatch.resetProducerState`).
//!
//! # Call order (the Sender's loop, as Java's `Sender.runOnce`)
//!
//! ```text
//! maybe_resolve_sequences()
//! if has_fatal_error() → fail every batch with fatal_error()
//! bump_idempotent_epoch_and_reset_id_if_needed()
//! poll_init_producer_id_request(now) → send to network.least_loaded_node(now)
//!     → handle_init_producer_id_response(&resp, now) / handle_init_producer_id_failure(now)
//! drain: should_stop_drain_batches_for_partition(tp, first.base_sequence) per partition;
//!        for a new batch: producer_id_and_epoch(), sequence_number(tp), then
//!        increment_sequence_number(tp, records) and add_in_flight_batch(batch)
//! response per batch: success / DUPLICATE_SEQUENCE_NUMBER → handle_completed_batch;
//!        error → can_retry(..) ? re-enqueue : handle_failed_batch(..);
//!        maybe_update_producer_id_and_epoch(tp) before the partition's next drain
//! poll_sequence_rewrite() until None → rewrite those batches' headers
//! ```

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;

use kproto::messages::{InitProducerIdRequest, InitProducerIdResponse};
use kproto::ErrorCode;

use crate::cluster::TopicPartition;
use crate::config::ProducerConfig;

/// Kafka's `RecordBatch.NO_PRODUCER_ID`.
pub const NO_PRODUCER_ID: i64 = -1;
/// Kafka's `RecordBatch.NO_PRODUCER_EPOCH`.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// Kafka's `RecordBatch.NO_SEQUENCE`.
pub const NO_SEQUENCE: i32 = -1;
/// Kafka's `ProduceResponse.INVALID_OFFSET`.
pub const INVALID_OFFSET: i64 = -1;

/// Kafka's `DefaultRecordBatch.incrementSequence`: sequences wrap from `i32::MAX` to 0.
pub fn increment_sequence(sequence: i32, increment: i32) -> i32 {
    if sequence > i32::MAX - increment {
        increment - (i32::MAX - sequence) - 1
    } else {
        sequence + increment
    }
}

/// Whether a partition's produce error means the batch is written: NONE, or
/// DUPLICATE_SEQUENCE_NUMBER (the broker already has it; Java's `Sender.completeBatch`).
pub fn is_success(error: ErrorCode) -> bool {
    matches!(error, ErrorCode::None | ErrorCode::DuplicateSequenceNumber)
}

/// A producer id and epoch (Kafka's `ProducerIdAndEpoch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProducerIdAndEpoch {
    /// The producer id, -1 when none.
    pub producer_id: i64,
    /// The epoch, -1 when none.
    pub epoch: i16,
}

impl ProducerIdAndEpoch {
    /// No producer id (Java's `ProducerIdAndEpoch.NONE`).
    pub const NONE: ProducerIdAndEpoch = ProducerIdAndEpoch {
        producer_id: NO_PRODUCER_ID,
        epoch: NO_PRODUCER_EPOCH,
    };

    /// Whether this is a real producer id (`producerId >= 0`).
    pub fn is_valid(&self) -> bool {
        self.producer_id >= 0
    }
}

/// A drained batch as the idempotence state sees it (Java keeps the `ProducerBatch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlightBatch {
    /// The accumulator's id for the batch.
    pub id: u64,
    /// Its partition.
    pub topic_partition: TopicPartition,
    /// The producer id and epoch written in it.
    pub producer_id_and_epoch: ProducerIdAndEpoch,
    /// Its base sequence.
    pub base_sequence: i32,
    /// Its record count.
    pub record_count: i32,
    /// Whether an epoch bump rewrote its sequence (Java's `sequenceHasBeenReset`).
    pub sequence_has_been_reset: bool,
}

impl InFlightBatch {
    /// The sequence of its last record.
    pub fn last_sequence(&self) -> i32 {
        increment_sequence(self.base_sequence, self.record_count.max(1) - 1)
    }

    fn key(&self) -> (i64, i16, i32) {
        (
            self.producer_id_and_epoch.producer_id,
            self.producer_id_and_epoch.epoch,
            self.base_sequence,
        )
    }
}

/// A batch whose producer id, epoch and base sequence an epoch bump changed: rewrite its
/// header before it is sent again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceRewrite {
    /// The accumulator's id for the batch.
    pub id: u64,
    /// Its partition.
    pub topic_partition: TopicPartition,
    /// The new producer id and epoch.
    pub producer_id_and_epoch: ProducerIdAndEpoch,
    /// The new base sequence.
    pub base_sequence: i32,
}

/// Why the idempotent producer cannot go on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdempotenceError {
    /// `transactional.id` is set: transactions are not implemented yet.
    #[error("transactional.id {0:?} is set, but transactions are not supported by kproducer yet")]
    TransactionalIdNotSupported(String),
    /// The producer was fenced (PRODUCER_FENCED or INVALID_PRODUCER_EPOCH from InitProducerId).
    #[error("producer fenced: {0}")]
    ProducerFenced(ErrorCode),
    /// A fatal error from the broker for this producer (InitProducerId or a batch).
    #[error("fatal error: {0}")]
    Fatal(ErrorCode),
}

/// The idempotent producer's state (Java's `TransactionManager.State`, the states a producer
/// without `transactional.id` goes through).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// No producer id; InitProducerId is queued next.
    Uninitialized,
    /// InitProducerId is queued or in flight.
    Initializing,
    /// A producer id is held.
    Ready,
    /// A fatal error: every batch fails.
    FatalError,
}

/// Java's `TxnPartitionEntry`.
#[derive(Debug, Clone)]
struct PartitionEntry {
    producer_id_and_epoch: ProducerIdAndEpoch,
    next_sequence: i32,
    last_acked_sequence: i32,
    last_acked_offset: i64,
    in_flight: BTreeMap<(i64, i16, i32), InFlightBatch>,
}

impl PartitionEntry {
    fn new() -> Self {
        PartitionEntry {
            producer_id_and_epoch: ProducerIdAndEpoch::NONE,
            next_sequence: 0,
            last_acked_sequence: NO_SEQUENCE,
            last_acked_offset: INVALID_OFFSET,
            in_flight: BTreeMap::new(),
        }
    }
}

/// Kafka's `TransactionManager` for the idempotent (non-transactional) producer: see the
/// module docs for the call order.
#[derive(Debug, Clone)]
pub struct TransactionManager {
    producer_id_and_epoch: ProducerIdAndEpoch,
    state: State,
    partitions: BTreeMap<TopicPartition, PartitionEntry>,
    unresolved: BTreeMap<TopicPartition, i32>,
    partitions_to_rewrite_sequences: BTreeSet<TopicPartition>,
    epoch_bump_required: bool,
    /// InitProducerId queued (not yet handed out), whether it is an epoch bump.
    init_queued: Option<bool>,
    /// InitProducerId in flight, whether it is an epoch bump.
    init_in_flight: Option<bool>,
    retry_at_ms: u64,
    retry_backoff_ms: u64,
    fatal: Option<IdempotenceError>,
    /// An authorization error to fail the batches with (Java's `shouldHandleAuthorizationError`).
    authorization_error: Option<ErrorCode>,
    rewrites: VecDeque<SequenceRewrite>,
}

impl TransactionManager {
    /// The state for an idempotent producer of `config` (`retry.backoff.ms` spaces
    /// InitProducerId retries). A `transactional.id` is refused.
    pub fn new(config: &ProducerConfig) -> Result<Self, IdempotenceError> {
        if let Some(id) = &config.transactional_id {
            return Err(IdempotenceError::TransactionalIdNotSupported(id.clone()));
        }
        Ok(TransactionManager {
            producer_id_and_epoch: ProducerIdAndEpoch::NONE,
            state: State::Uninitialized,
            partitions: BTreeMap::new(),
            unresolved: BTreeMap::new(),
            partitions_to_rewrite_sequences: BTreeSet::new(),
            epoch_bump_required: false,
            init_queued: None,
            init_in_flight: None,
            retry_at_ms: 0,
            retry_backoff_ms: config.retry_backoff_ms,
            fatal: None,
            authorization_error: None,
            rewrites: VecDeque::new(),
        })
    }

    /// The state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The producer id and epoch (NONE until InitProducerId succeeds).
    pub fn producer_id_and_epoch(&self) -> ProducerIdAndEpoch {
        self.producer_id_and_epoch
    }

    /// Whether a producer id is held.
    pub fn has_producer_id(&self) -> bool {
        self.producer_id_and_epoch.is_valid()
    }

    /// Whether the producer is in a fatal state.
    pub fn has_fatal_error(&self) -> bool {
        self.state == State::FatalError
    }

    /// The fatal error, if any.
    pub fn fatal_error(&self) -> Option<&IdempotenceError> {
        self.fatal.as_ref()
    }

    /// An authorization error from InitProducerId: fail every batch with it, once (Java's
    /// `Sender.shouldHandleAuthorizationError`); InitProducerId is retried after.
    pub fn take_authorization_error(&mut self) -> Option<ErrorCode> {
        self.authorization_error.take()
    }

    fn transition_to_fatal(&mut self, e: IdempotenceError) {
        self.state = State::FatalError;
        self.fatal = Some(e);
        self.init_queued = None;
    }

    fn entry(&mut self, tp: &TopicPartition) -> &mut PartitionEntry {
        self.partitions
            .entry(tp.clone())
            .or_insert_with(PartitionEntry::new)
    }

    /// The producer id and epoch the partition's sequences belong to.
    pub fn producer_id_and_epoch_for_partition(
        &mut self,
        tp: &TopicPartition,
    ) -> ProducerIdAndEpoch {
        self.entry(tp).producer_id_and_epoch
    }

    /// The next sequence for a new batch of the partition.
    pub fn sequence_number(&mut self, tp: &TopicPartition) -> i32 {
        self.entry(tp).next_sequence
    }

    /// Moves the partition's next sequence on by `increment` records (wrapping at i32::MAX).
    pub fn increment_sequence_number(&mut self, tp: &TopicPartition, increment: i32) {
        let e = self.entry(tp);
        e.next_sequence = increment_sequence(e.next_sequence, increment);
    }

    /// Tracks a drained batch (its sequence assigned) until it completes or fails.
    pub fn add_in_flight_batch(&mut self, batch: InFlightBatch) {
        let tp = batch.topic_partition.clone();
        self.entry(&tp).in_flight.insert(batch.key(), batch);
    }

    /// The base sequence of the partition's oldest batch in flight, or [`NO_SEQUENCE`].
    pub fn first_in_flight_sequence(&self, tp: &TopicPartition) -> i32 {
        self.next_batch_by_sequence(tp)
            .map_or(NO_SEQUENCE, |b| b.base_sequence)
    }

    /// The partition's batch in flight with the lowest (producer id, epoch, sequence).
    pub fn next_batch_by_sequence(&self, tp: &TopicPartition) -> Option<&InFlightBatch> {
        self.partitions
            .get(tp)
            .and_then(|e| e.in_flight.values().next())
    }

    /// Stops tracking a batch.
    pub fn remove_in_flight_batch(&mut self, batch: &InFlightBatch) {
        if let Some(e) = self.partitions.get_mut(&batch.topic_partition) {
            e.in_flight.remove(&batch.key());
        }
    }

    /// Whether the partition has batches in flight.
    pub fn has_inflight_batches(&self, tp: &TopicPartition) -> bool {
        self.partitions
            .get(tp)
            .is_some_and(|e| !e.in_flight.is_empty())
    }

    /// Whether the partition's sequences belong to another producer id or epoch.
    pub fn has_stale_producer_id_and_epoch(&self, tp: &TopicPartition) -> bool {
        let current = self
            .partitions
            .get(tp)
            .map_or(ProducerIdAndEpoch::NONE, |e| e.producer_id_and_epoch);
        current != self.producer_id_and_epoch
    }

    /// Whether any partition has unresolved sequences.
    pub fn has_unresolved_sequences(&self) -> bool {
        !self.unresolved.is_empty()
    }

    /// Whether the partition has unresolved sequences (batches that expired after being sent).
    pub fn has_unresolved_sequence(&self, tp: &TopicPartition) -> bool {
        self.unresolved.contains_key(tp)
    }

    /// The last sequence the broker acknowledged for the partition.
    pub fn last_acked_sequence(&self, tp: &TopicPartition) -> Option<i32> {
        self.partitions
            .get(tp)
            .map(|e| e.last_acked_sequence)
            .filter(|s| *s != NO_SEQUENCE)
    }

    /// The offset of the last record acknowledged for the partition.
    pub fn last_acked_offset(&self, tp: &TopicPartition) -> Option<i64> {
        self.partitions
            .get(tp)
            .map(|e| e.last_acked_offset)
            .filter(|o| *o != INVALID_OFFSET)
    }

    /// Java's `TxnPartitionEntry.startSequencesAtBeginning`: the partition's batches in flight
    /// get sequences from 0 under `pe`, in order; their rewrites are queued.
    fn start_sequences_at_beginning(&mut self, tp: &TopicPartition, pe: ProducerIdAndEpoch) {
        let entry = self
            .partitions
            .entry(tp.clone())
            .or_insert_with(PartitionEntry::new);
        let old = core::mem::take(&mut entry.in_flight);
        let mut sequence = 0i32;
        for (_, mut b) in old {
            b.producer_id_and_epoch = pe;
            b.base_sequence = sequence;
            b.sequence_has_been_reset = true;
            sequence = increment_sequence(sequence, b.record_count);
            self.rewrites.push_back(SequenceRewrite {
                id: b.id,
                topic_partition: tp.clone(),
                producer_id_and_epoch: pe,
                base_sequence: b.base_sequence,
            });
            entry.in_flight.insert(b.key(), b);
        }
        entry.producer_id_and_epoch = pe;
        entry.next_sequence = sequence;
        entry.last_acked_sequence = NO_SEQUENCE;
    }

    /// The next batch whose producer state an epoch bump rewrote.
    pub fn poll_sequence_rewrite(&mut self) -> Option<SequenceRewrite> {
        self.rewrites.pop_front()
    }

    /// Java's `maybeUpdateProducerIdAndEpoch`: once a partition's batches of an older epoch
    /// are all done, its sequences restart from 0 under the current producer id and epoch.
    pub fn maybe_update_producer_id_and_epoch(&mut self, tp: &TopicPartition) {
        if self.has_fatal_error() {
            return;
        }
        if self.has_stale_producer_id_and_epoch(tp) && !self.has_inflight_batches(tp) {
            let pe = self.producer_id_and_epoch;
            self.start_sequences_at_beginning(tp, pe);
        }
    }

    /// Java's `requestEpochBumpForPartition`.
    pub fn request_epoch_bump_for_partition(&mut self, tp: &TopicPartition) {
        self.epoch_bump_required = true;
        self.partitions_to_rewrite_sequences.insert(tp.clone());
    }

    /// Whether an epoch bump is pending.
    pub fn epoch_bump_required(&self) -> bool {
        self.epoch_bump_required
    }

    /// Java's `bumpIdempotentProducerEpoch`: epoch + 1 locally (a new InitProducerId at
    /// i16::MAX), and the partitions that asked have their sequences rewritten from 0.
    fn bump_idempotent_producer_epoch(&mut self) {
        if self.producer_id_and_epoch.epoch == i16::MAX {
            self.producer_id_and_epoch = ProducerIdAndEpoch::NONE;
            self.state = State::Uninitialized;
        } else {
            self.producer_id_and_epoch.epoch += 1;
        }
        let pe = self.producer_id_and_epoch;
        for tp in core::mem::take(&mut self.partitions_to_rewrite_sequences) {
            self.start_sequences_at_beginning(&tp, pe);
            self.unresolved.remove(&tp);
        }
        self.epoch_bump_required = false;
    }

    /// Java's `bumpIdempotentEpochAndResetIdIfNeeded`: does a requested epoch bump, and
    /// queues InitProducerId when no producer id is held.
    pub fn bump_idempotent_epoch_and_reset_id_if_needed(&mut self) {
        if self.has_fatal_error() {
            return;
        }
        if self.epoch_bump_required {
            self.bump_idempotent_producer_epoch();
        }
        if self.state != State::Initializing && !self.has_producer_id() {
            self.state = State::Initializing;
            self.init_queued = Some(false);
        }
    }

    /// The InitProducerId request to send now to the least-loaded node (transactional id
    /// null, transaction timeout i32::MAX), if one is due. Follow with
    /// [`TransactionManager::handle_init_producer_id_response`] or
    /// [`TransactionManager::handle_init_producer_id_failure`].
    pub fn poll_init_producer_id_request(&mut self, now_ms: u64) -> Option<InitProducerIdRequest> {
        if self.init_in_flight.is_some() || now_ms < self.retry_at_ms {
            return None;
        }
        let bump = self.init_queued.take()?;
        self.init_in_flight = Some(bump);
        Some(InitProducerIdRequest {
            transactional_id: None,
            transaction_timeout_ms: i32::MAX,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            ..InitProducerIdRequest::default()
        })
    }

    /// When an InitProducerId retry is due, if one waits.
    pub fn poll_timeout(&self) -> Option<u64> {
        (self.init_queued.is_some() && self.init_in_flight.is_none()).then_some(self.retry_at_ms)
    }

    /// The InitProducerId request got no answer (disconnect, timeout) or could not be sent:
    /// retried after `retry.backoff.ms`.
    pub fn handle_init_producer_id_failure(&mut self, now_ms: u64) {
        if let Some(bump) = self.init_in_flight.take() {
            self.init_queued = Some(bump);
            self.retry_at_ms = now_ms.saturating_add(self.retry_backoff_ms);
        }
    }

    /// Java's `InitProducerIdHandler.handleResponse`.
    pub fn handle_init_producer_id_response(&mut self, r: &InitProducerIdResponse, now_ms: u64) {
        let Some(is_epoch_bump) = self.init_in_flight.take() else {
            return;
        };
        let error = ErrorCode::from_code(r.error_code).unwrap_or(ErrorCode::UnknownServerError);
        match error {
            ErrorCode::None => {
                self.producer_id_and_epoch = ProducerIdAndEpoch {
                    producer_id: r.producer_id,
                    epoch: r.producer_epoch,
                };
                self.state = State::Ready;
                if is_epoch_bump {
                    self.partitions.clear();
                    self.unresolved.clear();
                }
            }
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => {
                self.init_queued = Some(is_epoch_bump);
                self.retry_at_ms = now_ms.saturating_add(self.retry_backoff_ms);
            }
            e if e.is_retriable() => {
                self.init_queued = Some(is_epoch_bump);
                self.retry_at_ms = now_ms.saturating_add(self.retry_backoff_ms);
            }
            ErrorCode::TransactionalIdAuthorizationFailed
            | ErrorCode::ClusterAuthorizationFailed => {
                // the batches fail with it and the producer goes back to uninitialized
                self.authorization_error = Some(error);
                self.state = State::Uninitialized;
                self.retry_at_ms = now_ms.saturating_add(self.retry_backoff_ms);
            }
            ErrorCode::InvalidProducerEpoch | ErrorCode::ProducerFenced => {
                self.transition_to_fatal(IdempotenceError::ProducerFenced(
                    ErrorCode::ProducerFenced,
                ));
            }
            e => self.transition_to_fatal(IdempotenceError::Fatal(e)),
        }
    }

    /// Java's `isNextSequence`: whether `sequence` follows the last acknowledged one.
    fn is_next_sequence(&self, tp: &TopicPartition, sequence: i32) -> bool {
        let last = self.last_acked_sequence(tp).unwrap_or(NO_SEQUENCE);
        i64::from(sequence) - i64::from(last) == 1
    }

    fn is_next_sequence_for_unresolved_partition(
        &self,
        tp: &TopicPartition,
        sequence: i32,
    ) -> bool {
        self.unresolved.get(tp) == Some(&sequence)
    }

    /// `RecordAccumulator.shouldStopDrainBatchesForPartition` for the idempotent producer:
    /// whether draining the partition must wait. `first_sequence` is the base sequence of the
    /// partition's first queued batch if it already has one (a retry), `None` for a new batch.
    pub fn should_stop_drain_batches_for_partition(
        &self,
        tp: &TopicPartition,
        first_sequence: Option<i32>,
    ) -> bool {
        if self.has_fatal_error() {
            return true;
        }
        if !self.producer_id_and_epoch.is_valid() {
            return true;
        }
        if first_sequence.is_none() {
            if self.has_inflight_batches(tp) && self.has_stale_producer_id_and_epoch(tp) {
                return true;
            }
            if self.has_unresolved_sequence(tp) {
                return true;
            }
        }
        let first_in_flight = self.first_in_flight_sequence(tp);
        matches!(first_sequence, Some(s) if first_in_flight != NO_SEQUENCE && s != first_in_flight)
    }

    /// Java's `handleCompletedBatch`: the batch was written (or was a DUPLICATE_SEQUENCE_NUMBER,
    /// which the Sender treats as success); `base_offset` as the response gave it. Returns
    /// the partition's last acknowledged sequence.
    pub fn handle_completed_batch(&mut self, batch: &InFlightBatch, base_offset: i64) -> i32 {
        let last = batch.last_sequence();
        let e = self.entry(&batch.topic_partition);
        if last > e.last_acked_sequence {
            e.last_acked_sequence = last;
        }
        let acked = e.last_acked_sequence;
        if base_offset != INVALID_OFFSET {
            let last_offset = base_offset + i64::from(batch.record_count) - 1;
            if last_offset > e.last_acked_offset {
                e.last_acked_offset = last_offset;
            }
        }
        self.remove_in_flight_batch(batch);
        acked
    }

    /// Java's `handleFailedBatch`: the batch failed for good with `error` (a broker error, or
    /// REQUEST_TIMED_OUT for a batch that expired in the producer). `adjust_sequence_numbers`
    /// is true when the batch may have left a gap (it was sent, or later batches were drained).
    pub fn handle_failed_batch(
        &mut self,
        batch: &InFlightBatch,
        error: ErrorCode,
        adjust_sequence_numbers: bool,
    ) {
        // maybeTransitionToErrorState
        if matches!(
            error,
            ErrorCode::ClusterAuthorizationFailed
                | ErrorCode::TransactionalIdAuthorizationFailed
                | ErrorCode::ProducerFenced
                | ErrorCode::UnsupportedVersion
        ) {
            self.transition_to_fatal(if error == ErrorCode::ProducerFenced {
                IdempotenceError::ProducerFenced(error)
            } else {
                IdempotenceError::Fatal(error)
            });
        }
        self.remove_in_flight_batch(batch);
        if self.has_fatal_error() {
            return;
        }
        let tp = &batch.topic_partition;
        match error {
            ErrorCode::OutOfOrderSequenceNumber => self.request_epoch_bump_for_partition(tp),
            ErrorCode::UnknownProducerId => {
                // resetSequenceForPartition
                self.partitions.remove(tp);
                self.unresolved.remove(tp);
            }
            _ if adjust_sequence_numbers => self.request_epoch_bump_for_partition(tp),
            _ => {}
        }
    }

    /// Java's `canRetry` for the idempotent producer: whether a batch that failed with `error`
    /// (and the response's `log_start_offset`) is retried; UNKNOWN_PRODUCER_ID and
    /// OUT_OF_ORDER_SEQUENCE_NUMBER may request an epoch bump on the way.
    pub fn can_retry(
        &mut self,
        batch: &InFlightBatch,
        error: ErrorCode,
        log_start_offset: i64,
    ) -> bool {
        let tp = &batch.topic_partition;
        match error {
            ErrorCode::UnknownProducerId => {
                if log_start_offset == -1 {
                    return true;
                }
                if batch.sequence_has_been_reset {
                    return true;
                }
                // lastAckedOffset < logStartOffset: the log's head went (retention); or not:
                // either way the idempotent producer bumps the epoch and retries
                self.request_epoch_bump_for_partition(tp);
                true
            }
            ErrorCode::OutOfOrderSequenceNumber => {
                if !self.has_unresolved_sequence(tp)
                    && (batch.sequence_has_been_reset
                        || !self.is_next_sequence(tp, batch.base_sequence))
                {
                    return true;
                }
                if !self.has_unresolved_sequence(tp)
                    || self.is_next_sequence_for_unresolved_partition(tp, batch.base_sequence)
                {
                    self.request_epoch_bump_for_partition(tp);
                }
                true
            }
            e => e.is_retriable(),
        }
    }

    /// Java's `markSequenceUnresolved`: a batch expired after it was sent; the partition's
    /// state is unknown until its batches in flight complete.
    pub fn mark_sequence_unresolved(&mut self, batch: &InFlightBatch) {
        let next = increment_sequence(batch.last_sequence(), 1);
        let v = self
            .unresolved
            .entry(batch.topic_partition.clone())
            .or_insert(next);
        *v = (*v).max(next);
    }

    /// Java's `maybeResolveSequences`: a partition with unresolved sequences and nothing in
    /// flight is resolved if its next sequence follows the last acknowledged one, else it
    /// gets an epoch bump.
    pub fn maybe_resolve_sequences(&mut self) {
        let tps: alloc::vec::Vec<TopicPartition> = self.unresolved.keys().cloned().collect();
        for tp in tps {
            if self.has_inflight_batches(&tp) {
                continue;
            }
            let next = self.sequence_number(&tp);
            if !self.is_next_sequence(&tp, next) {
                self.request_epoch_bump_for_partition(&tp);
            }
            self.unresolved.remove(&tp);
        }
    }
}

#[cfg(test)]
mod tests;
