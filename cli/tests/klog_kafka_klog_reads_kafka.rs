//! klog reads what a Kafka broker writes: a real Kafka 4.4.0 broker (KRaft, loopback,
//! `tests/java/kafka/KlogKafkaClient.java` driving Kafka's TopicCommand, five idempotent
//! producers and GetOffsetShell) writes three partitions (CreateTime, LogAppendTime, no offset
//! index entries) over several 1 MiB segments; after a clean SIGTERM shutdown klog opens the
//! broker's log directory: Kafka's indexes and producer snapshot load as they are, every record
//! reads back equal to what was produced, offsets by timestamp agree with GetOffsetShell, and
//! klog rebuilds byte-identical indexes. `kpp dump` reads one of Kafka's segments. Then klog
//! appends to Kafka's log (continuing Kafka's producers' sequences, a resend recognised as a
//! duplicate) and the restarted broker loads klog's segments and snapshot without recovery,
//! serves every record to a consumer, and answers ListOffsets as klog does.
//! (The other direction: `klog_kafka_kafka_reads_klog.rs`.)
//!
//! Needs `.ci/install` (Kafka's jars in `$KPP_CACHE/kafka-4.4.0`); fails, never skips, without it.

use integration_tests::dump_log::{dump_sections, field, num, pairs, ts_type_name};
use integration_tests::kafka::{run_java, Broker, KafkaInstall, TempDir};
use integration_tests::segments::{
    file_batches, offset_index_entries_from, read, segments_in, time_index_entries_from,
    SegmentFiles,
};
use klog::{FsStorage, ListOffsetsTimestamp, Log, LogConfig, TimestampType};
use kproto::records::{BatchBuilder, BatchConfig, Batches, Compression, DEFAULT_MAX_UNCOMPRESSED};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

// ---------------------------------------------------------------------------------------------
// B. Segments a real broker writes, read by klog.

/// CreateTime of record 0 (the client's BASE_TS argument).
const B_BASE: i64 = 1_700_000_000_000;
/// The codecs, in the order the client's producers use them (KlogKafkaClient.CODECS).
const B_CODECS: [Compression; 5] = Compression::ALL;

/// SplitMix64's output function: the client's `mix` (wrapping arithmetic, logical shifts).
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The records the client produced (the generator in KlogKafkaClient.java, mirrored).
struct BTopic {
    name: &'static str,
    records: u64,
    salt: u64,
    index_interval_bytes: u32,
    append_time: bool,
}

impl BTopic {
    fn spec(&self) -> String {
        let mut s = format!(
            "{}:{}:{}:segment.bytes=1048576:index.interval.bytes={}:retention.ms=-1",
            self.name, self.records, self.salt, self.index_interval_bytes
        );
        if self.append_time {
            s.push_str(":message.timestamp.type=LogAppendTime");
        }
        s
    }

    /// `(first offset, end offset, codec index)` of every chunk.
    fn chunks(&self) -> Vec<(u64, u64, usize)> {
        let mut out = Vec::new();
        let (mut i, mut c) = (0u64, 0u64);
        while i < self.records {
            let len = 1 + mix(self.salt.wrapping_mul(1_000_003).wrapping_add(c)) % 120;
            let end = self.records.min(i + len);
            out.push((i, end, (c % 5) as usize));
            i = end;
            c += 1;
        }
        out
    }

    fn timestamp(i: u64) -> i64 {
        B_BASE + 3 * i as i64 - if i % 13 == 7 { 50 } else { 0 }
    }

    fn key(i: u64) -> Option<Vec<u8>> {
        (i % 11 != 3).then(|| format!("key-{i}").into_bytes())
    }

    fn value(&self, i: u64) -> Option<Vec<u8>> {
        if i % 17 == 5 {
            return None;
        }
        let len = 50 + mix(self.salt.wrapping_mul(1_000_033).wrapping_add(i)) % 1400;
        let mut v = Vec::with_capacity(len as usize);
        let mut w = 0u64;
        for k in 0..len {
            if k % 8 == 0 {
                w = mix((self.salt << 32).wrapping_add(i << 16).wrapping_add(k / 8));
            }
            v.push((w >> (8 * (k % 8))) as u8);
        }
        Some(v)
    }

    fn headers(i: u64) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let mut h = Vec::new();
        if i % 3 >= 1 {
            h.push((b"id".to_vec(), Some(i.to_string().into_bytes())));
        }
        if i % 3 == 2 {
            h.push((b"h-null".to_vec(), None));
            h.push((b"h-empty".to_vec(), Some(Vec::new())));
        }
        h
    }
}

