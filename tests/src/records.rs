//! Record batch helpers shared by `records_java.rs`, `records_python.rs` and
//! `records_roundtrip.rs`: the records they generate ([`Rec`], [`RecordGen`]), the hex line
//! format their peers speak ([`hex`], [`unhex`], [`record_line`], [`parse_record_line`]),
//! building with kproto ([`append_records`], [`build`]) and reading back ([`read_records`]).

use kproto::records::{BatchBuilder, BatchConfig, BatchView, RecordError};
use kproto::rng::Rng;

/// A record header: key and value (`None` is null).
pub type Hdr = (String, Option<Vec<u8>>);

/// A record as the tests give it to each implementation and expect it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    /// Milliseconds, or -1 for none.
    pub ts: i64,
    /// The key; `None` is null.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is null.
    pub value: Option<Vec<u8>>,
    /// The headers, in order.
    pub headers: Vec<Hdr>,
}

impl Rec {
    /// The headers as `BatchBuilder::try_append` takes them.
    pub fn header_refs(&self) -> Vec<(&str, Option<&[u8]>)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect()
    }
}

/// Header keys beyond ASCII: empty, accented, Cyrillic and Greek, an emoji.
pub const HEADER_KEYS: [&str; 5] = ["", "trace-id", "clé", "ключ-σ", "🦀"];

/// How [`RecordGen::records`] draws records. Every draw comes from the seeded [`Rng`].
#[derive(Debug, Clone)]
pub struct RecordGen {
    /// Longest key.
    pub max_key: u64,
    /// Longest value.
    pub max_value: u64,
    /// Longest value in a "big" batch, one batch in `big_in` (0: never).
    pub max_big_value: u64,
    /// One batch in this many is big.
    pub big_in: u64,
    /// One payload in this many is incompressible random bytes (0: never).
    pub incompressible_in: u64,
    /// One key, value or header value in this many is null.
    pub null_in: u64,
    /// Timestamps of none (-1), a day and more back and decades ahead, now and then.
    pub odd_timestamps: bool,
    /// Header keys from [`HEADER_KEYS`] now and then.
    pub unicode_header_keys: bool,
}

impl Default for RecordGen {
    fn default() -> Self {
        RecordGen {
            max_key: 40,
            max_value: 400,
            max_big_value: 3000,
            big_in: 0,
            incompressible_in: 0,
            null_in: 8,
            odd_timestamps: false,
            unicode_header_keys: false,
        }
    }
}

impl RecordGen {
    /// `n` bytes: random ones one time in `incompressible_in`, else a small alphabet with runs
    /// (which every codec compresses).
    pub fn payload(&self, rng: &mut Rng, max: u64) -> Vec<u8> {
        let n = rng.below(max + 1) as usize;
        if self.incompressible_in > 0 && rng.below(self.incompressible_in) == 0 {
            (0..n).map(|_| rng.next_u64() as u8).collect()
        } else {
            (0..n)
                .map(|i| b"abcdefgh"[(rng.below(8) as usize + i / 16) % 8])
                .collect()
        }
    }

    /// [`RecordGen::payload`], or null one time in `null_in`.
    pub fn maybe_payload(&self, rng: &mut Rng, max: u64) -> Option<Vec<u8>> {
        if rng.below(self.null_in) == 0 {
            None
        } else {
            Some(self.payload(rng, max))
        }
    }

    /// `n` records from around 2023-11-14 (1,700,000,000,000 ms) with up to three headers.
    pub fn records(&self, rng: &mut Rng, n: usize) -> Vec<Rec> {
        let base = 1_700_000_000_000i64;
        let big = self.big_in > 0 && rng.below(self.big_in) == 0;
        let max_value = if big {
            self.max_big_value
        } else {
            self.max_value
        };
        (0..n)
            .map(|_| Rec {
                ts: match (self.odd_timestamps, rng.below(50)) {
                    (true, 0) => -1, // RecordBatch.NO_TIMESTAMP
                    (true, 1) => base - 86_400_000 - rng.below(1 << 30) as i64,
                    (true, 2) => base + (1 << 40),
                    _ => base + rng.below(200_000) as i64 - 1000,
                },
                key: self.maybe_payload(rng, self.max_key),
                value: self.maybe_payload(rng, max_value),
                headers: (0..rng.below(4))
                    .map(|i| {
                        let k = if self.unicode_header_keys && rng.below(3) == 0 {
                            HEADER_KEYS[rng.below(5) as usize].to_string()
                        } else {
                            format!("h{i}-{}", rng.below(1000))
                        };
                        (k, self.maybe_payload(rng, 30))
                    })
                    .collect(),
            })
            .collect()
    }
}

