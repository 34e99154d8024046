//! The idempotence rules, one test per Java rule, and InitProducerId against the broker core.

use super::*;
use crate::network::{NetworkClient, NetworkEvent};
use crate::testing::{config, Sim, T0};
use alloc::boxed::Box;
use alloc::vec::Vec;
use kproto::{RequestBody, ResponseBody};

fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("events", p)
}

/// A manager holding producer id 5, epoch `epoch`.
fn ready(epoch: i16) -> TransactionManager {
    let mut m = TransactionManager::new(&config(1)).unwrap();
    m.bump_idempotent_epoch_and_reset_id_if_needed();
    assert_eq!(m.state(), State::Initializing);
    m.poll_init_producer_id_request(0).unwrap();
    m.handle_init_producer_id_response(
        &InitProducerIdResponse {
            producer_id: 5,
            producer_epoch: epoch,
            ..InitProducerIdResponse::default()
        },
        0,
    );
    assert_eq!(m.state(), State::Ready);
    m
}

/// Drains a batch of `records` for `tp` as the accumulator does.
fn drain(m: &mut TransactionManager, id: u64, tp: &TopicPartition, records: i32) -> InFlightBatch {
    m.maybe_update_producer_id_and_epoch(tp);
    assert!(!m.should_stop_drain_batches_for_partition(tp, None));
    let b = InFlightBatch {
        id,
        topic_partition: tp.clone(),
        producer_id_and_epoch: m.producer_id_and_epoch(),
        base_sequence: m.sequence_number(tp),
        record_count: records,
        sequence_has_been_reset: false,
    };
    m.increment_sequence_number(tp, records);
    m.add_in_flight_batch(b.clone());
    b
}

#[test]
fn sequences_wrap_at_i32_max_to_zero() {
    assert_eq!(increment_sequence(0, 100), 100);
    assert_eq!(increment_sequence(i32::MAX, 1), 0);
    assert_eq!(increment_sequence(i32::MAX - 1, 5), 3);
    let b = InFlightBatch {
        id: 1,
        topic_partition: tp(0),
        producer_id_and_epoch: ProducerIdAndEpoch {
            producer_id: 1,
            epoch: 0,
        },
        base_sequence: i32::MAX - 2,
        record_count: 10,
        sequence_has_been_reset: false,
    };
    assert_eq!(b.last_sequence(), 6);
}

#[test]
fn a_transactional_id_is_refused() {
    let mut cfg = config(1);
    cfg.transactional_id = Some("tx-1".into());
    assert_eq!(
        TransactionManager::new(&cfg).err(),
        Some(IdempotenceError::TransactionalIdNotSupported("tx-1".into()))
    );
}

#[test]
fn init_producer_id_against_the_broker_gives_id_and_epoch_zero() {
    let mut sim = Sim::new(|_| {});
    let mut net: NetworkClient<u8> = NetworkClient::new(&config(2)).unwrap();
    let mut m = TransactionManager::new(&config(2)).unwrap();
    net.handle_timeout(sim.now);
    let _ = sim.run_until(&mut net, T0 + 10_000, |e| {
        matches!(e, NetworkEvent::MetadataUpdated(_))
    });
    // nothing may be drained before a producer id is held
    assert!(m.should_stop_drain_batches_for_partition(&tp(0), None));
    m.bump_idempotent_epoch_and_reset_id_if_needed();
    let req = m
        .poll_init_producer_id_request(sim.now)
        .expect("InitProducerId is due");
    assert_eq!(req.transactional_id, None);
    assert_eq!(req.transaction_timeout_ms, i32::MAX);
    // only one in flight at a time
    assert!(m.poll_init_producer_id_request(sim.now).is_none());
    let node = net.least_loaded_node(sim.now).0.expect("a node");
    assert!(
        net.ready(&node, sim.now) || {
            let id = node.id;
            let (_, ok) = sim.run_until(
                &mut net,
                sim.now + 10_000,
                |e| matches!(e, NetworkEvent::Ready { node } if *node == id),
            );
            ok && net.ready(&node, sim.now)
        }
    );
    net.send(
        node.id,
        RequestBody::InitProducerId(Box::new(req)),
        1,
        sim.now,
    )
    .unwrap();
    let mut answer = None;
    let (_, ok) = sim.run_until(&mut net, sim.now + 10_000, |e| {
        if let NetworkEvent::Response {
            body: Some(ResponseBody::InitProducerId(r)),
            ..
        } = e
        {
            answer = Some((**r).clone());
            return true;
        }
        false
    });
    assert!(ok, "{:#?}", sim.seen);
    m.handle_init_producer_id_response(&answer.unwrap(), sim.now);
    assert_eq!(
        m.producer_id_and_epoch(),
        ProducerIdAndEpoch {
            producer_id: 0,
            epoch: 0
        }
    );
    assert_eq!(m.state(), State::Ready);
    assert!(!m.should_stop_drain_batches_for_partition(&tp(0), None));
}

