//! The broker core: Kafka's request handling (`KafkaApis`) over klog's logs, sans-IO.
//!
//! # Call order
//!
//! ```text
//! open → loop {
//!     handle_frame (or handle) for each request frame a connection delivered;
//!     poll_completed until None   (answers of Pending requests, whole frames);
//!     poll_event until None       (for the adapter's logs);
//!     handle_timeout(now) once now ≥ poll_timeout();
//!     connection_closed when a peer goes away;
//! } → shutdown
//! ```
//!
//! Ordering is Kafka's: Kafka mutes a connection while one of its requests is in flight, so
//! the adapter hands a connection's next frame to the core only once the previous one was
//! answered ([`Handled::Respond`], [`Handled::NoResponse`], [`Handled::Close`], or the
//! [`Handled::Pending`] answer came out of [`Broker::poll_completed`]). It may read and frame
//! later requests meanwhile (pipelining).
//!
//! The core reads no clock (`now_ms` is an argument), opens no socket and takes randomness
//! (cluster id, topic ids) only from the seed given to [`Broker::open`].

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_request_header, encode_response_frame};
use kproto::messages::{RequestHeader, ResponseBody};
use kproto::rng::Rng;
use kproto::{ApiKey, DecodeError, EncodeError, ErrorCode, RequestBody, Uuid};

use super::cluster_metadata::ClusterMetadata;
use super::config::BrokerConfig;
use super::delayed_fetch::DelayedFetches;
use super::error::BrokerError;
use super::events::{BrokerEvent, BrokerMetrics};
use super::init_producer_id::ProducerIdBlock;
use super::partitions::{PartitionError, Partitions, PartitionsConfig};
use super::versions;
use crate::storage::Storage;

/// Mixed into the seed for the log directory's id (`meta.properties`), apart from topic ids.
const DIRECTORY_ID_SEED: u64 = 0x6469_7265_6374_6f72;

/// Identifies a client connection; chosen by the adapter, unique while the connection lives.
pub type ConnectionId = u64;

/// What to do with a request frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Send this whole response frame (4-byte size prefix included).
    Respond(Bytes),
    /// Nothing to send (Produce with acks=0 that succeeded); read the next request.
    NoResponse,
    /// The answer comes later from [`Broker::poll_completed`] (a delayed Fetch).
    Pending,
    /// Close the connection without answering, as Kafka does.
    Close(CloseReason),
}

/// Why the core closes a connection (Kafka closes the socket in each case).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CloseReason {
    /// The API key is not one Kafka defines (Kafka: `InvalidRequestException` while parsing
    /// the header).
    #[error("unknown API key {api_key}")]
    UnknownApiKey {
        /// The key read.
        api_key: i16,
    },
    /// A known API this broker does not serve, or a version outside the served range (Kafka:
    /// "Received request api key ... with version ... which is not enabled").
    #[error("request api key {api_key:?} with version {version} is not enabled")]
    NotEnabled {
        /// The API.
        api_key: ApiKey,
        /// The version asked for.
        version: i16,
    },
    /// The header or body does not decode (Kafka: "Error getting request for apiKey ...").
    #[error("undecodable request (api key {api_key}, version {version}): {error}")]
    Undecodable {
        /// The API key read (-1 when the frame is shorter than a key).
        api_key: i16,
        /// The version read.
        version: i16,
        /// Why.
        error: DecodeError,
    },
    /// A Produce request with acks=0 failed: Kafka closes the connection so that the
    /// producer, which expects no answer, notices.
    #[error("acks=0 produce failed on {topic}-{partition}: {error}")]
    AcksZeroProduceFailed {
        /// The first partition that failed.
        topic: String,
        /// Its partition.
        partition: i32,
        /// Its error.
        error: ErrorCode,
    },
    /// The response could not be encoded at the request's version (a broker bug, reported
    /// rather than panicking).
    #[error("response to api key {api_key:?} v{version} not encodable: {error}")]
    ResponseNotEncodable {
        /// The API.
        api_key: ApiKey,
        /// The version.
        version: i16,
        /// Why.
        error: EncodeError,
    },
}

