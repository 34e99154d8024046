//! Kafka frames decoded to a field tree: requests with their header, responses decoded with
//! the API key and version of the request that has their correlation id (as Wireshark's
//! dissector does), record sets inside (Produce, Fetch, ...) listed as batches.
//!
//! The tree is the JSON form of Kafka's generated `*JsonConverter` classes (kproto's
//! `kafka_json`), with field names as in Kafka's schemas; a `records` field is replaced by a
//! reference to the record set listed beside the frame.

use crate::error::Problem;
use crate::json::Json;
use crate::segment::{ScanOptions, SegmentScan};
use crate::source::SliceSource;
use crate::summary::BatchSummary;
use base64::Engine;
use bytes::Bytes;
use kproto::frame::{decode_request, decode_response, FrameDecoder, DEFAULT_MAX_FRAME_SIZE};
use kproto::ApiKey;
use serde::Serialize;
use std::collections::HashMap;

/// Which way a frame went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Client to broker.
    Request,
    /// Broker to client.
    Response,
    /// Not known (a raw stream): decided by what decodes.
    Unknown,
}

/// The record batches found in a `records` field of a frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordSet {
    /// Where in the tree (`topicData[0].partitionData[1].records`).
    pub path: String,
    /// The record set's bytes.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Its length.
    pub len: usize,
    /// Its batches.
    pub batches: Vec<BatchSummary>,
    /// The id of the file the wasm API opened the set as (for the batch view), once opened.
    pub file: Option<u32>,
    /// What is wrong in it.
    pub problems: Vec<Problem>,
}

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameInfo {
    /// Its index in the conversation.
    pub index: usize,
    /// Where its size prefix starts in its stream.
    pub position: u64,
    /// Its size, without the 4-byte prefix.
    pub size: usize,
    /// Request or response (as decoded).
    pub direction: Direction,
    /// The API key.
    pub api_key: Option<i16>,
    /// The API's name (`Produce`, `Metadata`, ...).
    pub api_name: Option<&'static str>,
    /// The API version.
    pub api_version: Option<i16>,
    /// The correlation id.
    pub correlation_id: Option<i32>,
    /// The client id (requests).
    pub client_id: Option<String>,
    /// For a request its response's frame index, for a response its request's.
    pub pair: Option<usize>,
    /// The body as a field tree.
    pub body: Option<Json>,
    /// The record sets in the body.
    pub record_sets: Vec<RecordSet>,
    /// Why it could not be decoded.
    pub error: Option<String>,
    /// The capture time (microseconds since the epoch) of its first byte, for captures.
    pub time_us: Option<i64>,
}

/// Decodes the frames of one connection, keeping the requests in flight.
#[derive(Debug, Default)]
pub struct Conversation {
    /// The frames decoded so far.
    pub frames: Vec<FrameInfo>,
    in_flight: HashMap<i32, (ApiKey, i16, usize)>,
}

/// Replaces base64 `records` strings in `v` by references, collecting the record sets.
fn extract_records(v: &mut Json, path: &mut String, sets: &mut Vec<RecordSet>, name: &str) {
    match v {
        Json::Object(m) => {
            for (k, x) in m.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                if k == "records" {
                    if let Json::String(s) = x {
                        if let Ok(bytes) =
                            base64::engine::general_purpose::STANDARD.decode(s.as_bytes())
                        {
                            let file = format!("{name} {path}");
                            let mut src = SliceSource::new(file.clone(), &bytes[..]);
                            let (batches, problems) =
                                match SegmentScan::run(file, &mut src, ScanOptions::default()) {
                                    Ok(s) => (s.batches, s.problems),
                                    Err(e) => (Vec::new(), vec![e.into()]),
                                };
                            *x = Json::Object(vec![
                                ("recordSet".into(), Json::Number(sets.len().into())),
                                ("bytes".into(), Json::Number(bytes.len().into())),
                            ]);
                            sets.push(RecordSet {
                                path: path.clone(),
                                len: bytes.len(),
                                bytes,
                                file: None,
                                batches,
                                problems,
                            });
                        }
                    }
                } else {
                    extract_records(x, path, sets, name);
                }
                path.truncate(len);
            }
        }
        Json::Array(a) => {
            for (i, x) in a.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                extract_records(x, path, sets, name);
                path.truncate(len);
            }
        }
        _ => {}
    }
}

fn tree(json: String, name: &str) -> (Option<Json>, Vec<RecordSet>, Option<String>) {
    match Json::parse(json.as_bytes()) {
        Ok(mut v) => {
            let mut sets = Vec::new();
            extract_records(&mut v, &mut String::new(), &mut sets, name);
            (Some(v), sets, None)
        }
        Err(e) => (None, Vec::new(), Some(format!("field tree: {e}"))),
    }
}

