//! Produce: appends per partition as Kafka's leader does, with Kafka's refusals.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use bytes::Bytes;
use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
use kproto::messages::produce::response::PartitionProduceResponse;
use kproto::messages::{InitProducerIdRequest, ProduceRequest, ResponseBody};
use kproto::records::{field, BatchBuilder, BatchConfig, Compression, TimestampType};
use kproto::{ApiKey, ErrorCode, RequestBody, Uuid};

use super::tests::{decode_answer, frame, header, NOW};
use super::{Broker, BrokerConfig, CloseReason, Handled, TopicConfigs};
use crate::testutil::contents;
use crate::MemStorage;

fn open(st: &MemStorage) -> Broker<MemStorage> {
    Broker::open(st.clone(), BrokerConfig::default(), 9, NOW)
        .unwrap()
        .0
}

fn topic(b: &mut Broker<MemStorage>, name: &str, partitions: i32, cfg: &[(&str, &str)]) -> Uuid {
    b.create_topic(
        name,
        partitions,
        TopicConfigs::from_pairs(cfg.iter().copied()).unwrap(),
        false,
        NOW,
    )
    .unwrap()
}

/// A producer's batch of `n` records of `value_len`-byte values (keys `k<i>`, one header).
fn batch(
    n: usize,
    value_len: usize,
    codec: Compression,
    producer: Option<(i64, i16, i32)>,
) -> Vec<u8> {
    let mut cfg = BatchConfig {
        compression: codec,
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    };
    if let Some((pid, epoch, seq)) = producer {
        cfg.producer_id = pid;
        cfg.producer_epoch = epoch;
        cfg.base_sequence = seq;
    }
    let mut b = BatchBuilder::new(cfg);
    for i in 0..n {
        let key = alloc::format!("k{i}");
        let value: Vec<u8> = (0..value_len).map(|j| (i * 31 + j * 7) as u8).collect();
        let h = alloc::format!("{i}");
        b.try_append(
            NOW - 1000 + i as i64,
            Some(key.as_bytes()),
            Some(&value),
            &[("n", Some(h.as_bytes()))],
        )
        .unwrap();
    }
    b.finish().unwrap()
}

fn request(acks: i16, parts: &[(&str, Uuid, i32, Option<Vec<u8>>)]) -> ProduceRequest {
    let mut topics: Vec<TopicProduceData> = Vec::new();
    for (name, id, p, records) in parts {
        let data = PartitionProduceData {
            index: *p,
            records: records.clone().map(Bytes::from),
            ..PartitionProduceData::default()
        };
        match topics
            .iter_mut()
            .find(|t| t.name.as_str() == *name && t.topic_id == *id)
        {
            Some(t) => t.partition_data.push(data),
            None => topics.push(TopicProduceData {
                name: (*name).into(),
                topic_id: *id,
                partition_data: vec![data],
                ..TopicProduceData::default()
            }),
        }
    }
    ProduceRequest {
        transactional_id: None,
        acks,
        timeout_ms: 30_000,
        topic_data: topics,
        ..ProduceRequest::default()
    }
}

fn handle(b: &mut Broker<MemStorage>, version: i16, req: ProduceRequest) -> Handled {
    let h = header(ApiKey::Produce, version, 400 + i32::from(version));
    b.handle_frame(5, frame(&h, &RequestBody::Produce(Box::new(req))), NOW)
}

/// Produces and returns the partition responses in request order (topic, partition).
fn produce(
    b: &mut Broker<MemStorage>,
    version: i16,
    req: ProduceRequest,
) -> Vec<(String, PartitionProduceResponse)> {
    match handle(b, version, req) {
        Handled::Respond(bytes) => {
            let (corr, body) = decode_answer(&bytes, ApiKey::Produce, version);
            assert_eq!(corr, 400 + i32::from(version));
            let ResponseBody::Produce(r) = body else {
                panic!("not Produce")
            };
            r.responses
                .into_iter()
                .flat_map(|t| {
                    let name = if version >= 13 {
                        t.topic_id.to_kafka_string()
                    } else {
                        t.name.to_string()
                    };
                    t.partition_responses
                        .into_iter()
                        .map(move |p| (name.clone(), p))
                })
                .collect()
        }
        other => panic!("v{version}: expected a response, got {other:?}"),
    }
}

