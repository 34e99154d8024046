//! Fetch v4–v18 and delayed fetches over MemStorage, with KB records, a 1 MB batch, several
//! topics and partitions, transactions and topic ids.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

use kproto::messages::create_topics::request::CreatableTopicConfig;
use kproto::messages::fetch::request::{FetchPartition, FetchTopic, ReplicaState};
use kproto::messages::fetch::response::PartitionData;
use kproto::messages::{FetchRequest, FetchResponse, ResponseBody};
use kproto::records::{BatchBuilder, BatchConfig, Batches};
use kproto::{ApiKey, ErrorCode, KStr, RequestBody, Uuid};

use super::tests::{decode_answer, frame, header, NOW};
use super::tests_metadata::{broker_with, creatable, create_topics};
use super::{Broker, Handled};
use crate::testutil::batch;
use crate::MemStorage;

pub(crate) fn broker() -> Broker<MemStorage> {
    broker_with(&[])
}

/// Appends `batches` batches of `records` records with `value_len`-byte values to `t-p` and
/// moves the high watermark to the log end. Returns the log end offset.
pub(crate) fn fill(
    b: &mut Broker<MemStorage>,
    t: &str,
    p: i32,
    batches: usize,
    records: usize,
    value_len: usize,
) -> u64 {
    let log = b.logs.log_mut(t, p).unwrap();
    for i in 0..batches {
        let mut bytes = batch(records, NOW + i as i64 * 10, value_len, (i % 200) as u8);
        log.append(&mut bytes, NOW).unwrap();
    }
    let leo = log.log_end_offset();
    log.set_high_watermark(leo);
    leo
}

fn topic(b: &mut Broker<MemStorage>, name: &str, partitions: i32) -> Uuid {
    let r = create_topics(b, 7, alloc::vec![creatable(name, partitions)], false);
    assert_eq!(r.topics[0].error_code, 0, "{:?}", r.topics[0]);
    r.topics[0].topic_id
}

fn part(p: i32, offset: i64, max: i32) -> FetchPartition {
    FetchPartition {
        partition: p,
        fetch_offset: offset,
        partition_max_bytes: max,
        current_leader_epoch: -1,
        last_fetched_epoch: -1,
        log_start_offset: -1,
        ..FetchPartition::default()
    }
}

fn request(topics: Vec<(&str, Uuid, Vec<FetchPartition>)>) -> FetchRequest {
    FetchRequest {
        replica_id: -1,
        max_wait_ms: 0,
        min_bytes: 1,
        max_bytes: 50 << 20,
        session_id: 0,
        session_epoch: -1,
        topics: topics
            .into_iter()
            .map(|(t, id, partitions)| FetchTopic {
                topic: KStr::from(t),
                topic_id: id,
                partitions,
                ..FetchTopic::default()
            })
            .collect(),
        ..FetchRequest::default()
    }
}

fn send(b: &mut Broker<MemStorage>, conn: u64, version: i16, req: &FetchRequest) -> Handled {
    let body = RequestBody::Fetch(Box::new(req.clone()));
    b.handle_frame(conn, frame(&header(ApiKey::Fetch, version, 77), &body), NOW)
}

fn decode(bytes: &bytes::Bytes, version: i16) -> FetchResponse {
    let (corr, body) = decode_answer(bytes, ApiKey::Fetch, version);
    assert_eq!(corr, 77);
    match body {
        ResponseBody::Fetch(r) => *r,
        other => panic!("{other:?}"),
    }
}

fn fetch(b: &mut Broker<MemStorage>, version: i16, req: &FetchRequest) -> FetchResponse {
    match send(b, 1, version, req) {
        Handled::Respond(bytes) => decode(&bytes, version),
        other => panic!("v{version}: {other:?}"),
    }
}

/// `(base offset, last offset)` of the whole batches in `records`, checking their CRCs, and
/// the bytes of a partial trailing batch.
fn batches_of(records: &[u8]) -> (Vec<(i64, i64)>, usize) {
    let mut walk = Batches::new(records);
    let mut out = Vec::new();
    for bt in walk.by_ref() {
        let bt = bt.unwrap();
        bt.validate().unwrap();
        out.push((bt.base_offset(), bt.last_offset()));
    }
    (out, walk.remainder().len())
}

fn records(p: &PartitionData) -> &[u8] {
    p.records.as_deref().unwrap_or_default()
}

