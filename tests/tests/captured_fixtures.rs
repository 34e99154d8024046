//! The committed captures (tests/fixtures/captures, recorded by client_captures.rs with
//! KPP_SAVE_CAPTURES from kcat 1.7.1, kafka-python 3.0.12 and the Java client 4.4.0) decode to
//! the expected requests and re-encode byte for byte.

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_request, encode_request_frame};
use kproto::RequestBody;

fn roundtrip(name: &str, frame: &'static [u8]) -> RequestBody {
    let frame = Bytes::from_static(frame);
    let (header, body) = decode_request(&frame).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut out = BytesMut::new();
    encode_request_frame(&header, &body, &mut out).unwrap();
    assert_eq!(&out[4..], &frame[..], "{name}");
    body
}

#[test]
fn captured_client_requests_round_trip() {
    let RequestBody::ApiVersions(a) = roundtrip(
        "kcat",
        include_bytes!("../fixtures/captures/kcat-ApiVersions-v3.bin"),
    ) else {
        panic!()
    };
    assert_eq!(
        (
            a.client_software_name.as_str(),
            a.client_software_version.as_str()
        ),
        ("librdkafka", "2.0.2")
    );
    let RequestBody::ApiVersions(a) = roundtrip(
        "java",
        include_bytes!("../fixtures/captures/java-ApiVersions-v5.bin"),
    ) else {
        panic!()
    };
    assert_eq!(
        (
            a.client_software_name.as_str(),
            a.client_software_version.as_str()
        ),
        ("apache-kafka-java", "4.4.0")
    );
    let RequestBody::ApiVersions(a) = roundtrip(
        "kafka-python",
        include_bytes!("../fixtures/captures/kafka-python-ApiVersions-v4.bin"),
    ) else {
        panic!()
    };
    assert_eq!(
        (
            a.client_software_name.as_str(),
            a.client_software_version.as_str()
        ),
        ("kafka-python", "3.0.12")
    );
    for (name, frame) in [
        (
            "kcat",
            &include_bytes!("../fixtures/captures/kcat-Metadata-v4.bin")[..],
        ),
        (
            "java",
            include_bytes!("../fixtures/captures/java-Metadata-v13.bin"),
        ),
        (
            "kafka-python",
            include_bytes!("../fixtures/captures/kafka-python-Metadata-v13.bin"),
        ),
    ] {
        assert!(
            matches!(roundtrip(name, frame), RequestBody::Metadata(_)),
            "{name}"
        );
    }
    let RequestBody::InitProducerId(p) = roundtrip(
        "java",
        include_bytes!("../fixtures/captures/java-InitProducerId-v5.bin"),
    ) else {
        panic!()
    };
    assert_eq!(
        (p.transactional_id, p.transaction_timeout_ms, p.producer_id),
        (None, i32::MAX, -1)
    );
}
