//! ListOffsets v1–v11 and OffsetForLeaderEpoch v2–v4 over MemStorage.

use alloc::boxed::Box;
use alloc::vec::Vec;

use kproto::messages::list_offsets::request::{ListOffsetsPartition, ListOffsetsTopic};
use kproto::messages::list_offsets::response::ListOffsetsPartitionResponse;
use kproto::messages::offset_for_leader_epoch::request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kproto::messages::{
    ListOffsetsRequest, ListOffsetsResponse, OffsetForLeaderEpochRequest,
    OffsetForLeaderEpochResponse, ResponseBody,
};
use kproto::{ApiKey, ErrorCode, KStr, RequestBody};

use super::tests::{call, NOW};
use super::tests_fetch::{broker, fill};
use super::tests_metadata::{creatable, create_topics};
use super::Broker;
use crate::testutil::batch;
use crate::MemStorage;

fn list(
    b: &mut Broker<MemStorage>,
    version: i16,
    isolation: i8,
    asks: &[(&str, i32, i64)],
) -> ListOffsetsResponse {
    let mut topics: Vec<ListOffsetsTopic> = Vec::new();
    for (t, p, ts) in asks {
        let part = ListOffsetsPartition {
            partition_index: *p,
            current_leader_epoch: -1,
            timestamp: *ts,
            ..ListOffsetsPartition::default()
        };
        match topics.last_mut() {
            Some(last) if last.name == *t => last.partitions.push(part),
            _ => topics.push(ListOffsetsTopic {
                name: KStr::from(*t),
                partitions: alloc::vec![part],
                ..ListOffsetsTopic::default()
            }),
        }
    }
    let req = ListOffsetsRequest {
        replica_id: -1,
        isolation_level: isolation,
        topics,
        ..ListOffsetsRequest::default()
    };
    match call(b, version, RequestBody::ListOffsets(Box::new(req))).1 {
        ResponseBody::ListOffsets(r) => *r,
        other => panic!("{other:?}"),
    }
}

fn one(
    b: &mut Broker<MemStorage>,
    version: i16,
    isolation: i8,
    ts: i64,
) -> ListOffsetsPartitionResponse {
    list(b, version, isolation, &[("lo", 0, ts)]).topics[0].partitions[0].clone()
}

fn triple(r: &ListOffsetsPartitionResponse) -> (i16, i64, i64) {
    (r.error_code, r.timestamp, r.offset)
}

/// `lo-0`: 4 batches of 100 records, 1 KB values, timestamps T, T+1000, T+2000, T+3000
/// (+ the record index); the last batch is above the high watermark. Leader epoch 0.
fn setup() -> Broker<MemStorage> {
    let mut b = broker();
    let r = create_topics(&mut b, 7, alloc::vec![creatable("lo", 2)], false);
    assert_eq!(r.topics[0].error_code, 0);
    let log = b.logs.log_mut("lo", 0).unwrap();
    for i in 0..4i64 {
        let mut bytes = batch(100, NOW + 1000 * i, 1024, i as u8);
        log.append(&mut bytes, NOW).unwrap();
    }
    log.set_high_watermark(300);
    b
}

#[test]
fn earliest_latest_and_timestamps_at_every_version() {
    let mut b = setup();
    for v in 1..=11i16 {
        let epoch = if v >= 4 { 0 } else { -1 };
        let e = one(&mut b, v, 0, -2);
        assert_eq!((triple(&e), e.leader_epoch), ((0, -1, 0), epoch), "v{v}");
        let l = one(&mut b, v, 0, -1);
        assert_eq!(
            (triple(&l), l.leader_epoch),
            ((0, -1, 300), epoch),
            "v{v}: the high watermark"
        );
        // the first record at or after a timestamp, with its batch's epoch
        let t = one(&mut b, v, 0, NOW + 1050);
        assert_eq!(
            (triple(&t), t.leader_epoch),
            ((0, NOW + 1050, 150), epoch),
            "v{v}"
        );
        let t = one(&mut b, v, 0, NOW + 1100);
        assert_eq!(triple(&t), (0, NOW + 2000, 200), "v{v}: between batches");
        // a timestamp only uncommitted records reach, or none: -1, no error
        assert_eq!(triple(&one(&mut b, v, 0, NOW + 3010)), (0, -1, -1), "v{v}");
        assert_eq!(
            triple(&one(&mut b, v, 0, NOW + 9_999_999)),
            (0, -1, -1),
            "v{v}"
        );
    }
}

