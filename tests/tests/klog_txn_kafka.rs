//! klog's producer state, transaction index and transactional reads against a partition a
//! real Apache Kafka 4.4.0 broker wrote with committed and aborted transactions
//! ([`kafka_txn_dir`]: two transactional producers whose transactions interleave, five
//! idempotent producers of every codec, several segments, a clean shutdown and a copy taken
//! before it).
//!
//! 1. klog opens Kafka's log directory and closes it: every file is byte for byte what Kafka
//!    left (no snapshot, index, transaction index or checkpoint rewritten).
//! 2. With Kafka's snapshots, transaction indexes and recovery point removed, klog re-validates
//!    every segment and rebuilds the producer state by replaying the log: it equals what
//!    Kafka's snapshot at the log end holds, field by field, and every rebuilt `.txnindex` is
//!    Kafka's, byte for byte.
//! 3. The same from the copy taken while the broker ran (no snapshot at the log end, indexes
//!    still preallocated: an unclean shutdown).
//! 4. klog's aborted-transaction reads (`collectAbortedTransactions`) and last stable offset
//!    agree with the plan Kafka acknowledged (and with Kafka's `.txnindex`).
//! 5. Recovery from the recovery point at a segment's base, starting from Kafka's snapshot at
//!    that base, writes the segment's lost `.txnindex` again, byte for byte.
//! 6. At every offset where Kafka took a snapshot (each roll and the log end), the producer
//!    state klog rebuilds by replay up to that offset (a rebuilt copy truncated there) equals
//!    Kafka's snapshot, field by field: transactions still open there included.

use integration_tests::kafka::TempDir;
use integration_tests::kafka_dirs::{kafka_txn_dir, KafkaDir, ProducerKind, TOPIC};
use integration_tests::segments::{snapshot_entries_from, snapshots_in, SnapshotEntry};
use klog::producer_state::ProducerEntry;
use klog::{FsStorage, Log, LogConfig};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Every regular file under `dir` (recursively), by path relative to it.
fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let e = e.expect("dir entry");
            let path = e.path();
            if e.file_type().expect("file type").is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).expect("under base").to_path_buf();
                out.insert(rel, fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A new log directory holding a copy of `partition` (as `<TOPIC>-0`) and, when given,
/// Kafka's recovery point checkpoint.
fn log_dir_with(partition: &Path, checkpoint: Option<&Path>) -> TempDir {
    let tmp = TempDir::new("kpp-klog-txn");
    let dst = tmp.path().join(format!("{TOPIC}-0"));
    fs::create_dir_all(&dst).unwrap();
    for (rel, bytes) in files_under(partition) {
        fs::write(dst.join(rel), bytes).unwrap();
    }
    if let Some(c) = checkpoint {
        fs::copy(c, tmp.path().join("recovery-point-offset-checkpoint")).unwrap();
    }
    tmp
}

fn cfg() -> LogConfig {
    // the topic's segment.bytes; nothing is appended, so nothing rolls
    LogConfig {
        segment_bytes: 1 << 20,
        retention_ms: -1,
        ..LogConfig::default()
    }
}

/// The producer state Kafka's snapshot at the log end holds.
fn kafka_state(dir: &KafkaDir) -> BTreeMap<i64, SnapshotEntry> {
    let (off, path) = snapshots_in(&dir.partition)
        .into_iter()
        .last()
        .expect("Kafka's snapshots");
    assert_eq!(
        off, dir.log_end_offset,
        "Kafka's last snapshot is at the log end"
    );
    let data = fs::read(&path).unwrap();
    snapshot_entries_from(&path, &data)
        .into_iter()
        .map(|e| (e.producer_id, e))
        .collect()
}

/// A klog producer entry as a snapshot entry would hold it.
fn as_snapshot_entry(pid: i64, e: &ProducerEntry) -> SnapshotEntry {
    SnapshotEntry {
        producer_id: pid,
        epoch: e.epoch,
        last_sequence: e.last_seq(),
        last_offset: e.last_data_offset(),
        offset_delta: e.last_offset_delta(),
        timestamp: e.last_timestamp(),
        coordinator_epoch: e.coordinator_epoch,
        current_txn_first_offset: e.current_txn_first_offset.map_or(-1, |o| o as i64),
    }
}

fn klog_state(log: &Log<FsStorage>) -> BTreeMap<i64, SnapshotEntry> {
    log.producer_state()
        .producers()
        .iter()
        .map(|(pid, e)| (*pid, as_snapshot_entry(*pid, e)))
        .collect()
}

/// A time at which no producer of the snapshot has expired (the oldest last timestamp: the
/// data's CreateTimes are from 2023, the markers' from the wall clock; a snapshot load expires
/// producers idle for `producer.id.expiration.ms`, as Kafka's does).
fn now_ms(state: &BTreeMap<i64, SnapshotEntry>) -> i64 {
    state
        .values()
        .map(|e| e.timestamp)
        .min()
        .expect("producers")
}

/// The `.txnindex` files of a partition directory, by name.
fn txn_indexes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .filter_map(|(rel, bytes)| {
            let name = rel.to_str()?.to_string();
            name.ends_with(".txnindex").then_some((name, bytes))
        })
        .collect()
}

