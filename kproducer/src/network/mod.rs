//! The producer's network client, sans-IO: Kafka's `NetworkClient` with its
//! `ClusterConnectionStates`, `InFlightRequests`, ApiVersions negotiation (`ApiVersions`,
//! `NodeApiVersions`) and the `DefaultMetadataUpdater` over [`ProducerMetadata`].
//!
//! It opens no socket and reads no clock. It asks the adapter to connect
//! ([`NetworkEvent::ConnectTo`]) under a [`ConnectionId`] it chooses, and is told what
//! happened: [`NetworkClient::handle_connected`], [`NetworkClient::handle_bytes`],
//! [`NetworkClient::handle_disconnect`]. It hands out the bytes to write with
//! [`NetworkClient::poll_transmit`] and asks the adapter to close a socket with
//! [`NetworkEvent::Close`] (request timeout, setup timeout, idle, protocol error); after a
//! `Close` the adapter does not call `handle_disconnect` for that connection.
//!
//! # Call order
//!
//! ```text
//! NetworkClient::new(&config)
//! loop {
//!     ready(node, now) → send(node, body, context, now)      (the Sender's requests)
//!     poll_transmit(now, &mut buf) until None                (write buf to the socket)
//!     poll_event() until None                                (ConnectTo, Close, Response, ...)
//!     wait for a socket event or poll_timeout(), then:
//!         handle_connected(conn, now) / handle_bytes(conn, bytes, now) /
//!         handle_disconnect(conn, now) / handle_timeout(now)
//! }
//! ```
//!
//! Each connection first negotiates versions: ApiVersions v4 is sent as soon as the socket is
//! up; an UNSUPPORTED_VERSION answer (KIP-511) carries the broker's ApiVersions range and the
//! request is retried at its highest version; the answer gives each API's highest version
//! common to the broker and kproto ([`NodeApiVersions`]). A broker without Produce v3+ (the
//! oldest a Kafka 4 producer speaks) is refused and the connection closed.

pub mod backoff;

use alloc::collections::{BTreeMap, VecDeque};
use alloc::string::String;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_response, encode_request_frame, FrameDecoder, DEFAULT_MAX_FRAME_SIZE};
use kproto::messages::{ApiVersionsRequest, ApiVersionsResponse, RequestHeader};
use kproto::rng::Rng;
use kproto::{ApiKey, DecodeError, EncodeError, ErrorCode, RequestBody, ResponseBody};

use self::backoff::{ExponentialBackoff, DEFAULT_JITTER_PPM};
use crate::cluster::Node;
use crate::config::{MetadataRecoveryStrategy, ProducerConfig};
use crate::metadata::{MetadataError, MetadataUpdate, ProducerMetadata};

/// Identifies one socket the client asked the adapter to open; never reused.
pub type ConnectionId = u64;

/// The ApiVersions version sent first on each connection.
pub const API_VERSIONS_FIRST_VERSION: i16 = 4;

/// The oldest Produce version a Kafka 4.x producer speaks (KIP-896 removed 0–2).
pub const MIN_PRODUCE_VERSION: i16 = 3;

/// The `client_software_name` sent in ApiVersions.
pub const CLIENT_SOFTWARE_NAME: &str = "kproducer";

/// Mixed into [`ProducerConfig::seed`] for the network client's jitter and node picks.
const NETWORK_SEED: u64 = 0x6e65_7477_6f72_6b00;

/// A node's connection state (Java's `ConnectionState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionState {
    /// No socket; reconnecting waits out the reconnect backoff.
    Disconnected,
    /// The adapter is opening the socket (subject to `socket.connection.setup.timeout.ms`).
    Connecting,
    /// The socket is up and ApiVersions is being negotiated.
    CheckingApiVersions,
    /// Versions are known: requests may be sent.
    Ready,
}

/// The versions a broker supports and the highest each API shares with kproto (Java's
/// `NodeApiVersions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeApiVersions {
    broker: BTreeMap<i16, (i16, i16)>,
    usable: BTreeMap<i16, i16>,
}

/// The range of versions kproducer speaks for an API: kproto's (up to its highest stable
/// version), from Produce v3.
pub fn client_range(key: ApiKey) -> (i16, i16) {
    let v = key.versions();
    let min = if key == ApiKey::Produce {
        v.min.max(MIN_PRODUCE_VERSION)
    } else {
        v.min
    };
    (min, v.stable_max)
}

impl NodeApiVersions {
    /// From an ApiVersions response's `api_keys`: for every API both sides know, the highest
    /// common version (`kproto::versions::negotiate`).
    pub fn from_response(response: &ApiVersionsResponse) -> Self {
        let mut out = NodeApiVersions::default();
        for a in &response.api_keys {
            out.broker.insert(a.api_key, (a.min_version, a.max_version));
            if let Some(key) = ApiKey::from_i16(a.api_key) {
                if let Some(v) =
                    kproto::versions::negotiate(client_range(key), (a.min_version, a.max_version))
                {
                    out.usable.insert(a.api_key, v);
                }
            }
        }
        out
    }

    /// The version to use for `key`: the highest both support (Java's `latestUsableVersion`).
    pub fn latest_usable_version(&self, key: ApiKey) -> Option<i16> {
        self.usable.get(&key.key()).copied()
    }

    /// The range the broker advertised for `key`.
    pub fn broker_range(&self, key: ApiKey) -> Option<(i16, i16)> {
        self.broker.get(&key.key()).copied()
    }
}

