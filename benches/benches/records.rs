//! Record batch encode and decode+validate throughput: kproto's builder and zero-copy view
//! beside kafka-protocol's `RecordBatchEncoder`/`RecordBatchDecoder` in the same run, and beside
//! the bound of copying the batch once and computing its CRC-32C.
//!
//! kafka-protocol is built without its C codecs here, so for lz4 and zstd it is handed kproto's
//! pure-Rust codecs through its custom-compression hooks: both sides then pay for the same
//! codec and the comparison is of the batch layer.
//!
//! Throughput is bytes of the uncompressed batch (about 256 KiB) per second.
//! `cargo bench -p kbench --bench records`; the ratios are printed at the end.

use bytes::{BufMut, Bytes, BytesMut};
use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use kafka_protocol::records as kp;
use kproto::records::{codec, crc::crc32c, BatchBuilder, BatchConfig, Batches, Compression};
use kproto::rng::Rng;
use std::time::Duration;

const BATCH_BYTES: usize = 256 << 10;
const CAP: usize = 64 << 20;

struct Input {
    ts: i64,
    key: Vec<u8>,
    value: Vec<u8>,
}

/// Records of `size` bytes of key + value: JSON-like text, compressible as real payloads are.
fn input(size: usize) -> Vec<Input> {
    let words = [
        "user", "order", "id", "amount", "currency", "EUR", "status", "shipped", "ts", "region",
        "eu-west",
    ];
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
    let mut out = Vec::new();
    let mut total = 0;
    while total < BATCH_BYTES {
        let mut v = Vec::with_capacity(size);
        while v.len() < size - 8 {
            let x = rng.next_u64();
            v.extend_from_slice(words[(x % words.len() as u64) as usize].as_bytes());
            v.extend_from_slice(format!("\":{},\"", x % 10_000).as_bytes());
        }
        v.truncate(size - 8);
        let key = (out.len() as u64).to_be_bytes().to_vec();
        total += size + 12;
        out.push(Input {
            ts: 1_700_000_000_000 + out.len() as i64,
            key,
            value: v,
        });
    }
    out
}

fn kproto_encode(recs: &[Input], compression: Compression, buf: Vec<u8>) -> Vec<u8> {
    let mut b = BatchBuilder::with_buffer(
        BatchConfig {
            compression,
            write_limit: usize::MAX,
            ..BatchConfig::default()
        },
        buf,
    );
    for r in recs {
        b.try_append(r.ts, Some(&r.key), Some(&r.value), &[])
            .unwrap();
    }
    b.finish().unwrap()
}

fn kproto_decode(batch: &[u8], scratch: &mut Vec<u8>) -> usize {
    let mut n = 0;
    for b in Batches::new(batch) {
        let b = b.unwrap();
        b.validate().unwrap();
        for r in b.records(scratch, CAP).unwrap() {
            let r = r.unwrap();
            n += r.value.map_or(0, <[u8]>::len) + r.key.map_or(0, <[u8]>::len);
        }
    }
    n
}

fn kp_records(recs: &[Input]) -> Vec<kp::Record> {
    recs.iter()
        .enumerate()
        .map(|(i, r)| kp::Record {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: -1,
            producer_epoch: -1,
            timestamp_type: kp::TimestampType::Creation,
            offset: i as i64,
            // No producer: base sequence -1. kafka-protocol starts a new batch whenever
            // offset - sequence changes, so the sequence has to advance with the offset.
            sequence: i as i32 - 1,
            timestamp: r.ts,
            key: Some(Bytes::copy_from_slice(&r.key)),
            value: Some(Bytes::copy_from_slice(&r.value)),
            headers: Default::default(),
        })
        .collect()
}

fn ours(c: kp::Compression) -> Compression {
    match c {
        kp::Compression::None => Compression::None,
        kp::Compression::Gzip => Compression::Gzip,
        kp::Compression::Snappy => Compression::Snappy,
        kp::Compression::Lz4 => Compression::Lz4,
        kp::Compression::Zstd => Compression::Zstd,
    }
}

fn kp_encode(recs: &[kp::Record], compression: kp::Compression, buf: &mut BytesMut) {
    buf.clear();
    let opts = kp::RecordEncodeOptions {
        version: 2,
        compression,
    };
    kp::RecordBatchEncoder::encode_with_custom_compression(
        buf,
        recs.iter(),
        &opts,
        Some(
            |records: &mut BytesMut, out: &mut BytesMut, c: kp::Compression| {
                let mut z = Vec::new();
                codec::compress(ours(c), records, &mut z, false).unwrap();
                out.put_slice(&z);
                Ok(())
            },
        ),
    )
    .unwrap();
}

