//! Produce v3–v13 (Kafka's `KafkaApis.handleProduceRequest` → `ReplicaManager.appendRecords`
//! → `Partition.appendRecordsToLeader` → `UnifiedLog.appendAsLeader`), for a broker that is the
//! only replica of every partition.
//!
//! Per partition, in Kafka's order:
//! 1. the topic: by name (v3–v12) or by topic id (v13+); an unknown topic or partition is
//!    UNKNOWN_TOPIC_OR_PARTITION (an unknown id UNKNOWN_TOPIC_ID);
//! 2. `ProduceRequest.validateRecords`: exactly one record batch of magic 2
//!    (INVALID_RECORD otherwise, CORRUPT_MESSAGE for a size below the minimum overhead), no
//!    zstd below v7 (UNSUPPORTED_COMPRESSION_TYPE);
//! 3. `acks` other than 0, 1 and −1: INVALID_REQUIRED_ACKS;
//! 4. acks=−1 on a topic whose `min.insync.replicas` exceeds the one replica:
//!    NOT_ENOUGH_REPLICAS, nothing appended;
//! 5. the append ([`crate::Log::append`]: Kafka's `LogValidator` rules — CRC, sizes against
//!    `max.message.bytes`, timestamps, the idempotent producer's sequence and epoch, duplicates
//!    answered with their original offsets), after which the high watermark is the log end
//!    offset (the in-sync replica set is this broker alone).
//!
//! Transactional batches: a request carrying them without a transactional id is refused
//! whole with TRANSACTIONAL_ID_AUTHORIZATION_FAILED, as Kafka does. With a transactional id
//! the partition cannot have been added to a transaction (this broker has no transaction
//! coordinator, and InitProducerId refuses transactional ids), which is what Kafka's
//! partition verification answers with INVALID_TXN_STATE.
//!
//! acks=0: no response; if any partition failed, the connection is closed so that the
//! producer notices (Kafka's `closeConnection`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kproto::messages::produce::response::{
    BatchIndexAndErrorMessage, PartitionProduceResponse, TopicProduceResponse,
};
use kproto::messages::{ProduceRequest, ProduceResponse};
use kproto::records::{field, Attributes, Compression};
use kproto::{ErrorCode, KStr, Uuid};

use super::core::Broker;
use super::BrokerEvent;
use crate::log::AppendError;
use crate::storage::Storage;

/// Kafka's `Records.HEADER_SIZE_UP_TO_MAGIC`: a batch shorter than this is not one.
const HEADER_SIZE_UP_TO_MAGIC: usize = field::MAGIC.end;
/// Kafka's `LegacyRecord.RECORD_OVERHEAD_V0`: the smallest size a batch may declare.
const MIN_RECORD_OVERHEAD: i32 = 14;
/// Kafka's `Records.LOG_OVERHEAD`: base offset and size.
const LOG_OVERHEAD: usize = field::BATCH_LENGTH.end;

/// One failed partition of a Produce request, for the metrics and the acks=0 close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProduceFailure {
    pub topic: String,
    pub partition: i32,
    pub error: ErrorCode,
}

/// What a partition's append came to.
struct Outcome {
    error: ErrorCode,
    base_offset: i64,
    log_append_time_ms: i64,
    log_start_offset: i64,
    record_errors: Vec<BatchIndexAndErrorMessage>,
    message: Option<String>,
}

impl Outcome {
    fn failed(error: ErrorCode, message: Option<String>) -> Self {
        Outcome {
            error,
            base_offset: -1,
            log_append_time_ms: -1,
            log_start_offset: -1,
            record_errors: Vec::new(),
            message,
        }
    }
}

