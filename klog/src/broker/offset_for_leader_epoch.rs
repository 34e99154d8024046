//! OffsetForLeaderEpoch v2–v4 (Kafka's `KafkaApis.handleOffsetForLeaderEpochRequest`,
//! `ReplicaManager.lastOffsetForLeaderEpoch` and `Partition.lastOffsetForLeaderEpoch`), and
//! the leader epoch rules Fetch and ListOffsets share with it.
//!
//! klog keeps no leader epoch cache (`leader-epoch-checkpoint`): a partition has one epoch, the
//! log's [`Log::leader_epoch`], taken to cover every offset from the log start offset on (what
//! Kafka's cache holds for a partition that never changed leader, once truncated to the log
//! start offset). `LeaderEpochFileCache.endOffsetFor` over that one entry is: the current
//! epoch → the log end offset; an older epoch → that epoch and the log start offset (the start
//! of the first later epoch); a newer one, or -1 → UNDEFINED_EPOCH (-1) and
//! UNDEFINED_EPOCH_OFFSET (-1).
//!
//! A `current_leader_epoch` other than -1 is checked as `Partition.checkCurrentLeaderEpoch`
//! does: older than the partition's is FENCED_LEADER_EPOCH, newer is UNKNOWN_LEADER_EPOCH.

use alloc::vec::Vec;

use kproto::messages::offset_for_leader_epoch::response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kproto::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};
use kproto::ErrorCode;

use super::core::Broker;
use crate::log::Log;
use crate::storage::Storage;

/// Kafka's `RecordBatch.NO_PARTITION_LEADER_EPOCH` / `UNDEFINED_EPOCH`.
pub(crate) const UNDEFINED_EPOCH: i32 = -1;
/// Kafka's `UNDEFINED_EPOCH_OFFSET`.
pub(crate) const UNDEFINED_EPOCH_OFFSET: i64 = -1;

/// `Partition.checkCurrentLeaderEpoch`: `requested` is the client's current leader epoch
/// (`None` when it sent none).
pub(crate) fn check_current_leader_epoch(
    partition_epoch: i32,
    requested: Option<i32>,
) -> Result<(), ErrorCode> {
    match requested {
        Some(e) if partition_epoch > e => Err(ErrorCode::FencedLeaderEpoch),
        Some(e) if partition_epoch < e => Err(ErrorCode::UnknownLeaderEpoch),
        _ => Ok(()),
    }
}

/// `LeaderEpochFileCache.endOffsetFor(requested, logEndOffset)` over the log's one epoch:
/// `(epoch, end offset)`, `(-1, -1)` when undefined.
pub(crate) fn end_offset_for_epoch<S: Storage>(log: &Log<S>, requested: i32) -> (i32, i64) {
    let current = log.leader_epoch();
    if requested == UNDEFINED_EPOCH || requested > current {
        (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET)
    } else if requested == current {
        (current, log.log_end_offset() as i64)
    } else {
        // older than every epoch known: the start offset of the first later one
        (requested, log.log_start_offset() as i64)
    }
}

impl<S: Storage + Clone> Broker<S> {
    /// Answers OffsetForLeaderEpoch: per partition the end offset of the requested epoch, in
    /// request order. Partitions this broker does not host are UNKNOWN_TOPIC_OR_PARTITION, a
    /// failed log KAFKA_STORAGE_ERROR. Returns the error codes too, for the metrics.
    pub(crate) fn handle_offset_for_leader_epoch(
        &mut self,
        req: &OffsetForLeaderEpochRequest,
    ) -> (OffsetForLeaderEpochResponse, Vec<ErrorCode>) {
        let mut errors = Vec::new();
        let topics = req
            .topics
            .iter()
            .map(|t| OffsetForLeaderTopicResult {
                topic: t.topic.clone(),
                partitions: t
                    .partitions
                    .iter()
                    .map(|p| {
                        let current = (p.current_leader_epoch != UNDEFINED_EPOCH)
                            .then_some(p.current_leader_epoch);
                        let mut out = EpochEndOffset {
                            partition: p.partition,
                            ..EpochEndOffset::default()
                        };
                        match self.logs.log(t.topic.as_str(), p.partition) {
                            None => out.error_code = ErrorCode::UnknownTopicOrPartition.code(),
                            Some(log) if log.is_failed() => {
                                out.error_code = ErrorCode::KafkaStorageError.code()
                            }
                            Some(log) => {
                                match check_current_leader_epoch(log.leader_epoch(), current) {
                                    Err(e) => out.error_code = e.code(),
                                    Ok(()) => {
                                        let (epoch, end) =
                                            end_offset_for_epoch(log, p.leader_epoch);
                                        if end != UNDEFINED_EPOCH_OFFSET {
                                            out.leader_epoch = epoch;
                                            out.end_offset = end;
                                        }
                                    }
                                }
                            }
                        }
                        errors.push(
                            ErrorCode::from_code(out.error_code)
                                .unwrap_or(ErrorCode::UnknownServerError),
                        );
                        out
                    })
                    .collect(),
                ..OffsetForLeaderTopicResult::default()
            })
            .collect();
        (
            OffsetForLeaderEpochResponse {
                topics,
                ..OffsetForLeaderEpochResponse::default()
            },
            errors,
        )
    }
}
