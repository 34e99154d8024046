//! Frames decoded to a field tree: requests and responses matched by correlation id, each
//! response decoded with its request's API key and version, record sets listed as batches.

use bytes::{Bytes, BytesMut};
use kproto::frame::{encode_request_frame, encode_response_frame};
use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
use kproto::messages::produce::response::{PartitionProduceResponse, TopicProduceResponse};
use kproto::messages::{
    ApiVersionsRequest, MetadataRequest, ProduceRequest, ProduceResponse, RequestHeader,
};
use kproto::records::{BatchBuilder, BatchConfig, Compression};
use kproto::{ApiKey, RequestBody, ResponseBody};
use web::frames::{decode_stream, Direction};

fn header(key: ApiKey, version: i16, id: i32) -> RequestHeader {
    RequestHeader {
        request_api_key: key.key(),
        request_api_version: version,
        correlation_id: id,
        client_id: Some("inspector-test".into()),
        ..Default::default()
    }
}

fn records(n: usize, codec: Compression) -> Bytes {
    let mut out = Vec::new();
    for b in 0..3 {
        let mut bb = BatchBuilder::new(BatchConfig {
            compression: codec,
            write_limit: 1 << 24,
            ..BatchConfig::default()
        });
        for i in 0..n {
            let v = format!(
                "{{\"batch\":{b},\"i\":{i},\"pad\":\"{}\"}}",
                "x".repeat(1000)
            );
            bb.try_append(1_700_000_000_000 + i as i64, None, Some(v.as_bytes()), &[])
                .unwrap();
        }
        out.extend(bb.finish().unwrap());
    }
    out.into()
}

#[test]
fn requests_and_interleaved_responses_are_paired_and_decoded_with_the_request_version() {
    let mut s = BytesMut::new();
    let produce = ProduceRequest {
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: "orders".into(),
            partition_data: (0..2)
                .map(|p| PartitionProduceData {
                    index: p,
                    records: Some(records(200, Compression::Zstd)),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }],
        ..Default::default()
    };
    encode_request_frame(
        &header(ApiKey::Produce, 9, 7),
        &RequestBody::Produce(Box::new(produce)),
        &mut s,
    )
    .unwrap();
    encode_request_frame(
        &header(ApiKey::ApiVersions, 3, 8),
        &RequestBody::ApiVersions(Box::<ApiVersionsRequest>::default()),
        &mut s,
    )
    .unwrap();
    encode_request_frame(
        &header(ApiKey::Metadata, 12, 9),
        &RequestBody::Metadata(Box::<MetadataRequest>::default()),
        &mut s,
    )
    .unwrap();
    // Responses out of order: ApiVersions first, then Produce.
    encode_response_frame(8, &ResponseBody::ApiVersions(Box::default()), 3, &mut s).unwrap();
    let resp = ProduceResponse {
        responses: vec![TopicProduceResponse {
            name: "orders".into(),
            partition_responses: vec![PartitionProduceResponse {
                index: 0,
                base_offset: 4242,
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    encode_response_frame(7, &ResponseBody::Produce(Box::new(resp)), 9, &mut s).unwrap();
    // A response nobody asked for (its correlation id reads as Produce v99), then a partial
    // frame.
    encode_response_frame(99, &ResponseBody::ApiVersions(Box::default()), 3, &mut s).unwrap();
    let whole = s.len();
    s.extend_from_slice(&[0, 0, 0, 50, 1, 2]);
    let r = decode_stream("raw.bin", &s);
    let got: Vec<_> = r
        .frames
        .iter()
        .map(|f| {
            (
                f.direction,
                f.api_name,
                f.api_version,
                f.correlation_id,
                f.pair,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                Direction::Request,
                Some("Produce"),
                Some(9),
                Some(7),
                Some(4)
            ),
            (
                Direction::Request,
                Some("ApiVersions"),
                Some(3),
                Some(8),
                Some(3)
            ),
            (
                Direction::Request,
                Some("Metadata"),
                Some(12),
                Some(9),
                None
            ),
            (
                Direction::Response,
                Some("ApiVersions"),
                Some(3),
                Some(8),
                Some(1)
            ),
            (
                Direction::Response,
                Some("Produce"),
                Some(9),
                Some(7),
                Some(0)
            ),
            (
                Direction::Unknown,
                Some("Produce"),
                Some(99),
                Some(99),
                None
            ),
        ]
    );
    assert!(
        r.frames[5]
            .error
            .as_ref()
            .unwrap()
            .contains("not a request"),
        "{:?}",
        r.frames[5].error
    );
    assert_eq!(r.frames[0].client_id.as_deref(), Some("inspector-test"));
    // The Produce body's field tree in Kafka's JSON form, records replaced by record sets.
    let tree = r.frames[0].body.as_ref().unwrap();
    // Fields in Kafka's schema order (as Kafka's JsonConverter writes them).
    assert_eq!(
        tree.keys(),
        ["transactionalId", "acks", "timeoutMs", "topicData"]
    );
    let body = serde_json::to_value(tree).unwrap();
    assert_eq!(body["acks"], -1);
    assert_eq!(body["topicData"][0]["name"], "orders");
    assert_eq!(
        body["topicData"][0]["partitionData"][1]["records"]["recordSet"],
        1
    );
    let sets = &r.frames[0].record_sets;
    assert_eq!(sets.len(), 2);
    assert_eq!(sets[1].path, "topicData[0].partitionData[1].records");
    assert_eq!(sets[1].batches.len(), 3);
    assert!(sets[1]
        .batches
        .iter()
        .all(|b| b.crc_ok && b.count == 200 && b.compression == "zstd"));
    let resp = serde_json::to_value(r.frames[4].body.as_ref().unwrap()).unwrap();
    assert_eq!(
        resp["responses"][0]["partitionResponses"][0]["baseOffset"],
        4242
    );
    assert_eq!(r.problems.len(), 1);
    assert_eq!(
        (r.problems[0].kind, r.problems[0].offset),
        ("tail", whole as u64)
    );
}
