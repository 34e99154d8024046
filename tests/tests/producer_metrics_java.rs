//! kproducer's metrics against kafka-clients 4.4.0's own `Metrics`, `Sensor`, `Avg`, `Max`,
//! `Meter`, `Rate`, `WindowedCount` (MetricConfig samples 2, window 30 s): the Java peer
//! `tests/java/metrics/MetricsPeer.java` (compiled by `.ci/install.d/34-java-metrics.sh`) builds
//! the sensors as `Sender.SenderMetrics`, `Selector.SelectorMetrics` and `RecordAccumulator` do,
//! replays the same seeded event stream on a virtual clock and prints every metric at each
//! checkpoint; [`ProducerMetrics`] must give the same doubles (bit for bit, or within 1e-9
//! relative). Streams span tens of minutes of virtual time with bursts, gaps longer than the
//! whole monitored window, empty windows, and checkpoints at event times.

use integration_tests::{cache_dir, repo_root};
use kproducer::metrics::{DrainedBatch, ProducerMetrics, METRICS};
use kproto::rng::Rng;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

/// The values of every metric, in `METRICS` order, read at one checkpoint time.
type Checkpoint = (u64, Vec<(&'static str, f64)>);

/// One seeded event stream: the peer's input text and the checkpoint values Rust computes.
fn stream(seed: u64, events: usize, long_gap_in: u64) -> (String, Vec<Checkpoint>) {
    let mut rng = Rng::new(seed);
    let mut m = ProducerMetrics::default();
    let mut text = String::new();
    let mut checkpoints = Vec::new();
    let mut now = rng.below(100_000);
    for i in 0..events {
        // Phases of 200 events: bursts (ms apart), steady (seconds apart), sparse (a window or
        // more apart), each with occasional gaps longer than samples * window.
        now += match (i / 200) % 3 {
            0 => rng.below(40),
            1 => rng.below(3_000),
            // A quarter of the sparse gaps are exactly one window (a sample's end).
            _ if rng.chance(4) => 30_000,
            _ => rng.range(10_000, 45_000),
        };
        if rng.chance(long_gap_in) {
            now += rng.range(60_000, 400_000);
        }
        if rng.chance(25) {
            // Exactly one window, or exactly the monitored window (the `>=` boundaries).
            now += if rng.bool() { 30_000 } else { 60_000 };
        }
        match rng.below(11) {
            0..=2 => {
                let n = rng.range(1, 40) as usize;
                let batches: Vec<DrainedBatch> = (0..n)
                    .map(|_| DrainedBatch {
                        size_bytes: rng.range(70, 1 << 20),
                        record_count: rng.range(1, 2_000),
                        compression_ratio: rng.below(1_000_001) as f64 / 999_983.0,
                        queue_time_ms: rng.below(5_000),
                        max_record_size: rng.range(20, 64 * 1024),
                    })
                    .collect();
                let _ = write!(text, "P {now} {n}");
                for b in &batches {
                    let _ = write!(
                        text,
                        " {},{},{},{},{}",
                        b.size_bytes,
                        b.record_count,
                        b.compression_ratio,
                        b.queue_time_ms,
                        b.max_record_size
                    );
                }
                text.push('\n');
                m.record_produce_request(&batches, now);
            }
            3 => {
                let v = rng.below(30_000);
                let _ = writeln!(text, "L {now} {v}");
                m.record_request_latency(v, now);
            }
            4 => {
                let v = rng.range(1, 5_000);
                let _ = writeln!(text, "E {now} {v}");
                m.record_errors(v, now);
            }
            5 => {
                let v = rng.range(1, 5_000);
                let _ = writeln!(text, "T {now} {v}");
                m.record_retries(v, now);
            }
            6 => {
                let _ = writeln!(text, "X {now}");
                m.record_batch_split(now);
            }
            7 => {
                let v = rng.range(1, 1 << 20);
                let _ = writeln!(text, "WS {now} {v}");
                m.record_bytes_sent(v, now);
                let _ = writeln!(text, "CS {now} {v}");
                m.record_completed_send(v, now);
            }
            8 => {
                let v = rng.range(1, 100_000);
                let _ = writeln!(text, "WR {now} {v}");
                m.record_bytes_received(v, now);
                if rng.bool() {
                    let _ = writeln!(text, "CR {now} {v}");
                    m.record_completed_receive(v, now);
                }
            }
            9 => {
                let total = 32u64 << 20;
                let avail = rng.below(total + 1);
                let _ = writeln!(text, "U {avail} {total}");
                m.set_buffer(avail, total);
            }
            _ => {}
        }
        if rng.chance(4) {
            // Read at the event's time, or later (inside the window or past it).
            let at = now
                + match rng.below(6) {
                    0 => 0,
                    1 => rng.below(30_000),
                    2 => rng.range(30_000, 60_001),
                    3 => rng.range(60_000, 200_000),
                    4 => 30_000,
                    _ => 60_000,
                };
            now = at;
            let _ = writeln!(text, "C {at}");
            checkpoints.push((at, m.values(at).map(|(n, _, v)| (n, v)).collect()));
        }
    }
    (text, checkpoints)
}

/// Runs the Java peer over `input`, returning its stdout.
fn java(input: &str) -> String {
    let java = cache_dir().join("java");
    let class = java.join("metrics-4.4.0").join("MetricsPeer.class");
    let libs = java.join("kafka-clients-4.4.0").join("libs");
    let src = repo_root().join("tests/java/metrics/MetricsPeer.java");
    assert!(
        class.exists() && libs.join("kafka-clients-4.4.0.jar").exists(),
        "{} or kafka-clients is missing: run .ci/install (30-java-harness.sh, 34-java-metrics.sh)",
        class.display()
    );
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    assert!(
        modified(&class) >= modified(&src),
        "{} is older than {}: run .ci/install.d/34-java-metrics.sh",
        class.display(),
        src.display()
    );
    let mut child = Command::new("java")
        .arg("-cp")
        .arg(format!(
            "{}:{}/*",
            class.parent().unwrap().display(),
            libs.display()
        ))
        .arg("MetricsPeer")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("java (a JDK 17+ must be on PATH)");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_owned();
    let writer = std::thread::spawn(move || stdin.write_all(data.as_bytes()));
    let out = child.wait_with_output().expect("MetricsPeer output");
    writer.join().unwrap().expect("write to MetricsPeer");
    assert!(out.status.success(), "MetricsPeer failed: {}", out.status);
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn same(rust: f64, java: f64) -> bool {
    rust.to_bits() == java.to_bits()
        || (rust.is_nan() && java.is_nan())
        || ((rust - java).abs() <= 1e-9 * java.abs().max(rust.abs()))
}

/// Compares every checkpoint value; returns how many were NaN (empty windows).
fn compare(seed: u64, events: usize, long_gap_in: u64, min_checkpoints: usize) -> usize {
    let (input, checkpoints) = stream(seed, events, long_gap_in);
    let output = java(&input);
    let mut lines = output.lines();
    let mut compared = 0usize;
    let mut non_nan = 0usize;
    let mut nan = 0usize;
    for (at, values) in &checkpoints {
        assert_eq!(
            lines.next(),
            Some(format!("C {at}").as_str()),
            "seed {seed}"
        );
        for (name, rust) in values {
            let line = lines.next().expect("a metric line");
            let (jname, bits) = line.split_once(' ').expect("name and value");
            assert_eq!(jname, *name, "seed {seed} at {at}");
            let java = f64::from_bits(u64::from_str_radix(bits, 16).expect("hex bits"));
            assert!(
                same(*rust, java),
                "seed {seed}, checkpoint {at}, {name}: rust {rust} java {java}"
            );
            compared += 1;
            if rust.is_nan() {
                nan += 1;
            } else if *rust != 0.0 {
                non_nan += 1;
            }
        }
    }
    assert_eq!(lines.next(), Some("END"), "seed {seed}");
    assert_eq!(compared, checkpoints.len() * METRICS.len());
    // The stream exercised real values, not only empty windows.
    assert!(
        non_nan > compared / 4,
        "seed {seed}: {non_nan} of {compared}"
    );
    assert!(
        checkpoints.len() >= min_checkpoints,
        "seed {seed}: {} checkpoints",
        checkpoints.len()
    );
    nan
}

#[test]
fn producer_metrics_match_kafka_clients_metrics() {
    for seed in [1u64, 0x5eed_0017, 4_044_000] {
        compare(seed, 4_000, 150, 800);
    }
}

#[test]
fn empty_windows_after_long_gaps_match_kafka_clients() {
    // A silence longer than samples * window in one step of three: many reads see purged
    // samples (NaN averages and maxima, zero rates) and the first record after a purge.
    let nan = compare(99, 1_500, 3, 300);
    assert!(nan > 1_000, "only {nan} empty-window readings");
}