/// The first batch's header fields `validateRecords` reads, or why the bytes are refused.
fn validate_records(version: i16, records: &[u8]) -> Result<(), (ErrorCode, String)> {
    let invalid = |m: String| Err((ErrorCode::InvalidRecord, m));
    // Kafka's ByteBufferLogInputStream.nextBatch: fewer bytes than a header up to the magic,
    // or than the size declares, is no batch at all.
    let batch_at = |at: usize| -> Result<Option<usize>, (ErrorCode, String)> {
        let rest = &records[at..];
        if rest.len() < HEADER_SIZE_UP_TO_MAGIC {
            return Ok(None);
        }
        let size = i32::from_be_bytes([rest[8], rest[9], rest[10], rest[11]]);
        if size < MIN_RECORD_OVERHEAD {
            return Err((
                ErrorCode::CorruptMessage,
                format!("Record size {size} is less than the minimum record overhead ({MIN_RECORD_OVERHEAD})"),
            ));
        }
        let total = size as usize + LOG_OVERHEAD;
        Ok((rest.len() >= total).then_some(total))
    };
    let Some(first) = batch_at(0)? else {
        return invalid(format!(
            "Produce requests with version {version} must have at least one record batch per partition"
        ));
    };
    if records[field::MAGIC.start] != 2 {
        return invalid(format!(
            "Produce requests with version {version} are only allowed to contain record batches with magic version 2"
        ));
    }
    let attrs = Attributes(u16::from_be_bytes([
        records[field::ATTRIBUTES.start],
        records[field::ATTRIBUTES.start + 1],
    ]));
    if version < 7 && attrs.compression() == Some(Compression::Zstd) {
        return Err((
            ErrorCode::UnsupportedCompressionType,
            format!("Produce requests with version {version} are not allowed to use ZStandard compression"),
        ));
    }
    if batch_at(first)?.is_some() {
        return invalid(format!(
            "Produce requests with version {version} are only allowed to contain exactly one record batch per partition"
        ));
    }
    Ok(())
}

/// Whether the request carries a transactional batch (Kafka's
/// `RequestUtils.hasTransactionalRecords`: the first batch of each partition).
fn has_transactional_records(req: &ProduceRequest) -> bool {
    req.topic_data.iter().any(|t| {
        t.partition_data.iter().any(|p| {
            p.records.as_ref().is_some_and(|r| {
                r.len() >= field::ATTRIBUTES.end
                    && r[field::MAGIC.start] >= 2
                    && Attributes(u16::from_be_bytes([
                        r[field::ATTRIBUTES.start],
                        r[field::ATTRIBUTES.start + 1],
                    ]))
                    .is_transactional()
            })
        })
    })
}

impl<S: Storage + Clone> Broker<S> {
    /// Handles a Produce request: appends each partition's batch and answers per partition.
    /// Returns the response and the partitions that failed (in request order).
    pub(crate) fn handle_produce(
        &mut self,
        req: &ProduceRequest,
        version: i16,
        now_ms: i64,
    ) -> (ProduceResponse, Vec<ProduceFailure>) {
        let refuse_all = has_transactional_records(req) && req.transactional_id.is_none();
        let mut failures = Vec::new();
        let mut appended = false;
        let mut responses = Vec::with_capacity(req.topic_data.len());
        for t in &req.topic_data {
            let name: Option<String> = if version >= 13 {
                self.meta.topic_name(t.topic_id).map(ToString::to_string)
            } else {
                Some(t.name.to_string())
            };
            let mut partitions = Vec::with_capacity(t.partition_data.len());
            for p in &t.partition_data {
                let outcome = if refuse_all {
                    Outcome::failed(ErrorCode::TransactionalIdAuthorizationFailed, None)
                } else {
                    match &name {
                        None => Outcome::failed(ErrorCode::UnknownTopicId, None),
                        Some(topic) => self.produce_partition(
                            req,
                            version,
                            topic,
                            p.index,
                            p.records.as_deref(),
                            now_ms,
                        ),
                    }
                };
                appended |= outcome.error.is_none();
                if !outcome.error.is_none() {
                    self.metrics
                        .error(kproto::ApiKey::Produce.key(), outcome.error);
                    failures.push(ProduceFailure {
                        topic: name.clone().unwrap_or_else(|| t.topic_id.to_kafka_string()),
                        partition: p.index,
                        error: outcome.error,
                    });
                }
                partitions.push(PartitionProduceResponse {
                    index: p.index,
                    error_code: outcome.error.code(),
                    base_offset: outcome.base_offset,
                    log_append_time_ms: outcome.log_append_time_ms,
                    log_start_offset: outcome.log_start_offset,
                    record_errors: outcome.record_errors,
                    error_message: outcome.message.map(KStr::from),
                    ..PartitionProduceResponse::default()
                });
            }
            responses.push(TopicProduceResponse {
                name: if version >= 13 {
                    KStr::default()
                } else {
                    t.name.clone()
                },
                topic_id: if version >= 13 {
                    t.topic_id
                } else {
                    Uuid::ZERO
                },
                partition_responses: partitions,
                ..TopicProduceResponse::default()
            });
        }
        if appended {
            // Kafka's tryCompleteDelayedRequests: a waiting fetch may have its bytes now
            self.wake_delayed_fetches(now_ms);
        }
        let resp = ProduceResponse {
            responses,
            ..ProduceResponse::default()
        };
        (resp, failures)
    }

