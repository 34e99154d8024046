//! `kpp serve` as a process: started on 127.0.0.1:0 in a temporary log directory, its address
//! read from its start-up log line, then
//! - kcat (`kcat -L`) lists the broker at its real (ephemeral) port, and a Metadata request
//!   for a new topic auto-creates it;
//! - raw TCP: a size prefix of 2³¹−1, a negative one, and an unknown API key each close only
//!   their own connection while another connection's ApiVersions is still answered; 200
//!   requests pipelined in one write on one socket come back in order; an idle connection is
//!   closed after `connections.max.idle.ms`;
//! - SIGTERM (sent with `kill`) makes the process exit 0, and a restart on the same directory
//!   reopens the topic: same cluster id, same topic id, its partitions loaded.
//!
//! kcat comes from `.ci/install` (Debian's package); the test fails, never skips, without it.

// The tests wait on the wall clock for a real process.
#![allow(clippy::disallowed_methods)]

use integration_tests::kafka::TempDir;
use integration_tests::kpp::{
    api_versions, assert_api_versions_answered, assert_closed, call, connect, field, read_frame,
    request, Kpp,
};

const KPP: &str = env!("CARGO_BIN_EXE_kpp");
use kproto::frame::decode_response;
use kproto::messages::create_topics::request::CreatableTopic;
use kproto::messages::metadata::request::MetadataRequestTopic;
use kproto::messages::{CreateTopicsRequest, MetadataRequest, MetadataResponse, ResponseBody};
use kproto::{ApiKey, ErrorCode, RequestBody, Uuid};
use std::io::Write;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

/// A client id of `len` bytes (realistic client ids are short; these are KB, to cross read
/// boundaries and need multi-byte lengths).
fn client_id(len: usize, salt: usize) -> String {
    (0..len)
        .map(|i| char::from(b'a' + ((i * 7 + salt) % 26) as u8))
        .collect()
}

fn metadata(version: i16, correlation_id: i32, topics: Option<&[&str]>) -> Vec<u8> {
    let body = MetadataRequest {
        topics: topics.map(|t| {
            t.iter()
                .map(|n| MetadataRequestTopic {
                    name: Some((*n).into()),
                    ..Default::default()
                })
                .collect()
        }),
        allow_auto_topic_creation: true,
        ..Default::default()
    };
    request(
        ApiKey::Metadata,
        version,
        correlation_id,
        "kpp-serve-test",
        RequestBody::Metadata(Box::new(body)),
    )
}

fn metadata_of(
    s: &mut TcpStream,
    correlation_id: i32,
    topics: Option<&[&str]>,
) -> MetadataResponse {
    let (corr, body) = call(
        s,
        &metadata(12, correlation_id, topics),
        ApiKey::Metadata,
        12,
    );
    assert_eq!(corr, correlation_id);
    match body {
        ResponseBody::Metadata(m) => *m,
        other => panic!("not a Metadata response: {other:?}"),
    }
}

fn topic_id(m: &MetadataResponse, name: &str) -> Option<Uuid> {
    m.topics
        .iter()
        .find(|t| t.name.as_deref() == Some(name))
        .filter(|t| t.error_code == ErrorCode::None.code())
        .map(|t| t.topic_id)
}

