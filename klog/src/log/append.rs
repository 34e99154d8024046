//! Leader appends: validation, offset (and LogAppendTime) assignment, roll, index upkeep,
//! producer state, flush policy.

use super::{Log, LogError};
use crate::config::{TimestampType as TsType, TopicCompression};
use crate::index::AbortedTxn;
use crate::producer_state::{AppendOrigin, BatchMetadata, ProducerAppendInfo, ProducerStateError};
use crate::segment::{BatchInfo, RollParams, SegmentError};
use crate::storage::Storage;
use alloc::vec::Vec;
use kproto::records::control::end_transaction_marker_batch;
use kproto::records::{
    BatchBuilder, BatchConfig, BatchView, Batches, BuildError, Compression, RecordError,
    TimestampType, DEFAULT_MAX_UNCOMPRESSED,
};
use kproto::ErrorCode;

/// What an append did (Kafka's `LogAppendInfo`, the parts a produce response needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset of the first record appended (or of the duplicate's first record).
    pub first_offset: u64,
    /// Offset of the last record appended.
    pub last_offset: u64,
    /// The append time written for LogAppendTime topics, else -1.
    pub log_append_time: i64,
    /// The log start offset after the append.
    pub log_start_offset: u64,
    /// The largest timestamp among the records.
    pub max_timestamp: i64,
    /// Number of records.
    pub record_count: u64,
    /// The batch duplicated one already in the log: nothing was written and the offsets
    /// are the original ones.
    pub duplicate: bool,
}

/// Why an append was refused or failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppendError {
    /// A batch is malformed or its CRC is wrong (CORRUPT_MESSAGE).
    #[error("corrupt batch at byte {position} of the request: {source}")]
    Corrupt {
        /// Where the batch starts in the appended bytes.
        position: usize,
        /// What is wrong.
        source: RecordError,
    },
    /// A batch is larger than `max.message.bytes` (MESSAGE_TOO_LARGE).
    #[error("batch at byte {position} is {size} bytes, more than max.message.bytes {max}")]
    TooLarge {
        /// Where the batch starts.
        position: usize,
        /// Its size.
        size: usize,
        /// The limit.
        max: u32,
    },
    /// A batch breaks a rule Kafka enforces (INVALID_RECORD).
    #[error("invalid batch at byte {position}: {what}")]
    InvalidRecord {
        /// Where the batch starts.
        position: usize,
        /// The rule.
        what: &'static str,
    },
    /// A record's timestamp is too far from the append time (INVALID_TIMESTAMP).
    #[error("record at offset delta {offset_delta} of the batch at byte {position} has timestamp {timestamp}, outside {min}..={max}")]
    InvalidTimestamp {
        /// Where the batch starts.
        position: usize,
        /// The record's offset delta.
        offset_delta: i32,
        /// Its timestamp.
        timestamp: i64,
        /// The earliest accepted.
        min: i64,
        /// The latest accepted.
        max: i64,
    },
    /// A batch could not be written again in the topic's `compression.type` (a codec this
    /// build lacks: UNSUPPORTED_COMPRESSION_TYPE).
    #[error("batch at byte {position} cannot be recompressed to {target:?}: {source}")]
    Recompress {
        /// Where the batch starts.
        position: usize,
        /// The topic's codec.
        target: Compression,
        /// What the builder said.
        source: BuildError,
    },
    /// The idempotent producer state refuses a batch.
    #[error(transparent)]
    Producer(#[from] ProducerStateError),
    /// The log failed (storage error, or failed earlier).
    #[error(transparent)]
    Log(#[from] LogError),
}

impl AppendError {
    /// Kafka's error code for it.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            AppendError::Corrupt { .. } => ErrorCode::CorruptMessage,
            AppendError::TooLarge { .. } => ErrorCode::MessageTooLarge,
            AppendError::InvalidRecord { .. } => ErrorCode::InvalidRecord,
            AppendError::InvalidTimestamp { .. } => ErrorCode::InvalidTimestamp,
            AppendError::Recompress { .. } => ErrorCode::UnsupportedCompressionType,
            AppendError::Producer(e) => e.error_code(),
            AppendError::Log(e) => e.error_code(),
        }
    }
}

