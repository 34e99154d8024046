//! Property test over the random generator (realistic sizes: KB strings, arrays of hundreds,
//! real record batches up to about 1 MiB, so compact lengths and counts take multi-byte
//! varints): for every API key, every version kproto knows, requests, responses and both
//! headers: random instance → encode → decode gives the same message, `encoded_len` equals
//! the bytes written, and the decoder consumes exactly those bytes. Whole frames too: the size
//! prefix `kproto::frame` writes is the length of what follows. Unknown tagged fields included.

use bytes::{Buf, Bytes, BytesMut};
use kproto::frame::{decode_request, decode_response, encode_request_frame, encode_response_frame};
use kproto::messages::{RequestHeader, ResponseHeader};
use kproto::testing::{Rng, TestMessage};
use kproto::{ApiKey, Message, RequestBody, ResponseBody};

const SEEDS_PER_VERSION: u64 = 24;

fn seed(key: ApiKey, version: i16, n: u64, response: bool) -> u64 {
    ((key.key() as u64) << 40) ^ ((version as u64) << 24) ^ (u64::from(response) << 20) ^ n
}

/// What the generated messages looked like, to check that they are realistic.
#[derive(Default)]
struct Seen {
    messages: u64,
    bytes: usize,
    largest: usize,
    over_4k: u64,
    over_256k: u64,
}

impl Seen {
    fn add(&mut self, len: usize) {
        self.messages += 1;
        self.bytes += len;
        self.largest = self.largest.max(len);
        self.over_4k += u64::from(len > 4096);
        self.over_256k += u64::from(len > 256 << 10);
    }
}

/// Encodes `m`, checks `encoded_len` against the bytes written, decodes them back and checks
/// the message and that every byte was consumed. Returns the bytes.
fn check<M: PartialEq + std::fmt::Debug>(
    what: &str,
    m: &M,
    len: impl Fn(&M) -> Result<usize, kproto::EncodeError>,
    enc: impl Fn(&M, &mut BytesMut) -> Result<(), kproto::EncodeError>,
    dec: impl Fn(&mut Bytes) -> Result<M, kproto::DecodeError>,
) -> Bytes {
    let len = len(m).unwrap_or_else(|e| panic!("{what}: encoded_len: {e}"));
    let mut buf = BytesMut::new();
    enc(m, &mut buf).unwrap_or_else(|e| panic!("{what}: encode: {e}"));
    assert_eq!(
        len,
        buf.len(),
        "{what}: encoded_len() says {len}, encode() wrote {}",
        buf.len()
    );
    let bytes = buf.freeze();
    let mut rest = bytes.clone();
    let back = dec(&mut rest).unwrap_or_else(|e| panic!("{what}: decode: {e}"));
    assert!(rest.is_empty(), "{what}: decode left {} bytes", rest.len());
    assert_eq!(&back, m, "{what}");
    bytes
}

#[test]
fn every_request_and_response_round_trips_at_every_version() {
    let mut seen = Seen::default();
    for key in ApiKey::ALL {
        let vs = key.versions();
        for v in vs.min..=vs.max {
            for n in 0..SEEDS_PER_VERSION {
                let s = seed(key, v, n, false);
                let req = RequestBody::random(key, &mut Rng::new(s), v, n % 2 == 0);
                let what = format!("seed {s}: {key:?} v{v} request");
                let b = check(
                    &what,
                    &req,
                    |m| m.encoded_len(v),
                    |m, b| m.encode(b, v),
                    |b| RequestBody::decode(key, b, v),
                );
                seen.add(b.len());

                let s = seed(key, v, n, true);
                let resp = ResponseBody::random(key, &mut Rng::new(s), v, n % 2 == 0);
                let what = format!("seed {s}: {key:?} v{v} response");
                let b = check(
                    &what,
                    &resp,
                    |m| m.encoded_len(v),
                    |m, b| m.encode(b, v),
                    |b| ResponseBody::decode(key, b, v),
                );
                seen.add(b.len());
            }
        }
    }
    println!(
        "{} messages, {} bytes, largest {}, {} over 4 KiB, {} over 256 KiB",
        seen.messages, seen.bytes, seen.largest, seen.over_4k, seen.over_256k
    );
    // 95 keys; the union of released versions is 363 pairs, plus unstable ones generated.
    assert!(seen.messages >= 363 * 2 * SEEDS_PER_VERSION);
    // Realistic sizes: many messages of kilobytes, some of hundreds of KB, one near 1 MiB.
    assert!(
        seen.over_4k * 10 > seen.messages,
        "{} over 4 KiB",
        seen.over_4k
    );
    assert!(seen.over_256k >= 10, "{} over 256 KiB", seen.over_256k);
    assert!(seen.largest > 768 << 10, "largest {}", seen.largest);
}

#[test]
fn both_headers_round_trip_at_every_version() {
    for n in 0..200u64 {
        for v in 0..=2 {
            let h =
                RequestHeader::random(&mut Rng::new(0x4ead_0000 ^ (v << 12) ^ n), v as i16, true);
            let v = v as i16;
            check(
                &format!("request header v{v} #{n}"),
                &h,
                |m| m.encoded_len(v),
                |m, b| m.encode(b, v),
                |b| RequestHeader::decode(b, v),
            );
        }
        for v in 0..=1 {
            let h =
                ResponseHeader::random(&mut Rng::new(0x4ead_1000 ^ (v << 12) ^ n), v as i16, true);
            let v = v as i16;
            check(
                &format!("response header v{v} #{n}"),
                &h,
                |m| m.encoded_len(v),
                |m, b| m.encode(b, v),
                |b| ResponseHeader::decode(b, v),
            );
        }
    }
}

