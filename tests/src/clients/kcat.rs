//! kcat (librdkafka's command-line client; Debian's kcat 1.7.1 with its librdkafka 2.0.2):
//! `-L` metadata, `-P` keyed messages with headers from stdin, `-C -e` to read a whole topic
//! back as JSON.

use super::process::run;
use super::{Codec, Consumed, Header, ReadBack, Record};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

/// kcat's version and its librdkafka's, from `kcat -V`: e.g. `1.7.1 (librdkafka 2.0.2)`.
pub fn version() -> String {
    let f = run(
        "kcat -V",
        Command::new("kcat").arg("-V"),
        b"",
        Duration::from_secs(20),
    );
    // "Version 1.7.1 (JSON, ..., librdkafka 2.0.2 builtin.features=...)"
    let line = f
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Version "))
        .unwrap_or_else(|| panic!("kcat -V printed no version: {}", f.stdout));
    let kcat = line.split_whitespace().next().unwrap_or_default();
    let librdkafka = line
        .split_once("librdkafka ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("?");
    format!("{kcat} (librdkafka {librdkafka})")
}

/// A partition as `kcat -L` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The partition index.
    pub partition: i32,
    /// The leader's node id.
    pub leader: i32,
    /// The replicas' node ids.
    pub replicas: Vec<i32>,
    /// The in-sync replicas' node ids.
    pub isrs: Vec<i32>,
}

/// What `kcat -L` shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The controller's node id.
    pub controller_id: i64,
    /// `(node id, "host:port")` of each broker.
    pub brokers: Vec<(i32, String)>,
    /// Each topic: its name and partitions (sorted by index), or its error.
    pub topics: Vec<(String, Result<Vec<PartitionInfo>, String>)>,
}

fn int(v: &Value, field: &str) -> i64 {
    v[field]
        .as_i64()
        .unwrap_or_else(|| panic!("kcat -L -J: no integer {field:?} in {v}"))
}

fn node_ids(v: &Value) -> Vec<i32> {
    v.as_array()
        .map(|a| a.iter().map(|n| int(n, "id") as i32).collect())
        .unwrap_or_default()
}

