//! Kafka reads what klog writes: klog writes two partitions (CreateTime and LogAppendTime)
//! through `FsStorage`: many small segments, an index entry every few batches (or none), every
//! codec, keys, values, headers, idempotent producers. Kafka's own `DumpLogSegments` then reads
//! every `.log`, `.index`, `.timeindex` and producer `.snapshot` file; its output is parsed and
//! compared field by field with what was appended and with the bytes on disk, its index checks
//! must report nothing, and `--index-sanity-check` (the broker's start-up check) must pass.
//! (The other direction: `cli/tests/klog_kafka_klog_reads_kafka.rs`.)
//!
//! Needs `.ci/install` (Kafka's jars in `$KPP_CACHE/kafka-4.4.0`); fails, never skips, without it.

use integration_tests::dump_log::{dump_sections, field, num, pairs};
use integration_tests::kafka::{run_java, JavaOutput, KafkaInstall, TempDir};
use integration_tests::segments::{
    file_batches, offset_index_entries, read, segments_in, snapshots_in, time_index_entries,
    SegmentFiles,
};
use klog::{FsStorage, Log, LogConfig, RecoveryReport, TimestampType};
use kproto::records::{BatchBuilder, BatchConfig, BatchView, Compression};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// A. Segments klog writes, read by Kafka's DumpLogSegments.

const A_T0: i64 = 1_700_000_000_000;

/// A record as appended.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ExpRecord {
    offset: i64,
    timestamp: i64,
    key: Option<String>,
    value: Option<String>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

/// A batch as appended (and as klog must have stored it).
#[derive(Debug, Clone)]
struct ExpBatch {
    base_offset: i64,
    codec: Compression,
    producer_id: i64,
    producer_epoch: i16,
    base_sequence: i32,
    timestamp_type: &'static str,
    max_timestamp: i64,
    records: Vec<ExpRecord>,
}

impl ExpBatch {
    fn last_offset(&self) -> i64 {
        self.base_offset + self.records.len() as i64 - 1
    }
    fn last_sequence(&self) -> i32 {
        if self.base_sequence < 0 {
            -1
        } else {
            self.base_sequence + self.records.len() as i32 - 1
        }
    }
}

/// A record to append: timestamp, key, value, headers.
type ARecord = (
    i64,
    Option<String>,
    Option<String>,
    Vec<(&'static str, Option<&'static [u8]>)>,
);

/// Record `r` of batch `b`: printable text (DumpLogSegments prints keys and values as UTF-8),
/// some null keys and values, three header shapes, timestamps that sometimes go backwards.
fn a_record(b: usize, r: usize) -> ARecord {
    let ts = A_T0 + b as i64 * 100 + r as i64 * 3 - if r % 5 == 4 { 7 } else { 0 };
    let key = ((b + r) % 9 != 4).then(|| format!("key-{b}-{r}"));
    let value = ((b + r) % 13 != 6).then(|| {
        let len = 10 + (b * 31 + r * 17) % 290;
        let unit = format!("v{b}.{r} ");
        unit.repeat(len / unit.len() + 1)[..len].to_string()
    });
    let headers: Vec<(&'static str, Option<&'static [u8]>)> = match (b + r) % 3 {
        0 => vec![],
        1 => vec![("h1", Some(b"x"))],
        _ => vec![("h1", Some(b"x")), ("h2", None), ("h3", Some(b""))],
    };
    (ts, key, value, headers)
}

