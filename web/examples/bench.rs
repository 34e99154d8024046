//! The inspector's 100 MB benchmark, native half (BENCHMARKS.md, "The inspector").
//!
//! - `bench write DIR [MB]` writes one segment per codec, `DIR/<codec>-0/00000000000000000000.log`
//!   of about `MB` (default 100) MB each: batches of 100 records as a producer batches them
//!   (JSON order events of 250–400 bytes with a key and a header, pseudo-random so that the
//!   codecs have realistic work), consecutive offsets and timestamps.
//! - `bench native DIR [RUNS]` lists each segment with the same model code and the same steps as
//!   the page's worker (`web/www/worker.js`, [`ScanOptions::PAGE`]: a first step of one 8 MiB
//!   slice, then 8 MiB steps, each step's rows serialised to JSON as `Inspector::scan` does),
//!   reading the file in ranges as the worker reads a `File` with `File.slice`, and prints the time to the first rows and to the
//!   whole listing (the best of `RUNS`, default 3) as one JSON line per codec.
//!
//! The browser half is `web/e2e/bench.mjs`, which opens the same files in the page.
// A benchmark: it reads the clock, as the page's measurement does.
#![allow(clippy::disallowed_methods)]

use kproto::records::{BatchBuilder, BatchConfig, Compression};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;
use web::error::InspectError;
use web::segment::{ScanOptions, SegmentScan};
use web::ByteSource;

/// The codecs, in the order the benchmark reports them.
const CODECS: [(&str, Compression); 5] = [
    ("none", Compression::None),
    ("gzip", Compression::Gzip),
    ("snappy", Compression::Snappy),
    ("lz4", Compression::Lz4),
    ("zstd", Compression::Zstd),
];

/// The segment's name in each codec's partition directory.
const SEGMENT: &str = "00000000000000000000.log";

/// Records per batch.
const RECORDS_PER_BATCH: usize = 100;

/// A small deterministic generator (xorshift64*), so every run writes the same files.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const ITEMS: [&str; 8] = [
    "espresso beans 1kg",
    "ceramic pour-over dripper",
    "stainless steel kettle, gooseneck",
    "paper filters (100)",
    "burr grinder",
    "milk frothing pitcher",
    "digital scale 0.1 g",
    "travel mug, insulated",
];

/// One order event as JSON (250–400 bytes).
fn order(rng: &mut Rng, offset: i64, ts: i64) -> String {
    let lines = 1 + rng.below(3);
    let mut items = String::new();
    for l in 0..lines {
        if l > 0 {
            items.push(',');
        }
        items.push_str(&format!(
            r#"{{"sku":"SKU-{:06}","name":"{}","qty":{},"price":{}.{:02}}}"#,
            rng.below(1_000_000),
            ITEMS[rng.below(ITEMS.len() as u64) as usize],
            1 + rng.below(5),
            1 + rng.below(300),
            rng.below(100)
        ));
    }
    format!(
        r#"{{"orderId":{offset},"customer":"customer-{:05}","createdAt":{ts},"status":"{}","items":[{items}],"shipping":{{"country":"{}","postcode":"{:05}"}}}}"#,
        rng.below(50_000),
        ["NEW", "PAID", "SHIPPED", "CANCELLED"][rng.below(4) as usize],
        ["DE", "FR", "NL", "US", "JP", "BR"][rng.below(6) as usize],
        rng.below(100_000)
    )
}

/// Writes one segment of about `bytes` bytes with `codec`; returns (batches, records).
fn write_segment(
    path: &Path,
    codec: Compression,
    bytes: u64,
) -> Result<(u64, u64), Box<dyn std::error::Error>> {
    let mut out = std::io::BufWriter::new(File::create(path)?);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut written, mut offset, mut batches) = (0u64, 0i64, 0u64);
    let t0 = 1_767_225_600_000i64; // 2026-01-01T00:00:00Z
    while written < bytes {
        let mut b = BatchBuilder::new(BatchConfig {
            base_offset: offset,
            compression: codec,
            producer_id: 4000 + (batches % 3) as i64,
            producer_epoch: 0,
            base_sequence: (batches / 3 * RECORDS_PER_BATCH as u64) as i32,
            write_limit: 64 << 20,
            ..BatchConfig::default()
        });
        for j in 0..RECORDS_PER_BATCH {
            let o = offset + j as i64;
            let ts = t0 + o * 7;
            let key = format!("customer-{:05}", rng.below(50_000));
            let value = order(&mut rng, o, ts);
            let trace = format!("{:016x}{:016x}", rng.next(), rng.next());
            b.try_append(
                ts,
                Some(key.as_bytes()),
                Some(value.as_bytes()),
                &[("trace-id", Some(trace.as_bytes()))],
            )?;
        }
        let batch = b.finish()?;
        out.write_all(&batch)?;
        written += batch.len() as u64;
        offset += RECORDS_PER_BATCH as i64;
        batches += 1;
    }
    out.flush()?;
    Ok((batches, offset as u64))
}

