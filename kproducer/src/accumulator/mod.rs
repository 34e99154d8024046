//! The record accumulator, as Kafka's `RecordAccumulator`: per-partition queues of
//! [`ProducerBatch`]es that records are appended to, the `buffer.memory` pool they reserve
//! from ([`BufferPool`]), and the built-in sticky/adaptive partitioner
//! ([`BuiltInPartitioner`], KIP-794) for records without a partition or key.
//!
//! Sans-IO: nothing blocks and nothing reads a clock. Where Java's `append` blocks for
//! memory, [`RecordAccumulator::append`] returns [`AppendOutcome::Backpressure`]; the caller
//! waits (up to `max.block.ms`) until [`RecordAccumulator::deallocate`] frees enough memory
//! ([`RecordAccumulator::available_memory`]) and calls `append` again, or gives up with
//! [`RecordAccumulator::abandon_memory_wait`].
//!
//! # Call order (the Sender's loop, Java's `Sender.sendProducerData`)
//!
//! 1. [`RecordAccumulator::append`] for each record the application sends.
//! 2. [`RecordAccumulator::ready`] → the leader nodes with sendable data, the delay until the
//!    next check, and topics whose leader is unknown (request a metadata update for them).
//! 3. For each ready node the network cannot send to yet, drop it from the set and call
//!    [`RecordAccumulator::update_node_latency_stats`]`(node, now, false)`; for the others
//!    `(node, now, true)`.
//! 4. [`RecordAccumulator::drain`] → closed batches per node, at most `max.request.size` bytes
//!    each (sequences assigned through the [`DrainSequencer`]). With
//!    `max.in.flight.requests.per.connection = 1` (guaranteed order),
//!    [`RecordAccumulator::mute_partition`] each drained partition until its response.
//! 5. [`RecordAccumulator::expired_batches`] → batches past `delivery.timeout.ms`: fail their
//!    records, then [`RecordAccumulator::deallocate`].
//! 6. On a response: report each record ([`RecordHandle::offset`]) and
//!    [`RecordAccumulator::deallocate`]; or [`RecordAccumulator::reenqueue`] for a retry; or
//!    [`RecordAccumulator::split_and_reenqueue`] for `MESSAGE_TOO_LARGE` with more than one
//!    record.
//!
//! `flush()` is [`RecordAccumulator::begin_flush`], then polling
//! [`RecordAccumulator::await_flush_completion`]; `close()` is [`RecordAccumulator::close`]
//! (every batch becomes ready), and a forced close [`RecordAccumulator::abort_incomplete_batches`].
//!
//! # Example
//!
//! ```
//! use kproducer::accumulator::{AppendOutcome, RecordAccumulator};
//! use kproducer::{Cluster, Node, PartitionInfo, ProducerConfig, TopicInfo};
//!
//! let mut cluster = Cluster::default();
//! cluster.nodes.insert(1, Node { id: 1, host: "b1".into(), port: 9092, rack: None });
//! let partitions = (0..3)
//!     .map(|p| PartitionInfo { partition: p, leader: Some(1), leader_epoch: 0, replicas: vec![1], isr: vec![1] })
//!     .collect();
//! cluster.topics.insert("events".into(), TopicInfo { topic_id: Default::default(), partitions });
//!
//! let config = ProducerConfig { enable_idempotence: false, ..ProducerConfig::default() };
//! let mut acc = RecordAccumulator::new(&config);
//! let value = vec![b'x'; 1000];
//! let AppendOutcome::Appended(sent) =
//!     acc.append("events", None, 1_700_000_000_000, Some(b"user-7"), Some(&value), &[], 0, &cluster)?
//! else {
//!     unreachable!("32 MiB of buffer.memory is free")
//! };
//!
//! // linger.ms = 5: nothing is ready at once, the node is at 5 ms.
//! assert!(acc.ready(&cluster, 0).ready_nodes.is_empty());
//! let ready = acc.ready(&cluster, 5);
//! assert_eq!(ready.ready_nodes.len(), 1);
//!
//! // Drain (no idempotence: `()`), send `batch.records()` in a Produce request, then complete.
//! let drained = acc.drain(&cluster, ready.ready_nodes.iter().copied(), 1 << 20, 5, &mut ());
//! let mut batch = drained.batches.into_values().flatten().next().unwrap();
//! assert_eq!(batch.topic_partition(), &sent.topic_partition);
//! let bytes = batch.records().unwrap();
//! assert!(bytes.len() > 1000);
//! let records = batch.complete(42, -1)?.unwrap(); // the broker's base offset, CreateTime
//! assert_eq!((records[0].id, records[0].offset), (sent.record.id, 42));
//! acc.deallocate(batch);
//! assert_eq!(acc.available_memory(), config.buffer_memory);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod batch;
mod partitioner;
mod pool;

pub use batch::{
    BatchError, BatchId, FinalState, ProducerBatch, ProducerIdAndEpoch, RecordHandle, RecordId,
    RecordMetadata,
};
pub use partitioner::{BuiltInPartitioner, StickyPartitionInfo};
pub use pool::{AllocError, BufferPool};

use crate::cluster::{Cluster, TopicPartition};
use crate::config::ProducerConfig;
use crate::partitioner::partition_for_key;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;
use kproto::records::{estimate_size_upper_bound, BuildError, Compression, NO_SEQUENCE};
use kproto::rng::Rng;

/// Kafka's `CompressionRatioEstimator.COMPRESSION_RATIO_IMPROVING_STEP`.
pub const COMPRESSION_RATIO_IMPROVING_STEP: f32 = 0.005;
/// Kafka's `CompressionRatioEstimator.COMPRESSION_RATIO_DETERIORATE_STEP`.
pub const COMPRESSION_RATIO_DETERIORATE_STEP: f32 = 0.05;
/// `CommonClientConfigs.RETRY_BACKOFF_EXP_BASE`.
const RETRY_BACKOFF_EXP_BASE: u64 = 2;
/// `CommonClientConfigs.RETRY_BACKOFF_JITTER`.
const RETRY_BACKOFF_JITTER: f64 = 0.2;

