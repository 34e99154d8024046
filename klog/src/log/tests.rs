//! Log scenarios after Kafka's LogSegmentTest, UnifiedLogTest and LogLoaderTest.

use crate::config::{LogConfig, TimestampType};
use crate::index::TimestampOffset;
use crate::log::{AppendError, ListOffsetsTimestamp, Log, LogError};
use crate::names;
use crate::storage::{MemStorage, Storage};
use crate::testutil::{batch, batch_with, contents};
use alloc::vec::Vec;
use kproto::records::{BatchView, Batches};

fn cfg() -> LogConfig {
    LogConfig {
        segment_bytes: 4096,
        index_interval_bytes: 256,
        segment_index_bytes: 1024,
        ..LogConfig::default()
    }
}

fn open(st: &MemStorage, cfg: LogConfig) -> Log<MemStorage> {
    Log::open(st.clone(), "t", 0, cfg, 0).unwrap().0
}

#[test]
fn append_assigns_offsets_and_reads_back() {
    let st = MemStorage::new();
    let mut log = open(&st, cfg());
    for i in 0..5u8 {
        let info = log
            .append(&mut batch(3, 1000 + i64::from(i), 10, i), 2000)
            .unwrap();
        assert_eq!(
            (info.first_offset, info.last_offset),
            (u64::from(i) * 3, u64::from(i) * 3 + 2)
        );
        assert_eq!(info.log_append_time, -1);
        assert_eq!(info.max_timestamp, 1002 + i64::from(i));
    }
    assert_eq!(log.log_end_offset(), 15);
    let c = contents(&mut log);
    assert_eq!(c.len(), 5);
    assert_eq!(c[2].0, 6);
    // a read from the middle of a batch starts at that batch
    let data = log.read(7, 1).unwrap();
    let b = BatchView::new_checked(&data[..]).unwrap();
    assert_eq!((b.base_offset(), b.partition_leader_epoch()), (6, 0));
    assert!(log.read(15, 100).unwrap().is_empty());
    assert!(matches!(
        log.read(16, 100),
        Err(LogError::OffsetOutOfRange { .. })
    ));
    // max_bytes bounds the read to whole batches, at least one
    let one = log.read(0, 1).unwrap().len();
    let two = log.read(0, (one * 2) as u32).unwrap().len();
    assert_eq!(two, one * 2);
}

#[test]
fn roll_on_segment_bytes_names_and_trims() {
    let st = MemStorage::new();
    let mut log = open(&st, cfg());
    let size = batch(5, 0, 100, 0).len();
    for i in 0..20u8 {
        log.append(&mut batch(5, 0, 100, i), 0).unwrap();
    }
    let per_seg = 4096 / size;
    assert_eq!(log.segment_count(), 20usize.div_ceil(per_seg));
    let bases: Vec<u64> = log.segments().map(|s| s.base_offset()).collect();
    assert_eq!(bases[1], per_seg as u64 * 5);
    for s in log.segments() {
        assert!(s.size() <= 4096);
    }
    let paths = st.paths();
    assert!(paths.contains(&alloc::format!("t-0/{:020}.log", bases[1])));
    // inactive segments' indexes are trimmed to their entries, the active one preallocated
    let first = log.segments().next().unwrap();
    let idx_len = st
        .contents(&names::segment_file("t-0", 0, names::INDEX_SUFFIX))
        .unwrap()
        .len();
    assert_eq!(idx_len as u32, first.offset_index().entries() * 8);
    let tidx_len = st
        .contents(&names::segment_file("t-0", 0, names::TIME_INDEX_SUFFIX))
        .unwrap()
        .len();
    assert_eq!(tidx_len as u32, first.time_index().entries() * 12);
    let last = *bases.last().unwrap();
    assert_eq!(
        st.contents(&names::segment_file("t-0", last, names::INDEX_SUFFIX))
            .unwrap()
            .len(),
        1024
    );
    assert_eq!(contents(&mut log).len(), 20);
    // the roll flushed everything below the active segment
    assert_eq!(log.recovery_point(), last);
}

#[test]
fn roll_on_segment_ms_from_first_batch_timestamp() {
    let st = MemStorage::new();
    let mut log = open(
        &st,
        LogConfig {
            segment_ms: 100,
            ..cfg()
        },
    );
    log.append(&mut batch(1, 1000, 10, 0), 0).unwrap();
    log.append(&mut batch(1, 1100, 10, 1), 0).unwrap();
    assert_eq!(
        log.segment_count(),
        1,
        "100 ms waited is not more than segment.ms"
    );
    log.append(&mut batch(1, 1101, 10, 2), 0).unwrap();
    assert_eq!(log.segment_count(), 2);
    // a message with an old timestamp does not roll a young segment
    log.append(&mut batch(1, 5, 10, 3), 0).unwrap();
    assert_eq!(log.segment_count(), 2);
}

