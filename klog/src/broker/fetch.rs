//! Fetch v4–v18 (Kafka's `KafkaApis.handleFetchRequest`, `ReplicaManager.fetchMessages` and
//! `readFromLog`, `Partition.fetchRecords`, `UnifiedLog.read` and `LogSegment.read`) for a
//! broker that leads every partition it hosts, with no replicas besides itself.
//!
//! - Topics are named up to v12 and given by topic id from v13 (an unknown id is
//!   UNKNOWN_TOPIC_ID, an unknown name or partition UNKNOWN_TOPIC_OR_PARTITION). A partition
//!   asked twice is answered once, at its first place, with its last fetch position (Kafka's
//!   `LinkedHashMap`). Read partitions come first in request order, then the ones answered
//!   without a read; consecutive partitions of one topic share a topic entry.
//! - A consumer (`replica_id` < 0 but not -3) reads up to the high watermark, or with
//!   READ_COMMITTED (isolation level 1) up to the last stable offset, with the aborted
//!   transactions of the range; the future-replica id -3 reads up to the log end offset.
//!   Reading at the bound or between it and the log end offset gives no records and no error;
//!   below the log start offset or past the log end offset is OFFSET_OUT_OF_RANGE.
//! - A follower (`replica_id` >= 0, from v15 `replica_state.replica_id`) is not a replica
//!   here: UNKNOWN_LEADER_EPOCH when it sends a current leader epoch, NOT_LEADER_OR_FOLLOWER
//!   otherwise (`Partition.followerReplicaOrThrow`).
//! - Sizes are Kafka's: the response holds at most `min(max_bytes, fetch.max.bytes)` record
//!   bytes and each partition at most `partition_max_bytes`, cut at that byte count inside a
//!   batch when the next batch does not fit (the consumer drops the partial batch), and never
//!   across a segment's end; until some partition returned data the first batch is returned
//!   whole however large (so a consumer always progresses), after that a partition whose
//!   first batch does not fit returns nothing.
//! - With fewer than `min_bytes` available and `max_wait_ms` > 0 the request waits
//!   ([`Handled::Pending`], Kafka's `DelayedFetch`, see `delayed_fetch`).
//! - Fetch sessions: this broker keeps none (`max.incremental.fetch.session.cache.slots` = 0).
//!   A full fetch (epoch 0 or -1) is answered sessionless (session id 0); an incremental one
//!   names a session that cannot exist: FETCH_SESSION_ID_NOT_FOUND (Kafka's
//!   `FetchManager.newContext`; INVALID_FETCH_SESSION_EPOCH needs a cached session).
//! - `current_leader_epoch` and `last_fetched_epoch` are checked against the log's one leader
//!   epoch (see `offset_for_leader_epoch`): FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH, and a
//!   diverging epoch answered in `diverging_epoch` (v12+). From v16 a NOT_LEADER_OR_FOLLOWER
//!   or FENCED_LEADER_EPOCH partition names the current leader (this broker) and its endpoint.
//! - A topic with `compression.type=zstd` fetched below v10 is UNSUPPORTED_COMPRESSION_TYPE;
//!   KAFKA_STORAGE_ERROR is sent as NOT_LEADER_OR_FOLLOWER up to v5, as Kafka does.
//! - `preferred_read_replica` is -1 (no replica selector); no quotas (throttle time 0).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;
use kproto::messages::fetch::response::{
    AbortedTransaction, EpochEndOffset, FetchableTopicResponse, NodeEndpoint, PartitionData,
};
use kproto::messages::{FetchRequest, FetchResponse, ResponseBody};
use kproto::records::{Batches, RecordError};
use kproto::{ApiKey, ErrorCode, KStr, Uuid};

use super::core::{Broker, ConnectionId, Handled};
use super::offset_for_leader_epoch::{
    check_current_leader_epoch, end_offset_for_epoch, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET,
};
use crate::log::{Log, LogError};
use crate::storage::Storage;

