//! Conformance with Apache Kafka's own serializers (kafka-clients 4.4.0 and 3.9.1, through the
//! harness in tests/java/conformance), both directions, for every released (key, version),
//! requests and responses, over random kproto messages of realistic size (KB strings, arrays of
//! hundreds, real record batches up to about 1 MiB):
//!
//! 1. kproto writes the message in the JSON form of Kafka's `*JsonConverter` classes; Kafka
//!    reads that JSON and writes the WHOLE frame as its network layer sends it (`SendBuilder`:
//!    size prefix, header, body). Kafka's frame must equal `kproto::frame`'s byte for byte.
//! 2. Kafka writes back, through its JsonConverters, the messages it read: that JSON must equal
//!    kproto's, field by field. A field Kafka has and kproto does not model, or one kproto names
//!    differently, shows up here.
//! 3. kproto decodes Kafka's frame; the decoded header and body, written as JSON, must equal the
//!    JSON kproto started from. A field kproto's decoder drops shows up here.
//!
//! The headers on their own (every header version) are checked the same way.

use bytes::{Buf, Bytes, BytesMut};
use integration_tests::records::{peer_timeout, LinePeer};
use integration_tests::{cache_dir, repo_root};
use kproto::frame::{decode_request, decode_response, encode_request_frame, encode_response_frame};
use kproto::messages::{RequestHeader, ResponseHeader};
use kproto::testing::{Rng, TestMessage};
use kproto::versions::{KAFKA_3_9_1, KAFKA_4_4_0};
use kproto::{ApiKey, Message, RequestBody, ResponseBody};
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

/// Random messages per (key, version, direction).
const INSTANCES: u64 = 12;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    RequestFrame,
    ResponseFrame,
    RequestHeader,
    ResponseHeader,
}

/// One message to check: what it is, kproto's bytes and JSON, and the line for the harness.
struct Case {
    what: String,
    kind: Kind,
    key: ApiKey,
    version: i16,
    header_version: i16,
    /// kproto's bytes: the whole frame (size prefix included), or the header alone.
    ours: Vec<u8>,
    /// kproto's JSON of the header (frames) and of the message (the body, or the header alone).
    json_h: String,
    json_j: String,
    line: String,
}

fn seed_of(key: ApiKey, v: i16, n: u64, response: bool) -> u64 {
    ((key.key() as u64) << 32) ^ ((v as u64) << 16) ^ (u64::from(response) << 12) ^ n
}

fn frame_case(key: ApiKey, v: i16, n: u64, response: bool) -> Case {
    let seed = seed_of(key, v, n, response);
    let mut rng = Rng::new(seed);
    let mut ours = BytesMut::new();
    let (kind, hv, json_h, json_j, t) = if response {
        let hv = key.response_header_version(v);
        let body = ResponseBody::random(key, &mut rng, v, false);
        let header = ResponseHeader {
            correlation_id: rng.next_u64() as i32,
            ..Default::default()
        };
        encode_response_frame(header.correlation_id, &body, v, &mut ours)
            .unwrap_or_else(|e| panic!("seed {seed}: {key:?} v{v} response frame: {e}"));
        let j = body.kafka_json(v);
        (
            Kind::ResponseFrame,
            hv,
            header.kafka_json(hv),
            j,
            "responseFrame",
        )
    } else {
        let hv = key.request_header_version(v);
        let body = RequestBody::random(key, &mut rng, v, false);
        let mut header = RequestHeader::random(&mut rng, hv, false);
        header.request_api_key = key.key();
        header.request_api_version = v;
        encode_request_frame(&header, &body, &mut ours)
            .unwrap_or_else(|e| panic!("seed {seed}: {key:?} v{v} request frame: {e}"));
        let j = body.kafka_json(v);
        (
            Kind::RequestFrame,
            hv,
            header.kafka_json(hv),
            j,
            "requestFrame",
        )
    };
    Case {
        what: format!("{key:?} v{v} {t} seed {seed}"),
        kind,
        key,
        version: v,
        header_version: hv,
        line: format!(
            "{{\"t\":\"{t}\",\"k\":{},\"v\":{v},\"hv\":{hv},\"h\":{json_h},\"j\":{json_j}}}",
            key.key()
        ),
        ours: ours.to_vec(),
        json_h,
        json_j,
    }
}

