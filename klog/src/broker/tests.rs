//! The broker core over MemStorage: framing, ApiVersions, closing on what Kafka closes on.

use alloc::string::ToString;
use alloc::vec::Vec;

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_response, encode_request_frame};
use kproto::messages::{ApiVersionsRequest, MetadataRequest, RequestHeader, ResponseBody};
use kproto::{ApiKey, ErrorCode, RequestBody};

use super::*;
use crate::MemStorage;

pub(crate) const NOW: i64 = 1_700_000_000_000;

/// A broker on empty storage, its opening events (the log directory's) drained.
pub(crate) fn broker() -> Broker<MemStorage> {
    let mut b = Broker::open(MemStorage::new(), BrokerConfig::default(), 42, NOW)
        .unwrap()
        .0;
    assert!(matches!(
        b.poll_event(),
        Some(BrokerEvent::LogDirOpened {
            had_clean_shutdown: false,
            partitions: 0,
            ..
        })
    ));
    assert_eq!(b.poll_event(), None);
    b
}

pub(crate) fn header(key: ApiKey, version: i16, corr: i32) -> RequestHeader {
    RequestHeader {
        request_api_key: key.key(),
        request_api_version: version,
        correlation_id: corr,
        client_id: Some("broker-tests".into()),
        ..RequestHeader::default()
    }
}

/// The request frame without its size prefix, as the adapter hands it over.
pub(crate) fn frame(h: &RequestHeader, body: &RequestBody) -> Bytes {
    let mut buf = BytesMut::new();
    encode_request_frame(h, body, &mut buf).unwrap();
    buf.freeze().slice(4..)
}

/// Sends `body` at `version` and decodes the answer (whose size prefix must be right).
pub(crate) fn call(
    b: &mut Broker<MemStorage>,
    version: i16,
    body: RequestBody,
) -> (i32, ResponseBody) {
    let key = body.api_key();
    let h = header(key, version, 7_000 + i32::from(version));
    match b.handle_frame(1, frame(&h, &body), NOW) {
        Handled::Respond(bytes) => decode_answer(&bytes, key, version),
        other => panic!("{key:?} v{version}: expected a response, got {other:?}"),
    }
}

pub(crate) fn decode_answer(bytes: &Bytes, key: ApiKey, version: i16) -> (i32, ResponseBody) {
    let size = i32::from_be_bytes(bytes[..4].try_into().unwrap());
    assert_eq!(size as usize, bytes.len() - 4, "size prefix");
    let (h, body) = decode_response(&bytes.slice(4..), key, version).unwrap();
    (h.correlation_id, body)
}

fn api_versions_request(version: i16) -> ApiVersionsRequest {
    let mut r = ApiVersionsRequest::default();
    if version >= 3 {
        r.client_software_name = "apache-kafka-java".into();
        r.client_software_version = "4.4.0".into();
    }
    r
}

#[test]
fn api_versions_every_version_lists_every_served_api() {
    let mut b = broker();
    for v in 0..=5 {
        let (corr, body) = call(
            &mut b,
            v,
            RequestBody::ApiVersions(alloc::boxed::Box::new(api_versions_request(v))),
        );
        assert_eq!(corr, 7_000 + i32::from(v));
        let ResponseBody::ApiVersions(r) = body else {
            panic!("not ApiVersions")
        };
        assert_eq!(r.error_code, ErrorCode::None.code(), "v{v}");
        assert_eq!(r.api_keys.len(), versions::SERVED_APIS.len());
        for (got, want) in r.api_keys.iter().zip(versions::SERVED_APIS) {
            assert_eq!(
                (got.api_key, got.min_version, got.max_version),
                (want.key.key(), want.advertised_min, want.max)
            );
        }
    }
    assert_eq!(b.metrics().apis[&ApiKey::ApiVersions.key()].requests, 6);
}

