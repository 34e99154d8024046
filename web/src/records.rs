//! The records of one listed batch: offset, timestamp, key, value and headers, with value
//! views and the byte ranges of each record for the hex view.

use crate::error::InspectError;
use crate::segment::batch_bytes;
use crate::source::ByteSource;
use crate::summary::BatchSummary;
use crate::value::{self, ValueView};
use kproto::records::legacy::LegacyMessage;
use kproto::records::{field, BatchView, Compression, LOG_OVERHEAD, MAGIC_V2};
use serde::Serialize;

/// How records are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordOptions {
    /// Bytes of each key and value the views cover (the rest on request).
    pub preview: usize,
    /// The most bytes a batch may decompress to.
    pub max_uncompressed: usize,
    /// The most records returned (a page); `skip` records are passed over first.
    pub limit: usize,
    /// Records to skip.
    pub skip: usize,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            preview: 4096,
            max_uncompressed: kproto::records::DEFAULT_MAX_UNCOMPRESSED,
            limit: 500,
            skip: 0,
        }
    }
}

/// One header of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderInfo {
    /// The header key (lossy UTF-8).
    pub key: String,
    /// The header value; `None` is null.
    pub value: Option<ValueView>,
}

/// One record as the record view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordInfo {
    /// Its index in the batch.
    pub index: usize,
    /// Its offset.
    pub offset: i64,
    /// Its timestamp (-1 for none).
    pub timestamp: i64,
    /// Its producer sequence (-1 when the batch has none).
    pub sequence: i32,
    /// The key; `None` is null.
    pub key: Option<ValueView>,
    /// The value; `None` is null (a tombstone).
    pub value: Option<ValueView>,
    /// The headers.
    pub headers: Vec<HeaderInfo>,
    /// The record's bytes, in the space named by [`BatchRecords::space`].
    pub span: [u64; 2],
    /// The key's bytes (empty when null).
    pub key_span: [u64; 2],
    /// The value's bytes (empty when null).
    pub value_span: [u64; 2],
}

/// A page of a batch's records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchRecords {
    /// The batch's index in its listing.
    pub batch: usize,
    /// The records of this page.
    pub records: Vec<RecordInfo>,
    /// How many records the batch holds (as far as they could be read).
    pub total: usize,
    /// `file` when spans are byte positions in the file; `records` when they are positions
    /// in the batch's decompressed records (a compressed batch).
    pub space: &'static str,
    /// Where reading stopped early, with the file's byte offset and the reason.
    pub error: Option<String>,
}

/// Which bytes of a record [`record_part`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The key.
    Key,
    /// The value.
    Value,
    /// The value of the header with this index.
    Header(usize),
}

fn span(base: u64, r: &core::ops::Range<usize>) -> [u64; 2] {
    [base + r.start as u64, base + r.end as u64]
}

fn corrupt(src: &dyn ByteSource, offset: u64, reason: impl Into<String>) -> InspectError {
    InspectError::Corrupt {
        file: src.name().to_owned(),
        offset,
        reason: reason.into(),
    }
}

/// The records of batch `b`, a page of them as `opts` says. A batch whose records cannot all
/// be read returns those before the bad one and the error.
pub fn batch_records(
    src: &mut dyn ByteSource,
    b: &BatchSummary,
    opts: &RecordOptions,
) -> Result<BatchRecords, InspectError> {
    let bytes = batch_bytes(src, b)?;
    let mut out = BatchRecords {
        batch: b.index,
        records: Vec::new(),
        total: 0,
        space: "file",
        error: None,
    };
    let in_page = |i: usize| i >= opts.skip && i - opts.skip < opts.limit;
    if b.magic != MAGIC_V2 {
        let m =
            LegacyMessage::parse(&bytes, 0).map_err(|e| corrupt(src, b.position, e.to_string()))?;
        let mut scratch = Vec::new();
        let inner = match m.records(&mut scratch, opts.max_uncompressed) {
            Ok(v) => v,
            Err(e) => {
                out.error = Some(format!("byte {}: {e}", b.position));
                return Ok(out);
            }
        };
        let compressed = m.compression().is_ok_and(|c| c != Compression::None);
        out.space = if compressed { "records" } else { "file" };
        let base = if compressed { 0 } else { b.position };
        out.total = inner.len();
        for (i, r) in inner.iter().enumerate() {
            if !in_page(i) {
                continue;
            }
            let at = r.position();
            let len = r.as_bytes().len();
            // Key and value positions inside the entry: after the fixed header.
            let kstart = at + if r.magic == 1 { 26 } else { 18 };
            let klen = r.key.map_or(0, <[u8]>::len);
            let vstart = kstart + 4 + klen + 4;
            out.records.push(RecordInfo {
                index: i,
                offset: r.offset,
                timestamp: r.timestamp.unwrap_or(-1),
                sequence: -1,
                key: r.key.map(|k| value::view(k, opts.preview)),
                value: r.value.map(|v| value::view(v, opts.preview)),
                headers: Vec::new(),
                span: span(base, &(at..at + len)),
                key_span: span(base, &(kstart + 4..kstart + 4 + klen)),
                value_span: span(base, &(vstart..vstart + r.value.map_or(0, <[u8]>::len))),
            });
        }
        return Ok(out);
    }
    let v =
        BatchView::new_checked(&bytes[..]).map_err(|e| corrupt(src, b.position, e.to_string()))?;
    let v = v.at_offset(b.position as usize);
    let compressed = v.compression().is_ok_and(|c| c != Compression::None);
    out.space = if compressed { "records" } else { "file" };
    let base = if compressed {
        0
    } else {
        b.position + field::RECORDS as u64
    };
    let mut scratch = Vec::new();
    let recs = match v.records(&mut scratch, opts.max_uncompressed) {
        Ok(r) => r,
        Err(e) => {
            out.error = Some(e.to_string());
            return Ok(out);
        }
    };
    for (i, r) in recs.enumerate() {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                out.error = Some(e.to_string());
                break;
            }
        };
        out.total = i + 1;
        if !in_page(i) {
            continue;
        }
        out.records.push(RecordInfo {
            index: i,
            offset: r.offset,
            timestamp: r.timestamp,
            sequence: if b.base_sequence < 0 {
                -1
            } else {
                b.base_sequence.wrapping_add(i as i32)
            },
            key: r.key.map(|k| value::view(k, opts.preview)),
            value: r.value.map(|x| value::view(x, opts.preview)),
            headers: r
                .headers
                .iter()
                .map(|h| HeaderInfo {
                    key: String::from_utf8_lossy(h.key).into_owned(),
                    value: h.value.map(|x| value::view(x, opts.preview)),
                })
                .collect(),
            span: span(base, &r.span),
            key_span: span(base, &r.key_span),
            value_span: span(base, &r.value_span),
        });
    }
    Ok(out)
}

