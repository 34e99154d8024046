//! Idempotent producer state per partition, as Kafka's `ProducerStateManager`: the metadata
//! of the last 5 batches of every producer id, duplicate detection, sequence and epoch
//! checks, and Kafka's `.snapshot` file format for persistence.
//!
//! Snapshot format (`ProducerSnapshot` v1, big-endian): version int16 (1), crc uint32
//! (CRC-32C of everything after it), entry count int32, then per producer: producer id int64,
//! epoch int16, last sequence int32, last offset int64, offset delta int32, timestamp int64,
//! coordinator epoch int32, current transaction first offset int64 (-1). Like Kafka, only the
//! last batch of each producer is in a snapshot; batches after the snapshot's offset are
//! replayed from the log on load.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

/// How many batches per producer are remembered for duplicate detection (Kafka's
/// `NUM_BATCHES_TO_RETAIN`).
pub const BATCHES_TO_RETAIN: usize = 5;

/// Kafka's `RecordBatch.NO_SEQUENCE`.
const NO_SEQUENCE: i32 = -1;
/// Kafka's `RecordBatch.NO_PRODUCER_EPOCH`.
const NO_PRODUCER_EPOCH: i16 = -1;

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

    /// Offset of the batch's first record.
    pub fn first_offset(&self) -> u64 {
        self.last_offset - u64::from(self.offset_delta as u32)
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

/// What is known about one producer id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerEntry {
    /// The producer epoch of its last batch.
    pub epoch: i16,
    /// Its last batches, oldest first (at most [`BATCHES_TO_RETAIN`]).
    pub batches: VecDeque<BatchMetadata>,
    /// Coordinator epoch (transactions; kept for the snapshot format).
    pub coordinator_epoch: i32,
    /// First offset of an open transaction, or -1.
    pub current_txn_first_offset: i64,
}

impl ProducerEntry {
    /// Sequence of its last appended record, or -1.
    pub fn last_seq(&self) -> i32 {
        self.batches.back().map_or(NO_SEQUENCE, |b| b.last_seq)
    }

    /// Timestamp of its last batch, or -1.
    pub fn last_timestamp(&self) -> i64 {
        self.batches.back().map_or(-1, |b| b.timestamp)
    }
}

/// An idempotent batch the producer state rejects.
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
}

impl ProducerStateError {
    /// Kafka's error code for it.
    pub fn error_code(&self) -> i16 {
        match self {
            ProducerStateError::InvalidProducerEpoch { .. } => 47,
            ProducerStateError::OutOfOrderSequence { .. } => 45,
        }
    }
}

/// A producer snapshot could not be decoded.
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
}

