//! Reading the records of a v2 batch in place (`DefaultRecord.readFrom`, without copies).

use super::RecordError;
use core::ops::Range;

/// The smallest record: length, attributes, timestamp delta, offset delta, key length, value
/// length and header count, one byte each.
pub(crate) const MIN_RECORD_SIZE: usize = 7;

/// Reads an unsigned varint of at most `max_bytes` bytes at `*pos`, advancing it; the last
/// byte may hold at most `last_max` (so the value fits 32 or 64 bits, as Kafka's
/// `ByteUtils.readVarint`/`readVarlong` require). `None` when truncated or too long.
#[inline(always)]
fn read_uvar(data: &[u8], pos: &mut usize, max_bytes: usize, last_max: u8) -> Option<u64> {
    let mut value = 0u64;
    let mut at = *pos;
    for n in 0..max_bytes {
        let b = *data.get(at)?;
        at += 1;
        value |= u64::from(b & 0x7f) << (7 * n);
        if b & 0x80 == 0 {
            if n == max_bytes - 1 && b > last_max {
                return None;
            }
            *pos = at;
            return Some(value);
        }
    }
    None
}

/// Reads a zigzag varint at `*pos`, advancing it.
#[inline(always)]
pub(crate) fn read_varint(
    data: &[u8],
    pos: &mut usize,
    what: &'static str,
) -> Result<i32, (usize, &'static str)> {
    let u = read_uvar(data, pos, 5, 0x0f).ok_or((*pos, what))? as u32;
    Ok(((u >> 1) as i32) ^ -((u & 1) as i32))
}

/// Reads a zigzag varlong at `*pos`, advancing it.
#[inline(always)]
pub(crate) fn read_varlong(
    data: &[u8],
    pos: &mut usize,
    what: &'static str,
) -> Result<i64, (usize, &'static str)> {
    let u = read_uvar(data, pos, 10, 0x01).ok_or((*pos, what))?;
    Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
}

/// Reads a varint length and that many bytes; a negative length is null when `nullable`.
#[inline(always)]
fn read_bytes(
    data: &[u8],
    pos: &mut usize,
    nullable: bool,
    what: &'static str,
) -> Result<Option<Range<usize>>, (usize, &'static str)> {
    let at = *pos;
    let n = read_varint(data, pos, what)?;
    if n < 0 {
        if nullable && n == -1 {
            return Ok(None);
        }
        return Err((at, what));
    }
    let n = n as usize;
    if n > data.len() - *pos {
        return Err((at, what));
    }
    let r = *pos..*pos + n;
    *pos += n;
    Ok(Some(r))
}

/// One record of a batch, borrowing key, value and headers from the batch (or from the
/// decompression buffer). Spans are byte ranges inside the batch's uncompressed records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// The record's absolute offset (`baseOffset + offsetDelta`).
    pub offset: i64,
    /// The record's timestamp: `baseTimestamp + timestampDelta`, or the batch's `maxTimestamp`
    /// for LogAppendTime batches.
    pub timestamp: i64,
    /// `offsetDelta`.
    pub offset_delta: i32,
    /// `timestampDelta`.
    pub timestamp_delta: i64,
    /// The record's attributes byte (unused by Kafka, written as 0).
    pub attributes: i8,
    /// The key; `None` is null.
    pub key: Option<&'a [u8]>,
    /// The value; `None` is null (a tombstone).
    pub value: Option<&'a [u8]>,
    /// The headers.
    pub headers: Headers<'a>,
    /// The whole record, length varint included.
    pub span: Range<usize>,
    /// The key's bytes (empty at the length when null).
    pub key_span: Range<usize>,
    /// The value's bytes (empty at the length when null).
    pub value_span: Range<usize>,
}

/// The headers of a [`RecordView`], already checked when the record was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headers<'a> {
    data: &'a [u8],
    count: u32,
}

