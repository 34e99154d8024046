//! Real captures: kafka-python 3.0.12, the Java client 4.4.0 and kcat (librdkafka) connect to a
//! small capture broker on a loopback socket (test-local, not the real broker). It records what
//! they send and answers with kproto what a producer needs: ApiVersions, Metadata (one topic,
//! one partition, led by itself), InitProducerId (the clients are idempotent) and Produce. Each
//! client produces tens of records of kilobytes with a codec (kcat snappy, kafka-python zstd,
//! Java lz4); every captured request must decode in kproto and re-encode byte-identically, and
//! the record batches in Produce must hold exactly the records the client was given.

// A test harness, not a sans-IO core: it may read the clock to bound how long it waits.
#![allow(clippy::disallowed_methods)]

use bytes::{Bytes, BytesMut};
use integration_tests::{cache_dir, repo_root};
use kproto::frame::{decode_request, encode_request_frame, encode_response_frame, FrameDecoder};
use kproto::messages::api_versions::response::ApiVersion;
use kproto::messages::metadata::response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kproto::messages::produce::response::{PartitionProduceResponse, TopicProduceResponse};
use kproto::messages::{
    ApiVersionsResponse, InitProducerIdResponse, MetadataResponse, ProduceRequest, ProduceResponse,
};
use kproto::records::{Batches, Compression, DEFAULT_MAX_UNCOMPRESSED};
use kproto::rng::Rng;
use kproto::versions::{advertised, KafkaRelease, KAFKA_4_4_0};
use kproto::{ApiKey, RequestBody, ResponseBody, Uuid};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const TOPIC: &str = "capture-topic";
/// The producer id the capture broker hands out.
const PRODUCER_ID: i64 = 4000;
/// Records each client produces.
const RECORDS: usize = 40;

/// Record `i`'s value: 500 to 3000 bytes of JSON-like text and hex of seeded random bytes (so
/// a codec has work to do but the batch stays kilobytes).
fn value(i: usize) -> String {
    let n = 500 + (i * 97) % 2500;
    let mut s = format!("record-{i}:");
    while s.len() < n / 2 {
        s.push_str(&format!("{{\"seq\":{i},\"pad\":\"{}\"}} ", s.len() % 7));
    }
    let mut rng = Rng::new(i as u64);
    while s.len() < n {
        s.push_str(&format!("{:016x}", rng.next_u64()));
    }
    s.truncate(n);
    s
}

/// The records every client is asked to produce, as `(key, value)`.
fn records() -> Vec<(String, String)> {
    (0..RECORDS)
        .map(|i| (format!("key-{i}"), value(i)))
        .collect()
}

/// The stdin the clients read their records from: one `KEY:VALUE` line each.
fn records_input() -> String {
    records()
        .iter()
        .map(|(k, v)| format!("{k}:{v}\n"))
        .collect()
}

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

