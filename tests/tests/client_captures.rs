//! Real captures: kafka-python 3.0.12, the Java client 4.4.0 and kcat (librdkafka) connect to a
//! small fake broker on a loopback socket. It records what they send, answers ApiVersions and
//! Metadata with kproto, and every captured request must decode in kproto and re-encode
//! byte-identically.

// A test harness, not a sans-IO core: it may read the clock to bound how long it waits.
#![allow(clippy::disallowed_methods)]

use bytes::{Bytes, BytesMut};
use integration_tests::{cache_dir, repo_root};
use kproto::frame::{decode_request, encode_request_frame, encode_response_frame, FrameDecoder};
use kproto::messages::api_versions::response::ApiVersion;
use kproto::messages::metadata::response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kproto::messages::{ApiVersionsResponse, MetadataResponse};
use kproto::versions::{advertised, KafkaRelease, KAFKA_4_4_0};
use kproto::{ApiKey, RequestBody, ResponseBody, Uuid};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOPIC: &str = "capture-topic";

#[derive(Debug, Clone)]
struct Captured {
    key: i16,
    version: i16,
    frame: Bytes,
}

fn api_versions_response() -> ApiVersionsResponse {
    let mut keys = Vec::new();
    for r in KAFKA_4_4_0 {
        // No client telemetry: the capture broker does not answer it.
        if matches!(
            r.api_key,
            ApiKey::GetTelemetrySubscriptions | ApiKey::PushTelemetry
        ) {
            continue;
        }
        if let Some((min, max)) = advertised(KafkaRelease::V4_4_0, r.api_key) {
            keys.push(ApiVersion {
                api_key: r.api_key.key(),
                min_version: min,
                max_version: max,
                ..Default::default()
            });
        }
    }
    ApiVersionsResponse {
        api_keys: keys,
        ..Default::default()
    }
}

