//! Size-prefixed frames, request and response headers, and the correlation map.
//!
//! Kafka frames every request and response with a 4-byte big-endian size. [`FrameDecoder`] is
//! sans-IO: feed it whatever bytes arrived, take complete frames out. A request frame starts
//! with a [`RequestHeader`] whose version follows from its API key and version
//! ([`ApiKey::request_header_version`]); a response frame starts with a [`ResponseHeader`] that
//! carries only the correlation id, so a client keeps a [`CorrelationMap`] of what it asked.

use crate::messages::{ApiKey, Message, RequestBody, RequestHeader, ResponseBody, ResponseHeader};
use crate::{DecodeError, EncodeError, Location};
use alloc::collections::BTreeMap;
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Kafka's default `socket.request.max.bytes` (100 MiB), a sensible frame limit.
pub const DEFAULT_MAX_FRAME_SIZE: usize = 100 * 1024 * 1024;

/// Splits a byte stream into size-prefixed frames.
///
/// ```
/// use kproto::frame::FrameDecoder;
/// let mut d = FrameDecoder::new(1024);
/// d.feed(&[0, 0, 0, 3, b'a']);
/// assert_eq!(d.next_frame().unwrap(), None); // incomplete
/// d.feed(b"bc");
/// assert_eq!(&d.next_frame().unwrap().unwrap()[..], b"abc");
/// ```
#[derive(Debug)]
pub struct FrameDecoder {
    buf: BytesMut,
    max_frame_size: usize,
    consumed: usize,
}

impl FrameDecoder {
    /// A decoder that rejects frames larger than `max_frame_size` bytes.
    pub fn new(max_frame_size: usize) -> Self {
        FrameDecoder {
            buf: BytesMut::new(),
            max_frame_size,
            consumed: 0,
        }
    }

