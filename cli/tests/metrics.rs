//! `kpp serve --metrics`: the Prometheus endpoint of a broker process, scraped over plain TCP
//! (std `TcpStream`, HTTP/1.1) after real clients used it:
//! - kcat produces 1,000 keyed messages of 1 KB and reads them back (`kcat -C -e`): messages
//!   in = 1,000, bytes in and bytes out ≥ the values' size, the Produce requests
//!   counted (`requests_total` = the histogram's count, `totalproducerequests_total` at most
//!   that), one partition;
//! - a Produce to a missing topic and one with a corrupt batch count
//!   `UNKNOWN_TOPIC_OR_PARTITION` and `CORRUPT_MESSAGE` under `request="Produce"`, and a frame
//!   of an unknown API key the core's closed connections;
//! - a tailing `kcat -C` shows its long poll in the Fetch purgatory, and its delayed fetches
//!   (librdkafka's `fetch.wait.max.ms`, 500 ms) land in the Fetch histogram above 250 ms;
//! - the `process_*` metrics are the broker process's (RSS, descriptors, start time);
//! - every histogram is cumulative (buckets monotonic, `+Inf` = `_count`), the connection
//!   gauge settles on the connections open, and SIGTERM still exits 0 with an HTTP client
//!   holding a connection to the endpoint.
//!
//! kcat comes from `.ci/install` (Debian's package); the test fails, never skips, without it.

// The tests wait on the wall clock for a real process.
#![allow(clippy::disallowed_methods)]

use bytes::Bytes;
use integration_tests::kafka::TempDir;
use integration_tests::kpp::{
    api_versions, assert_api_versions_answered, assert_closed, call, connect, field, request, Kpp,
};
use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
use kproto::messages::{ProduceRequest, ResponseBody};
use kproto::records::{BatchBuilder, BatchConfig, Compression};
use kproto::{ApiKey, ErrorCode, RequestBody};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KPP: &str = env!("CARGO_BIN_EXE_kpp");
const H: &str = "kafka_network_requestmetrics_totaltimems";

/// One scrape: the response head and the samples (`name{labels}` → value).
struct Scrape {
    head: String,
    samples: BTreeMap<String, f64>,
}

impl Scrape {
    fn get(&self, key: &str) -> f64 {
        *self
            .samples
            .get(key)
            .unwrap_or_else(|| panic!("no sample {key} in {:#?}", self.samples))
    }

    /// The cumulative buckets of the `request` histogram, in order, checked: monotonic,
    /// ending with `+Inf` equal to `_count`.
    fn histogram(&self, request: &str) -> Vec<(String, f64)> {
        let prefix = format!("{H}_bucket{{request=\"{request}\",le=\"");
        let mut buckets: Vec<(f64, String, f64)> = self
            .samples
            .iter()
            .filter_map(|(k, v)| {
                let le = k.strip_prefix(&prefix)?.strip_suffix("\"}")?;
                let bound = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().unwrap()
                };
                Some((bound, le.to_string(), *v))
            })
            .collect();
        buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        assert!(buckets.len() > 10, "{request}: {buckets:?}");
        assert!(
            buckets.windows(2).all(|w| w[0].2 <= w[1].2),
            "{request}: buckets not monotonic: {buckets:?}"
        );
        let last = buckets.last().unwrap();
        assert_eq!(last.1, "+Inf");
        assert_eq!(
            last.2,
            self.get(&format!("{H}_count{{request=\"{request}\"}}")),
            "{request}: +Inf bucket != count"
        );
        buckets.into_iter().map(|(_, le, v)| (le, v)).collect()
    }
}

/// GET /metrics, and the response parsed.
fn scrape(addr: SocketAddr) -> Scrape {
    let mut s = TcpStream::connect(addr).expect("connect to the metrics endpoint");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: localhost\r\nAccept: text/plain\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8(raw).expect("UTF-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP response");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8"),
        "{head}"
    );
    assert!(
        head.contains(&format!("\r\nContent-Length: {}\r\n", body.len())),
        "{head}"
    );
    let mut samples = BTreeMap::new();
    for line in body.lines().filter(|l| !l.starts_with('#')) {
        let (k, v) = line.rsplit_once(' ').expect("name value");
        let v: f64 = v.parse().unwrap_or_else(|_| panic!("a number: {line}"));
        assert!(samples.insert(k.to_string(), v).is_none(), "{k} twice");
    }
    Scrape {
        head: head.to_string(),
        samples,
    }
}

