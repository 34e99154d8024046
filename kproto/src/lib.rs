//! Kafka's wire protocol as data: every request and response Apache Kafka ever released
//! (95 API keys, versions from Kafka 3.9.1 and 4.4.0), the request and response headers, a
//! frame codec, and the tables of which versions each Kafka release advertises.
//!
//! kproto does no I/O and reads no clock: it turns bytes into messages and messages into
//! bytes. It is `#![no_std]` + `alloc`; the `std` feature (on by default) adds the hardware
//! CRC32C path and `std::error::Error` integration.
//!
//! Decoding parses with [`nom`] from [`bytes::Bytes`], sharing the input for strings, bytes and
//! record sets instead of copying them. Every length or count read from the wire is checked
//! against the bytes that are left before anything is allocated, and errors say where
//! (byte offset, API key, version, field) and what was expected.
//!
//! # Example
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use kproto::messages::{ApiVersionsRequest, MetadataRequest};
//! use kproto::Message;
//!
//! let mut req = ApiVersionsRequest::default();
//! req.client_software_name = "my-tool".into();
//! req.client_software_version = "1.0".into();
//! let mut buf = BytesMut::new();
//! req.encode(&mut buf, 3).unwrap();
//! assert_eq!(buf.len(), req.encoded_len(3).unwrap());
//!
//! let decoded = ApiVersionsRequest::decode(&mut buf.freeze(), 3).unwrap();
//! assert_eq!(decoded, req);
//!
//! // A field the chosen version lacks is an error, not silently dropped:
//! let mut md = MetadataRequest::default();
//! md.allow_auto_topic_creation = false; // exists from v4 on
//! assert!(md.encode(&mut BytesMut::new(), 3).is_err());
//! ```
#![no_std]
#![deny(unsafe_op_in_unsafe_fn)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
mod error_code;
pub mod frame;
pub mod messages;
mod rd;
pub mod records;
pub mod rng;
#[cfg(feature = "testing")]
pub mod testing;
mod types;
pub mod versions;
mod wire;

pub use error::{DecodeError, EncodeError, Location};
pub use error_code::{ErrorCode, UnknownErrorCode};
pub use messages::{ApiKey, Message, RequestBody, ResponseBody};
pub use types::{KStr, RawTaggedField, Uuid};

/// The README's example is compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
