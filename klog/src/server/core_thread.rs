//! The thread that owns the [`Broker`]: requests in through a channel, answers out through
//! oneshots, timeouts from [`Broker::poll_timeout`], events to `tracing`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};

use bytes::Bytes;
use tokio::sync::oneshot;
use tracing::{debug, error, info, warn};

use super::metrics::LogHealth;
use super::{now_ms, ServerError};
use crate::broker::{Broker, BrokerError, BrokerEvent, BrokerMetrics, ConnectionId, Handled};
use crate::storage::FsStorage;

/// What a connection task tells the core.
#[derive(Debug)]
pub(crate) enum CoreMsg {
    /// A request frame (without its size prefix) and where its answer goes.
    Frame {
        /// The connection.
        conn: ConnectionId,
        /// The frame.
        frame: Bytes,
        /// Receives the answer: never [`Handled::Pending`] (the core thread keeps the sender
        /// and answers once [`Broker::poll_completed`] has the response).
        reply: oneshot::Sender<Handled>,
    },
    /// The connection is gone.
    Closed(ConnectionId),
    /// The metrics endpoint asks for the core's counters ([`Broker::metrics`]) and the log
    /// failures its events reported.
    Metrics(oneshot::Sender<(BrokerMetrics, LogHealth)>),
}

/// The sending side of the core's channel.
pub(crate) type CoreSender = mpsc::Sender<CoreMsg>;

/// Starts the core thread. It runs until every [`CoreSender`] is dropped, then shuts the
/// broker down; `done` receives the result.
pub(crate) fn spawn(
    broker: Broker<FsStorage>,
) -> Result<(CoreSender, oneshot::Receiver<Result<(), BrokerError>>), ServerError> {
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = oneshot::channel();
    std::thread::Builder::new()
        .name(String::from("kpp-broker-core"))
        .spawn(move || {
            let r = run(broker, &rx);
            let _ = done_tx.send(r);
        })
        .map_err(|e| ServerError::CoreThread(format!("cannot start: {e}")))?;
    Ok((tx, done_rx))
}

/// The core loop (see the module docs of `server`).
fn run(mut broker: Broker<FsStorage>, rx: &mpsc::Receiver<CoreMsg>) -> Result<(), BrokerError> {
    let mut pending: HashMap<ConnectionId, oneshot::Sender<Handled>> = HashMap::new();
    let mut health = LogHealth::default();
    // the events of opening (partitions loaded and recovered)
    drain(&mut broker, &mut pending, &mut health);
    // the deadline last handled: if handle_timeout leaves poll_timeout unchanged, wait a little
    // rather than spin
    let mut last_deadline: Option<i64> = None;
    loop {
        let now = now_ms();
        let wait = match broker.poll_timeout() {
            Some(t) if t <= now && last_deadline != Some(t) => {
                broker.handle_timeout(now);
                last_deadline = Some(t);
                drain(&mut broker, &mut pending, &mut health);
                continue;
            }
            Some(t) if t <= now => Some(Duration::from_millis(10)),
            Some(t) => Some(Duration::from_millis(u64::try_from(t - now).unwrap_or(0))),
            None => None,
        };
        let msg = match wait {
            Some(d) => match rx.recv_timeout(d) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    last_deadline = None;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => break,
            },
            None => match rx.recv() {
                Ok(m) => m,
                Err(_) => break,
            },
        };
        match msg {
            CoreMsg::Frame { conn, frame, reply } => {
                match broker.handle_frame(conn, frame, now_ms()) {
                    Handled::Pending => {
                        pending.insert(conn, reply);
                    }
                    answer => {
                        // a connection that went away meanwhile drops its receiver: fine
                        let _ = reply.send(answer);
                    }
                }
            }
            CoreMsg::Closed(conn) => {
                pending.remove(&conn);
                broker.connection_closed(conn);
            }
            CoreMsg::Metrics(reply) => {
                let _ = reply.send((broker.metrics().clone(), health.clone()));
            }
        }
        drain(&mut broker, &mut pending, &mut health);
    }
    info!("all connections closed; shutting the broker down (flushing every log)");
    let r = broker.shutdown(now_ms()).map(|_| ());
    if let Err(e) = &r {
        error!(error = %e, "broker shutdown failed");
    }
    r
}

/// Sends the answers of pending requests, logs the events and notes the failures among them.
fn drain(
    broker: &mut Broker<FsStorage>,
    pending: &mut HashMap<ConnectionId, oneshot::Sender<Handled>>,
    health: &mut LogHealth,
) {
    while let Some((conn, frame)) = broker.poll_completed() {
        match pending.remove(&conn) {
            Some(reply) => {
                let _ = reply.send(Handled::Respond(frame));
            }
            None => debug!(
                conn,
                "answer for a connection without a pending request dropped"
            ),
        }
    }
    while let Some(event) = broker.poll_event() {
        health.observe(&event);
        log_event(&event);
    }
}

/// One event as one structured log line.
fn log_event(event: &BrokerEvent) {
    match event {
        BrokerEvent::TopicCreated {
            topic,
            topic_id,
            partitions,
        } => info!(
            topic = %topic,
            topic_id = %topic_id.to_kafka_string(),
            partitions,
            "topic created"
        ),
        BrokerEvent::PartitionLoaded {
            topic,
            partition,
            log_end_offset,
            truncated_bytes,
        } if *truncated_bytes > 0 => warn!(
            topic = %topic,
            partition,
            log_end_offset,
            truncated_bytes,
            "partition recovered: a torn or corrupt tail was cut off"
        ),
        BrokerEvent::PartitionLoaded {
            topic,
            partition,
            log_end_offset,
            ..
        } => info!(topic = %topic, partition, log_end_offset, "partition loaded"),
        // the connection task logs the close with its peer address
        BrokerEvent::ConnectionClosed { conn, reason } => {
            debug!(conn, reason = %reason, "core closes connection")
        }
        BrokerEvent::LogFailed {
            topic,
            partition,
            error,
        } => {
            error!(topic = %topic, partition, error = %error, "partition log failed; it is offline until restart")
        }
        BrokerEvent::MetadataWriteFailed { error } => {
            error!(error = %error, "cluster metadata file not written")
        }
        BrokerEvent::LogDirOpened {
            had_clean_shutdown,
            partitions,
            created,
            unknown,
            set_aside,
        } => {
            info!(had_clean_shutdown, partitions, "log directory loaded");
            for (topic, partition) in created {
                warn!(topic = %topic, partition, "partition directory was missing: created empty");
            }
            for (topic, partition) in unknown {
                warn!(topic = %topic, partition, "partition directory of a topic the cluster metadata does not know: left alone");
            }
            for dir in set_aside {
                warn!(dir = %dir, "partition directory without partition.metadata renamed -stray");
            }
        }
        BrokerEvent::TopicDeleted {
            topic,
            topic_id,
            partitions,
        } => info!(
            topic = %topic,
            topic_id = %topic_id.to_kafka_string(),
            partitions,
            "topic deleted"
        ),
        BrokerEvent::PartitionsCreated { topic, from, to } => {
            info!(topic = %topic, from, to, "partitions created")
        }
        BrokerEvent::TopicConfigsAltered { topic, overrides } => {
            let overrides: Vec<String> =
                overrides.iter().map(|(k, v)| format!("{k}={v}")).collect();
            info!(topic = %topic, overrides = %overrides.join(","), "topic configs altered")
        }
        BrokerEvent::LogDirFailed { error } => {
            error!(error = %error, "log directory failed; every partition is offline until restart")
        }
    }
}
