//! Record batches across implementations: kafka-python (its `DefaultRecordBatchBuilder`,
//! `LegacyRecordBatchBuilder` and `MemoryRecords`) builds batches we read, reads batches we
//! build, and builds the same bytes as we do for uncompressed batches. Needs the venv that
//! `.ci/install` makes; without it these tests fail. A peer that hangs is killed after
//! [`peer_timeout`] and the test fails saying so.

use integration_tests::records::{
    build, hex, parse_record_line, peer_timeout, read_records, record_line, run_peer, unhex, Rec,
    RecordGen,
};
use integration_tests::{cache_dir, repo_root};
use kproto::records::legacy::{Entries, Entry};
use kproto::records::{
    codec, control, BatchConfig, Batches, Compression, DEFAULT_MAX_UNCOMPRESSED,
};
use kproto::rng::Rng;
use std::process::Command;

/// kafka-python's records: compressible payloads, plain timestamps and header keys.
fn random_records(rng: &mut Rng, n: usize) -> Vec<Rec> {
    RecordGen::default().records(rng, n)
}

/// Runs `tests/python/kp_records.py` in the venv on `input`; kills it and fails after
/// [`peer_timeout`].
fn python(input: &str) -> String {
    let py = cache_dir().join("venv").join("bin").join("python");
    assert!(
        py.exists(),
        "{} is missing: run .ci/install (it makes the kafka-python venv)",
        py.display()
    );
    let script = repo_root()
        .join("tests")
        .join("python")
        .join("kp_records.py");
    let mut cmd = Command::new(&py);
    cmd.arg(&script);
    let out = run_peer("kafka-python (kp_records.py)", cmd, input, peer_timeout());
    assert!(
        out.status.success(),
        "kafka-python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn record_lines(recs: &[Rec]) -> String {
    recs.iter().map(|r| record_line(r, None) + "\n").collect()
}

/// kafka-python builds; returns (records accepted, batch bytes).
fn python_build(cmd: &str, recs: &[Rec]) -> (usize, Vec<u8>) {
    let out = python(&format!("{cmd}\n{}", record_lines(recs)));
    let mut lines = out.lines();
    let accepted = lines
        .next()
        .unwrap()
        .strip_prefix("ACCEPTED ")
        .unwrap()
        .parse()
        .unwrap();
    let batch = unhex(lines.next().unwrap().strip_prefix("BATCH ").unwrap()).unwrap();
    (accepted, batch)
}

/// Reads one v2 batch with kproto: header fields and records.
fn kproto_read(bytes: &[u8]) -> (kproto::records::BatchHeader, Vec<Rec>) {
    let mut batches = Batches::complete(bytes);
    let b = batches.next().unwrap().unwrap();
    assert!(batches.next().is_none());
    b.validate().unwrap();
    let mut recs = Vec::new();
    for (i, (offset, r)) in read_records(&b, DEFAULT_MAX_UNCOMPRESSED)
        .unwrap()
        .into_iter()
        .enumerate()
    {
        assert_eq!(offset, b.base_offset() + i as i64);
        recs.push(r);
    }
    (kproto::records::BatchHeader::of(&b), recs)
}

/// The first bytes of each codec's output as kafka-python writes it: gzip's member header,
/// snappy-java's xerial framing, the LZ4 frame magic, the zstd frame magic.
fn codec_signature(codec: Compression) -> &'static [u8] {
    match codec {
        Compression::None => &[],
        Compression::Gzip => &[0x1f, 0x8b, 0x08],
        Compression::Snappy => &[0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0],
        Compression::Lz4 => &[0x04, 0x22, 0x4d, 0x18],
        Compression::Zstd => &[0x28, 0xb5, 0x2f, 0xfd],
    }
}

