//! Message encode and decode throughput: kproto's generated messages beside kafka-protocol 0.18's
//! in the same run, each pair built from the same data and checked, outside the timed loops, to
//! encode to identical bytes (so both sides do equal work).
//!
//! - Metadata response v12: 10 topics x 100 partitions (1,000), 3 brokers, replicas and ISR of 3.
//! - Produce request v9: 2 topics x 5 partitions, each with a 16 KiB records blob (opaque bytes;
//!   v9-v12 requests are the same on the wire, which is asserted).
//!
//! Decode is from the same bytes (a clone of one `Bytes`), and includes dropping the message.
//! Encode is `encoded_len` + `encode` into a `BytesMut` reserved once and cleared each iteration.
//! Throughput is bytes of the encoded message per second.
//! `cargo bench -p kbench --bench messages`; the ratios are printed at the end.

use bytes::{Bytes, BytesMut};
use criterion::{black_box, BenchmarkId, Criterion, Throughput};
use kafka_protocol::messages as kp;
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kproto::messages::metadata::response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kproto::messages::produce::request::{PartitionProduceData, TopicProduceData};
use kproto::messages::{Message, MetadataResponse, ProduceRequest};
use kproto::rng::Rng;
use kproto::{KStr, Uuid};
use std::time::Duration;

const METADATA_VERSION: i16 = 12;
const PRODUCE_VERSION: i16 = 9;
const RECORDS_BLOB: usize = 16 << 10;

// ---------------------------------------------------------------------------------------------
// The data both sides are built from.

struct Broker {
    id: i32,
    host: String,
    port: i32,
    rack: String,
}

struct Partition {
    index: i32,
    leader: i32,
    leader_epoch: i32,
    replicas: Vec<i32>,
    isr: Vec<i32>,
}

struct Topic {
    name: String,
    id: [u8; 16],
    partitions: Vec<Partition>,
}

struct Metadata {
    cluster_id: String,
    controller_id: i32,
    brokers: Vec<Broker>,
    topics: Vec<Topic>,
}