#[test]
fn roll_when_an_index_is_full() {
    let st = MemStorage::new();
    // 24 bytes: 3 offset index entries, 2 time index slots (1 usable before the roll entry)
    let mut log = open(
        &st,
        LogConfig {
            segment_index_bytes: 24,
            index_interval_bytes: 0,
            segment_bytes: 1 << 20,
            ..cfg()
        },
    );
    for i in 0..6u8 {
        log.append(&mut batch(1, 10 + i64::from(i), 10, i), 0)
            .unwrap();
    }
    assert!(
        log.segment_count() >= 3,
        "segments: {}",
        log.segment_count()
    );
    assert_eq!(contents(&mut log).len(), 6);
}

#[test]
fn roll_when_relative_offsets_would_overflow() {
    let mut st = MemStorage::new();
    let seg = crate::segment::LogSegment::create(&mut st, "t-0", 100, 4096, 1024, 0).unwrap();
    let mut p = crate::segment::RollParams {
        segment_bytes: 1 << 20,
        segment_ms: i64::MAX,
        jitter_ms: 0,
        messages_size: 10,
        max_timestamp: 0,
        max_offset: 100 + i32::MAX as u64,
        now_ms: 0,
    };
    assert!(!seg.should_roll(&p));
    p.max_offset += 1;
    assert!(seg.should_roll(&p));
    // segment.bytes: the append would not fit
    p.max_offset = 100;
    p.messages_size = (1 << 20) + 1;
    assert!(seg.should_roll(&p));
}

#[test]
fn index_entries_point_at_their_batches_and_lookups_work_between_them() {
    let st = MemStorage::new();
    let mut log = open(
        &st,
        LogConfig {
            segment_bytes: 1 << 20,
            ..cfg()
        },
    );
    for i in 0..40u8 {
        log.append(
            &mut batch(1 + usize::from(i % 4), 100 * i64::from(i), 50, i),
            0,
        )
        .unwrap();
    }
    let seg_entries: Vec<_> = {
        let s = log.segments().next().unwrap();
        (0..s.offset_index().entries())
            .map(|i| s.offset_index().entry(i))
            .collect()
    };
    assert!(seg_entries.len() > 5);
    let raw = st.contents("t-0/00000000000000000000.log").unwrap();
    for e in &seg_entries {
        let mut w = Batches::new(&raw[e.position as usize..]);
        let b = w.next().unwrap().unwrap();
        assert_eq!(
            b.last_offset() as u64,
            e.offset,
            "entry points at the batch ending at its offset"
        );
    }
    // every offset, at and between entries, reads from its own batch
    for o in 0..log.log_end_offset() {
        let data = log.read(o, 1).unwrap();
        let b = BatchView::new_checked(&data[..]).unwrap();
        assert!(b.base_offset() as u64 <= o && o <= b.last_offset() as u64);
    }
    // time lookups
    let hit = log
        .fetch_offset_by_timestamp(ListOffsetsTimestamp::At(1050))
        .unwrap()
        .unwrap();
    let data = log.read(hit.offset, 1).unwrap();
    let b = BatchView::new_checked(&data[..]).unwrap();
    assert_eq!(
        b.base_timestamp(),
        1100,
        "the first record at or after 1050"
    );
    assert_eq!(hit.timestamp, 1100);
    assert_eq!(
        log.fetch_offset_by_timestamp(ListOffsetsTimestamp::At(100_000))
            .unwrap(),
        None
    );
    let latest = log
        .fetch_offset_by_timestamp(ListOffsetsTimestamp::Latest)
        .unwrap()
        .unwrap();
    assert_eq!(latest.offset, log.log_end_offset());
    let earliest = log
        .fetch_offset_by_timestamp(ListOffsetsTimestamp::Earliest)
        .unwrap()
        .unwrap();
    assert_eq!(
        earliest,
        TimestampOffset {
            timestamp: -1,
            offset: 0
        }
    );
    let max = log
        .fetch_offset_by_timestamp(ListOffsetsTimestamp::MaxTimestamp)
        .unwrap()
        .unwrap();
    assert_eq!(max.timestamp, 3900 + 3);
    assert_eq!(max.offset, log.log_end_offset() - 1);
    assert_eq!(ListOffsetsTimestamp::from_wire(-5), None);
}

#[test]
fn log_append_time_is_stamped_and_crc_refreshed() {
    let st = MemStorage::new();
    let mut log = open(
        &st,
        LogConfig {
            message_timestamp_type: TimestampType::LogAppendTime,
            ..cfg()
        },
    );
    let info = log.append(&mut batch(3, 5, 10, 0), 77_000).unwrap();
    assert_eq!(info.log_append_time, 77_000);
    let data = log.read(0, 1000).unwrap();
    let b = BatchView::new_checked(&data[..]).unwrap();
    b.validate().unwrap();
    assert_eq!(b.max_timestamp(), 77_000);
    assert_eq!(
        b.timestamp_type(),
        kproto::records::TimestampType::LogAppendTime
    );
}

