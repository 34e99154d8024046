//! Metadata (key 3) and DescribeCluster (key 60), as Kafka 4.4.0's
//! `KafkaApis.handleTopicMetadataRequest` and `handleDescribeCluster` answer them on a single
//! node that is the leader and only replica of every partition.
//!
//! Auto-creation: a topic that does not exist is created (with `num.partitions`) when
//! `auto.create.topics.enable` and the request's `allow_auto_topic_creation` (always true
//! before v4) allow it and the request names its topics. Kafka's broker forwards the creation to
//! its controller and answers LEADER_NOT_AVAILABLE meanwhile; this broker creates the topic at
//! once and answers LEADER_NOT_AVAILABLE too, so a client sees what it sees from Kafka and
//! finds the topic on its next request. An invalid name is INVALID_TOPIC_EXCEPTION; without
//! auto-creation an unknown topic is UNKNOWN_TOPIC_OR_PARTITION; an unknown topic id (v12+)
//! UNKNOWN_TOPIC_ID.
//!
//! No authorizer: authorized operations, when asked for, are every operation Kafka supports on
//! the resource (what Kafka answers without an authorizer).
//!
//! The advertised host is the first advertised listener's; an empty host (Kafka's "every
//! interface") is advertised as `localhost` where Kafka would resolve the machine's canonical
//! host name (the core has no network): the adapter should fill in `advertised.listeners`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use kproto::messages::describe_cluster::response::DescribeClusterBroker;
use kproto::messages::metadata::response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kproto::messages::{
    DescribeClusterRequest, DescribeClusterResponse, MetadataRequest, MetadataResponse,
    ResponseBody,
};
use kproto::{ApiKey, ErrorCode, KStr, Uuid};

use super::core::Broker;
use super::topic_config::TopicConfigs;
use super::topics::{is_internal, validate_name};
use crate::storage::Storage;

