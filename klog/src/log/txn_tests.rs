//! Transactions in a log: markers, the transaction index, aborted-transaction reads and the
//! last stable offset, across segments, restarts, crashes and retention (after Kafka's
//! UnifiedLogTest and LogLoaderTest transaction cases).

use crate::config::LogConfig;
use crate::index::{txn, AbortedTxn};
use crate::log::Log;
use crate::names;
use crate::producer_state::{ProducerEntry, SnapshotError};
use crate::storage::{MemStorage, Storage};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use kproto::records::{BatchBuilder, BatchConfig};

fn cfg() -> LogConfig {
    LogConfig {
        segment_bytes: 16 << 10,
        index_interval_bytes: 1024,
        segment_index_bytes: 4096,
        ..LogConfig::default()
    }
}

const T: i64 = 1_764_000_000_000;

/// A producer's batch of `n` records with 500-byte values.
fn produce(n: usize, pid: i64, epoch: i16, seq: i32, transactional: bool, ts: i64) -> Vec<u8> {
    let mut b = BatchBuilder::new(BatchConfig {
        producer_id: pid,
        producer_epoch: epoch,
        base_sequence: seq,
        transactional,
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    });
    for i in 0..n {
        let v = alloc::vec![(seq as u8).wrapping_add(i as u8); 500];
        b.try_append(ts + i as i64, Some(b"key"), Some(&v), &[])
            .unwrap();
    }
    b.finish().unwrap()
}

/// What a snapshot holds of a producer: epoch, last sequence, last offset, offset delta,
/// last timestamp, coordinator epoch, transaction in progress.
type Summary = (i16, i32, i64, i32, i64, i32, Option<u64>);

fn summary(e: &ProducerEntry) -> Summary {
    (
        e.epoch,
        e.last_seq(),
        e.last_data_offset(),
        e.last_offset_delta(),
        e.last_timestamp(),
        e.coordinator_epoch,
        e.current_txn_first_offset,
    )
}

fn summaries(log: &Log<MemStorage>) -> BTreeMap<i64, Summary> {
    log.producer_state()
        .producers()
        .iter()
        .map(|(p, e)| (*p, summary(e)))
        .collect()
}

/// Every `.txnindex` of the partition: base offset -> entries.
fn txn_indexes(st: &MemStorage) -> BTreeMap<u64, Vec<AbortedTxn>> {
    st.paths()
        .iter()
        .filter_map(|p| {
            let name = p.strip_prefix("t-0/")?;
            match names::parse_file_name(name)? {
                (base, names::FileKind::TxnIndex) => {
                    Some((base, txn::parse(&st.contents(p).unwrap()).unwrap()))
                }
                _ => None,
            }
        })
        .collect()
}

/// Two transactional producers (a commits, b aborts, then the other way round, transactions
/// spanning segments) and an idempotent one. Returns the expected aborted transactions.
fn workload(log: &mut Log<MemStorage>) -> Vec<AbortedTxn> {
    let (a, b, c) = (100i64, 200i64, 300i64);
    let (mut sa, mut sb, mut sc) = (0, 0, 0);
    let mut aborted = Vec::new();
    for round in 0..12i64 {
        let t = T + round * 100;
        let a_first = log
            .append(&mut produce(3, a, 0, sa, true, t), t)
            .unwrap()
            .first_offset;
        sa += 3;
        let b_first = log
            .append(&mut produce(2, b, 0, sb, true, t), t)
            .unwrap()
            .first_offset;
        sb += 2;
        // both open: the LSO is a's first offset
        log.set_high_watermark(log.log_end_offset());
        assert_eq!(log.last_stable_offset(), a_first);
        for _ in 0..3 {
            log.append(&mut produce(4, c, 0, sc, false, t), t).unwrap();
            sc += 4;
            log.append(&mut produce(2, a, 0, sa, true, t), t).unwrap();
            sa += 2;
        }
        log.append(&mut produce(1, b, 0, sb, true, t), t).unwrap();
        sb += 1;
        let (commit_a, coord) = (round % 2 == 0, round as i32 / 3);
        let m1 = log
            .append_txn_marker(a, 0, commit_a, coord, t + 50)
            .unwrap();
        if !commit_a {
            // b's txn is still open and started after a's: the LSO recorded is b's first
            aborted.push(AbortedTxn::new(
                a,
                a_first as i64,
                m1.first_offset as i64,
                b_first as i64,
            ));
        }
        log.set_high_watermark(log.log_end_offset());
        assert_eq!(log.last_stable_offset(), b_first, "round {round}");
        let m2 = log
            .append_txn_marker(b, 0, !commit_a, coord, t + 60)
            .unwrap();
        if commit_a {
            let lso = m2.first_offset + 1;
            aborted.push(AbortedTxn::new(
                b,
                b_first as i64,
                m2.first_offset as i64,
                lso as i64,
            ));
        }
        // the markers are above the high watermark until it moves
        assert_eq!(log.last_stable_offset(), b_first);
        log.set_high_watermark(log.log_end_offset());
        assert_eq!(log.last_stable_offset(), log.log_end_offset());
    }
    // one transaction left open
    log.append(&mut produce(2, a, 0, sa, true, T + 5000), T + 5000)
        .unwrap();
    aborted
}