impl From<SegmentError> for AppendError {
    fn from(e: SegmentError) -> Self {
        AppendError::Log(LogError::Segment(e))
    }
}

/// The validated batches and the producer state updates they make.
type Validated = (Vec<Checked>, Vec<ProducerAppendInfo>);

/// One validated batch of the request.
struct Checked {
    position: usize,
    size: usize,
    records: u64,
    max_timestamp: i64,
    /// The max timestamp field must be rewritten (CreateTime, producer's value wrong).
    fix_max_timestamp: bool,
}

impl<S: Storage> Log<S> {
    /// Appends the batches in `records` as the leader (Kafka's `appendAsLeader`): validates
    /// every batch (header, size, CRC, magic 2, not control, record offsets and timestamps,
    /// producer sequence), then rewrites them in place (base offsets from the log end offset,
    /// the leader epoch, LogAppendTime and the CRC when needed), rolls if needed, writes them
    /// and maintains the indexes. A duplicate idempotent batch is answered with its original
    /// offsets and not written. `now_ms` is the append time.
    ///
    /// On a topic whose `compression.type` names a codec, a batch in another codec is
    /// validated as sent, then decompressed and built again in the topic's codec (its
    /// producer id, epoch, sequence, transactional flag and records kept), as Kafka's
    /// LogValidator does when the source and target codecs differ.
    pub fn append(&mut self, records: &mut [u8], now_ms: i64) -> Result<AppendInfo, AppendError> {
        self.check_failed()?;
        let validated = match self.validate(records, now_ms)? {
            Ok(c) => c,
            Err(dup) => return Ok(self.duplicate_info(&dup)),
        };
        if let TopicCompression::Codec(target) = self.cfg.compression_type {
            if let Some(mut rebuilt) = recompress(records, target)? {
                let validated = match self.validate(&rebuilt, now_ms)? {
                    Ok(c) => c,
                    Err(dup) => return Ok(self.duplicate_info(&dup)),
                };
                return self.append_validated(&mut rebuilt, validated, now_ms);
            }
        }
        self.append_validated(records, validated, now_ms)
    }

    /// What an append answers for a duplicate of a batch already in the log.
    fn duplicate_info(&self, dup: &BatchMetadata) -> AppendInfo {
        AppendInfo {
            first_offset: dup.first_offset(),
            last_offset: dup.last_offset,
            log_append_time: -1,
            log_start_offset: self.log_start_offset,
            max_timestamp: dup.timestamp,
            record_count: u64::from(dup.offset_delta as u32) + 1,
            duplicate: true,
        }
    }

    /// Assigns offsets to validated batches, writes them and updates the producer state.
    fn append_validated(
        &mut self,
        records: &mut [u8],
        (checked, producers): Validated,
        now_ms: i64,
    ) -> Result<AppendInfo, AppendError> {
        // assign offsets (and LogAppendTime) in place
        let first_offset = self.log_end_offset;
        let mut next = first_offset;
        let append_time = self.cfg.message_timestamp_type == TsType::LogAppendTime;
        let mut infos = Vec::with_capacity(checked.len());
        let mut max_timestamp = -1i64;
        let mut record_count = 0u64;
        for c in &checked {
            let mut view = BatchView::new_checked(&mut records[c.position..c.position + c.size])
                .map_err(|source| AppendError::Corrupt {
                    position: c.position,
                    source,
                })?;
            view.set_base_offset(next as i64);
            view.set_partition_leader_epoch(self.leader_epoch);
            let ts = if append_time {
                view.set_log_append_time(now_ms);
                now_ms
            } else {
                if c.fix_max_timestamp {
                    view.set_max_timestamp(c.max_timestamp);
                    view.fill_crc();
                }
                c.max_timestamp
            };
            let last = next + c.records - 1;
            infos.push(BatchInfo {
                last_offset: last,
                max_timestamp: ts,
                size: c.size as u32,
            });
            max_timestamp = max_timestamp.max(ts);
            record_count += c.records;
            next = last + 1;
        }
        let last_offset = next - 1;
        let r = self.write_batches(records, &infos, max_timestamp, last_offset, now_ms);
        if let Err(e) = r {
            self.fail(&e);
            return Err(e.into());
        }
        for p in producers {
            self.producers.update(p);
        }
        self.producers.set_map_end_offset(next);
        let unflushed = self.log_end_offset - self.recovery_point;
        if unflushed >= self.cfg.flush_messages as u64 {
            self.flush(now_ms)?;
        }
        Ok(AppendInfo {
            first_offset,
            last_offset,
            log_append_time: if append_time { now_ms } else { -1 },
            log_start_offset: self.log_start_offset,
            max_timestamp,
            record_count,
            duplicate: false,
        })
    }

