//! Test support (feature `testing`): random messages for any version, and output in the JSON
//! form of Kafka's generated `*JsonConverter` classes, so that Apache Kafka's own serializers
//! can be compared with kproto byte for byte.
//!
//! Random messages have realistic sizes by default ([`Sizes::Realistic`]): strings and bytes up
//! to a few KB, arrays up to hundreds of entries, record-batch fields holding real record
//! batches (every codec, up to about 1 MiB now and then), tagged fields both present and absent.
//! Sizes are skewed (most small, some medium, a few large) and each message has a byte budget
//! for its medium and large draws, so a suite of thousands of messages stays fast while compact
//! lengths and counts regularly take multi-byte varints.

use crate::records::{BatchBuilder, BatchConfig, Compression, TimestampType};
use crate::types::{KStr, RawTaggedField, Uuid};
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt::Write;

pub use crate::rng::Rng;

/// How large random messages are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sizes {
    /// Strings and bytes up to a few KB, arrays up to hundreds, real record batches up to about
    /// 1 MiB; most draws small, each message within a budget.
    #[default]
    Realistic,
    /// Strings of at most a few characters, bytes of at most 8, arrays of at most 4, record
    /// batches of one small record: for tests whose cost grows with the square of a message's
    /// size (cutting or flipping every byte).
    Tiny,
}

/// A message that can be generated at random and written as Kafka JSON.
pub trait TestMessage: Sized {
    /// A random message for `version` of [`Sizes::Realistic`] size: fields the version lacks
    /// keep their defaults; `unknown_tags` adds unknown tagged fields to flexible versions.
    fn random(rng: &mut Rng, version: i16, unknown_tags: bool) -> Self {
        Self::random_sized(rng, version, unknown_tags, Sizes::Realistic)
    }
    /// [`TestMessage::random`] with the given sizes.
    fn random_sized(rng: &mut Rng, version: i16, unknown_tags: bool, sizes: Sizes) -> Self;
    /// The message in Kafka's JsonConverter form for `version`.
    fn kafka_json(&self, version: i16) -> String;
    /// The fields kproto carries at `version`, nested ones included, as paths of the snake_case
    /// names of Kafka's compiled schemas (`topics/partitions/index`; a tagged field as
    /// `name@tag`): equal to what Kafka's `SCHEMAS[version]` lists when kproto models every
    /// field Kafka has.
    fn schema_paths(version: i16) -> Vec<String>;
}

/// The budget (in bytes, roughly) for a message's medium and large draws, most of the time.
const BUDGET: usize = 6 << 10;
/// The budget one message in [`BIG_ONE_IN`] gets.
const BIG_BUDGET: usize = 96 << 10;
/// How rare a message with the big budget is.
const BIG_ONE_IN: u64 = 10;
/// The largest record batch a message may hold (a huge one is at least half this).
const HUGE_BATCH: usize = 1 << 20;
/// How rare a message that may hold one batch of 512 KiB to [`HUGE_BATCH`] is (the first
/// record-batch field drawn takes it, or, half the time, the next).
const HUGE_ONE_IN: u64 = 20;

/// The random-message generator the generated `random_at` functions draw from: a seeded
/// [`Rng`], the [`Sizes`] asked for, and what is left of the message's size budget.
#[derive(Debug)]
pub struct Gen<'r> {
    rng: &'r mut Rng,
    sizes: Sizes,
    budget: usize,
    huge_left: bool,
}

impl<'r> Gen<'r> {
    /// A generator for one message, drawing from `rng`.
    pub fn new(rng: &'r mut Rng, sizes: Sizes) -> Self {
        let budget = if rng.chance(BIG_ONE_IN) {
            BIG_BUDGET
        } else {
            BUDGET
        };
        let huge_left = sizes == Sizes::Realistic && rng.chance(HUGE_ONE_IN);
        Gen {
            rng,
            sizes,
            budget,
            huge_left,
        }
    }

    /// The underlying PRNG.
    pub fn rng(&mut self) -> &mut Rng {
        self.rng
    }

    /// True one time in `n`.
    pub fn chance(&mut self, n: u64) -> bool {
        self.rng.chance(n)
    }

    /// A size: 70% in `0..=small`, 23% in `small+1..=medium`, 7% in `medium+1..=large`. A medium
    /// or large size costs `size * unit` of the budget; when the budget cannot pay, the size is
    /// small. [`Sizes::Tiny`] always gives a small size.
    fn size(&mut self, small: usize, medium: usize, large: usize, unit: usize) -> usize {
        let small_one = |g: &mut Self| g.rng.below(small as u64 + 1) as usize;
        if self.sizes == Sizes::Tiny {
            return small_one(self);
        }
        let n = match self.rng.below(100) {
            0..=69 => return small_one(self),
            70..=92 => self.rng.range(small as u64 + 1, medium as u64) as usize,
            _ => self.rng.range(medium as u64 + 1, large as u64) as usize,
        };
        match self.budget.checked_sub(n.saturating_mul(unit)) {
            Some(left) => {
                self.budget = left;
                n
            }
            None => small_one(self),
        }
    }

