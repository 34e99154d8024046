//! The line format between the drivers and the client programs they run
//! (`tests/clients/python/*.py`, `tests/clients/node/produce.mjs`,
//! `tests/java/clients/JavaClients.java`): text a shell, Python, Node.js and Java all read and
//! write without a JSON library, binary-safe because every byte string is hex.
//!
//! Records go to a program on its stdin, one per line, five tab-separated fields:
//!
//! ```text
//! partition  key  value  headers
//! ```
//!
//! `partition` is a decimal or `-` (the client's partitioner chooses); `key` and `value` are hex
//! as [`crate::records::hex`] writes it (`-` is null, `=` is zero bytes); `headers` is empty or
//! comma-separated `KEYHEX:VALUEHEX` pairs (the key's UTF-8 in hex; the value `-` for null).
//!
//! A program prints tagged lines on stdout (its stderr is diagnostics):
//!
//! ```text
//! D  index  partition  offset                              a delivery report (offset -1: unknown)
//! R  partition  offset  timestamp  key  value  headers     a record read
//! E  partition  end_offset                                 an end offset (high watermark)
//! A  step  field...                                        an Admin result (see java::admin)
//! #...                                                    a note (any line starting with #), ignored
//! ```

use super::{Consumed, Delivery, Header, Record};
use crate::records::{hex, unhex};
use std::fmt::Write as _;

fn nullable_hex(b: &Option<Vec<u8>>) -> String {
    hex(b.as_deref())
}

/// [`unhex`] of a field, after checking it is `-`, `=` or hex digits (`unhex` panics on
/// anything else; a line a program printed gets an error naming it instead).
fn nullable_unhex(s: &str) -> Result<Option<Vec<u8>>, String> {
    if s != "-" && s != "=" {
        if s.len() % 2 != 0 {
            return Err(format!("odd-length hex ({} digits)", s.len()));
        }
        if let Some(c) = s.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(format!("{c:?} is not a hex digit"));
        }
    }
    Ok(unhex(s))
}

fn headers_field(headers: &[Header]) -> String {
    headers
        .iter()
        .map(|h| format!("{}:{}", hex(Some(h.key.as_bytes())), nullable_hex(&h.value)))
        .collect::<Vec<_>>()
        .join(",")
}

fn parse_headers(s: &str) -> Result<Vec<Header>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|pair| {
            let (k, v) = pair
                .split_once(':')
                .ok_or_else(|| format!("header {pair:?} has no ':'"))?;
            let key = nullable_unhex(k)?.ok_or("a null header key")?;
            let key =
                String::from_utf8(key).map_err(|e| format!("header key is not UTF-8: {e}"))?;
            Ok(Header {
                key,
                value: nullable_unhex(v)?,
            })
        })
        .collect()
}

/// The stdin of a program that produces `records`: one line each.
pub fn records_input(records: &[Record]) -> String {
    let mut out = String::new();
    for r in records {
        let partition = r
            .partition
            .map_or_else(|| "-".to_string(), |p| p.to_string());
        let _ = writeln!(
            out,
            "{partition}\t{}\t{}\t{}",
            nullable_hex(&r.key),
            nullable_hex(&r.value),
            headers_field(&r.headers)
        );
    }
    out
}

/// What a program printed, by tag.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// `D` lines.
    pub deliveries: Vec<Delivery>,
    /// `R` lines.
    pub records: Vec<Consumed>,
    /// `E` lines: `(partition, end offset)`.
    pub end_offsets: Vec<(i32, i64)>,
    /// `A` lines, their fields after the tag.
    pub admin: Vec<Vec<String>>,
}

impl Output {
    /// The `D` lines of a program that ran one producer after another over consecutive slices
    /// of its input (`counts[i]` records for run `i`), split by run and indexed within each
    /// run; an error when a report's index is beyond the input.
    pub fn deliveries_by_run(&self, counts: &[usize]) -> Result<Vec<Vec<Delivery>>, String> {
        let mut starts = Vec::with_capacity(counts.len());
        let mut total = 0;
        for &n in counts {
            starts.push(total);
            total += n;
        }
        let mut runs = vec![Vec::new(); counts.len()];
        for d in &self.deliveries {
            let run = starts
                .iter()
                .rposition(|&s| s <= d.index)
                .filter(|_| d.index < total)
                .ok_or_else(|| format!("a delivery report for record {} of {total}", d.index))?;
            runs[run].push(Delivery {
                index: d.index - starts[run],
                ..*d
            });
        }
        Ok(runs)
    }
}

