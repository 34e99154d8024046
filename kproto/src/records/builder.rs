//! Building v2 batches the way Apache Kafka's Java client does (`MemoryRecordsBuilder`,
//! `DefaultRecord.writeTo`, `DefaultRecordBatch.writeHeader`): same bytes for the same input,
//! same size estimate, same `batch.size` rule.

use super::batch::{field, Attributes};
use super::codec;
use super::crc::{crc32c, crc32c_append};
use super::owned::BatchHeader;
use super::{BatchView, RecordError};
use super::{
    BuildError, Compression, TimestampType, LOG_OVERHEAD, MAGIC_V2, MAX_RECORD_OVERHEAD,
    NO_PARTITION_LEADER_EPOCH, NO_PRODUCER_EPOCH, NO_PRODUCER_ID, NO_SEQUENCE, NO_TIMESTAMP,
    RECORD_BATCH_OVERHEAD,
};
use crate::wire::{len_varint, len_varlong};
use alloc::vec::Vec;
use bytes::{BufMut, Bytes};

/// Kafka's `MemoryRecordsBuilder.COMPRESSION_RATE_ESTIMATION_FACTOR`.
const COMPRESSION_RATE_ESTIMATION_FACTOR: f32 = 1.05;

/// The fixed properties of a batch being built.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchConfig {
    /// `baseOffset`: 0 from producers (the broker assigns offsets).
    pub base_offset: i64,
    /// `partitionLeaderEpoch`: -1 from producers.
    pub partition_leader_epoch: i32,
    /// CreateTime (producers) or LogAppendTime.
    pub timestamp_type: TimestampType,
    /// The append time written as `maxTimestamp` when the type is LogAppendTime.
    pub log_append_time: i64,
    /// The codec.
    pub compression: Compression,
    /// `producerId` (-1 for none).
    pub producer_id: i64,
    /// `producerEpoch` (-1 for none).
    pub producer_epoch: i16,
    /// `baseSequence` (-1 for none).
    pub base_sequence: i32,
    /// Part of a transaction (needs a producer id).
    pub transactional: bool,
    /// A control batch.
    pub control: bool,
    /// The size limit (`batch.size`; the Java producer uses the larger of `batch.size` and the
    /// first record's [`estimate_size_upper_bound`]). The first record is always accepted.
    pub write_limit: usize,
    /// The expected compressed/uncompressed ratio for the size estimate of compressed batches
    /// (the producer's `CompressionRatioEstimator`; 1.0 to begin with).
    pub estimated_compression_ratio: f32,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            base_offset: 0,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            timestamp_type: TimestampType::CreateTime,
            log_append_time: NO_TIMESTAMP,
            compression: Compression::None,
            producer_id: NO_PRODUCER_ID,
            producer_epoch: NO_PRODUCER_EPOCH,
            base_sequence: NO_SEQUENCE,
            transactional: false,
            control: false,
            write_limit: 16384,
            estimated_compression_ratio: 1.0,
        }
    }
}

/// Bytes a key or value takes with its varint length (-1 for null: one byte).
fn len_nullable(n: Option<usize>, what: &'static str) -> Result<usize, BuildError> {
    match n {
        None => Ok(1),
        Some(n) => {
            let i = i32::try_from(n).map_err(|_| BuildError::TooLarge { what, len: n })?;
            Ok(len_varint(i) + n)
        }
    }
}

/// Key, value and headers' bytes (`DefaultRecord.sizeOf`).
pub(crate) fn len_kvh<'h, I>(
    key: Option<usize>,
    value: Option<usize>,
    headers: I,
) -> Result<usize, BuildError>
where
    I: ExactSizeIterator<Item = (&'h [u8], Option<&'h [u8]>)>,
{
    let count = headers.len();
    let count = i32::try_from(count).map_err(|_| BuildError::TooLarge {
        what: "header count",
        len: count,
    })?;
    let mut n = len_nullable(key, "key")? + len_nullable(value, "value")? + len_varint(count);
    for (k, v) in headers {
        n += len_nullable(Some(k.len()), "header key")?;
        n += len_nullable(v.map(<[u8]>::len), "header value")?;
    }
    Ok(n)
}

