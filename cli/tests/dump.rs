//! `kpp dump` prints what Kafka 4.4.0's own `DumpLogSegments` (`kafka-dump-log.sh`, run from the
//! jars) prints, line for line, on the partition a real broker wrote with committed and aborted
//! transactions (`integration_tests::kafka_dirs`): every `.log` (batches, records, COMMIT and
//! ABORT markers, keys and payloads, null values), `.index`, `.timeindex`, `.txnindex` and producer
//! `.snapshot` file, with each option set that changes the output, on the cleanly
//! stopped directory and on the unclean copy (preallocated, zero-filled active indexes).
//!
//! stdout is compared exactly. stderr (the checks Kafka reports after all files) is compared
//! report by report, sorted: Kafka keeps its reports in a `HashMap` keyed by absolute path, so
//! their order is the hash order of the paths; klog prints them in the order the files were
//! given. That is the only normalisation.
//!
//! Needs `.ci/install` (Kafka's jars in `$KPP_CACHE/kafka-4.4.0`); fails, never skips, without it.

use integration_tests::dump_log::dump_log_segments;
use integration_tests::kafka::{KafkaInstall, TempDir};
use integration_tests::kafka_dirs::kafka_txn_dir;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The files of `dir` with one of `suffixes`, sorted by name.
fn files_of(dir: &Path, suffixes: &[&str]) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| suffixes.contains(&e))
        })
        .collect();
    v.sort();
    v
}

/// stderr cut into reports (a header line and the lines under it), sorted.
fn reports(stderr: &str) -> Vec<Vec<String>> {
    const HEADERS: [&str; 5] = [
        "Mismatches in :",
        "Found timestamp mismatch in :",
        "Found out of order timestamp in :",
        "The following indexed offsets are not found in :",
        "Non-consecutive offsets in ",
    ];
    let mut out: Vec<Vec<String>> = Vec::new();
    for line in stderr.lines() {
        if HEADERS.iter().any(|h| line.starts_with(h)) || out.is_empty() {
            out.push(Vec::new());
        }
        out.last_mut().expect("a report").push(line.to_string());
    }
    out.sort();
    out
}

struct Dumped {
    status_ok: bool,
    stdout: String,
    stderr: String,
}

