//! Golden bytes, annotated field by field from the Kafka protocol guide and the schemas:
//! each decodes to the expected message and re-encodes to the same bytes.

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_request, decode_response, encode_request_frame};
use kproto::messages::api_versions::response::ApiVersion;
use kproto::messages::metadata::request::MetadataRequestTopic;
use kproto::messages::{
    ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, ProduceRequest, RequestHeader,
};
use kproto::{ApiKey, Message, RequestBody, ResponseBody, Uuid};

fn reencode<M: Message>(m: &M, version: i16) -> Vec<u8> {
    let mut b = BytesMut::new();
    m.encode(&mut b, version).unwrap();
    assert_eq!(b.len(), m.encoded_len(version).unwrap());
    b.to_vec()
}

#[test]
fn api_versions_v0_request_frame() {
    #[rustfmt::skip]
    let frame: &[u8] = &[
        0x00, 0x12,             // RequestHeader v1 .RequestApiKey = 18 (ApiVersions)
        0x00, 0x00,             //   .RequestApiVersion = 0
        0x00, 0x00, 0x00, 0x01, //   .CorrelationId = 1
        0x00, 0x02, b'k', b'p', //   .ClientId: INT16 length 2, "kp" (never compact)
                                // ApiVersionsRequest v0: no fields
    ];
    let (h, body) = decode_request(&Bytes::from_static(frame)).unwrap();
    assert_eq!(
        (h.request_api_key, h.request_api_version, h.correlation_id),
        (18, 0, 1)
    );
    assert_eq!(h.client_id.as_deref(), Some("kp"));
    assert_eq!(body, RequestBody::ApiVersions(Box::default()));
    let mut out = BytesMut::new();
    encode_request_frame(&h, &body, &mut out).unwrap();
    assert_eq!(&out[4..], frame);
    assert_eq!(&out[..4], &(frame.len() as i32).to_be_bytes());
}

#[test]
fn api_versions_v3_request_frame() {
    #[rustfmt::skip]
    let frame: &[u8] = &[
        0x00, 0x12,             // RequestHeader v2 .RequestApiKey = 18
        0x00, 0x03,             //   .RequestApiVersion = 3
        0x00, 0x00, 0x00, 0x2a, //   .CorrelationId = 42
        0x00, 0x02, b'k', b'p', //   .ClientId: INT16 length even in header v2
        0x00,                   //   tagged fields: none
        0x07, b'k', b'p', b'r', b'o', b't', b'o', // .ClientSoftwareName: COMPACT_STRING, length+1 = 7
        0x06, b'0', b'.', b'1', b'.', b'0',       // .ClientSoftwareVersion: length+1 = 6, "0.1.0"
        0x00,                   // tagged fields: none
    ];
    let (h, body) = decode_request(&Bytes::from_static(frame)).unwrap();
    assert_eq!(h.correlation_id, 42);
    let RequestBody::ApiVersions(req) = &body else {
        panic!("{body:?}")
    };
    assert_eq!(req.client_software_name, "kproto");
    assert_eq!(req.client_software_version, "0.1.0");
    let mut out = BytesMut::new();
    encode_request_frame(&h, &body, &mut out).unwrap();
    assert_eq!(&out[4..], frame);
    let _ = ApiVersionsRequest::default();
}

#[test]
fn api_versions_v0_response() {
    #[rustfmt::skip]
    let frame: &[u8] = &[
        0x00, 0x00, 0x00, 0x01, // ResponseHeader v0 .CorrelationId = 1
        0x00, 0x00,             // .ErrorCode = 0
        0x00, 0x00, 0x00, 0x01, // .ApiKeys: ARRAY, INT32 count 1
        0x00, 0x00,             //   [0].ApiKey = 0 (Produce)
        0x00, 0x00,             //   [0].MinVersion = 0
        0x00, 0x0b,             //   [0].MaxVersion = 11
    ];
    let (h, body) = decode_response(&Bytes::from_static(frame), ApiKey::ApiVersions, 0).unwrap();
    assert_eq!(h.correlation_id, 1);
    let ResponseBody::ApiVersions(r) = &body else {
        panic!()
    };
    assert_eq!(r.api_keys.len(), 1);
    assert_eq!(
        (
            r.api_keys[0].api_key,
            r.api_keys[0].min_version,
            r.api_keys[0].max_version
        ),
        (0, 0, 11)
    );
    assert_eq!(reencode(&**r, 0), &frame[4..]);
}

