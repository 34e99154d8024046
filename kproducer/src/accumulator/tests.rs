//! RecordAccumulatorTest, in spirit: readiness, drain bounds, the built bytes, sequences,
//! retries, splits, expiry, memory and the built-in partitioner through `append`/`ready`.

use super::partitioner::tests::{add_nodes, add_topic, cluster};
use super::*;
use alloc::format;
use alloc::vec;
use kproto::records::{BatchView, Batches, DEFAULT_MAX_UNCOMPRESSED};

fn config(batch_size: u32, linger_ms: u64, buffer_memory: u64) -> ProducerConfig {
    ProducerConfig {
        batch_size,
        linger_ms,
        buffer_memory,
        enable_idempotence: false,
        seed: 17,
        ..ProducerConfig::default()
    }
}

fn appended(outcome: Result<AppendOutcome, AppendError>) -> RecordAppendResult {
    match outcome {
        Ok(AppendOutcome::Appended(r)) => r,
        other => panic!("expected an append, got {other:?}"),
    }
}

fn value(i: usize, len: usize) -> Vec<u8> {
    let mut v = format!("value-{i}-").into_bytes();
    while v.len() < len {
        v.push(b'a' + (v.len() % 26) as u8);
    }
    v.truncate(len);
    v
}

/// A sequencer as the idempotence state would be: sequences per partition, batches in flight.
#[derive(Debug, Default)]
struct TestSequencer {
    producer: Option<ProducerIdAndEpoch>,
    next: BTreeMap<TopicPartition, i32>,
    in_flight: BTreeMap<TopicPartition, Vec<i32>>,
}

impl TestSequencer {
    fn new(producer_id: i64, epoch: i16) -> Self {
        TestSequencer {
            producer: Some(ProducerIdAndEpoch { producer_id, epoch }),
            ..TestSequencer::default()
        }
    }

    fn remove_in_flight(&mut self, batch: &ProducerBatch) {
        if let Some(v) = self.in_flight.get_mut(batch.topic_partition()) {
            v.retain(|&s| s != batch.base_sequence());
        }
    }
}

impl DrainSequencer for TestSequencer {
    fn producer_id_and_epoch(&self) -> Option<ProducerIdAndEpoch> {
        self.producer
    }
    fn has_inflight_batches(&self, tp: &TopicPartition) -> bool {
        self.in_flight.get(tp).is_some_and(|v| !v.is_empty())
    }
    fn first_in_flight_sequence(&self, tp: &TopicPartition) -> i32 {
        self.in_flight
            .get(tp)
            .and_then(|v| v.iter().min().copied())
            .unwrap_or(NO_SEQUENCE)
    }
    fn sequence_number(&self, tp: &TopicPartition) -> i32 {
        self.next.get(tp).copied().unwrap_or(0)
    }
    fn increment_sequence_number(&mut self, tp: &TopicPartition, increment: i32) {
        *self.next.entry(tp.clone()).or_default() += increment;
    }
    fn add_in_flight_batch(&mut self, batch: &ProducerBatch) {
        self.in_flight
            .entry(batch.topic_partition().clone())
            .or_default()
            .push(batch.base_sequence());
    }
}

// testLinger / testFull: a partition is ready after linger.ms, or at once when a batch fills.
#[test]
fn linger_and_full_batches_make_partitions_ready() {
    let c = cluster("t", 2, 2, &[]);
    let mut acc = RecordAccumulator::new(&config(16384, 10, 1 << 20));
    let v = value(0, 1000);
    let r = appended(acc.append("t", Some(0), 1, None, Some(&v), &[], 0, &c));
    assert!(r.new_batch_created && !r.batch_is_full);
    let ready = acc.ready(&c, 0);
    assert!(ready.ready_nodes.is_empty());
    assert_eq!(ready.next_ready_check_delay_ms, 10);
    assert_eq!(acc.ready(&c, 7).next_ready_check_delay_ms, 3);
    assert_eq!(acc.ready(&c, 10).ready_nodes, BTreeSet::from([0]));

    // Partition 1: fill a batch; the append that opens a second batch says "full".
    let mut full_seen = 0;
    for i in 0..40 {
        let v = value(i, 1000);
        let r = appended(acc.append("t", Some(1), 1, None, Some(&v), &[], 100, &c));
        if r.batch_is_full {
            full_seen = i;
            break;
        }
    }
    assert!(full_seen >= 15, "a 16 KB batch holds about 16 1 KB records");
    let ready = acc.ready(&c, 100);
    assert_eq!(ready.ready_nodes, BTreeSet::from([0, 1]));
    let dq = acc.deque(&TopicPartition::new("t", 1)).unwrap();
    assert_eq!(dq.len(), 2);
    assert!(dq[0].estimated_size_in_bytes() <= 16384);
}

// testPartialDrain / testNextReadyCheckDelay at scale: 300 partitions on 3 nodes, 1 MiB
// requests, round robin over the partitions of each node.
#[test]
fn drain_stays_within_max_request_size_over_hundreds_of_partitions() {
    let c = cluster("big", 300, 3, &[]);
    let mut acc = RecordAccumulator::new(&config(16384, 0, 64 << 20));
    let mut appended_records = 0usize;
    for p in 0..300 {
        for i in 0..20 {
            let v = value(i, 1024);
            appended(acc.append(
                "big",
                Some(p),
                1000 + i as i64,
                Some(b"key"),
                Some(&v),
                &[],
                0,
                &c,
            ));
            appended_records += 1;
        }
    }
    let max = 1 << 20;
    let mut drained_records = 0usize;
    let mut rounds = 0;
    let mut first_round_partitions: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    while acc.has_undrained() {
        rounds += 1;
        let ready = acc.ready(&c, 0);
        let result = acc.drain(&c, ready.ready_nodes.iter().copied(), max, 0, &mut ());
        assert!(result.failed.is_empty());
        for (node, batches) in &result.batches {
            let bytes: usize = batches.iter().map(|b| b.records().unwrap().len()).sum();
            assert!(bytes <= max, "node {node}: {bytes} bytes in one request");
            let mut seen = BTreeSet::new();
            for b in batches {
                assert_eq!(
                    c.leader_for("big", b.topic_partition().partition)
                        .unwrap()
                        .id,
                    *node
                );
                assert!(
                    seen.insert(b.topic_partition().partition),
                    "one batch per partition"
                );
                drained_records += b.record_count();
            }
            if rounds == 1 {
                first_round_partitions.insert(
                    *node,
                    batches
                        .iter()
                        .map(|b| b.topic_partition().partition)
                        .collect(),
                );
            }
        }
        for (_, batches) in result.batches {
            for b in batches {
                acc.deallocate(b);
            }
        }
        assert!(rounds < 100);
    }
    assert_eq!(drained_records, appended_records);
    // Each node leads 100 partitions of about 21 KB each: at least 3 requests of 1 MiB.
    assert!(rounds >= 3, "{rounds} rounds");
    let first = &first_round_partitions[&0];
    assert!(
        first.len() > 50 && first.len() < 100,
        "{} batches",
        first.len()
    );
    // Round robin: node 0 leads 0, 3, 6, ...; the first drain starts at its first partition.
    assert_eq!(first[..3], [0, 3, 6]);
    assert_eq!(acc.available_memory(), 64 << 20);
}

