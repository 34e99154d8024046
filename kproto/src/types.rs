//! Value types that appear in Kafka messages: strings that share the input buffer, UUIDs,
//! and tagged fields kproto does not know.

use alloc::string::String;
use bytes::Bytes;
use core::fmt;
use core::ops::Deref;

/// A UTF-8 string backed by [`Bytes`], so decoding shares the input buffer instead of copying.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KStr(Bytes);

impl KStr {
    /// The empty string.
    pub const fn new() -> Self {
        KStr(Bytes::new())
    }

    /// A string from a `'static` str, without copying.
    pub const fn from_static(s: &'static str) -> Self {
        KStr(Bytes::from_static(s.as_bytes()))
    }

    /// Wraps bytes that are valid UTF-8; `None` when they are not.
    pub fn from_utf8(b: Bytes) -> Option<Self> {
        core::str::from_utf8(&b).ok()?;
        Some(KStr(b))
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        // SAFETY: every constructor of KStr takes a `str`/`String` or checks the bytes with
        // `core::str::from_utf8`, and the bytes are never mutated afterwards.
        unsafe { core::str::from_utf8_unchecked(&self.0) }
    }

    /// Wraps bytes the caller has already checked to be UTF-8.
    pub(crate) fn from_checked_utf8(b: Bytes) -> Self {
        debug_assert!(core::str::from_utf8(&b).is_ok());
        KStr(b)
    }

    /// The UTF-8 bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }
}

impl Deref for KStr {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for KStr {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for KStr {
    fn from(s: &str) -> Self {
        KStr(Bytes::copy_from_slice(s.as_bytes()))
    }
}

impl From<String> for KStr {
    fn from(s: String) -> Self {
        KStr(Bytes::from(s.into_bytes()))
    }
}

impl PartialEq<str> for KStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for KStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl fmt::Debug for KStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for KStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 128-bit UUID as Kafka sends it: 16 big-endian bytes.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Uuid(pub [u8; 16]);

impl Uuid {
    /// The all-zero UUID (`AAAAAAAAAAAAAAAAAAAAAA` in Kafka's notation).
    pub const ZERO: Uuid = Uuid([0; 16]);

    /// From the most and least significant 64 bits, as Java's `Uuid(long, long)`.
    pub fn from_u64_pair(msb: u64, lsb: u64) -> Self {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&msb.to_be_bytes());
        b[8..].copy_from_slice(&lsb.to_be_bytes());
        Uuid(b)
    }

    /// Kafka's text form: URL-safe base64 without padding (22 characters), as Java's
    /// `Uuid.toString`.
    pub fn to_kafka_string(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses Kafka's text form, as Java's `Uuid.fromString`: URL-safe base64 of exactly 16
    /// bytes, padded or not.
    pub fn from_kafka_string(s: &str) -> Result<Uuid, UuidParseError> {
        use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
        use base64::Engine as _;
        const URL_SAFE_ANY_PAD: GeneralPurpose = GeneralPurpose::new(
            &base64::alphabet::URL_SAFE,
            GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
        );
        if s.len() > 24 {
            return Err(UuidParseError::TooLong { len: s.len() });
        }
        let mut out = [0u8; 16];
        match URL_SAFE_ANY_PAD.decode_slice(s, &mut out) {
            Ok(16) => Ok(Uuid(out)),
            Ok(n) => Err(UuidParseError::Length { len: n }),
            Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
                Err(UuidParseError::Length { len: 17 })
            }
            Err(base64::DecodeSliceError::DecodeError(_)) => Err(UuidParseError::NotBase64),
        }
    }
}

/// Why a text is not a Kafka UUID (`Uuid.fromString`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UuidParseError {
    /// Longer than any base64 form of 16 bytes.
    #[error("a base64 UUID has at most 24 characters, this has {len}")]
    TooLong {
        /// Its length.
        len: usize,
    },
    /// Not URL-safe base64.
    #[error("not URL-safe base64")]
    NotBase64,
    /// Decodes to other than 16 bytes.
    #[error("decodes to {len} bytes, a UUID has 16")]
    Length {
        /// The decoded length (17: more than 16).
        len: usize,
    },
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_kafka_string())
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_kafka_string())
    }
}

/// A tagged field whose tag kproto does not know for this message version: kept as read and
/// written back unchanged, in tag order among the known ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RawTaggedField {
    /// The tag.
    pub tag: u32,
    /// The field's bytes, without the tag and size prefix.
    pub data: Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_kafka_string() {
        assert_eq!(Uuid::ZERO.to_kafka_string(), "AAAAAAAAAAAAAAAAAAAAAA");
        // Kafka's own files: a partition.metadata topic id, and Java's padded form of ZERO+1.
        let id = Uuid::from_kafka_string("cS3ZFOwjS6yrsolwKs05bA").unwrap();
        assert_eq!(id.to_kafka_string(), "cS3ZFOwjS6yrsolwKs05bA");
        assert_eq!(
            Uuid::from_kafka_string("AAAAAAAAAAAAAAAAAAAAAQ==").unwrap(),
            Uuid::from_u64_pair(0, 1)
        );
        assert_eq!(
            Uuid::from_kafka_string("AAAA"),
            Err(UuidParseError::Length { len: 3 })
        );
        assert_eq!(
            Uuid::from_kafka_string("AAAAAAAAAAAAAAAAAAAAAAAA"),
            Err(UuidParseError::Length { len: 17 })
        );
        assert_eq!(
            Uuid::from_kafka_string("cS3ZFOwjS6yrsolwKs05b+"),
            Err(UuidParseError::NotBase64)
        );
        assert!(matches!(
            Uuid::from_kafka_string(&"A".repeat(30)),
            Err(UuidParseError::TooLong { len: 30 })
        ));
        // Java: new Uuid(-1L, -1L).toString()
        assert_eq!(
            Uuid::from_u64_pair(u64::MAX, u64::MAX).to_kafka_string(),
            "_____________________w"
        );
    }

    #[test]
    fn kstr_checks_utf8() {
        assert!(KStr::from_utf8(Bytes::from_static(b"\xff")).is_none());
        assert_eq!(KStr::from_utf8(Bytes::from_static(b"abc")).unwrap(), "abc");
    }
}
