//! Request frames from arbitrary bytes: the frame decoder and request decoder never panic, and
//! whatever decodes re-encodes to bytes that decode and re-encode to the same bytes (bytes, not
//! structs, are compared: a float64 field may decode to NaN).
#![no_main]

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_request, encode_request_frame, FrameDecoder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // As a stream of size-prefixed frames.
    let mut d = FrameDecoder::new(1 << 20);
    d.feed(data);
    while let Ok(Some(frame)) = d.next_frame() {
        check(&frame);
    }
    // As one frame body.
    check(&Bytes::copy_from_slice(data));
});

fn check(frame: &Bytes) {
    let Ok((header, body)) = decode_request(frame) else {
        return;
    };
    let mut out = BytesMut::new();
    encode_request_frame(&header, &body, &mut out).expect("a decoded request re-encodes");
    let first = out.freeze();
    let (h2, b2) = decode_request(&first.slice(4..)).expect("re-encoded request decodes");
    let mut again = BytesMut::new();
    encode_request_frame(&h2, &b2, &mut again).expect("re-decoded request re-encodes");
    assert_eq!(&again[..], &first[..]);
}