#[test]
fn drain_round_robin_resumes_where_it_stopped() {
    let c = cluster("t", 6, 1, &[]);
    let mut acc = RecordAccumulator::new(&config(16384, 0, 8 << 20));
    for p in 0..6 {
        for i in 0..40 {
            let v = value(i, 1000);
            appended(acc.append("t", Some(p), 5, None, Some(&v), &[], 0, &c));
        }
    }
    // Two 16 KB batches fit in 40000 bytes.
    let first = acc.drain(&c, [0], 40_000, 0, &mut ());
    let parts: Vec<i32> = first.batches[&0]
        .iter()
        .map(|b| b.topic_partition().partition)
        .collect();
    assert_eq!(parts, [0, 1]);
    let second = acc.drain(&c, [0], 40_000, 0, &mut ());
    let parts: Vec<i32> = second.batches[&0]
        .iter()
        .map(|b| b.topic_partition().partition)
        .collect();
    // Java stores the index of the partition that stopped the drain and starts there.
    assert_eq!(parts, [2, 3]);
}

/// What a record was appended with: key, value, headers, timestamp.
type Expected = (Vec<u8>, Vec<u8>, Vec<(String, Vec<u8>)>, i64);

fn check_decoded(batch: &ProducerBatch, expected: &[Expected]) {
    let bytes = batch.records().unwrap();
    let mut n = 0;
    for view in Batches::new(bytes) {
        let view = view.unwrap();
        view.validate().unwrap();
        assert_eq!(view.compression().unwrap(), batch.compression());
        let mut scratch = Vec::new();
        for (rec, handle) in view
            .records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED)
            .unwrap()
            .zip(batch.record_handles())
        {
            let rec = rec.unwrap();
            let (k, v, h, ts) = &expected[n];
            assert_eq!(rec.key, Some(k.as_slice()));
            assert_eq!(rec.value, Some(v.as_slice()));
            assert_eq!(rec.timestamp, *ts);
            assert_eq!(handle.timestamp, *ts);
            assert_eq!(i64::from(handle.relative_offset), rec.offset);
            let headers: Vec<(String, Vec<u8>)> = rec
                .headers
                .iter()
                .map(|hv| {
                    (
                        String::from(hv.key_str().unwrap()),
                        hv.value.unwrap().to_vec(),
                    )
                })
                .collect();
            assert_eq!(&headers, h);
            n += 1;
        }
    }
    assert_eq!(n, batch.record_count());
}

// testAppendLarge / compression: every record's key, value and headers come back from the
// built bytes, for every codec.
#[test]
fn drained_batches_decode_to_the_records_appended_for_every_codec() {
    for codec in Compression::ALL {
        if !codec.is_enabled() {
            continue;
        }
        let c = cluster("t", 1, 1, &[]);
        let mut cfg = config(16384, 0, 4 << 20);
        cfg.compression_type = codec;
        let mut acc = RecordAccumulator::new(&cfg);
        let mut expected = Vec::new();
        for i in 0..300 {
            let key = format!("key-{i:05}").into_bytes();
            let v = value(i, 1000 + (i * 37) % 3000);
            let hv = value(i * 7, 200);
            let ts = 1_700_000_000_000 + i as i64 * 3;
            let headers = [("trace-id", Some(hv.as_slice())), ("n", Some(&b"x"[..]))];
            appended(acc.append("t", Some(0), ts, Some(&key), Some(&v), &headers, 0, &c));
            expected.push((
                key,
                v,
                vec![
                    (String::from("trace-id"), hv.clone()),
                    (String::from("n"), b"x".to_vec()),
                ],
                ts,
            ));
        }
        let mut done = 0;
        while acc.has_undrained() {
            let r = acc.drain(&c, [0], 1 << 20, 0, &mut ());
            assert!(r.failed.is_empty(), "{codec}: {:?}", r.failed);
            for b in r.batches.into_values().flatten() {
                assert!(b.record_count() > 0);
                if codec == Compression::None {
                    // Uncompressed: the limit holds exactly (the first record always fits).
                    assert!(b.records().unwrap().len() <= 16384 || b.record_count() == 1);
                }
                check_decoded(&b, &expected[done..]);
                done += b.record_count();
                acc.deallocate(b);
            }
        }
        assert_eq!(done, 300, "{codec}");
        if codec != Compression::None {
            // Text compresses: the estimator learnt a ratio below 1.
            assert!(acc.compression_ratio_estimation("t") < 1.0, "{codec}");
        }
    }
}

// testIdempotenceWithOldMagic / sequence assignment: sequences are given at drain, per
// partition, advancing by the record count.
#[test]
fn drain_assigns_sequences_per_partition() {
    let c = cluster("t", 3, 1, &[]);
    let mut cfg = config(16384, 0, 4 << 20);
    cfg.enable_idempotence = true;
    let mut acc = RecordAccumulator::new(&cfg);
    for p in 0..3 {
        for i in 0..50 {
            let v = value(i, 900);
            appended(acc.append("t", Some(p), 1, None, Some(&v), &[], 0, &c));
        }
    }
    let mut seq = TestSequencer::new(4242, 3);
    let mut next = [0i32; 3];
    let mut batches = Vec::new();
    while acc.has_undrained() {
        let r = acc.drain(&c, [0], 1 << 20, 0, &mut seq);
        for b in r.batches.into_values().flatten() {
            let p = b.topic_partition().partition as usize;
            assert_eq!(b.base_sequence(), next[p]);
            next[p] += b.record_count() as i32;
            let view = BatchView::new_checked(b.records().unwrap()).unwrap();
            view.validate().unwrap();
            assert_eq!(view.producer_id(), 4242);
            assert_eq!(view.producer_epoch(), 3);
            assert_eq!(view.base_sequence(), b.base_sequence());
            assert_eq!(view.last_sequence(), b.last_sequence());
            batches.push(b);
        }
    }
    assert_eq!(next, [50, 50, 50]);
    assert_eq!(seq.next[&TopicPartition::new("t", 1)], 50);
    assert!(batches.len() >= 9);
    // Without a producer id yet, nothing is drained.
    for i in 0..5 {
        let v = value(i, 100);
        appended(acc.append("t", Some(0), 1, None, Some(&v), &[], 0, &c));
    }
    let mut none = TestSequencer {
        producer: Some(ProducerIdAndEpoch::NONE),
        ..TestSequencer::default()
    };
    assert!(acc.drain(&c, [0], 1 << 20, 0, &mut none).batches[&0].is_empty());
}

