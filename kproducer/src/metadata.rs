//! The producer's metadata: Kafka's `Metadata` + `ProducerMetadata` (bootstrap, the topics in
//! use with their idle expiry, when to refresh, the Metadata request, and the response turned
//! into the shared [`Cluster`] snapshot).
//!
//! No networking here: the network client ([`crate::network::NetworkClient`]) plays Java's
//! `DefaultMetadataUpdater`, asking [`ProducerMetadata::time_to_next_update`] when a request is
//! due, building it with [`ProducerMetadata::new_metadata_request`] and handing the answer to
//! [`ProducerMetadata::update`] (or [`ProducerMetadata::failed_update`]).
//!
//! # Call order
//!
//! ```text
//! ProducerMetadata::new(config, now)     (bootstrap from bootstrap.servers)
//! add(topic, now)                        (a record for a topic: a partial update is due)
//! request_update_for_topic(topic)        (unknown partition, NOT_LEADER_OR_FOLLOWER, ...)
//! time_to_next_update(now) == 0 → new_metadata_request(now) → update(..) / failed_update(now)
//! fetch() → &Cluster;  error(topic) / topic_error(topic) for records of a failing topic
//! ```

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kproto::messages::metadata::request::MetadataRequestTopic;
use kproto::messages::{MetadataRequest, MetadataResponse};
use kproto::rng::Rng;
use kproto::{ErrorCode, Uuid};

use crate::cluster::{Cluster, Node, PartitionInfo, TopicInfo, TopicPartition};
use crate::config::ProducerConfig;
use crate::network::backoff::{ExponentialBackoff, DEFAULT_JITTER_PPM};

/// Mixed into [`ProducerConfig::seed`] for the metadata's refresh-backoff jitter.
const METADATA_SEED: u64 = 0x6d65_7461_6461_7461;

/// Why bootstrap addresses or metadata cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetadataError {
    /// `bootstrap.servers` is empty (Java: "No resolvable bootstrap urls given").
    #[error("bootstrap.servers lists no address")]
    NoBootstrapServers,
    /// An entry of `bootstrap.servers` is not `host:port` (Java's
    /// `ClientUtils.parseAndValidateAddresses`).
    #[error("invalid url in bootstrap.servers: {0}")]
    InvalidBootstrapAddress(String),
    /// The topic's name is invalid (INVALID_TOPIC_EXCEPTION): fatal for its records.
    #[error("invalid topic {0}")]
    InvalidTopic(String),
    /// Not authorized to the topic (TOPIC_AUTHORIZATION_FAILED): fatal for its records.
    #[error("not authorized to access topic {0}")]
    TopicAuthorizationFailed(String),
}

/// Whether a Kafka error is one of Java's `InvalidMetadataException`s: metadata is stale and
/// a refresh is requested when a response carries it.
pub fn is_invalid_metadata_error(e: ErrorCode) -> bool {
    matches!(
        e,
        ErrorCode::NotLeaderOrFollower
            | ErrorCode::LeaderNotAvailable
            | ErrorCode::UnknownTopicOrPartition
            | ErrorCode::KafkaStorageError
            | ErrorCode::FencedLeaderEpoch
            | ErrorCode::InconsistentTopicId
            | ErrorCode::UnknownTopicId
            | ErrorCode::ListenerNotFound
            | ErrorCode::NetworkException
            | ErrorCode::ReplicaNotAvailable
            | ErrorCode::PreferredLeaderNotAvailable
            | ErrorCode::ElectionNotNeeded
            | ErrorCode::EligibleLeadersNotAvailable
    )
}

/// Parses `bootstrap.servers` into the bootstrap nodes, ids -1, -2, … as Java's
/// `MetadataSnapshot.bootstrap` numbers them. Accepts `host:port` and `[v6addr]:port`;
/// surrounding whitespace and empty entries are skipped.
pub fn parse_bootstrap_servers(servers: &[String]) -> Result<Vec<Node>, MetadataError> {
    let mut nodes = Vec::new();
    let mut id = -1i32;
    for raw in servers {
        let s = raw.trim();
        if s.is_empty() {
            continue;
        }
        let bad = || MetadataError::InvalidBootstrapAddress(s.to_string());
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, p) = rest.split_once("]:").ok_or_else(bad)?;
            (h, p)
        } else {
            s.rsplit_once(':').ok_or_else(bad)?
        };
        let port: u16 = port.parse().map_err(|_| bad())?;
        if host.is_empty() || port == 0 || (host.contains(':') && !s.starts_with('[')) {
            return Err(bad());
        }
        nodes.push(Node {
            id,
            host: host.to_string(),
            port,
            rack: None,
        });
        id -= 1;
    }
    if nodes.is_empty() {
        return Err(MetadataError::NoBootstrapServers);
    }
    Ok(nodes)
}