/// What the accumulator asks of the idempotence state when it drains, mirroring the
/// `TransactionManager` calls of Java's `RecordAccumulator.drain` (same names). Java's
/// `transactionManager == null` is [`DrainSequencer::producer_id_and_epoch`] returning
/// `None`, as the `()` implementation does (no idempotence).
pub trait DrainSequencer {
    /// The producer's id and epoch (`producerIdAndEpoch`): `None` without idempotence;
    /// `Some(ProducerIdAndEpoch::NONE)` while idempotent but without an id yet.
    fn producer_id_and_epoch(&self) -> Option<ProducerIdAndEpoch>;
    /// Whether the producer is transactional (`isTransactional`).
    fn is_transactional(&self) -> bool {
        false
    }
    /// Whether a transaction is completing, which makes every batch ready (`isCompleting`).
    fn is_completing(&self) -> bool {
        false
    }
    /// Whether batches may be sent to `tp` (`isSendToPartitionAllowed`).
    fn is_send_to_partition_allowed(&self, _tp: &TopicPartition) -> bool {
        true
    }
    /// Whether `tp` has batches in flight (`hasInflightBatches`).
    fn has_inflight_batches(&self, _tp: &TopicPartition) -> bool {
        false
    }
    /// Whether `tp`'s in-flight batches carry an older producer id or epoch
    /// (`hasStaleProducerIdAndEpoch`).
    fn has_stale_producer_id_and_epoch(&self, _tp: &TopicPartition) -> bool {
        false
    }
    /// Whether `tp` has sequences in an unknown state (`hasUnresolvedSequence`).
    fn has_unresolved_sequence(&self, _tp: &TopicPartition) -> bool {
        false
    }
    /// The base sequence of `tp`'s first in-flight batch, or -1 (`firstInFlightSequence`).
    fn first_in_flight_sequence(&self, _tp: &TopicPartition) -> i32 {
        NO_SEQUENCE
    }
    /// Moves `tp` to the producer's current id and epoch, resetting its sequence when they
    /// changed (`maybeUpdateProducerIdAndEpoch`).
    fn maybe_update_producer_id_and_epoch(&mut self, _tp: &TopicPartition) {}
    /// The next sequence of `tp` (`sequenceNumber`).
    fn sequence_number(&self, _tp: &TopicPartition) -> i32 {
        0
    }
    /// Advances `tp`'s next sequence by `increment` records (`incrementSequenceNumber`).
    fn increment_sequence_number(&mut self, _tp: &TopicPartition, _increment: i32) {}
    /// Tracks a batch sent with a sequence (`addInFlightBatch`).
    fn add_in_flight_batch(&mut self, _batch: &ProducerBatch) {}

    /// Whether draining `tp` must wait (`RecordAccumulator.shouldStopDrainBatchesForPartition`):
    /// sends to it not allowed, no valid producer id, a new batch while in-flight batches carry
    /// a stale id/epoch or sequences are unresolved, or a retried batch that is not the first
    /// in flight (which brings in-flight requests to 1 while retrying).
    fn should_stop_drain_batches_for_partition(
        &self,
        first: &ProducerBatch,
        tp: &TopicPartition,
    ) -> bool {
        let Some(producer) = self.producer_id_and_epoch() else {
            return false;
        };
        if !self.is_send_to_partition_allowed(tp) {
            return true;
        }
        if !producer.is_valid() {
            return true;
        }
        if !first.has_sequence() {
            if self.has_inflight_batches(tp) && self.has_stale_producer_id_and_epoch(tp) {
                return true;
            }
            if self.has_unresolved_sequence(tp) {
                return true;
            }
        }
        let first_in_flight = self.first_in_flight_sequence(tp);
        first_in_flight != NO_SEQUENCE
            && first.has_sequence()
            && first.base_sequence() != first_in_flight
    }
}

/// No idempotence: batches are drained without producer id or sequence.
impl DrainSequencer for () {
    fn producer_id_and_epoch(&self) -> Option<ProducerIdAndEpoch> {
        None
    }
}

/// Why an append failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AppendError {
    /// The accumulator is closed (`Producer closed while send in progress`).
    #[error("producer closed while send in progress")]
    Closed,
    /// The record needs a partition choice but the cluster knows no partition of the topic.
    #[error("topic {0} has no known partitions")]
    UnknownTopic(String),
    /// The record is larger than `max.request.size` or `buffer.memory`
    /// (`KafkaProducer.ensureValidRecordSize`, Kafka's `RecordTooLargeException`).
    #[error("the message is {size} bytes when serialized which is larger than {limit}, the value of the {config} configuration")]
    RecordTooLarge {
        /// The record's upper-bound size.
        size: usize,
        /// The limit.
        limit: u64,
        /// `max.request.size` or `buffer.memory`.
        config: &'static str,
    },
    /// The record could not be encoded.
    #[error(transparent)]
    Batch(#[from] BatchError),
}

impl From<BuildError> for AppendError {
    fn from(e: BuildError) -> Self {
        AppendError::Batch(BatchError::Build(e))
    }
}

/// Why a re-enqueue failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReenqueueError {
    /// With idempotence, a retried batch must have a sequence (`insertInSequenceOrder`).
    #[error("trying to re-enqueue a batch for {0} which has no sequence although idempotence is enabled")]
    NoSequence(TopicPartition),
    /// The split failed.
    #[error(transparent)]
    Batch(#[from] BatchError),
}

