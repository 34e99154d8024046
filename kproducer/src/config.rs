//! The producer's configuration: Kafka 4.4.0's `ProducerConfig` keys as typed fields, with
//! Kafka's defaults (`../shared/producer-configs-4.4.md` is generated from Kafka's own
//! ConfigDef). Durations are milliseconds unless a name says otherwise.

use alloc::string::String;
use alloc::vec::Vec;
use kproto::records::Compression;

/// `acks`: how many acknowledgements the leader waits for before answering a Produce request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Acks {
    /// `acks=0`: no response at all; a record counts as delivered once written to the socket.
    None,
    /// `acks=1`: the leader's own log.
    Leader,
    /// `acks=all` (or `-1`): every in-sync replica. The default since Kafka 3.0.
    #[default]
    All,
}

impl Acks {
    /// The `acks` field of a Produce request: 0, 1 or -1.
    pub fn as_i16(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}

/// `metadata.recovery.strategy`: what the client does when every known broker is unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetadataRecoveryStrategy {
    /// `none`: keep retrying the brokers it knows.
    None,
    /// `rebootstrap`: go back to `bootstrap.servers` (KIP-899; the default since Kafka 4.0).
    #[default]
    Rebootstrap,
}

/// The producer's configuration. [`Default`] gives Kafka 4.4.0's defaults, with an empty
/// `bootstrap.servers`.
#[derive(Debug, Clone, PartialEq)]
pub struct ProducerConfig {
    /// `bootstrap.servers`: `host:port` pairs to learn the cluster from.
    pub bootstrap_servers: Vec<String>,
    /// `client.id`, sent in every request header.
    pub client_id: String,
    /// `acks`.
    pub acks: Acks,
    /// `enable.idempotence` (default true): producer id, epochs and sequences, so a retry is
    /// never written twice.
    pub enable_idempotence: bool,
    /// `compression.type` (default none).
    pub compression_type: Compression,
    /// `compression.gzip.level` (default -1: the codec's default).
    pub compression_gzip_level: i32,
    /// `compression.lz4.level` (default 9).
    pub compression_lz4_level: i32,
    /// `compression.zstd.level` (default 3).
    pub compression_zstd_level: i32,
    /// `batch.size` in bytes (default 16384); 0 disables batching.
    pub batch_size: u32,
    /// `linger.ms` (default 5 since Kafka 4.0).
    pub linger_ms: u64,
    /// `buffer.memory` in bytes (default 32 MiB): the bound on records waiting to be sent.
    pub buffer_memory: u64,
    /// `max.block.ms` (default 60000): how long `send` may wait for buffer memory or metadata.
    pub max_block_ms: u64,
    /// `max.request.size` in bytes (default 1048576): the largest record and Produce request.
    pub max_request_size: u32,
    /// `delivery.timeout.ms` (default 120000): the bound on the time from `send` to success or
    /// failure, retries included.
    pub delivery_timeout_ms: u64,
    /// `request.timeout.ms` (default 30000).
    pub request_timeout_ms: u64,
    /// `retries` (default `i32::MAX`).
    pub retries: u32,
    /// `retry.backoff.ms` (default 100).
    pub retry_backoff_ms: u64,
    /// `retry.backoff.max.ms` (default 1000).
    pub retry_backoff_max_ms: u64,
    /// `reconnect.backoff.ms` (default 50).
    pub reconnect_backoff_ms: u64,
    /// `reconnect.backoff.max.ms` (default 1000).
    pub reconnect_backoff_max_ms: u64,
    /// `max.in.flight.requests.per.connection` (default 5; at most 5 with idempotence).
    pub max_in_flight_requests_per_connection: u32,
    /// `metadata.max.age.ms` (default 300000): refresh metadata at least this often.
    pub metadata_max_age_ms: u64,
    /// `metadata.max.idle.ms` (default 300000): forget a topic not produced to for this long.
    pub metadata_max_idle_ms: u64,
    /// `metadata.recovery.strategy` (default rebootstrap).
    pub metadata_recovery_strategy: MetadataRecoveryStrategy,
    /// `metadata.recovery.rebootstrap.trigger.ms` (default 300000).
    pub metadata_recovery_rebootstrap_trigger_ms: u64,
    /// `partitioner.ignore.keys` (default false): keyed records are placed as unkeyed ones.
    pub partitioner_ignore_keys: bool,
    /// `partitioner.adaptive.partitioning.enable` (default true): the sticky partition is
    /// picked with weights from the partitions' queue sizes.
    pub partitioner_adaptive_partitioning_enable: bool,
    /// `partitioner.availability.timeout.ms` (default 0: off).
    pub partitioner_availability_timeout_ms: u64,
    /// `partitioner.rack.aware` (default false).
    pub partitioner_rack_aware: bool,
    /// `client.rack` (default "").
    pub client_rack: String,
    /// `connections.max.idle.ms` (default 540000).
    pub connections_max_idle_ms: u64,
    /// `socket.connection.setup.timeout.ms` (default 10000).
    pub socket_connection_setup_timeout_ms: u64,
    /// `socket.connection.setup.timeout.max.ms` (default 30000).
    pub socket_connection_setup_timeout_max_ms: u64,
    /// `send.buffer.bytes` (default 131072; -1 for the OS default). Used by adapters.
    pub send_buffer_bytes: i32,
    /// `receive.buffer.bytes` (default 32768; -1 for the OS default). Used by adapters.
    pub receive_buffer_bytes: i32,
    /// `transactional.id` (default none). Transactions are not implemented yet: a producer
    /// with one is refused at construction.
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms` (default 60000).
    pub transaction_timeout_ms: u64,
    /// Not a Kafka key: the seed of the producer's random choices (sticky partition, backoff
    /// jitter), so the same seed and inputs give the same bytes out. Property
    /// `kproducer.seed`.
    pub seed: u64,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            bootstrap_servers: Vec::new(),
            client_id: String::new(),
            acks: Acks::All,
            enable_idempotence: true,
            compression_type: Compression::None,
            compression_gzip_level: -1,
            compression_lz4_level: 9,
            compression_zstd_level: 3,
            batch_size: 16_384,
            linger_ms: 5,
            buffer_memory: 33_554_432,
            max_block_ms: 60_000,
            max_request_size: 1_048_576,
            delivery_timeout_ms: 120_000,
            request_timeout_ms: 30_000,
            retries: i32::MAX as u32,
            retry_backoff_ms: 100,
            retry_backoff_max_ms: 1_000,
            reconnect_backoff_ms: 50,
            reconnect_backoff_max_ms: 1_000,
            max_in_flight_requests_per_connection: 5,
            metadata_max_age_ms: 300_000,
            metadata_max_idle_ms: 300_000,
            metadata_recovery_strategy: MetadataRecoveryStrategy::Rebootstrap,
            metadata_recovery_rebootstrap_trigger_ms: 300_000,
            partitioner_ignore_keys: false,
            partitioner_adaptive_partitioning_enable: true,
            partitioner_availability_timeout_ms: 0,
            partitioner_rack_aware: false,
            client_rack: String::new(),
            connections_max_idle_ms: 540_000,
            socket_connection_setup_timeout_ms: 10_000,
            socket_connection_setup_timeout_max_ms: 30_000,
            send_buffer_bytes: 131_072,
            receive_buffer_bytes: 32_768,
            transactional_id: None,
            transaction_timeout_ms: 60_000,
            seed: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kafka_4_4s() {
        let c = ProducerConfig::default();
        assert_eq!(c.acks, Acks::All);
        assert_eq!(c.acks.as_i16(), -1);
        assert!(c.enable_idempotence);
        assert_eq!(
            (c.batch_size, c.linger_ms, c.buffer_memory),
            (16_384, 5, 33_554_432)
        );
        assert_eq!(c.max_in_flight_requests_per_connection, 5);
        assert_eq!(c.delivery_timeout_ms, 120_000);
        assert_eq!(
            c.metadata_recovery_strategy,
            MetadataRecoveryStrategy::Rebootstrap
        );
    }
}
