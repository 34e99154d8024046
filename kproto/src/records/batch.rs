//! The zero-copy view of a v2 record batch, and the walk over a buffer of batches.

use super::codec;
use super::crc::crc32c;
use super::record::RecordIter;
use super::{
    Compression, RecordError, TimestampType, LOG_OVERHEAD, MAGIC_V2, RECORD_BATCH_OVERHEAD,
};
use alloc::vec::Vec;
use core::ops::Range;

/// The byte ranges of a v2 batch header's fields (Kafka's `DefaultRecordBatch` offsets). An
/// inspector highlights bytes with these; [`BatchView`] reads and writes through them.
pub mod field {
    use core::ops::Range;

    /// `baseOffset` int64.
    pub const BASE_OFFSET: Range<usize> = 0..8;
    /// `batchLength` int32: the bytes after this field.
    pub const BATCH_LENGTH: Range<usize> = 8..12;
    /// `partitionLeaderEpoch` int32 (not covered by the CRC).
    pub const PARTITION_LEADER_EPOCH: Range<usize> = 12..16;
    /// `magic` int8 (2).
    pub const MAGIC: Range<usize> = 16..17;
    /// `crc` uint32: CRC-32C of `attributes` to the end of the batch.
    pub const CRC: Range<usize> = 17..21;
    /// `attributes` int16.
    pub const ATTRIBUTES: Range<usize> = 21..23;
    /// `lastOffsetDelta` int32.
    pub const LAST_OFFSET_DELTA: Range<usize> = 23..27;
    /// `baseTimestamp` int64.
    pub const BASE_TIMESTAMP: Range<usize> = 27..35;
    /// `maxTimestamp` int64.
    pub const MAX_TIMESTAMP: Range<usize> = 35..43;
    /// `producerId` int64.
    pub const PRODUCER_ID: Range<usize> = 43..51;
    /// `producerEpoch` int16.
    pub const PRODUCER_EPOCH: Range<usize> = 51..53;
    /// `baseSequence` int32.
    pub const BASE_SEQUENCE: Range<usize> = 53..57;
    /// `records` count int32.
    pub const RECORD_COUNT: Range<usize> = 57..61;
    /// Where the records (possibly compressed) start.
    pub const RECORDS: usize = 61;

    /// Every header field with Kafka's name, in wire order.
    pub const ALL: [(&str, Range<usize>); 13] = [
        ("baseOffset", BASE_OFFSET),
        ("batchLength", BATCH_LENGTH),
        ("partitionLeaderEpoch", PARTITION_LEADER_EPOCH),
        ("magic", MAGIC),
        ("crc", CRC),
        ("attributes", ATTRIBUTES),
        ("lastOffsetDelta", LAST_OFFSET_DELTA),
        ("baseTimestamp", BASE_TIMESTAMP),
        ("maxTimestamp", MAX_TIMESTAMP),
        ("producerId", PRODUCER_ID),
        ("producerEpoch", PRODUCER_EPOCH),
        ("baseSequence", BASE_SEQUENCE),
        ("recordCount", RECORD_COUNT),
    ];
}

/// A batch's attributes (int16): codec, timestamp type, transactional, control, delete horizon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Attributes(pub u16);

impl Attributes {
    /// Low three bits: the compression codec id.
    pub const COMPRESSION_MASK: u16 = 0x07;
    /// Bit 3: LogAppendTime.
    pub const TIMESTAMP_TYPE: u16 = 0x08;
    /// Bit 4: part of a transaction.
    pub const TRANSACTIONAL: u16 = 0x10;
    /// Bit 5: a control batch (transaction markers and the like).
    pub const CONTROL: u16 = 0x20;
    /// Bit 6: the base timestamp is a delete horizon (compacted topics).
    pub const DELETE_HORIZON: u16 = 0x40;

    /// Attributes from their parts (Kafka's `computeAttributes`).
    pub const fn new(
        compression: Compression,
        timestamp_type: TimestampType,
        transactional: bool,
        control: bool,
    ) -> Self {
        let mut a = compression.id() as u16;
        if matches!(timestamp_type, TimestampType::LogAppendTime) {
            a |= Self::TIMESTAMP_TYPE;
        }
        if transactional {
            a |= Self::TRANSACTIONAL;
        }
        if control {
            a |= Self::CONTROL;
        }
        Attributes(a)
    }