#[test]
fn init_producer_id_retriable_errors_back_off_and_fatal_ones_are_fatal() {
    let mut m = TransactionManager::new(&config(3)).unwrap();
    m.bump_idempotent_epoch_and_reset_id_if_needed();
    m.poll_init_producer_id_request(1_000).unwrap();
    let err = |e: ErrorCode| InitProducerIdResponse {
        error_code: e.code(),
        ..InitProducerIdResponse::default()
    };
    m.handle_init_producer_id_response(&err(ErrorCode::CoordinatorLoadInProgress), 1_000);
    // retry.backoff.ms = 100
    assert_eq!(m.poll_timeout(), Some(1_100));
    assert!(m.poll_init_producer_id_request(1_099).is_none());
    m.poll_init_producer_id_request(1_100).unwrap();
    // a lost connection retries too
    m.handle_init_producer_id_failure(1_200);
    assert!(m.poll_init_producer_id_request(1_250).is_none());
    m.poll_init_producer_id_request(1_300).unwrap();
    // an authorization error fails the batches once and goes back to uninitialized
    m.handle_init_producer_id_response(&err(ErrorCode::ClusterAuthorizationFailed), 1_300);
    assert_eq!(
        m.take_authorization_error(),
        Some(ErrorCode::ClusterAuthorizationFailed)
    );
    assert_eq!(m.take_authorization_error(), None);
    assert_eq!(m.state(), State::Uninitialized);
    m.bump_idempotent_epoch_and_reset_id_if_needed();
    m.poll_init_producer_id_request(1_400).unwrap();
    m.handle_init_producer_id_response(&err(ErrorCode::ProducerFenced), 1_400);
    assert!(m.has_fatal_error());
    assert_eq!(
        m.fatal_error(),
        Some(&IdempotenceError::ProducerFenced(ErrorCode::ProducerFenced))
    );
    assert!(m.should_stop_drain_batches_for_partition(&tp(0), None));
    // an unexpected error is fatal as well
    let mut m = TransactionManager::new(&config(3)).unwrap();
    m.bump_idempotent_epoch_and_reset_id_if_needed();
    m.poll_init_producer_id_request(0).unwrap();
    m.handle_init_producer_id_response(&err(ErrorCode::InvalidRequest), 0);
    assert_eq!(
        m.fatal_error(),
        Some(&IdempotenceError::Fatal(ErrorCode::InvalidRequest))
    );
}

