//! snappy: raw blocks (librdkafka, franz-go) and snappy-java's xerial framing (Java,
//! kafka-python): `0x82 "SNAPPY" 0`, version and compatible-version int32s, then blocks each
//! prefixed with a big-endian int32 length.

use super::CodecError;
use alloc::vec::Vec;

const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
const XERIAL_HEADER: usize = 16;
/// snappy-java's default block size.
const BLOCK: usize = 32 * 1024;

pub(super) fn compress(input: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
    out.extend_from_slice(&XERIAL_MAGIC);
    out.extend_from_slice(&1i32.to_be_bytes());
    out.extend_from_slice(&1i32.to_be_bytes());
    let mut enc = snap::raw::Encoder::new();
    for chunk in input.chunks(BLOCK) {
        let at = out.len();
        out.resize(at + 4 + snap::raw::max_compress_len(chunk.len()), 0);
        let n = enc
            .compress(chunk, &mut out[at + 4..])
            .map_err(|_| CodecError::Corrupt("snappy block too large"))?;
        out[at..at + 4].copy_from_slice(&(n as u32).to_be_bytes());
        out.truncate(at + 4 + n);
    }
    Ok(())
}

fn raw_block(
    dec: &mut snap::raw::Decoder,
    block: &[u8],
    out: &mut Vec<u8>,
    start: usize,
    max: usize,
) -> Result<(), CodecError> {
    let n = snap::raw::decompress_len(block)
        .map_err(|_| CodecError::Corrupt("invalid snappy length"))?;
    if (out.len() - start).saturating_add(n) > max {
        return Err(CodecError::TooLarge { limit: max });
    }
    let at = out.len();
    out.resize(at + n, 0);
    match dec.decompress(block, &mut out[at..]) {
        Ok(w) if w == n => Ok(()),
        _ => {
            out.truncate(at);
            Err(CodecError::Corrupt("invalid snappy block"))
        }
    }
}

pub(super) fn decompress(input: &[u8], out: &mut Vec<u8>, max: usize) -> Result<(), CodecError> {
    let start = out.len();
    let mut dec = snap::raw::Decoder::new();
    if !input.starts_with(&XERIAL_MAGIC) {
        return raw_block(&mut dec, input, out, start, max);
    }
    if input.len() < XERIAL_HEADER {
        return Err(CodecError::Corrupt("truncated xerial snappy header"));
    }
    let mut pos = XERIAL_HEADER;
    while pos < input.len() {
        let len = input
            .get(pos..pos + 4)
            .ok_or(CodecError::Corrupt("truncated xerial block length"))?;
        let len = i32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        pos += 4;
        if len < 0 || len as usize > input.len() - pos {
            return Err(CodecError::Corrupt("xerial block length past the end"));
        }
        raw_block(&mut dec, &input[pos..pos + len as usize], out, start, max)?;
        pos += len as usize;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_raw_and_xerial() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        let mut out = Vec::new();
        decompress(&raw, &mut out, data.len()).unwrap();
        assert_eq!(out, data);
        let mut framed = Vec::new();
        compress(&data, &mut framed).unwrap();
        assert!(framed.starts_with(&XERIAL_MAGIC));
        assert_eq!(&framed[8..16], &[0, 0, 0, 1, 0, 0, 0, 1]);
        let mut out = Vec::new();
        decompress(&framed, &mut out, data.len()).unwrap();
        assert_eq!(out, data);
    }
}