#[test]
fn aborted_transactions_go_to_the_markers_segment_and_are_read_back() {
    let st = MemStorage::new();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg(), T).unwrap();
    let want = workload(&mut log);
    assert!(log.segment_count() >= 4, "{} segments", log.segment_count());
    assert_eq!(want.len(), 12);
    // each aborted transaction is in the index of the segment holding its marker, in
    // Kafka's bytes
    let mut by_segment: BTreeMap<u64, Vec<AbortedTxn>> = BTreeMap::new();
    let bases: Vec<u64> = log.segments().map(|s| s.base_offset()).collect();
    for t in &want {
        let base = *bases
            .iter()
            .rev()
            .find(|b| **b <= t.last_offset as u64)
            .unwrap();
        by_segment.entry(base).or_default().push(*t);
    }
    assert_eq!(txn_indexes(&st), by_segment);
    assert!(
        want.iter().any(|t| {
            let seg_of = |o: i64| bases.iter().rev().find(|b| **b <= o as u64).copied();
            seg_of(t.first_offset) != seg_of(t.last_offset)
        }),
        "a transaction spans segments"
    );
    // reads: everything overlapping the range, from the segment holding the fetch offset on
    let leo = log.log_end_offset();
    assert_eq!(log.aborted_transactions(0, leo), want);
    let mid = want[5];
    let from = (mid.first_offset + 1) as u64;
    let got = log.aborted_transactions(from, from + 1);
    assert!(got.contains(&mid), "{got:?}");
    assert!(got
        .iter()
        .all(|t| t.last_offset as u64 >= from && (t.first_offset as u64) < from + 1));
    assert!(log.aborted_transactions(leo - 1, leo).is_empty());
    // the open transaction holds the LSO back
    let open_first = log.producer_state().producers()[&100]
        .current_txn_first_offset
        .unwrap();
    assert_eq!(log.last_stable_offset(), open_first);
    assert_eq!(log.first_unstable_offset(), Some(open_first));

    // a clean restart: same indexes, same producer state, same LSO
    let state = summaries(&log);
    let st = log.close(T + 6000).unwrap();
    let files_before = txn_indexes(&st);
    let (log, report) = Log::open(st.clone(), "t", 0, cfg(), T + 6000).unwrap();
    assert_eq!(report.snapshot_offset, Some(log.log_end_offset()));
    assert_eq!(summaries(&log), state);
    assert_eq!(log.last_stable_offset(), open_first);
    assert_eq!(txn_indexes(&st), files_before);

    // no snapshot, no checkpoint: every segment re-validated, the indexes rebuilt from the
    // log, the producer state replayed: all equal
    let mut st = log.into_storage();
    for p in st.paths() {
        if p.ends_with(".snapshot") || p.ends_with(".txnindex") {
            st.remove(&p).unwrap();
        }
    }
    assert!(
        st.contents(names::RECOVERY_POINT_CHECKPOINT).is_none(),
        "a log writes no checkpoint"
    );
    let (log, report) = Log::open(st.clone(), "t", 0, cfg(), T + 6000).unwrap();
    assert_eq!(report.snapshot_offset, None);
    assert_eq!(report.recovered_segments.len(), bases.len());
    assert_eq!(txn_indexes(&st), files_before);
    assert_eq!(summaries(&log), state);
    assert_eq!(log.aborted_transactions(0, log.log_end_offset()), want);
}