fn kp_decode(batch: &Bytes) -> usize {
    let mut b = batch.clone();
    let set = kp::RecordBatchDecoder::decode_with_custom_compression(
        &mut b,
        Some(|data: &mut Bytes, c: kp::Compression| {
            let mut out = Vec::new();
            codec::decompress(ours(c), data, &mut out, CAP, false).unwrap();
            Ok(Bytes::from(out))
        }),
    )
    .unwrap();
    set.records
        .iter()
        .map(|r| r.value.as_ref().map_or(0, Bytes::len) + r.key.as_ref().map_or(0, Bytes::len))
        .sum()
}

fn bench(c: &mut Criterion) {
    for size in [100usize, 1024] {
        for (compression, kc) in [
            (Compression::None, kp::Compression::None),
            (Compression::Lz4, kp::Compression::Lz4),
            (Compression::Zstd, kp::Compression::Zstd),
        ] {
            let recs = input(size);
            let kp_recs = kp_records(&recs);
            let batch = kproto_encode(&recs, compression, Vec::new());
            let uncompressed = kproto_encode(&recs, Compression::None, Vec::new()).len();
            let mut kb = BytesMut::new();
            kp_encode(&kp_recs, kc, &mut kb);
            let kp_batch = kb.clone().freeze();
            let mut scratch = Vec::new();
            // Each side reads its own batch and the other's, and finds every key and value byte:
            // the comparison is of equal work.
            let payload: usize = recs.iter().map(|r| r.key.len() + r.value.len()).sum();
            let ours_bytes = Bytes::from(batch.clone());
            for (who, n) in [
                ("kproto reads kproto", kproto_decode(&batch, &mut scratch)),
                (
                    "kproto reads kafka-protocol",
                    kproto_decode(&kp_batch, &mut scratch),
                ),
                ("kafka-protocol reads kproto", kp_decode(&ours_bytes)),
                ("kafka-protocol reads kafka-protocol", kp_decode(&kp_batch)),
            ] {
                assert_eq!(n, payload, "{who}: {compression}, {size} B records");
            }
            if compression == Compression::None {
                assert!(batch == kp_batch, "uncompressed batches differ at {size} B");
            }
            eprintln!(
                "{size} B {compression}: kproto batch {} bytes, kafka-protocol batch {} bytes",
                batch.len(),
                kp_batch.len()
            );

            let mut g = c.benchmark_group(format!("records/{size}B/{compression}"));
            g.throughput(Throughput::Bytes(uncompressed as u64));
            g.measurement_time(Duration::from_secs(2))
                .warm_up_time(Duration::from_millis(500))
                .sample_size(20);
            let mut buf = Vec::new();
            g.bench_function(BenchmarkId::new("encode", "kproto"), |b| {
                b.iter(|| {
                    let out = kproto_encode(&recs, compression, std::mem::take(&mut buf));
                    black_box(out.len());
                    buf = out;
                })
            });
            g.bench_function(BenchmarkId::new("encode", "kafka-protocol"), |b| {
                b.iter(|| {
                    kp_encode(&kp_recs, kc, &mut kb);
                    black_box(kb.len());
                })
            });
            g.bench_function(BenchmarkId::new("decode", "kproto"), |b| {
                b.iter(|| black_box(kproto_decode(&batch, &mut scratch)))
            });
            g.bench_function(BenchmarkId::new("decode", "kafka-protocol"), |b| {
                b.iter(|| black_box(kp_decode(&kp_batch)))
            });
            if compression == Compression::None {
                let mut copy = vec![0u8; batch.len()];
                g.bench_function(BenchmarkId::new("bound", "memcpy+crc32c"), |b| {
                    b.iter(|| {
                        copy.copy_from_slice(black_box(&batch));
                        black_box(crc32c(&copy[21..]))
                    })
                });
            }
            g.finish();
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    report();
}

/// Prints kproto's throughput as a ratio of kafka-protocol's and of the bound, from the
/// estimates criterion just wrote.
fn report() {
    let mean = kbench::criterion_mean;
    println!("\nratios (time of the other / time of kproto; > 1 means kproto is faster):");
    for size in [100, 1024] {
        for codec in ["none", "lz4", "zstd"] {
            let g = format!("records/{size}B/{codec}");
            for op in ["encode", "decode"] {
                if let (Some(us), Some(them)) =
                    (mean(&g, op, "kproto"), mean(&g, op, "kafka-protocol"))
                {
                    print!("{g} {op}: {:.2}x kafka-protocol", them / us);
                    if let Some(bound) = mean(&g, "bound", "memcpy+crc32c") {
                        print!(", {:.0}% of memcpy+crc32c", 100.0 * bound / us);
                    }
                    println!();
                }
            }
        }
    }
}