fn one(
    b: &mut Broker<MemStorage>,
    version: i16,
    acks: i16,
    t: &str,
    id: Uuid,
    p: i32,
    records: Vec<u8>,
) -> PartitionProduceResponse {
    produce(b, version, request(acks, &[(t, id, p, Some(records))]))
        .remove(0)
        .1
}

fn code(r: &PartitionProduceResponse) -> ErrorCode {
    ErrorCode::from_code(r.error_code).unwrap()
}

#[test]
fn every_version_appends_with_dense_offsets_and_every_codec() {
    let mut b = open(&MemStorage::new());
    let id = topic(&mut b, "orders", 3, &[]);
    let codecs = [
        Compression::None,
        Compression::Gzip,
        Compression::Snappy,
        Compression::Lz4,
        Compression::Zstd,
    ];
    let mut next = [0i64; 3];
    let mut appended = 0u64;
    for v in 3..=13i16 {
        for (i, codec) in codecs.iter().enumerate() {
            if v < 7 && *codec == Compression::Zstd {
                continue;
            }
            let p = ((v as usize + i) % 3) as i32;
            let n = 40 + i * 13;
            let r = one(
                &mut b,
                v,
                if i % 2 == 0 { -1 } else { 1 },
                "orders",
                id,
                p,
                batch(n, 1024, *codec, None),
            );
            assert_eq!(
                code(&r),
                ErrorCode::None,
                "v{v} {codec:?}: {:?}",
                r.error_message
            );
            assert_eq!(r.index, p);
            assert_eq!(r.base_offset, next[p as usize], "v{v} {codec:?}");
            assert_eq!(r.log_append_time_ms, -1, "CreateTime topic");
            if v >= 5 {
                assert_eq!(r.log_start_offset, 0);
            }
            next[p as usize] += n as i64;
            appended += n as u64;
        }
    }
    for p in 0..3 {
        let log = b.logs.log_mut("orders", p).unwrap();
        assert_eq!(log.log_end_offset() as i64, next[p as usize]);
        assert_eq!(
            log.high_watermark(),
            log.log_end_offset(),
            "HW follows the LEO: one replica"
        );
        let batches = contents(log);
        assert!(!batches.is_empty());
    }
    assert_eq!(b.metrics.messages_in, appended);
    assert!(b.metrics.bytes_in > 0);
    assert_eq!(b.metrics.total_produce_requests, 11 * 5 - 4);
}

#[test]
fn many_partitions_of_many_topics_in_one_request() {
    let mut b = open(&MemStorage::new());
    let ids: Vec<Uuid> = (0..4)
        .map(|t| topic(&mut b, &alloc::format!("t{t}"), 50, &[]))
        .collect();
    let names: Vec<String> = (0..4).map(|t| alloc::format!("t{t}")).collect();
    let parts: Vec<(&str, Uuid, i32, Option<Vec<u8>>)> = (0..4)
        .flat_map(|t| (0..50).map(move |p| (t, p)))
        .map(|(t, p)| {
            (
                names[t].as_str(),
                ids[t],
                p,
                Some(batch(3, 200, Compression::Lz4, None)),
            )
        })
        .collect();
    for v in [9i16, 13] {
        let rs = produce(&mut b, v, request(1, &parts));
        assert_eq!(rs.len(), 200);
        for (i, (t, r)) in rs.iter().enumerate() {
            assert_eq!(code(r), ErrorCode::None);
            assert_eq!(r.index, (i % 50) as i32);
            assert_eq!(r.base_offset, if v == 9 { 0 } else { 3 });
            let want = if v >= 13 {
                ids[i / 50].to_kafka_string()
            } else {
                names[i / 50].clone()
            };
            assert_eq!(
                *t,
                want,
                "v{v}: the topic is answered by {}",
                if v >= 13 { "id" } else { "name" }
            );
        }
    }
}

