//! The admin APIs over MemStorage: DeleteTopics, CreatePartitions, DescribeConfigs,
//! IncrementalAlterConfigs, AlterConfigs and DeleteRecords, at every served version, over
//! hundreds of partitions, across restarts.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use kproto::messages::alter_configs::request::{
    AlterConfigsResource as LegacyResource, AlterableConfig as LegacyConfig,
};
use kproto::messages::create_partitions::request::{
    CreatePartitionsAssignment, CreatePartitionsTopic,
};
use kproto::messages::delete_records::request::{DeleteRecordsPartition, DeleteRecordsTopic};
use kproto::messages::delete_topics::request::DeleteTopicState;
use kproto::messages::describe_configs::request::DescribeConfigsResource;
use kproto::messages::describe_configs::response::DescribeConfigsResult;
use kproto::messages::incremental_alter_configs::request::{
    AlterConfigsResource as IncResource, AlterableConfig as IncConfig,
};
use kproto::messages::{
    AlterConfigsRequest, AlterConfigsResponse, CreatePartitionsRequest, CreatePartitionsResponse,
    DeleteRecordsRequest, DeleteRecordsResponse, DeleteTopicsRequest, DeleteTopicsResponse,
    DescribeConfigsRequest, DescribeConfigsResponse, IncrementalAlterConfigsRequest,
    IncrementalAlterConfigsResponse, ResponseBody,
};
use kproto::{ApiKey, ErrorCode, KStr, RequestBody, Uuid};

use super::tests::{call, NOW};
use super::tests_fetch::fill;
use super::tests_metadata::{broker_with, creatable, create_topics, metadata};
use super::{Broker, BrokerEvent};
use crate::MemStorage;

const TOPIC: i8 = 2;
const BROKER: i8 = 4;
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

fn code(e: ErrorCode) -> i16 {
    e.code()
}

fn topic(b: &mut Broker<MemStorage>, name: &str, partitions: i32) -> Uuid {
    let r = create_topics(b, 7, vec![creatable(name, partitions)], false);
    assert_eq!(r.topics[0].error_code, 0, "{:?}", r.topics[0]);
    r.topics[0].topic_id
}

/// Shuts `b` down and opens a broker with the same configuration on the same storage.
fn restart(b: Broker<MemStorage>) -> Broker<MemStorage> {
    let cfg = b.config().clone();
    let st = b.shutdown(NOW).unwrap();
    Broker::open(st, cfg, 42, NOW).unwrap().0
}

fn delete_topics(
    b: &mut Broker<MemStorage>,
    version: i16,
    names: &[&str],
    ids: &[Uuid],
) -> DeleteTopicsResponse {
    let req = if version >= 6 {
        DeleteTopicsRequest {
            topics: names
                .iter()
                .map(|n| DeleteTopicState {
                    name: Some(KStr::from(*n)),
                    topic_id: Uuid::ZERO,
                    ..DeleteTopicState::default()
                })
                .chain(ids.iter().map(|id| DeleteTopicState {
                    name: None,
                    topic_id: *id,
                    ..DeleteTopicState::default()
                }))
                .collect(),
            timeout_ms: 30_000,
            ..DeleteTopicsRequest::default()
        }
    } else {
        DeleteTopicsRequest {
            topic_names: names.iter().map(|n| KStr::from(*n)).collect(),
            timeout_ms: 30_000,
            ..DeleteTopicsRequest::default()
        }
    };
    delete_topics_req(b, version, req)
}

fn delete_topics_req(
    b: &mut Broker<MemStorage>,
    version: i16,
    req: DeleteTopicsRequest,
) -> DeleteTopicsResponse {
    match call(b, version, RequestBody::DeleteTopics(Box::new(req))).1 {
        ResponseBody::DeleteTopics(r) => *r,
        other => panic!("{other:?}"),
    }
}

fn create_partitions(
    b: &mut Broker<MemStorage>,
    version: i16,
    topics: Vec<CreatePartitionsTopic>,
    validate_only: bool,
) -> CreatePartitionsResponse {
    let req = CreatePartitionsRequest {
        topics,
        timeout_ms: 30_000,
        validate_only,
        ..CreatePartitionsRequest::default()
    };
    match call(b, version, RequestBody::CreatePartitions(Box::new(req))).1 {
        ResponseBody::CreatePartitions(r) => *r,
        other => panic!("{other:?}"),
    }
}

fn grow(name: &str, count: i32, assignments: Option<Vec<Vec<i32>>>) -> CreatePartitionsTopic {
    CreatePartitionsTopic {
        name: KStr::from(name),
        count,
        assignments: assignments.map(|a| {
            a.into_iter()
                .map(|broker_ids| CreatePartitionsAssignment {
                    broker_ids,
                    ..CreatePartitionsAssignment::default()
                })
                .collect()
        }),
        ..CreatePartitionsTopic::default()
    }
}

fn describe(
    b: &mut Broker<MemStorage>,
    version: i16,
    resources: &[(i8, &str, Option<&[&str]>)],
    synonyms: bool,
    docs: bool,
) -> DescribeConfigsResponse {
    let req = DescribeConfigsRequest {
        resources: resources
            .iter()
            .map(|(t, n, keys)| DescribeConfigsResource {
                resource_type: *t,
                resource_name: KStr::from(*n),
                configuration_keys: keys.map(|k| k.iter().map(|s| KStr::from(*s)).collect()),
                ..DescribeConfigsResource::default()
            })
            .collect(),
        include_synonyms: synonyms,
        include_documentation: docs && version >= 3,
        ..DescribeConfigsRequest::default()
    };
    match call(b, version, RequestBody::DescribeConfigs(Box::new(req))).1 {
        ResponseBody::DescribeConfigs(r) => *r,
        other => panic!("{other:?}"),
    }
}

fn value_of<'a>(r: &'a DescribeConfigsResult, name: &str) -> Option<&'a str> {
    r.configs
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("{name} not described"))
        .value
        .as_deref()
}

type IncOps<'a> = &'a [(&'a str, i8, Option<&'a str>)];