    /// An integer that is often small, sometimes at the edges, sometimes anything.
    fn edgy(&mut self, min: i64, max: i64) -> i64 {
        let rng = &mut *self.rng;
        match rng.below(8) {
            0 => min,
            1 => max,
            2 => -1i64.clamp(min, max),
            3 | 4 => (rng.below(100) as i64).clamp(min, max),
            _ => {
                let span = (max as i128 - min as i128 + 1) as u128;
                (min as i128 + (u128::from(rng.next_u64()) % span) as i128) as i64
            }
        }
    }

    /// A random boolean.
    pub fn bool(&mut self) -> bool {
        self.rng.bool()
    }
    /// A random int8.
    pub fn i8(&mut self) -> i8 {
        self.edgy(i8::MIN.into(), i8::MAX.into()) as i8
    }
    /// A random int16.
    pub fn i16(&mut self) -> i16 {
        self.edgy(i16::MIN.into(), i16::MAX.into()) as i16
    }
    /// A random uint16.
    pub fn u16(&mut self) -> u16 {
        self.edgy(0, u16::MAX.into()) as u16
    }
    /// A random int32.
    pub fn i32(&mut self) -> i32 {
        self.edgy(i32::MIN.into(), i32::MAX.into()) as i32
    }
    /// A random uint32.
    pub fn u32(&mut self) -> u32 {
        self.edgy(0, u32::MAX.into()) as u32
    }
    /// A random int64.
    pub fn i64(&mut self) -> i64 {
        self.edgy(i64::MIN, i64::MAX)
    }
    /// A random finite float64.
    pub fn f64(&mut self) -> f64 {
        match self.rng.below(4) {
            0 => 0.0,
            1 => self.rng.below(1000) as f64 / 8.0,
            _ => {
                let x = f64::from_bits(self.rng.next_u64());
                if x.is_finite() {
                    x
                } else {
                    -1.5
                }
            }
        }
    }
    /// A random UUID.
    pub fn uuid(&mut self) -> Uuid {
        if self.rng.chance(4) {
            return Uuid::ZERO;
        }
        Uuid::from_u64_pair(self.rng.next_u64(), self.rng.next_u64())
    }
    /// A random string, ASCII and multi-byte UTF-8 mixed, of up to a few KB (always within
    /// the 32,767 bytes Kafka allows).
    pub fn kstr(&mut self) -> KStr {
        // 64 ASCII characters, JSON's escapes among them.
        const ASCII: &[u8; 64] =
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\"\\";
        const WIDE: [&str; 4] = ["é", "日本", "ü", "€"];
        let target = self.size(6, 300, 4096, 1);
        let mut s = String::with_capacity(target + 8);
        while s.len() < target {
            // Up to eight characters from each draw, and now and then a multi-byte one.
            let mut bits = self.rng.next_u64();
            if bits & 3 == 0 {
                s.push_str(WIDE[((bits >> 2) & 3) as usize]);
            }
            bits >>= 4;
            let n = target.saturating_sub(s.len()).min(8);
            for _ in 0..n {
                s.push(char::from(ASCII[(bits & 63) as usize]));
                bits >>= 7;
            }
        }
        KStr::from(s)
    }
    /// Random bytes, up to a few KB.
    pub fn bytes(&mut self) -> Bytes {
        let mut b = alloc::vec![0u8; self.size(8, 300, 8192, 1)];
        self.rng.fill(&mut b);
        b.into()
    }
    /// A random length for an array of primitives (numbers, strings, UUIDs): up to hundreds.
    pub fn len_of_values(&mut self, depth: u32) -> usize {
        if depth > 2 {
            return self.size(2, 2, 2, 1);
        }
        self.size(4, 200, 600, 4)
    }
    /// A random length for an array of structs, shorter the deeper the nesting: up to a few
    /// hundred at the top.
    pub fn len_of_structs(&mut self, depth: u32) -> usize {
        match depth {
            0 => self.size(4, 150, 300, 24),
            1 => self.size(3, 140, 200, 24),
            2 => self.size(2, 2, 2, 1),
            _ => self.size(1, 1, 1, 1),
        }
    }
    /// Some unknown tagged fields, in increasing tag order, with tags no schema uses.
    pub fn unknown_tags(&mut self) -> Vec<RawTaggedField> {
        if !self.rng.chance(3) {
            return Vec::new();
        }
        let mut tag = 1000 + self.rng.below(50) as u32;
        let mut out = Vec::new();
        for _ in 0..=self.rng.below(2) {
            let data = self.bytes();
            out.push(RawTaggedField { tag, data });
            tag += 1 + self.rng.below(1000) as u32;
        }
        out
    }

