//! Kafka's producer as a sans-IO state machine, component by component as Apache Kafka's
//! `KafkaProducer` has it: [`ProducerConfig`] → partitioner, serializers, interceptors,
//! compression → the record accumulator with its buffer pool → producer metadata → the sender
//! loop (ready → drain → one Produce request per leader node) → the network client.
//!
//! kproducer does no networking, reads no clock and uses no OS randomness: bytes, connection
//! events and the current time (`now_ms`) come in as arguments, and randomness (the sticky
//! partition pick, backoff jitter) comes from a seed in the configuration. It is `#![no_std]` +
//! `alloc`; adapters over tokio and std::net live behind features.
//!
//! # Example
//!
//! ```
//! use kproducer::partitioner::{murmur2, partition_for_key};
//! use kproducer::ProducerConfig;
//!
//! // Kafka 4.x defaults: idempotence on, acks=all, linger.ms=5.
//! let config = ProducerConfig::default();
//! assert!(config.enable_idempotence);
//! assert_eq!(config.linger_ms, 5);
//!
//! // Keyed records go where Java's producer puts them.
//! assert_eq!(murmur2(b"21"), -973932308);
//! assert_eq!(partition_for_key(b"21", 12), 0); // toPositive(-973932308) % 12
//! ```
#![no_std]
#![deny(unsafe_code)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod accumulator;
pub mod cluster;
pub mod config;
pub mod idempotence;
pub mod metadata;
pub mod metrics;
pub mod network;
pub mod partitioner;
#[cfg(test)]
pub(crate) mod testing;

pub use accumulator::RecordAccumulator;
pub use cluster::{Cluster, Node, PartitionInfo, TopicInfo, TopicPartition};
pub use config::{Acks, MetadataRecoveryStrategy, ProducerConfig};
pub use idempotence::{IdempotenceError, ProducerIdAndEpoch, TransactionManager};
pub use metadata::{MetadataError, ProducerMetadata};
pub use network::{ConnectionId, NetworkClient, NetworkEvent};
