//! Kafka's offset checkpoint files (`recovery-point-offset-checkpoint`,
//! `log-start-offset-checkpoint`; Kafka's `OffsetCheckpointFile`): a text file with the format
//! version (0), the entry count, then one `topic partition offset` line per partition. The log
//! directory layer writes each file whole, for all its partitions
//! ([`crate::log_dir::LogManager::checkpoint`]).

use crate::error::StorageError;
use crate::storage::Storage;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;

/// A checkpoint file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Reading or writing failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The file does not have Kafka's checkpoint format.
    #[error("{path} line {line}: {what}")]
    Malformed {
        /// The file.
        path: String,
        /// The 1-based line.
        line: usize,
        /// What was expected there.
        what: &'static str,
    },
}

/// One checkpoint entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointEntry {
    /// Topic name.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The offset (the recovery point: everything below it is durable).
    pub offset: u64,
}

/// Renders entries in Kafka's format, version 0.
pub fn render(entries: &[CheckpointEntry]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "0");
    let _ = writeln!(s, "{}", entries.len());
    for e in entries {
        let _ = writeln!(s, "{} {} {}", e.topic, e.partition, e.offset);
    }
    s
}

/// Parses Kafka's checkpoint format, version 0.
pub fn parse(path: &str, text: &str) -> Result<Vec<CheckpointEntry>, CheckpointError> {
    let bad = |line, what| CheckpointError::Malformed {
        path: path.to_string(),
        line,
        what,
    };
    let mut lines = text.lines();
    if lines.next() != Some("0") {
        return Err(bad(1, "version 0"));
    }
    let count: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| bad(2, "an entry count"))?;
    let mut out = Vec::new();
    for i in 0..count {
        let line = lines.next().ok_or_else(|| bad(3 + i, "an entry"))?;
        let mut parts = line.split(' ');
        let (Some(t), Some(p), Some(o), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(3 + i, "`topic partition offset`"));
        };
        let partition = p.parse().map_err(|_| bad(3 + i, "an int32 partition"))?;
        let offset = o.parse().map_err(|_| bad(3 + i, "a non-negative offset"))?;
        out.push(CheckpointEntry {
            topic: t.to_string(),
            partition,
            offset,
        });
    }
    Ok(out)
}

/// Reads the checkpoint at `path`; a missing file is an empty checkpoint.
pub fn read<S: Storage>(st: &mut S, path: &str) -> Result<Vec<CheckpointEntry>, CheckpointError> {
    let mut f = match st.open(path, false) {
        Ok(f) => f,
        Err(StorageError::NotFound { .. }) => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    let len = st.len(&mut f)?;
    let n = usize::try_from(len).map_err(|_| CheckpointError::Malformed {
        path: path.to_string(),
        line: 0,
        what: "a file that fits in memory",
    })?;
    let mut buf = vec![0u8; n];
    st.read_exact_at(&mut f, 0, &mut buf)?;
    let text = core::str::from_utf8(&buf).map_err(|_| CheckpointError::Malformed {
        path: path.to_string(),
        line: 0,
        what: "UTF-8 text",
    })?;
    parse(path, text)
}

/// Writes the checkpoint durably and atomically: a `.tmp` file, synced, renamed over `path`,
/// then the directory synced (as Kafka's `CheckpointFile`).
pub fn write<S: Storage>(
    st: &mut S,
    dir: &str,
    path: &str,
    entries: &[CheckpointEntry],
) -> Result<(), StorageError> {
    let tmp = alloc::format!("{path}{}", crate::names::TMP_SUFFIX);
    let mut f = st.open(&tmp, true)?;
    st.set_len(&mut f, 0)?;
    st.write_at(&mut f, 0, render(entries).as_bytes())?;
    st.sync(&mut f)?;
    st.rename(&tmp, path)?;
    st.sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemStorage;

    #[test]
    fn kafka_format_round_trip() {
        let mut st = MemStorage::new();
        let entry = |topic: &str, partition, offset| CheckpointEntry {
            topic: topic.to_string(),
            partition,
            offset,
        };
        write(
            &mut st,
            "",
            "recovery-point-offset-checkpoint",
            &[entry("a", 0, 12), entry("b", 2, 7)],
        )
        .unwrap();
        let text = st.contents("recovery-point-offset-checkpoint").unwrap();
        assert_eq!(
            core::str::from_utf8(&text).unwrap(),
            "0\n2\na 0 12\nb 2 7\n"
        );
        assert!(!st.exists("recovery-point-offset-checkpoint.tmp").unwrap());
        let e = read(&mut st, "recovery-point-offset-checkpoint").unwrap();
        assert_eq!(e[1].offset, 7);
        assert!(parse("x", "1\n0\n").is_err());
        assert!(parse("x", "0\n2\na 0 1\n").is_err());
        assert!(parse("x", "0\n1\na 0 -1\n").is_err());
    }
}