// testRetryBackoff / reenqueue in sequence order (insertInSequenceOrder).
#[test]
fn reenqueued_batches_go_back_in_sequence_order_and_back_off() {
    let c = cluster("t", 1, 1, &[]);
    let mut cfg = config(16384, 0, 4 << 20);
    cfg.enable_idempotence = true;
    cfg.retry_backoff_ms = 100;
    cfg.retry_backoff_max_ms = 1000;
    let mut acc = RecordAccumulator::new(&cfg);
    for i in 0..60 {
        let v = value(i, 1000);
        appended(acc.append("t", Some(0), 1, None, Some(&v), &[], 0, &c));
    }
    let mut seq = TestSequencer::new(1, 0);
    // Three requests in flight, one batch each.
    let mut in_flight = Vec::new();
    for _ in 0..3 {
        let mut r = acc.drain(&c, [0], 16384, 0, &mut seq);
        in_flight.push(r.batches.remove(&0).unwrap().remove(0));
    }
    let seqs: Vec<i32> = in_flight.iter().map(ProducerBatch::base_sequence).collect();
    assert_eq!(seqs[0], 0);
    assert!(seqs[0] < seqs[1] && seqs[1] < seqs[2]);
    // Responses fail out of order: the second first, then the third, then the first.
    let third = in_flight.pop().unwrap();
    let second = in_flight.pop().unwrap();
    let first = in_flight.pop().unwrap();
    acc.reenqueue(second, 10).unwrap();
    acc.reenqueue(third, 10).unwrap();
    acc.reenqueue(first, 10).unwrap();
    let dq = acc.deque(&TopicPartition::new("t", 0)).unwrap();
    let order: Vec<i32> = dq
        .iter()
        .take(4)
        .map(ProducerBatch::base_sequence)
        .collect();
    assert_eq!(order, [seqs[0], seqs[1], seqs[2], NO_SEQUENCE]);
    assert!(dq[0].in_retry() && dq[0].attempts() == 1);
    // In backoff: 100 ms ± 20 % from the re-enqueue time.
    let r = acc.ready(&c, 50);
    assert!(r.ready_nodes.is_empty());
    assert!(r.next_ready_check_delay_ms > 0 && r.next_ready_check_delay_ms <= 80);
    assert!(acc.drain(&c, [0], 1 << 20, 50, &mut seq).batches[&0].is_empty());
    assert_eq!(acc.ready(&c, 200).ready_nodes, BTreeSet::from([0]));
    // The retried batch keeps its sequence; the retry goes one at a time (in-flight 1):
    // only the first in-flight sequence may be drained.
    let r = acc.drain(&c, [0], 1 << 20, 200, &mut seq);
    let got: Vec<i32> = r.batches[&0]
        .iter()
        .map(ProducerBatch::base_sequence)
        .collect();
    assert_eq!(got, [seqs[0]]);
    // A batch without sequence is not allowed to jump the queue either.
    let mut no_idem = RecordAccumulator::new(&config(16384, 0, 4 << 20));
    let v = value(1, 100);
    appended(no_idem.append("t", Some(0), 1, None, Some(&v), &[], 0, &c));
    let mut r = no_idem.drain(&c, [0], 1 << 20, 0, &mut ());
    let b = r.batches.remove(&0).unwrap().remove(0);
    assert_eq!(b.base_sequence(), NO_SEQUENCE);
    appended(no_idem.append("t", Some(0), 1, None, Some(&v), &[], 0, &c));
    let id = b.id();
    no_idem.reenqueue(b, 5).unwrap();
    assert_eq!(
        no_idem.deque(&TopicPartition::new("t", 0)).unwrap()[0].id(),
        id
    );
    // Idempotent accumulator refuses a batch without sequence.
    let mut lone = ProducerBatch::new(
        BatchId(999),
        TopicPartition::new("t", 0),
        Compression::None,
        16384,
        1.0,
        Vec::new(),
        0,
    );
    lone.try_append(RecordId(1), 1, None, Some(b"v"), &[], 0)
        .unwrap();
    assert!(matches!(
        acc.reenqueue(lone, 0),
        Err(ReenqueueError::NoSequence(_))
    ));
}

// testSplitAndReenqueue / testSplitBatchOffAccumulator: a 1 MiB batch split into batch.size
// batches keeps every record, its id, its order and the sequences.
#[test]
fn a_one_mib_batch_splits_into_batch_size_batches() {
    for codec in [Compression::None, Compression::Lz4, Compression::Gzip] {
        if !codec.is_enabled() {
            continue;
        }
        let tp = TopicPartition::new("t", 0);
        let mut big = ProducerBatch::new(
            BatchId(1_000_000),
            tp.clone(),
            codec,
            1 << 20,
            1.0,
            Vec::new(),
            42,
        );
        let mut expected = Vec::new();
        let mut i = 0u64;
        while !big.is_full() {
            let key = format!("k{i}").into_bytes();
            let v = value(i as usize, 2000);
            let hv = value(i as usize + 1, 50);
            let h = [("h", Some(hv.as_slice()))];
            if big
                .try_append(RecordId(i), 1_000 + i as i64, Some(&key), Some(&v), &h, 50)
                .unwrap()
                .is_none()
            {
                break;
            }
            expected.push((
                key,
                v,
                vec![(String::from("h"), hv.clone())],
                1_000 + i as i64,
            ));
            i += 1;
        }
        big.set_producer_state(
            ProducerIdAndEpoch {
                producer_id: 7,
                epoch: 1,
            },
            1000,
            false,
        );
        big.close().unwrap();
        let n = big.record_count();
        assert!(n > 400, "{codec}: {n} records");

        let c = cluster("t", 1, 1, &[]);
        let mut cfg = config(16384, 0, 4 << 20);
        cfg.enable_idempotence = true;
        cfg.compression_type = codec;
        let mut acc = RecordAccumulator::new(&cfg);
        let mut seq = TestSequencer::new(7, 1);
        seq.next.insert(tp.clone(), 1000 + n as i32);
        let count = acc.split_and_reenqueue(big, &mut seq).unwrap();
        assert!(count >= 60, "{codec}: {count} batches");
        let mut done = 0;
        let mut next_seq = 1000;
        // The split batches are tracked in flight: drain them one by one in order.
        while acc.has_undrained() {
            let r = acc.drain(&c, [0], 1 << 20, 0, &mut seq);
            for b in r.batches.into_values().flatten() {
                assert!(b.is_split_batch());
                assert_eq!(b.created_ms(), 42);
                assert_eq!(b.base_sequence(), next_seq);
                next_seq += b.record_count() as i32;
                if codec == Compression::None {
                    assert!(b.records().unwrap().len() <= 16384);
                }
                check_decoded(&b, &expected[done..]);
                for (k, h) in b.record_handles().iter().enumerate() {
                    assert_eq!(h.id, RecordId((done + k) as u64));
                }
                done += b.record_count();
                seq.remove_in_flight(&b);
                acc.deallocate(b);
            }
        }
        assert_eq!(done, n);
        assert_eq!(next_seq, 1000 + n as i32);
        assert_eq!(
            acc.available_memory(),
            4 << 20,
            "split batches hold no pool memory"
        );
    }
}

