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

/// The most bytes a zstd block can decompress to (`Block_Maximum_Size`).
const MAX_BLOCK: usize = 128 * 1024;

/// The most bytes `len` bytes of zstd frames can decompress to: every block that writes
/// anything takes at least 4 bytes (a 3-byte header and a byte of content) and writes at
/// most 128 KiB.
fn max_decompressed_len(len: usize) -> usize {
    len.div_ceil(4).saturating_mul(MAX_BLOCK)
}

/// Whether the frame at the start of `src` declares its content size. ruzstd reports an
/// absent size as 0, so the frame header descriptor is read here: the size is present when
/// `Frame_Content_Size_flag` is non-zero or the single-segment flag is set.
fn declares_content_size(src: &[u8]) -> bool {
    src.get(4)
        .is_some_and(|fhd| fhd >> 6 != 0 || fhd & 0x20 != 0)
}

pub(super) fn decompress(input: &[u8], out: &mut Vec<u8>, max: usize) -> Result<(), CodecError> {
    let start = out.len();
    let mut src = input;
    if src.is_empty() {
        return Err(CodecError::Corrupt("empty zstd data"));
    }
    while !src.is_empty() {
        // A fresh decoder per frame: ruzstd reserves the whole declared window when a decoder
        // is reset for a second frame, but grows a new decoder's buffer with the output. So a
        // frame declaring a 64 MiB window for a few bytes costs a few bytes.
        let mut dec = FrameDecoder::new();
        // The window a frame may ask for: enough for any real batch, bounded by the cap.
        dec.set_max_window_size((max as u64).clamp(1 << 20, 1 << 27));
        let sized = declares_content_size(src);
        let bound = max_decompressed_len(src.len());
        dec.reset(&mut src)
            .map_err(|_| CodecError::Corrupt("invalid zstd frame header"))?;
        let frame_start = out.len();
        let content_size = dec.content_size();
        if sized {
            if content_size > (max - (out.len() - start).min(max)) as u64 {
                return Err(CodecError::TooLarge { limit: max });
            }
            if content_size > bound as u64 {
                return Err(CodecError::Corrupt(
                    "zstd content size larger than the frame can decompress to",
                ));
            }
        }
        loop {
            let finished = dec
                .decode_blocks(&mut src, BlockDecodingStrategy::UptoBytes(MAX_BLOCK))
                .map_err(|_| CodecError::Corrupt("invalid zstd block"))?;
            if (out.len() - start).saturating_add(dec.can_collect()) > max {
                return Err(CodecError::TooLarge { limit: max });
            }
            if let Some(bytes) = dec.collect() {
                out.extend_from_slice(&bytes);
            }
            if sized && (out.len() - frame_start) as u64 > content_size {
                return Err(CodecError::Corrupt(
                    "zstd frame longer than its content size",
                ));
            }
            if finished {
                break;
            }
        }
        if sized && (out.len() - frame_start) as u64 != content_size {
            return Err(CodecError::Corrupt(
                "zstd frame shorter than its content size",
            ));
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