#[test]
fn whole_frames_carry_the_right_size_prefix() {
    for key in ApiKey::ALL {
        let vs = key.versions();
        for v in vs.min..=vs.max {
            for n in 0..4 {
                let s = seed(key, v, n, false) ^ 0xf4a3e;
                let mut rng = Rng::new(s);
                let body = RequestBody::random(key, &mut rng, v, true);
                let hv = key.request_header_version(v);
                let mut header = RequestHeader::random(&mut rng, hv, true);
                header.request_api_key = key.key();
                header.request_api_version = v;
                let mut frame = BytesMut::new();
                encode_request_frame(&header, &body, &mut frame)
                    .unwrap_or_else(|e| panic!("seed {s}: {key:?} v{v} request frame: {e}"));
                let want = header.encoded_len(hv).unwrap() + body.encoded_len(v).unwrap();
                let mut frame = frame.freeze();
                let size = frame.get_i32() as usize;
                assert_eq!(
                    size,
                    frame.len(),
                    "seed {s}: {key:?} v{v} request size prefix"
                );
                assert_eq!(size, want, "seed {s}: {key:?} v{v} request size");
                let (h, b) = decode_request(&frame)
                    .unwrap_or_else(|e| panic!("seed {s}: {key:?} v{v} request frame: {e}"));
                assert_eq!(
                    (h, b),
                    (header, body),
                    "seed {s}: {key:?} v{v} request frame"
                );

                let body = ResponseBody::random(key, &mut rng, v, true);
                let mut frame = BytesMut::new();
                encode_response_frame(7, &body, v, &mut frame)
                    .unwrap_or_else(|e| panic!("seed {s}: {key:?} v{v} response frame: {e}"));
                let mut frame = frame.freeze();
                let size = frame.get_i32() as usize;
                assert_eq!(
                    size,
                    frame.len(),
                    "seed {s}: {key:?} v{v} response size prefix"
                );
                let (h, b) = decode_response(&frame, key, v)
                    .unwrap_or_else(|e| panic!("seed {s}: {key:?} v{v} response frame: {e}"));
                assert_eq!(h.correlation_id, 7);
                assert_eq!(b, body, "seed {s}: {key:?} v{v} response frame");
            }
        }
    }
}

#[test]
fn decoding_shares_the_input_buffer() {
    use kproto::messages::MetadataResponse;
    let t = kproto::messages::metadata::response::MetadataResponseTopic {
        name: Some("a-topic-name".into()),
        ..Default::default()
    };
    let m = MetadataResponse {
        topics: vec![t],
        ..Default::default()
    };
    let mut buf = BytesMut::new();
    m.encode(&mut buf, 12).unwrap();
    let frozen: Bytes = buf.freeze();
    let range = frozen.as_ptr() as usize..frozen.as_ptr() as usize + frozen.len();
    let back = MetadataResponse::decode(&mut frozen.clone(), 12).unwrap();
    let name = back.topics[0].name.as_ref().unwrap();
    assert!(
        range.contains(&(name.as_bytes().as_ptr() as usize)),
        "topic name was copied"
    );
}

#[test]
fn the_generator_draws_realistic_sizes() {
    use kproto::messages::{ApiVersionsResponse, MetadataResponse, ProduceRequest};
    use kproto::records::Batches;
    // Tagged fields both present and absent (finalizedFeaturesEpoch, tag 1, default -1).
    let epochs: Vec<i64> = (0..60)
        .map(|s| ApiVersionsResponse::random(&mut Rng::new(s), 3, false).finalized_features_epoch)
        .collect();
    assert!(epochs.contains(&-1), "never absent");
    assert!(epochs.iter().any(|&e| e != -1), "never present");

    // Arrays of hundreds and strings of kilobytes: compact counts and lengths of 2+ bytes.
    let (mut big_array, mut long_string) = (0, 0);
    for s in 0..200 {
        let m = MetadataResponse::random(&mut Rng::new(s), 12, false);
        big_array += usize::from(m.topics.len() >= 128 || m.brokers.len() >= 128);
        let longest = m
            .topics
            .iter()
            .filter_map(|t| t.name.as_ref().map(|n| n.len()))
            .chain(m.brokers.iter().map(|b| b.host.len()))
            .max()
            .unwrap_or(0);
        long_string += usize::from(longest >= 1024);
    }
    assert!(big_array >= 5, "{big_array} of 200 with 128+ entries");
    assert!(long_string >= 5, "{long_string} of 200 with a KB string");

    // Record-batch fields hold real batches, now and then of most of a MiB.
    let (mut batches, mut huge) = (0, 0);
    for s in 0..200 {
        let p = ProduceRequest::random(&mut Rng::new(s), 9, false);
        for t in &p.topic_data {
            for part in &t.partition_data {
                let records = part.records.as_deref().unwrap_or_default();
                huge += usize::from(records.len() > 512 << 10);
                for b in Batches::new(records) {
                    b.unwrap().validate().unwrap();
                    batches += 1;
                }
            }
        }
    }
    assert!(batches >= 200, "{batches} batches");
    assert!(huge >= 1, "no batch over 512 KiB");
}
