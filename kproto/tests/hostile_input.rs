//! Bad input gets an error, never a panic, and never an allocation sized by an unchecked
//! length: truncating any valid frame at any byte, lying counts, and a records buffer whose
//! batch length claims 2 GiB.

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_request, decode_response, encode_request_frame, encode_response_frame};
use kproto::messages::{ApiVersionsResponse, RequestHeader};
use kproto::records::{Batches, RecordError};
use kproto::testing::{Rng, Sizes};
use kproto::{ApiKey, DecodeError, Message, RequestBody, ResponseBody};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the bytes each thread allocates, to prove a decoder allocated nothing big (tests run
/// on parallel threads, so the count is per thread).
struct Counting;
thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}
fn allocated() -> usize {
    ALLOCATED.with(Cell::get)
}
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|c| c.set(c.get() + l.size()));
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_six_byte_api_versions_response_claiming_i32_max_entries_is_rejected_without_allocating() {
    // ErrorCode 0, then ApiKeys count 0x7fffffff with no entries behind it.
    let hostile = Bytes::from_static(&[0x00, 0x00, 0x7f, 0xff, 0xff, 0xff]);
    for v in 0..=2 {
        let before = allocated();
        let err = ApiVersionsResponse::decode(&mut hostile.clone(), v).unwrap_err();
        let used = allocated() - before;
        assert!(used < 4096, "v{v}: decoder allocated {used} bytes");
        match err {
            DecodeError::LengthOutOfBounds {
                at,
                claimed,
                remaining,
                ..
            } => {
                assert_eq!((at.offset, claimed, remaining), (2, 0x7fff_ffff, 0));
                assert_eq!(at.api_key, Some(18));
                assert_eq!(at.field, "ApiVersionsResponse.ApiKeys");
            }
            other => panic!("v{v}: {other:?}"),
        }
    }
    // The compact form (v3+): count+1 = 0xffffffff as an unsigned varint.
    let hostile = Bytes::from_static(&[0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f]);
    let before = allocated();
    let err = ApiVersionsResponse::decode(&mut hostile.clone(), 3).unwrap_err();
    assert!(allocated() - before < 4096);
    assert!(
        matches!(err, DecodeError::LengthOutOfBounds { .. }),
        "{err:?}"
    );
}

/// A request frame of a tiny random message: cutting or flipping every byte costs the square
/// of its size.
#[test]
fn records_whose_batch_length_claims_i32_max_are_incomplete_without_allocating() {
    // A Produce request's records: a whole 61-byte-header batch would need 2 GiB + 11 bytes.
    let mut records = vec![0u8; 100];
    records[8..12].copy_from_slice(&i32::MAX.to_be_bytes());
    records[16] = 2; // magic
    let before = allocated();
    let strict: Vec<_> = Batches::complete(&records).collect();
    let lenient = Batches::new(&records).count();
    assert!(allocated() - before < 4096);
    assert_eq!(lenient, 0, "the lenient walk stops at the partial batch");
    assert_eq!(
        strict,
        vec![Err(RecordError::Incomplete {
            offset: 0,
            needed: i32::MAX as usize + 12,
            available: 100
        })]
    );
    assert_eq!(
        Batches::count_complete(&records),
        Err(RecordError::Incomplete {
            offset: 0,
            needed: i32::MAX as usize + 12,
            available: 100
        })
    );
}

fn request_frame(key: ApiKey, v: i16, rng: &mut Rng) -> Bytes {
    let body = RequestBody::random_sized(key, rng, v, true, Sizes::Tiny);
    let header = RequestHeader {
        request_api_key: key.key(),
        request_api_version: v,
        correlation_id: 9,
        client_id: if key.request_header_version(v) == 0 {
            Some("".into())
        } else {
            Some("c".into())
        },
        ..Default::default()
    };
    let mut out = BytesMut::new();
    encode_request_frame(&header, &body, &mut out).unwrap();
    out.freeze().slice(4..)
}

/// A response frame of a tiny random message.
fn response_frame(key: ApiKey, v: i16, rng: &mut Rng) -> Bytes {
    let body = ResponseBody::random_sized(key, rng, v, true, Sizes::Tiny);
    let mut out = BytesMut::new();
    encode_response_frame(9, &body, v, &mut out).unwrap();
    out.freeze().slice(4..)
}

#[test]
fn truncating_any_frame_at_any_byte_is_an_error_not_a_panic() {
    let mut frames = 0;
    for key in ApiKey::ALL {
        let vs = key.versions();
        for v in vs.min..=vs.max {
            for n in 0..3u64 {
                let mut rng = Rng::new(((key.key() as u64) << 32) ^ ((v as u64) << 8) ^ n);
                let req = request_frame(key, v, &mut rng);
                assert!(decode_request(&req).is_ok());
                for cut in 0..req.len() {
                    let r = decode_request(&req.slice(..cut));
                    assert!(
                        r.is_err(),
                        "{key:?} v{v} request cut at {cut} of {} decoded",
                        req.len()
                    );
                }
                let resp = response_frame(key, v, &mut rng);
                assert!(decode_response(&resp, key, v).is_ok());
                for cut in 0..resp.len() {
                    let r = decode_response(&resp.slice(..cut), key, v);
                    assert!(
                        r.is_err(),
                        "{key:?} v{v} response cut at {cut} of {} decoded",
                        resp.len()
                    );
                }
                frames += 2;
            }
        }
    }
    assert!(frames > 2000);
}

#[test]
fn flipping_any_byte_of_a_frame_never_panics() {
    let mut rng = Rng::new(99);
    for key in ApiKey::ALL {
        let vs = key.versions();
        let v = vs.max;
        let frame = request_frame(key, v, &mut rng).to_vec();
        for i in 0..frame.len() {
            let mut bad = frame.clone();
            bad[i] ^= 0xff;
            let _ = decode_request(&Bytes::from(bad));
        }
    }
}