fn encode<M: Message>(m: &M, v: i16) -> Vec<u8> {
    let mut b = BytesMut::new();
    m.encode(&mut b, v).unwrap();
    b.to_vec()
}

fn header_case(kind: Kind, v: i16, n: u64) -> Case {
    let mut rng = Rng::new(0x4ead ^ (u64::from(v as u16) << 8) ^ n);
    let (t, ours, json) = if kind == Kind::RequestHeader {
        let h = RequestHeader::random(&mut rng, v, false);
        ("requestHeader", encode(&h, v), h.kafka_json(v))
    } else {
        let h = ResponseHeader::random(&mut rng, v, false);
        ("responseHeader", encode(&h, v), h.kafka_json(v))
    };
    Case {
        what: format!("{t} v{v} #{n}"),
        kind,
        key: ApiKey::Produce,
        version: v,
        header_version: v,
        line: format!("{{\"t\":\"{t}\",\"v\":{v},\"echo\":true,\"j\":{json}}}"),
        ours,
        json_h: String::new(),
        json_j: json,
    }
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Where two byte strings first differ, with a little context (frames can be a megabyte).
fn byte_diff(ours: &[u8], theirs: &[u8]) -> String {
    let at = ours
        .iter()
        .zip(theirs)
        .position(|(a, b)| a != b)
        .unwrap_or(ours.len().min(theirs.len()));
    let from = at.saturating_sub(16);
    let ctx = |b: &[u8]| hex(&b[from.min(b.len())..(at + 16).min(b.len())]);
    format!(
        "kproto wrote {} bytes, Kafka {}; first difference at byte {at}\n  kproto [{from}..]: {}\n  kafka  [{from}..]: {}",
        ours.len(),
        theirs.len(),
        ctx(ours),
        ctx(theirs)
    )
}

/// At most the first `n` bytes of `s`, cut at a character boundary.
fn cut(s: &str, n: usize) -> &str {
    let mut n = n.min(s.len());
    while !s.is_char_boundary(n) {
        n -= 1;
    }
    &s[..n]
}

/// The first place two JSON values differ, as a path (`$.topics[3].name`), or `None`.
fn json_diff(path: &str, ours: &Value, theirs: &Value) -> Option<String> {
    fn short(v: Option<&Value>) -> String {
        let s = match v {
            None => return "(absent)".into(),
            Some(v) => v.to_string(),
        };
        if s.len() > 120 {
            format!("{}… ({} chars)", cut(&s, 120), s.len())
        } else {
            s
        }
    }
    match (ours, theirs) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                let p = format!("{path}.{k}");
                match b.get(k) {
                    Some(vb) => {
                        if let Some(d) = json_diff(&p, va, vb) {
                            return Some(d);
                        }
                    }
                    None => {
                        return Some(format!("{p}: kproto {}, Kafka (absent)", short(Some(va))))
                    }
                }
            }
            b.iter().find(|(k, _)| !a.contains_key(*k)).map(|(k, vb)| {
                format!(
                    "{path}.{k}: kproto (absent), Kafka {} (a field kproto does not model?)",
                    short(Some(vb))
                )
            })
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                return Some(format!(
                    "{path}: kproto has {} entries, Kafka {}",
                    a.len(),
                    b.len()
                ));
            }
            a.iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (x, y))| json_diff(&format!("{path}[{i}]"), x, y))
        }
        (Value::Number(a), Value::Number(b)) if a.is_f64() || b.is_f64() => {
            // A float64 field: Rust and Java print it differently (1e300, 1.0E300) and
            // serde_json's default float parsing may land a unit in the last place off. The
            // bytes were compared exactly already; here one or two ulps is the same value.
            let (x, y) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            let ulps = (x.to_bits() as i64)
                .wrapping_sub(y.to_bits() as i64)
                .unsigned_abs();
            (ulps > 2).then(|| format!("{path}: kproto {a}, Kafka {b}"))
        }
        (a, b) if a == b => None,
        (a, b) => Some(format!(
            "{path}: kproto {}, Kafka {}",
            short(Some(a)),
            short(Some(b))
        )),
    }
}

fn parse_json(what: &str, s: &str) -> Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{what}: JSON does not parse: {e}"))
}