/// What [`Broker::open`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct OpenReport {
    /// The cluster id (read from the metadata file, or new from the seed).
    pub cluster_id: String,
    /// Partitions opened, with their log end offsets.
    pub partitions: Vec<((String, i32), u64)>,
    /// Partitions whose recovery cut bytes off a torn or corrupt tail, with the byte count.
    pub recovered: Vec<((String, i32), u64)>,
    /// The directory had `.kafka_cleanshutdown`: nothing was re-validated.
    pub had_clean_shutdown: bool,
    /// Partition directories of topics the cluster metadata does not know (opened, not
    /// served).
    pub unknown_partitions: Vec<(String, i32)>,
}

/// The broker core over a log directory on storage `S` (its root is the `log.dirs` entry).
#[derive(Debug)]
pub struct Broker<S: Storage + Clone> {
    pub(crate) config: BrokerConfig,
    pub(crate) logs: Partitions<S>,
    pub(crate) meta: ClusterMetadata,
    pub(crate) rng: Rng,
    pub(crate) cluster_id: String,
    pub(crate) completed: VecDeque<(ConnectionId, Bytes)>,
    pub(crate) events: VecDeque<BrokerEvent>,
    pub(crate) metrics: BrokerMetrics,
    pub(crate) producer_ids: ProducerIdBlock,
    pub(crate) delayed_fetches: DelayedFetches,
}

/// A UUID from the seeded generator, as Kafka's `Uuid.randomUuid` (never the zero id, the
/// metadata topic's id `AAAAAAAAAAAAAAAAAAAAAQ`, or one whose text starts with `-`).
pub(crate) fn random_uuid(rng: &mut Rng) -> Uuid {
    loop {
        let mut b = [0u8; 16];
        rng.fill(&mut b);
        // RFC 4122 version 4 bits, as java.util.UUID.randomUUID sets them
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let id = Uuid(b);
        let metadata_topic = Uuid::from_u64_pair(0, 1);
        if id != Uuid::ZERO && id != metadata_topic && !id.to_kafka_string().starts_with('-') {
            return id;
        }
    }
}

impl From<PartitionError> for BrokerError {
    fn from(e: PartitionError) -> Self {
        match *e.source {
            crate::log_dir::LogDirError::Log {
                topic,
                partition,
                source,
            } => BrokerError::Log {
                topic,
                partition,
                source,
            },
            other => BrokerError::LogDir(Box::new(other)),
        }
    }
}

impl<S: Storage + Clone> Broker<S> {
    /// Opens the broker over `st` (the log directory): reads its cluster metadata, reopens and
    /// recovers every partition. `seed` drives the cluster id and topic ids.
    pub fn open(
        st: S,
        config: BrokerConfig,
        seed: u64,
        now_ms: i64,
    ) -> Result<(Self, OpenReport), BrokerError> {
        let mut st = st;
        let mut rng = Rng::new(seed);
        let meta = match ClusterMetadata::load(&mut st)? {
            Some(m) => {
                // the generator continues where it stopped: no topic id is drawn twice
                for _ in 0..m.uuids_drawn {
                    random_uuid(&mut rng);
                }
                m
            }
            None => {
                let mut m = ClusterMetadata::new(random_uuid(&mut rng).to_kafka_string());
                m.uuids_drawn = 1;
                m.store(&mut st)?;
                m
            }
        };
        let cluster_id = meta.cluster_id.clone();
        // The directory id of a new meta.properties: from its own generator, so that the
        // topic ids' sequence stays the one the metadata file counts.
        let mut dir_rng = Rng::new(seed ^ DIRECTORY_ID_SEED);
        let pcfg = PartitionsConfig {
            node_id: config.node_id,
            cluster_id: cluster_id.clone(),
            directory_id: random_uuid(&mut dir_rng),
            default_log: config.log.clone(),
            retention_check_interval_ms: config.log_retention_check_interval_ms,
            producer_id_expiration_check_interval_ms: i64::from(
                config.producer_id_expiration_check_interval_ms,
            ),
            recovery_point_checkpoint_interval_ms: i64::from(
                config.log_flush_offset_checkpoint_interval_ms,
            ),
            log_start_offset_checkpoint_interval_ms: i64::from(
                config.log_flush_start_offset_checkpoint_interval_ms,
            ),
        };
        let partitions: Vec<_> = meta
            .topics
            .iter()
            .map(|(name, t)| {
                (
                    name.clone(),
                    t.partitions,
                    t.id,
                    t.configs.log_config(&config.log),
                )
            })
            .collect();
        let (logs, opened) = Partitions::open(st, pcfg, &partitions, now_ms)?;
        let mut report = OpenReport {
            cluster_id: cluster_id.clone(),
            had_clean_shutdown: opened.dir.had_clean_shutdown,
            unknown_partitions: opened.unknown.clone(),
            ..OpenReport::default()
        };
        let mut events = VecDeque::new();
        events.push_back(BrokerEvent::LogDirOpened {
            had_clean_shutdown: opened.dir.had_clean_shutdown,
            partitions: opened.partitions.len(),
            created: opened.created,
            unknown: opened.unknown,
            set_aside: opened
                .dir
                .made_stray
                .into_iter()
                .map(|(_, to)| to)
                .collect(),
        });
        for ((topic, partition), r, leo) in opened.partitions {
            events.push_back(BrokerEvent::PartitionLoaded {
                topic: topic.clone(),
                partition,
                log_end_offset: leo,
                truncated_bytes: r.truncated_bytes,
            });
            if r.truncated_bytes > 0 {
                report
                    .recovered
                    .push(((topic.clone(), partition), r.truncated_bytes));
            }
            report.partitions.push(((topic, partition), leo));
        }
        let metrics = BrokerMetrics {
            partition_count: report.partitions.len() as u64,
            ..BrokerMetrics::default()
        };
        Ok((
            Broker {
                config,
                logs,
                meta,
                rng,
                cluster_id,
                completed: VecDeque::new(),
                events,
                metrics,
                producer_ids: ProducerIdBlock::default(),
                delayed_fetches: DelayedFetches::default(),
            },
            report,
        ))
    }