#[test]
fn kcat_lists_the_broker_and_metadata_auto_creates_a_topic() {
    let dir = TempDir::new("serve-kcat");
    let kpp = Kpp::start(
        KPP,
        dir.path(),
        &[
            "--override",
            "auto.create.topics.enable=true",
            "--override",
            "auto.create.topic.enable=true",
        ],
    );
    // a misspelt key is logged, as Kafka logs it, and the broker starts
    kpp.wait_for_log(&[
        "WARN",
        "The configuration 'auto.create.topic.enable' was supplied but isn't a known config.",
    ]);
    let addr = kpp.addr.to_string();
    let kcat = |args: &[&str]| {
        let out = Command::new("kcat")
            .args(args)
            .args(["-b", &addr, "-m", "10"])
            .output()
            .expect("run kcat (installed by .ci/install)");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "kcat {args:?} failed: {}\n{stdout}\nbroker log:\n{}",
            String::from_utf8_lossy(&out.stderr),
            kpp.log()
        );
        stdout
    };
    let listing = kcat(&["-L"]);
    assert!(
        listing.contains(&format!("broker 1 at {addr}")),
        "kcat -L does not list broker 1 at {addr} (the bound port, advertised):\n{listing}"
    );
    assert!(listing.contains(" 0 topics:"), "{listing}");

    // kcat's Metadata for one topic creates it (auto.create.topics.enable)
    let by_kcat = "kcat-created-orders";
    let one = kcat(&["-L", "-t", by_kcat]);
    assert!(one.contains(&format!("topic \"{by_kcat}\"")), "{one}");
    kpp.wait_for_log(&["topic created", by_kcat]);

    // and a raw Metadata v12 (flexible) for another, with 1 partition (num.partitions)
    let mut s = connect(kpp.addr);
    let raw = "raw-metadata-payments";
    let first = metadata_of(&mut s, 1, Some(&[raw]));
    let created = first
        .topics
        .iter()
        .find(|t| t.name.as_deref() == Some(raw))
        .expect("the topic asked for is in the answer");
    assert!(
        created.error_code == ErrorCode::None.code()
            || created.error_code == ErrorCode::LeaderNotAvailable.code(),
        "auto-creation answered {}",
        created.error_code
    );
    let all = metadata_of(&mut s, 2, None);
    let id = topic_id(&all, raw).expect("the auto-created topic is listed");
    assert_ne!(id, Uuid::ZERO);
    assert_eq!(all.brokers.len(), 1);
    assert_eq!(
        (all.brokers[0].host.as_str(), all.brokers[0].port),
        ("127.0.0.1", i32::from(kpp.addr.port()))
    );
    let listing = kcat(&["-L"]);
    assert!(listing.contains(" 2 topics:"), "{listing}");
    assert!(
        listing.contains(&format!("topic \"{raw}\" with 1 partitions")),
        "{listing}"
    );
}

#[test]
fn bad_frames_close_only_their_connection_and_pipelined_answers_keep_their_order() {
    let dir = TempDir::new("serve-raw");
    let kpp = Kpp::start(KPP, dir.path(), &[]);
    let mut healthy = connect(kpp.addr);
    assert_api_versions_answered(&mut healthy, 1);

    // 2^31-1: refused on the prefix alone (the broker never waits for 2 GiB)
    let mut huge = connect(kpp.addr);
    huge.write_all(&i32::MAX.to_be_bytes()).unwrap();
    assert_closed(&mut huge, "size 2^31-1");
    kpp.wait_for_log(&[
        "connection closed",
        "Invalid receive (size = 2147483647 larger than 104857600)",
    ]);
    assert_api_versions_answered(&mut healthy, 2);

    // a negative size
    let mut negative = connect(kpp.addr);
    negative.write_all(&(-2i32).to_be_bytes()).unwrap();
    negative.write_all(&[0u8; 64]).unwrap();
    assert_closed(&mut negative, "negative size");
    kpp.wait_for_log(&["connection closed", "Invalid receive (size = -2)"]);
    assert_api_versions_answered(&mut healthy, 3);

    // an unknown API key in a well-formed frame: the core closes the connection, unanswered
    let mut unknown = connect(kpp.addr);
    let mut frame = api_versions(3, 77, "unknown-key");
    frame[4..6].copy_from_slice(&999i16.to_be_bytes());
    unknown.write_all(&frame).unwrap();
    assert_closed(&mut unknown, "unknown API key");
    kpp.wait_for_log(&["connection closed", "unknown API key 999"]);
    assert_api_versions_answered(&mut healthy, 4);

    // a frame above socket.request.max.bytes after answered requests: those are answered
    // first (Kafka reads the next request only once the previous one was answered)
    let mut late = connect(kpp.addr);
    let mut bytes = api_versions(3, 10, &client_id(2000, 1));
    bytes.extend(metadata(9, 11, None));
    bytes.extend_from_slice(&(200 * 1024 * 1024i32).to_be_bytes());
    late.write_all(&bytes).unwrap();
    let c = read_frame(&mut late).expect("the first answer");
    assert_eq!(&c[..4], &10i32.to_be_bytes());
    let c = read_frame(&mut late).expect("the second answer");
    assert_eq!(&c[..4], &11i32.to_be_bytes());
    assert_closed(&mut late, "size above socket.request.max.bytes");

    // 200 requests in one write; answers in request order, each decodable at its version
    let mut piped = connect(kpp.addr);
    let mut expected = Vec::new();
    let mut bytes = Vec::new();
    for i in 0..200i32 {
        let corr = 1_000 + i * 13;
        let (key, version) = if i % 3 == 2 {
            (ApiKey::Metadata, [1, 4, 9, 12][i as usize % 4])
        } else {
            (ApiKey::ApiVersions, (i % 4) as i16)
        };
        let frame = match key {
            ApiKey::Metadata => metadata(version, corr, None),
            _ => api_versions(
                version,
                corr,
                &client_id(300 + (i as usize * 97) % 3000, i as usize),
            ),
        };
        bytes.extend(frame);
        expected.push((corr, key, version));
    }
    assert!(bytes.len() > 200 * 1024, "{} bytes pipelined", bytes.len());
    // write from another thread: the broker reads ahead only so far, and answers meanwhile
    let mut w = piped.try_clone().unwrap();
    let writer = std::thread::spawn(move || w.write_all(&bytes).map(|_| ()));
    for (corr, key, version) in &expected {
        let frame = read_frame(&mut piped).expect("an answer for every pipelined request");
        let (h, body) = decode_response(&frame, *key, *version)
            .unwrap_or_else(|e| panic!("answer {corr} ({key:?} v{version}): {e}"));
        assert_eq!(h.correlation_id, *corr, "answers out of order");
        assert_eq!(body.api_key(), *key);
    }
    writer.join().unwrap().expect("all 200 requests written");
    assert_api_versions_answered(&mut healthy, 5);
    let (status, log) = kpp.sigterm();
    assert!(status.success(), "exit {status:?}:\n{log}");
}

