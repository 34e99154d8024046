//! Test support (feature `testing`): random messages for any version, and
//! output in the JSON form of Kafka's generated `*JsonConverter` classes, so that Apache
//! Kafka's own serializers can be compared with kproto byte for byte.

use crate::types::{KStr, RawTaggedField, Uuid};
use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt::Write;

/// A message that can be generated at random and written as Kafka JSON.
pub trait TestMessage: Sized {
    /// A random message for `version`: fields the version lacks keep their defaults;
    /// `unknown_tags` adds unknown tagged fields to flexible versions.
    fn random(rng: &mut Rng, version: i16, unknown_tags: bool) -> Self;
    /// The message in Kafka's JsonConverter form for `version`.
    fn kafka_json(&self, version: i16) -> String;
}

pub use crate::rng::Rng;

/// Test-data draws on top of the seeded [`Rng`].
impl Rng {
    /// An integer that is often small, sometimes at the edges, sometimes anything.
    fn edgy(&mut self, min: i64, max: i64) -> i64 {
        match self.below(8) {
            0 => min,
            1 => max,
            2 => -1i64.clamp(min, max),
            3 | 4 => (self.below(100) as i64).clamp(min, max),
            _ => {
                let span = (max as i128 - min as i128 + 1) as u128;
                (min as i128 + (u128::from(self.next_u64()) % span) as i128) as i64
            }
        }
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
        match self.below(4) {
            0 => 0.0,
            1 => self.below(1000) as f64 / 8.0,
            _ => {
                let x = f64::from_bits(self.next_u64());
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
        if self.chance(4) {
            return Uuid::ZERO;
        }
        Uuid::from_u64_pair(self.next_u64(), self.next_u64())
    }
    /// A random short string, ASCII and multi-byte UTF-8 mixed.
    pub fn kstr(&mut self) -> KStr {
        const PIECES: [&str; 8] = ["a", "Z", "-", "0", "é", "日本", "\"", "\\"];
        let n = self.below(7);
        let mut s = String::new();
        for _ in 0..n {
            s.push_str(PIECES[self.below(PIECES.len() as u64) as usize]);
        }
        KStr::from(s)
    }
    /// Random short bytes.
    pub fn bytes(&mut self) -> Bytes {
        let n = self.below(9) as usize;
        (0..n)
            .map(|_| self.next_u64() as u8)
            .collect::<Vec<u8>>()
            .into()
    }
    /// A random array length, shorter the deeper the nesting.
    pub fn len(&mut self, depth: u32) -> usize {
        let max = match depth {
            0 => 4,
            1 => 3,
            2 => 2,
            _ => 1,
        };
        self.below(max + 1) as usize
    }
    /// Some unknown tagged fields, in increasing tag order, with tags no schema uses.
    pub fn unknown_tags(&mut self) -> Vec<RawTaggedField> {
        if !self.chance(3) {
            return Vec::new();
        }
        let mut tag = 1000 + self.below(50) as u32;
        let mut out = Vec::new();
        for _ in 0..=self.below(2) {
            out.push(RawTaggedField {
                tag,
                data: self.bytes(),
            });
            tag += 1 + self.below(1000) as u32;
        }
        out
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
