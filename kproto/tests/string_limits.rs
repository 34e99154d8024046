//! Strings are at most 32,767 UTF-8 bytes on the wire, in the classic and the compact form, as
//! Kafka's generated code enforces (MessageDataGenerator: a reader refuses a longer length with
//! "string field X had invalid length", a writer refuses a longer value with "'X' field is too
//! long to be serialized"). Bytes fields have no such limit.

use bytes::{BufMut, Bytes, BytesMut};
use kproto::frame::{decode_request, encode_request_frame};
use kproto::messages::metadata::request::MetadataRequestTopic;
use kproto::messages::{
    ApiVersionsRequest, DescribeGroupsRequest, MetadataRequest, RequestHeader,
    SaslAuthenticateRequest,
};
use kproto::{DecodeError, EncodeError, KStr, Message, RequestBody};

const MAX: usize = 32_767;

fn s(n: usize) -> KStr {
    KStr::from("x".repeat(n))
}

fn put_uvarint(b: &mut BytesMut, mut v: u32) {
    while v >= 0x80 {
        b.put_u8(v as u8 | 0x80);
        v >>= 7;
    }
    b.put_u8(v as u8);
}

#[test]
fn encoding_a_string_over_32767_bytes_is_refused_naming_the_field() {
    // Compact (flexible v3) and the longest allowed string still round-trip.
    let mut req = ApiVersionsRequest {
        client_software_name: s(MAX),
        client_software_version: "1".into(),
        ..Default::default()
    };
    let mut buf = BytesMut::new();
    req.encode(&mut buf, 3).unwrap();
    assert_eq!(buf.len(), req.encoded_len(3).unwrap());
    assert_eq!(
        ApiVersionsRequest::decode(&mut buf.freeze(), 3).unwrap(),
        req
    );

    req.client_software_name = s(MAX + 1);
    let want = EncodeError::StringTooLong {
        field: "ApiVersionsRequest.ClientSoftwareName",
        len: MAX + 1,
    };
    let mut buf = BytesMut::new();
    assert_eq!(req.encode(&mut buf, 3), Err(want.clone()));
    assert!(buf.is_empty(), "nothing is written on error");
    assert_eq!(req.encoded_len(3), Err(want.clone()));
    assert!(want
        .to_string()
        .contains("ApiVersionsRequest.ClientSoftwareName"));

    // Classic (INT16 length), in a nested struct, and a nullable string.
    for v in [1, 9, 12] {
        let req = MetadataRequest {
            topics: Some(vec![MetadataRequestTopic {
                name: Some(s(40_000)),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert_eq!(
            req.encode(&mut BytesMut::new(), v),
            Err(EncodeError::StringTooLong {
                field: "MetadataRequestTopic.Name",
                len: 40_000
            }),
            "v{v}"
        );
    }

    // A string array's element.
    let req = DescribeGroupsRequest {
        groups: vec!["g".into(), s(MAX + 1)],
        ..Default::default()
    };
    for v in [0, 5] {
        assert_eq!(
            req.encoded_len(v),
            Err(EncodeError::StringTooLong {
                field: "DescribeGroupsRequest.Groups",
                len: MAX + 1
            })
        );
    }

    // The request header's client id, through the frame encoder.
    let header = RequestHeader {
        request_api_version: 3,
        client_id: Some(s(MAX + 1)),
        ..Default::default()
    };
    let body = RequestBody::ApiVersions(Box::default());
    assert_eq!(
        encode_request_frame(&header, &body, &mut BytesMut::new()),
        Err(EncodeError::StringTooLong {
            field: "RequestHeader.ClientId",
            len: MAX + 1
        })
    );
}

#[test]
fn bytes_fields_are_not_limited() {
    let req = SaslAuthenticateRequest {
        auth_bytes: Bytes::from(vec![7u8; 100_000]),
        ..Default::default()
    };
    for v in [0, 2] {
        let mut buf = BytesMut::new();
        req.encode(&mut buf, v).unwrap();
        assert_eq!(
            SaslAuthenticateRequest::decode(&mut buf.freeze(), v).unwrap(),
            req
        );
    }
}

#[test]
fn decoding_a_string_length_over_32767_is_refused_naming_the_field() {
    // ApiVersionsRequest v3: ClientSoftwareName as a compact string of 32768 bytes.
    let mut b = BytesMut::new();
    put_uvarint(&mut b, 32_768 + 1);
    b.put_slice(&[b'a'; 32_768]);
    b.put_slice(&[2, b'1', 0]); // ClientSoftwareVersion "1", no tagged fields
    let err = ApiVersionsRequest::decode(&mut b.freeze(), 3).unwrap_err();
    match &err {
        DecodeError::StringTooLong { at, len } => {
            assert_eq!(*len, 32_768);
            assert_eq!(at.offset, 0);
            assert_eq!(at.field, "ApiVersionsRequest.ClientSoftwareName");
            assert_eq!(at.api_key, Some(18));
        }
        other => panic!("{other:?}"),
    }
    assert!(err
        .to_string()
        .contains("ApiVersionsRequest.ClientSoftwareName"));

    // Classic form (an INT16 length cannot claim more than 32767; negative is null): the
    // longest string decodes, nested in MetadataRequest v1.
    let mut b = BytesMut::new();
    b.put_i32(1);
    b.put_i16(MAX as i16);
    b.put_slice(&[b't'; MAX]);
    let m = MetadataRequest::decode(&mut b.freeze(), 1).unwrap();
    assert_eq!(m.topics.unwrap()[0].name.as_ref().unwrap().len(), MAX);

    // Compact, nested and nullable: MetadataRequest v9, topic name length 40000 with only
    // three bytes behind it: refused as too long, not as truncated.
    let mut b = BytesMut::new();
    b.put_u8(2); // one topic
    put_uvarint(&mut b, 40_000 + 1);
    b.put_slice(b"abc");
    let err = MetadataRequest::decode(&mut b.freeze(), 9).unwrap_err();
    match err {
        DecodeError::StringTooLong { at, len } => {
            assert_eq!((at.offset, len), (1, 40_000));
            assert_eq!(at.field, "MetadataRequestTopic.Name");
        }
        other => panic!("{other:?}"),
    }

    // The request header's client id (always classic) at the limit, in a whole frame.
    let mut b = BytesMut::new();
    b.put_i16(18);
    b.put_i16(3);
    b.put_i32(7);
    b.put_i16(i16::MAX); // 32767 is fine
    b.put_slice(&[b'c'; MAX]);
    b.put_u8(0); // header tags
    b.put_slice(&[1, 1, 0]); // empty name and version, no tags
    let (h, _) = decode_request(&b.clone().freeze()).unwrap();
    assert_eq!(h.client_id.unwrap().len(), MAX);
}