// testExpiredBatches: delivery.timeout.ms from creation, oldest first.
#[test]
fn batches_expire_after_delivery_timeout() {
    let c = cluster("t", 2, 1, &[]);
    let mut cfg = config(16384, 5, 4 << 20);
    cfg.delivery_timeout_ms = 120_000;
    let mut acc = RecordAccumulator::new(&cfg);
    for i in 0..40 {
        let v = value(i, 1000);
        appended(acc.append("t", Some(0), 1, None, Some(&v), &[], 1_000, &c));
    }
    let v = value(1, 1000);
    appended(acc.append("t", Some(1), 1, None, Some(&v), &[], 60_000, &c));
    assert!(acc.expired_batches(120_999).is_empty());
    assert_eq!(acc.next_expiry_time_ms(), 121_000);
    let expired = acc.expired_batches(121_000);
    assert_eq!(expired.len(), 3, "the three batches of partition 0");
    assert!(expired.iter().all(|b| b.topic_partition().partition == 0));
    assert_eq!(
        expired
            .iter()
            .map(ProducerBatch::record_count)
            .sum::<usize>(),
        40
    );
    acc.reset_next_batch_expiry_time();
    assert!(acc.expired_batches(179_999).is_empty());
    assert_eq!(acc.next_expiry_time_ms(), 180_000);
    for b in expired {
        acc.deallocate(b);
    }
    assert_eq!(acc.expired_batches(180_000).len(), 1);
}

// BufferPoolTest + testAppendInExpiryCallback: reserved memory never passes buffer.memory;
// exhaustion is a result, it makes batches ready, and deallocation ends it.
#[test]
fn memory_never_passes_buffer_memory() {
    let c = cluster("t", 100, 4, &[]);
    let total = 256 * 1024;
    let mut acc = RecordAccumulator::new(&config(16384, 1000, total));
    let mut p = 0;
    let mut blocked = None;
    for i in 0..1000 {
        let v = value(i, 3000);
        match acc
            .append("t", Some(p % 100), 1, None, Some(&v), &[], 0, &c)
            .unwrap()
        {
            AppendOutcome::Appended(r) => {
                if r.new_batch_created {
                    p += 1;
                }
            }
            AppendOutcome::Backpressure { needed, available } => {
                assert_eq!(needed, 16384);
                assert!(available < 16384);
                blocked = Some(i);
                break;
            }
        }
        let used = total - acc.available_memory();
        assert!(used <= total);
    }
    let blocked = blocked.expect("the pool runs out");
    assert_eq!(acc.waiting_threads(), 1);
    assert_eq!(acc.available_memory(), 0, "16 batches of 16 KB");
    // Exhausted memory makes every batch ready despite linger.ms.
    let ready = acc.ready(&c, 0);
    assert_eq!(ready.ready_nodes.len(), 4);
    let r = acc.drain(&c, ready.ready_nodes.iter().copied(), 1 << 20, 0, &mut ());
    let mut freed = 0;
    for b in r.batches.into_values().flatten() {
        freed = acc.deallocate(b);
    }
    assert_eq!(freed, total);
    // Uncompressed batches give their batch.size buffers back to the free list for reuse.
    assert!(acc.buffer_pool().free_list_len() >= 8);
    let v = value(blocked, 3000);
    let r = appended(acc.append("t", Some(0), 1, None, Some(&v), &[], 1, &c));
    assert!(r.new_batch_created);
    assert_eq!(acc.waiting_threads(), 0);
    // A record larger than batch.size reserves its own size.
    let big = value(0, 100_000);
    let r = appended(acc.append("t", Some(1), 1, None, Some(&big), &[], 1, &c));
    assert!(r.new_batch_created);
    assert!(acc.available_memory() <= total - 16384 - 100_000);
    let too_big = value(0, 300_000);
    assert!(matches!(
        acc.append("t", Some(1), 1, None, Some(&too_big), &[], 1, &c),
        Err(AppendError::RecordTooLarge {
            config: "buffer.memory",
            ..
        })
    ));
    let mut cfg = config(16384, 0, 64 << 20);
    cfg.max_request_size = 1 << 20;
    let mut acc2 = RecordAccumulator::new(&cfg);
    let huge = value(0, (1 << 20) + 1);
    assert!(matches!(
        acc2.append("t", Some(1), 1, None, Some(&huge), &[], 1, &c),
        Err(AppendError::RecordTooLarge {
            config: "max.request.size",
            ..
        })
    ));
}

/// Appends 2000 unkeyed 500-byte records; with `drain_each`, drains after every append as
/// a fast Sender would. Returns the runs of consecutive records on one partition and their
/// bytes.
fn sticky_runs(drain_each: bool) -> Vec<(i32, usize)> {
    let c = cluster("t", 10, 3, &[]);
    let mut cfg = config(16384, if drain_each { 0 } else { 10_000 }, 32 << 20);
    cfg.partitioner_adaptive_partitioning_enable = false;
    let mut acc = RecordAccumulator::new(&cfg);
    let mut runs: Vec<(i32, usize)> = Vec::new();
    for i in 0..2000 {
        let v = value(i, 500);
        let r = appended(acc.append("t", None, 1, None, Some(&v), &[], 0, &c));
        let p = r.topic_partition.partition;
        match runs.last_mut() {
            Some((last, bytes)) if *last == p => *bytes += r.appended_bytes,
            _ => runs.push((p, r.appended_bytes)),
        }
        if drain_each {
            let r = acc.drain(&c, [0, 1, 2], 1 << 20, 0, &mut ());
            for b in r.batches.into_values().flatten() {
                acc.deallocate(b);
            }
        }
    }
    runs
}

