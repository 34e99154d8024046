//! `kpp dump [--deep-iteration] [--print-data-log] [--skip-record-metadata]
//! [--verify-index-only] [--files F1,F2,...] [FILE...]`: prints the files of a partition
//! directory as Kafka 4.4.0's `kafka-dump-log.sh` (`org.apache.kafka.tools.DumpLogSegments`)
//! does, line for line on stdout:
//!
//! - `.log`: `Log starting offset: N`, one line per batch, and with `--deep-iteration` (implied by
//!   `--print-data-log`) one `| offset: ...` line per record: control records end with
//!   `endTxnMarker: COMMIT|ABORT coordinatorEpoch: N`, data records with `--print-data-log` with
//!   ` key: K` (unless null) and ` payload: V` (unless null), decoded as UTF-8;
//! - `.index`: `offset: O position: P` per entry (`F is empty.` without entries), each checked
//!   against the batch at that position in the segment's `.log`;
//! - `.timeindex`: `timestamp: T offset: O` per entry, each checked against the `.log`;
//! - `.txnindex`: `version: 0 producerId: .. firstOffset: .. lastOffset: .. lastStableOffset: ..`;
//! - producer `.snapshot`: one line per producer entry (`producerId: .. producerEpoch: ..
//!   coordinatorEpoch: .. currentTxnFirstOffset: .. lastTimestamp: .. firstSequence: ..`).
//!
//! The zero-filled tail of a preallocated index ends its dump, as in Kafka. What Kafka reports on
//! stderr at the end (index entries that do not match the log, time index mismatches, offsets
//! that do not follow each other) is reported the same way, grouped per file in the order the
//! files were given (Kafka's order is a hash map's). Where Kafka would stop with an exception
//! (an unreadable batch, a corrupt snapshot, a missing `.log` for an index), klog says what is
//! wrong on stderr and goes on with the next file. KRaft control records (`__cluster_metadata`)
//! are printed as `controlType: NAME(id)` rather than Kafka's JSON, and `.checkpoint` files (KRaft
//! snapshots) are refused. Keys and payloads are decoded as UTF-8 with U+FFFD for invalid bytes,
//! like Java's `new String(bytes, UTF_8)`; what Kafka's JVM then prints depends on its stdout
//! encoding (`?` for anything non-ASCII under a POSIX locale). The exit status is 1 when a file
//! could not be read or holds an invalid batch, a mismatching index entry or trailing bytes; 2
//! for bad usage.

use klog::index::txn::{self, ABORTED_TXN_SIZE};
use klog::producer_state::ProducerStateManager;
use kproto::records::control::ControlRecordType;
use kproto::records::{BatchView, Batches, TimestampType, DEFAULT_MAX_UNCOMPRESSED};
use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// DumpLogSegments' `--max-message-size` default: how far past an index entry's position the
/// batch it points at may end.
const MAX_MESSAGE_SIZE: usize = 5 * 1024 * 1024;

/// A producer snapshot's header: version (int16), CRC-32C (uint32), entry count (int32).
const SNAPSHOT_HEADER_SIZE: usize = 10;

/// A producer snapshot entry: producer id (int64) first, 46 bytes in all.
const SNAPSHOT_ENTRY_SIZE: usize = 46;

/// Options, as `kafka-dump-log.sh` names them.
struct Opts {
    deep: bool,
    print_data: bool,
    skip_metadata: bool,
    verify_only: bool,
    files: Vec<String>,
}

/// What Kafka prints on stderr after all files: per file (absolute path), in the order found.
#[derive(Default)]
struct Problems {
    /// `.index` entries whose offset is not the last offset of the batch at their position:
    /// (index offset, log offset), printed highest index offset first (Kafka's reverse TreeMap).
    index_mismatches: Vec<(String, BTreeMap<i64, i64>)>,
    /// `.timeindex` entries whose timestamp is not the max timestamp of their batch.
    time_mismatches: Vec<(String, Vec<(i64, i64)>)>,
    /// `.timeindex` entries whose timestamp does not increase.
    time_out_of_order: Vec<(String, Vec<(i64, i64)>)>,
    /// `.timeindex` entries whose offset is not a batch's last offset: (indexed, found or -1).
    time_not_found: Vec<(String, Vec<(i64, i64)>)>,
    /// Records whose offset does not follow the previous record's (starting from -1), ascending.
    non_consecutive: Vec<(String, BTreeMap<i64, i64>)>,
    /// A file could not be read, or holds something invalid.
    failed: bool,
}

