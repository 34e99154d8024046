//! A partition directory written by a real Apache Kafka 4.4.0 broker, with transactions, for
//! tests that read Kafka's files (klog's recovery, producer state and transaction index, the
//! `kpp dump` CLI, ...).
//!
//! [`kafka_txn_dir`] starts a broker ([`crate::kafka::Broker`]), creates topic [`TOPIC`]
//! (1 partition, `segment.bytes` = 1 MiB, Kafka's minimum) and runs a produce plan with Kafka's
//! own Java client (`tests/java/kafka/KlogPlanProducer.java`): five idempotent producers (one per
//! codec: none, gzip, snappy, lz4, zstd) and two transactional producers (`txn-a` zstd, `txn-b`
//! snappy) whose transactions interleave with each other and with the idempotent producers, over
//! [`ROUNDS`] rounds of
//!
//! ```text
//! txn-a: begin, send         idem[r % 5]: send         txn-b: begin, send        txn-a: send
//! txn-a: commit or abort     (txn-b is still open, so an abort's last stable offset is txn-b's
//!                            first offset, not the marker's next offset)
//! idem[(r + 2) % 5]: send    txn-b: send               txn-b: commit or abort
//! ```
//!
//! (txn-a aborts when `r % 3 == 1`, txn-b when `r % 2 == 0`), each send a chunk of 1 to 24
//! records flushed (acknowledged) before the next step, each transaction end waited for until its
//! marker is in the log, so offsets, batches and markers follow the plan in order. Records are
//! realistic: values null, tens of bytes, 0.5 to 4 KB and 8 to 20 KB (compressible text with
//! random words), keys sometimes null, timestamps that sometimes go backwards, headers (none, a
//! 16-byte trace id, a null and an empty header, a 1 KiB header). About 1.4 MiB on disk in all.
//! Kafka writes `.txnindex` entries for the aborted transactions and a producer `.snapshot` at
//! every roll and at shutdown. Segments roll on size, and also on time: the records' CreateTimes
//! are from 2023 while the coordinator stamps its markers with the wall clock, so a marker
//! landing in a segment whose first batch is data is more than `segment.ms` (7 days) "later" and
//! rolls the segment (deterministic for any clock past 2023); some segments start with a marker.
//! `retention.ms=-1` keeps those old timestamps from having the first segments deleted.
//!
//! The broker is then stopped cleanly (SIGTERM, `.kafka_cleanshutdown` checked). Just before,
//! while it is still running and idle, the partition directory is copied: that copy is what a
//! crash (`kill -9`) at that moment would leave (no clean-shutdown marker, no snapshot at the log
//! end, the active segment's indexes still preallocated).
//!
//! The result is built once per test process (a [`OnceLock`]) and removed when the process exits
//! (keep it with `KPP_KEEP_TMP=1`). Everything but producer ids, epochs and timestamps Kafka
//! assigns is a function of the plan: the test can compare record by record with
//! [`KafkaDir::records`], and transaction by transaction with [`KafkaDir::transactions`].

// A test harness: it reads the clock (through the broker harness) and the file system.
#![allow(clippy::disallowed_methods)]

use crate::kafka::{run_java, Broker, KafkaInstall, TempDir};
use kproto::records::Compression;
use kproto::testing::Rng;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// The topic the plan produces to (partition 0 only).
pub const TOPIC: &str = "kdir-txn";

/// The topic's `segment.bytes` (Kafka 4.4's minimum).
pub const SEGMENT_BYTES: u64 = 1 << 20;

/// How many rounds of the plan (see the module docs) run.
pub const ROUNDS: usize = 16;

/// CreateTime of the first record.
pub const BASE_TIMESTAMP: i64 = 1_700_000_000_000;

/// The idempotent producers' names, by codec.
const IDEMPOTENT: [&str; 5] = [
    "idem-none",
    "idem-gzip",
    "idem-snappy",
    "idem-lz4",
    "idem-zstd",
];

/// Whether a producer is transactional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProducerKind {
    /// `enable.idempotence=true`, no `transactional.id`.
    Idempotent,
    /// With this `transactional.id`.
    Transactional(&'static str),
}

/// One of the plan's producers.
#[derive(Debug, Clone)]
pub struct ProducerSpec {
    /// Its name in the plan (`client.id` is `klog-plan-<name>`).
    pub name: &'static str,
    /// Its `compression.type`.
    pub codec: Compression,
    /// Idempotent or transactional.
    pub kind: ProducerKind,
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `commitTransaction` (a COMMIT marker).
    Committed,
    /// `abortTransaction` (an ABORT marker and a `.txnindex` entry).
    Aborted,
}

