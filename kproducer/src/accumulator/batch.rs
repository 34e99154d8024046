//! One partition's batch of records, as Kafka's `ProducerBatch`: a kproto [`BatchBuilder`]
//! while records are appended, the finished v2 batch bytes once drained
//! ([`ProducerBatch::close`]), with the times, attempts and retry state the accumulator and
//! the Sender need, and the per-record handles that let the Sender report each record's
//! partition, offset and timestamp. [`ProducerBatch::split`] cuts a batch the broker refused
//! with `MESSAGE_TOO_LARGE` into batches of `batch.size`.

use crate::cluster::TopicPartition;
use alloc::collections::VecDeque;
use alloc::vec::Vec;
use kproto::records::{
    estimate_size_upper_bound, field, BatchBuilder, BatchConfig, BatchView, BuildError,
    Compression, RecordError, DEFAULT_MAX_UNCOMPRESSED, NO_PRODUCER_EPOCH, NO_PRODUCER_ID,
    NO_SEQUENCE, RECORD_BATCH_OVERHEAD,
};

/// A record's identity from [`RecordAccumulator::append`](super::RecordAccumulator::append)
/// to its completion, kept across splits: the Sender reports results per `RecordId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId(pub u64);

/// A batch's identity (for flush tracking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BatchId(pub u64);

/// One record of a batch (Java's `Thunk` + `FutureRecordMetadata` inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHandle {
    /// The record's identity.
    pub id: RecordId,
    /// Its offset delta in the batch: the broker's base offset plus this is its offset.
    pub relative_offset: i32,
    /// The timestamp it was appended with (CreateTime).
    pub timestamp: i64,
    /// The serialized key's length, -1 for none.
    pub serialized_key_size: i32,
    /// The serialized value's length, -1 for none.
    pub serialized_value_size: i32,
}

impl RecordHandle {
    /// The record's offset once the broker gave the batch `base_offset` (-1 stays -1, as
    /// `FutureRecordMetadata` reports an unknown offset).
    pub fn offset(&self, base_offset: i64) -> i64 {
        if base_offset < 0 {
            -1
        } else {
            base_offset + i64::from(self.relative_offset)
        }
    }

    /// The record's timestamp in its metadata: the broker's LogAppendTime when it gave one
    /// (not -1), else the CreateTime it was sent with (`FutureRecordMetadata.timestamp`).
    pub fn reported_timestamp(&self, log_append_time: i64) -> i64 {
        if log_append_time != -1 {
            log_append_time
        } else {
            self.timestamp
        }
    }
}

/// A producer id and epoch (Java's `ProducerIdAndEpoch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProducerIdAndEpoch {
    /// The producer id, -1 for none.
    pub producer_id: i64,
    /// The epoch, -1 for none.
    pub epoch: i16,
}

impl ProducerIdAndEpoch {
    /// No producer id (`ProducerIdAndEpoch.NONE`).
    pub const NONE: ProducerIdAndEpoch = ProducerIdAndEpoch {
        producer_id: NO_PRODUCER_ID,
        epoch: NO_PRODUCER_EPOCH,
    };

    /// A producer id is set (`isValid`).
    pub fn is_valid(&self) -> bool {
        self.producer_id != NO_PRODUCER_ID
    }
}

/// Why a batch operation failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchError {
    /// Building the records failed.
    #[error("building the batch: {0}")]
    Build(#[from] BuildError),
    /// Reading the built batch back (for a split) failed.
    #[error("reading the batch back: {0}")]
    Read(#[from] RecordError),
    /// The batch has no records to split.
    #[error("cannot split an empty producer batch")]
    Empty,
    /// The batch was aborted.
    #[error("the batch was aborted")]
    Aborted,
    /// A batch that succeeded was completed again (`IllegalStateException` in Java).
    #[error("a SUCCEEDED batch must not attempt another state change to {0:?}")]
    AlreadySucceeded(FinalState),
}

/// How a batch ended (`ProducerBatch.FinalState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalState {
    /// Aborted before completion (forced close, expiry before send).
    Aborted,
    /// Failed with an error.
    Failed,
    /// Written by the broker.
    Succeeded,
}