/// A Metadata request to send and what it was built for (Java's `MetadataRequestAndVersion`).
#[derive(Debug, Clone, PartialEq)]
pub struct MetadataRequestAndVersion {
    /// The request body.
    pub request: MetadataRequest,
    /// The request version (bumped by each new topic) the response answers.
    pub request_version: u32,
    /// Whether it asks only for the new topics (a partial update).
    pub is_partial_update: bool,
}

/// What a Metadata response changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetadataUpdate {
    /// The response had no brokers (a starting broker): counted as a failed update.
    pub empty: bool,
    /// Topics with an error in the response, and the error.
    pub topic_errors: Vec<(String, ErrorCode)>,
    /// Partitions whose (stale) leader epoch was older than the one seen: kept as they were.
    pub stale_partitions: Vec<TopicPartition>,
}

/// Kafka's `ProducerMetadata` over `Metadata`: see the module docs for the call order.
#[derive(Debug, Clone)]
pub struct ProducerMetadata {
    bootstrap: Vec<Node>,
    cluster: Cluster,
    last_seen_leader_epochs: BTreeMap<TopicPartition, i32>,
    /// Topics in use, with the time they expire (`now + metadata.max.idle.ms` at last use).
    topics: BTreeMap<String, u64>,
    new_topics: BTreeSet<String>,
    errors: BTreeMap<String, ErrorCode>,
    invalid_topics: BTreeSet<String>,
    unauthorized_topics: BTreeSet<String>,
    need_full_update: bool,
    need_partial_update: bool,
    last_refresh_ms: u64,
    last_successful_refresh_ms: u64,
    attempts: u64,
    equivalent_response_count: u64,
    /// `refreshBackoff.backoff(attempts - 1)`, drawn when `attempts` changed.
    backoff_for_attempts_ms: u64,
    /// `refreshBackoff.backoff(equivalentResponseCount - 1)`, drawn when it changed.
    backoff_for_equivalent_ms: u64,
    request_version: u32,
    update_version: u32,
    refresh_backoff: ExponentialBackoff,
    metadata_expire_ms: u64,
    metadata_idle_ms: u64,
    rng: Rng,
}

impl ProducerMetadata {
    /// Metadata bootstrapped from `bootstrap.servers`, with `retry.backoff.ms`/`.max.ms` as
    /// the refresh backoff, `metadata.max.age.ms` and `metadata.max.idle.ms`.
    pub fn new(config: &ProducerConfig) -> Result<Self, MetadataError> {
        let bootstrap = parse_bootstrap_servers(&config.bootstrap_servers)?;
        let refresh_backoff = ExponentialBackoff::new(
            config.retry_backoff_ms,
            config.retry_backoff_max_ms,
            DEFAULT_JITTER_PPM,
        );
        let mut m = ProducerMetadata {
            bootstrap,
            cluster: Cluster::default(),
            last_seen_leader_epochs: BTreeMap::new(),
            topics: BTreeMap::new(),
            new_topics: BTreeSet::new(),
            errors: BTreeMap::new(),
            invalid_topics: BTreeSet::new(),
            unauthorized_topics: BTreeSet::new(),
            need_full_update: false,
            need_partial_update: false,
            last_refresh_ms: 0,
            last_successful_refresh_ms: 0,
            attempts: 0,
            equivalent_response_count: 0,
            backoff_for_attempts_ms: refresh_backoff.initial_interval(),
            backoff_for_equivalent_ms: 0,
            request_version: 0,
            update_version: 0,
            refresh_backoff,
            metadata_expire_ms: config.metadata_max_age_ms,
            metadata_idle_ms: config.metadata_max_idle_ms,
            rng: Rng::new(config.seed ^ METADATA_SEED),
        };
        m.rebootstrap();
        Ok(m)
    }

    /// Back to the bootstrap addresses (Java's `bootstrap`/`rebootstrap`): the snapshot holds
    /// only the bootstrap nodes, and a full update is due.
    pub fn rebootstrap(&mut self) {
        self.need_full_update = true;
        self.update_version = self.update_version.wrapping_add(1);
        self.cluster = Cluster {
            nodes: self.bootstrap.iter().map(|n| (n.id, n.clone())).collect(),
            ..Cluster::default()
        };
    }