impl<'a> Headers<'a> {
    /// The number of headers.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// No headers.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The headers' encoded bytes (after the count).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.data
    }

    /// Iterates the headers.
    pub fn iter(&self) -> HeaderIter<'a> {
        HeaderIter {
            data: self.data,
            pos: 0,
            left: self.count,
        }
    }

    /// Checks `count` headers in `data` and returns the view and the bytes they take.
    fn parse(data: &'a [u8], count: u32) -> Result<(Self, usize), (usize, &'static str)> {
        let mut pos = 0;
        for _ in 0..count {
            read_bytes(data, &mut pos, false, "a header key")?;
            read_bytes(data, &mut pos, true, "a header value")?;
        }
        Ok((
            Headers {
                data: &data[..pos],
                count,
            },
            pos,
        ))
    }
}

impl<'a> IntoIterator for Headers<'a> {
    type Item = HeaderView<'a>;
    type IntoIter = HeaderIter<'a>;
    fn into_iter(self) -> HeaderIter<'a> {
        self.iter()
    }
}

/// Iterates [`Headers`].
#[derive(Debug, Clone)]
pub struct HeaderIter<'a> {
    data: &'a [u8],
    pos: usize,
    left: u32,
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = HeaderView<'a>;

    fn next(&mut self) -> Option<HeaderView<'a>> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Checked by Headers::parse; a failure here cannot happen, and ends the walk if it did.
        let k = read_bytes(self.data, &mut self.pos, false, "").ok()??;
        let v = read_bytes(self.data, &mut self.pos, true, "").ok()?;
        Some(HeaderView {
            key: &self.data[k],
            value: v.map(|r| &self.data[r]),
        })
    }
}

/// One record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderView<'a> {
    /// The key's bytes (UTF-8 from every client Kafka knows).
    pub key: &'a [u8],
    /// The value; `None` is null.
    pub value: Option<&'a [u8]>,
}

impl<'a> HeaderView<'a> {
    /// The key as a string, when it is UTF-8.
    pub fn key_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.key).ok()
    }
}

/// Iterates the records of one batch, reading each in place. Yields an error (and then ends)
/// for a malformed record, for records that end before the declared count, and for bytes left
/// after the last one (Kafka's "Incorrect declared batch size").
#[derive(Debug, Clone)]
pub struct RecordIter<'a> {
    data: &'a [u8],
    pos: usize,
    index: u32,
    count: i32,
    base_offset: i64,
    base_timestamp: i64,
    log_append_time: Option<i64>,
    batch_at: usize,
    done: bool,
}

impl<'a> RecordIter<'a> {
    pub(crate) fn new(
        data: &'a [u8],
        count: i32,
        base_offset: i64,
        base_timestamp: i64,
        log_append_time: Option<i64>,
        batch_at: usize,
    ) -> Self {
        RecordIter {
            data,
            pos: 0,
            index: 0,
            count,
            base_offset,
            base_timestamp,
            log_append_time,
            batch_at,
            done: false,
        }
    }