/// One record's result on success (`RecordMetadata`'s inputs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordMetadata {
    /// The record.
    pub id: RecordId,
    /// Its offset, -1 when unknown (acks=0, a duplicate).
    pub offset: i64,
    /// Its timestamp: LogAppendTime when the broker gave one, else its CreateTime.
    pub timestamp: i64,
}

/// The records: appendable, closed for appends, or built.
#[derive(Debug, Clone)]
enum Records {
    Open(BatchBuilder),
    Built(Vec<u8>),
    Aborted,
}

/// One partition's batch (`ProducerBatch`).
#[derive(Debug, Clone)]
pub struct ProducerBatch {
    id: BatchId,
    tp: TopicPartition,
    records: Records,
    appends_closed: bool,
    compression: Compression,
    handles: Vec<RecordHandle>,
    created_ms: u64,
    last_attempt_ms: u64,
    last_append_ms: u64,
    drained_ms: u64,
    attempts: u32,
    retry: bool,
    reopened: bool,
    is_split: bool,
    final_state: Option<FinalState>,
    max_record_size: usize,
    uncompressed_records_size: usize,
    compression_ratio: f32,
    current_leader_epoch: Option<i32>,
    attempts_when_leader_last_changed: u32,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    transactional: bool,
    /// Bytes reserved from the buffer pool (0 once given back or when off the pool).
    pub(crate) reserved: usize,
}

impl ProducerBatch {
    /// A new batch for `tp` created at `created_ms`, writing into `buffer` (cleared), with a
    /// write limit of `write_limit` bytes (`max(batch.size, first record's upper bound)`) and
    /// the codec's current `estimated_compression_ratio`.
    pub fn new(
        id: BatchId,
        tp: TopicPartition,
        compression: Compression,
        write_limit: usize,
        estimated_compression_ratio: f32,
        buffer: Vec<u8>,
        created_ms: u64,
    ) -> Self {
        let cfg = BatchConfig {
            compression,
            write_limit,
            estimated_compression_ratio,
            ..BatchConfig::default()
        };
        ProducerBatch {
            id,
            tp,
            records: Records::Open(BatchBuilder::with_buffer(cfg, buffer)),
            appends_closed: false,
            compression,
            handles: Vec::new(),
            created_ms,
            last_attempt_ms: created_ms,
            last_append_ms: created_ms,
            drained_ms: 0,
            attempts: 0,
            retry: false,
            reopened: false,
            is_split: false,
            final_state: None,
            max_record_size: 0,
            uncompressed_records_size: 0,
            compression_ratio: 1.0,
            current_leader_epoch: None,
            attempts_when_leader_last_changed: 0,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            transactional: false,
            reserved: 0,
        }
    }

    /// Appends a record if it fits (`tryAppend`): `Ok(None)` when the batch is full or closed
    /// for appends (the first record always fits). Returns the record's handle.
    pub fn try_append(
        &mut self,
        id: RecordId,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
        now_ms: u64,
    ) -> Result<Option<RecordHandle>, BatchError> {
        self.try_append_with(
            id,
            timestamp,
            key,
            value,
            headers.iter().map(|(k, v)| (k.as_bytes(), *v)),
            Some(now_ms),
        )
    }

