//! kafka-python (3.0.12, in the venv `.ci/install.d/20-python.sh` makes) through
//! `tests/clients/python/kafka_python_client.py`: `KafkaAdminClient.create_topics`, a
//! `KafkaProducer` per (codec, acks) run, and a `KafkaConsumer` without a group that assigns
//! every partition and reads to the end offsets.

use super::lines::{parse_output, records_input};
use super::process::{run, Finished};
use super::{Acks, Codec, ProduceReport, ReadBack, Record};
use crate::{cache_dir, repo_root};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// The venv's Python, or a panic naming the install step that makes it.
pub(crate) fn venv_python(module: &str, install: &str) -> PathBuf {
    let python = cache_dir().join("venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash .ci/install` (or `bash .ci/install.d/{install}`)",
        python.display()
    );
    let probe = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    assert!(
        probe.status.success(),
        "the venv lacks {module}: run `bash .ci/install.d/{install}` ({})",
        String::from_utf8_lossy(&probe.stderr).trim()
    );
    python
}

fn script(name: &str) -> PathBuf {
    repo_root().join("tests/clients/python").join(name)
}

fn client(args: &[&str], stdin: &[u8], timeout: Duration) -> Finished {
    let python = venv_python("kafka", "20-python.sh");
    let mut cmd = Command::new(python);
    cmd.arg(script("kafka_python_client.py")).args(args);
    run(
        &format!("kafka-python {}", args[0]),
        &mut cmd,
        stdin,
        timeout,
    )
}

/// kafka-python's version (`kafka.__version__`).
pub fn version() -> String {
    let python = venv_python("kafka", "20-python.sh");
    let f = run(
        "kafka-python version",
        Command::new(python).args(["-c", "import kafka; print(kafka.__version__)"]),
        b"",
        Duration::from_secs(30),
    );
    f.stdout.trim().to_string()
}

/// Creates `topics` (`(name, partitions)`, replication factor 1) with `KafkaAdminClient`.
pub fn create_topics(bootstrap: &str, topics: &[(&str, i32)]) {
    let specs: Vec<String> = topics.iter().map(|(t, p)| format!("{t}:{p}")).collect();
    let mut args = vec!["create-topics", bootstrap];
    args.extend(specs.iter().map(String::as_str));
    client(&args, b"", Duration::from_secs(60));
}

/// Runs one `KafkaProducer` per `(codec, acks, records)`, one after another (each flushed and
/// closed before the next starts), sending each record to its partition or to the one the
/// default partitioner picks. acks=all runs are idempotent (kafka-python's default); acks 0
/// and 1 runs set `enable_idempotence=False` (idempotence needs acks=all). Returns each run's
/// delivery reports.
///
/// For acks=0 the reported offsets are `-1`: kafka-python 3.0.12 completes an acks=0 batch
/// with a synthetic response whose `base_offset` is the schema default 0, so its own numbers
/// (0, 1, 2, ... per batch) are not offsets and are replaced here.
pub fn produce(
    bootstrap: &str,
    topic: &str,
    runs: &[(Codec, Acks, &[Record])],
) -> Vec<ProduceReport> {
    let specs: Vec<String> = runs
        .iter()
        .map(|(c, a, rs)| format!("{}:{}:{}", c.name(), a.wire(), rs.len()))
        .collect();
    let input: String = runs.iter().map(|(_, _, rs)| records_input(rs)).collect();
    let mut args = vec!["produce", bootstrap, topic];
    args.extend(specs.iter().map(String::as_str));
    let f = client(&args, input.as_bytes(), Duration::from_secs(300));
    let out = parse_output(&f.stdout).unwrap_or_else(|e| panic!("kafka-python produce: {e}"));
    let counts: Vec<usize> = runs.iter().map(|(_, _, rs)| rs.len()).collect();
    let by_run = out
        .deliveries_by_run(&counts)
        .unwrap_or_else(|e| panic!("kafka-python produce: {e}"));
    by_run
        .into_iter()
        .zip(runs)
        .map(|(mut deliveries, (_, acks, _))| {
            if *acks == Acks::None {
                deliveries.iter_mut().for_each(|d| d.offset = -1);
            }
            ProduceReport { deliveries }
        })
        .collect()
}

/// Reads every partition of `topic` from the beginning to its end offsets with a
/// `KafkaConsumer` without a group (`assign`, `seek_to_beginning`, `end_offsets`, `poll`).
pub fn consume(bootstrap: &str, topic: &str) -> ReadBack {
    let f = client(
        &["consume", bootstrap, topic],
        b"",
        Duration::from_secs(180),
    );
    let out = parse_output(&f.stdout).unwrap_or_else(|e| panic!("kafka-python consume: {e}"));
    ReadBack {
        records: out.records,
        end_offsets: out.end_offsets,
    }
}