// testStickyBatches (KIP-794): unkeyed records stick to a partition for batch.size bytes;
// while the partition's last batch is not full the switch waits, up to 2 x batch.size.
#[test]
fn unkeyed_records_switch_partition_after_batch_size_bytes() {
    // Drained as they come: the queue is empty (all batches full) so the switch happens as
    // soon as batch.size bytes were produced. A switch may pick the same partition again,
    // which merges two runs.
    let runs = sticky_runs(true);
    assert!(runs.len() > 20, "{} runs", runs.len());
    for (p, bytes) in &runs[..runs.len() - 1] {
        assert!(*bytes >= 16384, "partition {p}: {bytes}");
        if *bytes >= 2 * 16384 {
            continue; // two runs merged
        }
        assert!(*bytes < 16384 + 600, "partition {p}: {bytes}");
    }
    // Lingering: the record that does not fit opens a new batch that is not full, so the
    // switch waits for the 2 x batch.size cap (allBatchesFull gate).
    let runs = sticky_runs(false);
    assert!(runs.len() > 10, "{} runs", runs.len());
    for (p, bytes) in &runs[..runs.len() - 1] {
        assert!(*bytes >= 2 * 16384, "partition {p}: {bytes}");
        if *bytes >= 4 * 16384 {
            continue;
        }
        assert!(*bytes < 2 * 16384 + 600, "partition {p}: {bytes}");
    }
    let used: BTreeSet<i32> = runs.iter().map(|r| r.0).collect();
    assert!(used.len() >= 8, "{used:?}");
}

// testAdaptiveBuiltInPartitioner: once every partition has a queue, a partition whose leader
// has a long queue is picked less often.
#[test]
fn adaptive_partitioning_picks_long_queues_less() {
    let c = cluster("t", 4, 4, &[]);
    let mut acc = RecordAccumulator::new(&config(1024, 100_000, 256 << 20));
    // Queue sizes: partition 0 has 20 batches, the others one.
    for i in 0..20 {
        let v = value(i, 1100);
        appended(acc.append("t", Some(0), 1, None, Some(&v), &[], 0, &c));
    }
    for p in 1..4 {
        let v = value(p as usize, 100);
        appended(acc.append("t", Some(p), 1, None, Some(&v), &[], 0, &c));
    }
    acc.ready(&c, 0);
    let (cft, ids) = acc.built_in_partitioner("t").unwrap().load_stats().unwrap();
    // Sizes 20 1 1 1 -> weights 1 20 20 20.
    assert_eq!(cft, [1, 21, 41, 61]);
    assert_eq!(ids, [0, 1, 2, 3]);
    let mut counts = [0usize; 4];
    for i in 0..3000 {
        let v = value(i, 1100);
        let r = appended(acc.append("t", None, 1, None, Some(&v), &[], 0, &c));
        counts[r.topic_partition.partition as usize] += 1;
    }
    // Each switch picks partition 0 with probability 1/61.
    assert!(counts[0] * 15 < counts[1], "{counts:?}");
    for p in 1..4 {
        assert!(counts[p] > 700, "{counts:?}");
    }
}

// partitioner.availability.timeout.ms: a node that had data ready but could not be drained
// for longer than the timeout loses its partitions from the choice.
#[test]
fn unavailable_nodes_are_left_out_of_the_choice() {
    let c = cluster("t", 4, 2, &[]);
    let mut cfg = config(1024, 100_000, 64 << 20);
    cfg.partitioner_availability_timeout_ms = 100;
    let mut acc = RecordAccumulator::new(&cfg);
    for p in 0..4 {
        let v = value(p as usize, 100);
        appended(acc.append("t", Some(p), 1, None, Some(&v), &[], 0, &c));
    }
    acc.update_node_latency_stats(0, 0, true);
    acc.update_node_latency_stats(1, 0, true);
    acc.update_node_latency_stats(1, 500, false);
    assert_eq!(
        acc.node_latency_stats(1),
        Some(NodeLatencyStats {
            ready_time_ms: 500,
            drain_time_ms: 0
        })
    );
    acc.ready(&c, 500);
    let (_, ids) = acc.built_in_partitioner("t").unwrap().load_stats().unwrap();
    // Node 1 leads partitions 1 and 3.
    assert_eq!(ids, [0, 2]);
    for i in 0..500 {
        let v = value(i, 700);
        let r = appended(acc.append("t", None, 1, None, Some(&v), &[], 500, &c));
        assert!(
            r.topic_partition.partition % 2 == 0,
            "{:?}",
            r.topic_partition
        );
    }
}

#[test]
fn keyed_records_follow_murmur2_unless_keys_are_ignored() {
    let c = cluster("t", 12, 3, &[]);
    let mut acc = RecordAccumulator::new(&config(16384, 0, 8 << 20));
    let r = appended(acc.append("t", None, 1, Some(b"21"), Some(b"v"), &[], 0, &c));
    assert_eq!(r.topic_partition.partition, 0);
    for i in 0..200 {
        let key = format!("user-{i}").into_bytes();
        let r = appended(acc.append("t", None, 1, Some(&key), Some(b"v"), &[], 0, &c));
        assert_eq!(r.topic_partition.partition, partition_for_key(&key, 12));
    }
    let mut cfg = config(16384, 0, 8 << 20);
    cfg.partitioner_ignore_keys = true;
    let mut ignore = RecordAccumulator::new(&cfg);
    let parts: BTreeSet<i32> = (0..200)
        .map(|i| {
            let key = format!("user-{i}").into_bytes();
            appended(ignore.append("t", None, 1, Some(&key), Some(b"v"), &[], 0, &c))
                .topic_partition
                .partition
        })
        .collect();
    assert_eq!(parts.len(), 1, "small records stick to one partition");
    assert!(matches!(
        acc.append("missing", None, 1, Some(b"k"), None, &[], 0, &c),
        Err(AppendError::UnknownTopic(_))
    ));
}