#[test]
fn unknown_topics_partitions_and_ids() {
    let mut b = open(&MemStorage::new());
    let id = topic(&mut b, "known", 2, &[]);
    let rec = || Some(batch(5, 100, Compression::None, None));
    let rs = produce(
        &mut b,
        12,
        request(
            1,
            &[
                ("nope", Uuid::ZERO, 0, rec()),
                ("known", Uuid::ZERO, 2, rec()),
                ("known", Uuid::ZERO, -1, rec()),
                ("known", Uuid::ZERO, 1, rec()),
            ],
        ),
    );
    let codes: Vec<ErrorCode> = rs.iter().map(|(_, r)| code(r)).collect();
    assert_eq!(
        codes,
        [
            ErrorCode::UnknownTopicOrPartition,
            ErrorCode::UnknownTopicOrPartition,
            ErrorCode::UnknownTopicOrPartition,
            ErrorCode::None
        ]
    );
    assert_eq!(rs[0].1.base_offset, -1);
    assert_eq!(rs[0].1.log_start_offset, -1);
    // v13: by id; an id nobody has is UNKNOWN_TOPIC_ID, the name is ignored
    let stranger = Uuid::from_u64_pair(7, 7);
    let rs = produce(
        &mut b,
        13,
        request(1, &[("known", stranger, 0, rec()), ("", id, 0, rec())]),
    );
    assert_eq!(code(&rs[0].1), ErrorCode::UnknownTopicId);
    assert_eq!(rs[0].0, stranger.to_kafka_string());
    assert_eq!(code(&rs[1].1), ErrorCode::None);
    assert_eq!(
        b.metrics.apis[&ApiKey::Produce.key()].errors[&ErrorCode::UnknownTopicOrPartition],
        3
    );
}

#[test]
fn validate_records_as_kafkas_produce_request() {
    let mut b = open(&MemStorage::new());
    let id = topic(&mut b, "v", 1, &[]);
    let good = batch(10, 2000, Compression::None, None);
    let mut two = good.clone();
    two.extend_from_slice(&good);
    let mut magic1 = good.clone();
    magic1[field::MAGIC.start] = 1;
    let mut tiny = good.clone();
    tiny[field::BATCH_LENGTH].copy_from_slice(&13i32.to_be_bytes());
    let cases: Vec<(&str, Option<Vec<u8>>, ErrorCode)> = vec![
        ("null records", None, ErrorCode::InvalidRecord),
        ("no bytes", Some(Vec::new()), ErrorCode::InvalidRecord),
        (
            "16 bytes",
            Some(good[..16].to_vec()),
            ErrorCode::InvalidRecord,
        ),
        (
            "truncated batch",
            Some(good[..good.len() - 1].to_vec()),
            ErrorCode::InvalidRecord,
        ),
        ("two batches", Some(two), ErrorCode::InvalidRecord),
        ("magic 1", Some(magic1), ErrorCode::InvalidRecord),
        (
            "size below the overhead",
            Some(tiny),
            ErrorCode::CorruptMessage,
        ),
    ];
    for (what, records, want) in cases {
        let r = produce(&mut b, 9, request(1, &[("v", id, 0, records)]))
            .remove(0)
            .1;
        assert_eq!(code(&r), want, "{what}");
        assert_eq!(r.base_offset, -1, "{what}");
        assert!(r.error_message.is_some(), "{what}: says why");
    }
    let zstd = batch(10, 2000, Compression::Zstd, None);
    let r = one(&mut b, 6, 1, "v", id, 0, zstd.clone());
    assert_eq!(code(&r), ErrorCode::UnsupportedCompressionType);
    let r = one(&mut b, 7, 1, "v", id, 0, zstd);
    assert_eq!(code(&r), ErrorCode::None);
    assert_eq!(
        b.logs.log("v", 0).unwrap().log_end_offset(),
        10,
        "only the v7 batch was appended"
    );
}