/// Why a request cannot be sent or a connection was given up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum NetworkError {
    /// The node has no ready connection or no room for another in-flight request.
    #[error("node {node} is not ready to send")]
    NotReady {
        /// The node.
        node: i32,
    },
    /// The broker and kproducer share no version of the API.
    #[error("node {node} supports no version of {api_key:?} that kproducer speaks")]
    UnsupportedVersion {
        /// The node.
        node: i32,
        /// The API.
        api_key: ApiKey,
    },
    /// The request could not be encoded at the negotiated version.
    #[error("request not encodable: {0}")]
    Encode(#[from] EncodeError),
    /// A response did not decode; the connection is closed.
    #[error("undecodable response from node {node}: {error}")]
    Decode {
        /// The node.
        node: i32,
        /// Why.
        error: DecodeError,
    },
    /// A response's correlation id is not the oldest request's (Java's
    /// `CorrelationIdMismatchException`); the connection is closed.
    #[error("node {node}: response correlation id {got} does not match request {expected}")]
    CorrelationMismatch {
        /// The node.
        node: i32,
        /// The correlation id of the oldest request in flight.
        expected: i32,
        /// The one received.
        got: i32,
    },
    /// A response arrived with no request in flight.
    #[error("node {node}: response with correlation id {got} but nothing in flight")]
    UnexpectedResponse {
        /// The node.
        node: i32,
        /// The correlation id read.
        got: i32,
    },
    /// ApiVersions failed with an error other than a retriable UNSUPPORTED_VERSION.
    #[error("node {node}: ApiVersions failed with {error}")]
    ApiVersions {
        /// The node.
        node: i32,
        /// The error code.
        error: ErrorCode,
    },
}

/// A request that ended without a response (its connection was lost or timed out).
#[derive(Debug, Clone, PartialEq)]
pub struct FailedRequest<C> {
    /// Its correlation id.
    pub correlation_id: i32,
    /// The API.
    pub api_key: ApiKey,
    /// The version it was sent at.
    pub version: i16,
    /// The context given to [`NetworkClient::send`].
    pub context: C,
}

/// What the client tells its owner (the Sender) and the adapter.
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkEvent<C> {
    /// Open a socket to `host:port` for node `node` and report it as `conn`.
    ConnectTo {
        /// The connection id to report the outcome under.
        conn: ConnectionId,
        /// The node id (negative for bootstrap addresses).
        node: i32,
        /// The host.
        host: String,
        /// The port.
        port: u16,
    },
    /// Close this socket; do not report its disconnect.
    Close {
        /// The connection.
        conn: ConnectionId,
    },
    /// A node finished ApiVersions and takes requests.
    Ready {
        /// The node.
        node: i32,
    },
    /// The answer to a request sent with [`NetworkClient::send`]. `body` is `None` for a
    /// request that expects no response (Produce with acks=0), completed once written.
    Response {
        /// The node.
        node: i32,
        /// The request's correlation id.
        correlation_id: i32,
        /// The API.
        api_key: ApiKey,
        /// The version used.
        version: i16,
        /// The decoded response.
        body: Option<ResponseBody>,
        /// The context given to `send`.
        context: C,
        /// Milliseconds from `send` to completion.
        latency_ms: u64,
    },
    /// A node's connection ended; the requests in flight on it failed.
    Disconnected {
        /// The node.
        node: i32,
        /// The connection.
        conn: ConnectionId,
        /// Whether a request or the connection setup timed out.
        timed_out: bool,
        /// The user requests that were in flight, oldest first.
        failed: Vec<FailedRequest<C>>,
    },
    /// A connection was given up on for this reason (before its `Disconnected`).
    ConnectionError {
        /// The node.
        node: i32,
        /// Why.
        error: NetworkError,
    },
    /// A Metadata response was applied to the snapshot.
    MetadataUpdated(MetadataUpdate),
    /// No node could be reached for `metadata.recovery.rebootstrap.trigger.ms` (or none was
    /// available): the metadata went back to `bootstrap.servers`.
    Rebootstrapped,
}

/// Java's `NodeConnectionState`.
#[derive(Debug, Clone)]
struct NodeState {
    state: ConnectionState,
    conn: Option<ConnectionId>,
    host: String,
    port: u16,
    last_connect_attempt_ms: u64,
    failed_attempts: u64,
    failed_connect_attempts: u64,
    reconnect_backoff_ms: u64,
    setup_timeout_ms: u64,
    /// The broker asked to hold requests until then (KIP-219 throttling).
    throttle_until_ms: u64,
}

/// The throttle time a response asks the client to honour (KIP-219: Java's
/// `shouldClientThrottle`, true from Produce v6, Metadata v6, InitProducerId v1, ApiVersions
/// v2), if any.
pub fn client_throttle_ms(body: &ResponseBody, version: i16) -> Option<u64> {
    let (ms, from) = match body {
        ResponseBody::Produce(r) => (r.throttle_time_ms, 6),
        ResponseBody::Metadata(r) => (r.throttle_time_ms, 6),
        ResponseBody::InitProducerId(r) => (r.throttle_time_ms, 1),
        ResponseBody::ApiVersions(r) => (r.throttle_time_ms, 2),
        _ => return None,
    };
    (ms > 0 && version >= from).then(|| u64::from(ms.unsigned_abs()))
}

/// Who a request in flight belongs to.
#[derive(Debug, Clone)]
enum Origin<C> {
    ApiVersions,
    Metadata {
        request_version: u32,
        is_partial_update: bool,
    },
    User(C),
}

#[derive(Debug, Clone)]
struct InFlight<C> {
    correlation_id: i32,
    api_key: ApiKey,
    version: i16,
    send_ms: u64,
    expect_response: bool,
    /// The connection's output position just after this request's last byte.
    end: u64,
    origin: Origin<C>,
}