/// Kafka's `File.getAbsolutePath()` (no normalisation, no symlinks resolved).
fn absolute(path: &str) -> String {
    std::path::absolute(path)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_string())
}

/// Kafka's offset-from-file-name: the name up to its first `.`, as a long.
fn base_of(path: &str) -> Option<i64> {
    let name = Path::new(path).file_name()?.to_str()?;
    name.split('.').next()?.parse().ok()
}

/// The file next to `path` with the same base name and another suffix (`.log`, `.index`).
fn sibling(path: &str, suffix: &str) -> PathBuf {
    let p = Path::new(path);
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = name.split('.').next().unwrap_or("");
    p.with_file_name(format!("{stem}{suffix}"))
}

fn be_i32(b: &[u8]) -> i32 {
    i32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn be_i64(b: &[u8]) -> i64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[..8]);
    i64::from_be_bytes(x)
}

fn ts_type_name(t: TimestampType) -> &'static str {
    match t {
        TimestampType::CreateTime => "CreateTime",
        TimestampType::LogAppendTime => "LogAppendTime",
    }
}

/// Kafka's `DefaultRecordBatch.incrementSequence` (sequences wrap to 0 after `i32::MAX`).
fn increment_sequence(seq: i32, by: i32) -> i32 {
    if seq > i32::MAX.wrapping_sub(by) {
        by.wrapping_sub(i32::MAX.wrapping_sub(seq)).wrapping_sub(1)
    } else {
        seq.wrapping_add(by)
    }
}

/// Kafka's `ControlRecordType` enum names.
fn control_type_name(t: ControlRecordType) -> &'static str {
    match t {
        ControlRecordType::Abort => "ABORT",
        ControlRecordType::Commit => "COMMIT",
        ControlRecordType::LeaderChange => "LEADER_CHANGE",
        ControlRecordType::SnapshotHeader => "SNAPSHOT_HEADER",
        ControlRecordType::SnapshotFooter => "SNAPSHOT_FOOTER",
        ControlRecordType::KraftVersion => "KRAFT_VERSION",
        ControlRecordType::KraftVoters => "KRAFT_VOTERS",
        ControlRecordType::Unknown(_) => "UNKNOWN",
    }
}

/// What a control record says after its metadata (Kafka's `printControlRecord`), or why it
/// cannot be read (Kafka's `ControlRecordType.parseTypeId` and `EndTransactionMarker`).
fn control_record_text(key: Option<&[u8]>, value: Option<&[u8]>) -> Result<String, String> {
    let key = key.ok_or("a control record without a key")?;
    if key.len() < 4 {
        return Err(format!(
            "a control record key of {} bytes (at least 4)",
            key.len()
        ));
    }
    let version = i16::from_be_bytes([key[0], key[1]]);
    if version < 0 {
        return Err(format!("invalid control record key version {version}"));
    }
    let id = i16::from_be_bytes([key[2], key[3]]);
    let kind = ControlRecordType::from_id(id);
    match kind {
        ControlRecordType::Abort | ControlRecordType::Commit => {
            let v = value.ok_or("an end transaction marker without a value")?;
            if v.len() < 6 {
                return Err(format!(
                    "an end transaction marker of {} bytes (at least 6)",
                    v.len()
                ));
            }
            let mversion = i16::from_be_bytes([v[0], v[1]]);
            if mversion < 0 {
                return Err(format!("invalid end transaction marker version {mversion}"));
            }
            Ok(format!(
                " endTxnMarker: {} coordinatorEpoch: {}",
                control_type_name(kind),
                be_i32(&v[2..6])
            ))
        }
        other => Ok(format!(" controlType: {}({id})", control_type_name(other))),
    }
}

/// The batch line (Kafka's `printBatchLevel`, magic 2).
fn batch_line(b: &BatchView<&[u8]>, position: usize) -> String {
    let attrs = b.attributes();
    let delete_horizon = if attrs.has_delete_horizon() {
        format!("OptionalLong[{}]", b.base_timestamp())
    } else {
        "OptionalLong.empty".to_string()
    };
    let codec = b.compression().map(|c| c.name()).unwrap_or("unknown");
    format!(
        "baseOffset: {} lastOffset: {} count: {} baseSequence: {} lastSequence: {} producerId: {} \
         producerEpoch: {} partitionLeaderEpoch: {} isTransactional: {} isControl: {} \
         deleteHorizonMs: {delete_horizon} position: {position} {}: {} size: {} magic: 2 \
         compresscodec: {codec} crc: {} isvalid: {}",
        b.base_offset(),
        b.last_offset(),
        b.record_count(),
        b.base_sequence(),
        b.last_sequence(),
        b.producer_id(),
        b.producer_epoch(),
        b.partition_leader_epoch(),
        b.is_transactional(),
        b.is_control(),
        ts_type_name(b.timestamp_type()),
        b.max_timestamp(),
        b.size(),
        b.crc(),
        b.validate_crc().is_ok()
    )
}