#[test]
fn opening_and_closing_kafkas_directory_changes_no_byte() {
    let dir = kafka_txn_dir();
    let kafka = kafka_state(dir);
    let checkpoint = dir.root.join("recovery-point-offset-checkpoint");
    let tmp = log_dir_with(&dir.partition, Some(&checkpoint));
    let before = files_under(tmp.path());
    assert!(
        before
            .keys()
            .filter(|p| p.to_string_lossy().ends_with(".txnindex"))
            .count()
            >= 1
            && before
                .keys()
                .filter(|p| p.to_string_lossy().ends_with(".log"))
                .count()
                >= 2,
        "Kafka's files: {:?}",
        before.keys().collect::<Vec<_>>()
    );
    let (log, report) = Log::open(
        FsStorage::new(tmp.path()).unwrap(),
        TOPIC,
        0,
        cfg(),
        now_ms(&kafka),
    )
    .unwrap();
    assert_eq!(log.log_end_offset(), dir.log_end_offset);
    assert_eq!(
        report.snapshot_offset,
        Some(dir.log_end_offset),
        "{report:?}"
    );
    assert!(report.corrupt_snapshots.is_empty(), "{report:?}");
    assert!(report.invalid_offsets.is_empty(), "{report:?}");
    assert_eq!(report.truncated_bytes, 0, "{report:?}");
    // every field of Kafka's snapshot, the transactional producers' last timestamps and
    // coordinator epochs included
    assert_eq!(klog_state(&log), kafka);
    log.close(now_ms(&kafka)).unwrap();
    let after = files_under(tmp.path());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "the files"
    );
    for (rel, bytes) in &before {
        assert!(
            after[rel] == *bytes,
            "{} changed ({} bytes, was {})",
            rel.display(),
            after[rel].len(),
            bytes.len()
        );
    }
}

/// Opens a copy of `partition` without snapshots, transaction indexes and recovery point:
/// every segment is re-validated and the producer state replayed from the log start.
fn rebuilt(partition: &Path, now: i64) -> (TempDir, Log<FsStorage>) {
    let tmp = log_dir_with(partition, None);
    let part = tmp.path().join(format!("{TOPIC}-0"));
    for (rel, _) in files_under(&part) {
        let name = rel.to_string_lossy().to_string();
        if name.ends_with(".snapshot") || name.ends_with(".txnindex") {
            fs::remove_file(part.join(rel)).unwrap();
        }
    }
    let (log, report) =
        Log::open(FsStorage::new(tmp.path()).unwrap(), TOPIC, 0, cfg(), now).unwrap();
    assert_eq!(report.snapshot_offset, None, "{report:?}");
    assert_eq!(
        report.recovered_segments.len(),
        log.segment_count(),
        "every segment re-validated: {report:?}"
    );
    assert_eq!(report.truncated_bytes, 0, "{report:?}");
    assert!(report.invalid_offsets.is_empty(), "{report:?}");
    (tmp, log)
}

