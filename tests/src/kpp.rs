//! `kpp serve` as a child process for the tests: started on 127.0.0.1:0 in a log directory,
//! its address read from its `listening` log line, its log kept, stopped with SIGTERM or killed.
//! The binary's path comes from the caller (`env!("CARGO_BIN_EXE_kpp")` in `cli/tests/`).

// A test harness: it waits on the wall clock for a real process.
#![allow(clippy::disallowed_methods)]

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_response, encode_request_frame};
use kproto::messages::{ApiVersionsRequest, RequestHeader, ResponseBody};
use kproto::{ApiKey, ErrorCode, RequestBody};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `kpp serve`: its address and everything it logged so far.
pub struct Kpp {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Kpp {
    /// Starts `exe serve` (`kpp serve --data-dir DIR --listen 127.0.0.1:0 ARGS...` and waits (10 s at
    /// most) for its `listening` line.
    pub fn start(exe: &str, dir: &Path, args: &[&str]) -> Kpp {
        let mut child = Command::new(exe)
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kpp serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("listening") {
                    if let Some(addr) = field(&line, "address") {
                        let _ = tx.send(addr);
                    }
                }
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(a) => a.parse().expect("a socket address"),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "kpp serve did not log its address:\n{}",
                    log.lock().unwrap()
                );
            }
        };
        Kpp { child, addr, log }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything it logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits (5 s at most) until the log has a line containing every one of `parts`.
    pub fn wait_for_log(&self, parts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log();
            if let Some(line) = log.lines().find(|l| parts.iter().all(|p| l.contains(p))) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {parts:?}:\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `kill -TERM <pid>`, then waits (10 s at most) for the exit.
    pub fn sigterm(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let st = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(st.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for kpp") {
                // the reader thread sees EOF right after the exit
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.log());
            }
            assert!(
                Instant::now() < deadline,
                "kpp serve did not exit after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Kpp {
    /// `kill -9`: the process dies at once (no log synced, no clean shutdown marker); waits for
    /// it and returns its log.
    pub fn kill(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        self.log()
    }
}

impl Drop for Kpp {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// `key=value` (or `key="value"`) of a structured log line.
pub fn field(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    let rest = &line[start..];
    let v = match rest.strip_prefix('"') {
        Some(q) => &q[..q.find('"')?],
        None => rest.split_whitespace().next()?,
    };
    Some(v.to_string())
}

// Raw Kafka frames over TCP, for the tests that speak to `kpp serve` byte by byte.

/// A whole request frame, size prefix included.
pub fn request(
    key: ApiKey,
    version: i16,
    correlation_id: i32,
    client: &str,
    body: RequestBody,
) -> Vec<u8> {
    let header = RequestHeader {
        request_api_key: key.key(),
        request_api_version: version,
        correlation_id,
        client_id: Some(client.into()),
        ..Default::default()
    };
    let mut buf = BytesMut::new();
    encode_request_frame(&header, &body, &mut buf).expect("encodable request");
    buf.to_vec()
}

/// An ApiVersions request frame at `version`.
pub fn api_versions(version: i16, correlation_id: i32, client: &str) -> Vec<u8> {
    let body = ApiVersionsRequest {
        client_software_name: "kpp-serve-test".into(),
        client_software_version: "0.1.0".into(),
        ..Default::default()
    };
    request(
        ApiKey::ApiVersions,
        version,
        correlation_id,
        client,
        RequestBody::ApiVersions(Box::new(body)),
    )
}

/// A connection to `addr` with a 5 s read timeout.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// One response frame (without its prefix); `None` when the broker closed the connection.
pub fn read_frame(s: &mut TcpStream) -> Option<Bytes> {
    let mut prefix = [0u8; 4];
    match s.read_exact(&mut prefix) {
        Ok(()) => {}
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::UnexpectedEof | ErrorKind::ConnectionReset
            ) =>
        {
            return None
        }
        Err(e) => panic!("reading a response: {e}"),
    }
    let mut frame = vec![0u8; i32::from_be_bytes(prefix) as usize];
    s.read_exact(&mut frame).expect("a whole response frame");
    Some(Bytes::from(frame))
}

/// Sends `frame` and decodes the answer as a `key` response at `version`.
pub fn call(s: &mut TcpStream, frame: &[u8], key: ApiKey, version: i16) -> (i32, ResponseBody) {
    s.write_all(frame).expect("send");
    let resp = read_frame(s).expect("an answer, not a close");
    let (h, body) = decode_response(&resp, key, version).expect("a decodable response");
    (h.correlation_id, body)
}

/// The broker closes `s` (EOF or reset) within the read timeout, without answering.
pub fn assert_closed(s: &mut TcpStream, what: &str) {
    let mut b = [0u8; 1];
    match s.read(&mut b) {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        Ok(_) => panic!("{what}: the broker answered instead of closing"),
        Err(e) => panic!("{what}: the connection was not closed: {e}"),
    }
}

/// An ApiVersions v3 on `s` is answered (the broker still serves this connection).
pub fn assert_api_versions_answered(s: &mut TcpStream, correlation_id: i32) {
    let (corr, body) = call(
        s,
        &api_versions(3, correlation_id, "still-served"),
        ApiKey::ApiVersions,
        3,
    );
    assert_eq!(corr, correlation_id);
    let ResponseBody::ApiVersions(r) = body else {
        panic!("not an ApiVersions response: {body:?}")
    };
    assert_eq!(r.error_code, ErrorCode::None.code());
    assert!(r
        .api_keys
        .iter()
        .any(|k| k.api_key == ApiKey::Metadata.key()));
}