#[test]
fn invalid_batches_are_refused_with_kafkas_error_codes() {
    let st = MemStorage::new();
    let mut log = open(&st, cfg());
    let mut bad = batch(2, 0, 10, 0);
    let n = bad.len();
    bad[n - 1] ^= 1;
    let e = log.append(&mut bad, 0).unwrap_err();
    assert_eq!(e.error_code(), kproto::ErrorCode::CorruptMessage, "{e}");
    let mut big = batch(1, 0, 2_000_000, 0);
    assert_eq!(
        log.append(&mut big, 0).unwrap_err().error_code(),
        kproto::ErrorCode::MessageTooLarge
    );
    let mut future = batch(1, 10_000_000, 10, 0);
    let e = log.append(&mut future, 0).unwrap_err();
    assert!(matches!(e, AppendError::InvalidTimestamp { .. }), "{e}");
    assert_eq!(e.error_code(), kproto::ErrorCode::InvalidTimestamp);
    let mut partial = batch(1, 0, 10, 0);
    partial.extend_from_slice(&batch(1, 0, 10, 0)[..30]);
    assert_eq!(
        log.append(&mut partial, 0).unwrap_err().error_code(),
        kproto::ErrorCode::CorruptMessage
    );
    assert_eq!(
        log.append(&mut [], 0).unwrap_err().error_code(),
        kproto::ErrorCode::InvalidRecord
    );
    assert_eq!(log.log_end_offset(), 0, "nothing was written");
}

#[test]
fn a_request_ending_inside_a_batch_is_refused_naming_where_that_batch_starts() {
    // Kafka-sized: two 64 KiB batches, the second cut anywhere (inside its header or records)
    let st = MemStorage::new();
    let mut log = open(&st, LogConfig::default());
    let whole = batch(200, 0, 320, 1);
    for cut in [1, 16, 17, 61, whole.len() / 2, whole.len() - 1] {
        let mut req = whole.clone();
        req.extend_from_slice(&whole[..cut]);
        let e = log.append(&mut req, 0).unwrap_err();
        assert_eq!(e.error_code(), kproto::ErrorCode::CorruptMessage, "{e}");
        let needed = if cut < 17 { 17 } else { whole.len() };
        assert_eq!(
            e,
            AppendError::Corrupt {
                position: whole.len(),
                source: kproto::records::RecordError::Incomplete {
                    offset: whole.len(),
                    needed,
                    available: cut,
                },
            },
            "cut at {cut}"
        );
    }
    assert_eq!(log.log_end_offset(), 0, "nothing was written");
}

#[test]
fn idempotent_producer_duplicates_gaps_and_restart() {
    let st = MemStorage::new();
    let mut log = open(&st, cfg());
    let b0 = batch_with(3, 0, 10, 0, Some((7, 0, 0)));
    let b1 = batch_with(2, 0, 10, 1, Some((7, 0, 3)));
    log.append(&mut b0.clone(), 0).unwrap();
    log.append(&mut b1.clone(), 0).unwrap();
    let dup = log.append(&mut b0.clone(), 0).unwrap();
    assert!(dup.duplicate);
    assert_eq!((dup.first_offset, dup.last_offset), (0, 2));
    assert_eq!(log.log_end_offset(), 5);
    let gap = batch_with(1, 0, 10, 2, Some((7, 0, 9)));
    assert_eq!(
        log.append(&mut gap.clone(), 0).unwrap_err().error_code(),
        kproto::ErrorCode::OutOfOrderSequenceNumber
    );
    let fenced = batch_with(1, 0, 10, 2, Some((7, -1, 5)));
    assert!(log.append(&mut fenced.clone(), 0).is_err());
    // two batches of one known producer in one request must be in sequence (Kafka accepts
    // any sequences from a producer it knows nothing about)
    let mut two = batch_with(1, 0, 10, 3, Some((7, 0, 5)));
    two.extend_from_slice(&batch_with(1, 0, 10, 4, Some((7, 0, 7))));
    assert_eq!(
        log.append(&mut two, 0).unwrap_err().error_code(),
        kproto::ErrorCode::OutOfOrderSequenceNumber
    );
    // the state survives a clean restart, and an unclean one (rebuilt from the log)
    let st2 = log.close(0).unwrap();
    let mut log = open(&st2, cfg());
    assert!(log.append(&mut b1.clone(), 0).unwrap().duplicate);
    log.append(&mut batch_with(1, 0, 10, 5, Some((7, 0, 5))), 0)
        .unwrap();
    log.flush(0).unwrap();
    let crashed = st2.crash();
    let mut log = open(&crashed, cfg());
    assert!(
        log.append(&mut batch_with(1, 0, 10, 5, Some((7, 0, 5))), 0)
            .unwrap()
            .duplicate
    );
    assert_eq!(
        log.append(&mut gap.clone(), 0).unwrap_err().error_code(),
        kproto::ErrorCode::OutOfOrderSequenceNumber
    );
}

