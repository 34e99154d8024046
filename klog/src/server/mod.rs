//! The network adapter (feature `server`): serves the sans-IO [`Broker`] on TCP with tokio.
//!
//! The adapter frames bytes, keeps the clock, draws the seed and catches the signals; every
//! Kafka decision (what to answer, when to close a connection for a bad request, what a
//! topic's id is) stays in the core.
//!
//! # Design
//!
//! - **One core thread owns the [`Broker`].** The core is `&mut self` and does blocking file
//!   I/O (appends, `fsync`, index writes), so it runs on a dedicated OS thread rather than on a
//!   runtime worker, where it would stall every connection scheduled on that worker. Connection
//!   tasks send it `(connection, frame, oneshot reply)` through an unbounded `std` channel
//!   (bounded in practice: each connection has at most one request in the core at a time). The
//!   thread waits on the channel with a timeout set by [`Broker::poll_timeout`], so delayed
//!   fetches and log maintenance run on time; after every request or timeout it drains
//!   [`Broker::poll_completed`] (answers of [`Handled::Pending`](crate::broker::Handled::Pending) requests, sent to the oneshot
//!   kept for that connection) and [`Broker::poll_event`] (to `tracing`). Requests are handled
//!   one at a time, as the core's `&mut self` demands; the network work (accepting, reading,
//!   framing, writing) runs in parallel on the multi-threaded runtime.
//! - **One task per connection**, reading and writing through split halves in one `select!`
//!   loop. It reads ahead (pipelining: up to [`READ_AHEAD_FRAMES`] frames or
//!   [`READ_AHEAD_BYTES`] bytes of complete frames) but hands the core the connection's next
//!   frame only once the previous one was answered, as Kafka mutes a connection while one of
//!   its requests is in flight; so responses leave in request order.
//! - **Framing as Kafka's `NetworkReceive`**: the 4-byte size is checked before anything is
//!   allocated for the frame, and the buffer then grows with the bytes that arrive, not with
//!   the size claimed. A negative size or one above `socket.request.max.bytes` closes that
//!   connection (after the frames before it were answered), as does a frame the core refuses
//!   ([`Handled::Close`](crate::broker::Handled::Close)); other connections are untouched.
//! - **Idle connections** (`connections.max.idle.ms`, negative: never) are closed when neither
//!   a byte arrived nor a response was written for that long while no request of theirs is in
//!   the core (a delayed fetch is the broker's doing, not the client's idleness).
//! - **Shutdown** ([`ShutdownHandle::shutdown`], or SIGINT/SIGTERM with [`Server::run`]): the
//!   listeners stop accepting, every connection finishes the request it has in the core
//!   (writing its answer, for at most [`SHUTDOWN_WRITE_GRACE`]) and closes; when the last one
//!   is gone the core thread calls [`Broker::shutdown`], which flushes, checkpoints and closes
//!   every log, so the next start needs no recovery.
//! - **Listeners**: every `listeners` entry is bound (an empty host binds `0.0.0.0`). An
//!   advertised listener with port 0 is advertised with the port its listener was bound to, as
//!   Kafka's `ListenerInfo.withEphemeralPortsCorrectlySet` does, and one with an empty host
//!   with the machine's host name (see [`Server::bind`]), as `withWildcardHostnamesResolved`
//!   does.
//! - **Metrics** ([`Server::bind_metrics`]): `GET /metrics` on a socket of its own, in
//!   Prometheus' text format 0.0.4 under the names Kafka's JMX exporter gives Kafka's broker
//!   metrics ([`metrics`] lists them). At each scrape the endpoint asks the core thread for
//!   [`Broker::metrics`] (exact at that moment, never a copy per request); the connection
//!   counts per listener and each request's total time (frame read whole to response
//!   written, a histogram per API) are the adapter's own, kept in atomics.
//!
//! ```no_run
//! # async fn demo() -> Result<(), klog::server::ServerError> {
//! use klog::broker::BrokerConfig;
//! use klog::server::{random_seed, Server};
//!
//! let (config, _warnings) = BrokerConfig::from_pairs([
//!     ("listeners", "PLAINTEXT://127.0.0.1:0"),
//!     ("log.dirs", "/tmp/kpp-demo"),
//! ])
//! .expect("valid configuration");
//! let server = Server::bind(config, random_seed()).await?;
//! println!("listening on {}", server.local_addr());
//! let handle = server.shutdown_handle();
//! tokio::spawn(async move {
//!     tokio::time::sleep(std::time::Duration::from_secs(1)).await;
//!     handle.shutdown();
//! });
//! server.run_until(std::future::pending()).await
//! # }
//! ```

