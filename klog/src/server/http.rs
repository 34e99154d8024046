//! The metrics endpoint: a minimal HTTP/1.1 responder for `GET /metrics` (Prometheus scrapes
//! one URL; a web framework would be most of the binary for it).
//!
//! One request per connection, answered with `Connection: close`: the request head is read
//! (at most [`MAX_HEAD`] bytes, within [`READ_TIMEOUT`]), any body ignored. `GET` and `HEAD` of
//! `/metrics` (a query string is ignored) get `200` with the text format; another path `404`;
//! another method `405`; a head that is not HTTP `400`; a head too large `431`. The counters
//! of the core are asked of the core thread at each scrape, so they are exact at that moment.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use core::time::Duration;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tracing::{debug, warn};

use super::core_thread::{CoreMsg, CoreSender};
use super::metrics::{render, AdapterMetrics, ProcessStats};

/// The largest request head read.
pub const MAX_HEAD: usize = 8 * 1024;

/// How long a client may take to send its request head.
pub const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The content type of the text exposition format 0.0.4.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    /// `GET /metrics` (`head`: `HEAD`, no body sent).
    Metrics { head: bool },
    /// Another path.
    NotFound,
    /// Another method.
    MethodNotAllowed,
    /// Not an HTTP request line.
    BadRequest,
}

/// Routes the request line of `head` (the bytes before the blank line).
fn route(head: &[u8]) -> Route {
    let line_end = head
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(head.len());
    let Ok(line) = core::str::from_utf8(&head[..line_end]) else {
        return Route::BadRequest;
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Route::BadRequest;
    }
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    match (method, path) {
        ("GET", "/metrics") => Route::Metrics { head: false },
        ("HEAD", "/metrics") => Route::Metrics { head: true },
        (_, "/metrics") => Route::MethodNotAllowed,
        _ => Route::NotFound,
    }
}

/// A whole response with `body`.
fn response(status: &str, content_type: &str, body: &str, send_body: bool) -> String {
    let mut r = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n",
        body.len()
    );
    if status.starts_with("405") {
        r.push_str("Allow: GET, HEAD\r\n");
    }
    r.push_str("\r\n");
    if send_body {
        r.push_str(body);
    }
    r
}

/// Why a request head could not be read.
#[derive(Debug, PartialEq, Eq)]
enum HeadError {
    /// Longer than [`MAX_HEAD`].
    TooLarge,
    /// The peer closed before the blank line, or reading failed, or timed out.
    Gone,
}

/// Reads up to the blank line that ends the request head.
async fn read_head(stream: &mut TcpStream) -> Result<alloc::vec::Vec<u8>, HeadError> {
    let mut buf = alloc::vec::Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(end);
            return Ok(buf);
        }
        if buf.len() > MAX_HEAD {
            return Err(HeadError::TooLarge);
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Err(HeadError::Gone),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Answers one HTTP connection.
async fn serve_one(mut stream: TcpStream, core: CoreSender, adapter: Arc<AdapterMetrics>) {
    let head = match tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(h)) => h,
        Ok(Err(HeadError::TooLarge)) => {
            let r = response(
                "431 Request Header Fields Too Large",
                "text/plain",
                "request head too large\n",
                true,
            );
            if stream.write_all(r.as_bytes()).await.is_ok() {
                linger(&mut stream).await;
            }
            return;
        }
        Ok(Err(HeadError::Gone)) | Err(_) => return,
    };
    let r = match route(&head) {
        Route::Metrics { head } => {
            let (tx, rx) = oneshot::channel();
            let snapshot = match core.send(CoreMsg::Metrics(tx)) {
                Ok(()) => rx.await.ok(),
                Err(_) => None,
            };
            drop(core);
            match snapshot {
                Some((broker, health)) => {
                    let mut body = render(&broker, &health, &adapter.snapshot());
                    if let Some(p) = ProcessStats::read() {
                        p.render(&mut body);
                    }
                    response("200 OK", CONTENT_TYPE, &body, !head)
                }
                None => response(
                    "503 Service Unavailable",
                    "text/plain",
                    "the broker core is stopping\n",
                    !head,
                ),
            }
        }
        Route::NotFound => response(
            "404 Not Found",
            "text/plain",
            "not found: the metrics are at /metrics\n",
            true,
        ),
        Route::MethodNotAllowed => response(
            "405 Method Not Allowed",
            "text/plain",
            "only GET and HEAD\n",
            true,
        ),
        Route::BadRequest => response("400 Bad Request", "text/plain", "bad request\n", true),
    };
    if stream.write_all(r.as_bytes()).await.is_ok() {
        linger(&mut stream).await;
    }
}

/// Closes after the answer as HTTP servers do (a lingering close): the write side first, then
/// what the client still sends is read and dropped (1 s, 1 MiB at most), so that closing with
/// unread bytes does not reset the connection before the client has read the answer.
async fn linger(stream: &mut TcpStream) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        let mut chunk = [0u8; 4096];
        let mut total = 0usize;
        while total < 1 << 20 {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => total += n,
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
}