fn dump_log(
    out: &mut impl Write,
    path: &str,
    data: &[u8],
    opts: &Opts,
    problems: &mut Problems,
) -> io::Result<()> {
    match base_of(path) {
        Some(base) => writeln!(out, "Log starting offset: {base}")?,
        None => {
            eprintln!("{path}: the file name does not start with an offset");
            problems.failed = true;
            return Ok(());
        }
    }
    let deep = opts.deep || opts.print_data;
    let mut last_offset = -1i64;
    let mut gaps: BTreeMap<i64, i64> = BTreeMap::new();
    let mut walk = Batches::new(data);
    let mut scratch = Vec::new();
    let mut valid_bytes = 0usize;
    let mut broken = false;
    for item in walk.by_ref() {
        let b = match item {
            Ok(b) => b,
            Err(e) => {
                out.flush()?;
                eprintln!("{path}: invalid batch at byte {valid_bytes}: {e}");
                problems.failed = true;
                broken = true;
                break;
            }
        };
        problems.failed |= b.validate().is_err();
        writeln!(out, "{}", batch_line(&b, valid_bytes))?;
        valid_bytes += b.size();
        if !deep {
            continue;
        }
        let ts_type = ts_type_name(b.timestamp_type());
        let records = match b.records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED) {
            Ok(r) => r,
            Err(e) => {
                out.flush()?;
                eprintln!("{path}: batch at byte {}: {e}", b.position());
                problems.failed = true;
                continue;
            }
        };
        for r in records {
            let r = match r {
                Ok(r) => r,
                Err(e) => {
                    out.flush()?;
                    eprintln!("{path}: batch at byte {}: {e}", b.position());
                    problems.failed = true;
                    break;
                }
            };
            if last_offset != r.offset.wrapping_sub(1) {
                gaps.insert(last_offset, r.offset);
            }
            last_offset = r.offset;
            let mut line = String::new();
            if !opts.skip_metadata {
                let seq = if b.base_sequence() < 0 {
                    -1
                } else {
                    increment_sequence(b.base_sequence(), r.offset_delta)
                };
                let keys: Vec<String> = r
                    .headers
                    .iter()
                    .map(|h| String::from_utf8_lossy(h.key).into_owned())
                    .collect();
                line = format!(
                    "| offset: {} {ts_type}: {} keySize: {} valueSize: {} sequence: {seq} headerKeys: [{}]",
                    r.offset,
                    r.timestamp,
                    r.key.map_or(-1, |k| k.len() as i64),
                    r.value.map_or(-1, |v| v.len() as i64),
                    keys.join(",")
                );
                if b.is_control() {
                    match control_record_text(r.key, r.value) {
                        Ok(text) => line.push_str(&text),
                        Err(e) => {
                            out.flush()?;
                            eprintln!("{path}: record at offset {}: {e}", r.offset);
                            problems.failed = true;
                        }
                    }
                }
            }
            if opts.print_data && !b.is_control() {
                let mut prefix = if opts.skip_metadata { "| " } else { " " };
                if let Some(k) = r.key {
                    line.push_str(prefix);
                    line.push_str("key: ");
                    line.push_str(&String::from_utf8_lossy(k));
                    prefix = " ";
                }
                if let Some(v) = r.value {
                    line.push_str(prefix);
                    line.push_str("payload: ");
                    line.push_str(&String::from_utf8_lossy(v));
                }
            }
            writeln!(out, "{line}")?;
        }
    }
    let trailing = data.len() - walk.position().min(data.len());
    if trailing > 0 && !broken {
        let name = Path::new(path)
            .file_name()
            .map_or_else(|| path.into(), |n| n.to_string_lossy());
        writeln!(out, "Found {trailing} invalid bytes at the end of {name}")?;
        problems.failed = true;
    }
    if !gaps.is_empty() {
        problems.non_consecutive.push((absolute(path), gaps));
    }
    Ok(())
}