    /// The codec id (0..=7; only 0..=4 are defined).
    pub const fn compression_id(self) -> u8 {
        (self.0 & Self::COMPRESSION_MASK) as u8
    }

    /// The codec, if the id is defined.
    pub const fn compression(self) -> Option<Compression> {
        Compression::from_id(self.compression_id())
    }

    /// The timestamp type.
    pub const fn timestamp_type(self) -> TimestampType {
        if self.0 & Self::TIMESTAMP_TYPE != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// Part of a transaction.
    pub const fn is_transactional(self) -> bool {
        self.0 & Self::TRANSACTIONAL != 0
    }

    /// A control batch.
    pub const fn is_control(self) -> bool {
        self.0 & Self::CONTROL != 0
    }

    /// The base timestamp is a delete horizon.
    pub const fn has_delete_horizon(self) -> bool {
        self.0 & Self::DELETE_HORIZON != 0
    }
}

#[inline]
fn get<const N: usize>(b: &[u8], r: Range<usize>) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(&b[r]);
    a
}

/// A zero-copy view of one v2 record batch in a buffer `T` (`&[u8]`, `&mut [u8]`, `Vec<u8>`,
/// `Bytes`, ...).
///
/// [`BatchView::new_checked`] checks that the buffer is exactly one batch (at least the 61-byte
/// header, magic 2, `batchLength` matching the buffer); after that every accessor is
/// infallible. The CRC is checked separately by [`BatchView::validate`] so that a broker can
/// read a header cheaply. With `T: AsMut<[u8]>` the fields a broker assigns can be rewritten in
/// place and the CRC refreshed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchView<T> {
    buf: T,
    at: usize,
}

impl<T: AsRef<[u8]>> BatchView<T> {
    /// Wraps a buffer that holds exactly one v2 batch, checking the header's size and magic.
    pub fn new_checked(buf: T) -> Result<Self, RecordError> {
        let b = buf.as_ref();
        if b.len() < RECORD_BATCH_OVERHEAD {
            return Err(RecordError::Truncated {
                offset: b.len(),
                expected: "a 61-byte record batch header",
            });
        }
        let magic = b[field::MAGIC.start] as i8;
        if magic != MAGIC_V2 {
            return Err(RecordError::UnsupportedMagic {
                offset: field::MAGIC.start,
                magic,
            });
        }
        let length = i32::from_be_bytes(get(b, field::BATCH_LENGTH));
        if i64::from(length) + LOG_OVERHEAD as i64 != b.len() as i64 {
            return Err(RecordError::BadSize {
                offset: field::BATCH_LENGTH.start,
                what: "batch length",
                size: i64::from(length),
                expected: "the buffer's length minus 12",
            });
        }
        Ok(BatchView { buf, at: 0 })
    }

    /// Records that this view starts at byte `at` of a larger buffer, so that errors give
    /// offsets in that buffer.
    pub fn at_offset(mut self, at: usize) -> Self {
        self.at = at;
        self
    }

    /// Where the batch starts in the buffer its errors refer to.
    pub fn position(&self) -> usize {
        self.at
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buf
    }

