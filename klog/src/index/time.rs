//! The time index (`.timeindex`): timestamp -> relative offset.

use super::{be_i64, be_u32, relative_offset, IndexFile};
use crate::error::{IndexError, StorageError};
use crate::storage::Storage;

/// A timestamp and an offset (Kafka's `TimestampOffset`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimestampOffset {
    /// Milliseconds since the epoch, or -1 (no timestamp).
    pub timestamp: i64,
    /// Absolute offset.
    pub offset: u64,
}

/// Kafka's `RecordBatch.NO_TIMESTAMP`.
pub const NO_TIMESTAMP: i64 = -1;

/// Size of one `.timeindex` entry.
pub const TIME_ENTRY_SIZE: usize = 12;

/// Kafka's time index: 12-byte entries `(timestamp: int64, relative offset: int32)`, with
/// timestamps and offsets non-decreasing. One slot is kept free for the entry written when
/// the segment becomes inactive, so it is full one entry early.
#[derive(Debug)]
pub struct TimeIndex<F> {
    idx: IndexFile<F>,
    last: TimestampOffset,
}

impl<F: core::fmt::Debug> TimeIndex<F> {
    /// Creates (or empties) `path` and preallocates `max_index_size` bytes.
    pub(crate) fn create<S: Storage<File = F>>(
        st: &mut S,
        path: &str,
        base_offset: u64,
        max_index_size: u32,
    ) -> Result<Self, StorageError> {
        let idx = IndexFile::create(st, path, base_offset, TIME_ENTRY_SIZE, max_index_size)?;
        Ok(TimeIndex {
            last: TimestampOffset {
                timestamp: NO_TIMESTAMP,
                offset: base_offset,
            },
            idx,
        })
    }

    /// Opens an existing index; its entry count is its length divided by 12.
    ///
    /// Public for the fuzz targets, which drive an index over arbitrary file bytes.
    pub fn open<S: Storage<File = F>>(
        st: &mut S,
        path: &str,
        base_offset: u64,
    ) -> Result<Self, StorageError> {
        let idx = IndexFile::open(st, path, base_offset, TIME_ENTRY_SIZE)?;
        let mut t = TimeIndex {
            last: TimestampOffset {
                timestamp: NO_TIMESTAMP,
                offset: base_offset,
            },
            idx,
        };
        t.last = t.last_from_entries();
        Ok(t)
    }

    fn last_from_entries(&self) -> TimestampOffset {
        match self.entries() {
            0 => TimestampOffset {
                timestamp: NO_TIMESTAMP,
                offset: self.idx.base_offset,
            },
            n => self.entry(n - 1),
        }
    }

    /// The file path.
    pub fn path(&self) -> &str {
        &self.idx.path
    }

    /// The segment's base offset.
    pub fn base_offset(&self) -> u64 {
        self.idx.base_offset
    }

    /// Number of entries.
    pub fn entries(&self) -> u32 {
        self.idx.entries()
    }

    /// Entries the file has room for.
    pub fn max_entries(&self) -> u32 {
        self.idx.max_entries()
    }

    /// The file's length in bytes.
    pub fn file_len(&self) -> u64 {
        self.idx.alloc_len
    }

    /// Full when one free slot is left (kept for the roll-time entry).
    pub fn is_full(&self) -> bool {
        self.entries() >= self.max_entries().saturating_sub(1)
    }

    /// Entry `n` (0-based).
    pub fn entry(&self, n: u32) -> TimestampOffset {
        let e = self.idx.entry(n);
        TimestampOffset {
            timestamp: be_i64(&e[0..8]),
            offset: self.idx.base_offset + u64::from(be_u32(&e[8..12])),
        }
    }

    /// The last entry, or `(-1, base offset)` when empty.
    pub fn last_entry(&self) -> TimestampOffset {
        self.last
    }