#[test]
fn idle_connections_are_closed_after_connections_max_idle_ms() {
    let dir = TempDir::new("serve-idle");
    let kpp = Kpp::start(
        KPP,
        dir.path(),
        &["--override", "connections.max.idle.ms=400"],
    );
    let mut idle = connect(kpp.addr);
    let mut busy = connect(kpp.addr);
    assert_api_versions_answered(&mut idle, 1);
    let start = Instant::now();
    // the busy connection keeps talking past the idle limit and stays open
    for i in 0..8 {
        std::thread::sleep(Duration::from_millis(100));
        assert_api_versions_answered(&mut busy, 10 + i);
    }
    assert_closed(&mut idle, "idle connection");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(350),
        "closed after {waited:?}"
    );
    kpp.wait_for_log(&[
        "connection closed",
        "idle for more than connections.max.idle.ms",
    ]);
    assert_api_versions_answered(&mut busy, 99);
}

#[test]
fn sigterm_exits_zero_and_a_restart_reopens_the_topic() {
    let dir = TempDir::new("serve-restart");
    let kpp = Kpp::start(KPP, dir.path(), &["--override", "num.partitions=3"]);
    let started = kpp.wait_for_log(&["log directory opened"]);
    let cluster_id = field(&started, "cluster_id").expect("a cluster id is logged");
    let mut s = connect(kpp.addr);
    let topic = "restart-orders";
    let body = CreateTopicsRequest {
        topics: vec![CreatableTopic {
            name: topic.into(),
            num_partitions: 4,
            replication_factor: 1,
            ..Default::default()
        }],
        timeout_ms: 30_000,
        ..Default::default()
    };
    let (_, created) = call(
        &mut s,
        &request(
            ApiKey::CreateTopics,
            7,
            1,
            "kpp-serve-test",
            RequestBody::CreateTopics(Box::new(body)),
        ),
        ApiKey::CreateTopics,
        7,
    );
    let ResponseBody::CreateTopics(created) = created else {
        panic!("not a CreateTopics response")
    };
    assert_eq!(created.topics[0].error_code, ErrorCode::None.code());
    let before = metadata_of(&mut s, 2, Some(&[topic]));
    let id = topic_id(&before, topic).expect("the topic is listed");
    // a connection still open at SIGTERM does not stop the shutdown
    let (status, log) = kpp.sigterm();
    assert!(status.success(), "kpp serve exited with {status:?}:\n{log}");
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(log.contains("broker shut down cleanly"), "{log}");
    assert_closed(&mut s, "a connection open at shutdown");

    let kpp = Kpp::start(KPP, dir.path(), &[]);
    let reopened = kpp.wait_for_log(&["log directory opened"]);
    assert_eq!(
        field(&reopened, "cluster_id").as_deref(),
        Some(cluster_id.as_str())
    );
    assert_eq!(field(&reopened, "partitions").as_deref(), Some("4"));
    assert_eq!(field(&reopened, "recovered").as_deref(), Some("0"));
    for p in 0..4 {
        kpp.wait_for_log(&["partition loaded", topic, &format!("partition={p} ")]);
    }
    let mut s = connect(kpp.addr);
    let after = metadata_of(&mut s, 1, None);
    assert_eq!(
        topic_id(&after, topic),
        Some(id),
        "the same topic id after restart"
    );
    let t = after
        .topics
        .iter()
        .find(|t| t.name.as_deref() == Some(topic))
        .unwrap();
    assert_eq!(t.partitions.len(), 4);
    assert_eq!(after.cluster_id.as_deref(), Some(cluster_id.as_str()));
    let (status, log) = kpp.sigterm();
    assert!(
        status.success(),
        "second run exited with {status:?}:\n{log}"
    );
}

