//! The server in-process: bind, serve, shut down through the handle, reopen.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use std::path::PathBuf;

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_response, encode_request_frame};
use kproto::messages::metadata::request::MetadataRequestTopic;
use kproto::messages::{ApiVersionsRequest, MetadataRequest, RequestHeader, ResponseBody};
use kproto::{ApiKey, ErrorCode, RequestBody};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{Server, ServerError};
use crate::broker::BrokerConfig;

/// A fresh directory under the system's temp dir, removed on drop.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let p = std::env::temp_dir().join(format!(
            "klog-server-{name}-{}-{}",
            std::process::id(),
            super::random_seed()
        ));
        Dir(p)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config(dir: &Dir, extra: &[(&str, &str)]) -> BrokerConfig {
    let d = dir.0.display().to_string();
    let mut pairs: Vec<(&str, &str)> = alloc::vec![
        ("listeners", "PLAINTEXT://127.0.0.1:0"),
        ("log.dirs", d.as_str()),
    ];
    pairs.extend_from_slice(extra);
    BrokerConfig::from_pairs(pairs).expect("valid config").0
}

fn frame(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    client: &str,
    body: RequestBody,
) -> Vec<u8> {
    let header = RequestHeader {
        request_api_key: key.key(),
        request_api_version: version,
        correlation_id,
        client_id: Some(client.into()),
        ..Default::default()
    };
    let mut buf = BytesMut::new();
    encode_request_frame(&header, &body, &mut buf).unwrap();
    buf.to_vec()
}

fn metadata(correlation_id: i32, topic: Option<&str>) -> Vec<u8> {
    let body = MetadataRequest {
        topics: topic.map(|t| {
            alloc::vec![MetadataRequestTopic {
                name: Some(t.into()),
                ..Default::default()
            }]
        }),
        allow_auto_topic_creation: true,
        ..Default::default()
    };
    frame(
        ApiKey::Metadata,
        12,
        correlation_id,
        "klog-server-test",
        RequestBody::Metadata(alloc::boxed::Box::new(body)),
    )
}