mod conn;
mod core_thread;
pub mod http;
pub mod metrics;
#[cfg(test)]
mod tests;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::future::Future;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{info, warn};

use crate::broker::{Broker, BrokerConfig, BrokerError, Listener, OpenReport};
use crate::error::StorageError;
use crate::storage::FsStorage;

pub use conn::{READ_AHEAD_BYTES, READ_AHEAD_FRAMES, SHUTDOWN_WRITE_GRACE};

/// Why the server could not start or stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The log directory (`log.dirs`) could not be created or opened.
    #[error("log directory {dir}: {source}")]
    LogDir {
        /// The directory.
        dir: String,
        /// What failed.
        source: StorageError,
    },
    /// The metrics endpoint could not be bound.
    #[error("cannot bind the metrics endpoint {address}: {source}")]
    MetricsBind {
        /// The address, as given.
        address: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// A listener could not be bound.
    #[error("cannot bind listener {listener}: {source}")]
    Bind {
        /// The listener, as configured.
        listener: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// The broker core could not open its log directory.
    #[error("cannot open the broker: {0}")]
    Open(#[source] BrokerError),
    /// The broker core failed to shut down cleanly (a log could not be flushed or closed).
    #[error("broker shutdown failed: {0}")]
    Shutdown(#[source] BrokerError),
    /// The configuration has no listener to serve (`BrokerConfig::from_pairs` never builds
    /// one like that; a hand-made `BrokerConfig` can).
    #[error("no listener to serve: `listeners` is empty")]
    NoListener,
    /// The core thread could not be started, or it (or opening the log directory) ended
    /// without an answer: it panicked.
    #[error("the broker core thread: {0}")]
    CoreThread(String),
}

/// Milliseconds since the Unix epoch by the system clock: the `now_ms` the core is given.
// the adapter is where the clock is read (clippy.toml forbids it to the sans-IO cores)
#[allow(clippy::disallowed_methods)]
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A seed for [`Broker::open`] from the OS: std's randomly keyed hasher (keyed from the OS's
/// random source) over the clock and the process id.
#[allow(clippy::disallowed_methods)]
pub fn random_seed() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    h.write_u128(nanos);
    h.write_u32(std::process::id());
    h.finish()
}

/// Resolves on SIGINT or SIGTERM (SIGINT only where there are no Unix signals).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(mut int), Ok(mut term)) => {
                tokio::select! {
                    _ = int.recv() => info!(signal = "SIGINT", "shutdown requested"),
                    _ = term.recv() => info!(signal = "SIGTERM", "shutdown requested"),
                }
            }
            (Err(e), _) | (_, Err(e)) => {
                warn!(error = %e, "cannot install signal handlers; waiting for Ctrl-C only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        info!(signal = "Ctrl-C", "shutdown requested");
    }
}

/// Stops a running [`Server`] from elsewhere (a test, a signal handler); cheap to clone.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    tx: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Asks the server to stop accepting, finish and shut the broker down. Idempotent.
    pub fn shutdown(&self) {
        self.tx.send_replace(true);
    }
}

/// A bound listener: its configuration and socket.
#[derive(Debug)]
struct Bound {
    listener: Listener,
    addr: SocketAddr,
    socket: TcpListener,
}

/// The broker on its log directory and its bound listeners, ready to [`Server::run_until`].
#[derive(Debug)]
pub struct Server {
    broker: Broker<FsStorage>,
    report: OpenReport,
    bound: Vec<Bound>,
    stop: Arc<watch::Sender<bool>>,
    /// The metrics endpoint's socket, once [`Server::bind_metrics`] bound it.
    metrics: Option<(TcpListener, SocketAddr)>,
}

