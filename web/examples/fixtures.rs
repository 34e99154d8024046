//! Writes the inspector's end-to-end fixtures into a directory (default `web/e2e/fixtures`):
//! `orders-0/`, a partition written by klog (every codec, idempotent and transactional
//! producers, a 1.5 MB value, several segments with indexes); `corrupt-0/`, its first segment
//! with one batch in the middle corrupted (a flipped bit under the CRC); `frames.bin`, a raw
//! stream of request and response frames; `capture.pcap`, the same conversation as TCP
//! packets; and `manifest.json`, what was written, for the test
//! to compare the page's tables with.

#[path = "../tests/fixture/mod.rs"]
mod fixture;

use bytes::BytesMut;
use fixture::pcap::{v4, Capture, Link};
use kproto::frame::{encode_request_frame, encode_response_frame};
use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
use kproto::messages::{ApiVersionsRequest, MetadataRequest, ProduceRequest, RequestHeader};
use kproto::records::Batches;
use kproto::{ApiKey, RequestBody, ResponseBody};
use serde_json::json;
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/e2e/fixtures").into()),
    );
    let f = fixture::klog_partition();
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(out.join("orders-0"))?;
    std::fs::create_dir_all(out.join("corrupt-0"))?;
    let mut segments = Vec::new();
    let logs: Vec<_> = f
        .files
        .iter()
        .filter(|(n, _)| n.ends_with(".log"))
        .collect();
    for (k, (name, _)) in logs.iter().enumerate() {
        let base: i64 = name[..20].parse()?;
        let next = logs
            .get(k + 1)
            .map(|(n, _)| n[..20].parse::<i64>())
            .transpose()?;
        let batches: Vec<_> = f
            .batches_in(base, next)
            .iter()
            .map(|b| {
                json!({
                    "baseOffset": b.base_offset, "lastOffset": b.last_offset, "count": b.count,
                    "crc": b.crc, "compression": b.compression, "producerId": b.producer_id,
                })
            })
            .collect();
        segments.push(json!({ "file": format!("orders-0/{name}"), "batches": batches }));
    }
    for (name, data) in &f.files {
        std::fs::write(out.join("orders-0").join(name), data)?;
    }
    // The first segment with a bit flipped in the last record of its middle batch.
    let (name, data) = logs[0];
    let positions: Vec<(usize, usize)> = {
        let mut walk = Batches::new(data);
        let mut v = Vec::new();
        for b in walk.by_ref() {
            let b = b?;
            v.push((b.position(), b.size()));
        }
        v
    };
    let mid = positions.len() / 2;
    let (pos, size) = positions[mid];
    let mut bad = data.clone();
    bad[pos + size - 2] ^= 0x08;
    let stem = &name[..20];
    std::fs::write(out.join("corrupt-0").join(name), &bad)?;
    for suffix in [".index", ".timeindex"] {
        let (_, idx) = f
            .files
            .iter()
            .find(|(n, _)| n == &format!("{stem}{suffix}"))
            .ok_or("index")?;
        std::fs::write(out.join("corrupt-0").join(format!("{stem}{suffix}")), idx)?;
    }
    // A raw frame stream: ApiVersions, Metadata and Produce requests, and their responses, in
    // the order they were "sent"; and the same conversation as a capture (see below).
    let header = |key: ApiKey, version, id| RequestHeader {
        request_api_key: key.key(),
        request_api_version: version,
        correlation_id: id,
        client_id: Some("e2e-client".into()),
        ..Default::default()
    };
    let records = &data[positions[0].0..positions[2].0];
    let produce = ProduceRequest {
        acks: -1,
        timeout_ms: 30_000,
        topic_data: vec![TopicProduceData {
            name: "orders".into(),
            partition_data: vec![PartitionProduceData {
                index: 0,
                records: Some(bytes::Bytes::copy_from_slice(records)),
                ..Default::default()
            }],
            ..Default::default()
        }],
        ..Default::default()
    };
    let mut talk: Vec<(bool, BytesMut)> = (0..6)
        .map(|k| (matches!(k, 0 | 2 | 3), BytesMut::new()))
        .collect();
    encode_request_frame(
        &header(ApiKey::ApiVersions, 3, 1),
        &RequestBody::ApiVersions(Box::<ApiVersionsRequest>::default()),
        &mut talk[0].1,
    )?;
    encode_response_frame(
        1,
        &ResponseBody::ApiVersions(Box::default()),
        3,
        &mut talk[1].1,
    )?;
    encode_request_frame(
        &header(ApiKey::Metadata, 12, 2),
        &RequestBody::Metadata(Box::<MetadataRequest>::default()),
        &mut talk[2].1,
    )?;
    encode_request_frame(
        &header(ApiKey::Produce, 11, 3),
        &RequestBody::Produce(Box::new(produce)),
        &mut talk[3].1,
    )?;
    encode_response_frame(
        2,
        &ResponseBody::Metadata(Box::default()),
        12,
        &mut talk[4].1,
    )?;
    encode_response_frame(
        3,
        &ResponseBody::Produce(Box::default()),
        11,
        &mut talk[5].1,
    )?;
    let s: Vec<u8> = talk.iter().flat_map(|(_, f)| f.to_vec()).collect();
    // The capture: Ethernet + IPv4 as `tcpdump -i lo` writes, a handshake, the conversation in
    // 1000-byte segments with one of them retransmitted, and an HTTP connection beside it.
    let mut cap = Capture::new(Link::EthernetV4);
    let (mut c, mut b) = (v4(1, 51_000, 7), v4(2, 29_092, 70_000));
    cap.packet(&c, &b, c.seq, 1, &[]);
    c.seq += 1;
    cap.packet(&b, &c, b.seq, 2, &[]);
    b.seq += 1;
    for (k, (request, f)) in talk.iter().enumerate() {
        let (from, to) = if *request { (&mut c, &b) } else { (&mut b, &c) };
        if k == 3 {
            cap.packet(from, to, from.seq, 0, &f[..1000]);
        }
        cap.send(from, to, f, 1000);
    }
    let (mut h, hs) = (v4(1, 51_001, 5), v4(3, 8080, 6));
    cap.packet(&h, &hs, h.seq, 1, &[]);
    h.seq += 1;
    cap.send(
        &mut h,
        &hs,
        b"GET /metrics HTTP/1.1\r\nHost: broker\r\n\r\n",
        1000,
    );
    std::fs::write(out.join("capture.pcap"), cap.pcap())?;
    std::fs::write(out.join("frames.bin"), &s)?;
    let manifest = json!({
        "segments": segments,
        "corrupt": { "file": format!("corrupt-0/{name}"), "batch": mid, "position": pos, "batches": positions.len() },
        "bigBatch": fixture::BIG_BATCH,
        "frames": [
            ["request", "ApiVersions", 3, 1], ["response", "ApiVersions", 3, 1],
            ["request", "Metadata", 12, 2], ["request", "Produce", 11, 3],
            ["response", "Metadata", 12, 2], ["response", "Produce", 11, 3]
        ],
    });
    std::fs::write(
        out.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    println!("fixtures written to {}", out.display());
    Ok(())
}
