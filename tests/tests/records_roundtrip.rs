//! Record batches: builder -> view and owned round trips for random batches with every codec,
//! and corruption: a bit flip anywhere the CRC or a size covers is detected, and no input
//! makes the reader panic.

use bytes::Bytes;
use kproto::records::{
    field, BatchBuilder, BatchConfig, Batches, BuildError, Compression, RecordBatch, RecordError,
    TimestampType, DEFAULT_MAX_UNCOMPRESSED,
};
use kproto::testing::Rng;

/// Record payloads from kproto's test PRNG.
trait Payloads {
    fn maybe_payload(&mut self, max: u64) -> Option<Vec<u8>>;
}

impl Payloads for Rng {
    fn maybe_payload(&mut self, max: u64) -> Option<Vec<u8>> {
        if self.below(8) == 0 {
            return None;
        }
        let n = self.below(max + 1) as usize;
        Some(
            (0..n)
                .map(|i| (self.below(4) as u8) + b'a' + (i % 7) as u8)
                .collect(),
        )
    }
}

type In = (
    i64,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Vec<(String, Option<Vec<u8>>)>,
);

fn random_input(rng: &mut Rng) -> Vec<In> {
    let n = 1 + rng.below(50) as usize;
    (0..n)
        .map(|_| {
            let ts = if rng.below(20) == 0 {
                -1
            } else {
                1_600_000_000_000 + rng.below(1 << 30) as i64
            };
            let headers = (0..rng.below(3))
                .map(|i| (format!("hdr{i}"), rng.maybe_payload(20)))
                .collect();
            (ts, rng.maybe_payload(30), rng.maybe_payload(700), headers)
        })
        .collect()
}

fn build(cfg: BatchConfig, input: &[In]) -> Vec<u8> {
    let mut b = BatchBuilder::new(cfg);
    for (ts, k, v, h) in input {
        let h: Vec<(&str, Option<&[u8]>)> =
            h.iter().map(|(k, v)| (k.as_str(), v.as_deref())).collect();
        b.try_append(*ts, k.as_deref(), v.as_deref(), &h).unwrap();
    }
    b.finish().unwrap()
}

#[test]
fn random_batches_round_trip_with_every_codec() {
    let seed = 0x00c0_ffee_u64;
    let mut rng = Rng::new(seed);
    for round in 0..40 {
        for codec in Compression::ALL {
            let input = random_input(&mut rng);
            let cfg = BatchConfig {
                base_offset: rng.below(1 << 40) as i64,
                compression: codec,
                producer_id: 12,
                producer_epoch: 3,
                base_sequence: i32::MAX - 5,
                transactional: round % 2 == 0,
                write_limit: 1 << 22,
                ..BatchConfig::default()
            };
            let bytes = build(cfg.clone(), &input);
            let mut batches = Batches::new(&bytes);
            let v = batches.next().unwrap().unwrap();
            assert!(batches.next().is_none());
            v.validate().unwrap();
            assert_eq!(v.compression().unwrap(), codec);
            assert_eq!(v.record_count() as usize, input.len());
            assert_eq!(v.last_offset(), cfg.base_offset + input.len() as i64 - 1);
            // Kafka's sequence wrap: i32::MAX - 5 + (n - 1) wraps past i32::MAX to 0.
            let n = input.len() as i64 - 1;
            let want = (i64::from(i32::MAX) - 5 + n) % (i64::from(i32::MAX) + 1);
            assert_eq!(
                i64::from(v.last_sequence()),
                want,
                "seed {seed:#x} round {round}"
            );
            assert_eq!(v.max_timestamp(), input.iter().map(|r| r.0).max().unwrap());
            let mut scratch = Vec::new();
            let recs: Vec<_> = v
                .records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED)
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(recs.len(), input.len());
            for (i, (r, (ts, k, val, h))) in recs.iter().zip(&input).enumerate() {
                assert_eq!(r.offset, cfg.base_offset + i as i64);
                assert_eq!(r.timestamp, *ts);
                assert_eq!(r.key, k.as_deref());
                assert_eq!(r.value, val.as_deref());
                let got: Vec<_> = r
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.key_str().unwrap().to_string(),
                            h.value.map(<[u8]>::to_vec),
                        )
                    })
                    .collect();
                assert_eq!(&got, h);
            }
            // Owned form: parse then emit gives the same batch (the same bytes when uncompressed).
            let owned =
                RecordBatch::parse(&Bytes::from(bytes.clone()), DEFAULT_MAX_UNCOMPRESSED).unwrap();
            assert_eq!(owned.records.len(), input.len());
            let again = owned.emit().unwrap();
            if codec == Compression::None {
                assert_eq!(again, bytes);
            }
            assert_eq!(
                RecordBatch::parse(&Bytes::from(again), DEFAULT_MAX_UNCOMPRESSED).unwrap(),
                owned
            );
        }
    }
}

