//! The inspector's model over a partition written by klog: every codec, MB values, indexes,
//! corruption in the middle, truncated tails, frames.

mod fixture;

use fixture::{klog_partition, Fixture, BIG_BATCH, BIG_VALUE, SR_BATCH};
use kproto::records::{BatchBuilder, BatchConfig, BatchView, Compression};
use web::index::{check_offset_index, check_time_index, jump_to_offset, jump_to_timestamp};
use web::records::{batch_records, record_part, Part, RecordOptions};
use web::segment::{find_offset, find_timestamp, ScanOptions, SegmentScan};
use web::SliceSource;

const SMALL_CHUNKS: ScanOptions = ScanOptions {
    chunk: 64 << 10,
    max_batch: 256 << 20,
};

fn logs(f: &Fixture) -> Vec<(String, Vec<u8>)> {
    f.files
        .iter()
        .filter(|(n, _)| n.ends_with(".log"))
        .cloned()
        .collect()
}

fn base_of(name: &str) -> i64 {
    name[..20].parse().unwrap()
}

#[test]
fn every_segment_lists_what_klog_wrote_reading_in_small_chunks() {
    let f = klog_partition();
    let logs = logs(f);
    assert!(logs.len() >= 3, "{} segments", logs.len());
    let mut seen = 0;
    for (k, (name, data)) in logs.iter().enumerate() {
        let next = logs.get(k + 1).map(|(n, _)| base_of(n));
        let want = f.batches_in(base_of(name), next);
        let mut src = SliceSource::new(name.clone(), &data[..]);
        let scan = SegmentScan::run(name.clone(), &mut src, SMALL_CHUNKS).unwrap();
        assert!(scan.problems.is_empty(), "{name}: {:?}", scan.problems);
        assert_eq!(scan.batches.len(), want.len(), "{name}");
        let mut largest = 0;
        for (got, w) in scan.batches.iter().zip(&want) {
            assert_eq!(
                (
                    got.base_offset,
                    got.last_offset,
                    got.count,
                    got.crc_stored,
                    got.crc_computed
                ),
                (w.base_offset, w.last_offset, w.count, w.crc, w.crc),
                "{name} batch {}",
                got.index
            );
            assert!(got.crc_ok);
            assert_eq!(got.compression, w.compression);
            assert_eq!(
                (
                    got.producer_id,
                    got.producer_epoch,
                    got.base_sequence,
                    got.transactional
                ),
                (
                    w.producer_id,
                    w.producer_epoch,
                    w.base_sequence,
                    w.transactional
                )
            );
            assert_eq!(
                (got.first_timestamp, got.max_timestamp),
                (w.first_timestamp, w.max_timestamp)
            );
            assert_eq!(got.timestamp_type, "CreateTime");
            largest = largest.max(got.size);
        }
        // Memory stays bounded: no read larger than a chunk or the largest batch.
        assert!(
            src.max_read <= SMALL_CHUNKS.chunk.max(largest),
            "{name}: read {}",
            src.max_read
        );
        seen += scan.batches.len();
    }
    assert_eq!(seen, f.batches.len());
}