#[test]
fn sequences_in_flight_and_acks_per_partition() {
    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 100);
    let b = drain(&mut m, 2, &tp(0), 50);
    let c = drain(&mut m, 3, &tp(1), 7);
    assert_eq!(
        (a.base_sequence, b.base_sequence, c.base_sequence),
        (0, 100, 0)
    );
    assert_eq!(m.sequence_number(&tp(0)), 150);
    assert_eq!(m.first_in_flight_sequence(&tp(0)), 0);
    assert_eq!(m.next_batch_by_sequence(&tp(0)).map(|b| b.id), Some(1));
    // a retried batch that is not the first in flight waits (in flight drops to 1)
    assert!(m.should_stop_drain_batches_for_partition(&tp(0), Some(100)));
    assert!(!m.should_stop_drain_batches_for_partition(&tp(0), Some(0)));
    assert_eq!(m.handle_completed_batch(&a, 4_000), 99);
    assert_eq!(m.last_acked_offset(&tp(0)), Some(4_099));
    assert_eq!(m.first_in_flight_sequence(&tp(0)), 100);
    assert_eq!(m.handle_completed_batch(&b, 4_100), 149);
    assert!(!m.has_inflight_batches(&tp(0)));
    assert_eq!(m.first_in_flight_sequence(&tp(0)), NO_SEQUENCE);
    assert_eq!(m.last_acked_sequence(&tp(0)), Some(149));
    assert!(m.has_inflight_batches(&tp(1)));
    assert_eq!(m.last_acked_sequence(&tp(1)), None);
}

#[test]
fn out_of_order_sequence_of_the_next_batch_bumps_the_epoch_and_rewrites_from_zero() {
    let mut m = ready(3);
    let batches: Vec<InFlightBatch> = (0..3).map(|i| drain(&mut m, i, &tp(0), 10)).collect();
    let other = drain(&mut m, 9, &tp(1), 4);
    // the first batch (sequence 0, right after nothing acked) is the next one: a real gap
    assert!(m.can_retry(&batches[0], ErrorCode::OutOfOrderSequenceNumber, 0));
    assert!(m.epoch_bump_required());
    m.bump_idempotent_epoch_and_reset_id_if_needed();
    assert_eq!(
        m.producer_id_and_epoch(),
        ProducerIdAndEpoch {
            producer_id: 5,
            epoch: 4
        }
    );
    let rewrites: Vec<SequenceRewrite> =
        core::iter::from_fn(|| m.poll_sequence_rewrite()).collect();
    assert_eq!(
        rewrites
            .iter()
            .map(|r| (r.id, r.base_sequence))
            .collect::<Vec<_>>(),
        [(0, 0), (1, 10), (2, 20)]
    );
    assert!(rewrites.iter().all(|r| r.producer_id_and_epoch.epoch == 4));
    assert_eq!(m.sequence_number(&tp(0)), 30);
    let first = m.next_batch_by_sequence(&tp(0)).unwrap().clone();
    assert!(first.sequence_has_been_reset);
    assert_eq!(first.producer_id_and_epoch.epoch, 4);
    // the other partition keeps its epoch-3 batch; no new batch drains until it completes
    assert!(m.has_stale_producer_id_and_epoch(&tp(1)));
    assert!(m.should_stop_drain_batches_for_partition(&tp(1), None));
    m.handle_completed_batch(&other, 0);
    m.maybe_update_producer_id_and_epoch(&tp(1));
    assert_eq!(m.sequence_number(&tp(1)), 0);
    assert!(!m.has_stale_producer_id_and_epoch(&tp(1)));
}

#[test]
fn out_of_order_sequence_of_a_later_batch_retries_without_a_bump() {
    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 10);
    let b = drain(&mut m, 2, &tp(0), 10);
    let c = drain(&mut m, 3, &tp(0), 10);
    m.handle_completed_batch(&a, 0);
    // c (sequence 20) is not next after the last ack (9): its predecessor is still pending
    assert!(m.can_retry(&c, ErrorCode::OutOfOrderSequenceNumber, 0));
    assert!(!m.epoch_bump_required());
    // b (sequence 10) is next: a gap, bump
    assert!(m.can_retry(&b, ErrorCode::OutOfOrderSequenceNumber, 0));
    assert!(m.epoch_bump_required());
}