#[test]
fn log_validator_refusals_lose_nothing_else() {
    let mut b = open(&MemStorage::new());
    let id = topic(&mut b, "lv", 2, &[("max.message.bytes", "200000")]);
    // a bad CRC
    let mut bad = batch(20, 3000, Compression::Gzip, None);
    let last = bad.len() - 1;
    bad[last] ^= 0x55;
    // too large for the topic's max.message.bytes, while another partition succeeds
    let big = batch(80, 3000, Compression::None, None);
    assert!(big.len() > 200_000);
    let rs = produce(
        &mut b,
        10,
        request(
            -1,
            &[
                ("lv", id, 0, Some(bad)),
                ("lv", id, 1, Some(big)),
                ("lv", id, 1, Some(batch(7, 3000, Compression::Snappy, None))),
            ],
        ),
    );
    assert_eq!(code(&rs[0].1), ErrorCode::CorruptMessage);
    assert_eq!(code(&rs[1].1), ErrorCode::MessageTooLarge);
    assert_eq!(
        rs[1].1.log_start_offset, -1,
        "Kafka's UNKNOWN_LOG_APPEND_INFO"
    );
    assert_eq!(code(&rs[2].1), ErrorCode::None);
    assert_eq!(rs[2].1.base_offset, 0);
    assert_eq!(b.logs.log("lv", 0).unwrap().log_end_offset(), 0);
    assert_eq!(b.logs.log("lv", 1).unwrap().log_end_offset(), 7);
    // a megabyte batch fits the default max.message.bytes (1048588)
    let id2 = topic(&mut b, "mb", 1, &[]);
    let mb = batch(1000, 1000, Compression::None, None);
    assert!(mb.len() > 1_000_000 && mb.len() < 1_048_588, "{}", mb.len());
    assert_eq!(code(&one(&mut b, 11, 1, "mb", id2, 0, mb)), ErrorCode::None);
    let over = batch(1060, 1000, Compression::None, None);
    assert_eq!(
        code(&one(&mut b, 11, 1, "mb", id2, 0, over)),
        ErrorCode::MessageTooLarge
    );
    // a timestamp too far in the future: INVALID_TIMESTAMP with the record named
    let id3 = topic(
        &mut b,
        "ts",
        1,
        &[("message.timestamp.after.max.ms", "3600000")],
    );
    let mut cfg = BatchConfig {
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    };
    cfg.compression = Compression::None;
    let mut bb = BatchBuilder::new(cfg);
    for i in 0..5i64 {
        let ts = if i == 3 { NOW + 7_200_000 } else { NOW };
        bb.try_append(ts, None, Some(b"x"), &[]).unwrap();
    }
    let r = one(&mut b, 9, 1, "ts", id3, 0, bb.finish().unwrap());
    assert_eq!(code(&r), ErrorCode::InvalidTimestamp);
    assert_eq!(r.record_errors.len(), 1);
    assert_eq!(r.record_errors[0].batch_index, 3);
    assert_eq!(r.log_start_offset, 0);
    assert!(r.error_message.is_some());
}

#[test]
fn acks_zero_one_all_and_invalid() {
    let mut b = open(&MemStorage::new());
    let id = topic(&mut b, "a", 1, &[]);
    // acks=0 succeeding: nothing to send, the records are in the log
    let h = handle(
        &mut b,
        9,
        request(
            0,
            &[("a", id, 0, Some(batch(100, 500, Compression::Lz4, None)))],
        ),
    );
    assert_eq!(h, Handled::NoResponse);
    assert_eq!(b.logs.log("a", 0).unwrap().log_end_offset(), 100);
    // acks=0 failing: the connection is closed, naming the partition
    match handle(
        &mut b,
        9,
        request(
            0,
            &[(
                "missing",
                Uuid::ZERO,
                4,
                Some(batch(1, 10, Compression::None, None)),
            )],
        ),
    ) {
        Handled::Close(CloseReason::AcksZeroProduceFailed {
            topic,
            partition,
            error,
        }) => {
            assert_eq!(
                (topic.as_str(), partition, error),
                ("missing", 4, ErrorCode::UnknownTopicOrPartition)
            );
        }
        other => panic!("{other:?}"),
    }
    // acks 2 and -2: INVALID_REQUIRED_ACKS, nothing appended
    for acks in [2i16, -2, i16::MAX] {
        let r = one(
            &mut b,
            12,
            acks,
            "a",
            id,
            0,
            batch(5, 10, Compression::None, None),
        );
        assert_eq!(code(&r), ErrorCode::InvalidRequiredAcks);
    }
    assert_eq!(b.logs.log("a", 0).unwrap().log_end_offset(), 100);
    // min.insync.replicas 2: acks=all is refused, acks=1 is not
    let id2 = topic(&mut b, "isr2", 1, &[("min.insync.replicas", "2")]);
    let r = one(
        &mut b,
        12,
        -1,
        "isr2",
        id2,
        0,
        batch(5, 10, Compression::None, None),
    );
    assert_eq!(code(&r), ErrorCode::NotEnoughReplicas);
    let r = one(
        &mut b,
        12,
        1,
        "isr2",
        id2,
        0,
        batch(5, 10, Compression::None, None),
    );
    assert_eq!(code(&r), ErrorCode::None);
}

