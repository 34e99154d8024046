//! One client connection: framing, read-ahead, one request in the core at a time, responses
//! in order, idle expiry, and each request's total time (Kafka's `TotalTimeMs`: from the
//! moment its whole frame was read to the moment its response was written).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::time::Duration;
use std::net::SocketAddr;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;
use tracing::{debug, info};

use super::core_thread::{CoreMsg, CoreSender};
use super::metrics::AdapterMetrics;
use crate::broker::{CloseReason, ConnectionId, Handled};

/// Complete frames read ahead of the one in the core, at most (pipelining).
pub const READ_AHEAD_FRAMES: usize = 64;

/// Bytes of complete frames read ahead, at most: reading pauses above this (the frame being
/// read is not counted; it is bounded by `socket.request.max.bytes`).
pub const READ_AHEAD_BYTES: usize = 1 << 20;

/// How long a connection may take to write the answer it owes once shutdown started.
pub const SHUTDOWN_WRITE_GRACE: Duration = Duration::from_secs(5);

/// The smallest read: the buffer gets at least this much room before each read.
const READ_CHUNK: usize = 16 * 1024;

/// The connection limits from the configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// `socket.request.max.bytes`.
    pub(crate) max_frame: usize,
    /// `connections.max.idle.ms` (`None`: never).
    pub(crate) idle: Option<Duration>,
}

/// Why the adapter closed a connection (the core's own reasons are [`CloseReason`]).
#[derive(Debug, thiserror::Error)]
enum Closed {
    /// Kafka's `InvalidReceiveException`.
    #[error("Invalid receive (size = {size})")]
    NegativeSize { size: i32 },
    /// Kafka's `InvalidReceiveException`.
    #[error("Invalid receive (size = {size} larger than {max})")]
    TooLarge { size: i32, max: usize },
    /// The core closed it.
    #[error("{0}")]
    Core(CloseReason),
    /// Kafka's idle expiry.
    #[error("idle for more than connections.max.idle.ms ({0:?})")]
    Idle(Duration),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// The peer closed its side.
    #[error("closed by the peer")]
    Eof,
    /// The broker stops.
    #[error("broker shutting down")]
    Shutdown,
    /// The answer owed could not be written within the shutdown grace.
    #[error("broker shutting down; the answer was not written within {0:?}")]
    ShutdownWrite(Duration),
    /// The core thread is gone.
    #[error("broker core stopped")]
    CoreGone,
}

/// The next frame at the front of `buf`, checked as Kafka's `NetworkReceive` checks it: a
/// negative size or one above `max` is refused as soon as the 4 size bytes are there.
fn next_frame(buf: &mut BytesMut, max: usize) -> Result<Option<Bytes>, Closed> {
    let Some(prefix) = buf.first_chunk::<4>() else {
        return Ok(None);
    };
    let size = i32::from_be_bytes(*prefix);
    let Ok(len) = usize::try_from(size) else {
        return Err(Closed::NegativeSize { size });
    };
    if len > max {
        return Err(Closed::TooLarge { size, max });
    }
    if buf.len() - 4 < len {
        return Ok(None);
    }
    buf.advance(4);
    Ok(Some(buf.split_to(len).freeze()))
}

/// Room for the next read: the rest of the frame being read, between [`READ_CHUNK`] and what
/// is held already (so the buffer at most doubles per read, growing with what arrives).
fn reserve_for_read(buf: &mut BytesMut, max: usize) {
    let held = buf.len();
    let frame_end = buf
        .first_chunk::<4>()
        .and_then(|p| usize::try_from(i32::from_be_bytes(*p)).ok())
        .filter(|&n| n <= max)
        .map(|n| n + 4);
    let want = match frame_end {
        Some(end) if end > held => (end - held).clamp(1, held.max(READ_CHUNK)),
        _ => READ_CHUNK,
    };
    if buf.capacity() - held < want {
        buf.reserve(want);
    }
}