#[test]
fn unknown_producer_id_rules() {
    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 10);
    let b = drain(&mut m, 2, &tp(0), 10);
    m.handle_completed_batch(&a, 500);
    // the broker did not know the log start offset yet: retry as is
    assert!(m.can_retry(&b, ErrorCode::UnknownProducerId, -1));
    assert!(!m.epoch_bump_required());
    // the log's head was deleted (retention): bump the epoch and retry
    assert!(m.can_retry(&b, ErrorCode::UnknownProducerId, 1_000));
    assert!(m.epoch_bump_required());
    m.bump_idempotent_epoch_and_reset_id_if_needed();
    let b2 = m.next_batch_by_sequence(&tp(0)).unwrap().clone();
    assert_eq!((b2.base_sequence, b2.producer_id_and_epoch.epoch), (0, 1));
    // a batch already reset retries without another bump
    assert!(m.can_retry(&b2, ErrorCode::UnknownProducerId, 1_000));
    assert!(!m.epoch_bump_required());
    // other errors: retriable or not as Kafka classes them
    assert!(m.can_retry(&b2, ErrorCode::NotLeaderOrFollower, 0));
    assert!(!m.can_retry(&b2, ErrorCode::MessageTooLarge, 0));
}

#[test]
fn the_epoch_at_i16_max_takes_a_new_producer_id() {
    let mut m = ready(i16::MAX);
    let a = drain(&mut m, 1, &tp(0), 10);
    m.can_retry(&a, ErrorCode::OutOfOrderSequenceNumber, 0);
    m.bump_idempotent_epoch_and_reset_id_if_needed();
    assert_eq!(m.producer_id_and_epoch(), ProducerIdAndEpoch::NONE);
    assert_eq!(m.state(), State::Initializing);
    assert!(m.should_stop_drain_batches_for_partition(&tp(0), Some(0)));
    let req = m.poll_init_producer_id_request(0).unwrap();
    assert_eq!(req.producer_id, NO_PRODUCER_ID);
    m.handle_init_producer_id_response(
        &InitProducerIdResponse {
            producer_id: 6,
            producer_epoch: 0,
            ..InitProducerIdResponse::default()
        },
        0,
    );
    assert_eq!(
        m.producer_id_and_epoch(),
        ProducerIdAndEpoch {
            producer_id: 6,
            epoch: 0
        }
    );
}

#[test]
fn failed_batches_bump_reset_or_go_fatal() {
    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 10);
    m.handle_failed_batch(&a, ErrorCode::OutOfOrderSequenceNumber, true);
    assert!(m.epoch_bump_required());
    assert!(!m.has_inflight_batches(&tp(0)));

    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 10);
    m.handle_failed_batch(&a, ErrorCode::UnknownProducerId, true);
    assert!(!m.epoch_bump_required());
    assert_eq!(m.sequence_number(&tp(0)), 0, "the partition starts over");

    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 10);
    let _b = drain(&mut m, 2, &tp(0), 10);
    // a batch that expired or failed after later ones drained leaves a gap: bump
    m.handle_failed_batch(&a, ErrorCode::RequestTimedOut, true);
    assert!(m.epoch_bump_required());

    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 10);
    m.handle_failed_batch(&a, ErrorCode::RecordListTooLarge, false);
    assert!(!m.epoch_bump_required());

    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 10);
    m.handle_failed_batch(&a, ErrorCode::ClusterAuthorizationFailed, true);
    assert!(m.has_fatal_error());
    m.maybe_update_producer_id_and_epoch(&tp(0));
    assert!(m.should_stop_drain_batches_for_partition(&tp(0), None));
}

#[test]
fn duplicate_sequence_number_counts_as_success() {
    assert!(is_success(ErrorCode::None));
    assert!(is_success(ErrorCode::DuplicateSequenceNumber));
    assert!(!is_success(ErrorCode::OutOfOrderSequenceNumber));
    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 10);
    assert_eq!(m.handle_completed_batch(&a, INVALID_OFFSET), 9);
    assert_eq!(m.last_acked_offset(&tp(0)), None);
}

