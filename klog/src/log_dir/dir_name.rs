//! The names of the directories in a log directory (Kafka's `LocalLog.parseTopicPartitionName`,
//! `logDeleteDirName`, `logStrayDirName`): `topic-partition` for a partition, and
//! `topic-partition.<32 hex digits>-delete`, `-future` or `-stray` for one being deleted, moved
//! in from another log directory, or set aside.

use alloc::format;
use alloc::string::{String, ToString};

/// What a directory of the log directory is, by its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirKind {
    /// `topic-partition`: a partition's log.
    Partition,
    /// `topic-partition.<id>-delete`: deleted, its files not removed yet.
    Delete,
    /// `topic-partition.<id>-future`: a replica being moved in from another log directory.
    Future,
    /// `topic-partition.<id>-stray`: a log the broker set aside (no topic id, or not assigned).
    Stray,
}

/// A parsed directory name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionDirName {
    /// The topic.
    pub topic: String,
    /// The partition.
    pub partition: i32,
    /// Which kind of directory.
    pub kind: DirKind,
}

/// Kafka's suffixes, with the kinds they mark.
const SUFFIXES: [(&str, DirKind); 3] = [
    ("-delete", DirKind::Delete),
    ("-future", DirKind::Future),
    ("-stray", DirKind::Stray),
];

/// Parses a directory name as Kafka's `parseTopicPartitionName` does: a name ending in
/// `-delete`, `-future` or `-stray` must match `^(\S+)-(\S+)\.(\S+)-<suffix>` and loses its
/// `.<id>-<suffix>` tail; then the topic is what comes before the last `-` and the partition
/// (a Java int) after it, neither empty. `None` for anything else: Kafka refuses to start on
/// such a directory ("is not in the form of topic-partition or
/// topic-partition.uniqueId-delete").
pub fn parse_dir_name(name: &str) -> Option<PartitionDirName> {
    let mut kind = DirKind::Partition;
    let mut base = name;
    for (suffix, k) in SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix) {
            // ^(\S+)-(\S+)\.(\S+)-suffix: no white space, a '-' before a later '.'
            if name.chars().any(char::is_whitespace) {
                return None;
            }
            let dot = stem.rfind('.')?;
            let (head, id) = (&stem[..dot], &stem[dot + 1..]);
            if id.is_empty() {
                return None;
            }
            let dash = head.rfind('-')?;
            if dash == 0 || dash + 1 == head.len() {
                return None;
            }
            base = head;
            kind = k;
            break;
        }
    }
    let (topic, partition) = base.rsplit_once('-')?;
    if topic.is_empty() || partition.is_empty() {
        return None;
    }
    // Java's Integer.parseInt: an optional sign, decimal digits, within int range
    let digits = partition
        .strip_prefix('-')
        .or_else(|| partition.strip_prefix('+'))
        .unwrap_or(partition);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let partition: i32 = partition.parse().ok()?;
    Some(PartitionDirName {
        topic: topic.to_string(),
        partition,
        kind,
    })
}

/// `(topic, partition)` of a partition directory's name `<topic>-<partition>`, or `None` for a
/// name that is not one (also for the `-delete`, `-future` and `-stray` names: see
/// [`parse_dir_name`]).
pub fn parse_partition_dir(name: &str) -> Option<(String, i32)> {
    match parse_dir_name(name)? {
        PartitionDirName {
            topic,
            partition,
            kind: DirKind::Partition,
        } if partition >= 0 => Some((topic, partition)),
        _ => None,
    }
}

/// The name Kafka gives a directory set aside with `suffix` (`-delete`, `-stray`):
/// `topic-partition.<id as 32 hex digits>suffix`, the topic cut so that the whole name fits
/// 255 bytes (Kafka's `logDirNameWithSuffixCappedLength`). Kafka's id is a random UUID; the
/// caller provides one (klog reads no OS randomness), only its uniqueness matters.
pub fn set_aside_dir_name(topic: &str, partition: i32, id: u128, suffix: &str) -> String {
    let tail = format!("-{partition}.{id:032x}{suffix}");
    let mut cut = topic.len().min(255usize.saturating_sub(tail.len()));
    while !topic.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{tail}", &topic[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_dir_names_as_kafka_parses_them() {
        assert_eq!(parse_partition_dir("orders-0"), Some(("orders".into(), 0)));
        assert_eq!(
            parse_partition_dir("my-topic-v2-17"),
            Some(("my-topic-v2".into(), 17))
        );
        assert_eq!(
            parse_partition_dir("my.topic-3"),
            Some(("my.topic".into(), 3))
        );
        assert_eq!(
            parse_partition_dir("__consumer_offsets-49"),
            Some(("__consumer_offsets".into(), 49))
        );
        for bad in [
            "orders",
            "orders-",
            "-0",
            "orders-x",
            "orders-1a",
            "orders-99999999999",
            "remote-log-index-cache",
        ] {
            assert_eq!(parse_partition_dir(bad), None, "{bad}");
        }
        let d = parse_dir_name("orders-3.0123456789abcdef0123456789abcdef-delete").unwrap();
        assert_eq!(
            (d.topic.as_str(), d.partition, d.kind),
            ("orders", 3, DirKind::Delete)
        );
        let d = parse_dir_name("my.topic-0.ff-stray").unwrap();
        assert_eq!((d.topic.as_str(), d.kind), ("my.topic", DirKind::Stray));
        let d = parse_dir_name("t-1.abc-future").unwrap();
        assert_eq!((d.partition, d.kind), (1, DirKind::Future));
        for bad in [
            "orders-delete",
            "orders-3-delete",
            "orders-3.-delete",
            "o rders-3.a-delete",
        ] {
            assert_eq!(parse_dir_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn set_aside_names_are_capped_at_255_bytes() {
        let id = 0x0123_4567_89ab_cdef_0123_4567_89ab_cdefu128;
        let n = set_aside_dir_name("orders", 3, id, "-delete");
        assert_eq!(n, "orders-3.0123456789abcdef0123456789abcdef-delete");
        let back = parse_dir_name(&n).unwrap();
        assert_eq!((back.topic.as_str(), back.partition), ("orders", 3));
        // Kafka's longest topic name is 249 characters
        let long = "t".repeat(249);
        let n = set_aside_dir_name(&long, 12, id, "-stray");
        assert_eq!(n.len(), 255);
        assert_eq!(parse_dir_name(&n).unwrap().kind, DirKind::Stray);
    }
}
