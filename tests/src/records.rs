//! Record batch helpers shared by `records_java.rs`, `records_python.rs` and
//! `records_roundtrip.rs`: the records they generate ([`Rec`], [`RecordGen`]), the hex line
//! format their peers speak ([`hex`], [`unhex`], [`record_line`], [`parse_record_line`]),
//! building with kproto ([`append_records`], [`build`]) and reading back ([`read_records`]),
//! and the peer processes themselves, which answer within a timeout or are killed
//! ([`LinePeer`], [`run_peer`]).
// Test code, not a core: peer timeouts read the clock.
#![allow(clippy::disallowed_methods)]

use kproto::records::{BatchBuilder, BatchConfig, BatchView, RecordError};
use kproto::rng::Rng;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::{Duration, Instant};

/// A record header: key and value (`None` is null).
pub type Hdr = (String, Option<Vec<u8>>);

/// A record as the tests give it to each implementation and expect it back.
#[derive(Debug, Clone, PartialEq)]
pub struct Rec {
    /// Milliseconds, or -1 for none.
    pub ts: i64,
    /// The key; `None` is null.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is null.
    pub value: Option<Vec<u8>>,
    /// The headers, in order.
    pub headers: Vec<Hdr>,
}

impl Rec {
    /// The headers as `BatchBuilder::try_append` takes them.
    pub fn header_refs(&self) -> Vec<(&str, Option<&[u8]>)> {
        self.headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_deref()))
            .collect()
    }
}

/// Header keys beyond ASCII: empty, accented, Cyrillic and Greek, an emoji.
pub const HEADER_KEYS: [&str; 5] = ["", "trace-id", "clé", "ключ-σ", "🦀"];

/// How [`RecordGen::records`] draws records. Every draw comes from the seeded [`Rng`].
#[derive(Debug, Clone)]
pub struct RecordGen {
    /// Longest key.
    pub max_key: u64,
    /// Longest value.
    pub max_value: u64,
    /// Longest value in a "big" batch, one batch in `big_in` (0: never).
    pub max_big_value: u64,
    /// One batch in this many is big.
    pub big_in: u64,
    /// One payload in this many is incompressible random bytes (0: never).
    pub incompressible_in: u64,
    /// One key, value or header value in this many is null.
    pub null_in: u64,
    /// Timestamps of none (-1), a day and more back and decades ahead, now and then.
    pub odd_timestamps: bool,
    /// Header keys from [`HEADER_KEYS`] now and then.
    pub unicode_header_keys: bool,
}

impl Default for RecordGen {
    fn default() -> Self {
        RecordGen {
            max_key: 40,
            max_value: 400,
            max_big_value: 3000,
            big_in: 0,
            incompressible_in: 0,
            null_in: 8,
            odd_timestamps: false,
            unicode_header_keys: false,
        }
    }
}

impl RecordGen {
    /// `n` bytes: random ones one time in `incompressible_in`, else a small alphabet with runs
    /// (which every codec compresses).
    pub fn payload(&self, rng: &mut Rng, max: u64) -> Vec<u8> {
        let n = rng.below(max + 1) as usize;
        if self.incompressible_in > 0 && rng.below(self.incompressible_in) == 0 {
            (0..n).map(|_| rng.next_u64() as u8).collect()
        } else {
            (0..n)
                .map(|i| b"abcdefgh"[(rng.below(8) as usize + i / 16) % 8])
                .collect()
        }
    }

    /// [`RecordGen::payload`], or null one time in `null_in`.
    pub fn maybe_payload(&self, rng: &mut Rng, max: u64) -> Option<Vec<u8>> {
        if rng.below(self.null_in) == 0 {
            None
        } else {
            Some(self.payload(rng, max))
        }
    }