#[test]
fn unresolved_sequences_resolve_or_bump() {
    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 10);
    let b = drain(&mut m, 2, &tp(0), 10);
    // a expired after it was sent; b was acked later: the gap closed on its own
    m.mark_sequence_unresolved(&a);
    m.remove_in_flight_batch(&a);
    assert!(m.has_unresolved_sequence(&tp(0)));
    assert!(m.should_stop_drain_batches_for_partition(&tp(0), None));
    m.handle_completed_batch(&b, 10);
    m.maybe_resolve_sequences();
    assert!(!m.has_unresolved_sequences());
    assert!(!m.epoch_bump_required());

    let mut m = ready(0);
    let a = drain(&mut m, 1, &tp(0), 10);
    m.mark_sequence_unresolved(&a);
    m.remove_in_flight_batch(&a);
    m.maybe_resolve_sequences();
    assert!(
        m.epoch_bump_required(),
        "nothing acked after the expiry: bump"
    );
}

// ---- the epoch bump with the real broker core ----

struct Live {
    sim: Sim,
    net: NetworkClient<u64>,
    m: TransactionManager,
    topic_id: kproto::Uuid,
}

fn live() -> Live {
    let mut sim = Sim::new(|b| b.num_partitions = 2);
    let cfg = config(11);
    let mut net: NetworkClient<u64> = NetworkClient::new(&cfg).unwrap();
    net.handle_timeout(sim.now);
    net.metadata_mut().add("events", sim.now);
    let (_, ok) = sim.run_until(
        &mut net,
        T0 + 60_000,
        |e| matches!(e, NetworkEvent::MetadataUpdated(u) if u.topic_errors.is_empty() && !u.empty),
    );
    assert!(ok);
    let _ = sim.run_until(&mut net, sim.now + 1_000, |_| false);
    let topic_id = net.metadata().fetch().topics["events"].topic_id;
    let leader = net
        .metadata()
        .fetch()
        .leader_for("events", 0)
        .unwrap()
        .clone();
    if !net.ready(&leader, sim.now) {
        let (_, ok) = sim.run_until(&mut net, sim.now + 10_000, |e| {
            matches!(e, NetworkEvent::Ready { node: 1 })
        });
        assert!(ok);
    }
    let mut m = TransactionManager::new(&cfg).unwrap();
    m.bump_idempotent_epoch_and_reset_id_if_needed();
    let req = m.poll_init_producer_id_request(sim.now).unwrap();
    let mut l = Live {
        sim,
        net,
        m,
        topic_id,
    };
    let body = l.call(RequestBody::InitProducerId(Box::new(req)));
    let ResponseBody::InitProducerId(r) = body else {
        panic!("{body:?}")
    };
    let now = l.sim.now;
    l.m.handle_init_producer_id_response(&r, now);
    assert_eq!(
        l.m.producer_id_and_epoch(),
        ProducerIdAndEpoch {
            producer_id: 0,
            epoch: 0
        }
    );
    l
}

impl Live {
    fn call(&mut self, body: RequestBody) -> ResponseBody {
        assert!(self
            .net
            .ready(&self.net.metadata().fetch().nodes[&1].clone(), self.sim.now));
        let corr = self.net.send(1, body, 0, self.sim.now).unwrap();
        let mut out = None;
        let (_, ok) = self
            .sim
            .run_until(&mut self.net, self.sim.now + 30_000, |e| {
                if let NetworkEvent::Response {
                    correlation_id,
                    body: Some(b),
                    ..
                } = e
                {
                    if *correlation_id == corr {
                        out = Some(b.clone());
                        return true;
                    }
                }
                false
            });
        assert!(ok, "{:#?}", self.sim.seen);
        out.unwrap()
    }

