//! Opening logs whose bytes klog did not append: Kafka-written producer state and markers,
//! base offsets flipped on disk, unreadable batches below the recovery point.

use crate::config::LogConfig;
use crate::log::{LoadOptions, Log};
use crate::names;
use crate::storage::MemStorage;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use kproto::records::control::end_transaction_marker_batch;
use kproto::records::crc::crc32c;
use kproto::records::{field, BatchBuilder, BatchConfig, Batches};

fn cfg() -> LogConfig {
    LogConfig {
        segment_bytes: 64 << 10,
        index_interval_bytes: 1024,
        segment_index_bytes: 4096,
        ..LogConfig::default()
    }
}

/// A batch as a broker stores it: offsets from `base`, `n` records with 700-byte values.
fn stored(base: i64, n: usize, pid: i64, epoch: i16, seq: i32, txn: bool, ts: i64) -> Vec<u8> {
    let mut b = BatchBuilder::new(BatchConfig {
        base_offset: base,
        partition_leader_epoch: 0,
        producer_id: pid,
        producer_epoch: if pid >= 0 { epoch } else { -1 },
        base_sequence: seq,
        transactional: txn,
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    });
    for i in 0..n {
        let v = alloc::vec![(base as u8).wrapping_add(i as u8); 700];
        b.try_append(ts + i as i64, Some(b"k"), Some(&v), &[])
            .unwrap();
    }
    b.finish().unwrap()
}

fn marker(
    base: i64,
    pid: i64,
    epoch: i16,
    commit: bool,
    coordinator_epoch: i32,
    ts: i64,
) -> Vec<u8> {
    end_transaction_marker_batch(commit, coordinator_epoch, pid, epoch, base, 0, ts).unwrap()
}

/// The storage root as a broker leaves it: one segment `t-0/0.log` holding `batches` and a
/// recovery point checkpoint at `recovery_point`.
fn broker_dir(batches: &[Vec<u8>], recovery_point: u64) -> MemStorage {
    let st = MemStorage::new();
    st.put("t-0/00000000000000000000.log", &batches.concat());
    st.put(
        names::RECOVERY_POINT_CHECKPOINT,
        alloc::format!("0\n1\nt 0 {recovery_point}\n").as_bytes(),
    );
    st
}

fn files(st: &MemStorage) -> BTreeMap<String, Vec<u8>> {
    st.paths()
        .into_iter()
        .map(|p| {
            let c = st.contents(&p).unwrap();
            (p, c)
        })
        .collect()
}

const T: i64 = 1_764_000_000_000;

#[test]
fn replay_of_a_log_with_markers_ends_transactions_with_their_coordinator_epoch() {
    // two transactional producers and an idempotent one; 10 commits and aborts a txn each
    let (a, b, c) = (10i64, 11i64, 12i64);
    let batches = alloc::vec![
        stored(0, 3, a, 2, 0, true, T),
        stored(3, 2, b, 0, 0, true, T + 1),
        stored(5, 4, c, 0, 0, false, T + 2),
        marker(9, a, 2, true, 7, T + 3),
        stored(10, 2, b, 0, 2, true, T + 4),
        marker(12, b, 1, false, 8, T + 5),
        stored(13, 1, c, 0, 4, false, T + 6),
    ];
    let (log, _) = Log::open(broker_dir(&batches, 0), "t", 0, cfg(), T).unwrap();
    assert_eq!(log.log_end_offset(), 14);
    let ps = log.producer_state().producers();
    // a's commit keeps its sequence and batches, takes the marker's coordinator epoch
    let ea = &ps[&a];
    assert_eq!((ea.epoch, ea.last_seq(), ea.coordinator_epoch), (2, 2, 7));
    assert_eq!(ea.batches.back().unwrap().last_offset, 2);
    // b's abort came with a bumped epoch: no batch of epoch 1, the marker's timestamp
    let eb = &ps[&b];
    assert_eq!((eb.epoch, eb.last_seq(), eb.coordinator_epoch), (1, -1, 8));
    assert!(eb.batches.is_empty());
    assert_eq!(eb.last_timestamp(), T + 5);
    let ec = &ps[&c];
    assert_eq!((ec.last_seq(), ec.coordinator_epoch), (4, -1));
}