/// A successful append (`RecordAppendResult`).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordAppendResult {
    /// The partition the record went to.
    pub topic_partition: TopicPartition,
    /// The record's handle in its batch.
    pub record: RecordHandle,
    /// The batch it went to.
    pub batch: BatchId,
    /// The batch is full or another batch waits behind it: wake the Sender.
    pub batch_is_full: bool,
    /// A new batch was created for it.
    pub new_batch_created: bool,
    /// Bytes the batch's size estimate grew by.
    pub appended_bytes: usize,
}

/// What [`RecordAccumulator::append`] did.
#[derive(Debug, Clone, PartialEq)]
pub enum AppendOutcome {
    /// The record is in a batch.
    Appended(RecordAppendResult),
    /// A new batch was needed but `buffer.memory` is exhausted: wait for
    /// [`RecordAccumulator::deallocate`] to free `needed` bytes (up to `max.block.ms`), then
    /// append again.
    Backpressure {
        /// The bytes the new batch needs.
        needed: usize,
        /// The bytes free now.
        available: u64,
    },
}

/// The result of [`RecordAccumulator::ready`] (`ReadyCheckResult`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadyCheckResult {
    /// Leaders with at least one sendable partition.
    pub ready_nodes: BTreeSet<i32>,
    /// When to check again at the latest (`u64::MAX`: nothing waits).
    pub next_ready_check_delay_ms: u64,
    /// Topics with queued batches for a partition without a known leader.
    pub unknown_leader_topics: BTreeSet<String>,
}

/// The result of [`RecordAccumulator::drain`].
#[derive(Debug, Default)]
pub struct DrainResult {
    /// The closed batches per node id, in drain order.
    pub batches: BTreeMap<i32, Vec<ProducerBatch>>,
    /// Batches that could not be built (their records must be failed, then the batches
    /// deallocated).
    pub failed: Vec<(ProducerBatch, BatchError)>,
}

/// When a node last had data ready and last could be drained (`NodeLatencyStats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeLatencyStats {
    /// The last time the node had batches ready to send.
    pub ready_time_ms: u64,
    /// The last time it could be drained.
    pub drain_time_ms: u64,
}

/// A flush begun by [`RecordAccumulator::begin_flush`]: the batches incomplete then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlushToken {
    batches: BTreeSet<BatchId>,
}

/// Java's `ExponentialBackoff.backoff` with base 2 and jitter 0.2, randomness from `rng`.
/// `initial * 2^min(attempts, log2(max/initial))` is `min(initial * 2^attempts, max)`.
pub fn exponential_backoff(rng: &mut Rng, initial_ms: u64, max_ms: u64, attempts: u32) -> u64 {
    let initial = initial_ms.min(max_ms);
    if max_ms <= initial {
        return initial;
    }
    let term = RETRY_BACKOFF_EXP_BASE
        .checked_pow(attempts)
        .and_then(|m| initial.checked_mul(m))
        .map_or(max_ms, |t| t.min(max_ms));
    // ThreadLocalRandom.nextDouble(1 - jitter, 1 + jitter).
    let unit = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    let factor = (1.0 - RETRY_BACKOFF_JITTER) + unit * 2.0 * RETRY_BACKOFF_JITTER;
    ((factor * term as f64) as u64).min(max_ms)
}

/// One topic's queues and partitioner (`TopicInfo`).
#[derive(Debug)]
struct TopicState {
    batches: BTreeMap<i32, VecDeque<ProducerBatch>>,
    partitioner: BuiltInPartitioner,
}

/// Kafka's `RecordAccumulator`, sans-IO.
#[derive(Debug)]
pub struct RecordAccumulator {
    batch_size: usize,
    compression: Compression,
    linger_ms: u64,
    retry_backoff_ms: u64,
    retry_backoff_max_ms: u64,
    delivery_timeout_ms: u64,
    max_request_size: u32,
    enable_adaptive_partitioning: bool,
    partition_availability_timeout_ms: u64,
    ignore_keys: bool,
    idempotence: bool,
    pool: BufferPool,
    topics: BTreeMap<String, TopicState>,
    incomplete: BTreeSet<BatchId>,
    muted: BTreeSet<TopicPartition>,
    nodes_drain_index: BTreeMap<i32, usize>,
    node_stats: BTreeMap<i32, NodeLatencyStats>,
    compression_ratios: BTreeMap<String, f32>,
    flushes_in_progress: usize,
    closed: bool,
    next_batch_expiry_time_ms: u64,
    rng: Rng,
    next_record_id: u64,
    next_batch_id: u64,
}

fn all_batches_full(deque: &VecDeque<ProducerBatch>) -> bool {
    deque.back().is_none_or(ProducerBatch::is_full)
}

impl RecordAccumulator {
    /// An accumulator with the configuration's `batch.size` (at least 1, as `KafkaProducer`
    /// has it), `compression.type`, `linger.ms`, `retry.backoff.ms`/`.max.ms`,
    /// `delivery.timeout.ms`, `max.request.size`, `buffer.memory`, the partitioner keys and
    /// `enable.idempotence` (Java's `transactionManager != null`), and its seed.
    pub fn new(config: &ProducerConfig) -> Self {
        let batch_size = config.batch_size.max(1) as usize;
        RecordAccumulator {
            batch_size,
            compression: config.compression_type,
            linger_ms: config.linger_ms,
            retry_backoff_ms: config.retry_backoff_ms,
            retry_backoff_max_ms: config.retry_backoff_max_ms,
            delivery_timeout_ms: config.delivery_timeout_ms,
            max_request_size: config.max_request_size,
            enable_adaptive_partitioning: config.partitioner_adaptive_partitioning_enable,
            partition_availability_timeout_ms: config.partitioner_availability_timeout_ms,
            ignore_keys: config.partitioner_ignore_keys,
            idempotence: config.enable_idempotence || config.transactional_id.is_some(),
            pool: BufferPool::new(config.buffer_memory, batch_size),
            topics: BTreeMap::new(),
            incomplete: BTreeSet::new(),
            muted: BTreeSet::new(),
            nodes_drain_index: BTreeMap::new(),
            node_stats: BTreeMap::new(),
            compression_ratios: BTreeMap::new(),
            flushes_in_progress: 0,
            closed: false,
            next_batch_expiry_time_ms: u64::MAX,
            rng: Rng::new(config.seed ^ 0x6b32_6163_6375_6d75),
            next_record_id: 0,
            next_batch_id: 0,
        }
    }