/// Writes `frame`, giving up when the write takes longer than `connections.max.idle.ms` (the
/// client stopped reading) or, once shutdown started, longer than [`SHUTDOWN_WRITE_GRACE`].
async fn write_frame(
    writer: &mut OwnedWriteHalf,
    frame: &[u8],
    limits: Limits,
    stop: &mut watch::Receiver<bool>,
) -> Result<(), Closed> {
    let idle = async {
        match limits.idle {
            Some(d) => tokio::time::sleep(d).await,
            None => core::future::pending().await,
        }
    };
    let grace = async {
        super::stopped(stop).await;
        tokio::time::sleep(SHUTDOWN_WRITE_GRACE).await;
    };
    tokio::select! {
        r = writer.write_all(frame) => r.map_err(Closed::Io),
        _ = idle => Err(Closed::Idle(limits.idle.unwrap_or_default())),
        _ = grace => Err(Closed::ShutdownWrite(SHUTDOWN_WRITE_GRACE)),
    }
}

/// The API key at the front of a request frame (-1 for a frame shorter than 2 bytes).
fn api_key_of(frame: &[u8]) -> i16 {
    frame
        .first_chunk::<2>()
        .map_or(-1, |k| i16::from_be_bytes(*k))
}

/// Serves one connection until it closes, then tells the core; the requests' total times go
/// to `metrics`.
pub(crate) async fn serve(
    id: ConnectionId,
    peer: SocketAddr,
    stream: TcpStream,
    core: CoreSender,
    mut stop: watch::Receiver<bool>,
    limits: Limits,
    metrics: Arc<AdapterMetrics>,
) {
    let why = serve_inner(id, stream, &core, &mut stop, limits, &metrics).await;
    let _ = core.send(CoreMsg::Closed(id));
    match why {
        Closed::Eof => debug!(conn = id, peer = %peer, "connection closed by the peer"),
        Closed::Shutdown => debug!(conn = id, peer = %peer, "connection closed for shutdown"),
        why => info!(conn = id, peer = %peer, reason = %why, "connection closed"),
    }
}

async fn serve_inner(
    id: ConnectionId,
    stream: TcpStream,
    core: &CoreSender,
    stop: &mut watch::Receiver<bool>,
    limits: Limits,
    metrics: &AdapterMetrics,
) -> Closed {
    let (mut reader, mut writer) = stream.into_split();
    let mut buf = BytesMut::new();
    // complete frames read ahead, with the moment each was read whole
    let mut queue: VecDeque<(Bytes, Instant)> = VecDeque::new();
    let mut queued_bytes = 0usize;
    // a framing error seen while reading ahead: acted on once the frames before it are answered
    let mut refused: Option<Closed> = None;
    let mut eof = false;
    let mut stopping = *stop.borrow();
    let mut in_flight: Option<oneshot::Receiver<Handled>> = None;
    // the API key and arrival of the request in flight
    let mut started: (i16, Instant) = (-1, Instant::now());
    let mut last_activity = Instant::now();
    loop {
        if in_flight.is_none() {
            if stopping {
                return Closed::Shutdown;
            }
            if let Some((frame, arrived)) = queue.pop_front() {
                queued_bytes -= frame.len();
                started = (api_key_of(&frame), arrived);
                let (tx, rx) = oneshot::channel();
                if core
                    .send(CoreMsg::Frame {
                        conn: id,
                        frame,
                        reply: tx,
                    })
                    .is_err()
                {
                    return Closed::CoreGone;
                }
                in_flight = Some(rx);
            } else if let Some(why) = refused.take() {
                return why;
            } else if eof {
                return Closed::Eof;
            }
        }
        let reading = !eof
            && !stopping
            && refused.is_none()
            && queue.len() < READ_AHEAD_FRAMES
            && queued_bytes < READ_AHEAD_BYTES;
        if reading {
            reserve_for_read(&mut buf, limits.max_frame);
        }
        let idle_deadline = match (limits.idle, &in_flight) {
            (Some(d), None) => Some(last_activity + d),
            _ => None,
        };
        let step = tokio::select! {
            biased;
            answer = async { in_flight.as_mut().expect("guarded by the condition").await },
                if in_flight.is_some() => Step::Answer(answer),
            read = reader.read_buf(&mut buf), if reading => Step::Read(read),
            _ = super::stopped(stop), if !stopping => Step::Stop,
            _ = sleep_until_opt(idle_deadline) => Step::Idle,
        };
        match step {
            Step::Answer(answer) => {
                in_flight = None;
                match answer {
                    Ok(Handled::Respond(frame)) => {
                        if let Err(why) = write_frame(&mut writer, &frame, limits, stop).await {
                            return why;
                        }
                        last_activity = Instant::now();
                        metrics.observe(started.0, last_activity - started.1);
                    }
                    Ok(Handled::NoResponse) => metrics.observe(started.0, started.1.elapsed()),
                    Ok(Handled::Close(reason)) => return Closed::Core(reason),
                    // the core thread never sends Pending; it keeps the sender instead
                    Ok(Handled::Pending) | Err(_) => return Closed::CoreGone,
                }
            }
            Step::Read(Ok(0)) => eof = true,
            Step::Read(Ok(_)) => {
                last_activity = Instant::now();
                loop {
                    match next_frame(&mut buf, limits.max_frame) {
                        Ok(Some(frame)) => {
                            queued_bytes += frame.len();
                            queue.push_back((frame, last_activity));
                        }
                        Ok(None) => break,
                        Err(why) => {
                            refused = Some(why);
                            break;
                        }
                    }
                }
            }
            Step::Read(Err(e)) => return Closed::Io(e),
            Step::Stop => stopping = true,
            Step::Idle => return Closed::Idle(limits.idle.unwrap_or_default()),
        }
    }
}