#[derive(Debug)]
struct Conn<C> {
    node: i32,
    connected: bool,
    decoder: FrameDecoder,
    out: BytesMut,
    /// Bytes handed to the adapter so far.
    written: u64,
    in_flight: VecDeque<InFlight<C>>,
    /// The negotiated versions, once ApiVersions answered.
    versions: Option<NodeApiVersions>,
    /// ApiVersions still to send, at this version.
    api_versions_to_send: Option<i16>,
    last_activity_ms: u64,
}

impl<C> Conn<C> {
    fn queued(&self) -> u64 {
        self.written + self.out.len() as u64
    }

    /// Java's `InFlightRequests.canSendMore`: the last request is fully written and there is
    /// room for another.
    fn can_send_more(&self, max: usize) -> bool {
        self.in_flight.is_empty() || (self.out.is_empty() && self.in_flight.len() < max)
    }
}

/// Settings taken from [`ProducerConfig`].
#[derive(Debug, Clone)]
struct Settings {
    client_id: String,
    request_timeout_ms: u64,
    reconnect_backoff_ms: u64,
    max_in_flight: usize,
    connections_max_idle_ms: u64,
    recovery: MetadataRecoveryStrategy,
    rebootstrap_trigger_ms: u64,
}

/// Kafka's `NetworkClient` for the producer: see the module docs for the call order.
#[derive(Debug)]
pub struct NetworkClient<C> {
    settings: Settings,
    reconnect_backoff: ExponentialBackoff,
    setup_timeout: ExponentialBackoff,
    rng: Rng,
    nodes: BTreeMap<i32, NodeState>,
    conns: BTreeMap<ConnectionId, Conn<C>>,
    next_conn: ConnectionId,
    correlation: i32,
    events: VecDeque<NetworkEvent<C>>,
    metadata: ProducerMetadata,
    metadata_in_progress: bool,
    metadata_attempt_start_ms: Option<u64>,
    /// When the metadata updater wants to run again (from its last `maybe_update`).
    metadata_wakeup_ms: u64,
    now_ms: u64,
}

impl<C: Clone> NetworkClient<C> {
    /// A client for `config` (bootstrap servers, timeouts, backoffs, the seed); no connection
    /// is opened until a request or a metadata refresh needs one.
    pub fn new(config: &ProducerConfig) -> Result<Self, MetadataError> {
        let metadata = ProducerMetadata::new(config)?;
        Ok(NetworkClient {
            settings: Settings {
                client_id: config.client_id.clone(),
                request_timeout_ms: config.request_timeout_ms,
                reconnect_backoff_ms: config.reconnect_backoff_ms,
                max_in_flight: usize::try_from(config.max_in_flight_requests_per_connection)
                    .unwrap_or(usize::MAX)
                    .max(1),
                connections_max_idle_ms: config.connections_max_idle_ms,
                recovery: config.metadata_recovery_strategy,
                rebootstrap_trigger_ms: config.metadata_recovery_rebootstrap_trigger_ms,
            },
            reconnect_backoff: ExponentialBackoff::new(
                config.reconnect_backoff_ms,
                config.reconnect_backoff_max_ms,
                DEFAULT_JITTER_PPM,
            ),
            setup_timeout: ExponentialBackoff::new(
                config.socket_connection_setup_timeout_ms,
                config.socket_connection_setup_timeout_max_ms,
                DEFAULT_JITTER_PPM,
            ),
            rng: Rng::new(config.seed ^ NETWORK_SEED),
            nodes: BTreeMap::new(),
            conns: BTreeMap::new(),
            next_conn: 1,
            correlation: 0,
            events: VecDeque::new(),
            metadata,
            metadata_in_progress: false,
            metadata_attempt_start_ms: None,
            metadata_wakeup_ms: 0,
            now_ms: 0,
        })
    }

    /// The producer metadata (the cluster snapshot, topics in use).
    pub fn metadata(&self) -> &ProducerMetadata {
        &self.metadata
    }

    /// The producer metadata, to add topics and request updates. The metadata updater runs
    /// at the next [`NetworkClient::handle_timeout`] (`poll_timeout` says so).
    pub fn metadata_mut(&mut self) -> &mut ProducerMetadata {
        self.metadata_wakeup_ms = 0;
        &mut self.metadata
    }

    // ---- ClusterConnectionStates ----

    /// A node's connection state, `None` if never connected.
    pub fn connection_state(&self, node: i32) -> Option<ConnectionState> {
        self.nodes.get(&node).map(|s| s.state)
    }

    /// Java's `canConnect`: never tried, or disconnected and past the reconnect backoff.
    pub fn can_connect(&self, node: i32, now_ms: u64) -> bool {
        match self.nodes.get(&node) {
            None => true,
            Some(s) => {
                s.state == ConnectionState::Disconnected
                    && now_ms.saturating_sub(s.last_connect_attempt_ms) >= s.reconnect_backoff_ms
            }
        }
    }

    /// Java's `isBlackedOut`: disconnected and still inside the reconnect backoff.
    pub fn is_blacked_out(&self, node: i32, now_ms: u64) -> bool {
        self.nodes.get(&node).is_some_and(|s| {
            s.state == ConnectionState::Disconnected
                && now_ms.saturating_sub(s.last_connect_attempt_ms) < s.reconnect_backoff_ms
        })
    }

    /// Java's `connectionDelay`: how long until a connection to `node` may be tried (0 now;
    /// the setup timeout while connecting; `u64::MAX` when connected).
    pub fn connection_delay(&self, node: i32, now_ms: u64) -> u64 {
        match self.nodes.get(&node) {
            None => 0,
            Some(s) => match s.state {
                ConnectionState::Connecting => s.setup_timeout_ms,
                ConnectionState::Disconnected => s
                    .reconnect_backoff_ms
                    .saturating_sub(now_ms.saturating_sub(s.last_connect_attempt_ms)),
                _ => u64::MAX,
            },
        }
    }