    fn write_batches(
        &mut self,
        records: &[u8],
        infos: &[BatchInfo],
        max_timestamp: i64,
        last_offset: u64,
        now_ms: i64,
    ) -> Result<(), LogError> {
        let size = u32::try_from(records.len()).unwrap_or(u32::MAX);
        let params = RollParams {
            segment_bytes: self.cfg.segment_bytes,
            segment_ms: self.cfg.segment_ms,
            jitter_ms: self.cfg.segment_jitter_ms,
            messages_size: size,
            max_timestamp,
            max_offset: last_offset,
            now_ms,
        };
        let roll = self.active().should_roll(&params);
        if roll {
            self.roll_inner(now_ms)?;
        }
        let st = &mut self.st;
        let seg = self
            .segments
            .values_mut()
            .next_back()
            .expect("a log always has a segment");
        seg.append(st, records, infos)?;
        self.log_end_offset = last_offset + 1;
        Ok(())
    }

    /// Validates every batch; `Ok(Err(dup))` when the request is a duplicate.
    fn validate(
        &self,
        records: &[u8],
        now_ms: i64,
    ) -> Result<Result<Validated, BatchMetadata>, AppendError> {
        let mut out = Vec::new();
        let mut producers: Vec<ProducerAppendInfo> = Vec::new();
        let mut next_offset = self.log_end_offset;
        // whole batches only: a request ending inside a batch is refused (Incomplete, naming
        // where that batch starts) rather than trimmed as Kafka's trimInvalidBytes does
        let walk = Batches::complete(records);
        let mut scratch = Vec::new();
        let min_ts = now_ms.saturating_sub(self.cfg.message_timestamp_before_max_ms);
        let max_ts = now_ms.saturating_add(self.cfg.message_timestamp_after_max_ms);
        let check_ts = self.cfg.message_timestamp_type == TsType::CreateTime;
        for item in walk {
            let b = item.map_err(|source| AppendError::Corrupt {
                position: source_position(&source),
                source,
            })?;
            let position = b.position();
            b.validate()
                .map_err(|source| AppendError::Corrupt { position, source })?;
            if b.size() > self.cfg.max_message_bytes as usize {
                return Err(AppendError::TooLarge {
                    position,
                    size: b.size(),
                    max: self.cfg.max_message_bytes,
                });
            }
            let invalid = |what| Err(AppendError::InvalidRecord { position, what });
            if b.is_control() {
                return invalid("control batches cannot be produced");
            }
            if i64::from(b.record_count()) != i64::from(b.last_offset_delta()) + 1 {
                return invalid("record count does not match lastOffsetDelta + 1");
            }
            if check_ts && b.timestamp_type() == TimestampType::LogAppendTime {
                return invalid("LogAppendTime batch for a CreateTime topic");
            }
            // records: consecutive offset deltas, timestamps in bounds, the true max timestamp
            let mut true_max = -1i64;
            let codec_ok = b.compression().map(|c| c.is_enabled()).unwrap_or(false);
            if codec_ok {
                let recs = b
                    .records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED)
                    .map_err(|source| AppendError::Corrupt { position, source })?;
                let mut n = 0i32;
                for r in recs {
                    let r = r.map_err(|source| AppendError::Corrupt { position, source })?;
                    if r.offset_delta != n {
                        return invalid("record offset deltas are not 0, 1, 2, ...");
                    }
                    if check_ts && (r.timestamp < min_ts || r.timestamp > max_ts) {
                        return Err(AppendError::InvalidTimestamp {
                            position,
                            offset_delta: r.offset_delta,
                            timestamp: r.timestamp,
                            min: min_ts,
                            max: max_ts,
                        });
                    }
                    true_max = true_max.max(r.timestamp);
                    n += 1;
                }
                if n != b.record_count() {
                    return invalid("fewer records than the record count");
                }
            } else {
                // a codec this build lacks: checked at the batch level only
                true_max = b.max_timestamp();
                if check_ts && (true_max > max_ts || b.base_timestamp() < min_ts) {
                    return Err(AppendError::InvalidTimestamp {
                        position,
                        offset_delta: 0,
                        timestamp: true_max,
                        min: min_ts,
                        max: max_ts,
                    });
                }
            }
            let first_offset = next_offset;
            next_offset += u64::from(b.record_count() as u32);
            if b.producer_id() >= 0 {
                if b.base_sequence() < 0 {
                    return invalid("idempotent batch without a base sequence");
                }
                let (pid, epoch, first, last) = (
                    b.producer_id(),
                    b.producer_epoch(),
                    b.base_sequence(),
                    b.last_sequence(),
                );
                // a retry of one of the producer's last batches is answered, not appended
                if let Some(dup) = self
                    .producers
                    .producers()
                    .get(&pid)
                    .and_then(|e| e.find_duplicate(epoch, first, last))
                {
                    return Ok(Err(dup));
                }
                let at = match producers.iter().position(|p| p.producer_id() == pid) {
                    Some(at) => at,
                    None => {
                        producers.push(self.producers.prepare_update(pid, AppendOrigin::Client));
                        producers.len() - 1
                    }
                };
                // the max timestamp as stored (the append time for LogAppendTime topics)
                let stored_ts = if self.cfg.message_timestamp_type == TsType::LogAppendTime {
                    now_ms
                } else {
                    true_max
                };
                producers[at].append_data_batch(
                    epoch,
                    first,
                    last,
                    stored_ts,
                    first_offset,
                    next_offset - 1,
                    b.is_transactional(),
                )?;
            }
            out.push(Checked {
                position,
                size: b.size(),
                records: u64::from(b.record_count() as u32),
                max_timestamp: true_max,
                fix_max_timestamp: check_ts && true_max != b.max_timestamp(),
            });
        }
        if out.is_empty() {
            return Err(AppendError::InvalidRecord {
                position: 0,
                what: "no batches to append",
            });
        }
        Ok(Ok((out, producers)))
    }
}