/// A record's body size (after its length varint), checked to fit an int32.
fn body_len(offset_delta: i32, timestamp_delta: i64, kvh: usize) -> Result<i32, BuildError> {
    let n = 1 + len_varint(offset_delta) + len_varlong(timestamp_delta) + kvh;
    i32::try_from(n).map_err(|_| BuildError::TooLarge {
        what: "record",
        len: n,
    })
}

/// Where encoded record bytes go: the builder's `Vec`, a caller's [`BufMut`], or a CRC-32C
/// computed without keeping the bytes.
pub(crate) trait Sink {
    /// Appends `bytes`.
    fn put(&mut self, bytes: &[u8]);
}

impl Sink for Vec<u8> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A [`BufMut`] as a [`Sink`].
pub(crate) struct BufSink<'a, B: BufMut>(pub(crate) &'a mut B);

impl<B: BufMut> Sink for BufSink<'_, B> {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.0.put_slice(bytes);
    }
}

/// The CRC-32C of everything put, continuing from a start value.
pub(crate) struct CrcSink(pub(crate) u32);

impl Sink for CrcSink {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.0 = crc32c_append(self.0, bytes);
    }
}

/// The varints of one record's framing, gathered on the stack and copied into the batch in one
/// `extend_from_slice` (a push per byte costs a capacity check per byte).
struct Framing {
    buf: [u8; 32],
    len: usize,
}

impl Framing {
    fn new() -> Self {
        Framing {
            buf: [0; 32],
            len: 0,
        }
    }

    /// Writes an unsigned varint (at most 10 bytes; callers write at most 26 between flushes).
    #[inline(always)]
    fn uvar(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf[self.len] = (v as u8) | 0x80;
            self.len += 1;
            v >>= 7;
        }
        self.buf[self.len] = v as u8;
        self.len += 1;
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        self.buf[self.len] = b;
        self.len += 1;
    }

    #[inline(always)]
    fn varint(&mut self, v: i32) {
        self.uvar(u64::from(((v << 1) ^ (v >> 31)) as u32));
    }

    #[inline(always)]
    fn varlong(&mut self, v: i64) {
        self.uvar(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A varint length (-1 for null), then flushes the framing and the bytes into `out`.
    #[inline(always)]
    fn nullable_then_flush(&mut self, out: &mut impl Sink, v: Option<&[u8]>) {
        self.varint(v.map_or(-1, |v| v.len() as i32));
        out.put(&self.buf[..self.len]);
        self.len = 0;
        if let Some(v) = v {
            out.put(v);
        }
    }
}

/// Writes one record (`DefaultRecord.writeTo`); sizes were checked by [`len_kvh`].
#[allow(clippy::too_many_arguments)] // the record's fields, in wire order
pub(crate) fn put_record<'h, I>(
    buf: &mut impl Sink,
    body: i32,
    attributes: i8,
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: I,
) where
    I: ExactSizeIterator<Item = (&'h [u8], Option<&'h [u8]>)>,
{
    let mut f = Framing::new();
    // At most 5 + 1 + 10 + 5 + 5 bytes before the first flush.
    f.varint(body);
    f.byte(attributes as u8);
    f.varlong(timestamp_delta);
    f.varint(offset_delta);
    f.nullable_then_flush(buf, key);
    f.nullable_then_flush(buf, value);
    f.varint(headers.len() as i32);
    for (k, v) in headers {
        f.nullable_then_flush(buf, Some(k));
        f.nullable_then_flush(buf, v);
    }
    buf.put(&f.buf[..f.len]);
}

