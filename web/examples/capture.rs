//! Records `kafka-python.pcap`: `tcpdump -i lo` on the port of a real Kafka 4.4.0 broker
//! (started by the integration tests' harness) while kafka-python (`$KPP_CACHE/venv`) creates a
//! topic, produces with every codec and consumes it back; kafka-python's own log of every
//! request and response it sent and received is written beside it (`kafka-python.json`), for
//! the end-to-end test to check the inspector's decoding of the capture against. After a clean
//! shutdown the broker's partition directory is copied to `kafka-partition/` and Kafka's own
//! `DumpLogSegments --deep-iteration` output for its segments is written to
//! `kafka-partition.json`, for the test to check the batch table against.
//!
//! usage: `cargo run -p web --example capture [OUT_DIR]` (default `web/e2e/fixtures`); needs
//! root (tcpdump), Java 17, and `.ci/install.d/{20-python,35-kafka-broker,50-web}.sh`.
// An adapter that runs processes: it reads the clock for its timeouts, as the test harness does.
#![allow(clippy::disallowed_methods)]

use integration_tests::kafka::{run_java, Broker, KafkaInstall, TempDir};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = env!("CARGO_MANIFEST_DIR");
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| format!("{manifest}/e2e/fixtures")),
    );
    std::fs::create_dir_all(&out)?;
    // Absolute: DumpLogSegments runs in the broker's work directory.
    let out = std::fs::canonicalize(&out)?;
    let python = integration_tests::cache_dir().join("venv/bin/python");
    if !python.is_file() {
        return Err(format!(
            "{} is missing: run .ci/install.d/20-python.sh",
            python.display()
        )
        .into());
    }
    let install = KafkaInstall::locate();
    let work = TempDir::new("web-capture");
    let mut broker = Broker::start(&install, work.path(), &[], Duration::from_secs(90));
    let pcap = out.join("kafka-python.pcap");
    let mut tcpdump = Command::new("tcpdump")
        // A 64 MiB buffer: loopback bursts of 64 KiB packets overflow the default one.
        .args(["-i", "lo", "-U", "-s", "0", "-B", "65536", "-w"])
        .arg(&pcap)
        .arg(format!("tcp port {}", broker.port))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start tcpdump (apt-get install tcpdump; needs root): {e}"))?;
    // tcpdump says "listening on lo" once it captures.
    let mut err = BufReader::new(tcpdump.stderr.take().ok_or("tcpdump stderr")?);
    let mut line = String::new();
    let t0 = Instant::now();
    while !line.contains("listening on") {
        line.clear();
        if err.read_line(&mut line)? == 0 || t0.elapsed() > Duration::from_secs(10) {
            let _ = tcpdump.kill();
            return Err(format!("tcpdump did not start: {line}").into());
        }
    }
    let oracle = out.join("kafka-python.json");
    let status = Command::new(&python)
        .arg(format!("{manifest}/e2e/capture_client.py"))
        .arg(broker.bootstrap())
        .arg(&oracle)
        .status()?;
    // tcpdump may still be draining its buffer: wait until the file stops growing (SIGINT
    // drops what it has not written yet).
    let (mut last, mut stable_since, t0) = (u64::MAX, Instant::now(), Instant::now());
    while stable_since.elapsed() < Duration::from_millis(1500)
        && t0.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(250));
        let len = std::fs::metadata(&pcap).map_or(0, |m| m.len());
        if len != last {
            (last, stable_since) = (len, Instant::now());
        }
    }
    // SIGINT makes tcpdump flush and close the file.
    Command::new("kill")
        .arg("-INT")
        .arg(tcpdump.id().to_string())
        .status()?;
    let dumped = tcpdump.wait()?;
    let mut summary = String::new();
    std::io::Read::read_to_string(&mut err, &mut summary)?;
    broker.stop(Duration::from_secs(60));
    if !status.success() {
        return Err(format!("capture_client.py failed: {status}").into());
    }
    if !dumped.success() {
        return Err(format!("tcpdump failed: {dumped}").into());
    }
    // A packet the kernel dropped is a gap in a stream: the capture would be incomplete.
    let dropped = summary
        .lines()
        .find_map(|l| l.strip_suffix(" packets dropped by kernel"))
        .and_then(|n| n.trim().parse::<u64>().ok());
    if dropped != Some(0) {
        return Err(format!("tcpdump lost packets: {summary}").into());
    }
    // The partition the broker wrote, and what DumpLogSegments says of it.
    let part = out.join("kafka-partition");
    let _ = std::fs::remove_dir_all(&part);
    std::fs::create_dir_all(&part)?;
    let mut logs = Vec::new();
    for e in std::fs::read_dir(broker.log_dir.join("captured-0"))? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        std::fs::copy(e.path(), part.join(&name))?;
        if name.ends_with(".log") {
            logs.push(part.join(&name));
        }
    }
    logs.sort();
    let files: Vec<String> = logs.iter().map(|p| p.display().to_string()).collect();
    let dump = run_java(
        &install.classpath(),
        work.path(),
        "org.apache.kafka.tools.DumpLogSegments",
        &["--files", &files.join(","), "--deep-iteration"],
        Duration::from_secs(120),
    );
    if !dump.status.success() {
        return Err(format!("DumpLogSegments failed: {}", dump.stderr).into());
    }
    let mut segments = Vec::new();
    for line in dump.stdout.lines() {
        if let Some(f) = line.strip_prefix("Dumping ") {
            let name = f.rsplit('/').next().unwrap_or(f).to_owned();
            segments.push(serde_json::json!({ "file": name, "batches": [] }));
        } else if line.starts_with("baseOffset: ") {
            let kv = pairs(line);
            let seg = segments.last_mut().ok_or("a batch line before any file")?;
            seg["batches"]
                .as_array_mut()
                .ok_or("batches")?
                .push(serde_json::json!(kv));
        } else if let Some(rec) = line.strip_prefix("| ") {
            // A control record: `endTxnMarker: COMMIT coordinatorEpoch: 0`.
            let kv = pairs(rec);
            if let Some(m) = kv.get("endTxnMarker") {
                let seg = segments.last_mut().ok_or("a record line before any file")?;
                if let Some(b) = seg["batches"].as_array_mut().and_then(|b| b.last_mut()) {
                    b["endTxnMarker"] = m.clone().into();
                }
            }
        }
    }
    std::fs::write(
        out.join("kafka-partition.json"),
        serde_json::to_string_pretty(&segments)?,
    )?;
    println!(
        "{} ({} bytes), {}, {} ({} segments) written",
        pcap.display(),
        std::fs::metadata(&pcap)?.len(),
        oracle.display(),
        part.display(),
        logs.len()
    );
    Ok(())
}

/// `a: 1 b: x` -> {a: "1", b: "x"}: DumpLogSegments prints `name: value` pairs of single tokens.
fn pairs(line: &str) -> std::collections::BTreeMap<String, String> {
    let toks: Vec<&str> = line.split_whitespace().collect();
    let mut m = std::collections::BTreeMap::new();
    let mut i = 0;
    while i + 1 < toks.len() {
        match toks[i].strip_suffix(':') {
            Some(name) => {
                m.insert(name.to_owned(), toks[i + 1].to_owned());
                i += 2;
            }
            None => i += 1,
        }
    }
    m
}
