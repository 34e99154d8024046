//! Decompression allocates in proportion to what the compressed input can expand to, never to
//! a size the input claims: a few dozen bytes claiming 64 MiB (snappy's length varint, an LZ4
//! frame's block size and content size, a zstd frame's window and content size) cost a few
//! KiB, while real megabyte payloads still decompress.
// The LZ4 frame format is little-endian by definition.
#![allow(clippy::little_endian_bytes)]

mod alloc_counter;

use alloc_counter::measure;
use kproto::records::codec::{compress, decompress, CodecError};
use kproto::records::{BatchView, Compression, DEFAULT_MAX_UNCOMPRESSED};

/// What decompressing a hostile input of under a hundred bytes may allocate.
const SMALL: usize = 64 * 1024;

fn decompress_measured(codec: Compression, input: &[u8]) -> (Result<Vec<u8>, CodecError>, usize) {
    measure(|| {
        let mut out = Vec::new();
        decompress(codec, input, &mut out, DEFAULT_MAX_UNCOMPRESSED, false).map(|()| out)
    })
}

/// An unsigned LEB128 varint, as snappy's length preamble.
fn uvarint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A raw snappy block claiming `claimed` bytes whose body is one literal of `literal`.
fn snappy_raw_claiming(claimed: u64, literal: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    uvarint(claimed, &mut b);
    assert!(!literal.is_empty() && literal.len() <= 60);
    b.push(((literal.len() - 1) as u8) << 2);
    b.extend_from_slice(literal);
    b
}

#[test]
fn snappy_raw_claiming_64_mib_allocates_little() {
    let input = snappy_raw_claiming(DEFAULT_MAX_UNCOMPRESSED as u64, &[b'x'; 60]);
    assert!(input.len() < 70);
    let (r, used) = decompress_measured(Compression::Snappy, &input);
    assert!(r.is_err(), "{r:?}");
    assert!(used < SMALL, "{} input bytes allocated {used}", input.len());
}

#[test]
fn snappy_xerial_block_claiming_64_mib_allocates_little() {
    let block = snappy_raw_claiming(DEFAULT_MAX_UNCOMPRESSED as u64 - 1, &[b'y'; 40]);
    let mut input = vec![
        0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1,
    ];
    input.extend_from_slice(&(block.len() as i32).to_be_bytes());
    input.extend_from_slice(&block);
    let (r, used) = decompress_measured(Compression::Snappy, &input);
    assert!(r.is_err(), "{r:?}");
    assert!(used < SMALL, "{} input bytes allocated {used}", input.len());
}

#[test]
fn a_67_byte_snappy_batch_claiming_64_mib_allocates_little() {
    // A v2 batch (61-byte header) whose records are a raw snappy block claiming 64 MiB.
    let payload = snappy_raw_claiming(DEFAULT_MAX_UNCOMPRESSED as u64, &[0]);
    let mut batch = Vec::new();
    batch.extend_from_slice(&0i64.to_be_bytes()); // baseOffset
    batch.extend_from_slice(&((49 + payload.len()) as i32).to_be_bytes()); // batchLength
    batch.extend_from_slice(&(-1i32).to_be_bytes()); // partitionLeaderEpoch
    batch.push(2); // magic
    batch.extend_from_slice(&[0; 4]); // crc, filled below
    batch.extend_from_slice(&2i16.to_be_bytes()); // attributes: snappy
    batch.extend_from_slice(&0i32.to_be_bytes()); // lastOffsetDelta
    batch.extend_from_slice(&1_700_000_000_000i64.to_be_bytes()); // baseTimestamp
    batch.extend_from_slice(&1_700_000_000_000i64.to_be_bytes()); // maxTimestamp
    batch.extend_from_slice(&(-1i64).to_be_bytes()); // producerId
    batch.extend_from_slice(&(-1i16).to_be_bytes()); // producerEpoch
    batch.extend_from_slice(&(-1i32).to_be_bytes()); // baseSequence
    batch.extend_from_slice(&1i32.to_be_bytes()); // recordCount
    batch.extend_from_slice(&payload);
    assert_eq!(batch.len(), 67);
    let mut view = BatchView::new_checked(&mut batch[..]).unwrap();
    view.fill_crc();
    let view = BatchView::new_checked(&batch[..]).unwrap();
    view.validate_crc().unwrap();
    let (r, used) = measure(|| {
        let mut scratch = Vec::new();
        view.records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED)
            .map(|_| ())
    });
    assert!(r.is_err(), "{r:?}");
    assert!(used < SMALL, "a 67-byte batch allocated {used}");
}