/// Appends `batches` batches to `topic` through klog and closes the log cleanly; returns what
/// was appended.
fn a_write(
    root: &Path,
    topic: &str,
    batches: usize,
    timestamp_type: TimestampType,
    index_interval_bytes: u32,
) -> Vec<ExpBatch> {
    let cfg = LogConfig {
        segment_bytes: 16 * 1024,
        index_interval_bytes,
        message_timestamp_type: timestamp_type,
        ..LogConfig::default()
    };
    let st = FsStorage::new(root).unwrap();
    let (mut log, report) = Log::open(st, topic, 0, cfg, A_T0).unwrap();
    assert_eq!(report, RecoveryReport::default(), "{topic}: a new log");
    let mut expected = Vec::new();
    let mut next_seq: BTreeMap<i64, i32> = BTreeMap::new();
    let mut next_offset = 0i64;
    let mut now = A_T0;
    for b in 0..batches {
        let codec = Compression::ALL[b % 5];
        let (pid, epoch) = match b % 4 {
            1 => (1000, 0),
            2 => (2000, 3),
            _ => (-1, -1),
        };
        let count = 1 + (b * 7) % 23;
        let base_seq = if pid >= 0 {
            *next_seq.get(&pid).unwrap_or(&0)
        } else {
            -1
        };
        let mut builder = BatchBuilder::new(BatchConfig {
            compression: codec,
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: base_seq,
            write_limit: 1 << 20,
            ..BatchConfig::default()
        });
        now = A_T0 + b as i64 * 100 + 99;
        let mut records = Vec::new();
        for r in 0..count {
            let (ts, key, value, headers) = a_record(b, r);
            builder
                .try_append(
                    ts,
                    key.as_deref().map(str::as_bytes),
                    value.as_deref().map(str::as_bytes),
                    &headers,
                )
                .unwrap();
            records.push(ExpRecord {
                offset: next_offset + r as i64,
                timestamp: ts,
                key,
                value,
                headers: headers
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.map(<[u8]>::to_vec)))
                    .collect(),
            });
        }
        let mut bytes = builder.finish().unwrap();
        let info = log.append(&mut bytes, now).unwrap();
        assert_eq!(info.first_offset, next_offset as u64, "{topic} batch {b}");
        assert_eq!(info.last_offset, (next_offset + count as i64 - 1) as u64);
        let (ts_name, max_ts) = match timestamp_type {
            TimestampType::CreateTime => (
                "CreateTime",
                records.iter().map(|r| r.timestamp).max().unwrap(),
            ),
            TimestampType::LogAppendTime => {
                for r in &mut records {
                    r.timestamp = now;
                }
                ("LogAppendTime", now)
            }
        };
        if pid >= 0 {
            next_seq.insert(pid, base_seq + count as i32);
        }
        expected.push(ExpBatch {
            base_offset: next_offset,
            codec,
            producer_id: pid,
            producer_epoch: epoch,
            base_sequence: base_seq,
            timestamp_type: ts_name,
            max_timestamp: max_ts,
            records,
        });
        next_offset += count as i64;
    }
    assert!(
        log.segment_count() >= 3,
        "{topic}: only {} segments",
        log.segment_count()
    );
    log.close(now + 1).unwrap();
    expected
}

/// The producer state a snapshot taken at `offset` holds: per producer id, its last batch
/// below `offset`.
fn expected_snapshot(batches: &[ExpBatch], offset: i64) -> BTreeMap<i64, &ExpBatch> {
    let mut m = BTreeMap::new();
    for b in batches
        .iter()
        .filter(|b| b.producer_id >= 0 && b.last_offset() < offset)
    {
        m.insert(b.producer_id, b);
    }
    m
}