/// Runs the harness for one kafka-clients version over all lines; one answer per line. The
/// harness runs as a [`LinePeer`]: one that goes silent for [`peer_timeout`] (a hung JVM) is
/// killed and the test fails saying so, instead of hanging CI.
fn run_harness(kafka: &str, lines: &[String]) -> Vec<String> {
    let script = repo_root().join("tests/java/conformance/run.sh");
    let classes = cache_dir().join(format!("java/conformance-{kafka}/Conformance.class"));
    assert!(
        classes.exists(),
        "{} is missing: run `bash .ci/install` (it builds the Java harness)",
        classes.display()
    );
    let mut cmd = Command::new("bash");
    cmd.arg(&script).arg(kafka).env("KPP_CACHE", cache_dir());
    let mut peer = LinePeer::spawn(
        &format!("the Java conformance harness (kafka-clients {kafka})"),
        cmd,
        peer_timeout(),
    );
    peer.send(&(lines.join("\n") + "\n"));
    let mut out = Vec::with_capacity(lines.len());
    while out.len() < lines.len() {
        match peer.read_line() {
            Some(line) => out.push(line),
            None => panic!(
                "the harness for {kafka} exited after answering {} of {} lines",
                out.len(),
                lines.len()
            ),
        }
    }
    out
}

/// Checks one answer of the harness; `Err` says what differs.
fn check_one(kafka: &str, c: &Case, answer: &str) -> Result<(), String> {
    let Some(rest) = answer.strip_prefix("OK ") else {
        let line = if c.line.len() > 600 {
            format!("{}… ({} chars)", cut(&c.line, 600), c.line.len())
        } else {
            c.line.clone()
        };
        return Err(format!(
            "Kafka {kafka} refused it: {answer}\n  line: {line}"
        ));
    };
    let (h, json) = rest
        .split_once(' ')
        .ok_or_else(|| format!("answer without JSON: {answer}"))?;
    let theirs = unhex(h).ok_or("answer with bad hex")?;

    // 1. The bytes.
    if theirs != c.ours {
        return Err(format!("bytes differ: {}", byte_diff(&c.ours, &theirs)));
    }

    // 2. Kafka's JSON of what it read equals kproto's, field by field.
    let kafka_json = parse_json("Kafka's answer", json);
    let (ours_h, ours_j) = match c.kind {
        Kind::RequestFrame | Kind::ResponseFrame => (
            Some(parse_json("kproto's header JSON", &c.json_h)),
            parse_json("kproto's JSON", &c.json_j),
        ),
        _ => (None, parse_json("kproto's JSON", &c.json_j)),
    };
    let diff = match &ours_h {
        Some(oh) => json_diff("$h", oh, &kafka_json["h"])
            .or_else(|| json_diff("$", &ours_j, &kafka_json["j"])),
        None => json_diff("$", &ours_j, &kafka_json),
    };
    if let Some(d) = diff {
        return Err(format!("Kafka's JsonConverter reads it differently: {d}"));
    }

    // 3. kproto decodes Kafka's bytes to the message it started from (compared as JSON).
    let (v, hv) = (c.version, c.header_version);
    let (back_h, back_j) = match c.kind {
        Kind::RequestFrame | Kind::ResponseFrame => {
            let mut frame = Bytes::from(theirs);
            let size = frame.get_i32();
            if size as usize != frame.len() {
                return Err(format!(
                    "Kafka's size prefix {size} is not the {} bytes that follow",
                    frame.len()
                ));
            }
            if c.kind == Kind::RequestFrame {
                let (h, b) = decode_request(&frame)
                    .map_err(|e| format!("kproto cannot decode Kafka's frame: {e}"))?;
                (h.kafka_json(hv), b.kafka_json(v))
            } else {
                let (h, b) = decode_response(&frame, c.key, v)
                    .map_err(|e| format!("kproto cannot decode Kafka's frame: {e}"))?;
                (h.kafka_json(hv), b.kafka_json(v))
            }
        }
        Kind::RequestHeader | Kind::ResponseHeader => {
            let mut buf = Bytes::from(theirs);
            let j = if c.kind == Kind::RequestHeader {
                RequestHeader::decode(&mut buf, v).map(|m| m.kafka_json(v))
            } else {
                ResponseHeader::decode(&mut buf, v).map(|m| m.kafka_json(v))
            }
            .map_err(|e| format!("kproto cannot decode Kafka's bytes: {e}"))?;
            if !buf.is_empty() {
                return Err(format!("kproto left {} of Kafka's bytes", buf.len()));
            }
            (String::new(), j)
        }
    };
    if back_h != c.json_h || back_j != c.json_j {
        let d = json_diff(
            "$h",
            &parse_json(
                "decoded header",
                if back_h.is_empty() { "{}" } else { &back_h },
            ),
            &parse_json("header", if c.json_h.is_empty() { "{}" } else { &c.json_h }),
        )
        .or_else(|| {
            json_diff(
                "$",
                &parse_json("decoded", &back_j),
                &parse_json("original", &c.json_j),
            )
        })
        .unwrap_or_else(|| "(same values, different text)".into());
        return Err(format!(
            "kproto decodes Kafka's bytes to another message (\"kproto\" = decoded, \"Kafka\" = what was sent): {d}"
        ));
    }
    Ok(())
}