    /// Whether the snapshot is still the bootstrap one (no Metadata response since).
    pub fn is_bootstrap(&self) -> bool {
        self.cluster.nodes.keys().all(|id| *id < 0) && self.cluster.topics.is_empty()
    }

    /// The current snapshot (Java's `fetch()`).
    pub fn fetch(&self) -> &Cluster {
        &self.cluster
    }

    /// The nodes to pick a least-loaded node from (Java's `fetchNodes`).
    pub fn fetch_nodes(&self) -> Vec<Node> {
        self.cluster.nodes.values().cloned().collect()
    }

    /// A record for `topic` was sent at `now_ms`: keep the topic for `metadata.max.idle.ms`;
    /// a topic new to the producer makes a partial update due at once.
    pub fn add(&mut self, topic: &str, now_ms: u64) {
        let expiry = now_ms.saturating_add(self.metadata_idle_ms);
        if self.topics.insert(topic.to_string(), expiry).is_none() {
            self.new_topics.insert(topic.to_string());
            self.request_update_for_new_topics();
        }
    }

    /// Whether the producer uses `topic`.
    pub fn contains_topic(&self, topic: &str) -> bool {
        self.topics.contains_key(topic)
    }

    /// The topics in use.
    pub fn topics(&self) -> impl Iterator<Item = &str> {
        self.topics.keys().map(String::as_str)
    }

    /// The topics added but not yet answered by a Metadata response.
    pub fn new_topics(&self) -> impl Iterator<Item = &str> {
        self.new_topics.iter().map(String::as_str)
    }

    /// Requests an update for `topic`: partial while it is new, else full (Java's
    /// `requestUpdateForTopic`). Returns the update version to wait for.
    pub fn request_update_for_topic(&mut self, topic: &str) -> u32 {
        if self.new_topics.contains(topic) {
            self.request_update_for_new_topics()
        } else {
            self.request_update(false)
        }
    }

    /// Requests a full update (leader changed, NOT_LEADER_OR_FOLLOWER, a disconnect).
    pub fn request_update(&mut self, reset_equivalent_response_backoff: bool) -> u32 {
        self.need_full_update = true;
        if reset_equivalent_response_backoff {
            self.set_equivalent_response_count(0);
        }
        self.update_version
    }

    /// Requests a partial update for the new topics, at once (Java overrides the last refresh
    /// time to 0).
    pub fn request_update_for_new_topics(&mut self) -> u32 {
        self.last_refresh_ms = 0;
        self.need_partial_update = true;
        self.set_equivalent_response_count(0);
        self.request_version = self.request_version.wrapping_add(1);
        self.update_version
    }

    /// Whether an update was requested.
    pub fn update_requested(&self) -> bool {
        self.need_full_update || self.need_partial_update
    }

    /// The number of updates applied (Java's `updateVersion`).
    pub fn update_version(&self) -> u32 {
        self.update_version
    }

    fn set_equivalent_response_count(&mut self, n: u64) {
        self.equivalent_response_count = n;
        self.backoff_for_equivalent_ms = if n > 0 {
            self.refresh_backoff.backoff(n - 1, &mut self.rng)
        } else {
            0
        };
    }

    /// How long until a refresh is allowed (Java's `timeToAllowUpdate`): the backoff for
    /// failed attempts and for responses that changed nothing.
    pub fn time_to_allow_update(&mut self, now_ms: u64) -> u64 {
        let for_attempts = (self
            .last_refresh_ms
            .saturating_add(self.backoff_for_attempts_ms))
        .saturating_sub(now_ms);
        if self
            .last_successful_refresh_ms
            .saturating_add(self.metadata_expire_ms)
            <= now_ms
        {
            self.set_equivalent_response_count(0);
        }
        let for_equivalent = (self
            .last_refresh_ms
            .saturating_add(self.backoff_for_equivalent_ms))
        .saturating_sub(now_ms);
        for_attempts.max(for_equivalent)
    }

    /// How long until the next update is due (Java's `timeToNextUpdate`): 0 when requested
    /// or when `metadata.max.age.ms` passed, but never before the backoff allows.
    pub fn time_to_next_update(&mut self, now_ms: u64) -> u64 {
        let to_expire = if self.update_requested() {
            0
        } else {
            self.last_successful_refresh_ms
                .saturating_add(self.metadata_expire_ms)
                .saturating_sub(now_ms)
        };
        to_expire.max(self.time_to_allow_update(now_ms))
    }