/// Checks one `.log` section of DumpLogSegments' output against the file and the batches
/// appended; returns (batches, records) seen.
fn a_check_log_section(
    seg: &SegmentFiles,
    lines: &[String],
    expected: &BTreeMap<i64, &ExpBatch>,
) -> (usize, usize) {
    let data = read(&seg.log);
    let on_disk = file_batches(&seg.log, &data);
    assert_eq!(
        lines.first().map(String::as_str),
        Some(format!("Log starting offset: {}", seg.base).as_str())
    );
    let mut batch_no = 0usize;
    let mut records = 0usize;
    let mut current: Option<(&ExpBatch, usize)> = None;
    for line in &lines[1..] {
        if line.starts_with("baseOffset: ") {
            if let Some((exp, seen)) = current {
                assert_eq!(
                    seen,
                    exp.records.len(),
                    "{}: records of batch {}",
                    seg.log.display(),
                    exp.base_offset
                );
            }
            let m = pairs(line);
            let disk = on_disk.get(batch_no).unwrap_or_else(|| {
                panic!(
                    "{}: Kafka sees more batches than the file holds",
                    seg.log.display()
                )
            });
            let exp = expected
                .get(&num(&m, "baseOffset"))
                .unwrap_or_else(|| panic!("{}: unexpected batch {line}", seg.log.display()));
            let what = format!("{} batch {}", seg.log.display(), exp.base_offset);
            assert_eq!(num(&m, "baseOffset"), disk.base_offset(), "{what}");
            assert_eq!(num(&m, "lastOffset"), exp.last_offset(), "{what}");
            assert_eq!(num(&m, "count"), exp.records.len() as i64, "{what}");
            assert_eq!(
                num(&m, "baseSequence"),
                i64::from(exp.base_sequence),
                "{what}"
            );
            assert_eq!(
                num(&m, "lastSequence"),
                i64::from(exp.last_sequence()),
                "{what}"
            );
            assert_eq!(num(&m, "producerId"), exp.producer_id, "{what}");
            assert_eq!(
                num(&m, "producerEpoch"),
                i64::from(exp.producer_epoch),
                "{what}"
            );
            assert_eq!(num(&m, "partitionLeaderEpoch"), 0, "{what}");
            assert_eq!(field(&m, "isTransactional"), "false", "{what}");
            assert_eq!(field(&m, "isControl"), "false", "{what}");
            assert_eq!(num(&m, "position"), disk.position() as i64, "{what}");
            assert_eq!(num(&m, exp.timestamp_type), exp.max_timestamp, "{what}");
            assert_eq!(num(&m, "size"), disk.size() as i64, "{what}");
            assert_eq!(num(&m, "magic"), 2, "{what}");
            assert_eq!(field(&m, "compresscodec"), exp.codec.name(), "{what}");
            assert_eq!(num(&m, "crc"), i64::from(disk.crc()), "{what}");
            assert_eq!(field(&m, "isvalid"), "true", "{what}");
            assert_eq!(field(&m, "deleteHorizonMs"), "OptionalLong.empty", "{what}");
            assert_eq!(m.len(), 18, "{what}: fields {m:?}");
            current = Some((exp, 0));
            batch_no += 1;
        } else if let Some(rest) = line.strip_prefix("| ") {
            let (exp, seen) = current
                .as_mut()
                .unwrap_or_else(|| panic!("record before a batch: {line}"));
            let want = exp
                .records
                .get(*seen)
                .unwrap_or_else(|| panic!("{}: extra record {line}", seg.log.display()));
            let (meta, payload) = match rest.split_once(" payload: ") {
                Some((m, p)) => (m, Some(p.to_string())),
                None => (rest, None),
            };
            let m = pairs(meta);
            let what = format!("{} offset {}", seg.log.display(), want.offset);
            assert_eq!(num(&m, "offset"), want.offset, "{what}");
            assert_eq!(num(&m, exp.timestamp_type), want.timestamp, "{what}");
            assert_eq!(
                num(&m, "keySize"),
                want.key.as_ref().map_or(-1, |k| k.len() as i64),
                "{what}"
            );
            assert_eq!(
                num(&m, "valueSize"),
                want.value.as_ref().map_or(-1, |v| v.len() as i64),
                "{what}"
            );
            let seq = if exp.base_sequence < 0 {
                -1
            } else {
                i64::from(exp.base_sequence) + *seen as i64
            };
            assert_eq!(num(&m, "sequence"), seq, "{what}");
            let keys: Vec<&str> = want.headers.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(
                field(&m, "headerKeys"),
                format!("[{}]", keys.join(",")),
                "{what}"
            );
            assert_eq!(m.get("key"), want.key.as_ref(), "{what}");
            assert_eq!(payload, want.value, "{what}");
            assert_eq!(
                m.len(),
                6 + usize::from(want.key.is_some()),
                "{what}: fields {m:?}"
            );
            *seen += 1;
            records += 1;
        } else {
            panic!(
                "{}: unexpected DumpLogSegments line {line:?}",
                seg.log.display()
            );
        }
    }
    if let Some((exp, seen)) = current {
        assert_eq!(
            seen,
            exp.records.len(),
            "{}: records of the last batch",
            seg.log.display()
        );
    }
    assert_eq!(
        batch_no,
        on_disk.len(),
        "{}: batches Kafka saw",
        seg.log.display()
    );
    (batch_no, records)
}

