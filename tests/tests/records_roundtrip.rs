//! Record batches: builder -> view and owned round trips for random batches with every codec,
//! and corruption: a bit flip anywhere the CRC or a size covers is detected, and no input
//! makes the reader panic.

use bytes::Bytes;
use integration_tests::records::{build, read_records, Rec, RecordGen};
use kproto::records::{
    field, BatchBuilder, BatchConfig, Batches, BuildError, Compression, RecordBatch, RecordError,
    TimestampType, DEFAULT_MAX_UNCOMPRESSED,
};
use kproto::rng::Rng;

fn random_input(rng: &mut Rng) -> Vec<Rec> {
    let n = 1 + rng.below(50) as usize;
    RecordGen {
        max_key: 30,
        max_value: 700,
        odd_timestamps: true,
        ..RecordGen::default()
    }
    .records(rng, n)
}

/// Builds one batch holding every record of `input`.
fn build_all(cfg: BatchConfig, input: &[Rec]) -> Vec<u8> {
    let (n, bytes) = build(cfg, input);
    assert_eq!(n, input.len(), "the write limit cut the batch short");
    bytes
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
            let bytes = build_all(cfg.clone(), &input);
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
            assert_eq!(v.max_timestamp(), input.iter().map(|r| r.ts).max().unwrap());
            let recs = read_records(&v, DEFAULT_MAX_UNCOMPRESSED).unwrap();
            assert_eq!(recs.len(), input.len());
            for (i, ((offset, r), want)) in recs.iter().zip(&input).enumerate() {
                assert_eq!(*offset, cfg.base_offset + i as i64);
                assert_eq!(r, want, "seed {seed:#x} round {round} record {i}");
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
        let input: Vec<Rec> = random_input(&mut rng).into_iter().take(6).collect();
        let bytes = build_all(
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
    let bytes = build_all(
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