    fn try_append_with<'h, I>(
        &mut self,
        id: RecordId,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: I,
        now_ms: Option<u64>,
    ) -> Result<Option<RecordHandle>, BatchError>
    where
        I: ExactSizeIterator<Item = (&'h [u8], Option<&'h [u8]>)> + Clone,
    {
        if self.appends_closed {
            return Ok(None);
        }
        let Records::Open(builder) = &mut self.records else {
            return Ok(None);
        };
        let before = builder.uncompressed_records_size();
        let relative_offset = match builder.try_append_with(timestamp, key, value, headers.clone())
        {
            Ok(delta) => delta,
            Err(BuildError::Full { .. }) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let record_size = builder.uncompressed_records_size() - before;
        // AbstractRecords.estimateSizeInBytesUpperBound for the record alone.
        let upper = RECORD_BATCH_OVERHEAD + kproto::records::MAX_RECORD_OVERHEAD + record_size;
        self.max_record_size = self.max_record_size.max(upper);
        if let Some(now) = now_ms {
            self.last_append_ms = now;
        }
        let handle = RecordHandle {
            id,
            relative_offset,
            timestamp,
            serialized_key_size: key.map_or(-1, |k| k.len() as i32),
            serialized_value_size: value.map_or(-1, |v| v.len() as i32),
        };
        self.handles.push(handle);
        Ok(Some(handle))
    }

    /// The batch's identity.
    pub fn id(&self) -> BatchId {
        self.id
    }

    /// Its partition.
    pub fn topic_partition(&self) -> &TopicPartition {
        &self.tp
    }

    /// The records' handles, in offset order.
    pub fn record_handles(&self) -> &[RecordHandle] {
        &self.handles
    }

    /// The number of records (`recordCount`).
    pub fn record_count(&self) -> usize {
        self.handles.len()
    }

    /// The largest record's upper-bound size (`maxRecordSize`, for metrics).
    pub fn max_record_size(&self) -> usize {
        self.max_record_size
    }

    /// The codec.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// When the batch was created.
    pub fn created_ms(&self) -> u64 {
        self.created_ms
    }

    /// The last append (or re-enqueue) time.
    pub fn last_append_ms(&self) -> u64 {
        self.last_append_ms
    }

    /// Time from creation to the last drain (`queueTimeMs`, the `record-queue-time` metric).
    pub fn queue_time_ms(&self) -> u64 {
        self.drained_ms.saturating_sub(self.created_ms)
    }

    /// Time since the last attempt (creation or re-enqueue) (`waitedTimeMs`).
    pub fn waited_time_ms(&self, now_ms: u64) -> u64 {
        now_ms.saturating_sub(self.last_attempt_ms)
    }

    /// Records the drain time (`drained`).
    pub fn drained(&mut self, now_ms: u64) {
        self.drained_ms = self.drained_ms.max(now_ms);
    }

    /// Sends attempted before (`attempts`): 0 until re-enqueued.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The batch is being retried (`inRetry`).
    pub fn in_retry(&self) -> bool {
        self.retry
    }

    /// Marks the batch re-enqueued for a retry at `now_ms` (`reenqueued`).
    pub fn reenqueued(&mut self, now_ms: u64) {
        self.attempts += 1;
        self.last_attempt_ms = self.last_append_ms.max(now_ms);
        self.last_append_ms = self.last_append_ms.max(now_ms);
        self.retry = true;
    }

    /// Made by [`ProducerBatch::split`] (its memory is not from the pool).
    pub fn is_split_batch(&self) -> bool {
        self.is_split
    }

    /// `delivery.timeout.ms` has passed since creation (`hasReachedDeliveryTimeout`).
    pub fn has_reached_delivery_timeout(&self, delivery_timeout_ms: u64, now_ms: u64) -> bool {
        delivery_timeout_ms <= now_ms.saturating_sub(self.created_ms)
    }

    /// Takes the partition's current leader epoch from metadata (`maybeUpdateLeaderEpoch`).
    pub fn maybe_update_leader_epoch(&mut self, latest: Option<i32>) {
        if let Some(latest) = latest {
            if self.current_leader_epoch.is_none_or(|c| c < latest) {
                self.attempts_when_leader_last_changed = self.attempts;
                self.current_leader_epoch = Some(latest);
            }
        }
    }

    /// The leader changed since this retry was enqueued, so it need not back off
    /// (`hasLeaderChangedForTheOngoingRetry`).
    pub fn has_leader_changed_for_the_ongoing_retry(&self) -> bool {
        self.attempts >= 1 && self.attempts == self.attempts_when_leader_last_changed
    }

    /// The leader epoch the batch is sent to, when metadata gave one.
    pub fn current_leader_epoch(&self) -> Option<i32> {
        self.current_leader_epoch
    }

    /// The size estimate of the finished batch (`estimatedSizeInBytes`): exact once built.
    pub fn estimated_size_in_bytes(&self) -> usize {
        match &self.records {
            Records::Open(b) => b.estimated_size(),
            Records::Built(bytes) => bytes.len(),
            Records::Aborted => 0,
        }
    }

    /// The write limit is reached (`isFull`); a batch closed for appends is full too.
    pub fn is_full(&self) -> bool {
        match &self.records {
            Records::Open(b) => self.appends_closed || b.is_full(),
            _ => true,
        }
    }

    /// No more appends (`closeForRecordAppends`); the batch is built at drain.
    pub fn close_for_record_appends(&mut self) {
        self.appends_closed = true;
    }

    /// Built into bytes, or aborted (`isClosed`).
    pub fn is_closed(&self) -> bool {
        !matches!(self.records, Records::Open(_))
    }

    /// Sets the producer id, epoch and base sequence (`setProducerState`, at drain).
    pub fn set_producer_state(
        &mut self,
        producer: ProducerIdAndEpoch,
        base_sequence: i32,
        transactional: bool,
    ) {
        self.producer_id = producer.producer_id;
        self.producer_epoch = producer.epoch;
        self.base_sequence = base_sequence;
        self.transactional = transactional;
        if let Records::Open(b) = &mut self.records {
            b.set_producer_state(
                producer.producer_id,
                producer.epoch,
                base_sequence,
                transactional,
            );
        }
    }

    /// Rewrites the producer state of a batch already built (`resetProducerState`, after an
    /// epoch bump): the header fields and the CRC change in place.
    pub fn reset_producer_state(&mut self, producer: ProducerIdAndEpoch, base_sequence: i32) {
        let transactional = self.transactional;
        self.set_producer_state(producer, base_sequence, transactional);
        if let Records::Built(bytes) = &mut self.records {
            bytes[field::PRODUCER_ID].copy_from_slice(&producer.producer_id.to_be_bytes());
            bytes[field::PRODUCER_EPOCH].copy_from_slice(&producer.epoch.to_be_bytes());
            bytes[field::BASE_SEQUENCE].copy_from_slice(&base_sequence.to_be_bytes());
            if let Ok(mut view) = BatchView::new_checked(&mut bytes[..]) {
                view.fill_crc();
            }
        }
        self.reopened = true;
    }

    /// The sequence was reset since the batch was last built (`sequenceHasBeenReset`).
    pub fn sequence_has_been_reset(&self) -> bool {
        self.reopened
    }

    /// The producer id (-1 before drain without idempotence).
    pub fn producer_id(&self) -> i64 {
        self.producer_id
    }

    /// The producer epoch.
    pub fn producer_epoch(&self) -> i16 {
        self.producer_epoch
    }

    /// The base sequence, -1 for none.
    pub fn base_sequence(&self) -> i32 {
        self.base_sequence
    }

    /// The last record's sequence (`lastSequence`), wrapping as the broker does.
    pub fn last_sequence(&self) -> i32 {
        self.base_sequence
            .wrapping_add(self.handles.len() as i32)
            .wrapping_sub(1)
    }

    /// A sequence was assigned (`hasSequence`).
    pub fn has_sequence(&self) -> bool {
        self.base_sequence != NO_SEQUENCE
    }

    /// Part of a transaction.
    pub fn is_transactional(&self) -> bool {
        self.transactional
    }

    /// Builds the batch (`close`): writes the header, compresses, computes the CRC. The
    /// actual compression ratio (built size / uncompressed records) is kept for
    /// [`ProducerBatch::compression_ratio`]. Closing a built batch does nothing.
    pub fn close(&mut self) -> Result<(), BatchError> {
        match core::mem::replace(&mut self.records, Records::Aborted) {
            Records::Open(b) => {
                let uncompressed = b.uncompressed_records_size();
                match b.finish() {
                    Ok(bytes) => {
                        self.uncompressed_records_size = uncompressed;
                        if uncompressed > 0 {
                            self.compression_ratio = bytes.len() as f32 / uncompressed as f32;
                        }
                        self.records = Records::Built(bytes);
                        self.reopened = false;
                        Ok(())
                    }
                    Err(e) => Err(e.into()),
                }
            }
            Records::Built(bytes) => {
                self.records = Records::Built(bytes);
                self.reopened = false;
                Ok(())
            }
            Records::Aborted => Err(BatchError::Aborted),
        }
    }

    /// Drops the records being built (`abortRecordAppends`); the handles stay so the records
    /// can be failed.
    pub fn abort_record_appends(&mut self) {
        if let Records::Open(_) = self.records {
            self.records = Records::Aborted;
        }
        self.appends_closed = true;
    }

    /// The built batch's bytes (after [`ProducerBatch::close`]): what goes in the Produce
    /// request's `records` field for this partition.
    pub fn records(&self) -> Option<&[u8]> {
        match &self.records {
            Records::Built(b) => Some(b),
            _ => None,
        }
    }

    /// Takes the built bytes' buffer back (for the pool), leaving the batch aborted.
    pub(crate) fn take_buffer(&mut self) -> Option<Vec<u8>> {
        match core::mem::replace(&mut self.records, Records::Aborted) {
            Records::Built(b) => Some(b),
            Records::Open(b) => b.finish().ok(),
            Records::Aborted => None,
        }
    }

    /// Built size / uncompressed records size of the last build (`compressionRatio`); 1.0
    /// before.
    pub fn compression_ratio(&self) -> f32 {
        self.compression_ratio
    }

    /// How the batch ended, if it did (`finalState`).
    pub fn final_state(&self) -> Option<FinalState> {
        self.final_state
    }

    /// Completed one way or another (`isDone`).
    pub fn is_done(&self) -> bool {
        self.final_state.is_some()
    }

    /// `ProducerBatch.done`: the first completion wins (`Ok(true)`); a later one is ignored
    /// (`Ok(false)`), except that a succeeded batch must not be completed again.
    fn done(&mut self, state: FinalState) -> Result<bool, BatchError> {
        match self.final_state {
            None => {
                self.final_state = Some(state);
                Ok(true)
            }
            Some(FinalState::Succeeded) => Err(BatchError::AlreadySucceeded(state)),
            Some(_) => Ok(false),
        }
    }

    /// Completes the batch with the broker's base offset and LogAppendTime (-1 for
    /// CreateTime) (`complete`): `Some` with every record's metadata, in offset order, when
    /// this is the batch's first completion; `None` when it already failed or was aborted
    /// (for example it expired while in flight).
    pub fn complete(
        &mut self,
        base_offset: i64,
        log_append_time: i64,
    ) -> Result<Option<Vec<RecordMetadata>>, BatchError> {
        if !self.done(FinalState::Succeeded)? {
            return Ok(None);
        }
        Ok(Some(
            self.handles
                .iter()
                .map(|h| RecordMetadata {
                    id: h.id,
                    offset: h.offset(base_offset),
                    timestamp: h.reported_timestamp(log_append_time),
                })
                .collect(),
        ))
    }

    /// Fails the batch (`completeExceptionally`): `true` when this is its first completion,
    /// so the caller reports the error for each of [`ProducerBatch::record_handles`].
    pub fn complete_exceptionally(&mut self) -> Result<bool, BatchError> {
        self.done(FinalState::Failed)
    }

    /// Aborts the batch (`abort`): `true` when this is its first completion.
    pub fn abort(&mut self) -> Result<bool, BatchError> {
        self.abort_record_appends();
        self.done(FinalState::Aborted)
    }

    /// Splits a batch the broker refused as too large into batches of at most
    /// `split_batch_size` bytes each (a record bigger than that alone), keeping the creation
    /// time, the records' ids and timestamps and, when the batch had a sequence, giving the
    /// new batches consecutive sequences from its base (`ProducerBatch.split`). The new
    /// batches are closed for appends and do not hold pool memory; their size estimate uses
    /// `estimated_compression_ratio`. `next_id` numbers them.
    pub fn split(
        &mut self,
        split_batch_size: usize,
        estimated_compression_ratio: f32,
        mut next_id: impl FnMut() -> BatchId,
    ) -> Result<VecDeque<ProducerBatch>, BatchError> {
        self.close()?;
        let Records::Built(bytes) = &self.records else {
            return Err(BatchError::Aborted);
        };
        if self.handles.is_empty() {
            return Err(BatchError::Empty);
        }
        let view = BatchView::new_checked(bytes.as_slice())?;
        let mut scratch = Vec::new();
        let mut out: VecDeque<ProducerBatch> = VecDeque::new();
        let mut current: Option<ProducerBatch> = None;
        let mut handles = self.handles.iter();
        for rec in view.records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED)? {
            let rec = rec?;
            let Some(handle) = handles.next() else {
                return Err(BatchError::Empty);
            };
            let headers: Vec<(&[u8], Option<&[u8]>)> =
                rec.headers.iter().map(|h| (h.key, h.value)).collect();
            let upper = upper_bound(rec.key, rec.value, &headers)?;
            let fits = match current.as_mut() {
                Some(b) => b
                    .try_append_with(
                        handle.id,
                        rec.timestamp,
                        rec.key,
                        rec.value,
                        headers.iter().copied(),
                        None,
                    )?
                    .is_some(),
                None => false,
            };
            if !fits {
                if let Some(mut full) = current.take() {
                    full.close_for_record_appends();
                    out.push_back(full);
                }
                // A new batch always takes its first record.
                let mut b = ProducerBatch::new(
                    next_id(),
                    self.tp.clone(),
                    self.compression,
                    upper.max(split_batch_size),
                    estimated_compression_ratio,
                    Vec::new(),
                    self.created_ms,
                );
                b.is_split = true;
                b.try_append_with(
                    handle.id,
                    rec.timestamp,
                    rec.key,
                    rec.value,
                    headers.iter().copied(),
                    None,
                )?;
                current = Some(b);
            }
            // The handle keeps its serialized sizes from the original append.
            if let Some(last) = current.as_mut().and_then(|b| b.handles.last_mut()) {
                last.serialized_key_size = handle.serialized_key_size;
                last.serialized_value_size = handle.serialized_value_size;
            }
        }
        if let Some(mut last) = current.take() {
            last.close_for_record_appends();
            out.push_back(last);
        }
        if self.has_sequence() {
            let producer = ProducerIdAndEpoch {
                producer_id: self.producer_id,
                epoch: self.producer_epoch,
            };
            let mut sequence = self.base_sequence;
            for b in out.iter_mut() {
                b.set_producer_state(producer, sequence, self.transactional);
                sequence = sequence.wrapping_add(b.record_count() as i32);
            }
        }
        Ok(out)
    }
}

/// `AbstractRecords.estimateSizeInBytesUpperBound` over header byte keys.
fn upper_bound(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&[u8], Option<&[u8]>)],
) -> Result<usize, BuildError> {
    let base = estimate_size_upper_bound(key, value, &[])?;
    let mut extra = 0usize;
    for (k, v) in headers {
        extra += varint_len(k.len()) + k.len();
        extra += match v {
            Some(v) => varint_len(v.len()) + v.len(),
            None => 1,
        };
    }
    // The header count varint grows from 1 byte with many headers.
    Ok(base + extra + varint_len(headers.len()) - 1)
}

fn varint_len(n: usize) -> usize {
    let mut n = (n as u64) << 1; // zigzag of a non-negative int
    let mut len = 1;
    while n >= 0x80 {
        n >>= 7;
        len += 1;
    }
    len
}
