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

use crate::error::{IndexError, StorageError, TxnIndexError};
use crate::storage::Storage;
use alloc::string::String;
use alloc::vec;
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

/// A segment's transaction index file (Kafka's `TransactionIndex`). As in Kafka the file is
/// created with its first entry; the entries are kept in memory as well.
#[derive(Debug)]
pub struct TransactionIndex<F> {
    path: String,
    base_offset: u64,
    /// The file, once it exists.
    file: Option<F>,
    entries: Vec<AbortedTxn>,
    /// Why the file's contents could not be used when it was opened.
    corrupt: Option<TxnIndexError>,
}

impl<F: core::fmt::Debug> TransactionIndex<F> {
    /// An index for a new segment: no file until an entry is appended.
    pub(crate) fn new(path: &str, base_offset: u64) -> Self {
        TransactionIndex {
            path: String::from(path),
            base_offset,
            file: None,
            entries: Vec::new(),
            corrupt: None,
        }
    }

    /// Opens `path` if it exists and reads its entries. A file that fails [`parse`] or
    /// [`sanity_check`] opens empty with [`corruption`](Self::corruption) set, for the caller to
    /// rebuild it.
    pub(crate) fn open<S: Storage<File = F>>(
        st: &mut S,
        path: &str,
        base_offset: u64,
    ) -> Result<Self, StorageError> {
        let mut idx = Self::new(path, base_offset);
        if !st.exists(path)? {
            return Ok(idx);
        }
        let mut file = st.open(path, false)?;
        let len = st.len(&mut file)?;
        let n = usize::try_from(len).map_err(|_| StorageError::Io {
            op: "open",
            path: String::from(path),
            detail: alloc::format!("transaction index of {len} bytes does not fit in memory"),
        })?;
        let mut data = vec![0u8; n];
        st.read_exact_at(&mut file, 0, &mut data)?;
        match parse(&data).and_then(|e| sanity_check(&e, base_offset).map(|()| e)) {
            Ok(entries) => idx.entries = entries,
            Err(e) => idx.corrupt = Some(e),
        }
        idx.file = Some(file);
        Ok(idx)
    }

    /// The file path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The entries, in order.
    pub fn entries(&self) -> &[AbortedTxn] {
        &self.entries
    }

    /// Whether the file exists (was opened or written).
    pub fn has_file(&self) -> bool {
        self.file.is_some()
    }

    /// Why the file's contents were refused on open, if they were.
    pub fn corruption(&self) -> Option<&TxnIndexError> {
        self.corrupt.as_ref()
    }

    /// Checks the entries against the segment's next offset: Kafka's sanity check, plus
    /// klog's: last offsets strictly increase and lie below `next_offset`.
    pub fn check(&self, next_offset: u64) -> Result<(), IndexError> {
        if let Some(e) = &self.corrupt {
            return Err(IndexError::Txn {
                path: self.path.clone(),
                source: e.clone(),
            });
        }
        let bad = |entry: usize, what| IndexError::Corrupt {
            path: self.path.clone(),
            entry: entry as u32,
            what,
        };
        for (i, t) in self.entries.iter().enumerate() {
            if i > 0 && t.last_offset <= self.entries[i - 1].last_offset {
                return Err(bad(
                    i,
                    "last offsets of aborted transactions do not increase",
                ));
            }
            if t.last_offset as u64 >= next_offset || t.first_offset > t.last_offset {
                return Err(bad(i, "aborted transaction outside its segment's offsets"));
            }
        }
        Ok(())
    }

