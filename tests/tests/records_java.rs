//! Record batches against Apache Kafka's own Java code (kafka-clients 4.4.0): its
//! `MemoryRecordsBuilder`, driven the way the producer drives it (`RecordAccumulator.append`
//! sizes the buffer, `ProducerBatch.tryAppend` asks `hasRoomFor`), builds the same bytes as
//! [`BatchBuilder`] for uncompressed batches and accepts the same records under `batch.size`
//! for every codec; `DefaultRecordBatch` (`ensureValid` and its record iterator) reads what we
//! build and we read what it builds.
//!
//! The Java side is `tests/java/records/RecordsPeer.java`, compiled by
//! `.ci/install.d/32-java-records.sh`; one JVM per test function answers many cases through a
//! line protocol on stdin/stdout (see the comment at the top of the Java file). Without `java`
//! or the compiled class these tests fail; a peer that stops answering is killed after
//! [`peer_timeout`] and the test fails saying so.

use integration_tests::records::{
    append_records, hex, peer_timeout, read_records, record_line, unhex, LinePeer, Rec, RecordGen,
};
use integration_tests::{cache_dir, repo_root};
use kproto::records::{
    estimate_size_upper_bound, BatchBuilder, BatchConfig, Batches, Compression, TimestampType,
    DEFAULT_MAX_UNCOMPRESSED,
};
use kproto::rng::Rng;
use std::path::Path;
use std::process::{Command, Stdio};

/// The records Kafka's Java code gets: one payload in four incompressible, one batch in three
/// with values up to 3 KB, odd timestamps (none, long ago, far ahead), non-ASCII header keys.
fn random_records(rng: &mut Rng, n: usize) -> Vec<Rec> {
    RecordGen {
        big_in: 3,
        incompressible_in: 4,
        odd_timestamps: true,
        unicode_header_keys: true,
        ..RecordGen::default()
    }
    .records(rng, n)
}

/// One `RecordsPeer` JVM, killed (failing the test) when an answer takes longer than
/// [`peer_timeout`].
struct Peer(LinePeer);

impl Peer {
    fn start() -> Peer {
        let java = cache_dir().join("java");
        let class = java.join("records-4.4.0").join("RecordsPeer.class");
        let libs = java.join("kafka-clients-4.4.0").join("libs");
        let src = repo_root().join("tests/java/records/RecordsPeer.java");
        assert!(
            class.exists() && libs.join("kafka-clients-4.4.0.jar").exists(),
            "{} or {} is missing: run .ci/install (30-java-harness.sh resolves kafka-clients, \
             32-java-records.sh compiles {})",
            class.display(),
            libs.join("kafka-clients-4.4.0.jar").display(),
            src.display()
        );
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        assert!(
            modified(&class) >= modified(&src),
            "{} is older than {}: run .ci/install.d/32-java-records.sh",
            class.display(),
            src.display()
        );
        let mut cmd = Command::new("java");
        cmd.arg("-cp")
            .arg(format!(
                "{}:{}/*",
                class.parent().unwrap().display(),
                libs.display()
            ))
            .arg("RecordsPeer")
            .stderr(Stdio::inherit());
        Peer(LinePeer::spawn(
            "RecordsPeer (java; a JDK 17+ must be on PATH)",
            cmd,
            peer_timeout(),
        ))
    }

    /// Sends one command (with its trailing lines) and returns the answer's lines before `OK`.
    fn ask(&mut self, cmd: &str) -> Vec<String> {
        self.0.send(cmd);
        if !cmd.ends_with('\n') {
            self.0.send("\n");
        }
        let mut lines = Vec::new();
        loop {
            let line = self
                .0
                .read_line()
                .expect("RecordsPeer exited (see its stderr above)");
            if line == "OK" {
                return lines;
            }
            if let Some(e) = line.strip_prefix("ERR ") {
                panic!("RecordsPeer: {e}\ncommand: {:.300}", cmd);
            }
            lines.push(line);
        }
    }
}

