//! The offsets a log directory layer hands to a log (Kafka's `LogLoader` inputs): the
//! checkpointed log start offset, the clean shutdown marker; DeleteRecords
//! (`increment_log_start_offset`) and configuration changes.

use crate::config::LogConfig;
use crate::log::{LoadOptions, Log, LogError};
use crate::names;
use crate::storage::{MemStorage, Storage};
use crate::testutil::{batch, batch_with, contents};
use alloc::vec::Vec;

fn cfg() -> LogConfig {
    LogConfig {
        segment_bytes: 8 << 10,
        index_interval_bytes: 512,
        segment_index_bytes: 2048,
        ..LogConfig::default()
    }
}

/// A log of 40 batches of 5 records with 600-byte values (several segments), closed cleanly;
/// returns the storage and the log end offset.
fn written() -> (MemStorage, u64) {
    let st = MemStorage::new();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg(), 0).unwrap();
    for i in 0..40u8 {
        log.append(&mut batch(5, 1000 * i64::from(i), 600, i), 0)
            .unwrap();
    }
    assert!(log.segment_count() >= 4, "{}", log.segment_count());
    let leo = log.log_end_offset();
    (log.close(0).unwrap(), leo)
}

#[test]
fn a_clean_shutdown_revalidates_no_segment_and_sets_the_recovery_point_to_the_end() {
    let (st, leo) = written();
    // a flipped byte inside a record of the last segment: an unclean open finds it, a clean
    // one does not look (Kafka trusts the marker; the CRC catches it on read)
    let last = st
        .paths()
        .into_iter()
        .rfind(|p| p.ends_with(".log"))
        .unwrap();
    let before = st.contents(&last).unwrap();
    let mut bad = before.clone();
    bad[200] ^= 1;
    st.put(&last, &bad);
    let clean = LoadOptions {
        recovery_point: 0,
        log_start_offset: 0,
        had_clean_shutdown: true,
    };
    let (log, report) = Log::open_with(st.fork(), "t", 0, cfg(), clean, 0).unwrap();
    assert!(report.had_clean_shutdown);
    assert!(report.recovered_segments.is_empty(), "{report:?}");
    assert!(report.rebuilt_indexes.is_empty(), "{report:?}");
    assert_eq!(report.truncated_bytes, 0);
    assert_eq!(log.recovery_point(), leo);
    assert_eq!(log.log_end_offset(), leo);
    assert_eq!(report.snapshot_offset, Some(leo), "the close's snapshot");
    // unclean with the same (zero) recovery point: everything re-validated, the tail cut
    let unclean = LoadOptions {
        had_clean_shutdown: false,
        ..clean
    };
    let (log, report) = Log::open_with(st.fork(), "t", 0, cfg(), unclean, 0).unwrap();
    assert_eq!(report.recovered_segments.len(), log.segment_count());
    assert!(report.truncated_bytes > 0);
    assert!(log.log_end_offset() < leo);
}

#[test]
fn a_clean_shutdown_without_snapshots_starts_the_producer_state_empty_as_kafka_does() {
    let st = MemStorage::new();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg(), 0).unwrap();
    for i in 0..6 {
        let mut b = batch_with(4, 1000 + i, 300, i as u8, Some((77, 2, 4 * i as i32)));
        log.append(&mut b, 0).unwrap();
    }
    let st = log.close(0).unwrap();
    for p in st.paths() {
        if p.ends_with(".snapshot") {
            st.clone().remove(&p).unwrap();
        }
    }
    let clean = LoadOptions {
        had_clean_shutdown: true,
        ..LoadOptions::default()
    };
    let (log, report) = Log::open_with(st.fork(), "t", 0, cfg(), clean, 0).unwrap();
    assert_eq!(report.snapshot_offset, None);
    assert!(
        !log.producer_state().producers().contains_key(&77),
        "not replayed"
    );
    assert!(st
        .fork()
        .contents(&names::segment_file("t-0", 24, names::SNAPSHOT_SUFFIX))
        .is_none());
    // unclean: the producer is rebuilt from the log
    let (log, _) = Log::open_with(st, "t", 0, cfg(), LoadOptions::default(), 0).unwrap();
    assert_eq!(log.producer_state().producers()[&77].epoch, 2);
}

