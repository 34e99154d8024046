//! Producer state after Kafka's ProducerStateManagerTest.

use super::*;
use kproto::records::control::end_transaction_marker_batch;
use kproto::records::{BatchBuilder, BatchConfig};

fn apply(
    m: &mut ProducerStateManager,
    pid: i64,
    epoch: i16,
    last_seq: i32,
    last: u64,
    delta: i32,
    ts: i64,
) {
    let mut info = m.prepare_update(pid, AppendOrigin::Replication);
    info.append_data_batch(epoch, 0, last_seq, ts, last - delta as u64, last, false)
        .unwrap();
    m.update(info);
    m.set_map_end_offset(m.map_end_offset().max(last + 1));
}

/// A data batch at `base` of `n` records of `pid` (transactional or not), values of 300 bytes.
fn data(base: i64, n: usize, pid: i64, epoch: i16, seq: i32, txn: bool, ts: i64) -> Vec<u8> {
    let mut b = BatchBuilder::new(BatchConfig {
        base_offset: base,
        producer_id: pid,
        producer_epoch: epoch,
        base_sequence: seq,
        transactional: txn,
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    });
    for i in 0..n {
        let v = alloc::vec![i as u8; 300];
        b.try_append(ts + i as i64, Some(b"key"), Some(&v), &[])
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

fn replay_all(m: &mut ProducerStateManager, batches: &[Vec<u8>]) -> Vec<(CompletedTxn, u64)> {
    let mut scratch = Vec::new();
    let mut done = Vec::new();
    for bytes in batches {
        let b = BatchView::new_checked(&bytes[..]).unwrap();
        if let Some(txn) = m.replay_batch(&b, &mut scratch).unwrap() {
            done.push((txn, m.last_stable_offset(&txn)));
            m.complete_txn(&txn);
        }
    }
    done
}

#[test]
fn sequences_duplicates_and_epochs() {
    let mut m = ProducerStateManager::new();
    // a new producer may start anywhere
    assert_eq!(m.check(7, 0, 5, 9).unwrap(), SequenceCheck::Append);
    apply(&mut m, 7, 0, 9, 104, 4, 1000);
    assert_eq!(m.check(7, 0, 10, 12).unwrap(), SequenceCheck::Append);
    let e = m.check(7, 0, 12, 14).unwrap_err();
    assert!(
        matches!(
            e,
            ProducerStateError::OutOfOrderSequence {
                first_seq: 12,
                last_seq: 9,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.error_code(), kproto::ErrorCode::OutOfOrderSequenceNumber);
    match m.check(7, 0, 5, 9).unwrap() {
        SequenceCheck::Duplicate(b) => {
            assert_eq!(
                (b.first_offset(), b.last_offset, b.first_seq()),
                (100, 104, 5)
            );
        }
        other => panic!("{other:?}"),
    }
    // a bumped epoch must start at 0
    assert!(m.check(7, 1, 3, 3).is_err());
    assert_eq!(m.check(7, 1, 0, 0).unwrap(), SequenceCheck::Append);
    apply(&mut m, 7, 1, 0, 105, 0, 1001);
    let e = m.check(7, 0, 10, 10).unwrap_err();
    assert_eq!(e.error_code(), kproto::ErrorCode::InvalidProducerEpoch);
    // sequence wrap
    apply(&mut m, 8, 0, i32::MAX, 200, 0, 1);
    assert_eq!(m.check(8, 0, 0, 3).unwrap(), SequenceCheck::Append);
}

#[test]
fn only_the_last_five_batches_are_duplicates() {
    let mut m = ProducerStateManager::new();
    for i in 0..7 {
        apply(&mut m, 1, 0, i, i as u64, 0, 0);
    }
    assert_eq!(m.producers()[&1].batches.len(), 5);
    assert!(matches!(
        m.check(1, 0, 2, 2).unwrap(),
        SequenceCheck::Duplicate(_)
    ));
    assert!(
        m.check(1, 0, 1, 1).is_err(),
        "too old to be known as a duplicate"
    );
    m.remove_expired(100, 50);
    assert!(m.producers().is_empty());
}

#[test]
fn snapshot_round_trip_and_crc() {
    let mut m = ProducerStateManager::new();
    apply(&mut m, 42, 3, 19, 1000, 9, 1_700_000_000_000);
    apply(&mut m, 43, 0, 0, 1001, 0, 1_700_000_000_001);
    let bytes = m.encode_snapshot();
    assert_eq!(bytes.len(), 10 + 2 * 46);
    assert_eq!(&bytes[..2], &[0, 1]);
    let d = ProducerStateManager::decode_snapshot("x", 1002, &bytes).unwrap();
    assert_eq!(d.producers(), m.producers());
    assert_eq!(d.map_end_offset(), 1002);
    let mut bad = bytes.clone();
    bad[20] ^= 1;
    assert!(matches!(
        ProducerStateManager::decode_snapshot("x", 0, &bad),
        Err(SnapshotError::Crc { .. })
    ));
    assert!(ProducerStateManager::decode_snapshot("x", 0, &bytes[..50]).is_err());
}

/// A snapshot in Kafka's layout, CRC filled: `(pid, epoch, last seq, last offset, offset
/// delta, timestamp, coordinator epoch, current txn first offset)` per entry.
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
    let crc = CRC32C.checksum(&out[6..]);
    out[2..6].copy_from_slice(&crc.to_be_bytes());
    out
}

#[test]
fn every_field_of_a_kafka_snapshot_survives_load_and_encode() {
    // a producer whose epoch a marker bumped (no batch of the new epoch: last offset -1, its
    // timestamp the marker's), one with a transaction in progress, one idempotent
    let bytes = kafka_snapshot(&[
        (1000, 4, -1, -1, 0, 1_764_000_000_123, 7, -1),
        (1001, 0, 41, 980, 9, 1_764_000_000_456, 2, 960),
        (1002, 1, 99, 990, 4, 1_764_000_000_789, -1, -1),
    ]);
    let m = ProducerStateManager::decode_snapshot("t-0/x.snapshot", 1000, &bytes).unwrap();
    let e = &m.producers()[&1000];
    assert_eq!((e.epoch, e.last_seq(), e.last_data_offset()), (4, -1, -1));
    assert_eq!(
        (e.last_timestamp(), e.coordinator_epoch),
        (1_764_000_000_123, 7)
    );
    let e = &m.producers()[&1001];
    assert_eq!(e.current_txn_first_offset, Some(960));
    assert_eq!(m.ongoing_txns().get(&960), Some(&1001));
    assert_eq!(m.first_undecided_offset(), Some(960));
    assert_eq!(m.encode_snapshot(), bytes, "re-encoded byte for byte");
}

#[test]
fn inconsistent_snapshot_entries_are_refused() {
    // offset delta larger than the last offset: the duplicate check's first offset would
    // underflow
    for (entry, what) in [
        ((7, 0, 5, 3, 9, 10, -1, -1), "offset delta"),
        ((7, 0, 5, 30, -2, 10, -1, -1), "offset delta"),
        ((7, 0, 5, 100, 0, 10, -1, -1), "last offset at or after"),
        ((7, 0, 5, 30, 0, 10, -1, 100), "transaction first offset"),
    ] {
        let bytes = kafka_snapshot(&[(1, 0, 0, 0, 0, 5, -1, -1), entry]);
        let e = ProducerStateManager::decode_snapshot("s", 100, &bytes).unwrap_err();
        assert!(
            matches!(&e, SnapshotError::InvalidEntry { entry: 1, producer_id: 7, what: w, .. } if w.contains(what)),
            "{e}"
        );
    }
    let mut bytes = kafka_snapshot(&[]);
    bytes[6..10].copy_from_slice(&(-1i32).to_be_bytes());
    let crc = CRC32C.checksum(&bytes[6..]);
    bytes[2..6].copy_from_slice(&crc.to_be_bytes());
    assert!(matches!(
        ProducerStateManager::decode_snapshot("s", 100, &bytes),
        Err(SnapshotError::NegativeCount { count: -1, .. })
    ));
    // an entry loaded anyway (not through a snapshot) cannot make first_offset underflow
    let b = BatchMetadata {
        last_seq: 5,
        last_offset: 3,
        offset_delta: 9,
        timestamp: 0,
    };
    assert_eq!(b.first_offset(), 0);
}

#[test]
fn replay_follows_kafkas_append_for_transactions() {
    let (a, b) = (2000i64, 2001i64);
    let t = 1_764_000_000_000i64;
    let batches = alloc::vec![
        data(0, 3, a, 0, 0, true, t),      // a's txn starts at 0
        data(3, 2, b, 5, 0, true, t + 10), // b's txn starts at 3
        data(5, 4, a, 0, 3, true, t + 20),
        marker(9, a, 0, true, 3, t + 30), // a commits (coordinator epoch 3)
        data(10, 1, 3000, 0, 0, false, t + 35), // an idempotent producer
        data(11, 2, b, 5, 2, true, t + 40),
        marker(13, b, 6, false, 4, t + 50), // b aborted by the coordinator, epoch bumped
        data(14, 2, a, 0, 7, true, t + 60), // a's next txn starts at 14
    ];
    let mut m = ProducerStateManager::new();
    let done = replay_all(&mut m, &batches);
    assert_eq!(m.map_end_offset(), 16);
    // the abort's last stable offset: no other txn was open (a committed at 9, a's next
    // starts at 14), so the marker's offset + 1
    assert_eq!(
        done,
        alloc::vec![
            (
                CompletedTxn {
                    producer_id: a,
                    first_offset: 0,
                    last_offset: 9,
                    is_aborted: false
                },
                3
            ),
            (
                CompletedTxn {
                    producer_id: b,
                    first_offset: 3,
                    last_offset: 13,
                    is_aborted: true
                },
                14
            ),
        ]
    );
    let ea = &m.producers()[&a];
    assert_eq!(ea.current_txn_first_offset, Some(14));
    assert_eq!(
        (ea.last_seq(), ea.coordinator_epoch, ea.last_timestamp()),
        (8, 3, t + 61)
    );
    assert_eq!(
        ea.batches.len(),
        3,
        "a marker of the same epoch keeps the batches"
    );
    let eb = &m.producers()[&b];
    assert_eq!(eb.epoch, 6);
    assert!(
        eb.batches.is_empty(),
        "the marker's new epoch forgets the batches"
    );
    assert_eq!(
        (eb.last_seq(), eb.coordinator_epoch, eb.last_timestamp()),
        (-1, 4, t + 50)
    );
    assert_eq!(eb.current_txn_first_offset, None);
    let ei = &m.producers()[&3000];
    assert_eq!(
        (
            ei.last_seq(),
            ei.coordinator_epoch,
            ei.current_txn_first_offset
        ),
        (0, -1, None)
    );
    assert_eq!(
        m.ongoing_txns().iter().collect::<Vec<_>>(),
        alloc::vec![(&14, &a)]
    );
    assert_eq!(
        m.first_unstable_offset(),
        Some(0),
        "the completed txns are not yet below a high watermark"
    );
    m.on_high_watermark_updated(14);
    assert_eq!(m.first_unstable_offset(), Some(14));
    // a snapshot of it loads as the same state
    let snap = m.encode_snapshot();
    let d = ProducerStateManager::decode_snapshot("s", 16, &snap).unwrap();
    for (pid, e) in m.producers() {
        let got = &d.producers()[pid];
        assert_eq!(
            (
                got.epoch,
                got.last_seq(),
                got.last_data_offset(),
                got.last_offset_delta()
            ),
            (
                e.epoch,
                e.last_seq(),
                e.last_data_offset(),
                e.last_offset_delta()
            )
        );
        assert_eq!(
            (
                got.last_timestamp(),
                got.coordinator_epoch,
                got.current_txn_first_offset
            ),
            (
                e.last_timestamp(),
                e.coordinator_epoch,
                e.current_txn_first_offset
            )
        );
    }
    assert_eq!(d.ongoing_txns(), m.ongoing_txns());
}

#[test]
fn last_stable_offset_of_an_abort_is_the_earliest_other_open_txn() {
    let t = 1_764_000_000_000i64;
    let batches = alloc::vec![
        data(0, 2, 1, 0, 0, true, t),
        data(2, 2, 2, 0, 0, true, t),
        data(4, 2, 3, 0, 0, true, t),
        marker(6, 2, 0, false, 0, t), // 2 aborts while 1 (from 0) and 3 (from 4) are open
        marker(7, 1, 0, false, 0, t), // 1 aborts while 3 is open
        marker(8, 3, 0, false, 0, t), // 3 aborts, nothing open
    ];
    let mut m = ProducerStateManager::new();
    let lsos: Vec<(u64, u64)> = replay_all(&mut m, &batches)
        .iter()
        .map(|(t, lso)| (t.first_offset, *lso))
        .collect();
    assert_eq!(lsos, alloc::vec![(2, 0), (0, 4), (4, 9)]);
}

#[test]
fn client_checks_of_transactions() {
    let t = 1_764_000_000_000i64;
    let mut m = ProducerStateManager::new();
    replay_all(
        &mut m,
        &[data(0, 2, 1, 0, 0, true, t), marker(2, 1, 0, true, 5, t)],
    );
    // a marker from an older coordinator is fenced, from the same or newer accepted
    let mut info = m.prepare_update(1, AppendOrigin::Coordinator);
    let e = info.append_end_txn_marker(true, 4, 0, 3, t).unwrap_err();
    assert_eq!(
        e.error_code(),
        kproto::ErrorCode::TransactionCoordinatorFenced
    );
    assert!(
        info.append_end_txn_marker(false, 5, 0, 3, t)
            .unwrap()
            .is_none(),
        "no txn open"
    );
    // a non-transactional batch inside a transaction
    let mut m = ProducerStateManager::new();
    replay_all(&mut m, &[data(0, 2, 1, 0, 0, true, t)]);
    let mut info = m.prepare_update(1, AppendOrigin::Client);
    let e = info.append_data_batch(0, 2, 2, t, 2, 2, false).unwrap_err();
    assert_eq!(e.error_code(), kproto::ErrorCode::InvalidTxnState);
    // an older epoch from a client or coordinator
    let mut info = m.prepare_update(1, AppendOrigin::Coordinator);
    assert_eq!(
        info.append_end_txn_marker(true, 0, -1, 2, t)
            .unwrap_err()
            .error_code(),
        kproto::ErrorCode::InvalidProducerEpoch
    );
}

#[test]
fn expiry_keeps_producers_with_a_transaction_in_progress() {
    let t = 1_764_000_000_000i64;
    let mut m = ProducerStateManager::new();
    replay_all(
        &mut m,
        &[data(0, 2, 1, 0, 0, true, t), data(2, 2, 2, 0, 0, false, t)],
    );
    m.remove_expired(t + 1001, 1000);
    assert_eq!(m.producers().keys().collect::<Vec<_>>(), alloc::vec![&1]);
}

#[test]
fn hostile_snapshots_never_panic_a_load_or_a_later_check() {
    // every field of every entry drawn at random (the CRC made valid): a load refuses or
    // accepts, and checks of batches against what it accepted never overflow
    let mut rng = kproto::rng::Rng::new(0x5eed);
    let mut accepted = 0;
    for _ in 0..2000 {
        let n = rng.below(6) as usize;
        let pick_i64 = |rng: &mut kproto::rng::Rng| match rng.below(4) {
            0 => rng.next_u64() as i64,
            1 => -(rng.below(3) as i64),
            2 => i64::MAX - rng.below(3) as i64,
            _ => rng.below(2000) as i64,
        };
        let pick_i32 = |rng: &mut kproto::rng::Rng| match rng.below(4) {
            0 => rng.next_u64() as i32,
            1 => -(rng.below(3) as i32),
            2 => i32::MAX - rng.below(3) as i32,
            _ => rng.below(50) as i32,
        };
        let entries: Vec<_> = (0..n)
            .map(|_| {
                (
                    rng.below(4) as i64,
                    pick_i32(&mut rng) as i16,
                    pick_i32(&mut rng),
                    pick_i64(&mut rng),
                    pick_i32(&mut rng),
                    pick_i64(&mut rng),
                    pick_i32(&mut rng),
                    pick_i64(&mut rng),
                )
            })
            .collect();
        let offset = rng.below(3000);
        let Ok(m) = ProducerStateManager::decode_snapshot("s", offset, &kafka_snapshot(&entries))
        else {
            continue;
        };
        accepted += 1;
        for (pid, e) in m.producers() {
            for b in &e.batches {
                assert!(b.first_offset() <= b.last_offset);
                let _ = m.check(*pid, e.epoch, b.first_seq(), b.last_seq);
            }
            let _ = m.check(*pid, e.epoch, pick_i32(&mut rng), pick_i32(&mut rng));
            let _ = m.check(*pid, pick_i32(&mut rng) as i16, 0, 0);
        }
        let _ = m.encode_snapshot();
    }
    assert!(accepted > 100, "some snapshots are accepted: {accepted}");
}