/// `AclEntry.supportedOperations(TOPIC)` as Kafka's 32-bit field: READ, WRITE, CREATE,
/// DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS.
pub(crate) const TOPIC_OPERATIONS: i32 =
    (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
/// `AclEntry.supportedOperations(CLUSTER)`: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION,
/// DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE.
pub(crate) const CLUSTER_OPERATIONS: i32 =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

impl<S: Storage + Clone> Broker<S> {
    /// The host and port clients are told to connect to.
    pub(crate) fn advertised(&self) -> (String, i32) {
        match self.config.advertised_listeners.first() {
            Some(l) => (
                l.host.clone().unwrap_or_else(|| String::from("localhost")),
                i32::from(l.port),
            ),
            None => (String::from("localhost"), 9092),
        }
    }

    /// One topic's metadata: every partition led by this node.
    pub(crate) fn topic_metadata(&self, name: &str, with_ops: bool) -> MetadataResponseTopic {
        let node = self.config.node_id;
        let t = &self.meta.topics[name];
        let partitions = (0..t.partitions)
            .map(|p| {
                let log = self.logs.log(name, p);
                MetadataResponsePartition {
                    error_code: if log.is_some_and(|l| !l.is_failed()) {
                        ErrorCode::None.code()
                    } else {
                        ErrorCode::KafkaStorageError.code()
                    },
                    partition_index: p,
                    leader_id: node,
                    leader_epoch: log.map_or(0, |l| l.leader_epoch()),
                    replica_nodes: vec![node],
                    isr_nodes: vec![node],
                    offline_replicas: Vec::new(),
                    ..MetadataResponsePartition::default()
                }
            })
            .collect();
        MetadataResponseTopic {
            error_code: ErrorCode::None.code(),
            name: Some(KStr::from(name)),
            topic_id: t.id,
            is_internal: is_internal(name),
            partitions,
            topic_authorized_operations: if with_ops { TOPIC_OPERATIONS } else { i32::MIN },
            ..MetadataResponseTopic::default()
        }
    }

    pub(crate) fn handle_metadata(
        &mut self,
        req: &MetadataRequest,
        version: i16,
        now_ms: i64,
    ) -> MetadataResponse {
        let key = ApiKey::Metadata.key();
        let topic_error = |code: ErrorCode, name: Option<KStr>, id: Uuid| MetadataResponseTopic {
            error_code: code.code(),
            name,
            topic_id: id,
            is_internal: false,
            ..MetadataResponseTopic::default()
        };
        // v10 and v11 carry ids that may not be used (Kafka: InvalidRequestException, answered
        // through MetadataRequest.getErrorResponse)
        if let Some(topics) = &req.topics {
            if version < 12
                && topics
                    .iter()
                    .any(|t| t.name.is_none() || t.topic_id != Uuid::ZERO)
            {
                let mut resp = self.metadata_frame(req, version);
                resp.topics = topics
                    .iter()
                    .map(|t| {
                        topic_error(
                            ErrorCode::InvalidRequest,
                            Some(t.name.clone().unwrap_or_default()),
                            t.topic_id,
                        )
                    })
                    .collect();
                for _ in &resp.topics {
                    self.metrics.error(key, ErrorCode::InvalidRequest);
                }
                return resp;
            }
        }
        let with_ops = version >= 8 && req.include_topic_authorized_operations;
        let all = match &req.topics {
            None => true,
            Some(t) => version == 0 && t.is_empty(),
        };
        let mut out: Vec<MetadataResponseTopic> = Vec::new();
        if all {
            let names: Vec<String> = self.meta.topics.keys().cloned().collect();
            for n in names {
                out.push(self.topic_metadata(&n, with_ops));
            }
        } else {
            let topics = req.topics.as_deref().unwrap_or_default();
            let ids: Vec<Uuid> = topics
                .iter()
                .map(|t| t.topic_id)
                .filter(|id| *id != Uuid::ZERO)
                .collect();
            let auto_create = self.config.auto_create_topics_enable
                && (version < 4 || req.allow_auto_topic_creation);
            let mut seen: Vec<&str> = Vec::new();
            if !ids.is_empty() {
                // by id (v12+): names are ignored, as Kafka's useTopicId
                for id in ids {
                    match self.meta.topic_name(id).map(String::from) {
                        Some(n) if !seen.contains(&&*n) => {
                            out.push(self.topic_metadata(&n, with_ops));
                        }
                        Some(_) => {}
                        None => out.push(topic_error(ErrorCode::UnknownTopicId, None, id)),
                    }
                }
            } else {
                for t in topics {
                    let name = t.name.as_deref().unwrap_or("");
                    if seen.contains(&name) {
                        continue;
                    }
                    seen.push(name);
                    if self.meta.topics.contains_key(name) {
                        out.push(self.topic_metadata(name, with_ops));
                        continue;
                    }
                    let code = match validate_name(name) {
                        Err(e) => e.code,
                        Ok(()) if !auto_create => ErrorCode::UnknownTopicOrPartition,
                        Ok(()) => {
                            let n = self.config.num_partitions;
                            match self.create_topic(name, n, TopicConfigs::default(), false, now_ms)
                            {
                                Ok(_) => ErrorCode::LeaderNotAvailable,
                                Err(e) => e.code,
                            }
                        }
                    };
                    let mut r = topic_error(code, Some(KStr::from(name)), Uuid::ZERO);
                    r.is_internal = is_internal(name);
                    out.push(r);
                }
            }
        }
        for t in &out {
            if let Some(code) = ErrorCode::from_code(t.error_code) {
                self.metrics.error(key, code);
            }
        }
        let mut resp = self.metadata_frame(req, version);
        resp.topics = out;
        resp
    }

    /// The response without its topics: brokers, cluster id, controller.
    fn metadata_frame(&self, req: &MetadataRequest, version: i16) -> MetadataResponse {
        let (host, port) = self.advertised();
        MetadataResponse {
            brokers: vec![MetadataResponseBroker {
                node_id: self.config.node_id,
                host: KStr::from(host),
                port,
                rack: None,
                ..MetadataResponseBroker::default()
            }],
            cluster_id: Some(KStr::from(self.cluster_id.as_str())),
            controller_id: self.config.node_id,
            cluster_authorized_operations: if (8..=10).contains(&version)
                && req.include_cluster_authorized_operations
            {
                CLUSTER_OPERATIONS
            } else {
                i32::MIN
            },
            ..MetadataResponse::default()
        }
    }

    pub(crate) fn handle_describe_cluster(
        &mut self,
        req: &DescribeClusterRequest,
        version: i16,
    ) -> DescribeClusterResponse {
        let (host, port) = self.advertised();
        // Kafka's AuthHelper.computeDescribeClusterResponse: 1 is BROKER, 2 CONTROLLER
        let refused = match req.endpoint_type {
            1 => None,
            2 => Some((
                ErrorCode::MismatchedEndpointType,
                String::from("The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER"),
            )),
            t => Some((
                ErrorCode::UnsupportedEndpointType,
                alloc::format!("Unsupported endpoint type {t}"),
            )),
        };
        if let Some((code, message)) = refused {
            let code = if version == 0 {
                ErrorCode::InvalidRequest
            } else {
                code
            };
            self.metrics.error(ApiKey::DescribeCluster.key(), code);
            return DescribeClusterResponse {
                error_code: code.code(),
                error_message: Some(KStr::from(message)),
                ..DescribeClusterResponse::default()
            };
        }
        DescribeClusterResponse {
            error_code: ErrorCode::None.code(),
            error_message: None,
            endpoint_type: 1,
            cluster_id: KStr::from(self.cluster_id.as_str()),
            controller_id: self.config.node_id,
            brokers: vec![DescribeClusterBroker {
                broker_id: self.config.node_id,
                host: KStr::from(host),
                port,
                rack: None,
                is_fenced: false,
                ..DescribeClusterBroker::default()
            }],
            cluster_authorized_operations: if req.include_cluster_authorized_operations {
                CLUSTER_OPERATIONS
            } else {
                i32::MIN
            },
            ..DescribeClusterResponse::default()
        }
    }
}

pub(crate) fn boxed_metadata(r: MetadataResponse) -> ResponseBody {
    ResponseBody::Metadata(Box::new(r))
}
