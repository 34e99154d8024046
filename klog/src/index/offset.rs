//! The offset index (`.index`): relative offset -> physical position.

use super::{be_u32, relative_offset, IndexFile};
use crate::error::{IndexError, StorageError};
use crate::storage::Storage;

/// An offset and the byte position in the `.log` of the batch it was indexed for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPosition {
    /// Absolute offset.
    pub offset: u64,
    /// Byte position in the segment's `.log`.
    pub position: u32,
}

/// Kafka's offset index: 8-byte entries `(relative offset: int32, position: int32)`.
#[derive(Debug)]
pub struct OffsetIndex<F> {
    idx: IndexFile<F>,
}

/// Size of one `.index` entry.
pub const OFFSET_ENTRY_SIZE: usize = 8;

impl<F: core::fmt::Debug> OffsetIndex<F> {
    /// Creates (or empties) `path` and preallocates `max_index_size` bytes (rounded down to
    /// whole entries).
    pub(crate) fn create<S: Storage<File = F>>(
        st: &mut S,
        path: &str,
        base_offset: u64,
        max_index_size: u32,
    ) -> Result<Self, StorageError> {
        Ok(OffsetIndex {
            idx: IndexFile::create(st, path, base_offset, OFFSET_ENTRY_SIZE, max_index_size)?,
        })
    }

    /// Opens an existing index; its entry count is its length divided by 8.
    ///
    /// Public for the fuzz targets, which drive an index over arbitrary file bytes.
    pub fn open<S: Storage<File = F>>(
        st: &mut S,
        path: &str,
        base_offset: u64,
    ) -> Result<Self, StorageError> {
        Ok(OffsetIndex {
            idx: IndexFile::open(st, path, base_offset, OFFSET_ENTRY_SIZE)?,
        })
    }

    /// The segment's base offset.
    pub fn base_offset(&self) -> u64 {
        self.idx.base_offset
    }

