//! Kafka's request and response messages: one module per API (generated from Kafka's
//! schemas), the request/response headers, [`ApiKey`], and [`RequestBody`] / [`ResponseBody`]
//! over every API.
//!
//! Every message type implements [`Message`]: `encode` into any [`BufMut`], `encoded_len`,
//! and `decode` from [`Bytes`] at any version kproto knows. Fields a version lacks are left at
//! their defaults when decoding; encoding a non-default value into a version that lacks the
//! field is an [`EncodeError::FieldNotInVersion`] unless Kafka's schema marks it ignorable.

#[path = "generated/mod.rs"]
mod generated;

pub use generated::*;

use crate::error::ParseErr;
use crate::rd::{Rd, Read};
use crate::wire::WireStruct;
use crate::{DecodeError, EncodeError};
use bytes::{Buf, BufMut, Bytes};

/// What the generated code needs in scope.
pub(crate) mod prelude {
    pub(crate) use super::{
        decode_message, encode_message, encoded_len_message, Message, Versions,
    };
    pub(crate) use crate::rd::{Rd, Read, F};
    #[cfg(feature = "testing")]
    pub(crate) use crate::testing::{json_base64, json_f64, json_str};
    pub(crate) use crate::types::{KStr, RawTaggedField, Uuid};
    pub(crate) use crate::wire::*;
    pub(crate) use crate::{DecodeError, EncodeError};
    pub(crate) use alloc::boxed::Box;
    pub(crate) use alloc::vec::Vec;
    pub(crate) use bytes::{BufMut, Bytes};
}

/// The versions kproto knows for a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    /// The lowest version (from Kafka 3.9.1 where 4.x dropped old versions).
    pub min: i16,
    /// The highest version generated, which may be unstable (see `stable_max`).
    pub max: i16,
    /// The highest released version; versions above it are Kafka's `latestVersionUnstable`.
    pub stable_max: i16,
    /// The first flexible version (compact encodings and tagged fields), if any.
    pub flexible_min: Option<i16>,
}

impl Versions {
    /// Whether kproto can encode and decode `version`.
    pub const fn contains(&self, version: i16) -> bool {
        self.min <= version && version <= self.max
    }

    /// Whether `version` was released (not an unstable version under development).
    pub const fn is_stable(&self, version: i16) -> bool {
        self.min <= version && version <= self.stable_max
    }

    /// Whether `version` is flexible.
    pub const fn is_flexible(&self, version: i16) -> bool {
        match self.flexible_min {
            Some(f) => version >= f,
            None => false,
        }
    }
}

/// A Kafka message (a request or response body, or a header) that kproto can encode and decode.
pub trait Message: Sized + Clone + PartialEq + Default + core::fmt::Debug {
    /// The API key, or -1 for the request and response headers.
    const API_KEY: i16;
    /// The versions kproto knows.
    const VERSIONS: Versions;

    /// Encodes at `version` into `buf`. Checks everything first: on error nothing is written.
    fn encode<B: BufMut>(&self, buf: &mut B, version: i16) -> Result<(), EncodeError>;

    /// The number of bytes [`Message::encode`] writes at `version`, or why it cannot.
    fn encoded_len(&self, version: i16) -> Result<usize, EncodeError>;

    /// Decodes one message of `version` from the front of `buf` and advances `buf` past it.
    /// Strings, bytes and records share `buf`'s memory.
    fn decode(buf: &mut Bytes, version: i16) -> Result<Self, DecodeError>;
}

pub(crate) fn encode_message<T: Message + WireStruct, B: BufMut>(
    msg: &T,
    buf: &mut B,
    version: i16,
) -> Result<(), EncodeError> {
    let needed = encoded_len_message(msg, version)?;
    if buf.remaining_mut() < needed {
        return Err(EncodeError::BufferTooSmall {
            needed,
            remaining: buf.remaining_mut(),
        });
    }
    msg.write(buf, version);
    Ok(())
}

pub(crate) fn encoded_len_message<T: Message + WireStruct>(
    msg: &T,
    version: i16,
) -> Result<usize, EncodeError> {
    if !T::VERSIONS.contains(version) {
        return Err(EncodeError::UnsupportedVersion {
            api_key: T::API_KEY,
            version,
        });
    }
    msg.size(version)
}

pub(crate) fn decode_message<T: Message + Read>(
    buf: &mut Bytes,
    version: i16,
) -> Result<T, DecodeError> {
    if !T::VERSIONS.contains(version) {
        return Err(DecodeError::UnsupportedVersion {
            api_key: T::API_KEY,
            version,
        });
    }
    let data = buf.clone();
    let mut r = Rd::new(&data);
    let msg = T::read(&mut r, false, version, &"");
    let rest = r.finish();
    decoded(buf, &data, rest, T::API_KEY, version)?;
    Ok(msg)
}

/// The part of [`decode_message`] that is the same for every message: advances `buf` past
/// what was read, or converts the reader's error.
fn decoded(
    buf: &mut Bytes,
    data: &Bytes,
    rest: Result<&[u8], ParseErr>,
    api_key: i16,
    version: i16,
) -> Result<(), DecodeError> {
    match rest {
        Ok(rest) => {
            buf.advance(data.len() - rest.len());
            Ok(())
        }
        Err(e) => {
            let api_key = (api_key >= 0).then_some(api_key);
            Err(e.into_decode_error(data, api_key, version))
        }
    }
}