    /// The whole batch's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buf.as_ref()
    }

    /// The batch's total size in bytes (`batchLength + 12`).
    pub fn size(&self) -> usize {
        self.buf.as_ref().len()
    }

    /// `baseOffset`: the offset of the first record (0 from producers; the broker assigns it).
    pub fn base_offset(&self) -> i64 {
        i64::from_be_bytes(get(self.as_bytes(), field::BASE_OFFSET))
    }

    /// `batchLength`: the bytes after this field.
    pub fn batch_length(&self) -> i32 {
        i32::from_be_bytes(get(self.as_bytes(), field::BATCH_LENGTH))
    }

    /// `partitionLeaderEpoch`.
    pub fn partition_leader_epoch(&self) -> i32 {
        i32::from_be_bytes(get(self.as_bytes(), field::PARTITION_LEADER_EPOCH))
    }

    /// `magic` (always 2 in a checked view).
    pub fn magic(&self) -> i8 {
        self.as_bytes()[field::MAGIC.start] as i8
    }

    /// The stored `crc`.
    pub fn crc(&self) -> u32 {
        u32::from_be_bytes(get(self.as_bytes(), field::CRC))
    }

    /// The CRC-32C of the bytes it covers (`attributes` to the end).
    pub fn compute_crc(&self) -> u32 {
        crc32c(&self.as_bytes()[field::ATTRIBUTES.start..])
    }

    /// `attributes`.
    pub fn attributes(&self) -> Attributes {
        Attributes(u16::from_be_bytes(get(self.as_bytes(), field::ATTRIBUTES)))
    }

    /// The codec (an error for an undefined id).
    pub fn compression(&self) -> Result<Compression, RecordError> {
        let a = self.attributes();
        a.compression().ok_or(RecordError::UnknownCompression {
            offset: self.at + field::ATTRIBUTES.start,
            id: a.compression_id(),
        })
    }

    /// The timestamp type.
    pub fn timestamp_type(&self) -> TimestampType {
        self.attributes().timestamp_type()
    }

    /// Part of a transaction.
    pub fn is_transactional(&self) -> bool {
        self.attributes().is_transactional()
    }

    /// A control batch.
    pub fn is_control(&self) -> bool {
        self.attributes().is_control()
    }

    /// `lastOffsetDelta`.
    pub fn last_offset_delta(&self) -> i32 {
        i32::from_be_bytes(get(self.as_bytes(), field::LAST_OFFSET_DELTA))
    }

    /// The offset of the last record: `baseOffset + lastOffsetDelta`.
    pub fn last_offset(&self) -> i64 {
        self.base_offset()
            .wrapping_add(i64::from(self.last_offset_delta()))
    }

    /// The offset after the last record.
    pub fn next_offset(&self) -> i64 {
        self.last_offset().wrapping_add(1)
    }

    /// `baseTimestamp`.
    pub fn base_timestamp(&self) -> i64 {
        i64::from_be_bytes(get(self.as_bytes(), field::BASE_TIMESTAMP))
    }

    /// `maxTimestamp` (the append time for LogAppendTime batches).
    pub fn max_timestamp(&self) -> i64 {
        i64::from_be_bytes(get(self.as_bytes(), field::MAX_TIMESTAMP))
    }

    /// `producerId` (-1 for none).
    pub fn producer_id(&self) -> i64 {
        i64::from_be_bytes(get(self.as_bytes(), field::PRODUCER_ID))
    }

    /// `producerEpoch` (-1 for none).
    pub fn producer_epoch(&self) -> i16 {
        i16::from_be_bytes(get(self.as_bytes(), field::PRODUCER_EPOCH))
    }

    /// `baseSequence` (-1 for none).
    pub fn base_sequence(&self) -> i32 {
        i32::from_be_bytes(get(self.as_bytes(), field::BASE_SEQUENCE))
    }

    /// The sequence of the last record (`baseSequence + lastOffsetDelta`, wrapping at
    /// `i32::MAX` to 0 as Kafka's `incrementSequence` does); -1 when there is no sequence.
    pub fn last_sequence(&self) -> i32 {
        let base = self.base_sequence();
        if base == super::NO_SEQUENCE {
            return super::NO_SEQUENCE;
        }
        // Java's int arithmetic, which wraps: a hostile negative lastOffsetDelta must give
        // Kafka's answer, not an overflow.
        let inc = self.last_offset_delta();
        if base > i32::MAX.wrapping_sub(inc) {
            inc.wrapping_sub(i32::MAX.wrapping_sub(base))
                .wrapping_sub(1)
        } else {
            base.wrapping_add(inc)
        }
    }

    /// The `records` count.
    pub fn record_count(&self) -> i32 {
        i32::from_be_bytes(get(self.as_bytes(), field::RECORD_COUNT))
    }

    /// The records' bytes as stored (compressed when the batch is).
    pub fn records_bytes(&self) -> &[u8] {
        &self.as_bytes()[field::RECORDS..]
    }

    /// Checks the CRC.
    pub fn validate_crc(&self) -> Result<(), RecordError> {
        let (stored, computed) = (self.crc(), self.compute_crc());
        if stored != computed {
            return Err(RecordError::CrcMismatch {
                offset: self.at,
                stored,
                computed,
            });
        }
        Ok(())
    }

    /// Checks the CRC, the codec id and the record count against the header (what Kafka's
    /// `ensureValid` and the broker's first checks do). Records are checked as they are
    /// iterated.
    pub fn validate(&self) -> Result<(), RecordError> {
        self.validate_crc()?;
        self.compression()?;
        let count = self.record_count();
        if count < 0 {
            return Err(RecordError::Invalid {
                offset: self.at + field::RECORD_COUNT.start,
                field: "record count",
                expected: "a non-negative count",
            });
        }
        if self.last_offset_delta() < 0 {
            return Err(RecordError::Invalid {
                offset: self.at + field::LAST_OFFSET_DELTA.start,
                field: "lastOffsetDelta",
                expected: "a non-negative delta",
            });
        }
        Ok(())
    }

    /// The batch's records, uncompressed: borrowed from the batch when it is not compressed,
    /// otherwise decompressed into `scratch` (cleared first; at most `max_uncompressed` bytes)
    /// and borrowed from there. Keys, values and headers are never copied again.
    pub fn records<'s>(
        &'s self,
        scratch: &'s mut Vec<u8>,
        max_uncompressed: usize,
    ) -> Result<RecordIter<'s>, RecordError> {
        let data = self.uncompressed_records(scratch, max_uncompressed)?;
        Ok(RecordIter::new(
            data,
            self.record_count(),
            self.base_offset(),
            self.base_timestamp(),
            match self.timestamp_type() {
                TimestampType::LogAppendTime => Some(self.max_timestamp()),
                TimestampType::CreateTime => None,
            },
            self.at,
        ))
    }

    /// The records' bytes, uncompressed (see [`BatchView::records`]).
    pub fn uncompressed_records<'s>(
        &'s self,
        scratch: &'s mut Vec<u8>,
        max_uncompressed: usize,
    ) -> Result<&'s [u8], RecordError> {
        let codec = self.compression()?;
        if codec == Compression::None {
            return Ok(self.records_bytes());
        }
        scratch.clear();
        codec::decompress(
            codec,
            self.records_bytes(),
            scratch,
            max_uncompressed,
            false,
        )
        .map_err(|e| e.into_record_error(codec, self.at))?;
        Ok(&scratch[..])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> BatchView<T> {
    fn put(&mut self, r: Range<usize>, v: &[u8]) {
        self.buf.as_mut()[r].copy_from_slice(v);
    }

    /// Sets `baseOffset` (not covered by the CRC).
    pub fn set_base_offset(&mut self, v: i64) {
        self.put(field::BASE_OFFSET, &v.to_be_bytes());
    }

    /// Sets `partitionLeaderEpoch` (not covered by the CRC).
    pub fn set_partition_leader_epoch(&mut self, v: i32) {
        self.put(field::PARTITION_LEADER_EPOCH, &v.to_be_bytes());
    }

    /// Sets `maxTimestamp`; call [`BatchView::fill_crc`] afterwards.
    pub fn set_max_timestamp(&mut self, v: i64) {
        self.put(field::MAX_TIMESTAMP, &v.to_be_bytes());
    }

    /// Sets `attributes`; call [`BatchView::fill_crc`] afterwards.
    pub fn set_attributes(&mut self, a: Attributes) {
        self.put(field::ATTRIBUTES, &a.0.to_be_bytes());
    }

    /// Sets the stored `crc`.
    pub fn set_crc(&mut self, v: u32) {
        self.put(field::CRC, &v.to_be_bytes());
    }

    /// Recomputes the CRC and stores it.
    pub fn fill_crc(&mut self) {
        let crc = self.compute_crc();
        self.set_crc(crc);
    }

    /// What a broker does for a topic with `message.timestamp.type=LogAppendTime`: sets the
    /// timestamp type to LogAppendTime and `maxTimestamp` to `append_time`, then refreshes the
    /// CRC. Records keep their deltas; readers take their timestamps from `maxTimestamp`.
    pub fn set_log_append_time(&mut self, append_time: i64) {
        let a = self.attributes();
        self.set_attributes(Attributes(a.0 | Attributes::TIMESTAMP_TYPE));
        self.set_max_timestamp(append_time);
        self.fill_crc();
    }
}