#[test]
fn special_timestamps_need_their_versions() {
    let mut b = setup();
    let unsupported = ErrorCode::UnsupportedVersion.code();
    for v in 1..=11i16 {
        // MAX_TIMESTAMP: the record with the largest timestamp, once committed
        let m = one(&mut b, v, 0, -3);
        if v >= 7 {
            assert_eq!(
                triple(&m),
                (0, -1, -1),
                "v{v}: the max is above the high watermark"
            );
        } else {
            assert_eq!(m.error_code, unsupported, "v{v}");
        }
        let el = one(&mut b, v, 0, -4);
        if v >= 8 {
            assert_eq!((triple(&el), el.leader_epoch), ((0, -1, 0), 0), "v{v}");
        } else {
            assert_eq!(el.error_code, unsupported);
        }
        for ts in [-5, -6] {
            let r = one(&mut b, v, 0, ts);
            let min = if ts == -5 { 9 } else { 11 };
            if v >= min {
                assert_eq!((triple(&r), r.leader_epoch), ((0, -1, -1), -1), "v{v} {ts}");
            } else {
                assert_eq!(r.error_code, unsupported, "v{v} {ts}");
            }
        }
        assert_eq!(one(&mut b, v, 0, -7).error_code, unsupported);
    }
    b.logs.log_mut("lo", 0).unwrap().set_high_watermark(400);
    let m = one(&mut b, 7, 0, -3);
    assert_eq!(triple(&m), (0, NOW + 3099, 399));
    let errors = &b.metrics().apis[&ApiKey::ListOffsets.key()].errors;
    assert_eq!(errors[&ErrorCode::UnsupportedVersion], 6 + 7 + 8 + 10 + 11);
}

#[test]
fn read_committed_latest_is_the_last_stable_offset_and_errors_are_per_partition() {
    let mut b = setup();
    {
        let log = b.logs.log_mut("lo", 0).unwrap();
        log.set_high_watermark(400);
        // an open transaction at 400
        let mut bb = kproto::records::BatchBuilder::new(kproto::records::BatchConfig {
            producer_id: 77,
            producer_epoch: 0,
            base_sequence: 0,
            transactional: true,
            write_limit: usize::MAX >> 1,
            ..kproto::records::BatchConfig::default()
        });
        for i in 0..20 {
            bb.try_append(NOW + 5000 + i, None, Some(&[1u8; 1024]), &[])
                .unwrap();
        }
        let mut t = bb.finish().unwrap();
        log.append(&mut t, NOW).unwrap();
        log.set_high_watermark(420);
        assert_eq!(log.last_stable_offset(), 400);
    }
    assert_eq!(one(&mut b, 5, 0, -1).offset, 420);
    assert_eq!(one(&mut b, 5, 1, -1).offset, 400);
    // a timestamp inside the open transaction: not yet stable
    assert_eq!(triple(&one(&mut b, 5, 1, NOW + 5005)), (0, -1, -1));
    assert_eq!(triple(&one(&mut b, 5, 0, NOW + 5005)), (0, NOW + 5005, 405));
    let r = list(
        &mut b,
        6,
        0,
        &[
            ("lo", 1, -1),
            ("lo", 7, -1),
            ("missing", 0, -2),
            ("lo", 0, -2),
            ("lo", 1, -2),
        ],
    );
    let got: Vec<_> = r
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(move |p| (t.name.as_str(), p.partition_index, p.error_code, p.offset))
        })
        .collect();
    let unknown = ErrorCode::UnknownTopicOrPartition.code();
    let invalid = ErrorCode::InvalidRequest.code();
    assert_eq!(
        got,
        [
            ("lo", 1, invalid, -1),
            ("lo", 7, unknown, -1),
            ("lo", 0, 0, 0),
            ("missing", 0, unknown, -1),
        ],
        "lo-1 asked twice: one INVALID_REQUEST entry; grouped by topic"
    );
    // a replica other than a consumer reads up to the log end
    let req = ListOffsetsRequest {
        replica_id: -2,
        isolation_level: 1,
        topics: alloc::vec![ListOffsetsTopic {
            name: KStr::from("lo"),
            partitions: alloc::vec![ListOffsetsPartition {
                partition_index: 0,
                current_leader_epoch: -1,
                timestamp: -1,
                ..ListOffsetsPartition::default()
            }],
            ..ListOffsetsTopic::default()
        }],
        ..ListOffsetsRequest::default()
    };
    let ResponseBody::ListOffsets(r) = call(&mut b, 9, RequestBody::ListOffsets(Box::new(req))).1
    else {
        panic!()
    };
    assert_eq!(r.topics[0].partitions[0].offset, 420);
    // an undefined isolation level
    let r = list(&mut b, 4, 2, &[("lo", 0, -1)]);
    assert_eq!(
        r.topics[0].partitions[0].error_code,
        ErrorCode::UnknownServerError.code()
    );
}

