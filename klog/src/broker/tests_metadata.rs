//! Metadata, DescribeCluster, CreateTopics and the cluster metadata file, over MemStorage.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use kproto::messages::create_topics::request::{
    CreatableReplicaAssignment, CreatableTopic, CreatableTopicConfig,
};
use kproto::messages::metadata::request::MetadataRequestTopic;
use kproto::messages::{
    CreateTopicsRequest, CreateTopicsResponse, DescribeClusterRequest, MetadataRequest,
    MetadataResponse, ResponseBody,
};
use kproto::{ErrorCode, KStr, RequestBody, Uuid};

use super::tests::{call, NOW};
use super::*;
use crate::MemStorage;

/// A broker with `pairs` over small index files (Kafka preallocates 10 MiB per index; hundreds
/// of partitions in memory would not fit).
pub(crate) fn broker_with(pairs: &[(&str, &str)]) -> Broker<MemStorage> {
    let small = [("log.index.size.max.bytes", "4096")];
    let cfg = BrokerConfig::from_pairs(small.iter().chain(pairs).copied())
        .unwrap()
        .0;
    let mut b = Broker::open(MemStorage::new(), cfg, 42, NOW).unwrap().0;
    assert!(matches!(
        b.poll_event(),
        Some(BrokerEvent::LogDirOpened { .. })
    ));
    b
}

pub(crate) fn creatable(name: &str, partitions: i32) -> CreatableTopic {
    CreatableTopic {
        name: KStr::from(name),
        num_partitions: partitions,
        replication_factor: -1,
        ..CreatableTopic::default()
    }
}

pub(crate) fn create_topics(
    b: &mut Broker<MemStorage>,
    version: i16,
    topics: Vec<CreatableTopic>,
    validate_only: bool,
) -> CreateTopicsResponse {
    let req = CreateTopicsRequest {
        topics,
        timeout_ms: 30_000,
        validate_only,
        ..CreateTopicsRequest::default()
    };
    match call(b, version, RequestBody::CreateTopics(Box::new(req))).1 {
        ResponseBody::CreateTopics(r) => *r,
        other => panic!("{other:?}"),
    }
}

pub(crate) fn metadata(
    b: &mut Broker<MemStorage>,
    version: i16,
    names: Option<&[&str]>,
    auto_create: bool,
) -> MetadataResponse {
    let req = MetadataRequest {
        topics: names.map(|n| {
            n.iter()
                .map(|t| MetadataRequestTopic {
                    name: Some(KStr::from(*t)),
                    ..MetadataRequestTopic::default()
                })
                .collect()
        }),
        allow_auto_topic_creation: auto_create,
        ..MetadataRequest::default()
    };
    match call(b, version, RequestBody::Metadata(Box::new(req))).1 {
        ResponseBody::Metadata(r) => *r,
        other => panic!("{other:?}"),
    }
}

fn code(c: i16) -> ErrorCode {
    ErrorCode::from_code(c).unwrap()
}