/// An LZ4 frame: 4 MiB blocks, optionally a content size, then `blocks`, then the end mark.
fn lz4_frame(content_size: Option<u64>, blocks: &[&[u8]]) -> Vec<u8> {
    let mut f = 0x184D_2204u32.to_le_bytes().to_vec();
    let flg = 0x40 | 0x20 | if content_size.is_some() { 0x08 } else { 0 };
    f.extend_from_slice(&[flg, 0x70]); // block size id 7: 4 MiB
    if let Some(n) = content_size {
        f.extend_from_slice(&n.to_le_bytes());
    }
    f.push((twox_hash::XxHash32::oneshot(0, &f[4..]) >> 8) as u8);
    for b in blocks {
        f.extend_from_slice(&(b.len() as u32).to_le_bytes());
        f.extend_from_slice(b);
    }
    f.extend_from_slice(&0u32.to_le_bytes());
    f
}

/// A valid LZ4 block: 1 literal `a`, then a match of `4 + 15 + 255 * ext` bytes at offset 1.
fn lz4_run_block(ext: usize) -> Vec<u8> {
    let mut b = vec![0x1f, b'a', 1, 0];
    b.extend(std::iter::repeat_n(255, ext));
    b.push(0);
    // The last sequence is literals only (LZ4 requires the block to end with 5 literals).
    b.extend_from_slice(&[0x50, b'b', b'b', b'b', b'b', b'b']);
    b
}

#[test]
fn lz4_frame_with_4_mib_blocks_and_a_tiny_block_allocates_little() {
    // A real tiny block in a frame declaring 4 MiB blocks and 60 MiB of content.
    let block = lz4_run_block(2);
    let input = lz4_frame(Some(60 << 20), &[&block]);
    let (r, used) = decompress_measured(Compression::Lz4, &input);
    assert!(r.is_err(), "the content size does not match: {r:?}");
    assert!(used < SMALL, "{} input bytes allocated {used}", input.len());
    // The same block without the lie decodes, and still allocates little.
    let input = lz4_frame(None, &[&block]);
    let (r, used) = decompress_measured(Compression::Lz4, &input);
    let out = r.unwrap();
    assert_eq!(out.len(), 1 + 4 + 15 + 2 * 255 + 5);
    assert!(out[..out.len() - 5].iter().all(|&b| b == b'a'));
    assert!(used < SMALL, "{} input bytes allocated {used}", input.len());
    // Garbage in a 4 MiB-block frame: an error, little allocated.
    let input = lz4_frame(None, &[&[0xf0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]]);
    let (r, used) = decompress_measured(Compression::Lz4, &input);
    assert!(r.is_err(), "{r:?}");
    assert!(used < SMALL, "{} input bytes allocated {used}", input.len());
}

#[test]
fn lz4_blocks_that_expand_the_most_still_decode() {
    // ~255x expansion, the most LZ4 allows: the bound must not cut real data short.
    let block = lz4_run_block(16 * 1024 - 30);
    let input = lz4_frame(None, &[&block]);
    let (r, used) = decompress_measured(Compression::Lz4, &input);
    let out = r.unwrap();
    assert_eq!(out.len(), 1 + 19 + 255 * (16 * 1024 - 30) + 5);
    assert!(
        used < 3 * out.len(),
        "{} output bytes allocated {used}",
        out.len()
    );
}

/// A zstd frame header: no checksum, no dictionary; either a window descriptor or the
/// single-segment flag with a 4-byte content size.
fn zstd_header(window_log: Option<u8>, content_size: Option<u32>) -> Vec<u8> {
    let mut f = 0xFD2F_B528u32.to_le_bytes().to_vec();
    match (window_log, content_size) {
        (Some(log), None) => f.extend_from_slice(&[0x00, (log - 10) << 3]),
        (None, Some(n)) => {
            f.push(0x80 | 0x20); // 4-byte content size, single segment
            f.extend_from_slice(&n.to_le_bytes());
        }
        (Some(log), Some(n)) => {
            f.extend_from_slice(&[0x80, (log - 10) << 3]);
            f.extend_from_slice(&n.to_le_bytes());
        }
        (None, None) => unreachable!(),
    }
    f
}

