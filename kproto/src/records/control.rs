//! Control records: the records of control batches (attribute bit 5). Their key is a version
//! (int16, 0) and a type (int16); transaction markers (abort, commit) carry an
//! `EndTransactionMarker` value: version (int16, 0) and coordinator epoch (int32).

use super::builder::check_room;
use super::{BatchBuilder, BatchConfig, BuildError, EncodedBatch, RecordError, RecordView};
use alloc::vec::Vec;
use bytes::BufMut;

/// The type of a control record (`ControlRecordType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlRecordType {
    /// A transaction was aborted (0).
    Abort,
    /// A transaction was committed (1).
    Commit,
    /// KRaft leader change (2).
    LeaderChange,
    /// KRaft snapshot header (3).
    SnapshotHeader,
    /// KRaft snapshot footer (4).
    SnapshotFooter,
    /// KRaft version (5).
    KraftVersion,
    /// KRaft voters (6).
    KraftVoters,
    /// A type this crate does not know.
    Unknown(i16),
}

impl ControlRecordType {
    /// The type with this id.
    pub const fn from_id(id: i16) -> Self {
        match id {
            0 => ControlRecordType::Abort,
            1 => ControlRecordType::Commit,
            2 => ControlRecordType::LeaderChange,
            3 => ControlRecordType::SnapshotHeader,
            4 => ControlRecordType::SnapshotFooter,
            5 => ControlRecordType::KraftVersion,
            6 => ControlRecordType::KraftVoters,
            other => ControlRecordType::Unknown(other),
        }
    }

    /// The type id.
    pub const fn id(self) -> i16 {
        match self {
            ControlRecordType::Abort => 0,
            ControlRecordType::Commit => 1,
            ControlRecordType::LeaderChange => 2,
            ControlRecordType::SnapshotHeader => 3,
            ControlRecordType::SnapshotFooter => 4,
            ControlRecordType::KraftVersion => 5,
            ControlRecordType::KraftVoters => 6,
            ControlRecordType::Unknown(id) => id,
        }
    }

    /// The 4-byte key of a control record of this type.
    pub fn key(self) -> [u8; 4] {
        let mut k = [0u8; 4];
        k[2..].copy_from_slice(&self.id().to_be_bytes());
        k
    }
}

/// A decoded control record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlRecord<'a> {
    /// A transaction marker.
    EndTransaction {
        /// Commit (true) or abort (false).
        commit: bool,
        /// The marker's version.
        version: i16,
        /// The transaction coordinator's epoch.
        coordinator_epoch: i32,
    },
    /// Any other control record (KRaft's), with its value undecoded.
    Other {
        /// The type.
        kind: ControlRecordType,
        /// The value.
        value: Option<&'a [u8]>,
    },
}

fn invalid(rec: &RecordView<'_>, field: &'static str, expected: &'static str) -> RecordError {
    RecordError::Invalid {
        offset: rec.span.start,
        field,
        expected,
    }
}

/// The type of a control record from its key (`ControlRecordType.parse`).
pub fn control_record_type(rec: &RecordView<'_>) -> Result<ControlRecordType, RecordError> {
    let key = rec
        .key
        .ok_or_else(|| invalid(rec, "control record key", "a non-null key"))?;
    if key.len() < 4 {
        return Err(invalid(rec, "control record key", "at least 4 bytes"));
    }
    let version = i16::from_be_bytes([key[0], key[1]]);
    if version != 0 {
        return Err(invalid(rec, "control record key version", "version 0"));
    }
    Ok(ControlRecordType::from_id(i16::from_be_bytes([
        key[2], key[3],
    ])))
}