#[test]
fn list_offsets_checks_the_current_leader_epoch() {
    let mut b = setup();
    b.logs.log_mut("lo", 0).unwrap().set_leader_epoch(5);
    for (epoch, want) in [
        (5, ErrorCode::None),
        (4, ErrorCode::FencedLeaderEpoch),
        (6, ErrorCode::UnknownLeaderEpoch),
        (-1, ErrorCode::None),
    ] {
        let req = ListOffsetsRequest {
            replica_id: -1,
            topics: alloc::vec![ListOffsetsTopic {
                name: KStr::from("lo"),
                partitions: alloc::vec![ListOffsetsPartition {
                    partition_index: 0,
                    current_leader_epoch: epoch,
                    timestamp: -1,
                    ..ListOffsetsPartition::default()
                }],
                ..ListOffsetsTopic::default()
            }],
            ..ListOffsetsRequest::default()
        };
        let ResponseBody::ListOffsets(r) =
            call(&mut b, 10, RequestBody::ListOffsets(Box::new(req))).1
        else {
            panic!()
        };
        let p = &r.topics[0].partitions[0];
        assert_eq!(p.error_code, want.code(), "epoch {epoch}");
        if want == ErrorCode::None {
            assert_eq!((p.offset, p.leader_epoch), (300, 5));
        } else {
            assert_eq!((p.offset, p.timestamp), (-1, -1));
        }
    }
}

fn epochs(
    b: &mut Broker<MemStorage>,
    version: i16,
    asks: &[(&str, i32, i32, i32)],
) -> OffsetForLeaderEpochResponse {
    let req = OffsetForLeaderEpochRequest {
        replica_id: -1,
        topics: asks
            .iter()
            .map(|(t, p, current, epoch)| OffsetForLeaderTopic {
                topic: KStr::from(*t),
                partitions: alloc::vec![OffsetForLeaderPartition {
                    partition: *p,
                    current_leader_epoch: *current,
                    leader_epoch: *epoch,
                    ..OffsetForLeaderPartition::default()
                }],
                ..OffsetForLeaderTopic::default()
            })
            .collect(),
        ..OffsetForLeaderEpochRequest::default()
    };
    match call(b, version, RequestBody::OffsetForLeaderEpoch(Box::new(req))).1 {
        ResponseBody::OffsetForLeaderEpoch(r) => *r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn offset_for_leader_epoch_answers_the_end_of_the_epoch() {
    let mut b = setup();
    fill(&mut b, "lo", 1, 3, 100, 1000);
    b.logs.log_mut("lo", 1).unwrap().set_leader_epoch(4);
    b.logs
        .log_mut("lo", 1)
        .unwrap()
        .increment_log_start_offset(120)
        .unwrap();
    for v in 2..=4 {
        let r = epochs(
            &mut b,
            v,
            &[
                ("lo", 0, -1, 0),  // the current epoch: the log end
                ("lo", 1, 4, 4),   // the same with the current epoch checked
                ("lo", 1, -1, 2),  // older: the start of the current one
                ("lo", 1, -1, 5),  // newer: undefined
                ("lo", 1, -1, -1), // undefined
                ("lo", 1, 3, 4),   // stale client
                ("lo", 1, 6, 4),   // client ahead
                ("lo", 9, -1, 0),
                ("nope", 0, -1, 0),
            ],
        );
        let got: Vec<_> = r
            .topics
            .iter()
            .map(|t| {
                let p = &t.partitions[0];
                (
                    t.topic.as_str(),
                    p.partition,
                    p.error_code,
                    p.leader_epoch,
                    p.end_offset,
                )
            })
            .collect();
        let fenced = ErrorCode::FencedLeaderEpoch.code();
        let unknown_epoch = ErrorCode::UnknownLeaderEpoch.code();
        let unknown = ErrorCode::UnknownTopicOrPartition.code();
        assert_eq!(
            got,
            [
                ("lo", 0, 0, 0, 400),
                ("lo", 1, 0, 4, 300),
                ("lo", 1, 0, 2, 120),
                ("lo", 1, 0, -1, -1),
                ("lo", 1, 0, -1, -1),
                ("lo", 1, fenced, -1, -1),
                ("lo", 1, unknown_epoch, -1, -1),
                ("lo", 9, unknown, -1, -1),
                ("nope", 0, unknown, -1, -1),
            ],
            "v{v}"
        );
    }
    let errors = &b.metrics().apis[&ApiKey::OffsetForLeaderEpoch.key()].errors;
    assert_eq!(errors[&ErrorCode::UnknownTopicOrPartition], 6);
}
