//! Legacy message sets, magic 0 and 1 (decode only), for the inspector and for old segments.
//!
//! An entry is `offset` int64, `size` int32, then a message: `crc` uint32 (CRC-32 IEEE of
//! magic..end), `magic` int8, `attributes` int8 (codec in bits 0..2, LogAppendTime in bit 3 for
//! magic 1), `timestamp` int64 (magic 1 only), key and value as int32-length bytes (-1 null).
//! A compressed message (a "wrapper") holds a whole message set in its value; its inner
//! offsets are absolute for magic 0 and relative for magic 1, where the wrapper's offset is the
//! last inner record's.

use super::batch::{BatchView, Batches};
use super::builder::check_room;
use super::{codec, BuildError, Compression, RecordError, TimestampType, LOG_OVERHEAD, MAGIC_V2};
use crate::records::crc::crc32_ieee;
use alloc::vec::Vec;
use bytes::BufMut;

/// The smallest message after the size field (`LegacyRecord.RECORD_OVERHEAD_V0`).
pub const MIN_MESSAGE_SIZE: usize = 14;

/// The byte ranges of a legacy entry's fields.
pub mod field {
    use core::ops::Range;
    /// `offset` int64.
    pub const OFFSET: Range<usize> = 0..8;
    /// `size` int32: the message's bytes after this field.
    pub const SIZE: Range<usize> = 8..12;
    /// `crc` uint32: CRC-32 (IEEE) of magic..end.
    pub const CRC: Range<usize> = 12..16;
    /// `magic` int8.
    pub const MAGIC: Range<usize> = 16..17;
    /// `attributes` int8.
    pub const ATTRIBUTES: Range<usize> = 17..18;
    /// `timestamp` int64 (magic 1 only).
    pub const TIMESTAMP: Range<usize> = 18..26;
}

/// One legacy message (an entry of a message set), borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyMessage<'a> {
    bytes: &'a [u8],
    at: usize,
    /// `offset`: absolute, or for magic 1 inner messages relative to the wrapper.
    pub offset: i64,
    /// `magic` (0 or 1).
    pub magic: i8,
    /// `attributes`.
    pub attributes: i8,
    /// `crc` as stored.
    pub crc: u32,
    /// `timestamp`, magic 1 only.
    pub timestamp: Option<i64>,
    /// The key; `None` is null.
    pub key: Option<&'a [u8]>,
    /// The value; `None` is null.
    pub value: Option<&'a [u8]>,
}