/// The 61-byte header of a batch of `count` records whose records take `records_len` bytes
/// (as written: compressed when the batch is), with its CRC-32C over `attributes..end` given
/// the CRC of the records alone (`DefaultRecordBatch.writeHeader`).
pub(crate) fn header_bytes(
    h: &BatchHeader,
    count: i32,
    records_len: usize,
    records_crc: impl FnOnce(u32) -> u32,
) -> [u8; RECORD_BATCH_OVERHEAD] {
    let mut b = [0u8; RECORD_BATCH_OVERHEAD];
    let length = (RECORD_BATCH_OVERHEAD - LOG_OVERHEAD + records_len) as i32;
    b[field::BASE_OFFSET].copy_from_slice(&h.base_offset.to_be_bytes());
    b[field::BATCH_LENGTH].copy_from_slice(&length.to_be_bytes());
    b[field::PARTITION_LEADER_EPOCH].copy_from_slice(&h.partition_leader_epoch.to_be_bytes());
    b[field::MAGIC.start] = MAGIC_V2 as u8;
    b[field::ATTRIBUTES].copy_from_slice(&h.attributes.0.to_be_bytes());
    b[field::LAST_OFFSET_DELTA].copy_from_slice(&h.last_offset_delta.to_be_bytes());
    b[field::BASE_TIMESTAMP].copy_from_slice(&h.base_timestamp.to_be_bytes());
    b[field::MAX_TIMESTAMP].copy_from_slice(&h.max_timestamp.to_be_bytes());
    b[field::PRODUCER_ID].copy_from_slice(&h.producer_id.to_be_bytes());
    b[field::PRODUCER_EPOCH].copy_from_slice(&h.producer_epoch.to_be_bytes());
    b[field::BASE_SEQUENCE].copy_from_slice(&h.base_sequence.to_be_bytes());
    b[field::RECORD_COUNT].copy_from_slice(&count.to_be_bytes());
    let crc = records_crc(crc32c(&b[field::ATTRIBUTES.start..]));
    b[field::CRC].copy_from_slice(&crc.to_be_bytes());
    b
}

/// Checks that `buf` has room for `needed` more bytes, as message encoders do: nothing is
/// written when it has not.
pub(crate) fn check_room(buf: &impl BufMut, needed: usize) -> Result<(), BuildError> {
    if buf.remaining_mut() < needed {
        return Err(BuildError::BufferTooSmall {
            needed,
            remaining: buf.remaining_mut(),
        });
    }
    Ok(())
}

/// A finished v2 batch, exactly its bytes on the wire: what [`BatchBuilder::build`] and
/// [`RecordBatch::to_encoded`](super::RecordBatch::to_encoded) return. It encodes as messages
/// do ([`EncodedBatch::encoded_len`], [`EncodedBatch::encode`] into any [`BufMut`]), so a
/// Produce request can be written around it without another copy of the records.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EncodedBatch {
    bytes: Vec<u8>,
}

impl EncodedBatch {
    /// Wraps bytes known to be one whole v2 batch.
    pub(crate) fn from_vec(bytes: Vec<u8>) -> Self {
        debug_assert!(BatchView::new_checked(&bytes[..]).is_ok());
        EncodedBatch { bytes }
    }

    /// Checks that `bytes` are exactly one v2 batch (header size and magic, and its CRC).
    pub fn new(bytes: Vec<u8>) -> Result<Self, RecordError> {
        BatchView::new_checked(&bytes[..])?.validate_crc()?;
        Ok(EncodedBatch { bytes })
    }

    /// The bytes [`EncodedBatch::encode`] writes.
    pub fn encoded_len(&self) -> usize {
        self.bytes.len()
    }

    /// Writes the batch into `buf`; nothing is written when `buf` has no room for
    /// [`EncodedBatch::encoded_len`] bytes.
    pub fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), BuildError> {
        check_room(buf, self.bytes.len())?;
        buf.put_slice(&self.bytes);
        Ok(())
    }

    /// The batch's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// A view of the batch, to read its header fields.
    pub fn view(&self) -> BatchView<&[u8]> {
        BatchView::new_checked(&self.bytes[..]).expect("an encoded batch is one whole batch")
    }

    /// The batch's bytes, as a `Vec`.
    pub fn into_vec(self) -> Vec<u8> {
        self.bytes
    }
}