/// Walks a buffer of v2 batches (a produce request's or fetch response's records, a log
/// segment), yielding a checked [`BatchView`] for each whole batch.
///
/// [`Batches::new`] stops without an error at a partial trailing batch (fetch responses end
/// with one, and so may a segment after a crash); [`Batches::remainder`] gives its bytes.
/// [`Batches::complete`] is for buffers that must hold whole batches only, a Produce request's
/// records above all: there a partial trailing batch is [`RecordError::Incomplete`], naming
/// its offset. A header that cannot be right (a size below the minimum, a magic other than 2)
/// is an error, after which the walk ends. CRCs are not checked here: call
/// [`BatchView::validate`].
///
/// ```
/// use kproto::records::{BatchBuilder, BatchConfig, Batches, RecordError};
///
/// let mut b = BatchBuilder::new(BatchConfig::default());
/// b.try_append(1_700_000_000_000, None, Some(b"v"), &[]).unwrap();
/// let batch = b.finish().unwrap();
/// let mut two = batch.clone();
/// two.extend_from_slice(&batch[..batch.len() - 1]); // the second batch lost its last byte
///
/// // A fetch response may end with a partial batch: the lenient walk yields the first one.
/// assert_eq!(Batches::new(&two).count(), 1);
/// // A Produce request may not.
/// let err = Batches::complete(&two).find_map(Result::err).unwrap();
/// assert_eq!(
///     err,
///     RecordError::Incomplete { offset: batch.len(), needed: batch.len(), available: batch.len() - 1 }
/// );
/// ```
///
/// Kafka 4.4.0 itself is lenient on produce: `UnifiedLog.analyzeAndValidateRecords` counts the
/// bytes of the whole batches and `trimInvalidBytes` silently drops a partial tail (only a
/// request with no whole batch at all is refused, `INVALID_RECORD`). A broker that wants to
/// refuse the bytes instead (and not store less than the client sent) walks a Produce
/// request's records with [`Batches::complete`] and answers `CORRUPT_MESSAGE` on
/// [`RecordError::Incomplete`].
#[derive(Debug, Clone)]
pub struct Batches<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
    complete: bool,
}

