//! Errors of decoding and encoding Kafka messages.
//!
//! Every decode error says where (byte offset from the start of the buffer handed to the
//! decoder, the API key and version being decoded, the field) and what was expected there.

use core::fmt;

/// Where in the input a decode error happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// Byte offset from the start of the buffer handed to the decoder.
    pub offset: usize,
    /// The API key being decoded, when the message belongs to one.
    pub api_key: Option<i16>,
    /// The message version being decoded.
    pub version: i16,
    /// The field being decoded (`Struct.Field`), or `""` when not inside a field.
    pub field: &'static str,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "byte {}", self.offset)?;
        if let Some(k) = self.api_key {
            write!(f, ", api key {k}")?;
        }
        write!(f, " v{}", self.version)?;
        if !self.field.is_empty() {
            write!(f, ", field {}", self.field)?;
        }
        Ok(())
    }
}

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended before a value was complete.
    #[error("truncated at {at}: expected {expected}")]
    Truncated {
        /// Where.
        at: Location,
        /// What was being read (`"int32"`, `"compact string bytes"`, ...).
        expected: &'static str,
    },
    /// A length or count claims more bytes than are left in the input.
    #[error("{what} of {claimed} at {at} exceeds the {remaining} bytes left")]
    LengthOutOfBounds {
        /// Where.
        at: Location,
        /// What the number counts (`"string length"`, `"array count"`, ...).
        what: &'static str,
        /// The number read from the wire.
        claimed: u64,
        /// Bytes left in the input after the length itself.
        remaining: usize,
    },
    /// A string's length is over the 32,767 bytes Kafka reads (Kafka: "string field had
    /// invalid length"); `at.field` names the field.
    #[error("string at {at} has invalid length {len}: Kafka's strings are at most 32767 bytes")]
    StringTooLong {
        /// Where the length was read, and the field.
        at: Location,
        /// The length read from the wire.
        len: u64,
    },
    /// A value read from the wire is not allowed there.
    #[error("invalid value at {at}: expected {expected}")]
    Invalid {
        /// Where.
        at: Location,
        /// What a valid value is (`"UTF-8"`, `"non-negative length"`, ...).
        expected: &'static str,
    },
    /// The API key is not one kproto knows.
    #[error("unknown api key {api_key} at byte {offset}")]
    UnknownApiKey {
        /// The key read.
        api_key: i16,
        /// Where it was read.
        offset: usize,
    },
    /// kproto has no definition for this version of the message.
    #[error("api key {api_key} has no version {version}")]
    UnsupportedVersion {
        /// The key.
        api_key: i16,
        /// The version asked for.
        version: i16,
    },
    /// Bytes were left over after the message ended.
    #[error("{extra} trailing bytes after the message at {at}")]
    TrailingBytes {
        /// Where the message ended.
        at: Location,
        /// How many bytes were left over.
        extra: usize,
    },
    /// A size-prefixed frame is larger than the configured maximum.
    #[error("frame of {size} bytes exceeds the maximum of {max}")]
    FrameTooLarge {
        /// The size prefix read.
        size: i64,
        /// The configured maximum.
        max: usize,
    },
    /// A response arrived whose correlation id matches no request in flight.
    #[error("no request in flight with correlation id {correlation_id}")]
    UnknownCorrelationId {
        /// The id read from the response header.
        correlation_id: i32,
    },
}

impl DecodeError {
    /// Shifts the offset of a location-carrying error by `by` bytes (for a decoder that was
    /// handed a slice of a larger buffer).
    pub fn shifted(mut self, by: usize) -> Self {
        if let Some(at) = self.location_mut() {
            at.offset += by;
        }
        if let DecodeError::UnknownApiKey { offset, .. } = &mut self {
            *offset += by;
        }
        self
    }

    /// The location, for the errors that have one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            DecodeError::Truncated { at, .. }
            | DecodeError::LengthOutOfBounds { at, .. }
            | DecodeError::StringTooLong { at, .. }
            | DecodeError::Invalid { at, .. }
            | DecodeError::TrailingBytes { at, .. } => Some(at),
            _ => None,
        }
    }

    fn location_mut(&mut self) -> Option<&mut Location> {
        match self {
            DecodeError::Truncated { at, .. }
            | DecodeError::LengthOutOfBounds { at, .. }
            | DecodeError::StringTooLong { at, .. }
            | DecodeError::Invalid { at, .. }
            | DecodeError::TrailingBytes { at, .. } => Some(at),
            _ => None,
        }
    }
}