/// Decodes a record of a control batch (offsets in errors are inside the batch's records).
pub fn parse_control_record<'a>(rec: &RecordView<'a>) -> Result<ControlRecord<'a>, RecordError> {
    let kind = control_record_type(rec)?;
    match kind {
        ControlRecordType::Abort | ControlRecordType::Commit => {
            let v = rec
                .value
                .ok_or_else(|| invalid(rec, "end transaction marker", "a non-null value"))?;
            if v.len() < 6 {
                return Err(invalid(rec, "end transaction marker", "at least 6 bytes"));
            }
            let version = i16::from_be_bytes([v[0], v[1]]);
            if version < 0 {
                return Err(invalid(
                    rec,
                    "end transaction marker version",
                    "a non-negative version",
                ));
            }
            Ok(ControlRecord::EndTransaction {
                commit: kind == ControlRecordType::Commit,
                version,
                coordinator_epoch: i32::from_be_bytes([v[2], v[3], v[4], v[5]]),
            })
        }
        kind => Ok(ControlRecord::Other {
            kind,
            value: rec.value,
        }),
    }
}

/// A transaction marker (`EndTransactionMarker`): the value of a commit or abort control
/// record, version 0 and the coordinator epoch. It encodes as messages do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EndTransactionMarker {
    /// Commit (true) or abort (false): the control record's type.
    pub commit: bool,
    /// The transaction coordinator's epoch.
    pub coordinator_epoch: i32,
}

impl EndTransactionMarker {
    /// The marker version Kafka writes (`EndTransactionMarker.CURRENT_END_TXN_MARKER_VERSION`).
    pub const VERSION: i16 = 0;

    /// The type of the control record that carries this marker.
    pub fn record_type(&self) -> ControlRecordType {
        if self.commit {
            ControlRecordType::Commit
        } else {
            ControlRecordType::Abort
        }
    }

    /// The bytes [`EndTransactionMarker::encode`] writes: version (int16) and coordinator
    /// epoch (int32).
    pub fn encoded_len(&self) -> usize {
        6
    }

    /// Writes the marker value (version 0, coordinator epoch) into `buf`; nothing is written
    /// when `buf` has no room for it.
    pub fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), BuildError> {
        check_room(buf, self.encoded_len())?;
        buf.put_i16(Self::VERSION);
        buf.put_i32(self.coordinator_epoch);
        Ok(())
    }

    /// The control batch this marker becomes in a partition
    /// (`MemoryRecords.withEndTransactionMarker`): one record, transactional and control bits
    /// set, no sequence.
    pub fn to_batch(
        &self,
        producer_id: i64,
        producer_epoch: i16,
        base_offset: i64,
        partition_leader_epoch: i32,
        timestamp: i64,
    ) -> Result<EncodedBatch, BuildError> {
        let mut value = [0u8; 6];
        self.encode(&mut &mut value[..])?;
        let mut b = BatchBuilder::new(BatchConfig {
            base_offset,
            partition_leader_epoch,
            producer_id,
            producer_epoch,
            transactional: true,
            control: true,
            ..BatchConfig::default()
        });
        b.try_append(
            timestamp,
            Some(&self.record_type().key()),
            Some(&value),
            &[],
        )?;
        b.build()
    }
}