    /// The Metadata request to send now (Java's `newMetadataRequestAndVersion`): only the new
    /// topics when no full update is needed and the snapshot has not expired, else every topic
    /// in use. `allow_auto_topic_creation` is true, as the producer asks.
    pub fn new_metadata_request(&self, now_ms: u64) -> MetadataRequestAndVersion {
        let partial = !self.need_full_update
            && self
                .last_successful_refresh_ms
                .saturating_add(self.metadata_expire_ms)
                > now_ms;
        let names: Vec<&String> = if partial {
            self.new_topics.iter().collect()
        } else {
            self.topics.keys().collect()
        };
        let request = MetadataRequest {
            topics: Some(
                names
                    .into_iter()
                    .map(|n| MetadataRequestTopic {
                        topic_id: Uuid::ZERO,
                        name: Some(n.clone().into()),
                        ..MetadataRequestTopic::default()
                    })
                    .collect(),
            ),
            allow_auto_topic_creation: true,
            ..MetadataRequest::default()
        };
        MetadataRequestAndVersion {
            request,
            request_version: self.request_version,
            is_partial_update: partial,
        }
    }

    /// A refresh failed (no answer, a disconnect): back off (Java's `failedUpdate`).
    pub fn failed_update(&mut self, now_ms: u64) {
        self.last_refresh_ms = now_ms;
        self.attempts += 1;
        self.backoff_for_attempts_ms = self
            .refresh_backoff
            .backoff(self.attempts - 1, &mut self.rng);
        self.set_equivalent_response_count(0);
    }

    /// Java's `retainTopic`: whether a topic of a response stays in the snapshot; a topic idle
    /// for `metadata.max.idle.ms` is forgotten.
    fn retain_topic(&mut self, topic: &str, now_ms: u64) -> bool {
        match self.topics.get(topic) {
            None => false,
            Some(_) if self.new_topics.contains(topic) => true,
            Some(&expiry) if expiry <= now_ms => {
                self.topics.remove(topic);
                false
            }
            Some(_) => true,
        }
    }

