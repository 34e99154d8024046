//! What the crates do today, on embedded data (no Kafka, no network):
//! decodes requests captured from real clients (kcat, kafka-python, the Java client), shows
//! their headers and bodies, re-encodes them byte for byte, and shows the version tables a
//! Kafka 4.4.0 broker advertises (kproto messages); builds a record batch with every codec
//! and reads it back field by field (kproto records); appends batches to a Kafka-format
//! partition log in memory, crashes it with an unsynced torn tail, and recovers (klog).
//!
//! Run: `cargo run -p integration-tests --example tour`

use bytes::{Bytes, BytesMut};
use kproto::frame::{decode_request, encode_request_frame};
use kproto::records::{field, BatchBuilder, BatchConfig, Batches, Compression};
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

    record_batches();
    partition_log();
}

/// Builds the same three records with every codec, then reads the uncompressed batch header
/// field by field (the named byte ranges the inspector highlights) and its records.
fn record_batches() {
    println!("\n== A record batch (v2), as Kafka's Java client writes it ==\n");
    let build = |compression| {
        let mut b = BatchBuilder::new(BatchConfig {
            compression,
            ..BatchConfig::default()
        });
        for (i, v) in ["hello", "kafka", "log"].iter().enumerate() {
            let key = format!("user-{i}");
            b.try_append(
                1_700_000_000_000 + i as i64,
                Some(key.as_bytes()),
                Some(v.as_bytes()),
                &[("trace", Some(b"abc"))],
            )
            .expect("fits");
        }
        b.finish().expect("builds")
    };
    for c in Compression::ALL {
        println!("  {:<6} {} bytes", c.name(), build(c).len());
    }
    let bytes = build(Compression::None);
    let batch = Batches::new(&bytes[..])
        .next()
        .expect("one batch")
        .expect("valid");
    batch.validate().expect("CRC-32C and sizes check");
    for (name, range) in field::ALL {
        println!(
            "  {:>2}..{:<2} {name:<21} {}",
            range.start,
            range.end,
            hex(&bytes[range.clone()])
        );
    }
    let mut scratch = Vec::new();
    for r in batch.records(&mut scratch, 1 << 20).expect("records") {
        let r = r.expect("record");
        println!(
            "  {:>2}..{:<3} record offset {} timestamp {} key {:?} value {:?} headers {}",
            r.span.start + field::RECORD_COUNT.end,
            r.span.end + field::RECORD_COUNT.end,
            r.offset,
            r.timestamp,
            String::from_utf8_lossy(r.key.unwrap_or_default()),
            String::from_utf8_lossy(r.value.unwrap_or_default()),
            r.headers.len()
        );
    }
}

/// Appends to a partition log over in-memory storage with small segments, syncs part of it,
/// crashes with a torn unsynced tail, and recovers.
fn partition_log() {
    use klog::{Log, LogConfig, MemStorage};
    println!("\n== A Kafka-format partition log (klog), in memory ==\n");
    let storage = MemStorage::new();
    let cfg = LogConfig {
        segment_bytes: 4096,
        index_interval_bytes: 512,
        ..LogConfig::default()
    };
    let now = 1_700_000_000_000;
    let (mut log, _) = Log::open(storage.clone(), "orders", 0, cfg.clone(), now).expect("open");
    for i in 0..60i64 {
        let mut b = BatchBuilder::new(BatchConfig::default());
        for r in 0..5 {
            let v = format!("{{\"order\":{},\"amount\":{}}}", i * 5 + r, 10 + r);
            b.try_append(now + i, Some(b"customer-7"), Some(v.as_bytes()), &[])
                .expect("fits");
        }
        let mut batch = b.finish().expect("builds");
        log.append(&mut batch, now + i).expect("append");
        if i == 39 {
            log.flush(now + i).expect("flush");
        }
    }
    println!(
        "  appended 300 records in 60 batches: log end offset {}, recovery point {}, {} segments",
        log.log_end_offset(),
        log.recovery_point(),
        log.segment_count()
    );
    for seg in log.segments() {
        println!(
            "  {:<42} {:>5} bytes, {:>2} offset index entries, {:>2} time index entries",
            seg.log_path(),
            seg.size(),
            seg.offset_index().entries(),
            seg.time_index().entries()
        );
    }
    let synced = log.recovery_point();
    // A crash: what was synced survives; unsynced bytes are partly written (torn).
    let after_crash = storage.crash_torn(7);
    let (log, report) = Log::open(after_crash, "orders", 0, cfg, now + 100).expect("recover");
    println!(
        "  after a crash with a torn tail: log end offset {} (at least the recovery point {synced}); \
         segments {:?} re-validated, {} bytes cut",
        log.log_end_offset(),
        report.recovered_segments,
        report.truncated_bytes,
    );
    assert!(log.log_end_offset() >= synced);
}
