//! klog's append path beside plain sequential writes of the same bytes to a file, in the same
//! run: the goal is klog append throughput ≥ 0.9 × plain `write_all`.
//!
//! Input: 1 MiB chunks of uncompressed v2 record batches as a producer sends them
//! (`batch.size` 16 KiB, no idempotence: producer id -1), of 100-byte and of 1 KiB records
//! (8-byte key, JSON-like value), built once with kproto's `BatchBuilder`.
//!
//! - `klog`: `Log::append(&mut chunk, now_ms)` on a `Log<FsStorage>` with Kafka's default
//!   `LogConfig` (segment.bytes 1 GiB, index.interval.bytes 4096, segment.index.bytes 10 MiB):
//!   it validates every batch (header, CRC-32C, records' offset deltas and timestamps),
//!   assigns offsets in place, writes the chunk to the `.log` and adds `.index` and
//!   `.timeindex` entries.
//! - `write_all`: `std::fs::File::write_all(&chunk)` to a file opened in append mode.
//! - `crc32c+write_all`: each batch's CRC-32C checked, then `write_all`: the floor of any
//!   append that validates what it stores.
//!
//! All write into the same directory under `std::env::temp_dir()` (`TMPDIR`), so on the same
//! file system; none syncs (no fsync: klog's default `flush.messages`/`flush.ms` never flush,
//! and a page-cache write is what the append path costs). Untimed on every side, before every
//! append: a fresh copy of the chunk with its timestamps moved forward (so offsets, the time
//! index and `now_ms` advance as in a live partition; the CRCs are refilled), and, every
//! 256 MiB, a reset that deletes the files and starts empty ones (klog: the log is dropped,
//! its directory removed, and a new `Log` opened), so the page cache and the disk stay bounded
//! and klog never rolls a segment. Only the append call itself is timed.
//!
//! Throughput is bytes of batches per second. Criterion measures the sides one after the
//! other; the ratios printed at the end come from a separate interleaved run (the same number of
//! 1 MiB appends on each side, in rounds of a block of 64 per side, the order rotating; medians
//! over the rounds, with the slowest..fastest round), with criterion's means under them.
//! `cargo bench -p kbench --bench klog_append`.

use criterion::{BenchmarkId, Criterion, Throughput};
use klog::{FsStorage, Log, LogConfig};
use kproto::records::{field, BatchBuilder, BatchConfig, BatchView, Batches, BuildError};
use kproto::rng::Rng;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::ops::Range;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Bytes of batches per append (at most; whole batches).
const CHUNK: usize = 1 << 20;
/// The producer's `batch.size`.
const BATCH: usize = 16 << 10;
/// Files are deleted and started afresh once this much has been written to them.
const RESET: u64 = 256 << 20;
/// The interleaved run: rounds of `BLOCK` appends on each side.
const ROUNDS: u64 = 32;
const BLOCK: u64 = 64;
/// Timestamp of the first record.
const T0: i64 = 1_700_000_000_000;
const SIZES: [usize; 2] = [100, 1024];

/// The record of index `i`: an 8-byte key and a JSON-like value, `size` bytes in all.
fn record(i: u64, size: usize) -> ([u8; 8], Vec<u8>) {
    let words = [
        "user", "order", "id", "amount", "currency", "EUR", "status", "shipped", "ts", "region",
        "eu-west",
    ];
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1d ^ i);
    let mut v = Vec::with_capacity(size);
    while v.len() < size - 8 {
        let x = rng.next_u64();
        v.extend_from_slice(words[(x % words.len() as u64) as usize].as_bytes());
        v.extend_from_slice(format!("\":{},\"", x % 10_000).as_bytes());
    }
    v.truncate(size - 8);
    (i.to_be_bytes(), v)
}

/// A chunk of whole batches of at most `CHUNK` bytes, records 1 ms apart from `T0`; and the
/// number of records (the chunk spans that many milliseconds).
fn chunk(size: usize) -> (Vec<u8>, i64) {
    let mut out = Vec::with_capacity(CHUNK);
    let mut i = 0u64;
    loop {
        let mut b = BatchBuilder::new(BatchConfig {
            write_limit: BATCH,
            ..BatchConfig::default()
        });
        let first = i;
        loop {
            let (k, v) = record(i, size);
            match b.try_append(T0 + i as i64, Some(&k), Some(&v), &[]) {
                Ok(_) => i += 1,
                Err(BuildError::Full { .. }) => break,
                Err(e) => panic!("{e}"),
            }
        }
        let batch = b.finish().unwrap();
        if out.len() + batch.len() > CHUNK {
            return (out, first as i64);
        }
        out.extend_from_slice(&batch);
    }
}