    fn topic_state(&mut self, topic: &str) -> &mut TopicState {
        let batch_size = self.batch_size;
        self.topics
            .entry(String::from(topic))
            .or_insert_with(|| TopicState {
                batches: BTreeMap::new(),
                partitioner: BuiltInPartitioner::new(topic, batch_size),
            })
    }

    /// The compression ratio estimate for `topic` with the configured codec
    /// (`CompressionRatioEstimator.estimation`; 1.0 to begin with).
    pub fn compression_ratio_estimation(&self, topic: &str) -> f32 {
        self.compression_ratios.get(topic).copied().unwrap_or(1.0)
    }

    /// `CompressionRatioEstimator.updateEstimation`.
    fn update_compression_estimation(&mut self, topic: &str, observed: f32) {
        let current = self.compression_ratio_estimation(topic);
        let next = if observed > current {
            (current + COMPRESSION_RATIO_DETERIORATE_STEP).max(observed)
        } else if observed < current {
            (current - COMPRESSION_RATIO_IMPROVING_STEP).max(observed)
        } else {
            current
        };
        self.compression_ratios.insert(String::from(topic), next);
    }

    /// Appends a record (`RecordAccumulator.append` with `KafkaProducer.partition` and
    /// `ensureValidRecordSize` before it). `partition`: the record's own or the user
    /// partitioner's choice; `None` places a keyed record by `murmur2` of its key (unless
    /// `partitioner.ignore.keys`) and any other with the built-in sticky partitioner, which
    /// needs the topic's partitions in `cluster`. `timestamp` is the CreateTime (ms).
    #[allow(clippy::too_many_arguments)]
    pub fn append(
        &mut self,
        topic: &str,
        partition: Option<i32>,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
        now_ms: u64,
        cluster: &Cluster,
    ) -> Result<AppendOutcome, AppendError> {
        if self.closed {
            return Err(AppendError::Closed);
        }
        let upper = estimate_size_upper_bound(key, value, headers)?;
        if upper > self.max_request_size as usize {
            return Err(AppendError::RecordTooLarge {
                size: upper,
                limit: u64::from(self.max_request_size),
                config: "max.request.size",
            });
        }
        if upper as u64 > self.pool.total_memory() {
            return Err(AppendError::RecordTooLarge {
                size: upper,
                limit: self.pool.total_memory(),
                config: "buffer.memory",
            });
        }
        let partition = match (partition, key) {
            (Some(p), _) => Some(p),
            (None, Some(k)) if !self.ignore_keys => {
                let n = cluster
                    .partition_count(topic)
                    .filter(|&n| n > 0)
                    .ok_or_else(|| AppendError::UnknownTopic(String::from(topic)))?;
                Some(partition_for_key(k, n as i32))
            }
            (None, _) => None,
        };
        let batch_size = self.batch_size;
        self.next_record_id += 1;
        let record_id = RecordId(self.next_record_id);
        loop {
            let (sticky, effective) = match partition {
                Some(p) => (None, p),
                None => {
                    let rng = &mut self.rng;
                    let state =
                        self.topics
                            .entry(String::from(topic))
                            .or_insert_with(|| TopicState {
                                batches: BTreeMap::new(),
                                partitioner: BuiltInPartitioner::new(topic, batch_size),
                            });
                    let info = state
                        .partitioner
                        .peek_current_partition_info(cluster, rng)
                        .ok_or_else(|| AppendError::UnknownTopic(String::from(topic)))?;
                    let p = info.partition();
                    (Some(info), p)
                }
            };
            let rng = &mut self.rng;
            let state = self
                .topics
                .entry(String::from(topic))
                .or_insert_with(|| TopicState {
                    batches: BTreeMap::new(),
                    partitioner: BuiltInPartitioner::new(topic, batch_size),
                });
            let deque = state.batches.entry(effective).or_default();
            // partitionChanged: a deferred switch happens once every batch is full.
            if let Some(info) = &sticky {
                if state.partitioner.is_partition_changed(info) {
                    continue;
                }
                if all_batches_full(deque) {
                    state
                        .partitioner
                        .update_partition_info(info, 0, cluster, rng, true);
                    if state.partitioner.is_partition_changed(info) {
                        continue;
                    }
                }
            }
            // tryAppend to the last batch.
            let queued = deque.len();
            if let Some(last) = deque.back_mut() {
                let initial = last.estimated_size_in_bytes();
                match last.try_append(record_id, timestamp, key, value, headers, now_ms)? {
                    Some(handle) => {
                        let appended = last.estimated_size_in_bytes().saturating_sub(initial);
                        let batch_is_full = queued > 1 || last.is_full();
                        let batch = last.id();
                        let enable_switch = all_batches_full(deque);
                        if let Some(info) = &sticky {
                            state.partitioner.update_partition_info(
                                info,
                                appended,
                                cluster,
                                rng,
                                enable_switch,
                            );
                        }
                        return Ok(AppendOutcome::Appended(RecordAppendResult {
                            topic_partition: TopicPartition::new(topic, effective),
                            record: handle,
                            batch,
                            batch_is_full,
                            new_batch_created: false,
                            appended_bytes: appended,
                        }));
                    }
                    None => last.close_for_record_appends(),
                }
            }
            // A new batch: max(batch.size, the record's upper bound) from the pool.
            let size = batch_size.max(upper);
            let buffer = match self.pool.allocate(size) {
                Ok(b) => b,
                Err(AllocError::Exhausted { size, available }) => {
                    return Ok(AppendOutcome::Backpressure {
                        needed: size,
                        available,
                    })
                }
                Err(AllocError::Closed) => return Err(AppendError::Closed),
                Err(AllocError::TooLarge { size, total }) => {
                    return Err(AppendError::RecordTooLarge {
                        size,
                        limit: total,
                        config: "buffer.memory",
                    })
                }
            };
            let ratio = self.compression_ratio_estimation(topic);
            self.next_batch_id += 1;
            let id = BatchId(self.next_batch_id);
            let tp = TopicPartition::new(topic, effective);
            let mut batch = ProducerBatch::new(
                id,
                tp.clone(),
                self.compression,
                size,
                ratio,
                buffer,
                now_ms,
            );
            batch.reserved = size;
            let handle = match batch.try_append(record_id, timestamp, key, value, headers, now_ms) {
                Ok(Some(h)) => h,
                Ok(None) => {
                    // Unreachable: a new batch takes its first record. Give the memory back.
                    self.pool.deallocate(None, size);
                    return Err(AppendError::Batch(BatchError::Empty));
                }
                Err(e) => {
                    self.pool.deallocate(None, size);
                    return Err(e.into());
                }
            };
            let appended = batch.estimated_size_in_bytes();
            let rng = &mut self.rng;
            let Some(state) = self.topics.get_mut(topic) else {
                return Err(AppendError::UnknownTopic(String::from(topic)));
            };
            let deque = state.batches.entry(effective).or_default();
            deque.push_back(batch);
            self.incomplete.insert(id);
            let batch_is_full = deque.len() > 1 || deque.back().is_some_and(ProducerBatch::is_full);
            let enable_switch = all_batches_full(deque);
            if let Some(info) = &sticky {
                state.partitioner.update_partition_info(
                    info,
                    appended,
                    cluster,
                    rng,
                    enable_switch,
                );
            }
            return Ok(AppendOutcome::Appended(RecordAppendResult {
                topic_partition: tp,
                record: handle,
                batch: id,
                batch_is_full,
                new_batch_created: true,
                appended_bytes: appended,
            }));
        }
    }