fn incremental(
    b: &mut Broker<MemStorage>,
    version: i16,
    resources: &[(i8, &str, IncOps<'_>)],
    validate_only: bool,
) -> IncrementalAlterConfigsResponse {
    let req = IncrementalAlterConfigsRequest {
        resources: resources
            .iter()
            .map(|(t, n, ops)| IncResource {
                resource_type: *t,
                resource_name: KStr::from(*n),
                configs: ops
                    .iter()
                    .map(|(k, op, v)| IncConfig {
                        name: KStr::from(*k),
                        config_operation: *op,
                        value: v.map(KStr::from),
                        ..IncConfig::default()
                    })
                    .collect(),
                ..IncResource::default()
            })
            .collect(),
        validate_only,
        ..IncrementalAlterConfigsRequest::default()
    };
    match call(
        b,
        version,
        RequestBody::IncrementalAlterConfigs(Box::new(req)),
    )
    .1
    {
        ResponseBody::IncrementalAlterConfigs(r) => *r,
        other => panic!("{other:?}"),
    }
}

type LegacyPairs<'a> = &'a [(&'a str, Option<&'a str>)];

fn legacy(
    b: &mut Broker<MemStorage>,
    version: i16,
    resources: &[(i8, &str, LegacyPairs<'_>)],
    validate_only: bool,
) -> AlterConfigsResponse {
    let req = AlterConfigsRequest {
        resources: resources
            .iter()
            .map(|(t, n, pairs)| LegacyResource {
                resource_type: *t,
                resource_name: KStr::from(*n),
                configs: pairs
                    .iter()
                    .map(|(k, v)| LegacyConfig {
                        name: KStr::from(*k),
                        value: v.map(KStr::from),
                        ..LegacyConfig::default()
                    })
                    .collect(),
                ..LegacyResource::default()
            })
            .collect(),
        validate_only,
        ..AlterConfigsRequest::default()
    };
    match call(b, version, RequestBody::AlterConfigs(Box::new(req))).1 {
        ResponseBody::AlterConfigs(r) => *r,
        other => panic!("{other:?}"),
    }
}

fn delete_records(
    b: &mut Broker<MemStorage>,
    version: i16,
    asks: &[(&str, i32, i64)],
) -> DeleteRecordsResponse {
    let mut topics: Vec<DeleteRecordsTopic> = Vec::new();
    for (t, p, o) in asks {
        let part = DeleteRecordsPartition {
            partition_index: *p,
            offset: *o,
            ..DeleteRecordsPartition::default()
        };
        match topics.last_mut() {
            Some(last) if last.name == *t => last.partitions.push(part),
            _ => topics.push(DeleteRecordsTopic {
                name: KStr::from(*t),
                partitions: vec![part],
                ..DeleteRecordsTopic::default()
            }),
        }
    }
    let req = DeleteRecordsRequest {
        topics,
        timeout_ms: 30_000,
        ..DeleteRecordsRequest::default()
    };
    match call(b, version, RequestBody::DeleteRecords(Box::new(req))).1 {
        ResponseBody::DeleteRecords(r) => *r,
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// DeleteTopics

#[test]
fn delete_topics_by_name_at_every_version_and_by_id_from_v6() {
    let mut b = broker_with(&[]);
    topic(&mut b, "keeper", 1);
    for v in 1..=6i16 {
        let name = format!("doomed-v{v}");
        let id = topic(&mut b, &name, 40);
        fill(&mut b, &name, 3, 2, 50, 1024);
        let before = b.metrics().partition_count;
        let r = if v >= 6 {
            delete_topics(&mut b, v, &[], &[id])
        } else {
            delete_topics(&mut b, v, &[&name], &[])
        };
        assert_eq!(r.responses.len(), 1, "v{v}");
        let d = &r.responses[0];
        assert_eq!(d.error_code, 0, "v{v}: {d:?}");
        assert_eq!(d.name.as_deref(), Some(name.as_str()), "v{v}");
        if v >= 6 {
            assert_eq!(d.topic_id, id);
        }
        assert!(!b.meta.topics.contains_key(&name), "v{v}");
        assert!(b.logs.logs().all(|((t, _), _)| t != name), "v{v}");
        assert_eq!(b.metrics().partition_count, before - 40, "v{v}");
        let m = metadata(&mut b, 12, Some(&[&name]), false);
        assert_eq!(
            m.topics[0].error_code,
            code(ErrorCode::UnknownTopicOrPartition)
        );
        // the other topic is untouched
        assert!(b.logs.log("keeper", 0).is_some());
        let r = create_topics(&mut b, 7, vec![creatable("keeper", 1)], false);
        assert_eq!(r.topics[0].error_code, code(ErrorCode::TopicAlreadyExists));
    }
    let mut deleted = 0;
    while let Some(e) = b.poll_event() {
        if let BrokerEvent::TopicDeleted { partitions, .. } = e {
            assert_eq!(partitions, 40);
            deleted += 1;
        }
    }
    assert_eq!(deleted, 6);
}

#[test]
fn delete_topics_errors_as_kafkas_controller_answers_them() {
    let mut b = broker_with(&[]);
    let a = topic(&mut b, "a", 2);
    let c = topic(&mut b, "c", 2);
    let d = topic(&mut b, "d", 1);
    let unknown = Uuid::from_u64_pair(7, 7);
    // v5: messages; an unknown name is UNKNOWN_TOPIC_OR_PARTITION with Kafka's default one
    let r = delete_topics(&mut b, 5, &["nope", "a", "a"], &[]);
    let by: Vec<_> = r
        .responses
        .iter()
        .map(|x| {
            (
                x.name.as_deref().unwrap().to_string(),
                x.error_code,
                x.error_message.as_deref().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        by,
        [
            (
                "nope".to_string(),
                code(ErrorCode::UnknownTopicOrPartition),
                Some("This server does not host this topic-partition.".to_string())
            ),
            (
                "a".to_string(),
                code(ErrorCode::InvalidRequest),
                Some("Duplicate topic name.".to_string())
            ),
        ]
    );
    assert!(
        b.meta.topics.contains_key("a"),
        "a duplicate is not deleted"
    );
    // v6: by id, both, neither, duplicate ids, a name whose id is given too
    let req = DeleteTopicsRequest {
        topics: vec![
            DeleteTopicState {
                name: None,
                topic_id: unknown,
                ..DeleteTopicState::default()
            },
            DeleteTopicState {
                name: Some("a".into()),
                topic_id: a,
                ..DeleteTopicState::default()
            },
            DeleteTopicState {
                name: None,
                topic_id: Uuid::ZERO,
                ..DeleteTopicState::default()
            },
            DeleteTopicState {
                name: None,
                topic_id: c,
                ..DeleteTopicState::default()
            },
            DeleteTopicState {
                name: None,
                topic_id: c,
                ..DeleteTopicState::default()
            },
            DeleteTopicState {
                name: Some("d".into()),
                topic_id: Uuid::ZERO,
                ..DeleteTopicState::default()
            },
            DeleteTopicState {
                name: None,
                topic_id: d,
                ..DeleteTopicState::default()
            },
        ],
        timeout_ms: 1000,
        ..DeleteTopicsRequest::default()
    };
    let r = delete_topics_req(&mut b, 6, req);
    let got: Vec<_> = r
        .responses
        .iter()
        .map(|x| {
            (
                x.name.as_deref().map(str::to_string),
                x.topic_id,
                ErrorCode::from_code(x.error_code).unwrap(),
                x.error_message.as_deref().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                None,
                unknown,
                ErrorCode::UnknownTopicId,
                "This server does not host this topic ID.".to_string()
            ),
            (
                Some("a".to_string()),
                a,
                ErrorCode::InvalidRequest,
                "You may not specify both topic name and topic id.".to_string()
            ),
            (
                None,
                Uuid::ZERO,
                ErrorCode::InvalidRequest,
                "Neither topic name nor id were specified.".to_string()
            ),
            (
                None,
                c,
                ErrorCode::InvalidRequest,
                "Duplicate topic id.".to_string()
            ),
            (
                Some("d".to_string()),
                d,
                ErrorCode::InvalidRequest,
                "The provided topic name maps to an ID that was already supplied.".to_string()
            ),
        ]
    );
    for t in ["a", "c", "d"] {
        assert!(b.meta.topics.contains_key(t), "{t} kept");
    }
    let errs = &b.metrics().apis[&ApiKey::DeleteTopics.key()].errors;
    assert_eq!(errs[&ErrorCode::InvalidRequest], 5);
    assert_eq!(errs[&ErrorCode::UnknownTopicId], 1);
}

#[test]
fn deleted_topics_stay_deleted_across_a_restart() {
    let mut b = broker_with(&[]);
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(topic(&mut b, &format!("t{i}"), 60));
    }
    fill(&mut b, "t1", 59, 3, 100, 2048);
    // one request, three topics, by name and by id
    let r = delete_topics(&mut b, 6, &["t0", "t1"], &[ids[2]]);
    assert!(r.responses.iter().all(|x| x.error_code == 0), "{r:?}");
    assert_eq!(b.metrics().partition_count, 60);
    let b = restart(b);
    assert_eq!(
        b.meta.topics.keys().map(String::as_str).collect::<Vec<_>>(),
        ["t3"]
    );
    assert_eq!(b.logs.logs().count(), 60);
    assert!(b.logs.logs().all(|((t, _), _)| t == "t3"));
    assert_eq!(b.metrics().partition_count, 60);
    assert_eq!(b.meta.topic_name(ids[3]), Some("t3"));
    assert_eq!(b.meta.topic_name(ids[1]), None);
}

// ---------------------------------------------------------------------------------------
// CreatePartitions

#[test]
fn create_partitions_at_every_version_over_hundreds_of_partitions() {
    let mut b = broker_with(&[]);
    for v in 0..=3i16 {
        let name = format!("grow-v{v}");
        let id = topic(&mut b, &name, 3);
        fill(&mut b, &name, 0, 1, 10, 512);
        let before = b.metrics().partition_count;
        let r = create_partitions(&mut b, v, vec![grow(&name, 250, None)], false);
        assert_eq!(r.results.len(), 1);
        assert_eq!(r.results[0].error_code, 0, "v{v}: {:?}", r.results[0]);
        assert_eq!(r.results[0].error_message, None);
        assert_eq!(b.meta.topics[&name].partitions, 250);
        assert_eq!(b.metrics().partition_count, before + 247);
        for p in 0..250 {
            let log = b.logs.log(&name, p).unwrap_or_else(|| panic!("{name}-{p}"));
            assert_eq!(log.log_end_offset(), if p == 0 { 10 } else { 0 });
        }
        assert_eq!(b.logs.topic_id(&name), Some(id));
        let m = metadata(&mut b, 12, Some(&[&name]), false);
        assert_eq!(m.topics[0].partitions.len(), 250);
    }
    // with a manual assignment, one per new partition, each this node
    let r = create_partitions(
        &mut b,
        3,
        vec![grow("grow-v0", 253, Some(vec![vec![1], vec![1], vec![1]]))],
        false,
    );
    assert_eq!(r.results[0].error_code, 0, "{:?}", r.results[0]);
    assert!(b.logs.log("grow-v0", 252).is_some());
}

#[test]
fn create_partitions_refuses_as_kafka_does_and_validate_only_changes_nothing() {
    let mut b = broker_with(&[]);
    topic(&mut b, "t", 4);
    topic(&mut b, "u", 1);
    let cases: Vec<(CreatePartitionsTopic, ErrorCode, Option<&str>)> = vec![
        (
            grow("t", 4, None),
            ErrorCode::InvalidPartitions,
            Some("Topic already has 4 partition(s)."),
        ),
        (
            grow("t", 2, None),
            ErrorCode::InvalidPartitions,
            Some("The topic t currently has 4 partition(s); 2 would not be an increase."),
        ),
        (grow("nope", 9, None), ErrorCode::UnknownTopicOrPartition, None),
        (
            grow("t", 7, Some(vec![vec![1]])),
            ErrorCode::InvalidReplicaAssignment,
            Some("Attempted to add 3 additional partition(s), but only 1 assignment(s) were specified."),
        ),
        (
            grow("t", 5, Some(vec![vec![2]])),
            ErrorCode::InvalidReplicaAssignment,
            Some("The manual partition assignment includes broker 2, but no such broker is registered."),
        ),
        (
            grow("t", 5, Some(vec![vec![1, 1]])),
            ErrorCode::InvalidReplicaAssignment,
            Some("The manual partition assignment includes the broker 1 more than once."),
        ),
        (
            grow("t", 5, Some(vec![vec![]])),
            ErrorCode::InvalidReplicaAssignment,
            Some("The manual partition assignment includes an empty replica list."),
        ),
        (
            grow("t", 10_005, None),
            ErrorCode::PolicyViolation,
            Some("Unable to perform excessively large batch operation."),
        ),
    ];
    for (t, want, message) in cases {
        let r = create_partitions(&mut b, 3, vec![t.clone()], false);
        let got = &r.results[0];
        assert_eq!(got.error_code, code(want), "{t:?}: {got:?}");
        assert_eq!(got.error_message.as_deref(), message, "{t:?}");
        assert_eq!(b.meta.topics["t"].partitions, 4);
    }
    // a topic named twice is answered once, INVALID_REQUEST; the others go ahead
    let r = create_partitions(
        &mut b,
        2,
        vec![grow("t", 6, None), grow("u", 3, None), grow("t", 8, None)],
        false,
    );
    let got: Vec<_> = r
        .results
        .iter()
        .map(|x| (x.name.as_str().to_string(), x.error_code))
        .collect();
    assert_eq!(
        got,
        [
            ("t".to_string(), code(ErrorCode::InvalidRequest)),
            ("u".to_string(), 0)
        ]
    );
    assert_eq!(
        r.results[0].error_message.as_deref(),
        Some("Duplicate topic name.")
    );
    assert_eq!(b.meta.topics["u"].partitions, 3);
    // validate_only: the answer of a real increase, no change
    let r = create_partitions(&mut b, 3, vec![grow("t", 100, None)], true);
    assert_eq!(r.results[0].error_code, 0);
    assert_eq!(b.meta.topics["t"].partitions, 4);
    assert!(b.logs.log("t", 4).is_none());
}

#[test]
fn new_partitions_survive_a_restart_with_the_topics_config() {
    let mut b = broker_with(&[]);
    let mut t = creatable("cfg", 2);
    t.configs = vec![
        kproto::messages::create_topics::request::CreatableTopicConfig {
            name: "retention.ms".into(),
            value: Some("123456".into()),
            ..Default::default()
        },
    ];
    let r = create_topics(&mut b, 7, vec![t], false);
    assert_eq!(r.topics[0].error_code, 0);
    let r = create_partitions(&mut b, 3, vec![grow("cfg", 120, None)], false);
    assert_eq!(r.results[0].error_code, 0);
    assert_eq!(
        b.logs.log("cfg", 119).unwrap().config().retention_ms,
        123_456
    );
    fill(&mut b, "cfg", 100, 2, 20, 1024);
    let b = restart(b);
    assert_eq!(b.meta.topics["cfg"].partitions, 120);
    assert_eq!(b.metrics().partition_count, 120);
    let log = b.logs.log("cfg", 100).unwrap();
    assert_eq!(log.log_end_offset(), 40);
    assert_eq!(log.config().retention_ms, 123_456);
}

// ---------------------------------------------------------------------------------------
// DescribeConfigs

/// `leader.replication.throttled.replicas` listing `n` partitions on broker 1: a list value
/// of kilobytes, which Kafka accepts.
fn throttled(n: usize) -> String {
    (0..n)
        .map(|p| format!("{p}:1"))
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn describe_topic_configs_at_every_version() {
    let mut b = broker_with(&[
        ("log.retention.hours", "2"),
        ("message.max.bytes", "2000000"),
    ]);
    topic(&mut b, "d", 3);
    let big = throttled(800);
    assert!(big.len() > 4000);
    let r = incremental(
        &mut b,
        1,
        &[(
            TOPIC,
            "d",
            &[
                ("segment.ms", SET, Some("60000")),
                ("leader.replication.throttled.replicas", SET, Some(&big)),
            ],
        )],
        false,
    );
    assert_eq!(r.responses[0].error_code, 0, "{:?}", r.responses[0]);
    for v in 1..=4i16 {
        let r = describe(&mut b, v, &[(TOPIC, "d", None)], true, true);
        let d = &r.results[0];
        assert_eq!(d.error_code, 0, "v{v}");
        assert_eq!((d.resource_type, d.resource_name.as_str()), (TOPIC, "d"));
        assert_eq!(
            d.configs.len(),
            super::topic_config::TOPIC_CONFIGS.len() - 1
        );
        assert_eq!(value_of(d, "segment.ms"), Some("60000"));
        assert_eq!(
            value_of(d, "leader.replication.throttled.replicas"),
            Some(big.as_str())
        );
        assert_eq!(value_of(d, "retention.ms"), Some("7200000"));
        assert_eq!(value_of(d, "max.message.bytes"), Some("2000000"));
        let seg = d.configs.iter().find(|c| c.name == "segment.ms").unwrap();
        assert_eq!(seg.config_source, 1, "TOPIC_CONFIG");
        assert!(!seg.read_only && !seg.is_sensitive);
        assert_eq!(seg.synonyms[0].name, "segment.ms");
        assert_eq!(seg.synonyms[0].source, 1);
        let ret = d.configs.iter().find(|c| c.name == "retention.ms").unwrap();
        assert_eq!(ret.config_source, 4, "STATIC_BROKER_CONFIG");
        assert_eq!(ret.synonyms[0].name, "log.retention.hours");
        if v >= 3 {
            assert_eq!(seg.config_type, 5, "LONG");
            assert_eq!(
                d.configs
                    .iter()
                    .find(|c| c.name == "cleanup.policy")
                    .unwrap()
                    .config_type,
                7,
                "LIST"
            );
            assert!(seg
                .documentation
                .as_deref()
                .is_some_and(|s| s.contains("roll")));
        }
    }
    // a key filter, no synonyms, no documentation
    let r = describe(
        &mut b,
        4,
        &[(
            TOPIC,
            "d",
            Some(&["segment.ms", "retention.bytes", "no.such"]),
        )],
        false,
        false,
    );
    let d = &r.results[0];
    let names: Vec<_> = d.configs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["retention.bytes", "segment.ms"]);
    assert!(d
        .configs
        .iter()
        .all(|c| c.synonyms.is_empty() && c.documentation.is_none()));
    // an empty key list is every key
    let r = describe(&mut b, 4, &[(TOPIC, "d", Some(&[]))], false, false);
    assert_eq!(
        r.results[0].configs.len(),
        super::topic_config::TOPIC_CONFIGS.len() - 1
    );
}

#[test]
fn describe_errors_unknown_topics_and_other_brokers() {
    let mut b = broker_with(&[]);
    let r = describe(
        &mut b,
        4,
        &[
            (TOPIC, "absent", None),
            (TOPIC, "bad name", None),
            (BROKER, "2", None),
            (BROKER, "one", None),
            (8, "1", None),
        ],
        true,
        false,
    );
    let got: Vec<_> = r
        .results
        .iter()
        .map(|x| {
            (
                ErrorCode::from_code(x.error_code).unwrap(),
                x.error_message.as_deref().map(str::to_string),
                x.configs.len(),
            )
        })
        .collect();
    assert_eq!(got[0], (ErrorCode::UnknownTopicOrPartition, None, 0));
    assert_eq!(got[1].0, ErrorCode::InvalidTopicException);
    assert!(got[1].1.as_deref().unwrap().contains("illegal"));
    assert_eq!(
        got[2],
        (
            ErrorCode::InvalidRequest,
            Some("Unexpected broker id, expected 1 or empty string, but received 2".to_string()),
            0
        )
    );
    assert_eq!(
        got[3].1.as_deref(),
        Some("Broker id must be an integer, but it is: one")
    );
    assert_eq!(got[4].0, ErrorCode::InvalidRequest);
    // a type Kafka does not define fails every resource of the request
    let r = describe(
        &mut b,
        4,
        &[(BROKER, "1", None), (0, "x", None)],
        false,
        false,
    );
    for x in &r.results {
        assert_eq!(x.error_code, code(ErrorCode::InvalidRequest));
        assert_eq!(
            x.error_message.as_deref(),
            Some(ErrorCode::InvalidRequest.message())
        );
        assert!(x.configs.is_empty());
    }
    assert_eq!(
        (
            r.results[1].resource_type,
            r.results[1].resource_name.as_str()
        ),
        (0, "x")
    );
}

#[test]
fn describe_broker_configs_with_sources_and_synonyms() {
    let mut b = broker_with(&[
        ("log.retention.hours", "2"),
        ("auto.create.topics.enable", " FALSE "),
        ("log.roll.ms", "7200000"),
    ]);
    for v in 1..=4i16 {
        let r = describe(
            &mut b,
            v,
            &[(BROKER, "1", None), (BROKER, "", None)],
            true,
            true,
        );
        let d = &r.results[0];
        assert_eq!(d.error_code, 0, "v{v}");
        assert_eq!(d.configs.len(), super::config::BROKER_CONFIGS.len());
        assert!(d.configs.iter().all(|c| c.read_only));
        assert_eq!(value_of(d, "auto.create.topics.enable"), Some("false"));
        assert_eq!(value_of(d, "num.partitions"), Some("1"));
        assert_eq!(
            value_of(d, "log.retention.ms"),
            None,
            "unset and no default"
        );
        // log.index.size.max.bytes is set by the test broker
        assert_eq!(value_of(d, "log.index.size.max.bytes"), Some("4096"));
        let hours = d
            .configs
            .iter()
            .find(|c| c.name == "log.retention.hours")
            .unwrap();
        assert_eq!(hours.value.as_deref(), Some("2"));
        assert_eq!(hours.config_source, 4);
        let syn: Vec<_> = hours
            .synonyms
            .iter()
            .map(|s| (s.name.as_str(), s.value.as_deref(), s.source))
            .collect();
        assert_eq!(
            syn,
            [
                ("log.retention.hours", Some("2"), 4),
                ("log.retention.hours", Some("168"), 5)
            ]
        );
        // Kafka's configSynonyms drop what comes before the key described
        let ms = d
            .configs
            .iter()
            .find(|c| c.name == "log.retention.ms")
            .unwrap();
        assert_eq!((ms.config_source, ms.synonyms.len()), (5, 0));
        let roll_hours = d
            .configs
            .iter()
            .find(|c| c.name == "log.roll.hours")
            .unwrap();
        assert_eq!(roll_hours.config_source, 5);
        let roll_ms = d.configs.iter().find(|c| c.name == "log.roll.ms").unwrap();
        let syn: Vec<_> = roll_ms
            .synonyms
            .iter()
            .map(|s| (s.name.as_str(), s.value.as_deref(), s.source))
            .collect();
        assert_eq!(
            syn,
            [
                ("log.roll.ms", Some("7200000"), 4),
                ("log.roll.hours", Some("168"), 5)
            ]
        );
        if v >= 3 {
            let np = d
                .configs
                .iter()
                .find(|c| c.name == "num.partitions")
                .unwrap();
            assert_eq!(np.config_type, 3, "INT");
            assert!(np.documentation.as_deref().unwrap().contains("partitions"));
        }
        // the cluster's dynamic defaults: none here
        assert_eq!(r.results[1].error_code, 0);
        assert!(r.results[1].configs.is_empty());
    }
    let r = describe(
        &mut b,
        4,
        &[(BROKER, "1", Some(&["num.partitions"]))],
        false,
        false,
    );
    assert_eq!(r.results[0].configs.len(), 1);
}

// ---------------------------------------------------------------------------------------
// IncrementalAlterConfigs and AlterConfigs

#[test]
fn incremental_alter_set_delete_append_subtract_at_both_versions() {
    let mut b = broker_with(&[]);
    topic(&mut b, "ia", 200);
    for v in 0..=1i16 {
        let r = incremental(
            &mut b,
            v,
            &[(
                TOPIC,
                "ia",
                &[
                    ("retention.ms", SET, Some("3600000")),
                    ("max.message.bytes", SET, Some("2097152")),
                    (
                        "follower.replication.throttled.replicas",
                        APPEND,
                        Some("0:1,1:1"),
                    ),
                ],
            )],
            false,
        );
        assert_eq!(r.responses[0].error_code, 0, "v{v}: {:?}", r.responses[0]);
        assert_eq!(r.responses[0].error_message, None);
        for p in [0, 199] {
            let c = b.logs.log("ia", p).unwrap().config();
            assert_eq!(
                (c.retention_ms, c.max_message_bytes),
                (3_600_000, 2_097_152)
            );
        }
        let r = incremental(
            &mut b,
            v,
            &[(
                TOPIC,
                "ia",
                &[
                    ("retention.ms", DELETE, None),
                    (
                        "follower.replication.throttled.replicas",
                        SUBTRACT,
                        Some("0:1"),
                    ),
                    ("cleanup.policy", APPEND, Some("delete")),
                ],
            )],
            false,
        );
        assert_eq!(r.responses[0].error_code, 0, "v{v}: {:?}", r.responses[0]);
        let o: Vec<_> = b.meta.topics["ia"].configs.overrides().collect();
        assert_eq!(
            o,
            [
                ("cleanup.policy", "delete"),
                ("follower.replication.throttled.replicas", "1:1"),
                ("max.message.bytes", "2097152"),
            ]
        );
        assert_eq!(
            b.logs.log("ia", 7).unwrap().config().retention_ms,
            b.config().log.retention_ms,
            "back to the broker's"
        );
        // back to nothing for the next version
        let r = legacy(&mut b, 0, &[(TOPIC, "ia", &[])], false);
        assert_eq!(r.responses[0].error_code, 0);
        assert_eq!(b.meta.topics["ia"].configs.overrides().count(), 0);
    }
    // a KB value, appended to a thousand at a time
    let first = throttled(500);
    let r = incremental(
        &mut b,
        1,
        &[(
            TOPIC,
            "ia",
            &[(
                "leader.replication.throttled.replicas",
                APPEND,
                Some(&first),
            )],
        )],
        false,
    );
    assert_eq!(r.responses[0].error_code, 0);
    let more: String = (500..1000).map(|p| format!("{p}:1,")).collect();
    let r = incremental(
        &mut b,
        1,
        &[(
            TOPIC,
            "ia",
            &[(
                "leader.replication.throttled.replicas",
                APPEND,
                Some(more.trim_end_matches(',')),
            )],
        )],
        false,
    );
    assert_eq!(r.responses[0].error_code, 0);
    let all: Vec<_> = b.meta.topics["ia"]
        .configs
        .overrides()
        .map(|(_, v)| v.to_string())
        .collect();
    assert_eq!(all, [throttled(1000)]);
    assert!(all[0].len() > 5000);
}

#[test]
fn incremental_alter_refusals_in_kafkas_words() {
    let mut b = broker_with(&[]);
    topic(&mut b, "r", 2);
    type Case<'a> = (
        &'a str,
        Vec<(&'a str, i8, Option<&'a str>)>,
        ErrorCode,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "r",
            vec![("retention.ms", SET, Some("-5"))],
            ErrorCode::InvalidConfig,
            "Invalid value -5 for configuration retention.ms: Value must be at least -1",
        ),
        (
            "r",
            vec![("segment.bytes", SET, Some("abc"))],
            ErrorCode::InvalidConfig,
            "Invalid value abc for configuration segment.bytes: Expected value to be a 32-bit integer",
        ),
        (
            "r",
            vec![("no.such.key", SET, Some("1"))],
            ErrorCode::InvalidConfig,
            "Unknown topic config name: no.such.key",
        ),
        (
            "r",
            vec![("retention.ms", APPEND, Some("1"))],
            ErrorCode::InvalidConfig,
            "Can't APPEND to key retention.ms because its type is not LIST.",
        ),
        (
            "r",
            vec![("retention.ms", SUBTRACT, Some("1"))],
            ErrorCode::InvalidConfig,
            "Can't SUBTRACT to key retention.ms because its type is not LIST.",
        ),
        (
            "r",
            vec![("retention.ms", SET, Some("1")), ("retention.ms", DELETE, None)],
            ErrorCode::InvalidRequest,
            "Error due to duplicate config keys",
        ),
        (
            "r",
            vec![("retention.ms", SET, None), ("segment.ms", APPEND, None)],
            ErrorCode::InvalidRequest,
            "Null value not supported for : retention.ms, segment.ms",
        ),
        (
            "r",
            vec![("retention.ms", 9, Some("1"))],
            ErrorCode::InvalidRequest,
            "Unknown operations type 9",
        ),
        (
            "",
            vec![("retention.ms", SET, Some("1"))],
            ErrorCode::InvalidRequest,
            "Default topic resources are not allowed.",
        ),
        (
            "missing",
            vec![("retention.ms", SET, Some("1"))],
            ErrorCode::UnknownTopicOrPartition,
            "The topic 'missing' does not exist.",
        ),
    ];
    for (name, ops, want, message) in &cases {
        for validate_only in [false, true] {
            let r = incremental(&mut b, 1, &[(TOPIC, name, ops)], validate_only);
            let got = &r.responses[0];
            assert_eq!(got.error_code, code(*want), "{ops:?}: {got:?}");
            assert_eq!(got.error_message.as_deref(), Some(*message), "{ops:?}");
        }
    }
    // a bad value is checked before the topic's existence (as the controller does)
    let r = incremental(
        &mut b,
        1,
        &[(TOPIC, "missing", &[("retention.ms", SET, Some("x"))])],
        false,
    );
    assert_eq!(r.responses[0].error_code, code(ErrorCode::InvalidConfig));
    assert_eq!(
        b.meta.topics["r"].configs.overrides().count(),
        0,
        "nothing changed"
    );
    // a resource twice: both answers INVALID_REQUEST; another resource goes ahead
    let ops: IncOps<'_> = &[("retention.ms", SET, Some("5000"))];
    topic(&mut b, "s", 1);
    let r = incremental(
        &mut b,
        1,
        &[(TOPIC, "r", ops), (TOPIC, "s", ops), (TOPIC, "r", ops)],
        false,
    );
    let codes: Vec<_> = r.responses.iter().map(|x| x.error_code).collect();
    assert_eq!(
        codes,
        [
            code(ErrorCode::InvalidRequest),
            0,
            code(ErrorCode::InvalidRequest)
        ]
    );
    assert_eq!(
        r.responses[0].error_message.as_deref(),
        Some("Each resource must appear at most once.")
    );
    assert_eq!(b.logs.log("s", 0).unwrap().config().retention_ms, 5000);
    assert_eq!(
        b.logs.log("r", 0).unwrap().config().retention_ms,
        b.config().log.retention_ms
    );
    // validate_only of a good change: NONE, nothing changed
    let r = incremental(
        &mut b,
        0,
        &[(TOPIC, "r", &[("retention.ms", SET, Some("77"))])],
        true,
    );
    assert_eq!(r.responses[0].error_code, 0);
    assert_eq!(b.meta.topics["r"].configs.overrides().count(), 0);
}

#[test]
fn broker_resources_cannot_be_altered_at_runtime() {
    let mut b = broker_with(&[]);
    let resources: [(i8, &str, IncOps<'_>); 8] = [
        (
            BROKER,
            "1",
            &[
                ("num.partitions", SET, Some("3")),
                ("log.dirs", SET, Some("/x")),
            ],
        ),
        (BROKER, "", &[("num.partitions", SET, Some("3"))]),
        (BROKER, "1", &[("log.retention.ms", SET, Some("1000"))]),
        (BROKER, "1", &[("num.partitions", DELETE, None)]),
        (BROKER, "1", &[]),
        (BROKER, "2", &[("num.partitions", SET, Some("3"))]),
        (BROKER, "x", &[("num.partitions", SET, Some("3"))]),
        (BROKER, "1", &[("num.partitions", APPEND, Some("3"))]),
    ];
    let mut responses = Vec::new();
    for r in &resources {
        for validate_only in [true, false] {
            let got = incremental(&mut b, 1, &[*r], validate_only).responses;
            responses.push(got[0].clone());
        }
    }
    let r = IncrementalAlterConfigsResponse {
        responses: responses.into_iter().step_by(2).collect(),
        ..IncrementalAlterConfigsResponse::default()
    };
    let got: Vec<_> = r
        .responses
        .iter()
        .map(|x| {
            (
                ErrorCode::from_code(x.error_code).unwrap(),
                x.error_message.as_deref().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        got[0],
        (
            ErrorCode::InvalidRequest,
            "Cannot update these configs dynamically: [num.partitions, log.dirs]".to_string()
        )
    );
    assert_eq!(
        got[1].1,
        "Cannot update these configs dynamically: [num.partitions]"
    );
    assert_eq!(got[2].0, ErrorCode::InvalidRequest);
    assert!(
        got[2].1.contains("no dynamic broker configs"),
        "{}",
        got[2].1
    );
    assert_eq!(got[3], (ErrorCode::None, String::new()));
    assert_eq!(got[4], (ErrorCode::None, String::new()));
    assert_eq!(got[5].1, "Unexpected broker id, expected 1, but received 2");
    assert_eq!(got[6].1, "Node id must be an integer, but it is: x");
    assert_eq!(
        got[7],
        (
            ErrorCode::InvalidConfig,
            "Config value append is not allowed for config key: num.partitions".to_string()
        )
    );
    let r = legacy(
        &mut b,
        2,
        &[
            (BROKER, "1", &[("num.partitions", Some("3"))]),
            (8, "1", &[]),
        ],
        false,
    );
    assert_eq!(
        r.responses[0].error_message.as_deref(),
        Some("Cannot update these configs dynamically: [num.partitions]")
    );
    assert_eq!(
        r.responses[1].error_message.as_deref(),
        Some("Unknown resource type 8")
    );
    assert_eq!(b.config().num_partitions, 1);
}

#[test]
fn alter_configs_replaces_the_whole_override_set_at_every_version() {
    let mut b = broker_with(&[]);
    topic(&mut b, "la", 150);
    let big = throttled(700);
    for v in 0..=2i16 {
        let r = legacy(
            &mut b,
            v,
            &[(
                TOPIC,
                "la",
                &[
                    ("retention.ms", Some("1000")),
                    ("segment.ms", Some("2000")),
                    ("follower.replication.throttled.replicas", Some(&big)),
                ],
            )],
            false,
        );
        assert_eq!(r.responses[0].error_code, 0, "v{v}: {:?}", r.responses[0]);
        let r = legacy(
            &mut b,
            v,
            &[(TOPIC, "la", &[("segment.ms", Some("3000"))])],
            false,
        );
        assert_eq!(r.responses[0].error_code, 0);
        let o: Vec<_> = b.meta.topics["la"].configs.overrides().collect();
        assert_eq!(o, [("segment.ms", "3000")], "v{v}: the rest are removed");
        let c = b.logs.log("la", 149).unwrap().config();
        assert_eq!(
            (c.segment_ms, c.retention_ms),
            (3000, b.config().log.retention_ms)
        );
    }
    let cases: Vec<(LegacyPairs<'_>, ErrorCode, &str)> = vec![
        (
            &[("segment.ms", Some("0"))],
            ErrorCode::InvalidConfig,
            "Invalid value 0 for configuration segment.ms: Value must be at least 1",
        ),
        (
            &[("segment.ms", None)],
            ErrorCode::InvalidRequest,
            "Null value not supported for : segment.ms",
        ),
        (
            &[("bogus", Some("1"))],
            ErrorCode::InvalidConfig,
            "Unknown topic config name: bogus",
        ),
    ];
    for (pairs, want, message) in cases {
        let r = legacy(&mut b, 1, &[(TOPIC, "la", pairs)], false);
        assert_eq!(r.responses[0].error_code, code(want), "{pairs:?}");
        assert_eq!(r.responses[0].error_message.as_deref(), Some(message));
    }
    // validate_only checks and changes nothing
    let r = legacy(&mut b, 2, &[(TOPIC, "la", &[])], true);
    assert_eq!(r.responses[0].error_code, 0);
    assert_eq!(b.meta.topics["la"].configs.overrides().count(), 1);
    let r = legacy(&mut b, 2, &[(TOPIC, "gone", &[])], false);
    assert_eq!(
        r.responses[0].error_code,
        code(ErrorCode::UnknownTopicOrPartition)
    );
}

#[test]
fn altered_configs_survive_a_restart() {
    let mut b = broker_with(&[]);
    topic(&mut b, "keep", 100);
    let big = throttled(600);
    let r = incremental(
        &mut b,
        1,
        &[(
            TOPIC,
            "keep",
            &[
                ("retention.ms", SET, Some("999000")),
                ("message.timestamp.type", SET, Some("LogAppendTime")),
                ("leader.replication.throttled.replicas", SET, Some(&big)),
            ],
        )],
        false,
    );
    assert_eq!(r.responses[0].error_code, 0);
    let mut b = restart(b);
    let o: Pairs = b.meta.topics["keep"]
        .configs
        .overrides()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(o.len(), 3);
    assert!(o.contains(&(
        "leader.replication.throttled.replicas".to_string(),
        big.clone()
    )));
    for p in [0, 99] {
        let c = b.logs.log("keep", p).unwrap().config();
        assert_eq!(c.retention_ms, 999_000);
        assert_eq!(
            c.message_timestamp_type,
            crate::config::TimestampType::LogAppendTime
        );
    }
    let r = describe(
        &mut b,
        4,
        &[(TOPIC, "keep", Some(&["retention.ms"]))],
        false,
        false,
    );
    assert_eq!(value_of(&r.results[0], "retention.ms"), Some("999000"));
    assert_eq!(r.results[0].configs[0].config_source, 1);
}

type Pairs = Vec<(String, String)>;

// ---------------------------------------------------------------------------------------
// DeleteRecords

#[test]
fn delete_records_moves_the_log_start_at_every_version() {
    let mut b = broker_with(&[]);
    topic(&mut b, "dr", 200);
    for p in 0..200 {
        fill(&mut b, "dr", p, 3, 10, 100);
    }
    for v in 0..=2i16 {
        let base = i64::from(v) * 5;
        let asks: Vec<(&str, i32, i64)> = (0..200)
            .map(|p| ("dr", p, base + i64::from(p % 7)))
            .collect();
        let r = delete_records(&mut b, v, &asks);
        assert_eq!(r.topics.len(), 1);
        assert_eq!(r.topics[0].partitions.len(), 200);
        for (p, res) in r.topics[0].partitions.iter().enumerate() {
            let want = base + (p as i64 % 7);
            assert_eq!((res.partition_index, res.error_code), (p as i32, 0), "v{v}");
            // never moved down: an earlier version may have moved it further
            let start = b.logs.log("dr", p as i32).unwrap().log_start_offset() as i64;
            assert_eq!(res.low_watermark, start);
            assert!(start >= want, "v{v} p{p}");
        }
    }
    // -1 is the high watermark; above it OFFSET_OUT_OF_RANGE; other negatives too
    b.logs.log_mut("dr", 1).unwrap().set_high_watermark(25);
    let r = delete_records(
        &mut b,
        2,
        &[
            ("dr", 0, -1),
            ("dr", 1, 26),
            ("dr", 2, -2),
            ("dr", 200, 0),
            ("nope", 0, 0),
            ("dr", 3, 0),
        ],
    );
    let got: Vec<_> = r
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (p.error_code, p.low_watermark)))
        .collect();
    assert_eq!(
        got,
        [
            (0, 30),
            (code(ErrorCode::OffsetOutOfRange), -1),
            (code(ErrorCode::OffsetOutOfRange), -1),
            (code(ErrorCode::UnknownTopicOrPartition), -1),
            (code(ErrorCode::UnknownTopicOrPartition), -1),
            (0, b.logs.log("dr", 3).unwrap().log_start_offset() as i64),
        ]
    );
    assert_eq!(b.logs.log("dr", 1).unwrap().log_start_offset(), 11);
    let errs = &b.metrics().apis[&ApiKey::DeleteRecords.key()].errors;
    assert_eq!(errs[&ErrorCode::OffsetOutOfRange], 2);
}

#[test]
fn deleting_a_topic_answers_the_fetches_waiting_on_it() {
    use kproto::messages::fetch::request::{FetchPartition, FetchTopic};
    use kproto::messages::FetchRequest;

    let mut b = broker_with(&[]);
    topic(&mut b, "w", 3);
    let leo = fill(&mut b, "w", 1, 2, 100, 1000) as i64;
    let req = FetchRequest {
        replica_id: -1,
        max_wait_ms: 30_000,
        min_bytes: 1,
        max_bytes: 50 << 20,
        session_epoch: -1,
        topics: vec![FetchTopic {
            topic: KStr::from("w"),
            partitions: (0..3)
                .map(|p| FetchPartition {
                    partition: p,
                    fetch_offset: if p == 1 { leo } else { 0 },
                    partition_max_bytes: 1 << 20,
                    current_leader_epoch: -1,
                    last_fetched_epoch: -1,
                    log_start_offset: -1,
                    ..FetchPartition::default()
                })
                .collect(),
            ..FetchTopic::default()
        }],
        ..FetchRequest::default()
    };
    let body = RequestBody::Fetch(Box::new(req));
    let h = super::tests::header(ApiKey::Fetch, 12, 55);
    let got = b.handle_frame(9, super::tests::frame(&h, &body), NOW);
    assert_eq!(got, super::Handled::Pending);
    assert!(b.poll_completed().is_none());
    let r = delete_topics(&mut b, 6, &["w"], &[]);
    assert_eq!(r.responses[0].error_code, 0);
    let (conn, bytes) = b.poll_completed().expect("answered by the deletion");
    assert_eq!(conn, 9);
    let (_, body) = super::tests::decode_answer(&bytes, ApiKey::Fetch, 12);
    let ResponseBody::Fetch(f) = body else {
        panic!("{body:?}")
    };
    let codes: Vec<_> = f.responses[0]
        .partitions
        .iter()
        .map(|p| p.error_code)
        .collect();
    assert_eq!(codes, [code(ErrorCode::UnknownTopicOrPartition); 3]);
    assert_eq!(b.metrics().delayed_fetches, 0);
}

#[test]
fn answered_admin_changes_survive_a_crash() {
    // what was answered is in the synced metadata file: a crash right after loses none of it
    let mut b = broker_with(&[]);
    topic(&mut b, "gone", 30);
    topic(&mut b, "grown", 2);
    topic(&mut b, "tuned", 5);
    fill(&mut b, "grown", 1, 2, 50, 1500);
    assert_eq!(
        delete_topics(&mut b, 6, &["gone"], &[]).responses[0].error_code,
        0
    );
    let r = create_partitions(&mut b, 3, vec![grow("grown", 90, None)], false);
    assert_eq!(r.results[0].error_code, 0);
    let r = incremental(
        &mut b,
        1,
        &[(TOPIC, "tuned", &[("segment.bytes", SET, Some("2097152"))])],
        false,
    );
    assert_eq!(r.responses[0].error_code, 0);
    let cfg = b.config().clone();
    let crashed = b.logs.storage_mut().crash();
    let b = Broker::open(crashed, cfg, 42, NOW).unwrap().0;
    assert!(!b.meta.topics.contains_key("gone"));
    assert!(b.logs.logs().all(|((t, _), _)| t != "gone"));
    assert_eq!(b.meta.topics["grown"].partitions, 90);
    assert!(b.logs.log("grown", 89).is_some());
    assert_eq!(
        b.logs.log("tuned", 4).unwrap().config().segment_bytes,
        2_097_152
    );
    assert_eq!(b.metrics().partition_count, 95);
}

#[test]
fn a_deleted_topic_recreated_under_its_name_starts_empty_with_a_new_id() {
    let mut b = broker_with(&[]);
    let old = topic(&mut b, "again", 3);
    for p in 0..3 {
        fill(&mut b, "again", p, 4, 50, 500);
    }
    assert_eq!(
        delete_topics(&mut b, 6, &["again"], &[]).responses[0].error_code,
        0
    );
    let new = topic(&mut b, "again", 3);
    assert_ne!(new, old);
    for p in 0..3 {
        let log = b.logs.log("again", p).unwrap();
        assert_eq!(
            log.log_end_offset(),
            0,
            "partition {p}: the old data is gone"
        );
    }
    // and after a restart too: the files went with the topic
    let mut b = restart(b);
    for p in 0..3 {
        assert_eq!(b.logs.log("again", p).unwrap().log_end_offset(), 0);
    }
    assert_eq!(b.logs.topic_id("again"), Some(new));
    fill(&mut b, "again", 0, 1, 10, 100);
    assert_eq!(b.logs.log("again", 0).unwrap().log_end_offset(), 10);
}

#[test]
fn deleted_records_stay_deleted_across_restarts_clean_and_unclean() {
    let mut b = broker_with(&[]);
    topic(&mut b, "lso", 4);
    for p in 0..4 {
        fill(&mut b, "lso", p, 5, 40, 300);
    }
    let asks: Vec<(&str, i32, i64)> = (0..4).map(|p| ("lso", p, 17 + i64::from(p) * 30)).collect();
    let r = delete_records(&mut b, 2, &asks);
    assert!(r.topics[0].partitions.iter().all(|p| p.error_code == 0));
    // a clean restart: log-start-offset-checkpoint has them
    let mut b = restart(b);
    for p in 0..4 {
        assert_eq!(
            b.logs.log("lso", p).unwrap().log_start_offset(),
            17 + p as u64 * 30,
            "partition {p}"
        );
    }
    // an unclean one after the checkpoint interval's maintenance wrote the file
    let r = delete_records(&mut b, 2, &[("lso", 0, 150)]);
    assert_eq!(r.topics[0].partitions[0].error_code, 0);
    let due = b.poll_timeout().unwrap();
    b.handle_timeout(due.max(NOW + 60_000));
    let cfg = b.config().clone();
    let crashed = b.logs.storage_mut().crash();
    drop(b);
    let b = Broker::open(crashed, cfg, 42, NOW).unwrap().0;
    assert_eq!(b.logs.log("lso", 0).unwrap().log_start_offset(), 150);
    assert_eq!(b.logs.log("lso", 3).unwrap().log_start_offset(), 107);
}
