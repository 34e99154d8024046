//! Kafka's file and directory names: `topic-partition/` holding `<20-digit base offset>.log`,
//! `.index`, `.timeindex`, `.txnindex` and `.snapshot` files.

use alloc::format;
use alloc::string::String;

/// Suffix of segment data files.
pub(crate) const LOG_SUFFIX: &str = ".log";
/// Suffix of offset index files.
pub(crate) const INDEX_SUFFIX: &str = ".index";
/// Suffix of time index files.
pub(crate) const TIME_INDEX_SUFFIX: &str = ".timeindex";
/// Suffix of transaction index files.
pub(crate) const TXN_INDEX_SUFFIX: &str = ".txnindex";
/// Suffix of producer state snapshot files.
pub(crate) const SNAPSHOT_SUFFIX: &str = ".snapshot";
/// Suffix Kafka gives files scheduled for deletion.
pub(crate) const DELETED_SUFFIX: &str = ".deleted";
/// Suffix of files being written before an atomic rename.
pub(crate) const TMP_SUFFIX: &str = ".tmp";
/// The recovery point checkpoint in the log directory (parent of the partition directories).
pub(crate) const RECOVERY_POINT_CHECKPOINT: &str = "recovery-point-offset-checkpoint";

/// The log start offset checkpoint in the log directory (same format).
pub(crate) const LOG_START_OFFSET_CHECKPOINT: &str = "log-start-offset-checkpoint";

/// A partition's directory name: `topic-partition`.
pub(crate) fn partition_dir(topic: &str, partition: i32) -> String {
    format!("{topic}-{partition}")
}

/// The 20-digit zero-padded base offset that names a segment's files.
pub(crate) fn file_stem(base_offset: u64) -> String {
    format!("{base_offset:020}")
}

/// `dir/<base offset><suffix>`.
pub(crate) fn segment_file(dir: &str, base_offset: u64, suffix: &str) -> String {
    crate::storage::join(dir, &format!("{}{suffix}", file_stem(base_offset)))
}

/// The kinds of files klog recognises in a partition directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `.log`
    Log,
    /// `.index`
    Index,
    /// `.timeindex`
    TimeIndex,
    /// `.txnindex`
    TxnIndex,
    /// `.snapshot`
    Snapshot,
}

/// Parses a file name (`00000000000000000042.log`) into its base offset and kind; `None` for
/// anything else (including `.deleted` and `.tmp` files).
pub fn parse_file_name(name: &str) -> Option<(u64, FileKind)> {
    let (stem, kind) = if let Some(s) = name.strip_suffix(LOG_SUFFIX) {
        (s, FileKind::Log)
    } else if let Some(s) = name.strip_suffix(INDEX_SUFFIX) {
        (s, FileKind::Index)
    } else if let Some(s) = name.strip_suffix(TIME_INDEX_SUFFIX) {
        (s, FileKind::TimeIndex)
    } else if let Some(s) = name.strip_suffix(TXN_INDEX_SUFFIX) {
        (s, FileKind::TxnIndex)
    } else if let Some(s) = name.strip_suffix(SNAPSHOT_SUFFIX) {
        (s, FileKind::Snapshot)
    } else {
        return None;
    };
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok().map(|o| (o, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(partition_dir("orders", 3), "orders-3");
        assert_eq!(
            segment_file("orders-3", 42, LOG_SUFFIX),
            "orders-3/00000000000000000042.log"
        );
        assert_eq!(file_stem(u64::MAX).len(), 20);
        assert_eq!(
            parse_file_name("00000000000000000042.timeindex"),
            Some((42, FileKind::TimeIndex))
        );
        assert_eq!(
            parse_file_name("00000000000000000042.txnindex"),
            Some((42, FileKind::TxnIndex))
        );
        assert_eq!(parse_file_name("00000000000000000042.log.deleted"), None);
        assert_eq!(parse_file_name("42.log"), None);
        assert_eq!(parse_file_name("0000000000000000004x.log"), None);
    }
}
