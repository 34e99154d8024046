//! The broker half of the produce path, sans-IO: Kafka's request handling over klog's logs.
//!
//! - [`Broker`] (in `core`): the request handler, Kafka's `KafkaApis` over the partitions'
//!   logs; its rustdoc states the call order.
//! - [`versions`]: the APIs and versions served and advertised.
//! - [`config`]: the broker's configuration under Kafka 4.4.0's own names, parsed and checked
//!   as Kafka's `KafkaConfig` does, and [`topic_config`], the topic configs over it.
//! - The admin APIs, as Kafka's broker and controller answer them for one node: DeleteTopics
//!   (`delete_topics`), CreatePartitions (`create_partitions`), DescribeConfigs
//!   (`describe_configs`), IncrementalAlterConfigs and AlterConfigs (`alter_configs`),
//!   DeleteRecords (`delete_records`); each change to topics or configs is written to the
//!   cluster metadata file before the logs are touched.
//!
//! The network adapter (tokio) lives behind the `server` feature and only frames bytes.

mod alter_configs;
mod api_versions;
mod cluster_metadata;
pub mod config;
mod config_docs;
mod core;
mod create_partitions;
mod create_topics;
mod delayed_fetch;
mod delete_records;
mod delete_topics;
mod describe_configs;
mod dispatch;
mod error;
mod events;
mod fetch;
mod find_coordinator;
mod init_producer_id;
mod kafka_names;
mod list_offsets;
mod metadata;
mod offset_for_leader_epoch;
mod partitions;
mod produce;
pub mod properties;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_admin;
#[cfg(test)]
mod tests_fetch;
#[cfg(test)]
mod tests_find_coordinator;
#[cfg(test)]
mod tests_init_producer_id;
#[cfg(test)]
mod tests_list_offsets;
#[cfg(test)]
mod tests_log_dir;
#[cfg(test)]
mod tests_metadata;
#[cfg(test)]
mod tests_produce;
pub mod topic_config;
mod topics;
pub mod versions;

pub use self::core::{Broker, CloseReason, ConnectionId, Handled, OpenReport};
pub use cluster_metadata::CLUSTER_METADATA_FILE;
pub use config::{BrokerConfig, ConfigWarning, Listener};
pub use error::BrokerError;
pub use events::{ApiCounters, BrokerEvent, BrokerMetrics};
pub use init_producer_id::PRODUCER_ID_BLOCK_SIZE;
pub use properties::{parse_properties, PropertiesError};
pub use topic_config::{TopicConfigError, TopicConfigs};