    fn is_preparing_connection(&self, node: i32) -> bool {
        self.nodes.get(&node).is_some_and(|s| {
            matches!(
                s.state,
                ConnectionState::Connecting | ConnectionState::CheckingApiVersions
            )
        })
    }

    fn is_any_node_connecting(&self) -> bool {
        self.nodes
            .values()
            .any(|s| s.state == ConnectionState::Connecting)
    }

    /// Java's `connecting`: a new attempt keeps the backoffs of the same host.
    fn connecting(&mut self, node: &Node, conn: ConnectionId, now_ms: u64) {
        if let Some(s) = self.nodes.get_mut(&node.id) {
            if s.host == node.host && s.port == node.port {
                s.last_connect_attempt_ms = now_ms;
                s.state = ConnectionState::Connecting;
                s.conn = Some(conn);
                return;
            }
        }
        let reconnect = self.reconnect_backoff.backoff(0, &mut self.rng);
        let setup = self.setup_timeout.backoff(0, &mut self.rng);
        self.nodes.insert(
            node.id,
            NodeState {
                state: ConnectionState::Connecting,
                conn: Some(conn),
                host: node.host.clone(),
                port: node.port,
                last_connect_attempt_ms: now_ms,
                failed_attempts: 0,
                failed_connect_attempts: 0,
                reconnect_backoff_ms: reconnect,
                setup_timeout_ms: setup,
                throttle_until_ms: 0,
            },
        );
    }

    /// Java's `disconnected`: grows the reconnect backoff (and the setup timeout when the
    /// socket never came up).
    fn disconnected(&mut self, node: i32, now_ms: u64) {
        let Some(s) = self.nodes.get_mut(&node) else {
            return;
        };
        s.last_connect_attempt_ms = now_ms;
        s.reconnect_backoff_ms = self
            .reconnect_backoff
            .backoff(s.failed_attempts, &mut self.rng);
        s.failed_attempts += 1;
        if s.state == ConnectionState::Connecting {
            s.failed_connect_attempts += 1;
            s.setup_timeout_ms = self
                .setup_timeout
                .backoff(s.failed_connect_attempts, &mut self.rng);
        } else {
            s.failed_connect_attempts = 0;
            s.setup_timeout_ms = self.setup_timeout.backoff(0, &mut self.rng);
        }
        s.state = ConnectionState::Disconnected;
        s.conn = None;
    }

    fn node_ready(&mut self, node: i32) {
        let reconnect = self.reconnect_backoff.backoff(0, &mut self.rng);
        let setup = self.setup_timeout.backoff(0, &mut self.rng);
        if let Some(s) = self.nodes.get_mut(&node) {
            s.state = ConnectionState::Ready;
            s.failed_attempts = 0;
            s.reconnect_backoff_ms = reconnect;
            s.failed_connect_attempts = 0;
            s.setup_timeout_ms = setup;
        }
    }

    fn conn_of(&self, node: i32) -> Option<ConnectionId> {
        self.nodes.get(&node).and_then(|s| s.conn)
    }

    /// Java's `canSendRequest`: ready, not throttled (as of the latest `now` seen), and room
    /// for another request in flight.
    fn can_send_request(&self, node: i32) -> bool {
        let Some(s) = self.nodes.get(&node) else {
            return false;
        };
        s.state == ConnectionState::Ready
            && s.throttle_until_ms <= self.now_ms
            && s.conn
                .and_then(|c| self.conns.get(&c))
                .is_some_and(|c| c.can_send_more(self.settings.max_in_flight))
    }

    /// Java's `isUpdateDue`: no metadata request in flight and one is due now.
    fn is_update_due(&mut self, now_ms: u64) -> bool {
        !self.metadata_in_progress && self.metadata.time_to_next_update(now_ms) == 0
    }

    /// Java's `isReady`: the node can take a request now, and no metadata update must go
    /// first.
    pub fn is_ready(&mut self, node: i32, now_ms: u64) -> bool {
        self.now_ms = self.now_ms.max(now_ms);
        !self.is_update_due(now_ms) && self.can_send_request(node)
    }

    /// How long the broker asked to hold requests to `node` (KIP-219), 0 when not throttled
    /// (Java's `throttleDelayMs`).
    pub fn throttle_delay_ms(&self, node: i32, now_ms: u64) -> u64 {
        self.nodes
            .get(&node)
            .map_or(0, |s| s.throttle_until_ms.saturating_sub(now_ms))
    }

    /// Java's `ready(node, now)`: whether `node` can take a request; if it has no connection
    /// and may connect, a connection is started ([`NetworkEvent::ConnectTo`]).
    pub fn ready(&mut self, node: &Node, now_ms: u64) -> bool {
        self.now_ms = self.now_ms.max(now_ms);
        if self.is_ready(node.id, now_ms) {
            return true;
        }
        if !self.can_send_request(node.id) && self.can_connect(node.id, now_ms) {
            self.initiate_connect(node, now_ms);
        }
        false
    }

    /// The number of requests in flight to `node`.
    pub fn in_flight_request_count(&self, node: i32) -> usize {
        self.conn_of(node)
            .and_then(|c| self.conns.get(&c))
            .map_or(0, |c| c.in_flight.len())
    }

    /// Whether any request is in flight.
    pub fn has_in_flight_requests(&self) -> bool {
        self.conns.values().any(|c| !c.in_flight.is_empty())
    }

