//! DeleteRecords (key 21, v0–v2), as Kafka 4.4.0's `KafkaApis.handleDeleteRecordsRequest` and
//! `ReplicaManager.deleteRecordsOnLocalLog` answer it on the leader of every partition (this
//! node, with no other replica, so the answer is not delayed).
//!
//! Per partition: an unknown topic or partition is UNKNOWN_TOPIC_OR_PARTITION; the offset -1
//! means the high watermark; another negative offset, or one above the high watermark, is
//! OFFSET_OUT_OF_RANGE; otherwise the log start offset moves up to the offset
//! (`Log::increment_log_start_offset`, which never moves it down) and the answer's
//! `low_watermark` is the log start offset then. A failed answer has `low_watermark` -1.

use alloc::vec::Vec;

use kproto::messages::delete_records::response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kproto::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use kproto::{ApiKey, ErrorCode};

use super::core::Broker;
use crate::storage::Storage;

/// DeleteRecords' offset meaning "the high watermark" (`DeleteRecordsRequest.HIGH_WATERMARK`).
const HIGH_WATERMARK: i64 = -1;
/// The low watermark of a failed answer (`DeleteRecordsResponse.INVALID_LOW_WATERMARK`).
const INVALID_LOW_WATERMARK: i64 = -1;

impl<S: Storage + Clone> Broker<S> {
    /// DeleteRecords: the answer, topics and partitions in request order.
    pub(crate) fn handle_delete_records(
        &mut self,
        req: &DeleteRecordsRequest,
    ) -> DeleteRecordsResponse {
        let mut topics = Vec::with_capacity(req.topics.len());
        for t in &req.topics {
            let mut partitions = Vec::with_capacity(t.partitions.len());
            for p in &t.partitions {
                let (code, low) =
                    match self.delete_records_of(t.name.as_str(), p.partition_index, p.offset) {
                        Ok(low) => (ErrorCode::None, low),
                        Err(code) => {
                            self.metrics.error(ApiKey::DeleteRecords.key(), code);
                            (code, INVALID_LOW_WATERMARK)
                        }
                    };
                partitions.push(DeleteRecordsPartitionResult {
                    partition_index: p.partition_index,
                    low_watermark: low,
                    error_code: code.code(),
                    ..DeleteRecordsPartitionResult::default()
                });
            }
            topics.push(DeleteRecordsTopicResult {
                name: t.name.clone(),
                partitions,
                ..DeleteRecordsTopicResult::default()
            });
        }
        DeleteRecordsResponse {
            topics,
            ..DeleteRecordsResponse::default()
        }
    }

    /// One partition: the new low watermark, or the error.
    fn delete_records_of(
        &mut self,
        topic: &str,
        partition: i32,
        offset: i64,
    ) -> Result<i64, ErrorCode> {
        let known = self
            .meta
            .topics
            .get(topic)
            .is_some_and(|t| (0..t.partitions).contains(&partition));
        let log = match self.logs.log_mut(topic, partition) {
            Some(log) if known => log,
            _ => return Err(ErrorCode::UnknownTopicOrPartition),
        };
        let hw = log.high_watermark();
        let target = match offset {
            HIGH_WATERMARK => hw,
            o if o < 0 => return Err(ErrorCode::OffsetOutOfRange),
            o => o as u64,
        };
        if target > hw {
            return Err(ErrorCode::OffsetOutOfRange);
        }
        log.increment_log_start_offset(target)
            .map_err(|e| e.error_code())?;
        Ok(log.log_start_offset() as i64)
    }
}
