//! The Kafka-written partition of `integration_tests::kafka_dirs` holds what its plan says, read
//! from the bytes on disk (no klog code involved): every data record at the offset Kafka
//! acknowledged, equal to what was sent, in batches of its producer's codec; a COMMIT or ABORT
//! control batch at every transaction's marker offset; `.txnindex` entries for exactly the
//! aborted transactions, some with a last stable offset below the marker (another transaction
//! was open); two or more segments; producer snapshots holding the transactional producers; and
//! an unclean copy with the active segment's indexes still preallocated.
//!
//! Needs `.ci/install` (Kafka's jars in `$KPP_CACHE/kafka-4.4.0`); fails, never skips, without it.

use integration_tests::kafka_dirs::{kafka_txn_dir, Outcome, ProducerKind};
use integration_tests::segments::{
    file_batches, offset_index_entries, read, segments_in, snapshot_entries_from, snapshots_in,
    txn_index_entries,
};
use kproto::records::control::{parse_control_record, ControlRecord};
use kproto::records::{Compression, DEFAULT_MAX_UNCOMPRESSED};
use std::collections::BTreeMap;

#[test]
fn kafka_txn_dir_holds_the_plan() {
    let dir = kafka_txn_dir();
    let segments = segments_in(&dir.partition);
    assert!(
        segments.len() >= 2,
        "{} segment(s) in {}",
        segments.len(),
        dir.partition.display()
    );

    // producer id per plan producer, from the batches; every record and marker checked
    let mut pid_of: BTreeMap<usize, i64> = BTreeMap::new();
    let mut markers: BTreeMap<u64, (i64, bool, i32)> = BTreeMap::new();
    let mut next = 0u64;
    let mut batches = 0usize;
    let mut scratch = Vec::new();
    let mut by_codec: BTreeMap<&str, usize> = BTreeMap::new();
    for seg in &segments {
        let data = read(&seg.log);
        for b in file_batches(&seg.log, &data) {
            batches += 1;
            assert_eq!(
                b.base_offset(),
                next as i64,
                "{}: batch gap",
                seg.log.display()
            );
            next = b.last_offset() as u64 + 1;
            let recs: Vec<_> = b
                .records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED)
                .expect("records")
                .collect::<Result<_, _>>()
                .expect("record");
            if b.is_control() {
                assert_eq!(recs.len(), 1, "one marker per control batch");
                assert_eq!(b.compression().expect("codec"), Compression::None);
                match parse_control_record(&recs[0]).expect("marker") {
                    ControlRecord::EndTransaction {
                        commit,
                        coordinator_epoch,
                        ..
                    } => {
                        markers.insert(
                            b.base_offset() as u64,
                            (b.producer_id(), commit, coordinator_epoch),
                        );
                    }
                    other => panic!("unexpected control record {other:?}"),
                }
                continue;
            }
            for r in &recs {
                let want = dir
                    .record_at(r.offset as u64)
                    .unwrap_or_else(|| panic!("no record planned at {}", r.offset));
                let spec = &dir.producers[want.producer];
                assert_eq!(
                    b.compression().expect("codec"),
                    spec.codec,
                    "codec at {}",
                    r.offset
                );
                assert_eq!(
                    b.is_transactional(),
                    matches!(spec.kind, ProducerKind::Transactional(_)),
                    "transactional flag at {}",
                    r.offset
                );
                let pid = *pid_of.entry(want.producer).or_insert(b.producer_id());
                assert_eq!(pid, b.producer_id(), "{} changed id", spec.name);
                assert_eq!(r.timestamp, want.timestamp, "timestamp at {}", r.offset);
                assert_eq!(r.key, want.key.as_deref(), "key at {}", r.offset);
                assert_eq!(r.value, want.value.as_deref(), "value at {}", r.offset);
                let headers: Vec<(String, Option<Vec<u8>>)> = r
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            String::from_utf8(h.key.to_vec()).expect("UTF-8 key"),
                            h.value.map(<[u8]>::to_vec),
                        )
                    })
                    .collect();
                assert_eq!(headers, want.headers, "headers at {}", r.offset);
            }
            *by_codec
                .entry(b.compression().expect("codec").name())
                .or_default() += 1;
        }
    }
    assert_eq!(next, dir.log_end_offset, "log end");
    assert_eq!(pid_of.len(), dir.producers.len(), "every producer wrote");
    for c in Compression::ALL {
        assert!(
            by_codec.get(c.name()).is_some_and(|&n| n > 0),
            "no {c} batch"
        );
    }

    // a marker of the right kind, from the right producer, at every transaction's end
    assert_eq!(markers.len(), dir.transactions.len(), "markers");
    for t in &dir.transactions {
        let (pid, commit, _epoch) = markers[&t.marker_offset];
        assert_eq!(pid, pid_of[&t.producer], "marker at {}", t.marker_offset);
        assert_eq!(commit, t.outcome == Outcome::Committed);
    }
    let commits = markers.values().filter(|m| m.1).count();
    assert!(
        commits > 0 && commits < markers.len(),
        "{commits} of {} commits",
        markers.len()
    );

    // .txnindex: exactly the aborted transactions, each in the segment holding its marker
    let mut entries = Vec::new();
    for (k, seg) in segments.iter().enumerate() {
        let end = segments.get(k + 1).map_or(u64::MAX, |s| s.base);
        for e in txn_index_entries(&seg.txnindex) {
            assert_eq!(e.version, 0);
            assert!(
                (seg.base..end).contains(&(e.last_offset as u64)),
                "{}: entry {e:?} outside the segment",
                seg.txnindex.display()
            );
            entries.push((
                e.producer_id,
                e.first_offset as u64,
                e.last_offset as u64,
                e.last_stable_offset as u64,
            ));
        }
    }
    let want: Vec<(i64, u64, u64, u64)> = dir
        .aborted()
        .into_iter()
        .map(|(p, first, last, lso)| (pid_of[&p], first, last, lso))
        .collect();
    assert_eq!(entries, want, "aborted transactions in .txnindex");
    assert!(
        want.iter().any(|&(_, _, last, lso)| lso <= last),
        "no abort with another transaction open"
    );
    assert!(
        want.iter().any(|&(_, _, last, lso)| lso == last + 1),
        "no abort with nothing else open"
    );

    // producer snapshots (one per roll, one at shutdown) hold the transactional producers
    let snapshots = snapshots_in(&dir.partition);
    assert!(!snapshots.is_empty(), "no producer snapshot");
    let (last_at, last) = snapshots.last().expect("one");
    assert_eq!(
        *last_at, dir.log_end_offset,
        "the shutdown snapshot is at the log end"
    );
    let entries = snapshot_entries_from(last, &read(last));
    for (p, spec) in dir.producers.iter().enumerate() {
        let e = entries
            .iter()
            .find(|e| e.producer_id == pid_of[&p])
            .unwrap_or_else(|| panic!("{} not in {}", spec.name, last.display()));
        if let ProducerKind::Transactional(_) = spec.kind {
            assert!(e.coordinator_epoch >= 0, "{}: {e:?}", spec.name);
            assert_eq!(
                e.current_txn_first_offset, -1,
                "{}: no open transaction",
                spec.name
            );
        }
    }

    // the unclean copy: the same log, but the active segment's index is still preallocated
    let unclean = segments_in(&dir.unclean_partition);
    assert_eq!(
        unclean.iter().map(|s| s.base).collect::<Vec<_>>(),
        segments.iter().map(|s| s.base).collect::<Vec<_>>()
    );
    for (u, c) in unclean.iter().zip(&segments) {
        assert_eq!(read(&u.log), read(&c.log), "{}", u.log.display());
    }
    let (u, c) = (unclean.last().expect("one"), segments.last().expect("one"));
    let u_index = offset_index_entries(&u.index, u.base);
    let c_index = offset_index_entries(&c.index, c.base);
    assert!(
        u_index.len() > c_index.len() && u_index[..c_index.len()] == c_index[..],
        "unclean active index: {} entries, clean {}",
        u_index.len(),
        c_index.len()
    );
    assert!(
        snapshots_in(&dir.unclean_partition)
            .iter()
            .all(|(o, _)| *o < dir.log_end_offset),
        "the unclean copy has no snapshot at the log end"
    );

    println!(
        "{}: {} segments, {batches} batches ({by_codec:?}), {} records, {} transactions ({} aborted), \
         {} snapshots, log end {}",
        dir.partition.display(),
        segments.len(),
        dir.records.len(),
        dir.transactions.len(),
        want.len(),
        snapshots.len(),
        dir.log_end_offset
    );
}
