//! The transaction index (`.txnindex`): one [`AbortedTxn`] per ABORT marker written in the
//! segment, in Kafka's format, byte for byte.
//!
//! Each entry is 34 bytes, big-endian: version (int16, 0), producer id (int64), first offset
//! (int64, the aborted transaction's first offset, possibly in an earlier segment), last offset
//! (int64, the offset of the ABORT marker) and last stable offset (int64, the partition's LSO
//! when the marker was appended). Unlike the offset and time indexes the file is not
//! preallocated: its length is its entries (Kafka's `TransactionIndex`, `AbortedTxn`).
//!
//! Parsing is strict where Kafka's reader is not: Kafka's iterator stops silently before a
//! partial trailing entry, [`parse`] reports it (with its byte position) so that the caller
//! decides; the version rule and [`sanity_check`] are Kafka's.

use crate::error::TxnIndexError;
use alloc::vec::Vec;

/// Size of one `.txnindex` entry (Kafka's `AbortedTxn.TOTAL_SIZE`).
pub const ABORTED_TXN_SIZE: usize = 34;

/// The entry version klog writes and the highest Kafka reads (`AbortedTxn.CURRENT_VERSION`).
pub const ABORTED_TXN_VERSION: i16 = 0;

/// One aborted transaction, as stored in the transaction index of the segment holding its
/// ABORT marker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbortedTxn {
    /// The entry's version field as stored (int16; klog writes [`ABORTED_TXN_VERSION`]).
    pub version: i16,
    /// The producer whose transaction was aborted.
    pub producer_id: i64,
    /// The first offset of the transaction (its first data batch).
    pub first_offset: i64,
    /// The offset of the ABORT marker.
    pub last_offset: i64,
    /// The last stable offset of the partition when the marker was appended.
    pub last_stable_offset: i64,
}

impl AbortedTxn {
    /// An entry of the current version.
    pub fn new(
        producer_id: i64,
        first_offset: i64,
        last_offset: i64,
        last_stable_offset: i64,
    ) -> Self {
        AbortedTxn {
            version: ABORTED_TXN_VERSION,
            producer_id,
            first_offset,
            last_offset,
            last_stable_offset,
        }
    }

    /// The version as Kafka's `AbortedTxn.version()` reads it (and `kafka-dump-log.sh`
    /// prints it): the first byte of the int16 field, signed.
    pub fn kafka_version(&self) -> i8 {
        self.version.to_be_bytes()[0] as i8
    }

    /// The entry's 34 bytes.
    pub fn to_bytes(&self) -> [u8; ABORTED_TXN_SIZE] {
        let mut b = [0u8; ABORTED_TXN_SIZE];
        b[0..2].copy_from_slice(&self.version.to_be_bytes());
        b[2..10].copy_from_slice(&self.producer_id.to_be_bytes());
        b[10..18].copy_from_slice(&self.first_offset.to_be_bytes());
        b[18..26].copy_from_slice(&self.last_offset.to_be_bytes());
        b[26..34].copy_from_slice(&self.last_stable_offset.to_be_bytes());
        b
    }

    /// Reads an entry from its 34 bytes (no validation; see [`parse`]).
    pub fn from_bytes(b: &[u8; ABORTED_TXN_SIZE]) -> Self {
        let i64_at = |at: usize| {
            let mut x = [0u8; 8];
            x.copy_from_slice(&b[at..at + 8]);
            i64::from_be_bytes(x)
        };
        AbortedTxn {
            version: i16::from_be_bytes([b[0], b[1]]),
            producer_id: i64_at(2),
            first_offset: i64_at(10),
            last_offset: i64_at(18),
            last_stable_offset: i64_at(26),
        }
    }
}

impl core::fmt::Display for AbortedTxn {
    /// Kafka's `AbortedTxn.toString()`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "AbortedTxn(version={}, producerId={}, firstOffset={}, lastOffset={}, lastStableOffset={})",
            self.kafka_version(),
            self.producer_id,
            self.first_offset,
            self.last_offset,
            self.last_stable_offset
        )
    }
}

/// Parses a whole `.txnindex` file. Fails on an entry whose version (read as Kafka reads it,
/// [`AbortedTxn::kafka_version`]) is newer than [`ABORTED_TXN_VERSION`] and on a partial
/// trailing entry, naming the entry's byte position.
pub fn parse(bytes: &[u8]) -> Result<Vec<AbortedTxn>, TxnIndexError> {
    let mut out = Vec::with_capacity(bytes.len() / ABORTED_TXN_SIZE);
    let mut chunks = bytes.chunks_exact(ABORTED_TXN_SIZE);
    for (i, chunk) in chunks.by_ref().enumerate() {
        let mut b = [0u8; ABORTED_TXN_SIZE];
        b.copy_from_slice(chunk);
        let txn = AbortedTxn::from_bytes(&b);
        if i16::from(txn.kafka_version()) > ABORTED_TXN_VERSION {
            return Err(TxnIndexError::UnknownVersion {
                position: (i * ABORTED_TXN_SIZE) as u64,
                version: txn.kafka_version(),
            });
        }
        out.push(txn);
    }
    let rest = chunks.remainder().len();
    if rest != 0 {
        return Err(TxnIndexError::PartialEntry {
            position: (bytes.len() - rest) as u64,
            len: rest as u32,
        });
    }
    Ok(out)
}

