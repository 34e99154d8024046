//! FindCoordinator: COORDINATOR_NOT_AVAILABLE for every key until coordinators exist.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use kproto::messages::{FindCoordinatorRequest, ResponseBody};
use kproto::{ApiKey, ErrorCode, KStr, RequestBody};

use super::tests::{broker, call};

fn find(
    b: &mut super::Broker<crate::MemStorage>,
    version: i16,
    req: FindCoordinatorRequest,
) -> kproto::messages::FindCoordinatorResponse {
    match call(b, version, RequestBody::FindCoordinator(Box::new(req))).1 {
        ResponseBody::FindCoordinator(r) => *r,
        other => panic!("not FindCoordinator: {other:?}"),
    }
}

/// A group id of `len` bytes, unique by `i` (multi-byte UTF-8 so lengths are not char counts).
fn key(i: usize, len: usize) -> KStr {
    let mut s = format!("group-{i}-é");
    while s.len() < len {
        s.push('ø');
    }
    KStr::from(s)
}

#[test]
fn versions_0_to_3_answer_the_single_key_at_the_top_level() {
    let mut b = broker();
    for v in 0..=3i16 {
        for key_type in [0i8, 1] {
            if v == 0 && key_type == 1 {
                continue; // v0 has no key type
            }
            let req = FindCoordinatorRequest {
                key: key(usize::from(v as u8), 2_000),
                key_type,
                ..FindCoordinatorRequest::default()
            };
            let r = find(&mut b, v, req);
            assert_eq!(
                r.error_code,
                ErrorCode::CoordinatorNotAvailable.code(),
                "v{v}"
            );
            assert_eq!((r.node_id, r.port), (-1, -1), "v{v}");
            assert_eq!(r.host, "", "v{v}");
            if v >= 1 {
                let message = r.error_message.as_deref();
                assert_eq!(message, Some("The coordinator is not available."), "v{v}");
            }
            assert!(r.coordinators.is_empty());
        }
    }
}

#[test]
fn versions_4_to_6_answer_each_of_hundreds_of_keys() {
    let mut b = broker();
    for v in 4..=6i16 {
        let keys: Vec<KStr> = (0..400).map(|i| key(i, 100 + (i % 7) * 300)).collect();
        let req = FindCoordinatorRequest {
            key_type: 0,
            coordinator_keys: keys.clone(),
            ..FindCoordinatorRequest::default()
        };
        let r = find(&mut b, v, req);
        assert_eq!(
            r.error_code, 0,
            "v{v}: the top level carries no error from v4"
        );
        let got: Vec<&str> = r.coordinators.iter().map(|c| c.key.as_ref()).collect();
        let want: Vec<&str> = keys.iter().map(|k| k.as_ref()).collect();
        assert_eq!(got, want, "v{v}: every key answered, in order");
        for c in &r.coordinators {
            assert_eq!(c.error_code, ErrorCode::CoordinatorNotAvailable.code());
            assert_eq!((c.node_id, c.port), (-1, -1));
        }
    }
    let errors = &b.metrics().apis[&ApiKey::FindCoordinator.key()].errors;
    assert_eq!(errors[&ErrorCode::CoordinatorNotAvailable], 1_200);
}

#[test]
fn an_unknown_key_type_is_invalid_request_and_share_needs_v6() {
    let mut b = broker();
    let cases: [(i16, i8, ErrorCode); 5] = [
        (3, 2, ErrorCode::InvalidRequest),
        (5, 2, ErrorCode::InvalidRequest),
        (6, 2, ErrorCode::CoordinatorNotAvailable),
        (6, 3, ErrorCode::InvalidRequest),
        (2, -1, ErrorCode::InvalidRequest),
    ];
    for (v, key_type, want) in cases {
        let k = KStr::from(String::from("g:AAAAAAAAAAAAAAAAAAAAAA:0"));
        let req = if v < 4 {
            FindCoordinatorRequest {
                key: k,
                key_type,
                ..FindCoordinatorRequest::default()
            }
        } else {
            FindCoordinatorRequest {
                key_type,
                coordinator_keys: alloc::vec![k],
                ..FindCoordinatorRequest::default()
            }
        };
        let r = find(&mut b, v, req);
        let got = if v < 4 {
            r.error_code
        } else {
            r.coordinators[0].error_code
        };
        assert_eq!(got, want.code(), "v{v} key type {key_type}");
    }
}

#[test]
fn api_versions_advertises_find_coordinator_0_to_6() {
    let mut b = broker();
    let req = kproto::messages::ApiVersionsRequest::default();
    let ResponseBody::ApiVersions(r) = call(&mut b, 0, RequestBody::ApiVersions(Box::new(req))).1
    else {
        panic!("not ApiVersions")
    };
    let fc = r
        .api_keys
        .iter()
        .find(|k| k.api_key == ApiKey::FindCoordinator.key())
        .expect("FindCoordinator advertised");
    assert_eq!((fc.min_version, fc.max_version), (0, 6));
}