    /// The contents of a record-batch field: real v2 record batches as a producer or a broker
    /// writes them (every codec, idempotent and transactional ones, headers, null keys and
    /// values), empty now and then, and about 1 MiB now and then.
    pub fn records(&mut self) -> Bytes {
        if self.sizes == Sizes::Tiny {
            return self.batch(1, 8, false, Compression::None);
        }
        if self.rng.chance(6) {
            return Bytes::new();
        }
        if self.huge_left && self.rng.bool() {
            self.huge_left = false;
            let total = self
                .rng
                .range(HUGE_BATCH as u64 / 2, HUGE_BATCH as u64 - 4096)
                as usize;
            let value = 16 << 10;
            let codec = if !self.rng.chance(4) {
                Compression::None
            } else {
                Compression::Lz4
            };
            return self.batch(total / value, value, true, codec);
        }
        let mut out = Vec::new();
        for _ in 0..=self.rng.below(3) / 2 {
            let count = 1 + self.size(3, 40, 120, 16);
            let value = self.size(24, 1024, 8192, count);
            // Uncompressed most often; zstd least (its encoder's table setup is the costliest).
            let codec = match self.rng.below(16) {
                0..=6 => Compression::None,
                7..=9 => Compression::Gzip,
                10..=11 => Compression::Snappy,
                12..=14 => Compression::Lz4,
                _ => Compression::Zstd,
            };
            out.extend_from_slice(&self.batch(count, value, false, codec));
        }
        out.into()
    }

    /// One batch of `count` records with values of up to `value` bytes (of exactly `value` when
    /// `full`; half of them text-like, so that codecs have something to compress).
    fn batch(&mut self, count: usize, value: usize, full: bool, codec: Compression) -> Bytes {
        let rng = &mut *self.rng;
        let producer = match rng.below(3) {
            0 => None,
            _ => Some((rng.below(1 << 40) as i64, rng.below(100) as i16)),
        };
        let transactional = producer.is_some() && rng.chance(3);
        let mut cfg = BatchConfig {
            base_offset: if rng.bool() {
                0
            } else {
                rng.below(1 << 40) as i64
            },
            partition_leader_epoch: if rng.bool() {
                -1
            } else {
                rng.below(1000) as i32
            },
            timestamp_type: TimestampType::CreateTime,
            compression: codec,
            transactional,
            write_limit: usize::MAX,
            ..BatchConfig::default()
        };
        if let Some((id, epoch)) = producer {
            cfg.producer_id = id;
            cfg.producer_epoch = epoch;
            cfg.base_sequence = rng.below(1 << 30) as i32;
        }
        let mut b = BatchBuilder::new(cfg.clone());
        let mut t = 1_700_000_000_000 + rng.below(1 << 30) as i64;
        let mut v = Vec::with_capacity(value);
        for i in 0..count.max(1) {
            t += rng.below(50) as i64;
            let n = if i == 0 || full {
                value
            } else {
                rng.below(value as u64 + 1) as usize
            };
            v.clear();
            if rng.bool() {
                while v.len() < n {
                    let _ = write!(VecWriter(&mut v), "{{\"seq\":{i},\"at\":{t}}} ");
                }
                v.truncate(n);
            } else {
                v.resize(n, 0);
                rng.fill(&mut v);
            }
            let key = alloc::format!("key-{}", rng.below(1000));
            let key = if rng.chance(4) {
                None
            } else {
                Some(key.as_bytes())
            };
            let value = if !full && rng.chance(10) {
                None
            } else {
                Some(&v[..])
            };
            let hv = [rng.below(256) as u8; 3];
            let headers: &[(&str, Option<&[u8]>)] = match rng.below(4) {
                0 => &[("trace", Some(&hv[..])), ("empty", None)],
                1 => &[("h", Some(&hv[..1]))],
                _ => &[],
            };
            if b.try_append(t, key, value, headers).is_err() {
                break;
            }
        }
        match b.finish() {
            Ok(bytes) => bytes.into(),
            // A codec compiled out of this build: the same records uncompressed.
            Err(_) if codec != Compression::None => {
                self.batch(count, value, full, Compression::None)
            }
            Err(e) => panic!("building a random batch: {e}"),
        }
    }
}

/// `core::fmt::Write` into a byte vector.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Writes a JSON string literal.
pub fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Writes a float64 as a JSON number that parses back to the same value.
pub fn json_f64(out: &mut String, x: f64) {
    let _ = write!(out, "{x:?}");
}

/// Writes bytes as a JSON string in standard base64 with padding (what Jackson's
/// `binaryValue()` reads).
pub fn json_base64(out: &mut String, b: &[u8]) {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.push('"');
    for chunk in b.chunks(3) {
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_answers() {
        for (input, want) in [
            (&b""[..], "\"\""),
            (b"f", "\"Zg==\""),
            (b"fo", "\"Zm8=\""),
            (b"foo", "\"Zm9v\""),
        ] {
            let mut s = String::new();
            json_base64(&mut s, input);
            assert_eq!(s, want);
        }
    }
}
