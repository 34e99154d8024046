//! The network client against the real broker core (`crate::testing::Sim`) and against
//! hand-made responses.

use super::*;
use crate::testing::{config, Sim, T0};
use alloc::boxed::Box;
use alloc::string::ToString;
use alloc::vec;
use kproto::frame::{decode_request, encode_response_frame};
use kproto::messages::api_versions::response::ApiVersion;
use kproto::messages::{InitProducerIdRequest, MetadataRequest, ProduceRequest};
use kproto::versions::{advertised, KafkaRelease};

type Client = NetworkClient<u32>;

fn broker_node() -> Node {
    Node {
        id: 1,
        host: "localhost".into(),
        port: 9092,
        rack: None,
    }
}

/// A client whose bootstrap connection is ready and whose first metadata is in.
fn ready_client(sim: &mut Sim, cfg: &ProducerConfig) -> Client {
    let mut c = Client::new(cfg).unwrap();
    c.handle_timeout(sim.now);
    let (_, ok) = sim.run_until(&mut c, T0 + 10_000, |e| {
        matches!(e, NetworkEvent::MetadataUpdated(_))
    });
    assert!(ok, "no metadata: {:#?}", sim.seen);
    c
}

/// Connects node 1 (the broker by its advertised id) and waits for it to be ready.
fn connect_broker(sim: &mut Sim, c: &mut Client) {
    let node = broker_node();
    if c.ready(&node, sim.now) {
        return;
    }
    let (_, ok) = sim.run_until(c, sim.now + 10_000, |e| {
        matches!(e, NetworkEvent::Ready { node: 1 })
    });
    assert!(ok, "node 1 not ready: {:#?}", sim.seen);
    assert!(c.ready(&node, sim.now));
}

#[test]
fn negotiation_picks_the_highest_common_versions() {
    let mut sim = Sim::new(|_| {});
    let mut c = ready_client(&mut sim, &config(1));
    let v = c.api_versions(-1).expect("bootstrap connection negotiated");
    let mut checked = 0;
    for served in klog::broker::versions::SERVED_APIS {
        let ours = client_range(served.key);
        let expected = kproto::versions::negotiate(ours, (served.advertised_min, served.max));
        assert_eq!(
            v.latest_usable_version(served.key),
            expected,
            "{:?}",
            served.key
        );
        assert_eq!(
            v.broker_range(served.key),
            Some((served.advertised_min, served.max))
        );
        checked += 1;
    }
    assert!(checked >= 10);
    // the producer's APIs at their newest: Produce v13 (advertised from 0, used from 3),
    // Metadata v13, InitProducerId v5 (kproto's stable max)
    assert_eq!(v.latest_usable_version(ApiKey::Produce), Some(13));
    assert_eq!(v.latest_usable_version(ApiKey::Metadata), Some(13));
    assert_eq!(v.latest_usable_version(ApiKey::InitProducerId), Some(5));
    // APIs the broker does not serve have no version
    assert_eq!(v.latest_usable_version(ApiKey::JoinGroup), None);
    // the metadata came from the broker: node 1 at its advertised address
    assert_eq!(c.metadata().fetch().node(1), Some(&broker_node()));
    connect_broker(&mut sim, &mut c);
    assert_eq!(c.connection_state(1), Some(ConnectionState::Ready));
}

// ---- hand-made peers ----

struct Manual {
    c: Client,
    conn: ConnectionId,
    now: u64,
}

impl Manual {
    fn new(tune: impl FnOnce(&mut ProducerConfig)) -> Manual {
        let mut cfg = config(7);
        tune(&mut cfg);
        let mut c = Client::new(&cfg).unwrap();
        assert_eq!(c.poll_timeout(), Some(0));
        c.handle_timeout(T0);
        let Some(NetworkEvent::ConnectTo {
            conn,
            node: -1,
            host,
            port: 9092,
        }) = c.poll_event()
        else {
            panic!("expected a connect to the bootstrap server");
        };
        assert_eq!(host, "localhost");
        c.handle_connected(conn, T0);
        Manual { c, conn, now: T0 }
    }

