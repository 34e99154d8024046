//! The four compression codecs of Kafka record batches, with an output cap on every
//! decompression.
//!
//! | codec | reads | writes |
//! |---|---|---|
//! | gzip | RFC 1952, concatenated members | one member, deflate level 6 (Java's default) |
//! | snappy | xerial framing (`0x82 "SNAPPY" 0`, from Java and kafka-python) and raw (librdkafka) | xerial framing, 32 KiB blocks, as Java does |
//! | lz4 | LZ4 frames with independent or linked blocks, optional checksums and content size; with `legacy_lz4` the broken header checksum of magic 0 | one frame, 64 KiB independent blocks, as Kafka's `Lz4BlockOutputStream` |
//! | zstd | zstd frames (ruzstd) | ruzstd's fastest level |
//!
//! Each codec is behind its cargo feature; a disabled codec is [`CodecError::Disabled`].
//!
//! What a decompression allocates follows what the input can actually expand to, never a size
//! the input claims: snappy's length preamble is checked against the block's 64/3 maximum
//! expansion before the output is zero-filled, an LZ4 block's output room is bounded by 255
//! times its length (not the frame's 4 MiB block size), gzip's output grows from a size
//! bounded by deflate's 1032:1, and each zstd frame gets a fresh decoder whose buffer grows
//! with the output (not with the window the frame declares), its content size checked against
//! what its blocks can hold (128 KiB per 4 bytes) and against the output.

use super::{Compression, RecordError};
use alloc::vec::Vec;

#[cfg(feature = "gzip")]
mod gzip;
#[cfg(feature = "lz4")]
mod lz4;
#[cfg(feature = "snappy")]
mod snappy;
#[cfg(feature = "zstd")]
mod zstd;

/// Why compressed data could not be decompressed (or data compressed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The data is not valid for the codec.
    #[error("corrupt compressed data: {0}")]
    Corrupt(&'static str),
    /// The output would exceed the cap.
    #[error("decompresses to more than {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: usize,
    },
    /// The codec's cargo feature is off.
    #[error("codec not enabled in this build")]
    Disabled,
}

impl CodecError {
    pub(crate) fn into_record_error(self, codec: Compression, batch_at: usize) -> RecordError {
        match self {
            CodecError::Corrupt(reason) => RecordError::Decompress {
                offset: batch_at,
                codec,
                reason,
            },
            CodecError::TooLarge { limit } => RecordError::DecompressedTooLarge {
                offset: batch_at,
                codec,
                limit,
            },
            CodecError::Disabled => RecordError::CodecDisabled { codec },
        }
    }
}

/// Decompresses `input` with `codec`, appending to `out`; more than `max` bytes of output is
/// [`CodecError::TooLarge`] (memory use stays near `max`). `legacy_lz4` reads the broken LZ4
/// header checksum of magic 0 messages.
pub fn decompress(
    codec: Compression,
    input: &[u8],
    out: &mut Vec<u8>,
    max: usize,
    legacy_lz4: bool,
) -> Result<(), CodecError> {
    let _ = (&input, &out, max, legacy_lz4);
    match codec {
        Compression::None => {
            if input.len() > max {
                return Err(CodecError::TooLarge { limit: max });
            }
            out.extend_from_slice(input);
            Ok(())
        }
        #[cfg(feature = "gzip")]
        Compression::Gzip => gzip::decompress(input, out, max),
        #[cfg(feature = "snappy")]
        Compression::Snappy => snappy::decompress(input, out, max),
        #[cfg(feature = "lz4")]
        Compression::Lz4 => lz4::decompress(input, out, max, legacy_lz4),
        #[cfg(feature = "zstd")]
        Compression::Zstd => zstd::decompress(input, out, max),
        #[allow(unreachable_patterns)]
        _ => Err(CodecError::Disabled),
    }
}