    /// Appends `(timestamp, offset)` when the timestamp is larger than the last one (Kafka's
    /// `maybeAppend`). A smaller offset or timestamp than the last entry's is an error; an
    /// equal timestamp is skipped. Unless `skip_full_check`, a full index is an error.
    ///
    /// Public for the fuzz targets, which drive an index over arbitrary file bytes.
    pub fn maybe_append<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        timestamp: i64,
        offset: u64,
        skip_full_check: bool,
    ) -> Result<(), IndexError> {
        if !skip_full_check && self.is_full() {
            return Err(IndexError::Full {
                path: self.idx.path.clone(),
                entries: self.entries(),
            });
        }
        let invalid_offset = || IndexError::InvalidOffset {
            path: self.idx.path.clone(),
            offset,
            base_offset: self.idx.base_offset,
            last_offset: self.last.offset,
        };
        if self.entries() != 0 && offset < self.last.offset {
            return Err(invalid_offset());
        }
        if self.entries() != 0 && timestamp < self.last.timestamp {
            return Err(IndexError::InvalidTimestamp {
                path: self.idx.path.clone(),
                timestamp,
                last_timestamp: self.last.timestamp,
            });
        }
        if timestamp > self.last.timestamp {
            let rel = relative_offset(self.idx.base_offset, offset).ok_or_else(invalid_offset)?;
            if self.entries() >= self.max_entries() {
                // skip_full_check past the last slot: grow the file by one entry
                let len =
                    u32::try_from(self.idx.alloc_len + TIME_ENTRY_SIZE as u64).unwrap_or(u32::MAX);
                self.idx.resize(st, len)?;
            }
            let mut e = [0u8; TIME_ENTRY_SIZE];
            e[0..8].copy_from_slice(&timestamp.to_be_bytes());
            e[8..12].copy_from_slice(&rel.to_be_bytes());
            self.idx.push(&e);
            self.last = TimestampOffset { timestamp, offset };
        }
        Ok(())
    }

    /// The entry with the largest timestamp `<= target`, or `(-1, base offset)`.
    pub fn lookup(&self, target: i64) -> TimestampOffset {
        match self.idx.largest_lower_bound(target, |e| be_i64(&e[0..8])) {
            Some(slot) => self.entry(slot),
            None => TimestampOffset {
                timestamp: NO_TIMESTAMP,
                offset: self.idx.base_offset,
            },
        }
    }

    /// Removes every entry with an offset `>= offset`.
    ///
    /// Public for the fuzz targets, which drive an index over arbitrary file bytes.
    pub fn truncate_to(&mut self, offset: u64) {
        let mut keep = self.entries();
        while keep > 0 && self.entry(keep - 1).offset >= offset {
            keep -= 1;
        }
        self.idx.truncate_entries(keep);
        self.last = self.last_from_entries();
    }

    /// Sets the file length (preallocation) to `size` bytes rounded down to whole entries.
    pub(crate) fn resize<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        size: u32,
    ) -> Result<(), StorageError> {
        self.idx.resize(st, size)
    }

    /// Trims the file to its entries.
    pub(crate) fn trim_to_valid_size<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
    ) -> Result<(), StorageError> {
        self.idx.trim(st)
    }

    /// Removes every entry and preallocates `max_index_size` bytes again.
    pub(crate) fn reset<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        max_index_size: u32,
    ) -> Result<(), StorageError> {
        self.idx.reset(st, max_index_size)?;
        self.last = self.last_from_entries();
        Ok(())
    }

    /// Writes the entries appended since the last write to the file, in one write (resize,
    /// trim and sync do it too). Until then they are in memory only: lookups see them, the
    /// file does not.
    pub(crate) fn write_entries<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
    ) -> Result<(), StorageError> {
        self.idx.write_pending(st)
    }

    /// Makes the file durable.
    pub(crate) fn sync<S: Storage<File = F>>(&mut self, st: &mut S) -> Result<(), StorageError> {
        self.idx.sync(st)
    }

    /// Kafka's sanity check (the last timestamp is not below the first, the last offset not
    /// below the base offset, the length is whole entries) plus klog's: timestamps and offsets
    /// never decrease, and offsets stay below `next_offset`.
    pub fn sanity_check(&self, next_offset: u64) -> Result<(), IndexError> {
        if self.idx.alloc_len % TIME_ENTRY_SIZE as u64 != 0 {
            return Err(self
                .idx
                .corrupt(self.entries(), "length is not a multiple of 12"));
        }
        let mut prev: Option<TimestampOffset> = None;
        for i in 0..self.entries() {
            let e = self.entry(i);
            if self.idx.entry(i)[8] & 0x80 != 0 {
                return Err(self.idx.corrupt(i, "negative relative offset"));
            }
            if e.offset >= next_offset.max(self.idx.base_offset + 1) {
                return Err(self.idx.corrupt(i, "offset beyond the end of the segment"));
            }
            if let Some(p) = prev {
                if e.timestamp < p.timestamp {
                    return Err(self.idx.corrupt(i, "timestamps decrease"));
                }
                if e.offset < p.offset {
                    return Err(self.idx.corrupt(i, "offsets decrease"));
                }
            }
            prev = Some(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemStorage;

    fn idx(st: &mut MemStorage, max: u32) -> TimeIndex<crate::storage::MemFile> {
        TimeIndex::create(st, "t-0/00000000000000000045.timeindex", 45, max).unwrap()
    }

    #[test]
    fn lookup_and_append() {
        // TimeIndexTest.testLookUp / testEntry
        let mut st = MemStorage::new();
        let mut index = idx(&mut st, 30 * 12);
        assert_eq!(
            index.lookup(100),
            TimestampOffset {
                timestamp: -1,
                offset: 45
            }
        );
        // (timestamp 10*i, offset 45+10*i) for i in 1..=29: the index is then full
        for i in 1..=29i64 {
            index
                .maybe_append(&mut st, i * 10, 45 + i as u64 * 10, false)
                .unwrap();
        }
        assert!(index.is_full(), "29 of 30 slots used: one kept free");
        assert!(matches!(
            index.maybe_append(&mut st, 10_000, 10_000, false),
            Err(IndexError::Full { .. })
        ));
        assert_eq!(
            index.lookup(9),
            TimestampOffset {
                timestamp: -1,
                offset: 45
            }
        );
        assert_eq!(
            index.lookup(10),
            TimestampOffset {
                timestamp: 10,
                offset: 55
            }
        );
        assert_eq!(
            index.lookup(11),
            TimestampOffset {
                timestamp: 10,
                offset: 55
            }
        );
        assert_eq!(
            index.lookup(280),
            TimestampOffset {
                timestamp: 280,
                offset: 325
            }
        );
        assert_eq!(
            index.lookup(i64::MAX),
            TimestampOffset {
                timestamp: 290,
                offset: 335
            }
        );
        // the roll-time entry may use the spare slot
        index.maybe_append(&mut st, 300, 340, true).unwrap();
        assert_eq!(index.entries(), 30);
        assert_eq!(
            index.last_entry(),
            TimestampOffset {
                timestamp: 300,
                offset: 340
            }
        );
    }

    #[test]
    fn equal_timestamps_are_skipped_and_decreasing_rejected() {
        let mut st = MemStorage::new();
        let mut index = idx(&mut st, 120);
        index.maybe_append(&mut st, 100, 50, false).unwrap();
        index.maybe_append(&mut st, 100, 51, false).unwrap();
        assert_eq!(index.entries(), 1);
        assert!(matches!(
            index.maybe_append(&mut st, 99, 52, false),
            Err(IndexError::InvalidTimestamp { .. })
        ));
        assert!(matches!(
            index.maybe_append(&mut st, 101, 49, false),
            Err(IndexError::InvalidOffset { .. })
        ));
        // the same entry again (a close after a roll) is accepted and ignored
        index.maybe_append(&mut st, 100, 50, true).unwrap();
        assert_eq!(index.entries(), 1);
    }

    #[test]
    fn truncate_and_bytes() {
        // TimeIndexTest.testTruncate
        let mut st = MemStorage::new();
        let mut index = idx(&mut st, 30 * 12);
        for i in 1..=10i64 {
            index
                .maybe_append(&mut st, i * 10, 45 + i as u64 * 10, false)
                .unwrap();
        }
        index.write_entries(&mut st).unwrap();
        let raw = st.contents(index.path()).unwrap();
        assert_eq!(raw.len(), 360);
        assert_eq!(&raw[..12], &[0, 0, 0, 0, 0, 0, 0, 10, 0, 0, 0, 10]);
        index.truncate_to(65);
        assert_eq!(index.entries(), 1);
        assert_eq!(
            index.last_entry(),
            TimestampOffset {
                timestamp: 10,
                offset: 55
            }
        );
        index.truncate_to(66);
        assert_eq!(index.entries(), 1);
        index.truncate_to(0);
        assert_eq!(
            index.last_entry(),
            TimestampOffset {
                timestamp: -1,
                offset: 45
            }
        );
        index.maybe_append(&mut st, 5, 46, false).unwrap();
        index.trim_to_valid_size(&mut st).unwrap();
        let re = TimeIndex::open(&mut st, index.path(), 45).unwrap();
        assert_eq!(
            re.last_entry(),
            TimestampOffset {
                timestamp: 5,
                offset: 46
            }
        );
        re.sanity_check(47).unwrap();
        assert!(
            re.sanity_check(46).is_err(),
            "offset 46 is not in a segment ending before it"
        );
    }

    #[test]
    fn sanity_check_of_a_preallocated_unclean_file() {
        // an unclean stop leaves zero-filled slots after the entries
        let mut st = MemStorage::new();
        let mut index = idx(&mut st, 120);
        index.maybe_append(&mut st, 100, 50, false).unwrap();
        index.write_entries(&mut st).unwrap();
        let re = TimeIndex::open(&mut st, index.path(), 45).unwrap();
        assert_eq!(re.entries(), 10);
        let e = re.sanity_check(60).unwrap_err();
        assert!(matches!(e, IndexError::Corrupt { entry: 1, .. }), "{e}");
    }
}