/// Hands out copies of the chunk, each one's timestamps later than the previous one's.
struct Feed {
    pristine: Vec<u8>,
    batches: Vec<Range<usize>>,
    span_ms: i64,
    n: i64,
    buf: Vec<u8>,
}

impl Feed {
    fn new(size: usize) -> Self {
        let (pristine, span_ms) = chunk(size);
        let batches = Batches::new(&pristine)
            .map(|b| {
                let b = b.unwrap();
                b.position()..b.position() + b.size()
            })
            .collect();
        Feed {
            buf: pristine.clone(),
            pristine,
            batches,
            span_ms,
            n: 0,
        }
    }

    /// Fills `buf` with the next chunk and returns its append time (its last timestamp).
    fn next(&mut self) -> i64 {
        self.n += 1;
        let shift = self.n * self.span_ms;
        self.buf.copy_from_slice(&self.pristine);
        for r in &self.batches {
            let b = &mut self.buf[r.clone()];
            let base = i64::from_be_bytes(b[field::BASE_TIMESTAMP].try_into().unwrap());
            b[field::BASE_TIMESTAMP].copy_from_slice(&(base + shift).to_be_bytes());
            let mut view = BatchView::new_checked(b).unwrap();
            view.set_max_timestamp(view.max_timestamp() + shift);
            view.fill_crc();
        }
        T0 + shift + self.span_ms - 1
    }
}

/// Where the appends go.
trait Sink {
    fn append(&mut self, chunk: &mut [u8], now_ms: i64);
    fn written(&self) -> u64;
    fn reset(&mut self);
}

struct KlogSink {
    root: PathBuf,
    log: Option<Log<FsStorage>>,
    written: u64,
}

impl KlogSink {
    fn new(root: PathBuf) -> Self {
        let mut s = KlogSink {
            root,
            log: None,
            written: 0,
        };
        s.reset();
        s
    }
}

impl Sink for KlogSink {
    fn append(&mut self, chunk: &mut [u8], now_ms: i64) {
        let log = self.log.as_mut().unwrap();
        log.append(chunk, now_ms).unwrap();
        self.written += chunk.len() as u64;
    }

    fn written(&self) -> u64 {
        self.written
    }

    fn reset(&mut self) {
        // Dropped without close: no flush, as an append path that never syncs.
        if let Some(log) = self.log.take() {
            assert_eq!(log.segment_count(), 1, "no roll between resets");
        }
        let _ = std::fs::remove_dir_all(&self.root);
        let st = FsStorage::new(&self.root).unwrap();
        let (log, _) = Log::open(st, "bench", 0, LogConfig::default(), T0).unwrap();
        self.log = Some(log);
        self.written = 0;
    }
}

struct PlainSink {
    path: PathBuf,
    file: Option<File>,
    written: u64,
    /// Check every batch's CRC before writing (the floor of any validating append).
    crc: bool,
}

impl PlainSink {
    fn new(path: PathBuf, crc: bool) -> Self {
        let mut s = PlainSink {
            path,
            file: None,
            written: 0,
            crc,
        };
        s.reset();
        s
    }
}

impl Sink for PlainSink {
    fn append(&mut self, chunk: &mut [u8], _now_ms: i64) {
        if self.crc {
            for b in Batches::new(chunk) {
                b.unwrap().validate_crc().unwrap();
            }
        }
        self.file.as_mut().unwrap().write_all(chunk).unwrap();
        self.written += chunk.len() as u64;
    }

    fn written(&self) -> u64 {
        self.written
    }

    fn reset(&mut self) {
        self.file = None;
        let _ = std::fs::remove_file(&self.path);
        let f = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&self.path)
            .unwrap();
        self.file = Some(f);
        self.written = 0;
    }
}

/// `iters` appends of fresh chunks from `feed`; only the append calls are timed.
#[allow(
    clippy::disallowed_methods,
    reason = "a benchmark is an adapter: it reads the clock"
)]
fn run(sink: &mut impl Sink, feed: &mut Feed, iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        if sink.written() + feed.buf.len() as u64 > RESET {
            sink.reset();
        }
        let now_ms = feed.next();
        let t = Instant::now();
        sink.append(&mut feed.buf, now_ms);
        total += t.elapsed();
    }
    total
}

/// The sides, by criterion function name (and index in the interleaved run).
const SIDES: [&str; 3] = ["klog", "write_all", "crc32c+write_all"];

