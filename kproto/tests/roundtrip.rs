//! Property test: for every API key, every version kproto knows, requests and responses:
//! random instance → encode → decode gives the same message, `encoded_len` equals the bytes
//! written, and the decoder consumes exactly those bytes. Unknown tagged fields included.

use bytes::{Bytes, BytesMut};
use kproto::testing::Rng;
use kproto::{ApiKey, RequestBody, ResponseBody};

const SEEDS_PER_VERSION: u64 = 40;

fn seed(key: ApiKey, version: i16, n: u64, response: bool) -> u64 {
    ((key.key() as u64) << 40) ^ ((version as u64) << 24) ^ (u64::from(response) << 20) ^ n
}

#[test]
fn every_request_and_response_round_trips_at_every_version() {
    let mut checked = 0u64;
    for key in ApiKey::ALL {
        let vs = key.versions();
        for v in vs.min..=vs.max {
            for n in 0..SEEDS_PER_VERSION {
                let s = seed(key, v, n, false);
                let req = RequestBody::random(key, &mut Rng::new(s), v, n % 2 == 0);
                let len = req
                    .encoded_len(v)
                    .unwrap_or_else(|e| panic!("seed {s}: {key:?} v{v} request: {e}"));
                let mut buf = BytesMut::new();
                req.encode(&mut buf, v).unwrap();
                assert_eq!(buf.len(), len, "seed {s}: {key:?} v{v} request length");
                let mut bytes = buf.freeze();
                let back = RequestBody::decode(key, &mut bytes, v)
                    .unwrap_or_else(|e| panic!("seed {s}: {key:?} v{v} request decode: {e}"));
                assert!(
                    bytes.is_empty(),
                    "seed {s}: {key:?} v{v} request left {} bytes",
                    bytes.len()
                );
                assert_eq!(back, req, "seed {s}: {key:?} v{v} request");

                let s = seed(key, v, n, true);
                let resp = ResponseBody::random(key, &mut Rng::new(s), v, n % 2 == 0);
                let len = resp
                    .encoded_len(v)
                    .unwrap_or_else(|e| panic!("seed {s}: {key:?} v{v} response: {e}"));
                let mut buf = BytesMut::new();
                resp.encode(&mut buf, v).unwrap();
                assert_eq!(buf.len(), len, "seed {s}: {key:?} v{v} response length");
                let mut bytes = buf.freeze();
                let back = ResponseBody::decode(key, &mut bytes, v)
                    .unwrap_or_else(|e| panic!("seed {s}: {key:?} v{v} response decode: {e}"));
                assert!(
                    bytes.is_empty(),
                    "seed {s}: {key:?} v{v} response left {} bytes",
                    bytes.len()
                );
                assert_eq!(back, resp, "seed {s}: {key:?} v{v} response");
                checked += 2;
            }
        }
    }
    // 95 keys; the union of released versions is 363 pairs, plus unstable ones generated.
    assert!(checked >= 363 * 2 * SEEDS_PER_VERSION, "checked {checked}");
}

#[test]
fn decoding_shares_the_input_buffer() {
    use kproto::messages::MetadataResponse;
    use kproto::Message;
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