/// Serves the metrics endpoint on `socket` until the stop flag is set; each connection's task
/// ends with its answer or at the stop, so none holds the core up at shutdown.
pub(crate) async fn serve(
    socket: TcpListener,
    addr: SocketAddr,
    core: CoreSender,
    adapter: Arc<AdapterMetrics>,
    stop: watch::Receiver<bool>,
) {
    let mut stop_rx = stop.clone();
    let mut tasks = tokio::task::JoinSet::new();
    loop {
        tokio::select! {
            accepted = socket.accept() => match accepted {
                Ok((stream, peer)) => {
                    debug!(peer = %peer, "metrics scrape");
                    let core = core.clone();
                    let adapter = Arc::clone(&adapter);
                    let mut stop = stop.clone();
                    tasks.spawn(async move {
                        tokio::select! {
                            _ = serve_one(stream, core, adapter) => {}
                            _ = super::stopped(&mut stop) => {}
                        }
                    });
                }
                Err(e) => {
                    warn!(metrics_address = %addr, error = %e, "metrics accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            _ = super::stopped(&mut stop_rx) => break,
        }
    }
    while tasks.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            route(b"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*"),
            Route::Metrics { head: false }
        );
        assert_eq!(
            route(b"GET /metrics?name[]=x HTTP/1.0"),
            Route::Metrics { head: false }
        );
        assert_eq!(
            route(b"HEAD /metrics HTTP/1.1"),
            Route::Metrics { head: true }
        );
        assert_eq!(route(b"POST /metrics HTTP/1.1"), Route::MethodNotAllowed);
        assert_eq!(route(b"GET / HTTP/1.1"), Route::NotFound);
        assert_eq!(route(b"GET /metricsx HTTP/1.1"), Route::NotFound);
        assert_eq!(route(b"GET /metrics"), Route::BadRequest);
        assert_eq!(route(b"GET metrics HTTP/1.1"), Route::BadRequest);
        assert_eq!(route(b"GET /metrics SPDY/3"), Route::BadRequest);
        assert_eq!(route(b"\xff\xfe /metrics HTTP/1.1"), Route::BadRequest);
        assert_eq!(route(b""), Route::BadRequest);
        // a Kafka request frame sent to the wrong port
        assert_eq!(route(&[0, 0, 0, 40, 0, 18, 0, 3]), Route::BadRequest);
    }

    #[test]
    fn responses_have_length_and_close() {
        let body = "x".repeat(5000);
        let r = response("200 OK", CONTENT_TYPE, &body, true);
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(r.contains("\r\nContent-Length: 5000\r\n"));
        assert!(r.contains("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
        assert!(r.contains("\r\nConnection: close\r\n"));
        assert!(r.ends_with(&alloc::format!("\r\n\r\n{body}")));
        // HEAD: the length of the body not sent
        let r = response("200 OK", CONTENT_TYPE, &body, false);
        assert!(r.contains("Content-Length: 5000\r\n") && r.ends_with("\r\n\r\n"));
        let r = response("405 Method Not Allowed", "text/plain", "no\n", true);
        assert!(r.contains("\r\nAllow: GET, HEAD\r\n"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_scrape_asks_the_core_and_odd_requests_get_their_status() {
        let socket = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let (core, rx) = std::sync::mpsc::channel();
        // a scripted core: answers metrics requests with a known snapshot
        std::thread::spawn(move || {
            while let Ok(m) = rx.recv() {
                if let CoreMsg::Metrics(reply) = m {
                    let _ = reply.send((
                        crate::broker::BrokerMetrics {
                            messages_in: 4242,
                            ..Default::default()
                        },
                        super::super::metrics::LogHealth::default(),
                    ));
                }
            }
        });
        let adapter = Arc::new(AdapterMetrics::new(["PLAINTEXT"]));
        let (stop, stop_rx) = watch::channel(false);
        let server = tokio::spawn(serve(socket, addr, core, adapter, stop_rx));

        async fn ask(addr: SocketAddr, req: &[u8]) -> String {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(req).await.unwrap();
            let mut out = alloc::vec::Vec::new();
            tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out))
                .await
                .unwrap()
                .unwrap();
            String::from_utf8(out).unwrap()
        }
        let r = ask(addr, b"GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n").await;
        let (head, body) = r.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        assert!(body.contains("\nkafka_server_brokertopicmetrics_messagesin_total 4242\n"));
        // the head arriving byte by byte
        let mut s = TcpStream::connect(addr).await.unwrap();
        for b in b"HEAD /metrics HTTP/1.0\r\n\r\n" {
            s.write_all(&[*b]).await.unwrap();
        }
        let mut out = alloc::vec::Vec::new();
        s.read_to_end(&mut out).await.unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("HTTP/1.1 200 OK") && out.ends_with("\r\n\r\n"));
        assert!(ask(addr, b"GET /nope HTTP/1.1\r\n\r\n")
            .await
            .starts_with("HTTP/1.1 404 "));
        assert!(ask(addr, b"DELETE /metrics HTTP/1.1\r\n\r\n")
            .await
            .starts_with("HTTP/1.1 405 "));
        assert!(ask(addr, b"hello\r\n\r\n")
            .await
            .starts_with("HTTP/1.1 400 "));
        let mut big = b"GET /metrics HTTP/1.1\r\nX-Pad: ".to_vec();
        big.extend(core::iter::repeat_n(b'a', 20_000));
        assert!(ask(addr, &big).await.starts_with("HTTP/1.1 431 "));
        // a silent client is dropped at the stop, and the endpoint ends
        let _silent = TcpStream::connect(addr).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        stop.send_replace(true);
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .unwrap()
            .unwrap();
    }
}