#[test]
fn hundreds_of_topics_at_every_metadata_version() {
    let mut b = broker_with(&[("advertised.listeners", "PLAINTEXT://broker.example:19092")]);
    let topics: Vec<CreatableTopic> = (0..300)
        .map(|i| {
            creatable(
                &format!("orders.{i:03}-{}", "x".repeat(i % 40)),
                (i % 7 + 1) as i32,
            )
        })
        .collect();
    let r = create_topics(&mut b, 7, topics, false);
    assert!(
        r.topics.iter().all(|t| t.error_code == 0),
        "{:?}",
        r.topics[0]
    );
    let ids: Vec<Uuid> = r.topics.iter().map(|t| t.topic_id).collect();
    assert!(ids.iter().all(|id| *id != Uuid::ZERO));
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 300, "topic ids are distinct");
    for v in 0..=13i16 {
        // all topics: v0 an empty list, later a null one
        let m = if v == 0 {
            metadata(&mut b, v, Some(&[]), true)
        } else {
            metadata(&mut b, v, None, true)
        };
        assert_eq!(m.brokers.len(), 1);
        assert_eq!(m.brokers[0].host.as_str(), "broker.example");
        assert_eq!(m.brokers[0].port, 19092);
        if v >= 1 {
            assert_eq!(m.controller_id, 1);
        }
        if v >= 2 {
            assert_eq!(m.cluster_id.as_deref(), Some(b.cluster_id()));
        }
        assert_eq!(m.topics.len(), 300);
        let total: usize = m.topics.iter().map(|t| t.partitions.len()).sum();
        assert_eq!(total, (0..300).map(|i| i % 7 + 1).sum::<usize>());
        for t in &m.topics {
            assert_eq!(t.error_code, 0);
            let name = t.name.as_deref().unwrap();
            let at = r
                .topics
                .iter()
                .position(|c| c.name.as_str() == name)
                .unwrap();
            if v >= 10 {
                assert_eq!(t.topic_id, ids[at]);
            }
            for (i, p) in t.partitions.iter().enumerate() {
                assert_eq!((p.partition_index, p.leader_id), (i as i32, 1));
                assert_eq!(
                    (&p.replica_nodes[..], &p.isr_nodes[..]),
                    (&[1][..], &[1][..])
                );
                if v >= 7 {
                    assert_eq!(p.leader_epoch, 0);
                }
            }
        }
    }
}

#[test]
fn auto_creation_answers_leader_not_available_then_the_topic() {
    let mut b = broker_with(&[("num.partitions", "3")]);
    let m = metadata(&mut b, 12, Some(&["fresh"]), true);
    assert_eq!(code(m.topics[0].error_code), ErrorCode::LeaderNotAvailable);
    assert!(m.topics[0].partitions.is_empty());
    assert!(matches!(
        b.poll_event(),
        Some(BrokerEvent::TopicCreated { partitions: 3, .. })
    ));
    let m = metadata(&mut b, 12, Some(&["fresh"]), true);
    assert_eq!(code(m.topics[0].error_code), ErrorCode::None);
    assert_eq!(m.topics[0].partitions.len(), 3);
    // v4+: the request may forbid it; before v4 it is always allowed
    let m = metadata(&mut b, 4, Some(&["not-created"]), false);
    assert_eq!(
        code(m.topics[0].error_code),
        ErrorCode::UnknownTopicOrPartition
    );
    // (the field is not on the wire before v4: hand the core a decoded request saying false)
    let req = MetadataRequest {
        topics: Some(vec![MetadataRequestTopic {
            name: Some(KStr::from("old-client")),
            ..MetadataRequestTopic::default()
        }]),
        allow_auto_topic_creation: false,
        ..MetadataRequest::default()
    };
    let h = super::tests::header(kproto::ApiKey::Metadata, 3, 1);
    let Handled::Respond(bytes) = b.handle(1, h, RequestBody::Metadata(Box::new(req)), NOW) else {
        panic!()
    };
    let ResponseBody::Metadata(m) =
        super::tests::decode_answer(&bytes, kproto::ApiKey::Metadata, 3).1
    else {
        panic!()
    };
    assert_eq!(code(m.topics[0].error_code), ErrorCode::LeaderNotAvailable);
    // an invalid name, with or without auto-creation
    for auto in [true, false] {
        let m = metadata(&mut b, 9, Some(&["bad name!"]), auto);
        assert_eq!(
            code(m.topics[0].error_code),
            ErrorCode::InvalidTopicException
        );
    }
    // auto.create.topics.enable=false
    let mut off = broker_with(&[("auto.create.topics.enable", "false")]);
    let m = metadata(&mut off, 12, Some(&["nope"]), true);
    assert_eq!(
        code(m.topics[0].error_code),
        ErrorCode::UnknownTopicOrPartition
    );
    let errs = &b.metrics().apis[&kproto::ApiKey::Metadata.key()].errors;
    assert_eq!(errs[&ErrorCode::LeaderNotAvailable], 2);
}