#[test]
fn empty_batches_are_refused() {
    for codec in Compression::ALL {
        let b = BatchBuilder::new(BatchConfig {
            compression: codec,
            ..BatchConfig::default()
        });
        assert_eq!(b.finish(), Err(BuildError::Empty));
    }
}

/// Reads everything a buffer holds; `Err` when anything was wrong. Never panics.
fn read_all(buf: &[u8]) -> Result<usize, RecordError> {
    let mut it = Batches::new(buf);
    let mut n = 0;
    for b in it.by_ref() {
        let b = b?;
        b.validate()?;
        let mut scratch = Vec::new();
        for r in b.records(&mut scratch, 1 << 20)? {
            r?;
            n += 1;
        }
    }
    if !it.remainder().is_empty() {
        return Err(RecordError::Truncated {
            offset: buf.len() - it.remainder().len(),
            expected: "a whole batch",
        });
    }
    Ok(n)
}

#[test]
fn every_bit_flip_under_the_crc_or_a_size_is_detected() {
    let mut rng = Rng::new(0x0b17_f11b);
    for codec in Compression::ALL {
        let input: Vec<In> = random_input(&mut rng).into_iter().take(6).collect();
        let bytes = build(
            BatchConfig {
                compression: codec,
                write_limit: 1 << 20,
                ..BatchConfig::default()
            },
            &input,
        );
        assert_eq!(read_all(&bytes).unwrap(), input.len());
        for i in 0..bytes.len() {
            for bit in [0x01u8, 0x80] {
                let mut f = bytes.clone();
                f[i] ^= bit;
                let r = read_all(&f);
                if field::BASE_OFFSET.contains(&i) || field::PARTITION_LEADER_EPOCH.contains(&i) {
                    // Kafka leaves these two outside the CRC: the broker rewrites them.
                    assert!(r.is_ok(), "{codec} byte {i}: {r:?}");
                } else {
                    assert!(
                        r.is_err(),
                        "{codec}: flip of bit {bit:#x} at byte {i} went unnoticed"
                    );
                }
            }
        }
    }
}

#[test]
fn truncations_and_noise_never_panic() {
    let mut rng = Rng::new(0x00de_ad00);
    let bytes = build(
        BatchConfig {
            compression: Compression::Lz4,
            timestamp_type: TimestampType::CreateTime,
            ..BatchConfig::default()
        },
        &random_input(&mut rng),
    );
    for cut in 0..bytes.len() {
        assert!(read_all(&bytes[..cut]).is_err() || cut == 0);
    }
    // Random bytes with a plausible header: lengths and counts are hostile.
    for _ in 0..2000 {
        let n = rng.below(200) as usize;
        let mut buf: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
        if buf.len() > 17 {
            buf[16] = 2;
            let len = (buf.len() - 12) as i32;
            buf[8..12].copy_from_slice(&len.to_be_bytes());
        }
        let _ = read_all(&buf);
    }
}