const B_TOPICS: [BTopic; 3] = [
    BTopic {
        name: "klog-mixed",
        records: 6000,
        salt: 1,
        index_interval_bytes: 6000,
        append_time: false,
    },
    BTopic {
        name: "klog-append",
        records: 3200,
        salt: 2,
        index_interval_bytes: 3000,
        append_time: true,
    },
    // index.interval.bytes above segment.bytes: empty offset indexes, time indexes holding only
    // the entry Kafka adds when a segment becomes inactive
    BTopic {
        name: "klog-sparse",
        records: 3000,
        salt: 3,
        index_interval_bytes: 2_000_000,
        append_time: false,
    },
];

/// What the client printed.
#[derive(Debug, Default)]
struct ClientReport {
    created: BTreeSet<String>,
    produced: BTreeMap<String, u64>,
    append_times: BTreeMap<String, Vec<i64>>,
    /// (time, topic) -> offset, as GetOffsetShell printed (absent: no offset for that time).
    offsets: BTreeMap<(i64, String), u64>,
    times: BTreeSet<i64>,
    consumed: BTreeMap<String, u64>,
    mismatches: Vec<String>,
}

fn parse_client(stdout: &str) -> ClientReport {
    let mut r = ClientReport::default();
    let mut done = false;
    for line in stdout.lines() {
        let w: Vec<&str> = line.split(' ').collect();
        match w[0] {
            "created" => {
                r.created.insert(w[1].to_string());
            }
            "produced" => {
                r.produced.insert(w[1].to_string(), w[2].parse().unwrap());
            }
            "appendtime" => {
                let v = r.append_times.entry(w[1].to_string()).or_default();
                assert_eq!(v.len() as u64, w[2].parse::<u64>().unwrap(), "{line}");
                v.push(w[3].parse().unwrap());
            }
            "consumed" => {
                r.consumed.insert(w[1].to_string(), w[2].parse().unwrap());
                if w[3] != "0" {
                    r.mismatches.push(line.to_string());
                }
            }
            "mismatch" => r.mismatches.push(line.to_string()),
            "asked" => {
                assert!(r.times.insert(w[1].parse().unwrap()), "{line}");
            }
            "gos" => {
                let time: i64 = w[1].parse().unwrap();
                assert!(r.times.contains(&time), "{line}");
                // GetOffsetShell prints topic:partition:offset
                let parts: Vec<&str> = w[2].rsplitn(3, ':').collect();
                assert_eq!(parts.len(), 3, "{line}");
                assert_eq!(parts[1], "0", "{line}");
                let prev = r
                    .offsets
                    .insert((time, parts[2].to_string()), parts[0].parse().unwrap());
                assert!(prev.is_none(), "{line}");
            }
            "done" => done = true,
            _ => panic!("unexpected client output {line:?}"),
        }
    }
    assert!(done, "the client did not finish:\n{stdout}");
    r
}

/// The files of a partition directory, by name, as bytes.
fn snapshot_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().into_string().unwrap(), read(&e.path()))
        })
        .collect()
}

/// `file` holds `orig` then zeros (an active segment's index, preallocated again by klog).
fn assert_prefix_then_zeros(file: &Path, orig: &[u8]) {
    let now = read(file);
    assert!(now.len() >= orig.len(), "{} shrank", file.display());
    assert!(
        now[..orig.len()] == *orig,
        "{}: entries differ from Kafka's",
        file.display()
    );
    assert!(
        now[orig.len()..].iter().all(|b| *b == 0),
        "{}: non-zero tail",
        file.display()
    );
}

/// Everything B checks on one partition klog opened from the broker's log directory.
/// klog's configuration for a topic: the topic configs the client gave TopicCommand.
fn b_config(t: &BTopic) -> LogConfig {
    LogConfig {
        segment_bytes: 1 << 20,
        index_interval_bytes: t.index_interval_bytes,
        message_timestamp_type: if t.append_time {
            TimestampType::LogAppendTime
        } else {
            TimestampType::CreateTime
        },
        ..LogConfig::default()
    }
}

/// What [`b_check_partition`] saw.
struct BPartition {
    segments: usize,
    batches: usize,
    index_entries: usize,
    lookups: String,
    /// The producer id of each codec's producer (by index in [`B_CODECS`]).
    pid_of_codec: BTreeMap<usize, i64>,
    /// Each producer's next sequence.
    next_seq: BTreeMap<i64, i32>,
}