/// One batch to build: what `BatchConfig` and the Java builder are given.
#[derive(Debug, Clone)]
struct Case {
    codec: Compression,
    base_offset: i64,
    /// Some(append time) for LogAppendTime.
    log_append_time: Option<i64>,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    transactional: bool,
    partition_leader_epoch: i32,
    batch_size: usize,
    ratio: f32,
    recs: Vec<Rec>,
}

impl Case {
    /// The parameters, without the records (for failure messages).
    fn summary(&self) -> String {
        format!(
            "codec {} base offset {} log append time {:?} producer {}/{}/{} transactional {} \
             leader epoch {} batch.size {} ratio {} records {}",
            self.codec,
            self.base_offset,
            self.log_append_time,
            self.producer_id,
            self.producer_epoch,
            self.base_sequence,
            self.transactional,
            self.partition_leader_epoch,
            self.batch_size,
            self.ratio,
            self.recs.len()
        )
    }
}

fn random_case(rng: &mut Rng, codec: Compression, batch_size: usize, ratio: f32) -> Case {
    let n = 1 + rng.below(120) as usize;
    let recs = random_records(rng, n);
    let (producer_id, producer_epoch, base_sequence, transactional) = match rng.below(3) {
        0 => (-1, -1, -1, false),
        1 => (
            rng.below(1 << 40) as i64,
            rng.below(32768) as i16,
            rng.below(i32::MAX as u64) as i32,
            false,
        ),
        _ => (rng.below(1000) as i64, rng.below(5) as i16, 0, true),
    };
    Case {
        codec,
        base_offset: [0, 0, 1000, rng.below(1 << 50) as i64][rng.below(4) as usize],
        log_append_time: (rng.below(5) == 0).then(|| 1_700_000_100_000 + rng.below(1000) as i64),
        producer_id,
        producer_epoch,
        base_sequence,
        transactional,
        partition_leader_epoch: if rng.below(3) == 0 {
            rng.below(100) as i32
        } else {
            -1
        },
        batch_size,
        ratio,
        recs,
    }
}

/// Kafka builds; returns (records accepted, write limit, batch bytes).
fn java_build(peer: &mut Peer, c: &Case) -> (usize, usize, Vec<u8>) {
    let mut cmd = format!(
        "build {} {} {} {} {} {} {} {} {} {} {} {}\n",
        c.codec.id(),
        c.base_offset,
        u8::from(c.log_append_time.is_some()),
        c.log_append_time.unwrap_or(-1),
        c.producer_id,
        c.producer_epoch,
        c.base_sequence,
        u8::from(c.transactional),
        c.partition_leader_epoch,
        c.batch_size,
        c.ratio,
        c.recs.len()
    );
    for r in &c.recs {
        cmd += &record_line(r, None);
        cmd.push('\n');
    }
    let out = peer.ask(&cmd);
    assert_eq!(out.len(), 2, "{out:?}");
    let f: Vec<&str> = out[0].split(' ').collect();
    assert_eq!((f[0], f[2]), ("ACCEPTED", "LIMIT"), "{}", out[0]);
    let bytes = unhex(out[1].strip_prefix("BATCH ").unwrap()).unwrap();
    (f[1].parse().unwrap(), f[3].parse().unwrap(), bytes)
}

/// kproto builds, as the producer would: the write limit is the larger of `batch.size` and
/// the first record's upper bound; the producer state is set last.
fn our_build(c: &Case) -> (usize, usize, Vec<u8>) {
    let first = &c.recs[0];
    let upper = estimate_size_upper_bound(
        first.key.as_deref(),
        first.value.as_deref(),
        &first.header_refs(),
    )
    .unwrap();
    let limit = c.batch_size.max(upper);
    let mut b = BatchBuilder::new(BatchConfig {
        base_offset: c.base_offset,
        partition_leader_epoch: c.partition_leader_epoch,
        timestamp_type: if c.log_append_time.is_some() {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        },
        log_append_time: c.log_append_time.unwrap_or(-1),
        compression: c.codec,
        write_limit: limit,
        ..BatchConfig::default()
    });
    b.set_estimated_compression_ratio(c.ratio);
    let n = append_records(&mut b, &c.recs);
    b.set_producer_state(
        c.producer_id,
        c.producer_epoch,
        c.base_sequence,
        c.transactional,
    );
    (n, limit, b.finish().unwrap())
}