/// Asserts that `payload` is `codec`'s output (it starts as that codec's frames do, no other
/// codec's, and decompresses with that codec) and returns what it decompresses to.
fn assert_compressed_with(codec: Compression, payload: &[u8], legacy_lz4: bool) -> Vec<u8> {
    assert_ne!(codec, Compression::None);
    assert!(
        payload.starts_with(codec_signature(codec)),
        "{codec} payload starts {:02x?}",
        &payload[..payload.len().min(8)]
    );
    for other in CODECS {
        if other != codec && other != Compression::None {
            assert!(
                !payload.starts_with(codec_signature(other)),
                "{codec} payload looks like {other}"
            );
        }
    }
    let mut out = Vec::new();
    codec::decompress(
        codec,
        payload,
        &mut out,
        DEFAULT_MAX_UNCOMPRESSED,
        legacy_lz4,
    )
    .unwrap_or_else(|e| panic!("the {codec} payload does not decompress with {codec}: {e}"));
    out
}

const CODECS: [Compression; 5] = [
    Compression::None,
    Compression::Gzip,
    Compression::Snappy,
    Compression::Lz4,
    Compression::Zstd,
];

#[test]
fn kafka_python_builds_kproto_reads() {
    let mut rng = Rng::new(0x5eed_0001);
    for codec in CODECS {
        for round in 0..3 {
            let mut recs = {
                let n = 1 + rng.below(60) as usize;
                random_records(&mut rng, n)
            };
            // kafka-python sends a batch uncompressed when compressing does not make it
            // smaller (one record of one byte, say); 2 KB of repetition makes it always pay.
            recs[0].value = Some(b"kafka-python ".repeat(160));
            let (pid, epoch, seq) = if round == 1 {
                (4242, 3, 17)
            } else {
                (-1, -1, -1)
            };
            let txn = round == 2;
            let pid = if txn { 99 } else { pid };
            let cmd = format!(
                "build_v2 {} {pid} {epoch} {seq} {} 1000000",
                codec.id(),
                u8::from(txn)
            );
            let (n, bytes) = python_build(&cmd, &recs);
            assert_eq!(n, recs.len());
            let (h, got) = kproto_read(&bytes);
            assert!(got == recs, "codec {codec} round {round}: records differ");
            assert_eq!(
                (h.producer_id, h.producer_epoch, h.base_sequence),
                (pid, epoch, seq)
            );
            assert_eq!(h.attributes.is_transactional(), txn);
            assert_eq!(h.last_offset_delta as usize, recs.len() - 1);
            assert_eq!(h.base_timestamp, recs[0].ts);
            assert_eq!(h.max_timestamp, recs.iter().map(|r| r.ts).max().unwrap());
            // kafka-python sends uncompressed when compression does not pay; these records
            // are big and repetitive enough that it always pays, so the batch must really be
            // compressed with the codec asked for: attribute bits, frame and contents.
            let c = h.attributes.compression().unwrap();
            assert_eq!(
                c, codec,
                "round {round}: attributes say {c}, {codec} was asked"
            );
            if codec != Compression::None {
                let view = Batches::new(&bytes).next().unwrap().unwrap();
                let (_, ours) = build(
                    BatchConfig {
                        write_limit: 1 << 20,
                        ..BatchConfig::default()
                    },
                    &recs,
                );
                let records = assert_compressed_with(codec, view.records_bytes(), false);
                assert!(
                    records == ours[61..],
                    "{codec} round {round}: the payload does not decompress to the records"
                );
            }
        }
    }
}

