//! Record batches (magic v2), legacy message sets (magic 0 and 1), control records and the
//! four compression codecs.
//!
//! Two layers, as for every wire structure in kproto:
//!
//! - **Views** over bytes that are already in memory: [`BatchView`] reads every header field of
//!   a v2 batch in place (each field is a named byte range in [`field`]), validates its CRC-32C,
//!   rewrites the fields a broker assigns (base offset, partition leader epoch, LogAppendTime) in
//!   place, and iterates its records as [`RecordView`]s that borrow key, value and headers from
//!   the buffer (or, for a compressed batch, from one decompression buffer the caller owns).
//!   [`Batches`] walks a buffer of batches and stops cleanly at a partial trailing batch, as a
//!   fetch response ends with one. [`legacy`] does the same for magic 0 and 1.
//! - **Owned** values: [`RecordBatch`] and [`Record`], with `parse` and `emit`.
//!
//! [`BatchBuilder`] writes batches byte for byte as Apache Kafka's Java client does
//! (`MemoryRecordsBuilder`), including its size estimate and `batch.size` limit.
//!
//! Everything that writes bytes encodes as messages do, with `encoded_len()` and
//! `encode(&mut impl BufMut)` (nothing written on error): [`EncodedBatch`] (what
//! [`BatchBuilder::build`] and [`RecordBatch::to_encoded`] return), [`RecordBatch`] itself,
//! [`control::EndTransactionMarker`] and [`legacy::LegacyMessage`]. `finish()` and `emit()`
//! remain as the `Vec<u8>` conveniences.
//!
//! Nothing here panics on any input, nothing is allocated in proportion to an unchecked length
//! field, and decompression always runs against an output cap (a zip bomb is an error).
//!
//! # Example
//!
//! ```
//! use kproto::records::{BatchBuilder, BatchConfig, Batches, Compression, DEFAULT_MAX_UNCOMPRESSED};
//!
//! let mut b = BatchBuilder::new(BatchConfig {
//!     compression: Compression::None,
//!     write_limit: 16384,
//!     ..BatchConfig::default()
//! });
//! b.try_append(1_700_000_000_000, Some(b"k"), Some(b"v"), &[("h", Some(b"x"))]).unwrap();
//! let bytes = b.finish().unwrap();
//!
//! for batch in Batches::new(&bytes) {
//!     let batch = batch.unwrap();
//!     batch.validate().unwrap();
//!     let mut scratch = Vec::new();
//!     for rec in batch.records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED).unwrap() {
//!         let rec = rec.unwrap();
//!         assert_eq!(rec.value, Some(&b"v"[..]));
//!     }
//! }
//! ```

mod batch;
mod builder;
pub mod codec;
pub mod control;
pub mod crc;
mod error;
pub mod legacy;
mod owned;
mod record;

pub use batch::{field, Attributes, BatchView, Batches};
pub use builder::{estimate_size_upper_bound, BatchBuilder, BatchConfig, EncodedBatch};
pub use error::{BuildError, RecordError};
pub use owned::{BatchHeader, Header, Record, RecordBatch};
pub use record::{HeaderView, Headers, RecordIter, RecordView};

use core::fmt;

/// Bytes before a batch's magic that every batch and message set entry starts with: offset
/// (int64) and size (int32). Kafka's `Records.LOG_OVERHEAD`.
pub const LOG_OVERHEAD: usize = 12;

/// The size of a v2 batch header, up to and including the record count
/// (`DefaultRecordBatch.RECORD_BATCH_OVERHEAD`).
pub const RECORD_BATCH_OVERHEAD: usize = 61;

/// The most bytes a record's framing can take besides key, value and headers: size varint (5),
/// attributes (1), timestamp delta varlong (10) and offset delta varint (5)
/// (`DefaultRecord.MAX_RECORD_OVERHEAD`).
pub const MAX_RECORD_OVERHEAD: usize = 21;

/// The magic byte of v2 record batches.
pub const MAGIC_V2: i8 = 2;

/// A producer id meaning "none" (`RecordBatch.NO_PRODUCER_ID`).
pub const NO_PRODUCER_ID: i64 = -1;
/// A producer epoch meaning "none".
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// A sequence meaning "none".
pub const NO_SEQUENCE: i32 = -1;
/// A partition leader epoch meaning "none"; what producers write.
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;
/// A timestamp meaning "none".
pub const NO_TIMESTAMP: i64 = -1;

/// A default cap on the bytes one batch may decompress to (64 MiB).
pub const DEFAULT_MAX_UNCOMPRESSED: usize = 64 << 20;

/// A batch's compression codec: the low three bits of its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Compression {
    /// Uncompressed (0).
    #[default]
    None,
    /// gzip (1).
    Gzip,
    /// snappy (2): xerial-framed from Java, raw from librdkafka.
    Snappy,
    /// lz4 (3), in the LZ4 frame format.
    Lz4,
    /// zstd (4), v2 batches only.
    Zstd,
}

impl Compression {
    /// All codecs, in id order.
    pub const ALL: [Compression; 5] = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];

    /// The codec with this attribute id, if Kafka defines one.
    pub const fn from_id(id: u8) -> Option<Self> {
        match id {
            0 => Some(Compression::None),
            1 => Some(Compression::Gzip),
            2 => Some(Compression::Snappy),
            3 => Some(Compression::Lz4),
            4 => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The attribute id.
    pub const fn id(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// Kafka's name for it (`compression.type`).
    pub const fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }

    /// Whether this build can decode and encode it (its cargo feature is on).
    pub const fn is_enabled(self) -> bool {
        match self {
            Compression::None => true,
            Compression::Gzip => cfg!(feature = "gzip"),
            Compression::Snappy => cfg!(feature = "snappy"),
            Compression::Lz4 => cfg!(feature = "lz4"),
            Compression::Zstd => cfg!(feature = "zstd"),
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a batch's timestamps come from (attribute bit 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampType {
    /// The producer's timestamps (0).
    #[default]
    CreateTime,
    /// The broker's append time, stored as the batch's max timestamp (1).
    LogAppendTime,
}
