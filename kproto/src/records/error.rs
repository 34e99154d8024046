//! Errors of reading and building record batches.
//!
//! Every read error says what was wrong and at which byte: `offset` counts from the start of
//! the buffer handed to [`Batches`](super::Batches) (or to the view); errors inside a batch's
//! records also give the record's index and the offset inside the (decompressed) records.

use super::Compression;

/// Why a batch, message set or record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The input ended inside a fixed-size structure.
    #[error("truncated at byte {offset}: expected {expected}")]
    Truncated {
        /// Where the missing bytes should start.
        offset: usize,
        /// What was being read.
        expected: &'static str,
    },
    /// A batch or message size field is below the minimum or disagrees with the buffer.
    #[error("{what} {size} at byte {offset} is invalid: {expected}")]
    BadSize {
        /// Where the size field is.
        offset: usize,
        /// Which size (`"batch length"`, `"message size"`).
        what: &'static str,
        /// The value read.
        size: i64,
        /// What a valid value is.
        expected: &'static str,
    },
    /// The magic byte is not one this reader handles.
    #[error("unsupported magic {magic} at byte {offset}")]
    UnsupportedMagic {
        /// Where the magic byte is.
        offset: usize,
        /// The magic read.
        magic: i8,
    },
    /// The stored checksum does not match the bytes.
    #[error("CRC mismatch in the batch at byte {offset}: stored {stored:#010x}, computed {computed:#010x}")]
    CrcMismatch {
        /// Where the batch (or legacy message) starts.
        offset: usize,
        /// The CRC in the header.
        stored: u32,
        /// The CRC of the bytes.
        computed: u32,
    },
    /// A header field holds a value that is not allowed.
    #[error("invalid {field} at byte {offset}: expected {expected}")]
    Invalid {
        /// Where the field is.
        offset: usize,
        /// The field.
        field: &'static str,
        /// What a valid value is.
        expected: &'static str,
    },
    /// The attributes name a compression codec Kafka does not define.
    #[error("unknown compression codec id {id} in the batch at byte {offset}")]
    UnknownCompression {
        /// Where the batch starts.
        offset: usize,
        /// The codec id read.
        id: u8,
    },
    /// The codec is known but its cargo feature is off in this build.
    #[error("compression codec {codec} is not enabled in this build of kproto")]
    CodecDisabled {
        /// The codec.
        codec: Compression,
    },
    /// Compressed data is corrupt.
    #[error("corrupt {codec} data in the batch at byte {offset}: {reason}")]
    Decompress {
        /// Where the batch starts.
        offset: usize,
        /// The codec.
        codec: Compression,
        /// What was wrong.
        reason: &'static str,
    },
    /// Compressed data expands past the caller's cap.
    #[error("{codec} data in the batch at byte {offset} decompresses to more than {limit} bytes")]
    DecompressedTooLarge {
        /// Where the batch starts.
        offset: usize,
        /// The codec.
        codec: Compression,
        /// The cap.
        limit: usize,
    },
    /// The buffer ends inside a batch (or legacy entry) where the caller required whole
    /// batches only ([`Batches::complete`](super::Batches::complete)): a Produce request's
    /// records, say, unlike a fetch response, may not end with a partial batch.
    #[error("incomplete batch at byte {offset}: it needs {needed} bytes, {available} are left")]
    Incomplete {
        /// Where the incomplete batch starts.
        offset: usize,
        /// The bytes the batch takes according to its length field (offset, length and all),
        /// or the 17 bytes up to its magic when even those are missing.
        needed: usize,
        /// The bytes left in the buffer from `offset`.
        available: usize,
    },
    /// A record inside a batch is malformed.
    #[error("record {index} of the batch at byte {batch_offset}, byte {offset} of its records: expected {expected}")]
    Record {
        /// Where the batch starts.
        batch_offset: usize,
        /// The record's index in the batch.
        index: u32,
        /// The offset inside the batch's (decompressed) records.
        offset: usize,
        /// What was expected.
        expected: &'static str,
    },
}

impl RecordError {
    /// Shifts the buffer offsets by `by` bytes (for an error from a view of a slice of a larger
    /// buffer). Offsets inside decompressed records are left alone.
    pub fn shifted(mut self, by: usize) -> Self {
        match &mut self {
            RecordError::Truncated { offset, .. }
            | RecordError::BadSize { offset, .. }
            | RecordError::UnsupportedMagic { offset, .. }
            | RecordError::CrcMismatch { offset, .. }
            | RecordError::Invalid { offset, .. }
            | RecordError::UnknownCompression { offset, .. }
            | RecordError::Decompress { offset, .. }
            | RecordError::DecompressedTooLarge { offset, .. }
            | RecordError::Incomplete { offset, .. } => *offset += by,
            RecordError::Record { batch_offset, .. } => *batch_offset += by,
            RecordError::CodecDisabled { .. } => {}
        }
        self
    }
}

/// Why a batch could not be built. Nothing is appended when an append fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The record does not fit under the batch's write limit (`batch.size`); the first record
    /// always fits.
    #[error("the batch is full: {estimated} estimated bytes + {record} for the record exceed the limit of {limit}")]
    Full {
        /// The batch's estimated size before the record.
        estimated: usize,
        /// The record's size.
        record: usize,
        /// The write limit.
        limit: usize,
    },
    /// A batch must hold at least one record.
    #[error("an empty batch cannot be built")]
    Empty,
    /// A timestamp below -1 (`NO_TIMESTAMP`).
    #[error("invalid negative timestamp {0}")]
    NegativeTimestamp(i64),
    /// A key, value, header or the whole batch is too large for its length field, or the batch
    /// holds more records than an int32 offset delta can count.
    #[error("{what} of {len} bytes is too large for its length field")]
    TooLarge {
        /// What.
        what: &'static str,
        /// The length.
        len: usize,
    },
    /// A transactional batch needs a producer id.
    #[error("a transactional batch needs a producer id")]
    TransactionalWithoutProducerId,
    /// A batch with a producer id needs a producer epoch, and a base sequence unless it is a
    /// control batch (`MemoryRecordsBuilder.validateProducerState`).
    #[error("a batch with producer id {producer_id} has {what}")]
    InvalidProducerState {
        /// The batch's producer id.
        producer_id: i64,
        /// What is wrong: "no producer epoch (-1)" or "a negative base sequence".
        what: &'static str,
    },
    /// The codec's cargo feature is off in this build.
    #[error("compression codec {0} is not enabled in this build of kproto")]
    CodecDisabled(Compression),
    /// The buffer to encode into has less room than the batch takes; nothing was written.
    #[error("the buffer has room for {remaining} bytes, the batch takes {needed}")]
    BufferTooSmall {
        /// The batch's encoded length.
        needed: usize,
        /// Room left in the buffer.
        remaining: usize,
    },
    /// The builder was already finished.
    #[error("the batch was already finished")]
    Finished,
}