#[test]
fn kproto_builds_kafka_python_reads() {
    let mut rng = Rng::new(0x5eed_0002);
    for codec in CODECS {
        for round in 0..3 {
            let recs = {
                let n = 1 + rng.below(60) as usize;
                random_records(&mut rng, n)
            };
            let cfg = BatchConfig {
                compression: codec,
                base_offset: if round == 1 { 1000 } else { 0 },
                producer_id: 7,
                producer_epoch: 2,
                base_sequence: 40,
                transactional: round == 2,
                write_limit: 1 << 20,
                ..BatchConfig::default()
            };
            let (n, bytes) = build(cfg.clone(), &recs);
            assert_eq!(n, recs.len());
            let out = python(&format!("read {}\n", hex(Some(&bytes))));
            let mut lines = out.lines();
            let b: Vec<i64> = lines
                .next()
                .unwrap()
                .split(' ')
                .skip(1)
                .map(|x| x.parse().unwrap())
                .collect();
            // base_offset length leader_epoch magic crc attributes lastOffsetDelta first max pid epoch seq count
            assert_eq!(b[0], cfg.base_offset);
            assert_eq!(b[1] as usize, bytes.len() - 12);
            assert_eq!((b[2], b[3]), (-1, 2));
            assert_eq!(b[5] & 7, i64::from(codec.id()));
            assert_eq!(b[5] & 0x10 != 0, cfg.transactional);
            assert_eq!(b[6] as usize, recs.len() - 1);
            assert_eq!(b[7], recs[0].ts);
            assert_eq!(b[8], recs.iter().map(|r| r.ts).max().unwrap());
            assert_eq!(&b[9..], &[7, 2, 40, recs.len() as i64]);
            for (i, r) in recs.iter().enumerate() {
                let (off, got) = parse_record_line(lines.next().unwrap());
                assert_eq!(off, cfg.base_offset + i as i64);
                assert!(&got == r, "codec {codec} record {i} differs");
            }
            assert_eq!(lines.next().unwrap(), format!("END {}", bytes.len()));
        }
    }
}

#[test]
fn uncompressed_bytes_are_identical_and_size_limits_agree() {
    let mut rng = Rng::new(0x5eed_0003);
    for round in 0..12 {
        let recs = {
            let n = 1 + rng.below(80) as usize;
            random_records(&mut rng, n)
        };
        let limit = [100usize, 512, 2000, 16384][round % 4];
        let (pid, epoch, seq, txn) = if round % 3 == 0 {
            (55, 1, 3, round % 2 == 0)
        } else {
            (-1, -1, -1, false)
        };
        let cmd = format!("build_v2 0 {pid} {epoch} {seq} {} {limit}", u8::from(txn));
        let (n_py, py) = python_build(&cmd, &recs);
        let cfg = BatchConfig {
            // kafka-python writes partitionLeaderEpoch 0 where Java writes -1; match it here.
            partition_leader_epoch: 0,
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: seq,
            transactional: txn,
            write_limit: limit,
            ..BatchConfig::default()
        };
        let (n_us, us) = build(cfg, &recs);
        assert_eq!(
            n_us, n_py,
            "round {round}: records accepted under batch.size {limit}"
        );
        assert!(us == py, "round {round}: bytes differ");
    }
}

#[test]
fn legacy_message_sets_from_kafka_python() {
    let mut rng = Rng::new(0x5eed_0004);
    for magic in [0i8, 1] {
        for codec in &CODECS[..4] {
            let recs: Vec<Rec> = {
                let n = 1 + rng.below(20) as usize;
                random_records(&mut rng, n)
            }
            .into_iter()
            .map(|mut r| {
                r.headers.clear();
                r
            })
            .collect();
            let (n, mut bytes) = python_build(
                &format!("build_legacy {magic} {} 1000000", codec.id()),
                &recs,
            );
            assert_eq!(n, recs.len());
            if magic == 1 && *codec != Compression::None {
                // kafka-python leaves the wrapper's offset 0; the broker (and Java's producer)
                // set it to the last inner offset, which the relative inner offsets count back from.
                bytes[..8].copy_from_slice(&(n as i64 - 1).to_be_bytes());
            }
            let mut got = Vec::new();
            let mut scratch = Vec::new();
            for e in Entries::new(&bytes) {
                let Entry::Legacy(m) = e.unwrap() else {
                    panic!("v2 entry in a legacy set")
                };
                m.validate().unwrap();
                assert_eq!(m.magic, magic);
                assert_eq!(m.compression().unwrap(), *codec);
                if *codec != Compression::None {
                    // The wrapper's value is the codec's output (magic 0 LZ4 with the broken
                    // header checksum kafka-python writes for it, as Kafka did).
                    let inner = assert_compressed_with(*codec, m.value.unwrap(), magic == 0);
                    let inner_offsets = Entries::new(&inner)
                        .map(|e| match e.unwrap() {
                            Entry::Legacy(i) => i.offset,
                            Entry::V2(_) => panic!("v2 batch inside a magic {magic} wrapper"),
                        })
                        .count();
                    assert_eq!(inner_offsets, recs.len(), "magic {magic} {codec}");
                }
                for r in m.records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED).unwrap() {
                    got.push((
                        r.offset,
                        r.timestamp,
                        r.key.map(<[u8]>::to_vec),
                        r.value.map(<[u8]>::to_vec),
                    ));
                }
            }
            let want: Vec<_> = recs
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    (
                        i as i64,
                        (magic == 1).then_some(r.ts),
                        r.key.clone(),
                        r.value.clone(),
                    )
                })
                .collect();
            assert!(
                got == want,
                "magic {magic} codec {codec}: {} records read, {} written",
                got.len(),
                want.len()
            );
        }
    }
}