impl<'a> Batches<'a> {
    /// A walk over `buf` from its start that stops without an error at a partial trailing
    /// batch.
    pub fn new(buf: &'a [u8]) -> Self {
        Batches {
            buf,
            pos: 0,
            done: false,
            complete: false,
        }
    }

    /// A walk over `buf` that insists on whole batches: bytes left after the last whole batch
    /// are [`RecordError::Incomplete`] (with the offset of the partial batch), after which the
    /// walk ends. An empty buffer is zero batches.
    pub fn complete(buf: &'a [u8]) -> Self {
        Batches {
            complete: true,
            ..Batches::new(buf)
        }
    }

    /// Walks every batch header of `buf`, insisting on whole batches, and returns how many
    /// batches there are (CRCs and records are not checked).
    pub fn count_complete(buf: &'a [u8]) -> Result<usize, RecordError> {
        Batches::complete(buf).try_fold(0, |n, b| b.map(|_| n + 1))
    }

    /// The byte offset of the next batch.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The bytes from the current position on: after the walk ends without an error, the
    /// partial trailing batch (empty when the buffer held only whole batches).
    pub fn remainder(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    /// Reads the size of the entry at `pos`: `Ok(None)` for a partial tail, the total size
    /// otherwise. Shared with the legacy walk, which accepts magic 0 and 1 too.
    pub(crate) fn entry_size(rest: &[u8], at: usize) -> Result<Option<(usize, i8)>, RecordError> {
        // Kafka's ByteBufferLogInputStream needs offset, size and magic (17 bytes).
        if rest.len() < field::MAGIC.end {
            return Ok(None);
        }
        let size = i32::from_be_bytes(get(rest, field::BATCH_LENGTH));
        let magic = rest[field::MAGIC.start] as i8;
        let min = match magic {
            MAGIC_V2 => RECORD_BATCH_OVERHEAD - LOG_OVERHEAD,
            0 | 1 => super::legacy::MIN_MESSAGE_SIZE,
            _ => {
                return Err(RecordError::UnsupportedMagic {
                    offset: at + field::MAGIC.start,
                    magic,
                })
            }
        };
        if size < 0 || (size as usize) < min {
            return Err(RecordError::BadSize {
                offset: at + field::BATCH_LENGTH.start,
                what: if magic == MAGIC_V2 {
                    "batch length"
                } else {
                    "message size"
                },
                size: i64::from(size),
                expected: "at least the header's size",
            });
        }
        let total = size as usize + LOG_OVERHEAD;
        if total > rest.len() {
            return Ok(None);
        }
        Ok(Some((total, magic)))
    }

    /// The error for a partial entry at `at` when whole entries were required; `None` when
    /// nothing is left.
    pub(crate) fn incomplete(rest: &[u8], at: usize) -> Option<RecordError> {
        if rest.is_empty() {
            return None;
        }
        // `entry_size` has checked the length field to be at least the minimum when the
        // bytes up to the magic are there.
        let needed = if rest.len() >= field::MAGIC.end {
            i32::from_be_bytes(get(rest, field::BATCH_LENGTH)) as usize + LOG_OVERHEAD
        } else {
            field::MAGIC.end
        };
        Some(RecordError::Incomplete {
            offset: at,
            needed,
            available: rest.len(),
        })
    }
}

impl<'a> Iterator for Batches<'a> {
    type Item = Result<BatchView<&'a [u8]>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = self.remainder();
        let at = self.pos;
        let fail = |s: &mut Self, e| {
            s.done = true;
            Some(Err(e))
        };
        match Self::entry_size(rest, at) {
            Ok(None) => {
                self.done = true;
                if self.complete {
                    return Self::incomplete(rest, at).map(Err);
                }
                None
            }
            Err(e) => fail(self, e),
            Ok(Some((_, magic))) if magic != MAGIC_V2 => fail(
                self,
                RecordError::UnsupportedMagic {
                    offset: at + field::MAGIC.start,
                    magic,
                },
            ),
            Ok(Some((total, _))) => match BatchView::new_checked(&rest[..total]) {
                Ok(v) => {
                    self.pos += total;
                    Some(Ok(v.at_offset(at)))
                }
                Err(e) => fail(self, e.shifted(at)),
            },
        }
    }
}