#[test]
fn records_of_every_batch_equal_what_was_written() {
    let f = klog_partition();
    let all: Vec<_> = logs(f)
        .into_iter()
        .flat_map(|(name, data)| {
            let mut src = SliceSource::new(name.clone(), data.clone());
            let scan = SegmentScan::run(name, &mut src, ScanOptions::default()).unwrap();
            scan.batches.into_iter().map(move |b| (src.clone(), b))
        })
        .collect();
    assert_eq!(all.len(), f.batches.len());
    let opts = RecordOptions {
        preview: 1 << 20,
        limit: usize::MAX,
        ..RecordOptions::default()
    };
    for ((src, b), w) in all.iter().zip(&f.batches) {
        let mut src = src.clone();
        let got = batch_records(&mut src, b, &opts).unwrap();
        assert_eq!(got.error, None);
        assert_eq!(got.total, w.records.len());
        assert_eq!(
            got.space,
            if b.compression == "none" {
                "file"
            } else {
                "records"
            }
        );
        for (r, (key, value, headers)) in got.records.iter().zip(&w.records) {
            assert_eq!(r.offset, w.base_offset + r.index as i64);
            if w.base_sequence >= 0 {
                assert_eq!(r.sequence, w.base_sequence + r.index as i32);
            }
            assert_eq!(r.key.as_ref().map(|k| k.len), key.as_ref().map(Vec::len));
            let full = record_part(&mut src, b, r.index, Part::Value, 64 << 20).unwrap();
            assert_eq!(&full, value, "batch {} record {}", b.index, r.index);
            assert_eq!(r.headers.len(), headers.len());
            for (h, (k, v)) in r.headers.iter().zip(headers) {
                assert_eq!(&h.key, k);
                assert_eq!(
                    h.value.as_ref().and_then(|x| x.utf8.clone()),
                    v.as_ref().map(|v| String::from_utf8(v.clone()).unwrap())
                );
            }
            if let (true, Some(value)) = (b.compression == "none", value) {
                // File-space spans point at the value's bytes in the segment.
                let v = &src.data()[r.value_span[0] as usize..r.value_span[1] as usize];
                assert_eq!(v, &value[..]);
            }
        }
    }
    // The JSON value of an ordinary record is pretty-printed.
    let (src, b) = &all[3];
    let recs = batch_records(&mut src.clone(), b, &RecordOptions::default()).unwrap();
    let v = recs.records[0].value.as_ref().unwrap();
    assert_eq!(v.kind, "json");
    assert!(
        v.json.as_ref().unwrap().contains("\n  \"order\": 3,"),
        "{:?}",
        v.json
    );
    // The 1.5 MB value is cut to the preview; expanding gives all of it.
    let (src, b) = &all[BIG_BATCH];
    let recs = batch_records(&mut src.clone(), b, &RecordOptions::default()).unwrap();
    let v = recs.records[0].value.as_ref().unwrap();
    assert!(v.truncated && v.len > BIG_VALUE - 300 && v.preview == 4096);
    assert_eq!(v.json, None);
    let full = record_part(&mut src.clone(), b, 0, Part::Value, 64 << 20)
        .unwrap()
        .unwrap();
    assert_eq!(full.len(), v.len);
    assert!(web::value::view(&full, usize::MAX).json.is_some());
    // Schema-registry values are detected.
    let (src, b) = &all[SR_BATCH];
    let recs = batch_records(&mut src.clone(), b, &RecordOptions::default()).unwrap();
    let sr = recs.records[1]
        .value
        .as_ref()
        .unwrap()
        .schema_registry
        .as_ref()
        .unwrap();
    assert_eq!(sr.schema_id, 8);
    // Paging: skip and limit.
    let (src, b) = &all[5];
    let page = batch_records(
        &mut src.clone(),
        b,
        &RecordOptions {
            skip: 100,
            limit: 50,
            ..RecordOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        (page.total, page.records.len(), page.records[0].index),
        (300, 50, 100)
    );
}

#[test]
fn indexes_agree_with_their_segments_and_jumps_equal_a_scan() {
    let f = klog_partition();
    for (name, data) in logs(f) {
        let base = base_of(&name);
        let stem = &name[..20];
        let idx = &f
            .files
            .iter()
            .find(|(n, _)| n == &format!("{stem}.index"))
            .unwrap()
            .1;
        let tix = &f
            .files
            .iter()
            .find(|(n, _)| n == &format!("{stem}.timeindex"))
            .unwrap()
            .1;
        let mut src = SliceSource::new(name.clone(), &data[..]);
        let scan = SegmentScan::run(name.clone(), &mut src, ScanOptions::default()).unwrap();
        let oi = check_offset_index(&format!("{stem}.index"), idx, base, &scan.batches);
        assert!(oi.problems.is_empty(), "{:?}", oi.problems);
        if scan.batches.len() > 2 {
            assert!(oi.entries.len() > 2, "{name}: an index entry every 4 KiB");
        }
        let ti = check_time_index(
            &format!("{stem}.timeindex"),
            tix,
            base,
            &oi.entries,
            &scan.batches,
        );
        assert!(ti.problems.is_empty(), "{:?}", ti.problems);
        assert!(!ti.entries.is_empty());
        let (first, last) = (
            scan.batches[0].base_offset,
            scan.batches.last().unwrap().last_offset,
        );
        for target in first..=last + 1 {
            assert_eq!(
                jump_to_offset(&oi.entries, &scan.batches, target),
                find_offset(&scan.batches, target),
                "offset {target}"
            );
        }
        let (t0, t1) = (
            scan.batches[0].first_timestamp - 5,
            scan.batches.last().unwrap().max_timestamp + 5,
        );
        for ts in (t0..=t1).step_by(97) {
            assert_eq!(
                jump_to_timestamp(&ti.entries, &oi.entries, &scan.batches, ts),
                find_timestamp(&scan.batches, ts),
                "ts {ts}"
            );
        }
    }
}

#[test]
fn broken_indexes_are_listed_with_file_offset_and_reason() {
    let f = klog_partition();
    let (name, data) = &logs(f)[0];
    let mut src = SliceSource::new(name.clone(), &data[..]);
    let scan = SegmentScan::run(name.clone(), &mut src, ScanOptions::default()).unwrap();
    let mut idx = f.file(".index", 0).1.clone();
    assert!(idx.len() >= 24);
    // Entry 1 points one byte after its batch; 3 stray bytes at the end.
    let p = u32::from_be_bytes(idx[12..16].try_into().unwrap()) + 1;
    idx[12..16].copy_from_slice(&p.to_be_bytes());
    idx.extend_from_slice(&[1, 2, 3]);
    let r = check_offset_index("0.index", &idx, 0, &scan.batches);
    let kinds: Vec<_> = r.problems.iter().map(|p| (p.kind, p.offset)).collect();
    assert!(kinds.contains(&("index-offset", 8)), "{:?}", r.problems);
    let tail = r.problems.iter().find(|p| p.kind == "index-tail").unwrap();
    assert_eq!(tail.offset as usize, idx.len() - 3);
    assert!(
        tail.reason.contains("3 invalid bytes at the end"),
        "{}",
        tail.reason
    );
    // Time index: entry 1's timestamp made older than entry 0's.
    let mut tix = f.file(".timeindex", 0).1.clone();
    assert!(tix.len() >= 24);
    let t0 = i64::from_be_bytes(tix[0..8].try_into().unwrap());
    tix[12..20].copy_from_slice(&(t0 - 1).to_be_bytes());
    let oi = check_offset_index("0.index", &f.file(".index", 0).1, 0, &scan.batches);
    let r = check_time_index("0.timeindex", &tix, 0, &oi.entries, &scan.batches);
    let p: Vec<_> = r
        .problems
        .iter()
        .filter(|p| p.offset == 12)
        .map(|p| p.kind)
        .collect();
    assert!(
        p.contains(&"index-order") && p.contains(&"index-timestamp"),
        "{:?}",
        r.problems
    );
}

/// The middle batch of the first segment and where its records start.
fn middle(scan: &SegmentScan) -> &web::summary::BatchSummary {
    &scan.batches[scan.batches.len() / 2]
}

#[test]
fn a_corrupt_batch_in_the_middle_is_marked_and_later_batches_listed() {
    let f = klog_partition();
    let (name, data) = &logs(f)[0];
    let clean = SegmentScan::run(
        name.clone(),
        &mut SliceSource::new(name.clone(), &data[..]),
        ScanOptions::default(),
    )
    .unwrap();
    let m = middle(&clean).clone();
    // A flipped bit in the records: CRC mismatch, everything else listed as before.
    let mut bad = data.clone();
    bad[(m.position + m.size - 3) as usize] ^= 0x40;
    let scan = SegmentScan::run(
        name.clone(),
        &mut SliceSource::new(name.clone(), &bad[..]),
        SMALL_CHUNKS,
    )
    .unwrap();
    assert_eq!(scan.batches.len(), clean.batches.len());
    let b = &scan.batches[m.index];
    assert!(!b.crc_ok && b.crc_stored == m.crc_stored && b.crc_computed != m.crc_stored);
    assert_eq!(scan.problems.len(), 1, "{:?}", scan.problems);
    assert_eq!(
        (scan.problems[0].kind, scan.problems[0].offset),
        ("crc", m.position)
    );
    assert!(scan.batches[m.index + 1..].iter().all(|b| b.crc_ok));
    // A corrupt batch length: the batch is marked, the scan resyncs on the next batch.
    let mut bad = data.clone();
    let len_at = (m.position + 8) as usize;
    bad[len_at..len_at + 4].copy_from_slice(&(m.size as i32 + 1000 - 12).to_be_bytes());
    let scan = SegmentScan::run(
        name.clone(),
        &mut SliceSource::new(name.clone(), &bad[..]),
        SMALL_CHUNKS,
    )
    .unwrap();
    let after: Vec<_> = scan
        .batches
        .iter()
        .filter(|b| b.position > m.position)
        .map(|b| (b.position, b.crc_stored))
        .collect();
    let want: Vec<_> = clean.batches[m.index + 1..]
        .iter()
        .map(|b| (b.position, b.crc_stored))
        .collect();
    assert_eq!(after, want, "{:?}", scan.problems);
    assert!(!scan.batches[m.index].crc_ok);
    let resync = scan.problems.iter().find(|p| p.kind == "resync").unwrap();
    assert!(
        resync
            .reason
            .contains(&format!("valid batch at byte {}", m.position + m.size)),
        "{}",
        resync.reason
    );
    // Garbage over a whole batch header (size and magic): framing error, then resync.
    let mut bad = data.clone();
    for x in &mut bad[m.position as usize..m.position as usize + 30] {
        *x = 0xee;
    }
    let scan = SegmentScan::run(
        name.clone(),
        &mut SliceSource::new(name.clone(), &bad[..]),
        SMALL_CHUNKS,
    )
    .unwrap();
    assert_eq!(scan.batches.len(), clean.batches.len() - 1);
    assert!(
        scan.problems
            .iter()
            .any(|p| p.kind == "framing" && p.offset == m.position),
        "{:?}",
        scan.problems
    );
    assert!(scan.batches.iter().all(|b| b.crc_ok));
}

#[test]
fn a_truncated_tail_lists_the_batches_before_it() {
    let f = klog_partition();
    let (name, data) = &logs(f)[1];
    let clean = SegmentScan::run(
        name.clone(),
        &mut SliceSource::new(name.clone(), &data[..]),
        ScanOptions::default(),
    )
    .unwrap();
    let last = clean.batches.last().unwrap();
    let cut = &data[..(last.position + last.size / 2) as usize];
    let scan = SegmentScan::run(
        name.clone(),
        &mut SliceSource::new(name.clone(), cut),
        SMALL_CHUNKS,
    )
    .unwrap();
    assert_eq!(scan.batches.len(), clean.batches.len() - 1);
    assert_eq!(scan.problems.len(), 1);
    assert_eq!(
        (scan.problems[0].kind, scan.problems[0].offset),
        ("tail", last.position)
    );
}

#[test]
fn truncations_and_bit_flips_never_panic_and_are_reported() {
    let f = klog_partition();
    let (name, data) = &logs(f)[2];
    let data = &data[..data.len().min(40_000)];
    let mut rng = kproto::testing::Rng::new(18);
    for cut in (0..data.len()).step_by(97) {
        let scan = SegmentScan::run(
            name.clone(),
            &mut SliceSource::new(name.clone(), &data[..cut]),
            SMALL_CHUNKS,
        )
        .unwrap();
        let listed: u64 = scan.batches.iter().map(|b| b.size).sum();
        assert!(
            listed == cut as u64 || !scan.problems.is_empty(),
            "cut {cut}"
        );
    }
    for _ in 0..300 {
        let mut bad = data.to_vec();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(bad.len() as u64) as usize;
            bad[i] ^= 1 << rng.below(8);
        }
        let mut src = SliceSource::new(name.clone(), &bad[..]);
        let scan = SegmentScan::run(name.clone(), &mut src, SMALL_CHUNKS).unwrap();
        for b in &scan.batches {
            let _ = batch_records(&mut src, b, &RecordOptions::default());
        }
    }
}

