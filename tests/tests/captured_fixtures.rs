//! The committed captures (tests/fixtures/captures, recorded by client_captures.rs with
//! KPP_SAVE_CAPTURES from kcat 1.7.1, kafka-python 3.0.12 and the Java client 4.4.0) decode to
//! the expected requests and re-encode byte for byte, Produce requests with real compressed
//! record batches included.

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_request, encode_request_frame};
use kproto::records::{Batches, Compression, DEFAULT_MAX_UNCOMPRESSED};
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
    for (name, frame) in [
        (
            "kcat",
            &include_bytes!("../fixtures/captures/kcat-InitProducerId-v4.bin")[..],
        ),
        (
            "kafka-python",
            include_bytes!("../fixtures/captures/kafka-python-InitProducerId-v4.bin"),
        ),
    ] {
        let RequestBody::InitProducerId(p) = roundtrip(name, frame) else {
            panic!("{name}")
        };
        assert_eq!((p.transactional_id, p.producer_id), (None, -1), "{name}");
    }
}

#[test]
fn captured_produce_requests_round_trip_with_their_record_batches() {
    for (name, frame, version, codec) in [
        (
            "kcat",
            &include_bytes!("../fixtures/captures/kcat-Produce-v7.bin")[..],
            7,
            Compression::Snappy,
        ),
        (
            "kafka-python",
            include_bytes!("../fixtures/captures/kafka-python-Produce-v9.bin"),
            9,
            Compression::Zstd,
        ),
        (
            "java",
            include_bytes!("../fixtures/captures/java-Produce-v13.bin"),
            13,
            Compression::Lz4,
        ),
    ] {
        let RequestBody::Produce(p) = roundtrip(name, frame) else {
            panic!("{name}: not a Produce request")
        };
        assert_eq!(i16::from_be_bytes([frame[2], frame[3]]), version, "{name}");
        assert_eq!(p.acks, -1, "{name}: acks=all");
        assert_eq!(p.topic_data.len(), 1, "{name}");
        let part = &p.topic_data[0].partition_data;
        assert_eq!(part.len(), 1, "{name}");
        let records = part[0].records.as_deref().expect("records");
        let mut batches = Batches::new(records);
        let mut n = 0;
        let mut scratch = Vec::new();
        for batch in &mut batches {
            let batch = batch.unwrap_or_else(|e| panic!("{name}: {e}"));
            batch.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(batch.compression().unwrap(), codec, "{name}");
            assert_eq!(
                (batch.producer_id(), batch.producer_epoch()),
                (4000, 0),
                "{name}"
            );
            assert_eq!(batch.base_sequence(), 0, "{name}");
            for r in batch
                .records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED)
                .unwrap()
            {
                let r = r.unwrap_or_else(|e| panic!("{name}: {e}"));
                // What client_captures.rs gave the client: key "key-I", a value of
                // 500 + (I * 97) % 2500 bytes starting "record-I:".
                let i = n;
                assert_eq!(r.key, Some(format!("key-{i}").as_bytes()), "{name}");
                let v = r.value.unwrap();
                assert_eq!(v.len(), 500 + (i * 97) % 2500, "{name} record {i}");
                assert!(v.starts_with(format!("record-{i}:").as_bytes()), "{name}");
                n += 1;
            }
        }
        assert!(batches.remainder().is_empty(), "{name}");
        assert_eq!(n, 40, "{name}: records");
    }
}