#[test]
fn same_seed_same_placement() {
    let mut c = Cluster::default();
    add_nodes(&mut c, 3);
    add_topic(&mut c, "a", 30, 3, &[]);
    add_topic(&mut c, "b", 7, 3, &[2]);
    let run = |seed: u64| {
        let mut cfg = config(4096, 0, 64 << 20);
        cfg.seed = seed;
        let mut acc = RecordAccumulator::new(&cfg);
        let mut out = Vec::new();
        for i in 0..600 {
            let topic = if i % 3 == 0 { "b" } else { "a" };
            let v = value(i, 300 + i % 200);
            out.push(
                appended(acc.append(topic, None, 1, None, Some(&v), &[], i as u64, &c))
                    .topic_partition,
            );
            if i % 50 == 0 {
                let ready = acc.ready(&c, i as u64);
                let r = acc.drain(
                    &c,
                    ready.ready_nodes.iter().copied(),
                    1 << 20,
                    i as u64,
                    &mut (),
                );
                for b in r.batches.into_values().flatten() {
                    acc.deallocate(b);
                }
            }
        }
        out
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
    assert!(run(5)
        .iter()
        .all(|tp| !(tp.topic == "b" && tp.partition == 2)));
}

// testFlush / testAwaitFlushComplete.
#[test]
fn flush_makes_everything_ready_until_the_batches_complete() {
    let c = cluster("t", 2, 2, &[]);
    let mut acc = RecordAccumulator::new(&config(16384, 60_000, 4 << 20));
    for p in 0..2 {
        let v = value(p as usize, 1000);
        appended(acc.append("t", Some(p), 1, None, Some(&v), &[], 0, &c));
    }
    assert!(acc.ready(&c, 0).ready_nodes.is_empty());
    let token = acc.begin_flush();
    assert!(acc.flush_in_progress());
    assert_eq!(acc.ready(&c, 0).ready_nodes, BTreeSet::from([0, 1]));
    let r = acc.drain(&c, [0, 1], 1 << 20, 0, &mut ());
    let mut batches: Vec<_> = r.batches.into_values().flatten().collect();
    assert_eq!(batches.len(), 2);
    // A record appended after the flush began is not waited for.
    appended(acc.append("t", Some(0), 1, None, Some(b"late"), &[], 1, &c));
    acc.deallocate(batches.pop().unwrap());
    let token = acc.await_flush_completion(token).unwrap_err();
    acc.deallocate(batches.pop().unwrap());
    acc.await_flush_completion(token).unwrap();
    assert!(!acc.flush_in_progress());
    assert!(acc.has_incomplete());
    assert!(acc.ready(&c, 1).ready_nodes.is_empty());
}

#[test]
fn muted_partitions_are_neither_ready_nor_drained() {
    let c = cluster("t", 2, 1, &[]);
    let mut acc = RecordAccumulator::new(&config(16384, 0, 4 << 20));
    let tp0 = TopicPartition::new("t", 0);
    appended(acc.append("t", Some(0), 1, None, Some(b"v"), &[], 0, &c));
    acc.mute_partition(&tp0);
    assert!(acc.ready(&c, 10).ready_nodes.is_empty());
    appended(acc.append("t", Some(1), 1, None, Some(b"v"), &[], 0, &c));
    let r = acc.drain(&c, [0], 1 << 20, 10, &mut ());
    let parts: Vec<i32> = r.batches[&0]
        .iter()
        .map(|b| b.topic_partition().partition)
        .collect();
    assert_eq!(parts, [1]);
    acc.unmute_partition(&tp0);
    let r = acc.drain(&c, [0], 1 << 20, 10, &mut ());
    assert_eq!(r.batches[&0].len(), 1);
}

#[test]
fn unknown_leaders_are_reported() {
    let c = cluster("t", 3, 1, &[1]);
    let mut acc = RecordAccumulator::new(&config(16384, 0, 4 << 20));
    appended(acc.append("t", Some(1), 1, None, Some(b"v"), &[], 0, &c));
    let r = acc.ready(&c, 5);
    assert!(r.ready_nodes.is_empty());
    assert_eq!(r.unknown_leader_topics, BTreeSet::from([String::from("t")]));
}

// testAbortIncompleteBatches / close.
#[test]
fn close_and_abort() {
    let c = cluster("t", 3, 1, &[]);
    let mut acc = RecordAccumulator::new(&config(16384, 60_000, 4 << 20));
    for p in 0..3 {
        for i in 0..30 {
            let v = value(i, 1000);
            appended(acc.append("t", Some(p), 1, None, Some(&v), &[], 0, &c));
        }
    }
    acc.close();
    assert!(acc.is_closed());
    assert_eq!(acc.ready(&c, 0).ready_nodes, BTreeSet::from([0]));
    assert_eq!(
        acc.append("t", Some(0), 1, None, Some(b"v"), &[], 0, &c),
        Err(AppendError::Closed)
    );
    let aborted = acc.abort_incomplete_batches();
    assert_eq!(
        aborted
            .iter()
            .map(ProducerBatch::record_count)
            .sum::<usize>(),
        90
    );
    assert!(aborted.iter().all(|b| b.records().is_none()));
    assert_eq!(acc.available_memory(), 4 << 20);
    assert!(!acc.has_incomplete() && !acc.has_undrained());
    for b in aborted {
        acc.deallocate(b);
    }
    assert_eq!(acc.available_memory(), 4 << 20, "no double free");
}

#[test]
fn reset_producer_state_rewrites_the_built_header() {
    let mut b = ProducerBatch::new(
        BatchId(1),
        TopicPartition::new("t", 0),
        Compression::None,
        16384,
        1.0,
        Vec::new(),
        0,
    );
    for i in 0..10 {
        let v = value(i, 500);
        b.try_append(RecordId(i as u64), 5, None, Some(&v), &[], 0)
            .unwrap()
            .unwrap();
    }
    b.set_producer_state(
        ProducerIdAndEpoch {
            producer_id: 9,
            epoch: 0,
        },
        77,
        false,
    );
    b.close().unwrap();
    b.reset_producer_state(
        ProducerIdAndEpoch {
            producer_id: 9,
            epoch: 1,
        },
        0,
    );
    assert!(b.sequence_has_been_reset());
    let view = BatchView::new_checked(b.records().unwrap()).unwrap();
    view.validate().unwrap();
    assert_eq!(
        (
            view.producer_id(),
            view.producer_epoch(),
            view.base_sequence()
        ),
        (9, 1, 0)
    );
    assert_eq!(b.last_sequence(), 9);
}

#[test]
fn backoff_is_exponential_with_jitter_and_capped() {
    let mut rng = Rng::new(1);
    for _ in 0..100 {
        let b0 = exponential_backoff(&mut rng, 100, 1000, 0);
        assert!((80..=120).contains(&b0), "{b0}");
        let b2 = exponential_backoff(&mut rng, 100, 1000, 2);
        assert!((320..=480).contains(&b2), "{b2}");
        assert!(exponential_backoff(&mut rng, 100, 1000, 10) <= 1000);
        assert!(exponential_backoff(&mut rng, 100, 1000, 200) >= 800);
    }
    assert_eq!(exponential_backoff(&mut rng, 100, 100, 5), 100);
}

// testBuiltInPartitionerFractionalBatches: with a Sender draining 2/3 of batch.size each
// time, the switch waits for the queue to empty, so no batch is a small fraction.
#[test]
fn no_fractional_batches_with_a_draining_sender() {
    let c = cluster("t", 4, 4, &[]);
    let mut cfg = config(512, 10, 1 << 20);
    cfg.partitioner_adaptive_partitioning_enable = false;
    let mut acc = RecordAccumulator::new(&cfg);
    let v = [0u8; 32];
    let mut now = 0;
    for _ in 0..10 {
        for _ in 0..(512 * 2 / 3 / 32) {
            appended(acc.append("t", None, 0, None, Some(&v), &[], now, &c));
        }
        now += 10;
        let nodes = acc.ready(&c, now).ready_nodes;
        assert_eq!(nodes.len(), 1);
        let r = acc.drain(&c, nodes.iter().copied(), usize::MAX, now, &mut ());
        let batches: Vec<_> = r.batches.into_values().flatten().collect();
        assert_eq!(batches.len(), 1);
        let size = batches[0].records().unwrap().len();
        assert!(size > 256 && size < 512, "{size}");
        acc.deallocate(batches.into_iter().next().unwrap());
    }
}

// testExponentialRetryBackoffLeaderChange: a retry to a new leader does not back off.
#[test]
fn a_leader_change_skips_the_retry_backoff() {
    let mut c = cluster("t", 1, 2, &[]);
    let mut cfg = config(16384, 0, 1 << 20);
    cfg.retry_backoff_ms = 1000;
    cfg.retry_backoff_max_ms = 10_000;
    let mut acc = RecordAccumulator::new(&cfg);
    appended(acc.append("t", Some(0), 1, None, Some(b"v"), &[], 0, &c));
    let mut r = acc.drain(&c, [0], 1 << 20, 0, &mut ());
    let b = r.batches.remove(&0).unwrap().remove(0);
    assert_eq!(b.current_leader_epoch(), Some(0));
    acc.reenqueue(b, 0).unwrap();
    assert!(acc.ready(&c, 100).ready_nodes.is_empty(), "backing off");
    // The partition moves to node 1 with a new epoch.
    if let Some(t) = c.topics.get_mut("t") {
        t.partitions[0].leader = Some(1);
        t.partitions[0].leader_epoch = 1;
    }
    assert_eq!(acc.ready(&c, 100).ready_nodes, BTreeSet::from([1]));
    let r = acc.drain(&c, [1], 1 << 20, 100, &mut ());
    assert_eq!(r.batches[&1].len(), 1);
    assert_eq!(r.batches[&1][0].attempts(), 1);
}

// testDrainWithANodeThatDoesntHostAnyPartitions.
#[test]
fn draining_a_node_without_partitions_gives_nothing() {
    let c = cluster("t", 2, 3, &[]);
    let mut acc = RecordAccumulator::new(&config(16384, 0, 1 << 20));
    appended(acc.append("t", Some(0), 1, None, Some(b"v"), &[], 0, &c));
    let r = acc.drain(&c, [2], 1 << 20, 0, &mut ());
    assert!(r.batches[&2].is_empty());
    assert!(acc.has_undrained());
}

// testAbortUnsentBatches: unsent batches are aborted, retried ones stay.
#[test]
fn abort_undrained_keeps_retried_batches() {
    let c = cluster("t", 2, 1, &[]);
    let mut acc = RecordAccumulator::new(&config(16384, 0, 1 << 20));
    appended(acc.append("t", Some(0), 1, None, Some(b"v"), &[], 0, &c));
    let mut r = acc.drain(&c, [0], 1 << 20, 0, &mut ());
    let sent = r.batches.remove(&0).unwrap().remove(0);
    acc.reenqueue(sent, 1).unwrap();
    for p in 0..2 {
        let v = value(p, 2000);
        appended(acc.append("t", Some(p as i32), 1, None, Some(&v), &[], 1, &c));
    }
    let aborted = acc.abort_undrained_batches();
    // The retried batch is built, so the new record of partition 0 opened a batch behind it.
    assert_eq!(aborted.len(), 2);
    assert!(aborted
        .iter()
        .all(|b| !b.in_retry() && b.record_count() == 1));
    let left = acc.deque(&TopicPartition::new("t", 0)).unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].in_retry());
    for b in aborted {
        acc.deallocate(b);
    }
    let left = acc.deque(&TopicPartition::new("t", 0)).unwrap();
    assert_eq!(left[0].record_count(), 1);
}

