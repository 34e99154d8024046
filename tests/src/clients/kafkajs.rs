//! kafkajs 2.2.4 (npm, pinned by `tests/clients/node/package-lock.json`, installed by
//! `.ci/install.d/55-node-clients.sh`) through `tests/clients/node/produce.mjs`: one producer,
//! idempotent (acks=all, one request in flight) or not, sending in `producer.send` calls of
//! 250 records. kafkajs's own consumer needs a consumer group, so its records are read back
//! with [`super::kcat::consume`].
//!
//! What kafkajs cannot send: a header with a null value (its encoder takes the byte length of
//! every header value), two headers with one key (its headers are an object), and without a
//! codec plugin any codec but gzip.

use super::lines::{parse_output, records_input};
use super::process::run;
use super::{Acks, Codec, ProduceReport, Record};
use crate::repo_root;
use std::process::Command;
use std::time::Duration;

fn dir() -> std::path::PathBuf {
    repo_root().join("tests/clients/node")
}

/// The installed kafkajs version (its `package.json`), or a panic naming the install step.
pub fn version() -> String {
    let manifest = dir().join("node_modules/kafkajs/package.json");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `bash .ci/install` (or `bash .ci/install.d/55-node-clients.sh`)",
            manifest.display()
        )
    });
    let v: serde_json::Value = serde_json::from_str(&text).expect("kafkajs package.json is JSON");
    v["version"].as_str().unwrap_or_default().to_string()
}

/// Produces `records` with one kafkajs producer: `idempotent` (then `acks` must be
/// [`Acks::All`], as kafkajs demands) or not, compressed with `codec` ([`Codec::None`] or
/// [`Codec::Gzip`], kafkajs's built-in ones). Records naming no partition get the one kafkajs's
/// `DefaultPartitioner` (Java's murmur2) picks. Returns a delivery report per record (offset
/// `-1` with acks=0).
pub fn produce(
    bootstrap: &str,
    topic: &str,
    records: &[Record],
    idempotent: bool,
    acks: Acks,
    codec: Codec,
) -> ProduceReport {
    assert!(
        matches!(codec, Codec::None | Codec::Gzip),
        "kafkajs has no built-in {codec:?} codec"
    );
    assert!(
        !idempotent || acks == Acks::All,
        "kafkajs's idempotent producer needs acks=all"
    );
    let _ = version();
    let mut cmd = Command::new("node");
    cmd.current_dir(dir())
        .env("KAFKAJS_NO_PARTITIONER_WARNING", "1")
        .arg("produce.mjs")
        .args([
            bootstrap,
            topic,
            &idempotent.to_string(),
            &acks.wire().to_string(),
            codec.name(),
        ]);
    let f = run(
        "kafkajs produce",
        &mut cmd,
        records_input(records).as_bytes(),
        Duration::from_secs(300),
    );
    let out = parse_output(&f.stdout).unwrap_or_else(|e| panic!("kafkajs produce: {e}"));
    ProduceReport {
        deliveries: out.deliveries,
    }
}
