//! gzip (RFC 1952) over miniz_oxide's raw deflate; the trailer's CRC-32 and size are checked.
// gzip's header and trailer fields are little-endian by definition.
#![allow(clippy::little_endian_bytes)]

use super::{grow, CodecError};
use crate::records::crc::crc32_ieee;
use alloc::vec::Vec;
use miniz_oxide::inflate::stream::{inflate, InflateState};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

/// Deflate level 6: `java.util.zip.Deflater.DEFAULT_COMPRESSION`, what Kafka uses by default.
const LEVEL: u8 = 6;

/// The most bytes one byte of deflate data can decompress to (258-byte matches coded in
/// under two bits: deflate's well-known 1032:1 limit).
const MAX_EXPANSION: usize = 1032;

pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) {
    // ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=255 (unknown), as Java's GZIPOutputStream.
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    out.extend_from_slice(&miniz_oxide::deflate::compress_to_vec(input, LEVEL));
    out.extend_from_slice(&crc32_ieee(input).to_le_bytes());
    out.extend_from_slice(&(input.len() as u32).to_le_bytes());
}

/// Skips a gzip member header, returning the offset of the deflate data.
fn header(i: &[u8]) -> Result<usize, CodecError> {
    let t = CodecError::Corrupt("truncated gzip header");
    if i.len() < 10 {
        return Err(t);
    }
    if i[0] != 0x1f || i[1] != 0x8b || i[2] != 8 {
        return Err(CodecError::Corrupt("not a gzip member"));
    }
    let flg = i[3];
    if flg & 0xe0 != 0 {
        return Err(CodecError::Corrupt("reserved gzip flags set"));
    }
    let mut p = 10;
    if flg & FEXTRA != 0 {
        let n = i.get(p..p + 2).ok_or(t.clone())?;
        p += 2 + usize::from(u16::from_le_bytes([n[0], n[1]]));
    }
    for f in [FNAME, FCOMMENT] {
        if flg & f != 0 {
            let z = i
                .get(p..)
                .unwrap_or_default()
                .iter()
                .position(|&b| b == 0)
                .ok_or(t.clone())?;
            p += z + 1;
        }
    }
    if flg & FHCRC != 0 {
        p += 2;
    }
    if p > i.len() {
        return Err(t);
    }
    Ok(p)
}

pub(super) fn decompress(input: &[u8], out: &mut Vec<u8>, max: usize) -> Result<(), CodecError> {
    let start = out.len();
    let mut used = start;
    let mut pos = 0;
    let mut state = InflateState::new_boxed(DataFormat::Raw);
    loop {
        pos += header(&input[pos..])?;
        state.reset(DataFormat::Raw);
        let member_start = used;
        loop {
            // Grow with the output: start small for a small input (the deflate data left,
            // before the 8-byte trailer, expands at most 1032 times), then by what was
            // produced so far.
            let deflate_left = (input.len() - pos).saturating_sub(8);
            let want = deflate_left.saturating_mul(MAX_EXPANSION).min(32 * 1024);
            grow(out, start, used, max, want)?;
            let r = inflate(&mut state, &input[pos..], &mut out[used..], MZFlush::None);
            pos += r.bytes_consumed;
            used += r.bytes_written;
            match r.status {
                Ok(MZStatus::StreamEnd) => break,
                Ok(_) => {}
                Err(MZError::Buf) if pos < input.len() && used == out.len() => {}
                Err(MZError::Buf) => {
                    out.truncate(used);
                    return Err(CodecError::Corrupt("truncated deflate stream"));
                }
                Err(_) => {
                    out.truncate(used);
                    return Err(CodecError::Corrupt("invalid deflate stream"));
                }
            }
        }
        out.truncate(used);
        if used - start > max {
            return Err(CodecError::TooLarge { limit: max });
        }
        let trailer = input
            .get(pos..pos + 8)
            .ok_or(CodecError::Corrupt("truncated gzip trailer"))?;
        let crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
        let isize = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
        let member = &out[member_start..used];
        if crc32_ieee(member) != crc {
            return Err(CodecError::Corrupt("gzip CRC-32 mismatch"));
        }
        if member.len() as u32 != isize {
            return Err(CodecError::Corrupt("gzip size mismatch"));
        }
        pos += 8;
        if pos == input.len() {
            return Ok(());
        }
    }
}