/// Kafka's `FetchRequest.FUTURE_LOCAL_REPLICA_ID`.
const FUTURE_LOCAL_REPLICA_ID: i32 = -3;

/// Kafka's `FetchIsolation`: how far a fetch may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isolation {
    /// Up to the log end offset (replicas).
    LogEnd,
    /// Up to the high watermark (READ_UNCOMMITTED consumers).
    HighWatermark,
    /// Up to the last stable offset (READ_COMMITTED consumers).
    TxnCommitted,
}

impl Isolation {
    /// `FetchIsolation.of(replicaId, isolationLevel)`.
    fn of(replica_id: i32, isolation_level: i8) -> Self {
        let consumer = replica_id < 0 && replica_id != FUTURE_LOCAL_REPLICA_ID;
        if !consumer {
            Isolation::LogEnd
        } else if isolation_level == 1 {
            Isolation::TxnCommitted
        } else {
            Isolation::HighWatermark
        }
    }

    /// The offset a read under this isolation stops at.
    pub(crate) fn bound<S: Storage>(self, log: &Log<S>) -> u64 {
        match self {
            Isolation::LogEnd => log.log_end_offset(),
            Isolation::HighWatermark => log.high_watermark(),
            Isolation::TxnCommitted => log.last_stable_offset(),
        }
    }
}

/// One partition a fetch reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FetchPart {
    /// The topic's name.
    pub(crate) topic: String,
    /// The topic id the response carries (zero below v13).
    pub(crate) topic_id: Uuid,
    /// The partition.
    pub(crate) partition: i32,
    /// Where to read from.
    pub(crate) fetch_offset: i64,
    /// The client's current leader epoch, if it sent one.
    pub(crate) current_leader_epoch: Option<i32>,
    /// The epoch of the last batch the client fetched, if it sent one (v12+).
    pub(crate) last_fetched_epoch: Option<i32>,
    /// `partition_max_bytes`.
    pub(crate) max_bytes: i32,
}

/// A Fetch being answered, now or once it is satisfied or expires.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FetchOp {
    /// The connection it came on.
    pub(crate) conn: ConnectionId,
    /// The request's correlation id.
    pub(crate) correlation_id: i32,
    /// The request's version.
    pub(crate) version: i16,
    /// The fetching replica (-1 for a consumer).
    pub(crate) replica_id: i32,
    /// How far it reads.
    pub(crate) isolation: Isolation,
    /// The response's record byte limit (`min(max_bytes, fetch.max.bytes)`).
    pub(crate) max_bytes: i32,
    /// The bytes to wait for (at most `max_bytes`).
    pub(crate) min_bytes: i32,
    /// The partitions to read, in request order.
    pub(crate) parts: Vec<FetchPart>,
    /// The partitions answered without a read: topic name, topic id, answer.
    pub(crate) erroneous: Vec<(KStr, Uuid, PartitionData)>,
    /// When a delayed fetch is answered regardless (ms).
    pub(crate) deadline_ms: i64,
}

/// A log read that could not be done; the partition is answered with its error code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReadError {
    /// The log refused or failed the read.
    #[error(transparent)]
    Log(#[from] LogError),
    /// A negative size limit (Kafka's `LogSegment.read`: "Invalid max size").
    #[error("invalid max size {0} for a log read")]
    InvalidMaxSize(i32),
    /// The log gave bytes that are not record batches.
    #[error("the log returned bytes that are not record batches: {0}")]
    NotBatches(RecordError),
}

impl ReadError {
    /// Kafka's error code for it.
    pub(crate) fn error_code(&self) -> ErrorCode {
        match self {
            ReadError::Log(e) => e.error_code(),
            ReadError::InvalidMaxSize(_) => ErrorCode::UnknownServerError,
            ReadError::NotBatches(_) => ErrorCode::KafkaStorageError,
        }
    }
}

