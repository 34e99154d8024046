//! Errors of klog's operations: one `#[non_exhaustive]` enum per layer, each saying what was
//! wrong and where (file, offset, byte position).

use alloc::string::String;

/// A storage operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The file does not exist.
    #[error("{op} {path}: no such file")]
    NotFound {
        /// The operation (`"open"`, `"remove"`, `"rename"`).
        op: &'static str,
        /// The path asked for.
        path: String,
    },
    /// The underlying storage reported an error.
    #[error("{op} {path}: {detail}")]
    Io {
        /// The operation (`"read_at"`, `"write_at"`, `"sync"`, ...).
        op: &'static str,
        /// The file or directory.
        path: String,
        /// What the storage said.
        detail: String,
    },
    /// A fault injected by [`FaultyStorage`](crate::storage::FaultyStorage).
    #[error("injected fault at storage op #{op_no} ({op} {path}): {what}")]
    Injected {
        /// The operation that failed.
        op: &'static str,
        /// The file or directory.
        path: String,
        /// The number of the operation since the wrapper was created (from 1).
        op_no: u64,
        /// Which fault (`"fail after N ops"`, `"torn write"`, `"failed sync"`).
        what: &'static str,
    },
}

/// An index file (`.index` or `.timeindex`) could not be used or extended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IndexError {
    /// Reading or writing the index file failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The index has no free slot left (`segment.index.bytes` reached).
    #[error("{path}: index is full ({entries} entries)")]
    Full {
        /// The index file.
        path: String,
        /// Entries in the index.
        entries: u32,
    },
    /// The offset to append is not larger than the last one, or does not fit in a
    /// relative int32 offset.
    #[error("{path}: cannot append offset {offset} (base offset {base_offset}, last offset {last_offset})")]
    InvalidOffset {
        /// The index file.
        path: String,
        /// The offset to append.
        offset: u64,
        /// The segment's base offset.
        base_offset: u64,
        /// The last offset in the index.
        last_offset: u64,
    },
    /// A timestamp smaller than the last one was appended to a time index.
    #[error("{path}: timestamp {timestamp} is smaller than the last one ({last_timestamp})")]
    InvalidTimestamp {
        /// The index file.
        path: String,
        /// The timestamp to append.
        timestamp: i64,
        /// The last timestamp in the index.
        last_timestamp: i64,
    },
    /// A transaction index file could not be read.
    #[error("{path}: {source}")]
    Txn {
        /// The index file.
        path: String,
        /// What is wrong.
        source: TxnIndexError,
    },
    /// The file's contents break an index invariant (Kafka's `CorruptIndexException`).
    #[error("{path}: corrupt index: {what} (entry {entry})")]
    Corrupt {
        /// The index file.
        path: String,
        /// Which entry (0-based) breaks it; the entry count for size problems.
        entry: u32,
        /// The invariant broken.
        what: &'static str,
    },
}

/// A transaction index (`.txnindex`) could not be read (Kafka's checks on `AbortedTxn` entries).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxnIndexError {
    /// The file's length is not a whole number of 34-byte entries.
    #[error("partial transaction index entry at byte {position} ({len} of 34 bytes)")]
    PartialEntry {
        /// Byte position of the partial entry.
        position: u64,
        /// Bytes present.
        len: u32,
    },
    /// An entry's version is newer than klog (and Kafka 4.4) reads.
    #[error("transaction index entry at byte {position} has unexpected version {version} (current version is 0)")]
    UnknownVersion {
        /// Byte position of the entry.
        position: u64,
        /// The version as Kafka reads it (the field's first byte).
        version: i8,
    },
    /// An entry's last offset is below its segment's base offset (Kafka's sanity check).
    #[error("transaction index entry at byte {position}: last offset {last_offset} is less than the segment's base offset {base_offset}")]
    LastOffsetBeforeBase {
        /// Byte position of the entry.
        position: u64,
        /// The entry's last offset.
        last_offset: i64,
        /// The segment's base offset.
        base_offset: u64,
    },
}