/// One transaction of a transactional producer.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// Index into [`KafkaDir::producers`].
    pub producer: usize,
    /// How it ended.
    pub outcome: Outcome,
    /// The offset of its first record.
    pub first_offset: u64,
    /// The offset of its marker (the last offset of the transaction).
    pub marker_offset: u64,
    /// The last stable offset once it ended, as Kafka computes it for the aborted-transaction
    /// index entry: the first offset of the earliest transaction still open then, else
    /// `marker_offset + 1`.
    pub last_stable_offset: u64,
}

/// A record as the plan sent it, with the offset Kafka acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducedRecord {
    /// Its offset.
    pub offset: u64,
    /// Index into [`KafkaDir::producers`].
    pub producer: usize,
    /// Index into [`KafkaDir::transactions`], for a transactional record.
    pub transaction: Option<usize>,
    /// Its CreateTime.
    pub timestamp: i64,
    /// Its key.
    pub key: Option<Vec<u8>>,
    /// Its value.
    pub value: Option<Vec<u8>>,
    /// Its headers, in order.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

/// The partition a Kafka broker wrote (see the module docs).
#[derive(Debug)]
pub struct KafkaDir {
    /// The broker's `log.dirs` after the clean shutdown (also `__cluster_metadata-0`,
    /// `__transaction_state-0`, checkpoints, `meta.properties`, `.kafka_cleanshutdown`).
    pub root: PathBuf,
    /// `<root>/kdir-txn-0`, after the clean shutdown.
    pub partition: PathBuf,
    /// A copy of the partition directory taken while the broker was running (after the last
    /// write): what an unclean shutdown would leave.
    pub unclean_partition: PathBuf,
    /// The plan's producers.
    pub producers: Vec<ProducerSpec>,
    /// Every data record, by offset.
    pub records: Vec<ProducedRecord>,
    /// Every transaction, in the order they ended (marker offsets increase).
    pub transactions: Vec<Transaction>,
    /// The log end offset (records plus markers); the last stable offset equals it (checked).
    pub log_end_offset: u64,
    /// The broker's log (start-up to shutdown).
    pub broker_log: String,
    _tmp: TempDir,
}

impl KafkaDir {
    /// The aborted transactions, as Kafka's `.txnindex` entries hold them:
    /// `(producer index, first offset, last offset, last stable offset)`, by last offset.
    pub fn aborted(&self) -> Vec<(usize, u64, u64, u64)> {
        self.transactions
            .iter()
            .filter(|t| t.outcome == Outcome::Aborted)
            .map(|t| {
                (
                    t.producer,
                    t.first_offset,
                    t.marker_offset,
                    t.last_stable_offset,
                )
            })
            .collect()
    }

    /// The record at `offset`, if a data record is there (markers are not records here).
    pub fn record_at(&self, offset: u64) -> Option<&ProducedRecord> {
        self.records
            .binary_search_by_key(&offset, |r| r.offset)
            .ok()
            .map(|i| &self.records[i])
    }
}

/// The Kafka-written partition directory, built on first use in this test process (about a
/// minute: broker start, ~3 MiB produced, clean stop). Panics (never skips) when Kafka is not
/// installed or anything in the run fails.
pub fn kafka_txn_dir() -> &'static KafkaDir {
    static DIR: OnceLock<KafkaDir> = OnceLock::new();
    DIR.get_or_init(build)
}

/// One step of the plan.
enum Step {
    Begin(usize),
    Send(usize, usize),
    Flush(usize),
    End(usize, Outcome),
}