/// The producer ids of one partition and their last batches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProducerStateManager {
    producers: BTreeMap<i64, ProducerEntry>,
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
    pub fn new() -> Self {
        Self::default()
    }

    /// The producer ids known.
    pub fn producers(&self) -> &BTreeMap<i64, ProducerEntry> {
        &self.producers
    }

    /// The offset after the last batch applied.
    pub fn map_end_offset(&self) -> u64 {
        self.map_end_offset
    }

    /// Sets where the state stands (after loading a snapshot or truncating).
    pub fn set_map_end_offset(&mut self, offset: u64) {
        self.map_end_offset = offset;
    }

    /// Checks a client batch of `producer_id` (>= 0) with sequences `first_seq..=last_seq`:
    /// a duplicate of one of the last 5 batches, a fenced epoch, or a sequence gap.
    pub fn check(
        &self,
        producer_id: i64,
        epoch: i16,
        first_seq: i32,
        last_seq: i32,
    ) -> Result<SequenceCheck, ProducerStateError> {
        let Some(entry) = self.producers.get(&producer_id) else {
            // an unknown producer (new, or expired) may start at any sequence
            return Ok(SequenceCheck::Append);
        };
        if epoch == entry.epoch {
            if let Some(dup) = entry
                .batches
                .iter()
                .find(|b| b.first_seq() == first_seq && b.last_seq == last_seq)
            {
                return Ok(SequenceCheck::Duplicate(*dup));
            }
        }
        if epoch < entry.epoch {
            return Err(ProducerStateError::InvalidProducerEpoch {
                producer_id,
                epoch,
                current_epoch: entry.epoch,
            });
        }
        if epoch != entry.epoch {
            if first_seq != 0 && entry.epoch != NO_PRODUCER_EPOCH {
                return Err(ProducerStateError::OutOfOrderSequence {
                    producer_id,
                    epoch,
                    first_seq,
                    last_seq: NO_SEQUENCE,
                });
            }
        } else if entry.epoch != NO_PRODUCER_EPOCH && !in_sequence(entry.last_seq(), first_seq) {
            return Err(ProducerStateError::OutOfOrderSequence {
                producer_id,
                epoch,
                first_seq,
                last_seq: entry.last_seq(),
            });
        }
        Ok(SequenceCheck::Append)
    }

    /// Records an appended (or replayed) batch. A new epoch forgets the old epoch's batches.
    pub fn update(
        &mut self,
        producer_id: i64,
        epoch: i16,
        last_seq: i32,
        last_offset: u64,
        offset_delta: i32,
        timestamp: i64,
    ) {
        let entry = self
            .producers
            .entry(producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch,
                batches: VecDeque::new(),
                coordinator_epoch: -1,
                current_txn_first_offset: -1,
            });
        if entry.epoch != epoch {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        entry.batches.push_back(BatchMetadata {
            last_seq,
            last_offset,
            offset_delta,
            timestamp,
        });
        while entry.batches.len() > BATCHES_TO_RETAIN {
            entry.batches.pop_front();
        }
        self.map_end_offset = self.map_end_offset.max(last_offset + 1);
    }

    /// Forgets producers whose last batch is older than `expiration_ms` at `now_ms`.
    pub fn remove_expired(&mut self, now_ms: i64, expiration_ms: i64) {
        self.producers
            .retain(|_, e| now_ms.saturating_sub(e.last_timestamp()) < expiration_ms);
    }

    /// Forgets every batch at or after `offset` (log truncation); the state then stands at
    /// `offset` (producers whose last batch was removed are dropped, as a reload would).
    pub fn truncate_to(&mut self, offset: u64) {
        self.producers.retain(|_, e| {
            e.batches.retain(|b| b.last_offset < offset);
            !e.batches.is_empty()
        });
        self.map_end_offset = self.map_end_offset.min(offset);
    }

    /// Encodes a Kafka `ProducerSnapshot` v1 of the current state.
    pub fn encode_snapshot(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + self.producers.len() * ENTRY_SIZE);
        out.extend_from_slice(&1i16.to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(self.producers.len() as i32).to_be_bytes());
        for (pid, e) in &self.producers {
            let last = e.batches.back();
            out.extend_from_slice(&pid.to_be_bytes());
            out.extend_from_slice(&e.epoch.to_be_bytes());
            out.extend_from_slice(&last.map_or(NO_SEQUENCE, |b| b.last_seq).to_be_bytes());
            out.extend_from_slice(&last.map_or(-1i64, |b| b.last_offset as i64).to_be_bytes());
            out.extend_from_slice(&last.map_or(0, |b| b.offset_delta).to_be_bytes());
            out.extend_from_slice(&last.map_or(-1, |b| b.timestamp).to_be_bytes());
            out.extend_from_slice(&e.coordinator_epoch.to_be_bytes());
            out.extend_from_slice(&e.current_txn_first_offset.to_be_bytes());
        }
        let crc = CRC32C.checksum(&out[6..]);
        out[2..6].copy_from_slice(&crc.to_be_bytes());
        out
    }

    /// Decodes a Kafka `ProducerSnapshot` v1 taken at `offset` (the file's name).
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
        let count = i32::from_be_bytes([data[6], data[7], data[8], data[9]]).max(0) as usize;
        if (data.len() - 10) / ENTRY_SIZE < count {
            return Err(truncated(data.len()));
        }
        let mut m = ProducerStateManager {
            producers: BTreeMap::new(),
            map_end_offset: offset,
        };
        for i in 0..count {
            let e = &data[10 + i * ENTRY_SIZE..10 + (i + 1) * ENTRY_SIZE];
            let i64_at = |p: usize| i64::from_be_bytes(e[p..p + 8].try_into().unwrap_or([0; 8]));
            let i32_at = |p: usize| i32::from_be_bytes(e[p..p + 4].try_into().unwrap_or([0; 4]));
            let pid = i64_at(0);
            let epoch = i16::from_be_bytes([e[8], e[9]]);
            let last_seq = i32_at(10);
            let last_offset = i64_at(14);
            let offset_delta = i32_at(22);
            let timestamp = i64_at(26);
            let mut batches = VecDeque::new();
            if last_offset >= 0 && offset_delta >= 0 {
                batches.push_back(BatchMetadata {
                    last_seq,
                    last_offset: last_offset as u64,
                    offset_delta,
                    timestamp,
                });
            }
            m.producers.insert(
                pid,
                ProducerEntry {
                    epoch,
                    batches,
                    coordinator_epoch: i32_at(34),
                    current_txn_first_offset: i64_at(38),
                },
            );
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_duplicates_and_epochs() {
        let mut m = ProducerStateManager::new();
        // a new producer may start anywhere
        assert_eq!(m.check(7, 0, 5, 9).unwrap(), SequenceCheck::Append);
        m.update(7, 0, 9, 104, 4, 1000);
        assert_eq!(m.check(7, 0, 10, 12).unwrap(), SequenceCheck::Append);
        let e = m.check(7, 0, 12, 14).unwrap_err();
        assert!(
            matches!(
                e,
                ProducerStateError::OutOfOrderSequence {
                    first_seq: 12,
                    last_seq: 9,
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(e.error_code(), 45);
        match m.check(7, 0, 5, 9).unwrap() {
            SequenceCheck::Duplicate(b) => {
                assert_eq!(
                    (b.first_offset(), b.last_offset, b.first_seq()),
                    (100, 104, 5)
                );
            }
            other => panic!("{other:?}"),
        }
        // a bumped epoch must start at 0
        assert!(m.check(7, 1, 3, 3).is_err());
        assert_eq!(m.check(7, 1, 0, 0).unwrap(), SequenceCheck::Append);
        m.update(7, 1, 0, 105, 0, 1001);
        let e = m.check(7, 0, 10, 10).unwrap_err();
        assert_eq!(e.error_code(), 47);
        // sequence wrap
        m.update(8, 0, i32::MAX, 200, 0, 1);
        assert_eq!(m.check(8, 0, 0, 3).unwrap(), SequenceCheck::Append);
    }

    #[test]
    fn only_the_last_five_batches_are_duplicates() {
        let mut m = ProducerStateManager::new();
        for i in 0..7 {
            m.update(1, 0, i, i as u64, 0, 0);
        }
        assert_eq!(m.producers()[&1].batches.len(), 5);
        assert!(matches!(
            m.check(1, 0, 2, 2).unwrap(),
            SequenceCheck::Duplicate(_)
        ));
        assert!(
            m.check(1, 0, 1, 1).is_err(),
            "too old to be known as a duplicate"
        );
        m.truncate_to(4);
        assert_eq!(m.producers()[&1].last_seq(), 3);
        assert_eq!(m.map_end_offset(), 4);
        m.remove_expired(100, 50);
        assert!(m.producers().is_empty());
    }

    #[test]
    fn snapshot_round_trip_and_crc() {
        let mut m = ProducerStateManager::new();
        m.update(42, 3, 19, 1000, 9, 1_700_000_000_000);
        m.update(43, 0, 0, 1001, 0, 1_700_000_000_001);
        let bytes = m.encode_snapshot();
        assert_eq!(bytes.len(), 10 + 2 * 46);
        assert_eq!(&bytes[..2], &[0, 1]);
        let d = ProducerStateManager::decode_snapshot("x", 1002, &bytes).unwrap();
        assert_eq!(d.producers(), m.producers());
        assert_eq!(d.map_end_offset(), 1002);
        let mut bad = bytes.clone();
        bad[20] ^= 1;
        assert!(matches!(
            ProducerStateManager::decode_snapshot("x", 0, &bad),
            Err(SnapshotError::Crc { .. })
        ));
        assert!(ProducerStateManager::decode_snapshot("x", 0, &bytes[..50]).is_err());
    }
}