fn be_i32(b: &[u8], at: usize) -> Option<i32> {
    let s = b.get(at..at + 4)?;
    Some(i32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

impl<'a> LegacyMessage<'a> {
    /// Parses one whole entry (`entry` is exactly offset, size and message) that starts at
    /// byte `at` of the buffer errors refer to.
    pub fn parse(entry: &'a [u8], at: usize) -> Result<Self, RecordError> {
        let t = |o: usize, expected| RecordError::Truncated {
            offset: at + o,
            expected,
        };
        if entry.len() < LOG_OVERHEAD + MIN_MESSAGE_SIZE {
            return Err(t(entry.len(), "a legacy message header"));
        }
        let mut o = [0u8; 8];
        o.copy_from_slice(&entry[field::OFFSET]);
        let size = be_i32(entry, field::SIZE.start).unwrap_or(-1);
        if size < 0 || size as usize + LOG_OVERHEAD != entry.len() {
            return Err(RecordError::BadSize {
                offset: at + field::SIZE.start,
                what: "message size",
                size: i64::from(size),
                expected: "the entry's length minus 12",
            });
        }
        let crc = u32::from_be_bytes([entry[12], entry[13], entry[14], entry[15]]);
        let magic = entry[field::MAGIC.start] as i8;
        let attributes = entry[field::ATTRIBUTES.start] as i8;
        let mut p = field::ATTRIBUTES.end;
        let timestamp = match magic {
            0 => None,
            1 => {
                let b = entry.get(field::TIMESTAMP).ok_or(t(p, "a timestamp"))?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                p = field::TIMESTAMP.end;
                Some(i64::from_be_bytes(a))
            }
            _ => {
                return Err(RecordError::UnsupportedMagic {
                    offset: at + field::MAGIC.start,
                    magic,
                })
            }
        };
        let mut bytes = |what| -> Result<Option<&'a [u8]>, RecordError> {
            let n = be_i32(entry, p).ok_or(t(p, what))?;
            let len_at = p;
            p += 4;
            if n < 0 {
                return if n == -1 {
                    Ok(None)
                } else {
                    Err(RecordError::Invalid {
                        offset: at + len_at,
                        field: what,
                        expected: "a length of -1 or more",
                    })
                };
            }
            let n = n as usize;
            if n > entry.len() - p {
                return Err(RecordError::BadSize {
                    offset: at + len_at,
                    what,
                    size: n as i64,
                    expected: "a length within the message",
                });
            }
            p += n;
            Ok(Some(&entry[p - n..p]))
        };
        let key = bytes("key length")?;
        let value = bytes("value length")?;
        if p != entry.len() {
            return Err(RecordError::Invalid {
                offset: at + p,
                field: "message",
                expected: "the end of the message at its declared size",
            });
        }
        Ok(LegacyMessage {
            bytes: entry,
            at,
            offset: i64::from_be_bytes(o),
            magic,
            attributes,
            crc,
            timestamp,
            key,
            value,
        })
    }

    /// The bytes [`LegacyMessage::encode`] writes: the whole entry (offset, size, message).
    pub fn encoded_len(&self) -> usize {
        self.bytes.len()
    }

    /// Writes the entry into `buf` with this message's `offset` (which
    /// [`LegacyMessage::records`] makes absolute for the inner messages of a magic 1 wrapper)
    /// and its message bytes as they are, stored CRC included (the CRC does not cover the
    /// offset). kproto writes no new magic 0 or 1 messages, as Kafka 4 does not; this re-encodes
    /// messages that were read (an old segment's, a wrapper's inner ones with absolute offsets), timestamps as stored. Nothing is
    /// written when `buf` has no room.
    pub fn encode<B: BufMut>(&self, buf: &mut B) -> Result<(), BuildError> {
        check_room(buf, self.encoded_len())?;
        buf.put_i64(self.offset);
        buf.put_slice(&self.bytes[field::OFFSET.end..]);
        Ok(())
    }

    /// The whole entry's bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Where the entry starts in the buffer errors refer to.
    pub fn position(&self) -> usize {
        self.at
    }

    /// The codec (an error for ids Kafka never defined for magic 0/1).
    pub fn compression(&self) -> Result<Compression, RecordError> {
        let id = (self.attributes & 0x07) as u8;
        match Compression::from_id(id) {
            Some(c) if c != Compression::Zstd => Ok(c),
            _ => Err(RecordError::UnknownCompression {
                offset: self.at + field::ATTRIBUTES.start,
                id,
            }),
        }
    }

    /// The timestamp type (magic 1; magic 0 has no timestamps and reports CreateTime).
    pub fn timestamp_type(&self) -> TimestampType {
        if self.magic == 1 && self.attributes & 0x08 != 0 {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        }
    }

    /// CRC-32 (IEEE) of magic..end.
    pub fn compute_crc(&self) -> u32 {
        crc32_ieee(&self.bytes[field::MAGIC.start..])
    }

    /// Checks the CRC and the codec.
    pub fn validate(&self) -> Result<(), RecordError> {
        let computed = self.compute_crc();
        if computed != self.crc {
            return Err(RecordError::CrcMismatch {
                offset: self.at,
                stored: self.crc,
                computed,
            });
        }
        self.compression()?;
        Ok(())
    }

    /// The logical records: this message itself when uncompressed; the inner messages of a
    /// wrapper, decompressed into `scratch` (at most `max_uncompressed` bytes), CRC-checked,
    /// with absolute offsets and (LogAppendTime) the wrapper's timestamp. Inner messages' errors
    /// give offsets inside the decompressed data.
    pub fn records<'s>(
        &'s self,
        scratch: &'s mut Vec<u8>,
        max_uncompressed: usize,
    ) -> Result<Vec<LegacyMessage<'s>>, RecordError>
    where
        'a: 's,
    {
        let codec = self.compression()?;
        if codec == Compression::None {
            return Ok(alloc::vec![*self]);
        }
        let value = self.value.ok_or(RecordError::Invalid {
            offset: self.at,
            field: "wrapper value",
            expected: "a non-null compressed message set",
        })?;
        scratch.clear();
        codec::decompress(codec, value, scratch, max_uncompressed, self.magic == 0)
            .map_err(|e| e.into_record_error(codec, self.at))?;
        let mut inner = Vec::new();
        for m in MessageSet::new(scratch) {
            let m = m?;
            m.validate()?;
            if m.compression()? != Compression::None {
                return Err(RecordError::Invalid {
                    offset: m.at,
                    field: "inner message attributes",
                    expected: "no nested compression",
                });
            }
            if m.magic != self.magic {
                return Err(RecordError::Invalid {
                    offset: m.at + field::MAGIC.start,
                    field: "inner message magic",
                    expected: "the wrapper's magic",
                });
            }
            inner.push(m);
        }
        if self.magic == 1 {
            let last = inner.last().map_or(0, |m| m.offset);
            for m in &mut inner {
                m.offset = self.offset.wrapping_sub(last).wrapping_add(m.offset);
                if self.timestamp_type() == TimestampType::LogAppendTime {
                    m.timestamp = self.timestamp;
                }
            }
        }
        Ok(inner)
    }
}

