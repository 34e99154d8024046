//! ListOffsets v1–v11 (Kafka's `KafkaApis.handleListOffsetRequestV1AndAbove`,
//! `ReplicaManager.fetchOffset`, `Partition.fetchOffsetForTimestamp` and
//! `UnifiedLog.fetchOffsetByTimestamp`) for a partition leader without tiered storage.
//!
//! Per partition, by the request's timestamp:
//! - LATEST (-1): the last fetchable offset, which for a consumer (`replica_id` -1) is the high
//!   watermark, or the last stable offset under READ_COMMITTED; for any other replica id the
//!   log end offset. Its leader epoch is the partition's.
//! - EARLIEST (-2) and EARLIEST_LOCAL (-4, v8+): the log start offset (no tiers: the local log
//!   starts there), with the epoch of the first epoch entry.
//! - LATEST_TIERED (-5, v9+) and EARLIEST_PENDING_UPLOAD (-6, v11+): offset -1 and epoch -1,
//!   what Kafka answers for a topic without remote storage.
//! - MAX_TIMESTAMP (-3, v7+): the record with the largest timestamp (the first of them), with
//!   its batch's leader epoch.
//! - A timestamp >= 0: the first record at or after it, with its batch's leader epoch.
//!
//! A found offset at or past the last fetchable offset (a record not yet committed or stable)
//! is answered with offset -1 and timestamp -1 and no error, as Kafka does; so is a timestamp
//! no record reaches. A special timestamp the version does not know, or one Kafka does not
//! define, is UNSUPPORTED_VERSION; a partition named twice is INVALID_REQUEST (once in the
//! response). Partitions are answered grouped by topic in the order first asked (Kafka's order
//! is a hash map's). An isolation level other than 0 or 1 makes Kafka's
//! `IsolationLevel.forId` throw: every partition gets UNKNOWN_SERVER_ERROR.
//!
//! Deviation: `OFFSET_NOT_AVAILABLE` (a new leader whose high watermark lags the start of its
//! epoch) cannot arise: the one epoch starts at or below the high watermark.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use kproto::messages::list_offsets::request::ListOffsetsPartition;
use kproto::messages::list_offsets::response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kproto::messages::{ListOffsetsRequest, ListOffsetsResponse};
use kproto::records::Batches;
use kproto::{ErrorCode, KStr};

use super::core::Broker;
use super::offset_for_leader_epoch::{check_current_leader_epoch, UNDEFINED_EPOCH};
use crate::index::{TimestampOffset, NO_TIMESTAMP};
use crate::log::{ListOffsetsTimestamp, Log, LogError};
use crate::storage::Storage;

/// LATEST_TIMESTAMP.
pub(crate) const LATEST: i64 = -1;
/// EARLIEST_TIMESTAMP.
pub(crate) const EARLIEST: i64 = -2;
/// MAX_TIMESTAMP.
pub(crate) const MAX_TIMESTAMP: i64 = -3;
/// EARLIEST_LOCAL_TIMESTAMP.
pub(crate) const EARLIEST_LOCAL: i64 = -4;
/// LATEST_TIERED_TIMESTAMP.
pub(crate) const LATEST_TIERED: i64 = -5;
/// EARLIEST_PENDING_UPLOAD_TIMESTAMP.
pub(crate) const EARLIEST_PENDING_UPLOAD: i64 = -6;

/// `ReplicaManager.timestampMinSupportedVersion`: the first version that may ask for a
/// special (negative) timestamp; `None` for values Kafka does not define.
pub(crate) fn min_version_of(timestamp: i64) -> Option<i16> {
    match timestamp {
        EARLIEST | LATEST => Some(1),
        MAX_TIMESTAMP => Some(7),
        EARLIEST_LOCAL => Some(8),
        LATEST_TIERED => Some(9),
        EARLIEST_PENDING_UPLOAD => Some(11),
        _ => None,
    }
}

/// What one partition's lookup found: `(timestamp, offset, leader epoch)`.
type Found = (i64, i64, i32);

fn error_response(partition: i32, error: ErrorCode) -> ListOffsetsPartitionResponse {
    ListOffsetsPartitionResponse {
        partition_index: partition,
        error_code: error.code(),
        timestamp: -1,
        offset: -1,
        ..ListOffsetsPartitionResponse::default()
    }
}

/// The leader epoch of the batch holding `offset` (`None` when it carries none).
fn batch_epoch<S: Storage>(log: &mut Log<S>, offset: u64) -> Result<Option<i32>, LogError> {
    let data = log.read(offset, 0)?;
    Ok(Batches::new(&data)
        .next()
        .and_then(Result::ok)
        .map(|b| b.partition_leader_epoch())
        .filter(|e| *e >= 0))
}

/// `UnifiedLog.fetchOffsetByTimestamp` for a timestamp that is not LATEST (`None`: no
/// record qualifies).
fn lookup<S: Storage>(log: &mut Log<S>, timestamp: i64) -> Result<Option<Found>, LogError> {
    let epoch = log.leader_epoch();
    match timestamp {
        EARLIEST | EARLIEST_LOCAL => Ok(Some((NO_TIMESTAMP, log.log_start_offset() as i64, epoch))),
        LATEST_TIERED | EARLIEST_PENDING_UPLOAD => Ok(Some((NO_TIMESTAMP, -1, UNDEFINED_EPOCH))),
        _ => {
            let which = if timestamp == MAX_TIMESTAMP {
                ListOffsetsTimestamp::MaxTimestamp
            } else {
                ListOffsetsTimestamp::At(timestamp)
            };
            match log.fetch_offset_by_timestamp(which)? {
                Some(TimestampOffset { timestamp, offset }) => {
                    let epoch = batch_epoch(log, offset)?.unwrap_or(UNDEFINED_EPOCH);
                    Ok(Some((timestamp, offset as i64, epoch)))
                }
                None => Ok(None),
            }
        }
    }
}