    /// The next request written, decoded.
    fn request(&mut self) -> (RequestHeader, RequestBody) {
        let mut buf = Vec::new();
        let conn = self.c.poll_transmit(self.now, &mut buf).expect("a request");
        assert_eq!(conn, self.conn);
        let size = i32::from_be_bytes(buf[..4].try_into().unwrap()) as usize;
        assert_eq!(size + 4, buf.len(), "one whole frame");
        decode_request(&Bytes::from(buf).slice(4..)).unwrap()
    }

    fn respond(&mut self, correlation_id: i32, body: ResponseBody, version: i16) {
        let mut out = BytesMut::new();
        encode_response_frame(correlation_id, &body, version, &mut out).unwrap();
        self.c.handle_bytes(self.conn, &out, self.now);
    }

    fn api_versions_ok(&mut self, h: &RequestHeader, ranges: &[(ApiKey, i16, i16)]) {
        let r = ApiVersionsResponse {
            api_keys: ranges
                .iter()
                .map(|&(k, min, max)| ApiVersion {
                    api_key: k.key(),
                    min_version: min,
                    max_version: max,
                    ..ApiVersion::default()
                })
                .collect(),
            ..ApiVersionsResponse::default()
        };
        self.respond(
            h.correlation_id,
            ResponseBody::ApiVersions(Box::new(r)),
            h.request_api_version,
        );
    }

    fn events(&mut self) -> Vec<NetworkEvent<u32>> {
        core::iter::from_fn(|| self.c.poll_event()).collect()
    }
}

fn kafka_4_4_ranges() -> Vec<(ApiKey, i16, i16)> {
    ApiKey::ALL
        .iter()
        .filter_map(|&k| advertised(KafkaRelease::V4_4_0, k).map(|(a, b)| (k, a, b)))
        .collect()
}

#[test]
fn api_versions_v4_first_then_the_brokers_version_on_unsupported_version() {
    let mut m = Manual::new(|_| {});
    let (h, body) = m.request();
    assert_eq!(h.request_api_key, ApiKey::ApiVersions.key());
    assert_eq!(h.request_api_version, API_VERSIONS_FIRST_VERSION);
    assert_eq!(h.client_id.as_deref(), Some("kproducer-test"));
    let RequestBody::ApiVersions(req) = body else {
        panic!()
    };
    assert_eq!(&*req.client_software_name, CLIENT_SOFTWARE_NAME);
    assert_eq!(&*req.client_software_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        m.c.connection_state(-1),
        Some(ConnectionState::CheckingApiVersions)
    );
    // KIP-511: an older broker answers UNSUPPORTED_VERSION in v0 with its ApiVersions range
    let r = ApiVersionsResponse {
        error_code: ErrorCode::UnsupportedVersion.code(),
        api_keys: vec![ApiVersion {
            api_key: ApiKey::ApiVersions.key(),
            min_version: 0,
            max_version: 2,
            ..ApiVersion::default()
        }],
        ..ApiVersionsResponse::default()
    };
    m.respond(h.correlation_id, ResponseBody::ApiVersions(Box::new(r)), 0);
    let (h2, _) = m.request();
    assert_eq!(h2.request_api_key, ApiKey::ApiVersions.key());
    assert_eq!(h2.request_api_version, 2);
    assert_ne!(h2.correlation_id, h.correlation_id);
    m.api_versions_ok(&h2, &kafka_4_4_ranges());
    let ev = m.events();
    assert!(ev.contains(&NetworkEvent::Ready { node: -1 }), "{ev:?}");
    // then the metadata request goes out on it, at Metadata v13
    let (h3, body) = m.request();
    assert_eq!(h3.request_api_key, ApiKey::Metadata.key());
    assert_eq!(h3.request_api_version, 13);
    let RequestBody::Metadata(mr) = body else {
        panic!()
    };
    assert!(mr.allow_auto_topic_creation);
    assert_eq!(mr.topics.as_deref().map(<[_]>::len), Some(0));
}

