//! Kafka-format partition logs over an abstract storage: segments (`.log`), sparse offset and
//! time indexes (`.index`, `.timeindex`), transaction indexes (`.txnindex`), roll, retention,
//! truncation, flush policy, crash recovery, idempotent and transactional producer state
//! (`.snapshot`), aborted-transaction reads and the last stable offset, byte-compatible with
//! Apache Kafka's own files.
//!
//! klog does no networking, reads no clock (every time is an argument, `now_ms`) and uses no
//! OS randomness. It is `#![no_std]` + `alloc`; the `std` feature adds [`FsStorage`]. Batches
//! are read and rewritten through kproto's zero-copy [`kproto::records::BatchView`]. The
//! on-disk format and the invariants are stated in `docs/klog.md`.
//!
//! ```
//! use klog::{Log, LogConfig, MemStorage};
//! use kproto::records::{BatchBuilder, BatchConfig};
//!
//! let mut b = BatchBuilder::new(BatchConfig::default());
//! b.try_append(1_700_000_000_000, Some(b"k"), Some(b"v"), &[]).unwrap();
//! let mut batch = b.finish().unwrap();
//!
//! let storage = MemStorage::new();
//! let (mut log, _report) = Log::open(storage.clone(), "orders", 0, LogConfig::default(), 0).unwrap();
//! let info = log.append(&mut batch, 1_700_000_000_000).unwrap();
//! assert_eq!((info.first_offset, info.last_offset), (0, 0));
//! log.flush(1_700_000_000_000).unwrap();
//! let data = log.read(0, 1 << 20).unwrap();
//! assert_eq!(data.len(), batch.len());
//! assert!(storage.paths().contains(&"orders-0/00000000000000000000.log".to_string()));
//! ```
//!
//! Only the log changes its state: its producer state, segments and indexes are handed out by
//! shared reference and their mutators are crate-internal (the few an index's fuzz target
//! needs excepted, on an index of its own); the internal modules (storage, names,
//! configuration, errors) are reached through the root's re-exports.
//!
//! ```compile_fail
//! let mut state = klog::ProducerStateManager::default();
//! state.set_map_end_offset(42); // crate-internal
//! ```
//!
//! ```compile_fail
//! let st = klog::MemStorage::new();
//! // creating an index is the segment's business
//! let _ = klog::index::OffsetIndex::create(&mut st.clone(), "t-0/00000000000000000000.index", 0, 1024);
//! ```
//!
//! ```compile_fail
//! let _ = klog::names::segment_file("t-0", 0, ".log"); // private: klog::parse_file_name is public
//! ```
#![no_std]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod broker;
pub mod checkpoint;
mod config;
mod error;
pub mod index;
mod log;
pub mod log_dir;
mod names;
pub mod producer_state;
mod scan;
mod segment;
#[cfg(feature = "server")]
pub mod server;
mod storage;
#[cfg(test)]
mod testutil;

pub use checkpoint::CheckpointError;
pub use config::{ConfigError, LogConfig, TimestampType, TopicCompression};
pub use error::{IndexError, StorageError, TxnIndexError};
pub use index::{AbortedTxn, TimestampOffset};
pub use log::{
    AppendError, AppendInfo, ListOffsetsTimestamp, LoadOptions, Log, LogError, RecoveryReport,
    TruncateReport,
};
pub use names::{parse_file_name, FileKind};
pub use producer_state::{
    BatchMetadata, ProducerEntry, ProducerStateError, ProducerStateManager, SnapshotError,
};
pub use segment::{InvalidOffset, LogSegment, SegmentError};
pub use storage::{FaultConfig, FaultyStorage, MemFile, MemStorage, Storage};
#[cfg(feature = "std")]
pub use storage::{FsFile, FsStorage};