impl AsRef<[u8]> for EncodedBatch {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl From<EncodedBatch> for Vec<u8> {
    fn from(b: EncodedBatch) -> Vec<u8> {
        b.bytes
    }
}

impl From<EncodedBatch> for Bytes {
    fn from(b: EncodedBatch) -> Bytes {
        Bytes::from(b.bytes)
    }
}

/// Fills the 61-byte header at the start of `batch` (the whole batch, records included) and
/// its CRC (`DefaultRecordBatch.writeHeader`).
pub(crate) fn put_header(batch: &mut [u8], h: &BatchHeader, count: i32) {
    let (head, records) = batch.split_at_mut(RECORD_BATCH_OVERHEAD);
    let header = header_bytes(h, count, records.len(), |crc| crc32c_append(crc, records));
    head.copy_from_slice(&header);
}

/// Compresses `batch[61..]` in place (through one temporary buffer) when `codec` says so.
pub(crate) fn compress_records(batch: &mut Vec<u8>, codec: Compression) -> Result<(), BuildError> {
    if codec == Compression::None {
        return Ok(());
    }
    let mut out = Vec::with_capacity(batch.len() / 2 + RECORD_BATCH_OVERHEAD);
    out.extend_from_slice(&batch[..RECORD_BATCH_OVERHEAD]);
    codec::compress(codec, &batch[RECORD_BATCH_OVERHEAD..], &mut out, false)
        .map_err(|_| BuildError::CodecDisabled(codec))?;
    *batch = out;
    Ok(())
}

/// An upper bound of the size of a batch holding only this record
/// (`AbstractRecords.estimateSizeInBytesUpperBound` for magic 2): what the Java producer
/// compares with `batch.size` to size a new batch.
pub fn estimate_size_upper_bound(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&str, Option<&[u8]>)],
) -> Result<usize, BuildError> {
    let kvh = len_kvh(
        key.map(<[u8]>::len),
        value.map(<[u8]>::len),
        headers.iter().map(|(k, v)| (k.as_bytes(), *v)),
    )?;
    Ok(RECORD_BATCH_OVERHEAD + MAX_RECORD_OVERHEAD + kvh)
}

/// Builds one v2 batch: the `MemoryRecordsBuilder` / `ProducerBatch` role.
///
/// Records are appended at consecutive offsets from `base_offset`; their timestamps are stored
/// as deltas from the first record's. [`BatchBuilder::finish`] writes the header, compresses and
/// computes the CRC. For an uncompressed batch the bytes are the Java client's bytes for the
/// same input.
#[derive(Debug, Clone)]
pub struct BatchBuilder {
    cfg: BatchConfig,
    buf: Vec<u8>,
    count: i32,
    base_timestamp: Option<i64>,
    max_timestamp: i64,
}

impl BatchBuilder {
    /// A builder for an empty batch.
    pub fn new(cfg: BatchConfig) -> Self {
        Self::with_buffer(cfg, Vec::new())
    }