impl<S: Storage + Clone> Broker<S> {
    /// Answers ListOffsets at `version` (1–11); returns each partition's error code too, for
    /// the metrics.
    pub(crate) fn handle_list_offsets(
        &mut self,
        req: &ListOffsetsRequest,
        version: i16,
    ) -> (ListOffsetsResponse, Vec<ErrorCode>) {
        let mut errors = Vec::new();
        if !matches!(req.isolation_level, 0 | 1) && !req.topics.is_empty() {
            let topics = req
                .topics
                .iter()
                .map(|t| ListOffsetsTopicResponse {
                    name: t.name.clone(),
                    partitions: t
                        .partitions
                        .iter()
                        .map(|p| {
                            errors.push(ErrorCode::UnknownServerError);
                            error_response(p.partition_index, ErrorCode::UnknownServerError)
                        })
                        .collect(),
                    ..ListOffsetsTopicResponse::default()
                })
                .collect();
            return (
                ListOffsetsResponse {
                    topics,
                    ..ListOffsetsResponse::default()
                },
                errors,
            );
        }
        // ListOffsetsRequest.duplicatePartitions
        let mut seen = BTreeSet::new();
        let mut duplicates = BTreeSet::new();
        for t in &req.topics {
            for p in &t.partitions {
                if !seen.insert((t.name.as_str(), p.partition_index)) {
                    duplicates.insert((t.name.as_str(), p.partition_index));
                }
            }
        }
        let mut topics: Vec<ListOffsetsTopicResponse> = Vec::new();
        let mut answered = BTreeSet::new();
        for t in &req.topics {
            for p in &t.partitions {
                let key = (t.name.as_str(), p.partition_index);
                let resp = if duplicates.contains(&key) {
                    error_response(p.partition_index, ErrorCode::InvalidRequest)
                } else {
                    self.list_partition_offset(t.name.as_str(), p, req, version)
                };
                // a partition named twice has one entry, as in Kafka's map
                if !answered.insert(key) {
                    continue;
                }
                errors.push(
                    ErrorCode::from_code(resp.error_code).unwrap_or(ErrorCode::UnknownServerError),
                );
                match topics.iter_mut().find(|r| r.name == t.name) {
                    Some(r) => r.partitions.push(resp),
                    None => topics.push(ListOffsetsTopicResponse {
                        name: KStr::from(t.name.as_str()),
                        partitions: alloc::vec![resp],
                        ..ListOffsetsTopicResponse::default()
                    }),
                }
            }
        }
        (
            ListOffsetsResponse {
                topics,
                ..ListOffsetsResponse::default()
            },
            errors,
        )
    }

    fn list_partition_offset(
        &mut self,
        topic: &str,
        p: &ListOffsetsPartition,
        req: &ListOffsetsRequest,
        version: i16,
    ) -> ListOffsetsPartitionResponse {
        let index = p.partition_index;
        let ts = p.timestamp;
        if ts < 0 && min_version_of(ts).is_none_or(|min| version < min) {
            return error_response(index, ErrorCode::UnsupportedVersion);
        }
        let Some(log) = self.logs.log_mut(topic, index) else {
            return error_response(index, ErrorCode::UnknownTopicOrPartition);
        };
        if log.is_failed() {
            return error_response(index, ErrorCode::KafkaStorageError);
        }
        let current = (p.current_leader_epoch != UNDEFINED_EPOCH).then_some(p.current_leader_epoch);
        if let Err(e) = check_current_leader_epoch(log.leader_epoch(), current) {
            return error_response(index, e);
        }
        // a consumer reads up to the high watermark or last stable offset; other replica ids
        // (-2, the debugging consumer, or a broker) up to the log end
        let last_fetchable = if req.replica_id == -1 {
            if req.isolation_level == 1 {
                log.last_stable_offset()
            } else {
                log.high_watermark()
            }
        } else {
            log.log_end_offset()
        } as i64;
        let found = if ts == LATEST {
            Ok(Some((NO_TIMESTAMP, last_fetchable, log.leader_epoch())))
        } else {
            lookup(log, ts)
        };
        let (timestamp, offset, epoch) = match found {
            Err(e) => return error_response(index, e.error_code()),
            Ok(None) => return error_response(index, ErrorCode::None),
            Ok(Some(f)) => f,
        };
        let bounded = !matches!(ts, LATEST | EARLIEST | EARLIEST_LOCAL);
        if bounded && offset >= last_fetchable {
            return error_response(index, ErrorCode::None);
        }
        ListOffsetsPartitionResponse {
            partition_index: index,
            error_code: ErrorCode::None.code(),
            timestamp,
            offset,
            leader_epoch: if version >= 4 { epoch } else { -1 },
            ..ListOffsetsPartitionResponse::default()
        }
    }
}