#[test]
fn every_version_reads_kb_records_from_several_topics_and_partitions() {
    let mut b = broker();
    let orders = topic(&mut b, "orders", 3);
    let audit = topic(&mut b, "audit", 1);
    for p in 0..3 {
        assert_eq!(fill(&mut b, "orders", p, 3, 100, 1024), 300);
    }
    assert_eq!(fill(&mut b, "audit", 0, 2, 150, 2000), 300);
    for v in 4..=18i16 {
        let req = request(alloc::vec![
            (
                "orders",
                orders,
                (0..3)
                    .map(|p| part(p, 100 * i64::from(p), 1 << 20))
                    .collect()
            ),
            ("audit", audit, alloc::vec![part(0, 0, 1 << 20)]),
        ]);
        let r = fetch(&mut b, v, &req);
        assert_eq!(r.error_code, 0, "v{v}");
        assert_eq!(r.session_id, 0);
        assert_eq!(r.responses.len(), 2, "v{v}");
        let names: Vec<_> = r
            .responses
            .iter()
            .map(|t| (t.topic.as_str(), t.topic_id))
            .collect();
        if v >= 13 {
            assert_eq!(names, [("", orders), ("", audit)], "v{v}: ids, no names");
        } else {
            assert_eq!(
                names,
                [("orders", Uuid::ZERO), ("audit", Uuid::ZERO)],
                "v{v}"
            );
        }
        for (i, pd) in r.responses[0].partitions.iter().enumerate() {
            assert_eq!(pd.partition_index, i as i32);
            assert_eq!(pd.error_code, 0);
            assert_eq!(pd.high_watermark, 300);
            assert_eq!(pd.last_stable_offset, 300, "v{v}");
            if v >= 5 {
                assert_eq!(pd.log_start_offset, 0);
            }
            if v >= 11 {
                assert_eq!(pd.preferred_read_replica, -1);
            }
            assert_eq!(pd.aborted_transactions, None, "read uncommitted");
            let (bs, partial) = batches_of(records(pd));
            // from the batch holding the fetch offset to the end: whole batches of 100
            let want: Vec<_> = (i as i64..3).map(|k| (100 * k, 100 * k + 99)).collect();
            assert_eq!((bs, partial), (want, 0), "v{v} p{i}");
        }
        let (bs, _) = batches_of(records(&r.responses[1].partitions[0]));
        assert_eq!(bs, [(0, 149), (150, 299)]);
    }
    assert_eq!(b.metrics().apis[&ApiKey::Fetch.key()].requests, 15);
    assert!(b.metrics().bytes_out > 15 * 900_000);
}

#[test]
fn the_first_batch_is_whole_however_large_and_limits_cut_inside_batches() {
    let mut b = broker();
    let id = topic(&mut b, "big", 2);
    // partition 0: one 1 MB batch then small ones; partition 1: ten 10 KB batches
    {
        let log = b.logs.log_mut("big", 0).unwrap();
        let mut huge = batch(1000, NOW, 1000, 9);
        assert!(huge.len() > 1_000_000);
        log.append(&mut huge, NOW).unwrap();
        for i in 0..5 {
            let mut small = batch(10, NOW, 1000, i);
            log.append(&mut small, NOW).unwrap();
        }
        let leo = log.log_end_offset();
        log.set_high_watermark(leo);
    }
    fill(&mut b, "big", 1, 10, 10, 1000);
    let small_len = batch(10, NOW, 1000, 0).len();

    // response max 4 KB, partition max 8 KB: the 1 MB batch comes whole, alone
    let mut req = request(alloc::vec![(
        "big",
        id,
        alloc::vec![part(0, 0, 8192), part(1, 0, 8192)]
    )]);
    req.max_bytes = 4096;
    let r = fetch(&mut b, 12, &req);
    let p0 = &r.responses[0].partitions[0];
    let p1 = &r.responses[0].partitions[1];
    assert_eq!(batches_of(records(p0)), (alloc::vec![(0, 999)], 0));
    assert!(records(p0).len() > 1_000_000);
    assert_eq!(
        records(p1),
        b"",
        "response limit used up: nothing, no error"
    );
    assert_eq!(p1.error_code, 0);
    assert_eq!(p1.high_watermark, 100);

    // partition max 25 KB from the third small batch: two whole batches and the first
    // bytes of the next one, exactly 25 KB
    let mut req = request(alloc::vec![("big", id, alloc::vec![part(1, 25, 25_000)])]);
    req.max_bytes = 1 << 20;
    let r = fetch(&mut b, 11, &req);
    let got = records(&r.responses[0].partitions[0]);
    assert_eq!(got.len(), 25_000);
    let (bs, partial) = batches_of(got);
    assert_eq!(bs, [(20, 29), (30, 39)], "from the batch holding offset 25");
    assert_eq!(partial, 25_000 - 2 * small_len);

    // the response limit cuts the second partition inside a batch, after a first whole one
    let mut req = request(alloc::vec![(
        "big",
        id,
        alloc::vec![part(1, 0, 1 << 20), part(0, 1000, 1 << 20)]
    )]);
    req.max_bytes = (11 * small_len + small_len / 2) as i32;
    let r = fetch(&mut b, 12, &req);
    let (bs, partial) = batches_of(records(&r.responses[0].partitions[0]));
    assert_eq!((bs.len(), partial), (10, 0));
    let (bs, partial) = batches_of(records(&r.responses[0].partitions[1]));
    assert_eq!((bs, partial), (alloc::vec![(1000, 1009)], small_len / 2));
    // with less left than its first batch, the second partition gets nothing rather than
    // a partial batch (Kafka's firstEntryIncomplete)
    req.max_bytes = (10 * small_len + small_len / 2) as i32;
    let r = fetch(&mut b, 12, &req);
    assert_eq!(records(&r.responses[0].partitions[1]), b"");

    // a later partition whose first batch does not fit gets nothing (no partial batch)
    let mut req = request(alloc::vec![(
        "big",
        id,
        alloc::vec![part(1, 0, 1 << 20), part(0, 0, 1 << 20)]
    )]);
    req.max_bytes = 200_000;
    let r = fetch(&mut b, 12, &req);
    assert_eq!(records(&r.responses[0].partitions[0]).len(), 10 * small_len);
    assert_eq!(records(&r.responses[0].partitions[1]), b"");
}