/// What woke the connection loop.
enum Step {
    /// The core answered the request in flight.
    Answer(Result<Handled, oneshot::error::RecvError>),
    /// A read finished.
    Read(std::io::Result<usize>),
    /// Shutdown started.
    Stop,
    /// `connections.max.idle.ms` passed without activity.
    Idle,
}

/// Sleeps until `deadline`, forever without one.
async fn sleep_until_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => core::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec::Vec;

    #[test]
    fn frames_are_checked_before_they_are_buffered() {
        let max = 100 * 1024 * 1024;
        let mut buf = BytesMut::from(&i32::MAX.to_be_bytes()[..]);
        match next_frame(&mut buf, max) {
            Err(Closed::TooLarge { size, max: m }) => assert_eq!((size, m), (i32::MAX, max)),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            Closed::TooLarge {
                size: i32::MAX,
                max
            }
            .to_string(),
            "Invalid receive (size = 2147483647 larger than 104857600)"
        );
        let mut buf = BytesMut::from(&(-1i32).to_be_bytes()[..]);
        match next_frame(&mut buf, max) {
            Err(Closed::NegativeSize { size }) => assert_eq!(size, -1),
            other => panic!("{other:?}"),
        }
        // a valid prefix claiming 100 MiB gets room for one read chunk, not the frame
        let mut buf = BytesMut::from(&(max as i32).to_be_bytes()[..]);
        reserve_for_read(&mut buf, max);
        assert!(buf.capacity() < 4 * READ_CHUNK, "{}", buf.capacity());
        assert_eq!(next_frame(&mut buf, max).unwrap(), None);
    }

    #[test]
    fn pipelined_frames_split_in_order_and_the_tail_waits() {
        let mut buf = BytesMut::new();
        let mut sizes = Vec::new();
        for i in 0..300u32 {
            // sizes with multi-byte lengths, up to a few KB
            let len = (i as usize * 37) % 5000;
            sizes.push(len);
            buf.extend_from_slice(&(len as i32).to_be_bytes());
            buf.extend(core::iter::repeat_n((i % 251) as u8, len));
        }
        // an incomplete last frame
        buf.extend_from_slice(&1000i32.to_be_bytes());
        buf.extend_from_slice(&[7u8; 999]);
        for (i, len) in sizes.iter().enumerate() {
            let f = next_frame(&mut buf, 1 << 20).unwrap().unwrap();
            assert_eq!(f.len(), *len);
            assert!(f.iter().all(|&b| b == (i % 251) as u8));
        }
        assert_eq!(next_frame(&mut buf, 1 << 20).unwrap(), None);
        buf.extend_from_slice(&[7u8]);
        assert_eq!(next_frame(&mut buf, 1 << 20).unwrap().unwrap().len(), 1000);
        assert!(buf.is_empty());
    }

    #[test]
    fn the_read_buffer_grows_with_what_arrives() {
        let max = 100 * 1024 * 1024;
        let mut buf = BytesMut::new();
        buf.extend_from_slice(&(10 * 1024 * 1024i32).to_be_bytes());
        let mut arrived = 4usize;
        while arrived < 1024 * 1024 {
            reserve_for_read(&mut buf, max);
            // at most double what is held, plus a chunk
            assert!(
                buf.capacity() <= 2 * arrived + 2 * READ_CHUNK,
                "capacity {} after {arrived} bytes",
                buf.capacity()
            );
            let room = buf.capacity() - buf.len();
            buf.extend(core::iter::repeat_n(1u8, room));
            arrived += room;
        }
        assert_eq!(next_frame(&mut buf, max).unwrap(), None);
    }

    // --- one connection against a scripted core: muting, NoResponse, Close, shutdown ---

    use std::sync::mpsc;
    use tokio::net::TcpListener;

    /// A connection task served against a channel the test answers as the core would.
    struct Harness {
        client: TcpStream,
        core: mpsc::Receiver<CoreMsg>,
        stop: watch::Sender<bool>,
        task: tokio::task::JoinHandle<()>,
        metrics: Arc<AdapterMetrics>,
    }

    async fn harness(idle: Option<Duration>) -> Harness {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        let (stream, peer) = l.accept().await.unwrap();
        let (tx, rx) = mpsc::channel();
        let (stop, stop_rx) = watch::channel(false);
        let limits = Limits {
            max_frame: 1 << 20,
            idle,
        };
        let metrics = Arc::new(AdapterMetrics::new(["PLAINTEXT"]));
        let task = tokio::spawn(serve(
            7,
            peer,
            stream,
            tx,
            stop_rx,
            limits,
            Arc::clone(&metrics),
        ));
        Harness {
            client,
            core: rx,
            stop,
            task,
            metrics,
        }
    }

    /// The next message to the core within `ms`, polling the channel.
    async fn next_msg(rx: &mpsc::Receiver<CoreMsg>, ms: u64) -> Option<CoreMsg> {
        let deadline = Instant::now() + Duration::from_millis(ms);
        loop {
            match rx.try_recv() {
                Ok(m) => return Some(m),
                Err(mpsc::TryRecvError::Disconnected) => return None,
                Err(mpsc::TryRecvError::Empty) if Instant::now() >= deadline => return None,
                Err(mpsc::TryRecvError::Empty) => {
                    tokio::time::sleep(Duration::from_millis(5)).await
                }
            }
        }
    }

    async fn next_frame_msg(rx: &mpsc::Receiver<CoreMsg>) -> (Bytes, oneshot::Sender<Handled>) {
        match next_msg(rx, 5000).await {
            Some(CoreMsg::Frame { conn, frame, reply }) => {
                assert_eq!(conn, 7);
                (frame, reply)
            }
            other => panic!("expected a frame, got {other:?}"),
        }
    }

    /// A request frame of `len` bytes, all `tag`.
    fn req(tag: u8, len: usize) -> Vec<u8> {
        let mut v = (len as i32).to_be_bytes().to_vec();
        v.extend(core::iter::repeat_n(tag, len));
        v
    }

    /// A response frame (prefix included) of `len` bytes, all `tag`.
    fn resp(tag: u8, len: usize) -> Bytes {
        Bytes::from(req(tag, len))
    }

    async fn read_resp(c: &mut TcpStream) -> Vec<u8> {
        let mut p = [0u8; 4];
        c.read_exact(&mut p).await.unwrap();
        let mut f = alloc::vec![0u8; i32::from_be_bytes(p) as usize];
        c.read_exact(&mut f).await.unwrap();
        f
    }

    async fn assert_eof(c: &mut TcpStream) {
        let mut b = [0u8; 1];
        let r = tokio::time::timeout(Duration::from_secs(5), c.read(&mut b)).await;
        assert!(matches!(r, Ok(Ok(0)) | Ok(Err(_))), "{r:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_core_sees_the_next_frame_only_after_the_previous_answer() {
        let mut h = harness(None).await;
        // four pipelined requests of KB sizes in one write
        let mut bytes = req(b'A', 3000);
        bytes.extend(req(b'B', 70_000));
        bytes.extend(req(b'C', 10));
        bytes.extend(req(b'D', 5000));
        h.client.write_all(&bytes).await.unwrap();

        let (a, reply_a) = next_frame_msg(&h.core).await;
        assert_eq!((a.len(), a[0]), (3000, b'A'));
        // muted: B is read ahead but not handed over while A is in the core
        assert!(
            next_msg(&h.core, 200).await.is_none(),
            "B before A was answered"
        );
        reply_a.send(Handled::Respond(resp(b'a', 100_000))).unwrap();
        assert_eq!(read_resp(&mut h.client).await, alloc::vec![b'a'; 100_000]);

        // acks=0 style: nothing is written for B, C follows
        let (b, reply_b) = next_frame_msg(&h.core).await;
        assert_eq!((b.len(), b[0]), (70_000, b'B'));
        reply_b.send(Handled::NoResponse).unwrap();
        let (c, reply_c) = next_frame_msg(&h.core).await;
        assert_eq!(&c[..], &[b'C'; 10]);
        reply_c.send(Handled::Respond(resp(b'c', 5))).unwrap();
        // the next bytes on the wire are C's answer: B got none
        assert_eq!(read_resp(&mut h.client).await, alloc::vec![b'c'; 5]);

        // the core closes: the connection goes, unanswered, and the core is told
        let (d, reply_d) = next_frame_msg(&h.core).await;
        assert_eq!(d.len(), 5000);
        reply_d
            .send(Handled::Close(CloseReason::UnknownApiKey { api_key: 999 }))
            .unwrap();
        assert_eof(&mut h.client).await;
        assert!(matches!(
            next_msg(&h.core, 5000).await,
            Some(CoreMsg::Closed(7))
        ));
        h.task.await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn total_time_runs_from_the_frames_arrival_to_its_response_written() {
        let mut h = harness(None).await;
        // a Produce frame (key 0) and a Fetch frame (key 1) pipelined, KB-sized
        let mut produce = req(0, 4096);
        produce[4..6].copy_from_slice(&0i16.to_be_bytes());
        let mut fetch = req(0, 2048);
        fetch[4..6].copy_from_slice(&1i16.to_be_bytes());
        let mut bytes = produce.clone();
        bytes.extend(&fetch);
        h.client.write_all(&bytes).await.unwrap();
        let (_p, reply_p) = next_frame_msg(&h.core).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
        reply_p.send(Handled::Respond(resp(b'p', 50_000))).unwrap();
        assert_eq!(read_resp(&mut h.client).await.len(), 50_000);
        // the Fetch waited in the read-ahead queue all along: its time counts from its arrival
        let (_f, reply_f) = next_frame_msg(&h.core).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
        reply_f.send(Handled::NoResponse).unwrap();
        // a frame of no known API is not recorded
        h.client.write_all(&req(0xff, 100)).await.unwrap();
        let (_x, reply_x) = next_frame_msg(&h.core).await;
        reply_x.send(Handled::Respond(resp(b'x', 10))).unwrap();
        read_resp(&mut h.client).await;
        let snap = h.metrics.snapshot();
        let p = &snap.latency[&0];
        assert_eq!(p.count(), 1);
        assert!(p.sum_us >= 60_000 && p.sum_us < 5_000_000, "{}", p.sum_us);
        let f = &snap.latency[&1];
        assert_eq!(f.count(), 1);
        assert!(f.sum_us >= 80_000, "{}", f.sum_us);
        assert_eq!(snap.latency.len(), 2, "{:?}", snap.latency.keys());
        drop(h.client);
        h.task.await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn shutdown_lets_the_request_in_flight_finish_and_drops_the_rest() {
        let mut h = harness(Some(Duration::from_millis(100))).await;
        let mut bytes = req(b'E', 2048);
        bytes.extend(req(b'F', 2048));
        h.client.write_all(&bytes).await.unwrap();
        let (_e, reply_e) = next_frame_msg(&h.core).await;
        h.stop.send_replace(true);
        // longer than connections.max.idle.ms: a request in the core is not idleness, and
        // shutdown waits for its answer
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!h.task.is_finished());
        reply_e.send(Handled::Respond(resp(b'e', 4096))).unwrap();
        assert_eq!(read_resp(&mut h.client).await, alloc::vec![b'e'; 4096]);
        // F, read ahead, is never handed to the stopping core
        assert!(matches!(
            next_msg(&h.core, 5000).await,
            Some(CoreMsg::Closed(7))
        ));
        assert_eof(&mut h.client).await;
        h.task.await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_idle_connection_is_closed_and_a_half_sent_frame_is_not_activity_forever() {
        let mut h = harness(Some(Duration::from_millis(150))).await;
        // the prefix and part of a frame, then silence
        let r = req(b'G', 10_000);
        h.client.write_all(&r[..5000]).await.unwrap();
        let start = Instant::now();
        assert_eof(&mut h.client).await;
        assert!(start.elapsed() >= Duration::from_millis(140));
        assert!(matches!(
            next_msg(&h.core, 5000).await,
            Some(CoreMsg::Closed(7))
        ));
        h.task.await.unwrap();
    }
}