fn b_check_partition(
    t: &BTopic,
    root: &Path,
    client: &ClientReport,
    orig: &BTreeMap<String, Vec<u8>>,
) -> BPartition {
    let dir = root.join(format!("{}-0", t.name));
    let segs = segments_in(&dir);
    assert!(segs.len() >= 3, "{}: only {} segments", t.name, segs.len());
    let last_base = segs.last().unwrap().base;
    let cfg = b_config(t);
    let checkpoint = root.join("recovery-point-offset-checkpoint");
    let kafka_checkpoint = fs::read_to_string(&checkpoint).unwrap();
    let (mut log, report) = Log::open(
        FsStorage::new(root).unwrap(),
        t.name,
        0,
        cfg.clone(),
        B_BASE,
    )
    .unwrap();
    // a log opened on its own reads Kafka's recovery point checkpoint and leaves it as it is
    // (the log directory layer writes it, for every partition at once)
    let entries =
        |text: &str| -> BTreeSet<String> { text.lines().skip(2).map(str::to_string).collect() };
    assert_eq!(
        fs::read_to_string(&checkpoint).unwrap(),
        kafka_checkpoint,
        "{}: recovery-point-offset-checkpoint",
        t.name
    );
    assert!(entries(&kafka_checkpoint).contains(&format!("{} 0 {}", t.name, t.records)));
    // and added no file to the partition
    let names: BTreeSet<String> = snapshot_dir(&dir).into_keys().collect();
    assert_eq!(
        names,
        orig.keys().cloned().collect::<BTreeSet<_>>(),
        "{}: files after open",
        t.name
    );

    // Kafka's files load as they are: nothing rebuilt, cut, deleted or removed; only the
    // segment holding the recovery point (the active one) is re-validated, and it is intact
    assert_eq!(
        report.checkpoint_recovery_point, t.records,
        "{}: Kafka's recovery point",
        t.name
    );
    assert!(
        report.rebuilt_indexes.is_empty(),
        "{}: rebuilt {:?}",
        t.name,
        report.rebuilt_indexes
    );
    assert_eq!(report.truncated_bytes, 0, "{}: {report:?}", t.name);
    assert_eq!(report.truncation_reason, None, "{}", t.name);
    assert!(report.deleted_segments.is_empty(), "{}: {report:?}", t.name);
    assert!(
        report.removed_files.is_empty(),
        "{}: removed Kafka's {:?}",
        t.name,
        report.removed_files
    );
    assert!(
        report.recovered_segments.iter().all(|b| *b == last_base),
        "{}: {report:?}",
        t.name
    );
    assert_eq!(
        report.snapshot_offset,
        Some(t.records),
        "{}: Kafka's producer snapshot at the log end",
        t.name
    );
    for name in orig.keys() {
        assert!(dir.join(name).exists(), "{}: klog removed {name}", t.name);
    }
    assert_eq!(log.log_start_offset(), 0);
    assert_eq!(
        log.log_end_offset(),
        t.records,
        "{}: log end offset",
        t.name
    );
    assert_eq!(log.segment_count(), segs.len());

    // the indexes klog loaded are Kafka's, entry for entry; the files of inactive segments
    // are untouched, the active one's are Kafka's entries (rebuilt identically) then zeros
    let mut index_entries = 0;
    for (seg, s) in log.segments().zip(&segs) {
        assert_eq!(seg.base_offset(), s.base);
        let name = |ext: &str| format!("{:020}.{ext}", s.base);
        let kafka_idx = offset_index_entries_from(&orig[&name("index")], s.base);
        let kafka_time = time_index_entries_from(&orig[&name("timeindex")], s.base);
        let oi = seg.offset_index();
        let klog_idx: Vec<(u64, u32)> = (0..oi.entries())
            .map(|n| (oi.entry(n).offset, oi.entry(n).position))
            .collect();
        assert_eq!(klog_idx, kafka_idx, "{} offset index", s.index.display());
        let ti = seg.time_index();
        let klog_time: Vec<(i64, u64)> = (0..ti.entries())
            .map(|n| (ti.entry(n).timestamp, ti.entry(n).offset))
            .collect();
        assert_eq!(
            klog_time,
            kafka_time,
            "{} time index",
            s.timeindex.display()
        );
        index_entries += kafka_idx.len() + kafka_time.len();
        if s.base == last_base {
            assert_prefix_then_zeros(&s.index, &orig[&name("index")]);
            assert_prefix_then_zeros(&s.timeindex, &orig[&name("timeindex")]);
        } else {
            assert!(
                read(&s.index) == orig[&name("index")],
                "{} changed",
                s.index.display()
            );
            assert!(
                read(&s.timeindex) == orig[&name("timeindex")],
                "{} changed",
                s.timeindex.display()
            );
        }
        assert!(
            read(&s.log) == orig[&name("log")],
            "{} changed",
            s.log.display()
        );
    }

    // every record reads back as produced
    let chunks = t.chunks();
    let chunk_of = |o: u64| {
        chunks
            .iter()
            .position(|(a, b, _)| *a <= o && o < *b)
            .expect("in a chunk")
    };
    let append_times = client.append_times.get(t.name);
    if t.append_time {
        assert_eq!(
            append_times.map(Vec::len),
            Some(t.records as usize),
            "{}: append times",
            t.name
        );
    }
    let mut pid_of_codec: BTreeMap<usize, i64> = BTreeMap::new();
    let mut next_seq: BTreeMap<i64, i32> = BTreeMap::new();
    let mut codecs_per_segment: BTreeMap<usize, BTreeSet<u64>> = BTreeMap::new();
    let mut last_batch_of_pid: BTreeMap<i64, (i32, u64, i32, i64)> = BTreeMap::new();
    let (mut next, mut n_batches) = (0u64, 0usize);
    let mut scratch = Vec::new();
    while next < t.records {
        let data = log.read(next, 1 << 20).unwrap();
        assert!(!data.is_empty(), "{}: nothing at {next}", t.name);
        let mut walk = Batches::new(&data);
        for b in walk.by_ref() {
            let b = b.unwrap();
            b.validate()
                .unwrap_or_else(|e| panic!("{} batch {}: {e}", t.name, b.base_offset()));
            let (base, last) = (b.base_offset() as u64, b.last_offset() as u64);
            assert_eq!(base, next, "{}: batches are contiguous", t.name);
            let c = chunk_of(base);
            assert_eq!(
                chunk_of(last),
                c,
                "{} batch {base}: within one chunk",
                t.name
            );
            let codec = chunks[c].2;
            assert_eq!(
                b.compression().unwrap(),
                B_CODECS[codec],
                "{} batch {base}",
                t.name
            );
            let seg = segs.iter().rposition(|s| s.base <= base).unwrap();
            codecs_per_segment
                .entry(codec)
                .or_default()
                .insert(seg as u64);
            let pid = *pid_of_codec.entry(codec).or_insert(b.producer_id());
            assert!(pid >= 0, "{} batch {base}: idempotent producers", t.name);
            assert_eq!(
                b.producer_id(),
                pid,
                "{} batch {base}: one producer per codec",
                t.name
            );
            assert_eq!(b.producer_epoch(), 0);
            let seq = next_seq.entry(pid).or_insert(0);
            assert_eq!(b.base_sequence(), *seq, "{} batch {base}: sequence", t.name);
            *seq += b.record_count();
            assert_eq!(b.partition_leader_epoch(), 0);
            assert!(!b.is_transactional() && !b.is_control());
            let want_type = if t.append_time {
                "LogAppendTime"
            } else {
                "CreateTime"
            };
            assert_eq!(
                ts_type_name(b.timestamp_type()),
                want_type,
                "{} batch {base}",
                t.name
            );
            last_batch_of_pid.insert(
                pid,
                (
                    b.last_sequence(),
                    last,
                    b.last_offset_delta(),
                    b.max_timestamp(),
                ),
            );
            let mut max_ts = i64::MIN;
            let mut n = 0u64;
            for r in b.records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED).unwrap() {
                let r = r.unwrap();
                let i = base + n;
                assert_eq!(r.offset as u64, i, "{}", t.name);
                let want_ts = match append_times {
                    Some(a) => a[i as usize],
                    None => BTopic::timestamp(i),
                };
                assert_eq!(r.timestamp, want_ts, "{} offset {i}: timestamp", t.name);
                max_ts = max_ts.max(r.timestamp);
                assert_eq!(
                    r.key.map(<[u8]>::to_vec),
                    BTopic::key(i),
                    "{} offset {i}: key",
                    t.name
                );
                assert!(
                    r.value.map(<[u8]>::to_vec) == t.value(i),
                    "{} offset {i}: value",
                    t.name
                );
                let headers: Vec<(Vec<u8>, Option<Vec<u8>>)> = r
                    .headers
                    .iter()
                    .map(|h| (h.key.to_vec(), h.value.map(<[u8]>::to_vec)))
                    .collect();
                assert_eq!(
                    headers,
                    BTopic::headers(i),
                    "{} offset {i}: headers",
                    t.name
                );
                n += 1;
            }
            assert_eq!(
                n,
                u64::from(b.record_count() as u32),
                "{} batch {base}",
                t.name
            );
            assert_eq!(
                b.max_timestamp(),
                max_ts,
                "{} batch {base}: max timestamp",
                t.name
            );
            next = last + 1;
            n_batches += 1;
        }
        assert!(
            walk.remainder().is_empty(),
            "{}: partial batch in a read",
            t.name
        );
    }
    assert_eq!(next, t.records);
    assert_eq!(pid_of_codec.len(), 5, "{}: five producers", t.name);
    for (codec, in_segs) in &codecs_per_segment {
        assert!(
            in_segs.len() >= 2,
            "{}: {} only in segments {in_segs:?}",
            t.name,
            B_CODECS[*codec].name()
        );
    }
    // the producer state klog loaded from Kafka's snapshot is the last batch of each producer
    let state = log.producer_state().producers();
    assert_eq!(state.len(), 5, "{}: producers in Kafka's snapshot", t.name);
    for (pid, (last_seq, last_offset, delta, ts)) in &last_batch_of_pid {
        let e = &state[pid];
        let b = e.batches.back().expect("a batch");
        assert_eq!(
            (
                e.epoch,
                b.last_seq,
                b.last_offset,
                b.offset_delta,
                b.timestamp
            ),
            (0, *last_seq, *last_offset, *delta, *ts),
            "{} producer {pid}",
            t.name
        );
    }

    // offsets by timestamp: klog's answers are GetOffsetShell's (Kafka's ListOffsets)
    let (mut compared, mut distinct, mut none) = (0, BTreeSet::new(), 0);
    for time in &client.times {
        let which = ListOffsetsTimestamp::from_wire(*time).expect("a ListOffsets timestamp");
        let klog = log
            .fetch_offset_by_timestamp(which)
            .unwrap()
            .map(|t| t.offset);
        let kafka = client.offsets.get(&(*time, t.name.to_string())).copied();
        assert_eq!(
            klog, kafka,
            "{}: offset for time {time}: klog {klog:?}, Kafka's GetOffsetShell {kafka:?}",
            t.name
        );
        match klog {
            Some(o) => {
                distinct.insert(o);
            }
            None => none += 1,
        }
        compared += 1;
    }
    drop(log);

    // klog rebuilds Kafka's indexes byte for byte: a copy of the partition without the
    // recovery point checkpoint makes klog re-validate every segment and rebuild its indexes
    let copy = TempDir::new("klog-kafka-b-rebuild");
    let copy_dir = copy.path().join(format!("{}-0", t.name));
    fs::create_dir_all(&copy_dir).unwrap();
    for (name, bytes) in orig {
        fs::write(copy_dir.join(name), bytes).unwrap();
    }
    let (log2, report2) =
        Log::open(FsStorage::new(copy.path()).unwrap(), t.name, 0, cfg, B_BASE).unwrap();
    let all: Vec<u64> = segs.iter().map(|s| s.base).collect();
    assert_eq!(
        report2.recovered_segments, all,
        "{}: every segment re-validated",
        t.name
    );
    assert_eq!(
        (report2.truncated_bytes, report2.deleted_segments.len()),
        (0, 0),
        "{}: {report2:?}",
        t.name
    );
    assert_eq!(log2.log_end_offset(), t.records);
    drop(log2);
    for s in &segs {
        for ext in ["index", "timeindex"] {
            let name = format!("{:020}.{ext}", s.base);
            let rebuilt = copy_dir.join(&name);
            if s.base == last_base {
                assert_prefix_then_zeros(&rebuilt, &orig[&name]);
            } else {
                assert!(
                    read(&rebuilt) == orig[&name],
                    "{}: klog's rebuilt {name} differs from Kafka's",
                    t.name
                );
            }
        }
    }
    BPartition {
        segments: segs.len(),
        batches: n_batches,
        index_entries,
        lookups: format!(
            "{compared} timestamp lookups ({} distinct offsets, {none} without one)",
            distinct.len()
        ),
        pid_of_codec,
        next_seq,
    }
}