    /// The leader nodes with sendable data, the delay until the next check and topics
    /// without a known leader (`ready` / `partitionReady` / `batchReady`). A partition is
    /// sendable when its first batch is full or has another behind it, has waited
    /// `linger.ms` (a retry: its backoff), memory is exhausted, a flush is in progress or the
    /// accumulator is closed; a retried batch in backoff (without a leader change) or a muted
    /// partition is not. On the way it updates each topic's adaptive-partitioning load
    /// statistics from the queue sizes.
    pub fn ready(&mut self, cluster: &Cluster, now_ms: u64) -> ReadyCheckResult {
        self.ready_with(cluster, now_ms, false)
    }

    /// [`RecordAccumulator::ready`] with the sequencer's `is_completing` (a transaction
    /// completing makes every batch sendable).
    pub fn ready_with(
        &mut self,
        cluster: &Cluster,
        now_ms: u64,
        transaction_completing: bool,
    ) -> ReadyCheckResult {
        let mut result = ReadyCheckResult {
            next_ready_check_delay_ms: u64::MAX,
            ..ReadyCheckResult::default()
        };
        let exhausted = self.pool.queued() > 0;
        let sendable_anyway =
            exhausted || self.closed || self.flushes_in_progress > 0 || transaction_completing;
        for (topic, state) in self.topics.iter_mut() {
            let all_partitions = cluster.partition_count(topic).unwrap_or(0);
            // Adaptive partitioning starts once every partition has had a batch (an entry in
            // the map); until then the choice is uniform.
            let n = state.batches.len();
            let mut sizes = (self.enable_adaptive_partitioning && n >= all_partitions)
                .then(|| (alloc::vec![0u32; n], alloc::vec![0i32; n]));
            // Java's queueSizesIndex: advanced for every partition with a leader, stepped
            // back for an unavailable one so the next overwrites it.
            let mut index: isize = -1;
            for (&partition, deque) in state.batches.iter_mut() {
                let leader = cluster.leader_for(topic, partition).map(|n| n.id);
                if leader.is_some() {
                    if let Some((_, ids)) = sizes.as_mut() {
                        index += 1;
                        if let Some(slot) = ids.get_mut(index as usize) {
                            *slot = partition;
                        }
                    }
                }
                let queued = deque.len();
                let Some(first) = deque.front_mut() else {
                    continue;
                };
                let waited = first.waited_time_ms(now_ms);
                first.maybe_update_leader_epoch(leader_epoch(cluster, topic, partition));
                let attempts = first.attempts();
                // shouldBackoff.
                let backing_off = !first.has_leader_changed_for_the_ongoing_retry()
                    && attempts > 0
                    && waited
                        < exponential_backoff(
                            &mut self.rng,
                            self.retry_backoff_ms,
                            self.retry_backoff_max_ms,
                            attempts - 1,
                        );
                let full = queued > 1 || first.is_full();
                let Some(leader) = leader else {
                    result.unknown_leader_topics.insert(topic.clone());
                    continue;
                };
                if let Some((qs, _)) = sizes.as_mut() {
                    if let Some(slot) = qs.get_mut(index as usize) {
                        *slot = queued as u32;
                    }
                }
                if self.partition_availability_timeout_ms > 0 {
                    if let Some(stats) = self.node_stats.get(&leader) {
                        if stats.ready_time_ms.saturating_sub(stats.drain_time_ms)
                            > self.partition_availability_timeout_ms
                        {
                            index -= 1;
                        }
                    }
                }
                // batchReady.
                let muted = !self.muted.is_empty()
                    && self
                        .muted
                        .contains(&TopicPartition::new(topic.as_str(), partition));
                if !result.ready_nodes.contains(&leader) && !muted {
                    let time_to_wait = if backing_off {
                        exponential_backoff(
                            &mut self.rng,
                            self.retry_backoff_ms,
                            self.retry_backoff_max_ms,
                            attempts.saturating_sub(1),
                        )
                    } else {
                        self.linger_ms
                    };
                    let expired = waited >= time_to_wait;
                    let sendable = full || expired || sendable_anyway;
                    if sendable && !backing_off {
                        result.ready_nodes.insert(leader);
                    } else {
                        let left = time_to_wait.saturating_sub(waited);
                        result.next_ready_check_delay_ms =
                            result.next_ready_check_delay_ms.min(left);
                    }
                }
            }
            let length = usize::try_from(index + 1).unwrap_or(0);
            state.partitioner.update_partition_load_stats(
                sizes
                    .as_ref()
                    .map(|(qs, ids)| (qs.as_slice(), ids.as_slice())),
                length,
            );
        }
        result
    }
}