impl Conversation {
    /// An empty conversation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes one frame (without its size prefix) found at `position` of its stream.
    pub fn push(
        &mut self,
        frame: &Bytes,
        position: u64,
        dir: Direction,
        time_us: Option<i64>,
    ) -> &FrameInfo {
        let index = self.frames.len();
        let mut f = FrameInfo {
            index,
            position,
            size: frame.len(),
            direction: dir,
            api_key: None,
            api_name: None,
            api_version: None,
            correlation_id: frame.first_chunk::<4>().map(|b| i32::from_be_bytes(*b)),
            client_id: None,
            pair: None,
            body: None,
            record_sets: Vec::new(),
            error: None,
            time_us,
        };
        let name = format!("frame {index}");
        // A response is tried first when its correlation id is awaited (a raw stream holds
        // both directions; a response header is only a correlation id).
        let pending = f
            .correlation_id
            .and_then(|c| self.in_flight.get(&c).copied());
        let mut response_error = None;
        if dir != Direction::Request {
            if let Some((key, version, req)) = pending {
                match decode_response(frame, key, version) {
                    Ok((_, body)) => {
                        let c = f.correlation_id.unwrap_or_default();
                        self.in_flight.remove(&c);
                        f.direction = Direction::Response;
                        f.api_key = Some(key.key());
                        f.api_name = Some(key.name());
                        f.api_version = Some(version);
                        f.pair = Some(req);
                        (f.body, f.record_sets, f.error) = tree(body.kafka_json(version), &name);
                        self.frames[req].pair = Some(index);
                        self.frames.push(f);
                        return &self.frames[index];
                    }
                    Err(e) => {
                        response_error = Some(format!(
                            "as the response to {} v{version} (frame {req}): {e}",
                            key.name()
                        ))
                    }
                }
            } else if dir == Direction::Response {
                response_error = Some(format!(
                    "no request with correlation id {} was seen",
                    f.correlation_id.unwrap_or_default()
                ));
            }
        }
        if dir != Direction::Response {
            match decode_request(frame) {
                Ok((h, body)) => {
                    let key = body.api_key();
                    let v = h.request_api_version;
                    f.direction = Direction::Request;
                    f.api_key = Some(key.key());
                    f.api_name = Some(key.name());
                    f.api_version = Some(v);
                    f.correlation_id = Some(h.correlation_id);
                    f.client_id = h.client_id.as_ref().map(|c| c.to_string());
                    (f.body, f.record_sets, f.error) = tree(body.kafka_json(v), &name);
                    // Produce with acks=0 gets no response; a reused id replaces the old one.
                    let acks0 = matches!(&body, kproto::RequestBody::Produce(p) if p.acks == 0);
                    if !acks0 {
                        self.in_flight.insert(h.correlation_id, (key, v, index));
                    }
                    self.frames.push(f);
                    return &self.frames[index];
                }
                Err(e) => {
                    f.error = Some(match response_error {
                        Some(r) => format!("not a request ({e}); {r}"),
                        None => format!("not a request: {e}"),
                    });
                    if let Ok((k, v)) = request_key(frame) {
                        f.api_key = Some(k.key());
                        f.api_name = Some(k.name());
                        f.api_version = Some(v);
                    }
                }
            }
        } else {
            f.error = response_error;
        }
        self.frames.push(f);
        &self.frames[index]
    }
}

fn request_key(frame: &Bytes) -> Result<(ApiKey, i16), ()> {
    let b = frame.first_chunk::<4>().ok_or(())?;
    let k = ApiKey::from_i16(i16::from_be_bytes([b[0], b[1]])).ok_or(())?;
    Ok((k, i16::from_be_bytes([b[2], b[3]])))
}

/// A raw stream of size-prefixed frames (one or both directions of a connection), decoded.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamReport {
    /// The frames.
    pub frames: Vec<FrameInfo>,
    /// Framing problems (a bad size prefix, a partial frame at the end).
    pub problems: Vec<Problem>,
}

/// Decodes a raw stream of frames named `file`.
pub fn decode_stream(file: &str, data: &[u8]) -> StreamReport {
    let mut conv = Conversation::new();
    let mut dec = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
    dec.feed(data);
    let mut pos = 0u64;
    let mut problems = Vec::new();
    loop {
        match dec.next_frame() {
            Ok(Some(f)) => {
                conv.push(&f, pos, Direction::Unknown, None);
                pos += 4 + f.len() as u64;
            }
            Ok(None) => {
                if dec.buffered() > 0 {
                    problems.push(Problem::new(
                        file,
                        pos,
                        "tail",
                        format!("{} bytes at the end are not a whole frame", dec.buffered()),
                    ));
                }
                break;
            }
            Err(e) => {
                problems.push(Problem::new(
                    file,
                    pos,
                    "framing",
                    format!("cannot frame at byte {pos}: {e}"),
                ));
                break;
            }
        }
    }
    StreamReport {
        frames: conv.frames,
        problems,
    }
}