// ProducerBatch.done: the first completion wins; a succeeded batch is never completed again.
#[test]
fn completion_reports_offsets_and_timestamps_once() {
    let c = cluster("t", 1, 1, &[]);
    let mut acc = RecordAccumulator::new(&config(16384, 0, 1 << 20));
    let mut ids = Vec::new();
    for i in 0..20 {
        let v = value(i, 700);
        let r = appended(acc.append("t", Some(0), 1_000 + i as i64, None, Some(&v), &[], 0, &c));
        ids.push(r.record.id);
    }
    let mut r = acc.drain(&c, [0], 1 << 20, 0, &mut ());
    let mut b = r.batches.remove(&0).unwrap().remove(0);
    assert_eq!(b.record_count(), 20);
    let meta = b.complete(5_000, -1).unwrap().unwrap();
    for (i, m) in meta.iter().enumerate() {
        assert_eq!(m.id, ids[i]);
        assert_eq!(m.offset, 5_000 + i as i64);
        assert_eq!(m.timestamp, 1_000 + i as i64);
    }
    assert_eq!(b.final_state(), Some(FinalState::Succeeded));
    assert!(b.complete_exceptionally().is_err());
    // LogAppendTime replaces CreateTime; a failed (expired) batch ignores a late success.
    let mut late = ProducerBatch::new(
        BatchId(9),
        TopicPartition::new("t", 0),
        Compression::None,
        16384,
        1.0,
        Vec::new(),
        0,
    );
    late.try_append(RecordId(1), 7, None, Some(b"v"), &[], 0)
        .unwrap()
        .unwrap();
    let mut twin = late.clone();
    assert!(late.complete_exceptionally().unwrap());
    assert_eq!(late.complete(10, 99).unwrap(), None);
    let m = twin.complete(10, 99).unwrap().unwrap();
    assert_eq!((m[0].offset, m[0].timestamp), (10, 99));
    assert!(twin.is_done());
    acc.deallocate(b);
}