impl core::iter::FusedIterator for Batches<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{BatchBuilder, BatchConfig, NO_PRODUCER_ID};
    use alloc::vec;

    /// Two records, as kafka-python's `DefaultRecordBatchBuilder` writes them (checked by
    /// tests/tests/records_python.rs to be what it writes); Java writes the same with
    /// partitionLeaderEpoch -1.
    #[rustfmt::skip]
    const FIXTURE: [u8; 83] = [
        0, 0, 0, 0, 0, 0, 0, 0,             // baseOffset 0
        0, 0, 0, 0x47,                      // batchLength 71
        0, 0, 0, 0,                         // partitionLeaderEpoch 0
        2,                                  // magic
        0xd8, 0xa1, 0xbb, 0xe8,             // crc
        0, 0,                               // attributes: none, CreateTime
        0, 0, 0, 1,                         // lastOffsetDelta 1
        0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 0, // baseTimestamp 1700000000000
        0, 0, 1, 0x8b, 0xcf, 0xe5, 0x68, 5, // maxTimestamp 1700000000005
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // producerId -1
        0xff, 0xff,                         // producerEpoch -1
        0xff, 0xff, 0xff, 0xff,             // baseSequence -1
        0, 0, 0, 2,                         // records 2
        // record 0: length 14, attributes, timestampDelta 0, offsetDelta 0
        0x1c, 0, 0, 0,
        0x02, b'k',                         // key "k"
        0x02, b'v',                         // value "v"
        0x02,                               // 1 header
        0x04, b'k', b'k', 0x04, b'v', b'v', // "kk" = "vv"
        // record 1: length 6, attributes, timestampDelta 5, offsetDelta 1
        0x0c, 0, 0x0a, 0x02,
        0x01, 0x01,                         // null key, null value
        0x00,                               // no headers
    ];

    fn fixture_built() -> Vec<u8> {
        let mut b = BatchBuilder::new(BatchConfig {
            partition_leader_epoch: 0,
            ..BatchConfig::default()
        });
        b.try_append(
            1_700_000_000_000,
            Some(b"k"),
            Some(b"v"),
            &[("kk", Some(b"vv"))],
        )
        .unwrap();
        b.try_append(1_700_000_000_005, None, None, &[]).unwrap();
        b.finish().unwrap()
    }

    #[test]
    fn builder_writes_the_fixture() {
        assert_eq!(fixture_built(), FIXTURE);
    }

    #[test]
    fn view_reads_every_field() {
        let v = BatchView::new_checked(&FIXTURE[..]).unwrap();
        v.validate().unwrap();
        assert_eq!(v.base_offset(), 0);
        assert_eq!(v.batch_length(), 71);
        assert_eq!(v.partition_leader_epoch(), 0);
        assert_eq!(v.magic(), 2);
        assert_eq!(v.crc(), 0xd8a1_bbe8);
        assert_eq!(v.compute_crc(), 0xd8a1_bbe8);
        assert_eq!(v.compression().unwrap(), Compression::None);
        assert_eq!(v.timestamp_type(), TimestampType::CreateTime);
        assert!(!v.is_transactional() && !v.is_control());
        assert_eq!(v.last_offset_delta(), 1);
        assert_eq!((v.last_offset(), v.next_offset()), (1, 2));
        assert_eq!(v.base_timestamp(), 1_700_000_000_000);
        assert_eq!(v.max_timestamp(), 1_700_000_000_005);
        assert_eq!(
            (v.producer_id(), v.producer_epoch(), v.base_sequence()),
            (NO_PRODUCER_ID, -1, -1)
        );
        assert_eq!(v.last_sequence(), -1);
        assert_eq!(v.record_count(), 2);
        let mut s = Vec::new();
        let recs: Vec<_> = v.records(&mut s, 0).unwrap().map(Result::unwrap).collect();
        assert_eq!(recs.len(), 2);
        let r = &recs[0];
        assert_eq!(
            (r.offset, r.timestamp, r.key, r.value),
            (0, 1_700_000_000_000, Some(&b"k"[..]), Some(&b"v"[..]))
        );
        assert_eq!(&FIXTURE[RECORD_BATCH_OVERHEAD..][r.key_span.clone()], b"k");
        let h: Vec<_> = r.headers.iter().collect();
        assert_eq!(h.len(), 1);
        assert_eq!((h[0].key_str(), h[0].value), (Some("kk"), Some(&b"vv"[..])));
        let r = &recs[1];
        assert_eq!(
            (r.offset, r.timestamp, r.key, r.value),
            (1, 1_700_000_000_005, None, None)
        );
        assert!(r.headers.is_empty());
        // Zero copy: the value points into the batch.
        assert_eq!(
            recs[0].value.unwrap().as_ptr(),
            FIXTURE[RECORD_BATCH_OVERHEAD + 7..].as_ptr()
        );
    }

    #[test]
    fn field_ranges_tile_the_header() {
        let mut next = 0;
        for (_, r) in field::ALL {
            assert_eq!(r.start, next);
            next = r.end;
        }
        assert_eq!(next, RECORD_BATCH_OVERHEAD);
    }

    #[test]
    fn broker_rewrites_in_place() {
        let mut buf = FIXTURE.to_vec();
        let mut v = BatchView::new_checked(&mut buf[..]).unwrap();
        v.set_base_offset(1000);
        v.set_partition_leader_epoch(7);
        // Neither field is under the CRC.
        v.validate().unwrap();
        v.set_log_append_time(1_800_000_000_000);
        v.validate().unwrap();
        assert_eq!(v.base_offset(), 1000);
        assert_eq!(v.partition_leader_epoch(), 7);
        assert_eq!(v.timestamp_type(), TimestampType::LogAppendTime);
        assert_eq!(v.max_timestamp(), 1_800_000_000_000);
        let v = BatchView::new_checked(&buf[..]).unwrap();
        let mut s = Vec::new();
        let got: Vec<_> = v
            .records(&mut s, 0)
            .unwrap()
            .map(|r| r.unwrap())
            .map(|r| (r.offset, r.timestamp))
            .collect();
        assert_eq!(got, [(1000, 1_800_000_000_000), (1001, 1_800_000_000_000)]);
        // A stale CRC is caught.
        let mut v = BatchView::new_checked(&mut buf[..]).unwrap();
        v.set_max_timestamp(5);
        assert!(matches!(
            v.validate(),
            Err(RecordError::CrcMismatch { offset: 0, .. })
        ));
        v.fill_crc();
        v.validate().unwrap();
    }

    #[test]
    fn last_sequence_wraps_as_kafka_does() {
        let set = |base: i32, delta: i32| {
            let mut buf = fixture_built();
            buf[field::BASE_SEQUENCE].copy_from_slice(&base.to_be_bytes());
            buf[field::LAST_OFFSET_DELTA].copy_from_slice(&delta.to_be_bytes());
            BatchView::new_checked(&buf[..]).unwrap().last_sequence()
        };
        assert_eq!(set(10, 2), 12);
        assert_eq!(set(i32::MAX - 1, 3), 1, "wraps past i32::MAX to 0");
        assert_eq!(set(-1, 5), -1, "no sequence");
        // Hostile deltas (found by fuzzing): Java's int arithmetic, no overflow panic.
        assert_eq!(
            set(5, -1),
            (-1i32).wrapping_sub(i32::MAX - 5).wrapping_sub(1)
        );
        // MAX - MIN wraps to -1 < MAX, so Java takes MIN - (MAX - MAX) - 1, which wraps to MAX.
        assert_eq!(set(i32::MAX, i32::MIN), i32::MAX);
    }

    #[test]
    fn batches_stop_at_a_partial_tail() {
        let mut buf = FIXTURE.to_vec();
        buf.extend_from_slice(&FIXTURE);
        for cut in 0..=buf.len() {
            let mut it = Batches::new(&buf[..cut]);
            let n = it.by_ref().map(Result::unwrap).count();
            assert_eq!(n, cut / FIXTURE.len(), "cut {cut}");
            assert_eq!(it.remainder().len(), cut % FIXTURE.len());
        }
        let mut it = Batches::new(&buf);
        let second = it.nth(1).unwrap().unwrap();
        assert_eq!(second.position(), FIXTURE.len());
    }

    #[test]
    fn a_complete_walk_names_the_partial_batch() {
        let mut buf = FIXTURE.to_vec();
        buf.extend_from_slice(&FIXTURE);
        let n = FIXTURE.len();
        for cut in 0..=buf.len() {
            let got: Vec<_> = Batches::complete(&buf[..cut]).collect();
            let whole = cut / n;
            let tail = cut % n;
            assert_eq!(got.len(), whole + usize::from(tail > 0), "cut {cut}");
            assert!(got[..whole].iter().all(Result::is_ok), "cut {cut}");
            let counted = Batches::count_complete(&buf[..cut]);
            if tail == 0 {
                assert_eq!(counted, Ok(whole));
                continue;
            }
            let expected = RecordError::Incomplete {
                offset: whole * n,
                // The length field is read once the 17 bytes up to the magic are there.
                needed: if tail >= field::MAGIC.end {
                    n
                } else {
                    field::MAGIC.end
                },
                available: tail,
            };
            assert_eq!(got[whole], Err(expected.clone()), "cut {cut}");
            assert_eq!(counted, Err(expected));
        }
        // Bad headers are still errors, not "incomplete".
        let mut bad = FIXTURE.to_vec();
        bad[16] = 7;
        assert!(matches!(
            Batches::count_complete(&bad),
            Err(RecordError::UnsupportedMagic {
                offset: 16,
                magic: 7
            })
        ));
    }

    #[test]
    fn bad_headers_are_errors_with_offsets() {
        let mut buf = FIXTURE.to_vec();
        buf.extend_from_slice(&FIXTURE);
        let second = FIXTURE.len();
        buf[second + 16] = 3;
        let mut it = Batches::new(&buf);
        it.next().unwrap().unwrap();
        assert_eq!(
            it.next().unwrap().unwrap_err(),
            RecordError::UnsupportedMagic {
                offset: second + 16,
                magic: 3
            }
        );
        assert!(it.next().is_none());
        let mut buf = FIXTURE.to_vec();
        buf[8..12].copy_from_slice(&48i32.to_be_bytes());
        assert!(matches!(
            Batches::new(&buf).next(),
            Some(Err(RecordError::BadSize { offset: 8, .. }))
        ));
        assert!(BatchView::new_checked(&FIXTURE[..82]).is_err());
        assert!(BatchView::new_checked(vec![0u8; 10]).is_err());
    }

    #[test]
    fn record_errors_say_which_record_and_where() {
        // Claim three records where there are two.
        let mut buf = FIXTURE.to_vec();
        buf[field::RECORD_COUNT.end - 1] = 3;
        let v = BatchView::new_checked(&buf[..]).unwrap();
        let mut s = Vec::new();
        let errs: Vec<_> = v
            .records(&mut s, 0)
            .unwrap()
            .filter_map(Result::err)
            .collect();
        assert_eq!(
            errs,
            [RecordError::Record {
                batch_offset: 0,
                index: 2,
                offset: 22,
                expected: "as many records as the declared count"
            }]
        );
        // Claim one: the second is left over.
        buf[field::RECORD_COUNT.end - 1] = 1;
        let v = BatchView::new_checked(&buf[..]).unwrap();
        let r: Vec<_> = v.records(&mut s, 0).unwrap().collect();
        assert!(r[0].is_ok() && r[1].is_err() && r.len() == 2);
    }
}