/// Per record size: the chunk's bytes and each round's seconds per side in the interleaved run.
type Interleaved = Vec<(usize, usize, Vec<[f64; 3]>)>;

fn bench(c: &mut Criterion, quick: bool, interleaved: &mut Interleaved) {
    let dir = std::env::temp_dir().join(format!("kbench-klog-append-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for size in SIZES {
        let mut feeds = [Feed::new(size), Feed::new(size), Feed::new(size)];
        let bytes = feeds[0].buf.len();
        let mut klog = KlogSink::new(dir.join("klog"));
        let mut plain = PlainSink::new(dir.join("plain.log"), false);
        let mut bound = PlainSink::new(dir.join("bound.log"), true);
        // One side's `iters` appends, by index into SIDES.
        let mut side = |i: usize, iters: u64| match i {
            0 => run(&mut klog, &mut feeds[0], iters),
            1 => run(&mut plain, &mut feeds[1], iters),
            _ => run(&mut bound, &mut feeds[2], iters),
        };

        let mut g = c.benchmark_group(format!("klog_append/{size}B"));
        g.throughput(Throughput::Bytes(bytes as u64));
        g.measurement_time(Duration::from_secs(4))
            .warm_up_time(Duration::from_secs(1))
            .sample_size(20);
        for (i, name) in SIDES.iter().enumerate() {
            g.bench_function(BenchmarkId::new("append", name), |b| {
                b.iter_custom(|iters| side(i, iters))
            });
        }
        g.finish();
        if quick {
            continue;
        }

        // Interleaved: every round runs each side BLOCK times, the order rotating.
        let mut rounds = Vec::new();
        for round in 0..ROUNDS as usize {
            let mut t = [0.0; 3];
            for k in 0..3 {
                let i = (round + k) % 3;
                t[i] = side(i, BLOCK).as_secs_f64();
            }
            rounds.push(t);
        }
        interleaved.push((size, bytes, rounds));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

fn main() {
    // `--test` (run each benchmark once), `--list` and `--profile-time` skip the interleaved run.
    let quick =
        std::env::args().any(|a| a == "--test" || a == "--list" || a.starts_with("--profile-time"));
    let mut interleaved = Vec::new();
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c, quick, &mut interleaved);
    c.final_summary();
    report(&interleaved);
}

/// Prints each side's throughput and klog's as a ratio of plain writes (and of the
/// CRC-then-write floor): from the interleaved run, and from the means criterion just wrote.
fn report(interleaved: &Interleaved) {
    let mean = kbench::criterion_mean;
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[(v.len() - 1) / 2] + v[v.len() / 2]) / 2.0
    };
    println!("\nklog append vs plain write_all of the same bytes (MB/s = 10^6 bytes/s):");
    for &(size, bytes, ref rounds) in interleaved {
        // Medians over the rounds, so that a stall of the machine in one round (writeback,
        // another process) does not decide the figure.
        let mbs = |t: f64| (BLOCK as f64 * bytes as f64) / t / 1e6;
        let times = |i: usize| rounds.iter().map(|r| r[i]).collect::<Vec<f64>>();
        let ratio = |i: usize| median(rounds.iter().map(|r| r[1] / r[i]).collect());
        println!(
            "{size}B records, interleaved: {ROUNDS} rounds of {BLOCK} appends of {bytes} B per side (medians over the rounds):"
        );
        for (i, name) in SIDES.iter().enumerate() {
            let t = times(i);
            let (fast, slow) = t
                .iter()
                .fold((f64::MAX, 0.0f64), |(a, b), &x| (a.min(x), b.max(x)));
            println!(
                "  {name:>16}: {:6.0} MB/s (rounds {:.0}..{:.0})",
                mbs(median(t)),
                mbs(slow),
                mbs(fast)
            );
        }
        println!(
            "  klog append / plain write = {:.2} (crc32c+write_all / plain write = {:.2})",
            ratio(0),
            ratio(2)
        );
        let g = format!("klog_append/{size}B");
        let m: Vec<Option<f64>> = SIDES.iter().map(|p| mean(&g, "append", p)).collect();
        if let [Some(k), Some(p), Some(b)] = m[..] {
            println!(
                "  criterion means: klog {:.0} MB/s, write_all {:.0} MB/s, crc32c+write_all {:.0} MB/s; \
                 klog append / plain write = {:.2}",
                bytes as f64 / k * 1e3,
                bytes as f64 / p * 1e3,
                bytes as f64 / b * 1e3,
                p / k
            );
        }
    }
}