#[test]
fn recovery_cuts_the_transaction_index_with_the_log() {
    let st = MemStorage::new();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg(), T).unwrap();
    let want = workload(&mut log);
    let state = summaries(&log);
    log.flush(T).unwrap();
    let active = log.segments().last().unwrap().base_offset();
    let active_log = String::from(log.segments().last().unwrap().log_path());
    let st = log.into_storage();
    let txn_path = names::segment_file("t-0", active, names::TXN_INDEX_SUFFIX);
    let full = st
        .contents(&txn_path)
        .expect("the last segment holds aborted transactions");
    assert!(full.len() >= txn::ABORTED_TXN_SIZE);

    // the broker stopped before the last bytes of the log reached the disk, the index had
    // them: recovery (from the checkpoint at the segment's base) cuts both
    let data = st.contents(&active_log).unwrap();
    let cut_at = want
        .iter()
        .rev()
        .find(|t| t.last_offset as u64 >= active)
        .unwrap()
        .last_offset;
    let positions: Vec<(usize, i64)> = kproto::records::Batches::new(&data)
        .map(|b| {
            let b = b.unwrap();
            (b.position(), b.base_offset())
        })
        .collect();
    let (pos, _) = *positions.iter().find(|(_, o)| *o == cut_at).unwrap();
    st.put(&active_log, &data[..pos + 7]); // a torn batch at the last marker
    for p in st.paths() {
        if p.ends_with(".snapshot") && !p.ends_with(&alloc::format!("{:020}.snapshot", active)) {
            let mut s = st.clone();
            s.remove(&p).unwrap();
        }
    }
    st.put(
        names::RECOVERY_POINT_CHECKPOINT,
        alloc::format!("0\n1\nt 0 {active}\n").as_bytes(),
    );
    let (log, report) = Log::open(st.clone(), "t", 0, cfg(), T + 6000).unwrap();
    assert_eq!(report.recovered_segments, alloc::vec![active]);
    assert_eq!(log.log_end_offset(), cut_at as u64);
    let kept: Vec<AbortedTxn> = want
        .iter()
        .filter(|t| (t.last_offset as u64) < cut_at as u64)
        .copied()
        .collect();
    assert_eq!(log.aborted_transactions(0, log.log_end_offset()), kept);
    let on_disk: Vec<AbortedTxn> = txn_indexes(&st).into_values().flatten().collect();
    assert_eq!(on_disk, kept, "no aborted transaction past the log end");
    // the producer that aborted at the cut marker has its transaction open again
    let pid = want.last().unwrap().producer_id;
    assert_eq!(
        log.producer_state().producers()[&pid].current_txn_first_offset,
        Some(want.last().unwrap().first_offset as u64)
    );
    assert_ne!(summaries(&log), state);

    // and an intact log with a garbage index: recovery rebuilds it byte for byte
    let st = MemStorage::new();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg(), T).unwrap();
    workload(&mut log);
    log.flush(T).unwrap();
    let st = log.into_storage();
    let bogus = txn::encode(&[AbortedTxn::new(1, 0, 1 << 40, 0)]);
    st.put(&txn_path, &[full.as_slice(), &bogus].concat());
    st.put(
        names::RECOVERY_POINT_CHECKPOINT,
        alloc::format!("0\n1\nt 0 {active}\n").as_bytes(),
    );
    let (log, _) = Log::open(st.clone(), "t", 0, cfg(), T + 6000).unwrap();
    assert_eq!(st.contents(&txn_path).unwrap(), full);
    assert_eq!(summaries(&log), state);
}

