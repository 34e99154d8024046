//! zstd through ruzstd (pure Rust, no_std): decoding of any frame, and ruzstd's fastest
//! encoder (about zstd level 1; Java writes level 3, which any reader accepts the same way).

use super::CodecError;
use alloc::vec::Vec;
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use ruzstd::encoding::{compress_to_vec, CompressionLevel};

pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) {
    if out.is_empty() {
        *out = compress_to_vec(input, CompressionLevel::Fastest);
    } else {
        out.extend_from_slice(&compress_to_vec(input, CompressionLevel::Fastest));
    }
}

pub(super) fn decompress(input: &[u8], out: &mut Vec<u8>, max: usize) -> Result<(), CodecError> {
    let start = out.len();
    let mut src = input;
    let mut dec = FrameDecoder::new();
    // The window a frame may ask for: enough for any real batch, bounded by the cap.
    dec.set_max_window_size((max as u64).clamp(1 << 20, 1 << 27));
    if src.is_empty() {
        return Err(CodecError::Corrupt("empty zstd data"));
    }
    while !src.is_empty() {
        dec.reset(&mut src)
            .map_err(|_| CodecError::Corrupt("invalid zstd frame header"))?;
        if dec.content_size() > (max - (out.len() - start).min(max)) as u64 {
            return Err(CodecError::TooLarge { limit: max });
        }
        loop {
            let finished = dec
                .decode_blocks(&mut src, BlockDecodingStrategy::UptoBytes(128 * 1024))
                .map_err(|_| CodecError::Corrupt("invalid zstd block"))?;
            if (out.len() - start).saturating_add(dec.can_collect()) > max {
                return Err(CodecError::TooLarge { limit: max });
            }
            if let Some(bytes) = dec.collect() {
                out.extend_from_slice(&bytes);
            }
            if finished {
                break;
            }
        }
        if let (Some(stored), Some(computed)) =
            (dec.get_checksum_from_data(), dec.get_calculated_checksum())
        {
            if stored != computed {
                return Err(CodecError::Corrupt("zstd content checksum mismatch"));
            }
        }
    }
    Ok(())
}