fn leader_epoch(cluster: &Cluster, topic: &str, partition: i32) -> Option<i32> {
    let p = usize::try_from(partition).ok()?;
    let e = cluster.partitions(topic)?.get(p)?.leader_epoch;
    (e >= 0).then_some(e)
}
impl RecordAccumulator {
    /// Takes batches for each of `nodes` (`drain` / `drainBatchesForOneNode`): per node, the
    /// first batch of each partition it leads, round robin from where the last drain of that
    /// node stopped, until adding the next would pass `max_size` (a first batch larger than
    /// `max_size` still goes alone). Muted partitions, batches in retry backoff and partitions
    /// the `sequencer` holds back are skipped. With idempotence a batch without a sequence
    /// gets the producer id, epoch and the partition's next sequence here, and is tracked as
    /// in flight. Every drained batch is closed (built into bytes).
    pub fn drain<S: DrainSequencer + ?Sized>(
        &mut self,
        cluster: &Cluster,
        nodes: impl IntoIterator<Item = i32>,
        max_size: usize,
        now_ms: u64,
        sequencer: &mut S,
    ) -> DrainResult {
        let mut result = DrainResult::default();
        for node in nodes {
            let ready = self.drain_batches_for_one_node(
                cluster,
                node,
                max_size,
                now_ms,
                sequencer,
                &mut result.failed,
            );
            result.batches.insert(node, ready);
        }
        result
    }