/// A snapshot as Kafka writes it: entries in the order of its hash map (not by producer id),
/// a producer whose marker bumped its epoch (no batch, the marker's timestamp), one with a
/// transaction in progress.
#[allow(clippy::type_complexity)]
fn kafka_snapshot(entries: &[(i64, i16, i32, i64, i32, i64, i32, i64)]) -> Vec<u8> {
    let mut out = alloc::vec![0, 1, 0, 0, 0, 0];
    out.extend_from_slice(&(entries.len() as i32).to_be_bytes());
    for &(pid, epoch, seq, last, delta, ts, coord, txn) in entries {
        out.extend_from_slice(&pid.to_be_bytes());
        out.extend_from_slice(&epoch.to_be_bytes());
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&last.to_be_bytes());
        out.extend_from_slice(&delta.to_be_bytes());
        out.extend_from_slice(&ts.to_be_bytes());
        out.extend_from_slice(&coord.to_be_bytes());
        out.extend_from_slice(&txn.to_be_bytes());
    }
    let crc = crc32c(&out[6..]);
    out[2..6].copy_from_slice(&crc.to_be_bytes());
    out
}

#[test]
fn opening_and_closing_a_broker_written_directory_changes_no_byte() {
    let (a, b, c) = (10i64, 11i64, 12i64);
    let mut batches = Vec::new();
    let mut off = 0i64;
    // hundreds of batches (indexes with entries), b's last txn aborted with a bumped epoch,
    // a's txn left open
    for i in 0..120 {
        batches.push(stored(off, 3, c, 0, i * 3, false, T + i64::from(i)));
        off += 3;
    }
    batches.push(stored(off, 2, b, 0, 0, true, T + 200));
    off += 2;
    batches.push(marker(off, b, 1, false, 4, T + 201));
    off += 1;
    batches.push(stored(off, 2, a, 3, 0, true, T + 202));
    off += 2;
    let st = broker_dir(&batches, 0);
    // let klog lay out the indexes as the broker did, then close it
    let (log, _) = Log::open(st.clone(), "t", 0, cfg(), T + 300).unwrap();
    let st = log.close(T + 300).unwrap();
    // the broker's snapshot at the log end, in its order and with its fields
    let snap = names::segment_file("t-0", off as u64, names::SNAPSHOT_SUFFIX);
    st.put(
        &snap,
        &kafka_snapshot(&[
            (c, 0, 359, 359, 2, T + 121, -1, -1),
            (a, 3, 1, 364, 1, T + 203, -1, 363),
            (b, 1, -1, -1, 0, T + 201, 4, -1),
        ]),
    );
    let before = files(&st);
    let (log, report) = Log::open(st.clone(), "t", 0, cfg(), T + 400).unwrap();
    assert_eq!(report.snapshot_offset, Some(off as u64));
    let eb = &log.producer_state().producers()[&b];
    assert_eq!(
        (eb.epoch, eb.last_timestamp(), eb.coordinator_epoch),
        (1, T + 201, 4)
    );
    let st = log.close(T + 500).unwrap();
    let after = files(&st);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files"
    );
    for (path, bytes) in &before {
        assert!(after[path] == *bytes, "{path} changed");
    }
}

/// The byte position of each batch in `data`.
fn positions(data: &[u8]) -> Vec<usize> {
    Batches::new(data).map(|b| b.unwrap().position()).collect()
}