fn metadata_data() -> Metadata {
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
    let names = [
        "orders.eu-west-1.v2",
        "payments.authorizations",
        "inventory-stock-levels",
        "user-events.clickstream",
        "shipping.label-requests",
        "fraud-scoring.results",
        "search-index.updates",
        "notifications.email-outbox",
        "ledger.postings.v3",
        "__consumer_offsets",
    ];
    let brokers = (0..3)
        .map(|id| Broker {
            id,
            host: format!("kafka-{id}.kafka-headless.streaming.svc.cluster.local"),
            port: 9092,
            rack: format!("eu-west-1{}", ['a', 'b', 'c'][id as usize]),
        })
        .collect();
    let topics = names
        .iter()
        .map(|name| {
            let mut id = [0u8; 16];
            id[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
            id[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
            let partitions = (0..100)
                .map(|p| {
                    let leader = p % 3;
                    let replicas: Vec<i32> = (0..3).map(|k| (leader + k) % 3).collect();
                    // One partition in ten has a replica out of sync.
                    let isr = if p % 10 == 7 {
                        replicas[..2].to_vec()
                    } else {
                        replicas.clone()
                    };
                    Partition {
                        index: p,
                        leader,
                        leader_epoch: (rng.next_u64() % 40) as i32,
                        replicas,
                        isr,
                    }
                })
                .collect();
            Topic {
                name: (*name).to_owned(),
                id,
                partitions,
            }
        })
        .collect();
    Metadata {
        cluster_id: "MkU3OEVBNTcwNTJENDM2Qk".to_owned(),
        controller_id: 1,
        brokers,
        topics,
    }
}

fn kproto_metadata(d: &Metadata) -> MetadataResponse {
    MetadataResponse {
        throttle_time_ms: 0,
        brokers: d
            .brokers
            .iter()
            .map(|b| MetadataResponseBroker {
                node_id: b.id,
                host: KStr::from(b.host.as_str()),
                port: b.port,
                rack: Some(KStr::from(b.rack.as_str())),
                ..Default::default()
            })
            .collect(),
        cluster_id: Some(KStr::from(d.cluster_id.as_str())),
        controller_id: d.controller_id,
        topics: d
            .topics
            .iter()
            .map(|t| MetadataResponseTopic {
                error_code: 0,
                name: Some(KStr::from(t.name.as_str())),
                topic_id: Uuid(t.id),
                is_internal: t.name.starts_with("__"),
                partitions: t
                    .partitions
                    .iter()
                    .map(|p| MetadataResponsePartition {
                        error_code: 0,
                        partition_index: p.index,
                        leader_id: p.leader,
                        leader_epoch: p.leader_epoch,
                        replica_nodes: p.replicas.clone(),
                        isr_nodes: p.isr.clone(),
                        offline_replicas: Vec::new(),
                        ..Default::default()
                    })
                    .collect(),
                topic_authorized_operations: i32::MIN,
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn kp_metadata(d: &Metadata) -> kp::MetadataResponse {
    use kp::metadata_response::{
        MetadataResponseBroker as Broker, MetadataResponsePartition as Partition,
        MetadataResponseTopic as Topic,
    };
    let str = |s: &str| StrBytes::from_string(s.to_owned());
    let ids = |v: &[i32]| v.iter().map(|&n| kp::BrokerId(n)).collect::<Vec<_>>();
    kp::MetadataResponse::default()
        .with_throttle_time_ms(0)
        .with_brokers(
            d.brokers
                .iter()
                .map(|b| {
                    Broker::default()
                        .with_node_id(kp::BrokerId(b.id))
                        .with_host(str(&b.host))
                        .with_port(b.port)
                        .with_rack(Some(str(&b.rack)))
                })
                .collect(),
        )
        .with_cluster_id(Some(str(&d.cluster_id)))
        .with_controller_id(kp::BrokerId(d.controller_id))
        .with_topics(
            d.topics
                .iter()
                .map(|t| {
                    Topic::default()
                        .with_error_code(0)
                        .with_name(Some(kp::TopicName(str(&t.name))))
                        // kafka-protocol's Uuid is uuid::Uuid, which this crate does not name.
                        .with_topic_id(t.id.to_vec().try_into().unwrap())
                        .with_is_internal(t.name.starts_with("__"))
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    Partition::default()
                                        .with_error_code(0)
                                        .with_partition_index(p.index)
                                        .with_leader_id(kp::BrokerId(p.leader))
                                        .with_leader_epoch(p.leader_epoch)
                                        .with_replica_nodes(ids(&p.replicas))
                                        .with_isr_nodes(ids(&p.isr))
                                        .with_offline_replicas(Vec::new())
                                })
                                .collect(),
                        )
                        .with_topic_authorized_operations(i32::MIN)
                })
                .collect(),
        )
}

struct Produce {
    acks: i16,
    timeout_ms: i32,
    topics: Vec<(String, Vec<(i32, Bytes)>)>,
}

fn produce_data() -> Produce {
    let mut rng = Rng::new(0x9e37_79b9_7f4a_7c15);
    let topics = ["orders.eu-west-1.v2", "user-events.clickstream"]
        .iter()
        .map(|name| {
            let parts = (0..5)
                .map(|p| {
                    let blob: Vec<u8> = (0..RECORDS_BLOB / 8)
                        .flat_map(|_| rng.next_u64().to_be_bytes())
                        .collect();
                    (p, Bytes::from(blob))
                })
                .collect();
            ((*name).to_owned(), parts)
        })
        .collect();
    Produce {
        acks: -1,
        timeout_ms: 30_000,
        topics,
    }
}

fn kproto_produce(d: &Produce) -> ProduceRequest {
    ProduceRequest {
        transactional_id: None,
        acks: d.acks,
        timeout_ms: d.timeout_ms,
        topic_data: d
            .topics
            .iter()
            .map(|(name, parts)| TopicProduceData {
                name: KStr::from(name.as_str()),
                partition_data: parts
                    .iter()
                    .map(|(index, records)| PartitionProduceData {
                        index: *index,
                        records: Some(records.clone()),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    }
}

fn kp_produce(d: &Produce) -> kp::ProduceRequest {
    use kp::produce_request::{PartitionProduceData, TopicProduceData};
    kp::ProduceRequest::default()
        .with_transactional_id(None)
        .with_acks(d.acks)
        .with_timeout_ms(d.timeout_ms)
        .with_topic_data(
            d.topics
                .iter()
                .map(|(name, parts)| {
                    TopicProduceData::default()
                        .with_name(kp::TopicName(StrBytes::from_string(name.clone())))
                        .with_partition_data(
                            parts
                                .iter()
                                .map(|(index, records)| {
                                    PartitionProduceData::default()
                                        .with_index(*index)
                                        .with_records(Some(records.clone()))
                                })
                                .collect(),
                        )
                })
                .collect(),
        )
}

// ---------------------------------------------------------------------------------------------
// The measured operations.

fn kproto_encode<M: Message>(msg: &M, version: i16, buf: &mut BytesMut) {
    buf.clear();
    let n = msg.encoded_len(version).unwrap();
    msg.encode(buf, version).unwrap();
    debug_assert_eq!(n, buf.len());
}

fn kp_encode<M: Encodable>(msg: &M, version: i16, buf: &mut BytesMut) {
    buf.clear();
    let n = msg.compute_size(version).unwrap();
    msg.encode(buf, version).unwrap();
    debug_assert_eq!(n, buf.len());
}

fn kproto_decode<M: Message>(bytes: &Bytes, version: i16) -> M {
    let mut b = bytes.clone();
    let m = M::decode(&mut b, version).unwrap();
    debug_assert!(b.is_empty());
    m
}

fn kp_decode<M: Decodable>(bytes: &Bytes, version: i16) -> M {
    let mut b = bytes.clone();
    let m = M::decode(&mut b, version).unwrap();
    debug_assert!(b.is_empty());
    m
}

/// Encodes both messages, asserts the bytes are identical and that each side decodes them back
/// to its own message, and returns the bytes.
fn check<K: Message, P: Encodable + Decodable + PartialEq + std::fmt::Debug>(
    ours: &K,
    theirs: &P,
    v: i16,
) -> Bytes {
    let mut a = BytesMut::new();
    let mut b = BytesMut::new();
    kproto_encode(ours, v, &mut a);
    kp_encode(theirs, v, &mut b);
    assert_eq!(
        ours.encoded_len(v).unwrap(),
        theirs.compute_size(v).unwrap()
    );
    assert!(
        a == b,
        "kproto and kafka-protocol encode different bytes at v{v}"
    );
    let bytes = a.freeze();
    assert_eq!(&kproto_decode::<K>(&bytes, v), ours);
    assert_eq!(&kp_decode::<P>(&bytes, v), theirs);
    bytes
}

fn pair<K, P>(c: &mut Criterion, group: &str, ours: &K, theirs: &P, v: i16)
where
    K: Message,
    P: Encodable + Decodable + PartialEq + std::fmt::Debug,
{
    let bytes = check(ours, theirs, v);
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(40);
    g.bench_function(BenchmarkId::new("decode", "kproto"), |b| {
        b.iter(|| kproto_decode::<K>(black_box(&bytes), v))
    });
    g.bench_function(BenchmarkId::new("decode", "kafka-protocol"), |b| {
        b.iter(|| kp_decode::<P>(black_box(&bytes), v))
    });
    let mut buf = BytesMut::with_capacity(bytes.len());
    g.bench_function(BenchmarkId::new("encode", "kproto"), |b| {
        b.iter(|| {
            kproto_encode(black_box(ours), v, &mut buf);
            black_box(buf.len())
        })
    });
    g.bench_function(BenchmarkId::new("encode", "kafka-protocol"), |b| {
        b.iter(|| {
            kp_encode(black_box(theirs), v, &mut buf);
            black_box(buf.len())
        })
    });
    g.finish();
}

const GROUPS: [&str; 2] = [
    "messages/metadata-v12-1000p",
    "messages/produce-v9-10x16KiB",
];

fn bench(c: &mut Criterion) {
    let md = metadata_data();
    pair(
        c,
        GROUPS[0],
        &kproto_metadata(&md),
        &kp_metadata(&md),
        METADATA_VERSION,
    );

    let pd = produce_data();
    let (ours, theirs) = (kproto_produce(&pd), kp_produce(&pd));
    // v9-v12 requests are the same on the wire: v9 stands for all of them.
    let v9 = check(&ours, &theirs, PRODUCE_VERSION);
    for v in 10..=12 {
        assert_eq!(check(&ours, &theirs, v), v9);
    }
    pair(c, GROUPS[1], &ours, &theirs, PRODUCE_VERSION);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
    report();
}

/// Prints kafka-protocol's time as a ratio of kproto's, from the estimates criterion just wrote.
fn report() {
    let mean = kbench::criterion_mean;
    println!("\nmean time per op; ratio = kafka-protocol / kproto (> 1 means kproto is faster):");
    for g in GROUPS {
        for op in ["decode", "encode"] {
            if let (Some(us), Some(them)) = (mean(g, op, "kproto"), mean(g, op, "kafka-protocol")) {
                println!(
                    "{g} {op}: kproto {:.1} us, kafka-protocol {:.1} us, ratio {:.2}x",
                    us / 1e3,
                    them / 1e3,
                    them / us
                );
            }
        }
    }
}