/// Records klog appends to Kafka's `klog-mixed` log (after the 6000 the broker took).
const B_MORE: u64 = 1500;

/// The `--time` values asked after klog appended: old and new records, and past the end.
fn b_more_times(t: &BTopic) -> Vec<i64> {
    let end = t.records + B_MORE;
    vec![
        -1,
        -2,
        -3,
        B_BASE + 8980,
        BTopic::timestamp(t.records) - 1,
        BTopic::timestamp(t.records) + 1,
        BTopic::timestamp(t.records + 500),
        BTopic::timestamp(t.records + 1000) + 2,
        BTopic::timestamp(end - 1),
        BTopic::timestamp(end - 1) + 1,
    ]
}

/// klog continues the log Kafka wrote: a resend of Kafka's last batch is recognised as a
/// duplicate from the producer state in Kafka's snapshot, then [`B_MORE`] records follow from
/// the same five producer ids, continuing their sequences, over a segment roll; the log is
/// closed cleanly. Returns klog's offsets for [`b_more_times`] and the segments it created.
fn b_continue(t: &BTopic, root: &Path, seen: &BPartition) -> (BTreeMap<i64, Option<u64>>, usize) {
    let dir = root.join(format!("{}-0", t.name));
    let before = segments_in(&dir).len();
    let (mut log, report) = Log::open(
        FsStorage::new(root).unwrap(),
        t.name,
        0,
        b_config(t),
        B_BASE,
    )
    .unwrap();
    assert_eq!(report.truncated_bytes, 0, "{}: {report:?}", t.name);
    assert_eq!(log.log_end_offset(), t.records);

    // Kafka's last batch, sent again by its producer: a duplicate, answered with its offsets
    let last_seg = segments_in(&dir).pop().unwrap();
    let data = read(&last_seg.log);
    let last = file_batches(&last_seg.log, &data).pop().unwrap();
    let mut resend = last.as_bytes().to_vec();
    let info = log
        .append(&mut resend, B_BASE + 3 * t.records as i64)
        .unwrap();
    assert!(
        info.duplicate,
        "{}: Kafka's last batch again: {info:?}",
        t.name
    );
    assert_eq!(
        (info.first_offset, info.last_offset),
        (last.base_offset() as u64, last.last_offset() as u64)
    );
    assert_eq!(
        log.log_end_offset(),
        t.records,
        "{}: the duplicate was written",
        t.name
    );

    let mut next_seq = seen.next_seq.clone();
    let mut i = t.records;
    let mut k = 0usize;
    while i < t.records + B_MORE {
        let codec = k % 5;
        let pid = seen.pid_of_codec[&codec];
        let seq = next_seq[&pid];
        let mut b = BatchBuilder::new(BatchConfig {
            compression: B_CODECS[codec],
            producer_id: pid,
            producer_epoch: 0,
            base_sequence: seq,
            write_limit: 1 << 20,
            ..BatchConfig::default()
        });
        let end = (i + 20).min(t.records + B_MORE);
        for j in i..end {
            let (key, value, headers) = (BTopic::key(j), t.value(j), BTopic::headers(j));
            b.try_append_with(
                BTopic::timestamp(j),
                key.as_deref(),
                value.as_deref(),
                headers.iter().map(|(k, v)| (k.as_slice(), v.as_deref())),
            )
            .unwrap();
        }
        let mut bytes = b.finish().unwrap();
        let info = log
            .append(&mut bytes, BTopic::timestamp(end) + 1000)
            .unwrap();
        assert!(!info.duplicate);
        assert_eq!(
            (info.first_offset, info.last_offset),
            (i, end - 1),
            "{}",
            t.name
        );
        next_seq.insert(pid, seq + (end - i) as i32);
        i = end;
        k += 1;
    }
    let answers = b_more_times(t)
        .into_iter()
        .map(|time| {
            let which = ListOffsetsTimestamp::from_wire(time).unwrap();
            (
                time,
                log.fetch_offset_by_timestamp(which)
                    .unwrap()
                    .map(|t| t.offset),
            )
        })
        .collect();
    log.close(BTopic::timestamp(i) + 2000).unwrap();
    let after = segments_in(&dir).len();
    assert!(
        after > before,
        "{}: klog's appends did not roll a segment",
        t.name
    );
    (answers, after - before)
}