    fn produce_partition(
        &mut self,
        req: &ProduceRequest,
        version: i16,
        topic: &str,
        partition: i32,
        records: Option<&[u8]>,
        now_ms: i64,
    ) -> Outcome {
        let Some(meta) = self.meta.topics.get(topic) else {
            return Outcome::failed(ErrorCode::UnknownTopicOrPartition, None);
        };
        if partition < 0 || partition >= meta.partitions {
            return Outcome::failed(ErrorCode::UnknownTopicOrPartition, None);
        }
        let min_insync = meta
            .configs
            .overrides()
            .find(|(k, _)| *k == "min.insync.replicas")
            .map(|(_, v)| v)
            .or_else(|| {
                self.config
                    .supplied
                    .iter()
                    .rev()
                    .find(|(k, _)| k == "min.insync.replicas")
                    .map(|(_, v)| v.as_str())
            })
            .and_then(|v| v.trim().parse::<i32>().ok())
            .unwrap_or(1);
        let records = records.unwrap_or(&[]);
        if let Err((code, message)) = validate_records(version, records) {
            return Outcome::failed(code, Some(message));
        }
        if !matches!(req.acks, -1..=1) {
            return Outcome::failed(ErrorCode::InvalidRequiredAcks, None);
        }
        if req.transactional_id.is_some() && has_transactional_records(req) {
            return Outcome::failed(
                ErrorCode::InvalidTxnState,
                Some(format!(
                    "The partition {topic}-{partition} was not added to the transaction: this broker has no transaction coordinator"
                )),
            );
        }
        // Kafka's TotalProduceRequestsPerSec: each partition that reaches the append
        self.metrics.total_produce_requests += 1;
        if req.acks == -1 && min_insync > 1 {
            return Outcome::failed(
                ErrorCode::NotEnoughReplicas,
                Some(format!(
                    "The size of the current ISR 1 is insufficient to satisfy the min.isr requirement of {min_insync} for partition {topic}-{partition}"
                )),
            );
        }
        let Some(log) = self.logs.log_mut(topic, partition) else {
            return Outcome::failed(ErrorCode::UnknownTopicOrPartition, None);
        };
        let mut bytes = records.to_vec();
        match log.append(&mut bytes, now_ms) {
            Ok(info) => {
                // Kafka's BytesInPerSec: the bytes of batches the log took
                self.metrics.bytes_in += records.len() as u64;
                let leo = log.log_end_offset();
                log.set_high_watermark(leo);
                if !info.duplicate {
                    self.metrics.messages_in += info.record_count;
                }
                Outcome {
                    error: ErrorCode::None,
                    base_offset: info.first_offset as i64,
                    log_append_time_ms: info.log_append_time,
                    log_start_offset: info.log_start_offset as i64,
                    record_errors: Vec::new(),
                    message: None,
                }
            }
            Err(e) => {
                let failed_now = log.is_failed();
                let mut out = Outcome::failed(e.error_code(), Some(e.to_string()));
                // Kafka answers the log start offset for all but the request-level errors
                // (UNKNOWN_LOG_APPEND_INFO for too large, corrupt and storage failures).
                if !matches!(
                    e,
                    AppendError::Corrupt { .. }
                        | AppendError::TooLarge { .. }
                        | AppendError::Log(_)
                ) {
                    out.log_start_offset = log.log_start_offset() as i64;
                }
                if let AppendError::InvalidTimestamp { offset_delta, .. } = &e {
                    out.record_errors.push(BatchIndexAndErrorMessage {
                        batch_index: *offset_delta,
                        batch_index_error_message: Some(e.to_string().into()),
                        ..BatchIndexAndErrorMessage::default()
                    });
                }
                if failed_now && matches!(e, AppendError::Log(_)) {
                    self.events.push_back(BrokerEvent::LogFailed {
                        topic: topic.to_string(),
                        partition,
                        error: e.to_string(),
                    });
                }
                out
            }
        }
    }
}
