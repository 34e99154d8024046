//! A real Apache Kafka 4.4.0 broker and Kafka's own Java tools, from the jars
//! `.ci/install.d/35-kafka-broker.sh` resolves from Maven Central into
//! `$KPP_CACHE/kafka-4.4.0/libs` (no Docker, no tarball).
//!
//! [`Broker::start`] formats a KRaft storage directory (`kafka.tools.StorageTool`) and starts
//! `kafka.Kafka` in combined broker+controller mode on two free loopback ports, waiting until the
//! port accepts and the log says `Kafka Server started`; [`Broker::stop`] sends SIGTERM and waits;
//! dropping a running [`Broker`] kills it, so no JVM outlives a test. [`run_java`] runs one Java
//! main class (a tool) to completion with a timeout and captures its output. Only 127.0.0.1 is
//! ever bound or connected to.

// A test harness, not a sans-IO core: it reads the clock to bound how long it waits.
#![allow(clippy::disallowed_methods)]

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The Kafka release the harness runs.
pub const KAFKA_VERSION: &str = "4.4.0";

/// A fixed KRaft cluster id (any base64 UUID will do; a fixed one keeps runs alike).
const CLUSTER_ID: &str = "a2xvZy1rYWZrYS10ZXN0MA";

/// JVM options for tools: short-lived, so start-up matters more than peak speed.
const TOOL_JVM: &[&str] = &[
    "-Xmx256M",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
];

/// Where `.ci/install.d/35-kafka-broker.sh` put Kafka.
#[derive(Debug, Clone)]
pub struct KafkaInstall {
    /// The runtime classpath's jars (`kafka_2.13`, `kafka-tools`, `kafka-clients`, log4j2, ...).
    pub libs: PathBuf,
    /// The compiled `tests/java/kafka/*.java` (`KlogKafkaClient`, `KlogPlanProducer`).
    pub client: PathBuf,
}

impl KafkaInstall {
    /// Finds the install, or panics telling how to make it: a missing install is a failure,
    /// never a skip.
    pub fn locate() -> KafkaInstall {
        let home = crate::cache_dir().join(format!("kafka-{KAFKA_VERSION}"));
        let install = KafkaInstall {
            libs: home.join("libs"),
            client: home.join("client"),
        };
        let needed = [
            install.libs.join(format!("kafka_2.13-{KAFKA_VERSION}.jar")),
            install
                .libs
                .join(format!("kafka-tools-{KAFKA_VERSION}.jar")),
            install
                .libs
                .join(format!("kafka-clients-{KAFKA_VERSION}.jar")),
            install.client.join("KlogKafkaClient.class"),
            install.client.join("KlogPlanProducer.class"),
        ];
        for f in &needed {
            assert!(
                f.is_file(),
                "{} is missing: run `bash .ci/install` (or `bash .ci/install.d/35-kafka-broker.sh`) \
                 to resolve Kafka {KAFKA_VERSION} from Maven Central and build the test client",
                f.display()
            );
        }
        install
    }

    /// The broker and tools classpath (`libs/*`, expanded by the JVM).
    pub fn classpath(&self) -> String {
        format!("{}/*", self.libs.display())
    }

    /// The classpath with the test client in front.
    pub fn client_classpath(&self) -> String {
        format!("{}:{}/*", self.client.display(), self.libs.display())
    }
}

