//! Realistic records for the client drivers: unicode keys, values of 0.1 to 4 KB (most under
//! 1 KB, a tenth over 2.5 KB, so record lengths take two-byte varints), JSON-like text with
//! unicode words and, where the client carries bytes, random binary; headers with a unicode key,
//! a 16-byte trace id and now and then a 1 KiB header. Deterministic: the same arguments give
//! the same records.

use super::{Header, Record};
use kproto::testing::Rng;
use std::fmt::Write as _;

/// What the records may hold, for what a client can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Only printable UTF-8 without tabs or newlines in keys, values and headers (what kcat's
    /// `-P` reads from its input lines); otherwise values are half text, half binary.
    pub text_only: bool,
    /// Now and then a null key and a null value (a tombstone).
    pub nulls: bool,
    /// Now and then a header with a null value (kafka-python cannot send one) beside one with
    /// an empty value.
    pub null_header_values: bool,
    /// Every record carries the same headers (kcat's `-H` gives one set for a whole run);
    /// otherwise each record has its own.
    pub same_headers: bool,
    /// `Some(n)`: every third record names its partition (`index % n`), the others leave it to
    /// the client's partitioner; `None`: every record leaves it to the partitioner.
    pub partitions: Option<i32>,
}

/// Unicode words for keys, values and headers (multi-byte UTF-8 of two, three and four bytes).
const WORDS: &[&str] = &[
    "kafka",
    "partition",
    "Größe",
    "naïve",
    "ключ",
    "значение",
    "κλειδί",
    "鍵",
    "値",
    "日志",
    "분할",
    "🔑",
    "🪵",
    "λόγος",
    "offset",
    "عنوان",
];

/// The headers a `same_headers` run gives every record.
pub fn fixed_headers() -> Vec<Header> {
    vec![
        Header {
            key: "origin".into(),
            value: Some(b"kpp-client-test".to_vec()),
        },
        Header {
            key: "trace-id".into(),
            value: Some(b"4bf92f3577b34da6a3ce929d0e0e4736".to_vec()),
        },
        Header {
            key: "ünïcode-键".into(),
            value: Some("värde-値-🔑".as_bytes().to_vec()),
        },
    ]
}

fn text(rng: &mut Rng, out: &mut String, len: usize) {
    while out.len() < len {
        let w = WORDS[rng.below(WORDS.len() as u64) as usize];
        let _ = write!(out, "{{\"{w}\":{}}} ", rng.below(100_000));
    }
    // Cut back to `len` bytes at a character boundary.
    let mut cut = len.min(out.len());
    while !out.is_char_boundary(cut) {
        cut -= 1;
    }
    out.truncate(cut);
}

/// A value size in 100..=4096 bytes: 60 % under 700, 30 % up to 2,500, 10 % up to 4,096.
fn value_len(rng: &mut Rng) -> usize {
    let (lo, hi) = match rng.below(10) {
        0..=5 => (100, 700),
        6..=8 => (700, 2_500),
        _ => (2_500, 4_096),
    };
    rng.range(lo, hi) as usize
}

fn value(rng: &mut Rng, tag: &str, i: usize, shape: Shape) -> Vec<u8> {
    let len = value_len(rng);
    // The value starts with the run's tag and the index, so every record is unique even when
    // its key is null.
    let mut s = format!("{tag}/{i}: ");
    if shape.text_only || rng.bool() {
        text(rng, &mut s, len);
        return s.into_bytes();
    }
    let mut v = s.into_bytes();
    let start = v.len();
    v.resize(len.max(start), 0);
    rng.fill(&mut v[start..]);
    v
}