/// Checks the `.index` and `.timeindex` sections against the files and the segment's batches;
/// returns the number of (offset, time) index entries.
fn a_check_index_sections(
    seg: &SegmentFiles,
    index_lines: &[String],
    time_lines: &[String],
) -> (usize, usize) {
    let data = read(&seg.log);
    let on_disk = file_batches(&seg.log, &data);
    let by_position: BTreeMap<u32, &BatchView<&[u8]>> =
        on_disk.iter().map(|b| (b.position() as u32, b)).collect();

    let entries = offset_index_entries(&seg.index, seg.base);
    let printed: Vec<(u64, u32)> = if entries.is_empty() {
        assert_eq!(index_lines, [format!("{} is empty.", seg.index.display())]);
        vec![]
    } else {
        index_lines
            .iter()
            .map(|l| {
                let m = pairs(l);
                assert_eq!(m.len(), 2, "{l}");
                (num(&m, "offset") as u64, num(&m, "position") as u32)
            })
            .collect()
    };
    assert_eq!(
        printed,
        entries,
        "{}: Kafka's reading of the entries",
        seg.index.display()
    );
    for (i, (off, pos)) in entries.iter().enumerate() {
        let b = by_position.get(pos).unwrap_or_else(|| {
            panic!(
                "{} entry {i}: position {pos} is not a batch start",
                seg.index.display()
            )
        });
        assert_eq!(
            b.last_offset() as u64,
            *off,
            "{} entry {i}",
            seg.index.display()
        );
        if i > 0 {
            assert!(
                entries[i - 1].0 < *off && entries[i - 1].1 < *pos,
                "{} entry {i}",
                seg.index.display()
            );
        }
    }

    let tentries = time_index_entries(&seg.timeindex, seg.base);
    let tprinted: Vec<(i64, u64)> = time_lines
        .iter()
        .map(|l| {
            let m = pairs(l);
            assert_eq!(m.len(), 2, "{l}");
            (num(&m, "timestamp"), num(&m, "offset") as u64)
        })
        .collect();
    assert_eq!(
        tprinted,
        tentries,
        "{}: Kafka's reading of the entries",
        seg.timeindex.display()
    );
    for (i, (ts, off)) in tentries.iter().enumerate() {
        // the entry is (largest timestamp so far, last offset of the batch that has it)
        let upto: Vec<&BatchView<&[u8]>> = on_disk
            .iter()
            .take_while(|b| b.base_offset() as u64 <= *off)
            .collect();
        let last = upto.last().expect("a batch");
        assert_eq!(
            last.last_offset() as u64,
            *off,
            "{} entry {i}",
            seg.timeindex.display()
        );
        assert_eq!(
            last.max_timestamp(),
            *ts,
            "{} entry {i}",
            seg.timeindex.display()
        );
        assert_eq!(
            upto.iter().map(|b| b.max_timestamp()).max(),
            Some(*ts),
            "{} entry {i}",
            seg.timeindex.display()
        );
        if i > 0 {
            assert!(
                tentries[i - 1].0 < *ts && tentries[i - 1].1 < *off,
                "{} entry {i}",
                seg.timeindex.display()
            );
        }
    }
    (entries.len(), tentries.len())
}