#[test]
fn metadata_by_topic_id() {
    let mut b = broker_with(&[]);
    let r = create_topics(&mut b, 7, vec![creatable("by-id", 2)], false);
    let id = r.topics[0].topic_id;
    let ask = |ids: Vec<Uuid>| MetadataRequest {
        topics: Some(
            ids.into_iter()
                .map(|topic_id| MetadataRequestTopic {
                    topic_id,
                    name: None,
                    ..MetadataRequestTopic::default()
                })
                .collect(),
        ),
        ..MetadataRequest::default()
    };
    let unknown = Uuid::from_u64_pair(5, 5);
    let ResponseBody::Metadata(m) = call(
        &mut b,
        12,
        RequestBody::Metadata(Box::new(ask(vec![id, unknown]))),
    )
    .1
    else {
        panic!()
    };
    assert_eq!(m.topics[0].name.as_deref(), Some("by-id"));
    assert_eq!(m.topics[0].partitions.len(), 2);
    assert_eq!(code(m.topics[1].error_code), ErrorCode::UnknownTopicId);
    assert_eq!(m.topics[1].name, None);
    // v10 and v11 may not use ids: INVALID_REQUEST per topic
    let ResponseBody::Metadata(m) =
        call(&mut b, 10, RequestBody::Metadata(Box::new(ask(vec![id])))).1
    else {
        panic!()
    };
    assert_eq!(code(m.topics[0].error_code), ErrorCode::InvalidRequest);
    assert_eq!(m.topics[0].name.as_deref(), Some(""));
}

#[test]
fn authorized_operations_without_an_authorizer_are_all_supported_ones() {
    let mut b = broker_with(&[]);
    create_topics(&mut b, 7, vec![creatable("ops", 1)], false);
    let req = MetadataRequest {
        topics: None,
        include_cluster_authorized_operations: true,
        include_topic_authorized_operations: true,
        ..MetadataRequest::default()
    };
    let ResponseBody::Metadata(m) = call(&mut b, 10, RequestBody::Metadata(Box::new(req))).1 else {
        panic!()
    };
    assert_eq!(m.topics[0].topic_authorized_operations, 3576);
    assert_eq!(m.cluster_authorized_operations, 8096);
}

#[test]
fn describe_cluster_every_version_and_endpoint_types() {
    let mut b = broker_with(&[("listeners", "PLAINTEXT://127.0.0.1:29092")]);
    for v in 0..=2 {
        let ResponseBody::DescribeCluster(r) = call(
            &mut b,
            v,
            RequestBody::DescribeCluster(Box::<DescribeClusterRequest>::default()),
        )
        .1
        else {
            panic!()
        };
        assert_eq!(r.error_code, 0);
        assert_eq!(r.cluster_id.as_str(), b.cluster_id());
        assert_eq!((r.controller_id, r.brokers.len()), (1, 1));
        assert_eq!(
            (r.brokers[0].host.as_str(), r.brokers[0].port),
            ("127.0.0.1", 29092)
        );
    }
    for (v, t, want) in [
        (1, 2, ErrorCode::MismatchedEndpointType),
        (2, 7, ErrorCode::UnsupportedEndpointType),
        // v0 has no endpoint type on the wire; a decoded request saying 2 is INVALID_REQUEST
        (0, 2, ErrorCode::InvalidRequest),
    ] {
        let req = DescribeClusterRequest {
            endpoint_type: t,
            ..DescribeClusterRequest::default()
        };
        let h = super::tests::header(kproto::ApiKey::DescribeCluster, v, 1);
        let Handled::Respond(bytes) =
            b.handle(1, h, RequestBody::DescribeCluster(Box::new(req)), NOW)
        else {
            panic!()
        };
        let ResponseBody::DescribeCluster(r) =
            super::tests::decode_answer(&bytes, kproto::ApiKey::DescribeCluster, v).1
        else {
            panic!()
        };
        assert_eq!(code(r.error_code), want);
    }
}