#[test]
fn reads_stop_at_a_segment_end_and_the_high_watermark() {
    let mut b = broker();
    let id = topic(&mut b, "seg", 1);
    fill(&mut b, "seg", 0, 4, 50, 1000);
    b.logs.log_mut("seg", 0).unwrap().roll(NOW).unwrap();
    fill(&mut b, "seg", 0, 4, 50, 1000);
    // the high watermark below the last batch
    b.logs.log_mut("seg", 0).unwrap().set_high_watermark(350);
    let req = request(alloc::vec![(
        "seg",
        id,
        alloc::vec![part(0, 120, 10 << 20)]
    )]);
    let r = fetch(&mut b, 10, &req);
    let (bs, partial) = batches_of(records(&r.responses[0].partitions[0]));
    assert_eq!(bs, [(100, 149), (150, 199)], "the first segment only");
    assert_eq!(partial, 0, "nothing of the next segment");
    let req = request(alloc::vec![(
        "seg",
        id,
        alloc::vec![part(0, 200, 10 << 20)]
    )]);
    let r = fetch(&mut b, 10, &req);
    let pd = &r.responses[0].partitions[0];
    assert_eq!(
        batches_of(records(pd)).0,
        [(200, 249), (250, 299), (300, 349)]
    );
    assert_eq!(pd.high_watermark, 350);
    // at the high watermark and between it and the log end: empty, no error
    for at in [350, 380, 400] {
        let req = request(alloc::vec![("seg", id, alloc::vec![part(0, at, 1 << 20)])]);
        let pd = fetch(&mut b, 10, &req).responses[0].partitions[0].clone();
        assert_eq!((pd.error_code, records(&pd).len()), (0, 0), "offset {at}");
    }
}