/// The request's batches written again in `target` (Kafka's
/// `LogValidator.buildRecordsAndAssignOffsets`), or `None` when every batch is already in it.
/// The batches have been validated: a failure to read them again is reported as corrupt.
fn recompress(records: &[u8], target: Compression) -> Result<Option<Vec<u8>>, AppendError> {
    let needed = Batches::complete(records).any(|b| {
        b.map(|b| b.compression().ok() != Some(target))
            .unwrap_or(false)
    });
    if !needed {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(records.len());
    let mut scratch = Vec::new();
    for item in Batches::complete(records) {
        let b = item.map_err(|source| AppendError::Corrupt {
            position: source_position(&source),
            source,
        })?;
        let position = b.position();
        if b.compression().ok() == Some(target) {
            out.extend_from_slice(b.as_bytes());
            continue;
        }
        let timestamp_type = b.timestamp_type();
        let mut builder = BatchBuilder::new(BatchConfig {
            partition_leader_epoch: b.partition_leader_epoch(),
            timestamp_type,
            log_append_time: b.max_timestamp(),
            compression: target,
            producer_id: b.producer_id(),
            producer_epoch: b.producer_epoch(),
            base_sequence: b.base_sequence(),
            transactional: b.is_transactional(),
            write_limit: usize::MAX,
            ..BatchConfig::default()
        });
        let recs = b
            .records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED)
            .map_err(|source| AppendError::Corrupt { position, source })?;
        let mut headers: Vec<(&[u8], Option<&[u8]>)> = Vec::new();
        for r in recs {
            let r = r.map_err(|source| AppendError::Corrupt { position, source })?;
            headers.clear();
            headers.extend(r.headers.iter().map(|h| (h.key, h.value)));
            // LogAppendTime batches keep each record's own timestamp delta
            let ts = match timestamp_type {
                TimestampType::CreateTime => r.timestamp,
                TimestampType::LogAppendTime => b.base_timestamp() + r.timestamp_delta,
            };
            builder
                .try_append_with(ts, r.key, r.value, headers.iter().copied())
                .map_err(|source| AppendError::Recompress {
                    position,
                    target,
                    source,
                })?;
        }
        let batch = builder.build().map_err(|source| AppendError::Recompress {
            position,
            target,
            source,
        })?;
        out.extend_from_slice(batch.as_bytes());
    }
    Ok(Some(out))
}

