//! The owned form of a v2 batch: [`RecordBatch`] with `parse` and `emit`.

use super::batch::{Attributes, BatchView};
use super::builder::{compress_records, len_kvh, put_header, put_record};
use super::{BuildError, RecordError, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD};
use crate::wire::{len_varint, len_varlong};
use alloc::vec::Vec;
use bytes::Bytes;

/// The header fields of a v2 batch that are not derived from its contents (length, CRC and
/// record count are).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchHeader {
    /// `baseOffset`.
    pub base_offset: i64,
    /// `partitionLeaderEpoch`.
    pub partition_leader_epoch: i32,
    /// `attributes` (codec, timestamp type, transactional, control).
    pub attributes: Attributes,
    /// `lastOffsetDelta`.
    pub last_offset_delta: i32,
    /// `baseTimestamp`.
    pub base_timestamp: i64,
    /// `maxTimestamp`.
    pub max_timestamp: i64,
    /// `producerId`.
    pub producer_id: i64,
    /// `producerEpoch`.
    pub producer_epoch: i16,
    /// `baseSequence`.
    pub base_sequence: i32,
}

impl BatchHeader {
    /// Reads the header of a view.
    pub fn of<T: AsRef<[u8]>>(v: &BatchView<T>) -> Self {
        BatchHeader {
            base_offset: v.base_offset(),
            partition_leader_epoch: v.partition_leader_epoch(),
            attributes: v.attributes(),
            last_offset_delta: v.last_offset_delta(),
            base_timestamp: v.base_timestamp(),
            max_timestamp: v.max_timestamp(),
            producer_id: v.producer_id(),
            producer_epoch: v.producer_epoch(),
            base_sequence: v.base_sequence(),
        }
    }
}

/// A record header, owned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Header {
    /// The key (UTF-8 from every Kafka client; kept as bytes so that reading never fails).
    pub key: Bytes,
    /// The value; `None` is null.
    pub value: Option<Bytes>,
}

/// A record, owned. Key, value and headers share the buffer they were parsed from when the
/// batch was not compressed, and the one decompression buffer when it was.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// `attributes` (0).
    pub attributes: i8,
    /// `timestampDelta` from the batch's base timestamp.
    pub timestamp_delta: i64,
    /// `offsetDelta` from the batch's base offset.
    pub offset_delta: i32,
    /// The key; `None` is null.
    pub key: Option<Bytes>,
    /// The value; `None` is null.
    pub value: Option<Bytes>,
    /// The headers.
    pub headers: Vec<Header>,
}

/// A v2 batch, owned.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordBatch {
    /// The header fields.
    pub header: BatchHeader,
    /// The records, uncompressed.
    pub records: Vec<Record>,
}

impl RecordBatch {
    /// Parses and validates (CRC, codec, every record) the one batch in `buf`, decompressing at
    /// most `max_uncompressed` bytes.
    pub fn parse(buf: &Bytes, max_uncompressed: usize) -> Result<Self, RecordError> {
        let view = BatchView::new_checked(&buf[..])?;
        view.validate()?;
        let mut scratch = Vec::new();
        let compressed = view.compression()? != super::Compression::None;
        let data = if compressed {
            view.uncompressed_records(&mut scratch, max_uncompressed)?;
            Bytes::from(core::mem::take(&mut scratch))
        } else {
            buf.slice(RECORD_BATCH_OVERHEAD..)
        };
        let share = |s: &[u8]| {
            if s.is_empty() {
                Bytes::new()
            } else {
                data.slice_ref(s)
            }
        };
        let iter = super::RecordIter::new(
            &data,
            view.record_count(),
            view.base_offset(),
            view.base_timestamp(),
            None,
            0,
        );
        let mut records = Vec::with_capacity(iter.size_hint().1.unwrap_or(0));
        for r in iter {
            let r = r?;
            records.push(Record {
                attributes: r.attributes,
                timestamp_delta: r.timestamp_delta,
                offset_delta: r.offset_delta,
                key: r.key.map(share),
                value: r.value.map(share),
                headers: r
                    .headers
                    .iter()
                    .map(|h| Header {
                        key: share(h.key),
                        value: h.value.map(share),
                    })
                    .collect(),
            });
        }
        Ok(RecordBatch {
            header: BatchHeader::of(&view),
            records,
        })
    }

    /// The encoded size of the records, uncompressed.
    pub fn records_len(&self) -> Result<usize, BuildError> {
        let mut n = 0usize;
        for r in &self.records {
            let kvh = len_kvh(
                r.key.as_ref().map(Bytes::len),
                r.value.as_ref().map(Bytes::len),
                r.headers.iter().map(|h| (&h.key[..], h.value.as_deref())),
            )?;
            let body = 1 + len_varint(r.offset_delta) + len_varlong(r.timestamp_delta) + kvh;
            let body = i32::try_from(body).map_err(|_| BuildError::TooLarge {
                what: "record",
                len: body,
            })?;
            n += len_varint(body) + body as usize;
        }
        Ok(n)
    }

    /// Encodes the batch: the header fields as they are, records in order, compressed with the
    /// codec in the attributes, then length, count and CRC. An uncompressed batch parsed from
    /// bytes emits the same bytes.
    pub fn emit(&self) -> Result<Vec<u8>, BuildError> {
        let codec = self
            .header
            .attributes
            .compression()
            .ok_or(BuildError::TooLarge {
                what: "compression id",
                len: usize::from(self.header.attributes.compression_id()),
            })?;
        if !codec.is_enabled() {
            return Err(BuildError::CodecDisabled(codec));
        }
        let count = i32::try_from(self.records.len()).map_err(|_| BuildError::TooLarge {
            what: "record count",
            len: self.records.len(),
        })?;
        let len = self.records_len()?;
        if len + RECORD_BATCH_OVERHEAD - LOG_OVERHEAD > i32::MAX as usize {
            return Err(BuildError::TooLarge { what: "batch", len });
        }
        let mut buf = Vec::with_capacity(RECORD_BATCH_OVERHEAD + len);
        buf.resize(RECORD_BATCH_OVERHEAD, 0);
        for r in &self.records {
            let kvh = len_kvh(
                r.key.as_ref().map(Bytes::len),
                r.value.as_ref().map(Bytes::len),
                r.headers.iter().map(|h| (&h.key[..], h.value.as_deref())),
            )?;
            let body =
                (1 + len_varint(r.offset_delta) + len_varlong(r.timestamp_delta) + kvh) as i32;
            put_record(
                &mut buf,
                body,
                r.attributes,
                r.timestamp_delta,
                r.offset_delta,
                r.key.as_deref(),
                r.value.as_deref(),
                r.headers.iter().map(|h| (&h.key[..], h.value.as_deref())),
            );
        }
        compress_records(&mut buf, codec)?;
        if buf.len() - LOG_OVERHEAD > i32::MAX as usize {
            return Err(BuildError::TooLarge {
                what: "batch",
                len: buf.len(),
            });
        }
        put_header(&mut buf, &self.header, count);
        Ok(buf)
    }
}