    /// Applies a Metadata response of `version` to the request built as `request_version`
    /// (`is_partial_update` as built). A response without brokers counts as a failed update,
    /// as Java's `DefaultMetadataUpdater.handleSuccessfulResponse` does.
    pub fn update(
        &mut self,
        version: i16,
        response: &MetadataResponse,
        request_version: u32,
        is_partial_update: bool,
        now_ms: u64,
    ) -> MetadataUpdate {
        let mut out = MetadataUpdate::default();
        if response.brokers.is_empty() {
            self.failed_update(now_ms);
            out.empty = true;
            return out;
        }
        self.need_partial_update = request_version < self.request_version;
        self.last_refresh_ms = now_ms;
        self.attempts = 0;
        self.backoff_for_attempts_ms = self.refresh_backoff.initial_interval();
        self.update_version = self.update_version.wrapping_add(1);
        if !is_partial_update {
            self.need_full_update = false;
            self.last_successful_refresh_ms = now_ms;
        }
        let mut equivalent = self.equivalent_response_count + 1;
        self.invalid_topics.clear();
        self.unauthorized_topics.clear();
        self.errors.clear();
        let reliable_epochs = version >= 9;

        let mut seen = BTreeSet::new();
        let mut new_topics: BTreeMap<String, TopicInfo> = BTreeMap::new();
        for t in &response.topics {
            let Some(name) = t.name.as_deref() else {
                continue;
            };
            seen.insert(name.to_string());
            if !self.retain_topic(name, now_ms) {
                continue;
            }
            let error = ErrorCode::from_code(t.error_code).unwrap_or(ErrorCode::UnknownServerError);
            if !error.is_none() {
                out.topic_errors.push((name.to_string(), error));
                self.errors.insert(name.to_string(), error);
                if is_invalid_metadata_error(error) {
                    self.request_update(false);
                }
                match error {
                    ErrorCode::InvalidTopicException => {
                        self.invalid_topics.insert(name.to_string());
                    }
                    ErrorCode::TopicAuthorizationFailed => {
                        self.unauthorized_topics.insert(name.to_string());
                    }
                    _ => {}
                }
                continue;
            }
            let old_topic_id = self.cluster.topics.get(name).map(|i| i.topic_id);
            let mut partitions = Vec::with_capacity(t.partitions.len());
            for p in &t.partitions {
                let tp = TopicPartition::new(name, p.partition_index);
                let fresh = PartitionInfo {
                    partition: p.partition_index,
                    leader: (p.leader_id >= 0).then_some(p.leader_id),
                    leader_epoch: p.leader_epoch,
                    replicas: p.replica_nodes.clone(),
                    isr: p.isr_nodes.clone(),
                };
                let perr =
                    ErrorCode::from_code(p.error_code).unwrap_or(ErrorCode::UnknownServerError);
                if is_invalid_metadata_error(perr) {
                    self.request_update(false);
                }
                // Java's updateLatestMetadata.
                if reliable_epochs && p.leader_epoch >= 0 {
                    let new_epoch = p.leader_epoch;
                    let topic_id_changed =
                        t.topic_id != Uuid::ZERO && old_topic_id != Some(t.topic_id);
                    match self.last_seen_leader_epochs.get(&tp).copied() {
                        None => {
                            self.last_seen_leader_epochs.insert(tp, new_epoch);
                            equivalent = 0;
                            partitions.push(fresh);
                        }
                        Some(_) if topic_id_changed => {
                            self.last_seen_leader_epochs.insert(tp, new_epoch);
                            equivalent = 0;
                            partitions.push(fresh);
                        }
                        Some(current) if new_epoch >= current => {
                            self.last_seen_leader_epochs.insert(tp, new_epoch);
                            if new_epoch > current {
                                equivalent = 0;
                            }
                            partitions.push(fresh);
                        }
                        Some(_) => {
                            // stale: keep what the snapshot had, if anything
                            let old = self
                                .cluster
                                .partitions(name)
                                .and_then(|ps| ps.iter().find(|o| o.partition == p.partition_index))
                                .cloned();
                            out.stale_partitions.push(tp);
                            if let Some(old) = old {
                                partitions.push(old);
                            }
                        }
                    }
                } else {
                    self.last_seen_leader_epochs.remove(&tp);
                    equivalent = 0;
                    partitions.push(PartitionInfo {
                        leader_epoch: -1,
                        ..fresh
                    });
                }
            }
            partitions.sort_by_key(|p| p.partition);
            partitions.dedup_by_key(|p| p.partition);
            new_topics.insert(
                name.to_string(),
                TopicInfo {
                    topic_id: t.topic_id,
                    partitions,
                },
            );
        }
        if is_partial_update {
            // Java's mergeWith: topics not in the response stay if still retained
            let old: Vec<(String, TopicInfo)> = core::mem::take(&mut self.cluster.topics)
                .into_iter()
                .collect();
            for (name, info) in old {
                if !seen.contains(&name) && self.retain_topic(&name, now_ms) {
                    new_topics.entry(name).or_insert(info);
                }
            }
        }
        self.set_equivalent_response_count(equivalent);
        for t in &self.new_topics.clone() {
            if seen.contains(t) {
                self.new_topics.remove(t);
            }
        }
        let nodes = response
            .brokers
            .iter()
            .filter_map(|b| {
                Some((
                    b.node_id,
                    Node {
                        id: b.node_id,
                        host: b.host.to_string(),
                        port: u16::try_from(b.port).ok()?,
                        rack: b.rack.as_deref().map(str::to_string),
                    },
                ))
            })
            .collect();
        self.cluster = Cluster {
            cluster_id: response.cluster_id.as_deref().map(str::to_string),
            controller: (response.controller_id >= 0).then_some(response.controller_id),
            nodes,
            topics: new_topics,
        };
        let topics = &self.topics;
        self.last_seen_leader_epochs
            .retain(|tp, _| topics.contains_key(&tp.topic));
        out
    }