/// A file read by ranges, as the worker reads a `File` with `File.slice`.
struct FileSource {
    name: String,
    file: File,
    len: u64,
}

impl ByteSource for FileSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn read_range(&mut self, start: u64, end: u64) -> Result<Vec<u8>, InspectError> {
        let fail = |e: std::io::Error| InspectError::Read {
            file: self.name.clone(),
            start,
            end,
            reason: e.to_string(),
        };
        let mut buf = vec![0u8; (end - start) as usize];
        self.file.seek(SeekFrom::Start(start)).map_err(fail)?;
        self.file.read_exact(&mut buf).map_err(fail)?;
        Ok(buf)
    }
}

/// One listing of `path` as the worker does it: (seconds to the first rows, seconds to the
/// whole listing, batches, JSON bytes produced).
fn list(path: &Path) -> Result<(f64, f64, usize, usize), Box<dyn std::error::Error>> {
    let start = Instant::now();
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut src = FileSource {
        name: path.display().to_string(),
        file,
        len,
    };
    let mut scan = SegmentScan::new(src.name.clone(), len, ScanOptions::PAGE);
    let (mut first, mut json_bytes, mut budget) = (None, 0usize, 1u64);
    loop {
        let step = scan.step(&mut src, budget)?;
        budget = 8 << 20;
        let text = serde_json::to_string(&serde_json::json!({
            "batches": &scan.batches[step.batches.clone()],
            "problems": &scan.problems[step.problems.clone()],
            "done": step.done,
            "position": scan.position(),
            "len": len,
        }))?;
        json_bytes += text.len();
        if first.is_none() && !step.batches.is_empty() {
            first = Some(start.elapsed().as_secs_f64());
        }
        if step.done {
            break;
        }
    }
    if !scan.problems.is_empty() {
        return Err(format!(
            "{}: {} problems, the first: {:?}",
            path.display(),
            scan.problems.len(),
            scan.problems[0]
        )
        .into());
    }
    let total = start.elapsed().as_secs_f64();
    Ok((
        first.unwrap_or(total),
        total,
        scan.batches.len(),
        json_bytes,
    ))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: bench write DIR [MB] | bench native DIR [RUNS]";
    let (cmd, dir) = match (args.first(), args.get(1)) {
        (Some(c), Some(d)) => (c.as_str(), PathBuf::from(d)),
        _ => return Err(usage.into()),
    };
    let n: u64 = args
        .get(2)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(match cmd {
            "write" => 100,
            _ => 3,
        });
    match cmd {
        "write" => {
            for (name, codec) in CODECS {
                let d = dir.join(format!("{name}-0"));
                std::fs::create_dir_all(&d)?;
                let (batches, records) = write_segment(&d.join(SEGMENT), codec, n * 1_000_000)?;
                let size = std::fs::metadata(d.join(SEGMENT))?.len();
                println!(
                    r#"{{"codec":"{name}","bytes":{size},"batches":{batches},"records":{records}}}"#
                );
            }
        }
        "native" => {
            for (name, _) in CODECS {
                let path = dir.join(format!("{name}-0")).join(SEGMENT);
                let mut best: Option<(f64, f64, usize, usize)> = None;
                for _ in 0..n.max(1) {
                    let r = list(&path)?;
                    if best.is_none_or(|b| r.1 < b.1) {
                        best = Some(r);
                    }
                }
                let (first, total, batches, json) = best.ok_or("no run")?;
                let size = std::fs::metadata(&path)?.len();
                println!(
                    r#"{{"codec":"{name}","bytes":{size},"batches":{batches},"firstRowsMs":{:.1},"listedMs":{:.1},"jsonBytes":{json}}}"#,
                    first * 1e3,
                    total * 1e3
                );
            }
        }
        _ => return Err(usage.into()),
    }
    Ok(())
}