/// Walks a buffer of legacy entries; [`MessageSet::new`] stops without an error at a partial
/// trailing entry, [`MessageSet::complete`] makes it [`RecordError::Incomplete`] (for a
/// Produce v0-v2 request's records).
///
/// The inner message set of a compressed wrapper is walked leniently, as Kafka's
/// `AbstractLegacyRecordBatch.DeepRecordsIterator` does: a partial last inner message is
/// dropped.
#[derive(Debug, Clone)]
pub struct MessageSet<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
    complete: bool,
}

impl<'a> MessageSet<'a> {
    /// A walk over `buf` that stops without an error at a partial trailing entry.
    pub fn new(buf: &'a [u8]) -> Self {
        MessageSet {
            buf,
            pos: 0,
            done: false,
            complete: false,
        }
    }

    /// A walk over `buf` that insists on whole entries: bytes left after the last whole entry
    /// are [`RecordError::Incomplete`], after which the walk ends.
    pub fn complete(buf: &'a [u8]) -> Self {
        MessageSet {
            complete: true,
            ..MessageSet::new(buf)
        }
    }

    /// The bytes from the current position on (the partial tail once the walk has ended).
    pub fn remainder(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }
}

impl<'a> Iterator for MessageSet<'a> {
    type Item = Result<LegacyMessage<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        match Entries::step(self.buf, &mut self.pos, &mut self.done, self.complete)? {
            Ok(Entry::Legacy(m)) => Some(Ok(m)),
            Ok(Entry::V2(v)) => {
                self.done = true;
                Some(Err(RecordError::UnsupportedMagic {
                    offset: v.position() + field::MAGIC.start,
                    magic: MAGIC_V2,
                }))
            }
            Err(e) => Some(Err(e)),
        }
    }
}

/// One entry of a log that may mix magic versions (an old segment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry<'a> {
    /// A v2 batch.
    V2(BatchView<&'a [u8]>),
    /// A magic 0 or 1 message.
    Legacy(LegacyMessage<'a>),
}

/// Walks a buffer of entries of any magic; [`Entries::new`] stops without an error at a
/// partial trailing entry, [`Entries::complete`] makes it [`RecordError::Incomplete`].
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
    complete: bool,
}

