//! Kafka's sparse segment indexes, byte for byte.
//!
//! Public for reading: the segments' indexes ([`LogSegment::offset_index`](crate::LogSegment)
//! and the others) are these types, and the entry sizes and the `.txnindex` codec
//! ([`txn::parse`], [`txn::encode`]) serve tools that read Kafka's files (the `kpp dump` CLI,
//! the web inspector). Creating, appending to, truncating and syncing an index is klog's
//! (crate-internal): a segment keeps its indexes in step with its `.log`.
//!
//! * `.index` ([`OffsetIndex`]): 8-byte entries, relative offset (int32, offset minus the
//!   segment's base offset) then physical position in the `.log` (int32), big-endian.
//! * `.timeindex` ([`TimeIndex`]): 12-byte entries, timestamp (int64) then relative offset
//!   (int32), big-endian.
//! * `.txnindex` ([`txn`]): 34-byte [`AbortedTxn`] entries, one per ABORT marker in the
//!   segment; not preallocated.
//!
//! As in Kafka, an index file is preallocated (zero-filled) to `segment.index.bytes` rounded
//! down to a whole entry while its segment is active, and trimmed to its entries when the
//! segment is rolled or closed; an existing file's entry count is its length divided by the
//! entry size. klog keeps the valid entries in memory as well (lookups read them there), and
//! writes the entries an append added to the file in one write at the end of that append
//! (`write_entries`; also before every resize, trim and sync), made durable by the segment's
//! flush. Recovery rebuilds indexes above the recovery point, so an entry lost with a crash is
//! rebuilt, as Kafka relies on for its memory-mapped indexes.

mod offset;
mod time;
pub mod txn;

pub use offset::{OffsetIndex, OffsetPosition, OFFSET_ENTRY_SIZE};
pub use time::{TimeIndex, TimestampOffset, NO_TIMESTAMP, TIME_ENTRY_SIZE};
pub use txn::{AbortedTxn, TransactionIndex, ABORTED_TXN_SIZE};

use crate::error::{IndexError, StorageError};
use crate::storage::Storage;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// The shared part of both indexes: the file, its allocated length and the valid entries.
#[derive(Debug)]
struct IndexFile<F> {
    file: F,
    path: String,
    base_offset: u64,
    entry_size: usize,
    /// The file's length (preallocated or trimmed).
    alloc_len: u64,
    /// The valid entries.
    data: Vec<u8>,
    /// How many bytes of `data` are in the file (the rest awaits `write_pending`).
    written: usize,
}

fn round_down(n: u64, multiple: usize) -> u64 {
    n - n % multiple as u64
}

impl<F: core::fmt::Debug> IndexFile<F> {
    /// Creates (or empties) the index file and preallocates `max_index_size` bytes.
    fn create<S: Storage<File = F>>(
        st: &mut S,
        path: &str,
        base_offset: u64,
        entry_size: usize,
        max_index_size: u32,
    ) -> Result<Self, StorageError> {
        let mut file = st.open(path, true)?;
        let alloc_len = round_down(u64::from(max_index_size), entry_size);
        st.set_len(&mut file, 0)?;
        st.set_len(&mut file, alloc_len)?;
        Ok(IndexFile {
            file,
            path: String::from(path),
            base_offset,
            entry_size,
            alloc_len,
            data: Vec::new(),
            written: 0,
        })
    }

    /// Opens an existing index file: every whole entry in it counts (as Kafka's `AbstractIndex`).
    fn open<S: Storage<File = F>>(
        st: &mut S,
        path: &str,
        base_offset: u64,
        entry_size: usize,
    ) -> Result<Self, StorageError> {
        let mut file = st.open(path, false)?;
        let len = st.len(&mut file)?;
        let valid = round_down(len, entry_size);
        let n = usize::try_from(valid).map_err(|_| StorageError::Io {
            op: "open",
            path: String::from(path),
            detail: alloc::format!("index of {len} bytes does not fit in memory"),
        })?;
        let mut data = vec![0u8; n];
        st.read_exact_at(&mut file, 0, &mut data)?;
        Ok(IndexFile {
            file,
            path: String::from(path),
            base_offset,
            entry_size,
            alloc_len: len,
            written: data.len(),
            data,
        })
    }