#[test]
fn served_ranges_are_kafka_4_4_0s() {
    use kproto::versions::{advertised, served, KafkaRelease};
    for a in versions::SERVED_APIS {
        assert_eq!(
            served(KafkaRelease::V4_4_0, a.key),
            Some((a.min, a.max)),
            "{:?}",
            a.key
        );
        assert_eq!(
            advertised(KafkaRelease::V4_4_0, a.key),
            Some((a.advertised_min, a.max)),
            "{:?}",
            a.key
        );
    }
}

#[test]
fn api_versions_unknown_version_gets_unsupported_version_in_the_v0_layout() {
    let mut b = broker();
    for v in [6i16, 127, i16::MAX, -1] {
        // a client newer than the broker: its v6 body is not decodable here (KIP-511)
        let mut raw = BytesMut::new();
        raw.extend_from_slice(&ApiKey::ApiVersions.key().to_be_bytes());
        raw.extend_from_slice(&v.to_be_bytes());
        raw.extend_from_slice(&99i32.to_be_bytes());
        raw.extend_from_slice(&[0xff, 0xff]); // null client id
        if v >= 3 {
            raw.extend_from_slice(&[0]); // header tagged fields
        }
        raw.extend_from_slice(&[7, 7, 7, 7, 7, 7]); // a future body
        let Handled::Respond(bytes) = b.handle_frame(3, raw.freeze(), NOW) else {
            panic!("v{v}: no response")
        };
        let (corr, body) = decode_answer(&bytes, ApiKey::ApiVersions, 0);
        assert_eq!(corr, 99);
        let ResponseBody::ApiVersions(r) = body else {
            panic!()
        };
        assert_eq!(r.error_code, ErrorCode::UnsupportedVersion.code());
        assert_eq!(r.api_keys.len(), 1);
        assert_eq!(
            (
                r.api_keys[0].api_key,
                r.api_keys[0].min_version,
                r.api_keys[0].max_version
            ),
            (ApiKey::ApiVersions.key(), 0, 5)
        );
    }
    let errs = &b.metrics().apis[&ApiKey::ApiVersions.key()].errors;
    assert_eq!(errs[&ErrorCode::UnsupportedVersion], 4);
}

#[test]
fn api_versions_bad_software_name_and_v5_cluster_checks() {
    let mut b = broker();
    let mut r = api_versions_request(3);
    r.client_software_name = "kafka python".into();
    let (_, body) = call(
        &mut b,
        3,
        RequestBody::ApiVersions(alloc::boxed::Box::new(r)),
    );
    let ResponseBody::ApiVersions(resp) = body else {
        panic!()
    };
    assert_eq!(resp.error_code, ErrorCode::InvalidRequest.code());
    assert!(resp.api_keys.is_empty());

    // v5: a cluster id without a node id is invalid; another cluster's id needs a rebootstrap
    let mut r = api_versions_request(5);
    r.cluster_id = Some(b.cluster_id().into());
    let (_, body) = call(
        &mut b,
        5,
        RequestBody::ApiVersions(alloc::boxed::Box::new(r.clone())),
    );
    let ResponseBody::ApiVersions(resp) = body else {
        panic!()
    };
    assert_eq!(resp.error_code, ErrorCode::InvalidRequest.code());
    r.node_id = b.config().node_id;
    let (_, body) = call(
        &mut b,
        5,
        RequestBody::ApiVersions(alloc::boxed::Box::new(r.clone())),
    );
    let ResponseBody::ApiVersions(resp) = body else {
        panic!()
    };
    assert_eq!(resp.error_code, ErrorCode::None.code());
    r.cluster_id = Some("AnotherClusterIdXXXXXX".into());
    let (_, body) = call(
        &mut b,
        5,
        RequestBody::ApiVersions(alloc::boxed::Box::new(r)),
    );
    let ResponseBody::ApiVersions(resp) = body else {
        panic!()
    };
    assert_eq!(resp.error_code, ErrorCode::RebootstrapRequired.code());
}