#[test]
fn offsets_out_of_range_and_unknown_topics_partitions_and_ids() {
    let mut b = broker();
    let id = topic(&mut b, "t", 2);
    fill(&mut b, "t", 0, 5, 100, 500);
    b.logs
        .log_mut("t", 0)
        .unwrap()
        .increment_log_start_offset(200)
        .unwrap();
    let req = request(alloc::vec![
        (
            "t",
            id,
            alloc::vec![part(0, 199, 1 << 20), part(0, 200, 1 << 20)]
        ),
        ("nope", Uuid::ZERO, alloc::vec![part(0, 0, 1024)]),
        (
            "t",
            id,
            alloc::vec![part(5, 0, 1024), part(1, 1, 1024), part(1, -1, 1024)]
        ),
    ]);
    // v12: by name; t-0 named twice is answered once with its last offset (200), t-1 twice
    // with -1: out of range; t-5 and "nope" after the reads
    let r = fetch(&mut b, 12, &req);
    let flat: Vec<_> = r
        .responses
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(move |p| {
                (
                    String::from(t.topic.as_str()),
                    p.partition_index,
                    p.error_code,
                )
            })
        })
        .collect();
    let oor = ErrorCode::OffsetOutOfRange.code();
    let unknown = ErrorCode::UnknownTopicOrPartition.code();
    assert_eq!(
        flat,
        [
            ("t".into(), 0, 0),
            ("t".into(), 1, oor),
            ("nope".into(), 0, unknown),
            ("t".into(), 5, unknown),
        ]
    );
    assert_eq!(
        r.responses.len(),
        3,
        "t, nope, t: consecutive partitions share a topic"
    );
    let t0 = &r.responses[0].partitions[0];
    assert_eq!(batches_of(records(t0)).0[0], (200, 299));
    assert_eq!(t0.log_start_offset, 200);
    let t1 = &r.responses[0].partitions[1];
    assert_eq!(
        (
            t1.high_watermark,
            t1.log_start_offset,
            t1.last_stable_offset
        ),
        (-1, -1, -1)
    );
    // past the log end; below the log start
    for at in [501, 150] {
        let req = request(alloc::vec![("t", id, alloc::vec![part(0, at, 1024)])]);
        assert_eq!(
            fetch(&mut b, 12, &req).responses[0].partitions[0].error_code,
            oor
        );
    }
    // v13: by id; an unknown id is UNKNOWN_TOPIC_ID
    let other = Uuid::from_u64_pair(7, 7);
    let req = request(alloc::vec![
        ("", other, alloc::vec![part(0, 0, 1024)]),
        ("", id, alloc::vec![part(0, 200, 1 << 20)]),
    ]);
    for v in 13..=18 {
        let r = fetch(&mut b, v, &req);
        assert_eq!(r.responses.len(), 2);
        assert_eq!(r.responses[0].topic_id, id, "reads first");
        assert_eq!(r.responses[0].partitions[0].error_code, 0);
        assert_eq!(r.responses[1].topic_id, other);
        assert_eq!(
            r.responses[1].partitions[0].error_code,
            ErrorCode::UnknownTopicId.code()
        );
        assert_eq!(records(&r.responses[1].partitions[0]), b"");
    }
    let errors = &b.metrics().apis[&ApiKey::Fetch.key()].errors;
    assert_eq!(errors[&ErrorCode::UnknownTopicId], 6);
    assert_eq!(errors[&ErrorCode::OffsetOutOfRange], 3);
}

#[test]
fn sessions_are_not_cached_and_incremental_fetches_find_none() {
    let mut b = broker();
    let id = topic(&mut b, "s", 1);
    fill(&mut b, "s", 0, 2, 100, 1000);
    for v in 7..=18 {
        let mut req = request(alloc::vec![("s", id, alloc::vec![part(0, 0, 1 << 20)])]);
        // a full fetch asking for a session (epoch 0), or closing one: sessionless
        for (session, epoch) in [(0, 0), (0, -1), (12345, 0), (12345, -1)] {
            req.session_id = session;
            req.session_epoch = epoch;
            let r = fetch(&mut b, v, &req);
            assert_eq!((r.error_code, r.session_id), (0, 0), "v{v}");
            assert_eq!(r.responses[0].partitions[0].error_code, 0);
        }
        // incremental: no such session
        for (session, epoch) in [(12345, 1), (0, 1), (99, 7), (99, -2)] {
            req.session_id = session;
            req.session_epoch = epoch;
            let r = fetch(&mut b, v, &req);
            assert_eq!(
                r.error_code,
                ErrorCode::FetchSessionIdNotFound.code(),
                "v{v}"
            );
            assert_eq!(r.session_id, 0);
            assert!(r.responses.is_empty());
        }
    }
}