#[test]
fn retention_deletes_a_segments_transaction_index_with_it() {
    let st = MemStorage::new();
    let cfg = LogConfig {
        retention_bytes: 40 << 10,
        ..cfg()
    };
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg, T).unwrap();
    workload(&mut log);
    let before = txn_indexes(&st);
    let deleted = log.delete_old_segments(T + 6000).unwrap();
    assert!(deleted > 0);
    let start = log.log_start_offset();
    let after = txn_indexes(&st);
    assert!(after.keys().all(|b| *b >= start), "{:?}", after.keys());
    assert_eq!(
        after,
        before
            .into_iter()
            .filter(|(b, _)| *b >= start)
            .collect::<BTreeMap<_, _>>()
    );
    for b in [
        names::TXN_INDEX_SUFFIX,
        names::SNAPSHOT_SUFFIX,
        names::LOG_SUFFIX,
    ] {
        assert!(
            !st.paths().contains(&names::segment_file("t-0", 0, b)),
            "{b}"
        );
    }
    assert!(log.high_watermark() >= start);
}

#[test]
fn markers_are_checked_as_the_coordinator_would() {
    let st = MemStorage::new();
    let (mut log, _) = Log::open(st, "t", 0, cfg(), T).unwrap();
    log.append(&mut produce(2, 7, 3, 0, true, T), T).unwrap();
    // an older producer epoch, then an older coordinator epoch, are refused
    assert_eq!(
        log.append_txn_marker(7, 2, true, 5, T)
            .unwrap_err()
            .error_code(),
        kproto::ErrorCode::InvalidProducerEpoch
    );
    log.append_txn_marker(7, 3, false, 5, T).unwrap();
    assert_eq!(
        log.append_txn_marker(7, 3, true, 4, T)
            .unwrap_err()
            .error_code(),
        kproto::ErrorCode::TransactionCoordinatorFenced
    );
    // a non-transactional batch inside a transaction
    log.append(&mut produce(1, 7, 3, 2, true, T), T).unwrap();
    assert_eq!(
        log.append(&mut produce(1, 7, 3, 3, false, T), T)
            .unwrap_err()
            .error_code(),
        kproto::ErrorCode::InvalidTxnState
    );
    // a marker for a producer without a transaction changes epochs but indexes nothing
    log.append_txn_marker(9, 0, false, 0, T).unwrap();
    assert_eq!(log.aborted_transactions(0, log.log_end_offset()).len(), 1);
    assert_eq!(log.producer_state().producers()[&9].coordinator_epoch, 0);
}

#[test]
fn truncation_cuts_the_transaction_index_and_reloads_the_producer_state() {
    let st = MemStorage::new();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg(), T).unwrap();
    let want = workload(&mut log);
    let segments_before = log.segment_count();
    // cut in the middle of the log, at an abort marker: its transaction is open again
    let victim = want[want.len() / 2];
    let to = victim.last_offset as u64;
    assert!(log.truncate_to(to).unwrap().truncated);
    assert!(
        !log.truncate_to(to + 10).unwrap().truncated,
        "nothing past the end"
    );
    assert_eq!(log.log_end_offset(), to);
    assert!(log.segment_count() < segments_before);
    let kept: Vec<AbortedTxn> = want
        .iter()
        .filter(|t| (t.last_offset as u64) < to)
        .copied()
        .collect();
    assert_eq!(log.aborted_transactions(0, to), kept);
    let on_disk: Vec<AbortedTxn> = txn_indexes(&st).into_values().flatten().collect();
    assert_eq!(on_disk, kept);
    assert!(
        st.paths().iter().all(
            |p| match p.strip_prefix("t-0/").and_then(names::parse_file_name) {
                Some((o, names::FileKind::Snapshot)) => o <= to,
                Some((o, _)) => o <= to,
                None => true,
            }
        ),
        "{:?}",
        st.paths()
    );
    // the victim's transaction is open again, so the LSO is its first offset (or earlier)
    log.set_high_watermark(to);
    let pid = victim.producer_id;
    assert_eq!(
        log.producer_state().producers()[&pid].current_txn_first_offset,
        Some(victim.first_offset as u64)
    );
    assert!(log.last_stable_offset() <= victim.first_offset as u64);
    // the state equals what replaying the remaining log from scratch gives
    let state = summaries(&log);
    // a batch cut in the middle goes whole
    let mut probe = Log::open(MemStorage::new(), "t", 0, cfg(), T).unwrap().0;
    probe
        .append(&mut produce(5, -1, -1, -1, false, T), T)
        .unwrap();
    probe
        .append(&mut produce(5, -1, -1, -1, false, T), T)
        .unwrap();
    assert!(probe.truncate_to(7).unwrap().truncated);
    assert_eq!(probe.log_end_offset(), 5);
    let mut st2 = log.close(T + 7000).unwrap();
    for p in st2.paths() {
        if p.ends_with(".snapshot") {
            st2.remove(&p).unwrap();
        }
    }
    assert!(
        st2.contents(names::RECOVERY_POINT_CHECKPOINT).is_none(),
        "a log writes no checkpoint"
    );
    let (log, _) = Log::open(st2, "t", 0, cfg(), T + 7000).unwrap();
    assert_eq!(summaries(&log), state);
    assert_eq!(log.aborted_transactions(0, to), kept);
    // to the log start: nothing is left, no transaction, no aborted one
    let mut log = log;
    assert!(log.truncate_to(0).unwrap().truncated);
    assert_eq!((log.log_end_offset(), log.segment_count()), (0, 1));
    assert!(log.aborted_transactions(0, 1).is_empty());
    assert!(log.producer_state().producers().is_empty());
    assert_eq!(log.last_stable_offset(), 0);
    let st = log.into_storage();
    assert!(txn_indexes(&st).values().all(|e| e.is_empty()));
}

