//! The API versions this broker serves and advertises (Kafka's `ApiVersionManager`).
//!
//! Every range below is Apache Kafka 4.4.0's own for a broker listener
//! ([`kproto::versions::served`]; checked by a test), so a client negotiates with us exactly as
//! it would with Kafka. As Kafka 4.4.0 does (KAFKA-18659), Produce is advertised from version 0
//! (librdkafka before 2.11.1 looks for Produce v0 to enable compression) but served from 3.
//!
//! A request for an API this broker does not serve, or at a version outside the served range,
//! is what Kafka calls "not enabled" (`SocketServer.parseRequestHeader` →
//! `ApiVersionManager.isApiEnabled`, checked in the 4.4.0 jars): Kafka throws
//! `InvalidRequestException` and closes the connection, and so does this broker
//! ([`super::CloseReason::NotEnabled`]). ApiVersions is the exception: every version is
//! accepted, an unknown one is answered with UNSUPPORTED_VERSION in the v0 layout (KIP-511).
//!
//! FindCoordinator is served (every key answered COORDINATOR_NOT_AVAILABLE: old librdkafka
//! needs it advertised to use LZ4, and clients probe it before groups).
//!
//! Fetch (4–18), ListOffsets (1–11) and OffsetForLeaderEpoch (2–4) are served over the logs as
//! a leader with no other replica (see `fetch`, `list_offsets`, `offset_for_leader_epoch`).
//!
//! The admin APIs DeleteTopics (1–6), DeleteRecords (0–2), DescribeConfigs (1–4),
//! AlterConfigs (0–2), CreatePartitions (0–3) and IncrementalAlterConfigs (0–1) are served as
//! Kafka's broker and controller answer them for one node (see `delete_topics`,
//! `delete_records`, `describe_configs`, `alter_configs`, `create_partitions`).
//!
//! Deviation: the APIs Kafka serves that this broker does not implement yet (consumer groups,
//! transactions, ACLs, quotas, ...) are neither advertised nor served, so a client never picks
//! them; Kafka would answer them.

use kproto::ApiKey;

/// One API the broker serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServedApi {
    /// The API.
    pub key: ApiKey,
    /// The lowest version advertised in ApiVersions (below `min` only for Produce).
    pub advertised_min: i16,
    /// The lowest version served.
    pub min: i16,
    /// The highest version served and advertised.
    pub max: i16,
}

const fn api(key: ApiKey, min: i16, max: i16) -> ServedApi {
    ServedApi {
        key,
        advertised_min: min,
        min,
        max,
    }
}

/// The APIs this broker serves, by API key, with Kafka 4.4.0's ranges.
pub const SERVED_APIS: &[ServedApi] = &[
    ServedApi {
        key: ApiKey::Produce,
        advertised_min: 0,
        min: 3,
        max: 13,
    },
    api(ApiKey::Fetch, 4, 18),
    api(ApiKey::ListOffsets, 1, 11),
    api(ApiKey::Metadata, 0, 13),
    api(ApiKey::ApiVersions, 0, 5),
    api(ApiKey::CreateTopics, 2, 7),
    api(ApiKey::DeleteTopics, 1, 6),
    api(ApiKey::DeleteRecords, 0, 2),
    api(ApiKey::FindCoordinator, 0, 6),
    api(ApiKey::InitProducerId, 0, 5),
    api(ApiKey::OffsetForLeaderEpoch, 2, 4),
    api(ApiKey::DescribeConfigs, 1, 4),
    api(ApiKey::AlterConfigs, 0, 2),
    api(ApiKey::CreatePartitions, 0, 3),
    api(ApiKey::IncrementalAlterConfigs, 0, 1),
    api(ApiKey::DescribeCluster, 0, 2),
];

/// The served range of `key`, if the broker serves it.
pub fn served(key: ApiKey) -> Option<&'static ServedApi> {
    SERVED_APIS.iter().find(|a| a.key == key)
}

/// Whether a request of `key` at `version` is handled (Kafka's `isApiEnabled`); ApiVersions
/// is always handled (KIP-511 answers an unknown version).
pub fn is_enabled(key: ApiKey, version: i16) -> bool {
    key == ApiKey::ApiVersions || served(key).is_some_and(|a| a.min <= version && version <= a.max)
}