#[test]
fn retention_by_bytes_and_time_moves_the_log_start() {
    let st = MemStorage::new();
    let mut log = open(&st, cfg());
    for i in 0..30u8 {
        log.append(&mut batch(5, 1000 * i64::from(i), 100, i), 0)
            .unwrap();
    }
    let n = log.segment_count();
    assert!(n >= 4);
    let mut by_size = log.config().clone();
    by_size.retention_bytes = 5000;
    by_size.retention_ms = -1;
    let st2 = log.close(0).unwrap();
    let mut log = open(&st2, by_size);
    let deleted = log.delete_old_segments(0).unwrap();
    assert!(deleted > 0);
    assert!(
        log.size() >= 5000 - 4096 && log.size() <= 5000 + 4096,
        "{}",
        log.size()
    );
    let start = log.log_start_offset();
    assert_eq!(start, log.segments().next().unwrap().base_offset());
    assert!(!st2
        .paths()
        .iter()
        .any(|p| p.ends_with("00000000000000000000.log")));
    assert!(matches!(
        log.read(0, 10),
        Err(LogError::OffsetOutOfRange { .. })
    ));
    assert_eq!(contents(&mut log)[0].0, start);
    // by time: everything older than 10 s at now = 100 s, including the active segment
    let mut by_time = log.config().clone();
    by_time.retention_bytes = -1;
    by_time.retention_ms = 10_000;
    let st3 = log.close(0).unwrap();
    let mut log = open(&st3, by_time);
    log.delete_old_segments(100_000).unwrap();
    assert_eq!(log.segment_count(), 1);
    assert_eq!(log.log_start_offset(), 150);
    assert_eq!(log.log_end_offset(), 150);
    log.append(&mut batch(1, 100_000, 10, 0), 100_000).unwrap();
    assert_eq!(contents(&mut log).len(), 1);
}

#[test]
fn flush_policy_moves_the_recovery_point() {
    let st = MemStorage::new();
    let mut log = open(
        &st,
        LogConfig {
            flush_messages: 4,
            flush_ms: 1000,
            ..cfg()
        },
    );
    log.append(&mut batch(3, 0, 10, 0), 0).unwrap();
    assert_eq!(log.recovery_point(), 0);
    log.append(&mut batch(1, 0, 10, 1), 0).unwrap();
    assert_eq!(
        log.recovery_point(),
        4,
        "4 unflushed messages reached flush.messages"
    );
    log.append(&mut batch(1, 0, 10, 2), 10).unwrap();
    assert!(!log.maybe_flush(999).unwrap());
    assert!(log.maybe_flush(1000).unwrap());
    assert_eq!(log.recovery_point(), 5);
    // the recovery point is the log's; checkpointing it is the directory layer's business
    assert!(st.contents(names::RECOVERY_POINT_CHECKPOINT).is_none());
}

#[test]
fn recovery_truncates_a_torn_tail() {
    let st = MemStorage::new();
    let mut log = open(&st, cfg());
    for i in 0..3u8 {
        log.append(&mut batch(2, 0, 50, i), 0).unwrap();
    }
    log.flush(0).unwrap();
    log.append(&mut batch(2, 0, 50, 9), 0).unwrap();
    // half of the unsynced batch reached the disk
    let mut raw = st.contents("t-0/00000000000000000000.log").unwrap();
    let full = raw.len();
    raw.truncate(full - 40);
    let crashed = st.crash();
    crashed.put("t-0/00000000000000000000.log", &raw);
    let (mut log, report) = Log::open(crashed.clone(), "t", 0, cfg(), 0).unwrap();
    assert_eq!(report.recovered_segments, [0]);
    assert!(report.truncated_bytes > 0);
    assert!(report.truncation_reason.is_some());
    assert_eq!(log.log_end_offset(), 6);
    assert_eq!(contents(&mut log).len(), 3);
    log.append(&mut batch(1, 0, 10, 4), 0).unwrap();
    assert_eq!(contents(&mut log)[3].0, 6);
}