    /// A builder that writes into `buf` (cleared), reusing its allocation.
    pub fn with_buffer(cfg: BatchConfig, mut buf: Vec<u8>) -> Self {
        buf.clear();
        buf.resize(RECORD_BATCH_OVERHEAD, 0);
        BatchBuilder {
            cfg,
            buf,
            count: 0,
            base_timestamp: None,
            max_timestamp: NO_TIMESTAMP,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BatchConfig {
        &self.cfg
    }

    /// Sets the producer id, epoch, base sequence and transactional flag before finishing (the
    /// Java producer assigns sequences when a batch is drained: `setProducerState`).
    pub fn set_producer_state(
        &mut self,
        producer_id: i64,
        producer_epoch: i16,
        base_sequence: i32,
        transactional: bool,
    ) {
        self.cfg.producer_id = producer_id;
        self.cfg.producer_epoch = producer_epoch;
        self.cfg.base_sequence = base_sequence;
        self.cfg.transactional = transactional;
    }

    /// Sets the compression ratio the estimate uses (`setEstimatedCompressionRatio`).
    pub fn set_estimated_compression_ratio(&mut self, ratio: f32) {
        self.cfg.estimated_compression_ratio = ratio;
    }

    /// The number of records appended.
    pub fn record_count(&self) -> usize {
        self.count as usize
    }

    /// No record appended yet.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Bytes of records appended, before compression.
    pub fn uncompressed_records_size(&self) -> usize {
        self.buf.len() - RECORD_BATCH_OVERHEAD
    }

    /// The estimated size of the finished batch (`MemoryRecordsBuilder.estimatedBytesWritten`):
    /// exact when uncompressed; for compressed batches the records' size times the estimated
    /// ratio times 1.05.
    pub fn estimated_size(&self) -> usize {
        let records = self.uncompressed_records_size();
        if self.cfg.compression == Compression::None {
            RECORD_BATCH_OVERHEAD + records
        } else {
            // Java: (int) (int * float * float), in single precision.
            let est = records as f32
                * self.cfg.estimated_compression_ratio
                * COMPRESSION_RATE_ESTIMATION_FACTOR;
            RECORD_BATCH_OVERHEAD + est as usize
        }
    }

    /// Whether the write limit is reached (`MemoryRecordsBuilder.isFull`).
    pub fn is_full(&self) -> bool {
        self.count > 0 && self.cfg.write_limit <= self.estimated_size()
    }

    /// Appends a record at the next offset, unless it would take the batch past its write
    /// limit (`hasRoomFor` then `append`): the first record is always accepted. Returns the
    /// record's offset delta. `timestamp` is milliseconds, or -1 for none.
    pub fn try_append(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&str, Option<&[u8]>)],
    ) -> Result<i32, BuildError> {
        self.try_append_with(
            timestamp,
            key,
            value,
            headers.iter().map(|(k, v)| (k.as_bytes(), *v)),
        )
    }

