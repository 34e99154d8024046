//! `.index` and `.timeindex` files, checked against their segment as Kafka's
//! `DumpLogSegments --verify-index-only` and `--index-sanity-check` do, and used to jump to an
//! offset or a timestamp.
//!
//! Problems found (each with the index file, the entry's byte position in it, and the reason):
//! invalid bytes at the end (a length that is not a whole number of entries), an entry below
//! the base offset, entries out of order, an offset entry whose position does not hold a batch
//! ending at its offset, a time entry whose offset is not a batch's last offset in the log, a
//! time entry whose timestamp is not its batch's max timestamp, and out-of-order timestamps.

use crate::error::{InspectError, Problem};
use crate::source::{read_clamped, ByteSource};
use crate::summary::BatchSummary;
use klog::index::{OFFSET_ENTRY_SIZE, TIME_ENTRY_SIZE};
use serde::Serialize;

/// The largest index file read (Kafka's `segment.index.bytes` is at most 2 GiB but is 10 MiB by
/// default; an index holds one entry per 4 KiB of log by default).
pub const MAX_INDEX_BYTES: u64 = 256 << 20;

/// One `.index` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct OffsetEntry {
    /// The absolute offset (base + relative).
    pub offset: i64,
    /// The byte position in the `.log`.
    pub position: u32,
}

/// One `.timeindex` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeEntry {
    /// The timestamp.
    pub timestamp: i64,
    /// The absolute offset.
    pub offset: i64,
}

/// An index file read and checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexReport<E> {
    /// The index file.
    pub file: String,
    /// The entries before the zero-filled preallocated tail (an active segment's index).
    pub entries: Vec<E>,
    /// Zero-filled entries after them.
    pub zero_entries: usize,
    /// What is wrong.
    pub problems: Vec<Problem>,
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i64(b: &[u8]) -> i64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    i64::from_be_bytes(a)
}

/// Reads a whole index file (small: one entry per `index.interval.bytes` of log).
pub fn read_index(src: &mut dyn ByteSource) -> Result<Vec<u8>, InspectError> {
    if src.len() > MAX_INDEX_BYTES {
        return Err(InspectError::BadRequest {
            file: src.name().to_owned(),
            reason: format!(
                "an index of {} bytes is larger than {MAX_INDEX_BYTES}",
                src.len()
            ),
        });
    }
    let len = src.len();
    read_clamped(src, 0, len)
}

fn tail_problem(file: &str, len: usize, size: usize) -> Option<Problem> {
    let rem = len % size;
    (rem != 0).then(|| {
        Problem::new(
            file,
            (len - rem) as u64,
            "index-tail",
            format!("{rem} invalid bytes at the end: the index is {len} bytes, not a multiple of {size}"),
        )
    })
}

/// The batch starting at byte `pos` of the log.
fn batch_at(batches: &[BatchSummary], pos: u64) -> Option<&BatchSummary> {
    let i = batches.partition_point(|b| b.position < pos);
    batches.get(i).filter(|b| b.position == pos)
}

/// Reads and checks an offset index with base offset `base` against its segment's batches.
pub fn check_offset_index(
    file: &str,
    data: &[u8],
    base: i64,
    batches: &[BatchSummary],
) -> IndexReport<OffsetEntry> {
    let mut r = IndexReport {
        file: file.to_owned(),
        entries: Vec::new(),
        zero_entries: 0,
        problems: Vec::new(),
    };
    let mut prev: Option<OffsetEntry> = None;
    for (i, e) in data.chunks_exact(OFFSET_ENTRY_SIZE).enumerate() {
        let at = (i * OFFSET_ENTRY_SIZE) as u64;
        let rel = be_i32(&e[0..4]);
        let entry = OffsetEntry {
            offset: base + i64::from(rel),
            position: be_i32(&e[4..8]) as u32,
        };
        // Kafka stops at the first entry that reads as the base offset after the first: the
        // zero-filled tail of a preallocated index.
        if i > 0 && rel == 0 {
            r.zero_entries = data.len() / OFFSET_ENTRY_SIZE - i;
            break;
        }
        let mut p = |kind, reason: String| r.problems.push(Problem::new(file, at, kind, reason));
        if rel < 0 {
            p(
                "index-offset",
                format!(
                    "entry {i}: offset {} is below the base offset {base}",
                    entry.offset
                ),
            );
        }
        if let Some(q) = prev {
            if entry.offset <= q.offset || entry.position <= q.position {
                p(
                    "index-order",
                    format!(
                        "entry {i}: offset {} at position {} does not follow offset {} at position {}",
                        entry.offset, entry.position, q.offset, q.position
                    ),
                );
            }
        }
        match batch_at(batches, u64::from(entry.position)) {
            None => p(
                "index-offset",
                format!("entry {i}: no batch starts at position {} of the log (index offset {})", entry.position, entry.offset),
            ),
            Some(b) if b.last_offset != entry.offset => p(
                "index-offset",
                format!("entry {i}: index offset {}, log offset {} (the last offset of the batch at position {})", entry.offset, b.last_offset, entry.position),
            ),
            Some(_) => {}
        }
        prev = Some(entry);
        r.entries.push(entry);
    }
    if let Some(p) = tail_problem(file, data.len(), OFFSET_ENTRY_SIZE) {
        r.problems.push(p);
    }
    r
}