#[test]
fn a_flipped_base_offset_is_refused_and_the_segment_cut_there() {
    let batches: Vec<Vec<u8>> = (0..10)
        .map(|i| stored(i * 4, 4, -1, -1, -1, false, T + i))
        .collect();
    for victim in [9usize, 5, 0] {
        let st = broker_dir(&batches, 0);
        let path = "t-0/00000000000000000000.log";
        let mut data = st.contents(path).unwrap();
        let at = positions(&data)[victim] + field::BASE_OFFSET.start;
        data[at + 5] ^= 0x40; // + 4,194,304: the CRC does not cover the base offset
        st.put(path, &data);
        let (log, report) = Log::open(st, "t", 0, cfg(), T).unwrap();
        assert_eq!(
            log.log_end_offset(),
            victim as u64 * 4,
            "victim {victim}: the log ends before the flipped batch"
        );
        assert_eq!(report.invalid_offsets.len(), 1, "{report:?}");
        let bad = report.invalid_offsets[0];
        assert_eq!(
            (bad.segment, bad.position as usize, bad.expected, bad.found),
            (
                0,
                positions(&data)[victim],
                victim as u64 * 4,
                victim as i64 * 4 + (1 << 22)
            )
        );
        assert!(report.truncated_bytes > 0);
    }
}

#[test]
fn an_unreadable_batch_below_the_recovery_point_fails_the_read() {
    // two segments; the first is below the recovery point (not re-validated on open)
    let cfg = LogConfig {
        segment_bytes: 8 << 10,
        ..cfg()
    };
    let st = MemStorage::new();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg.clone(), T).unwrap();
    let mut ends = Vec::new();
    for i in 0..30 {
        let mut b = crate::testutil::batch(2, T + i, 700, i as u8);
        ends.push(log.append(&mut b, T).unwrap().last_offset);
    }
    assert!(log.segment_count() >= 2);
    // the recovery point the directory layer checkpoints at close
    let opts = LoadOptions {
        recovery_point: log.log_end_offset(),
        ..LoadOptions::default()
    };
    let st = log.close(T).unwrap();
    let path = "t-0/00000000000000000000.log";
    let mut data = st.contents(path).unwrap();
    let at = positions(&data)[3] + field::MAGIC.start;
    data[at] = 0x82; // not a magic klog (or Kafka) reads
    st.put(path, &data);
    let (mut log, _) = Log::open_with(st, "t", 0, cfg, opts, T).unwrap();
    // the offsets of that batch are not served from the next segment
    let e = log.read(ends[3], 1 << 20).unwrap_err();
    assert_eq!(e.error_code(), kproto::ErrorCode::KafkaStorageError, "{e}");
    assert!(
        alloc::format!("{e}").contains("00000000000000000000.log"),
        "{e}"
    );
}