    /// Handles one request frame: `frame` is the bytes after the 4-byte size prefix (header
    /// and body). An unknown API key, an API or version this broker does not serve, or bytes
    /// that do not decode close the connection, as Kafka does; ApiVersions at a version this
    /// broker does not know is answered with UNSUPPORTED_VERSION in the v0 layout (KIP-511).
    pub fn handle_frame(&mut self, conn: ConnectionId, frame: Bytes, now_ms: i64) -> Handled {
        let (header, key, mut body) = match decode_request_header(&frame) {
            Ok(h) => h,
            Err(DecodeError::UnknownApiKey { api_key, .. }) => {
                return self.close(conn, CloseReason::UnknownApiKey { api_key })
            }
            Err(error) => {
                let (api_key, version) = raw_key_version(&frame);
                return self.close(
                    conn,
                    CloseReason::Undecodable {
                        api_key,
                        version,
                        error,
                    },
                );
            }
        };
        let version = header.request_api_version;
        if key == ApiKey::ApiVersions && !super::api_versions::is_supported(version) {
            return self.unsupported_api_versions(&header);
        }
        if !versions::is_enabled(key, version) {
            return self.close(
                conn,
                CloseReason::NotEnabled {
                    api_key: key,
                    version,
                },
            );
        }
        let start = frame.len() - body.len();
        let decoded = RequestBody::decode(key, &mut body, version)
            .map_err(|e| e.shifted(start))
            .and_then(|b| {
                if body.is_empty() {
                    Ok(b)
                } else {
                    Err(DecodeError::TrailingBytes {
                        at: kproto::Location {
                            offset: frame.len() - body.len(),
                            api_key: Some(key.key()),
                            version,
                            field: "",
                        },
                        extra: body.len(),
                    })
                }
            });
        match decoded {
            Ok(b) => self.handle(conn, header, b, now_ms),
            Err(error) => self.close(
                conn,
                CloseReason::Undecodable {
                    api_key: key.key(),
                    version,
                    error,
                },
            ),
        }
    }

    /// Handles one decoded request (`header.request_api_version` is the body's version). The
    /// same rules as [`Broker::handle_frame`] apply to the API and version.
    pub fn handle(
        &mut self,
        conn: ConnectionId,
        header: RequestHeader,
        body: RequestBody,
        now_ms: i64,
    ) -> Handled {
        let key = body.api_key();
        let version = header.request_api_version;
        if header.request_api_key != key.key() {
            return self.close(
                conn,
                CloseReason::Undecodable {
                    api_key: header.request_api_key,
                    version,
                    error: DecodeError::Invalid {
                        at: kproto::Location {
                            offset: 0,
                            api_key: Some(header.request_api_key),
                            version,
                            field: "RequestHeader.RequestApiKey",
                        },
                        expected: "the body's API key",
                    },
                },
            );
        }
        if key == ApiKey::ApiVersions && !super::api_versions::is_supported(version) {
            return self.unsupported_api_versions(&header);
        }
        if !versions::is_enabled(key, version) {
            return self.close(
                conn,
                CloseReason::NotEnabled {
                    api_key: key,
                    version,
                },
            );
        }
        self.metrics.api(key.key()).requests += 1;
        super::dispatch::dispatch(self, conn, &header, body, now_ms)
    }