/// Kafka's `TransactionIndex.sanityCheck`: no entry's last offset is below the segment's base
/// offset. The error names the entry's byte position.
pub fn sanity_check(entries: &[AbortedTxn], base_offset: u64) -> Result<(), TxnIndexError> {
    for (i, txn) in entries.iter().enumerate() {
        if txn.last_offset < 0 || (txn.last_offset as u64) < base_offset {
            return Err(TxnIndexError::LastOffsetBeforeBase {
                position: (i * ABORTED_TXN_SIZE) as u64,
                last_offset: txn.last_offset,
                base_offset,
            });
        }
    }
    Ok(())
}

/// The bytes of a `.txnindex` holding `entries`, in order.
pub fn encode(entries: &[AbortedTxn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * ABORTED_TXN_SIZE);
    for txn in entries {
        out.extend_from_slice(&txn.to_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn entry_layout_is_kafkas() {
        let txn = AbortedTxn::new(0x0102_0304_0506_0708, 5, 0x1_0000_0000, -1);
        let b = txn.to_bytes();
        #[rustfmt::skip]
        let want: [u8; 34] = [
            0, 0,                                   // version int16
            1, 2, 3, 4, 5, 6, 7, 8,                 // producerId int64
            0, 0, 0, 0, 0, 0, 0, 5,                 // firstOffset int64
            0, 0, 0, 1, 0, 0, 0, 0,                 // lastOffset int64
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // lastStableOffset int64
        ];
        assert_eq!(b, want);
        assert_eq!(AbortedTxn::from_bytes(&b), txn);
        assert_eq!(
            format!("{txn}"),
            "AbortedTxn(version=0, producerId=72623859790382856, firstOffset=5, lastOffset=4294967296, lastStableOffset=-1)"
        );
    }

    #[test]
    fn parse_round_trips_hundreds_of_entries() {
        let entries: Vec<AbortedTxn> = (0..300i64)
            .map(|i| AbortedTxn::new(1000 + i % 7, i * 10, i * 10 + 9, i * 10 + 3))
            .collect();
        let bytes = encode(&entries);
        assert_eq!(bytes.len(), 300 * ABORTED_TXN_SIZE);
        assert_eq!(parse(&bytes).unwrap(), entries);
        assert_eq!(parse(&[]).unwrap(), Vec::new());
        sanity_check(&entries, 9).unwrap();
    }

    #[test]
    fn partial_entry_names_its_position() {
        let mut bytes = encode(&[AbortedTxn::new(1, 0, 3, 0), AbortedTxn::new(1, 4, 7, 4)]);
        bytes.extend_from_slice(&[0u8; 20]);
        assert_eq!(
            parse(&bytes),
            Err(TxnIndexError::PartialEntry {
                position: 68,
                len: 20
            })
        );
        assert_eq!(
            format!("{}", parse(&bytes).unwrap_err()),
            "partial transaction index entry at byte 68 (20 of 34 bytes)"
        );
    }

    #[test]
    fn newer_version_is_refused_as_kafka_reads_it() {
        let mut second = AbortedTxn::new(1, 4, 7, 4);
        second.version = 0x0100; // first byte 1: Kafka's version() is 1
        let bytes = encode(&[AbortedTxn::new(1, 0, 3, 0), second]);
        assert_eq!(
            parse(&bytes),
            Err(TxnIndexError::UnknownVersion {
                position: 34,
                version: 1
            })
        );
        // Kafka reads only the first byte: 0x0001 is version 0 to it, and a negative first
        // byte is not newer than the current version.
        for v in [0x0001i16, -1] {
            second.version = v;
            let bytes = encode(&[second]);
            assert_eq!(parse(&bytes).unwrap()[0].version, v);
            assert_eq!(encode(&parse(&bytes).unwrap()), bytes);
        }
    }

    #[test]
    fn sanity_check_refuses_last_offset_below_base() {
        let entries = [
            AbortedTxn::new(1, 90, 100, 90),
            AbortedTxn::new(2, 80, 99, 80),
        ];
        sanity_check(&entries[..1], 100).unwrap();
        assert_eq!(
            sanity_check(&entries, 100),
            Err(TxnIndexError::LastOffsetBeforeBase {
                position: 34,
                last_offset: 99,
                base_offset: 100
            })
        );
        assert!(sanity_check(&[AbortedTxn::new(1, -5, -1, 0)], 0).is_err());
    }
}