#[test]
fn api_versions_v3_response_with_a_tagged_field() {
    #[rustfmt::skip]
    let frame: &[u8] = &[
        0x00, 0x00, 0x00, 0x01, // ResponseHeader v0 (always v0 for ApiVersions) .CorrelationId = 1
        0x00, 0x00,             // .ErrorCode = 0
        0x02,                   // .ApiKeys: COMPACT_ARRAY, count+1 = 2
        0x00, 0x00,             //   [0].ApiKey = 0
        0x00, 0x03,             //   [0].MinVersion = 3
        0x00, 0x0d,             //   [0].MaxVersion = 13
        0x00,                   //   [0] tagged fields: none
        0x00, 0x00, 0x00, 0x00, // .ThrottleTimeMs = 0
        0x01,                   // tagged fields: 1
        0x01, 0x08,             //   tag 1 (FinalizedFeaturesEpoch), size 8
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, // = 5
    ];
    let (_, body) = decode_response(&Bytes::from_static(frame), ApiKey::ApiVersions, 3).unwrap();
    let ResponseBody::ApiVersions(r) = &body else {
        panic!()
    };
    let want = ApiVersionsResponse {
        api_keys: vec![ApiVersion {
            api_key: 0,
            min_version: 3,
            max_version: 13,
            ..Default::default()
        }],
        finalized_features_epoch: 5,
        ..Default::default()
    };
    assert_eq!(**r, want);
    assert_eq!(reencode(&want, 3), &frame[4..]);
}

#[test]
fn metadata_v12_request_body() {
    #[rustfmt::skip]
    let body: &[u8] = &[
        0x02,                   // .Topics: COMPACT_NULLABLE_ARRAY, count+1 = 2
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, // [0].TopicId = zero UUID (look up by name)
        0x06, b't', b'o', b'p', b'i', b'c',             // [0].Name: COMPACT_NULLABLE_STRING "topic"
        0x00,                   //   [0] tagged fields: none
        0x01,                   // .AllowAutoTopicCreation = true
        0x00,                   // .IncludeTopicAuthorizedOperations = false (v12 has no cluster flag)
        0x00,                   // tagged fields: none
    ];
    let m = MetadataRequest::decode(&mut Bytes::from_static(body), 12).unwrap();
    let want = MetadataRequest {
        topics: Some(vec![MetadataRequestTopic {
            topic_id: Uuid::ZERO,
            name: Some("topic".into()),
            ..Default::default()
        }]),
        allow_auto_topic_creation: true,
        ..Default::default()
    };
    assert_eq!(m, want);
    assert_eq!(reencode(&want, 12), body);
    // A null topic list (all topics) is a single 0x00.
    let all = MetadataRequest {
        topics: None,
        ..want
    };
    assert_eq!(reencode(&all, 12), [0x00, 0x01, 0x00, 0x00]);
}

#[test]
fn produce_v9_request_header() {
    #[rustfmt::skip]
    let header: &[u8] = &[
        0x00, 0x00,             // .RequestApiKey = 0 (Produce)
        0x00, 0x09,             // .RequestApiVersion = 9 (first flexible version: header v2)
        0x00, 0x00, 0x00, 0x07, // .CorrelationId = 7
        0x00, 0x08, b'p', b'r', b'o', b'd', b'u', b'c', b'e', b'r', // .ClientId INT16 length 8
        0x00,                   // tagged fields: none
    ];
    assert_eq!(ApiKey::Produce.request_header_version(9), 2);
    assert_eq!(ApiKey::Produce.request_header_version(8), 1);
    let h = RequestHeader::decode(&mut Bytes::from_static(header), 2).unwrap();
    assert_eq!(
        (h.request_api_key, h.request_api_version, h.correlation_id),
        (0, 9, 7)
    );
    assert_eq!(h.client_id.as_deref(), Some("producer"));
    assert_eq!(reencode(&h, 2), header);
    // And a whole Produce v9 frame with that header round-trips.
    let body = RequestBody::Produce(Box::new(ProduceRequest {
        acks: -1,
        timeout_ms: 30000,
        ..Default::default()
    }));
    let mut out = BytesMut::new();
    encode_request_frame(&h, &body, &mut out).unwrap();
    assert_eq!(&out[4..4 + header.len()], header);
    let (_, back) = decode_request(&out.freeze().slice(4..)).unwrap();
    assert_eq!(back, body);
}

#[test]
fn field_not_in_version_is_an_error_naming_it() {
    let m = MetadataRequest {
        allow_auto_topic_creation: false,
        ..Default::default()
    };
    let err = m.encode(&mut BytesMut::new(), 3).unwrap_err();
    assert_eq!(err.to_string(), "field MetadataRequest.AllowAutoTopicCreation is not supported in version 3 but has a non-default value");
    // Ignorable fields are dropped silently, as Kafka does.
    let r = ApiVersionsResponse {
        throttle_time_ms: 100,
        ..Default::default()
    };
    assert_eq!(reencode(&r, 0), [0, 0, 0, 0, 0, 0]);
}