    /// Produces `b`'s records (1 KiB values) with acks=all; returns (error, base offset,
    /// log start offset).
    fn produce(&mut self, b: &InFlightBatch) -> (ErrorCode, i64, i64) {
        use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
        use kproto::records::{BatchBuilder, BatchConfig};
        let mut bb = BatchBuilder::new(BatchConfig {
            write_limit: usize::MAX,
            ..BatchConfig::default()
        });
        bb.set_producer_state(
            b.producer_id_and_epoch.producer_id,
            b.producer_id_and_epoch.epoch,
            b.base_sequence,
            false,
        );
        let value = [b'v'; 1024];
        for i in 0..b.record_count {
            let key = alloc::format!("key-{i}");
            bb.try_append(T0 as i64, Some(key.as_bytes()), Some(&value), &[])
                .unwrap();
        }
        let records = bytes::Bytes::from(bb.build().unwrap().into_vec());
        let body = RequestBody::Produce(Box::new(kproto::messages::ProduceRequest {
            transactional_id: None,
            acks: -1,
            timeout_ms: 30_000,
            topic_data: alloc::vec![TopicProduceData {
                name: "events".into(),
                topic_id: self.topic_id,
                partition_data: alloc::vec![PartitionProduceData {
                    index: b.topic_partition.partition,
                    records: Some(records),
                    ..PartitionProduceData::default()
                }],
                ..TopicProduceData::default()
            }],
            ..kproto::messages::ProduceRequest::default()
        }));
        let ResponseBody::Produce(r) = self.call(body) else {
            panic!()
        };
        let p = &r.responses[0].partition_responses[0];
        (
            ErrorCode::from_code(p.error_code).unwrap(),
            p.base_offset,
            p.log_start_offset,
        )
    }
}

#[test]
fn sequences_duplicates_and_an_epoch_bump_against_the_broker() {
    let mut l = live();
    let p0 = tp(0);
    let a = drain(&mut l.m, 1, &p0, 200);
    let b = drain(&mut l.m, 2, &p0, 200);
    assert_eq!(l.produce(&a), (ErrorCode::None, 0, 0));
    assert_eq!(l.m.handle_completed_batch(&a, 0), 199);
    assert_eq!(l.produce(&b), (ErrorCode::None, 200, 0));
    l.m.handle_completed_batch(&b, 200);
    assert_eq!(l.m.last_acked_offset(&p0), Some(399));
    // a resent batch the broker already has is not written twice, and counts as success
    let (e, offset, _) = l.produce(&b);
    assert!(is_success(e), "{e}");
    assert_eq!(offset, 200);
    // a lost batch (never arrives) leaves a gap: the next one is out of order
    let lost = drain(&mut l.m, 3, &p0, 10);
    let c = drain(&mut l.m, 4, &p0, 50);
    let (e, _, lso) = l.produce(&c);
    assert_eq!(e, ErrorCode::OutOfOrderSequenceNumber);
    // c is not the next batch after the last ack (399): retried, no bump yet
    assert!(l.m.can_retry(&c, e, lso));
    assert!(!l.m.epoch_bump_required());
    assert!(l
        .m
        .should_stop_drain_batches_for_partition(&p0, Some(c.base_sequence)));
    // the lost batch expires after it was sent: its sequence gap calls for a bump
    l.m.handle_failed_batch(&lost, ErrorCode::RequestTimedOut, true);
    l.m.bump_idempotent_epoch_and_reset_id_if_needed();
    assert_eq!(
        l.m.producer_id_and_epoch(),
        ProducerIdAndEpoch {
            producer_id: 0,
            epoch: 1
        }
    );
    let rw = l.m.poll_sequence_rewrite().unwrap();
    assert_eq!(
        (rw.id, rw.base_sequence, rw.producer_id_and_epoch.epoch),
        (4, 0, 1)
    );
    let c2 = l.m.next_batch_by_sequence(&p0).unwrap().clone();
    assert!(!l
        .m
        .should_stop_drain_batches_for_partition(&p0, Some(c2.base_sequence)));
    // the broker takes the new epoch from sequence 0
    assert_eq!(l.produce(&c2), (ErrorCode::None, 400, 0));
    l.m.handle_completed_batch(&c2, 400);
    let d = drain(&mut l.m, 5, &p0, 5);
    assert_eq!((d.base_sequence, d.producer_id_and_epoch.epoch), (50, 1));
    assert_eq!(l.produce(&d), (ErrorCode::None, 450, 0));
}
