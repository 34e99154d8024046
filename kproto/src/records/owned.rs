//! The owned form of a v2 batch: [`RecordBatch`] with `parse` and `emit`.

use super::batch::{Attributes, BatchView};
use super::builder::{
    check_room, compress_records, header_bytes, len_kvh, put_header, put_record, BufSink, CrcSink,
    EncodedBatch, Sink,
};
use super::{BuildError, Compression, RecordError, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD};
use crate::wire::{len_varint, len_varlong};
use alloc::vec::Vec;
use bytes::{BufMut, Bytes};

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

    /// The codec in the attributes, if this build can write it.
    fn codec(&self) -> Result<Compression, BuildError> {
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
        Ok(codec)
    }

    /// The record count, and the records' uncompressed length, checked to fit a batch.
    fn checked_sizes(&self) -> Result<(i32, usize), BuildError> {
        let count = i32::try_from(self.records.len()).map_err(|_| BuildError::TooLarge {
            what: "record count",
            len: self.records.len(),
        })?;
        let len = self.records_len()?;
        if len + RECORD_BATCH_OVERHEAD - LOG_OVERHEAD > i32::MAX as usize {
            return Err(BuildError::TooLarge { what: "batch", len });
        }
        Ok((count, len))
    }

    /// Writes the records, uncompressed, into `out` (sizes checked by `checked_sizes`).
    fn put_records(&self, out: &mut impl Sink) -> Result<(), BuildError> {
        for r in &self.records {
            let kvh = len_kvh(
                r.key.as_ref().map(Bytes::len),
                r.value.as_ref().map(Bytes::len),
                r.headers.iter().map(|h| (&h.key[..], h.value.as_deref())),
            )?;
            let body =
                (1 + len_varint(r.offset_delta) + len_varlong(r.timestamp_delta) + kvh) as i32;
            put_record(
                out,
                body,
                r.attributes,
                r.timestamp_delta,
                r.offset_delta,
                r.key.as_deref(),
                r.value.as_deref(),
                r.headers.iter().map(|h| (&h.key[..], h.value.as_deref())),
            );
        }
        Ok(())
    }

    /// The bytes [`RecordBatch::encode`] writes. Exact and cheap for an uncompressed batch; a
    /// compressed batch's length is known only by compressing it, which this does (use
    /// [`RecordBatch::to_encoded`] to compress once and then both measure and write).
    pub fn encoded_len(&self) -> Result<usize, BuildError> {
        let codec = self.codec()?;
        let (_, len) = self.checked_sizes()?;
        if codec == Compression::None {
            return Ok(RECORD_BATCH_OVERHEAD + len);
        }
        Ok(self.to_encoded()?.encoded_len())
    }

    /// Encodes the batch into `buf`, as [`RecordBatch::emit`] does into a `Vec`: the same
    /// bytes. An uncompressed batch is written straight into `buf` (its records are encoded
    /// twice, once for the CRC that precedes them and once into `buf`, so nothing is
    /// allocated); a compressed one is compressed first. Nothing is written on error,
    /// [`BuildError::BufferTooSmall`] included.
    pub fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), BuildError> {
        let codec = self.codec()?;
        let (count, len) = self.checked_sizes()?;
        if codec != Compression::None {
            return self.to_encoded()?.encode(buf);
        }
        check_room(buf, RECORD_BATCH_OVERHEAD + len)?;
        let mut crc = None;
        let header = header_bytes(&self.header, count, len, |start| {
            let mut sink = CrcSink(start);
            let r = self.put_records(&mut sink);
            crc = Some(r);
            sink.0
        });
        crc.expect("the CRC closure ran")?;
        buf.put_slice(&header);
        self.put_records(&mut BufSink(buf))
    }

    /// Encodes the batch as an [`EncodedBatch`] (compressing it once), whose length is then
    /// known and which writes into any [`BufMut`].
    pub fn to_encoded(&self) -> Result<EncodedBatch, BuildError> {
        let codec = self.codec()?;
        let (count, len) = self.checked_sizes()?;
        let mut buf = Vec::with_capacity(RECORD_BATCH_OVERHEAD + len);
        buf.resize(RECORD_BATCH_OVERHEAD, 0);
        self.put_records(&mut buf)?;
        compress_records(&mut buf, codec)?;
        if buf.len() - LOG_OVERHEAD > i32::MAX as usize {
            return Err(BuildError::TooLarge {
                what: "batch",
                len: buf.len(),
            });
        }
        put_header(&mut buf, &self.header, count);
        Ok(EncodedBatch::from_vec(buf))
    }

    /// Encodes the batch: the header fields as they are, records in order, compressed with the
    /// codec in the attributes, then length, count and CRC. An uncompressed batch parsed from
    /// bytes emits the same bytes.
    pub fn emit(&self) -> Result<Vec<u8>, BuildError> {
        self.to_encoded().map(EncodedBatch::into_vec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{
        Attributes, BatchBuilder, BatchConfig, TimestampType, DEFAULT_MAX_UNCOMPRESSED,
    };
    use alloc::vec;
    use bytes::BytesMut;

    /// Deterministic bytes of length `n`, varied by `salt`.
    fn bytes_of(n: usize, salt: usize) -> Bytes {
        Bytes::from(
            (0..n)
                .map(|i| (i.wrapping_mul(31) ^ salt.wrapping_mul(131)) as u8 % 61 + b'0')
                .collect::<Vec<u8>>(),
        )
    }

    /// 300 records, about 1.3 MiB: values up to 9 KB (two- and three-byte length varints),
    /// keys up to 300 bytes, some null, up to 4 headers, timestamp deltas of several bytes.
    fn big_batch(codec: Compression) -> RecordBatch {
        let records = (0..300usize)
            .map(|i| Record {
                attributes: 0,
                timestamp_delta: (i as i64) * 1_000_003,
                offset_delta: i as i32,
                key: (i % 7 != 0).then(|| bytes_of(i * 37 % 300, i)),
                value: (i % 11 != 0).then(|| bytes_of(i * 1013 % 9000, i + 1)),
                headers: (0..i % 5)
                    .map(|h| Header {
                        key: bytes_of(3 + h * 40, h),
                        value: (h % 2 == 0).then(|| bytes_of(h * 200, i)),
                    })
                    .collect(),
            })
            .collect::<Vec<_>>();
        RecordBatch {
            header: BatchHeader {
                base_offset: 1 << 40,
                partition_leader_epoch: 17,
                attributes: Attributes::new(codec, TimestampType::CreateTime, false, false),
                last_offset_delta: 299,
                base_timestamp: 1_700_000_000_000,
                max_timestamp: 1_700_000_000_000 + 299 * 1_000_003,
                producer_id: 4242,
                producer_epoch: 3,
                base_sequence: 1000,
            },
            records,
        }
    }

    #[test]
    fn encode_writes_encoded_len_bytes_equal_to_emit_for_every_codec() {
        for codec in Compression::ALL {
            let batch = big_batch(codec);
            let emitted = batch.emit().unwrap();
            let len = batch.encoded_len().unwrap();
            let mut buf = BytesMut::new();
            buf.extend_from_slice(b"prefix");
            batch.encode(&mut buf).unwrap();
            assert_eq!(&buf[..6], b"prefix", "{codec}");
            assert_eq!(buf.len() - 6, len, "{codec}: encoded_len vs bytes written");
            assert_eq!(&buf[6..], &emitted[..], "{codec}: encode vs emit");
            let encoded = batch.to_encoded().unwrap();
            assert_eq!(encoded.encoded_len(), len, "{codec}");
            assert_eq!(encoded.as_bytes(), &emitted[..], "{codec}");
            if codec == Compression::None {
                assert!(len > 1 << 20, "a realistic batch is over a megabyte: {len}");
            }
            // The encoded bytes parse back to the same batch.
            let back = RecordBatch::parse(&Bytes::from(emitted), DEFAULT_MAX_UNCOMPRESSED);
            assert_eq!(back.unwrap(), batch, "{codec}");
        }
    }

    #[test]
    fn encode_into_a_short_buffer_writes_nothing() {
        let batch = big_batch(Compression::None);
        let len = batch.encoded_len().unwrap();
        let mut backing = vec![0xaa_u8; len - 1];
        let mut slice = &mut backing[..];
        assert_eq!(
            batch.encode(&mut slice),
            Err(BuildError::BufferTooSmall {
                needed: len,
                remaining: len - 1
            })
        );
        assert!(backing.iter().all(|&b| b == 0xaa));
        // Exactly enough room is enough.
        let mut backing = vec![0u8; len];
        batch.encode(&mut &mut backing[..]).unwrap();
        assert_eq!(backing, batch.emit().unwrap());
    }

    #[test]
    fn the_builders_encoded_batch_is_its_finished_bytes() {
        for codec in Compression::ALL {
            let build = || {
                let mut b = BatchBuilder::new(BatchConfig {
                    compression: codec,
                    write_limit: 4 << 20,
                    ..BatchConfig::default()
                });
                for i in 0..200usize {
                    let value = bytes_of(i * 977 % 6000, i);
                    let hv = bytes_of(i % 300, i + 7);
                    b.try_append(
                        1_700_000_000_000 + i as i64,
                        Some(&bytes_of(i % 200, i)),
                        Some(&value),
                        &[("trace", Some(&hv)), ("n", None)],
                    )
                    .unwrap();
                }
                b
            };
            let finished = build().finish().unwrap();
            let built = build().build().unwrap();
            assert_eq!(built.encoded_len(), finished.len(), "{codec}");
            let mut out = BytesMut::new();
            built.encode(&mut out).unwrap();
            assert_eq!(&out[..], &finished[..], "{codec}");
            assert_eq!(built.view().record_count(), 200);
            built.view().validate().unwrap();
            // Through the owned form and back: the same bytes (uncompressed: byte for byte
            // what Java writes; compressed: the same codec output for the same records).
            let owned = RecordBatch::parse(&Bytes::from(finished.clone()), 8 << 20).unwrap();
            assert_eq!(owned.encoded_len().unwrap(), finished.len(), "{codec}");
            let mut again = BytesMut::new();
            owned.encode(&mut again).unwrap();
            assert_eq!(&again[..], &finished[..], "{codec}");
            assert_eq!(
                EncodedBatch::new(finished.clone()).unwrap().into_vec(),
                finished
            );
        }
    }

    #[test]
    fn encoded_batch_checks_its_bytes() {
        let mut b = BatchBuilder::new(BatchConfig::default());
        b.try_append(0, None, Some(b"v"), &[]).unwrap();
        let mut bytes = b.finish().unwrap();
        assert!(EncodedBatch::new(bytes[..bytes.len() - 1].to_vec()).is_err());
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(matches!(
            EncodedBatch::new(bytes),
            Err(RecordError::CrcMismatch { .. })
        ));
    }
}