/// `kpp dump` (the `kpp` binary of this package) on one of
/// Kafka's segments and its indexes.
fn b_klog_dump(seg: &SegmentFiles) -> usize {
    let out = Command::new(env!("CARGO_BIN_EXE_kpp"))
        .args(["dump", "--deep-iteration"])
        .args([&seg.log, &seg.index, &seg.timeindex])
        .output()
        .expect("run kpp dump");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kpp dump failed: {}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let data = read(&seg.log);
    let batches = file_batches(&seg.log, &data);
    let records: i64 = batches.iter().map(|b| i64::from(b.record_count())).sum();
    let sections = dump_sections(&stdout);
    let log_lines = &sections[&seg.log];
    assert_eq!(log_lines[0], format!("Log starting offset: {}", seg.base));
    let batch_lines: Vec<&String> = log_lines
        .iter()
        .filter(|l| l.starts_with("baseOffset: "))
        .collect();
    assert_eq!(
        batch_lines.len(),
        batches.len(),
        "kpp dump: batches of {}",
        seg.log.display()
    );
    for (line, b) in batch_lines.iter().zip(&batches) {
        let m = pairs(line);
        assert_eq!(num(&m, "baseOffset"), b.base_offset());
        assert_eq!(num(&m, "position"), b.position() as i64);
        assert_eq!(num(&m, "crc"), i64::from(b.crc()));
        assert_eq!(field(&m, "isvalid"), "true");
    }
    let record_lines = log_lines
        .iter()
        .filter(|l| l.starts_with("| offset: "))
        .count();
    assert_eq!(
        record_lines as i64,
        records,
        "kpp dump: records of {}",
        seg.log.display()
    );
    assert_eq!(
        log_lines.len(),
        1 + batches.len() + record_lines,
        "kpp dump: other lines"
    );
    let idx = &sections[&seg.index];
    assert_eq!(
        idx.len(),
        read(&seg.index).len() / 8,
        "kpp dump: {}",
        seg.index.display()
    );
    let tidx = &sections[&seg.timeindex];
    assert_eq!(
        tidx.len(),
        read(&seg.timeindex).len() / 12,
        "kpp dump: {}",
        seg.timeindex.display()
    );
    batches.len()
}

