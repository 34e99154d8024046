//! The files of a Kafka partition directory, read straight from disk with no klog code in
//! between, so tests can compare what klog or Kafka wrote with an independent reading: segment
//! and snapshot listings, `.index` / `.timeindex` / `.txnindex` entries (Kafka's fixed-size
//! big-endian layouts), and the CRC-checked batches of a `.log` file.

use kproto::records::{BatchView, Batches};
use std::fs;
use std::path::{Path, PathBuf};

/// One segment's files (the `.txnindex` exists only when Kafka or klog wrote an entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFiles {
    /// The base offset (the files' 20-digit name).
    pub base: u64,
    /// `<base>.log`.
    pub log: PathBuf,
    /// `<base>.index`.
    pub index: PathBuf,
    /// `<base>.timeindex`.
    pub timeindex: PathBuf,
    /// `<base>.txnindex`.
    pub txnindex: PathBuf,
}

/// The segments of a partition directory, by base offset.
pub fn segments_in(dir: &Path) -> Vec<SegmentFiles> {
    let mut bases: Vec<u64> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let stem = name.strip_suffix(".log")?;
            (stem.len() == 20).then(|| stem.parse().ok())?
        })
        .collect();
    bases.sort_unstable();
    bases
        .into_iter()
        .map(|base| SegmentFiles {
            base,
            log: dir.join(format!("{base:020}.log")),
            index: dir.join(format!("{base:020}.index")),
            timeindex: dir.join(format!("{base:020}.timeindex")),
            txnindex: dir.join(format!("{base:020}.txnindex")),
        })
        .collect()
}

/// The producer snapshots of a partition directory, by offset.
pub fn snapshots_in(dir: &Path) -> Vec<(u64, PathBuf)> {
    let mut v: Vec<(u64, PathBuf)> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| {
            let e = e.ok()?;
            let name = e.file_name().into_string().ok()?;
            let off = name.strip_suffix(".snapshot")?.parse().ok()?;
            Some((off, e.path()))
        })
        .collect();
    v.sort();
    v
}

/// A file's bytes; panics naming the file.
pub fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A big-endian u32 from exactly 4 bytes.
pub fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes(b.try_into().expect("4 bytes"))
}

/// A big-endian i64 from exactly 8 bytes.
pub fn be_i64(b: &[u8]) -> i64 {
    i64::from_be_bytes(b.try_into().expect("8 bytes"))
}

/// `(absolute offset, position)` entries of an `.index` file (all of it, trailing zero entries of
/// a preallocated file included).
pub fn offset_index_entries(path: &Path, base: u64) -> Vec<(u64, u32)> {
    let data = read(path);
    assert_eq!(data.len() % 8, 0, "{}: not whole entries", path.display());
    offset_index_entries_from(&data, base)
}

/// `(timestamp, absolute offset)` entries of a `.timeindex` file.
pub fn time_index_entries(path: &Path, base: u64) -> Vec<(i64, u64)> {
    let data = read(path);
    assert_eq!(data.len() % 12, 0, "{}: not whole entries", path.display());
    time_index_entries_from(&data, base)
}

/// `(absolute offset, position)` entries of an offset index's bytes (8 bytes each: relative
/// offset u32, position u32).
pub fn offset_index_entries_from(data: &[u8], base: u64) -> Vec<(u64, u32)> {
    data.chunks_exact(8)
        .map(|e| (base + u64::from(be_u32(&e[..4])), be_u32(&e[4..])))
        .collect()
}

/// `(timestamp, absolute offset)` entries of a time index's bytes (12 bytes each: timestamp
/// i64, relative offset u32).
pub fn time_index_entries_from(data: &[u8], base: u64) -> Vec<(i64, u64)> {
    data.chunks_exact(12)
        .map(|e| (be_i64(&e[..8]), base + u64::from(be_u32(&e[8..]))))
        .collect()
}

/// The size of one `.txnindex` entry (Kafka's `AbortedTxn.TOTAL_SIZE`).
pub const TXN_ENTRY_SIZE: usize = 34;

/// One entry of a `.txnindex` file (Kafka's `AbortedTxn`): version i16, producer id i64,
/// first offset i64, last offset i64, last stable offset i64.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTxnEntry {
    /// The entry version (0).
    pub version: i16,
    /// The producer whose transaction was aborted.
    pub producer_id: i64,
    /// The transaction's first offset.
    pub first_offset: i64,
    /// Its last offset (the ABORT marker's).
    pub last_offset: i64,
    /// The last stable offset when it was aborted.
    pub last_stable_offset: i64,
}