#[test]
fn recovery_cuts_at_a_corrupt_batch_and_drops_later_segments() {
    let st = MemStorage::new();
    let mut log = open(&st, cfg());
    for i in 0..20u8 {
        log.append(&mut batch(5, 0, 100, i), 0).unwrap();
    }
    let bases: Vec<u64> = log.segments().map(|s| s.base_offset()).collect();
    let st = log.into_storage();
    // corrupt a byte in the middle of the second segment's records; the recovery point
    // (the second segment's base: it was flushed at the roll) makes it recovered
    let p = names::segment_file("t-0", bases[1], names::LOG_SUFFIX);
    let mut raw = st.contents(&p).unwrap();
    raw[100] ^= 0x40; // inside the records of the segment's first batch

    st.put(&p, &raw);
    st.put(
        names::RECOVERY_POINT_CHECKPOINT,
        alloc::format!("0\n1\nt 0 {}\n", bases[1]).as_bytes(),
    );
    let (mut log, report) = Log::open(st.clone(), "t", 0, cfg(), 0).unwrap();
    assert!(report.truncated_bytes > 0);
    assert_eq!(report.deleted_segments, bases[2..]);
    let c = contents(&mut log);
    assert_eq!(c.len(), bases[1] as usize / 5);
    assert!(
        matches!(
            report.truncation_reason,
            Some(kproto::records::RecordError::CrcMismatch { .. })
        ),
        "{report:?}"
    );
}

#[test]
fn missing_and_corrupt_indexes_are_rebuilt() {
    let st = MemStorage::new();
    let mut log = open(&st, cfg());
    for i in 0..20u8 {
        log.append(&mut batch(5, 100 * i64::from(i), 100, i), 0)
            .unwrap();
    }
    let before: Vec<Vec<u8>> = st
        .paths()
        .iter()
        .filter(|p| p.contains("index"))
        .map(|p| st.contents(p).unwrap())
        .collect();
    // the recovery point the directory layer checkpoints at close
    let at_end = crate::log::LoadOptions {
        recovery_point: log.log_end_offset(),
        ..Default::default()
    };
    let st = log.close(0).unwrap();
    let idx0 = names::segment_file("t-0", 0, names::INDEX_SUFFIX);
    let tidx0 = names::segment_file("t-0", 0, names::TIME_INDEX_SUFFIX);
    let good = st.contents(&idx0).unwrap();
    let good_t = st.contents(&tidx0).unwrap();
    assert!(good.len() >= 16);
    // missing offset index
    let mut s = st.clone();
    s.remove(&idx0).unwrap();
    let (_, report) = Log::open_with(st.clone(), "t", 0, cfg(), at_end, 0).unwrap();
    assert_eq!(report.rebuilt_indexes, [0], "{report:?}");
    assert_eq!(st.contents(&idx0).unwrap(), good, "rebuilt byte for byte");
    assert_eq!(st.contents(&tidx0).unwrap(), good_t);
    // the last entry pointing at the wrong place
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 1] = bad[n - 1].wrapping_add(3);
    st.put(&idx0, &bad);
    let (_, report) = Log::open_with(st.clone(), "t", 0, cfg(), at_end, 0).unwrap();
    assert_eq!(report.rebuilt_indexes, [0]);
    assert_eq!(st.contents(&idx0).unwrap(), good);
    // a time index going backwards
    let mut bad_t = good_t.clone();
    bad_t[12..20].copy_from_slice(&0i64.to_be_bytes());
    st.put(&tidx0, &bad_t);
    let (mut log, report) = Log::open_with(st.clone(), "t", 0, cfg(), at_end, 0).unwrap();
    assert_eq!(report.rebuilt_indexes, [0]);
    assert_eq!(st.contents(&tidx0).unwrap(), good_t);
    assert_eq!(contents(&mut log).len(), 20);
    assert!(!before.is_empty());
}

/// A CRC-valid snapshot whose entry claims an offset delta larger than its last offset
/// (`(pid, epoch, last seq, last offset, offset delta, timestamp)`).
fn crafted_snapshot(pid: i64, last_seq: i32, last_offset: i64, delta: i32) -> Vec<u8> {
    let mut out = alloc::vec![0, 1, 0, 0, 0, 0, 0, 0, 0, 1];
    out.extend_from_slice(&pid.to_be_bytes());
    out.extend_from_slice(&0i16.to_be_bytes());
    out.extend_from_slice(&last_seq.to_be_bytes());
    out.extend_from_slice(&last_offset.to_be_bytes());
    out.extend_from_slice(&delta.to_be_bytes());
    out.extend_from_slice(&0i64.to_be_bytes());
    out.extend_from_slice(&(-1i32).to_be_bytes());
    out.extend_from_slice(&(-1i64).to_be_bytes());
    let crc = kproto::records::crc::crc32c(&out[6..]);
    out[2..6].copy_from_slice(&crc.to_be_bytes());
    out
}