/// A record before Kafka gave it an offset.
struct PlannedRecord {
    producer: usize,
    transaction: Option<usize>,
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

/// Words the values are made of: compressible, but not trivially.
const WORDS: [&str; 16] = [
    "kafka",
    "klog",
    "segment",
    "offset",
    "producer",
    "epoch",
    "marker",
    "abort",
    "commit",
    "index",
    "snapshot",
    "batch",
    "record",
    "header",
    "stable",
    "partition",
];

fn text(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(len + 16);
    while v.len() < len {
        if rng.chance(4) {
            let _ = write!(HexSink(&mut v), "{:08x} ", rng.next_u64() as u32);
        } else {
            v.extend_from_slice(WORDS[rng.below(16) as usize].as_bytes());
            v.push(b' ');
        }
    }
    v.truncate(len);
    v
}

/// `fmt::Write` into a byte vector.
struct HexSink<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for HexSink<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

fn planned_record(
    rng: &mut Rng,
    i: usize,
    producer: usize,
    transaction: Option<usize>,
) -> PlannedRecord {
    let n = i as i64;
    let timestamp = BASE_TIMESTAMP + 7 * n - if i % 19 == 11 { 40 } else { 0 };
    let key = (i % 9 != 4).then(|| format!("key-{i}").into_bytes());
    let value = match rng.below(10) {
        0 => None,
        1 | 2 => {
            let len = rng.below(100) as usize;
            Some(text(rng, len))
        }
        3..=8 => {
            let len = 500 + rng.below(3500) as usize;
            Some(text(rng, len))
        }
        _ => {
            let len = 8000 + rng.below(12_000) as usize;
            Some(text(rng, len))
        }
    };
    let trace = |rng: &mut Rng| -> Vec<u8> {
        let mut t = rng.next_u64().to_be_bytes().to_vec();
        t.extend_from_slice(&rng.next_u64().to_be_bytes());
        t
    };
    let headers = match i % 4 {
        0 => Vec::new(),
        1 => vec![("trace".to_string(), Some(trace(rng)))],
        2 => vec![
            ("trace".to_string(), Some(trace(rng))),
            ("h-null".to_string(), None),
            ("h-empty".to_string(), Some(Vec::new())),
        ],
        _ => vec![("big".to_string(), Some(text(rng, 1024)))],
    };
    PlannedRecord {
        producer,
        transaction,
        timestamp,
        key,
        value,
        headers,
    }
}

fn producers() -> Vec<ProducerSpec> {
    let mut v: Vec<ProducerSpec> = Compression::ALL
        .iter()
        .zip(IDEMPOTENT)
        .map(|(&codec, name)| ProducerSpec {
            name,
            codec,
            kind: ProducerKind::Idempotent,
        })
        .collect();
    v.push(ProducerSpec {
        name: "txn-a",
        codec: Compression::Zstd,
        kind: ProducerKind::Transactional("kdir-txn-a"),
    });
    v.push(ProducerSpec {
        name: "txn-b",
        codec: Compression::Snappy,
        kind: ProducerKind::Transactional("kdir-txn-b"),
    });
    v
}

/// One send of 1 to 24 records by producer `p`, flushed.
fn chunk(
    p: usize,
    open: &[Option<usize>; 7],
    steps: &mut Vec<Step>,
    records: &mut Vec<PlannedRecord>,
    rng: &mut Rng,
) {
    let n = 1 + rng.below(24) as usize;
    for _ in 0..n {
        let i = records.len();
        records.push(planned_record(rng, i, p, open[p]));
        steps.push(Step::Send(p, i));
    }
    steps.push(Step::Flush(p));
}

/// The plan: the steps, the records they send, and per transaction its producer and outcome.
fn plan() -> (Vec<Step>, Vec<PlannedRecord>, Vec<(usize, Outcome)>) {
    const A: usize = 5;
    const B: usize = 6;
    let mut rng = Rng::new(0x6b64_6972_7478_6e31);
    let mut steps = Vec::new();
    let mut records = Vec::new();
    let mut txns: Vec<(usize, Outcome)> = Vec::new();
    let mut open: [Option<usize>; 7] = [None; 7];
    for r in 0..ROUNDS {
        let a_outcome = if r % 3 == 1 {
            Outcome::Aborted
        } else {
            Outcome::Committed
        };
        let b_outcome = if r % 2 == 0 {
            Outcome::Aborted
        } else {
            Outcome::Committed
        };
        // transactions are numbered in the order they end: a's before b's
        open[A] = Some(txns.len());
        txns.push((A, a_outcome));
        steps.push(Step::Begin(A));
        chunk(A, &open, &mut steps, &mut records, &mut rng);
        chunk(r % 5, &open, &mut steps, &mut records, &mut rng);
        open[B] = Some(txns.len());
        txns.push((B, b_outcome));
        steps.push(Step::Begin(B));
        chunk(B, &open, &mut steps, &mut records, &mut rng);
        chunk(A, &open, &mut steps, &mut records, &mut rng);
        steps.push(Step::End(A, a_outcome));
        open[A] = None;
        chunk((r + 2) % 5, &open, &mut steps, &mut records, &mut rng);
        chunk(B, &open, &mut steps, &mut records, &mut rng);
        steps.push(Step::End(B, b_outcome));
        open[B] = None;
    }
    (steps, records, txns)
}

fn hex_bytes(out: &mut String, b: Option<&[u8]>) {
    match b {
        None => out.push('-'),
        Some(b) => {
            out.push('x');
            for byte in b {
                let _ = write!(out, "{byte:02x}");
            }
        }
    }
}

/// The plan as `KlogPlanProducer` reads it.
fn plan_text(producers: &[ProducerSpec], steps: &[Step], records: &[PlannedRecord]) -> String {
    let mut s = format!("topic {TOPIC} 1 segment.bytes={SEGMENT_BYTES} retention.ms=-1\n");
    for p in producers {
        match p.kind {
            ProducerKind::Idempotent => {
                let _ = writeln!(s, "producer {} {} idempotent", p.name, p.codec.name());
            }
            ProducerKind::Transactional(id) => {
                let _ = writeln!(
                    s,
                    "producer {} {} transactional {id}",
                    p.name,
                    p.codec.name()
                );
            }
        }
    }
    for step in steps {
        match *step {
            Step::Begin(p) => {
                let _ = writeln!(s, "begin {}", producers[p].name);
            }
            Step::Send(p, i) => {
                let r = &records[i];
                let _ = write!(s, "send {} {TOPIC} 0 {} ", producers[p].name, r.timestamp);
                hex_bytes(&mut s, r.key.as_deref());
                s.push(' ');
                hex_bytes(&mut s, r.value.as_deref());
                for (k, v) in &r.headers {
                    s.push(' ');
                    let mut hk = String::new();
                    hex_bytes(&mut hk, Some(k.as_bytes()));
                    s.push_str(&hk[1..]);
                    s.push(' ');
                    hex_bytes(&mut s, v.as_deref());
                }
                s.push('\n');
            }
            Step::Flush(p) => {
                let _ = writeln!(s, "flush {}", producers[p].name);
            }
            Step::End(p, o) => {
                let verb = match o {
                    Outcome::Committed => "commit",
                    Outcome::Aborted => "abort",
                };
                let _ = writeln!(s, "{verb} {} {TOPIC} 0", producers[p].name);
            }
        }
    }
    let _ = writeln!(s, "lso {TOPIC} 0");
    for p in producers {
        let _ = writeln!(s, "close {}", p.name);
    }
    s
}

/// Copies the regular files of `from` into a new directory `to`.
fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for e in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let e = e.expect("dir entry");
        if e.file_type().expect("file type").is_file() {
            fs::copy(e.path(), to.join(e.file_name()))
                .unwrap_or_else(|err| panic!("copy {}: {err}", e.path().display()));
        }
    }
}