/// Scrapes until `ok` holds (10 s at most); the last scrape.
fn scrape_until(addr: SocketAddr, what: &str, ok: impl Fn(&Scrape) -> bool) -> Scrape {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = scrape(addr);
        if ok(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "never {what}: {:#?}", s.samples);
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn batch(n: usize, value_len: usize) -> Vec<u8> {
    let mut b = BatchBuilder::new(BatchConfig {
        compression: Compression::None,
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    });
    for i in 0..n {
        let v: Vec<u8> = (0..value_len).map(|j| (i * 31 + j * 7) as u8).collect();
        b.try_append(1_700_000_000_000 + i as i64, Some(b"key"), Some(&v), &[])
            .unwrap();
    }
    b.finish().unwrap()
}

/// The one partition's error of a Produce v9 of `records` to `topic` partition 0.
fn produce_error(s: &mut TcpStream, topic: &str, records: Vec<u8>, corr: i32) -> ErrorCode {
    let req = ProduceRequest {
        acks: -1,
        timeout_ms: 5000,
        topic_data: vec![TopicProduceData {
            name: topic.into(),
            partition_data: vec![PartitionProduceData {
                index: 0,
                records: Some(Bytes::from(records)),
                ..PartitionProduceData::default()
            }],
            ..TopicProduceData::default()
        }],
        ..ProduceRequest::default()
    };
    let frame = request(
        ApiKey::Produce,
        9,
        corr,
        "metrics-test",
        RequestBody::Produce(Box::new(req)),
    );
    let (_, body) = call(s, &frame, ApiKey::Produce, 9);
    let ResponseBody::Produce(r) = body else {
        panic!("not Produce: {body:?}")
    };
    ErrorCode::from_code(r.responses[0].partition_responses[0].error_code).unwrap()
}

#[test]
fn the_metrics_endpoint_counts_what_kcat_and_bad_requests_did() {
    let dir = TempDir::new("kpp-metrics");
    let kpp = Kpp::start(KPP, dir.path(), &["--metrics", "127.0.0.1:0"]);
    let line = kpp.wait_for_log(&["Prometheus metrics"]);
    let metrics: SocketAddr = field(&line, "metrics_address")
        .expect("metrics_address")
        .parse()
        .unwrap();
    let bootstrap = kpp.addr.to_string();

    // before any client: zeros, one family per name, the listener known
    let s0 = scrape(metrics);
    assert_eq!(
        s0.get("kafka_server_brokertopicmetrics_messagesin_total"),
        0.0
    );
    assert_eq!(s0.get("kafka_server_replicamanager_partitioncount"), 0.0);
    assert_eq!(
        s0.get("kafka_server_socketservermetrics_connection_count{listener=\"PLAINTEXT\"}"),
        0.0
    );
    assert_eq!(s0.get(&format!("{H}_count{{request=\"Produce\"}}")), 0.0);
    assert_eq!(s0.get("kafka_server_kafkaserver_brokerstate"), 3.0);
    assert_eq!(s0.get("kafka_log_logmanager_offlinelogdirectorycount"), 0.0);
    // the process metrics are the broker process's (Linux)
    assert!(s0.get("process_resident_memory_bytes") > 1e6);
    assert!(s0.get("process_open_fds") >= 4.0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let started = s0.get("process_start_time_seconds");
    assert!(
        started <= now + 1.0 && started > now - 60.0,
        "{started} vs {now}"
    );

    // kcat -P: 1,000 keyed messages of 1 KB values
    let value = "m".repeat(1000);
    let input: String = (0..1000).map(|i| format!("key-{i}\t{value}\n")).collect();
    let mut kcat = Command::new("kcat")
        .args(["-P", "-b", &bootstrap, "-t", "metered", "-K", "\t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kcat (apt-get install kcat)");
    kcat.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = kcat.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "kcat -P: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // kcat -C -e reads them back
    let out = Command::new("kcat")
        .args([
            "-C", "-b", &bootstrap, "-t", "metered", "-e", "-q", "-f", "%k\n",
        ])
        .output()
        .expect("kcat -C");
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 1000);

    // bad requests on a raw connection, which stays open through the scrapes
    let mut held = connect(kpp.addr);
    assert_eq!(
        produce_error(&mut held, "no-such-topic", batch(20, 500), 1),
        ErrorCode::UnknownTopicOrPartition
    );
    let mut corrupt = batch(200, 1000);
    let at = corrupt.len() - 3;
    corrupt[at] ^= 0xff;
    assert_eq!(
        produce_error(&mut held, "metered", corrupt, 2),
        ErrorCode::CorruptMessage
    );
    assert_api_versions_answered(&mut held, 3);
    let mut unknown = api_versions(0, 4, "metrics-test");
    unknown[4..6].copy_from_slice(&999i16.to_be_bytes());
    let mut closed = connect(kpp.addr);
    closed.write_all(&unknown).unwrap();
    assert_closed(&mut closed, "API key 999");
    drop(closed);

    // once kcat's and the refused connections are gone: only `held` is open
    let s = scrape_until(metrics, "one connection open", |s| {
        s.get("kafka_server_socketservermetrics_connection_count{listener=\"PLAINTEXT\"}") == 1.0
    });
    assert!(s.head.contains("Connection: close"));
    let created =
        s.get("kafka_server_socketservermetrics_connection_creation_total{listener=\"PLAINTEXT\"}");
    let closed =
        s.get("kafka_server_socketservermetrics_connection_close_total{listener=\"PLAINTEXT\"}");
    // kcat -P and -C open at least one each (bootstrap and broker connections may be two)
    assert!(created >= 4.0, "{created}");
    assert_eq!(created - closed, 1.0);
    assert_eq!(s.get("kpp_broker_core_closed_connections_total"), 1.0);

    assert_eq!(
        s.get("kafka_server_brokertopicmetrics_messagesin_total"),
        1000.0
    );
    // (the core also counts the refused corrupt batch in bytes in, where Kafka's
    // ReplicaManager counts appended batches only; so no bound relates bytes in to bytes out)
    let bytes_in = s.get("kafka_server_brokertopicmetrics_bytesin_total");
    assert!(bytes_in >= 1_000_000.0, "{bytes_in}");
    // kcat -C read every batch at least once
    let bytes_out = s.get("kafka_server_brokertopicmetrics_bytesout_total");
    assert!(bytes_out >= 1_000_000.0, "{bytes_out}");
    assert_eq!(s.get("kafka_server_replicamanager_partitioncount"), 1.0);
    assert_eq!(s.get("kafka_server_replicamanager_leadercount"), 1.0);
    assert_eq!(
        s.get("kafka_server_replicamanager_offlinereplicacount"),
        0.0
    );

    let produces = s.get("kafka_network_requestmetrics_requests_total{request=\"Produce\"}");
    assert!(produces >= 3.0, "{produces}");
    // one partition per Produce here: Kafka counts the partitions that reach the log (not the
    // missing topic's), the core counts requests; both are within these bounds
    let per_partition = s.get("kafka_server_brokertopicmetrics_totalproducerequests_total");
    assert!(
        per_partition >= produces - 1.0 && per_partition <= produces,
        "{per_partition} of {produces}"
    );
    assert!(s.get("kafka_network_requestmetrics_requests_total{request=\"Fetch\"}") >= 1.0);
    assert!(s.get("kafka_network_requestmetrics_requests_total{request=\"Metadata\"}") >= 2.0);
    assert!(s.get("kafka_network_requestmetrics_requests_total{request=\"ApiVersions\"}") >= 3.0);
    assert_eq!(
        s.get(
            "kafka_network_requestmetrics_errors_total{request=\"Produce\",error=\"UNKNOWN_TOPIC_OR_PARTITION\"}"
        ),
        1.0
    );
    assert_eq!(
        s.get("kafka_network_requestmetrics_errors_total{request=\"Produce\",error=\"CORRUPT_MESSAGE\"}"),
        1.0
    );

    // every Produce was answered and written: the histogram counts each once
    s.histogram("Produce");
    assert_eq!(
        s.get(&format!("{H}_count{{request=\"Produce\"}}")),
        produces
    );
    assert!(s.get(&format!("{H}_sum{{request=\"Produce\"}}")) > 0.0);
    for api in ["Fetch", "Metadata", "ApiVersions", "ListOffsets"] {
        let requests = s.get(&format!(
            "kafka_network_requestmetrics_requests_total{{request=\"{api}\"}}"
        ));
        s.histogram(api);
        let count = s.get(&format!("{H}_count{{request=\"{api}\"}}"));
        // a request kcat left in flight when it exited has no written response
        assert!(
            count >= 1.0 && count <= requests,
            "{api}: {count} of {requests}"
        );
    }

    // a tailing consumer long-polls: its fetch waits in the purgatory, and the delayed
    // fetches it completed took about fetch.wait.max.ms (500 ms)
    let before = s.histogram("Fetch");
    let le_250 = |b: &[(String, f64)]| b.iter().find(|(le, _)| le == "250").unwrap().1;
    let mut tail = Command::new("kcat")
        .args(["-C", "-b", &bootstrap, "-t", "metered", "-o", "end", "-q"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kcat -C");
    scrape_until(metrics, "a delayed fetch waiting", |s| {
        s.get("kafka_server_delayedoperationpurgatory_purgatorysize{delayedOperation=\"Fetch\"}")
            == 1.0
    });
    scrape_until(metrics, "two slow fetches answered", |s| {
        let b = s.histogram("Fetch");
        let slow = |b: &[(String, f64)]| b.last().unwrap().1 - le_250(b);
        slow(&b) >= slow(&before) + 2.0
    });
    tail.kill().unwrap();
    tail.wait().unwrap();
    scrape_until(
        metrics,
        "the purgatory empty after the consumer left",
        |s| {
            s.get(
                "kafka_server_delayedoperationpurgatory_purgatorysize{delayedOperation=\"Fetch\"}",
            ) == 0.0
        },
    );

    // an HTTP client that never sends its request does not hold the shutdown up
    let _silent = TcpStream::connect(metrics).unwrap();
    drop(held);
    let (status, log) = kpp.sigterm();
    assert!(status.success(), "{status:?}\n{log}");
    assert!(log.contains("broker shut down cleanly"), "{log}");
}