#[test]
fn control_batches_are_named_and_legacy_messages_listed() {
    use kproto::records::control::end_transaction_marker_batch;
    let mut seg = Vec::new();
    let mut b = BatchBuilder::new(BatchConfig {
        producer_id: 7,
        producer_epoch: 1,
        base_sequence: 0,
        transactional: true,
        ..BatchConfig::default()
    });
    b.try_append(fixture::T0, None, Some(b"in a transaction"), &[])
        .unwrap();
    seg.extend(b.finish().unwrap());
    seg.extend(end_transaction_marker_batch(true, 5, 7, 1, 1, 0, fixture::T0 + 1).unwrap());
    seg.extend(end_transaction_marker_batch(false, 5, 7, 1, 2, 0, fixture::T0 + 2).unwrap());
    let scan = SegmentScan::run(
        "txn.log",
        &mut SliceSource::new("txn.log", &seg[..]),
        ScanOptions::default(),
    )
    .unwrap();
    let kinds: Vec<_> = scan
        .batches
        .iter()
        .map(|b| (b.control, b.control_type.clone(), b.transactional))
        .collect();
    assert_eq!(
        kinds,
        [
            (false, None, true),
            (true, Some("COMMIT".into()), true),
            (true, Some("ABORT".into()), true)
        ]
    );
    assert!(scan.problems.is_empty(), "{:?}", scan.problems);
    // A magic 1 message set: offset, size, crc (CRC-32), magic, attributes, timestamp, key, value.
    let mut m = vec![1u8, 0];
    m.extend_from_slice(&fixture::T0.to_be_bytes());
    m.extend_from_slice(&(-1i32).to_be_bytes());
    m.extend_from_slice(&5i32.to_be_bytes());
    m.extend_from_slice(b"hello");
    let mut e = 41i64.to_be_bytes().to_vec();
    e.extend_from_slice(&(m.len() as i32 + 4).to_be_bytes());
    e.extend_from_slice(&kproto::records::crc::crc32_ieee(&m).to_be_bytes());
    e.extend_from_slice(&m);
    let mut src = SliceSource::new("old.log", &e[..]);
    let scan = SegmentScan::run("old.log", &mut src, ScanOptions::default()).unwrap();
    let b = &scan.batches[0];
    assert_eq!(
        (
            b.magic,
            b.base_offset,
            b.last_offset,
            b.crc_ok,
            b.max_timestamp
        ),
        (1, 41, 41, true, fixture::T0)
    );
    let recs = batch_records(&mut src, b, &RecordOptions::default()).unwrap();
    assert_eq!(
        recs.records[0].value.as_ref().unwrap().utf8.as_deref(),
        Some("hello")
    );
    assert_eq!(
        &e[recs.records[0].value_span[0] as usize..recs.records[0].value_span[1] as usize],
        b"hello"
    );
}

