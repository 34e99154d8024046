//! What the producers of a topic wrote, read back from a broker's log directory (Kafka's
//! on-disk format, which klog writes too): the kinds of record batch in each partition's
//! segments, by codec and by whether an idempotent producer wrote them. A client that quietly
//! fell back to another codec, or to a non-idempotent producer, shows here.

use super::Codec;
use crate::segments::{file_batches, read, segments_in};
use kproto::records::Compression;
use std::collections::BTreeSet;
use std::path::Path;

/// A kind of record batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BatchKind {
    /// Its codec.
    pub codec: Codec,
    /// Written by an idempotent producer (a producer id is set).
    pub idempotent: bool,
}

impl BatchKind {
    /// A batch of `codec`, idempotent or not.
    pub fn new(codec: Codec, idempotent: bool) -> BatchKind {
        BatchKind { codec, idempotent }
    }
}

fn codec(c: Compression) -> Codec {
    match c {
        Compression::None => Codec::None,
        Compression::Gzip => Codec::Gzip,
        Compression::Snappy => Codec::Snappy,
        Compression::Lz4 => Codec::Lz4,
        Compression::Zstd => Codec::Zstd,
    }
}

/// The kinds of batch in partitions `0..partitions` of `topic` under `log_dir`, and how many
/// records they hold. Every batch must pass its CRC; a transactional batch fails this (the
/// scenarios write none).
pub fn kinds(log_dir: &Path, topic: &str, partitions: i32) -> (BTreeSet<BatchKind>, u64) {
    let mut kinds = BTreeSet::new();
    let mut records = 0;
    for p in 0..partitions {
        let dir = log_dir.join(format!("{topic}-{p}"));
        for segment in segments_in(&dir) {
            let data = read(&segment.log);
            for b in file_batches(&segment.log, &data) {
                assert!(
                    !b.is_transactional(),
                    "{}: a transactional batch at offset {}",
                    segment.log.display(),
                    b.base_offset()
                );
                let c = b
                    .compression()
                    .unwrap_or_else(|e| panic!("{}: {e}", segment.log.display()));
                kinds.insert(BatchKind::new(codec(c), b.producer_id() >= 0));
                records += u64::try_from(b.record_count()).unwrap_or(0);
            }
        }
    }
    (kinds, records)
}