/// A directory under the system temp dir, removed (with its contents) when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/<prefix>-<pid>-<n>`, replacing any leftover of that name.
    pub fn new(prefix: &str) -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        TempDir { path }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // KPP_KEEP_TMP=1 keeps the files for a look after a failure.
        if std::env::var_os("KPP_KEEP_TMP").is_none() {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// What a finished Java program printed.
#[derive(Debug, Clone)]
pub struct JavaOutput {
    /// How it exited.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

impl JavaOutput {
    /// Panics with both streams unless it exited with 0.
    pub fn expect_success(self, what: &str) -> JavaOutput {
        assert!(
            self.status.success(),
            "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            self.status,
            tail(&self.stdout, 60),
            tail(&self.stderr, 60)
        );
        self
    }
}

fn tail(s: &str, lines: usize) -> String {
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

/// Writes the log4j2 configuration Kafka's JVMs need (without one only ERRORs are logged, and
/// the broker's readiness line is INFO) as `<dir>/log4j2-<name>.properties`.
fn write_log4j(dir: &Path, name: &str, level: &str) -> PathBuf {
    let path = dir.join(format!("log4j2-{name}.properties"));
    let text = format!(
        "status = warn\n\
         appender.out.type = Console\n\
         appender.out.name = STDERR\n\
         appender.out.target = SYSTEM_ERR\n\
         appender.out.layout.type = PatternLayout\n\
         appender.out.layout.pattern = [%d] %p %m (%c)%n\n\
         rootLogger.level = {level}\n\
         rootLogger.appenderRef.out.ref = STDERR\n"
    );
    fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    path
}

/// Runs `java -cp <classpath> <main_class> <args>` in `work` (tool JVM options, log4j2 at WARN
/// on stderr) to completion, killing it after `timeout`.
pub fn run_java(
    classpath: &str,
    work: &Path,
    main_class: &str,
    args: &[&str],
    timeout: Duration,
) -> JavaOutput {
    let log4j = write_log4j(work, "tools", "WARN");
    let start = Instant::now();
    let mut child = Command::new("java")
        .args(TOOL_JVM)
        .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
        .arg("-cp")
        .arg(classpath)
        .arg(main_class)
        .args(args)
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start java (is a JDK 17 on PATH?): {e}"));
    let mut out = child.stdout.take().expect("piped");
    let mut err = child.stderr.take().expect("piped");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let deadline = start + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for java") {
            break st;
        }
        if Instant::now() > deadline {
            let pid = child.id();
            let _ = child.kill();
            let _ = child.wait();
            let stdout =
                String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
            let stderr =
                String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
            panic!(
                "java {main_class} did not finish within {timeout:?}; killed (pid {pid}).\n\
                 --- stdout\n{}\n--- stderr\n{}",
                tail(&stdout, 20),
                tail(&stderr, 40)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    JavaOutput {
        status,
        stdout,
        stderr,
        elapsed: start.elapsed(),
    }
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

fn accepts(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// How a broker stopped.
#[derive(Debug, Clone)]
pub struct StopReport {
    /// The JVM's exit status.
    pub status: ExitStatus,
    /// From SIGTERM to exit.
    pub elapsed: Duration,
    /// `<log.dirs>/.kafka_cleanshutdown` exists (Kafka writes it at the end of a clean shutdown
    /// and deletes it while running).
    pub clean_shutdown: bool,
}

/// A single-node KRaft broker (combined broker + controller) on loopback ports.
#[derive(Debug)]
pub struct Broker {
    child: Option<Child>,
    /// The client listener's port (PLAINTEXT on 127.0.0.1).
    pub port: u16,
    /// The controller listener's port.
    pub controller_port: u16,
    /// `log.dirs`: where partitions live.
    pub log_dir: PathBuf,
    /// The broker's stdout and stderr (log4j2 at INFO) of the latest launch.
    pub broker_log: PathBuf,
    /// From JVM launch to ready (the latest launch).
    pub started_in: Duration,
    work: PathBuf,
    config: PathBuf,
    classpath: String,
    launches: u32,
}

impl Broker {
    /// Formats `<work>/kraft-logs` and starts a broker on free loopback ports, retrying with other
    /// ports when the chosen ones were taken in between; waits (up to `timeout`) until the client
    /// port accepts connections and the log says `Kafka Server started`. `extra_config` lines
    /// are appended to `server.properties`.
    pub fn start(
        install: &KafkaInstall,
        work: &Path,
        extra_config: &[&str],
        timeout: Duration,
    ) -> Broker {
        let mut last_err = String::new();
        for _attempt in 0..3 {
            match Self::try_start(install, work, extra_config, timeout) {
                Ok(b) => return b,
                Err(e) if e.contains("Address already in use") => last_err = e,
                Err(e) => panic!("{e}"),
            }
        }
        panic!("broker start failed 3 times on taken ports: {last_err}");
    }

    fn try_start(
        install: &KafkaInstall,
        work: &Path,
        extra_config: &[&str],
        timeout: Duration,
    ) -> Result<Broker, String> {
        let log_dir = work.join("kraft-logs");
        let _ = fs::remove_dir_all(&log_dir);
        let port = free_port();
        let mut controller_port = free_port();
        while controller_port == port {
            controller_port = free_port();
        }
        let mut props = format!(
            "process.roles=broker,controller\n\
             node.id=1\n\
             controller.quorum.voters=1@127.0.0.1:{controller_port}\n\
             controller.listener.names=CONTROLLER\n\
             inter.broker.listener.name=PLAINTEXT\n\
             listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n\
             listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}\n\
             advertised.listeners=PLAINTEXT://127.0.0.1:{port}\n\
             log.dirs={}\n\
             num.partitions=1\n\
             auto.create.topics.enable=false\n\
             offsets.topic.replication.factor=1\n\
             transaction.state.log.replication.factor=1\n\
             transaction.state.log.min.isr=1\n\
             share.coordinator.state.topic.replication.factor=1\n\
             share.coordinator.state.topic.min.isr=1\n\
             group.initial.rebalance.delay.ms=0\n",
            log_dir.display()
        );
        for line in extra_config {
            props.push_str(line);
            props.push('\n');
        }
        let server_properties = work.join("server.properties");
        fs::write(&server_properties, props).map_err(|e| format!("write config: {e}"))?;
        let config = server_properties.to_str().expect("UTF-8 path");

        run_java(
            &install.classpath(),
            work,
            "kafka.tools.StorageTool",
            &["format", "--cluster-id", CLUSTER_ID, "--config", config],
            Duration::from_secs(60),
        )
        .expect_success("kafka.tools.StorageTool format");

        let mut broker = Broker {
            child: None,
            port,
            controller_port,
            log_dir,
            broker_log: PathBuf::new(),
            started_in: Duration::ZERO,
            work: work.to_path_buf(),
            config: server_properties,
            classpath: install.classpath(),
            launches: 0,
        };
        broker.launch(timeout)?;
        Ok(broker)
    }

    /// Starts the stopped broker again on its storage as it is now (not formatted again), same
    /// ports and config; waits as [`Broker::start`] does. Panics when it does not come up.
    pub fn restart(&mut self, timeout: Duration) {
        assert!(self.child.is_none(), "the broker is running");
        if let Err(e) = self.launch(timeout) {
            panic!("broker restart: {e}");
        }
    }

    /// Launches `kafka.Kafka` (log in `broker.log`, `broker-2.log`, ... per launch) and waits
    /// until it is ready.
    fn launch(&mut self, timeout: Duration) -> Result<(), String> {
        let log4j = write_log4j(&self.work, "broker", "INFO");
        self.launches += 1;
        self.broker_log = match self.launches {
            1 => self.work.join("broker.log"),
            n => self.work.join(format!("broker-{n}.log")),
        };
        let log_file =
            fs::File::create(&self.broker_log).map_err(|e| format!("broker log: {e}"))?;
        let start = Instant::now();
        let child = Command::new("java")
            .args([
                "-Xmx512M",
                "-Xms512M",
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
            ])
            .arg("-Djava.awt.headless=true")
            .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
            .arg("-cp")
            .arg(&self.classpath)
            .arg("kafka.Kafka")
            .arg(&self.config)
            .current_dir(&self.work)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().map_err(|e| e.to_string())?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start java: {e}"))?;
        self.child = Some(child);
        let deadline = start + timeout;
        loop {
            let child = self.child.as_mut().expect("running");
            if let Some(st) = child.try_wait().map_err(|e| e.to_string())? {
                self.child = None;
                return Err(format!(
                    "broker exited during start-up ({st}); last lines of {}:\n{}",
                    self.broker_log.display(),
                    tail(&self.log_text(), 40)
                ));
            }
            if accepts(self.port) && self.log_text().contains("Kafka Server started") {
                break;
            }
            if Instant::now() > deadline {
                if let Some(mut child) = self.child.take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                return Err(format!(
                    "broker not ready after {timeout:?}; last lines:\n{}",
                    tail(&self.log_text(), 40)
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.started_in = start.elapsed();
        Ok(())
    }

    /// `127.0.0.1:<port>`.
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The broker's log (of the latest launch) so far.
    pub fn log_text(&self) -> String {
        fs::read_to_string(&self.broker_log).unwrap_or_default()
    }

    /// Stops the broker with SIGTERM (Kafka's clean shutdown) and waits up to `timeout` for the
    /// JVM to exit; kills it and panics if it does not.
    pub fn stop(&mut self, timeout: Duration) -> StopReport {
        let mut child = self.child.take().expect("broker is running");
        let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
        let start = Instant::now();
        // SAFETY: kill(2) with a pid this process spawned and still owns (not yet waited for,
        // so it cannot have been reused); no memory is involved.
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(
            rc,
            0,
            "kill -TERM {pid}: {}",
            std::io::Error::last_os_error()
        );
        let status = loop {
            if let Some(st) = child.try_wait().expect("wait for broker") {
                break st;
            }
            if start.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "broker did not stop within {timeout:?} of SIGTERM; killed. Last lines:\n{}",
                    tail(&self.log_text(), 40)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        StopReport {
            status,
            elapsed: start.elapsed(),
            clean_shutdown: self.log_dir.join(".kafka_cleanshutdown").is_file(),
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a process whose command line mentions `needle` is running.
    fn running_with(needle: &str) -> Vec<u32> {
        let mut pids = Vec::new();
        for e in fs::read_dir("/proc").expect("/proc").flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let cmdline = fs::read(e.path().join("cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(needle) {
                pids.push(pid);
            }
        }
        pids
    }

    fn panic_text(e: Box<dyn std::any::Any + Send>) -> String {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    }

    /// A Java program that does not end: `run_java` kills it at the timeout and says so.
    #[test]
    fn run_java_kills_a_program_that_does_not_finish() {
        let tmp = TempDir::new("kafka-harness-timeout");
        let src = tmp.path().join("Forever.java");
        fs::write(
            &src,
            "public class Forever { public static void main(String[] a) throws Exception {\n\
             System.out.println(\"started\"); System.out.flush(); Thread.sleep(600_000); } }\n",
        )
        .expect("write Forever.java");
        let start = Instant::now();
        // java's source-file mode: the "main class" is the source file
        let src_arg = src.to_str().expect("UTF-8 path").to_string();
        let result = std::panic::catch_unwind(|| {
            run_java(".", tmp.path(), &src_arg, &[], Duration::from_secs(8))
        });
        let elapsed = start.elapsed();
        let msg = panic_text(result.expect_err("run_java returned for a program that sleeps"));
        assert!(
            msg.contains("did not finish within 8s; killed (pid ") && msg.contains("started"),
            "{msg}"
        );
        assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
        assert_eq!(
            running_with(&src_arg),
            Vec::<u32>::new(),
            "the JVM still runs"
        );
    }

    /// A broker that cannot be ready in time: `Broker::start` kills it and says so.
    #[test]
    fn broker_start_kills_a_broker_that_is_not_ready_in_time() {
        let install = KafkaInstall::locate();
        let tmp = TempDir::new("kafka-harness-slow");
        let work = tmp.path().to_path_buf();
        let start = Instant::now();
        let result = std::panic::catch_unwind(|| {
            Broker::start(&install, &work, &[], Duration::from_millis(300))
        });
        let msg = panic_text(result.expect_err("a broker was ready within 300 ms"));
        assert!(msg.contains("broker not ready after 300ms"), "{msg}");
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "took {:?}",
            start.elapsed()
        );
        let config = work.join("server.properties");
        assert_eq!(
            running_with(config.to_str().expect("UTF-8 path")),
            Vec::<u32>::new(),
            "the broker JVM still runs"
        );
    }
}