#[test]
fn api_versions_errors_other_than_unsupported_version_disconnect() {
    let mut m = Manual::new(|_| {});
    let (h, _) = m.request();
    let r = ApiVersionsResponse {
        error_code: ErrorCode::ClusterAuthorizationFailed.code(),
        ..ApiVersionsResponse::default()
    };
    m.respond(
        h.correlation_id,
        ResponseBody::ApiVersions(Box::new(r)),
        h.request_api_version,
    );
    let ev = m.events();
    assert!(ev.iter().any(|e| matches!(
        e,
        NetworkEvent::ConnectionError {
            node: -1,
            error: NetworkError::ApiVersions {
                error: ErrorCode::ClusterAuthorizationFailed,
                ..
            }
        }
    )));
    assert!(ev.contains(&NetworkEvent::Close { conn: m.conn }));
    assert_eq!(
        m.c.connection_state(-1),
        Some(ConnectionState::Disconnected)
    );
}

#[test]
fn a_broker_without_produce_v3_is_refused() {
    let mut m = Manual::new(|_| {});
    let (h, _) = m.request();
    // a Kafka 0.10 broker: Produce 0-2 only
    m.api_versions_ok(
        &h,
        &[
            (ApiKey::Produce, 0, 2),
            (ApiKey::Metadata, 0, 2),
            (ApiKey::ApiVersions, 0, 4),
        ],
    );
    let ev = m.events();
    assert!(
        ev.iter().any(|e| matches!(
            e,
            NetworkEvent::ConnectionError {
                error: NetworkError::UnsupportedVersion {
                    api_key: ApiKey::Produce,
                    ..
                },
                ..
            }
        )),
        "{ev:?}"
    );
    assert!(ev.contains(&NetworkEvent::Close { conn: m.conn }));
    assert!(!ev.iter().any(|e| matches!(e, NetworkEvent::Ready { .. })));
    // the backoff holds the next attempt back
    assert!(m.c.is_blacked_out(-1, m.now));
}

#[test]
fn correlation_mismatch_closes_and_fails_in_flight() {
    let mut m = Manual::new(|_| {});
    let (h, _) = m.request();
    m.api_versions_ok(&h, &kafka_4_4_ranges());
    let _ = m.events();
    let (mh, _) = m.request(); // the internal metadata request
    m.respond(
        mh.correlation_id + 100,
        ResponseBody::Metadata(Box::default()),
        13,
    );
    let ev = m.events();
    assert!(
        ev.iter().any(|e| matches!(
            e,
            NetworkEvent::ConnectionError {
                error: NetworkError::CorrelationMismatch { .. },
                ..
            }
        )),
        "{ev:?}"
    );
    assert!(ev
        .iter()
        .any(|e| matches!(e, NetworkEvent::Disconnected { node: -1, .. })));
}

#[test]
fn acks_zero_completes_on_write_and_max_in_flight_limits_sends() {
    let mut m = Manual::new(|c| c.max_in_flight_requests_per_connection = 2);
    let (h, _) = m.request();
    m.api_versions_ok(&h, &kafka_4_4_ranges());
    let _ = m.events();
    let (mh, _) = m.request();
    m.respond(
        mh.correlation_id,
        ResponseBody::Metadata(Box::new(kproto::messages::MetadataResponse {
            brokers: vec![
                kproto::messages::metadata::response::MetadataResponseBroker {
                    node_id: -1,
                    host: "localhost".into(),
                    port: 9092,
                    ..Default::default()
                },
            ],
            ..Default::default()
        })),
        13,
    );
    let _ = m.events();
    assert!(m.c.is_ready(-1, m.now));
    let acks0 = RequestBody::Produce(Box::new(ProduceRequest {
        acks: 0,
        timeout_ms: 30_000,
        transactional_id: None,
        ..ProduceRequest::default()
    }));
    let corr = m.c.send(-1, acks0, 11, m.now).unwrap();
    assert_eq!(m.c.in_flight_request_count(-1), 1);
    // not written yet: no completion
    assert!(m.events().is_empty());
    let (ph, _) = m.request();
    assert_eq!(ph.correlation_id, corr);
    assert_eq!(ph.request_api_version, 13);
    let ev = m.events();
    assert!(
        matches!(
            ev.as_slice(),
            [NetworkEvent::Response {
                body: None,
                context: 11,
                api_key: ApiKey::Produce,
                ..
            }]
        ),
        "{ev:?}"
    );
    assert_eq!(m.c.in_flight_request_count(-1), 0);
    // two requests expecting answers fill max.in.flight=2
    let md = || RequestBody::Metadata(Box::<MetadataRequest>::default());
    m.c.send(-1, md(), 1, m.now).unwrap();
    let _ = m.request();
    m.c.send(-1, md(), 2, m.now).unwrap();
    let _ = m.request();
    assert_eq!(
        m.c.send(-1, md(), 3, m.now),
        Err(NetworkError::NotReady { node: -1 })
    );
    assert!(!m.c.is_ready(-1, m.now));
}