#[test]
fn log_append_time_topics_answer_the_append_time() {
    let mut b = open(&MemStorage::new());
    let id = topic(
        &mut b,
        "lat",
        1,
        &[("message.timestamp.type", "LogAppendTime")],
    );
    let r = one(
        &mut b,
        8,
        1,
        "lat",
        id,
        0,
        batch(30, 100, Compression::Gzip, None),
    );
    assert_eq!(code(&r), ErrorCode::None);
    assert_eq!(r.log_append_time_ms, NOW);
    let data = b.logs.log_mut("lat", 0).unwrap().read(0, 1 << 20).unwrap();
    let v = kproto::records::Batches::new(&data)
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(
        v.attributes().timestamp_type(),
        TimestampType::LogAppendTime
    );
    assert_eq!(v.max_timestamp(), NOW);
    v.validate().unwrap();
}

fn producer_id(b: &mut Broker<MemStorage>) -> i64 {
    let req = InitProducerIdRequest {
        transactional_id: None,
        transaction_timeout_ms: 60_000,
        ..InitProducerIdRequest::default()
    };
    match super::tests::call(b, 4, RequestBody::InitProducerId(Box::new(req))).1 {
        ResponseBody::InitProducerId(r) => r.producer_id,
        other => panic!("{other:?}"),
    }
}

#[test]
fn idempotent_producers_are_checked_and_deduplicated() {
    let mut b = open(&MemStorage::new());
    let id = topic(&mut b, "idem", 1, &[]);
    let pid = producer_id(&mut b);
    let mut seq = 0;
    let mut offsets = Vec::new();
    for i in 0..20 {
        let n = 25 + i;
        let r = one(
            &mut b,
            11,
            -1,
            "idem",
            id,
            0,
            batch(n, 700, Compression::Zstd, Some((pid, 0, seq))),
        );
        assert_eq!(code(&r), ErrorCode::None, "{:?}", r.error_message);
        offsets.push((seq, n, r.base_offset));
        seq += n as i32;
    }
    let leo = b.logs.log("idem", 0).unwrap().log_end_offset();
    // a retried batch (one of the last five) answers its original offsets and adds nothing
    let (s, n, base) = offsets[17];
    let r = one(
        &mut b,
        11,
        -1,
        "idem",
        id,
        0,
        batch(n, 700, Compression::Zstd, Some((pid, 0, s))),
    );
    assert_eq!(code(&r), ErrorCode::None);
    assert_eq!(r.base_offset, base);
    assert_eq!(b.logs.log("idem", 0).unwrap().log_end_offset(), leo);
    // a gap in the sequence
    let r = one(
        &mut b,
        11,
        -1,
        "idem",
        id,
        0,
        batch(3, 10, Compression::None, Some((pid, 0, seq + 1))),
    );
    assert_eq!(code(&r), ErrorCode::OutOfOrderSequenceNumber);
    assert_eq!(
        r.log_start_offset, 0,
        "the log start offset, as Kafka answers it"
    );
    // an older epoch than the producer's
    let r = one(
        &mut b,
        11,
        -1,
        "idem",
        id,
        0,
        batch(3, 10, Compression::None, Some((pid, 1, 0))),
    );
    assert_eq!(
        code(&r),
        ErrorCode::None,
        "a new epoch starts at sequence 0"
    );
    let r = one(
        &mut b,
        11,
        -1,
        "idem",
        id,
        0,
        batch(3, 10, Compression::None, Some((pid, 0, seq))),
    );
    assert_eq!(code(&r), ErrorCode::InvalidProducerEpoch);
    assert_eq!(b.logs.log("idem", 0).unwrap().log_end_offset(), leo + 3);
}

#[test]
fn transactional_batches_are_refused_without_a_coordinator() {
    let mut b = open(&MemStorage::new());
    let id = topic(&mut b, "tx", 2, &[]);
    let mut cfg = BatchConfig {
        producer_id: 5,
        producer_epoch: 0,
        base_sequence: 0,
        transactional: true,
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    };
    cfg.compression = Compression::None;
    let mut bb = BatchBuilder::new(cfg);
    bb.try_append(NOW, None, Some(b"t"), &[]).unwrap();
    let txn = bb.finish().unwrap();
    // no transactional id: the whole request, the plain partition included
    let req = request(
        -1,
        &[
            ("tx", id, 0, Some(txn.clone())),
            ("tx", id, 1, Some(batch(1, 1, Compression::None, None))),
        ],
    );
    let rs = produce(&mut b, 9, req);
    assert!(rs
        .iter()
        .all(|(_, r)| code(r) == ErrorCode::TransactionalIdAuthorizationFailed));
    // with one: the partition was never added to a transaction
    let mut req = request(-1, &[("tx", id, 0, Some(txn))]);
    req.transactional_id = Some("app-tx".into());
    let r = produce(&mut b, 9, req).remove(0).1;
    assert_eq!(code(&r), ErrorCode::InvalidTxnState);
    assert_eq!(b.logs.log("tx", 0).unwrap().log_end_offset(), 0);
    assert_eq!(b.logs.log("tx", 1).unwrap().log_end_offset(), 0);
}