    /// `n` records from around 2023-11-14 (1,700,000,000,000 ms) with up to three headers.
    pub fn records(&self, rng: &mut Rng, n: usize) -> Vec<Rec> {
        let base = 1_700_000_000_000i64;
        let big = self.big_in > 0 && rng.below(self.big_in) == 0;
        let max_value = if big {
            self.max_big_value
        } else {
            self.max_value
        };
        (0..n)
            .map(|_| Rec {
                ts: match (self.odd_timestamps, rng.below(50)) {
                    (true, 0) => -1, // RecordBatch.NO_TIMESTAMP
                    (true, 1) => base - 86_400_000 - rng.below(1 << 30) as i64,
                    (true, 2) => base + (1 << 40),
                    _ => base + rng.below(200_000) as i64 - 1000,
                },
                key: self.maybe_payload(rng, self.max_key),
                value: self.maybe_payload(rng, max_value),
                headers: (0..rng.below(4))
                    .map(|i| {
                        let k = if self.unicode_header_keys && rng.below(3) == 0 {
                            HEADER_KEYS[rng.below(5) as usize].to_string()
                        } else {
                            format!("h{i}-{}", rng.below(1000))
                        };
                        (k, self.maybe_payload(rng, 30))
                    })
                    .collect(),
            })
            .collect()
    }
}

/// Bytes as lowercase hex; `=` for empty and `-` for null, as the peers write them.
pub fn hex(b: Option<&[u8]>) -> String {
    match b {
        None => "-".into(),
        Some([]) => "=".into(),
        Some(b) => {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            let mut s = String::with_capacity(2 * b.len());
            for x in b {
                s.push(DIGITS[usize::from(x >> 4)] as char);
                s.push(DIGITS[usize::from(x & 15)] as char);
            }
            s
        }
    }
}

/// The inverse of [`hex`]. Panics on malformed hex: a peer wrote something it should not.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s == "-" {
        return None;
    }
    if s == "=" {
        return Some(Vec::new());
    }
    assert!(s.len() % 2 == 0, "odd-length hex {s:.80}");
    Some(
        (0..s.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&s[i..i + 2], 16)
                    .unwrap_or_else(|e| panic!("bad hex at {i} of {s:.80}: {e}"))
            })
            .collect(),
    )
}

/// A record as a peer line: `R [OFFSET] TIMESTAMP KEY VALUE NHEADERS [HKEY HVALUE]...`.
pub fn record_line(r: &Rec, offset: Option<i64>) -> String {
    let mut s = String::from("R ");
    if let Some(o) = offset {
        s += &format!("{o} ");
    }
    s += &format!(
        "{} {} {} {}",
        r.ts,
        hex(r.key.as_deref()),
        hex(r.value.as_deref()),
        r.headers.len()
    );
    for (k, v) in &r.headers {
        s += &format!(" {} {}", hex(Some(k.as_bytes())), hex(v.as_deref()));
    }
    s
}

/// Parses a peer's `R OFFSET TIMESTAMP KEY VALUE NHEADERS [HKEY HVALUE]...` line.
pub fn parse_record_line(line: &str) -> (i64, Rec) {
    let f: Vec<&str> = line.split(' ').collect();
    assert!(
        f.len() >= 6 && f[0] == "R",
        "not a record line: {line:.200}"
    );
    let nh: usize = f[5].parse().unwrap();
    assert_eq!(f.len(), 6 + 2 * nh, "header count of {line:.200}");
    let headers = (0..nh)
        .map(|i| {
            let k = String::from_utf8(unhex(f[6 + 2 * i]).unwrap()).unwrap();
            (k, unhex(f[7 + 2 * i]))
        })
        .collect();
    (
        f[1].parse().unwrap(),
        Rec {
            ts: f[2].parse().unwrap(),
            key: unhex(f[3]),
            value: unhex(f[4]),
            headers,
        },
    )
}

/// Appends records until the first one the builder refuses (the batch is full); returns how
/// many it took.
pub fn append_records(b: &mut BatchBuilder, recs: &[Rec]) -> usize {
    let mut n = 0;
    for r in recs {
        if b.try_append(r.ts, r.key.as_deref(), r.value.as_deref(), &r.header_refs())
            .is_err()
        {
            break;
        }
        n += 1;
    }
    n
}

/// Builds one batch with kproto: (records accepted under the write limit, the batch).
pub fn build(cfg: BatchConfig, recs: &[Rec]) -> (usize, Vec<u8>) {
    let mut b = BatchBuilder::new(cfg);
    let n = append_records(&mut b, recs);
    (n, b.finish().unwrap())
}