#[test]
fn leader_epochs_followers_and_the_current_leader_from_v16() {
    let mut b = broker();
    let id = topic(&mut b, "e", 1);
    fill(&mut b, "e", 0, 2, 100, 1000);
    b.logs.log_mut("e", 0).unwrap().set_leader_epoch(3);
    let code = |b: &mut Broker<MemStorage>, v: i16, req: &FetchRequest| {
        fetch(b, v, req).responses[0].partitions[0].clone()
    };
    let mut p = part(0, 0, 1 << 20);
    for (epoch, want) in [
        (3, ErrorCode::None),
        (2, ErrorCode::FencedLeaderEpoch),
        (4, ErrorCode::UnknownLeaderEpoch),
        (-1, ErrorCode::None),
    ] {
        p.current_leader_epoch = epoch;
        let req = request(alloc::vec![("e", id, alloc::vec![p.clone()])]);
        for v in [9, 12, 15, 16, 18] {
            let pd = code(&mut b, v, &req);
            assert_eq!(pd.error_code, want.code(), "v{v} epoch {epoch}");
        }
    }
    // v16+: FENCED_LEADER_EPOCH names the leader and its endpoint
    p.current_leader_epoch = 1;
    let req = request(alloc::vec![("e", id, alloc::vec![p.clone()])]);
    let r = fetch(&mut b, 17, &req);
    let pd = &r.responses[0].partitions[0];
    assert_eq!(
        (pd.current_leader.leader_id, pd.current_leader.leader_epoch),
        (1, 3)
    );
    assert_eq!(r.node_endpoints.len(), 1);
    assert_eq!(
        (
            r.node_endpoints[0].node_id,
            r.node_endpoints[0].host.as_str(),
            r.node_endpoints[0].port
        ),
        (1, "localhost", 9092)
    );
    // a follower is no replica here
    for v in [12, 14, 15, 18] {
        let mut p = part(0, 0, 1 << 20);
        let mut req = request(alloc::vec![("e", id, alloc::vec![p.clone()])]);
        if v >= 15 {
            req.replica_state = ReplicaState {
                replica_id: 2,
                replica_epoch: 9,
                ..ReplicaState::default()
            };
        } else {
            req.replica_id = 2;
        }
        assert_eq!(
            code(&mut b, v, &req).error_code,
            ErrorCode::NotLeaderOrFollower.code()
        );
        p.current_leader_epoch = 3;
        req.topics[0].partitions[0] = p;
        assert_eq!(
            code(&mut b, v, &req).error_code,
            ErrorCode::UnknownLeaderEpoch.code()
        );
    }
}

#[test]
fn a_diverging_last_fetched_epoch_is_answered_with_the_epoch_end() {
    let mut b = broker();
    let id = topic(&mut b, "d", 1);
    fill(&mut b, "d", 0, 3, 100, 1000);
    b.logs.log_mut("d", 0).unwrap().set_leader_epoch(2);
    let mut p = part(0, 250, 1 << 20);
    // the current epoch: no divergence below the log end
    p.last_fetched_epoch = 2;
    let req = request(alloc::vec![("d", id, alloc::vec![p.clone()])]);
    let pd = fetch(&mut b, 12, &req).responses[0].partitions[0].clone();
    assert_eq!((pd.error_code, pd.diverging_epoch.epoch), (0, -1));
    assert!(!records(&pd).is_empty());
    // an older epoch ends where the current one starts (the log start here): diverging,
    // by name (v12) and by topic id (v13)
    p.last_fetched_epoch = 1;
    for (v, name) in [(12, "d"), (13, "")] {
        let req = request(alloc::vec![(name, id, alloc::vec![p.clone()])]);
        let pd = fetch(&mut b, v, &req).responses[0].partitions[0].clone();
        assert_eq!(pd.error_code, 0);
        assert_eq!(
            (pd.diverging_epoch.epoch, pd.diverging_epoch.end_offset),
            (1, 0),
            "v{v}"
        );
        assert_eq!(records(&pd), b"");
        assert_eq!(pd.high_watermark, 300);
    }
    // a newer epoch than any: out of range
    p.last_fetched_epoch = 5;
    let req = request(alloc::vec![("d", id, alloc::vec![p])]);
    let pd = fetch(&mut b, 12, &req).responses[0].partitions[0].clone();
    assert_eq!(pd.error_code, ErrorCode::OffsetOutOfRange.code());
}

/// A transactional batch of `n` 1 KB records from `pid` (epoch 0).
fn txn_batch(n: usize, pid: i64, seq: i32) -> Vec<u8> {
    let mut bb = BatchBuilder::new(BatchConfig {
        producer_id: pid,
        producer_epoch: 0,
        base_sequence: seq,
        transactional: true,
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    });
    for i in 0..n {
        let v = alloc::vec![(pid as u8).wrapping_add(i as u8); 1024];
        bb.try_append(NOW + i as i64, Some(b"txn-key"), Some(&v), &[])
            .unwrap();
    }
    bb.finish().unwrap()
}