    /// The file path.
    pub fn path(&self) -> &str {
        &self.idx.path
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

    /// Whether no entry can be appended.
    pub fn is_full(&self) -> bool {
        self.entries() >= self.max_entries()
    }

    /// Entry `n` (0-based).
    pub fn entry(&self, n: u32) -> OffsetPosition {
        let e = self.idx.entry(n);
        OffsetPosition {
            offset: self.idx.base_offset + u64::from(be_u32(&e[0..4])),
            position: be_u32(&e[4..8]),
        }
    }

    /// The last entry's offset, or the base offset when empty.
    pub fn last_offset(&self) -> u64 {
        match self.entries() {
            0 => self.idx.base_offset,
            n => self.entry(n - 1).offset,
        }
    }

    /// Whether `offset` can be stored relative to the base offset (an int32).
    pub fn can_append_offset(&self, offset: u64) -> bool {
        relative_offset(self.idx.base_offset, offset).is_some()
    }

    /// Appends `(offset, position)`: the offset must exceed the last one and fit an int32
    /// relative offset, and the index must not be full.
    ///
    /// The entry is kept in memory; `write_entries` writes it to the file.
    ///
    /// Public for the fuzz targets, which drive an index over arbitrary file bytes.
    pub fn append(&mut self, offset: u64, position: u32) -> Result<(), IndexError> {
        if self.is_full() {
            return Err(IndexError::Full {
                path: self.idx.path.clone(),
                entries: self.entries(),
            });
        }
        let rel = relative_offset(self.idx.base_offset, offset);
        match rel {
            Some(rel) if self.entries() == 0 || offset > self.last_offset() => {
                let mut e = [0u8; OFFSET_ENTRY_SIZE];
                e[0..4].copy_from_slice(&rel.to_be_bytes());
                e[4..8].copy_from_slice(&position.to_be_bytes());
                self.idx.push(&e);
                Ok(())
            }
            _ => Err(IndexError::InvalidOffset {
                path: self.idx.path.clone(),
                offset,
                base_offset: self.idx.base_offset,
                last_offset: self.last_offset(),
            }),
        }
    }

    /// The entry with the largest offset `<= target`, or `(base offset, 0)` when there is none.
    pub fn lookup(&self, target: u64) -> OffsetPosition {
        let key = |e: &[u8]| i64::from(be_u32(&e[0..4]));
        let rel = match target.checked_sub(self.idx.base_offset) {
            Some(r) => i64::try_from(r).unwrap_or(i64::MAX),
            None => -1,
        };
        match self.idx.largest_lower_bound(rel, key) {
            Some(slot) => self.entry(slot),
            None => OffsetPosition {
                offset: self.idx.base_offset,
                position: 0,
            },
        }
    }

    /// Removes every entry with an offset `>= offset`.
    ///
    /// Public for the fuzz targets, which drive an index over arbitrary file bytes.
    pub fn truncate_to(&mut self, offset: u64) {
        let keep = match offset.checked_sub(self.idx.base_offset) {
            None | Some(0) => 0,
            Some(rel) => {
                let target = i64::try_from(rel - 1).unwrap_or(i64::MAX);
                self.idx
                    .largest_lower_bound(target, |e| i64::from(be_u32(&e[0..4])))
                    .map_or(0, |s| s + 1)
            }
        };
        self.idx.truncate_entries(keep);
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
        self.idx.reset(st, max_index_size)
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

    /// Kafka's sanity check (the last offset is not below the base offset, the length is a
    /// whole number of entries) plus klog's: offsets strictly increase, positions increase and
    /// stay below `log_size`.
    pub fn sanity_check(&self, log_size: u64) -> Result<(), IndexError> {
        if self.idx.alloc_len % OFFSET_ENTRY_SIZE as u64 != 0 {
            return Err(self
                .idx
                .corrupt(self.entries(), "length is not a multiple of 8"));
        }
        let mut prev: Option<OffsetPosition> = None;
        for i in 0..self.entries() {
            let e = self.entry(i);
            if self.idx.entry(i)[0] & 0x80 != 0 || self.idx.entry(i)[4] & 0x80 != 0 {
                return Err(self.idx.corrupt(i, "negative relative offset or position"));
            }
            if u64::from(e.position) >= log_size.max(1) {
                return Err(self.idx.corrupt(i, "position beyond the end of the log"));
            }
            if let Some(p) = prev {
                if e.offset <= p.offset {
                    return Err(self.idx.corrupt(i, "offsets do not increase"));
                }
                if e.position <= p.position {
                    return Err(self.idx.corrupt(i, "positions do not increase"));
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
    use alloc::vec::Vec;
    use kproto::rng::Rng;

    fn idx(st: &mut MemStorage, max: u32) -> OffsetIndex<crate::storage::MemFile> {
        OffsetIndex::create(st, "t-0/00000000000000000045.index", 45, max).unwrap()
    }

    #[test]
    fn random_lookups_match_a_model() {
        // OffsetIndexTest.randomLookupTest
        let mut st = MemStorage::new();
        let mut index = idx(&mut st, 30 * 8);
        let mut rng = Rng::new(1);
        let mut vals: Vec<(u64, u32)> = Vec::new();
        let (mut off, mut pos) = (45u64, 0u32);
        for _ in 0..30 {
            off += 1 + rng.below(5);
            pos += 1 + rng.below(100) as u32;
            vals.push((off, pos));
            index.append(off, pos).unwrap();
        }
        for _ in 0..200 {
            let target = 45 + rng.below(off - 45 + 10);
            let want = vals
                .iter()
                .rev()
                .find(|(o, _)| *o <= target)
                .map_or((45, 0), |&(o, p)| (o, p));
            let got = index.lookup(target);
            assert_eq!((got.offset, got.position), want, "target {target}");
        }
    }

    #[test]
    fn lookup_extreme_cases() {
        let mut st = MemStorage::new();
        let mut index = idx(&mut st, 30 * 8);
        assert_eq!(
            index.lookup(45),
            OffsetPosition {
                offset: 45,
                position: 0
            }
        );
        for i in 0..index.max_entries() {
            index.append(45 + u64::from(i) + 1, i).unwrap();
        }
        assert_eq!(
            index.lookup(45).position,
            0,
            "smaller than every entry: the base"
        );
        assert_eq!(
            index.lookup(10),
            OffsetPosition {
                offset: 45,
                position: 0
            }
        );
        let last = index.entry(index.entries() - 1);
        assert_eq!(index.lookup(u64::MAX), last);
        assert_eq!(index.lookup(last.offset), last);
    }

    #[test]
    fn append_too_many_and_out_of_order() {
        let mut st = MemStorage::new();
        let mut index = idx(&mut st, 30 * 8 + 3);
        assert_eq!(index.file_len(), 240, "rounded down to whole entries");
        for i in 0..30u32 {
            index.append(46 + u64::from(i), i).unwrap();
        }
        assert!(index.is_full());
        assert!(matches!(
            index.append(1000, 1000),
            Err(IndexError::Full { .. })
        ));
        let mut st2 = MemStorage::new();
        let mut index = idx(&mut st2, 240);
        index.append(51, 0).unwrap();
        assert!(matches!(
            index.append(50, 1),
            Err(IndexError::InvalidOffset { .. })
        ));
        assert!(matches!(
            index.append(51, 1),
            Err(IndexError::InvalidOffset { .. })
        ));
        assert!(matches!(
            index.append(45 + (1 << 31), 2),
            Err(IndexError::InvalidOffset { .. })
        ));
        assert!(index.can_append_offset(45 + i32::MAX as u64));
        assert!(!index.can_append_offset(44));
    }

    #[test]
    fn bytes_are_kafkas_and_reopen_after_trim() {
        let mut st = MemStorage::new();
        let mut index = idx(&mut st, 80);
        index.append(47, 0x0102).unwrap();
        index.append(300, 0x0A0B0C).unwrap();
        assert_eq!(
            st.contents(index.path()).unwrap(),
            [0; 80],
            "in memory until written"
        );
        index.write_entries(&mut st).unwrap();
        let raw = st.contents(index.path()).unwrap();
        assert_eq!(raw.len(), 80, "preallocated");
        assert_eq!(
            &raw[..16],
            &[0, 0, 0, 2, 0, 0, 1, 2, 0, 0, 0, 255, 0, 10, 11, 12]
        );
        index.trim_to_valid_size(&mut st).unwrap();
        assert_eq!(st.contents(index.path()).unwrap().len(), 16);
        let mut re = OffsetIndex::open(&mut st, index.path(), 45).unwrap();
        assert_eq!(re.entries(), 2);
        assert!(re.is_full(), "a trimmed index reopens full, as Kafka's");
        assert_eq!(re.lookup(299).offset, 47);
        re.resize(&mut st, 80).unwrap();
        assert_eq!(re.max_entries(), 10);
        re.sanity_check(1 << 20).unwrap();
    }

    #[test]
    fn truncate() {
        // OffsetIndexTest.truncate
        let mut st = MemStorage::new();
        let mut index = OffsetIndex::create(&mut st, "t-0/0.index", 0, 80).unwrap();
        for i in 1..10u64 {
            index.append(i, i as u32).unwrap();
        }
        index.truncate_to(10);
        assert_eq!(
            index.entries(),
            9,
            "truncation past the end keeps everything"
        );
        index.truncate_to(9);
        assert_eq!(index.lookup(10).offset, 8);
        index.truncate_to(5);
        assert_eq!(index.lookup(10).offset, 4);
        assert_eq!(index.entries(), 4);
        index.truncate_to(0);
        assert_eq!(index.entries(), 0);
        assert_eq!(index.lookup(10).offset, 0);
        index.append(3, 9).unwrap();
        assert_eq!(
            index.lookup(3),
            OffsetPosition {
                offset: 3,
                position: 9
            }
        );
    }

    #[test]
    fn sanity_check_finds_corruption() {
        let mut st = MemStorage::new();
        let path = "t-0/00000000000000000010.index";
        // positions going backwards
        let mut raw = Vec::new();
        for (rel, pos) in [(1u32, 100u32), (2, 50)] {
            raw.extend_from_slice(&rel.to_be_bytes());
            raw.extend_from_slice(&pos.to_be_bytes());
        }
        st.put(path, &raw);
        let index = OffsetIndex::open(&mut st, path, 10).unwrap();
        let e = index.sanity_check(1000).unwrap_err();
        assert!(matches!(e, IndexError::Corrupt { entry: 1, .. }), "{e}");
        // a length that is not whole entries
        raw.truncate(12);
        st.put(path, &raw);
        assert!(OffsetIndex::open(&mut st, path, 10)
            .unwrap()
            .sanity_check(1000)
            .is_err());
        // a position past the log's end
        raw.truncate(8);
        st.put(path, &raw);
        assert!(OffsetIndex::open(&mut st, path, 10)
            .unwrap()
            .sanity_check(100)
            .is_err());
        assert!(OffsetIndex::open(&mut st, path, 10)
            .unwrap()
            .sanity_check(101)
            .is_ok());
    }
}