/// Reads the `.log` an index belongs to; `None` (reported) when it cannot be read.
fn segment_log(path: &str, problems: &mut Problems) -> Option<Vec<u8>> {
    let log = sibling(path, ".log");
    match std::fs::read(&log) {
        Ok(d) => Some(d),
        Err(e) => {
            eprintln!("{path}: cannot read its segment {}: {e}", log.display());
            problems.failed = true;
            None
        }
    }
}

/// The batch starting at `position` of a `.log`'s bytes, if one does within `limit` bytes.
fn batch_at(log: &[u8], position: usize, limit: usize) -> Option<BatchView<&[u8]>> {
    let end = log.len().min(position.saturating_add(limit));
    Batches::new(log.get(position..end)?).next()?.ok()
}

/// `(absolute offset, position)` entries of an offset index (Kafka reads both as ints).
fn offset_entries(data: &[u8], base: i64) -> Vec<(i64, i32)> {
    data.chunks_exact(8)
        .map(|e| {
            (
                base.wrapping_add(i64::from(be_i32(&e[..4]))),
                be_i32(&e[4..]),
            )
        })
        .collect()
}

/// Kafka's `OffsetIndex.lookup`: the position of the entry with the largest offset at or below
/// `target` (its binary search over a warm and a cold section), or 0.
fn index_lookup(entries: &[(i64, i32)], target: i64) -> i32 {
    let n = entries.len();
    if n == 0 {
        return 0;
    }
    let search = |lo: usize, hi: usize| -> usize {
        let (mut lo, mut hi) = (lo, hi);
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            let found = entries[mid].0;
            if found > target {
                hi = mid - 1;
            } else if found < target {
                lo = mid;
            } else {
                return mid;
            }
        }
        lo
    };
    // AbstractIndex: the last 8192 bytes of entries are the warm section
    let warm = 8192 / 8;
    let first_hot = n.saturating_sub(1 + warm);
    let slot = if entries[first_hot].0 < target {
        Some(search(first_hot, n - 1))
    } else if entries[0].0 > target {
        None
    } else {
        Some(search(0, first_hot))
    };
    slot.map_or(0, |s| entries[s].1)
}

fn dump_index(
    out: &mut impl Write,
    path: &str,
    data: &[u8],
    opts: &Opts,
    problems: &mut Problems,
) -> io::Result<()> {
    let Some(base) = base_of(path) else {
        eprintln!("{path}: the file name does not start with an offset");
        problems.failed = true;
        return Ok(());
    };
    let Some(log) = segment_log(path, problems) else {
        return Ok(());
    };
    let entries = offset_entries(data, base);
    if entries.is_empty() {
        writeln!(out, "{path} is empty.")?;
        return Ok(());
    }
    let mut mismatches = BTreeMap::new();
    for (i, &(offset, position)) in entries.iter().enumerate() {
        // the zero-filled tail of a preallocated index
        if offset == base && i > 0 {
            break;
        }
        let at = usize::try_from(position).ok();
        match at.and_then(|p| batch_at(&log, p, MAX_MESSAGE_SIZE)) {
            Some(b) if b.last_offset() == offset => {}
            Some(b) => {
                mismatches.insert(offset, b.last_offset());
            }
            None => {
                out.flush()?;
                eprintln!("{path}: entry {i} (offset {offset}) points at position {position}, where no batch starts");
                problems.failed = true;
            }
        }
        if !opts.verify_only {
            writeln!(out, "offset: {offset} position: {position}")?;
        }
    }
    if !mismatches.is_empty() {
        problems.failed = true;
        problems.index_mismatches.push((absolute(path), mismatches));
    }
    Ok(())
}