#[test]
fn kafka_dump_log_segments_reads_what_klog_writes() {
    let install = KafkaInstall::locate();
    let tmp = TempDir::new("klog-kafka-a");
    let root = tmp.path().join("logs");
    // (topic, batches, timestamp type, index.interval.bytes): an entry every few batches, and
    // none at all (empty offset indexes; time indexes with only the entry added at roll)
    let topics = [
        ("klog-a-create", 200usize, TimestampType::CreateTime, 400u32),
        ("klog-a-append", 100, TimestampType::LogAppendTime, 1 << 20),
    ];
    let mut expected: BTreeMap<&str, Vec<ExpBatch>> = BTreeMap::new();
    for (topic, n, tt, interval) in topics {
        expected.insert(topic, a_write(&root, topic, n, tt, interval));
    }

    // every file of both partitions, in one DumpLogSegments run; the index sanity check in a
    // second one, run alongside
    let mut files: Vec<PathBuf> = Vec::new();
    let mut index_files: Vec<PathBuf> = Vec::new();
    let mut segs: BTreeMap<&str, Vec<SegmentFiles>> = BTreeMap::new();
    let mut snaps: BTreeMap<&str, Vec<(u64, PathBuf)>> = BTreeMap::new();
    for (topic, _, _, _) in topics {
        let dir = root.join(format!("{topic}-0"));
        let s = segments_in(&dir);
        for seg in &s {
            files.extend([seg.log.clone(), seg.index.clone(), seg.timeindex.clone()]);
            index_files.extend([seg.index.clone(), seg.timeindex.clone()]);
        }
        let sn = snapshots_in(&dir);
        assert!(!sn.is_empty(), "{topic}: klog wrote no producer snapshot");
        files.extend(sn.iter().map(|(_, p)| p.clone()));
        segs.insert(topic, s);
        snaps.insert(topic, sn);
    }
    let join = |v: &[PathBuf]| {
        v.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let (files_arg, index_arg) = (join(&files), join(&index_files));
    let cp = install.classpath();
    let (dump, sanity): (JavaOutput, JavaOutput) = std::thread::scope(|s| {
        let dump = s.spawn(|| {
            run_java(
                &cp,
                tmp.path(),
                "org.apache.kafka.tools.DumpLogSegments",
                &[
                    "--files",
                    &files_arg,
                    "--deep-iteration",
                    "--print-data-log",
                ],
                Duration::from_secs(120),
            )
        });
        let sanity = s.spawn(|| {
            run_java(
                &cp,
                tmp.path(),
                "org.apache.kafka.tools.DumpLogSegments",
                &["--files", &index_arg, "--index-sanity-check"],
                Duration::from_secs(120),
            )
        });
        (dump.join().unwrap(), sanity.join().unwrap())
    });
    let dump = dump.expect_success("DumpLogSegments --deep-iteration --print-data-log");
    let sanity = sanity.expect_success("DumpLogSegments --index-sanity-check");

    // stderr: Kafka's index, time index and offset continuity checks. The only thing it may say
    // is that a segment's first offset follows -1: DumpLogSegments starts every file's
    // continuity check at -1, so every segment not based at 0 is reported once, at its base.
    let bases_by_log: BTreeMap<PathBuf, u64> = segs
        .values()
        .flatten()
        .map(|s| (s.log.clone(), s.base))
        .collect();
    let mut reported = BTreeSet::new();
    let mut lines = dump.stderr.lines().peekable();
    while let Some(line) = lines.next() {
        let Some(file) = line.strip_prefix("Non-consecutive offsets in ") else {
            panic!(
                "DumpLogSegments reported a problem: {line}\n{}",
                dump.stderr
            );
        };
        let base = bases_by_log[Path::new(file)];
        assert_eq!(
            lines.next(),
            Some(format!("  -1 is followed by {base}").as_str()),
            "{file}"
        );
        assert!(base > 0, "{file}");
        reported.insert(file.to_string());
        assert!(
            lines.peek().is_none_or(|l| !l.starts_with("  ")),
            "{file}: more gaps"
        );
    }
    let nonzero_bases = segs.values().flatten().filter(|s| s.base > 0).count();
    assert_eq!(reported.len(), nonzero_bases, "segments with a gap report");

    let sections = dump_sections(&dump.stdout);
    assert_eq!(sections.len(), files.len(), "every file dumped");
    let (mut n_segments, mut n_batches, mut n_records, mut n_index, mut n_time, mut n_snap) =
        (0, 0, 0, 0, 0, 0);
    for (topic, _, _, _) in topics {
        let exp = &expected[topic];
        let by_base: BTreeMap<i64, &ExpBatch> = exp.iter().map(|b| (b.base_offset, b)).collect();
        let (mut batches, mut records) = (0, 0);
        for seg in &segs[topic] {
            let (b, r) = a_check_log_section(seg, &sections[&seg.log], &by_base);
            batches += b;
            records += r;
            let (i, t) =
                a_check_index_sections(seg, &sections[&seg.index], &sections[&seg.timeindex]);
            n_index += i;
            n_time += t;
            n_segments += 1;
        }
        assert_eq!(batches, exp.len(), "{topic}: batches Kafka read");
        assert_eq!(
            records,
            exp.iter().map(|b| b.records.len()).sum::<usize>(),
            "{topic}: records Kafka read"
        );
        n_batches += batches;
        n_records += records;
        for (offset, path) in &snaps[topic] {
            let want = expected_snapshot(exp, *offset as i64);
            let lines = &sections[path];
            assert_eq!(lines.len(), want.len(), "{}: {lines:?}", path.display());
            for line in lines {
                let m = pairs(line);
                let pid = num(&m, "producerId");
                let b = want
                    .get(&pid)
                    .unwrap_or_else(|| panic!("{}: unexpected {line}", path.display()));
                let what = format!("{} producer {pid}", path.display());
                assert_eq!(
                    num(&m, "producerEpoch"),
                    i64::from(b.producer_epoch),
                    "{what}"
                );
                assert_eq!(num(&m, "coordinatorEpoch"), -1, "{what}");
                assert_eq!(
                    field(&m, "currentTxnFirstOffset"),
                    "OptionalLong.empty",
                    "{what}"
                );
                assert_eq!(num(&m, "lastTimestamp"), b.max_timestamp, "{what}");
                assert_eq!(
                    num(&m, "firstSequence"),
                    i64::from(b.base_sequence),
                    "{what}"
                );
                assert_eq!(
                    num(&m, "lastSequence"),
                    i64::from(b.last_sequence()),
                    "{what}"
                );
                assert_eq!(num(&m, "lastOffset"), b.last_offset(), "{what}");
                assert_eq!(num(&m, "offsetDelta"), b.records.len() as i64 - 1, "{what}");
                assert_eq!(num(&m, "timestamp"), b.max_timestamp, "{what}");
                n_snap += 1;
            }
        }
    }
    assert!(
        n_index >= 100 && n_time >= 100,
        "few index entries: {n_index} / {n_time}"
    );

    // --index-sanity-check: the check a broker runs at start-up to decide whether to rebuild
    assert!(
        sanity.stderr.trim().is_empty(),
        "sanity check stderr: {}",
        sanity.stderr
    );
    let sanity_sections = dump_sections(&sanity.stdout);
    assert_eq!(sanity_sections.len(), index_files.len());
    let mut empty = 0;
    for f in &index_files {
        // DumpLogSegments says an offset index without entries "is empty." before checking
        let verdict = if f.extension().is_some_and(|e| e == "index") && read(f).is_empty() {
            empty += 1;
            "is empty."
        } else {
            "passed sanity check."
        };
        assert_eq!(
            sanity_sections[f],
            [format!("{} {verdict}", f.display())],
            "{}",
            f.display()
        );
    }
    assert!(empty >= 2, "no segment without offset index entries");
    println!(
        "A: Kafka's DumpLogSegments read {n_segments} klog segments: {n_batches} batches, {n_records} records, \
         {n_index} offset index and {n_time} time index entries, {n_snap} producer snapshot entries; \
         {} index files passed the sanity check, {empty} empty ({:.1} s + {:.1} s of JVM)",
        index_files.len() - empty,
        dump.elapsed.as_secs_f64(),
        sanity.elapsed.as_secs_f64()
    );
}