/// The entries of a `.txnindex` file; a file that does not exist has none.
pub fn txn_index_entries(path: &Path) -> Vec<AbortedTxnEntry> {
    match fs::read(path) {
        Ok(data) => {
            assert_eq!(
                data.len() % TXN_ENTRY_SIZE,
                0,
                "{}: not whole entries",
                path.display()
            );
            txn_index_entries_from(&data)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

/// The entries of a transaction index's bytes (whole entries only).
pub fn txn_index_entries_from(data: &[u8]) -> Vec<AbortedTxnEntry> {
    data.chunks_exact(TXN_ENTRY_SIZE)
        .map(|e| AbortedTxnEntry {
            version: i16::from_be_bytes([e[0], e[1]]),
            producer_id: be_i64(&e[2..10]),
            first_offset: be_i64(&e[10..18]),
            last_offset: be_i64(&e[18..26]),
            last_stable_offset: be_i64(&e[26..34]),
        })
        .collect()
}

/// Every batch of a `.log` file's bytes, each CRC-checked; the file must hold whole batches.
pub fn file_batches<'a>(path: &Path, data: &'a [u8]) -> Vec<BatchView<&'a [u8]>> {
    let mut walk = Batches::new(data);
    let mut out = Vec::new();
    for b in walk.by_ref() {
        let b = b.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        b.validate()
            .unwrap_or_else(|e| panic!("{}: batch at {}: {e}", path.display(), b.position()));
        out.push(b);
    }
    assert!(
        walk.remainder().is_empty(),
        "{}: {} bytes after the last batch",
        path.display(),
        walk.remainder().len()
    );
    out
}

/// The size of a producer snapshot's header: version i16, CRC-32C u32, entry count i32.
const SNAPSHOT_HEADER: usize = 10;

/// The size of one producer snapshot entry (version 1): producer id i64, epoch i16, last
/// sequence i32, last offset i64, offset delta i32, timestamp i64, coordinator epoch i32,
/// current transaction's first offset i64.
const SNAPSHOT_ENTRY: usize = 46;

/// One entry of a producer `.snapshot` file (Kafka's `ProducerStateManager` layout, version 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotEntry {
    /// The producer id.
    pub producer_id: i64,
    /// Its epoch.
    pub epoch: i16,
    /// The last sequence of its last batch.
    pub last_sequence: i32,
    /// The last offset of its last batch.
    pub last_offset: i64,
    /// Its last batch's last offset minus its first.
    pub offset_delta: i32,
    /// Its last batch's max timestamp.
    pub timestamp: i64,
    /// The coordinator epoch of its last transaction marker (-1: none).
    pub coordinator_epoch: i32,
    /// The first offset of its open transaction (-1: none).
    pub current_txn_first_offset: i64,
}

/// The entries of a producer snapshot's bytes (its version must be 1 and its length whole
/// entries; the CRC is not checked here).
pub fn snapshot_entries_from(path: &Path, data: &[u8]) -> Vec<SnapshotEntry> {
    assert!(data.len() >= SNAPSHOT_HEADER, "{}: short", path.display());
    assert_eq!(
        i16::from_be_bytes([data[0], data[1]]),
        1,
        "{}: version",
        path.display()
    );
    let count = be_u32(&data[6..10]) as usize;
    let body = &data[SNAPSHOT_HEADER..];
    assert_eq!(
        body.len(),
        count * SNAPSHOT_ENTRY,
        "{}: entries",
        path.display()
    );
    body.chunks_exact(SNAPSHOT_ENTRY)
        .map(|e| SnapshotEntry {
            producer_id: be_i64(&e[0..8]),
            epoch: i16::from_be_bytes([e[8], e[9]]),
            last_sequence: i32::from_be_bytes(e[10..14].try_into().expect("4")),
            last_offset: be_i64(&e[14..22]),
            offset_delta: i32::from_be_bytes(e[22..26].try_into().expect("4")),
            timestamp: be_i64(&e[26..34]),
            coordinator_epoch: i32::from_be_bytes(e[34..38].try_into().expect("4")),
            current_txn_first_offset: be_i64(&e[38..46]),
        })
        .collect()
}