#[test]
fn partial_trailing_batch_and_control_batches() {
    let mut rng = Rng::new(0x5eed_0005);
    let (_, a) = python_build("build_v2 0 -1 -1 -1 0 100000", &random_records(&mut rng, 5));
    let (_, b) = python_build("build_v2 1 -1 -1 -1 0 100000", &random_records(&mut rng, 5));
    let mut buf = a.clone();
    buf.extend_from_slice(&b[..b.len() - 7]);
    let mut it = Batches::new(&buf);
    assert_eq!(it.next().unwrap().unwrap().as_bytes(), &a[..]);
    assert!(it.next().is_none());
    assert_eq!(it.remainder().len(), b.len() - 7);

    let m =
        control::end_transaction_marker_batch(false, 4, 77, 1, 500, 2, 1_700_000_000_000).unwrap();
    let out = python(&format!("read {}\n", hex(Some(&m))));
    let first: Vec<i64> = out
        .lines()
        .next()
        .unwrap()
        .split(' ')
        .skip(1)
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(first[0], 500);
    assert_eq!(first[5] & 0x30, 0x30, "transactional and control");
    assert_eq!(&first[9..], &[77, 1, -1, 1]);
}

/// Megabyte batches both ways with every codec: 300 records of up to 8 KB (two-byte length
/// varints everywhere), kafka-python builds and kproto reads, kproto builds and kafka-python
/// reads; uncompressed, the bytes are the same.
#[test]
fn megabyte_batches_both_ways() {
    let mut rng = Rng::new(0x5eed_0006);
    let gen = RecordGen {
        max_key: 300,
        max_value: 8000,
        null_in: 40,
        ..RecordGen::default()
    };
    for codec in CODECS {
        let recs = gen.records(&mut rng, 300);
        let cmd = format!("build_v2 {} 5 1 0 0 4194304", codec.id());
        let (n, py) = python_build(&cmd, &recs);
        assert_eq!(n, recs.len(), "{codec}");
        let (h, got) = kproto_read(&py);
        assert_eq!(h.attributes.compression().unwrap(), codec);
        assert!(got == recs, "{codec}: kproto reading kafka-python's batch");
        let (n, ours) = build(
            BatchConfig {
                compression: codec,
                partition_leader_epoch: 0,
                producer_id: 5,
                producer_epoch: 1,
                base_sequence: 0,
                write_limit: 4 << 20,
                ..BatchConfig::default()
            },
            &recs,
        );
        assert_eq!(n, recs.len());
        if codec == Compression::None {
            assert!(ours.len() > 1 << 20, "only {} bytes", ours.len());
            assert!(ours == py, "uncompressed megabyte batches differ");
        }
        let out = python(&format!("read {}\n", hex(Some(&ours))));
        let mut lines = out.lines().skip(1);
        for (i, r) in recs.iter().enumerate() {
            let (off, got) = parse_record_line(lines.next().unwrap());
            assert_eq!(off, i as i64);
            assert!(
                &got == r,
                "{codec}: kafka-python reading kproto's record {i}"
            );
        }
        assert_eq!(lines.next().unwrap(), format!("END {}", ours.len()));
    }
}