/// What `LogSegment.read` gives: the bytes, whether the first batch did not fit, and the
/// offset after the data (the upper bound for aborted transactions).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Slice {
    pub(crate) records: Vec<u8>,
    pub(crate) first_incomplete: bool,
    pub(crate) upper_bound: u64,
}

/// The base offset of the segment holding `offset` (0 when it is below every segment).
pub(crate) fn segment_of<S: Storage>(log: &Log<S>, offset: u64) -> u64 {
    log.segments()
        .map(|s| s.base_offset())
        .take_while(|b| *b <= offset)
        .last()
        .unwrap_or(0)
}

/// Kafka's `LocalLog.read` + `LogSegment.read`: the bytes from the batch holding `offset`,
/// at most `max_size` of them (at least the first batch when `min_one`), only batches wholly
/// below `bound`, and within one segment. Past the size limit the next batch is cut at the
/// limit, as Kafka's `FileRecords.slice` does.
pub(crate) fn slice<S: Storage>(
    log: &mut Log<S>,
    offset: i64,
    max_size: i32,
    bound: u64,
    min_one: bool,
) -> Result<Slice, ReadError> {
    let (start, end) = (log.log_start_offset(), log.log_end_offset());
    let out_of_range = || LogError::OffsetOutOfRange {
        offset: offset.max(0) as u64,
        log_start_offset: start,
        log_end_offset: end,
    };
    let Ok(at) = u64::try_from(offset) else {
        return Err(out_of_range().into());
    };
    if at < start || at > end {
        return Err(out_of_range().into());
    }
    if at >= bound {
        return Ok(Slice {
            upper_bound: at,
            ..Slice::default()
        });
    }
    let Ok(limit) = u32::try_from(max_size) else {
        return Err(ReadError::InvalidMaxSize(max_size));
    };
    let mut records = log.read(at, limit)?;
    let mut whole = 0usize;
    let mut first: Option<(usize, u64)> = None;
    let mut next = at;
    let mut cut_by_bound = false;
    for b in Batches::new(&records) {
        let b = b.map_err(ReadError::NotBatches)?;
        if b.last_offset() >= bound as i64 {
            cut_by_bound = true;
            break;
        }
        first.get_or_insert((b.size(), b.base_offset() as u64));
        whole += b.size();
        next = b.next_offset() as u64;
    }
    let Some((first_size, first_base)) = first else {
        return Ok(Slice {
            upper_bound: at,
            ..Slice::default()
        });
    };
    let adjusted = if min_one {
        (limit as usize).max(first_size)
    } else {
        limit as usize
    };
    if adjusted == 0 {
        return Ok(Slice {
            upper_bound: at,
            ..Slice::default()
        });
    }
    let first_incomplete = adjusted < first_size;
    records.truncate(whole.min(adjusted));
    let mut upper_bound = if adjusted < whole {
        // the limit falls inside a batch of what was read: offsets up to that batch's end
        let mut upto = at;
        let mut pos = 0usize;
        for b in Batches::new(&records).flatten() {
            pos += b.size();
            upto = b.next_offset() as u64;
        }
        if pos < records.len() {
            // the partial batch's end, read from its header
            upto = partial_end(&records[pos..]).unwrap_or(upto);
        }
        upto
    } else {
        next
    };
    if adjusted > whole
        && !cut_by_bound
        && next < bound
        && next < end
        && segment_of(log, next) == segment_of(log, first_base)
    {
        // the next batch of this segment did not fit: Kafka sends its first bytes
        let following = log.read(next, 0)?;
        if let Some(b) = Batches::new(&following).next() {
            let b = b.map_err(ReadError::NotBatches)?;
            if b.last_offset() < bound as i64 {
                let take = (adjusted - whole).min(b.size());
                records.extend_from_slice(&following[..take]);
                upper_bound = b.next_offset() as u64;
            }
        }
    }
    Ok(Slice {
        records,
        first_incomplete,
        upper_bound,
    })
}