fn dump_time_index(
    out: &mut impl Write,
    path: &str,
    data: &[u8],
    opts: &Opts,
    problems: &mut Problems,
) -> io::Result<()> {
    let Some(base) = base_of(path) else {
        eprintln!("{path}: the file name does not start with an offset");
        problems.failed = true;
        return Ok(());
    };
    let Some(log) = segment_log(path, problems) else {
        return Ok(());
    };
    let index_path = sibling(path, ".index");
    let index = match std::fs::read(&index_path) {
        Ok(d) => offset_entries(&d, base),
        Err(e) => {
            eprintln!("{path}: cannot read {}: {e}", index_path.display());
            problems.failed = true;
            return Ok(());
        }
    };
    let (mut mismatch, mut out_of_order, mut not_found) = (Vec::new(), Vec::new(), Vec::new());
    let mut prev = -1i64;
    let mut scratch = Vec::new();
    for (i, e) in data.chunks_exact(12).enumerate() {
        let ts = be_i64(&e[..8]);
        let offset = base.wrapping_add(i64::from(be_i32(&e[8..])));
        if offset == base && i > 0 {
            break;
        }
        let position = usize::try_from(index_lookup(&index, offset)).unwrap_or(usize::MAX);
        let found = log.get(position..).and_then(|rest| {
            Batches::new(rest)
                .map_while(Result::ok)
                .find(|b| b.last_offset() >= offset)
        });
        match found {
            None => not_found.push((offset, -1)),
            Some(b) if b.last_offset() != offset => not_found.push((offset, b.last_offset())),
            Some(b) => {
                let mut max = -1i64;
                match b.records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED) {
                    Ok(recs) => {
                        for r in recs {
                            match r {
                                Ok(r) => max = max.max(r.timestamp),
                                Err(err) => {
                                    eprintln!("{path}: batch of offset {offset}: {err}");
                                    problems.failed = true;
                                    break;
                                }
                            }
                        }
                    }
                    Err(err) => {
                        eprintln!("{path}: batch of offset {offset}: {err}");
                        problems.failed = true;
                    }
                }
                if max != ts {
                    mismatch.push((ts, max));
                }
                if prev >= ts {
                    out_of_order.push((ts, prev));
                }
            }
        }
        if !opts.verify_only {
            writeln!(out, "timestamp: {ts} offset: {offset}")?;
        }
        prev = ts;
    }
    let abs = absolute(path);
    for (list, v) in [
        (&mut problems.time_mismatches, mismatch),
        (&mut problems.time_out_of_order, out_of_order),
        (&mut problems.time_not_found, not_found),
    ] {
        if !v.is_empty() {
            problems.failed = true;
            list.push((abs.clone(), v));
        }
    }
    Ok(())
}

fn dump_txn_index(
    out: &mut impl Write,
    path: &str,
    data: &[u8],
    problems: &mut Problems,
) -> io::Result<()> {
    // Kafka's reader stops silently before a partial trailing entry; klog says so too
    let whole = data.len() - data.len() % ABORTED_TXN_SIZE;
    match txn::parse(&data[..whole]) {
        Ok(entries) => {
            for t in entries {
                writeln!(
                    out,
                    "version: 0 producerId: {} firstOffset: {} lastOffset: {} lastStableOffset: {}",
                    t.producer_id, t.first_offset, t.last_offset, t.last_stable_offset
                )?;
            }
        }
        Err(e) => {
            eprintln!("{path}: {e}");
            problems.failed = true;
        }
    }
    if whole != data.len() {
        out.flush()?;
        eprintln!(
            "{path}: {} bytes of a partial entry at byte {whole}",
            data.len() - whole
        );
        problems.failed = true;
    }
    Ok(())
}

