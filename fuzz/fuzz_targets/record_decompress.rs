//! Every codec's decompression of arbitrary bytes with an output cap: the first byte picks the
//! codec (and the legacy LZ4 header checksum), the rest is the input. A zip bomb must be an
//! error, never an allocation past the cap, nor past what the input can expand to.
#![no_main]

use kproto::records::codec::{decompress, CodecError};
use kproto::records::Compression;
use libfuzzer_sys::fuzz_target;

const CAP: usize = 256 << 10;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, input)) = data.split_first() else {
        return;
    };
    let codec = Compression::ALL[usize::from(sel % 5)];
    let legacy = sel & 0x80 != 0;
    let mut out = Vec::new();
    match decompress(codec, input, &mut out, CAP, legacy) {
        Ok(()) => assert!(out.len() <= CAP),
        Err(CodecError::TooLarge { limit }) => assert_eq!(limit, CAP),
        Err(_) => {}
    }
    // Memory stays near the cap whatever the input claims.
    assert!(
        out.capacity() <= 4 * CAP + (1 << 20),
        "capacity {}",
        out.capacity()
    );
    // And near what the input can expand to: at most twice the output that many bytes of the
    // codec can decode to (deflate 1032:1, snappy 64:3, LZ4 255:1, zstd 128 KiB per 4 bytes),
    // whatever sizes the input claims.
    let expansion = match codec {
        Compression::None => 1,
        Compression::Gzip => 1032,
        Compression::Snappy => 22,
        Compression::Lz4 => 256,
        Compression::Zstd => 32 * 1024,
    };
    let bound = input.len().saturating_mul(expansion).min(CAP + 1);
    assert!(
        out.capacity() <= 2 * bound + (64 << 10),
        "{codec}: {} input bytes, capacity {}",
        input.len(),
        out.capacity()
    );
});