    fn drain_batches_for_one_node<S: DrainSequencer + ?Sized>(
        &mut self,
        cluster: &Cluster,
        node: i32,
        max_size: usize,
        now_ms: u64,
        sequencer: &mut S,
        failed: &mut Vec<(ProducerBatch, BatchError)>,
    ) -> Vec<ProducerBatch> {
        let mut ready = Vec::new();
        // Cluster.partitionsForNode.
        let parts: Vec<(&str, i32, Option<i32>)> = cluster
            .topics
            .iter()
            .flat_map(|(topic, info)| {
                info.partitions
                    .iter()
                    .filter(move |p| p.leader == Some(node))
                    .map(move |p| {
                        let epoch = (p.leader_epoch >= 0).then_some(p.leader_epoch);
                        (topic.as_str(), p.partition, epoch)
                    })
            })
            .collect();
        if parts.is_empty() {
            return ready;
        }
        let n = parts.len();
        let start = self.nodes_drain_index.get(&node).copied().unwrap_or(0) % n;
        let mut drain_index = start;
        let mut size = 0usize;
        loop {
            let (topic, partition, epoch) = parts[drain_index];
            self.nodes_drain_index.insert(node, drain_index);
            drain_index = (drain_index + 1) % n;
            let stop = 'part: {
                let tp = TopicPartition::new(topic, partition);
                if self.muted.contains(&tp) {
                    break 'part false;
                }
                let Some(deque) = self
                    .topics
                    .get_mut(topic)
                    .and_then(|t| t.batches.get_mut(&partition))
                else {
                    break 'part false;
                };
                let Some(first) = deque.front_mut() else {
                    break 'part false;
                };
                first.maybe_update_leader_epoch(epoch);
                let attempts = first.attempts();
                if !first.has_leader_changed_for_the_ongoing_retry()
                    && attempts > 0
                    && first.waited_time_ms(now_ms)
                        < exponential_backoff(
                            &mut self.rng,
                            self.retry_backoff_ms,
                            self.retry_backoff_max_ms,
                            attempts - 1,
                        )
                {
                    break 'part false;
                }
                if size + first.estimated_size_in_bytes() > max_size && !ready.is_empty() {
                    // A single batch larger than the request (compression) still goes alone.
                    break 'part true;
                }
                if sequencer.should_stop_drain_batches_for_partition(first, &tp) {
                    break 'part true;
                }
                let Some(mut batch) = deque.pop_front() else {
                    break 'part false;
                };
                if let Some(producer) = sequencer.producer_id_and_epoch() {
                    if !batch.has_sequence() {
                        sequencer.maybe_update_producer_id_and_epoch(&tp);
                        let sequence = sequencer.sequence_number(&tp);
                        batch.set_producer_state(producer, sequence, sequencer.is_transactional());
                        sequencer.increment_sequence_number(&tp, batch.record_count() as i32);
                        sequencer.add_in_flight_batch(&batch);
                    }
                }
                match batch.close() {
                    Ok(()) => {
                        // ProducerBatch.close updates the topic's CompressionRatioEstimator.
                        let ratio = batch.compression_ratio();
                        self.update_compression_estimation(topic, ratio);
                        size += batch.records().map_or(0, <[u8]>::len);
                        batch.drained(now_ms);
                        ready.push(batch);
                    }
                    Err(e) => failed.push((batch, e)),
                }
                false
            };
            if stop || drain_index == start {
                break;
            }
        }
        ready
    }

    /// Records whether a ready node could be drained (`updateNodeLatencyStats`), for
    /// `partitioner.availability.timeout.ms`: partitions of a node that had data ready but
    /// could not be drained for longer than that are left out of the adaptive choice. Does
    /// nothing when the timeout is 0.
    pub fn update_node_latency_stats(&mut self, node: i32, now_ms: u64, can_drain: bool) {
        if self.partition_availability_timeout_ms == 0 {
            return;
        }
        let stats = self.node_stats.entry(node).or_insert(NodeLatencyStats {
            ready_time_ms: now_ms,
            drain_time_ms: now_ms,
        });
        if can_drain {
            stats.drain_time_ms = now_ms;
        }
        stats.ready_time_ms = now_ms;
    }

    /// A node's latency stats, if recorded.
    pub fn node_latency_stats(&self, node: i32) -> Option<NodeLatencyStats> {
        self.node_stats.get(&node).copied()
    }

    /// Removes and returns the queued batches whose `delivery.timeout.ms` has passed, oldest
    /// first per partition (`expiredBatches`); their appends are aborted. The caller fails
    /// their records and calls [`RecordAccumulator::deallocate`] for each. The next expiry
    /// time is lowered to the first unexpired batch's deadline.
    pub fn expired_batches(&mut self, now_ms: u64) -> Vec<ProducerBatch> {
        let mut expired = Vec::new();
        let timeout = self.delivery_timeout_ms;
        let mut next = self.next_batch_expiry_time_ms;
        for state in self.topics.values_mut() {
            for deque in state.batches.values_mut() {
                while let Some(first) = deque.front() {
                    if first.has_reached_delivery_timeout(timeout, now_ms) {
                        if let Some(mut batch) = deque.pop_front() {
                            batch.abort_record_appends();
                            expired.push(batch);
                        }
                    } else {
                        if let Some(deadline) = first.created_ms().checked_add(timeout) {
                            next = next.min(deadline);
                        }
                        break;
                    }
                }
            }
        }
        self.next_batch_expiry_time_ms = next;
        expired
    }

    /// The earliest delivery deadline seen by the last [`RecordAccumulator::expired_batches`]
    /// (`nextExpiryTimeMs`), `u64::MAX` for none.
    pub fn next_expiry_time_ms(&self) -> u64 {
        self.next_batch_expiry_time_ms
    }

    /// Forgets the next expiry time (`resetNextBatchExpiryTime`), before a new check.
    pub fn reset_next_batch_expiry_time(&mut self) {
        self.next_batch_expiry_time_ms = u64::MAX;
    }

    /// `delivery.timeout.ms`.
    pub fn delivery_timeout_ms(&self) -> u64 {
        self.delivery_timeout_ms
    }

    /// Puts a batch back for a retry at `now_ms` (`reenqueue`): it counts one more attempt
    /// and waits its backoff. Without idempotence it goes first in its queue; with it, in
    /// sequence order among the queued batches that have sequences
    /// (`insertInSequenceOrder`).
    pub fn reenqueue(
        &mut self,
        mut batch: ProducerBatch,
        now_ms: u64,
    ) -> Result<(), ReenqueueError> {
        if self.idempotence && !batch.has_sequence() {
            return Err(ReenqueueError::NoSequence(batch.topic_partition().clone()));
        }
        batch.reenqueued(now_ms);
        let idempotence = self.idempotence;
        let tp = batch.topic_partition().clone();
        let deque = self
            .topic_state(&tp.topic)
            .batches
            .entry(tp.partition)
            .or_default();
        if idempotence {
            insert_in_sequence_order(deque, batch);
        } else {
            deque.push_front(batch);
        }
        Ok(())
    }

    /// Splits a batch the broker refused with `MESSAGE_TOO_LARGE` into batches of
    /// `batch.size` and puts them first in the partition's queue as never tried
    /// (`splitAndReenqueue`); the compression estimate of the topic is reset to
    /// `max(1, the batch's ratio)` first. The new batches keep the big batch's sequences and
    /// are tracked in flight with the `sequencer`. The big batch's memory is given back here
    /// (remove it from the sequencer's in-flight set before). Returns the number of batches.
    pub fn split_and_reenqueue<S: DrainSequencer + ?Sized>(
        &mut self,
        mut big: ProducerBatch,
        sequencer: &mut S,
    ) -> Result<usize, ReenqueueError> {
        let topic = big.topic_partition().topic.clone();
        let ratio = big.compression_ratio().max(1.0);
        self.compression_ratios.insert(topic.clone(), ratio);
        let mut next = self.next_batch_id;
        let split = big.split(self.batch_size, ratio, || {
            next += 1;
            BatchId(next)
        });
        self.next_batch_id = next;
        let mut split = match split {
            Ok(s) => s,
            Err(e) => {
                // The big batch is still ours to give back.
                self.deallocate(big);
                return Err(e.into());
            }
        };
        let count = split.len();
        let idempotence = self.idempotence;
        let partition = big.topic_partition().partition;
        while let Some(batch) = split.pop_back() {
            self.incomplete.insert(batch.id());
            if idempotence {
                sequencer.add_in_flight_batch(&batch);
            }
            let deque = self
                .topic_state(&topic)
                .batches
                .entry(partition)
                .or_default();
            if idempotence && batch.has_sequence() {
                insert_in_sequence_order(deque, batch);
            } else {
                deque.push_front(batch);
            }
        }
        self.deallocate(big);
        Ok(count)
    }

    /// Gives a finished batch's memory back to the pool (`deallocate`; split batches hold
    /// none) and forgets it. Returns the bytes now available, for an appender waiting on
    /// [`AppendOutcome::Backpressure`].
    pub fn deallocate(&mut self, mut batch: ProducerBatch) -> u64 {
        self.incomplete.remove(&batch.id());
        if !batch.is_split_batch() && batch.reserved > 0 {
            let size = core::mem::take(&mut batch.reserved);
            let buffer = batch.take_buffer();
            self.pool.deallocate(buffer, size);
        }
        self.pool.available_memory()
    }

    /// The waiting appender gave up after `max.block.ms` (Kafka's `BufferExhaustedException`):
    /// memory no longer counts as exhausted.
    pub fn abandon_memory_wait(&mut self) {
        self.pool.abandon_wait();
    }

    /// Bytes of `buffer.memory` free (`buffer-available-bytes`).
    pub fn available_memory(&self) -> u64 {
        self.pool.available_memory()
    }

    /// `buffer.memory` (`buffer-total-bytes`).
    pub fn total_memory(&self) -> u64 {
        self.pool.total_memory()
    }

    /// Appenders waiting for memory (`waiting-threads`): 0 or 1.
    pub fn waiting_threads(&self) -> usize {
        self.pool.queued()
    }

    /// The buffer pool, for inspection.
    pub fn buffer_pool(&self) -> &BufferPool {
        &self.pool
    }

    /// Starts a flush (`beginFlush`): every batch is ready until
    /// [`RecordAccumulator::await_flush_completion`] says the batches incomplete now are done.
    pub fn begin_flush(&mut self) -> FlushToken {
        self.flushes_in_progress += 1;
        FlushToken {
            batches: self.incomplete.clone(),
        }
    }

    /// `awaitFlushCompletion` as a poll: `Ok` (and the flush ends) once every batch incomplete
    /// at [`RecordAccumulator::begin_flush`] was deallocated, else the token back.
    pub fn await_flush_completion(&mut self, token: FlushToken) -> Result<(), FlushToken> {
        if token.batches.iter().any(|b| self.incomplete.contains(b)) {
            return Err(token);
        }
        self.flushes_in_progress = self.flushes_in_progress.saturating_sub(1);
        Ok(())
    }

    /// A flush is in progress (`flushInProgress`).
    pub fn flush_in_progress(&self) -> bool {
        self.flushes_in_progress > 0
    }

    /// Batches appended and not yet deallocated (`hasIncomplete`).
    pub fn has_incomplete(&self) -> bool {
        !self.incomplete.is_empty()
    }

    /// Batches still queued (`hasUndrained`).
    pub fn has_undrained(&self) -> bool {
        self.topics
            .values()
            .any(|t| t.batches.values().any(|d| !d.is_empty()))
    }

    /// The queued batches of `tp`, oldest first (`getDeque`).
    pub fn deque(&self, tp: &TopicPartition) -> Option<&VecDeque<ProducerBatch>> {
        self.topics.get(&tp.topic)?.batches.get(&tp.partition)
    }

    /// The built-in partitioner of `topic`, once something was appended to it.
    pub fn built_in_partitioner(&self, topic: &str) -> Option<&BuiltInPartitioner> {
        self.topics.get(topic).map(|t| &t.partitioner)
    }

    /// Stops draining `tp` (a request to it is in flight and order is guaranteed).
    pub fn mute_partition(&mut self, tp: &TopicPartition) {
        self.muted.insert(tp.clone());
    }

    /// Drains `tp` again.
    pub fn unmute_partition(&mut self, tp: &TopicPartition) {
        self.muted.remove(tp);
    }

    /// Closes the accumulator (`close`): appends fail, every queued batch is ready.
    pub fn close(&mut self) {
        self.closed = true;
        self.pool.close();
    }

    /// Closed.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// A forced close (`abortIncompleteBatches`): removes every queued batch, aborts its
    /// appends and gives its memory back; the caller fails their records ("Producer is closed
    /// forcefully"). Batches in flight stay the caller's to fail and deallocate.
    pub fn abort_incomplete_batches(&mut self) -> Vec<ProducerBatch> {
        let mut aborted = Vec::new();
        let topics = core::mem::take(&mut self.topics);
        for (_, state) in topics {
            for (_, deque) in state.batches {
                for mut batch in deque {
                    batch.abort_record_appends();
                    self.incomplete.remove(&batch.id());
                    if !batch.is_split_batch() && batch.reserved > 0 {
                        let size = core::mem::take(&mut batch.reserved);
                        self.pool.deallocate(None, size);
                    }
                    aborted.push(batch);
                }
            }
        }
        aborted
    }
}

