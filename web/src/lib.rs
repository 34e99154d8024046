//! The in-browser Kafka inspector's model: what the page shows, computed from bytes, with no
//! browser in sight so that it is tested natively.
//!
//! - [`segment`]: a `.log` segment read in byte ranges ([`source::ByteSource`]), listed batch by
//!   batch ([`summary::BatchSummary`]); a corrupt batch is marked and the scan resynchronises on
//!   the next valid batch, so the batches after it are listed too.
//! - [`records`]: the records of one batch with key, value and header views ([`value`]).
//! - [`index`]: `.index` and `.timeindex` checked against their segment the way Kafka's
//!   `DumpLogSegments --verify-index-only` and `--index-sanity-check` do.
//! - [`frames`]: size-prefixed request/response frames decoded with kproto into a field tree,
//!   responses matched to their requests by correlation id.
//! - [`pcap`]: pcap and pcapng captures: TCP streams reassembled, Kafka found on any port by
//!   framing it, each connection's frames decoded as [`frames`] does.
//! - [`paste`]: pasted hex or base64 of a batch, a message set or a frame.
//! - [`other`]: producer snapshots, `.txnindex`, `leader-epoch-checkpoint`, `partition.metadata`.
//! - [`ranges`]: named byte ranges (kproto's `records::field`) for the hex view's highlight.
//!
//! What it does not do: no I/O of its own (every read goes through a
//! [`source::ByteSource`] asking for a byte range, so a 1 GB file is never in memory), no
//! clock, no network. The wasm-bindgen API over it is [`wasm`] (wasm32 only).

pub mod error;
pub mod frames;
pub mod index;
pub mod json;
pub mod other;
pub mod paste;
pub mod pcap;
pub mod ranges;
pub mod records;
pub mod segment;
pub mod source;
pub mod summary;
pub mod value;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use error::{InspectError, Problem};
pub use source::{ByteSource, SliceSource};