/// A `.txnindex` in Kafka's layout: `(pid, first, last, lso)` entries, 34 bytes each.
fn kafka_txnindex(entries: &[(i64, i64, i64, i64)]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(pid, first, last, lso) in entries {
        out.extend_from_slice(&0i16.to_be_bytes());
        for v in [pid, first, last, lso] {
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
    out
}

#[test]
fn a_broker_written_txnindex_is_cut_with_the_log_and_deleted_with_its_segment() {
    let batches = alloc::vec![
        stored(0, 3, 10, 0, 0, true, T),
        marker(3, 10, 0, false, 1, T + 1),
        stored(4, 2, 11, 0, 0, true, T + 2),
        marker(6, 11, 0, false, 1, T + 3),
        stored(7, 5, -1, -1, -1, false, T + 4),
    ];
    let st = broker_dir(&batches, 0);
    let txn_path = "t-0/00000000000000000000.txnindex";
    st.put(txn_path, &kafka_txnindex(&[(10, 0, 3, 4), (11, 4, 6, 7)]));
    // the broker stopped while writing the second transaction: the log is torn in it
    let log_path = "t-0/00000000000000000000.log";
    let data = st.contents(log_path).unwrap();
    let cut = positions(&data)[2] + 30;
    st.put(log_path, &data[..cut]);
    let cfg = LogConfig {
        segment_ms: 1,
        retention_ms: 1000,
        ..cfg()
    };
    let (mut log, report) = Log::open(st.clone(), "t", 0, cfg, T).unwrap();
    assert_eq!(log.log_end_offset(), 4);
    assert!(report.truncated_bytes > 0);
    assert_eq!(
        st.contents(txn_path).unwrap(),
        kafka_txnindex(&[(10, 0, 3, 4)]),
        "the aborted transaction past the log end is gone"
    );
    // a later segment, then retention deletes the first one with its transaction index
    let mut b = crate::testutil::batch(2, T + 10_000, 100, 1);
    log.append(&mut b, T + 10_000).unwrap();
    assert!(log.segment_count() >= 2);
    assert!(log.delete_old_segments(T + 20_000).unwrap() >= 1);
    assert!(log.log_start_offset() >= 4);
    assert!(
        !st.paths().iter().any(|p| p == txn_path),
        "{:?}",
        st.paths()
    );
}

#[test]
fn a_flipped_base_offset_below_the_recovery_point_is_found_on_open() {
    let cfg = LogConfig {
        segment_bytes: 8 << 10,
        ..cfg()
    };
    let st = MemStorage::new();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg.clone(), T).unwrap();
    for i in 0..30 {
        let mut b = crate::testutil::batch(2, T + i, 700, i as u8);
        log.append(&mut b, T).unwrap();
    }
    let second = log.segments().nth(1).unwrap().base_offset();
    assert!(log.segment_count() >= 3);
    let opts = LoadOptions {
        recovery_point: log.log_end_offset(),
        ..LoadOptions::default()
    };
    let st = log.close(T).unwrap();
    // the last batch of the first segment (after its last index entry): the segment is below
    // the recovery point, so it is only loaded, not re-validated
    let path = "t-0/00000000000000000000.log";
    let mut data = st.contents(path).unwrap();
    let last = *positions(&data).last().unwrap();
    data[last + field::BASE_OFFSET.start + 5] ^= 0x40;
    st.put(path, &data);
    let (log, report) = Log::open_with(st, "t", 0, cfg, opts, T).unwrap();
    assert_eq!(report.rebuilt_indexes, alloc::vec![0], "{report:?}");
    assert_eq!(report.invalid_offsets.len(), 1, "{report:?}");
    assert_eq!(report.invalid_offsets[0].expected, second - 2);
    // the log ends before the flipped batch: later segments cannot follow a gap
    assert_eq!(log.log_end_offset(), second - 2);
    assert_eq!(log.segment_count(), 1);
}

#[test]
fn mutated_segments_snapshots_and_txnindexes_never_panic_recovery() {
    // a broker-like directory with transactions, then seeded byte mutations anywhere in its
    // files (the recovery point checkpoint too): open recovers, reads and appends after it
    // never panic
    let (a, b) = (10i64, 11i64);
    let mut batches = Vec::new();
    let mut off = 0i64;
    for i in 0..6 {
        batches.push(stored(off, 2, a, 0, i * 2, true, T + i64::from(i)));
        off += 2;
        batches.push(stored(off, 1, b, 0, i, true, T + i64::from(i)));
        off += 1;
        batches.push(marker(off, a, 0, i % 2 == 0, 1, T + 100));
        off += 1;
        batches.push(marker(off, b, 0, i % 2 == 1, 1, T + 100));
        off += 1;
    }
    let (log, _) = Log::open(broker_dir(&batches, 0), "t", 0, cfg(), T).unwrap();
    let clean = log.close(T).unwrap();
    let originals = files(&clean);
    let mut rng = kproto::rng::Rng::new(0xfeed);
    let mut opened = 0;
    for _ in 0..300 {
        let st = MemStorage::new();
        for (p, c) in &originals {
            st.put(p, c);
        }
        let names: Vec<&String> = originals.keys().collect();
        for _ in 0..1 + rng.below(4) {
            let p = names[rng.below(names.len() as u64) as usize];
            let mut c = st.contents(p).unwrap();
            if c.is_empty() {
                continue;
            }
            let at = rng.below(c.len() as u64) as usize;
            match rng.below(3) {
                0 => c[at] ^= 1 << rng.below(8),
                1 => c.truncate(at),
                _ => c[at] = rng.next_u64() as u8,
            }
            st.put(p, &c);
        }
        let (mut log, _) = match Log::open(st, "t", 0, cfg(), T) {
            Ok(l) => l,
            Err(e) => panic!("refused: {e}"),
        };
        opened += 1;
        let end = log.log_end_offset();
        assert!(end <= off as u64);
        let _ = log.read(0, 1 << 20);
        let _ = log.aborted_transactions(0, end);
        let _ = log.last_stable_offset();
        let _ = log.append_txn_marker(a, 0, false, 1, T + 200);
        let mut more = crate::testutil::batch_with(2, T, 100, 1, Some((a, 0, 100)));
        let _ = log.append(&mut more, T + 200);
    }
    assert_eq!(opened, 300, "every mutation recovers");
}

#[test]
fn an_unreadable_checkpoint_resets_the_recovery_point_as_kafka_does() {
    let batches: Vec<Vec<u8>> = (0..5)
        .map(|i| stored(i * 4, 4, -1, -1, -1, false, T + i))
        .collect();
    let st = broker_dir(&batches, 20);
    st.put(names::RECOVERY_POINT_CHECKPOINT, b"0\n1\nt 0 twenty\n");
    let (log, report) = Log::open(st.clone(), "t", 0, cfg(), T).unwrap();
    assert!(report.unreadable_checkpoint.is_some(), "{report:?}");
    assert_eq!(report.checkpoint_recovery_point, 0);
    assert_eq!(report.recovered_segments, alloc::vec![0]);
    assert_eq!(log.log_end_offset(), 20);
    // the log leaves the file alone (the directory layer rewrites it for all partitions)
    let text = st.contents(names::RECOVERY_POINT_CHECKPOINT).unwrap();
    assert_eq!(text, b"0\n1\nt 0 twenty\n");
    assert_eq!(log.recovery_point(), 20);
}

#[test]
fn snapshots_past_the_log_end_and_stray_ones_are_removed_and_reported() {
    let batches: Vec<Vec<u8>> = (0..5)
        .map(|i| stored(i * 4, 4, 3, 0, i as i32 * 4, false, T + i))
        .collect();
    let st = broker_dir(&batches, 20);
    let empty = kafka_snapshot(&[]);
    // Kafka's removeStraySnapshots: of the snapshots at no segment base (8, 12, 20) only the
    // newest stays (it is past the last segment's base: a clean shutdown's)
    for off in [8u64, 12, 20] {
        st.put(
            &names::segment_file("t-0", off, names::SNAPSHOT_SUFFIX),
            &empty,
        );
    }
    let (_log, report) = Log::open(st.clone(), "t", 0, cfg(), T).unwrap();
    let mut removed = report.removed_files.clone();
    removed.sort();
    assert_eq!(
        removed,
        alloc::vec![
            alloc::format!("{:020}.snapshot", 8),
            alloc::format!("{:020}.snapshot", 12),
        ]
    );
    assert_eq!(report.snapshot_offset, Some(20));
    // one past the log end is removed too, and the state rebuilt from the log
    let st = broker_dir(&batches, 20);
    st.put(
        &names::segment_file("t-0", 40, names::SNAPSHOT_SUFFIX),
        &empty,
    );
    let (log, report) = Log::open(st, "t", 0, cfg(), T).unwrap();
    assert_eq!(
        report.removed_files,
        alloc::vec![alloc::format!("{:020}.snapshot", 40)]
    );
    assert_eq!(report.snapshot_offset, None);
    assert_eq!(log.producer_state().producers()[&3].last_seq(), 19);
}