/// Bytes as lowercase hex; `=` for empty and `-` for null, as the peers write them.
pub fn hex(b: Option<&[u8]>) -> String {
    match b {
        None => "-".into(),
        Some([]) => "=".into(),
        Some(b) => {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            let mut s = String::with_capacity(2 * b.len());
            for x in b {
                s.push(DIGITS[usize::from(x >> 4)] as char);
                s.push(DIGITS[usize::from(x & 15)] as char);
            }
            s
        }
    }
}

/// The inverse of [`hex`]. Panics on malformed hex: a peer wrote something it should not.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s == "-" {
        return None;
    }
    if s == "=" {
        return Some(Vec::new());
    }
    assert!(s.len() % 2 == 0, "odd-length hex {s:.80}");
    Some(
        (0..s.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&s[i..i + 2], 16)
                    .unwrap_or_else(|e| panic!("bad hex at {i} of {s:.80}: {e}"))
            })
            .collect(),
    )
}

/// A record as a peer line: `R [OFFSET] TIMESTAMP KEY VALUE NHEADERS [HKEY HVALUE]...`.
pub fn record_line(r: &Rec, offset: Option<i64>) -> String {
    let mut s = String::from("R ");
    if let Some(o) = offset {
        s += &format!("{o} ");
    }
    s += &format!(
        "{} {} {} {}",
        r.ts,
        hex(r.key.as_deref()),
        hex(r.value.as_deref()),
        r.headers.len()
    );
    for (k, v) in &r.headers {
        s += &format!(" {} {}", hex(Some(k.as_bytes())), hex(v.as_deref()));
    }
    s
}

/// Parses a peer's `R OFFSET TIMESTAMP KEY VALUE NHEADERS [HKEY HVALUE]...` line.
pub fn parse_record_line(line: &str) -> (i64, Rec) {
    let f: Vec<&str> = line.split(' ').collect();
    assert!(
        f.len() >= 6 && f[0] == "R",
        "not a record line: {line:.200}"
    );
    let nh: usize = f[5].parse().unwrap();
    assert_eq!(f.len(), 6 + 2 * nh, "header count of {line:.200}");
    let headers = (0..nh)
        .map(|i| {
            let k = String::from_utf8(unhex(f[6 + 2 * i]).unwrap()).unwrap();
            (k, unhex(f[7 + 2 * i]))
        })
        .collect();
    (
        f[1].parse().unwrap(),
        Rec {
            ts: f[2].parse().unwrap(),
            key: unhex(f[3]),
            value: unhex(f[4]),
            headers,
        },
    )
}

/// Appends records until the first one the builder refuses (the batch is full); returns how
/// many it took.
pub fn append_records(b: &mut BatchBuilder, recs: &[Rec]) -> usize {
    let mut n = 0;
    for r in recs {
        if b.try_append(r.ts, r.key.as_deref(), r.value.as_deref(), &r.header_refs())
            .is_err()
        {
            break;
        }
        n += 1;
    }
    n
}

/// Builds one batch with kproto: (records accepted under the write limit, the batch).
pub fn build(cfg: BatchConfig, recs: &[Rec]) -> (usize, Vec<u8>) {
    let mut b = BatchBuilder::new(cfg);
    let n = append_records(&mut b, recs);
    (n, b.finish().unwrap())
}

/// Reads a batch's records with kproto: (offset, record) in order. Header keys must be UTF-8.
pub fn read_records<T: AsRef<[u8]>>(
    b: &BatchView<T>,
    max_uncompressed: usize,
) -> Result<Vec<(i64, Rec)>, RecordError> {
    let mut scratch = Vec::new();
    let mut out = Vec::new();
    for r in b.records(&mut scratch, max_uncompressed)? {
        let r = r?;
        out.push((
            r.offset,
            Rec {
                ts: r.timestamp,
                key: r.key.map(<[u8]>::to_vec),
                value: r.value.map(<[u8]>::to_vec),
                headers: r
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.key_str().expect("UTF-8 header key").to_string(),
                            h.value.map(<[u8]>::to_vec),
                        )
                    })
                    .collect(),
            },
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_lines_round_trip() {
        let mut rng = Rng::new(7);
        let gen = RecordGen {
            odd_timestamps: true,
            unicode_header_keys: true,
            incompressible_in: 4,
            ..RecordGen::default()
        };
        for (i, r) in gen.records(&mut rng, 200).iter().enumerate() {
            let (o, back) = parse_record_line(&record_line(r, Some(i as i64 * 3)));
            assert_eq!((o, &back), (i as i64 * 3, r));
        }
    }
}
