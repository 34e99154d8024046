//! InitProducerId: fresh ids from persisted blocks, never given twice across restarts and crashes.

use alloc::boxed::Box;
use alloc::collections::BTreeSet;
use alloc::string::String;

use kproto::messages::{InitProducerIdRequest, InitProducerIdResponse, ResponseBody};
use kproto::{ApiKey, ErrorCode, KStr, RequestBody};

use super::tests::{call, NOW};
use super::{Broker, BrokerConfig, PRODUCER_ID_BLOCK_SIZE};
use crate::MemStorage;

fn init(
    b: &mut Broker<MemStorage>,
    version: i16,
    req: InitProducerIdRequest,
) -> InitProducerIdResponse {
    match call(b, version, RequestBody::InitProducerId(Box::new(req))).1 {
        ResponseBody::InitProducerId(r) => *r,
        other => panic!("not InitProducerId: {other:?}"),
    }
}

fn idempotent() -> InitProducerIdRequest {
    InitProducerIdRequest {
        transactional_id: None,
        transaction_timeout_ms: 60_000,
        ..InitProducerIdRequest::default()
    }
}

fn open(st: &MemStorage) -> Broker<MemStorage> {
    Broker::open(st.clone(), BrokerConfig::default(), 3, NOW)
        .unwrap()
        .0
}

/// Draws `n` ids at every version in turn, asserting epoch 0 and no error.
fn draw(b: &mut Broker<MemStorage>, n: usize, seen: &mut BTreeSet<i64>) -> i64 {
    let mut last = -1;
    for i in 0..n {
        let v = (i % 6) as i16;
        let r = init(b, v, idempotent());
        assert_eq!(r.error_code, 0, "v{v}");
        assert_eq!(r.producer_epoch, 0, "v{v}");
        assert!(r.producer_id >= 0);
        assert!(
            seen.insert(r.producer_id),
            "id {} given twice",
            r.producer_id
        );
        last = r.producer_id;
    }
    last
}

#[test]
fn ids_are_dense_within_blocks_and_blocks_are_persisted_before_use() {
    let st = MemStorage::new();
    let mut b = open(&st);
    let mut seen = BTreeSet::new();
    let last = draw(&mut b, 2_500, &mut seen);
    assert_eq!(last, 2_499, "three blocks, dense from 0");
    let file = String::from_utf8(st.contents(super::CLUSTER_METADATA_FILE).unwrap()).unwrap();
    assert!(
        file.contains(&alloc::format!(
            "producer.ids.next={}",
            3 * PRODUCER_ID_BLOCK_SIZE
        )),
        "{file}"
    );
    let errors = &b.metrics().apis[&ApiKey::InitProducerId.key()];
    assert_eq!(errors.requests, 2_500);
    assert!(errors.errors.is_empty());
}

#[test]
fn no_id_is_given_twice_across_a_clean_restart_and_a_crash() {
    let st = MemStorage::new();
    let mut seen = BTreeSet::new();
    let mut b = open(&st);
    draw(&mut b, 1_500, &mut seen);
    let st = b.shutdown(NOW).unwrap();
    let mut b = open(&st);
    let first_after_restart = draw(&mut b, 1, &mut seen);
    assert_eq!(
        first_after_restart,
        2 * PRODUCER_ID_BLOCK_SIZE,
        "the rest of the block is skipped"
    );
    draw(&mut b, 700, &mut seen);
    // a crash: only what was synced survives
    let crashed = st.crash();
    drop(b);
    let mut b = open(&crashed);
    draw(&mut b, 1_200, &mut seen);
    assert_eq!(seen.len(), 1_500 + 1 + 700 + 1_200);
}

#[test]
fn transactional_ids_and_bad_id_epoch_pairs_are_refused_as_kafka_does() {
    let st = MemStorage::new();
    let mut b = open(&st);
    for v in 0..=5i16 {
        let mut req = idempotent();
        req.transactional_id = Some(KStr::from("t".repeat(3_000)));
        let r = init(&mut b, v, req);
        assert_eq!(
            r.error_code,
            ErrorCode::CoordinatorNotAvailable.code(),
            "v{v}"
        );
        assert_eq!(r.producer_id, -1);
        let mut req = idempotent();
        req.transactional_id = Some(KStr::from(""));
        let r = init(&mut b, v, req);
        assert_eq!(r.error_code, ErrorCode::InvalidRequest.code(), "v{v}");
    }
    for v in 3..=5i16 {
        // one of producer id and epoch without the other
        for (id, epoch) in [(5i64, -1i16), (-1, 2)] {
            let mut req = idempotent();
            req.producer_id = id;
            req.producer_epoch = epoch;
            let r = init(&mut b, v, req);
            assert_eq!(
                r.error_code,
                ErrorCode::InvalidRequest.code(),
                "v{v} ({id}, {epoch})"
            );
        }
        // KIP-360's bump without a transactional id: a new id, epoch 0
        let first = init(&mut b, v, idempotent());
        let mut req = idempotent();
        req.producer_id = first.producer_id;
        req.producer_epoch = 7;
        let r = init(&mut b, v, req);
        assert_eq!(r.error_code, 0);
        assert_eq!(r.producer_epoch, 0);
        assert_ne!(r.producer_id, first.producer_id);
    }
    let errors = &b.metrics().apis[&ApiKey::InitProducerId.key()].errors;
    assert_eq!(errors[&ErrorCode::CoordinatorNotAvailable], 6);
    assert_eq!(errors[&ErrorCode::InvalidRequest], 6 + 6);
}