#[test]
fn what_was_acknowledged_survives_a_restart() {
    let st = MemStorage::new();
    let mut b = open(&st);
    let id = topic(&mut b, "keep", 2, &[]);
    let mut next = [0i64; 2];
    for i in 0..40 {
        let p = i % 2;
        let r = one(
            &mut b,
            13,
            -1,
            "",
            id,
            p as i32,
            batch(10, 1500, Compression::Snappy, None),
        );
        assert_eq!(r.base_offset, next[p]);
        next[p] += 10;
    }
    let st = b.shutdown(NOW + 1).unwrap();
    let mut b = open(&st);
    for p in 0..2 {
        let log = b.logs.log_mut("keep", p).unwrap();
        assert_eq!(log.log_end_offset() as i64, next[p as usize]);
        let got = contents(log);
        assert_eq!(got.len(), 20);
    }
    let r = one(
        &mut b,
        13,
        -1,
        "",
        id,
        0,
        batch(10, 1500, Compression::Snappy, None),
    );
    assert_eq!(r.base_offset, next[0], "offsets continue after the restart");
}

/// The codec of every batch in `topic-p`.
fn stored_codecs(b: &mut Broker<MemStorage>, topic: &str, p: i32) -> Vec<Compression> {
    let log = b.logs.log_mut(topic, p).unwrap();
    let data = log.read(0, 64 << 20).unwrap();
    kproto::records::Batches::new(&data[..])
        .map(|b| b.unwrap().compression().unwrap())
        .collect()
}

#[test]
fn compression_type_from_the_topic_or_the_broker_recompresses_produced_batches() {
    // the topic's own compression.type
    let mut b = open(&MemStorage::new());
    let id = topic(&mut b, "lz", 1, &[("compression.type", "lz4")]);
    let pid = (4, 0, 0);
    let r = one(
        &mut b,
        9,
        -1,
        "lz",
        id,
        0,
        batch(500, 900, Compression::Gzip, Some(pid)),
    );
    assert_eq!((code(&r), r.base_offset), (ErrorCode::None, 0));
    let r = one(
        &mut b,
        9,
        -1,
        "lz",
        id,
        0,
        batch(300, 900, Compression::Lz4, None),
    );
    assert_eq!((code(&r), r.base_offset), (ErrorCode::None, 500));
    assert_eq!(stored_codecs(&mut b, "lz", 0), [Compression::Lz4; 2]);
    // the retry of the idempotent batch is answered with its original offset
    let r = one(
        &mut b,
        9,
        -1,
        "lz",
        id,
        0,
        batch(500, 900, Compression::Gzip, Some(pid)),
    );
    assert_eq!((code(&r), r.base_offset), (ErrorCode::None, 0));
    // the broker's default (`--override compression.type=uncompressed`), a topic override on top
    let cfg = BrokerConfig::from_pairs([("compression.type", "uncompressed")])
        .unwrap()
        .0;
    let mut b = Broker::open(MemStorage::new(), cfg, 9, NOW).unwrap().0;
    let plain = topic(&mut b, "plain", 1, &[]);
    let keep = topic(&mut b, "keep", 1, &[("compression.type", "producer")]);
    for codec in [Compression::Zstd, Compression::Snappy] {
        let r = one(
            &mut b,
            9,
            1,
            "plain",
            plain,
            0,
            batch(200, 2000, codec, None),
        );
        assert_eq!(code(&r), ErrorCode::None);
        let r = one(&mut b, 9, 1, "keep", keep, 0, batch(200, 2000, codec, None));
        assert_eq!(code(&r), ErrorCode::None);
    }
    assert_eq!(stored_codecs(&mut b, "plain", 0), [Compression::None; 2]);
    assert_eq!(
        stored_codecs(&mut b, "keep", 0),
        [Compression::Zstd, Compression::Snappy]
    );
}