/// The position to start reading from for `offset`: the largest entry at or below it
/// (Kafka's `OffsetIndex.lookup`; the segment's start when there is none).
pub fn lookup_offset(entries: &[OffsetEntry], offset: i64) -> u32 {
    let i = entries.partition_point(|e| e.offset <= offset);
    if i == 0 {
        0
    } else {
        entries[i - 1].position
    }
}

/// Reads and checks a time index with base offset `base` against its segment's batches and
/// offset index entries.
pub fn check_time_index(
    file: &str,
    data: &[u8],
    base: i64,
    offsets: &[OffsetEntry],
    batches: &[BatchSummary],
) -> IndexReport<TimeEntry> {
    let mut r = IndexReport {
        file: file.to_owned(),
        entries: Vec::new(),
        zero_entries: 0,
        problems: Vec::new(),
    };
    let mut prev_ts: Option<i64> = None;
    for (i, e) in data.chunks_exact(TIME_ENTRY_SIZE).enumerate() {
        let at = (i * TIME_ENTRY_SIZE) as u64;
        let rel = be_i32(&e[8..12]);
        let entry = TimeEntry {
            timestamp: be_i64(&e[0..8]),
            offset: base + i64::from(rel),
        };
        if i > 0 && rel == 0 {
            r.zero_entries = data.len() / TIME_ENTRY_SIZE - i;
            break;
        }
        let mut p = |kind, reason: String| r.problems.push(Problem::new(file, at, kind, reason));
        if rel < 0 {
            p(
                "index-offset",
                format!(
                    "entry {i}: offset {} is below the base offset {base}",
                    entry.offset
                ),
            );
        }
        let from = u64::from(lookup_offset(offsets, entry.offset));
        let start = batches.partition_point(|b| b.position < from);
        match batches[start..].iter().find(|b| b.last_offset >= entry.offset) {
            None => p(
                "index-offset",
                format!("entry {i}: indexed offset {} is not found in the log", entry.offset),
            ),
            Some(b) if b.last_offset != entry.offset => p(
                "index-offset",
                format!("entry {i}: indexed offset {} is not a batch's last offset (the batch holding it ends at {})", entry.offset, b.last_offset),
            ),
            Some(b) if b.max_timestamp != entry.timestamp => p(
                "index-timestamp",
                format!("entry {i}: index timestamp {}, log timestamp {}", entry.timestamp, b.max_timestamp),
            ),
            Some(_) => {}
        }
        if let Some(q) = prev_ts {
            if q >= entry.timestamp {
                p(
                    "index-order",
                    format!(
                        "entry {i}: out of order timestamp {}, previously indexed timestamp {q}",
                        entry.timestamp
                    ),
                );
            }
        }
        prev_ts = Some(entry.timestamp);
        r.entries.push(entry);
    }
    if let Some(p) = tail_problem(file, data.len(), TIME_ENTRY_SIZE) {
        r.problems.push(p);
    }
    if let (Some(first), Some(last)) = (r.entries.first(), r.entries.last()) {
        if last.timestamp < first.timestamp {
            r.problems.push(Problem::new(
                file,
                ((r.entries.len() - 1) * TIME_ENTRY_SIZE) as u64,
                "index-sanity",
                format!(
                    "the last timestamp {} is less than the first timestamp {}",
                    last.timestamp, first.timestamp
                ),
            ));
        }
    }
    r
}

/// The first batch holding a record at or after timestamp `ts`, found as Kafka finds it: the
/// time index gives the largest entry at or below `ts`, the offset index a position, and the
/// batches from there are read until one's max timestamp reaches `ts`.
pub fn jump_to_timestamp(
    times: &[TimeEntry],
    offsets: &[OffsetEntry],
    batches: &[BatchSummary],
    ts: i64,
) -> Option<usize> {
    let i = times.partition_point(|e| e.timestamp <= ts);
    let from = if i == 0 {
        0
    } else {
        u64::from(lookup_offset(offsets, times[i - 1].offset))
    };
    let start = batches.partition_point(|b| b.position < from);
    batches[start..]
        .iter()
        .position(|b| b.max_timestamp >= ts)
        .map(|j| start + j)
}

/// The batch holding `offset` (or the first after it), found through the offset index.
pub fn jump_to_offset(
    offsets: &[OffsetEntry],
    batches: &[BatchSummary],
    offset: i64,
) -> Option<usize> {
    let from = u64::from(lookup_offset(offsets, offset));
    let start = batches.partition_point(|b| b.position < from);
    batches[start..]
        .iter()
        .position(|b| b.last_offset >= offset)
        .map(|j| start + j)
}
