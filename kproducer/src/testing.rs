//! The in-test loop: a [`NetworkClient`] ↔ virtual sockets ↔ the real broker core
//! (`klog::broker::Broker` over `klog::MemStorage`), with a virtual clock that jumps to the
//! client's next `poll_timeout()`. The full producer simulation grows from here.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use bytes::Bytes;
use klog::broker::{Broker, BrokerConfig, Handled};
use klog::MemStorage;
use kproto::frame::FrameDecoder;

use crate::config::ProducerConfig;
use crate::network::{ConnectionId, NetworkClient, NetworkEvent};

/// The virtual clock's start (2023-11-14).
pub(crate) const T0: u64 = 1_700_000_000_000;

/// A producer config pointing at the simulated broker (`localhost:9092`, its advertised
/// listener), seeded.
pub(crate) fn config(seed: u64) -> ProducerConfig {
    ProducerConfig {
        bootstrap_servers: alloc::vec!["localhost:9092".into()],
        client_id: "kproducer-test".into(),
        seed,
        ..ProducerConfig::default()
    }
}

#[derive(Debug)]
struct SimConn {
    to_broker: FrameDecoder,
    to_client: Vec<u8>,
}

/// One broker, the sockets to it, and the virtual clock.
pub(crate) struct Sim {
    pub(crate) broker: Broker<MemStorage>,
    pub(crate) now: u64,
    conns: BTreeMap<ConnectionId, SimConn>,
    /// Broker → client bytes are delivered in pieces of this many bytes.
    pub(crate) chunk: usize,
    /// Client → broker bytes are swallowed: the broker never answers.
    pub(crate) black_hole: bool,
    /// New connections fail at once (connection refused).
    pub(crate) refuse_connections: bool,
    /// New connections never complete (a silent network).
    pub(crate) hang_connections: bool,
    /// Every event the client emitted, with the time it was seen.
    pub(crate) seen: Vec<(u64, String)>,
}

impl Sim {
    /// A broker with `config`'s defaults changed by `tune`.
    pub(crate) fn new(tune: impl FnOnce(&mut BrokerConfig)) -> Sim {
        let mut bc = BrokerConfig::default();
        // small preallocated indexes: hundreds of partitions in memory stay cheap
        bc.log.segment_index_bytes = 16 * 1024;
        tune(&mut bc);
        let broker = Broker::open(MemStorage::new(), bc, 42, T0 as i64)
            .expect("broker opens")
            .0;
        Sim {
            broker,
            now: T0,
            conns: BTreeMap::new(),
            chunk: usize::MAX,
            black_hole: false,
            refuse_connections: false,
            hang_connections: false,
            seen: Vec::new(),
        }
    }

    /// One round: the client's events (connects, closes), its bytes to the broker, the
    /// broker's answers back. Returns the events and whether anything happened.
    pub(crate) fn step<C: Clone + core::fmt::Debug>(
        &mut self,
        client: &mut NetworkClient<C>,
    ) -> (Vec<NetworkEvent<C>>, bool) {
        let now = self.now;
        let mut out = Vec::new();
        let mut progressed = false;
        while let Some(ev) = client.poll_event() {
            progressed = true;
            self.seen.push((now, alloc::format!("{ev:?}")));
            match &ev {
                NetworkEvent::ConnectTo { conn, .. } => {
                    if self.refuse_connections {
                        client.handle_disconnect(*conn, now);
                    } else if !self.hang_connections {
                        self.conns.insert(
                            *conn,
                            SimConn {
                                to_broker: FrameDecoder::new(1 << 30),
                                to_client: Vec::new(),
                            },
                        );
                        client.handle_connected(*conn, now);
                    }
                }
                NetworkEvent::Close { conn } => {
                    self.conns.remove(conn);
                    self.broker.connection_closed(*conn);
                }
                _ => {}
            }
            out.push(ev);
        }
        let mut buf = Vec::new();
        while let Some(conn) = client.poll_transmit(now, &mut buf) {
            progressed = true;
            let bytes = core::mem::take(&mut buf);
            if self.black_hole {
                continue;
            }
            let Some(sc) = self.conns.get_mut(&conn) else {
                continue;
            };
            sc.to_broker.feed(&bytes);
            while let Some(sc) = self.conns.get_mut(&conn) {
                let frame: Bytes = match sc.to_broker.next_frame() {
                    Ok(Some(f)) => f,
                    Ok(None) => break,
                    Err(e) => panic!("client sent an unframeable stream: {e}"),
                };
                match self.broker.handle_frame(conn, frame, now as i64) {
                    Handled::Respond(b) => sc.to_client.extend_from_slice(&b),
                    Handled::NoResponse | Handled::Pending => {}
                    Handled::Close(reason) => {
                        self.seen
                            .push((now, alloc::format!("broker closed {conn}: {reason}")));
                        self.conns.remove(&conn);
                        self.broker.connection_closed(conn);
                        client.handle_disconnect(conn, now);
                    }
                }
            }
        }
        while let Some((conn, b)) = self.broker.poll_completed() {
            if let Some(sc) = self.conns.get_mut(&conn) {
                sc.to_client.extend_from_slice(&b);
            }
        }
        while self.broker.poll_event().is_some() {}
        let ids: Vec<ConnectionId> = self.conns.keys().copied().collect();
        for id in ids {
            let Some(sc) = self.conns.get_mut(&id) else {
                continue;
            };
            if sc.to_client.is_empty() {
                continue;
            }
            progressed = true;
            let bytes = core::mem::take(&mut sc.to_client);
            for piece in bytes.chunks(self.chunk.max(1)) {
                client.handle_bytes(id, piece, now);
            }
        }
        (out, progressed)
    }

    /// Runs until `stop` accepts an event (returning every event up to it) or virtual time
    /// would pass `deadline`. When nothing is left to do, time jumps to the client's
    /// `poll_timeout()` and `handle_timeout` runs.
    pub(crate) fn run_until<C: Clone + core::fmt::Debug>(
        &mut self,
        client: &mut NetworkClient<C>,
        deadline: u64,
        mut stop: impl FnMut(&NetworkEvent<C>) -> bool,
    ) -> (Vec<NetworkEvent<C>>, bool) {
        let mut all = Vec::new();
        for _ in 0..1_000_000 {
            let (events, progressed) = self.step(client);
            let mut done = false;
            for e in events {
                done |= stop(&e);
                all.push(e);
            }
            if done {
                return (all, true);
            }
            if !progressed {
                match client.poll_timeout() {
                    Some(t) if t <= deadline => {
                        self.now = self.now.max(t);
                        client.handle_timeout(self.now);
                    }
                    _ => return (all, false),
                }
            }
        }
        panic!("simulation did not settle");
    }
}
