//! Runs a client program to completion: its stdin written from memory, stdout and stderr
//! captured, killed (and the test failed, with what it printed) when it outlives a time limit.

// A test harness, not a sans-IO core: it reads the clock to bound how long it waits.
#![allow(clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::process::{Command, ExitStatus, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What a finished program printed.
#[derive(Debug, Clone)]
pub struct Finished {
    /// How it exited.
    pub status: ExitStatus,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
    /// How long it ran.
    pub elapsed: Duration,
}

/// The last `lines` lines of `s`.
pub fn tail(s: &str, lines: usize) -> String {
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

fn reader(mut r: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = r.read_to_end(&mut s);
        s
    })
}

fn text(h: JoinHandle<Vec<u8>>) -> String {
    String::from_utf8_lossy(&h.join().unwrap_or_default()).into_owned()
}

/// Runs `cmd` (named `what` in failures) with `stdin` as its input until it exits; kills it
/// and panics with the tails of its output when it runs longer than `timeout`, panics with
/// both streams when it exits non-zero.
pub fn run(what: &str, cmd: &mut Command, stdin: &[u8], timeout: Duration) -> Finished {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    let mut input = child.stdin.take().expect("piped stdin");
    let data = stdin.to_vec();
    // A program that exits early closes its stdin: the write then fails, which its exit status
    // and stderr explain better.
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = reader(child.stdout.take().expect("piped stdout"));
    let err = reader(child.stderr.take().expect("piped stderr"));
    let deadline = start + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for a client program") {
            break st;
        }
        if Instant::now() > deadline {
            let pid = child.id();
            let _ = child.kill();
            let _ = child.wait();
            let _ = writer.join();
            panic!(
                "{what} did not finish within {timeout:?}; killed (pid {pid}).\n--- stdout\n{}\n\
                 --- stderr\n{}",
                tail(&text(out), 20),
                tail(&text(err), 40)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let _ = writer.join();
    let finished = Finished {
        status,
        stdout: text(out),
        stderr: text(err),
        elapsed: start.elapsed(),
    };
    assert!(
        finished.status.success(),
        "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        finished.status,
        tail(&finished.stdout, 30),
        tail(&finished.stderr, 60)
    );
    finished
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_gets_its_input_and_its_output_is_captured() {
        let input: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        let f = run(
            "wc",
            Command::new("sh").args(["-c", "wc -l; echo note >&2"]),
            input.as_bytes(),
            Duration::from_secs(30),
        );
        assert_eq!(f.stdout.trim(), "20000");
        assert_eq!(f.stderr.trim(), "note");
    }

    #[test]
    fn a_failing_or_hanging_program_fails_the_test_with_its_output() {
        let failed = std::panic::catch_unwind(|| {
            run(
                "false",
                Command::new("sh").args(["-c", "echo why >&2; exit 3"]),
                b"",
                Duration::from_secs(30),
            )
        })
        .expect_err("exit 3 is a failure");
        let msg = failed.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(msg.contains("false failed") && msg.contains("why"), "{msg}");

        let hung = std::panic::catch_unwind(|| {
            run(
                "sleeper",
                Command::new("sh").args(["-c", "echo started; exec sleep 600"]),
                b"",
                Duration::from_millis(500),
            )
        })
        .expect_err("a program past its limit is a failure");
        let msg = hung.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            msg.contains("sleeper did not finish within 500ms; killed"),
            "{msg}"
        );
    }
}