fn klog_dump(args: &[&str]) -> Dumped {
    let out = Command::new(env!("CARGO_BIN_EXE_kpp"))
        .arg("dump")
        .args(args)
        .output()
        .expect("run kpp dump");
    Dumped {
        status_ok: out.status.success(),
        stdout: String::from_utf8(out.stdout).expect("kpp dump prints UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("kpp dump prints UTF-8"),
    }
}

/// Runs both dumps of `files` with `options` and compares them; returns the number of lines.
fn compare(install: &KafkaInstall, work: &Path, files: &[PathBuf], options: &[&str]) -> usize {
    let list = files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut args = vec!["--files", list.as_str()];
    args.extend_from_slice(options);
    let kafka = dump_log_segments(install, work, &args, Duration::from_secs(180))
        .expect_success("DumpLogSegments");
    let klog = klog_dump(&args);
    assert!(
        klog.status_ok,
        "kpp dump {options:?} failed:\n{}",
        klog.stderr
    );
    let (k, o): (Vec<&str>, Vec<&str>) = (
        kafka.stdout.lines().collect(),
        klog.stdout.lines().collect(),
    );
    for (i, (a, b)) in k.iter().zip(&o).enumerate() {
        assert_eq!(
            b,
            a,
            "{options:?}: line {} differs (klog, then Kafka; the last `Dumping` before it: {:?})",
            i + 1,
            k[..i].iter().rev().find(|l| l.starts_with("Dumping "))
        );
    }
    assert_eq!(
        o.len(),
        k.len(),
        "{options:?}: klog printed {} lines, Kafka {}",
        o.len(),
        k.len()
    );
    assert_eq!(kafka.stdout, klog.stdout, "{options:?}: line ends");
    assert_eq!(
        reports(&klog.stderr),
        reports(&kafka.stderr),
        "{options:?}: stderr (klog, then Kafka)"
    );
    k.len()
}

#[test]
fn klog_dump_prints_what_kafka_prints_for_segments_and_indexes() {
    let install = KafkaInstall::locate();
    let dir = kafka_txn_dir();
    let work = TempDir::new("klog-dump");
    let files = files_of(&dir.partition, &["log", "index", "timeindex", "txnindex"]);
    assert!(
        files
            .iter()
            .any(|f| f.extension().is_some_and(|e| e == "txnindex")),
        "no .txnindex in {}",
        dir.partition.display()
    );
    let mut summary = Vec::new();
    for options in [
        &[][..],
        &["--deep-iteration"],
        &["--print-data-log"],
        &["--print-data-log", "--skip-record-metadata"],
        &["--deep-iteration", "--verify-index-only"],
    ] {
        let lines = compare(&install, work.path(), &files, options);
        summary.push(format!("{options:?}: {lines} lines"));
    }
    // what the dumps must contain for the comparison to mean something
    let data = klog_dump(&[
        "--print-data-log",
        "--files",
        &files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(","),
    ]);
    for needle in [
        "endTxnMarker: COMMIT coordinatorEpoch: 0",
        "endTxnMarker: ABORT coordinatorEpoch: 0",
        "valueSize: -1 sequence:",
        "compresscodec: zstd",
        "compresscodec: gzip",
        " payload: ",
        "version: 0 producerId: ",
    ] {
        assert!(data.stdout.contains(needle), "no `{needle}` in the dump");
    }
    let aborted = data.stdout.matches("version: 0 producerId: ").count();
    assert_eq!(aborted, dir.aborted().len(), ".txnindex lines");

    // the unclean copy: the active segment's indexes are preallocated and zero-filled
    let unclean = files_of(
        &dir.unclean_partition,
        &["log", "index", "timeindex", "txnindex"],
    );
    let lines = compare(&install, work.path(), &unclean, &["--deep-iteration"]);
    summary.push(format!("unclean --deep-iteration: {lines} lines"));
    println!(
        "kpp dump = DumpLogSegments on {} files of {}: {}",
        files.len(),
        dir.partition.display(),
        summary.join(", ")
    );
}
#[test]
fn klog_dump_prints_what_kafka_prints_for_producer_snapshots() {
    let install = KafkaInstall::locate();
    let dir = kafka_txn_dir();
    let work = TempDir::new("klog-dump-snap");
    let files = files_of(&dir.partition, &["snapshot"]);
    assert!(files.len() >= 2, "{} snapshots", files.len());
    let lines = compare(&install, work.path(), &files, &[]);
    let kafka_lines = lines - files.len();
    assert!(
        kafka_lines >= files.len() * dir.producers.len() / 2,
        "few snapshot entries: {kafka_lines}"
    );
    println!(
        "kpp dump = DumpLogSegments on {} snapshots: {lines} lines",
        files.len()
    );
}

/// Kafka prints a snapshot's entries in the order of the file (a broker writes them in its hash
/// map's order, which for real producer ids is not ascending); klog's producer state is ordered
/// by producer id, so the dump must take the file's order.
#[test]
fn klog_dump_prints_snapshot_entries_in_file_order() {
    let install = KafkaInstall::locate();
    let dir = kafka_txn_dir();
    let work = TempDir::new("klog-dump-order");
    let files = files_of(&dir.partition, &["snapshot"]);
    let last = files.last().expect("a snapshot");
    let data = fs::read(last).expect("read snapshot");
    let (head, body) = data.split_at(10);
    assert!(body.len() >= 3 * 46, "few entries in {}", last.display());
    // the entries reversed, the CRC (CRC-32C over everything after it) recomputed
    let mut reordered = head.to_vec();
    for e in body.chunks_exact(46).rev() {
        reordered.extend_from_slice(e);
    }
    let crc = kproto::records::crc::crc32c(&reordered[6..]);
    reordered[2..6].copy_from_slice(&crc.to_be_bytes());
    let name = last.file_name().expect("name");
    let path = work.path().join(name);
    fs::write(&path, &reordered).expect("write snapshot");
    let lines = compare(&install, work.path(), &[path], &[]);
    assert_eq!(lines, 1 + body.len() / 46);
}

/// Files no broker would write: `kpp dump` says what is wrong, exits with 1, never panics.
#[test]
fn klog_dump_reports_bad_files_without_panicking() {
    let work = TempDir::new("klog-dump-bad");
    let dir = work.path();
    let w = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        fs::write(&p, bytes).expect("write");
        p.display().to_string()
    };
    // a .txnindex with one whole entry and 10 bytes of a second
    let mut txn = vec![0u8; 34 + 10];
    txn[9] = 7; // producer id 7
    let txn = w("00000000000000000000.txnindex", &txn);
    // a snapshot whose CRC does not match, one claiming 2^31-1 entries, one too short
    let mut snap = vec![0u8, 1, 0, 0, 0, 0, 0, 0, 0, 1];
    snap.extend_from_slice(&[0x11; 46]);
    let bad_crc = w("00000000000000000005.snapshot", &snap);
    let mut huge = vec![0u8, 1];
    huge.extend_from_slice(&kproto::records::crc::crc32c(&[0x7f, 0xff, 0xff, 0xff]).to_be_bytes());
    huge.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff]);
    let huge = w("00000000000000000006.snapshot", &huge);
    let short = w("00000000000000000007.snapshot", &[0, 1, 2]);
    // an index entry pointing far past its log, a time index without its log, garbage as a log
    let mut idx = Vec::new();
    idx.extend_from_slice(&5u32.to_be_bytes());
    idx.extend_from_slice(&0x7fff_fff0u32.to_be_bytes());
    let idx = w("00000000000000000100.index", &idx);
    w("00000000000000000100.log", &[0xff; 100]);
    let tidx = w("00000000000000000200.timeindex", &[1; 24]);
    let log = w("00000000000000000300.log", &[0xff; 100]);
    let unknown = w("00000000000000000300.weird", b"x");
    let kraft = w("00000000000000000000-0000000001.checkpoint", b"x");
    for (file, says) in [
        (&txn, "partial entry"),
        (&bad_crc, "crc"),
        (&huge, ""),
        (&short, ""),
        (&idx, "no batch starts"),
        (&tidx, "cannot read"),
        (&log, "invalid batch"),
        (&unknown, "Ignoring unknown file"),
        (&kraft, "does not read KRaft snapshots"),
    ] {
        let d = klog_dump(&["--deep-iteration", file]);
        assert!(!d.stderr.contains("panicked"), "{file}: {}", d.stderr);
        assert!(d.stderr.contains(says), "{file}: stderr {:?}", d.stderr);
        assert!(
            d.stdout.starts_with(&format!("Dumping {file}\n")),
            "{file}: {}",
            d.stdout
        );
        let unknown_file = file == &unknown;
        assert_eq!(
            d.status_ok, unknown_file,
            "{file}: exit status; {}",
            d.stderr
        );
    }
    // the whole entry before the partial one is printed, as Kafka does
    let d = klog_dump(&[&txn]);
    assert!(
        d.stdout
            .contains("version: 0 producerId: 7 firstOffset: 0 lastOffset: 0 lastStableOffset: 0"),
        "{}",
        d.stdout
    );
}