#[test]
fn read_committed_stops_at_the_last_stable_offset_with_the_aborted_transactions() {
    let mut b = broker();
    let id = topic(&mut b, "tx", 1);
    {
        let log = b.logs.log_mut("tx", 0).unwrap();
        // 0..100 plain; 100..200 aborted txn of 1000; marker 200; 201..301 committed txn of
        // 2000; marker 301; 302..352 plain; 352..452 open txn of 3000; 452..502 plain
        log.append(&mut batch(100, NOW, 1024, 1), NOW).unwrap();
        log.append(&mut txn_batch(100, 1000, 0), NOW).unwrap();
        log.append_txn_marker(1000, 0, false, 0, NOW).unwrap();
        log.append(&mut txn_batch(100, 2000, 0), NOW).unwrap();
        log.append_txn_marker(2000, 0, true, 0, NOW).unwrap();
        log.append(&mut batch(50, NOW, 1024, 2), NOW).unwrap();
        log.append(&mut txn_batch(100, 3000, 0), NOW).unwrap();
        log.append(&mut batch(50, NOW, 1024, 3), NOW).unwrap();
        let leo = log.log_end_offset();
        assert_eq!(leo, 502);
        log.set_high_watermark(leo);
        assert_eq!(log.last_stable_offset(), 352);
    }
    let mut req = request(alloc::vec![("tx", id, alloc::vec![part(0, 0, 10 << 20)])]);
    req.isolation_level = 1;
    for v in 4..=18 {
        let t = if v >= 13 { "" } else { "tx" };
        req.topics[0].topic = KStr::from(t);
        let pd = fetch(&mut b, v, &req).responses[0].partitions[0].clone();
        assert_eq!(
            (pd.high_watermark, pd.last_stable_offset),
            (502, 352),
            "v{v}"
        );
        let (bs, _) = batches_of(records(&pd));
        assert_eq!(
            bs.last().unwrap().1,
            351,
            "v{v}: up to the last stable offset"
        );
        let aborted: Vec<_> = pd
            .aborted_transactions
            .unwrap()
            .iter()
            .map(|a| (a.producer_id, a.first_offset))
            .collect();
        assert_eq!(aborted, [(1000, 100)], "v{v}");
    }
    // from the committed transaction on: no aborted transaction in range, an empty list
    req.topics[0].topic = KStr::from("tx");
    req.topics[0].partitions[0].fetch_offset = 201;
    let pd = fetch(&mut b, 12, &req).responses[0].partitions[0].clone();
    assert_eq!(pd.aborted_transactions, Some(Vec::new()));
    // at the last stable offset: nothing yet, and an empty list
    req.topics[0].partitions[0].fetch_offset = 352;
    let pd = fetch(&mut b, 12, &req).responses[0].partitions[0].clone();
    assert_eq!(
        (records(&pd).len(), pd.aborted_transactions.clone()),
        (0, Some(Vec::new()))
    );
    // read uncommitted: up to the high watermark, no aborted list
    req.isolation_level = 0;
    req.topics[0].partitions[0].fetch_offset = 0;
    let pd = fetch(&mut b, 12, &req).responses[0].partitions[0].clone();
    assert_eq!(batches_of(records(&pd)).0.last().unwrap().1, 501);
    assert_eq!(pd.aborted_transactions, None);
    // an isolation level Kafka does not define
    req.isolation_level = 3;
    let r = fetch(&mut b, 12, &req);
    assert_eq!(r.error_code, ErrorCode::UnknownServerError.code());
    assert_eq!(
        r.responses[0].partitions[0].error_code,
        ErrorCode::UnknownServerError.code()
    );
}

#[test]
fn zstd_topics_need_v10() {
    let mut b = broker();
    let mut t = creatable("z", 1);
    t.configs = alloc::vec![CreatableTopicConfig {
        name: KStr::from("compression.type"),
        value: Some(KStr::from("zstd")),
        ..CreatableTopicConfig::default()
    }];
    let r = create_topics(&mut b, 7, alloc::vec![t], false);
    assert_eq!(r.topics[0].error_code, 0);
    fill(&mut b, "z", 0, 1, 100, 1000);
    let req = request(alloc::vec![(
        "z",
        Uuid::ZERO,
        alloc::vec![part(0, 0, 1 << 20)]
    )]);
    for v in 4..=12 {
        let pd = fetch(&mut b, v, &req).responses[0].partitions[0].clone();
        if v < 10 {
            assert_eq!(
                pd.error_code,
                ErrorCode::UnsupportedCompressionType.code(),
                "v{v}"
            );
            assert_eq!(pd.records, None);
        } else {
            assert_eq!(pd.error_code, 0, "v{v}");
            assert_eq!(batches_of(records(&pd)).0, [(0, 99)]);
        }
    }
}

fn delayed_request(id: Uuid, offset: i64, min_bytes: i32, wait: i32) -> FetchRequest {
    let mut req = request(alloc::vec![(
        "w",
        id,
        alloc::vec![part(0, offset, 1 << 20), part(1, offset, 1 << 20)]
    )]);
    req.min_bytes = min_bytes;
    req.max_wait_ms = wait;
    req
}

