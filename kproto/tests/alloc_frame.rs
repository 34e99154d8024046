//! `FrameDecoder` grows its buffer with the bytes that arrive, not with the size a frame's
//! 4-byte prefix claims: a connection that sends a prefix and nothing else costs bytes, not
//! the 100 MiB (or 2 GiB) it claims.

mod alloc_counter;

use alloc_counter::measure;
use kproto::frame::{FrameDecoder, DEFAULT_MAX_FRAME_SIZE};

/// What a decoder may allocate after a bare 4-byte prefix, whatever the prefix claims.
const SMALL: usize = 1024;

#[test]
fn a_prefix_claiming_100_mib_allocates_almost_nothing() {
    let claim: i32 = 100 * 1024 * 1024;
    let (d, used) = measure(|| {
        let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
        d.feed(&claim.to_be_bytes());
        assert_eq!(d.next_frame().unwrap(), None);
        // Asking again (as a read loop does after every read) must not reserve either.
        assert_eq!(d.next_frame().unwrap(), None);
        d
    });
    assert!(used < SMALL, "a 4-byte prefix allocated {used} bytes");
    assert_eq!(d.buffered(), 4);
}

#[test]
fn a_prefix_claiming_i32_max_allocates_almost_nothing() {
    let (_d, used) = measure(|| {
        let mut d = FrameDecoder::new(usize::MAX);
        d.feed(&i32::MAX.to_be_bytes());
        assert_eq!(d.next_frame().unwrap(), None);
        d.feed(&[7; 100]);
        assert_eq!(d.next_frame().unwrap(), None);
        d
    });
    assert!(
        used < SMALL,
        "a prefix claiming i32::MAX allocated {used} bytes"
    );
}

#[test]
fn a_thousand_connections_with_a_bare_prefix_cost_kilobytes() {
    let claim: i32 = 100 * 1024 * 1024;
    let (decoders, used) = measure(|| {
        (0..1000)
            .map(|_| {
                let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
                d.feed(&claim.to_be_bytes());
                assert_eq!(d.next_frame().unwrap(), None);
                d
            })
            .collect::<Vec<_>>()
    });
    assert_eq!(decoders.len(), 1000);
    assert!(
        used < 1000 * 256,
        "1000 bare prefixes allocated {used} bytes"
    );
}

#[test]
fn a_large_frame_fed_in_reads_decodes_and_allocation_follows_the_bytes_that_arrived() {
    let size: usize = 3 * 1024 * 1024 + 17;
    let payload: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
    let mut stream = (size as i32).to_be_bytes().to_vec();
    stream.extend_from_slice(&payload);
    // A second, small frame right behind it.
    stream.extend_from_slice(&5i32.to_be_bytes());
    stream.extend_from_slice(b"hello");

    let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
    let mut frames = Vec::new();
    let mut fed = 0;
    for chunk in stream.chunks(64 * 1024 + 3) {
        let (_, used) = measure(|| {
            d.feed(chunk);
            while let Some(f) = d.next_frame().unwrap() {
                frames.push(f);
            }
        });
        fed += chunk.len();
        // Never more than twice what has arrived so far (plus a little slack), whatever the
        // prefix claims.
        assert!(
            used <= 2 * fed + SMALL,
            "after {fed} bytes a read allocated {used}"
        );
    }
    assert_eq!(frames.len(), 2);
    assert_eq!(&frames[0][..], &payload[..]);
    assert_eq!(&frames[1][..], b"hello");
    assert_eq!(d.buffered(), 0);
}

#[test]
fn frames_fed_byte_by_byte_still_decode() {
    let mut stream = Vec::new();
    let frames: Vec<Vec<u8>> = (0..50).map(|n| vec![n as u8; n * 37]).collect();
    for f in &frames {
        stream.extend_from_slice(&(f.len() as i32).to_be_bytes());
        stream.extend_from_slice(f);
    }
    let mut d = FrameDecoder::new(DEFAULT_MAX_FRAME_SIZE);
    let mut got = Vec::new();
    for b in &stream {
        d.feed(std::slice::from_ref(b));
        while let Some(f) = d.next_frame().unwrap() {
            got.push(f.to_vec());
        }
    }
    assert_eq!(got, frames);
}