/// Why a message could not be encoded. Nothing is written when encoding fails.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The field has a non-default value but the chosen version does not carry it, and the
    /// schema does not mark it ignorable.
    #[error("field {field} is not supported in version {version} but has a non-default value")]
    FieldNotInVersion {
        /// `Struct.Field`.
        field: &'static str,
        /// The version being encoded.
        version: i16,
    },
    /// The field is null but the chosen version cannot carry a null.
    #[error("field {field} is null but not nullable in version {version}")]
    NullNotAllowed {
        /// `Struct.Field`.
        field: &'static str,
        /// The version being encoded.
        version: i16,
    },
    /// A string, bytes or array is too long for its length prefix.
    #[error("field {field} is {len} long, more than its encoding allows")]
    TooLong {
        /// `Struct.Field`.
        field: &'static str,
        /// The length.
        len: usize,
    },
    /// A string is longer than the 32,767 UTF-8 bytes Kafka writes, in either the classic or
    /// the compact form (Kafka: "'field' field is too long to be serialized").
    #[error("field {field} is a string of {len} bytes, more than the 32767 Kafka allows")]
    StringTooLong {
        /// `Struct.Field`.
        field: &'static str,
        /// The string's length in UTF-8 bytes.
        len: usize,
    },
    /// The message has no such version.
    #[error("api key {api_key} has no version {version}")]
    UnsupportedVersion {
        /// The key (or -1 for a message outside an API).
        api_key: i16,
        /// The version asked for.
        version: i16,
    },
    /// The buffer has less room than the encoded message needs.
    #[error("buffer has {remaining} bytes of room, the message needs {needed}")]
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Room in the buffer.
        remaining: usize,
    },
}

/// The internal nom error: where (as an address into the input) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseErr {
    pub(crate) addr: usize,
    pub(crate) field: &'static str,
    pub(crate) kind: ParseErrKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ParseErrKind {
    Truncated(&'static str),
    Length {
        what: &'static str,
        claimed: u64,
        remaining: usize,
    },
    Invalid(&'static str),
    StringTooLong(u64),
}

impl ParseErr {
    pub(crate) fn truncated(input: &[u8], expected: &'static str) -> nom::Err<Self> {
        nom::Err::Error(ParseErr {
            addr: input.as_ptr() as usize,
            field: "",
            kind: ParseErrKind::Truncated(expected),
        })
    }

    pub(crate) fn length(
        input: &[u8],
        what: &'static str,
        claimed: u64,
        remaining: usize,
    ) -> nom::Err<Self> {
        nom::Err::Error(ParseErr {
            addr: input.as_ptr() as usize,
            field: "",
            kind: ParseErrKind::Length {
                what,
                claimed,
                remaining,
            },
        })
    }

    pub(crate) fn string_too_long(input: &[u8], len: u64) -> nom::Err<Self> {
        nom::Err::Error(ParseErr {
            addr: input.as_ptr() as usize,
            field: "",
            kind: ParseErrKind::StringTooLong(len),
        })
    }

    pub(crate) fn invalid(input: &[u8], expected: &'static str) -> nom::Err<Self> {
        nom::Err::Error(ParseErr {
            addr: input.as_ptr() as usize,
            field: "",
            kind: ParseErrKind::Invalid(expected),
        })
    }

    /// Converts to the public error, with offsets relative to `base`.
    pub(crate) fn into_decode_error(
        self,
        base: &[u8],
        api_key: Option<i16>,
        version: i16,
    ) -> DecodeError {
        let at = Location {
            offset: self.addr.saturating_sub(base.as_ptr() as usize),
            api_key,
            version,
            field: self.field,
        };
        match self.kind {
            ParseErrKind::Truncated(expected) => DecodeError::Truncated { at, expected },
            ParseErrKind::Length {
                what,
                claimed,
                remaining,
            } => DecodeError::LengthOutOfBounds {
                at,
                what,
                claimed,
                remaining,
            },
            ParseErrKind::Invalid(expected) => DecodeError::Invalid { at, expected },
            ParseErrKind::StringTooLong(len) => DecodeError::StringTooLong { at, len },
        }
    }
}

impl<'a> nom::error::ParseError<&'a [u8]> for ParseErr {
    fn from_error_kind(input: &'a [u8], _kind: nom::error::ErrorKind) -> Self {
        ParseErr {
            addr: input.as_ptr() as usize,
            field: "",
            kind: ParseErrKind::Truncated("more bytes"),
        }
    }

    fn append(_input: &'a [u8], _kind: nom::error::ErrorKind, other: Self) -> Self {
        other
    }
}

/// Extracts the error of a failed complete-input parse.
pub(crate) fn unwrap_nom(e: nom::Err<ParseErr>) -> ParseErr {
    match e {
        nom::Err::Error(p) | nom::Err::Failure(p) => p,
        // Complete parsers never ask for more input.
        nom::Err::Incomplete(_) => ParseErr {
            addr: 0,
            field: "",
            kind: ParseErrKind::Truncated("more bytes"),
        },
    }
}