/// Byte and size figures of a run, to show the sizes are realistic.
#[derive(Default)]
struct Figures {
    bytes: usize,
    largest: usize,
    over_16k: usize,
}

fn check(kafka: &str, cases: &[Case]) -> (usize, Vec<String>, Figures) {
    let lines: Vec<String> = cases.iter().map(|c| c.line.clone()).collect();
    let answers = run_harness(kafka, &lines);
    let mut failures = Vec::new();
    let mut fig = Figures::default();
    for (c, a) in cases.iter().zip(&answers) {
        fig.bytes += c.ours.len();
        fig.largest = fig.largest.max(c.ours.len());
        fig.over_16k += usize::from(c.ours.len() > 16 << 10);
        if let Err(e) = check_one(kafka, c, a) {
            failures.push(format!("{}: {e}", c.what));
        }
    }
    (cases.len() - failures.len(), failures, fig)
}

#[test]
fn kproto_and_kafka_agree_on_every_released_key_and_version_both_ways() {
    // Versions 4.4.0 has go to kafka-clients 4.4.0; versions only 3.9.1 has go to 3.9.1.
    let new_min: BTreeMap<ApiKey, i16> = KAFKA_4_4_0.iter().map(|r| (r.api_key, r.min)).collect();
    let mut by_release: BTreeMap<&str, Vec<Case>> = BTreeMap::new();
    let mut pairs = 0;
    let mut add_pair = |release: &'static str, key: ApiKey, v: i16| {
        for n in 0..INSTANCES {
            let cases = by_release.entry(release).or_default();
            cases.push(frame_case(key, v, n, false));
            cases.push(frame_case(key, v, n, true));
        }
    };
    for r in KAFKA_4_4_0 {
        for v in r.min..=r.max {
            pairs += 1;
            add_pair("4.4.0", r.api_key, v);
        }
    }
    for r in KAFKA_3_9_1 {
        let below = new_min.get(&r.api_key).copied().unwrap_or(i16::MAX);
        for v in r.min..=r.max.min(below - 1) {
            pairs += 1;
            add_pair("3.9.1", r.api_key, v);
        }
    }
    assert_eq!(
        pairs, 363,
        "every released (key, version) pair is checked once"
    );
    for n in 0..INSTANCES * 4 {
        let new = by_release.entry("4.4.0").or_default();
        for v in 1..=2 {
            new.push(header_case(Kind::RequestHeader, v, n));
        }
        for v in 0..=1 {
            new.push(header_case(Kind::ResponseHeader, v, n));
        }
        by_release
            .entry("3.9.1")
            .or_default()
            .push(header_case(Kind::RequestHeader, 0, n));
    }

    let mut all_failures = Vec::new();
    for (kafka, cases) in &by_release {
        let (ok, failures, fig) = check(kafka, cases);
        println!(
            "kafka-clients {kafka}: {ok} of {} frames and headers agree both ways \
             ({} bytes, largest frame {}, {} over 16 KiB)",
            cases.len(),
            fig.bytes,
            fig.largest,
            fig.over_16k
        );
        all_failures.extend(failures);
    }
    if !all_failures.is_empty() {
        // The first two of each message kind (a failure starts with "Key vN kind").
        let mut per_kind: BTreeMap<String, usize> = BTreeMap::new();
        let shown: Vec<_> = all_failures
            .iter()
            .filter(|f| {
                let mut w = f.split(' ');
                let kind = format!("{} {}", w.next().unwrap_or(""), w.nth(1).unwrap_or(""));
                let n = per_kind.entry(kind).or_default();
                *n += 1;
                *n <= 2
            })
            .take(40)
            .cloned()
            .collect();
        panic!(
            "{} mismatches in {} kinds of message; the first of each:\n{}",
            all_failures.len(),
            per_kind.len(),
            shown.join("\n")
        );
    }
}

