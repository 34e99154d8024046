//! Listing a `.log` segment's batches from byte ranges, resynchronising after corruption.
//!
//! The scan reads the file a chunk at a time (and one whole batch at a time when a batch is
//! larger than a chunk), so memory is bounded by `max(chunk, largest batch)` whatever the file
//! size. It can be run in budgeted steps ([`SegmentScan::step`]) so the page shows the first
//! rows while the rest of a large file is still being read.
//!
//! Unlike Kafka's readers, which stop at the first bad batch, the scan goes on: a batch whose
//! CRC does not match is listed and marked; bytes that cannot be framed at all are skipped up
//! to the next position where a whole batch with a matching CRC starts, and the skipped range
//! is reported as a problem.

use crate::error::{InspectError, Problem};
use crate::source::{read_clamped, ByteSource};
use crate::summary::{self, BatchSummary};
use kproto::records::crc::{crc32_ieee, crc32c};
use kproto::records::legacy::{Entries, Entry, MIN_MESSAGE_SIZE};
use kproto::records::{field, LOG_OVERHEAD, MAGIC_V2, RECORD_BATCH_OVERHEAD};

/// How a scan reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions {
    /// Bytes read at a time.
    pub chunk: u64,
    /// The largest batch the scan accepts (larger sizes are treated as corrupt).
    pub max_batch: u64,
}

impl ScanOptions {
    /// How the page's worker scans a segment: 8 MiB slices. Each `FileReaderSync` read of a
    /// `File` slice costs a few milliseconds whatever its size (measured in Chromium 156: 100 MB
    /// in 1 MiB slices 0.4–1.0 s, in 8 MiB slices 0.24–0.28 s), so the slice is large; memory
    /// stays bounded by the slice and the largest batch.
    pub const PAGE: ScanOptions = ScanOptions {
        chunk: 8 << 20,
        max_batch: 256 << 20,
    };
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            chunk: 1 << 20,
            max_batch: 256 << 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading batches from `pos`; `want` bytes next (a chunk, or one large batch).
    Walking {
        want: u64,
    },
    /// Looking for the next valid batch from `pos`; the bad bytes started at `from`.
    Resync {
        from: u64,
    },
    Done,
}

/// What one [`SegmentScan::step`] added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The indexes of the batches it listed.
    pub batches: core::ops::Range<usize>,
    /// The indexes of the problems it found.
    pub problems: core::ops::Range<usize>,
    /// Whether the whole file has been scanned.
    pub done: bool,
}

/// A scan over one segment file, run in steps; it keeps everything listed so far.
#[derive(Debug, Clone)]
pub struct SegmentScan {
    file: String,
    len: u64,
    pos: u64,
    opts: ScanOptions,
    state: State,
    /// The segment's base offset, from its file name.
    base_offset: Option<i64>,
    /// The batches listed so far, in file order.
    pub batches: Vec<BatchSummary>,
    /// The problems found so far, in file order.
    pub problems: Vec<Problem>,
}

/// Is there plausibly an entry header at `at` of `b`: a known magic and a size that fits?
fn plausible_header(b: &[u8], at: usize, file_left: u64) -> bool {
    let Some(h) = b.get(at..at + field::MAGIC.end) else {
        return false;
    };
    let size = i32::from_be_bytes([h[8], h[9], h[10], h[11]]);
    let min = match h[16] as i8 {
        MAGIC_V2 => RECORD_BATCH_OVERHEAD - LOG_OVERHEAD,
        0 | 1 => MIN_MESSAGE_SIZE,
        _ => return false,
    };
    size >= min as i32 && (size as u64 + LOG_OVERHEAD as u64) <= file_left
}

/// Does a whole, CRC-valid entry start at `at` of `b` (which must hold all of it)?
fn valid_entry(b: &[u8]) -> bool {
    if b.len() < field::MAGIC.end {
        return false;
    }
    let magic = b[16] as i8;
    if magic == MAGIC_V2 {
        let Some(stored) = b
            .get(field::CRC)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        else {
            return false;
        };
        b.len() >= RECORD_BATCH_OVERHEAD && crc32c(&b[field::ATTRIBUTES.start..]) == stored
    } else {
        let stored = u32::from_be_bytes([b[12], b[13], b[14], b[15]]);
        crc32_ieee(&b[16..]) == stored
    }
}