#[test]
fn create_topics_errors_by_name() {
    let mut b = broker_with(&[]);
    create_topics(
        &mut b,
        7,
        vec![creatable("exists", 1), creatable("a.b", 1)],
        false,
    );
    let cfg = |k: &str, v: Option<&str>| CreatableTopicConfig {
        name: KStr::from(k),
        value: v.map(KStr::from),
        ..CreatableTopicConfig::default()
    };
    let mut rf3 = creatable("rf3", 1);
    rf3.replication_factor = 3;
    let mut rf0 = creatable("rf0", 1);
    rf0.replication_factor = 0;
    let mut bad_cfg = creatable("bad-cfg", 1);
    bad_cfg.configs = vec![cfg("retention.ms", Some("soon"))];
    let mut unknown_cfg = creatable("unknown-cfg", 1);
    unknown_cfg.configs = vec![cfg("no.such.config", Some("1"))];
    let mut null_cfg = creatable("null-cfg", 1);
    null_cfg.configs = vec![cfg("retention.ms", None)];
    let mut other_broker = creatable("elsewhere", -1);
    other_broker.replication_factor = -1;
    other_broker.assignments = vec![CreatableReplicaAssignment {
        partition_index: 0,
        broker_ids: vec![2],
        ..CreatableReplicaAssignment::default()
    }];
    let mut gap = creatable("gap", -1);
    gap.assignments = vec![CreatableReplicaAssignment {
        partition_index: 1,
        broker_ids: vec![1],
        ..CreatableReplicaAssignment::default()
    }];
    let mut mixed = creatable("mixed", 2);
    mixed.assignments = gap.assignments.clone();
    let cases: Vec<(CreatableTopic, ErrorCode, &str)> = vec![
        (
            creatable("exists", 1),
            ErrorCode::TopicAlreadyExists,
            "Topic 'exists' already exists.",
        ),
        (
            creatable("a_b", 1),
            ErrorCode::InvalidTopicException,
            "collides with existing topic: a.b",
        ),
        (
            creatable("bad/name", 1),
            ErrorCode::InvalidTopicException,
            "is illegal",
        ),
        (
            creatable("zero", 0),
            ErrorCode::InvalidPartitions,
            "non-positive",
        ),
        (
            creatable("huge", 20_000),
            ErrorCode::PolicyViolation,
            "excessively large",
        ),
        (
            rf3,
            ErrorCode::InvalidReplicationFactor,
            "only 1 broker(s) are registered",
        ),
        (rf0, ErrorCode::InvalidReplicationFactor, "larger than 0"),
        (
            bad_cfg,
            ErrorCode::InvalidConfig,
            "Invalid value soon for configuration retention.ms",
        ),
        (
            unknown_cfg,
            ErrorCode::InvalidConfig,
            "Unknown topic config name: no.such.config",
        ),
        (
            null_cfg,
            ErrorCode::InvalidConfig,
            "Null value not supported",
        ),
        (
            other_broker,
            ErrorCode::InvalidReplicaAssignment,
            "includes broker 2",
        ),
        (
            gap,
            ErrorCode::InvalidReplicaAssignment,
            "consecutive 0-based",
        ),
        (
            mixed,
            ErrorCode::InvalidRequest,
            "manual partition assignment",
        ),
    ];
    for v in [2i16, 4, 5, 7] {
        let r = create_topics(
            &mut b,
            v,
            cases.iter().map(|c| c.0.clone()).collect(),
            false,
        );
        for (got, (_, want, says)) in r.topics.iter().zip(&cases) {
            assert_eq!(code(got.error_code), *want, "v{v} {}", got.name);
            assert!(
                got.error_message.as_deref().unwrap().contains(says),
                "v{v} {}: {:?}",
                got.name,
                got.error_message
            );
            assert_eq!(got.topic_id, Uuid::ZERO);
        }
    }
    // the same name twice in one request
    let r = create_topics(
        &mut b,
        7,
        vec![creatable("twice", 1), creatable("twice", 1)],
        false,
    );
    assert!(r
        .topics
        .iter()
        .all(|t| code(t.error_code) == ErrorCode::InvalidRequest));
    assert!(!b.meta.topics.contains_key("twice"));
}