#[test]
fn a_fetch_waits_for_min_bytes_and_completes_when_data_arrives() {
    let mut b = broker();
    let id = topic(&mut b, "w", 2);
    fill(&mut b, "w", 0, 1, 100, 1000);
    let maintenance = b.poll_timeout().unwrap();
    // 100 KB there, 300 KB wanted: pending until the deadline
    let req = delayed_request(id, 0, 300_000, 500);
    assert_eq!(send(&mut b, 9, 12, &req), Handled::Pending);
    assert_eq!(b.poll_timeout(), Some(maintenance.min(NOW + 500)));
    assert_eq!(b.metrics().delayed_fetches, 1);
    assert!(b.poll_completed().is_none());
    // an append that is not enough: still waiting
    fill(&mut b, "w", 1, 1, 100, 1000);
    b.wake_delayed_fetches(NOW + 10);
    assert!(b.poll_completed().is_none());
    // enough on the other partition now
    fill(&mut b, "w", 1, 2, 100, 1000);
    b.wake_delayed_fetches(NOW + 20);
    let (conn, bytes) = b.poll_completed().expect("completed");
    assert_eq!(conn, 9);
    let r = decode(&bytes, 12);
    let offsets: Vec<_> = r.responses[0]
        .partitions
        .iter()
        .map(|p| batches_of(records(p)).0.last().unwrap().1)
        .collect();
    assert_eq!(offsets, [99, 299], "read again when completed");
    assert_eq!(b.metrics().delayed_fetches, 0);
    assert_eq!(b.poll_timeout(), Some(maintenance));
}

#[test]
fn a_waiting_fetch_expires_with_what_there_is_and_a_closed_connection_drops_it() {
    let mut b = broker();
    let id = topic(&mut b, "w", 2);
    fill(&mut b, "w", 0, 2, 100, 1000);
    for v in [4i16, 11, 18] {
        let mut req = delayed_request(id, 0, 1 << 20, 2_000);
        if v >= 13 {
            req.topics[0].topic = KStr::from("");
        }
        assert_eq!(send(&mut b, 3, v, &req), Handled::Pending, "v{v}");
        b.handle_timeout(NOW + 1_999);
        assert!(b.poll_completed().is_none());
        b.handle_timeout(NOW + 2_000);
        let (conn, bytes) = b.poll_completed().expect("expired");
        assert_eq!(conn, 3);
        let r = decode(&bytes, v);
        let p0 = &r.responses[0].partitions[0];
        assert_eq!(batches_of(records(p0)).0, [(0, 99), (100, 199)]);
        assert_eq!(records(&r.responses[0].partitions[1]), b"");
    }
    // the client goes away: nothing is answered
    let mut req = delayed_request(id, 200, 1, 30_000);
    req.topics[0].partitions[1].fetch_offset = 0;
    assert_eq!(send(&mut b, 4, 12, &req), Handled::Pending);
    b.connection_closed(4);
    fill(&mut b, "w", 0, 1, 100, 1000);
    b.wake_delayed_fetches(NOW);
    b.handle_timeout(NOW + 30_000);
    assert!(b.poll_completed().is_none());
    assert_eq!(b.metrics().delayed_fetches, 0);
}

#[test]
fn waiting_is_skipped_when_it_cannot_help() {
    let mut b = broker();
    let id = topic(&mut b, "w", 2);
    fill(&mut b, "w", 0, 1, 100, 1000);
    // enough at once; no wait asked; an error on a partition
    let answered = |b: &mut Broker<MemStorage>, req: &FetchRequest| {
        matches!(send(b, 1, 12, req), Handled::Respond(_))
    };
    assert!(answered(&mut b, &delayed_request(id, 0, 50_000, 1_000)));
    assert!(answered(&mut b, &delayed_request(id, 0, 1 << 20, 0)));
    let mut req = delayed_request(id, 0, 1 << 20, 1_000);
    req.topics[0].partitions[1].fetch_offset = 5;
    assert!(answered(&mut b, &req), "partition 1 out of range");
    // unknown topics only: nothing to wait for
    let req = request(alloc::vec![(
        "gone",
        Uuid::ZERO,
        alloc::vec![part(0, 0, 1024)]
    )]);
    let mut req = req;
    req.max_wait_ms = 1_000;
    req.min_bytes = 1;
    assert!(answered(&mut b, &req));
    // data on an older segment than the high watermark's: answered at once (case F)
    b.logs.log_mut("w", 0).unwrap().roll(NOW).unwrap();
    fill(&mut b, "w", 0, 1, 100, 1000);
    assert!(answered(&mut b, &delayed_request(id, 0, 1 << 20, 1_000)));
    // the log start offset is unaffected by waiting
    assert_eq!(b.metrics().delayed_fetches, 0);
}

