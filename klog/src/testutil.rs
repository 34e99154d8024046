//! Helpers for klog's tests: batches built with kproto's `BatchBuilder`, and log contents.

use crate::storage::Storage;
use crate::Log;
use alloc::vec::Vec;
use kproto::records::{BatchBuilder, BatchConfig, Batches};

/// A producer-side batch of `n` records with values `value(i)`, timestamps `ts + i`.
pub(crate) fn batch(n: usize, ts: i64, value_len: usize, tag: u8) -> Vec<u8> {
    batch_with(n, ts, value_len, tag, None)
}

/// As [`batch`], idempotent: `(producer id, epoch, base sequence)`.
pub(crate) fn batch_with(
    n: usize,
    ts: i64,
    value_len: usize,
    tag: u8,
    producer: Option<(i64, i16, i32)>,
) -> Vec<u8> {
    let mut cfg = BatchConfig {
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    };
    if let Some((pid, epoch, seq)) = producer {
        cfg.producer_id = pid;
        // Kafka's builder (and kproto's) refuses epoch -1 with a producer id; a broker still
        // receives such bytes, so the epoch is patched in below.
        cfg.producer_epoch = epoch.max(0);
        cfg.base_sequence = seq;
    }
    let mut b = BatchBuilder::new(cfg);
    for i in 0..n {
        let v: Vec<u8> = (0..value_len)
            .map(|j| tag.wrapping_add((i + j) as u8))
            .collect();
        b.try_append(ts + i as i64, Some(&[tag]), Some(&v), &[])
            .unwrap();
    }
    let mut out = b.finish().unwrap();
    if let Some((_, epoch, _)) = producer {
        if epoch < 0 {
            use kproto::records::{crc::crc32c, field};
            out[field::PRODUCER_EPOCH].copy_from_slice(&epoch.to_be_bytes());
            let crc = crc32c(&out[field::ATTRIBUTES.start..]);
            out[field::CRC].copy_from_slice(&crc.to_be_bytes());
        }
    }
    out
}

/// Every batch of the log as `(base offset, last offset, payload of the first record)`,
/// checking CRCs and that offsets are consecutive from the log start offset.
pub(crate) fn contents<S: Storage>(log: &mut Log<S>) -> Vec<(u64, u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut next = log.log_start_offset();
    while next < log.log_end_offset() {
        let data = log.read(next, 1 << 20).unwrap();
        assert!(
            !data.is_empty(),
            "no data at {next} below the log end {}",
            log.log_end_offset()
        );
        let mut walk = Batches::new(&data);
        for b in walk.by_ref() {
            let b = b.unwrap();
            b.validate().unwrap();
            assert_eq!(b.base_offset() as u64, next, "offsets are consecutive");
            let mut scratch = Vec::new();
            let first = b
                .records(&mut scratch, 1 << 26)
                .unwrap()
                .next()
                .unwrap()
                .unwrap();
            out.push((
                next,
                b.last_offset() as u64,
                first.value.unwrap_or_default().to_vec(),
            ));
            next = b.last_offset() as u64 + 1;
        }
        assert!(walk.remainder().is_empty());
    }
    out
}
