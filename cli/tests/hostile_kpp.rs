//! Hostile input on the socket of `kpp serve`, each case with its expected outcome, while kcat
//! keeps producing on the same broker (and reads everything back at the end):
//!
//! | input | outcome |
//! |---|---|
//! | size prefix 2³¹−1, and −1 | that connection closed, nothing allocated |
//! | a truncated frame, then silence | closed after `connections.max.idle.ms` (2.5 s here) |
//! | a Produce frame ending inside its record batch | closed (undecodable) |
//! | a record batch with a bad CRC | CORRUPT_MESSAGE, the connection still served |
//! | an unknown API key; Produce v2, Metadata v14 | closed (Kafka: not enabled) |
//! | ApiVersions v9 | UNSUPPORTED_VERSION in the v0 layout |
//! | a Metadata request whose topic array says 2³¹−1 entries | closed, nothing allocated |
//! | a gzip batch inflating to 256 MiB (a 250 KB bomb) | CORRUPT_MESSAGE, bounded memory |
//! | 2,000 idle connections | the broker serves the others meanwhile |
//!
//! and the broker's peak RSS (VmHWM) stays under [`RSS_BOUND_MB`].

// A test harness: it waits on the wall clock for real processes.
#![allow(clippy::disallowed_methods)]

use bytes::Bytes;
use integration_tests::clients::kafka_python;
use integration_tests::kafka::TempDir;
use integration_tests::kpp::{
    api_versions, assert_api_versions_answered, assert_closed, call, connect, read_frame, request,
    Kpp,
};
use kproto::frame::decode_response;
use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
use kproto::messages::{ProduceRequest, ResponseBody};
use kproto::records::{crc::crc32c, field, BatchBuilder, BatchConfig, Compression};
use kproto::{ApiKey, ErrorCode, RequestBody};
use std::io::Write;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

const KPP: &str = env!("CARGO_BIN_EXE_kpp");
/// The peak resident set the broker may reach through all of it (measured: 78 MB, of which
/// the gzip bomb takes up to 64 MiB while its records are checked).
const RSS_BOUND_MB: u64 = 160;

fn batch(n: usize, value_len: usize, codec: Compression) -> Vec<u8> {
    let mut b = BatchBuilder::new(BatchConfig {
        compression: codec,
        write_limit: usize::MAX >> 1,
        ..BatchConfig::default()
    });
    for i in 0..n {
        let v: Vec<u8> = (0..value_len).map(|j| (i * 13 + j * 7) as u8).collect();
        b.try_append(1_700_000_000_000 + i as i64, Some(b"key"), Some(&v), &[])
            .unwrap();
    }
    b.finish().unwrap()
}

fn produce_frame(topic: &str, records: Vec<u8>, correlation_id: i32) -> Vec<u8> {
    let req = ProduceRequest {
        acks: 1,
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
    request(
        ApiKey::Produce,
        9,
        correlation_id,
        "hostile",
        RequestBody::Produce(Box::new(req)),
    )
}

/// The one partition's error code of a Produce v9 answer.
fn produce_error(s: &mut TcpStream, frame: &[u8]) -> ErrorCode {
    let (_, body) = call(s, frame, ApiKey::Produce, 9);
    let ResponseBody::Produce(r) = body else {
        panic!("not Produce: {body:?}")
    };
    ErrorCode::from_code(r.responses[0].partition_responses[0].error_code).unwrap()
}

/// A gzip batch whose records inflate to `inflated` zero bytes.
fn gzip_bomb(inflated: usize) -> Vec<u8> {
    let mut gz = Command::new("gzip")
        .args(["-9", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = gz.stdin.take().unwrap();
    let feed = std::thread::spawn(move || {
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..inflated >> 20 {
            stdin.write_all(&zeros).unwrap();
        }
    });
    let out = gz.wait_with_output().unwrap();
    feed.join().unwrap();
    let mut b = batch(1, 10, Compression::Gzip);
    b.truncate(field::RECORDS);
    b.extend_from_slice(&out.stdout);
    let len = (b.len() - field::BATCH_LENGTH.end) as i32;
    b[field::BATCH_LENGTH].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c(&b[field::ATTRIBUTES.start..]);
    b[field::CRC].copy_from_slice(&crc.to_be_bytes());
    b
}

fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmHWM");
    kb / 1024
}

/// kcat -P runs of 2,000 keyed messages until told to stop; the messages sent.
fn keep_producing(bootstrap: String, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let input: String = (0..2000)
            .map(|i| format!("k{i}\t{}-{i}\n", "v".repeat(300)))
            .collect();
        let mut sent = 0;
        while !stop.load(Ordering::Relaxed) {
            let mut kcat = Command::new("kcat")
                .args(["-P", "-b", &bootstrap, "-t", "steady", "-K", "\t"])
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
                "kcat -P failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            sent += 2000;
        }
        sent
    })
}

