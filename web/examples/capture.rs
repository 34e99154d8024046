//! Records `kafka-python.pcap`: `tcpdump -i lo` on the port of a real Kafka 4.4.0 broker
//! (started by the integration tests' harness) while kafka-python (`$KPP_CACHE/venv`) creates a
//! topic, produces with every codec and consumes it back; kafka-python's own log of every
//! request and response it sent and received is written beside it (`kafka-python.json`), for
//! the end-to-end test to check the inspector's decoding of the capture against. After a clean
//! shutdown the broker's partition directory is copied to `kafka-partition/` and Kafka's own
//! `DumpLogSegments --deep-iteration` output for its segments is written to
//! `kafka-partition.json`, for the test to check the batch table against.
//!
//! Then `java-client.pcap` is recorded the same way while Kafka's Java client 4.4.0 (the
//! integration tests' driver, `tests/src/clients/java.rs`) produces 300 records to
//! `captured-java` with a `KafkaProducer` with its defaults (idempotent, acks=all) and reads
//! them back with a `KafkaConsumer`; the Java client logs no frames, so `java-client.json` holds
//! what is known of the run (the records produced, their offsets, the records read back), for
//! the test to check the decoded capture against.
//!
//! usage: `cargo run -p web --example capture [OUT_DIR]` (default `web/e2e/fixtures`); needs
//! root (tcpdump), Java 17, and `.ci/install.d/{20-python,33-java-clients,35-kafka-broker,50-web}.sh`.
// An adapter that runs processes: it reads the clock for its timeouts, as the test harness does.
#![allow(clippy::disallowed_methods)]

use integration_tests::clients::payload::{records, Shape};
use integration_tests::clients::{java, kafka_python};
use integration_tests::kafka::{run_java, Broker, KafkaInstall, TempDir};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
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
    let tcpdump = Tcpdump::start(&pcap, broker.port)?;
    let oracle = out.join("kafka-python.json");
    let status = Command::new(&python)
        .arg(format!("{manifest}/e2e/capture_client.py"))
        .arg(broker.bootstrap())
        .arg(&oracle)
        .status()?;
    let dumped = tcpdump.stop(&pcap);
    if !status.success() {
        broker.stop(Duration::from_secs(60));
        return Err(format!("capture_client.py failed: {status}").into());
    }
    if let Err(e) = dumped {
        broker.stop(Duration::from_secs(60));
        return Err(e);
    }
    // The Java client, in a capture of its own: only its connections are in it (the topic is
    // created before tcpdump starts).
    let java_pcap = out.join("java-client.pcap");
    let topic = "captured-java";
    kafka_python::create_topics(&broker.bootstrap(), &[(topic, 1)]);
    let sent = records(
        "java",
        300,
        44,
        Shape {
            text_only: false,
            nulls: true,
            null_header_values: true,
            same_headers: false,
            partitions: None,
        },
    );
    let tcpdump = Tcpdump::start(&java_pcap, broker.port)?;
    let report = java::produce(&broker.bootstrap(), topic, &sent);
    let read = java::consume(&broker.bootstrap(), topic);
    let dumped = tcpdump.stop(&java_pcap);
    broker.stop(Duration::from_secs(60));
    dumped?;
    let mut offsets: Vec<i64> = report.deliveries.iter().map(|d| d.offset).collect();
    offsets.sort_unstable();
    std::fs::write(
        out.join("java-client.json"),
        serde_json::to_string_pretty(&serde_json::json!({
            "client": format!("kafka-clients {}", java::VERSION),
            "topic": topic,
            "records": sent.len(),
            "offsets": offsets,
            "consumed": read.records.len(),
            "endOffsets": read.end_offsets,
        }))?,
    )?;
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
        "{} ({} bytes), {} ({} bytes), {}, {} ({} segments) written",
        pcap.display(),
        std::fs::metadata(&pcap)?.len(),
        java_pcap.display(),
        std::fs::metadata(&java_pcap)?.len(),
        oracle.display(),
        part.display(),
        logs.len()
    );
    Ok(())
}

/// tcpdump recording the broker's port on `lo` into a file.
struct Tcpdump {
    child: Child,
    err: BufReader<ChildStderr>,
}

impl Tcpdump {
    /// Starts it and waits until it captures.
    fn start(pcap: &Path, port: u16) -> Result<Tcpdump, Box<dyn std::error::Error>> {
        let mut child = Command::new("tcpdump")
            // A 64 MiB buffer: loopback bursts of 64 KiB packets overflow the default one.
            .args(["-i", "lo", "-U", "-s", "0", "-B", "65536", "-w"])
            .arg(pcap)
            .arg(format!("tcp port {port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                format!("cannot start tcpdump (apt-get install tcpdump; needs root): {e}")
            })?;
        // tcpdump says "listening on lo" once it captures.
        let mut err = BufReader::new(child.stderr.take().ok_or("tcpdump stderr")?);
        let mut line = String::new();
        let t0 = Instant::now();
        while !line.contains("listening on") {
            line.clear();
            if err.read_line(&mut line)? == 0 || t0.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                return Err(format!("tcpdump did not start: {line}").into());
            }
        }
        Ok(Tcpdump { child, err })
    }

    /// Stops it once `pcap` has stopped growing; fails when it lost packets.
    fn stop(mut self, pcap: &Path) -> Result<(), Box<dyn std::error::Error>> {
        // tcpdump may still be draining its buffer: wait until the file stops growing (SIGINT
        // drops what it has not written yet).
        let (mut last, mut stable_since, t0) = (u64::MAX, Instant::now(), Instant::now());
        while stable_since.elapsed() < Duration::from_millis(1500)
            && t0.elapsed() < Duration::from_secs(30)
        {
            std::thread::sleep(Duration::from_millis(250));
            let len = std::fs::metadata(pcap).map_or(0, |m| m.len());
            if len != last {
                (last, stable_since) = (len, Instant::now());
            }
        }
        // SIGINT makes tcpdump flush and close the file.
        Command::new("kill")
            .arg("-INT")
            .arg(self.child.id().to_string())
            .status()?;
        let dumped = self.child.wait()?;
        let mut summary = String::new();
        std::io::Read::read_to_string(&mut self.err, &mut summary)?;
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
        Ok(())
    }
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