/// A last RLE block of `n` copies of `byte`.
fn zstd_rle_block(n: u32, byte: u8) -> [u8; 4] {
    let h = 1 | (1 << 1) | (n << 3);
    [h as u8, (h >> 8) as u8, (h >> 16) as u8, byte]
}

#[test]
fn zstd_frame_declaring_a_64_mib_window_allocates_little() {
    let mut input = zstd_header(Some(26), None);
    input.extend_from_slice(&zstd_rle_block(1000, b'z'));
    let (r, used) = decompress_measured(Compression::Zstd, &input);
    assert_eq!(r.unwrap(), vec![b'z'; 1000]);
    assert!(
        used < 1 << 20,
        "{} input bytes allocated {used}",
        input.len()
    );
}

#[test]
fn a_second_zstd_frame_declaring_a_64_mib_window_allocates_little() {
    let mut input = zstd_header(Some(17), None);
    input.extend_from_slice(&zstd_rle_block(10, b'a'));
    input.extend_from_slice(&zstd_header(Some(26), None));
    input.extend_from_slice(&zstd_rle_block(1000, b'z'));
    let (r, used) = decompress_measured(Compression::Zstd, &input);
    let out = r.unwrap();
    assert_eq!(&out[..10], &[b'a'; 10]);
    assert_eq!(&out[10..], &[b'z'; 1000][..]);
    assert!(
        used < 1 << 20,
        "{} input bytes allocated {used}",
        input.len()
    );
}

#[test]
fn zstd_frame_claiming_60_mib_of_content_allocates_little() {
    for header in [
        zstd_header(None, Some(60 << 20)),
        zstd_header(Some(26), Some(60 << 20)),
    ] {
        let mut input = header;
        input.extend_from_slice(&zstd_rle_block(1000, b'z'));
        let (r, used) = decompress_measured(Compression::Zstd, &input);
        assert!(r.is_err(), "{r:?}");
        assert!(used < SMALL, "{} input bytes allocated {used}", input.len());
    }
}

#[test]
fn gzip_of_a_few_bytes_allocates_little() {
    let mut c = Vec::new();
    compress(Compression::Gzip, b"hello, kafka", &mut c, false).unwrap();
    let (r, used) = decompress_measured(Compression::Gzip, &c);
    assert_eq!(r.unwrap(), b"hello, kafka");
    assert!(used < SMALL, "{} input bytes allocated {used}", c.len());
}

/// A megabyte of record-like data: compressible, not trivially.
fn payload(n: usize) -> Vec<u8> {
    let mut rng = kproto::rng::Rng::new(0x9e37_79b9);
    (0..n)
        .map(|i| {
            let x = rng.next_u64() as u32;
            if i % 4 == 0 {
                (x >> 24) as u8
            } else {
                b"{\"user\":\"kafka\",\"n\":12345}"[i % 26]
            }
        })
        .collect()
}

#[test]
fn real_megabyte_payloads_decompress_with_every_codec() {
    let data = payload(1 << 20);
    for codec in Compression::ALL {
        let mut c = Vec::new();
        compress(codec, &data, &mut c, false).unwrap();
        let (r, used) = decompress_measured(codec, &c);
        assert_eq!(r.unwrap(), data, "{codec}");
        // Growing as output arrives costs a small multiple of the output, not the cap.
        assert!(used < 8 * data.len(), "{codec}: 1 MiB allocated {used}");
        // And the cap still holds.
        let mut out = Vec::new();
        assert_eq!(
            decompress(codec, &c, &mut out, data.len() - 1, false),
            Err(CodecError::TooLarge {
                limit: data.len() - 1
            }),
            "{codec}"
        );
    }
}

#[test]
fn highly_compressible_megabytes_decompress_with_every_codec() {
    // Zeros expand the most: the input-derived bounds must leave room for them.
    let data = vec![0u8; 3 << 20];
    for codec in Compression::ALL {
        let mut c = Vec::new();
        compress(codec, &data, &mut c, false).unwrap();
        let (r, _) = decompress_measured(codec, &c);
        assert_eq!(r.unwrap(), data, "{codec}");
    }
}