// ---- against the broker core ----

#[test]
fn metadata_of_a_topic_with_hundreds_of_partitions() {
    let mut sim = Sim::new(|b| b.num_partitions = 480);
    let mut c = ready_client(&mut sim, &config(2));
    let topic = "orders.with-a_long-name-0123456789".repeat(3);
    c.metadata_mut().add(&topic, sim.now);
    assert!(c.poll_timeout() <= Some(sim.now));
    let (_, ok) = sim.run_until(&mut c, sim.now + 60_000, |_| false);
    assert!(!ok);
    let cluster = c.metadata().fetch();
    let parts = cluster.partitions(&topic).expect("topic known");
    assert_eq!(parts.len(), 480);
    for (i, p) in parts.iter().enumerate() {
        assert_eq!(p.partition, i as i32);
        assert_eq!(p.leader, Some(1));
        assert_eq!(p.leader_epoch, 0);
        assert_eq!(p.replicas, vec![1]);
    }
    assert_eq!(cluster.leader_for(&topic, 479), Some(&broker_node()));
    assert_ne!(cluster.topics[&topic].topic_id, kproto::Uuid::ZERO);
    assert_eq!(cluster.cluster_id.as_deref(), Some(sim.broker.cluster_id()));
}

#[test]
fn an_auto_created_topic_appears_after_leader_not_available() {
    let mut sim = Sim::new(|b| b.num_partitions = 3);
    let mut c = ready_client(&mut sim, &config(3));
    c.metadata_mut().add("fresh", sim.now);
    let start = sim.now;
    let mut updates = Vec::new();
    let (_, ok) = sim.run_until(&mut c, sim.now + 60_000, |e| {
        if let NetworkEvent::MetadataUpdated(u) = e {
            updates.push(u.clone());
            return u.topic_errors.is_empty();
        }
        false
    });
    assert!(ok, "{:#?}", sim.seen);
    assert_eq!(
        updates[0].topic_errors,
        vec![("fresh".to_string(), ErrorCode::LeaderNotAvailable)]
    );
    assert_eq!(c.metadata().fetch().partition_count("fresh"), Some(3));
    // the retry waited for retry.backoff.ms (100 ms, ±20 %)
    assert!(sim.now - start >= 80, "{}", sim.now - start);
    assert_eq!(c.metadata().error("fresh"), None);
}