/// Builds the control batch a transaction coordinator's marker becomes in a partition
/// (`MemoryRecords.withEndTransactionMarker`): one record, transactional and control bits set,
/// no sequence. [`EndTransactionMarker::to_batch`] as bytes.
pub fn end_transaction_marker_batch(
    commit: bool,
    coordinator_epoch: i32,
    producer_id: i64,
    producer_epoch: i16,
    base_offset: i64,
    partition_leader_epoch: i32,
    timestamp: i64,
) -> Result<Vec<u8>, BuildError> {
    EndTransactionMarker {
        commit,
        coordinator_epoch,
    }
    .to_batch(
        producer_id,
        producer_epoch,
        base_offset,
        partition_leader_epoch,
        timestamp,
    )
    .map(EncodedBatch::into_vec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{BatchView, DEFAULT_MAX_UNCOMPRESSED};
    use alloc::vec;

    #[test]
    fn the_marker_encodes_as_messages_do() {
        for (commit, epoch) in [(true, 0), (false, 7), (true, i32::MAX), (false, -1)] {
            let m = EndTransactionMarker {
                commit,
                coordinator_epoch: epoch,
            };
            let mut out = bytes::BytesMut::new();
            m.encode(&mut out).unwrap();
            assert_eq!(out.len(), m.encoded_len());
            let mut expected = vec![0u8, 0];
            expected.extend_from_slice(&epoch.to_be_bytes());
            assert_eq!(&out[..], &expected[..]);
            let mut short = [0u8; 5];
            assert_eq!(
                m.encode(&mut &mut short[..]),
                Err(BuildError::BufferTooSmall {
                    needed: 6,
                    remaining: 5
                })
            );
            let batch = m.to_batch(99, 2, 5000, 4, 1_700_000_000_000).unwrap();
            let mut written = bytes::BytesMut::new();
            batch.encode(&mut written).unwrap();
            assert_eq!(written.len(), batch.encoded_len());
            assert_eq!(
                &written[..],
                &end_transaction_marker_batch(commit, epoch, 99, 2, 5000, 4, 1_700_000_000_000)
                    .unwrap()[..]
            );
            let v = batch.view();
            let mut s = Vec::new();
            let rec = v.records(&mut s, 1 << 10).unwrap().next().unwrap().unwrap();
            assert_eq!(
                parse_control_record(&rec).unwrap(),
                ControlRecord::EndTransaction {
                    commit,
                    version: 0,
                    coordinator_epoch: epoch
                }
            );
            assert_eq!(control_record_type(&rec).unwrap(), m.record_type());
        }
    }

    #[test]
    fn marker_round_trip() {
        let b = end_transaction_marker_batch(true, 7, 1234, 5, 100, 3, 1_700_000_000_000).unwrap();
        let v = BatchView::new_checked(&b[..]).unwrap();
        v.validate().unwrap();
        assert!(v.is_control() && v.is_transactional());
        assert_eq!(
            (v.producer_id(), v.producer_epoch(), v.base_sequence()),
            (1234, 5, -1)
        );
        assert_eq!((v.base_offset(), v.partition_leader_epoch()), (100, 3));
        let mut s = Vec::new();
        let recs: Vec<_> = v
            .records(&mut s, DEFAULT_MAX_UNCOMPRESSED)
            .unwrap()
            .collect();
        assert_eq!(recs.len(), 1);
        let r = recs[0].as_ref().unwrap();
        assert_eq!(r.key, Some(&[0u8, 0, 0, 1][..]));
        assert_eq!(
            parse_control_record(r).unwrap(),
            ControlRecord::EndTransaction {
                commit: true,
                version: 0,
                coordinator_epoch: 7
            }
        );
        // The record is what Kafka writes: 4-byte key, 6-byte value, 17 bytes with its length
        // (EndTransactionMarker.CURRENT_END_TXN_SCHEMA_RECORD_SIZE).
        assert_eq!(r.span.len(), 17);
    }

    #[test]
    fn bad_keys_are_errors() {
        let mut b = BatchBuilder::new(BatchConfig {
            control: true,
            ..BatchConfig::default()
        });
        b.try_append(0, Some(&[0, 1, 0, 0]), None, &[]).unwrap();
        b.try_append(0, Some(&[0, 0]), None, &[]).unwrap();
        b.try_append(0, None, None, &[]).unwrap();
        b.try_append(0, Some(&[0, 0, 0, 0]), Some(&[0, 0]), &[])
            .unwrap();
        b.try_append(0, Some(&[0, 0, 0, 9]), Some(&[1]), &[])
            .unwrap();
        let bytes = b.finish().unwrap();
        let v = BatchView::new_checked(&bytes[..]).unwrap();
        let mut s = Vec::new();
        let recs: Vec<_> = v
            .records(&mut s, 1 << 20)
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for r in &recs[..4] {
            assert!(parse_control_record(r).is_err());
        }
        assert_eq!(
            parse_control_record(&recs[4]).unwrap(),
            ControlRecord::Other {
                kind: ControlRecordType::Unknown(9),
                value: Some(&[1][..])
            }
        );
    }
}