/// The machine's host name when it resolves: what a wildcard listener is advertised as, as
/// Kafka's `ListenerInfo.withWildcardHostnamesResolved` advertises
/// `InetAddress.getLocalHost().getCanonicalHostName()` (std cannot do the reverse lookup that
/// makes Java's name canonical, so a short host name stays short). `None` (the core then says
/// `localhost`) where the name is unknown or does not resolve.
async fn local_host_name() -> Option<String> {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()?;
    let name = String::from(raw.trim());
    if name.is_empty() {
        return None;
    }
    let resolves = match tokio::net::lookup_host((name.as_str(), 0)).await {
        Ok(mut addrs) => addrs.next().is_some(),
        Err(_) => false,
    };
    if resolves {
        Some(name)
    } else {
        warn!(host = %name, "the host name does not resolve; advertising localhost");
        None
    }
}

/// The address to bind for a listener (an empty host is every IPv4 address).
fn bind_target(l: &Listener) -> (String, u16) {
    let host = l.host.clone().unwrap_or_else(|| String::from("0.0.0.0"));
    (host, l.port)
}

impl Server {
    /// Binds every listener of `config`, then opens the broker on `config.log_dir` (created if
    /// missing) with `seed` (see [`random_seed`]): its partitions are loaded and recovered
    /// here. Advertised listeners with port 0 get their listener's bound port, and those with
    /// an empty (wildcard) host the machine's host name when it resolves (Kafka advertises
    /// `InetAddress.getLocalHost().getCanonicalHostName()`; std has no reverse lookup, so a
    /// short name stays short), else the core's `localhost`.
    pub async fn bind(mut config: BrokerConfig, seed: u64) -> Result<Server, ServerError> {
        if config.listeners.is_empty() {
            return Err(ServerError::NoListener);
        }
        let mut bound = Vec::new();
        for l in &config.listeners {
            let socket =
                TcpListener::bind(bind_target(l))
                    .await
                    .map_err(|source| ServerError::Bind {
                        listener: l.to_string(),
                        source,
                    })?;
            let addr = socket.local_addr().map_err(|source| ServerError::Bind {
                listener: l.to_string(),
                source,
            })?;
            bound.push(Bound {
                listener: l.clone(),
                addr,
                socket,
            });
        }
        let mut host_name = None;
        for a in &mut config.advertised_listeners {
            if a.port == 0 {
                if let Some(b) = bound.iter().find(|b| b.listener.name == a.name) {
                    a.port = b.addr.port();
                }
            }
            if a.host.is_none() {
                if host_name.is_none() {
                    host_name = Some(local_host_name().await);
                }
                a.host = host_name.clone().flatten();
            }
        }
        // opening recovers logs (file I/O, possibly long): off the runtime's workers
        let (broker, report) = tokio::task::spawn_blocking(move || {
            let storage =
                FsStorage::new(config.log_dir.as_str()).map_err(|source| ServerError::LogDir {
                    dir: config.log_dir.clone(),
                    source,
                })?;
            Broker::open(storage, config, seed, now_ms()).map_err(ServerError::Open)
        })
        .await
        .map_err(|e| ServerError::CoreThread(format!("opening the log directory: {e}")))??;
        let (stop, _) = watch::channel(false);
        Ok(Server {
            broker,
            report,
            bound,
            stop: Arc::new(stop),
            metrics: None,
        })
    }

    /// Binds the Prometheus metrics endpoint (`GET /metrics`, see [`metrics`] for the names)
    /// on `address` (`HOST:PORT`; port 0 picks one); it is served once the server runs.
    /// Returns the address bound. A second call replaces the first endpoint.
    pub async fn bind_metrics(&mut self, address: &str) -> Result<SocketAddr, ServerError> {
        let err = |source| ServerError::MetricsBind {
            address: String::from(address),
            source,
        };
        let socket = TcpListener::bind(address).await.map_err(err)?;
        let addr = socket.local_addr().map_err(err)?;
        self.metrics = Some((socket, addr));
        Ok(addr)
    }

