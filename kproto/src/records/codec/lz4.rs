//! Kafka's LZ4: the LZ4 frame format over lz4_flex's block codec (which is no_std), written
//! here so that it works without std and reads what every client writes: Java's independent
//! 64 KiB blocks, python-lz4's linked blocks with a content size, optional block and content
//! checksums, and the header checksum Kafka computed wrongly (over the magic too) for magic 0.
// The LZ4 frame format is little-endian by definition.
#![allow(clippy::little_endian_bytes)]

use super::CodecError;
use alloc::vec::Vec;
use twox_hash::XxHash32;

const MAGIC: u32 = 0x184D_2204;
const FLG_VERSION: u8 = 0x40;
const FLG_INDEPENDENT: u8 = 0x20;
const FLG_BLOCK_CHECKSUM: u8 = 0x10;
const FLG_CONTENT_SIZE: u8 = 0x08;
const FLG_CONTENT_CHECKSUM: u8 = 0x04;
const FLG_DICT_ID: u8 = 0x01;
/// 64 KiB: Kafka's `Lz4BlockOutputStream.BLOCKSIZE_64KB`, and the window of linked blocks.
const BLOCK_64K: usize = 64 * 1024;

/// The most bytes an LZ4 block of `len` bytes can decompress to. A sequence is a token, its
/// literals, a 2-byte offset and length bytes; each match-length byte adds at most 255 bytes
/// of output and a sequence's fixed part at most 19 for 3 bytes, so no block expands more
/// than 255 times (plus a little for the final literals).
fn max_decompressed_len(len: usize) -> usize {
    len.saturating_mul(255).saturating_add(16)
}