/// Compresses `input` with `codec`, appending to `out`. `legacy_lz4` writes the broken LZ4
/// header checksum that magic 0 readers expect.
pub fn compress(
    codec: Compression,
    input: &[u8],
    out: &mut Vec<u8>,
    legacy_lz4: bool,
) -> Result<(), CodecError> {
    let _ = (&input, &out, legacy_lz4);
    match codec {
        Compression::None => {
            out.extend_from_slice(input);
            Ok(())
        }
        #[cfg(feature = "gzip")]
        Compression::Gzip => {
            gzip::compress(input, out);
            Ok(())
        }
        #[cfg(feature = "snappy")]
        Compression::Snappy => snappy::compress(input, out),
        #[cfg(feature = "lz4")]
        Compression::Lz4 => {
            lz4::compress(input, out, legacy_lz4);
            Ok(())
        }
        #[cfg(feature = "zstd")]
        Compression::Zstd => {
            zstd::compress(input, out);
            Ok(())
        }
        #[allow(unreachable_patterns)]
        _ => Err(CodecError::Disabled),
    }
}

/// Grows `out` (whose bytes from `start` are output so far, `used` of them written) so that
/// there is room to write, never past `start + max + 1`; `TooLarge` when that is reached.
#[allow(dead_code)]
pub(crate) fn grow(
    out: &mut Vec<u8>,
    start: usize,
    used: usize,
    max: usize,
    want: usize,
) -> Result<(), CodecError> {
    let hard = start.saturating_add(max).saturating_add(1);
    if used >= hard {
        return Err(CodecError::TooLarge { limit: max });
    }
    if out.len() - used >= want.max(1) {
        return Ok(());
    }
    let produced = used - start;
    let new_len = used.saturating_add(want.max(produced).max(4096)).min(hard);
    out.resize(new_len, 0);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn sample(n: usize) -> Vec<u8> {
        let mut rng = crate::rng::Rng::new(0x1234_5678);
        (0..n)
            .map(|i| {
                let x = rng.next_u64() as u32;
                if i % 3 == 0 {
                    b'a' + (x % 4) as u8
                } else {
                    (x >> 24) as u8 & 0x0f
                }
            })
            .collect()
    }

    #[test]
    fn every_enabled_codec_round_trips() {
        for codec in Compression::ALL {
            if !codec.is_enabled() {
                continue;
            }
            for n in [0usize, 1, 100, 65_535, 65_536, 65_537, 300_000] {
                let data = sample(n);
                let mut c = Vec::new();
                compress(codec, &data, &mut c, false).unwrap();
                let mut d = vec![9u8; 3];
                decompress(codec, &c, &mut d, n, false).unwrap();
                assert_eq!(&d[..3], &[9, 9, 9], "{codec} must append");
                assert_eq!(&d[3..], &data[..], "{codec} {n}");
                if n > 0 {
                    let mut d = Vec::new();
                    let e = decompress(codec, &c, &mut d, n - 1, false).unwrap_err();
                    assert_eq!(e, CodecError::TooLarge { limit: n - 1 }, "{codec} {n}");
                }
            }
        }
    }

    #[test]
    fn a_bomb_is_an_error_not_an_allocation() {
        let data = vec![0u8; 8 << 20];
        for codec in Compression::ALL {
            if !codec.is_enabled() || codec == Compression::None {
                continue;
            }
            let mut c = Vec::new();
            compress(codec, &data, &mut c, false).unwrap();
            assert!(c.len() < data.len() / 20, "{codec} {}", c.len());
            let mut d = Vec::new();
            let e = decompress(codec, &c, &mut d, 1 << 16, false).unwrap_err();
            assert_eq!(e, CodecError::TooLarge { limit: 1 << 16 }, "{codec}");
            assert!(
                d.capacity() <= 4 << 20,
                "{codec} allocated {}",
                d.capacity()
            );
        }
    }

    #[test]
    fn truncations_and_garbage_are_errors() {
        let data = sample(20_000);
        for codec in Compression::ALL {
            if !codec.is_enabled() || codec == Compression::None {
                continue;
            }
            let mut c = Vec::new();
            compress(codec, &data, &mut c, false).unwrap();
            for cut in [0, 1, 5, c.len() / 2, c.len() - 1] {
                let mut d = Vec::new();
                assert!(
                    decompress(codec, &c[..cut], &mut d, 1 << 20, false).is_err(),
                    "{codec} cut {cut}"
                );
            }
            let mut d = Vec::new();
            assert!(decompress(
                codec,
                &[0xde, 0xad, 0xbe, 0xef, 0, 1, 2],
                &mut d,
                1 << 20,
                false
            )
            .is_err());
        }
    }
}