#[test]
fn a_crafted_snapshot_is_deleted_and_the_state_rebuilt_from_the_log() {
    let st = MemStorage::new();
    let mut log = open(&st, cfg());
    log.append(&mut batch_with(3, 0, 10, 0, Some((7, 0, 0))), 0)
        .unwrap();
    log.append(&mut batch_with(2, 0, 10, 1, Some((7, 0, 3))), 0)
        .unwrap();
    let mut st = log.close(0).unwrap();
    // the snapshot at the log end claims producer 7's last batch is 10 records ending at
    // offset 3 with last sequence 5: its first sequence wraps to i32::MAX - 3
    let path = names::segment_file("t-0", 5, names::SNAPSHOT_SUFFIX);
    let mut f = st.open(&path, false).unwrap();
    st.set_len(&mut f, 0).unwrap();
    st.write_at(&mut f, 0, &crafted_snapshot(7, 5, 3, 9))
        .unwrap();
    st.sync(&mut f).unwrap();
    let (mut log, report) = Log::open(st.clone(), "t", 0, cfg(), 0).unwrap();
    // a batch matching the crafted entry's sequences: before the fix, the duplicate check
    // computed its first offset as 3 - 9 and panicked
    let mut b = batch_with(10, 0, 10, 2, Some((7, 0, i32::MAX - 3)));
    let e = log.append(&mut b, 0).unwrap_err();
    assert_eq!(
        e.error_code(),
        kproto::ErrorCode::OutOfOrderSequenceNumber,
        "{e}"
    );
    // the corrupt snapshot was deleted, reported, and the state rebuilt from the log
    assert_eq!(report.snapshot_offset, None);
    assert_eq!(report.corrupt_snapshots.len(), 1, "{report:?}");
    assert_eq!(report.corrupt_snapshots[0].0, 5);
    assert!(
        alloc::format!("{}", report.corrupt_snapshots[0].1).contains("offset delta"),
        "{report:?}"
    );
    // (and a snapshot of the rebuilt state taken at the log end, as Kafka does on load)
    let rewritten = st.contents(&path).unwrap();
    assert_ne!(rewritten, crafted_snapshot(7, 5, 3, 9));
    let rebuilt =
        crate::producer_state::ProducerStateManager::decode_snapshot(&path, 5, &rewritten);
    let rebuilt = rebuilt.unwrap().producers()[&7].clone();
    assert_eq!((rebuilt.last_seq(), rebuilt.last_data_offset()), (4, 4));
    let e = &log.producer_state().producers()[&7];
    assert_eq!((e.last_seq(), e.last_data_offset()), (4, 4));
    assert!(
        log.append(&mut batch_with(2, 0, 10, 1, Some((7, 0, 3))), 0)
            .unwrap()
            .duplicate
    );
}

#[test]
fn log_append_time_is_the_producers_last_timestamp() {
    let st = MemStorage::new();
    let cfg = LogConfig {
        message_timestamp_type: TimestampType::LogAppendTime,
        ..cfg()
    };
    let mut log = open(&st, cfg);
    log.append(&mut batch_with(3, 1000, 10, 0, Some((7, 0, 0))), 5000)
        .unwrap();
    let e = &log.producer_state().producers()[&7];
    assert_eq!(e.last_timestamp(), 5000);
    assert_eq!(e.batches.back().unwrap().timestamp, 5000);
}

#[test]
fn retention_keeps_producers_whose_batches_it_deleted_as_kafka_does() {
    let st = MemStorage::new();
    let cfg = LogConfig {
        segment_ms: 1,
        retention_ms: 1000,
        ..cfg()
    };
    let mut log = open(&st, cfg);
    log.append(&mut batch_with(2, 1000, 10, 0, Some((7, 0, 0))), 1000)
        .unwrap();
    log.append(&mut batch(2, 50_000, 10, 1), 50_000).unwrap();
    assert!(log.delete_old_segments(50_000).unwrap() >= 1);
    assert_eq!(log.log_start_offset(), 2);
    // producer 7 is still known: its sequence must go on from 1
    assert_eq!(log.producer_state().producers()[&7].last_seq(), 1);
    let e = log
        .append(&mut batch_with(1, 50_001, 10, 2, Some((7, 0, 5))), 50_001)
        .unwrap_err();
    assert_eq!(e.error_code(), kproto::ErrorCode::OutOfOrderSequenceNumber);
    log.append(&mut batch_with(1, 50_001, 10, 2, Some((7, 0, 2))), 50_001)
        .unwrap();
}

/// The producer snapshots in the partition directory, by offset.
fn snapshot_offsets(st: &MemStorage) -> Vec<u64> {
    st.paths()
        .iter()
        .filter_map(
            |p| match names::parse_file_name(p.rsplit('/').next().unwrap()) {
                Some((o, names::FileKind::Snapshot)) => Some(o),
                _ => None,
            },
        )
        .collect()
}