/// The offset after a partial batch, from its header (base offset + last offset delta).
fn partial_end(partial: &[u8]) -> Option<u64> {
    use kproto::records::field;
    let base = i64::from_be_bytes(partial.get(field::BASE_OFFSET)?.try_into().ok()?);
    let delta = i32::from_be_bytes(partial.get(field::LAST_OFFSET_DELTA)?.try_into().ok()?);
    u64::try_from(base + i64::from(delta) + 1).ok()
}

/// The answer to a partition whose read failed (`createLogReadResult`).
fn read_error(partition: i32, error: ErrorCode) -> PartitionData {
    PartitionData {
        partition_index: partition,
        error_code: error.code(),
        high_watermark: -1,
        last_stable_offset: -1,
        log_start_offset: -1,
        aborted_transactions: None,
        records: Some(Bytes::new()),
        ..PartitionData::default()
    }
}

/// `FetchResponse.partitionResponse`: a partition answered without a read.
pub(crate) fn partition_response(partition: i32, error: ErrorCode) -> PartitionData {
    PartitionData {
        partition_index: partition,
        error_code: error.code(),
        high_watermark: -1,
        ..PartitionData::default()
    }
}

/// One partition's read: its answer, and whether it ended the wait (an error or a diverging
/// epoch).
struct PartRead {
    data: PartitionData,
    stops_wait: bool,
}

impl<S: Storage + Clone> Broker<S> {
    /// Handles a Fetch request: answers now, or returns [`Handled::Pending`] and answers from
    /// [`Broker::poll_completed`] once `min_bytes` are there or `max_wait_ms` passed.
    pub(crate) fn handle_fetch(
        &mut self,
        conn: ConnectionId,
        correlation_id: i32,
        version: i16,
        req: &FetchRequest,
        now_ms: i64,
    ) -> Handled {
        let key = ApiKey::Fetch.key();
        if version >= 7 && !matches!(req.session_epoch, 0 | -1) {
            // an incremental fetch: no session is ever cached here
            self.metrics.error(key, ErrorCode::FetchSessionIdNotFound);
            let resp = FetchResponse {
                error_code: ErrorCode::FetchSessionIdNotFound.code(),
                session_id: 0,
                ..FetchResponse::default()
            };
            return self.respond(correlation_id, version, ResponseBody::Fetch(Box::new(resp)));
        }
        let replica_id = if version >= 15 {
            req.replica_state.replica_id
        } else {
            req.replica_id
        };
        let (parts, erroneous) = self.resolve_fetch(req, version);
        if !parts.is_empty() && !matches!(req.isolation_level, 0 | 1) {
            // IsolationLevel.forId throws: FetchRequest.getErrorResponse
            return self.fetch_error_response(req, version, correlation_id);
        }
        let max_bytes = req.max_bytes.min(self.config.fetch_max_bytes);
        let mut op = FetchOp {
            conn,
            correlation_id,
            version,
            replica_id,
            isolation: Isolation::of(replica_id, req.isolation_level),
            max_bytes,
            min_bytes: req.min_bytes.min(max_bytes),
            parts,
            erroneous,
            deadline_ms: now_ms.saturating_add(i64::from(req.max_wait_ms.max(0))),
        };
        self.metrics.total_fetch_requests += op.parts.len() as u64;
        let (reads, bytes, stops_wait) = self.read_fetch(&op);
        let now = req.max_wait_ms <= 0
            || op.parts.is_empty()
            || bytes >= i64::from(op.min_bytes)
            || stops_wait;
        if now {
            return self.fetch_response(&op, reads);
        }
        if self.fetch_satisfied(&op) {
            let (reads, _, _) = self.read_fetch(&op);
            return self.fetch_response(&op, reads);
        }
        op.erroneous.shrink_to_fit();
        self.delayed_fetches.push(op);
        self.metrics.delayed_fetches = self.delayed_fetches.len() as u64;
        Handled::Pending
    }