#[test]
fn a_consumer_loop_reads_every_record_once_across_hundreds_of_partitions() {
    let mut b = broker();
    let topics = [("alpha", 50), ("beta", 50), ("gamma", 100)];
    let mut ids = Vec::new();
    for (t, n) in topics {
        ids.push(topic(&mut b, t, n));
        for p in 0..n {
            assert_eq!(fill(&mut b, t, p, 2, 20, 1024), 40);
        }
    }
    // positions by (topic index, partition)
    let mut positions: Vec<Vec<i64>> = topics
        .iter()
        .map(|(_, n)| alloc::vec![0; *n as usize])
        .collect();
    let max_bytes = 300_000usize;
    let mut fetches = 0;
    let mut records_seen = 0u64;
    while positions.iter().flatten().any(|p| *p < 40) {
        fetches += 1;
        assert!(fetches < 200, "no progress");
        let req = request(
            topics
                .iter()
                .zip(&ids)
                .zip(&positions)
                .map(|(((_, n), id), pos)| {
                    (
                        "",
                        *id,
                        (0..*n)
                            .map(|p| part(p, pos[p as usize], 64 << 10))
                            .collect(),
                    )
                })
                .collect(),
        );
        let mut req = req;
        req.max_bytes = max_bytes as i32;
        let r = fetch(&mut b, 13, &req);
        let total: usize = r
            .responses
            .iter()
            .flat_map(|t| &t.partitions)
            .map(|p| records(p).len())
            .sum();
        assert!(total <= max_bytes, "fetch {fetches}: {total} bytes");
        assert!(
            total > 0,
            "fetch {fetches}: nothing although records remain"
        );
        for t in &r.responses {
            let ti = ids.iter().position(|i| *i == t.topic_id).unwrap();
            for p in &t.partitions {
                assert_eq!(p.error_code, 0);
                let pos = &mut positions[ti][p.partition_index as usize];
                let (bs, _partial) = batches_of(records(p));
                for (base, last) in bs {
                    assert_eq!(base, *pos, "no record twice, none skipped");
                    records_seen += (last - base + 1) as u64;
                    *pos = last + 1;
                }
            }
        }
    }
    assert_eq!(records_seen, 200 * 40);
    // about 8 MB through 300 KB responses
    assert!((27..60).contains(&fetches), "{fetches} fetches");
}

#[test]
fn a_waiting_fetch_is_answered_by_the_produce_that_brings_its_bytes() {
    use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
    use kproto::messages::ProduceRequest;
    let mut b = broker();
    let id = topic(&mut b, "w", 2);
    let req = delayed_request(id, 0, 50_000, 30_000);
    assert_eq!(send(&mut b, 9, 12, &req), Handled::Pending);
    let produce = |b: &mut Broker<MemStorage>, n: usize, acks: i16| {
        let mut bb = kproto::records::BatchBuilder::new(kproto::records::BatchConfig {
            write_limit: usize::MAX >> 1,
            ..kproto::records::BatchConfig::default()
        });
        for i in 0..n {
            bb.try_append(NOW + i as i64, Some(b"k"), Some(&[i as u8; 1000]), &[])
                .unwrap();
        }
        let p = ProduceRequest {
            acks,
            timeout_ms: 1000,
            topic_data: alloc::vec![TopicProduceData {
                name: "w".into(),
                partition_data: alloc::vec![PartitionProduceData {
                    index: 1,
                    records: Some(bb.finish().unwrap().into()),
                    ..PartitionProduceData::default()
                }],
                ..TopicProduceData::default()
            }],
            ..ProduceRequest::default()
        };
        let body = RequestBody::Produce(Box::new(p));
        b.handle_frame(2, frame(&header(ApiKey::Produce, 9, 5), &body), NOW)
    };
    // 20 KB: not enough, still waiting
    assert!(matches!(produce(&mut b, 20, 1), Handled::Respond(_)));
    assert!(b.poll_completed().is_none());
    // 40 KB more with acks=0: the fetch is answered at once, with both batches
    assert_eq!(produce(&mut b, 40, 0), Handled::NoResponse);
    let (conn, bytes) = b.poll_completed().expect("answered by the produce");
    assert_eq!(conn, 9);
    let r = decode(&bytes, 12);
    assert_eq!(
        batches_of(records(&r.responses[0].partitions[1])).0,
        [(0, 19), (20, 59)]
    );
    assert_eq!(r.responses[0].partitions[1].high_watermark, 60);
    assert_eq!(b.metrics().delayed_fetches, 0);
}
