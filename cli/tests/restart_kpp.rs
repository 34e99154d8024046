//! Restarts of `kpp serve` under load, with a real client: an idempotent confluent-kafka
//! producer (acks=all) streams 30,000 records of about 1.3 KB to three partitions while the
//! broker (`log.flush.interval.messages=1`) is killed with SIGKILL in the middle and started
//! again on the same port and directory. The producer retries what was in flight; afterwards
//! every record is readable exactly once, offsets dense from 0, each partition in the order
//! sent, every delivery report naming where its record is. A clean restart after that changes
//! nothing.

// A test harness: it waits on the wall clock for real processes.
#![allow(clippy::disallowed_methods)]

use integration_tests::clients::check::{self, Reports, Run};
use integration_tests::clients::payload::{records, Shape};
use integration_tests::clients::{confluent_kafka, kafka_python, Codec};
use integration_tests::kafka::TempDir;
use integration_tests::kpp::{field, Kpp};
use std::net::TcpListener;
use std::path::Path;
use std::time::{Duration, Instant};

const KPP: &str = env!("CARGO_BIN_EXE_kpp");
const TOPIC: &str = "restarts";
const PARTITIONS: i32 = 3;

/// Bytes of `.log` files under the topic's partition directories.
fn logged_bytes(data: &Path) -> u64 {
    (0..PARTITIONS)
        .filter_map(|p| std::fs::read_dir(data.join(format!("{TOPIC}-{p}"))).ok())
        .flatten()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}

#[test]
fn kill_9_in_the_middle_of_a_load_loses_no_acknowledged_record_and_duplicates_none() {
    let tmp = TempDir::new("kpp-restarts");
    let data = tmp.path().join("data");
    // a fixed port, so that the producer finds the restarted broker where it left it
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let listeners = format!("listeners=PLAINTEXT://127.0.0.1:{port}");
    let args = [
        "--override",
        &listeners,
        "--override",
        "log.flush.interval.messages=1",
    ];
    let kpp = Kpp::start(KPP, &data, &args);
    let bootstrap = kpp.addr.to_string();
    assert_eq!(kpp.addr.port(), port);
    kafka_python::create_topics(&bootstrap, &[(TOPIC, PARTITIONS)]);
    let shape = Shape {
        text_only: false,
        nulls: true,
        null_header_values: true,
        same_headers: false,
        partitions: Some(PARTITIONS),
    };
    let sent = records("restart", 30_000, 77, shape);
    let producer = {
        let (bootstrap, sent) = (bootstrap.clone(), sent.clone());
        std::thread::spawn(move || {
            confluent_kafka::produce(&bootstrap, TOPIC, &[(Codec::Lz4, &sent[..])])
        })
    };
    // kill -9 once a few megabytes are in the log, while the producer still sends
    let deadline = Instant::now() + Duration::from_secs(120);
    while logged_bytes(&data) < 4 << 20 {
        assert!(Instant::now() < deadline, "the load did not reach 4 MiB");
        assert!(!producer.is_finished(), "the producer ended early");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !producer.is_finished(),
        "the producer finished before the kill: the test would prove nothing"
    );
    let before = logged_bytes(&data);
    kpp.kill();
    std::thread::sleep(Duration::from_millis(300));
    let kpp = Kpp::start(KPP, &data, &args);
    let opened = kpp.wait_for_log(&["log directory loaded"]);
    assert_eq!(
        field(&opened, "had_clean_shutdown").as_deref(),
        Some("false"),
        "{opened}"
    );
    let reports = producer.join().expect("the producer thread");
    let read = confluent_kafka::consume(&bootstrap, TOPIC);
    let runs = [Run {
        name: "restart",
        records: &sent,
        reports: Reports::Offsets(&reports[0].deliveries),
    }];
    let summary = check::read_back(&runs, &read.records).unwrap_or_else(|e| panic!("{e}"));
    check::end_offsets(&read.end_offsets, PARTITIONS, &summary).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.records, sent.len());
    println!(
        "killed at {} KB logged; after the restart {} records per partition {:?}",
        before / 1024,
        summary.records,
        summary.per_partition
    );
    // a clean restart: the marker is honoured, the same records are there
    let (status, log) = kpp.sigterm();
    assert!(status.success(), "{status}\n{log}");
    let kpp = Kpp::start(KPP, &data, &args);
    let opened = kpp.wait_for_log(&["log directory loaded"]);
    assert_eq!(
        field(&opened, "had_clean_shutdown").as_deref(),
        Some("true"),
        "{opened}"
    );
    let again = confluent_kafka::consume(&bootstrap, TOPIC);
    let summary2 = check::read_back(&runs, &again.records).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary2, summary);
    let (status, _) = kpp.sigterm();
    assert!(status.success());
}