    /// The address of the metrics endpoint, if [`Server::bind_metrics`] bound one.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(_, a)| *a)
    }

    /// The address of the first listener (the one `--listen` sets; [`Server::bind`] refuses a
    /// configuration without listeners).
    pub fn local_addr(&self) -> SocketAddr {
        self.bound[0].addr
    }

    /// Every listener with the address it is bound to.
    pub fn local_addrs(&self) -> Vec<(Listener, SocketAddr)> {
        self.bound
            .iter()
            .map(|b| (b.listener.clone(), b.addr))
            .collect()
    }

    /// What opening the log directory found (cluster id, partitions, recoveries).
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// The configuration the broker runs with (advertised ports filled in).
    pub fn config(&self) -> &BrokerConfig {
        self.broker.config()
    }

    /// A handle that stops the server once it runs.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            tx: Arc::clone(&self.stop),
        }
    }

    /// Serves until SIGINT or SIGTERM (or a [`ShutdownHandle`]), then shuts down cleanly.
    pub async fn run(self) -> Result<(), ServerError> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` resolves or a [`ShutdownHandle`] is used, then stops accepting,
    /// lets every connection finish the request it has in flight, and shuts the broker down
    /// ([`Broker::shutdown`]: every log flushed and closed). Returns once that is done.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Server {
            broker,
            report: _,
            bound,
            stop,
            metrics: metrics_socket,
        } = self;
        let config = broker.config().clone();
        info!(
            node_id = config.node_id,
            cluster_id = broker.cluster_id(),
            partitions = broker.metrics().partition_count,
            "broker starting"
        );
        let (core_tx, done) = core_thread::spawn(broker)?;
        let limits = conn::Limits {
            max_frame: usize::try_from(config.socket_request_max_bytes).unwrap_or(usize::MAX),
            idle: u64::try_from(config.connections_max_idle_ms)
                .ok()
                .map(Duration::from_millis),
        };
        let ids = Arc::new(AtomicU64::new(0));
        let adapter = Arc::new(metrics::AdapterMetrics::new(
            bound.iter().map(|b| b.listener.name.as_str()),
        ));
        let mut acceptors = tokio::task::JoinSet::new();
        for b in bound {
            let advertised = config
                .advertised_listeners
                .iter()
                .find(|a| a.name == b.listener.name)
                .map(ToString::to_string)
                .unwrap_or_default();
            info!(
                listener = %b.listener.name,
                address = %b.addr,
                advertised = %advertised,
                "listening"
            );
            acceptors.spawn(accept_loop(
                b,
                core_tx.clone(),
                stop.subscribe(),
                Arc::clone(&ids),
                limits,
                Arc::clone(&adapter),
            ));
        }
        if let Some((socket, addr)) = metrics_socket {
            info!(metrics_address = %addr, "serving Prometheus metrics on /metrics");
            acceptors.spawn(http::serve(
                socket,
                addr,
                core_tx.clone(),
                Arc::clone(&adapter),
                stop.subscribe(),
            ));
        }
        drop(core_tx);
        let mut stop_rx = stop.subscribe();
        tokio::select! {
            _ = shutdown => {}
            _ = stopped(&mut stop_rx) => {}
        }
        info!("shutting down: no new connections; finishing requests in flight");
        stop.send_replace(true);
        while acceptors.join_next().await.is_some() {}
        match done.await {
            Ok(Ok(())) => {
                info!("broker shut down cleanly");
                Ok(())
            }
            Ok(Err(e)) => Err(ServerError::Shutdown(e)),
            Err(_) => Err(ServerError::CoreThread(String::from(
                "ended without an answer (panicked)",
            ))),
        }
    }
}

/// Accepts connections on one listener until the stop flag is set, each served by its own
/// task holding a sender to the core.
async fn accept_loop(
    b: Bound,
    core: core_thread::CoreSender,
    stop: watch::Receiver<bool>,
    ids: Arc<AtomicU64>,
    limits: conn::Limits,
    metrics: Arc<metrics::AdapterMetrics>,
) {
    let counters = metrics.listener(&b.listener.name);
    let mut stop_rx = stop.clone();
    loop {
        tokio::select! {
            accepted = b.socket.accept() => match accepted {
                Ok((stream, peer)) => {
                    let id = ids.fetch_add(1, Ordering::Relaxed);
                    let _ = stream.set_nodelay(true);
                    tracing::debug!(conn = id, peer = %peer, listener = %b.listener.name, "connection accepted");
                    let open = counters.opened();
                    let serve = conn::serve(id, peer, stream, core.clone(), stop.clone(), limits, Arc::clone(&metrics));
                    tokio::spawn(async move {
                        serve.await;
                        drop(open);
                    });
                }
                Err(e) => {
                    // out of file descriptors and the like: Kafka logs and goes on
                    warn!(listener = %b.listener.name, error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            _ = stopped(&mut stop_rx) => break,
        }
    }
}

/// Resolves once the stop flag is set (or its sender is gone).
pub(crate) async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}