fn own_headers(rng: &mut Rng, i: usize, shape: Shape) -> Vec<Header> {
    let mut trace = [0u8; 16];
    rng.fill(&mut trace);
    let trace = if shape.text_only {
        crate::records::hex(Some(&trace)).into_bytes()
    } else {
        trace.to_vec()
    };
    let mut headers = vec![
        Header {
            key: "seq".into(),
            value: Some(i.to_string().into_bytes()),
        },
        Header {
            key: "trace-id".into(),
            value: Some(trace),
        },
        Header {
            key: "ünïcode-键".into(),
            value: Some(
                WORDS[rng.below(WORDS.len() as u64) as usize]
                    .as_bytes()
                    .to_vec(),
            ),
        },
    ];
    if rng.chance(5) {
        let mut blob = String::new();
        text(rng, &mut blob, 1024);
        headers.push(Header {
            key: "blob".into(),
            value: Some(blob.into_bytes()),
        });
    }
    if rng.chance(7) {
        if shape.null_header_values {
            headers.push(Header {
                key: "null".into(),
                value: None,
            });
        }
        headers.push(Header {
            key: "empty".into(),
            value: Some(Vec::new()),
        });
    }
    headers
}

/// `count` records for a run named `tag` (part of every key and value, so runs on one topic
/// stay apart), from `seed`. Keys are unique within a run.
pub fn records(tag: &str, count: usize, seed: u64, shape: Shape) -> Vec<Record> {
    let mut rng = Rng::new(seed);
    let fixed = fixed_headers();
    (0..count)
        .map(|i| {
            let word = WORDS[i % WORDS.len()];
            let mut key = Some(format!("{tag}-{word}-キー-{i:05}").into_bytes());
            let mut value = Some(value(&mut rng, tag, i, shape));
            if shape.nulls {
                match rng.below(23) {
                    0 => key = None,
                    1 => value = None,
                    _ => {}
                }
            }
            let headers = if shape.same_headers {
                fixed.clone()
            } else {
                own_headers(&mut rng, i, shape)
            };
            let partition = shape
                .partitions
                .filter(|_| i % 3 == 0)
                .map(|n| (i % n as usize) as i32);
            Record {
                partition,
                key,
                value,
                headers,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const BINARY: Shape = Shape {
        text_only: false,
        nulls: true,
        null_header_values: true,
        same_headers: false,
        partitions: Some(3),
    };

    #[test]
    fn records_are_realistic_unique_and_deterministic() {
        let rs = records("run", 600, 7, BINARY);
        assert_eq!(rs, records("run", 600, 7, BINARY));
        let unique: HashSet<_> = rs.iter().collect();
        assert_eq!(unique.len(), rs.len());
        let sizes: Vec<usize> = rs
            .iter()
            .filter_map(|r| r.value.as_ref())
            .map(Vec::len)
            .collect();
        assert!(
            sizes.iter().all(|&n| (100..=4096).contains(&n)),
            "{sizes:?}"
        );
        assert!(sizes.iter().any(|&n| n > 2_500) && sizes.iter().any(|&n| n < 128));
        assert!(rs.iter().any(|r| r.key.is_none()) && rs.iter().any(|r| r.value.is_none()));
        assert!(rs.iter().any(|r| r
            .value
            .as_ref()
            .is_some_and(|v| std::str::from_utf8(v).is_err())));
        assert!(rs
            .iter()
            .any(|r| r.headers.iter().any(|h| h.value.is_none())));
        assert!(rs.iter().any(|r| r.headers.iter().any(|h| h.key == "blob")));
        let named: Vec<_> = rs.iter().filter_map(|r| r.partition).collect();
        assert_eq!(named.len(), 200);
        assert!(named.iter().all(|p| (0..3).contains(p)));
    }

    #[test]
    fn text_only_records_fit_a_kcat_input_line() {
        let shape = Shape {
            text_only: true,
            nulls: false,
            null_header_values: false,
            same_headers: true,
            partitions: None,
        };
        for r in records("kcat", 500, 3, shape) {
            let key = String::from_utf8(r.key.unwrap()).unwrap();
            let value = String::from_utf8(r.value.unwrap()).unwrap();
            assert!(!key.contains(['\t', '\n']) && !value.contains(['\t', '\n']));
            assert_eq!(r.headers, fixed_headers());
            assert_eq!(r.partition, None);
        }
    }
}
