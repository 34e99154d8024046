//! Responses from arbitrary bytes: the first two bytes choose the API key and version, the rest
//! is the body. Decoding never panics, and what decodes re-encodes to bytes that decode and
//! re-encode to the same bytes.
#![no_main]

use bytes::{Bytes, BytesMut};
use kproto::{ApiKey, ResponseBody};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [k, v, rest @ ..] = data else { return };
    let key = ApiKey::ALL[usize::from(*k) % ApiKey::ALL.len()];
    let vs = key.versions();
    let version = vs.min + (i16::from(*v) % (vs.max - vs.min + 1));
    let mut body = Bytes::copy_from_slice(rest);
    let Ok(resp) = ResponseBody::decode(key, &mut body, version) else {
        return;
    };
    let mut out = BytesMut::new();
    resp.encode(&mut out, version)
        .expect("a decoded response re-encodes");
    let first = out.freeze();
    let back = ResponseBody::decode(key, &mut first.clone(), version)
        .expect("re-encoded response decodes");
    let mut again = BytesMut::new();
    back.encode(&mut again, version)
        .expect("re-decoded response re-encodes");
    assert_eq!(&again[..], &first[..]);
});