/// Copies the directory tree `from` (files and subdirectories) into a new directory `to`.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for e in fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
        let e = e.expect("dir entry");
        let kind = e.file_type().expect("file type");
        if kind.is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()));
        } else if kind.is_file() {
            fs::copy(e.path(), to.join(e.file_name()))
                .unwrap_or_else(|err| panic!("copy {}: {err}", e.path().display()));
        }
    }
}

/// Removes the fixture's directory when the test process exits (statics are never dropped).
extern "C" fn remove_at_exit() {
    if let Some(p) = AT_EXIT.get() {
        if std::env::var_os("KPP_KEEP_TMP").is_none() {
            let _ = fs::remove_dir_all(p);
        }
    }
}

static AT_EXIT: OnceLock<PathBuf> = OnceLock::new();

fn build() -> KafkaDir {
    let install = KafkaInstall::locate();
    let tmp = TempDir::new("kpp-kafka-dir");
    if AT_EXIT.set(tmp.path().to_path_buf()).is_ok() {
        // SAFETY: registers a plain `extern "C" fn()` with the C runtime; it only reads a
        // static and removes files.
        unsafe {
            libc::atexit(remove_at_exit);
        }
    }
    let producers = producers();
    let (steps, planned, txns) = plan();
    let plan_file = tmp.path().join("plan.txt");
    fs::write(&plan_file, plan_text(&producers, &steps, &planned))
        .unwrap_or_else(|e| panic!("write {}: {e}", plan_file.display()));

    let mut broker = Broker::start(
        &install,
        tmp.path(),
        &[
            "transaction.state.log.num.partitions=1",
            "offsets.topic.num.partitions=1",
        ],
        Duration::from_secs(120),
    );
    let out = run_java(
        &install.client_classpath(),
        tmp.path(),
        "KlogPlanProducer",
        &[&broker.bootstrap(), plan_file.to_str().expect("UTF-8 path")],
        Duration::from_secs(300),
    )
    .expect_success("KlogPlanProducer");

    // what Kafka said
    let mut offsets: BTreeMap<usize, u64> = BTreeMap::new();
    let mut markers: Vec<(String, Outcome, u64)> = Vec::new();
    let mut end = None;
    let mut done = false;
    for line in out.stdout.lines() {
        let w: Vec<&str> = line.split(' ').collect();
        let num = |s: &str| -> u64 {
            s.parse()
                .unwrap_or_else(|e| panic!("KlogPlanProducer line {line:?}: {e}"))
        };
        match w[..] {
            ["created", t] => assert_eq!(t, TOPIC),
            ["offset", i, o] => {
                let i = usize::try_from(num(i)).expect("index");
                assert!(offsets.insert(i, num(o)).is_none(), "send {i} acked twice");
            }
            ["marker", p, kind, o] => {
                let outcome = match kind {
                    "COMMIT" => Outcome::Committed,
                    "ABORT" => Outcome::Aborted,
                    _ => panic!("marker kind in {line:?}"),
                };
                markers.push((p.to_string(), outcome, num(o)));
            }
            ["end", t, "0", leo, lso] => {
                assert_eq!(t, TOPIC);
                assert_eq!(leo, lso, "last stable offset below the log end");
                end = Some(num(leo));
            }
            ["done"] => done = true,
            _ => panic!("unexpected KlogPlanProducer line {line:?}"),
        }
    }
    assert!(done, "KlogPlanProducer did not finish:\n{}", out.stdout);
    let log_end_offset = end.expect("KlogPlanProducer reported no end offset");
    assert_eq!(offsets.len(), planned.len(), "every send acknowledged");
    assert_eq!(markers.len(), txns.len(), "every transaction ended");

    let mut records: Vec<ProducedRecord> = planned
        .into_iter()
        .enumerate()
        .map(|(i, r)| ProducedRecord {
            offset: offsets[&i],
            producer: r.producer,
            transaction: r.transaction,
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r.headers,
        })
        .collect();
    records.sort_by_key(|r| r.offset);
    for w in records.windows(2) {
        assert!(w[0].offset < w[1].offset, "two records at {}", w[0].offset);
    }
    let mut transactions: Vec<Transaction> = txns
        .iter()
        .zip(&markers)
        .enumerate()
        .map(|(t, (&(producer, outcome), (name, got, marker)))| {
            assert_eq!(
                (producers[producer].name, outcome),
                (name.as_str(), *got),
                "transaction {t}"
            );
            let first_offset = records
                .iter()
                .filter(|r| r.transaction == Some(t))
                .map(|r| r.offset)
                .min()
                .expect("every transaction sends");
            Transaction {
                producer,
                outcome,
                first_offset,
                marker_offset: *marker,
                last_stable_offset: 0,
            }
        })
        .collect();
    for t in 0..transactions.len() {
        let end = transactions[t].marker_offset;
        // still open when t ended: began (first record) before t's marker, ended after it
        let earliest_open = transactions
            .iter()
            .filter(|o| o.first_offset < end && o.marker_offset > end)
            .map(|o| o.first_offset)
            .min();
        transactions[t].last_stable_offset = earliest_open.unwrap_or(end + 1);
    }
    let mut all: Vec<u64> = records.iter().map(|r| r.offset).collect();
    all.extend(transactions.iter().map(|t| t.marker_offset));
    all.sort_unstable();
    assert_eq!(
        all,
        (0..log_end_offset).collect::<Vec<u64>>(),
        "records and markers fill the log without gaps"
    );

    let partition = broker.log_dir.join(format!("{TOPIC}-0"));
    let unclean_partition = tmp.path().join("unclean").join(format!("{TOPIC}-0"));
    copy_dir(&partition, &unclean_partition);

    let stop = broker.stop(Duration::from_secs(90));
    assert!(
        stop.clean_shutdown,
        "the broker did not shut down cleanly ({}); log:\n{}",
        stop.status,
        broker.log_text()
    );
    let broker_log = broker.log_text();
    let errors: Vec<&str> = broker_log
        .lines()
        .filter(|l| l.contains(" ERROR "))
        .collect();
    assert!(
        errors.is_empty(),
        "the broker logged errors:\n{}",
        errors.join("\n")
    );
    KafkaDir {
        root: broker.log_dir.clone(),
        partition,
        unclean_partition,
        producers,
        records,
        transactions,
        log_end_offset,
        broker_log,
        _tmp: tmp,
    }
}