/// What reading the batch built for `c` with `accepted` records must give, in the peer's `read`
/// format. Size and CRC come from `bytes` (the reader validates the CRC).
fn expected_lines(c: &Case, accepted: usize, bytes: &[u8]) -> Vec<String> {
    let recs = &c.recs[..accepted];
    let attributes = u16::from(c.codec.id())
        | if c.log_append_time.is_some() { 0x08 } else { 0 }
        | if c.transactional { 0x10 } else { 0 };
    let max_ts = c
        .log_append_time
        .unwrap_or_else(|| recs.iter().map(|r| r.ts).fold(-1, i64::max));
    let crc = u32::from_be_bytes(bytes[17..21].try_into().unwrap());
    let mut out = vec![format!(
        "B {} {} {} 2 {crc} {attributes} {} {} {} 0 {} {} {max_ts} {} {} {} {}",
        c.base_offset,
        bytes.len(),
        c.partition_leader_epoch,
        c.codec.id(),
        u8::from(c.log_append_time.is_some()),
        u8::from(c.transactional),
        accepted - 1,
        recs[0].ts,
        c.producer_id,
        c.producer_epoch,
        c.base_sequence,
        accepted
    )];
    for (i, r) in recs.iter().enumerate() {
        let r = Rec {
            // Kafka reads every record of a LogAppendTime batch at the batch's append time.
            ts: c.log_append_time.unwrap_or(r.ts),
            ..r.clone()
        };
        out.push(record_line(&r, Some(c.base_offset + i as i64)));
    }
    out
}

/// Reads batches with kproto (`Batches`, `validate`, `records`) into the peer's `read` format.
fn kproto_lines(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut batches = Batches::new(bytes);
    for b in batches.by_ref() {
        let b = b.unwrap();
        b.validate().unwrap();
        let a = b.attributes();
        out.push(format!(
            "B {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}",
            b.base_offset(),
            b.size(),
            b.partition_leader_epoch(),
            b.magic(),
            b.crc(),
            a.0,
            a.compression_id(),
            u8::from(b.timestamp_type() == TimestampType::LogAppendTime),
            u8::from(b.is_transactional()),
            u8::from(b.is_control()),
            b.last_offset_delta(),
            b.base_timestamp(),
            b.max_timestamp(),
            b.producer_id(),
            b.producer_epoch(),
            b.base_sequence(),
            b.record_count()
        ));
        for (offset, rec) in read_records(&b, DEFAULT_MAX_UNCOMPRESSED).unwrap() {
            out.push(record_line(&rec, Some(offset)));
        }
    }
    out.push(format!("END {}", bytes.len() - batches.remainder().len()));
    out
}

fn java_lines(peer: &mut Peer, bytes: &[u8]) -> Vec<String> {
    peer.ask(&format!("read {}\n", hex(Some(bytes))))
}

/// Asserts line by line (the first difference is the message, not a 10,000-line dump).
fn assert_lines(what: &str, got: &[String], want: &[String]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            g == w,
            "{what}: line {i} differs\n got: {g:.400}\nwant: {w:.400}"
        );
    }
    assert_eq!(got.len(), want.len(), "{what}: line count");
}

/// `batch.size`s: the small ones (0 is "no batching") make the first-record rule and the
/// first record's upper bound (the write limit when it is larger) matter.
const BATCH_SIZES: [usize; 7] = [1024, 16384, 1024, 16384, 100, 4096, 0];