    /// The negotiated versions of a ready node.
    pub fn api_versions(&self, node: i32) -> Option<&NodeApiVersions> {
        self.conn_of(node)
            .and_then(|c| self.conns.get(&c))
            .and_then(|c| c.versions.as_ref())
    }

    fn initiate_connect(&mut self, node: &Node, now_ms: u64) {
        let conn = self.next_conn;
        self.next_conn += 1;
        self.connecting(node, conn, now_ms);
        self.conns.insert(
            conn,
            Conn {
                node: node.id,
                connected: false,
                decoder: FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE),
                out: BytesMut::new(),
                written: 0,
                in_flight: VecDeque::new(),
                versions: None,
                api_versions_to_send: None,
                last_activity_ms: now_ms,
            },
        );
        self.events.push_back(NetworkEvent::ConnectTo {
            conn,
            node: node.id,
            host: node.host.clone(),
            port: node.port,
        });
    }

    /// Java's `leastLoadedNode`: from a random offset, a ready node with nothing in flight at
    /// once, else the ready node with the fewest in flight, else one being connected, else
    /// the connectable one tried longest ago. The flag tells whether any connection is ready.
    pub fn least_loaded_node(&mut self, now_ms: u64) -> (Option<Node>, bool) {
        self.now_ms = self.now_ms.max(now_ms);
        let nodes = self.metadata.fetch_nodes();
        if nodes.is_empty() {
            return (None, false);
        }
        let offset = self.rng.below(nodes.len() as u64) as usize;
        let mut inflight = usize::MAX;
        let mut found_ready = None;
        let mut found_connecting = None;
        let mut found_can_connect: Option<&Node> = None;
        let mut any_ready = false;
        for i in 0..nodes.len() {
            let node = &nodes[(offset + i) % nodes.len()];
            let state = self.connection_state(node.id);
            if state == Some(ConnectionState::Ready) {
                any_ready = true;
            }
            if self.can_send_request(node.id) {
                let n = self.in_flight_request_count(node.id);
                if n == 0 {
                    return (Some(node.clone()), true);
                }
                if n < inflight {
                    inflight = n;
                    found_ready = Some(node);
                }
            } else if self.is_preparing_connection(node.id) {
                found_connecting = Some(node);
            } else if self.can_connect(node.id, now_ms) {
                let last = |n: &Node| {
                    self.nodes
                        .get(&n.id)
                        .map_or(0, |s| s.last_connect_attempt_ms)
                };
                if found_can_connect.is_none_or(|f| last(f) > last(node)) {
                    found_can_connect = Some(node);
                }
            }
        }
        let pick = found_ready.or(found_connecting).or(found_can_connect);
        (pick.cloned(), any_ready)
    }

    // ---- sending ----

    fn next_correlation_id(&mut self) -> i32 {
        let id = self.correlation;
        self.correlation = self.correlation.wrapping_add(1).max(0);
        id
    }

    fn header(&self, key: ApiKey, version: i16, correlation_id: i32) -> RequestHeader {
        RequestHeader {
            request_api_key: key.key(),
            request_api_version: version,
            correlation_id,
            client_id: Some(self.settings.client_id.clone().into()),
            ..RequestHeader::default()
        }
    }

    fn enqueue(
        &mut self,
        conn_id: ConnectionId,
        body: &RequestBody,
        version: i16,
        origin: Origin<C>,
        now_ms: u64,
    ) -> Result<i32, NetworkError> {
        let key = body.api_key();
        let correlation_id = self.next_correlation_id();
        let header = self.header(key, version, correlation_id);
        let expect_response = !matches!(body, RequestBody::Produce(p) if p.acks == 0);
        let conn = self
            .conns
            .get_mut(&conn_id)
            .ok_or(NetworkError::NotReady { node: 0 })?;
        // nothing is written on error
        encode_request_frame(&header, body, &mut conn.out)?;
        let end = conn.queued();
        conn.in_flight.push_back(InFlight {
            correlation_id,
            api_key: key,
            version,
            send_ms: now_ms,
            expect_response,
            end,
            origin,
        });
        Ok(correlation_id)
    }

    /// Sends `body` to `node` at the highest version both sides support; `context` comes back
    /// with its [`NetworkEvent::Response`] or in [`NetworkEvent::Disconnected`]. A Produce
    /// with acks=0 expects no response and completes once written. The node must be ready
    /// ([`NetworkClient::ready`]).
    pub fn send(
        &mut self,
        node: i32,
        body: RequestBody,
        context: C,
        now_ms: u64,
    ) -> Result<i32, NetworkError> {
        let key = body.api_key();
        let version = self
            .api_versions(node)
            .ok_or(NetworkError::NotReady { node })?
            .latest_usable_version(key)
            .ok_or(NetworkError::UnsupportedVersion { node, api_key: key })?;
        self.send_at_version(node, body, version, context, now_ms)
    }

    /// [`NetworkClient::send`] at a chosen version (which must be one both sides support).
    pub fn send_at_version(
        &mut self,
        node: i32,
        body: RequestBody,
        version: i16,
        context: C,
        now_ms: u64,
    ) -> Result<i32, NetworkError> {
        self.now_ms = self.now_ms.max(now_ms);
        if !self.can_send_request(node) {
            return Err(NetworkError::NotReady { node });
        }
        let key = body.api_key();
        let usable = self
            .api_versions(node)
            .and_then(|v| v.broker_range(key))
            .is_some_and(|(lo, hi)| {
                let (clo, chi) = client_range(key);
                version >= lo.max(clo) && version <= hi.min(chi)
            });
        if !usable {
            return Err(NetworkError::UnsupportedVersion { node, api_key: key });
        }
        let conn = self.conn_of(node).ok_or(NetworkError::NotReady { node })?;
        self.enqueue(conn, &body, version, Origin::User(context), now_ms)
    }

    /// The bytes to write next: appends one connection's pending bytes to `buf` and returns
    /// it, `None` when nothing is pending. Requests expecting no response complete here.
    pub fn poll_transmit(&mut self, now_ms: u64, buf: &mut Vec<u8>) -> Option<ConnectionId> {
        self.now_ms = self.now_ms.max(now_ms);
        let conn_id = self
            .conns
            .iter()
            .find(|(_, c)| c.connected && !c.out.is_empty())
            .map(|(id, _)| *id)?;
        let conn = self.conns.get_mut(&conn_id)?;
        buf.extend_from_slice(&conn.out);
        conn.written += conn.out.len() as u64;
        conn.out.clear();
        conn.last_activity_ms = now_ms;
        let node = conn.node;
        // Java's handleCompletedSends: requests without a response complete on write
        let written = conn.written;
        let mut done = Vec::new();
        conn.in_flight.retain(|r| {
            if !r.expect_response && r.end <= written {
                done.push(r.clone());
                false
            } else {
                true
            }
        });
        for r in done {
            if let Origin::User(context) = r.origin {
                self.events.push_back(NetworkEvent::Response {
                    node,
                    correlation_id: r.correlation_id,
                    api_key: r.api_key,
                    version: r.version,
                    body: None,
                    context,
                    latency_ms: now_ms.saturating_sub(r.send_ms),
                });
            }
        }
        Some(conn_id)
    }

    /// The next event, `None` when there is none.
    pub fn poll_event(&mut self) -> Option<NetworkEvent<C>> {
        self.events.pop_front()
    }

    /// When [`NetworkClient::handle_timeout`] next has work: a request or connection setup
    /// timing out, an idle connection, or the next metadata refresh.
    pub fn poll_timeout(&mut self) -> Option<u64> {
        let mut t = u64::MAX;
        let timeout = self.settings.request_timeout_ms;
        for s in self.nodes.values() {
            if s.throttle_until_ms > self.now_ms {
                t = t.min(s.throttle_until_ms);
            }
            if s.state == ConnectionState::Connecting {
                t = t.min(
                    s.last_connect_attempt_ms
                        .saturating_add(s.setup_timeout_ms)
                        .saturating_add(1),
                );
            }
        }
        for c in self.conns.values() {
            for r in &c.in_flight {
                t = t.min(r.send_ms.saturating_add(timeout).saturating_add(1));
            }
            if c.connected && c.in_flight.is_empty() {
                t = t.min(
                    c.last_activity_ms
                        .saturating_add(self.settings.connections_max_idle_ms),
                );
            }
        }
        t = t.min(self.metadata_wakeup_ms);
        (t != u64::MAX).then_some(t)
    }

    // ---- inputs ----

    /// The adapter opened the socket of `conn`: ApiVersions is sent next.
    pub fn handle_connected(&mut self, conn_id: ConnectionId, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return;
        };
        if conn.connected {
            return;
        }
        conn.connected = true;
        conn.last_activity_ms = now_ms;
        conn.api_versions_to_send = Some(API_VERSIONS_FIRST_VERSION);
        self.step(now_ms);
    }

    /// Bytes read from `conn`'s socket.
    pub fn handle_bytes(&mut self, conn_id: ConnectionId, bytes: &[u8], now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
        let Some(conn) = self.conns.get_mut(&conn_id) else {
            return;
        };
        conn.decoder.feed(bytes);
        conn.last_activity_ms = now_ms;
        while let Some(conn) = self.conns.get_mut(&conn_id) {
            let node = conn.node;
            let frame = match conn.decoder.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(error) => {
                    self.fail_connection(conn_id, NetworkError::Decode { node, error }, now_ms);
                    break;
                }
            };
            if let Err(error) = self.handle_frame(conn_id, frame, now_ms) {
                self.fail_connection(conn_id, error, now_ms);
                break;
            }
        }
        self.step(now_ms);
    }

    /// The socket of `conn` closed or could not be opened.
    pub fn handle_disconnect(&mut self, conn_id: ConnectionId, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
        if self.conns.contains_key(&conn_id) {
            self.process_disconnection(conn_id, now_ms, false);
        }
        self.step(now_ms);
    }

    /// Timers: requests older than `request.timeout.ms` close their connection and fail,
    /// connections not up within the setup timeout close, connections idle for
    /// `connections.max.idle.ms` close, and a due metadata refresh is sent.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        self.now_ms = self.now_ms.max(now_ms);
        let timeout = self.settings.request_timeout_ms;
        // Java's handleTimedOutRequests
        let timed_out: Vec<ConnectionId> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.in_flight
                    .iter()
                    .any(|r| now_ms.saturating_sub(r.send_ms) > timeout)
            })
            .map(|(id, _)| *id)
            .collect();
        for id in timed_out {
            self.events.push_back(NetworkEvent::Close { conn: id });
            self.process_disconnection(id, now_ms, true);
        }
        // Java's handleTimedOutConnections
        let setup: Vec<ConnectionId> = self
            .nodes
            .values()
            .filter(|s| {
                s.state == ConnectionState::Connecting
                    && now_ms.saturating_sub(s.last_connect_attempt_ms) > s.setup_timeout_ms
            })
            .filter_map(|s| s.conn)
            .collect();
        for id in setup {
            self.events.push_back(NetworkEvent::Close { conn: id });
            self.process_disconnection(id, now_ms, true);
        }
        // the Selector's idle expiry
        let idle: Vec<ConnectionId> = self
            .conns
            .iter()
            .filter(|(_, c)| {
                c.connected
                    && c.in_flight.is_empty()
                    && now_ms.saturating_sub(c.last_activity_ms)
                        >= self.settings.connections_max_idle_ms
            })
            .map(|(id, _)| *id)
            .collect();
        for id in idle {
            self.events.push_back(NetworkEvent::Close { conn: id });
            self.process_disconnection(id, now_ms, false);
        }
        self.step(now_ms);
    }

    /// Closes the connection to `node`, failing its requests in flight (Java's
    /// `disconnect(node)`).
    pub fn disconnect(&mut self, node: i32, now_ms: u64) {
        if let Some(conn) = self.conn_of(node) {
            self.events.push_back(NetworkEvent::Close { conn });
            self.process_disconnection(conn, now_ms, false);
        }
    }

    // ---- internals ----

    fn fail_connection(&mut self, conn_id: ConnectionId, error: NetworkError, now_ms: u64) {
        let node = self.conns.get(&conn_id).map_or(0, |c| c.node);
        self.events
            .push_back(NetworkEvent::ConnectionError { node, error });
        self.events.push_back(NetworkEvent::Close { conn: conn_id });
        self.process_disconnection(conn_id, now_ms, false);
    }

    /// Java's `processDisconnection` + `cancelInFlightRequests` + the metadata updater's
    /// `handleServerDisconnect`.
    fn process_disconnection(&mut self, conn_id: ConnectionId, now_ms: u64, timed_out: bool) {
        let Some(conn) = self.conns.remove(&conn_id) else {
            return;
        };
        let node = conn.node;
        if self.conn_of(node) == Some(conn_id) {
            self.disconnected(node, now_ms);
        }
        let mut failed = Vec::new();
        for r in conn.in_flight {
            match r.origin {
                Origin::User(context) => failed.push(FailedRequest {
                    correlation_id: r.correlation_id,
                    api_key: r.api_key,
                    version: r.version,
                    context,
                }),
                Origin::Metadata { .. } => {
                    self.metadata.failed_update(now_ms);
                    self.metadata_in_progress = false;
                }
                Origin::ApiVersions => {}
            }
        }
        self.events.push_back(NetworkEvent::Disconnected {
            node,
            conn: conn_id,
            timed_out,
            failed,
        });
        if self.is_update_due(now_ms) {
            self.metadata.failed_update(now_ms);
        }
        self.metadata.request_update(false);
    }

    fn handle_frame(
        &mut self,
        conn_id: ConnectionId,
        frame: Bytes,
        now_ms: u64,
    ) -> Result<(), NetworkError> {
        let conn = self
            .conns
            .get_mut(&conn_id)
            .ok_or(NetworkError::NotReady { node: 0 })?;
        let node = conn.node;
        let got = frame
            .first_chunk::<4>()
            .map_or(-1, |b| i32::from_be_bytes(*b));
        let pos = conn
            .in_flight
            .iter()
            .position(|r| r.expect_response)
            .ok_or(NetworkError::UnexpectedResponse { node, got })?;
        let expected = conn.in_flight[pos].correlation_id;
        if got != expected {
            return Err(NetworkError::CorrelationMismatch {
                node,
                expected,
                got,
            });
        }
        let req = conn
            .in_flight
            .remove(pos)
            .ok_or(NetworkError::UnexpectedResponse { node, got })?;
        let decoded = match decode_response(&frame, req.api_key, req.version) {
            Ok(d) => Ok(d),
            // Java's ApiVersionsResponse.parse falls back to v0 (KIP-511)
            Err(_) if req.api_key == ApiKey::ApiVersions && req.version > 0 => {
                decode_response(&frame, ApiKey::ApiVersions, 0)
            }
            Err(e) => Err(e),
        };
        let (_, body) = decoded.map_err(|error| NetworkError::Decode { node, error })?;
        // Java's maybeThrottle: the deadline never moves back
        if let Some(ms) = client_throttle_ms(&body, req.version) {
            if let Some(s) = self.nodes.get_mut(&node) {
                s.throttle_until_ms = s.throttle_until_ms.max(now_ms.saturating_add(ms));
            }
        }
        match (req.origin, body) {
            (Origin::ApiVersions, ResponseBody::ApiVersions(r)) => {
                self.handle_api_versions_response(conn_id, req.version, &r)
            }
            (
                Origin::Metadata {
                    request_version,
                    is_partial_update,
                },
                ResponseBody::Metadata(r),
            ) => {
                self.metadata_in_progress = false;
                if ErrorCode::from_code(r.error_code) == Some(ErrorCode::RebootstrapRequired) {
                    self.metadata.rebootstrap();
                    self.metadata_attempt_start_ms = None;
                    self.events.push_back(NetworkEvent::Rebootstrapped);
                    return Ok(());
                }
                let update = self.metadata.update(
                    req.version,
                    &r,
                    request_version,
                    is_partial_update,
                    now_ms,
                );
                if !update.empty {
                    self.metadata_attempt_start_ms = None;
                }
                self.events.push_back(NetworkEvent::MetadataUpdated(update));
                Ok(())
            }
            (Origin::User(context), body) => {
                self.events.push_back(NetworkEvent::Response {
                    node,
                    correlation_id: req.correlation_id,
                    api_key: req.api_key,
                    version: req.version,
                    body: Some(body),
                    context,
                    latency_ms: now_ms.saturating_sub(req.send_ms),
                });
                Ok(())
            }
            // a response of another API to an internal request cannot be decoded as such
            (_, _) => Err(NetworkError::UnexpectedResponse { node, got }),
        }
    }

    /// Java's `handleApiVersionsResponse`.
    fn handle_api_versions_response(
        &mut self,
        conn_id: ConnectionId,
        version: i16,
        r: &ApiVersionsResponse,
    ) -> Result<(), NetworkError> {
        let node = self.conns.get(&conn_id).map_or(0, |c| c.node);
        let error = ErrorCode::from_code(r.error_code).unwrap_or(ErrorCode::UnknownServerError);
        if !error.is_none() {
            if version == 0 || error != ErrorCode::UnsupportedVersion {
                return Err(NetworkError::ApiVersions { node, error });
            }
            // KIP-511: the broker lists its ApiVersions range; retry at its highest
            let max = r
                .api_keys
                .iter()
                .find(|a| a.api_key == ApiKey::ApiVersions.key())
                .map_or(0, |a| a.max_version);
            let ours = client_range(ApiKey::ApiVersions).1;
            if let Some(conn) = self.conns.get_mut(&conn_id) {
                conn.api_versions_to_send = Some(max.min(ours).max(0));
            }
            return Ok(());
        }
        let versions = NodeApiVersions::from_response(r);
        if versions.latest_usable_version(ApiKey::Produce).is_none() {
            return Err(NetworkError::UnsupportedVersion {
                node,
                api_key: ApiKey::Produce,
            });
        }
        if let Some(conn) = self.conns.get_mut(&conn_id) {
            conn.versions = Some(versions);
        }
        if self.conn_of(node) == Some(conn_id) {
            self.node_ready(node);
            self.events.push_back(NetworkEvent::Ready { node });
        }
        Ok(())
    }

    /// After every input: send pending ApiVersions requests, then let the metadata updater
    /// run.
    fn step(&mut self, now_ms: u64) {
        // Java's handleInitiateApiVersionRequests
        let pending: Vec<(ConnectionId, i16)> = self
            .conns
            .iter()
            .filter(|(_, c)| c.connected && c.can_send_more(self.settings.max_in_flight))
            .filter_map(|(id, c)| c.api_versions_to_send.map(|v| (*id, v)))
            .collect();
        for (id, version) in pending {
            let node = self.conns.get(&id).map_or(0, |c| c.node);
            if let Some(s) = self.nodes.get_mut(&node) {
                if s.conn == Some(id) {
                    s.state = ConnectionState::CheckingApiVersions;
                    s.failed_connect_attempts = 0;
                }
            }
            if let Some(c) = self.conns.get_mut(&id) {
                c.api_versions_to_send = None;
            }
            let mut req = ApiVersionsRequest::default();
            if version >= 3 {
                req.client_software_name = CLIENT_SOFTWARE_NAME.into();
                req.client_software_version = env!("CARGO_PKG_VERSION").into();
            }
            let body = RequestBody::ApiVersions(alloc::boxed::Box::new(req));
            if let Err(error) = self.enqueue(id, &body, version, Origin::ApiVersions, now_ms) {
                self.fail_connection(id, error, now_ms);
            }
        }
        let wait = self.maybe_update_metadata(now_ms);
        self.metadata_wakeup_ms = now_ms.saturating_add(wait);
    }

    /// Java's `DefaultMetadataUpdater.maybeUpdate(now)`: the time until it wants to run again.
    fn maybe_update_metadata(&mut self, now_ms: u64) -> u64 {
        let to_next = self.metadata.time_to_next_update(now_ms);
        let wait_for_fetch = if self.metadata_in_progress {
            self.settings.request_timeout_ms
        } else {
            0
        };
        let wait = to_next.max(wait_for_fetch);
        if wait > 0 {
            return wait;
        }
        let start = *self.metadata_attempt_start_ms.get_or_insert(now_ms);
        let (mut node, mut any_ready) = self.least_loaded_node(now_ms);
        if self.settings.recovery == MetadataRecoveryStrategy::Rebootstrap
            && ((node.is_none() && !any_ready)
                || now_ms.saturating_sub(start) >= self.settings.rebootstrap_trigger_ms)
        {
            // already on the bootstrap addresses: nothing changes, nothing to report
            if !self.metadata.is_bootstrap() {
                self.events.push_back(NetworkEvent::Rebootstrapped);
            }
            self.metadata.rebootstrap();
            self.metadata_attempt_start_ms = Some(now_ms);
            (node, any_ready) = self.least_loaded_node(now_ms);
        }
        let _ = any_ready;
        let Some(node) = node else {
            return self.settings.reconnect_backoff_ms;
        };
        if self.can_send_request(node.id) {
            let req = self.metadata.new_metadata_request(now_ms);
            let version = self
                .api_versions(node.id)
                .and_then(|v| v.latest_usable_version(ApiKey::Metadata));
            let conn = self.conn_of(node.id);
            if let (Some(version), Some(conn)) = (version, conn) {
                let body = RequestBody::Metadata(alloc::boxed::Box::new(req.request));
                let origin = Origin::Metadata {
                    request_version: req.request_version,
                    is_partial_update: req.is_partial_update,
                };
                match self.enqueue(conn, &body, version, origin, now_ms) {
                    Ok(_) => self.metadata_in_progress = true,
                    Err(error) => self.fail_connection(conn, error, now_ms),
                }
                return self.settings.request_timeout_ms;
            }
        }
        if self.is_any_node_connecting() {
            return self.settings.reconnect_backoff_ms;
        }
        if self.can_connect(node.id, now_ms) {
            self.initiate_connect(&node, now_ms);
            return self.settings.reconnect_backoff_ms;
        }
        u64::MAX
    }
}

#[cfg(test)]
mod tests;