#[test]
fn unknown_api_key_closes_the_connection() {
    let mut b = broker();
    let mut raw = Vec::new();
    raw.extend_from_slice(&1000i16.to_be_bytes());
    raw.extend_from_slice(&0i16.to_be_bytes());
    raw.extend_from_slice(&1i32.to_be_bytes());
    raw.extend_from_slice(&[0xff, 0xff]);
    assert_eq!(
        b.handle_frame(5, Bytes::from(raw), NOW),
        Handled::Close(CloseReason::UnknownApiKey { api_key: 1000 })
    );
    assert_eq!(b.metrics().connections_closed, 1);
    assert!(matches!(
        b.poll_event(),
        Some(BrokerEvent::ConnectionClosed { conn: 5, .. })
    ));
}

#[test]
fn undecodable_frames_close_the_connection() {
    let mut b = broker();
    // shorter than a header, and an ApiVersions v3 body cut inside its client software name
    let h = header(ApiKey::ApiVersions, 3, 1);
    let whole = frame(
        &h,
        &RequestBody::ApiVersions(alloc::boxed::Box::new(api_versions_request(3))),
    );
    for cut in [0usize, 1, 3, 5, whole.len() - 3] {
        let got = b.handle_frame(1, whole.slice(..cut), NOW);
        assert!(
            matches!(got, Handled::Close(CloseReason::Undecodable { .. })),
            "cut at {cut}: {got:?}"
        );
    }
    // bytes after the body
    let mut longer = BytesMut::from(&whole[..]);
    longer.extend_from_slice(b"junk");
    assert!(matches!(
        b.handle_frame(1, longer.freeze(), NOW),
        Handled::Close(CloseReason::Undecodable {
            error: kproto::DecodeError::TrailingBytes { extra: 4, .. },
            ..
        })
    ));
}

#[test]
fn versions_below_what_is_served_close_the_connection_as_kafka_4_4_0() {
    let mut b = broker();
    // Produce v0-v2 are advertised (KAFKA-18659) but not enabled: Kafka closes the socket
    let body = RequestBody::Produce(alloc::boxed::Box::default());
    for v in 0..=2 {
        let got = b.handle_frame(1, frame(&header(ApiKey::Produce, v, 1), &body), NOW);
        assert_eq!(
            got,
            Handled::Close(CloseReason::NotEnabled {
                api_key: ApiKey::Produce,
                version: v
            })
        );
    }
    // an API this broker does not serve (a controller API)
    let got = b.handle(
        1,
        header(ApiKey::Vote, 0, 1),
        RequestBody::Vote(alloc::boxed::Box::default()),
        NOW,
    );
    assert!(matches!(
        got,
        Handled::Close(CloseReason::NotEnabled { .. })
    ));
    // a header whose key is not the body's
    let got = b.handle(
        1,
        header(ApiKey::Fetch, 4, 1),
        RequestBody::Metadata(alloc::boxed::Box::<MetadataRequest>::default()),
        NOW,
    );
    assert!(matches!(
        got,
        Handled::Close(CloseReason::Undecodable { .. })
    ));
    assert_eq!(b.metrics().connections_closed, 5);
}

#[test]
fn cluster_id_comes_from_the_seed() {
    let a = Broker::open(MemStorage::new(), BrokerConfig::default(), 7, NOW).unwrap();
    let b = Broker::open(MemStorage::new(), BrokerConfig::default(), 7, NOW).unwrap();
    let c = Broker::open(MemStorage::new(), BrokerConfig::default(), 8, NOW).unwrap();
    assert_eq!(a.1.cluster_id, b.1.cluster_id);
    assert_ne!(a.1.cluster_id, c.1.cluster_id);
    assert_eq!(a.1.cluster_id.len(), 22);
    assert!(!a.1.cluster_id.starts_with('-'));
    let _ = a.1.cluster_id.to_string();
}