    /// Appends an entry (written at once). Its last offset must be larger than the last one
    /// (Kafka's rule) and not below the base offset.
    pub(crate) fn append<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        txn: AbortedTxn,
    ) -> Result<(), IndexError> {
        let last = self.entries.last().map(|t| t.last_offset);
        if txn.last_offset < 0
            || (txn.last_offset as u64) < self.base_offset
            || last.is_some_and(|l| l >= txn.last_offset)
        {
            return Err(IndexError::InvalidOffset {
                path: self.path.clone(),
                offset: txn.last_offset.max(0) as u64,
                base_offset: self.base_offset,
                last_offset: last.unwrap_or(-1).max(0) as u64,
            });
        }
        let at = (self.entries.len() * ABORTED_TXN_SIZE) as u64;
        let file = match &mut self.file {
            Some(f) => f,
            None => {
                let mut f = st.open(&self.path, true)?;
                st.set_len(&mut f, 0)?;
                self.file.insert(f)
            }
        };
        st.write_at(file, at, &txn.to_bytes())?;
        self.entries.push(txn);
        Ok(())
    }

    /// Removes the entries whose last offset is `>= offset` (Kafka's `truncateTo`).
    pub(crate) fn truncate_to<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        offset: u64,
    ) -> Result<(), StorageError> {
        let keep = self
            .entries
            .iter()
            .position(|t| t.last_offset < 0 || t.last_offset as u64 >= offset)
            .unwrap_or(self.entries.len());
        if keep < self.entries.len() {
            self.entries.truncate(keep);
            if let Some(f) = &mut self.file {
                st.set_len(f, (keep * ABORTED_TXN_SIZE) as u64)?;
            }
        }
        Ok(())
    }

    /// Removes every entry; an existing file is emptied, none is created (Kafka's `reset`).
    pub(crate) fn reset<S: Storage<File = F>>(&mut self, st: &mut S) -> Result<(), StorageError> {
        self.entries.clear();
        self.corrupt = None;
        if let Some(f) = &mut self.file {
            st.set_len(f, 0)?;
        }
        Ok(())
    }

    /// Syncs the file, if there is one.
    pub(crate) fn sync<S: Storage<File = F>>(&mut self, st: &mut S) -> Result<(), StorageError> {
        match &mut self.file {
            Some(f) => st.sync(f),
            None => Ok(()),
        }
    }

    /// Removes the file, if there is one.
    pub(crate) fn delete<S: Storage<File = F>>(self, st: &mut S) -> Result<(), StorageError> {
        if self.file.is_some() || st.exists(&self.path)? {
            match st.remove(&self.path) {
                Ok(()) | Err(StorageError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The aborted transactions overlapping `fetch_offset..upper_bound_offset`, and whether the
    /// search is complete (an entry's last stable offset reached the upper bound) or must go
    /// on in the next segment (Kafka's `collectAbortedTxns`).
    pub fn collect_aborted_txns(
        &self,
        fetch_offset: u64,
        upper_bound_offset: u64,
    ) -> (Vec<AbortedTxn>, bool) {
        let mut out = Vec::new();
        let (fetch, upper) = (fetch_offset as i64, upper_bound_offset as i64);
        for t in &self.entries {
            if t.last_offset >= fetch && t.first_offset < upper {
                out.push(*t);
            }
            if t.last_stable_offset >= upper {
                return (out, true);
            }
        }
        (out, false)
    }
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
    fn file_is_created_by_the_first_entry_truncated_and_reset() {
        use crate::storage::MemStorage;
        let mut st = MemStorage::new();
        let path = "t-0/00000000000000000100.txnindex";
        let mut idx = TransactionIndex::new(path, 100);
        assert!(!st.paths().iter().any(|p| p == path));
        idx.reset(&mut st).unwrap();
        assert!(
            !st.paths().iter().any(|p| p == path),
            "reset creates no file"
        );
        let entries: Vec<AbortedTxn> = (0..200i64)
            .map(|i| AbortedTxn::new(i % 3, 90 + i * 5, 100 + i * 5, 95 + i * 5))
            .collect();
        for t in &entries {
            idx.append(&mut st, *t).unwrap();
        }
        assert_eq!(st.contents(path).unwrap(), encode(&entries));
        // Kafka's rule: last offsets increase
        let e = idx
            .append(&mut st, AbortedTxn::new(1, 0, 1095, 0))
            .unwrap_err();
        assert!(
            matches!(e, IndexError::InvalidOffset { offset: 1095, .. }),
            "{e}"
        );
        idx.check(1096).unwrap();
        assert!(
            idx.check(1095).is_err(),
            "an entry at the segment's next offset"
        );
        // truncation to offset 600 keeps the entries ending below it
        idx.truncate_to(&mut st, 600).unwrap();
        assert_eq!(idx.entries(), &entries[..100]);
        assert_eq!(st.contents(path).unwrap(), encode(&entries[..100]));
        let reopened = TransactionIndex::open(&mut st, path, 100).unwrap();
        assert_eq!(reopened.entries(), idx.entries());
        // overlapping a fetch range; complete once an entry's LSO reaches the upper bound
        let (found, complete) = idx.collect_aborted_txns(200, 212);
        assert_eq!(found, entries[20..25].to_vec());
        assert!(complete);
        let (found, complete) = idx.collect_aborted_txns(590, 10_000);
        assert_eq!(found, entries[98..100].to_vec());
        assert!(!complete, "go on in the next segment");
        idx.reset(&mut st).unwrap();
        assert_eq!(st.contents(path).unwrap(), Vec::<u8>::new());
        idx.delete(&mut st).unwrap();
        assert!(!st.paths().iter().any(|p| p == path));
        // a corrupt file opens empty, with the reason
        let mut f = st.open(path, true).unwrap();
        st.write_at(&mut f, 0, &[0u8; 40]).unwrap();
        let bad = TransactionIndex::open(&mut st, path, 100).unwrap();
        assert!(matches!(
            bad.corruption(),
            Some(TxnIndexError::PartialEntry { position: 34, .. })
        ));
        assert!(bad.check(1000).is_err());
    }

    #[test]
    fn arbitrary_bytes_parse_or_fail_cleanly() {
        let mut rng = kproto::rng::Rng::new(34);
        for _ in 0..3000 {
            let mut b = alloc::vec![0u8; rng.below(400) as usize];
            rng.fill(&mut b);
            if rng.bool() {
                for i in (0..b.len()).step_by(ABORTED_TXN_SIZE) {
                    b[i] = 0; // mostly version 0
                }
            }
            match parse(&b) {
                Ok(entries) => {
                    assert_eq!(encode(&entries), b);
                    let _ = sanity_check(&entries, rng.next_u64());
                }
                Err(TxnIndexError::PartialEntry { position, len }) => {
                    assert_eq!(position as usize + len as usize, b.len())
                }
                Err(TxnIndexError::UnknownVersion { position, .. }) => {
                    assert_eq!(position as usize % ABORTED_TXN_SIZE, 0)
                }
                Err(e) => panic!("{e}"),
            }
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