    /// Java's `updatePartitionLeadership` (KIP-951): the new leaders a Produce response named
    /// (`current_leader` with `node_endpoints`) are applied without a Metadata round trip.
    /// `leaders` are (partition, leader id, leader epoch); a leader is taken only when its
    /// epoch is newer than the known one, its node is known (or in `nodes`) and the partition
    /// is known. Returns the partitions updated.
    pub fn update_partition_leadership(
        &mut self,
        leaders: &[(TopicPartition, i32, i32)],
        nodes: &[Node],
    ) -> Vec<TopicPartition> {
        let mut updated = Vec::new();
        let mut new_nodes = self.cluster.nodes.clone();
        for n in nodes {
            new_nodes.insert(n.id, n.clone());
        }
        for (tp, leader, epoch) in leaders {
            if *leader < 0 || *epoch < 0 || !new_nodes.contains_key(leader) {
                continue;
            }
            let Some(info) = self.cluster.topics.get_mut(&tp.topic) else {
                continue;
            };
            let Some(p) = info
                .partitions
                .iter_mut()
                .find(|p| p.partition == tp.partition)
            else {
                continue;
            };
            let current = self
                .last_seen_leader_epochs
                .get(tp)
                .copied()
                .or((p.leader_epoch >= 0).then_some(p.leader_epoch));
            if current.is_some_and(|c| *epoch <= c) {
                continue;
            }
            p.leader = Some(*leader);
            p.leader_epoch = *epoch;
            self.last_seen_leader_epochs.insert(tp.clone(), *epoch);
            updated.push(tp.clone());
        }
        if !updated.is_empty() {
            self.cluster.nodes = new_nodes;
        }
        updated
    }

    /// The error the last response gave for `topic`, if any (Java's `getError`).
    pub fn error(&self, topic: &str) -> Option<ErrorCode> {
        self.errors.get(topic).copied()
    }

    /// The fatal error for `topic`'s records, if the last response made one: an invalid
    /// topic or a topic not authorized (Java's `maybeThrowExceptionForTopic`). Retriable
    /// errors (UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE) are `None`: wait for the
    /// next update.
    pub fn topic_error(&self, topic: &str) -> Option<MetadataError> {
        if self.unauthorized_topics.contains(topic) {
            Some(MetadataError::TopicAuthorizationFailed(topic.to_string()))
        } else if self.invalid_topics.contains(topic) {
            Some(MetadataError::InvalidTopic(topic.to_string()))
        } else {
            None
        }
    }

    /// The last leader epoch seen for a partition.
    pub fn last_seen_leader_epoch(&self, tp: &TopicPartition) -> Option<i32> {
        self.last_seen_leader_epochs.get(tp).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use kproto::messages::metadata::response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };

    pub(crate) fn config() -> ProducerConfig {
        ProducerConfig {
            bootstrap_servers: vec!["localhost:9092".into(), "[::1]:9093".into()],
            ..ProducerConfig::default()
        }
    }

    /// (partition, leader, leader epoch)
    type Parts<'a> = &'a [(i32, i32, i32)];