    /// The partitions of `req`: to read, and answered without a read (unknown topic id,
    /// unknown topic or partition), deduplicated as Kafka's `LinkedHashMap` does.
    fn resolve_fetch(
        &self,
        req: &FetchRequest,
        version: i16,
    ) -> (Vec<FetchPart>, Vec<(KStr, Uuid, PartitionData)>) {
        type Key = (Uuid, Option<String>, i32);
        let mut order: Vec<(Key, FetchPart)> = Vec::new();
        let mut index: BTreeMap<Key, usize> = BTreeMap::new();
        for t in &req.topics {
            let (name, id) = if version >= 13 {
                (
                    self.meta.topic_name(t.topic_id).map(String::from),
                    t.topic_id,
                )
            } else {
                (Some(String::from(t.topic.as_str())), Uuid::ZERO)
            };
            for p in &t.partitions {
                let part = FetchPart {
                    topic: name.clone().unwrap_or_default(),
                    topic_id: id,
                    partition: p.partition,
                    fetch_offset: p.fetch_offset,
                    current_leader_epoch: (p.current_leader_epoch >= 0)
                        .then_some(p.current_leader_epoch),
                    last_fetched_epoch: (version >= 12 && p.last_fetched_epoch >= 0)
                        .then_some(p.last_fetched_epoch),
                    max_bytes: p.partition_max_bytes,
                };
                let key = (id, name.clone(), p.partition);
                match index.get(&key) {
                    Some(&i) => order[i].1 = part,
                    None => {
                        index.insert(key.clone(), order.len());
                        order.push((key, part));
                    }
                }
            }
        }
        let mut parts = Vec::new();
        let mut erroneous = Vec::new();
        for ((id, name, partition), part) in order {
            let Some(name) = name else {
                erroneous.push((
                    KStr::new(),
                    id,
                    partition_response(partition, ErrorCode::UnknownTopicId),
                ));
                continue;
            };
            let known = self
                .meta
                .topics
                .get(&name)
                .is_some_and(|t| partition >= 0 && partition < t.partitions);
            if known {
                parts.push(part);
            } else {
                erroneous.push((
                    KStr::from(name.as_str()),
                    id,
                    partition_response(partition, ErrorCode::UnknownTopicOrPartition),
                ));
            }
        }
        (parts, erroneous)
    }

    /// `readFromLog`: every partition in order, sharing the response's byte limit. Returns
    /// the answers, the record bytes read and whether a partition ends the wait.
    pub(crate) fn read_fetch(&mut self, op: &FetchOp) -> (Vec<PartitionData>, i64, bool) {
        let mut limit = op.max_bytes;
        let mut min_one = true;
        let mut bytes = 0i64;
        let mut stops_wait = false;
        let mut out = Vec::with_capacity(op.parts.len());
        for part in &op.parts {
            let r = self.read_partition(op, part, limit, min_one);
            let size = r.data.records.as_ref().map_or(0, Bytes::len);
            if size > 0 {
                min_one = false;
            }
            limit = limit.saturating_sub(size as i32).max(0);
            bytes += size as i64;
            stops_wait |= r.stops_wait;
            out.push(r.data);
        }
        (out, bytes, stops_wait)
    }

