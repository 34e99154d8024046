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

/// The most bytes `len` bytes of a raw snappy block can decompress to. Of snappy's elements,
/// a literal writes at most the bytes it carries, a 2-byte copy at most 11 bytes and a 3- or
/// 5-byte copy at most 64: no element writes more than 64 bytes per 3 bytes it takes.
pub(super) fn max_decompressed_len(len: usize) -> usize {
    len.saturating_mul(64) / 3
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
    // The claimed length is checked against what the block can expand to before the output
    // is zero-filled to it: 67 bytes claiming 64 MiB are an error, not a 64 MiB allocation.
    if n > max_decompressed_len(block.len()) {
        return Err(CodecError::Corrupt(
            "snappy length larger than the block can decompress to",
        ));
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
    use alloc::vec;

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

    #[test]
    fn the_expansion_bound_holds_for_the_most_compressible_input() {
        for n in [1usize, 64, 65, 1000, 32 * 1024, 1 << 20] {
            let zeros = vec![0u8; n];
            let raw = snap::raw::Encoder::new().compress_vec(&zeros).unwrap();
            assert!(
                n <= max_decompressed_len(raw.len()),
                "{n} from {}",
                raw.len()
            );
            let mut out = Vec::new();
            decompress(&raw, &mut out, n).unwrap();
            assert_eq!(out, zeros);
        }
    }

    #[test]
    fn a_length_beyond_the_bound_is_corrupt() {
        // Preamble 1000, one 5-byte literal: at most 5 * 64 / 3 = 106 bytes could come out.
        let block = [0xe8, 0x07, 4 << 2, b'a', b'b', b'c', b'd', b'e'];
        assert_eq!(
            decompress(&block, &mut Vec::new(), 1 << 20),
            Err(CodecError::Corrupt(
                "snappy length larger than the block can decompress to"
            ))
        );
    }
}