/// Reads a batch's records with kproto: (offset, record) in order. Header keys must be UTF-8.
pub fn read_records<T: AsRef<[u8]>>(
    b: &BatchView<T>,
    max_uncompressed: usize,
) -> Result<Vec<(i64, Rec)>, RecordError> {
    let mut scratch = Vec::new();
    let mut out = Vec::new();
    for r in b.records(&mut scratch, max_uncompressed)? {
        let r = r?;
        out.push((
            r.offset,
            Rec {
                ts: r.timestamp,
                key: r.key.map(<[u8]>::to_vec),
                value: r.value.map(<[u8]>::to_vec),
                headers: r
                    .headers
                    .iter()
                    .map(|h| {
                        (
                            h.key_str().expect("UTF-8 header key").to_string(),
                            h.value.map(<[u8]>::to_vec),
                        )
                    })
                    .collect(),
            },
        ));
    }
    Ok(out)
}

/// How long a peer (a JVM running `RecordsPeer`, kafka-python) may take to answer before the
/// test kills it and fails: far more than any answer takes, far less than forever. 120 s, or
/// `$KPP_PEER_TIMEOUT_SECS`.
pub fn peer_timeout() -> Duration {
    std::env::var("KPP_PEER_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(Duration::from_secs(120), Duration::from_secs)
}

/// A long-lived peer process that answers lines on stdout to lines on stdin. Writing and
/// reading go through threads, so a peer that stops reading or answering cannot hang the test:
/// [`LinePeer::read_line`] kills it after the timeout and panics saying so. Dropping the peer
/// closes its stdin and waits for it to exit (killing it if it does not, within the timeout).
pub struct LinePeer {
    name: String,
    child: Child,
    to_child: Option<Sender<Vec<u8>>>,
    from_child: Receiver<std::io::Result<String>>,
    timeout: Duration,
}

impl LinePeer {
    /// Starts `cmd` with piped stdin and stdout (stderr as `cmd` has it). `name` says who it is
    /// in failure messages.
    pub fn spawn(name: &str, mut cmd: Command, timeout: Duration) -> LinePeer {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        let mut stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (to_child, inbox) = mpsc::channel::<Vec<u8>>();
        thread::spawn(move || {
            for chunk in inbox {
                if stdin
                    .write_all(&chunk)
                    .and_then(|()| stdin.flush())
                    .is_err()
                {
                    break;
                }
            }
        });
        let (outbox, from_child) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                if outbox.send(line).is_err() {
                    break;
                }
            }
        });
        LinePeer {
            name: name.to_string(),
            child,
            to_child: Some(to_child),
            from_child,
            timeout,
        }
    }

    /// Queues `text` for the peer's stdin (never blocks).
    pub fn send(&mut self, text: &str) {
        let sent = self
            .to_child
            .as_ref()
            .map(|t| t.send(text.as_bytes().to_vec()));
        assert!(
            matches!(sent, Some(Ok(()))),
            "{} no longer reads its stdin",
            self.name
        );
    }

    /// The next line the peer writes (without its newline); `None` when it closed stdout.
    /// Kills the peer and panics when no line comes within the timeout.
    pub fn read_line(&mut self) -> Option<String> {
        match self.from_child.recv_timeout(self.timeout) {
            Ok(Ok(line)) => Some(line),
            Ok(Err(e)) => panic!("reading {}'s stdout: {e}", self.name),
            Err(RecvTimeoutError::Disconnected) => None,
            Err(RecvTimeoutError::Timeout) => {
                let pid = self.child.id();
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} (pid {pid}) gave no answer within {:?}: killed it",
                    self.name, self.timeout
                );
            }
        }
    }
}

impl Drop for LinePeer {
    fn drop(&mut self) {
        // Closing stdin asks the peer to finish; one that does not is killed.
        drop(self.to_child.take());
        if wait_until(&mut self.child, Instant::now() + self.timeout).is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Polls `child` until it exits or `deadline` passes.
fn wait_until(child: &mut Child, deadline: Instant) -> Option<ExitStatus> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
            _ => return None,
        }
    }
}