    /// Appends bytes read from the transport.
    ///
    /// The buffer grows with the bytes that arrive, never with the size a frame's prefix
    /// claims: a peer that sends a prefix claiming 100 MiB and nothing else costs a few bytes.
    /// While a frame is incomplete, the buffer at most doubles what it holds per growth and
    /// never grows past the end of that frame.
    pub fn feed(&mut self, bytes: &[u8]) {
        let held = self.buf.len();
        if self.buf.capacity() - held < bytes.len() {
            let needed = held + bytes.len();
            // Room for the rest of the frame being read, but no more than the bytes held
            // so far once more (amortized doubling, bounded by what actually arrived).
            let frame_end = self.pending_frame_len().unwrap_or(needed);
            let target = needed.max(frame_end.min(needed.saturating_mul(2)));
            self.buf.reserve(target - held);
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The length (prefix included) of the frame at the front of the buffer, when its prefix
    /// has arrived and is a valid size.
    fn pending_frame_len(&self) -> Option<usize> {
        let size = i32::from_be_bytes(*self.buf.first_chunk::<4>()?);
        let size = usize::try_from(size).ok()?;
        (size <= self.max_frame_size).then(|| size.saturating_add(4))
    }

    /// Bytes fed but not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The next complete frame (without its size prefix), `None` when more bytes are needed.
    /// A negative or too-large size is an error; the stream cannot continue after it.
    pub fn next_frame(&mut self) -> Result<Option<Bytes>, DecodeError> {
        let Some(prefix) = self.buf.first_chunk::<4>() else {
            return Ok(None);
        };
        let size = i32::from_be_bytes(*prefix);
        if size < 0 {
            return Err(DecodeError::Invalid {
                at: Location {
                    offset: self.consumed,
                    api_key: None,
                    version: 0,
                    field: "frame size",
                },
                expected: "non-negative frame size",
            });
        }
        let size = size as usize;
        if size > self.max_frame_size {
            return Err(DecodeError::FrameTooLarge {
                size: size as i64,
                max: self.max_frame_size,
            });
        }
        if self.buf.len() - 4 < size {
            // Incomplete: wait for more bytes. Nothing is reserved here; `feed` grows the
            // buffer with what arrives.
            return Ok(None);
        }
        self.buf.advance(4);
        self.consumed += 4 + size;
        Ok(Some(self.buf.split_to(size).freeze()))
    }
}

/// Encodes `[size][header][body]` for a request. The header's API key and version must match
/// the body's; nothing is written on error.
pub fn encode_request_frame<B: BufMut>(
    header: &RequestHeader,
    body: &RequestBody,
    buf: &mut B,
) -> Result<(), EncodeError> {
    let key = body.api_key();
    let version = header.request_api_version;
    let hv = key.request_header_version(version);
    let mut header = header.clone();
    header.request_api_key = key.key();
    let hlen = header.encoded_len(hv)?;
    let blen = body.encoded_len(version)?;
    let total = hlen + blen;
    if total > i32::MAX as usize || buf.remaining_mut() < 4 + total {
        return Err(EncodeError::BufferTooSmall {
            needed: 4 + total,
            remaining: buf.remaining_mut(),
        });
    }
    buf.put_i32(total as i32);
    header.encode(buf, hv)?;
    body.encode(buf, version)
}

/// Encodes `[size][header][body]` for a response to API `key` at `version`.
pub fn encode_response_frame<B: BufMut>(
    correlation_id: i32,
    body: &ResponseBody,
    version: i16,
    buf: &mut B,
) -> Result<(), EncodeError> {
    let hv = body.api_key().response_header_version(version);
    let header = ResponseHeader {
        correlation_id,
        ..Default::default()
    };
    let hlen = header.encoded_len(hv)?;
    let blen = body.encoded_len(version)?;
    let total = hlen + blen;
    if total > i32::MAX as usize || buf.remaining_mut() < 4 + total {
        return Err(EncodeError::BufferTooSmall {
            needed: 4 + total,
            remaining: buf.remaining_mut(),
        });
    }
    buf.put_i32(total as i32);
    header.encode(buf, hv)?;
    body.encode(buf, version)
}

/// Decodes a request frame's header, returning it, the API key, and the body bytes.
///
/// A known API at a version newer than kproto knows still gets its header decoded (with the
/// header version of the newest known version), so a broker can answer ApiVersions with
/// UNSUPPORTED_VERSION as Kafka does.
pub fn decode_request_header(frame: &Bytes) -> Result<(RequestHeader, ApiKey, Bytes), DecodeError> {
    let Some(&[k0, k1, v0, v1]) = frame.first_chunk::<4>() else {
        return Err(DecodeError::Truncated {
            at: Location {
                offset: frame.len(),
                api_key: None,
                version: 0,
                field: "RequestHeader",
            },
            expected: "api key and version",
        });
    };
    let raw_key = i16::from_be_bytes([k0, k1]);
    let version = i16::from_be_bytes([v0, v1]);
    let key = ApiKey::from_i16(raw_key).ok_or(DecodeError::UnknownApiKey {
        api_key: raw_key,
        offset: 0,
    })?;
    let known = key.versions();
    let hv = key.request_header_version(version.clamp(known.min, known.max));
    let mut rest = frame.clone();
    let header = RequestHeader::decode(&mut rest, hv)?;
    Ok((header, key, rest))
}

/// Decodes a whole request frame: header and body. Bytes left after the body are an error.
pub fn decode_request(frame: &Bytes) -> Result<(RequestHeader, RequestBody), DecodeError> {
    let (header, key, mut body) = decode_request_header(frame)?;
    let start = frame.len() - body.len();
    let version = header.request_api_version;
    let msg = RequestBody::decode(key, &mut body, version).map_err(|e| e.shifted(start))?;
    if !body.is_empty() {
        return Err(DecodeError::TrailingBytes {
            at: Location {
                offset: frame.len() - body.len(),
                api_key: Some(key.key()),
                version,
                field: "",
            },
            extra: body.len(),
        });
    }
    Ok((header, msg))
}

/// Decodes a response frame to a request of API `key` at `version`.
pub fn decode_response(
    frame: &Bytes,
    key: ApiKey,
    version: i16,
) -> Result<(ResponseHeader, ResponseBody), DecodeError> {
    let mut rest = frame.clone();
    let header = ResponseHeader::decode(&mut rest, key.response_header_version(version))?;
    let start = frame.len() - rest.len();
    let msg = ResponseBody::decode(key, &mut rest, version).map_err(|e| e.shifted(start))?;
    if !rest.is_empty() {
        return Err(DecodeError::TrailingBytes {
            at: Location {
                offset: frame.len() - rest.len(),
                api_key: Some(key.key()),
                version,
                field: "",
            },
            extra: rest.len(),
        });
    }
    Ok((header, msg))
}

/// The requests a client has in flight, by correlation id, so that responses (whose header
/// carries only the correlation id) can be decoded.
#[derive(Debug, Default, Clone)]
pub struct CorrelationMap {
    in_flight: BTreeMap<i32, (ApiKey, i16)>,
}

impl CorrelationMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a request sent with `correlation_id`.
    pub fn insert(&mut self, correlation_id: i32, key: ApiKey, version: i16) {
        self.in_flight.insert(correlation_id, (key, version));
    }

    /// Requests still waiting for their response.
    pub fn len(&self) -> usize {
        self.in_flight.len()
    }

    /// Whether no request is in flight.
    pub fn is_empty(&self) -> bool {
        self.in_flight.is_empty()
    }

    /// Forgets every request in flight (the connection was lost), returning them.
    pub fn drain(&mut self) -> impl Iterator<Item = (i32, ApiKey, i16)> {
        core::mem::take(&mut self.in_flight)
            .into_iter()
            .map(|(c, (k, v))| (c, k, v))
    }

    /// Decodes a response frame by looking up its correlation id, and forgets that request.
    pub fn decode_response(
        &mut self,
        frame: &Bytes,
    ) -> Result<(ResponseHeader, ResponseBody), DecodeError> {
        let Some(id) = frame.first_chunk::<4>().map(|b| i32::from_be_bytes(*b)) else {
            return Err(DecodeError::Truncated {
                at: Location {
                    offset: frame.len(),
                    api_key: None,
                    version: 0,
                    field: "ResponseHeader.CorrelationId",
                },
                expected: "int32",
            });
        };
        let (key, version) = *self
            .in_flight
            .get(&id)
            .ok_or(DecodeError::UnknownCorrelationId { correlation_id: id })?;
        let out = decode_response(frame, key, version)?;
        self.in_flight.remove(&id);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::ApiVersionsRequest;
    use alloc::boxed::Box;
    use alloc::vec::Vec;

    fn header(key: ApiKey, version: i16, id: i32) -> RequestHeader {
        RequestHeader {
            request_api_key: key.key(),
            request_api_version: version,
            correlation_id: id,
            client_id: Some("kproto-test".into()),
            ..Default::default()
        }
    }

    #[test]
    fn request_frames_round_trip_through_the_decoder() {
        let mut out = BytesMut::new();
        let a = RequestBody::ApiVersions(Box::default());
        let m = RequestBody::Metadata(Box::default());
        encode_request_frame(&header(ApiKey::ApiVersions, 3, 1), &a, &mut out).unwrap();
        encode_request_frame(&header(ApiKey::Metadata, 12, 2), &m, &mut out).unwrap();
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        // Byte by byte: frames come out only when complete.
        let mut frames = Vec::new();
        for b in out.iter() {
            d.feed(&[*b]);
            while let Some(f) = d.next_frame().unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(frames.len(), 2);
        let (h, body) = decode_request(&frames[0]).unwrap();
        assert_eq!((h.correlation_id, body), (1, a));
        let (h, body) = decode_request(&frames[1]).unwrap();
        assert_eq!((h.correlation_id, body), (2, m));
    }

    #[test]
    fn oversized_and_negative_frames_are_rejected() {
        let mut d = FrameDecoder::new(10);
        d.feed(&[0, 0, 0, 11]);
        assert!(matches!(
            d.next_frame(),
            Err(DecodeError::FrameTooLarge { size: 11, max: 10 })
        ));
        let mut d = FrameDecoder::new(10);
        d.feed(&[0xff, 0xff, 0xff, 0xff]);
        assert!(matches!(d.next_frame(), Err(DecodeError::Invalid { .. })));
    }

    #[test]
    fn responses_are_decoded_by_correlation_id() {
        let mut map = CorrelationMap::new();
        map.insert(7, ApiKey::Metadata, 12);
        let mut out = BytesMut::new();
        let body = ResponseBody::Metadata(Box::default());
        encode_response_frame(7, &body, 12, &mut out).unwrap();
        let frame = out.freeze().slice(4..);
        let (h, got) = map.decode_response(&frame).unwrap();
        assert_eq!((h.correlation_id, got), (7, body));
        assert!(map.is_empty());
        assert!(matches!(
            map.decode_response(&frame),
            Err(DecodeError::UnknownCorrelationId { correlation_id: 7 })
        ));
    }

    #[test]
    fn a_newer_api_versions_request_still_yields_its_header() {
        // ApiVersions v99 from a future client: header decodes, body version is unknown.
        let mut out = BytesMut::new();
        let h = header(ApiKey::ApiVersions, 99, 5);
        h.encode(&mut out, 2).unwrap();
        ApiVersionsRequest::default().encode(&mut out, 4).unwrap();
        let frame = out.freeze();
        let (got, key, _) = decode_request_header(&frame).unwrap();
        assert_eq!((got.correlation_id, key), (5, ApiKey::ApiVersions));
        assert!(matches!(
            decode_request(&frame),
            Err(DecodeError::UnsupportedVersion {
                api_key: 18,
                version: 99
            })
        ));
    }
}