fn metadata_response(port: u16) -> MetadataResponse {
    MetadataResponse {
        brokers: vec![MetadataResponseBroker {
            node_id: 1,
            host: "127.0.0.1".into(),
            port: port.into(),
            ..Default::default()
        }],
        cluster_id: Some("kproto-capture".into()),
        controller_id: 1,
        topics: vec![MetadataResponseTopic {
            name: Some(TOPIC.into()),
            topic_id: Uuid::from_u64_pair(1, 2),
            partitions: vec![MetadataResponsePartition {
                partition_index: 0,
                leader_id: 1,
                leader_epoch: 0,
                replica_nodes: vec![1],
                isr_nodes: vec![1],
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Serves one connection: records every request frame, answers ApiVersions and Metadata.
fn serve(mut conn: TcpStream, port: u16, log: Arc<Mutex<Vec<Captured>>>) {
    conn.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut dec = FrameDecoder::new(1 << 20);
    let mut buf = [0u8; 65536];
    loop {
        let n = match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        dec.feed(&buf[..n]);
        while let Ok(Some(frame)) = dec.next_frame() {
            let key = i16::from_be_bytes([frame[0], frame[1]]);
            let version = i16::from_be_bytes([frame[2], frame[3]]);
            log.lock().unwrap().push(Captured {
                key,
                version,
                frame: frame.clone(),
            });
            let Ok((header, _)) = decode_request(&frame) else {
                return;
            };
            let body = match ApiKey::from_i16(key) {
                Some(ApiKey::ApiVersions) => {
                    ResponseBody::ApiVersions(Box::new(api_versions_response()))
                }
                Some(ApiKey::Metadata) => ResponseBody::Metadata(Box::new(metadata_response(port))),
                _ => return,
            };
            let mut out = BytesMut::new();
            encode_response_frame(header.correlation_id, &body, version, &mut out).unwrap();
            if conn.write_all(&out).is_err() {
                return;
            }
        }
    }
}

/// Runs a client against a fresh capture broker until it exits (or 40 s pass) and returns what
/// it sent.
fn capture(client: impl FnOnce(u16) -> Child) -> Vec<Captured> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    listener.set_nonblocking(true).unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut child = client(port);
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut handlers = Vec::new();
    loop {
        match listener.accept() {
            Ok((conn, _)) => {
                conn.set_nonblocking(false).unwrap();
                let log = log.clone();
                handlers.push(std::thread::spawn(move || serve(conn, port, log)));
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) => panic!("accept: {e}"),
        }
        if child.try_wait().unwrap().is_some() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(listener);
    let captured = log.lock().unwrap().clone();
    captured
}

/// Every captured request decodes and re-encodes to the same bytes; ApiVersions and Metadata
/// were both sent.
fn check(client: &str, captured: &[Captured]) {
    assert!(!captured.is_empty(), "{client} sent nothing");
    for c in captured {
        let (header, body) = decode_request(&c.frame)
            .unwrap_or_else(|e| panic!("{client}: key {} v{}: {e}", c.key, c.version));
        let mut out = BytesMut::new();
        encode_request_frame(&header, &body, &mut out).unwrap();
        assert_eq!(
            &out[4..],
            &c.frame[..],
            "{client}: {:?} v{} re-encodes differently",
            body.api_key(),
            c.version
        );
        println!(
            "{client}: {:?} v{} ({} bytes), client_id {:?}: byte-identical",
            body.api_key(),
            c.version,
            c.frame.len(),
            header.client_id
        );
        if let RequestBody::Metadata(m) = &body {
            let names: Vec<_> = m
                .topics
                .iter()
                .flatten()
                .filter_map(|t| t.name.as_deref())
                .collect();
            assert!(
                names.is_empty() || names.contains(&TOPIC),
                "{client}: metadata for {names:?}"
            );
        }
    }
    // KPP_SAVE_CAPTURES=DIR keeps the frames (how tests/fixtures/captures was made).
    if let Some(dir) = std::env::var_os("KPP_SAVE_CAPTURES") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, c) in captured.iter().enumerate() {
            let name = ApiKey::from_i16(c.key).map_or("unknown", |k| k.name());
            std::fs::write(
                dir.join(format!("{client}-{i}-{name}-v{}.bin", c.version)),
                &c.frame,
            )
            .unwrap();
        }
    }
    let keys: Vec<i16> = captured.iter().map(|c| c.key).collect();
    assert!(
        keys.contains(&ApiKey::ApiVersions.key()),
        "{client}: no ApiVersions in {keys:?}"
    );
    assert!(
        keys.contains(&ApiKey::Metadata.key()),
        "{client}: no Metadata in {keys:?}"
    );
}

#[test]
fn kafka_python_requests_decode_and_reencode_byte_identically() {
    let python = cache_dir().join("venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: run `bash .ci/install`",
        python.display()
    );
    let script = "import sys\nfrom kafka import KafkaProducer\np = KafkaProducer(bootstrap_servers=sys.argv[1], client_id='kafka-python-capture', max_block_ms=15000)\nprint(p.partitions_for(sys.argv[2]))\np.close(timeout=1)\n";
    let captured = capture(|port| {
        Command::new(&python)
            .args(["-c", script, &format!("127.0.0.1:{port}"), TOPIC])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    });
    check("kafka-python", &captured);
}

#[test]
fn java_client_requests_decode_and_reencode_byte_identically() {
    let classes = cache_dir().join("java/capture-4.4.0");
    let libs = cache_dir().join("java/kafka-clients-4.4.0/libs");
    assert!(
        classes.join("CaptureClient.class").exists(),
        "{} missing: run `bash .ci/install`",
        classes.display()
    );
    let cp = format!("{}:{}/*", classes.display(), libs.display());
    let captured = capture(|port| {
        Command::new("java")
            .args([
                "-cp",
                &cp,
                "CaptureClient",
                &format!("127.0.0.1:{port}"),
                TOPIC,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    });
    check("java", &captured);
}

#[test]
fn kcat_requests_decode_and_reencode_byte_identically() {
    let captured = capture(|port| {
        Command::new("kcat")
            .args([
                "-b",
                &format!("127.0.0.1:{port}"),
                "-L",
                "-t",
                TOPIC,
                "-m",
                "15",
                "-X",
                "client.id=kcat-capture",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("kcat (Debian package kcat) is installed by .ci/install")
    });
    check("kcat", &captured);
    let _ = repo_root();
}
