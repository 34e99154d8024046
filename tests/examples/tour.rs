//! What the crates do today, on embedded data (no Kafka, no network):
//! decodes requests captured from real clients (kcat, kafka-python, the Java client), shows
//! their headers and bodies, re-encodes them byte for byte, and shows the version tables a
//! Kafka 4.4.0 broker advertises (kproto messages); builds a record batch with every codec
//! and reads it back field by field (kproto records); appends batches to a Kafka-format
//! partition log in memory, crashes it with an unsynced torn tail, and recovers (klog); starts
//! the broker (klog's core served by tokio, as `kpp serve` runs it) in-process on a temporary
//! directory and on 127.0.0.1, creates a topic, produces and fetches over TCP with kproto frames,
//! and shows what its log directory holds after a clean shutdown (klog::server).
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
    broker_over_tcp();
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

/// The broker in-process: Server::bind on 127.0.0.1:0 over a temporary log directory, then a
/// client speaking kproto frames over a plain TCP socket (CreateTopics, Produce with three
/// codecs, Fetch), then a clean shutdown and the directory's files.
fn broker_over_tcp() {
    use integration_tests::kafka::TempDir;
    use integration_tests::kpp::{call, connect, request};
    use klog::broker::BrokerConfig;
    use klog::server::Server;
    use kproto::messages::create_topics::request::CreatableTopic;
    use kproto::messages::fetch::request::{FetchPartition, FetchTopic};
    use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
    use kproto::messages::{CreateTopicsRequest, FetchRequest, ProduceRequest, ResponseBody};
    use kproto::{ErrorCode, RequestBody};

    println!("\n== The broker in-process (what `kpp serve` runs): Produce and Fetch over TCP ==\n");
    let dir = TempDir::new("tour-broker");
    let log_dir = dir.path().display().to_string();
    let (config, _) = BrokerConfig::from_pairs([
        ("listeners", "PLAINTEXT://127.0.0.1:0"),
        ("log.dirs", log_dir.as_str()),
    ])
    .expect("a valid configuration");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let server = rt
        .block_on(Server::bind(config, 7))
        .expect("the broker binds");
    let addr = server.local_addr();
    let stop = server.shutdown_handle();
    let running = rt.spawn(server.run_until(std::future::pending()));
    println!("  listening on {addr}, log directory {log_dir}");
    let mut s = connect(addr);
    let create = CreateTopicsRequest {
        topics: vec![CreatableTopic {
            name: "payments".into(),
            num_partitions: 1,
            replication_factor: 1,
            ..CreatableTopic::default()
        }],
        timeout_ms: 5000,
        ..CreateTopicsRequest::default()
    };
    let frame = request(
        ApiKey::CreateTopics,
        7,
        1,
        "tour",
        RequestBody::CreateTopics(Box::new(create)),
    );
    let (_, body) = call(&mut s, &frame, ApiKey::CreateTopics, 7);
    let ResponseBody::CreateTopics(r) = body else {
        panic!("not CreateTopics")
    };
    assert_eq!(r.topics[0].error_code, 0, "{:?}", r.topics[0].error_message);
    println!(
        "  CreateTopics v7: payments, 1 partition, topic id {}",
        r.topics[0].topic_id.to_kafka_string()
    );
    for (i, codec) in [Compression::None, Compression::Gzip, Compression::Zstd]
        .into_iter()
        .enumerate()
    {
        let mut b = BatchBuilder::new(BatchConfig {
            compression: codec,
            ..BatchConfig::default()
        });
        for r in 0..100 {
            let v = format!("{{\"payment\":{},\"cents\":{}}}", i * 100 + r, 100 + r * 3);
            b.try_append(
                1_700_000_000_000 + r as i64,
                Some(b"account-42"),
                Some(v.as_bytes()),
                &[],
            )
            .expect("fits");
        }
        let req = ProduceRequest {
            acks: -1,
            timeout_ms: 5000,
            topic_data: vec![TopicProduceData {
                name: "payments".into(),
                partition_data: vec![PartitionProduceData {
                    index: 0,
                    records: Some(Bytes::from(b.finish().expect("builds"))),
                    ..PartitionProduceData::default()
                }],
                ..TopicProduceData::default()
            }],
            ..ProduceRequest::default()
        };
        let frame = request(
            ApiKey::Produce,
            11,
            2 + i as i32,
            "tour",
            RequestBody::Produce(Box::new(req)),
        );
        let (_, body) = call(&mut s, &frame, ApiKey::Produce, 11);
        let ResponseBody::Produce(r) = body else {
            panic!("not Produce")
        };
        let p = &r.responses[0].partition_responses[0];
        assert_eq!(ErrorCode::from_code(p.error_code), Some(ErrorCode::None));
        println!(
            "  Produce v11 acks=all, 100 records {codec:?}: base offset {}",
            p.base_offset
        );
    }
    let fetch = FetchRequest {
        replica_id: -1,
        max_bytes: 1 << 20,
        min_bytes: 1,
        session_epoch: -1,
        topics: vec![FetchTopic {
            topic: "payments".into(),
            partitions: vec![FetchPartition {
                partition: 0,
                fetch_offset: 0,
                partition_max_bytes: 1 << 20,
                current_leader_epoch: -1,
                last_fetched_epoch: -1,
                log_start_offset: -1,
                ..FetchPartition::default()
            }],
            ..FetchTopic::default()
        }],
        ..FetchRequest::default()
    };
    let frame = request(
        ApiKey::Fetch,
        12,
        9,
        "tour",
        RequestBody::Fetch(Box::new(fetch)),
    );
    let (_, body) = call(&mut s, &frame, ApiKey::Fetch, 12);
    let ResponseBody::Fetch(r) = body else {
        panic!("not Fetch")
    };
    let p = &r.responses[0].partitions[0];
    let records = p.records.clone().unwrap_or_default();
    println!(
        "  Fetch v12 from offset 0: high watermark {}, {} bytes of batches:",
        p.high_watermark,
        records.len()
    );
    let mut scratch = Vec::new();
    for batch in Batches::new(&records) {
        let batch = batch.expect("a whole batch");
        batch.validate().expect("its CRC checks");
        let first = batch
            .records(&mut scratch, kproto::records::DEFAULT_MAX_UNCOMPRESSED)
            .expect("records")
            .next()
            .expect("one record")
            .expect("decodes");
        println!(
            "    offsets {}..={} {}: first value {}",
            batch.base_offset(),
            batch.last_offset(),
            batch
                .attributes()
                .compression()
                .map_or_else(|| "an unknown codec".to_string(), |c| format!("{c:?}")),
            String::from_utf8_lossy(first.value.unwrap_or_default())
        );
    }
    drop(s);
    stop.shutdown();
    rt.block_on(running)
        .expect("the server task")
        .expect("a clean shutdown");
    let mut files: Vec<String> = Vec::new();
    for e in std::fs::read_dir(dir.path()).expect("the log directory") {
        let e = e.expect("an entry");
        let name = e.file_name().to_string_lossy().into_owned();
        if e.path().is_dir() {
            for f in std::fs::read_dir(e.path()).expect("a partition directory") {
                let f = f.expect("an entry");
                files.push(format!(
                    "{name}/{} ({} bytes)",
                    f.file_name().to_string_lossy(),
                    f.metadata().map_or(0, |m| m.len())
                ));
            }
        } else {
            files.push(name);
        }
    }
    files.sort();
    println!("  after a clean shutdown the log directory holds (Kafka's layout):");
    for f in &files {
        println!("    {f}");
    }
    let rp = std::fs::read_to_string(dir.path().join("recovery-point-offset-checkpoint"))
        .expect("the checkpoint");
    println!("  recovery-point-offset-checkpoint: {:?}", rp);
    assert!(files.iter().any(|f| f == ".kafka_cleanshutdown"));
}