#[test]
fn request_timeout_fails_in_flight_and_reconnects_with_backoff() {
    let mut sim = Sim::new(|_| {});
    let cfg = config(4);
    let mut c = ready_client(&mut sim, &cfg);
    connect_broker(&mut sim, &mut c);
    sim.black_hole = true;
    let sent_at = sim.now;
    let body = RequestBody::InitProducerId(Box::new(InitProducerIdRequest {
        transactional_id: None,
        transaction_timeout_ms: i32::MAX,
        ..InitProducerIdRequest::default()
    }));
    let corr = c.send(1, body, 77, sim.now).unwrap();
    let mut disconnected = None;
    let (_, ok) = sim.run_until(&mut c, sim.now + 120_000, |e| {
        if let NetworkEvent::Disconnected {
            node: 1,
            timed_out,
            failed,
            ..
        } = e
        {
            disconnected = Some((*timed_out, failed.clone()));
            return true;
        }
        false
    });
    assert!(ok, "{:#?}", sim.seen);
    let (timed_out, failed) = disconnected.unwrap();
    assert!(timed_out);
    assert_eq!(
        failed,
        vec![FailedRequest {
            correlation_id: corr,
            api_key: ApiKey::InitProducerId,
            version: 5,
            context: 77,
        }]
    );
    // request.timeout.ms = 30 s: failed right after it passed
    assert_eq!(sim.now, sent_at + cfg.request_timeout_ms + 1);
    assert_eq!(c.connection_state(1), Some(ConnectionState::Disconnected));
    // reconnect.backoff.ms = 50 ms ±20 %
    let delay = c.connection_delay(1, sim.now);
    assert!((40..=60).contains(&delay), "{delay}");
    assert!(!c.ready(&broker_node(), sim.now));
    assert!(c.is_blacked_out(1, sim.now));
    sim.black_hole = false;
    sim.now += delay;
    assert!(c.can_connect(1, sim.now));
    // a refused reconnect doubles the backoff
    sim.refuse_connections = true;
    assert!(!c.ready(&broker_node(), sim.now));
    let _ = sim.step(&mut c);
    let delay2 = c.connection_delay(1, sim.now);
    assert!((80..=120).contains(&delay2), "{delay2}");
    sim.refuse_connections = false;
    sim.now += delay2;
    connect_broker(&mut sim, &mut c);
    // a ready connection resets the backoff
    c.disconnect(1, sim.now);
    let delay3 = c.connection_delay(1, sim.now);
    assert!((40..=60).contains(&delay3), "{delay3}");
}

/// The same conversation with the broker's bytes delivered `chunk` bytes at a time.
fn conversation(chunk: usize) -> (Vec<String>, crate::cluster::Cluster) {
    let mut sim = Sim::new(|b| b.num_partitions = 64);
    sim.chunk = chunk;
    let mut c = ready_client(&mut sim, &config(5));
    for t in ["a", "bb", "ccc"] {
        c.metadata_mut().add(t, sim.now);
    }
    let (events, _) = sim.run_until(&mut c, sim.now + 30_000, |_| false);
    connect_broker(&mut sim, &mut c);
    let body = RequestBody::InitProducerId(Box::new(InitProducerIdRequest {
        transactional_id: None,
        transaction_timeout_ms: i32::MAX,
        ..InitProducerIdRequest::default()
    }));
    c.send(1, body, 9, sim.now).unwrap();
    let (more, ok) = sim.run_until(&mut c, sim.now + 30_000, |e| {
        matches!(e, NetworkEvent::Response { context: 9, .. })
    });
    assert!(ok);
    let log = events
        .iter()
        .chain(more.iter())
        .map(|e| alloc::format!("{e:?}"))
        .collect();
    (log, c.metadata().fetch().clone())
}

#[test]
fn frames_split_at_every_byte_boundary_give_the_same_responses() {
    let (whole, cluster) = conversation(usize::MAX);
    assert_eq!(cluster.partition_count("ccc"), Some(64));
    assert!(whole.iter().any(|e| e.contains("InitProducerId")));
    for chunk in [1, 2, 3, 5, 64, 1000] {
        let (split, c2) = conversation(chunk);
        assert_eq!(split, whole, "chunk {chunk}");
        assert_eq!(c2, cluster, "chunk {chunk}");
    }
}

#[test]
fn idle_connections_close_after_connections_max_idle_ms() {
    let mut sim = Sim::new(|_| {});
    let mut cfg = config(6);
    cfg.connections_max_idle_ms = 60_000;
    cfg.metadata_max_age_ms = 3_600_000;
    let mut c = ready_client(&mut sim, &cfg);
    connect_broker(&mut sim, &mut c);
    let last = sim.now;
    let (events, _) = sim.run_until(&mut c, sim.now + 61_000, |e| {
        matches!(e, NetworkEvent::Disconnected { node: 1, .. })
    });
    assert!(events
        .iter()
        .any(|e| matches!(e, NetworkEvent::Close { .. })));
    assert!(
        sim.now >= last + 60_000 && sim.now <= last + 60_001,
        "{}",
        sim.now - last
    );
}

