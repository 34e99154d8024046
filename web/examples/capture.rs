//! Records `kafka-python.pcap`: `tcpdump -i lo` on the port of a real Kafka 4.4.0 broker
//! (started by the integration tests' harness) while kafka-python (`$KPP_CACHE/venv`) creates a
//! topic, produces with every codec and consumes it back; kafka-python's own log of every
//! request and response it sent and received is written beside it (`kafka-python.json`), for
//! the end-to-end test to check the inspector's decoding of the capture against.
//!
//! usage: `cargo run -p web --example capture [OUT_DIR]` (default `web/e2e/fixtures`); needs
//! root (tcpdump), Java 17, and `.ci/install.d/{20-python,35-kafka-broker,50-web}.sh`.
// An adapter that runs processes: it reads the clock for its timeouts, as the test harness does.
#![allow(clippy::disallowed_methods)]

use integration_tests::kafka::{Broker, KafkaInstall, TempDir};
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
        .args(["-i", "lo", "-U", "-s", "0", "-w"])
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
    std::thread::sleep(Duration::from_millis(500));
    // SIGINT makes tcpdump flush and close the file.
    Command::new("kill")
        .arg("-INT")
        .arg(tcpdump.id().to_string())
        .status()?;
    let dumped = tcpdump.wait()?;
    broker.stop(Duration::from_secs(60));
    if !status.success() {
        return Err(format!("capture_client.py failed: {status}").into());
    }
    if !dumped.success() {
        return Err(format!("tcpdump failed: {dumped}").into());
    }
    println!(
        "{} ({} bytes) and {} written",
        pcap.display(),
        std::fs::metadata(&pcap)?.len(),
        oracle.display()
    );
    Ok(())
}