impl RecordAccumulator {
    /// Removes and returns the queued batches that were never sent (`abortUndrainedBatches`,
    /// for an aborted transaction or a fatal error): with idempotence those without a
    /// sequence, else those not yet built. Their memory is given back; retried batches stay.
    pub fn abort_undrained_batches(&mut self) -> Vec<ProducerBatch> {
        let idempotence = self.idempotence;
        let mut aborted = Vec::new();
        for state in self.topics.values_mut() {
            for deque in state.batches.values_mut() {
                let mut kept = VecDeque::with_capacity(deque.len());
                for mut batch in deque.drain(..) {
                    let undrained = if idempotence {
                        !batch.has_sequence()
                    } else {
                        !batch.is_closed()
                    };
                    if undrained {
                        batch.abort_record_appends();
                        self.incomplete.remove(&batch.id());
                        if !batch.is_split_batch() && batch.reserved > 0 {
                            let size = core::mem::take(&mut batch.reserved);
                            self.pool.deallocate(None, size);
                        }
                        aborted.push(batch);
                    } else {
                        kept.push_back(batch);
                    }
                }
                *deque = kept;
            }
        }
        aborted
    }
}

/// `insertInSequenceOrder`: before the first queued batch whose sequence is not lower.
fn insert_in_sequence_order(deque: &mut VecDeque<ProducerBatch>, batch: ProducerBatch) {
    let seq = batch.base_sequence();
    let at = deque
        .iter()
        .position(|b| !(b.has_sequence() && b.base_sequence() < seq))
        .unwrap_or(deque.len());
    deque.insert(at, batch);
}

#[cfg(test)]
mod tests;