#[test]
fn kafka_refuses_strings_over_32767_bytes_where_kproto_does() {
    use kproto::messages::{ApiVersionsRequest, MetadataRequest, SaslAuthenticateRequest};
    use kproto::{DecodeError, EncodeError};
    let long = "x".repeat(32_768);
    let longest = "x".repeat(32_767);
    let api_versions = |name: &str| ApiVersionsRequest {
        client_software_name: name.into(),
        client_software_version: "1".into(),
        ..Default::default()
    };
    let metadata = |name: &str| MetadataRequest {
        topics: Some(vec![
            kproto::messages::metadata::request::MetadataRequestTopic {
                name: Some(name.into()),
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    let sasl = SaslAuthenticateRequest {
        auth_bytes: vec![7u8; 40_000].into(),
        ..Default::default()
    };
    // A compact string claiming 32768 bytes, with the bytes: ApiVersionsRequest v3.
    let mut crafted = vec![0x81, 0x80, 0x02]; // uvarint 32769
    crafted.extend_from_slice(long.as_bytes());
    crafted.extend_from_slice(&[2, b'1', 0]);

    let cases: Vec<(String, String, Result<Vec<u8>, String>)> = vec![
        (
            "ApiVersions v3, a 32767-byte name".into(),
            format!(
                "{{\"t\":\"request\",\"k\":18,\"v\":3,\"j\":{}}}",
                api_versions(&longest).kafka_json(3)
            ),
            Ok(encode(&api_versions(&longest), 3)),
        ),
        (
            "ApiVersions v3 (compact), a 32768-byte name".into(),
            format!(
                "{{\"t\":\"request\",\"k\":18,\"v\":3,\"j\":{}}}",
                api_versions(&long).kafka_json(3)
            ),
            Err("'clientSoftwareName' field is too long to be serialized".into()),
        ),
        (
            "Metadata v1 (classic), a 32768-byte topic name".into(),
            format!(
                "{{\"t\":\"request\",\"k\":3,\"v\":1,\"j\":{}}}",
                metadata(&long).kafka_json(1)
            ),
            Err("'name' field is too long to be serialized".into()),
        ),
        (
            "SaslAuthenticate v2, 40000 bytes (bytes are not limited)".into(),
            format!(
                "{{\"t\":\"request\",\"k\":36,\"v\":2,\"j\":{}}}",
                sasl.kafka_json(2)
            ),
            Ok(encode(&sasl, 2)),
        ),
        (
            "decoding ApiVersions v3 with a name length of 32768".into(),
            format!(
                "{{\"t\":\"decodeRequest\",\"k\":18,\"v\":3,\"hex\":\"{}\"}}",
                hex(&crafted)
            ),
            Err("string field clientSoftwareName had invalid length 32768".into()),
        ),
    ];
    // kproto agrees with each expectation.
    assert_eq!(
        api_versions(&long).encoded_len(3),
        Err(EncodeError::StringTooLong {
            field: "ApiVersionsRequest.ClientSoftwareName",
            len: 32_768
        })
    );
    assert_eq!(
        metadata(&long).encoded_len(1),
        Err(EncodeError::StringTooLong {
            field: "MetadataRequestTopic.Name",
            len: 32_768
        })
    );
    assert!(matches!(
        ApiVersionsRequest::decode(&mut Bytes::from(crafted.clone()), 3),
        Err(DecodeError::StringTooLong { len: 32_768, at }) if at.field == "ApiVersionsRequest.ClientSoftwareName"
    ));

    let lines: Vec<String> = cases.iter().map(|c| c.1.clone()).collect();
    for kafka in ["4.4.0", "3.9.1"] {
        let answers = run_harness(kafka, &lines);
        for ((what, _, want), got) in cases.iter().zip(&answers) {
            match want {
                Ok(bytes) => assert_eq!(
                    got.strip_prefix("OK ").and_then(unhex).as_ref(),
                    Some(bytes),
                    "{kafka}: {what}: {}",
                    cut(got, 200)
                ),
                Err(msg) => assert!(
                    got.starts_with("ERR ") && got.contains(msg.as_str()),
                    "{kafka}: {what}: expected an error containing {msg:?}, got {}",
                    cut(got, 200)
                ),
            }
        }
    }
}

/// What is being compared, the harness line that asks Kafka, and kproto's sorted field paths.
type SchemaCase = (String, String, Vec<String>);

#[test]
fn kproto_carries_every_field_of_kafkas_compiled_schemas() {
    // What kproto carries at each version against Kafka's own XxxData.SCHEMAS[v], nested and
    // tagged fields included: a field Kafka has and kproto does not model (or the reverse) is
    // named here even when it is tagged, which a JSON echo cannot show (Kafka's JsonConverter
    // leaves tagged fields at their default out).
    let new_min: BTreeMap<ApiKey, i16> = KAFKA_4_4_0.iter().map(|r| (r.api_key, r.min)).collect();
    let mut by_release: BTreeMap<&str, Vec<SchemaCase>> = BTreeMap::new();
    let mut add = |release: &'static str, key: ApiKey, v: i16| {
        for (kind, ours) in [
            ("request", RequestBody::schema_paths(key, v)),
            ("response", ResponseBody::schema_paths(key, v)),
        ] {
            let mut ours = ours;
            ours.sort();
            by_release.entry(release).or_default().push((
                format!("{key:?} v{v} {kind}"),
                format!(
                    "{{\"t\":\"schema\",\"kind\":\"{kind}\",\"k\":{},\"v\":{v}}}",
                    key.key()
                ),
                ours,
            ));
        }
    };
    for r in KAFKA_4_4_0 {
        for v in r.min..=r.max {
            add("4.4.0", r.api_key, v);
        }
    }
    for r in KAFKA_3_9_1 {
        let below = new_min.get(&r.api_key).copied().unwrap_or(i16::MAX);
        for v in r.min..=r.max.min(below - 1) {
            add("3.9.1", r.api_key, v);
        }
    }
    for (release, kind, v) in [
        ("3.9.1", "requestHeader", 0),
        ("4.4.0", "requestHeader", 1),
        ("4.4.0", "requestHeader", 2),
        ("4.4.0", "responseHeader", 0),
        ("4.4.0", "responseHeader", 1),
    ] {
        let mut ours = if kind == "requestHeader" {
            RequestHeader::schema_paths(v)
        } else {
            ResponseHeader::schema_paths(v)
        };
        ours.sort();
        by_release.entry(release).or_default().push((
            format!("{kind} v{v}"),
            format!("{{\"t\":\"schema\",\"kind\":\"{kind}\",\"v\":{v}}}"),
            ours,
        ));
    }
    let mut failures = Vec::new();
    let mut fields = 0;
    for (kafka, cases) in &by_release {
        let lines: Vec<String> = cases.iter().map(|c| c.1.clone()).collect();
        let answers = run_harness(kafka, &lines);
        for ((what, _, ours), answer) in cases.iter().zip(&answers) {
            let Some(json) = answer.strip_prefix("OK ") else {
                failures.push(format!("{what}: Kafka {kafka}: {answer}"));
                continue;
            };
            let theirs: Vec<String> = serde_json::from_str(json).unwrap();
            fields += theirs.len();
            let missing: Vec<_> = theirs.iter().filter(|p| !ours.contains(p)).collect();
            let extra: Vec<_> = ours.iter().filter(|p| !theirs.contains(p)).collect();
            if !missing.is_empty() || !extra.is_empty() {
                failures.push(format!(
                    "{what} (kafka-clients {kafka}): kproto lacks {missing:?}, has fields Kafka does not: {extra:?}"
                ));
            }
        }
    }
    println!("{fields} schema fields compared");
    assert!(
        failures.is_empty(),
        "{} messages differ; first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(15)].join("\n")
    );
}
