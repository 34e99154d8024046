//! Byte-for-byte conformance with Apache Kafka's own serializers (kafka-clients 4.4.0 and 3.9.1,
//! through the harness in tests/java/conformance): for every released (key, version), requests
//! and responses, and the headers, random kproto messages are written in the JSON form of
//! Kafka's `*JsonConverter` classes; Kafka reads that JSON and writes the message with its own
//! code; Kafka's bytes must equal kproto's, and must decode in kproto to the same message.

use bytes::{Bytes, BytesMut};
use integration_tests::{cache_dir, repo_root};
use kproto::messages::{RequestHeader, ResponseHeader};
use kproto::testing::{Rng, TestMessage};
use kproto::versions::{KAFKA_3_9_1, KAFKA_4_4_0};
use kproto::{ApiKey, Message, RequestBody, ResponseBody};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

const INSTANCES: u64 = 60;

/// One message to check: what it is, kproto's bytes, and the JSON line for the harness.
struct Case {
    what: String,
    kind: &'static str,
    key: ApiKey,
    version: i16,
    ours: Vec<u8>,
    line: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn encode<M: Message>(m: &M, v: i16) -> Vec<u8> {
    let mut b = BytesMut::new();
    m.encode(&mut b, v).unwrap();
    b.to_vec()
}

fn body_case(key: ApiKey, v: i16, n: u64, response: bool) -> Case {
    let seed = ((key.key() as u64) << 32) ^ ((v as u64) << 16) ^ (u64::from(response) << 12) ^ n;
    let mut rng = Rng::new(seed);
    let (kind, ours, json) = if response {
        let m = ResponseBody::random(key, &mut rng, v, false);
        let mut b = BytesMut::new();
        m.encode(&mut b, v).unwrap();
        ("response", b.to_vec(), m.kafka_json(v))
    } else {
        let m = RequestBody::random(key, &mut rng, v, false);
        let mut b = BytesMut::new();
        m.encode(&mut b, v).unwrap();
        ("request", b.to_vec(), m.kafka_json(v))
    };
    Case {
        what: format!("{key:?} v{v} {kind} seed {seed}"),
        kind,
        key,
        version: v,
        line: format!(
            "{{\"k\":{},\"v\":{v},\"t\":\"{kind}\",\"j\":{json}}}",
            key.key()
        ),
        ours,
    }
}

fn header_cases(kind: &'static str, v: i16, n: u64) -> Case {
    let mut rng = Rng::new(0x4ead ^ (u64::from(v as u16) << 8) ^ n);
    let (ours, json) = if kind == "requestHeader" {
        let h = RequestHeader::random(&mut rng, v, false);
        (encode(&h, v), h.kafka_json(v))
    } else {
        let h = ResponseHeader::random(&mut rng, v, false);
        (encode(&h, v), h.kafka_json(v))
    };
    Case {
        what: format!("{kind} v{v} #{n}"),
        kind,
        key: ApiKey::Produce,
        version: v,
        line: format!("{{\"k\":0,\"v\":{v},\"t\":\"{kind}\",\"j\":{json}}}"),
        ours,
    }
}

/// Runs the harness for one kafka-clients version over all lines; one answer per line.
fn run_harness(kafka: &str, lines: &[String]) -> Vec<String> {
    let script = repo_root().join("tests/java/conformance/run.sh");
    let classes = cache_dir().join(format!("java/conformance-{kafka}/Conformance.class"));
    assert!(
        classes.exists(),
        "{} is missing: run `bash .ci/install` (it builds the Java harness)",
        classes.display()
    );
    let mut child = Command::new("bash")
        .arg(&script)
        .arg(kafka)
        .env("KPP_CACHE", cache_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the Java harness");
    let mut stdin = child.stdin.take().unwrap();
    let input = lines.join("\n") + "\n";
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .collect();
    writer.join().unwrap().unwrap();
    assert!(
        child.wait().unwrap().success(),
        "harness for {kafka} failed"
    );
    assert_eq!(
        out.len(),
        lines.len(),
        "harness for {kafka} answered {} of {} lines",
        out.len(),
        lines.len()
    );
    out
}

fn check(kafka: &str, cases: &[Case]) -> (usize, Vec<String>) {
    let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
    let answers = run_harness(kafka, &lines);
    let mut failures = Vec::new();
    for (c, a) in cases.iter().zip(&answers) {
        let Some(h) = a.strip_prefix("OK ") else {
            failures.push(format!(
                "{}: Kafka {kafka} refused it: {a}\n  json: {}",
                c.what, c.line
            ));
            continue;
        };
        let theirs = unhex(h);
        if theirs != c.ours {
            failures.push(format!(
                "{}: bytes differ\n  kproto: {}\n  kafka:  {h}\n  json: {}",
                c.what,
                hex(&c.ours),
                c.line
            ));
            continue;
        }
        // Kafka's bytes decode in kproto to the message kproto started from (which re-encodes
        // to the same bytes; compared as bytes because that is what a decode must preserve).
        let mut buf = Bytes::from(theirs.clone());
        let back = match c.kind {
            "request" => RequestBody::decode(c.key, &mut buf, c.version)
                .map(|m| encode_any_req(&m, c.version)),
            "response" => ResponseBody::decode(c.key, &mut buf, c.version)
                .map(|m| encode_any_resp(&m, c.version)),
            "requestHeader" => {
                RequestHeader::decode(&mut buf, c.version).map(|m| encode(&m, c.version))
            }
            _ => ResponseHeader::decode(&mut buf, c.version).map(|m| encode(&m, c.version)),
        };
        match back {
            Ok(b) if b == theirs && buf.is_empty() => {}
            Ok(_) => failures.push(format!(
                "{}: Kafka's bytes decode differently in kproto",
                c.what
            )),
            Err(e) => failures.push(format!(
                "{}: kproto cannot decode Kafka's bytes: {e}",
                c.what
            )),
        }
    }
    (cases.len() - failures.len(), failures)
}

fn encode_any_req(m: &RequestBody, v: i16) -> Vec<u8> {
    let mut b = BytesMut::new();
    m.encode(&mut b, v).unwrap();
    b.to_vec()
}

fn encode_any_resp(m: &ResponseBody, v: i16) -> Vec<u8> {
    let mut b = BytesMut::new();
    m.encode(&mut b, v).unwrap();
    b.to_vec()
}

#[test]
fn kproto_writes_what_kafka_writes_for_every_released_key_and_version() {
    // Versions 4.4.0 has go to kafka-clients 4.4.0; versions only 3.9.1 has go to 3.9.1.
    let new_min: BTreeMap<ApiKey, i16> = KAFKA_4_4_0.iter().map(|r| (r.api_key, r.min)).collect();
    let mut by_release: BTreeMap<&str, Vec<Case>> = BTreeMap::new();
    let mut pairs = 0;
    for r in KAFKA_4_4_0 {
        for v in r.min..=r.max {
            pairs += 1;
            for n in 0..INSTANCES {
                by_release
                    .entry("4.4.0")
                    .or_default()
                    .push(body_case(r.api_key, v, n, false));
                by_release
                    .entry("4.4.0")
                    .or_default()
                    .push(body_case(r.api_key, v, n, true));
            }
        }
    }
    for r in KAFKA_3_9_1 {
        let below = new_min.get(&r.api_key).copied().unwrap_or(i16::MAX);
        for v in r.min..=r.max.min(below - 1) {
            pairs += 1;
            for n in 0..INSTANCES {
                by_release
                    .entry("3.9.1")
                    .or_default()
                    .push(body_case(r.api_key, v, n, false));
                by_release
                    .entry("3.9.1")
                    .or_default()
                    .push(body_case(r.api_key, v, n, true));
            }
        }
    }
    for n in 0..INSTANCES {
        for v in 1..=2 {
            by_release
                .entry("4.4.0")
                .or_default()
                .push(header_cases("requestHeader", v, n));
        }
        for v in 0..=1 {
            by_release
                .entry("4.4.0")
                .or_default()
                .push(header_cases("responseHeader", v, n));
        }
        by_release
            .entry("3.9.1")
            .or_default()
            .push(header_cases("requestHeader", 0, n));
    }
    assert_eq!(
        pairs, 363,
        "every released (key, version) pair is checked once"
    );

    let mut all_failures = Vec::new();
    for (kafka, cases) in &by_release {
        let (ok, failures) = check(kafka, cases);
        println!(
            "kafka-clients {kafka}: {ok} of {} messages byte-identical both ways",
            cases.len()
        );
        all_failures.extend(failures);
    }
    if !all_failures.is_empty() {
        let shown: Vec<_> = all_failures.iter().take(15).cloned().collect();
        panic!(
            "{} mismatches; first ones:\n{}",
            all_failures.len(),
            shown.join("\n")
        );
    }
}
