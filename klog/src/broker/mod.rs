//! The broker half of the produce path, sans-IO: Kafka's request handling over klog's logs.
//!
//! So far: [`config`], the broker's configuration under Kafka 4.4.0's own names, parsed and
//! checked as Kafka's `KafkaConfig` does, and [`topic_config`], the topic configs over it. The request handler and the log directory layer come
//! next; the network adapter (tokio) lives behind the `server` feature and only frames bytes.

pub mod config;
mod kafka_names;
pub mod properties;
pub mod topic_config;

pub use config::{BrokerConfig, ConfigWarning, Listener};
pub use properties::{parse_properties, PropertiesError};
pub use topic_config::{TopicConfigError, TopicConfigs};