#[test]
fn a_bad_value_stops_kpp_serve_with_an_error_naming_the_key() {
    let dir = TempDir::new("serve-bad");
    let out = Command::new(env!("CARGO_BIN_EXE_kpp"))
        .arg("serve")
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--override",
            "socket.request.max.bytes=0",
        ])
        .output()
        .expect("run kpp serve");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "Invalid value 0 for configuration socket.request.max.bytes: Value must be at least 1"
        ),
        "{stderr}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_kpp"))
        .args(["serve", "--port", "9092"])
        .output()
        .expect("run kpp serve");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option --port"));
}

#[test]
fn a_torn_tail_is_recovered_at_start_and_logged() {
    use klog::{FsStorage, Log, LogConfig};
    use kproto::records::{BatchBuilder, BatchConfig};

    let dir = TempDir::new("serve-recover");
    let kpp = Kpp::start(KPP, dir.path(), &[]);
    let mut s = connect(kpp.addr);
    let topic = "recover-events";
    metadata_of(&mut s, 1, Some(&[topic]));
    let (status, log) = kpp.sigterm();
    assert!(status.success(), "{log}");

    // 300 records of 1 KB in 10 batches, written by klog as a crashed broker would leave
    // them (no clean close), then a torn batch: 100 bytes of a batch that never completed
    let st = FsStorage::new(dir.path()).unwrap();
    let now = 1_700_000_000_000;
    let (mut plog, _) = Log::open(st, topic, 0, LogConfig::default(), now).unwrap();
    for b in 0..10 {
        let mut builder = BatchBuilder::new(BatchConfig {
            write_limit: 64 * 1024,
            ..BatchConfig::default()
        });
        for r in 0..30u32 {
            let value = client_id(1024, (b * 30 + r) as usize);
            builder
                .try_append(
                    now + i64::from(r),
                    Some(&r.to_be_bytes()),
                    Some(value.as_bytes()),
                    &[],
                )
                .unwrap();
        }
        let mut batch = builder.finish().unwrap();
        plog.append(&mut batch, now + 100).unwrap();
    }
    plog.flush(now + 200).unwrap();
    drop(plog);
    let seg = dir
        .path()
        .join(format!("{topic}-0"))
        .join("00000000000000000000.log");
    let mut f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
    let mut torn = 5000i64.to_be_bytes().to_vec(); // a base offset
    torn.extend_from_slice(&2000i32.to_be_bytes()); // a batch length the file does not hold
    torn.resize(100, 0xAB);
    f.write_all(&torn).unwrap();
    drop(f);
    let _ = std::fs::remove_file(dir.path().join(".kafka_cleanshutdown"));

    let kpp = Kpp::start(KPP, dir.path(), &[]);
    let line = kpp.wait_for_log(&["partition recovered", topic]);
    assert_eq!(
        field(&line, "truncated_bytes").as_deref(),
        Some("100"),
        "{line}"
    );
    assert_eq!(
        field(&line, "log_end_offset").as_deref(),
        Some("300"),
        "{line}"
    );
    let opened = kpp.wait_for_log(&["log directory opened"]);
    assert_eq!(
        field(&opened, "recovered").as_deref(),
        Some("1"),
        "{opened}"
    );
    let (status, log) = kpp.sigterm();
    assert!(status.success(), "{log}");
}