    /// When [`Broker::handle_timeout`] next has work: the earliest delayed fetch deadline or
    /// log maintenance (flush, retention, producer id expiration).
    pub fn poll_timeout(&self) -> Option<i64> {
        match (
            self.logs.poll_timeout(),
            self.delayed_fetches.earliest_deadline(),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Completes what is due at `now_ms`: expired delayed fetches (their answers come out of
    /// [`Broker::poll_completed`]) and log maintenance.
    pub fn handle_timeout(&mut self, now_ms: i64) {
        self.expire_delayed_fetches(now_ms);
        for e in self.logs.handle_timeout(now_ms) {
            let error = alloc::string::ToString::to_string(&e.source);
            self.events.push_back(if e.partition < 0 {
                BrokerEvent::LogDirFailed { error }
            } else {
                BrokerEvent::LogFailed {
                    topic: e.topic,
                    partition: e.partition,
                    error,
                }
            });
        }
    }

    /// The next answer to a request that was [`Handled::Pending`]: the connection and the
    /// whole response frame.
    pub fn poll_completed(&mut self) -> Option<(ConnectionId, Bytes)> {
        self.completed.pop_front()
    }

    /// The next event for the adapter's logs.
    pub fn poll_event(&mut self) -> Option<BrokerEvent> {
        self.events.pop_front()
    }

    /// The connection went away: its pending requests are dropped.
    pub fn connection_closed(&mut self, conn: ConnectionId) {
        self.completed.retain(|(c, _)| *c != conn);
        self.delayed_fetches.drop_connection(conn);
        self.metrics.delayed_fetches = self.delayed_fetches.len() as u64;
    }

    /// The counters.
    pub fn metrics(&self) -> &BrokerMetrics {
        &self.metrics
    }

    /// The configuration the broker runs with.
    pub fn config(&self) -> &BrokerConfig {
        &self.config
    }

    /// The cluster id.
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// Shuts down cleanly: every log flushed and closed. Returns the storage.
    pub fn shutdown(self, now_ms: i64) -> Result<S, BrokerError> {
        Ok(self.logs.shutdown(now_ms)?)
    }

    pub(crate) fn close(&mut self, conn: ConnectionId, reason: CloseReason) -> Handled {
        self.metrics.connections_closed += 1;
        self.events.push_back(BrokerEvent::ConnectionClosed {
            conn,
            reason: reason.clone(),
        });
        Handled::Close(reason)
    }

    fn unsupported_api_versions(&mut self, header: &RequestHeader) -> Handled {
        self.metrics.api(ApiKey::ApiVersions.key()).requests += 1;
        self.metrics
            .error(ApiKey::ApiVersions.key(), ErrorCode::UnsupportedVersion);
        let body = super::api_versions::unsupported_version_response();
        self.respond(header.correlation_id, 0, body)
    }

    /// Frames `body` as the response to a request with `correlation_id` at `version`.
    pub(crate) fn respond(
        &mut self,
        correlation_id: i32,
        version: i16,
        body: ResponseBody,
    ) -> Handled {
        let key = body.api_key();
        let mut buf = BytesMut::new();
        let len = body.encoded_len(version).unwrap_or(0);
        buf.reserve(len + 16);
        match encode_response_frame(correlation_id, &body, version, &mut buf) {
            Ok(()) => Handled::Respond(buf.freeze()),
            Err(error) => Handled::Close(CloseReason::ResponseNotEncodable {
                api_key: key,
                version,
                error,
            }),
        }
    }
}

/// The API key and version at the front of a frame, -1 where the frame is too short.
fn raw_key_version(frame: &[u8]) -> (i16, i16) {
    let key = frame
        .get(..2)
        .map_or(-1, |b| i16::from_be_bytes([b[0], b[1]]));
    let version = frame
        .get(2..4)
        .map_or(-1, |b| i16::from_be_bytes([b[0], b[1]]));
    (key, version)
}