/// `kcat -L -J` (all topics, or only `topic`).
pub fn metadata(bootstrap: &str, topic: Option<&str>) -> Metadata {
    let mut cmd = Command::new("kcat");
    cmd.args(["-L", "-J", "-b", bootstrap, "-m", "20"]);
    if let Some(t) = topic {
        cmd.args(["-t", t]);
    }
    let f = run("kcat -L", &mut cmd, b"", Duration::from_secs(60));
    let v: Value = serde_json::from_str(f.stdout.trim())
        .unwrap_or_else(|e| panic!("kcat -L -J printed no JSON ({e}): {}", f.stdout));
    let brokers = v["brokers"]
        .as_array()
        .unwrap_or_else(|| panic!("kcat -L -J: no brokers in {v}"))
        .iter()
        .map(|b| {
            let name = b["name"].as_str().unwrap_or_default().to_string();
            (int(b, "id") as i32, name)
        })
        .collect();
    let topics = v["topics"]
        .as_array()
        .unwrap_or_else(|| panic!("kcat -L -J: no topics in {v}"))
        .iter()
        .map(|t| {
            let name = t["topic"].as_str().unwrap_or_default().to_string();
            if let Some(e) = t["error"].as_str() {
                return (name, Err(e.to_string()));
            }
            let mut parts: Vec<PartitionInfo> = t["partitions"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .map(|p| PartitionInfo {
                    partition: int(p, "partition") as i32,
                    leader: int(p, "leader") as i32,
                    replicas: node_ids(&p["replicas"]),
                    isrs: node_ids(&p["isrs"]),
                })
                .collect();
            parts.sort_by_key(|p| p.partition);
            (name, Ok(parts))
        })
        .collect();
    Metadata {
        controller_id: int(&v, "controllerid"),
        brokers,
        topics,
    }
}

/// Produces `records` with `kcat -P`: one input line `KEY<TAB>VALUE` each (`-K '\t'`), the
/// headers given once with `-H` (kcat sets the same headers on every message of a run), the
/// partition chosen by librdkafka's partitioner, compressed with `codec`, idempotently when
/// `idempotent`. kcat reports no offsets; read them back with [`consume`].
///
/// The records must be what kcat can carry (see [`super::payload::Shape`]): keys and values
/// present, text without tabs or newlines, the same headers, no partition named; else this
/// panics saying which record is not.
pub fn produce(bootstrap: &str, topic: &str, records: &[Record], codec: Codec, idempotent: bool) {
    let headers = records
        .first()
        .map(|r| r.headers.clone())
        .unwrap_or_default();
    let mut input = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let (Some(k), Some(v)) = (&r.key, &r.value) else {
            panic!("kcat -P: record {i} has a null key or value, which kcat cannot send");
        };
        let text =
            |b: &[u8]| std::str::from_utf8(b).is_ok() && !b.contains(&b'\t') && !b.contains(&b'\n');
        assert!(
            text(k) && text(v) && !k.is_empty(),
            "kcat -P: record {i}'s key or value is not one-line text without tabs"
        );
        assert_eq!(
            r.headers, headers,
            "kcat -P: record {i}'s headers differ from record 0's"
        );
        assert_eq!(r.partition, None, "kcat -P: record {i} names a partition");
        input.extend_from_slice(k);
        input.push(b'\t');
        input.extend_from_slice(v);
        input.push(b'\n');
    }
    let mut cmd = Command::new("kcat");
    cmd.args(["-P", "-b", bootstrap, "-t", topic, "-K", "\\t"]);
    cmd.args(["-X", &format!("compression.codec={}", codec.name())]);
    cmd.args(["-X", &format!("enable.idempotence={idempotent}")]);
    cmd.args(["-X", "message.timeout.ms=60000"]);
    for h in &headers {
        let value = h
            .value
            .as_deref()
            .unwrap_or_else(|| panic!("kcat -H: header {:?} is null", h.key));
        let value = std::str::from_utf8(value).expect("kcat -H: a text header value");
        cmd.arg("-H").arg(format!("{}={value}", h.key));
    }
    run("kcat -P", &mut cmd, &input, Duration::from_secs(120));
}

fn bytes(v: &Value, what: &str) -> Option<Vec<u8>> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone().into_bytes()),
        other => panic!("kcat -C -J: {what} is {other}, not a string or null"),
    }
}

fn record(line: &str) -> Consumed {
    let v: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("kcat -C -J: not JSON ({e}): {line}"));
    let headers = match &v["headers"] {
        Value::Null => Vec::new(),
        Value::Array(kv) => kv
            .chunks(2)
            .map(|p| Header {
                key: p[0].as_str().expect("kcat -C -J: a header key").to_string(),
                value: p.get(1).and_then(|v| bytes(v, "a header value")),
            })
            .collect(),
        other => panic!("kcat -C -J: headers are {other}"),
    };
    Consumed {
        partition: int(&v, "partition") as i32,
        offset: int(&v, "offset"),
        timestamp: int(&v, "ts"),
        key: bytes(&v["key"], "the key"),
        value: bytes(&v["payload"], "the payload"),
        headers,
    }
}

/// Reads every partition of `topic` from the beginning to its end with `kcat -C -e -J`: the
/// records, and the end offsets kcat reports on reaching each partition's end. Keys, values and
/// headers come back as kcat's JSON prints them: text (the records [`produce`] sends).
pub fn consume(bootstrap: &str, topic: &str) -> ReadBack {
    let mut cmd = Command::new("kcat");
    cmd.args([
        "-C",
        "-e",
        "-J",
        "-o",
        "beginning",
        "-b",
        bootstrap,
        "-t",
        topic,
    ]);
    let f = run("kcat -C", &mut cmd, b"", Duration::from_secs(120));
    let records = f
        .stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(record)
        .collect();
    // "% Reached end of topic T [P] at offset N" (": exiting" after the last).
    let end_offsets = f
        .stderr
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(&format!("% Reached end of topic {topic} ["))?;
            let (p, rest) = rest.split_once("] at offset ")?;
            let n = rest.split(':').next()?.trim();
            Some((p.parse().ok()?, n.parse().ok()?))
        })
        .collect();
    ReadBack {
        records,
        end_offsets,
    }
}