    /// [`BatchBuilder::try_append`] with headers from any iterator of `(key, value)` pairs
    /// (keys should be UTF-8, as Kafka's are strings).
    pub fn try_append_with<'h, I>(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: I,
    ) -> Result<i32, BuildError>
    where
        I: ExactSizeIterator<Item = (&'h [u8], Option<&'h [u8]>)> + Clone,
    {
        if timestamp < NO_TIMESTAMP {
            return Err(BuildError::NegativeTimestamp(timestamp));
        }
        let offset_delta = self.count;
        if offset_delta == i32::MAX {
            return Err(BuildError::TooLarge {
                what: "record count",
                len: offset_delta as usize,
            });
        }
        let timestamp_delta = timestamp.wrapping_sub(self.base_timestamp.unwrap_or(timestamp));
        let kvh = len_kvh(
            key.map(<[u8]>::len),
            value.map(<[u8]>::len),
            headers.clone(),
        )?;
        let body = body_len(offset_delta, timestamp_delta, kvh)?;
        let size = len_varint(body) + body as usize;
        if self.count > 0 {
            let estimated = self.estimated_size();
            if self.cfg.write_limit < estimated.saturating_add(size) {
                return Err(BuildError::Full {
                    estimated,
                    record: size,
                    limit: self.cfg.write_limit,
                });
            }
        }
        let total = self.buf.len() + size;
        if total - LOG_OVERHEAD > i32::MAX as usize {
            return Err(BuildError::TooLarge {
                what: "batch",
                len: total,
            });
        }
        self.buf.reserve(size);
        put_record(
            &mut self.buf,
            body,
            0,
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers,
        );
        debug_assert_eq!(self.buf.len(), total);
        if self.base_timestamp.is_none() {
            self.base_timestamp = Some(timestamp);
        }
        if timestamp > self.max_timestamp {
            self.max_timestamp = timestamp;
        }
        self.count += 1;
        Ok(offset_delta)
    }

    /// The header the batch will have.
    fn header(&self) -> BatchHeader {
        let cfg = &self.cfg;
        BatchHeader {
            base_offset: cfg.base_offset,
            partition_leader_epoch: cfg.partition_leader_epoch,
            attributes: Attributes::new(
                cfg.compression,
                cfg.timestamp_type,
                cfg.transactional,
                cfg.control,
            ),
            last_offset_delta: self.count - 1,
            base_timestamp: self.base_timestamp.unwrap_or(NO_TIMESTAMP),
            max_timestamp: match cfg.timestamp_type {
                TimestampType::LogAppendTime => cfg.log_append_time,
                TimestampType::CreateTime => self.max_timestamp,
            },
            producer_id: cfg.producer_id,
            producer_epoch: cfg.producer_epoch,
            base_sequence: cfg.base_sequence,
        }
    }

    /// Writes the header (batch length, last offset delta, max timestamp, record count),
    /// compresses the records and computes the CRC-32C over attributes..end, returning the
    /// batch's bytes. An empty batch is refused.
    pub fn finish(self) -> Result<Vec<u8>, BuildError> {
        self.build().map(EncodedBatch::into_vec)
    }

    /// [`BatchBuilder::finish`], returning the batch as an [`EncodedBatch`] that encodes into
    /// any [`BufMut`] as messages do.
    pub fn build(mut self) -> Result<EncodedBatch, BuildError> {
        if self.count == 0 {
            return Err(BuildError::Empty);
        }
        if self.cfg.transactional && self.cfg.producer_id == NO_PRODUCER_ID {
            return Err(BuildError::TransactionalWithoutProducerId);
        }
        if self.cfg.producer_id != NO_PRODUCER_ID {
            let what = if self.cfg.producer_epoch == NO_PRODUCER_EPOCH {
                Some("no producer epoch (-1)")
            } else if self.cfg.base_sequence < 0 && !self.cfg.control {
                Some("a negative base sequence")
            } else {
                None
            };
            if let Some(what) = what {
                return Err(BuildError::InvalidProducerState {
                    producer_id: self.cfg.producer_id,
                    what,
                });
            }
        }
        if !self.cfg.compression.is_enabled() {
            return Err(BuildError::CodecDisabled(self.cfg.compression));
        }
        let header = self.header();
        compress_records(&mut self.buf, self.cfg.compression)?;
        if self.buf.len() - LOG_OVERHEAD > i32::MAX as usize {
            return Err(BuildError::TooLarge {
                what: "batch",
                len: self.buf.len(),
            });
        }
        put_header(&mut self.buf, &header, self.count);
        Ok(EncodedBatch::from_vec(self.buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn cfg(limit: usize, compression: Compression) -> BatchConfig {
        BatchConfig {
            write_limit: limit,
            compression,
            ..BatchConfig::default()
        }
    }

    #[test]
    fn estimate_upper_bound_is_kafkas() {
        // 61 + 21 + (1 + 3) key + (1 + 5) value + 1 header count + (1 + 1) + 1 null value.
        let n = estimate_size_upper_bound(Some(b"abc"), Some(b"hello"), &[("h", None)]).unwrap();
        assert_eq!(n, 61 + 21 + 4 + 6 + 1 + 2 + 1);
        assert_eq!(
            estimate_size_upper_bound(None, None, &[]).unwrap(),
            61 + 21 + 3
        );
    }

    #[test]
    fn first_record_always_fits_then_the_limit_holds() {
        let big = vec![7u8; 1000];
        let mut b = BatchBuilder::new(cfg(100, Compression::None));
        assert_eq!(b.try_append(0, None, Some(&big), &[]).unwrap(), 0);
        assert!(b.is_full());
        assert!(matches!(
            b.try_append(0, None, Some(b"x"), &[]),
            Err(BuildError::Full { .. })
        ));
        assert_eq!(b.record_count(), 1);

        // Exactly at the limit is allowed (`writeLimit >= estimated + recordSize`).
        let mut b = BatchBuilder::new(cfg(61 + 8 + 8, Compression::None));
        b.try_append(0, None, Some(b"x"), &[]).unwrap(); // 8 bytes: 07 00 00 00 01 02 78 00
        assert_eq!(b.estimated_size(), 69);
        b.try_append(0, None, Some(b"y"), &[]).unwrap();
        assert_eq!(b.estimated_size(), 77);
        assert!(b.try_append(0, None, Some(b"z"), &[]).is_err());
        let out = b.finish().unwrap();
        assert_eq!(out.len(), 77);
    }

    #[test]
    fn compressed_estimate_uses_ratio_and_factor() {
        let mut b = BatchBuilder::new(cfg(16384, Compression::Gzip));
        b.try_append(0, None, Some(&[1u8; 91]), &[]).unwrap(); // 100 bytes
        assert_eq!(b.uncompressed_records_size(), 100);
        // (int) (100 * 1.0f * 1.05f) is 104 in single precision, in Java as here.
        assert_eq!(b.estimated_size(), 61 + 104);
        b.set_estimated_compression_ratio(0.5);
        assert_eq!(b.estimated_size(), 61 + 52);
    }

    #[test]
    fn refusals() {
        assert_eq!(
            BatchBuilder::new(BatchConfig::default()).finish(),
            Err(BuildError::Empty)
        );
        let mut b = BatchBuilder::new(BatchConfig::default());
        assert_eq!(
            b.try_append(-2, None, None, &[]),
            Err(BuildError::NegativeTimestamp(-2))
        );
        b.try_append(-1, None, None, &[]).unwrap();
        let mut t = BatchBuilder::new(BatchConfig {
            transactional: true,
            ..BatchConfig::default()
        });
        t.try_append(0, None, None, &[]).unwrap();
        assert_eq!(
            t.clone().finish(),
            Err(BuildError::TransactionalWithoutProducerId)
        );
        t.set_producer_state(5, -1, 0, true);
        assert!(matches!(
            t.clone().finish(),
            Err(BuildError::InvalidProducerState { producer_id: 5, .. })
        ));
        t.set_producer_state(5, 0, -1, true);
        assert!(matches!(
            t.clone().finish(),
            Err(BuildError::InvalidProducerState { producer_id: 5, .. })
        ));
        t.set_producer_state(5, 0, 0, true);
        t.finish().unwrap();
    }

    #[test]
    fn timestamps_and_offsets() {
        let mut b = BatchBuilder::new(BatchConfig {
            base_offset: 10,
            ..BatchConfig::default()
        });
        for ts in [100, 50, 300, 200] {
            b.try_append(ts, None, None, &[]).unwrap();
        }
        let out = b.finish().unwrap();
        let v = crate::records::BatchView::new_checked(&out[..]).unwrap();
        assert_eq!((v.base_timestamp(), v.max_timestamp()), (100, 300));
        assert_eq!((v.base_offset(), v.last_offset()), (10, 13));
        let mut s = Vec::new();
        let ts: Vec<_> = v
            .records(&mut s, 0)
            .unwrap()
            .map(|r| r.unwrap().timestamp)
            .collect();
        assert_eq!(ts, [100, 50, 300, 200]);

        let mut b = BatchBuilder::new(BatchConfig {
            timestamp_type: TimestampType::LogAppendTime,
            log_append_time: 999,
            ..BatchConfig::default()
        });
        b.try_append(5, None, None, &[]).unwrap();
        let out = b.finish().unwrap();
        let v = crate::records::BatchView::new_checked(&out[..]).unwrap();
        assert_eq!(
            (v.timestamp_type(), v.max_timestamp()),
            (TimestampType::LogAppendTime, 999)
        );
    }
}
