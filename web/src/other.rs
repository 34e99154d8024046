//! The partition directory's other files, shown as tables: producer state snapshots
//! (`.snapshot`, decoded by klog), aborted-transaction indexes (`.txnindex`),
//! `leader-epoch-checkpoint` and `partition.metadata`.

use crate::error::Problem;
use klog::producer_state::ProducerStateManager;
use serde::Serialize;

/// A file shown as a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    /// The file.
    pub file: String,
    /// What the file is.
    pub kind: &'static str,
    /// Column names.
    pub columns: Vec<&'static str>,
    /// Rows, one cell per column.
    pub rows: Vec<Vec<String>>,
    /// What is wrong with it.
    pub problems: Vec<Problem>,
}

/// The size of one `.txnindex` entry (`AbortedTxn`): version, producer id, first, last and
/// last stable offset.
pub const TXN_ENTRY_SIZE: usize = 34;

fn base_name(file: &str) -> &str {
    file.rsplit('/').next().unwrap_or(file)
}

/// Reads one of the other files, by its name; `None` for a name it does not know.
pub fn read_other(file: &str, data: &[u8]) -> Option<Table> {
    let name = base_name(file);
    let mut t = Table {
        file: file.to_owned(),
        kind: "",
        columns: Vec::new(),
        rows: Vec::new(),
        problems: Vec::new(),
    };
    if let Some(stem) = name.strip_suffix(".snapshot") {
        t.kind = "producer snapshot";
        t.columns = vec![
            "producerId",
            "epoch",
            "lastSequence",
            "lastOffset",
            "offsetDelta",
            "timestamp",
            "coordinatorEpoch",
            "currentTxnFirstOffset",
        ];
        let offset = stem.parse().unwrap_or(0);
        match ProducerStateManager::decode_snapshot(file, offset, data) {
            Ok(m) => {
                for (pid, e) in m.producers() {
                    let last = e.batches.back();
                    t.rows.push(vec![
                        pid.to_string(),
                        e.epoch.to_string(),
                        last.map_or(-1, |b| b.last_seq).to_string(),
                        last.map_or(-1, |b| b.last_offset as i64).to_string(),
                        last.map_or(0, |b| b.offset_delta).to_string(),
                        e.last_timestamp().to_string(),
                        e.coordinator_epoch.to_string(),
                        e.current_txn_first_offset
                            .map_or(-1, |o| o as i64)
                            .to_string(),
                    ]);
                }
            }
            Err(e) => t
                .problems
                .push(Problem::new(file, 0, "snapshot", e.to_string())),
        }
    } else if name.ends_with(".txnindex") {
        t.kind = "aborted transactions index";
        t.columns = vec![
            "version",
            "producerId",
            "firstOffset",
            "lastOffset",
            "lastStableOffset",
        ];
        for (i, e) in data.chunks_exact(TXN_ENTRY_SIZE).enumerate() {
            let l = |at: usize| {
                let mut a = [0u8; 8];
                a.copy_from_slice(&e[at..at + 8]);
                i64::from_be_bytes(a)
            };
            let version = i16::from_be_bytes([e[0], e[1]]);
            if version != 0 {
                t.problems.push(Problem::new(
                    file,
                    (i * TXN_ENTRY_SIZE) as u64,
                    "txnindex",
                    format!("entry {i}: unknown version {version}"),
                ));
            }
            t.rows.push(vec![
                version.to_string(),
                l(2).to_string(),
                l(10).to_string(),
                l(18).to_string(),
                l(26).to_string(),
            ]);
        }
        let rem = data.len() % TXN_ENTRY_SIZE;
        if rem != 0 {
            t.problems.push(Problem::new(
                file,
                (data.len() - rem) as u64,
                "index-tail",
                format!("{rem} invalid bytes at the end: not a whole {TXN_ENTRY_SIZE}-byte entry"),
            ));
        }
    } else if name == "leader-epoch-checkpoint" {
        t.kind = "leader epoch checkpoint";
        t.columns = vec!["epoch", "startOffset"];
        let text = String::from_utf8_lossy(data);
        let mut lines = text.lines();
        let bad = |t: &mut Table, line: usize, what: String| {
            t.problems.push(Problem::new(
                file,
                line as u64,
                "checkpoint",
                format!("line {line}: {what}"),
            ))
        };
        match lines.next().map(str::trim) {
            Some("0") => {}
            other => bad(&mut t, 1, format!("version {other:?}, expected 0")),
        }
        let count: Option<usize> = lines.next().and_then(|l| l.trim().parse().ok());
        let mut n = 0;
        for (i, l) in lines.enumerate() {
            let parts: Vec<&str> = l.split_whitespace().collect();
            match parts[..] {
                [e, o] if e.parse::<i32>().is_ok() && o.parse::<i64>().is_ok() => {
                    t.rows.push(vec![e.to_owned(), o.to_owned()]);
                    n += 1;
                }
                [] => {}
                _ => bad(&mut t, i + 3, format!("{l:?} is not `epoch offset`")),
            }
        }
        match count {
            Some(c) if c == n => {}
            Some(c) => bad(&mut t, 2, format!("{c} entries announced, {n} found")),
            None => bad(&mut t, 2, "no entry count".into()),
        }
    } else if name == "partition.metadata" {
        t.kind = "partition metadata";
        t.columns = vec!["key", "value"];
        for l in String::from_utf8_lossy(data).lines() {
            if let Some((k, v)) = l.split_once(':') {
                t.rows.push(vec![k.trim().to_owned(), v.trim().to_owned()]);
            }
        }
        if !t.rows.iter().any(|r| r[0] == "topic_id") {
            t.problems
                .push(Problem::new(file, 0, "metadata", "no topic_id line"));
        }
    } else {
        return None;
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txnindex_checkpoint_and_metadata() {
        let mut tx = Vec::new();
        for (pid, first, last) in [(7i64, 100i64, 180i64), (9, 150, 400)] {
            tx.extend_from_slice(&0i16.to_be_bytes());
            for v in [pid, first, last, last + 1] {
                tx.extend_from_slice(&v.to_be_bytes());
            }
        }
        tx.extend_from_slice(&[1, 2, 3]);
        let t = read_other("p/00000000000000000000.txnindex", &tx).unwrap();
        assert_eq!(
            t.rows,
            [
                ["0", "7", "100", "180", "181"],
                ["0", "9", "150", "400", "401"]
            ]
        );
        assert_eq!(
            (t.problems[0].kind, t.problems[0].offset),
            ("index-tail", 68)
        );
        let t = read_other("leader-epoch-checkpoint", b"0\n2\n0 0\n3 1200\n").unwrap();
        assert_eq!(t.rows, [["0", "0"], ["3", "1200"]]);
        assert!(t.problems.is_empty());
        let t = read_other("leader-epoch-checkpoint", b"0\n3\n0 0\nx\n").unwrap();
        let reasons: Vec<_> = t.problems.iter().map(|p| p.reason.as_str()).collect();
        assert_eq!(
            reasons,
            [
                "line 4: \"x\" is not `epoch offset`",
                "line 2: 3 entries announced, 1 found"
            ]
        );
        let t = read_other(
            "d/partition.metadata",
            b"version: 0\ntopic_id: 3r2Dnzk4RPSDAanXdKS3Vw\n",
        )
        .unwrap();
        assert_eq!(t.rows[1], ["topic_id", "3r2Dnzk4RPSDAanXdKS3Vw"]);
        assert!(read_other("x.log", b"").is_none());
    }
}
