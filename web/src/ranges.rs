//! Named byte ranges for the hex view: a batch's header fields (kproto's `records::field`),
//! and its records' spans. The hex view highlights a selected range, and a clicked byte
//! selects the innermost range holding it.

use crate::records::BatchRecords;
use crate::summary::BatchSummary;
use kproto::records::{field, legacy, MAGIC_V2};
use serde::Serialize;

/// A named range of bytes, `start..end`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NamedRange {
    /// What the bytes are (`crc`, `record 3 value`, ...).
    pub name: String,
    /// The first byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

/// The header fields of batch `b`, at their positions in the file.
pub fn header_fields(b: &BatchSummary) -> Vec<NamedRange> {
    let at = |name: &str, r: core::ops::Range<usize>| NamedRange {
        name: name.to_owned(),
        start: b.position + r.start as u64,
        end: b.position + r.end as u64,
    };
    if b.magic == MAGIC_V2 {
        let mut v: Vec<_> = field::ALL.iter().map(|(n, r)| at(n, r.clone())).collect();
        v.push(at("records", field::RECORDS..b.size as usize));
        v
    } else {
        let mut v = vec![
            at("offset", legacy::field::OFFSET),
            at("size", legacy::field::SIZE),
            at("crc", legacy::field::CRC),
            at("magic", legacy::field::MAGIC),
            at("attributes", legacy::field::ATTRIBUTES),
        ];
        if b.magic == 1 {
            v.push(at("timestamp", legacy::field::TIMESTAMP));
        }
        v
    }
}

/// The ranges of a page of records: each record, and its key and value inside it.
pub fn record_ranges(recs: &BatchRecords) -> Vec<NamedRange> {
    let mut v = Vec::new();
    for r in &recs.records {
        let n = |what: &str, s: [u64; 2]| NamedRange {
            name: format!("record {} {what}", r.index),
            start: s[0],
            end: s[1],
        };
        v.push(n("", r.span));
        if r.key_span[0] < r.key_span[1] {
            v.push(n("key", r.key_span));
        }
        if r.value_span[0] < r.value_span[1] {
            v.push(n("value", r.value_span));
        }
    }
    for r in &mut v {
        r.name = r.name.trim_end().to_owned();
    }
    v
}

/// The innermost (shortest) range holding byte `pos`: what a click on that byte selects. Of
/// equal ranges the last listed wins (a batch's only record over its records field).
pub fn innermost_at(ranges: &[NamedRange], pos: u64) -> Option<&NamedRange> {
    ranges
        .iter()
        .rev()
        .filter(|r| r.start <= pos && pos < r.end)
        .min_by_key(|r| r.end - r.start)
}
