//! confluent-kafka (Confluent's Python client over librdkafka, the wheel's bundled
//! librdkafka; installed by `.ci/install.d/21-confluent-kafka.sh`) through
//! `tests/clients/python/confluent_kafka_client.py`: an idempotent `Producer` per codec with
//! delivery reports, and a `Consumer` that assigns every partition and reads to the high
//! watermarks.
//!
//! librdkafka refuses to create a consumer without `group.id`, so the consumer has one
//! (`kpp-assign-only`) but never subscribes, joins or commits (`enable.auto.commit=false`); it
//! may still look its coordinator up (FindCoordinator).

use super::kafka_python::venv_python;
use super::lines::{parse_output, records_input};
use super::process::{run, Finished};
use super::{Codec, ProduceReport, ReadBack, Record};
use crate::repo_root;
use std::process::Command;
use std::time::Duration;

fn client(args: &[&str], stdin: &[u8], timeout: Duration) -> Finished {
    let python = venv_python("confluent_kafka", "21-confluent-kafka.sh");
    let mut cmd = Command::new(python);
    cmd.arg(repo_root().join("tests/clients/python/confluent_kafka_client.py"))
        .args(args);
    run(
        &format!("confluent-kafka {}", args[0]),
        &mut cmd,
        stdin,
        timeout,
    )
}

/// `confluent-kafka X (librdkafka Y)`.
pub fn version() -> String {
    let python = venv_python("confluent_kafka", "21-confluent-kafka.sh");
    let f = run(
        "confluent-kafka version",
        Command::new(python).args([
            "-c",
            "import confluent_kafka as c; print(c.__version__, '(librdkafka', c.libversion()[0] + ')')",
        ]),
        b"",
        Duration::from_secs(30),
    );
    f.stdout.trim().to_string()
}

/// Runs one idempotent `Producer` (`enable.idempotence=true`, so acks=all) per
/// `(codec, records)`, one after another (each flushed before the next starts), each record to
/// its partition or to the one librdkafka's partitioner picks. Returns each run's delivery
/// reports (a failed delivery fails the run).
pub fn produce(bootstrap: &str, topic: &str, runs: &[(Codec, &[Record])]) -> Vec<ProduceReport> {
    let specs: Vec<String> = runs
        .iter()
        .map(|(c, rs)| format!("{}:{}", c.name(), rs.len()))
        .collect();
    let input: String = runs.iter().map(|(_, rs)| records_input(rs)).collect();
    let mut args = vec!["produce", bootstrap, topic];
    args.extend(specs.iter().map(String::as_str));
    let f = client(&args, input.as_bytes(), Duration::from_secs(300));
    let out = parse_output(&f.stdout).unwrap_or_else(|e| panic!("confluent-kafka produce: {e}"));
    let counts: Vec<usize> = runs.iter().map(|(_, rs)| rs.len()).collect();
    out.deliveries_by_run(&counts)
        .unwrap_or_else(|e| panic!("confluent-kafka produce: {e}"))
        .into_iter()
        .map(|deliveries| ProduceReport { deliveries })
        .collect()
}

/// Reads every partition of `topic` from `OFFSET_BEGINNING` to its high watermark
/// (`get_watermark_offsets`) with an assigned `Consumer`.
pub fn consume(bootstrap: &str, topic: &str) -> ReadBack {
    let f = client(
        &["consume", bootstrap, topic],
        b"",
        Duration::from_secs(180),
    );
    let out = parse_output(&f.stdout).unwrap_or_else(|e| panic!("confluent-kafka consume: {e}"));
    ReadBack {
        records: out.records,
        end_offsets: out.end_offsets,
    }
}