#[test]
fn retention_removes_every_snapshot_below_the_new_log_start() {
    let st = MemStorage::new();
    let cfg = LogConfig {
        retention_ms: 10_000,
        ..LogConfig::default()
    };
    // a close in the middle of segment 0 leaves a snapshot there (not at a segment base)
    let mut log = open(&st, cfg.clone());
    for i in 0..4 {
        log.append(
            &mut batch_with(200, 1000, 300, i as u8, Some((7, 0, i * 200))),
            1000,
        )
        .unwrap();
    }
    let mid = log.log_end_offset();
    log.close(1000).unwrap();
    assert_eq!(snapshot_offsets(&st), [mid]);
    let (mut log, report) = Log::open(st.clone(), "t", 0, cfg.clone(), 2000).unwrap();
    assert!(report.removed_files.is_empty(), "{report:?}");
    log.append(&mut batch_with(200, 2000, 300, 4, Some((7, 0, 800))), 2000)
        .unwrap();
    log.roll(60_000).unwrap();
    let base = log.log_end_offset();
    log.append(
        &mut batch_with(200, 60_000, 300, 5, Some((7, 0, 1000))),
        60_000,
    )
    .unwrap();
    assert_eq!(snapshot_offsets(&st), [mid, base]);
    assert_eq!(log.delete_old_segments(60_000).unwrap(), 1);
    assert_eq!(log.log_start_offset(), base);
    // the close-time snapshot at `mid` is below the log start: it goes with the segment
    assert_eq!(snapshot_offsets(&st), [base]);
    log.close(60_000).unwrap();
    // so the next open finds nothing stale there (the snapshot at the log start itself goes on
    // open by Kafka's out-of-range rule)
    let (log, report) = Log::open(st.clone(), "t", 0, cfg, 60_000).unwrap();
    let stale = names::segment_file("", mid, names::SNAPSHOT_SUFFIX);
    assert!(
        !report
            .removed_files
            .iter()
            .any(|f| stale.ends_with(f.as_str())),
        "{report:?}"
    );
    assert_eq!(log.producer_state().producers()[&7].last_seq(), 1199);
}

#[test]
fn a_retry_of_a_producers_last_batch_is_a_duplicate_after_retention_deleted_it() {
    let st = MemStorage::new();
    let cfg = LogConfig {
        retention_ms: 10_000,
        ..LogConfig::default()
    };
    let mut log = open(&st, cfg.clone());
    let mut sent = Vec::new();
    for i in 0..3 {
        let mut b = batch_with(200, 1000, 300, i as u8, Some((7, 2, i * 200)));
        let info = log.append(&mut b.clone(), 1000).unwrap();
        assert!(!info.duplicate);
        sent.push((b.split_off(0), info));
    }
    log.roll(60_000).unwrap();
    log.append(&mut batch(200, 60_000, 300, 9), 60_000).unwrap();
    assert_eq!(log.delete_old_segments(60_000).unwrap(), 1);
    assert_eq!(log.log_start_offset(), 600, "producer 7's batches are gone");
    let retry = |log: &mut Log<MemStorage>, i: usize| {
        let (bytes, info) = &sent[i];
        let end = log.log_end_offset();
        let dup = log.append(&mut bytes.clone(), 60_001).unwrap();
        assert!(dup.duplicate, "batch {i}");
        assert_eq!(
            (dup.first_offset, dup.last_offset, dup.record_count),
            (info.first_offset, info.last_offset, 200)
        );
        assert_eq!(log.log_end_offset(), end, "nothing was written");
    };
    // every one of the producer's last (up to five) batches is answered as a duplicate
    for i in [2, 0, 1] {
        retry(&mut log, i);
    }
    // and the last one still after a clean restart (the close-time snapshot keeps the producer)
    log.close(60_001).unwrap();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg, 60_002).unwrap();
    retry(&mut log, 2);
    // a snapshot keeps only a producer's last batch (as Kafka's): an older one is out of order
    let (first, _) = &sent[0];
    assert_eq!(
        log.append(&mut first.clone(), 60_002)
            .unwrap_err()
            .error_code(),
        kproto::ErrorCode::OutOfOrderSequenceNumber
    );
}

/// One batch of `n` records with KB values, multi-byte-varint keys and headers, built in
/// `codec` by an idempotent producer.
fn codec_batch(codec: kproto::records::Compression, n: usize, base_seq: i32) -> Vec<u8> {
    use kproto::records::{BatchBuilder, BatchConfig};
    let mut b = BatchBuilder::new(BatchConfig {
        compression: codec,
        producer_id: 7,
        producer_epoch: 2,
        base_sequence: base_seq,
        write_limit: usize::MAX,
        ..BatchConfig::default()
    });
    for i in 0..n {
        let key = alloc::format!("key-{i:05}-{}", "k".repeat(200));
        let value = alloc::format!("{{\"i\":{i},\"pad\":\"{}\"}}", "v".repeat(1000 + i % 700));
        let hv = alloc::format!("h{i}");
        b.try_append(
            1_700_000_000_000 + i as i64,
            Some(key.as_bytes()),
            Some(value.as_bytes()),
            &[("trace", Some(hv.as_bytes())), ("null", None)],
        )
        .unwrap();
    }
    b.finish().unwrap()
}

/// Every record of the log from offset 0: (offset, timestamp, key, value, headers).
type Rec = (i64, i64, Vec<u8>, Vec<u8>, Vec<(Vec<u8>, Option<Vec<u8>>)>);