#[test]
fn connection_setup_timeout_closes_and_grows() {
    let mut sim = Sim::new(|_| {});
    sim.hang_connections = true;
    let cfg = config(8);
    let mut c = Client::new(&cfg).unwrap();
    c.handle_timeout(sim.now);
    let mut closes = Vec::new();
    let start = sim.now;
    let _ = sim.run_until(&mut c, start + 200_000, |e| {
        if let NetworkEvent::Disconnected {
            node: -1,
            timed_out: true,
            ..
        } = e
        {
            closes.push(0);
        }
        closes.len() == 3
    });
    let times: Vec<u64> = sim
        .seen
        .iter()
        .filter(|(_, e)| e.starts_with("ConnectTo"))
        .map(|(t, _)| *t)
        .collect();
    assert!(times.len() >= 3, "{:#?}", sim.seen);
    // socket.connection.setup.timeout.ms = 10 s then doubling (±20 %), up to 30 s, plus the
    // reconnect backoff between attempts
    let d1 = times[1] - times[0];
    let d2 = times[2] - times[1];
    assert!((8_000..=12_200).contains(&d1), "{d1}");
    assert!((16_000..=24_300).contains(&d2), "{d2}");
}

#[test]
fn rebootstrap_when_no_node_can_be_reached() {
    let mut sim = Sim::new(|_| {});
    let mut cfg = config(9);
    cfg.metadata_recovery_rebootstrap_trigger_ms = 5_000;
    let mut c = ready_client(&mut sim, &cfg);
    // the broker's real id is known now; the bootstrap connection goes away
    c.disconnect(-1, sim.now);
    assert!(!c.metadata().is_bootstrap());
    sim.refuse_connections = true;
    c.metadata_mut().request_update(false);
    let (_, ok) = sim.run_until(&mut c, sim.now + 60_000, |e| {
        matches!(e, NetworkEvent::Rebootstrapped)
    });
    assert!(ok, "{:#?}", sim.seen);
    assert!(c.metadata().is_bootstrap());
    // and it recovers through the bootstrap address once the network is back
    sim.refuse_connections = false;
    let (_, ok) = sim.run_until(
        &mut c,
        sim.now + 60_000,
        |e| matches!(e, NetworkEvent::MetadataUpdated(u) if !u.empty),
    );
    assert!(ok, "{:#?}", sim.seen);
    assert!(c.metadata().fetch().node(1).is_some());
}

#[test]
fn least_loaded_node_prefers_an_idle_ready_node() {
    let mut sim = Sim::new(|_| {});
    let mut c = ready_client(&mut sim, &config(10));
    connect_broker(&mut sim, &mut c);
    // the cluster has one node (1), ready and idle
    let (n, any) = c.least_loaded_node(sim.now);
    assert_eq!(n.map(|n| n.id), Some(1));
    assert!(any);
    c.disconnect(1, sim.now);
    // blacked out: no node, none ready
    let (n, any) = c.least_loaded_node(sim.now);
    assert_eq!(n, None);
    assert!(!any);
    // past the backoff it can be connected again
    let later = sim.now + 1_000;
    assert_eq!(c.least_loaded_node(later).0.map(|n| n.id), Some(1));
}