#[test]
fn uncompressed_bytes_and_size_limits_are_javas() {
    let mut peer = Peer::start();
    let mut rng = Rng::new(0x5eed_1001);
    let mut cases = 0;
    let mut limited = 0;
    for round in 0..400 {
        let c = random_case(
            &mut rng,
            Compression::None,
            BATCH_SIZES[round % BATCH_SIZES.len()],
            1.0,
        );
        let (n_java, limit_java, java) = java_build(&mut peer, &c);
        let (n_us, limit_us, us) = our_build(&c);
        assert_eq!(
            (n_us, limit_us),
            (n_java, limit_java),
            "round {round}: records accepted, write limit; {}",
            c.summary()
        );
        if us != java {
            let at = us.iter().zip(&java).position(|(a, b)| a != b);
            panic!(
                "round {round}: bytes differ at {at:?} (lengths {} and {}); {}",
                us.len(),
                java.len(),
                c.summary()
            );
        }
        // And kproto reads Java's batch as the input.
        if round % 4 == 0 {
            assert_lines(
                &format!("round {round}: kproto reading Kafka's batch"),
                &kproto_lines(&java),
                &[
                    expected_lines(&c, n_java, &java),
                    vec![format!("END {}", java.len())],
                ]
                .concat(),
            );
        }
        cases += 1;
        limited += usize::from(n_java < c.recs.len());
    }
    eprintln!("uncompressed: {cases} cases byte-identical, {limited} stopped by the limit");
    assert!(
        limited > 100,
        "only {limited} of {cases} cases hit the limit"
    );
}

/// Compressed bytes differ between implementations (Kafka uses java.util.zip, snappy-java,
/// lz4-java and zstd-jni; kproto its own codecs), so each side reads the other's batches and
/// both must give back the input. `None` runs here too, through the same reads.
#[test]
fn every_codec_reads_both_ways() {
    let mut peer = Peer::start();
    let mut rng = Rng::new(0x5eed_1002);
    for codec in Compression::ALL {
        let mut ours_all = Vec::new();
        let mut ours_want = Vec::new();
        let mut java_all = Vec::new();
        let mut java_want = Vec::new();
        let mut first_len = 0;
        let mut limited = 0;
        for round in 0..40 {
            let c = random_case(&mut rng, codec, [16384, 1 << 20][round % 2], 1.0);
            let (n_java, limit_java, java) = java_build(&mut peer, &c);
            let (n_us, limit_us, us) = our_build(&c);
            assert_eq!(
                (n_us, limit_us),
                (n_java, limit_java),
                "{codec} round {round}: records accepted, write limit; {}",
                c.summary()
            );
            let want_java = expected_lines(&c, n_java, &java);
            let want_us = expected_lines(&c, n_us, &us);
            assert_lines(
                &format!("{codec} round {round}: kproto reading Kafka's batch"),
                &kproto_lines(&java),
                &[want_java.clone(), vec![format!("END {}", java.len())]].concat(),
            );
            assert_lines(
                &format!("{codec} round {round}: Kafka reading kproto's batch"),
                &java_lines(&mut peer, &us),
                &[want_us.clone(), vec![format!("END {}", us.len())]].concat(),
            );
            if round == 0 {
                first_len = us.len();
            }
            limited += usize::from(n_java < c.recs.len());
            ours_all.extend_from_slice(&us);
            ours_want.extend(want_us);
            java_all.extend_from_slice(&java);
            java_want.extend(want_java);
        }
        // Many batches in one buffer, ending with a partial batch that both skip.
        let tail = ours_all[..first_len - 1].to_vec();
        let (ours_len, java_len) = (ours_all.len(), java_all.len());
        ours_all.extend_from_slice(&tail);
        java_all.extend_from_slice(&tail);
        ours_want.push(format!("END {ours_len}"));
        java_want.push(format!("END {java_len}"));
        assert_lines(
            &format!("{codec}: Kafka reading 40 kproto batches"),
            &java_lines(&mut peer, &ours_all),
            &ours_want,
        );
        assert_lines(
            &format!("{codec}: kproto reading 40 Kafka batches"),
            &kproto_lines(&java_all),
            &java_want,
        );
        eprintln!("{codec}: 40 cases read both ways ({limited} stopped by the limit)");
    }
}