#[test]
fn klog_reads_what_a_kafka_broker_writes() {
    let install = KafkaInstall::locate();
    let tmp = TempDir::new("klog-kafka-b");
    let mut broker = Broker::start(&install, tmp.path(), &[], Duration::from_secs(90));
    let started_in = broker.started_in;

    // GetOffsetShell --time values: the specials, and timestamps before, at, between and after
    // the CreateTime records (some fall on records whose timestamps go backwards); the client
    // adds the broker's append times of the LogAppendTime topic
    let times: Vec<i64> = vec![
        -1,
        -2,
        -3,
        B_BASE - 1000,
        B_BASE - 29,
        B_BASE,
        B_BASE + 10,
        B_BASE + 150,
        B_BASE + 151,
        B_BASE + 4205,
        B_BASE + 6000,
        B_BASE + 8980,
        B_BASE + 12_606,
        B_BASE + 17_997,
        B_BASE + 17_998,
        B_BASE + 1_000_000_000,
    ];
    let times_arg = times
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut args = vec![
        "produce".to_string(),
        broker.bootstrap(),
        B_BASE.to_string(),
        times_arg,
    ];
    args.extend(B_TOPICS.iter().map(BTopic::spec));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let client = run_java(
        &install.client_classpath(),
        tmp.path(),
        "KlogKafkaClient",
        &args,
        Duration::from_secs(180),
    )
    .expect_success("KlogKafkaClient (TopicCommand, producers, GetOffsetShell)");
    let report = parse_client(&client.stdout);
    for t in &B_TOPICS {
        assert!(
            report.created.contains(t.name),
            "TopicCommand did not create {}",
            t.name
        );
        assert_eq!(
            report.produced.get(t.name),
            Some(&t.records),
            "{} produced",
            t.name
        );
    }
    assert_eq!(
        report.times.len(),
        times.len() + 5,
        "GetOffsetShell answered for every time"
    );

    let stop = broker.stop(Duration::from_secs(60));
    // the JVM exits with 128 + SIGTERM after running Kafka's shutdown hook
    assert!(
        stop.status.success() || stop.status.code() == Some(143),
        "broker exit status {}",
        stop.status
    );
    assert!(
        stop.clean_shutdown,
        "no .kafka_cleanshutdown in {}",
        broker.log_dir.display()
    );
    let broker_log = broker.log_text();
    let errors: Vec<&str> = broker_log
        .lines()
        .filter(|l| l.contains(" ERROR "))
        .collect();
    assert!(
        errors.is_empty(),
        "broker logged errors:\n{}",
        errors.join("\n")
    );

    let root = broker.log_dir.clone();
    // Kafka's own files around the partitions, which klog must leave alone
    for f in [
        ".kafka_cleanshutdown",
        "meta.properties",
        "recovery-point-offset-checkpoint",
        "__cluster_metadata-0",
    ] {
        assert!(root.join(f).exists(), "Kafka wrote no {f}");
    }
    let originals: Vec<BTreeMap<String, Vec<u8>>> = B_TOPICS
        .iter()
        .map(|t| snapshot_dir(&root.join(format!("{}-0", t.name))))
        .collect();
    for (t, orig) in B_TOPICS.iter().zip(&originals) {
        for f in ["leader-epoch-checkpoint", "partition.metadata"] {
            assert!(orig.contains_key(f), "{}: Kafka wrote no {f}", t.name);
        }
    }

    let dump_seg = segments_in(&root.join(format!("{}-0", B_TOPICS[0].name)))[0].clone();
    let dumped_batches = b_klog_dump(&dump_seg);

    let mut summary = Vec::new();
    let mut seen = Vec::new();
    for (t, orig) in B_TOPICS.iter().zip(&originals) {
        let p = b_check_partition(t, &root, &report, orig);
        summary.push(format!(
            "{}: {} segments, {} batches, {} records, {} index entries, {}",
            t.name, p.segments, p.batches, t.records, p.index_entries, p.lookups
        ));
        seen.push(p);
    }
    // klog left Kafka's other files in place
    for f in [
        ".kafka_cleanshutdown",
        "meta.properties",
        "__cluster_metadata-0",
    ] {
        assert!(
            root.join(f).exists(),
            "{f} gone after klog opened the log dir"
        );
    }

    // Both ways on the same files: klog appends to Kafka's log, then the broker, restarted on
    // it, serves every record (the consumer checks CRCs and content) and answers ListOffsets
    // as klog did
    let mixed = &B_TOPICS[0];
    let (klog_answers, new_segments) = b_continue(mixed, &root, &seen[0]);
    broker.restart(Duration::from_secs(90));
    let restarted_in = broker.started_in;
    let more_times = b_more_times(mixed);
    let times_arg = more_times
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let specs: Vec<String> = B_TOPICS
        .iter()
        .map(|t| {
            let mut s = t.spec();
            if t.name == mixed.name {
                s = s.replacen(
                    &format!(":{}:", t.records),
                    &format!(":{}:", t.records + B_MORE),
                    1,
                );
            }
            s
        })
        .collect();
    let bootstrap = broker.bootstrap();
    let base = B_BASE.to_string();
    let mut args = vec![
        "consume",
        bootstrap.as_str(),
        base.as_str(),
        times_arg.as_str(),
    ];
    args.extend(specs.iter().map(String::as_str));
    let consumed = run_java(
        &install.client_classpath(),
        tmp.path(),
        "KlogKafkaClient",
        &args,
        Duration::from_secs(180),
    )
    .expect_success("KlogKafkaClient consume");
    let again = parse_client(&consumed.stdout);
    let stop2 = broker.stop(Duration::from_secs(60));
    assert!(stop2.clean_shutdown, "second stop was not clean");
    let restart_log = broker.log_text();
    let complaints: Vec<&str> = restart_log
        .lines()
        .filter(|l| {
            let lower = l.to_lowercase();
            l.contains(" ERROR ")
                || (B_TOPICS
                    .iter()
                    .any(|t| l.contains(&format!("{}-0", t.name)))
                    && (l.contains(" WARN ")
                        || lower.contains("corrupt")
                        || lower.contains("rebuilding index")
                        || lower.contains("recovering")
                        || lower.contains("could not find")))
        })
        .collect();
    assert!(
        complaints.is_empty(),
        "the broker complained about klog's files:\n{}",
        complaints.join("\n")
    );
    // Kafka loaded klog's segments as they are and its producer snapshot at the new end
    let mixed_dir = root.join(format!("{}-0", mixed.name));
    let loaded = format!("Completed load of Log(dir={}, ", mixed_dir.display());
    let line = restart_log
        .lines()
        .find(|l| l.contains(&loaded))
        .unwrap_or_else(|| panic!("no `{loaded}` in the broker log"));
    let end = mixed.records + B_MORE;
    let segments_now = segments_in(&mixed_dir).len();
    assert!(
        line.contains(&format!("logEndOffset={end}) with {segments_now} segments")),
        "{line}"
    );
    let snapshot =
        format!("Loading producer state from snapshot file 'SnapshotFile(offset={end}, ");
    assert!(
        restart_log
            .lines()
            .any(|l| l.contains(&snapshot) && l.contains(mixed.name)),
        "Kafka did not load klog's producer snapshot at {end}"
    );
    assert_eq!(
        again.mismatches,
        Vec::<String>::new(),
        "records the broker served"
    );
    for t in &B_TOPICS {
        let want = if t.name == mixed.name {
            t.records + B_MORE
        } else {
            t.records
        };
        assert_eq!(
            again.consumed.get(t.name),
            Some(&want),
            "{}: records consumed",
            t.name
        );
    }
    for (time, klog) in &klog_answers {
        let kafka = again.offsets.get(&(*time, mixed.name.to_string())).copied();
        assert_eq!(
            *klog, kafka,
            "after klog's appends, time {time}: klog {klog:?}, Kafka {kafka:?}"
        );
    }
    assert_eq!(
        again.offsets.get(&(-1, B_TOPICS[1].name.to_string())),
        Some(&B_TOPICS[1].records)
    );

    println!(
        "B: broker ready in {:.1} s, client {:.1} s, stopped cleanly in {:.1} s; klog read {}; \
         kpp dump read {dumped_batches} batches of {}; klog appended {B_MORE} records ({new_segments} new \
         segment(s)) to {} and the restarted broker (ready in {:.1} s) served all {} records of all {} \
         topics and agreed on {} timestamp lookups",
        started_in.as_secs_f64(),
        client.elapsed.as_secs_f64(),
        stop.elapsed.as_secs_f64(),
        summary.join("; "),
        dump_seg.log.display(),
        mixed.name,
        restarted_in.as_secs_f64(),
        again.consumed.values().sum::<u64>(),
        again.consumed.len(),
        klog_answers.len()
    );
}