/// What a one-shot peer wrote and how it ended.
#[derive(Debug)]
pub struct PeerOutput {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stdout.
    pub stdout: Vec<u8>,
    /// Its stderr.
    pub stderr: Vec<u8>,
}

/// Runs a one-shot peer: `input` on its stdin (then closed), stdout and stderr collected.
/// A peer that has not exited within `timeout` is killed and the test fails saying so, with
/// what it had written to stderr.
pub fn run_peer(name: &str, mut cmd: Command, input: &str, timeout: Duration) -> PeerOutput {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
    let deadline = Instant::now() + timeout;
    let mut stdin = child.stdin.take().unwrap();
    let input = input.as_bytes().to_vec();
    // A peer that stops reading fails the write, or leaves it blocked until the kill below.
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let collect = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = collect(Box::new(child.stdout.take().unwrap()));
    let stderr = collect(Box::new(child.stderr.take().unwrap()));
    let status = wait_until(&mut child, deadline);
    if status.is_none() {
        let pid = child.id();
        let _ = child.kill();
        let _ = child.wait();
        let err = stderr.join().unwrap_or_default();
        panic!(
            "{name} (pid {pid}) did not finish within {timeout:?}: killed it; its stderr:\n{}",
            String::from_utf8_lossy(&err)
        );
    }
    let _ = writer.join();
    PeerOutput {
        status: status.unwrap(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alive(pid: u32) -> bool {
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid as libc::pid_t, 0) == 0 }
    }

    fn panic_message(e: Box<dyn std::any::Any + Send>) -> String {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    }

    #[test]
    fn a_line_peer_that_never_answers_is_killed_with_a_clear_message() {
        let mut cmd = Command::new("sleep");
        cmd.arg("600");
        let mut peer = LinePeer::spawn("a sleeping peer", cmd, Duration::from_millis(300));
        let pid = peer.child.id();
        peer.send("ping\n");
        let started = Instant::now();
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| peer.read_line()))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        let msg = panic_message(err);
        assert!(
            msg.contains("a sleeping peer") && msg.contains("gave no answer within 300ms"),
            "{msg}"
        );
        drop(peer);
        assert!(!alive(pid), "the peer was not killed");
    }

    #[test]
    fn a_line_peer_answers_and_ends_when_its_stdin_closes() {
        let mut peer = LinePeer::spawn("cat", Command::new("cat"), Duration::from_secs(30));
        let big = "x".repeat(1 << 20);
        peer.send(&format!("{big}\nsecond\n"));
        assert_eq!(peer.read_line().as_deref(), Some(big.as_str()));
        assert_eq!(peer.read_line().as_deref(), Some("second"));
        let pid = peer.child.id();
        drop(peer);
        assert!(!alive(pid));
    }

    #[test]
    fn a_one_shot_peer_that_hangs_is_killed_with_a_clear_message() {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg("echo started >&2; exec sleep 600");
        let started = Instant::now();
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_peer("a hanging script", cmd, "", Duration::from_millis(500))
        }))
        .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(10));
        let msg = panic_message(err);
        assert!(
            msg.contains("a hanging script")
                && msg.contains("did not finish within 500ms")
                && msg.contains("started"),
            "{msg}"
        );
    }

    #[test]
    fn a_one_shot_peer_gets_its_input_and_gives_its_output() {
        let input = "line\n".repeat(100_000);
        let out = run_peer("wc", Command::new("wc"), &input, Duration::from_secs(30));
        assert!(out.status.success());
        let words: Vec<&str> = std::str::from_utf8(&out.stdout)
            .unwrap()
            .split_whitespace()
            .collect();
        assert_eq!(words, ["100000", "100000", "500000"]);
    }

    #[test]
    fn record_lines_round_trip() {
        let mut rng = Rng::new(7);
        let gen = RecordGen {
            odd_timestamps: true,
            unicode_header_keys: true,
            incompressible_in: 4,
            ..RecordGen::default()
        };
        for (i, r) in gen.records(&mut rng, 200).iter().enumerate() {
            let (o, back) = parse_record_line(&record_line(r, Some(i as i64 * 3)));
            assert_eq!((o, &back), (i as i64 * 3, r));
        }
    }
}
