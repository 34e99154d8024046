//! What the crates do today, on embedded data (no Kafka, no network):
//! decodes requests captured from real clients (kcat, kafka-python, the Java client), shows
//! their headers and bodies, re-encodes them byte for byte, and shows the version tables a
//! Kafka 4.4.0 broker advertises.
//!
//! Run: `cargo run -p integration-tests --example tour`

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_request, encode_request_frame};
use kproto::versions::{advertised, served, KafkaRelease};
use kproto::ApiKey;

const CAPTURES: &[(&str, &[u8])] = &[
    (
        "kcat 1.7.1 (librdkafka 2.0.2)",
        include_bytes!("../fixtures/captures/kcat-ApiVersions-v3.bin"),
    ),
    (
        "kcat 1.7.1 (librdkafka 2.0.2)",
        include_bytes!("../fixtures/captures/kcat-Metadata-v4.bin"),
    ),
    (
        "kafka-python 3.0.12",
        include_bytes!("../fixtures/captures/kafka-python-ApiVersions-v4.bin"),
    ),
    (
        "kafka-python 3.0.12",
        include_bytes!("../fixtures/captures/kafka-python-Metadata-v13.bin"),
    ),
    (
        "Java client 4.4.0",
        include_bytes!("../fixtures/captures/java-ApiVersions-v5.bin"),
    ),
    (
        "Java client 4.4.0",
        include_bytes!("../fixtures/captures/java-Metadata-v13.bin"),
    ),
    (
        "Java client 4.4.0",
        include_bytes!("../fixtures/captures/java-InitProducerId-v5.bin"),
    ),
];

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() {
    println!("== Requests captured from real Kafka clients, decoded by kproto ==\n");
    for (client, frame) in CAPTURES {
        let frame = Bytes::from_static(frame);
        let (header, body) = decode_request(&frame).expect("captured frame decodes");
        println!(
            "{client}: {:?} v{} ({} bytes)",
            body.api_key(),
            header.request_api_version,
            frame.len()
        );
        println!("  bytes:  {}", hex(&frame));
        println!(
            "  header: correlation id {}, client id {:?}",
            header.correlation_id,
            header.client_id.as_deref().unwrap_or("<null>")
        );
        println!("  body:   {body:?}");
        let mut again = BytesMut::new();
        encode_request_frame(&header, &body, &mut again).expect("re-encodes");
        let same = again[4..] == frame[..];
        println!("  re-encoded byte-identical: {same}\n");
        assert!(same);
    }

    println!("== What a Kafka 4.4.0 broker advertises (and serves) for the produce path ==\n");
    for key in [
        ApiKey::ApiVersions,
        ApiKey::Metadata,
        ApiKey::Produce,
        ApiKey::InitProducerId,
        ApiKey::Fetch,
    ] {
        let (amin, amax) = advertised(KafkaRelease::V4_4_0, key).expect("advertised");
        let (smin, smax) = served(KafkaRelease::V4_4_0, key).expect("served");
        let known = key.versions();
        println!(
            "  {:<15} advertised {amin}-{amax}, served {smin}-{smax}; kproto knows {}-{}",
            key.name(),
            known.min,
            known.max
        );
    }
    println!("\n{} API keys known to kproto.", ApiKey::ALL.len());
}