/// Acknowledges every partition of a Produce request, assigning offsets from `next_offset`
/// (the topic named as the request names it: by name, or by id from v13).
fn produce_response(req: &ProduceRequest, next_offset: &Mutex<i64>) -> ProduceResponse {
    let mut next = next_offset.lock().unwrap();
    let responses = req
        .topic_data
        .iter()
        .map(|t| TopicProduceResponse {
            name: t.name.clone(),
            topic_id: t.topic_id,
            partition_responses: t
                .partition_data
                .iter()
                .map(|p| {
                    let base_offset = *next;
                    let records = p.records.as_deref().unwrap_or_default();
                    for batch in Batches::new(records).flatten() {
                        *next += i64::from(batch.record_count());
                    }
                    PartitionProduceResponse {
                        index: p.index,
                        base_offset,
                        log_start_offset: 0,
                        ..Default::default()
                    }
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    ProduceResponse {
        responses,
        ..Default::default()
    }
}

/// Serves one connection: records every request frame, answers ApiVersions, Metadata,
/// InitProducerId and Produce.
fn serve(mut conn: TcpStream, port: u16, log: Arc<Mutex<Vec<Captured>>>) {
    let next_offset = Mutex::new(0i64);
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
            let Ok((header, request)) = decode_request(&frame) else {
                return;
            };
            let body = match request {
                RequestBody::ApiVersions(_) => {
                    ResponseBody::ApiVersions(Box::new(api_versions_response()))
                }
                RequestBody::Metadata(_) => {
                    ResponseBody::Metadata(Box::new(metadata_response(port)))
                }
                RequestBody::InitProducerId(_) => {
                    ResponseBody::InitProducerId(Box::new(InitProducerIdResponse {
                        producer_id: PRODUCER_ID,
                        producer_epoch: 0,
                        ..Default::default()
                    }))
                }
                RequestBody::Produce(p) if p.acks == 0 => {
                    let _ = produce_response(&p, &next_offset);
                    continue;
                }
                RequestBody::Produce(p) => {
                    ResponseBody::Produce(Box::new(produce_response(&p, &next_offset)))
                }
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

/// What a client's Produce requests carried.
#[derive(Default)]
struct Produced {
    requests: usize,
    batches: usize,
    /// Bytes of the record batches on the wire (compressed).
    wire_bytes: usize,
    /// `(key, value, header keys)` in offset order.
    records: Vec<(Vec<u8>, Vec<u8>, Vec<String>)>,
}

/// Reads the record batches of a Produce request: each must pass its CRC, be compressed with
/// `codec` and come from the idempotent producer the broker set up.
fn read_produce(client: &str, p: &ProduceRequest, codec: Compression, out: &mut Produced) {
    out.requests += 1;
    for t in &p.topic_data {
        for part in &t.partition_data {
            let records = part.records.as_deref().unwrap_or_default();
            out.wire_bytes += records.len();
            let mut scratch = Vec::new();
            let mut batches = Batches::new(records);
            for batch in &mut batches {
                let batch = batch.unwrap_or_else(|e| panic!("{client}: Produce batch: {e}"));
                batch
                    .validate()
                    .unwrap_or_else(|e| panic!("{client}: Produce batch: {e}"));
                assert_eq!(batch.compression().unwrap(), codec, "{client}: codec");
                assert_eq!(batch.producer_id(), PRODUCER_ID, "{client}: producer id");
                out.batches += 1;
                for r in batch
                    .records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED)
                    .unwrap_or_else(|e| panic!("{client}: records: {e}"))
                {
                    let r = r.unwrap_or_else(|e| panic!("{client}: record: {e}"));
                    let headers = r
                        .headers
                        .iter()
                        .map(|h| String::from_utf8_lossy(h.key).into_owned())
                        .collect();
                    out.records.push((
                        r.key.unwrap_or_default().to_vec(),
                        r.value.unwrap_or_default().to_vec(),
                        headers,
                    ));
                }
            }
            assert!(
                batches.remainder().is_empty(),
                "{client}: a Produce request ends in a partial batch"
            );
        }
    }
}

/// Every captured request decodes and re-encodes to the same bytes; ApiVersions, Metadata and
/// Produce were sent, and the Produce requests hold exactly the records the client was given,
/// compressed with `codec`.
fn check(client: &str, captured: &[Captured], codec: Compression) {
    assert!(!captured.is_empty(), "{client} sent nothing");
    let mut produced = Produced::default();
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
        match &body {
            RequestBody::Metadata(m) => {
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
            RequestBody::Produce(p) => read_produce(client, p, codec, &mut produced),
            _ => {}
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
    for want in [ApiKey::ApiVersions, ApiKey::Metadata, ApiKey::Produce] {
        assert!(
            keys.contains(&want.key()),
            "{client}: no {want:?} in {keys:?}"
        );
    }
    let got: Vec<(Vec<u8>, Vec<u8>)> = produced
        .records
        .iter()
        .map(|(k, v, _)| (k.clone(), v.clone()))
        .collect();
    let want: Vec<(Vec<u8>, Vec<u8>)> = records()
        .into_iter()
        .map(|(k, v)| (k.into_bytes(), v.into_bytes()))
        .collect();
    assert_eq!(got.len(), want.len(), "{client}: records produced");
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g, w, "{client}: record {i}");
    }
    let raw: usize = want.iter().map(|(k, v)| k.len() + v.len()).sum();
    println!(
        "{client}: {} Produce request(s), {} batch(es) of {} records, {raw} bytes of keys and values in {} bytes on the wire ({codec:?})",
        produced.requests,
        produced.batches,
        produced.records.len(),
        produced.wire_bytes
    );
    produced
        .records
        .iter()
        .for_each(|(_, _, h)| assert!(client != "java" || h == &["i"], "{client}: headers {h:?}"));
}

/// Starts `cmd` with `input` on its stdin.
fn spawn_with_input(cmd: &mut Command, input: String) -> Child {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {cmd:?}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    child
}

#[test]
fn kafka_python_requests_decode_and_reencode_byte_identically() {
    let python = cache_dir().join("venv/bin/python");
    assert!(
        python.exists(),
        "{} missing: run `bash .ci/install`",
        python.display()
    );
    let script = r#"import sys
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers=sys.argv[1], client_id='kafka-python-capture',
                  max_block_ms=15000, enable_idempotence=True, acks='all',
                  compression_type='zstd', linger_ms=1000, batch_size=1048576)
print(p.partitions_for(sys.argv[2]))
for line in sys.stdin.read().splitlines():
    k, v = line.split(':', 1)
    p.send(sys.argv[2], key=k.encode(), value=v.encode(), partition=0)
p.flush(timeout=20)
p.close(timeout=1)
"#;
    let captured = capture(|port| {
        spawn_with_input(
            Command::new(&python).args(["-c", script, &format!("127.0.0.1:{port}"), TOPIC]),
            records_input(),
        )
    });
    check("kafka-python", &captured, Compression::Zstd);
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
        spawn_with_input(
            Command::new("java").args([
                "-cp",
                &cp,
                "CaptureClient",
                &format!("127.0.0.1:{port}"),
                TOPIC,
                "lz4",
            ]),
            records_input(),
        )
    });
    check("java", &captured, Compression::Lz4);
}

#[test]
fn kcat_requests_decode_and_reencode_byte_identically() {
    let captured = capture(|port| {
        spawn_with_input(
            Command::new("kcat").args([
                "-P",
                "-b",
                &format!("127.0.0.1:{port}"),
                "-t",
                TOPIC,
                "-p",
                "0",
                "-K",
                ":",
                "-z",
                "snappy",
                "-X",
                "client.id=kcat-capture",
                "-X",
                "enable.idempotence=true",
                "-X",
                "linger.ms=1000",
                "-X",
                "message.timeout.ms=20000",
            ]),
            records_input(),
        )
    });
    check("kcat", &captured, Compression::Snappy);
    let _ = repo_root();
}