/// The whole key, value or header value of record `index` of batch `b` (the page's "expand"
/// and "download"). `Ok(None)` when it is null.
pub fn record_part(
    src: &mut dyn ByteSource,
    b: &BatchSummary,
    index: usize,
    part: Part,
    max_uncompressed: usize,
) -> Result<Option<Vec<u8>>, InspectError> {
    let bytes = batch_bytes(src, b)?;
    let missing = || InspectError::BadRequest {
        file: src.name().to_owned(),
        reason: format!(
            "batch {} has no record {index} (or no such header)",
            b.index
        ),
    };
    let mut scratch = Vec::new();
    if b.magic != MAGIC_V2 {
        let m =
            LegacyMessage::parse(&bytes, 0).map_err(|e| corrupt(src, b.position, e.to_string()))?;
        let inner = m
            .records(&mut scratch, max_uncompressed)
            .map_err(|e| corrupt(src, b.position, e.to_string()))?;
        let r = inner.get(index).ok_or_else(missing)?;
        return match part {
            Part::Key => Ok(r.key.map(<[u8]>::to_vec)),
            Part::Value => Ok(r.value.map(<[u8]>::to_vec)),
            Part::Header(_) => Err(missing()),
        };
    }
    let v = BatchView::new_checked(&bytes[..])
        .map_err(|e| corrupt(src, b.position, e.to_string()))?
        .at_offset(b.position as usize);
    let mut recs = v
        .records(&mut scratch, max_uncompressed)
        .map_err(|e| corrupt(src, b.position, e.to_string()))?;
    let r = recs
        .nth(index)
        .ok_or_else(missing)?
        .map_err(|e| corrupt(src, b.position, e.to_string()))?;
    match part {
        Part::Key => Ok(r.key.map(<[u8]>::to_vec)),
        Part::Value => Ok(r.value.map(<[u8]>::to_vec)),
        Part::Header(h) => Ok(r
            .headers
            .iter()
            .nth(h)
            .ok_or_else(missing)?
            .value
            .map(<[u8]>::to_vec)),
    }
}

/// The batch's records section uncompressed (what `records`-space spans point into).
pub fn uncompressed_records(
    src: &mut dyn ByteSource,
    b: &BatchSummary,
    max_uncompressed: usize,
) -> Result<Vec<u8>, InspectError> {
    let bytes = batch_bytes(src, b)?;
    let err = |e: kproto::records::RecordError| corrupt(src, b.position, e.to_string());
    if b.magic != MAGIC_V2 {
        let m = LegacyMessage::parse(&bytes, 0).map_err(err)?;
        if m.compression().is_ok_and(|c| c == Compression::None) {
            return Ok(bytes[LOG_OVERHEAD..].to_vec());
        }
        let mut out = Vec::new();
        kproto::records::codec::decompress(
            m.compression().map_err(err)?,
            m.value.unwrap_or_default(),
            &mut out,
            max_uncompressed,
            m.magic == 0,
        )
        .map_err(|e| corrupt(src, b.position, format!("{e:?}")))?;
        return Ok(out);
    }
    let v = BatchView::new_checked(&bytes[..]).map_err(err)?;
    let mut scratch = Vec::new();
    let data = v
        .uncompressed_records(&mut scratch, max_uncompressed)
        .map_err(err)?;
    Ok(data.to_vec())
}

fn export_value(v: &Option<ValueView>) -> serde_json::Value {
    match v {
        None => serde_json::Value::Null,
        Some(v) => match &v.utf8 {
            Some(s) if v.kind != "binary" && v.kind != "schema-registry" => serde_json::json!(s),
            _ => serde_json::json!({ "base64": v.base64 }),
        },
    }
}

/// Records as JSON lines (one object a line): offset, timestamp, key and value as text when
/// they are UTF-8, else `{"base64": ...}`, and headers.
pub fn json_lines(recs: &BatchRecords) -> String {
    let mut out = String::new();
    for r in &recs.records {
        let headers: Vec<_> = r
            .headers
            .iter()
            .map(|h| serde_json::json!({ "key": h.key, "value": export_value(&h.value) }))
            .collect();
        let line = serde_json::json!({
            "offset": r.offset,
            "timestamp": r.timestamp,
            "key": export_value(&r.key),
            "value": export_value(&r.value),
            "headers": headers,
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}