    /// One partition of `readFromLog` (`read` there, `Partition.fetchRecords`, `readRecords`).
    fn read_partition(
        &mut self,
        op: &FetchOp,
        part: &FetchPart,
        limit: i32,
        min_one: bool,
    ) -> PartRead {
        let p = part.partition;
        let fail = |e: ErrorCode| PartRead {
            data: read_error(p, e),
            stops_wait: true,
        };
        let known = self
            .meta
            .topics
            .get(&part.topic)
            .is_some_and(|t| p >= 0 && p < t.partitions);
        let Some(log) = self.logs.log_mut(&part.topic, p) else {
            return fail(if known {
                ErrorCode::NotLeaderOrFollower
            } else {
                ErrorCode::UnknownTopicOrPartition
            });
        };
        if log.is_failed() {
            return fail(ErrorCode::KafkaStorageError);
        }
        if let Err(e) = check_current_leader_epoch(log.leader_epoch(), part.current_leader_epoch) {
            return fail(e);
        }
        if op.replica_id >= 0 {
            // Partition.followerReplicaOrThrow: no replica of this partition but the leader
            return fail(if part.current_leader_epoch.is_some() {
                ErrorCode::UnknownLeaderEpoch
            } else {
                ErrorCode::NotLeaderOrFollower
            });
        }
        let hw = log.high_watermark() as i64;
        let log_start = log.log_start_offset() as i64;
        let lso = log.last_stable_offset() as i64;
        let ok = |records: Vec<u8>, aborted: Option<Vec<AbortedTransaction>>| PartitionData {
            partition_index: p,
            error_code: ErrorCode::None.code(),
            high_watermark: hw,
            last_stable_offset: lso,
            log_start_offset: log_start,
            aborted_transactions: aborted,
            preferred_read_replica: -1,
            records: Some(Bytes::from(records)),
            ..PartitionData::default()
        };
        if let Some(fetch_epoch) = part.last_fetched_epoch {
            let (epoch, end) = end_offset_for_epoch(log, fetch_epoch);
            if end == UNDEFINED_EPOCH_OFFSET || epoch == UNDEFINED_EPOCH {
                return fail(ErrorCode::OffsetOutOfRange);
            }
            if part.fetch_offset < log_start {
                return fail(ErrorCode::OffsetOutOfRange);
            }
            if epoch < fetch_epoch || end < part.fetch_offset {
                let mut data = ok(Vec::new(), None);
                data.diverging_epoch = EpochEndOffset {
                    epoch,
                    end_offset: end,
                    ..EpochEndOffset::default()
                };
                return PartRead {
                    data,
                    stops_wait: true,
                };
            }
        }
        let bound = op.isolation.bound(log);
        let max = part.max_bytes.min(limit);
        match slice(log, part.fetch_offset, max, bound, min_one) {
            Err(e) => fail(e.error_code()),
            Ok(s) if !min_one && s.first_incomplete => {
                // RecordTooLarge is not reported from v3: nothing for this partition
                PartRead {
                    data: ok(Vec::new(), None),
                    stops_wait: false,
                }
            }
            Ok(s) => {
                let aborted = (op.isolation == Isolation::TxnCommitted).then(|| {
                    let from = part.fetch_offset.max(0) as u64;
                    if s.records.is_empty() {
                        Vec::new()
                    } else {
                        log.aborted_transactions(from, s.upper_bound)
                            .into_iter()
                            .map(|t| AbortedTransaction {
                                producer_id: t.producer_id,
                                first_offset: t.first_offset,
                                ..AbortedTransaction::default()
                            })
                            .collect()
                    }
                });
                PartRead {
                    data: ok(s.records, aborted),
                    stops_wait: false,
                }
            }
        }
    }

    /// Frames the answer of `op` from its partitions' reads (`processResponseCallback`).
    pub(crate) fn fetch_response(&mut self, op: &FetchOp, reads: Vec<PartitionData>) -> Handled {
        let body = self.fetch_body(op, reads);
        self.respond(
            op.correlation_id,
            op.version,
            ResponseBody::Fetch(Box::new(body)),
        )
    }