    fn entries(&self) -> u32 {
        (self.data.len() / self.entry_size) as u32
    }

    fn max_entries(&self) -> u32 {
        u32::try_from(self.alloc_len / self.entry_size as u64).unwrap_or(u32::MAX)
    }

    fn entry(&self, n: u32) -> &[u8] {
        let at = n as usize * self.entry_size;
        &self.data[at..at + self.entry_size]
    }

    /// Adds an entry in memory; [`IndexFile::write_pending`] writes it to the file.
    fn push(&mut self, entry: &[u8]) {
        self.data.extend_from_slice(entry);
        if self.alloc_len < self.data.len() as u64 {
            self.alloc_len = self.data.len() as u64;
        }
    }

    /// Writes the entries not yet in the file, in one write.
    fn write_pending<S: Storage<File = F>>(&mut self, st: &mut S) -> Result<(), StorageError> {
        if self.written < self.data.len() {
            st.write_at(
                &mut self.file,
                self.written as u64,
                &self.data[self.written..],
            )?;
            self.written = self.data.len();
        }
        Ok(())
    }

    /// Keeps the first `n` entries (the bytes after them in the file stay, as in Kafka, until
    /// a resize or trim).
    fn truncate_entries(&mut self, n: u32) {
        self.data.truncate(n as usize * self.entry_size);
        self.written = self.written.min(self.data.len());
    }

    /// Sets the file length to `size` rounded down to an entry (never below the entries).
    fn resize<S: Storage<File = F>>(&mut self, st: &mut S, size: u32) -> Result<(), StorageError> {
        self.write_pending(st)?;
        let len = round_down(u64::from(size), self.entry_size).max(self.data.len() as u64);
        if len != self.alloc_len {
            st.set_len(&mut self.file, len)?;
            self.alloc_len = len;
        }
        Ok(())
    }

    fn trim<S: Storage<File = F>>(&mut self, st: &mut S) -> Result<(), StorageError> {
        self.write_pending(st)?;
        let len = self.data.len() as u64;
        if len != self.alloc_len {
            st.set_len(&mut self.file, len)?;
            self.alloc_len = len;
        }
        Ok(())
    }

    /// Empties the index and preallocates it again (Kafka's `reset`). The file is rewritten
    /// from zero so that no stale entry survives past the new ones.
    fn reset<S: Storage<File = F>>(
        &mut self,
        st: &mut S,
        max_index_size: u32,
    ) -> Result<(), StorageError> {
        self.data.clear();
        self.written = 0;
        st.set_len(&mut self.file, 0)?;
        self.alloc_len = 0;
        self.resize(st, max_index_size)
    }

    fn sync<S: Storage<File = F>>(&mut self, st: &mut S) -> Result<(), StorageError> {
        self.write_pending(st)?;
        st.sync(&mut self.file)
    }

    fn corrupt(&self, entry: u32, what: &'static str) -> IndexError {
        IndexError::Corrupt {
            path: self.path.clone(),
            entry,
            what,
        }
    }

    /// The last slot whose key is `<= target` (`None` when every key is larger), by binary
    /// search over keys that must be non-decreasing.
    fn largest_lower_bound(&self, target: i64, key: impl Fn(&[u8]) -> i64) -> Option<u32> {
        let n = self.entries();
        if n == 0 || key(self.entry(0)) > target {
            return None;
        }
        let (mut lo, mut hi) = (0u32, n - 1);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if key(self.entry(mid)) > target {
                hi = mid - 1;
            } else {
                lo = mid;
            }
        }
        Some(lo)
    }
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

/// The offset relative to `base`, when it fits an index entry (0..=i32::MAX).
pub(crate) fn relative_offset(base: u64, offset: u64) -> Option<u32> {
    let rel = offset.checked_sub(base)?;
    if rel <= i32::MAX as u64 {
        Some(rel as u32)
    } else {
        None
    }
}