fn records_of(data: &[u8]) -> (Vec<kproto::records::Compression>, Vec<Rec>) {
    let mut codecs = Vec::new();
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    for b in Batches::new(data) {
        let b = b.unwrap();
        b.validate().unwrap();
        codecs.push(b.compression().unwrap());
        for r in b.records(&mut scratch, usize::MAX).unwrap() {
            let r = r.unwrap();
            out.push((
                r.offset,
                r.timestamp,
                r.key.unwrap().to_vec(),
                r.value.unwrap().to_vec(),
                r.headers
                    .iter()
                    .map(|h| (h.key.to_vec(), h.value.map(<[u8]>::to_vec)))
                    .collect(),
            ));
        }
    }
    (codecs, out)
}

#[test]
fn a_topic_compression_type_rewrites_other_codecs_and_keeps_everything_else() {
    use crate::config::TopicCompression;
    use kproto::records::Compression as C;
    let targets = [C::None, C::Gzip, C::Snappy, C::Lz4, C::Zstd];
    for target in targets {
        let st = MemStorage::new();
        let mut log = open(
            &st,
            LogConfig {
                compression_type: TopicCompression::Codec(target),
                segment_bytes: 1 << 30,
                max_message_bytes: 4 << 20,
                ..LogConfig::default()
            },
        );
        // what a producer in each codec sent, and what the records are
        let mut sent = Vec::new();
        let mut seq = 0;
        for source in targets {
            let mut bytes = codec_batch(source, 300, seq);
            seq += 300;
            sent.extend(records_of(&bytes).1);
            let same = source == target;
            let before = bytes.clone();
            let info = log.append(&mut bytes, 1_700_000_000_500).unwrap();
            assert_eq!(info.record_count, 300);
            assert!(!info.duplicate);
            if same {
                // the batch in the topic's own codec is written as sent: only the base offset
                // and the leader epoch (outside the CRC) are assigned
                let stored = log.read(info.first_offset, 8 << 20).unwrap();
                let first = BatchView::new_checked(&stored[..]).unwrap();
                assert!(
                    first.as_bytes()[16..] == before[16..],
                    "{target:?} in place"
                );
            }
        }
        let data = log.read(0, 64 << 20).unwrap();
        let (codecs, got) = records_of(&data);
        assert_eq!(codecs, [target; 5], "every batch stored as {target:?}");
        assert_eq!(got.len(), sent.len());
        for (i, (g, s)) in got.iter().zip(&sent).enumerate() {
            assert_eq!(g.0, i as i64, "dense offsets");
            assert_eq!(
                (&g.1, &g.2, &g.3, &g.4),
                (&s.1, &s.2, &s.3, &s.4),
                "record {i}"
            );
        }
        for b in Batches::new(&data[..]) {
            let b = b.unwrap();
            assert_eq!((b.producer_id(), b.producer_epoch()), (7, 2));
            assert_eq!(b.base_sequence() % 300, 0);
        }
        // a retry of the last batch, in a codec of its own, is still the duplicate it is
        let mut retry = codec_batch(C::Gzip, 300, 1200);
        let dup = log.append(&mut retry, 1_700_000_000_900).unwrap();
        assert!(dup.duplicate);
        assert_eq!((dup.first_offset, dup.last_offset), (1200, 1499));
        // and the state survives a restart: the next sequence goes on
        drop(log);
        let mut log = open(
            &st,
            LogConfig {
                compression_type: TopicCompression::Codec(target),
                max_message_bytes: 4 << 20,
                ..LogConfig::default()
            },
        );
        let next = log
            .append(&mut codec_batch(C::Lz4, 10, 1500), 1_700_000_001_000)
            .unwrap();
        assert_eq!(next.first_offset, 1500);
    }
}

#[test]
fn recompression_under_log_append_time_stamps_the_rebuilt_batch() {
    use crate::config::TopicCompression;
    use kproto::records::Compression as C;
    let st = MemStorage::new();
    let mut log = open(
        &st,
        LogConfig {
            compression_type: TopicCompression::Codec(C::Zstd),
            message_timestamp_type: TimestampType::LogAppendTime,
            max_message_bytes: 4 << 20,
            ..LogConfig::default()
        },
    );
    let info = log
        .append(&mut codec_batch(C::Snappy, 200, 0), 1_800_000_000_000)
        .unwrap();
    assert_eq!(info.log_append_time, 1_800_000_000_000);
    let data = log.read(0, 8 << 20).unwrap();
    let b = BatchView::new_checked(&data[..]).unwrap();
    b.validate().unwrap();
    assert_eq!(b.compression().unwrap(), C::Zstd);
    assert_eq!(b.max_timestamp(), 1_800_000_000_000);
    let (_, recs) = records_of(&data);
    assert!(recs.iter().all(|r| r.1 == 1_800_000_000_000));
}