/// For compressed batches Kafka's limit is an estimate: the uncompressed records' size times
/// the estimated compression ratio times 1.05 (`estimatedBytesWritten`, in single precision),
/// never the compressed size, so for the same ratio the records accepted depend only on the
/// input and must agree exactly. (A running producer moves the ratio after each batch from the
/// compressed size it got, `CompressionRatioEstimator.updateEstimation`; compressors differ, so
/// that is where two producers' batching may part, not here.)
#[test]
fn compressed_size_limits_are_javas() {
    let mut peer = Peer::start();
    // A new ProducerBatch starts from CompressionRatioEstimator's estimate: 1.0 for every codec,
    // as BatchConfig's default.
    for codec in Compression::ALL {
        let out = peer.ask(&format!("rate {}", codec.id()));
        let rate: f32 = out[0].strip_prefix("RATE ").unwrap().parse().unwrap();
        assert_eq!(
            rate,
            BatchConfig::default().estimated_compression_ratio,
            "{codec}"
        );
    }
    let mut rng = Rng::new(0x5eed_1003);
    let ratios = [1.0f32, 1.0, 0.5, 0.25, 0.731, 0.1];
    for codec in &Compression::ALL[1..] {
        let mut limited = 0;
        for round in 0..120 {
            let ratio = ratios[round % ratios.len()];
            let size = [1024, 16384, 4096, 100, 0][round % 5];
            let c = random_case(&mut rng, *codec, size, ratio);
            let (n_java, limit_java, java) = java_build(&mut peer, &c);
            let (n_us, limit_us, us) = our_build(&c);
            assert_eq!(
                (n_us, limit_us),
                (n_java, limit_java),
                "{codec} round {round}: records accepted, write limit; {}",
                c.summary()
            );
            // The header says how many records each side put in.
            assert_eq!(us[57..61], java[57..61], "{codec} round {round}: count");
            limited += usize::from(n_java < c.recs.len());
        }
        eprintln!("{codec}: 120 cases accepted the same records, {limited} stopped by the limit");
        assert!(limited > 30, "{codec}: only {limited} cases hit the limit");
    }
}

/// Megabyte batches: 300 records of up to 8 KB (two-byte length varints everywhere) under a
/// 2 MiB `batch.size`, with every codec. Java and kproto accept the same records, build the
/// same bytes when uncompressed, and each reads the other's batch.
#[test]
fn megabyte_batches_are_javas_and_read_both_ways() {
    let mut peer = Peer::start();
    let mut rng = Rng::new(0x5eed_1004);
    let gen = RecordGen {
        max_key: 300,
        max_value: 8000,
        incompressible_in: 4,
        null_in: 40,
        odd_timestamps: true,
        unicode_header_keys: true,
        ..RecordGen::default()
    };
    for codec in Compression::ALL {
        let mut c = random_case(&mut rng, codec, 2 << 20, 1.0);
        c.recs = gen.records(&mut rng, 300);
        let (n_java, limit_java, java) = java_build(&mut peer, &c);
        let (n_us, limit_us, us) = our_build(&c);
        assert_eq!(
            (n_us, limit_us),
            (n_java, limit_java),
            "{codec}: records accepted, write limit; {}",
            c.summary()
        );
        assert_eq!(n_us, 300, "{codec}: 2 MiB holds them all");
        if codec == Compression::None {
            assert!(java.len() > 1 << 20, "only {} bytes", java.len());
            assert!(us == java, "{codec}: bytes differ; {}", c.summary());
        }
        assert_lines(
            &format!("{codec}: kproto reading Kafka's megabyte batch"),
            &kproto_lines(&java),
            &[
                expected_lines(&c, n_java, &java),
                vec![format!("END {}", java.len())],
            ]
            .concat(),
        );
        assert_lines(
            &format!("{codec}: Kafka reading kproto's megabyte batch"),
            &java_lines(&mut peer, &us),
            &[
                expected_lines(&c, n_us, &us),
                vec![format!("END {}", us.len())],
            ]
            .concat(),
        );
        eprintln!(
            "{codec}: 300 records, {} bytes from Kafka, {} from kproto",
            java.len(),
            us.len()
        );
    }
}