fn number<T: std::str::FromStr>(field: &str, what: &str) -> Result<T, String>
where
    T::Err: std::fmt::Display,
{
    field
        .parse()
        .map_err(|e| format!("{what} {field:?} is not a number: {e}"))
}

fn parse_line(line: &str, out: &mut Output) -> Result<(), String> {
    let f: Vec<&str> = line.split('\t').collect();
    match (f[0], f.len()) {
        ("D", 4) => out.deliveries.push(Delivery {
            index: number(f[1], "index")?,
            partition: number(f[2], "partition")?,
            offset: number(f[3], "offset")?,
        }),
        ("R", 7) => out.records.push(Consumed {
            partition: number(f[1], "partition")?,
            offset: number(f[2], "offset")?,
            timestamp: number(f[3], "timestamp")?,
            key: nullable_unhex(f[4])?,
            value: nullable_unhex(f[5])?,
            headers: parse_headers(f[6])?,
        }),
        ("E", 3) => out
            .end_offsets
            .push((number(f[1], "partition")?, number(f[2], "end offset")?)),
        ("A", n) if n >= 2 => out
            .admin
            .push(f[1..].iter().map(|s| s.to_string()).collect()),
        (tag, n) => return Err(format!("unknown line (tag {tag:?}, {n} fields)")),
    }
    Ok(())
}

/// Parses a program's stdout; an error names the line and what is wrong with it.
pub fn parse_output(stdout: &str) -> Result<Output, String> {
    let mut out = Output::default();
    for (i, line) in stdout.lines().enumerate() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        parse_line(line, &mut out).map_err(|e| {
            let shown: String = line.chars().take(120).collect();
            format!("stdout line {}: {e}: {shown:?}", i + 1)
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_written_as_input_parse_back_as_consumed_records() {
        let r = Record {
            partition: Some(2),
            key: Some("ключ-🔑".as_bytes().to_vec()),
            value: Some(vec![0, 9, 10, 13, 255]),
            headers: vec![
                Header {
                    key: "trace,id:x".into(),
                    value: Some(vec![1; 16]),
                },
                Header {
                    key: "null".into(),
                    value: None,
                },
                Header {
                    key: "empty".into(),
                    value: Some(Vec::new()),
                },
            ],
        };
        let tombstone = Record {
            partition: None,
            key: None,
            value: None,
            headers: Vec::new(),
        };
        let input = records_input(&[r.clone(), tombstone.clone()]);
        // A program echoing each input line as a record at offset = line number.
        let echoed: String = input
            .lines()
            .enumerate()
            .map(|(i, l)| {
                let (_, rest) = l.split_once('\t').unwrap();
                format!("R\t0\t{i}\t1700000000000\t{rest}\nD\t{i}\t0\t{i}\n")
            })
            .collect();
        let out = parse_output(&format!("# a note\n{echoed}E\t0\t2\nA\tcreate\tt\t3\n")).unwrap();
        assert!(out.records[0].holds(&r), "{:?}", out.records[0]);
        assert!(out.records[1].holds(&tombstone), "{:?}", out.records[1]);
        assert_eq!(out.records[1].offset, 1);
        assert_eq!(out.deliveries[1].index, 1);
        assert_eq!(out.end_offsets, vec![(0, 2)]);
        assert_eq!(out.admin, vec![vec!["create", "t", "3"]]);
        let runs = out.deliveries_by_run(&[1, 0, 1]).unwrap();
        assert_eq!(runs[0][0].index, 0);
        assert!(runs[1].is_empty());
        assert_eq!((runs[2][0].index, runs[2][0].offset), (0, 1));
        assert!(out.deliveries_by_run(&[1]).is_err());
    }

    #[test]
    fn a_malformed_line_is_named() {
        let e = parse_output("D\t0\t0\t5\nR\t0\tx\t0\t-\t-\t\n").unwrap_err();
        assert!(e.starts_with("stdout line 2: offset \"x\""), "{e}");
        let e = parse_output("hello\n").unwrap_err();
        assert!(e.contains("unknown line"), "{e}");
        let e = parse_output("R\t0\t1\t0\t-\t-\t6b\n").unwrap_err();
        assert!(e.contains("has no ':'"), "{e}");
        let e = parse_output("R\t0\t1\t0\tabc\t-\t\n").unwrap_err();
        assert!(e.contains("odd-length"), "{e}");
        let e = parse_output("R\t0\t1\t0\t-\tzz\t\n").unwrap_err();
        assert!(e.contains("not a hex digit"), "{e}");
    }
}