#[test]
fn header_ranges_come_from_kproto_fields_and_a_click_selects_the_innermost() {
    let f = klog_partition();
    let (name, data) = &logs(f)[0];
    let mut src = SliceSource::new(name.clone(), &data[..]);
    let scan = SegmentScan::run(name.clone(), &mut src, ScanOptions::default()).unwrap();
    let b = &scan.batches[1];
    assert_eq!(b.compression, "gzip");
    let h = web::ranges::header_fields(b);
    let crc = h.iter().find(|r| r.name == "crc").unwrap();
    assert_eq!(crc.start, b.position + 17);
    let stored = u32::from_be_bytes(
        data[crc.start as usize..crc.end as usize]
            .try_into()
            .unwrap(),
    );
    assert_eq!(stored, b.crc_stored);
    assert_eq!(
        web::ranges::innermost_at(&h, b.position + 19).unwrap().name,
        "crc"
    );
    assert_eq!(
        web::ranges::innermost_at(&h, b.position + 70).unwrap().name,
        "records"
    );
    let b0 = &scan.batches[0];
    assert_eq!(b0.compression, "none");
    let recs = batch_records(&mut src, b0, &RecordOptions::default()).unwrap();
    let mut all = web::ranges::header_fields(b0);
    all.extend(web::ranges::record_ranges(&recs));
    let v = recs.records[0].value_span;
    assert_eq!(
        web::ranges::innermost_at(&all, v[0] + 1).unwrap().name,
        "record 0 value"
    );
    assert_eq!(
        web::ranges::innermost_at(&all, recs.records[0].span[0])
            .unwrap()
            .name,
        "record 0"
    );
    let bv = BatchView::new_checked(&data[..b0.size as usize]).unwrap();
    assert_eq!(bv.compute_crc(), b0.crc_computed);
    let _ = Compression::None;
}