#[test]
fn replay_rebuilds_kafkas_producer_state_and_transaction_indexes() {
    let dir = kafka_txn_dir();
    let kafka = kafka_state(dir);
    let kafka_txn = txn_indexes(&dir.partition);
    assert!(!kafka_txn.is_empty());
    for (what, partition) in [
        ("after the clean shutdown", &dir.partition),
        ("as an unclean shutdown leaves it", &dir.unclean_partition),
    ] {
        let (tmp, log) = rebuilt(partition, now_ms(&kafka));
        assert_eq!(log.log_end_offset(), dir.log_end_offset, "{what}");
        let got = klog_state(&log);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            kafka.keys().collect::<Vec<_>>(),
            "{what}: producers"
        );
        for (pid, want) in &kafka {
            assert_eq!(got[pid], *want, "{what}: producer {pid}");
        }
        let part = tmp.path().join(format!("{TOPIC}-0"));
        let rebuilt_txn = txn_indexes(&part);
        assert_eq!(
            rebuilt_txn.keys().collect::<Vec<_>>(),
            kafka_txn.keys().collect::<Vec<_>>(),
            "{what}: the .txnindex files"
        );
        for (name, bytes) in &kafka_txn {
            assert!(
                rebuilt_txn[name] == *bytes,
                "{what}: {name} differs from Kafka's"
            );
        }
        drop(log);
    }
    // the transactional producers ended with markers: their coordinator epochs are known and
    // no transaction is open; each had transactions aborted
    let txn_pids: Vec<i64> = kafka
        .values()
        .filter(|e| e.coordinator_epoch >= 0)
        .map(|e| e.producer_id)
        .collect();
    let n_txn = dir
        .producers
        .iter()
        .filter(|p| matches!(p.kind, ProducerKind::Transactional(_)))
        .count();
    assert_eq!(txn_pids.len(), n_txn, "{kafka:?}");
    assert!(kafka.values().all(|e| e.current_txn_first_offset == -1));
}

#[test]
fn aborted_transactions_and_the_last_stable_offset_are_kafkas() {
    let dir = kafka_txn_dir();
    let kafka = kafka_state(dir);
    let checkpoint = dir.root.join("recovery-point-offset-checkpoint");
    let tmp = log_dir_with(&dir.partition, Some(&checkpoint));
    let (log, _) = Log::open(
        FsStorage::new(tmp.path()).unwrap(),
        TOPIC,
        0,
        cfg(),
        now_ms(&kafka),
    )
    .unwrap();
    let leo = dir.log_end_offset;
    // every transaction ended: the last stable offset is the log end (Kafka's ListOffsets
    // with READ_COMMITTED said so to the plan)
    assert_eq!(log.last_stable_offset(), leo);
    assert_eq!(log.first_unstable_offset(), None);
    // (first, last, lso) of every aborted transaction, and one producer id per plan producer
    let want = dir.aborted();
    let got = log.aborted_transactions(0, leo);
    assert_eq!(
        got.iter()
            .map(|t| (
                t.first_offset as u64,
                t.last_offset as u64,
                t.last_stable_offset as u64
            ))
            .collect::<Vec<_>>(),
        want.iter().map(|w| (w.1, w.2, w.3)).collect::<Vec<_>>()
    );
    let mut pid_of: BTreeMap<usize, i64> = BTreeMap::new();
    for (t, w) in got.iter().zip(&want) {
        assert_eq!(*pid_of.entry(w.0).or_insert(t.producer_id), t.producer_id);
    }
    assert!(
        pid_of.len() >= 2,
        "both transactional producers aborted: {pid_of:?}"
    );
    // a fetch's range: Kafka's rule (overlapping, from the segment holding the fetch offset,
    // until an entry's LSO reaches the upper bound) over the plan's transactions
    let bases: Vec<u64> = log.segments().map(|s| s.base_offset()).collect();
    let mut ranges = Vec::new();
    for w in &want {
        ranges.push((w.1, w.1 + 1));
        ranges.push((w.1.saturating_sub(3), w.2));
        ranges.push((w.2, w.2 + 1));
        ranges.push((w.2 + 1, leo));
    }
    for b in &bases {
        ranges.push((*b, (*b + 500).min(leo)));
    }
    for (from, upper) in ranges {
        let floor = *bases.iter().rev().find(|b| **b <= from).unwrap();
        let got: Vec<(u64, u64)> = log
            .aborted_transactions(from, upper)
            .iter()
            .map(|t| (t.first_offset as u64, t.last_offset as u64))
            .collect();
        // Kafka stops within a segment at the first entry whose LSO reaches the bound
        let kafka_rule: Vec<(u64, u64)> = {
            let mut out = Vec::new();
            'segs: for seg in bases.iter().filter(|b| **b >= floor) {
                for w in want
                    .iter()
                    .filter(|w| *bases.iter().rev().find(|b| **b <= w.2).unwrap() == *seg)
                {
                    if w.2 >= from && w.1 < upper {
                        out.push((w.1, w.2));
                    }
                    if w.3 >= upper {
                        break 'segs;
                    }
                }
            }
            out
        };
        assert_eq!(got, kafka_rule, "range {from}..{upper}");
        // and that is every aborted transaction overlapping the range: one whose LSO
        // reached the bound had every later transaction start at or after it
        let overlapping: Vec<(u64, u64)> = want
            .iter()
            .filter(|w| w.2 >= from && w.1 < upper)
            .map(|w| (w.1, w.2))
            .collect();
        assert_eq!(got, overlapping, "range {from}..{upper}");
    }
}