#[test]
fn hostile_input_closes_or_refuses_only_itself_while_kcat_keeps_producing() {
    let dir = TempDir::new("kpp-hostile");
    let kpp = Kpp::start(
        KPP,
        dir.path(),
        &["--override", "connections.max.idle.ms=2500"],
    );
    let addr = kpp.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let producer = keep_producing(addr.to_string(), Arc::clone(&stop));
    // the topic for the hostile Produce requests (auto-created by Metadata, as in Kafka)
    let ok = produce_frame("target", batch(50, 1000, Compression::Lz4), 1);
    let mut tries = 0;
    loop {
        kafka_python::create_topics(&addr.to_string(), &[("target", 1)]);
        // connected after the (slow) Python client: idle connections are closed here
        let mut good = connect(addr);
        if produce_error(&mut good, &ok) == ErrorCode::None {
            break;
        }
        tries += 1;
        assert!(tries < 5, "topic target cannot be produced to");
    }

    for (what, prefix) in [("2^31-1", i32::MAX), ("-1", -1)] {
        let mut s = connect(addr);
        s.write_all(&prefix.to_be_bytes()).unwrap();
        s.write_all(&[0u8; 64]).unwrap();
        assert_closed(&mut s, &format!("size prefix {what}"));
    }
    // a truncated frame, then silence: closed when it has been idle long enough
    let mut s = connect(addr);
    s.write_all(&1000i32.to_be_bytes()).unwrap();
    s.write_all(&[0, 18, 0, 3, 0, 0, 0, 1]).unwrap();
    assert_closed(&mut s, "a truncated frame left idle");
    // a Produce frame that ends inside its record batch
    let mut whole = produce_frame("target", batch(100, 1000, Compression::None), 2);
    whole.truncate(whole.len() - 40_000);
    let len = (whole.len() - 4) as i32;
    whole[..4].copy_from_slice(&len.to_be_bytes());
    let mut s = connect(addr);
    s.write_all(&whole).unwrap();
    assert_closed(&mut s, "a frame ending inside a record batch");
    // a bad CRC: refused, the connection goes on
    let mut bad = batch(100, 1000, Compression::Gzip);
    let last = bad.len() - 3;
    bad[last] ^= 0xff;
    let mut s = connect(addr);
    assert_eq!(
        produce_error(&mut s, &produce_frame("target", bad, 3)),
        ErrorCode::CorruptMessage
    );
    assert_api_versions_answered(&mut s, 4);
    // an unknown API key, versions this broker does not serve
    for (what, frame) in [
        ("API key 999", {
            let mut f = api_versions(0, 5, "hostile");
            f[4..6].copy_from_slice(&999i16.to_be_bytes());
            f
        }),
        ("Produce v2", {
            let mut f = api_versions(0, 6, "hostile");
            f[4..6].copy_from_slice(&ApiKey::Produce.key().to_be_bytes());
            f[6..8].copy_from_slice(&2i16.to_be_bytes());
            f
        }),
        ("Metadata v14", {
            let mut f = api_versions(0, 7, "hostile");
            f[4..6].copy_from_slice(&ApiKey::Metadata.key().to_be_bytes());
            f[6..8].copy_from_slice(&14i16.to_be_bytes());
            f
        }),
    ] {
        let mut s = connect(addr);
        s.write_all(&frame).unwrap();
        assert_closed(&mut s, what);
    }
    // a client newer than the broker: header v2 (flexible), a v9 body the broker cannot know
    let mut f = Vec::new();
    f.extend_from_slice(&ApiKey::ApiVersions.key().to_be_bytes());
    f.extend_from_slice(&9i16.to_be_bytes());
    f.extend_from_slice(&8i32.to_be_bytes());
    f.extend_from_slice(&7i16.to_be_bytes());
    f.extend_from_slice(b"hostile");
    f.extend_from_slice(&[0, 5, b'f', b'u', b't', b'u', 3, b'9', b'9', 0]);
    let mut s = connect(addr);
    s.write_all(&(f.len() as i32).to_be_bytes()).unwrap();
    s.write_all(&f).unwrap();
    let answer = read_frame(&mut s).expect("ApiVersions v9 is answered");
    let (h, body) = decode_response(&answer, ApiKey::ApiVersions, 0).unwrap();
    assert_eq!(h.correlation_id, 8);
    let ResponseBody::ApiVersions(r) = body else {
        panic!("{body:?}")
    };
    assert_eq!(r.error_code, ErrorCode::UnsupportedVersion.code());
    // an array count of 2^31-1 with nothing behind it
    let mut f = Vec::new();
    f.extend_from_slice(&ApiKey::Metadata.key().to_be_bytes());
    f.extend_from_slice(&1i16.to_be_bytes());
    f.extend_from_slice(&9i32.to_be_bytes());
    f.extend_from_slice(&(-1i16).to_be_bytes());
    f.extend_from_slice(&i32::MAX.to_be_bytes());
    let mut s = connect(addr);
    s.write_all(&(f.len() as i32).to_be_bytes()).unwrap();
    s.write_all(&f).unwrap();
    assert_closed(&mut s, "an array count of 2^31-1");
    // a compressed batch that inflates past the limit
    let bomb = gzip_bomb(256 << 20);
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let mut s = connect(addr);
    assert_eq!(
        produce_error(&mut s, &produce_frame("target", bomb, 9)),
        ErrorCode::CorruptMessage
    );
    assert_api_versions_answered(&mut s, 10);
    // 2,000 idle connections, while the others are served
    let idle: Vec<TcpStream> = (0..2000).map(|_| connect(addr)).collect();
    // (the first connection has been idle past connections.max.idle.ms: a new one)
    let mut good = connect(addr);
    for i in 0..20 {
        assert_eq!(produce_error(&mut good, &ok), ErrorCode::None, "round {i}");
    }
    assert_api_versions_answered(&mut connect(addr), 11);
    drop(idle);

    stop.store(true, Ordering::Relaxed);
    let sent = producer.join().expect("the kcat producer");
    assert!(sent >= 2000);
    let out = Command::new("kcat")
        .args([
            "-C",
            "-b",
            &addr.to_string(),
            "-t",
            "steady",
            "-e",
            "-q",
            "-f",
            "%k\n",
        ])
        .output()
        .expect("kcat -C");
    assert!(out.status.success());
    let read = String::from_utf8(out.stdout).unwrap().lines().count();
    assert_eq!(read, sent, "kcat read back what it produced meanwhile");
    let rss = peak_rss_mb(kpp.pid());
    println!("peak RSS {rss} MB after {sent} messages from kcat and every hostile input");
    assert!(rss < RSS_BOUND_MB, "peak RSS {rss} MB");
    let (status, log) = kpp.sigterm();
    assert!(status.success(), "{status}\n{log}");
}