fn le32(i: &[u8], at: usize) -> Option<u32> {
    let b = i.get(at..at + 4)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The header checksum byte: xxHash32 of the descriptor, or (magic 0's bug) of the magic and
/// the descriptor.
fn header_checksum(frame: &[u8], desc_end: usize, broken: bool) -> u8 {
    let from = if broken { 0 } else { 4 };
    (XxHash32::oneshot(0, &frame[from..desc_end]) >> 8) as u8
}

pub(super) fn compress(input: &[u8], out: &mut Vec<u8>, broken_checksum: bool) {
    let frame = out.len();
    out.extend_from_slice(&MAGIC.to_le_bytes());
    // Version 01, independent blocks, no checksums, no content size; 64 KiB blocks.
    out.extend_from_slice(&[FLG_VERSION | FLG_INDEPENDENT, 0x40]);
    let hc = header_checksum(&out[frame..], out.len() - frame, broken_checksum);
    out.push(hc);
    for chunk in input.chunks(BLOCK_64K) {
        let at = out.len();
        out.resize(
            at + 4 + lz4_flex::block::get_maximum_output_size(chunk.len()),
            0,
        );
        match lz4_flex::block::compress_into(chunk, &mut out[at + 4..]) {
            Ok(n) if n < chunk.len() => {
                out[at..at + 4].copy_from_slice(&(n as u32).to_le_bytes());
                out.truncate(at + 4 + n);
            }
            _ => {
                // Incompressible: store it, with the high bit of the size set.
                out.truncate(at);
                out.extend_from_slice(&(chunk.len() as u32 | 0x8000_0000).to_le_bytes());
                out.extend_from_slice(chunk);
            }
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
}

pub(super) fn decompress(
    input: &[u8],
    out: &mut Vec<u8>,
    max: usize,
    broken_checksum: bool,
) -> Result<(), CodecError> {
    let start = out.len();
    let mut pos = 0;
    loop {
        pos += frame(&input[pos..], out, start, max, broken_checksum)?;
        if pos == input.len() {
            return Ok(());
        }
    }
}

/// Decodes one frame, returning the bytes it took.
fn frame(
    i: &[u8],
    out: &mut Vec<u8>,
    start: usize,
    max: usize,
    broken: bool,
) -> Result<usize, CodecError> {
    let t = CodecError::Corrupt("truncated lz4 frame");
    if le32(i, 0).ok_or(t.clone())? != MAGIC {
        return Err(CodecError::Corrupt("not an lz4 frame"));
    }
    let (flg, bd) = (*i.get(4).ok_or(t.clone())?, *i.get(5).ok_or(t.clone())?);
    if flg & 0xc0 != FLG_VERSION || flg & 0x02 != 0 || bd & 0x8f != 0 {
        return Err(CodecError::Corrupt("invalid lz4 frame descriptor"));
    }
    let block_max = match (bd >> 4) & 7 {
        4 => BLOCK_64K,
        5 => 256 * 1024,
        6 => 1024 * 1024,
        7 => 4 * 1024 * 1024,
        _ => return Err(CodecError::Corrupt("invalid lz4 block size id")),
    };
    let mut p = 6;
    let mut content_size = None;
    if flg & FLG_CONTENT_SIZE != 0 {
        let b = i.get(p..p + 8).ok_or(t.clone())?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        let n = u64::from_le_bytes(a);
        if n > (max - (out.len() - start).min(max)) as u64 {
            return Err(CodecError::TooLarge { limit: max });
        }
        content_size = Some(n as usize);
        p += 8;
    }
    if flg & FLG_DICT_ID != 0 {
        return Err(CodecError::Corrupt(
            "lz4 dictionaries are not used by Kafka",
        ));
    }
    let hc = *i.get(p).ok_or(t.clone())?;
    if hc != header_checksum(i, p, broken) {
        return Err(CodecError::Corrupt("lz4 frame header checksum mismatch"));
    }
    p += 1;
    let frame_start = out.len();
    loop {
        let size = le32(i, p).ok_or(t.clone())?;
        p += 4;
        if size == 0 {
            break;
        }
        let stored = size & 0x8000_0000 != 0;
        let n = (size & 0x7fff_ffff) as usize;
        if n > block_max {
            return Err(CodecError::Corrupt(
                "lz4 block larger than the frame's block size",
            ));
        }
        let block = i.get(p..p + n).ok_or(t.clone())?;
        p += n;
        if flg & FLG_BLOCK_CHECKSUM != 0 {
            let sum = le32(i, p).ok_or(t.clone())?;
            p += 4;
            if sum != XxHash32::oneshot(0, block) {
                return Err(CodecError::Corrupt("lz4 block checksum mismatch"));
            }
        }
        let used = out.len();
        let left = max - (used - start).min(max);
        if stored {
            if n > left {
                return Err(CodecError::TooLarge { limit: max });
            }
            out.extend_from_slice(block);
            continue;
        }
        // Room for what the block can decode to: at most the frame's block size, one byte
        // past the cap (to tell "too large" from "fits"), and what `n` bytes can expand to.
        let cap_room = left.saturating_add(1);
        let bound = block_max.min(max_decompressed_len(n));
        let room = bound.min(cap_room);
        out.resize(used + room, 0);
        let (prev, tail) = out.split_at_mut(used);
        let r = if flg & FLG_INDEPENDENT != 0 {
            lz4_flex::block::decompress_into(block, tail)
        } else {
            let dict = &prev[used - (used - frame_start).min(BLOCK_64K)..];
            lz4_flex::block::decompress_into_with_dict(block, tail, dict)
        };
        match r {
            Ok(w) => {
                out.truncate(used + w);
                if w > left {
                    return Err(CodecError::TooLarge { limit: max });
                }
            }
            Err(_) => {
                out.truncate(used);
                return Err(if cap_room < bound {
                    CodecError::TooLarge { limit: max }
                } else {
                    CodecError::Corrupt("invalid lz4 block")
                });
            }
        }
    }
    if flg & FLG_CONTENT_CHECKSUM != 0 {
        let sum = le32(i, p).ok_or(t)?;
        p += 4;
        if sum != XxHash32::oneshot(0, &out[frame_start..]) {
            return Err(CodecError::Corrupt("lz4 content checksum mismatch"));
        }
    }
    if let Some(n) = content_size {
        if out.len() - frame_start != n {
            return Err(CodecError::Corrupt("lz4 content size mismatch"));
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_frame_header_bytes() {
        let mut out = Vec::new();
        compress(b"", &mut out, false);
        // Magic, FLG 0x60, BD 0x40, HC, end mark: what Kafka's Lz4BlockOutputStream writes.
        assert_eq!(&out[..6], &[0x04, 0x22, 0x4d, 0x18, 0x60, 0x40]);
        assert_eq!(out[6], (XxHash32::oneshot(0, &[0x60, 0x40]) >> 8) as u8);
        assert_eq!(&out[7..], &[0, 0, 0, 0]);
        let mut d = Vec::new();
        decompress(&out, &mut d, 0, false).unwrap();
        assert!(d.is_empty());
    }

    #[test]
    fn broken_checksum_only_for_legacy() {
        let data = b"hello hello hello hello hello";
        let mut out = Vec::new();
        compress(data, &mut out, true);
        let mut d = Vec::new();
        decompress(&out, &mut d, 100, true).unwrap();
        assert_eq!(&d[..], &data[..]);
        assert!(decompress(&out, &mut Vec::new(), 100, false).is_err());
    }

    #[test]
    fn linked_blocks_with_content_size_and_checksums() {
        // Build a frame the way python-lz4 does by default: linked blocks, content size; plus
        // block and content checksums, which that library can add.
        let data: Vec<u8> = (0..150_000u32).map(|i| (i / 7 % 256) as u8).collect();
        let mut f = Vec::new();
        f.extend_from_slice(&MAGIC.to_le_bytes());
        let flg = FLG_VERSION | FLG_BLOCK_CHECKSUM | FLG_CONTENT_SIZE | FLG_CONTENT_CHECKSUM;
        f.extend_from_slice(&[flg, 0x40]);
        f.extend_from_slice(&(data.len() as u64).to_le_bytes());
        let hc = header_checksum(&f, f.len(), false);
        f.push(hc);
        let mut prev: &[u8] = &[];
        for chunk in data.chunks(BLOCK_64K) {
            let c = lz4_flex::block::compress_with_dict(chunk, prev);
            f.extend_from_slice(&(c.len() as u32).to_le_bytes());
            f.extend_from_slice(&c);
            f.extend_from_slice(&XxHash32::oneshot(0, &c).to_le_bytes());
            prev = chunk;
        }
        f.extend_from_slice(&0u32.to_le_bytes());
        f.extend_from_slice(&XxHash32::oneshot(0, &data).to_le_bytes());
        let mut d = Vec::new();
        decompress(&f, &mut d, data.len(), false).unwrap();
        assert_eq!(d, data);
        assert_eq!(
            decompress(&f, &mut Vec::new(), data.len() - 1, false),
            Err(CodecError::TooLarge {
                limit: data.len() - 1
            })
        );
    }
}