impl<'a> Entries<'a> {
    /// A walk over `buf` that stops without an error at a partial trailing entry.
    pub fn new(buf: &'a [u8]) -> Self {
        Entries {
            buf,
            pos: 0,
            done: false,
            complete: false,
        }
    }

    /// A walk over `buf` that insists on whole entries: bytes left after the last whole entry
    /// are [`RecordError::Incomplete`], after which the walk ends.
    pub fn complete(buf: &'a [u8]) -> Self {
        Entries {
            complete: true,
            ..Entries::new(buf)
        }
    }

    /// The bytes from the current position on (the partial tail once the walk has ended).
    pub fn remainder(&self) -> &'a [u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    fn step(
        buf: &'a [u8],
        pos: &mut usize,
        done: &mut bool,
        complete: bool,
    ) -> Option<Result<Entry<'a>, RecordError>> {
        if *done {
            return None;
        }
        let at = *pos;
        let rest = buf.get(at..).unwrap_or_default();
        let r = match Batches::entry_size(rest, at) {
            Ok(None) => {
                *done = true;
                if complete {
                    return Batches::incomplete(rest, at).map(Err);
                }
                return None;
            }
            Err(e) => Err(e),
            Ok(Some((total, magic))) => {
                let entry = &rest[..total];
                let r = if magic == MAGIC_V2 {
                    BatchView::new_checked(entry)
                        .map(|v| Entry::V2(v.at_offset(at)))
                        .map_err(|e| e.shifted(at))
                } else {
                    LegacyMessage::parse(entry, at).map(Entry::Legacy)
                };
                if r.is_ok() {
                    *pos += total;
                }
                r
            }
        };
        if r.is_err() {
            *done = true;
        }
        Some(r)
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Entry<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        Self::step(self.buf, &mut self.pos, &mut self.done, self.complete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Writes a legacy entry (test fixture only: kproto does not write magic 0/1).
    pub(crate) fn entry(
        offset: i64,
        magic: i8,
        attributes: i8,
        ts: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
    ) -> Vec<u8> {
        let mut m = Vec::new();
        m.push(magic as u8);
        m.push(attributes as u8);
        if magic == 1 {
            m.extend_from_slice(&ts.to_be_bytes());
        }
        for f in [key, value] {
            match f {
                None => m.extend_from_slice(&(-1i32).to_be_bytes()),
                Some(b) => {
                    m.extend_from_slice(&(b.len() as i32).to_be_bytes());
                    m.extend_from_slice(b);
                }
            }
        }
        let mut e = Vec::new();
        e.extend_from_slice(&offset.to_be_bytes());
        e.extend_from_slice(&(m.len() as i32 + 4).to_be_bytes());
        e.extend_from_slice(&crc32_ieee(&m).to_be_bytes());
        e.extend_from_slice(&m);
        e
    }

    #[test]
    fn plain_messages_and_partial_tail() {
        let mut buf = entry(5, 0, 0, 0, Some(b"k"), Some(b"v"));
        buf.extend(entry(6, 1, 0, 1234, None, Some(b"value")));
        let whole = buf.len();
        buf.extend_from_slice(&entry(7, 1, 0, 1, None, None)[..20]);
        let mut set = MessageSet::new(&buf);
        let a = set.next().unwrap().unwrap();
        a.validate().unwrap();
        assert_eq!(
            (a.offset, a.magic, a.key, a.value, a.timestamp),
            (5, 0, Some(&b"k"[..]), Some(&b"v"[..]), None)
        );
        let b = set.next().unwrap().unwrap();
        b.validate().unwrap();
        assert_eq!((b.offset, b.timestamp, b.key), (6, Some(1234), None));
        assert!(set.next().is_none());
        assert_eq!(set.remainder().len(), buf.len() - whole);

        // Insisting on whole entries: the partial third one is an error at its offset.
        let mut set = MessageSet::complete(&buf);
        assert_eq!(set.by_ref().take(2).filter(Result::is_ok).count(), 2);
        let third = entry(7, 1, 0, 1, None, None).len();
        assert_eq!(
            set.next(),
            Some(Err(RecordError::Incomplete {
                offset: whole,
                needed: third,
                available: 20
            }))
        );
        assert!(set.next().is_none());
        let mut all = Entries::complete(&buf);
        assert!(all.next().unwrap().is_ok() && all.next().unwrap().is_ok());
        assert!(matches!(
            all.next(),
            Some(Err(RecordError::Incomplete { offset, .. })) if offset == whole
        ));
        // Whole entries only: no error.
        assert_eq!(
            MessageSet::complete(&buf[..whole])
                .filter(Result::is_ok)
                .count(),
            2
        );
        assert_eq!(MessageSet::complete(&buf[..whole]).count(), 2);
    }

    #[test]
    fn messages_re_encode_as_they_were_read() {
        let big = vec![b'x'; 40_000];
        let mut buf = entry(5, 0, 0, 0, Some(b"k"), Some(&big));
        buf.extend(entry(6, 1, 0, 1234, None, Some(b"value")));
        buf.extend(entry(1 << 40, 1, 0, -1, Some(&big[..3000]), None));
        let mut out = bytes::BytesMut::new();
        let mut total = 0;
        for m in MessageSet::complete(&buf) {
            let m = m.unwrap();
            let before = out.len();
            m.encode(&mut out).unwrap();
            assert_eq!(out.len() - before, m.encoded_len());
            assert_eq!(&out[before..], m.as_bytes());
            total += m.encoded_len();
        }
        assert_eq!(&out[..], &buf[..]);
        assert_eq!(total, buf.len());
        // A changed offset is written; the CRC (which does not cover it) still holds.
        let mut m = MessageSet::new(&buf).next().unwrap().unwrap();
        m.offset = 77;
        let mut one = Vec::new();
        m.encode(&mut one).unwrap();
        let back = MessageSet::complete(&one).next().unwrap().unwrap();
        assert_eq!(back.offset, 77);
        back.validate().unwrap();
        let mut short = [0u8; 10];
        assert!(matches!(
            m.encode(&mut &mut short[..]),
            Err(BuildError::BufferTooSmall { .. })
        ));
    }

    #[test]
    fn crc_flip_is_detected() {
        let e = entry(0, 1, 0, 9, Some(b"key"), Some(b"value"));
        for i in field::MAGIC.start..e.len() {
            let mut f = e.clone();
            f[i] ^= 0x10;
            if let Some(Ok(m)) = MessageSet::new(&f).next() {
                assert!(m.validate().is_err(), "byte {i}");
            }
        }
    }

    #[cfg(feature = "gzip")]
    #[test]
    fn wrapped_magic1_has_absolute_offsets() {
        let mut inner = Vec::new();
        for i in 0..3i64 {
            inner.extend(entry(i, 1, 0, 100 + i, None, Some(&[i as u8; 3])));
        }
        let mut z = Vec::new();
        codec::compress(Compression::Gzip, &inner, &mut z, false).unwrap();
        // LogAppendTime wrapper at offset 42 (the last inner record's absolute offset).
        let w = entry(42, 1, 0x08 | 1, 777, None, Some(&z));
        let m = MessageSet::new(&w).next().unwrap().unwrap();
        m.validate().unwrap();
        let mut s = Vec::new();
        let recs = m.records(&mut s, 1 << 20).unwrap();
        let got: Vec<_> = recs.iter().map(|r| (r.offset, r.timestamp)).collect();
        assert_eq!(got, [(40, Some(777)), (41, Some(777)), (42, Some(777))]);
        assert!(m.records(&mut s, 10).is_err());
    }
}