fn source_position(e: &RecordError) -> usize {
    match e {
        RecordError::Truncated { offset, .. }
        | RecordError::BadSize { offset, .. }
        | RecordError::UnsupportedMagic { offset, .. }
        | RecordError::CrcMismatch { offset, .. }
        | RecordError::Invalid { offset, .. }
        | RecordError::Incomplete { offset, .. } => *offset,
        _ => 0,
    }
}

impl<S: Storage> Log<S> {
    /// Appends a transaction marker for `producer_id` as the transaction coordinator's
    /// WriteTxnMarkers does (Kafka's `appendAsLeader` with origin COORDINATOR): a control
    /// batch with one COMMIT or ABORT record stamped `now_ms`. The producer's epoch may not go
    /// back and the coordinator epoch may not be older than the last marker's
    /// (TRANSACTION_COORDINATOR_FENCED). The transaction in progress, if any, ends; an aborted
    /// one is recorded in the active segment's transaction index with the last stable offset
    /// it leaves.
    pub fn append_txn_marker(
        &mut self,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
        coordinator_epoch: i32,
        now_ms: i64,
    ) -> Result<AppendInfo, AppendError> {
        self.check_failed()?;
        if producer_id < 0 {
            return Err(AppendError::InvalidRecord {
                position: 0,
                what: "a transaction marker needs a producer id",
            });
        }
        let offset = self.log_end_offset;
        let mut info = self
            .producers
            .prepare_update(producer_id, AppendOrigin::Coordinator);
        let completed =
            info.append_end_txn_marker(commit, coordinator_epoch, producer_epoch, offset, now_ms)?;
        let mut batch = end_transaction_marker_batch(
            commit,
            coordinator_epoch,
            producer_id,
            producer_epoch,
            offset as i64,
            self.leader_epoch,
            now_ms,
        )
        .map_err(|_| AppendError::InvalidRecord {
            position: 0,
            what: "the transaction marker batch could not be built",
        })?;
        if self.cfg.message_timestamp_type == TsType::LogAppendTime {
            let mut view =
                BatchView::new_checked(&mut batch[..]).map_err(|source| AppendError::Corrupt {
                    position: 0,
                    source,
                })?;
            view.set_log_append_time(now_ms);
        }
        let infos = [BatchInfo {
            last_offset: offset,
            max_timestamp: now_ms,
            size: batch.len() as u32,
        }];
        let r = self
            .write_batches(&batch, &infos, now_ms, offset, now_ms)
            .and_then(|()| {
                self.producers.update(info);
                self.producers.set_map_end_offset(offset + 1);
                if let Some(txn) = completed {
                    if txn.is_aborted {
                        let lso = self.producers.last_stable_offset(&txn);
                        let st = &mut self.st;
                        self.segments
                            .values_mut()
                            .next_back()
                            .expect("a log always has a segment")
                            .append_aborted_txn(
                                st,
                                AbortedTxn::new(
                                    txn.producer_id,
                                    txn.first_offset as i64,
                                    txn.last_offset as i64,
                                    lso as i64,
                                ),
                            )?;
                    }
                    self.producers.complete_txn(&txn);
                }
                Ok(())
            });
        if let Err(e) = r {
            self.fail(&e);
            return Err(e.into());
        }
        if self.log_end_offset - self.recovery_point >= self.cfg.flush_messages as u64 {
            self.flush(now_ms)?;
        }
        Ok(AppendInfo {
            first_offset: offset,
            last_offset: offset,
            log_append_time: if self.cfg.message_timestamp_type == TsType::LogAppendTime {
                now_ms
            } else {
                -1
            },
            log_start_offset: self.log_start_offset,
            max_timestamp: now_ms,
            record_count: 1,
            duplicate: false,
        })
    }
}