fn dump_snapshot(
    out: &mut impl Write,
    path: &str,
    data: &[u8],
    problems: &mut Problems,
) -> io::Result<()> {
    let Some(offset) = base_of(path).and_then(|o| u64::try_from(o).ok()) else {
        eprintln!("{path}: the file name does not start with an offset");
        problems.failed = true;
        return Ok(());
    };
    let state = match ProducerStateManager::decode_snapshot(path, offset, data) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            problems.failed = true;
            return Ok(());
        }
    };
    // Kafka prints the entries in file order (its writer's hash-map order), klog's state is by
    // producer id: take the order from the entries' first field (the file decoded, so whole)
    let order: Vec<i64> = data
        .get(SNAPSHOT_HEADER_SIZE..)
        .unwrap_or_default()
        .chunks_exact(SNAPSHOT_ENTRY_SIZE)
        .map(be_i64)
        .collect();
    for pid in order {
        let Some(e) = state.producers().get(&pid) else {
            continue;
        };
        let txn = match e.current_txn_first_offset {
            Some(o) => format!("OptionalLong[{o}]"),
            None => "OptionalLong.empty".to_string(),
        };
        write!(
            out,
            "producerId: {pid} producerEpoch: {} coordinatorEpoch: {} currentTxnFirstOffset: {txn} \
             lastTimestamp: {}",
            e.epoch,
            e.coordinator_epoch,
            e.last_timestamp()
        )?;
        if let Some(b) = e.batches.back() {
            write!(
                out,
                " firstSequence: {} lastSequence: {} lastOffset: {} offsetDelta: {} timestamp: {}",
                b.first_seq(),
                b.last_seq,
                b.last_offset,
                b.offset_delta,
                b.timestamp
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Prints what Kafka prints on stderr after the files.
fn report(problems: &Problems) {
    for (file, m) in &problems.index_mismatches {
        eprintln!("Mismatches in :{file}");
        for (index, log) in m.iter().rev() {
            eprintln!("  Index offset: {index}, log offset: {log}");
        }
    }
    for (file, v) in &problems.time_mismatches {
        eprintln!("Found timestamp mismatch in :{file}");
        for (index, log) in v {
            eprintln!("  Index timestamp: {index}, log timestamp: {log}");
        }
    }
    for (file, v) in &problems.time_out_of_order {
        eprintln!("Found out of order timestamp in :{file}");
        for (index, prev) in v {
            eprintln!("  Index timestamp: {index}, Previously indexed timestamp: {prev}");
        }
    }
    for (file, v) in &problems.time_not_found {
        eprintln!("The following indexed offsets are not found in :{file}");
        for (index, log) in v {
            eprintln!("Indexed offset: {index}, found log offset: {log}");
        }
    }
    for (file, m) in &problems.non_consecutive {
        eprintln!("Non-consecutive offsets in {file}");
        for (first, second) in m {
            eprintln!("  {first} is followed by {second}");
        }
    }
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: kpp dump [--deep-iteration] [--print-data-log] [--skip-record-metadata] \
         [--verify-index-only] [--files F1,F2,...] [FILE...]\n\
         (.log, .index, .timeindex, .txnindex and producer .snapshot files, as kafka-dump-log.sh)"
    );
    ExitCode::from(2)
}

fn parse_args(args: &[String]) -> Option<Opts> {
    let mut opts = Opts {
        deep: false,
        print_data: false,
        skip_metadata: false,
        verify_only: false,
        files: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--deep-iteration" => opts.deep = true,
            "--print-data-log" => opts.print_data = true,
            "--skip-record-metadata" => opts.skip_metadata = true,
            "--verify-index-only" => opts.verify_only = true,
            "--files" => opts.files.extend(
                it.next()?
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(String::from),
            ),
            f if f.starts_with("--") => {
                eprintln!("unknown option {f}");
                return None;
            }
            f => opts.files.push(f.to_string()),
        }
    }
    (!opts.files.is_empty()).then_some(opts)
}

/// `kpp dump ARGS...` (`args` without `dump`): prints the files, returns the exit status.
pub(crate) fn run(args: &[String]) -> ExitCode {
    let Some(opts) = parse_args(args) else {
        return usage();
    };
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let mut problems = Problems::default();
    let result = (|| -> io::Result<()> {
        for path in &opts.files {
            writeln!(out, "Dumping {path}")?;
            let name = Path::new(path)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("");
            let Some(dot) = name.rfind('.') else {
                out.flush()?;
                eprintln!("Ignoring unknown file {path}");
                continue;
            };
            let suffix = &name[dot..];
            if suffix == ".checkpoint" {
                // Kafka dumps KRaft snapshots (their control records as JSON); klog does not
                out.flush()?;
                eprintln!("{path}: kpp dump does not read KRaft snapshots (.checkpoint)");
                problems.failed = true;
                continue;
            }
            if ![".log", ".index", ".timeindex", ".txnindex", ".snapshot"].contains(&suffix) {
                out.flush()?;
                eprintln!("Ignoring unknown file {path}");
                continue;
            }
            let data = match std::fs::read(path) {
                Ok(d) => d,
                Err(e) => {
                    out.flush()?;
                    eprintln!("{path}: {e}");
                    problems.failed = true;
                    continue;
                }
            };
            match suffix {
                ".log" => dump_log(&mut out, path, &data, &opts, &mut problems)?,
                ".index" => dump_index(&mut out, path, &data, &opts, &mut problems)?,
                ".timeindex" => dump_time_index(&mut out, path, &data, &opts, &mut problems)?,
                ".txnindex" => dump_txn_index(&mut out, path, &data, &mut problems)?,
                _ => dump_snapshot(&mut out, path, &data, &mut problems)?,
            }
        }
        out.flush()
    })();
    if let Err(e) = result {
        eprintln!("kpp dump: writing the output: {e}");
        return ExitCode::FAILURE;
    }
    report(&problems);
    if problems.failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