#[test]
fn klog_producer_snapshots_list_every_idempotent_producer() {
    let f = klog_partition();
    let (name, data) = f
        .files
        .iter()
        .rfind(|(n, _)| n.ends_with(".snapshot"))
        .unwrap();
    let t = web::other::read_other(name, data).unwrap();
    assert!(t.problems.is_empty(), "{:?}", t.problems);
    // Three producers (ids 1000..=1002) wrote batches; the last of each is in the snapshot.
    let pids: Vec<_> = t.rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(pids, ["1000", "1001", "1002"]);
    for r in &t.rows {
        let pid: i64 = r[0].parse().unwrap();
        let last = f.batches.iter().rfind(|b| b.producer_id == pid).unwrap();
        assert_eq!(r[3], last.last_offset.to_string(), "producer {pid}");
        assert_eq!(
            r[2],
            (last.base_sequence + last.count as i32 - 1).to_string()
        );
    }
    let mut bad = data.clone();
    bad[10] ^= 1;
    let t = web::other::read_other(name, &bad).unwrap();
    assert_eq!(
        t.problems.len(),
        1,
        "a flipped bit fails the snapshot's CRC"
    );
}

/// A CRC-valid batch whose base offset (not under the CRC) was set to i64::MIN, garbage, then a
/// batch claiming a base offset near i64::MAX: resynchronising compares the two offsets and
/// must not overflow (it panicked in debug builds).
#[test]
fn resync_between_extreme_base_offsets_does_not_overflow() {
    let batch = |ts: i64| {
        let mut b = BatchBuilder::new(BatchConfig::default());
        b.try_append(ts, Some(b"k"), Some(b"v"), &[]).unwrap();
        b.finish().unwrap()
    };
    let mut first = batch(1_700_000_000_000);
    first[..8].copy_from_slice(&i64::MIN.to_be_bytes());
    let mut last = batch(1_700_000_000_001);
    last[..8].copy_from_slice(&(i64::MAX - 10).to_be_bytes());
    let mut data = first.clone();
    data.extend_from_slice(&[0xab; 100]);
    data.extend_from_slice(&last);
    let name = "00000000000000000000.log".to_string();
    let scan = SegmentScan::run(
        name.clone(),
        &mut SliceSource::new(name, &data[..]),
        SMALL_CHUNKS,
    )
    .unwrap();
    assert_eq!(scan.batches[0].base_offset, i64::MIN);
    assert!(!scan.problems.is_empty(), "the garbage is reported");
}