#[test]
fn a_corrupt_snapshot_met_by_truncation_is_deleted_and_reported() {
    let st = MemStorage::new();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg(), T).unwrap();
    let want = workload(&mut log);
    let victim = want[want.len() / 2];
    let to = victim.last_offset as u64;
    // the snapshot truncation would load: the newest at or below `to`
    let snapshots: Vec<u64> = st
        .paths()
        .iter()
        .filter_map(
            |p| match p.strip_prefix("t-0/").and_then(names::parse_file_name) {
                Some((o, names::FileKind::Snapshot)) => Some(o),
                _ => None,
            },
        )
        .collect();
    let newest = *snapshots.iter().rfind(|o| **o <= to).unwrap();
    assert!(
        snapshots.iter().filter(|o| **o <= to).count() >= 2,
        "{snapshots:?}"
    );
    let path = names::segment_file("t-0", newest, names::SNAPSHOT_SUFFIX);
    let mut bytes = st.contents(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40; // inside the last entry: the CRC no longer matches
    st.put(&path, &bytes);
    let report = log.truncate_to(to).unwrap();
    assert!(report.truncated);
    assert_eq!(report.corrupt_snapshots.len(), 1, "{report:?}");
    let (offset, e) = &report.corrupt_snapshots[0];
    assert_eq!(*offset, newest);
    assert!(
        matches!(e, SnapshotError::Crc { path: p, .. } if *p == path),
        "{e}"
    );
    assert!(
        !st.paths().contains(&path),
        "the corrupt snapshot is deleted"
    );
    // the state came from an older snapshot plus the log: as a rebuild from scratch
    let state = summaries(&log);
    let mut st2 = log.close(T + 7000).unwrap();
    for p in st2.paths() {
        if p.ends_with(".snapshot") {
            st2.remove(&p).unwrap();
        }
    }
    assert!(
        st2.contents(names::RECOVERY_POINT_CHECKPOINT).is_none(),
        "a log writes no checkpoint"
    );
    let (log, _) = Log::open(st2, "t", 0, cfg(), T + 7000).unwrap();
    assert_eq!(summaries(&log), state);
}

#[test]
fn idle_producers_expire_unless_a_transaction_is_open() {
    let st = MemStorage::new();
    let cfg = LogConfig {
        producer_id_expiration_ms: 60_000,
        ..cfg()
    };
    let (mut log, _) = Log::open(st, "t", 0, cfg, T).unwrap();
    log.append(&mut produce(2, 1, 0, 0, false, T), T).unwrap();
    log.append(&mut produce(2, 2, 0, 0, true, T), T).unwrap();
    log.append(&mut produce(2, 3, 0, 0, false, T + 30_000), T + 30_000)
        .unwrap();
    log.remove_expired_producers(T + 60_001);
    let left: Vec<i64> = log.producer_state().producers().keys().copied().collect();
    assert_eq!(
        left,
        alloc::vec![2, 3],
        "1 is idle, 2 has a transaction open"
    );
    // an expired producer may start again at any sequence
    log.append(&mut produce(1, 1, 0, 40, false, T + 60_002), T + 60_002)
        .unwrap();
}