async fn read_frame(s: &mut TcpStream) -> Option<Bytes> {
    let mut prefix = [0u8; 4];
    s.read_exact(&mut prefix).await.ok()?;
    let mut f = alloc::vec![0u8; i32::from_be_bytes(prefix) as usize];
    s.read_exact(&mut f).await.ok()?;
    Some(Bytes::from(f))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_shuts_down_through_the_handle_and_reopens() {
    let dir = Dir::new("handle");
    let server = Server::bind(config(&dir, &[("num.partitions", "2")]), 42)
        .await
        .unwrap();
    let addr = server.local_addr();
    // the ephemeral port is advertised
    assert_eq!(server.config().advertised_listeners[0].port, addr.port());
    assert_ne!(addr.port(), 0);
    let cluster_id = server.open_report().cluster_id.clone();
    let handle = server.shutdown_handle();
    let run = tokio::spawn(server.run_until(core::future::pending()));

    let mut s = TcpStream::connect(addr).await.unwrap();
    // a 4 KB client id: the header crosses read chunks with a multi-byte length
    let client: String = (0..4096)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    let av = ApiVersionsRequest {
        client_software_name: "klog-server-test".into(),
        client_software_version: "1.0".into(),
        ..Default::default()
    };
    s.write_all(&frame(
        ApiKey::ApiVersions,
        3,
        7,
        &client,
        RequestBody::ApiVersions(alloc::boxed::Box::new(av)),
    ))
    .await
    .unwrap();
    let (h, body) =
        decode_response(&read_frame(&mut s).await.unwrap(), ApiKey::ApiVersions, 3).unwrap();
    assert_eq!(h.correlation_id, 7);
    let ResponseBody::ApiVersions(av) = body else {
        panic!("{body:?}")
    };
    assert_eq!(av.error_code, ErrorCode::None.code());

    // Metadata auto-creates a topic with num.partitions partitions
    s.write_all(&metadata(8, Some("in-process-orders")))
        .await
        .unwrap();
    read_frame(&mut s).await.unwrap();
    s.write_all(&metadata(9, None)).await.unwrap();
    let (_, body) =
        decode_response(&read_frame(&mut s).await.unwrap(), ApiKey::Metadata, 12).unwrap();
    let ResponseBody::Metadata(m) = body else {
        panic!("{body:?}")
    };
    let t = m
        .topics
        .iter()
        .find(|t| t.name.as_deref() == Some("in-process-orders"))
        .expect("created");
    let (id, partitions) = (t.topic_id, t.partitions.len());
    assert_eq!(partitions, 2);
    assert_eq!(
        (m.brokers[0].host.as_str(), m.brokers[0].port),
        ("127.0.0.1", i32::from(addr.port()))
    );

    handle.shutdown();
    handle.shutdown(); // idempotent
    let r = tokio::time::timeout(core::time::Duration::from_secs(10), run)
        .await
        .expect("run_until returns after shutdown")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    // the open connection was closed by the shutdown
    let mut b = [0u8; 1];
    assert!(matches!(s.read(&mut b).await, Ok(0) | Err(_)));

    // a clean shutdown: the next open recovers nothing and finds the same ids
    let server = Server::bind(config(&dir, &[]), 43).await.unwrap();
    let report = server.open_report().clone();
    assert_eq!(report.cluster_id, cluster_id);
    assert_eq!(report.partitions.len(), 2);
    assert!(report.recovered.is_empty(), "{:?}", report.recovered);
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let run = tokio::spawn(server.run_until(core::future::pending()));
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&metadata(1, None)).await.unwrap();
    let (_, body) =
        decode_response(&read_frame(&mut s).await.unwrap(), ApiKey::Metadata, 12).unwrap();
    let ResponseBody::Metadata(m) = body else {
        panic!("{body:?}")
    };
    assert_eq!(m.topics[0].topic_id, id);
    handle.shutdown();
    let r = tokio::time::timeout(core::time::Duration::from_secs(10), run)
        .await
        .expect("run_until returns after shutdown")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_until_stops_when_its_future_resolves() {
    let dir = Dir::new("future");
    let server = Server::bind(config(&dir, &[]), 1).await.unwrap();
    let addr = server.local_addr();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(server.run_until(async {
        let _ = rx.await;
    }));
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(&metadata(5, None)).await.unwrap();
    assert!(read_frame(&mut s).await.is_some());
    tx.send(()).unwrap();
    let r = tokio::time::timeout(core::time::Duration::from_secs(10), run)
        .await
        .expect("stops")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    // no longer accepting
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_is_an_error_naming_the_listener() {
    let dir = Dir::new("in-use");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let listeners = format!("PLAINTEXT://127.0.0.1:{port}");
    let cfg = config(&dir, &[("listeners", listeners.as_str())]);
    match Server::bind(cfg, 1).await {
        Err(e @ ServerError::Bind { .. }) => {
            assert!(e.to_string().starts_with(&format!(
                "cannot bind listener PLAINTEXT://127.0.0.1:{port}: "
            )))
        }
        other => panic!("{other:?}"),
    }
    // a log directory that cannot be created (its parent is a file)
    std::fs::create_dir_all(&dir.0).unwrap();
    let file = dir.0.join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let under = file.join("logs").display().to_string();
    let cfg = config(&dir, &[("log.dirs", under.as_str())]);
    match Server::bind(cfg, 1).await {
        Err(e @ ServerError::LogDir { .. }) => {
            assert!(
                e.to_string()
                    .starts_with(&format!("log directory {under}: ")),
                "{e}"
            )
        }
        other => panic!("{other:?}"),
    }
    let mut cfg = config(&dir, &[]);
    cfg.listeners.clear();
    assert!(matches!(
        Server::bind(cfg, 1).await,
        Err(ServerError::NoListener)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listener_is_served_and_a_wildcard_is_advertised_by_host_name() {
    let dir = Dir::new("listeners");
    let cfg = config(
        &dir,
        &[
            ("listeners", "PLAINTEXT://:0,INTERNAL://127.0.0.1:0"),
            (
                "listener.security.protocol.map",
                "PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT",
            ),
        ],
    );
    let server = Server::bind(cfg, 9).await.unwrap();
    let addrs = server.local_addrs();
    assert_eq!(addrs.len(), 2);
    assert_eq!(addrs[0].0.name, "PLAINTEXT");
    assert_eq!(addrs[1].0.name, "INTERNAL");
    let advertised = server.config().advertised_listeners.clone();
    assert_eq!(advertised[0].port, addrs[0].1.port());
    assert_eq!(advertised[1].port, addrs[1].1.port());
    assert_eq!(advertised[1].host.as_deref(), Some("127.0.0.1"));
    if let Some(host) = &advertised[0].host {
        // the machine's name, and it resolves
        assert!(tokio::net::lookup_host((host.as_str(), 0))
            .await
            .unwrap()
            .next()
            .is_some());
    }
    let handle = server.shutdown_handle();
    let run = tokio::spawn(server.run_until(core::future::pending()));
    // the wildcard listener answers on loopback, the other on its address
    let ports = [addrs[0].1.port(), addrs[1].1.port()];
    for (i, port) in ports.into_iter().enumerate() {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(&metadata(i as i32, None)).await.unwrap();
        let (h, body) =
            decode_response(&read_frame(&mut s).await.unwrap(), ApiKey::Metadata, 12).unwrap();
        assert_eq!(h.correlation_id, i as i32);
        let ResponseBody::Metadata(m) = body else {
            panic!("{body:?}")
        };
        // Metadata advertises the first listener's address on either
        assert_eq!(m.brokers[0].port, i32::from(ports[0]));
    }
    handle.shutdown();
    assert!(run.await.unwrap().is_ok());
}

/// `GET /metrics` of the in-process endpoint: the body.
async fn scrape(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
    String::from(body)
}

/// The value of the sample `key` (name and labels) in a scrape.
fn sample(body: &str, key: &str) -> u64 {
    body.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {key} in\n{body}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_endpoint_in_process_counts_connections_requests_and_partitions() {
    let dir = Dir::new("metrics");
    let mut server = Server::bind(config(&dir, &[("num.partitions", "3")]), 5)
        .await
        .unwrap();
    assert_eq!(server.metrics_addr(), None);
    let maddr = server.bind_metrics("127.0.0.1:0").await.unwrap();
    assert_eq!(server.metrics_addr(), Some(maddr));
    assert_ne!(maddr.port(), 0);
    // a taken port names the endpoint
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let at = format!("127.0.0.1:{port}");
    match server.bind_metrics(&at).await {
        Err(e @ ServerError::MetricsBind { .. }) => assert!(
            e.to_string()
                .starts_with(&format!("cannot bind the metrics endpoint {at}: ")),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    // the failed call left the bound endpoint in place
    assert_eq!(server.metrics_addr(), Some(maddr));
    let addr = server.local_addr();
    let handle = server.shutdown_handle();
    let run = tokio::spawn(server.run_until(core::future::pending()));

    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(TcpStream::connect(addr).await.unwrap());
    }
    // 40 Metadata requests over the three, the first auto-creating a topic of 3 partitions
    for i in 0..40 {
        let s = &mut conns[i % 3];
        let topic = (i == 0).then_some("metered-in-process");
        s.write_all(&metadata(i as i32, topic)).await.unwrap();
        assert!(read_frame(s).await.is_some());
    }
    // the last answer's time is recorded just after it was written: scrape until it is there
    let key = "kafka_network_requestmetrics_totaltimems_count{request=\"Metadata\"}";
    let deadline = tokio::time::Instant::now() + core::time::Duration::from_secs(5);
    let body = loop {
        let body = scrape(maddr).await;
        if sample(&body, key) == 40 {
            break body;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(core::time::Duration::from_millis(20)).await;
    };
    assert_eq!(
        sample(&body, "kafka_server_replicamanager_partitioncount"),
        3
    );
    assert_eq!(
        sample(
            &body,
            "kafka_network_requestmetrics_requests_total{request=\"Metadata\"}"
        ),
        40
    );
    assert_eq!(
        sample(
            &body,
            "kafka_server_socketservermetrics_connection_count{listener=\"PLAINTEXT\"}"
        ),
        3
    );
    drop(conns);
    // closes are counted once the connection tasks see them
    let deadline = tokio::time::Instant::now() + core::time::Duration::from_secs(5);
    loop {
        let body = scrape(maddr).await;
        let key = "kafka_server_socketservermetrics_connection_close_total{listener=\"PLAINTEXT\"}";
        if sample(&body, key) == 3 {
            assert_eq!(
                sample(
                    &body,
                    "kafka_server_socketservermetrics_connection_count{listener=\"PLAINTEXT\"}"
                ),
                0
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{body}");
        tokio::time::sleep(core::time::Duration::from_millis(20)).await;
    }
    // a scraper holding its connection open does not hold the shutdown up
    let _idle = TcpStream::connect(maddr).await.unwrap();
    handle.shutdown();
    let r = tokio::time::timeout(core::time::Duration::from_secs(10), run)
        .await
        .expect("run_until returns after shutdown")
        .unwrap();
    assert!(r.is_ok(), "{r:?}");
    assert!(TcpStream::connect(maddr).await.is_err());
}
