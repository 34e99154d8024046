//! Every codec's decompression of arbitrary bytes with an output cap: the first byte picks the
//! codec (and the legacy LZ4 header checksum), the rest is the input. A zip bomb must be an
//! error, never an allocation past the cap.
#![no_main]

use kproto::records::codec::{decompress, CodecError};
use kproto::records::Compression;
use libfuzzer_sys::fuzz_target;

const CAP: usize = 256 << 10;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, input)) = data.split_first() else { return };
    let codec = Compression::ALL[usize::from(sel % 5)];
    let legacy = sel & 0x80 != 0;
    let mut out = Vec::new();
    match decompress(codec, input, &mut out, CAP, legacy) {
        Ok(()) => assert!(out.len() <= CAP),
        Err(CodecError::TooLarge { limit }) => assert_eq!(limit, CAP),
        Err(_) => {}
    }
    // Memory stays near the cap whatever the input claims.
    assert!(out.capacity() <= 4 * CAP + (1 << 20), "capacity {}", out.capacity());
});