#[test]
fn create_topics_with_configs_validate_only_and_manual_assignment() {
    let mut b = broker_with(&[("log.retention.ms", "3600000")]);
    let mut t = creatable("configured", 4);
    t.configs = vec![
        CreatableTopicConfig {
            name: KStr::from("message.timestamp.type"),
            value: Some(KStr::from("LogAppendTime")),
            ..CreatableTopicConfig::default()
        },
        CreatableTopicConfig {
            name: KStr::from("segment.bytes"),
            value: Some(KStr::from("1048576")),
            ..CreatableTopicConfig::default()
        },
    ];
    let r = create_topics(&mut b, 7, vec![t.clone()], true);
    assert_eq!(r.topics[0].error_code, 0);
    assert_eq!(r.topics[0].num_partitions, 4);
    assert!(
        !b.meta.topics.contains_key("configured"),
        "validate_only creates nothing"
    );
    let r = create_topics(&mut b, 7, vec![t], false);
    let res = &r.topics[0];
    assert_eq!(
        (res.error_code, res.num_partitions, res.replication_factor),
        (0, 4, 1)
    );
    let configs = res.configs.as_ref().unwrap();
    let get = |n: &str| configs.iter().find(|c| c.name.as_str() == n).unwrap();
    assert_eq!(
        get("message.timestamp.type").value.as_deref(),
        Some("LogAppendTime")
    );
    assert_eq!(get("message.timestamp.type").config_source, 1);
    assert_eq!(get("retention.ms").value.as_deref(), Some("3600000"));
    assert_eq!(get("retention.ms").config_source, 4);
    let log = b.logs.log("configured", 3).unwrap();
    assert_eq!(log.config().segment_bytes, 1_048_576);
    assert_eq!(
        log.config().message_timestamp_type,
        crate::TimestampType::LogAppendTime
    );
    // v4 answers carry no configs
    let r = create_topics(&mut b, 4, vec![creatable("older", 1)], false);
    assert_eq!(r.topics[0].num_partitions, -1);
    assert!(r.topics[0].configs.as_ref().is_none_or(|c| c.is_empty()));
    // a manual assignment onto this node
    let mut manual = creatable("manual", -1);
    manual.assignments = (0..3)
        .map(|p| CreatableReplicaAssignment {
            partition_index: p,
            broker_ids: vec![1],
            ..CreatableReplicaAssignment::default()
        })
        .collect();
    let r = create_topics(&mut b, 7, vec![manual], false);
    assert_eq!((r.topics[0].error_code, r.topics[0].num_partitions), (0, 3));
}

#[test]
fn topics_and_ids_survive_a_restart_and_new_ids_stay_distinct() {
    let st = MemStorage::new();
    let cfg = BrokerConfig::from_pairs([("log.index.size.max.bytes", "4096")])
        .unwrap()
        .0;
    let (mut b, _) = Broker::open(st.clone(), cfg.clone(), 9, NOW).unwrap();
    let cluster = b.cluster_id().to_string();
    let mut t = creatable("kept", 5);
    t.configs = vec![CreatableTopicConfig {
        name: KStr::from("retention.bytes"),
        value: Some(KStr::from("1000000")),
        ..CreatableTopicConfig::default()
    }];
    let first = create_topics(&mut b, 7, vec![t], false).topics[0].topic_id;
    let before = metadata(&mut b, 12, None, true);
    b.shutdown(NOW).unwrap();
    assert!(st.paths().contains(&CLUSTER_METADATA_FILE.to_string()));
    // same seed: the generator resumes, so the next topic's id is not the first one's
    let (mut b, report) = Broker::open(st.clone(), cfg, 9, NOW + 1).unwrap();
    assert_eq!(report.cluster_id, cluster);
    assert_eq!(report.partitions.len(), 5);
    assert_eq!(metadata(&mut b, 12, None, true), before);
    assert_eq!(
        b.logs.log("kept", 4).unwrap().config().retention_bytes,
        1_000_000
    );
    let second = create_topics(&mut b, 7, vec![creatable("later", 1)], false).topics[0].topic_id;
    assert_ne!(first, second);
    let text = String::from_utf8(st.contents(CLUSTER_METADATA_FILE).unwrap()).unwrap();
    assert!(
        text.contains(&format!("topic kept {} 5", first.to_kafka_string())),
        "{text}"
    );
    assert!(
        text.contains("config kept retention.bytes 1000000"),
        "{text}"
    );
}