    /// The uncompressed records' bytes the spans refer to.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    fn err(&mut self, (offset, expected): (usize, &'static str)) -> RecordError {
        self.done = true;
        RecordError::Record {
            batch_offset: self.batch_at,
            index: self.index,
            offset,
            expected,
        }
    }

    fn read_one(&mut self) -> Result<RecordView<'a>, (usize, &'static str)> {
        let data = self.data;
        let start = self.pos;
        let mut pos = start;
        let len = read_varint(data, &mut pos, "a record length varint")?;
        if len < 0 || len as usize > data.len() - pos {
            return Err((start, "a record length within the batch"));
        }
        let end = pos + len as usize;
        // Parse inside the record only, so nothing can run past its length.
        let body = &data[..end];
        let attributes = *body.get(pos).ok_or((pos, "record attributes"))? as i8;
        pos += 1;
        let timestamp_delta = read_varlong(body, &mut pos, "a timestamp delta varlong")?;
        let offset_delta = read_varint(body, &mut pos, "an offset delta varint")?;
        let key_at = pos;
        let key = read_bytes(body, &mut pos, true, "a key length and key")?;
        let value_at = pos;
        let value = read_bytes(body, &mut pos, true, "a value length and value")?;
        let count_at = pos;
        let count = read_varint(body, &mut pos, "a header count varint")?;
        if count < 0 || (count as usize).saturating_mul(2) > end - pos {
            return Err((count_at, "a header count that fits the record"));
        }
        let (headers, used) =
            Headers::parse(&body[pos..], count as u32).map_err(|(o, w)| (o + pos, w))?;
        pos += used;
        if pos != end {
            return Err((pos, "the end of the record at its declared length"));
        }
        self.pos = end;
        let timestamp = match self.log_append_time {
            Some(t) => t,
            None => self.base_timestamp.wrapping_add(timestamp_delta),
        };
        let key_span = key.clone().unwrap_or(key_at..key_at);
        let value_span = value.clone().unwrap_or(value_at..value_at);
        Ok(RecordView {
            offset: self.base_offset.wrapping_add(i64::from(offset_delta)),
            timestamp,
            offset_delta,
            timestamp_delta,
            attributes,
            key: key.map(|r| &data[r]),
            value: value.map(|r| &data[r]),
            headers,
            span: start..end,
            key_span,
            value_span,
        })
    }
}

impl<'a> Iterator for RecordIter<'a> {
    type Item = Result<RecordView<'a>, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.index as i64 >= i64::from(self.count) {
            self.done = true;
            if self.pos < self.data.len() {
                let at = self.pos;
                return Some(Err(
                    self.err((at, "no bytes after the declared record count"))
                ));
            }
            return None;
        }
        if self.pos >= self.data.len() {
            let at = self.pos;
            return Some(Err(self.err((at, "as many records as the declared count"))));
        }
        match self.read_one() {
            Ok(r) => {
                self.index += 1;
                Some(Ok(r))
            }
            Err(e) => Some(Err(self.err(e))),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            return (0, Some(0));
        }
        let left = (i64::from(self.count) - i64::from(self.index)).max(0) as usize;
        (0, Some(left.min(self.data.len() / MIN_RECORD_SIZE + 1)))
    }
}

impl core::iter::FusedIterator for RecordIter<'_> {}

#[cfg(test)]
mod tests {
    use super::{read_varint, read_varlong};
    use crate::wire::{p_varint, p_varlong};

    /// The record reader's varints agree with the wire module's on every outcome: value,
    /// bytes consumed, and error for truncated, overlong and out-of-range encodings.
    #[test]
    fn varints_agree_with_the_wire_parsers() {
        let mut cases: alloc::vec::Vec<alloc::vec::Vec<u8>> = alloc::vec![
            alloc::vec![],
            alloc::vec![0x80],
            alloc::vec![0xff; 5],
            alloc::vec![0xff; 11],
            alloc::vec![0xff, 0xff, 0xff, 0xff, 0x0f],
            alloc::vec![0xff, 0xff, 0xff, 0xff, 0x10],
            alloc::vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            alloc::vec![0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
        ];
        let mut rng = crate::rng::Rng::new(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let x = rng.next_u64();
            let len = (x % 12) as usize;
            let bytes = x.to_be_bytes();
            let mut v: alloc::vec::Vec<u8> = (0..len).map(|i| bytes[i % 8] | 0x80).collect();
            if x & 1 == 0 && len > 0 {
                v[len - 1] &= 0x7f >> (x % 7);
            }
            cases.push(v);
        }
        for c in &cases {
            let mut pos = 0;
            let ours = read_varint(c, &mut pos, "v").map(|v| (v, pos)).ok();
            let wire = p_varint(c).map(|(r, v)| (v, c.len() - r.len())).ok();
            assert_eq!(ours, wire, "varint {c:02x?}");
            let mut pos = 0;
            let ours = read_varlong(c, &mut pos, "v").map(|v| (v, pos)).ok();
            let wire = p_varlong(c).map(|(r, v)| (v, c.len() - r.len())).ok();
            assert_eq!(ours, wire, "varlong {c:02x?}");
        }
    }
}