    /// The response body of `op` from its partitions' reads.
    pub(crate) fn fetch_body(&mut self, op: &FetchOp, reads: Vec<PartitionData>) -> FetchResponse {
        let key = ApiKey::Fetch.key();
        let v = op.version;
        let mut leader_named = false;
        let mut entries: Vec<(KStr, Uuid, PartitionData)> = Vec::with_capacity(reads.len());
        for (part, mut data) in op.parts.iter().zip(reads) {
            let mut code =
                ErrorCode::from_code(data.error_code).unwrap_or(ErrorCode::UnknownServerError);
            if code == ErrorCode::KafkaStorageError && v <= 5 {
                code = ErrorCode::NotLeaderOrFollower;
                data.error_code = code.code();
            }
            if v >= 16
                && matches!(
                    code,
                    ErrorCode::NotLeaderOrFollower | ErrorCode::FencedLeaderEpoch
                )
            {
                data.current_leader.leader_id = self.config.node_id;
                data.current_leader.leader_epoch = self
                    .logs
                    .log(&part.topic, part.partition)
                    .map_or(-1, Log::leader_epoch);
                leader_named = true;
            }
            if v < 10 && self.topic_compression(&part.topic) == "zstd" {
                data = partition_response(part.partition, ErrorCode::UnsupportedCompressionType);
            }
            entries.push((KStr::from(part.topic.as_str()), part.topic_id, data));
        }
        for (name, id, data) in &op.erroneous {
            let mut data = data.clone();
            // maybeConvertFetchedData: records become empty, not null
            data.records = Some(Bytes::new());
            entries.push((name.clone(), *id, data));
        }
        let mut responses: Vec<FetchableTopicResponse> = Vec::new();
        for (name, id, data) in entries {
            self.metrics.error(
                key,
                ErrorCode::from_code(data.error_code).unwrap_or(ErrorCode::UnknownServerError),
            );
            self.metrics.bytes_out += data.records.as_ref().map_or(0, Bytes::len) as u64;
            match responses.last_mut() {
                Some(t) if t.topic == name && t.topic_id == id => t.partitions.push(data),
                _ => responses.push(FetchableTopicResponse {
                    topic: name,
                    topic_id: id,
                    partitions: alloc::vec![data],
                    ..FetchableTopicResponse::default()
                }),
            }
        }
        let mut node_endpoints = Vec::new();
        if leader_named {
            let (host, port) = self.advertised();
            node_endpoints.push(NodeEndpoint {
                node_id: self.config.node_id,
                host: KStr::from(host),
                port,
                rack: None,
                ..NodeEndpoint::default()
            });
        }
        FetchResponse {
            throttle_time_ms: 0,
            error_code: ErrorCode::None.code(),
            session_id: 0,
            responses,
            node_endpoints,
            ..FetchResponse::default()
        }
    }

    /// The topic's effective `compression.type`.
    fn topic_compression(&self, topic: &str) -> &str {
        self.meta
            .topics
            .get(topic)
            .and_then(|t| {
                t.configs
                    .overrides()
                    .find(|(k, _)| *k == "compression.type")
                    .map(|(_, v)| v)
            })
            .unwrap_or(self.config.compression_type.as_str())
    }

    /// `FetchRequest.getErrorResponse` for UNKNOWN_SERVER_ERROR: the same error in every
    /// partition below v13, only at the top level from v13.
    fn fetch_error_response(&mut self, req: &FetchRequest, version: i16, corr: i32) -> Handled {
        let error = ErrorCode::UnknownServerError;
        self.metrics.error(ApiKey::Fetch.key(), error);
        let responses = if version < 13 {
            req.topics
                .iter()
                .map(|t| FetchableTopicResponse {
                    topic: t.topic.clone(),
                    topic_id: t.topic_id,
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| partition_response(p.partition, error))
                        .collect(),
                    ..FetchableTopicResponse::default()
                })
                .collect()
        } else {
            Vec::new()
        };
        let resp = FetchResponse {
            error_code: error.code(),
            session_id: req.session_id,
            responses,
            ..FetchResponse::default()
        };
        self.respond(corr, version, ResponseBody::Fetch(Box::new(resp)))
    }
}