#[test]
fn recovery_from_kafkas_segment_snapshot_rebuilds_each_txnindex() {
    // the realistic recovery: the recovery point at a segment's base, Kafka's snapshot at that
    // base, the segment's transaction index lost; klog starts from Kafka's snapshot, replays
    // the segment and writes Kafka's bytes again
    let dir = kafka_txn_dir();
    let kafka = kafka_state(dir);
    let kafka_txn = txn_indexes(&dir.partition);
    let snapshot_bases: Vec<u64> = snapshots_in(&dir.partition)
        .into_iter()
        .map(|(o, _)| o)
        .filter(|o| *o < dir.log_end_offset)
        .collect();
    let mut checked = 0;
    for (name, bytes) in &kafka_txn {
        let base: u64 = name
            .trim_end_matches(".txnindex")
            .parse()
            .expect("a segment's base offset");
        if !snapshot_bases.contains(&base) {
            continue;
        }
        let tmp = log_dir_with(&dir.partition, None);
        let part = tmp.path().join(format!("{TOPIC}-0"));
        fs::remove_file(part.join(name)).unwrap();
        // later snapshots would not be used for this segment; the checkpoint says where to start
        fs::write(
            tmp.path().join("recovery-point-offset-checkpoint"),
            format!("0\n1\n{TOPIC} 0 {base}\n"),
        )
        .unwrap();
        let (log, report) = Log::open(
            FsStorage::new(tmp.path()).unwrap(),
            TOPIC,
            0,
            cfg(),
            now_ms(&kafka),
        )
        .unwrap();
        assert_eq!(report.recovered_segments.first(), Some(&base), "{report:?}");
        assert_eq!(report.truncated_bytes, 0, "{report:?}");
        let rebuilt = fs::read(part.join(name)).unwrap();
        assert!(
            rebuilt == *bytes,
            "{name} rebuilt from Kafka's snapshot at {base}"
        );
        assert_eq!(klog_state(&log), kafka);
        checked += 1;
    }
    eprintln!(
        "{checked} of {} transaction indexes rebuilt from Kafka's snapshots",
        kafka_txn.len()
    );
    assert!(
        checked >= 1,
        "a segment with aborted transactions and a snapshot at its base"
    );
}

/// The producer entries of Kafka's snapshot file `path`, by producer id.
fn snapshot_state(path: &Path) -> BTreeMap<i64, SnapshotEntry> {
    let data = fs::read(path).unwrap();
    snapshot_entries_from(path, &data)
        .into_iter()
        .map(|e| (e.producer_id, e))
        .collect()
}

#[test]
fn replay_to_each_of_kafkas_snapshots_gives_that_snapshot() {
    let dir = kafka_txn_dir();
    let kafka = kafka_state(dir);
    let snapshots = snapshots_in(&dir.partition);
    assert!(
        snapshots.len() >= 3,
        "Kafka snapshotted at its rolls: {snapshots:?}"
    );
    let mut open_txns = 0;
    for (what, partition) in [
        ("after the clean shutdown", &dir.partition),
        ("as an unclean shutdown leaves it", &dir.unclean_partition),
    ] {
        for (n, path) in &snapshots {
            let want = snapshot_state(path);
            let (_tmp, mut log) = rebuilt(partition, now_ms(&kafka));
            let report = log.truncate_to(*n).unwrap();
            assert_eq!(report.truncated, *n < dir.log_end_offset, "{what}: at {n}");
            assert!(report.corrupt_snapshots.is_empty(), "{what}: {report:?}");
            assert_eq!(
                log.log_end_offset(),
                *n,
                "{what}: Kafka snapshots at a batch end"
            );
            let got = klog_state(&log);
            assert_eq!(
                got.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "{what}: producers at {n}"
            );
            for (pid, w) in &want {
                assert_eq!(got[pid], *w, "{what}: producer {pid} at {n}");
            }
            if partition == &dir.partition {
                open_txns += want
                    .values()
                    .filter(|e| e.current_txn_first_offset >= 0)
                    .count();
            }
        }
    }
    eprintln!(
        "{} Kafka snapshots matched, {open_txns} open transactions in them",
        snapshots.len()
    );
    assert!(
        open_txns >= 1,
        "a roll inside a transaction (the markers' wall-clock times roll segments)"
    );
}