impl SegmentScan {
    /// A scan of `file`, `len` bytes long.
    pub fn new(file: impl Into<String>, len: u64, opts: ScanOptions) -> Self {
        let file = file.into();
        let base_offset = file
            .rsplit('/')
            .next()
            .and_then(klog::parse_file_name)
            .and_then(|(b, _)| i64::try_from(b).ok());
        SegmentScan {
            file,
            base_offset,
            len,
            pos: 0,
            opts,
            state: if len == 0 {
                State::Done
            } else {
                State::Walking { want: opts.chunk }
            },
            batches: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// The file's name.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The file's length.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How far the scan has read.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Whether the scan has reached the end of the file.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Scans the whole file.
    pub fn run(
        file: impl Into<String>,
        src: &mut dyn ByteSource,
        opts: ScanOptions,
    ) -> Result<SegmentScan, InspectError> {
        let mut s = SegmentScan::new(file, src.len(), opts);
        while !s.is_done() {
            s.step(src, u64::MAX)?;
        }
        Ok(s)
    }

    fn problem(&mut self, offset: u64, kind: &'static str, reason: String) {
        self.problems
            .push(Problem::new(&self.file, offset, kind, reason));
    }

    /// Reads about `budget` bytes more (at least one read), listing what it finds.
    pub fn step(&mut self, src: &mut dyn ByteSource, budget: u64) -> Result<Step, InspectError> {
        let (b0, p0) = (self.batches.len(), self.problems.len());
        let mut read = 0u64;
        while read < budget.max(1) {
            match self.state {
                State::Done => break,
                State::Walking { want } => read += self.walk(src, want)?,
                State::Resync { from } => read += self.resync(src, from)?,
            }
        }
        Ok(Step {
            batches: b0..self.batches.len(),
            problems: p0..self.problems.len(),
            done: self.is_done(),
        })
    }

    fn push(&mut self, mut s: BatchSummary) {
        s.index = self.batches.len();
        if let Some(prev) = self.batches.last() {
            if prev.crc_ok && s.crc_ok && s.base_offset != prev.last_offset.wrapping_add(1) {
                self.problem(
                    s.position,
                    "offsets",
                    format!(
                        "non-consecutive offsets: the previous batch ends at {}, this one starts at {}",
                        prev.last_offset, s.base_offset
                    ),
                );
            }
        }
        if !s.crc_ok {
            self.problem(
                s.position,
                "crc",
                format!(
                    "batch {} (offsets {}..={}): CRC mismatch, stored {:#010x}, computed {:#010x}",
                    s.index, s.base_offset, s.last_offset, s.crc_stored, s.crc_computed
                ),
            );
        } else if let Some(p) = &s.problem {
            let p = format!("batch {}: {p}", s.index);
            self.problem(s.position, "batch", p);
        }
        self.batches.push(s);
    }

    /// One read of `want` bytes at `pos` and the batches in it; returns the bytes read.
    fn walk(&mut self, src: &mut dyn ByteSource, want: u64) -> Result<u64, InspectError> {
        let start = self.pos;
        let end = start.saturating_add(want).min(self.len);
        let buf = read_clamped(src, start, end)?;
        let mut walk = Entries::new(&buf);
        let mut consumed = 0usize;
        let mut resync_from = None;
        for item in walk.by_ref() {
            match item {
                Ok(entry) => {
                    let (at, size) = match &entry {
                        Entry::V2(v) => (v.position(), v.size()),
                        Entry::Legacy(m) => (m.position(), m.as_bytes().len()),
                    };
                    // The summary computes the CRC (once: it is most of a listing's work).
                    let s = match &entry {
                        Entry::V2(v) => summary::v2(0, start + at as u64, v),
                        Entry::Legacy(m) => summary::legacy(0, start + at as u64, m),
                    };
                    let crc_ok = s.crc_ok;
                    self.push(s);
                    consumed = at + size;
                    if !crc_ok {
                        // A corrupt length frames the next batch at the wrong place: check that
                        // what follows looks like a header (or is the end of the file).
                        let next = start + consumed as u64;
                        if next < self.len {
                            let left = self.len - next;
                            let follows = if buf.len() >= consumed + field::MAGIC.end {
                                plausible_header(&buf, consumed, left)
                            } else {
                                let h = read_clamped(src, next, next + field::MAGIC.end as u64)?;
                                plausible_header(&h, 0, left)
                            };
                            if !follows {
                                let i = self.batches.len() - 1;
                                self.batches[i].problem = Some(
                                    "no batch follows it: its length is probably corrupt".into(),
                                );
                                resync_from = Some(start + at as u64);
                                break;
                            }
                        }
                    }
                }
                Err(e) => {
                    let at = start + consumed as u64;
                    self.problem(
                        at,
                        "framing",
                        format!("cannot frame a batch at byte {at}: {e}"),
                    );
                    resync_from = Some(at);
                    break;
                }
            }
        }
        let read = buf.len() as u64;
        if let Some(from) = resync_from {
            self.pos = from + 1;
            self.state = State::Resync { from };
            return Ok(read);
        }
        self.pos = start + consumed as u64;
        let rest = &buf[consumed..];
        if rest.is_empty() {
            self.state = if self.pos >= self.len {
                State::Done
            } else {
                State::Walking {
                    want: self.opts.chunk,
                }
            };
            return Ok(read);
        }
        let left = self.len - self.pos;
        if rest.len() >= LOG_OVERHEAD {
            let size = i32::from_be_bytes([rest[8], rest[9], rest[10], rest[11]]);
            let total = i64::from(size) + LOG_OVERHEAD as i64;
            if total as u64 > left {
                self.problem(
                    self.pos,
                    "tail",
                    format!(
                        "{left} invalid bytes at the end: the entry at byte {} claims {total} bytes",
                        self.pos
                    ),
                );
                self.state = State::Done;
            } else if total as u64 > self.opts.max_batch {
                let at = self.pos;
                self.problem(
                    at,
                    "framing",
                    format!(
                        "the entry at byte {at} claims {total} bytes, above the limit of {}",
                        self.opts.max_batch
                    ),
                );
                self.pos = at + 1;
                self.state = State::Resync { from: at };
            } else {
                self.state = State::Walking {
                    want: (total as u64).max(self.opts.chunk),
                };
            }
        } else if end >= self.len {
            self.problem(
                self.pos,
                "tail",
                format!("{left} invalid bytes at the end: too few for an entry header"),
            );
            self.state = State::Done;
        } else {
            self.state = State::Walking {
                want: self.opts.chunk,
            };
        }
        Ok(read)
    }

    /// Looks for the next whole, CRC-valid entry from `pos` in one chunk; returns bytes read.
    fn resync(&mut self, src: &mut dyn ByteSource, from: u64) -> Result<u64, InspectError> {
        let start = self.pos;
        let end = start.saturating_add(self.opts.chunk).min(self.len);
        let buf = read_clamped(src, start, end)?;
        let mut read = buf.len() as u64;
        let last = buf.len();
        let lo = self
            .batches
            .iter()
            .rev()
            .find(|b| b.crc_ok)
            .map(|b| b.last_offset.saturating_add(1))
            .or(self.base_offset);
        for i in 0..last {
            let c = start + i as u64;
            let left = self.len - c;
            let hdr;
            let h: &[u8] = if i + field::MAGIC.end <= buf.len() {
                &buf[i..i + field::MAGIC.end]
            } else if left >= field::MAGIC.end as u64 {
                hdr = read_clamped(src, c, c + field::MAGIC.end as u64)?;
                &hdr
            } else {
                break;
            };
            if !plausible_header(h, 0, left) {
                continue;
            }
            let size = i32::from_be_bytes([h[8], h[9], h[10], h[11]]) as u64 + LOG_OVERHEAD as u64;
            let base = i64::from_be_bytes([h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]]);
            // Random bytes rarely hold an offset just above the last good one: this keeps the
            // CRC checks (and reads) of false candidates rare.
            if size > self.opts.max_batch
                || lo.is_some_and(|lo| {
                    base < lo || base.checked_sub(lo).is_none_or(|d| d >= 1 << 31)
                })
            {
                continue;
            }
            let ok = if i as u64 + size <= buf.len() as u64 {
                valid_entry(&buf[i..i + size as usize])
            } else {
                let whole = read_clamped(src, c, c + size)?;
                read += size;
                valid_entry(&whole)
            };
            if ok {
                self.problem(
                    from,
                    "resync",
                    format!("skipped {} bytes from byte {from}: resynchronised on a valid batch at byte {c}", c - from),
                );
                self.pos = c;
                self.state = State::Walking {
                    want: self.opts.chunk.max(size),
                };
                return Ok(read);
            }
        }
        if end >= self.len {
            self.problem(
                from,
                "resync",
                format!(
                    "no valid batch after byte {from}: {} bytes to the end skipped",
                    self.len - from
                ),
            );
            self.pos = self.len;
            self.state = State::Done;
        } else {
            // Candidates may start in the last header-length bytes of this chunk: go on from
            // the end, re-reading nothing (headers past the chunk were read above).
            self.pos = end;
        }
        Ok(read)
    }
}

/// The bytes of one listed batch.
pub fn batch_bytes(src: &mut dyn ByteSource, b: &BatchSummary) -> Result<Vec<u8>, InspectError> {
    read_clamped(src, b.position, b.position + b.size)
}

/// The batch containing `offset`, or the first one after it (by binary search; the listing is
/// in offset order for a healthy segment).
pub fn find_offset(batches: &[BatchSummary], offset: i64) -> Option<usize> {
    let i = batches.partition_point(|b| b.last_offset < offset);
    (i < batches.len()).then_some(i)
}

/// The first batch whose max timestamp is at or after `ts` (Kafka's `ListOffsets` by time).
pub fn find_timestamp(batches: &[BatchSummary], ts: i64) -> Option<usize> {
    batches.iter().position(|b| b.max_timestamp >= ts)
}
