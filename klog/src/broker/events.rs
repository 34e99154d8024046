//! What the core tells its adapter besides responses: events for its logs and counters for
//! its metrics endpoint (no clock here: rates and latencies are the adapter's business).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use kproto::{ErrorCode, Uuid};

use super::{CloseReason, ConnectionId};

/// Something worth a log line in the adapter (Kafka logs each of these at INFO or WARN).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BrokerEvent {
    /// A topic was created (by CreateTopics or by Metadata's auto-creation).
    TopicCreated {
        /// Its name.
        topic: String,
        /// Its id.
        topic_id: Uuid,
        /// Its partition count.
        partitions: i32,
    },
    /// A topic was deleted (by DeleteTopics): it left the cluster metadata and its logs.
    TopicDeleted {
        /// Its name.
        topic: String,
        /// Its id.
        topic_id: Uuid,
        /// The partition count it had.
        partitions: i32,
    },
    /// A topic's partition count was raised (by CreatePartitions).
    PartitionsCreated {
        /// The topic.
        topic: String,
        /// The partition count before.
        from: i32,
        /// The partition count now.
        to: i32,
    },
    /// A topic's config overrides were changed (by AlterConfigs or IncrementalAlterConfigs).
    TopicConfigsAltered {
        /// The topic.
        topic: String,
        /// The overrides now in force, by name.
        overrides: alloc::vec::Vec<(String, String)>,
    },
    /// A partition's log was opened at start-up (recovered when it had not been shut down
    /// cleanly).
    PartitionLoaded {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// Its log end offset after recovery.
        log_end_offset: u64,
        /// Bytes cut off a torn or corrupt tail by recovery.
        truncated_bytes: u64,
    },
    /// The log directory was opened (Kafka's `LogManager.loadLogs`).
    LogDirOpened {
        /// `.kafka_cleanshutdown` was there: no partition was re-validated.
        had_clean_shutdown: bool,
        /// Partitions opened or created.
        partitions: usize,
        /// Partitions of known topics whose directory was missing, created.
        created: Vec<(String, i32)>,
        /// Partition directories of topics the cluster metadata does not know (left alone).
        unknown: Vec<(String, i32)>,
        /// Partition directories without `partition.metadata`, renamed `-stray`.
        set_aside: Vec<String>,
    },
    /// The log directory failed (a checkpoint could not be written): every partition refuses
    /// work until the broker restarts, as Kafka takes the directory offline.
    LogDirFailed {
        /// The failure.
        error: String,
    },
    /// The core closes a connection (the adapter must drop it).
    ConnectionClosed {
        /// The connection.
        conn: ConnectionId,
        /// Why.
        reason: CloseReason,
    },
    /// A partition's log failed (a storage error): it refuses work until the broker restarts,
    /// as Kafka takes a log directory offline.
    LogFailed {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The failure.
        error: String,
    },
    /// The cluster metadata file could not be written (the request that needed it failed).
    MetadataWriteFailed {
        /// What was being written, and the storage error.
        error: String,
    },
}

/// Counters of one API.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiCounters {
    /// Requests handled (Kafka's `RequestsPerSec` with `request=<api>`).
    pub requests: u64,
    /// Error codes returned, by code (Kafka's `ErrorsPerSec` with `error=<code name>`); one
    /// per partition or topic error a response carries.
    pub errors: BTreeMap<ErrorCode, u64>,
}

/// The core's counters, under the names of Kafka's broker metrics where they exist.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BrokerMetrics {
    /// Per API key.
    pub apis: BTreeMap<i16, ApiCounters>,
    /// Bytes of record batches appended by Produce (`BrokerTopicMetrics.BytesInPerSec`).
    pub bytes_in: u64,
    /// Bytes of record batches returned by Fetch (`BrokerTopicMetrics.BytesOutPerSec`).
    pub bytes_out: u64,
    /// Records appended (`BrokerTopicMetrics.MessagesInPerSec`).
    pub messages_in: u64,
    /// Produce requests (`BrokerTopicMetrics.TotalProduceRequestsPerSec`).
    pub total_produce_requests: u64,
    /// Fetch requests (`BrokerTopicMetrics.TotalFetchRequestsPerSec`).
    pub total_fetch_requests: u64,
    /// Connections the core closed (unknown API key, undecodable frame, acks=0 error).
    pub connections_closed: u64,
    /// Partitions (`ReplicaManager.PartitionCount`).
    pub partition_count: u64,
    /// Delayed fetches waiting (`DelayedOperationPurgatory.PurgatorySize` of Fetch).
    pub delayed_fetches: u64,
}

impl BrokerMetrics {
    pub(crate) fn api(&mut self, key: i16) -> &mut ApiCounters {
        self.apis.entry(key).or_default()
    }

    pub(crate) fn error(&mut self, key: i16, code: ErrorCode) {
        if !code.is_none() {
            *self.api(key).errors.entry(code).or_default() += 1;
        }
    }
}