fn live_reserved(acc: &RecordAccumulator, in_flight: &[ProducerBatch]) -> u64 {
    let queued: usize = acc
        .topics
        .values()
        .flat_map(|t| t.batches.values())
        .flatten()
        .map(|b| b.reserved)
        .sum();
    let sent: usize = in_flight.iter().map(|b| b.reserved).sum();
    (queued + sent) as u64
}

/// The broker's side of one response: in sequence, written at the log end; out of sequence
/// (or a transient error, one time in four), refused and retried by the producer.
#[allow(clippy::too_many_arguments)]
fn respond(
    acc: &mut RecordAccumulator,
    seq: &mut TestSequencer,
    mut batch: ProducerBatch,
    accept: bool,
    now: u64,
    broker_next: &mut BTreeMap<TopicPartition, i32>,
    log_end: &mut BTreeMap<TopicPartition, i64>,
    acked: &mut BTreeMap<TopicPartition, Vec<(RecordId, i64)>>,
) {
    let tp = batch.topic_partition().clone();
    let next = broker_next.entry(tp.clone()).or_default();
    if accept && batch.base_sequence() == *next {
        *next += batch.record_count() as i32;
        let end = log_end.entry(tp.clone()).or_default();
        let meta = batch.complete(*end, -1).unwrap().unwrap();
        *end += meta.len() as i64;
        acked
            .entry(tp)
            .or_default()
            .extend(meta.iter().map(|m| (m.id, m.offset)));
        seq.remove_in_flight(&batch);
        acc.deallocate(batch);
    } else {
        acc.reenqueue(batch, now).unwrap();
    }
}

// testStressfulSituation in spirit, single-threaded from a seed: random appends (keyed,
// unkeyed, explicit partitions, 10 B to 3 KB), drains, successes and refusals answered in
// any order. Memory accounting stays exact, nothing passes buffer.memory, and every record
// is written exactly once, in append order per partition, at consecutive offsets.
#[test]
fn seeded_workload_keeps_memory_exact_and_records_in_order_exactly_once() {
    let mut c = Cluster::default();
    add_nodes(&mut c, 3);
    add_topic(&mut c, "a", 20, 3, &[]);
    add_topic(&mut c, "b", 5, 3, &[]);
    let total = 256 * 1024;
    let mut cfg = config(4096, 5, total);
    cfg.enable_idempotence = true;
    cfg.retry_backoff_ms = 10;
    cfg.retry_backoff_max_ms = 100;
    cfg.delivery_timeout_ms = u64::MAX / 4;
    cfg.compression_type = if Compression::Lz4.is_enabled() {
        Compression::Lz4
    } else {
        Compression::None
    };
    let mut acc = RecordAccumulator::new(&cfg);
    let mut seq = TestSequencer::new(11, 0);
    let mut rng = Rng::new(99);
    let mut in_flight: Vec<ProducerBatch> = Vec::new();
    let mut appended_ids: BTreeMap<TopicPartition, Vec<RecordId>> = BTreeMap::new();
    let mut acked: BTreeMap<TopicPartition, Vec<(RecordId, i64)>> = BTreeMap::new();
    let mut broker_next = BTreeMap::new();
    let mut log_end = BTreeMap::new();
    let mut now = 0u64;
    let mut backpressured = 0;
    for i in 0..5000usize {
        now += rng.below(3);
        match rng.below(10) {
            0..=5 => {
                let topic = if rng.chance(4) { "b" } else { "a" };
                let v = value(i, 10 + rng.below(3000) as usize);
                let key = format!("k{}", rng.below(50)).into_bytes();
                let (key, partition) = match rng.below(3) {
                    0 => (Some(key.as_slice()), None),
                    1 => (None, Some(rng.below(5) as i32)),
                    _ => (None, None),
                };
                match acc.append(topic, partition, now as i64, key, Some(&v), &[], now, &c) {
                    Ok(AppendOutcome::Appended(r)) => appended_ids
                        .entry(r.topic_partition)
                        .or_default()
                        .push(r.record.id),
                    Ok(AppendOutcome::Backpressure { .. }) => {
                        backpressured += 1;
                        if rng.bool() {
                            acc.abandon_memory_wait();
                        }
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            6 | 7 => {
                let ready = acc.ready(&c, now);
                let r = acc.drain(
                    &c,
                    ready.ready_nodes.iter().copied(),
                    64 * 1024,
                    now,
                    &mut seq,
                );
                assert!(r.failed.is_empty());
                for (_, batches) in r.batches {
                    let bytes: usize = batches.iter().map(|b| b.records().unwrap().len()).sum();
                    assert!(bytes <= 64 * 1024 || batches.len() == 1);
                    in_flight.extend(batches);
                }
            }
            _ => {
                if !in_flight.is_empty() {
                    let b = in_flight.remove(rng.below(in_flight.len() as u64) as usize);
                    let accept = !rng.chance(4);
                    respond(
                        &mut acc,
                        &mut seq,
                        b,
                        accept,
                        now,
                        &mut broker_next,
                        &mut log_end,
                        &mut acked,
                    );
                }
            }
        }
        let used = total - acc.available_memory();
        assert_eq!(used, live_reserved(&acc, &in_flight), "step {i}");
        assert!(used <= total);
    }
    assert!(backpressured > 0, "the workload reaches buffer.memory");
    // Drain everything: every response accepted when in sequence.
    let token = acc.begin_flush();
    let mut rounds = 0;
    while acc.has_incomplete() {
        rounds += 1;
        assert!(rounds < 10_000);
        now += 50;
        let ready = acc.ready(&c, now);
        let r = acc.drain(
            &c,
            ready.ready_nodes.iter().copied(),
            64 * 1024,
            now,
            &mut seq,
        );
        in_flight.extend(r.batches.into_values().flatten());
        while let Some(b) = in_flight.pop() {
            respond(
                &mut acc,
                &mut seq,
                b,
                true,
                now,
                &mut broker_next,
                &mut log_end,
                &mut acked,
            );
        }
    }
    acc.await_flush_completion(token).unwrap();
    assert_eq!(acc.available_memory(), total);
    let mut records = 0;
    for (tp, ids) in &appended_ids {
        let got = &acked[tp];
        assert_eq!(got.iter().map(|a| a.0).collect::<Vec<_>>(), *ids, "{tp}");
        assert!(got.iter().enumerate().all(|(i, a)| a.1 == i as i64), "{tp}");
        assert_eq!(broker_next[tp], ids.len() as i32);
        records += ids.len();
    }
    assert!(records > 1000, "{records} records");
}