#[test]
fn rebootstrap_after_the_trigger_time_without_metadata() {
    let mut sim = Sim::new(|_| {});
    let mut cfg = config(12);
    // connections hang (never refused): the node stays "connecting", so only the trigger
    // time (metadata.recovery.rebootstrap.trigger.ms) sends the client back to bootstrap
    cfg.metadata_recovery_rebootstrap_trigger_ms = 25_000;
    let mut c = ready_client(&mut sim, &cfg);
    c.disconnect(-1, sim.now);
    sim.hang_connections = true;
    c.metadata_mut().request_update(false);
    let start = sim.now;
    let (_, ok) = sim.run_until(&mut c, sim.now + 120_000, |e| {
        matches!(e, NetworkEvent::Rebootstrapped)
    });
    assert!(ok, "{:#?}", sim.seen);
    let waited = sim.now - start;
    assert!((25_000..40_000).contains(&waited), "{waited}");
    assert!(c.metadata().is_bootstrap());
}

#[test]
fn an_oversized_frame_prefix_closes_the_connection() {
    let mut m = Manual::new(|_| {});
    let (h, _) = m.request();
    m.api_versions_ok(&h, &kafka_4_4_ranges());
    let _ = m.events();
    let _ = m.request();
    // a prefix claiming 2 GiB - 1: refused before anything is allocated for it
    m.c.handle_bytes(m.conn, &[0x7f, 0xff, 0xff, 0xff, 0, 0], m.now);
    let ev = m.events();
    assert!(
        ev.iter().any(|e| matches!(
            e,
            NetworkEvent::ConnectionError {
                error: NetworkError::Decode {
                    error: DecodeError::FrameTooLarge { .. },
                    ..
                },
                ..
            }
        )),
        "{ev:?}"
    );
    assert!(ev.contains(&NetworkEvent::Close { conn: m.conn }));
}

#[test]
fn arbitrary_response_bytes_never_panic() {
    for seed in 0..300u64 {
        let mut rng = Rng::new(seed);
        let mut m = Manual::new(|_| {});
        let (h, _) = m.request();
        m.api_versions_ok(&h, &kafka_4_4_ranges());
        let _ = m.events();
        let (mh, _) = m.request();
        // a plausible frame start (right size prefix, right correlation id) then noise
        let len = rng.range(0, 300) as usize;
        let mut noise = vec![0u8; len];
        rng.fill(&mut noise);
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&((len + 4) as i32).to_be_bytes());
        bytes.extend_from_slice(&mh.correlation_id.to_be_bytes());
        bytes.extend_from_slice(&noise);
        if rng.bool() {
            let mut raw = vec![0u8; rng.range(1, 64) as usize];
            rng.fill(&mut raw);
            bytes = raw;
        }
        for piece in bytes.chunks(rng.range(1, 40) as usize) {
            m.c.handle_bytes(m.conn, piece, m.now);
        }
        let ev = m.events();
        // either the noise decoded as a Metadata response or the connection was dropped
        assert!(
            ev.is_empty()
                || ev
                    .iter()
                    .any(|e| matches!(e, NetworkEvent::MetadataUpdated(_)))
                || ev.iter().any(|e| matches!(e, NetworkEvent::Close { .. })),
            "seed {seed}: {ev:?}"
        );
    }
}

#[test]
fn a_throttled_response_holds_the_node_back() {
    let mut m = Manual::new(|_| {});
    let (h, _) = m.request();
    m.api_versions_ok(&h, &kafka_4_4_ranges());
    let _ = m.events();
    let (mh, _) = m.request();
    let r = kproto::messages::MetadataResponse {
        throttle_time_ms: 500,
        brokers: vec![
            kproto::messages::metadata::response::MetadataResponseBroker {
                node_id: -1,
                host: "localhost".into(),
                port: 9092,
                ..Default::default()
            },
        ],
        ..Default::default()
    };
    m.respond(
        mh.correlation_id,
        ResponseBody::Metadata(Box::new(r.clone())),
        13,
    );
    assert_eq!(m.c.throttle_delay_ms(-1, m.now), 500);
    assert!(!m.c.is_ready(-1, m.now));
    assert!(m.c.poll_timeout() <= Some(m.now + 500));
    assert!(m.c.is_ready(-1, m.now + 500));
    // before v6 the broker throttled on its side: the client does not wait
    assert_eq!(
        client_throttle_ms(&ResponseBody::Metadata(Box::new(r)), 5),
        None
    );
}