    fn response(topics: &[(&str, i16, Parts<'_>)]) -> MetadataResponse {
        MetadataResponse {
            brokers: vec![MetadataResponseBroker {
                node_id: 1,
                host: "broker1".into(),
                port: 9092,
                ..Default::default()
            }],
            cluster_id: Some("c".into()),
            controller_id: 1,
            topics: topics
                .iter()
                .map(|(name, err, parts)| MetadataResponseTopic {
                    error_code: *err,
                    name: Some((*name).into()),
                    topic_id: Uuid::ZERO,
                    partitions: parts
                        .iter()
                        .map(|&(p, leader, epoch)| MetadataResponsePartition {
                            partition_index: p,
                            leader_id: leader,
                            leader_epoch: epoch,
                            replica_nodes: vec![1],
                            isr_nodes: vec![1],
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn bootstrap_servers_parse_as_java_numbers_them() {
        let nodes =
            parse_bootstrap_servers(&[" a.example:9092 ".into(), "".into(), "[::1]:19092".into()])
                .unwrap();
        assert_eq!(nodes.len(), 2);
        assert_eq!(
            (nodes[0].id, nodes[0].host.as_str(), nodes[0].port),
            (-1, "a.example", 9092)
        );
        assert_eq!(
            (nodes[1].id, nodes[1].host.as_str(), nodes[1].port),
            (-2, "::1", 19092)
        );
        for bad in ["nohost", "h:0", "h:70000", ":9092", "::1:9092", "h:x"] {
            assert_eq!(
                parse_bootstrap_servers(&[bad.into()]),
                Err(MetadataError::InvalidBootstrapAddress(bad.into())),
                "{bad}"
            );
        }
        assert_eq!(
            parse_bootstrap_servers(&[]),
            Err(MetadataError::NoBootstrapServers)
        );
    }

    #[test]
    fn a_new_topic_makes_a_partial_update_due_at_once() {
        let mut m = ProducerMetadata::new(&config()).unwrap();
        assert!(m.is_bootstrap());
        assert_eq!(m.fetch_nodes().len(), 2);
        // first a full update (bootstrap)
        assert_eq!(m.time_to_next_update(1_000), 0);
        let req = m.new_metadata_request(1_000);
        assert!(!req.is_partial_update);
        m.update(13, &response(&[]), req.request_version, false, 1_000);
        assert!(!m.is_bootstrap());
        assert!(m.time_to_next_update(1_001) > 0);
        m.add("orders", 2_000);
        assert_eq!(m.time_to_next_update(2_000), 0);
        let req = m.new_metadata_request(2_000);
        assert!(req.is_partial_update);
        assert_eq!(req.request.topics.as_ref().unwrap().len(), 1);
        assert!(req.request.allow_auto_topic_creation);
        m.update(
            13,
            &response(&[("orders", 0, &[(0, 1, 5)])]),
            req.request_version,
            true,
            2_010,
        );
        assert_eq!(m.new_topics().count(), 0);
        assert_eq!(m.fetch().leader_for("orders", 0).unwrap().id, 1);
        // metadata.max.age.ms (5 min) later a full update is due again
        assert!(m.time_to_next_update(2_011) > 0);
        assert_eq!(m.time_to_next_update(1_000 + 300_000), 0);
    }

    #[test]
    fn stale_leader_epochs_are_ignored() {
        let mut m = ProducerMetadata::new(&config()).unwrap();
        m.add("t", 0);
        let r = m.new_metadata_request(0);
        m.update(
            13,
            &response(&[("t", 0, &[(0, 1, 7), (1, 1, 3)])]),
            r.request_version,
            r.is_partial_update,
            0,
        );
        let mut older = response(&[("t", 0, &[(0, 2, 6), (1, 2, 4)])]);
        older.brokers.push(MetadataResponseBroker {
            node_id: 2,
            host: "broker2".into(),
            port: 9092,
            ..Default::default()
        });
        let u = m.update(13, &older, r.request_version, false, 10);
        assert_eq!(u.stale_partitions, vec![TopicPartition::new("t", 0)]);
        let parts = m.fetch().partitions("t").unwrap();
        assert_eq!((parts[0].leader, parts[0].leader_epoch), (Some(1), 7));
        assert_eq!((parts[1].leader, parts[1].leader_epoch), (Some(2), 4));
        assert_eq!(
            m.last_seen_leader_epoch(&TopicPartition::new("t", 1)),
            Some(4)
        );
        // before v9 epochs are not reliable: taken as they come, without an epoch
        m.update(8, &older, r.request_version, false, 20);
        assert_eq!(m.fetch().partitions("t").unwrap()[0].leader, Some(2));
        assert_eq!(m.last_seen_leader_epoch(&TopicPartition::new("t", 0)), None);
    }

    #[test]
    fn topic_errors_retriable_and_fatal() {
        let mut m = ProducerMetadata::new(&config()).unwrap();
        for t in ["a", "b", "c", "d"] {
            m.add(t, 0);
        }
        let r = m.new_metadata_request(0);
        let u = m.update(
            13,
            &response(&[
                ("a", ErrorCode::UnknownTopicOrPartition.code(), &[]),
                ("b", ErrorCode::LeaderNotAvailable.code(), &[]),
                ("c", ErrorCode::InvalidTopicException.code(), &[]),
                ("d", ErrorCode::TopicAuthorizationFailed.code(), &[]),
            ]),
            r.request_version,
            false,
            0,
        );
        assert_eq!(u.topic_errors.len(), 4);
        assert_eq!(m.topic_error("a"), None);
        assert_eq!(m.topic_error("b"), None);
        assert_eq!(m.error("b"), Some(ErrorCode::LeaderNotAvailable));
        assert_eq!(
            m.topic_error("c"),
            Some(MetadataError::InvalidTopic("c".into()))
        );
        assert_eq!(
            m.topic_error("d"),
            Some(MetadataError::TopicAuthorizationFailed("d".into()))
        );
        // the retriable ones requested a new update, subject to the refresh backoff
        assert!(m.update_requested());
        assert!(m.fetch().partitions("a").is_none());
    }

    #[test]
    fn failed_updates_back_off_exponentially() {
        let mut m = ProducerMetadata::new(&config()).unwrap();
        // retry.backoff.ms=100, retry.backoff.max.ms=1000
        let mut now = 10_000;
        let mut last = 0;
        for attempt in 0..6u64 {
            m.failed_update(now);
            let wait = m.time_to_next_update(now);
            let term = (100u64 << attempt).min(1000);
            assert!(
                wait >= term * 8 / 10 && wait <= (term * 12 / 10).min(1000),
                "{attempt}: {wait}"
            );
            assert!(wait + 250 >= last, "grows");
            last = wait;
            now += wait;
            assert_eq!(m.time_to_next_update(now), 0);
        }
        // an empty broker list (a starting broker) counts as a failure too
        let r = m.new_metadata_request(now);
        let mut empty = response(&[]);
        empty.brokers.clear();
        assert!(m.update(13, &empty, r.request_version, false, now).empty);
        assert!(m.time_to_next_update(now) > 0);
    }

    #[test]
    fn produce_responses_move_leaders_only_forward() {
        let mut m = ProducerMetadata::new(&config()).unwrap();
        m.add("t", 0);
        let r = m.new_metadata_request(0);
        m.update(
            13,
            &response(&[("t", 0, &[(0, 1, 4), (1, 1, 4)])]),
            r.request_version,
            r.is_partial_update,
            0,
        );
        let node2 = Node {
            id: 2,
            host: "broker2".into(),
            port: 9092,
            rack: None,
        };
        let moved = m.update_partition_leadership(
            &[
                (TopicPartition::new("t", 0), 2, 5), // newer: taken
                (TopicPartition::new("t", 1), 2, 4), // same epoch: ignored
                (TopicPartition::new("t", 2), 2, 9), // unknown partition
                (TopicPartition::new("u", 0), 2, 9), // unknown topic
                (TopicPartition::new("t", 1), 3, 8), // unknown node
            ],
            core::slice::from_ref(&node2),
        );
        assert_eq!(moved, vec![TopicPartition::new("t", 0)]);
        assert_eq!(m.fetch().leader_for("t", 0), Some(&node2));
        assert_eq!(m.fetch().partitions("t").unwrap()[1].leader, Some(1));
        assert_eq!(
            m.last_seen_leader_epoch(&TopicPartition::new("t", 0)),
            Some(5)
        );
    }

    #[test]
    fn partial_updates_keep_the_other_topics() {
        let mut m = ProducerMetadata::new(&config()).unwrap();
        m.add("old", 0);
        let r = m.new_metadata_request(0);
        m.update(
            13,
            &response(&[("old", 0, &[(0, 1, 0)])]),
            r.request_version,
            r.is_partial_update,
            0,
        );
        m.add("new", 10);
        let r = m.new_metadata_request(10);
        assert!(r.is_partial_update);
        let names: Vec<&str> = r
            .request
            .topics
            .as_ref()
            .unwrap()
            .iter()
            .filter_map(|t| t.name.as_deref())
            .collect();
        assert_eq!(names, ["new"]);
        m.update(
            13,
            &response(&[("new", 0, &[(0, 1, 0), (1, 1, 0)])]),
            r.request_version,
            true,
            20,
        );
        assert_eq!(m.fetch().partition_count("old"), Some(1));
        assert_eq!(m.fetch().partition_count("new"), Some(2));
        // a topic added while a partial request was in flight keeps a partial update due
        m.add("newer", 30);
        let r2 = m.new_metadata_request(30);
        m.add("newest", 31);
        m.update(
            13,
            &response(&[("newer", 0, &[(0, 1, 0)])]),
            r2.request_version,
            true,
            40,
        );
        assert!(m.update_requested());
        assert_eq!(m.new_topics().collect::<Vec<_>>(), ["newest"]);
        // requestUpdateForTopic: partial for a new topic, full for a known one
        m.request_update_for_topic("old");
        assert!(!m.new_metadata_request(50).is_partial_update);
    }

    #[test]
    fn idle_topics_expire_after_metadata_max_idle_ms() {
        let mut m = ProducerMetadata::new(&config()).unwrap();
        m.add("idle", 0);
        let r = m.new_metadata_request(0);
        m.update(
            13,
            &response(&[("idle", 0, &[(0, 1, 0)])]),
            r.request_version,
            r.is_partial_update,
            0,
        );
        assert!(m.contains_topic("idle"));
        // metadata.max.idle.ms = 5 min
        let r = m.new_metadata_request(300_000);
        assert!(!r.is_partial_update);
        m.update(
            13,
            &response(&[("idle", 0, &[(0, 1, 0)])]),
            r.request_version,
            false,
            300_000,
        );
        assert!(!m.contains_topic("idle"));
        assert!(m.fetch().partitions("idle").is_none());
        // using it again brings it back as a new topic
        m.add("idle", 300_001);
        assert_eq!(m.new_topics().count(), 1);
    }
}