#[test]
fn the_checkpointed_log_start_offset_may_sit_inside_the_first_segment() {
    let (st, leo) = written();
    let opts = LoadOptions {
        recovery_point: leo,
        log_start_offset: 35,
        had_clean_shutdown: false,
    };
    let (mut log, report) = Log::open_with(st, "t", 0, cfg(), opts, 0).unwrap();
    assert_eq!(report.checkpoint_log_start_offset, 35);
    assert_eq!(log.log_start_offset(), 35);
    assert_eq!(log.segments().next().unwrap().base_offset(), 0);
    assert!(matches!(
        log.read(34, 1 << 20),
        Err(LogError::OffsetOutOfRange {
            offset: 34,
            log_start_offset: 35,
            ..
        })
    ));
    let c = contents(&mut log);
    assert_eq!(c.first().unwrap().0, 35);
    assert_eq!(c.len(), 33);
}

#[test]
fn a_log_ending_below_the_checkpointed_log_start_restarts_there() {
    let (st, leo) = written();
    let opts = LoadOptions {
        recovery_point: leo,
        log_start_offset: leo + 100,
        had_clean_shutdown: true,
    };
    let (mut log, report) = Log::open_with(st.clone(), "t", 0, cfg(), opts, 0).unwrap();
    assert_eq!(log.log_start_offset(), leo + 100);
    assert_eq!(log.log_end_offset(), leo + 100);
    assert_eq!(log.segment_count(), 1);
    assert!(!report.deleted_segments.is_empty());
    let logs: Vec<_> = st
        .paths()
        .into_iter()
        .filter(|p| p.ends_with(".log"))
        .collect();
    assert_eq!(
        logs,
        [names::segment_file("t-0", leo + 100, names::LOG_SUFFIX)]
    );
    let info = log.append(&mut batch(2, 5, 100, 1), 0).unwrap();
    assert_eq!(info.first_offset, leo + 100);
}

#[test]
fn delete_records_moves_the_log_start_and_retention_deletes_what_lies_below() {
    let (st, leo) = written();
    let (mut log, _) = Log::open(st.clone(), "t", 0, cfg(), 0).unwrap();
    let bases: Vec<u64> = log.segments().map(|s| s.base_offset()).collect();
    // above the high watermark: OFFSET_OUT_OF_RANGE, nothing changes
    log.set_high_watermark(leo - 10);
    let e = log.increment_log_start_offset(leo - 9).unwrap_err();
    assert!(matches!(e, LogError::AboveHighWatermark { .. }), "{e}");
    assert_eq!(e.error_code(), kproto::ErrorCode::OffsetOutOfRange);
    assert_eq!(log.log_start_offset(), 0);
    // into the third segment (a batch boundary)
    let to = bases[2] + 5;
    log.increment_log_start_offset(to).unwrap();
    assert_eq!(log.log_start_offset(), to);
    // lower again: no change
    log.increment_log_start_offset(3).unwrap();
    assert_eq!(log.log_start_offset(), to);
    assert_eq!(
        log.segment_count(),
        bases.len(),
        "files stay until retention"
    );
    assert_eq!(contents(&mut log).first().unwrap().0, to);
    // retention (nothing old by time or size) deletes the segments wholly below it
    assert_eq!(log.delete_old_segments(0).unwrap(), 2);
    assert_eq!(log.segments().next().unwrap().base_offset(), bases[2]);
    assert_eq!(log.log_start_offset(), to, "stays inside the segment");
    assert!(!st
        .paths()
        .contains(&names::segment_file("t-0", 0, names::LOG_SUFFIX)));
}

#[test]
fn set_config_validates_and_applies_from_the_next_append() {
    let (st, _) = written();
    let (mut log, _) = Log::open(st, "t", 0, cfg(), 0).unwrap();
    let bad = LogConfig {
        segment_index_bytes: 4,
        ..cfg()
    };
    assert_eq!(
        log.set_config(bad).unwrap_err().error_code(),
        kproto::ErrorCode::InvalidConfig
    );
    let big = LogConfig {
        max_message_bytes: 100,
        ..cfg()
    };
    log.set_config(big.clone()).unwrap();
    assert_eq!(log.config(), &big);
    assert!(log.append(&mut batch(3, 0, 600, 1), 0).is_err());
}