#[test]
fn the_pages_8_mib_slices_list_a_16_mb_segment_as_small_chunks_do() {
    // 400 batches of 100 records of 600-700 bytes of hex noise (every codec in turn): 8 MiB
    // slices end in the middle of batches, which the next slice starts with.
    let mut seg = Vec::new();
    let mut offset = 0i64;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut noise = |n: usize| {
        let mut s = String::with_capacity(n + 16);
        while s.len() < n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            s.push_str(&format!("{x:016x}"));
        }
        s
    };
    for i in 0..400usize {
        let mut b = BatchBuilder::new(BatchConfig {
            base_offset: offset,
            compression: Compression::ALL[i % 5],
            write_limit: 64 << 20,
            ..BatchConfig::default()
        });
        for j in 0..100i64 {
            let value = format!(
                "{{\"order\":{},\"note\":\"{}\"}}",
                offset + j,
                noise(600 + (i * 7) % 90)
            );
            b.try_append(
                1_767_225_600_000 + offset + j,
                Some(format!("k{j}").as_bytes()),
                Some(value.as_bytes()),
                &[],
            )
            .unwrap();
        }
        seg.extend_from_slice(&b.finish().unwrap());
        offset += 100;
    }
    assert!(
        seg.len() > 2 * ScanOptions::PAGE.chunk as usize,
        "{} bytes",
        seg.len()
    );
    let name = "00000000000000000000.log";
    let mut page_src = SliceSource::new(name, &seg[..]);
    let page = SegmentScan::run(name, &mut page_src, ScanOptions::PAGE).unwrap();
    let mut small_src = SliceSource::new(name, &seg[..]);
    let small = SegmentScan::run(name, &mut small_src, SMALL_CHUNKS).unwrap();
    assert!(page.problems.is_empty(), "{:?}", page.problems);
    assert_eq!(page.batches.len(), 400);
    assert_eq!(page.batches, small.batches);
    assert_eq!(page.batches.last().unwrap().last_offset, 39_999);
    assert!(page.batches.iter().all(|b| b.crc_ok));
    // Few, large reads (what makes FileReaderSync fast), none larger than a slice.
    assert!(page_src.max_read <= ScanOptions::PAGE.chunk);
    assert!(
        page_src.reads < small_src.reads / 50,
        "{} reads beside {}",
        page_src.reads,
        small_src.reads
    );
}
