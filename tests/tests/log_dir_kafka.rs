//! The log directory layer against Kafka 4.4.0 itself: klog reads the log directory files a
//! real broker wrote (`meta.properties`, each partition's `partition.metadata`,
//! `.kafka_cleanshutdown` after a clean stop) and writes `partition.metadata` byte for byte as
//! Kafka does; klog's `LogManager` opens the directory the broker wrote (clean, and as a crash
//! left it) with every partition and offset right; and Kafka's own classes
//! (`OffsetCheckpointFile`, `PartitionMetadataFile`, `CleanShutdownFileHandler`,
//! `MetaProperties`, and its `LogManager` loading every partition,
//! `tests/java/kafka/KlogLogDirReader.java`) read the directory klog's `LogManager` wrote, after
//! a clean shutdown and without its marker. The broker run is the shared transactional fixture
//! (`tests/src/kafka_dirs.rs`); fails, never skips, without Kafka.

// A test harness: it reads the clock and the file system.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use integration_tests::kafka::{run_java, KafkaInstall, TempDir};
use integration_tests::kafka_dirs::{copy_tree, kafka_txn_dir, TOPIC};
use klog::checkpoint;
use klog::log_dir::{
    parse_partition_dir, CleanShutdown, LogManager, LogManagerConfig, MetaProperties,
    PartitionMetadata, CLEAN_SHUTDOWN, LOG_START_OFFSET_CHECKPOINT, META_PROPERTIES,
    PARTITION_METADATA, RECOVERY_POINT_CHECKPOINT,
};
use klog::{FsStorage, LogConfig};
use kproto::records::{BatchBuilder, BatchConfig, Compression};
use kproto::testing::Rng;
use kproto::Uuid;

#[test]
fn kafkas_log_dir_files_read_and_partition_metadata_written_byte_for_byte() {
    let dir = kafka_txn_dir();
    let root = &dir.root;
    let text = |p: &std::path::Path| {
        fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    };

    let meta = MetaProperties::parse(&text(&root.join(META_PROPERTIES))).expect("meta.properties");
    assert_eq!(meta.node_id, 1, "{meta:?}");
    assert!(!meta.cluster_id.is_empty());
    assert!(
        meta.directory_id.is_some(),
        "Kafka 4.4 writes a directory id"
    );
    // Ours reads back as the same, and Kafka's without its date comment is ours.
    assert_eq!(MetaProperties::parse(&meta.render()).unwrap(), meta);

    let marker = root.join(CLEAN_SHUTDOWN);
    let clean = CleanShutdown::parse(&text(&marker))
        .unwrap_or_else(|| panic!("{}: {:?}", marker.display(), text(&marker)));
    assert!(clean.broker_epoch >= 0, "{clean:?}");
    assert_eq!(CleanShutdown::parse(&clean.render()), Some(clean));

    let mut partitions = 0;
    for entry in fs::read_dir(root).expect("read log dir") {
        let entry = entry.expect("dir entry");
        let name = entry.file_name().into_string().expect("utf-8 name");
        if !entry.path().is_dir() {
            continue;
        }
        let (topic, partition) = parse_partition_dir(&name)
            .unwrap_or_else(|| panic!("{name} is a partition directory of Kafka's"));
        assert!(!topic.is_empty() && partition >= 0);
        let path = entry.path().join(PARTITION_METADATA);
        let kafka = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let m = PartitionMetadata::parse(std::str::from_utf8(&kafka).expect("utf-8"))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            m.render().as_bytes(),
            kafka.as_slice(),
            "{}",
            path.display()
        );
        partitions += 1;
    }
    // kdir-txn-0, __transaction_state-0 and __cluster_metadata-0 at least.
    assert!(
        partitions >= 3,
        "{partitions} partition directories in {}",
        root.display()
    );
}

/// Every partition's entry in a checkpoint file Kafka (or klog) wrote.
fn checkpoint_entries(root: &Path, name: &str) -> BTreeMap<(String, i32), u64> {
    let text = fs::read_to_string(root.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    checkpoint::parse(name, &text)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .into_iter()
        .map(|e| ((e.topic, e.partition), e.offset))
        .collect()
}

/// A log directory layer configuration for node 1 of the fixture's cluster.
fn manager_config(directory_id: Uuid) -> LogManagerConfig {
    LogManagerConfig::new(1, "a2xvZy1rYWZrYS10ZXN0MA".into(), directory_id)
}

#[test]
fn klogs_log_manager_opens_the_directory_kafka_wrote_with_every_partition_and_offset() {
    let dir = kafka_txn_dir();
    let tmp = TempDir::new("klog-logdir-from-kafka");
    let root = tmp.path().join("clean");
    copy_tree(&dir.root, &root);
    let recovery = checkpoint_entries(&root, RECOVERY_POINT_CHECKPOINT);
    let starts = checkpoint_entries(&root, LOG_START_OFFSET_CHECKPOINT);
    let kafka_meta =
        MetaProperties::parse(&fs::read_to_string(root.join(META_PROPERTIES)).unwrap()).unwrap();
    let topic_cfg = |_: &str| LogConfig {
        retention_ms: -1,
        ..LogConfig::default()
    };
    let (mgr, report) = LogManager::open(
        FsStorage::new(&root).unwrap(),
        manager_config(Uuid([1; 16])),
        &topic_cfg,
        dir.records.last().map_or(0, |r| r.timestamp),
    )
    .unwrap();
    assert!(report.had_clean_shutdown, "{report:?}");
    assert!(
        !root.join(CLEAN_SHUTDOWN).exists(),
        "deleted on open, as Kafka does"
    );
    assert!(!report.wrote_meta_properties, "Kafka's file is complete");
    assert_eq!(mgr.meta(), &kafka_meta);
    assert!(
        report.made_stray.is_empty() && report.deleted_dirs.is_empty(),
        "{report:?}"
    );
    // every partition of the checkpoint (the metadata log excepted) is opened, at Kafka's offsets
    let opened: BTreeMap<(String, i32), (u64, u64)> = report
        .partitions
        .iter()
        .map(|p| {
            (
                (p.topic.clone(), p.partition),
                (p.log_start_offset, p.log_end_offset),
            )
        })
        .collect();
    let want: BTreeMap<(String, i32), (u64, u64)> = recovery
        .iter()
        .filter(|((t, _), _)| t != "__cluster_metadata")
        .map(|(k, rp)| (k.clone(), (starts.get(k).copied().unwrap_or(0), *rp)))
        .collect();
    assert_eq!(opened, want);
    assert!(opened.contains_key(&(TOPIC.to_string(), 0)));
    assert!(opened.contains_key(&("__transaction_state".to_string(), 0)));
    for p in &report.partitions {
        assert!(p.recovery.recovered_segments.is_empty(), "{p:?}");
        assert!(p.recovery.rebuilt_indexes.is_empty(), "{p:?}");
        let md = fs::read_to_string(
            root.join(format!("{}-{}", p.topic, p.partition))
                .join(PARTITION_METADATA),
        )
        .unwrap();
        assert_eq!(p.topic_id, PartitionMetadata::parse(&md).unwrap().topic_id);
        assert_eq!(mgr.topic_id(&p.topic), Some(p.topic_id));
    }
    let log = mgr.log(TOPIC, 0).unwrap();
    assert_eq!(log.log_end_offset(), dir.log_end_offset);
    assert_eq!(log.recovery_point(), dir.log_end_offset);

    // as a crash left it: no marker, the partition copied while the broker ran
    let crashed = tmp.path().join("crashed");
    copy_tree(&dir.root, &crashed);
    fs::remove_file(crashed.join(CLEAN_SHUTDOWN)).unwrap();
    let part = crashed.join(format!("{TOPIC}-0"));
    fs::remove_dir_all(&part).unwrap();
    copy_tree(&dir.unclean_partition, &part);
    fs::copy(
        dir.partition.join(PARTITION_METADATA),
        part.join(PARTITION_METADATA),
    )
    .ok();
    let (mgr, report) = LogManager::open(
        FsStorage::new(&crashed).unwrap(),
        manager_config(Uuid([1; 16])),
        &topic_cfg,
        0,
    )
    .unwrap();
    assert!(!report.had_clean_shutdown);
    let p = report.partitions.iter().find(|p| p.topic == TOPIC).unwrap();
    assert!(!p.recovery.recovered_segments.is_empty(), "{p:?}");
    assert_eq!(
        mgr.log(TOPIC, 0).unwrap().log_end_offset(),
        dir.log_end_offset
    );
}

/// What Kafka's classes read from a log directory (`KlogLogDirReader`'s lines).
#[derive(Debug, Default)]
struct KafkaView {
    meta: String,
    clean: String,
    checkpoints: BTreeMap<(String, String, i32), u64>,
    metadata: BTreeMap<String, String>,
    logs: BTreeMap<(String, i32), KafkaLog>,
}

/// A partition as Kafka's `LogManager` loaded it.
#[derive(Debug, PartialEq, Eq)]
struct KafkaLog {
    log_start_offset: u64,
    log_end_offset: u64,
    recovery_point: u64,
    topic_id: String,
    segments: usize,
}

fn read_with_kafka(root: &Path, topics: &[&str]) -> KafkaView {
    let install = KafkaInstall::locate();
    let src = integration_tests::repo_root().join("tests/java/kafka/KlogLogDirReader.java");
    let mut args = vec![root.to_str().unwrap()];
    args.extend_from_slice(topics);
    let work = TempDir::new("klog-logdir-java");
    let out = run_java(
        &install.classpath(),
        work.path(),
        src.to_str().unwrap(),
        &args,
        Duration::from_secs(240),
    )
    .expect_success("KlogLogDirReader");
    let mut v = KafkaView::default();
    let mut done = false;
    for line in out.stdout.lines() {
        let w: Vec<&str> = line.split(' ').collect();
        let num = |s: &str| -> u64 { s.parse().unwrap_or_else(|_| panic!("{line:?}")) };
        match w[0] {
            "meta" => v.meta = w[1..].join(" "),
            "clean" => v.clean = w[1..].join(" "),
            "checkpoint" => {
                v.checkpoints
                    .insert((w[1].into(), w[2].into(), w[3].parse().unwrap()), num(w[4]));
            }
            "metadata" => {
                v.metadata.insert(w[1].into(), w[2].into());
            }
            "log" => {
                v.logs.insert(
                    (w[1].into(), w[2].parse().unwrap()),
                    KafkaLog {
                        log_start_offset: num(w[3]),
                        log_end_offset: num(w[4]),
                        recovery_point: num(w[5]),
                        topic_id: w[6].into(),
                        segments: w[7].parse().unwrap(),
                    },
                );
            }
            "done" => done = true,
            _ => panic!("unexpected KlogLogDirReader line {line:?}"),
        }
    }
    assert!(
        done,
        "KlogLogDirReader did not finish:\n{}\n{}",
        out.stdout, out.stderr
    );
    v
}

#[test]
fn kafka_reads_the_checkpoints_and_partitions_klogs_log_manager_wrote() {
    let tmp = TempDir::new("klog-logdir-to-kafka");
    let root = tmp.path().join("dir");
    let directory_id = Uuid([0x42; 16]);
    let topics: [(&str, i32); 3] = [("orders", 4), ("payments.eu", 3), ("audit_log-v2", 2)];
    let topic_id = |t: &str| {
        let mut id = [0x11u8; 16];
        for (i, b) in t.bytes().enumerate() {
            id[i % 16] = id[i % 16].wrapping_mul(31).wrapping_add(b);
        }
        Uuid(id)
    };
    let log_cfg = LogConfig {
        segment_bytes: 256 << 10,
        retention_ms: -1,
        ..LogConfig::default()
    };
    let now = 1_700_000_000_000i64;
    let (mut mgr, report) = LogManager::open(
        FsStorage::new(&root).unwrap(),
        manager_config(directory_id),
        &|_| log_cfg.clone(),
        now,
    )
    .unwrap();
    assert!(report.wrote_meta_properties);
    let mut rng = Rng::new(2026);
    let codecs = [
        Compression::None,
        Compression::Gzip,
        Compression::Lz4,
        Compression::Zstd,
    ];
    let mut batch_starts: BTreeMap<(String, i32), Vec<u64>> = BTreeMap::new();
    for (t, parts) in topics {
        for p in 0..parts {
            let log = mgr
                .create_log(t, p, topic_id(t), log_cfg.clone(), now)
                .unwrap();
            for b in 0..(6 + p as usize * 3) {
                let mut builder = BatchBuilder::new(BatchConfig {
                    compression: codecs[(b + p as usize) % codecs.len()],
                    write_limit: 4 << 20,
                    ..BatchConfig::default()
                });
                for r in 0..(50 + rng.below(250)) {
                    let value: Vec<u8> = (0..(200 + rng.below(3000)))
                        .map(|i| b"abcdefghij klmnopqrstuvwxyz"[((i + r) % 27) as usize])
                        .collect();
                    let key = format!("key-{r}");
                    builder
                        .try_append(now + r as i64, Some(key.as_bytes()), Some(&value), &[])
                        .unwrap();
                }
                let mut bytes = builder.finish().unwrap();
                let info = log.append(&mut bytes, now).unwrap();
                batch_starts
                    .entry((t.into(), p))
                    .or_default()
                    .push(info.first_offset);
            }
        }
    }
    // DeleteRecords on orders-1: its log start moves to a batch inside a later segment
    let o1 = mgr.log_mut("orders", 1).unwrap();
    assert!(o1.segment_count() >= 2, "{}", o1.segment_count());
    let start = batch_starts[&("orders".to_string(), 1)][5];
    o1.set_high_watermark(o1.log_end_offset());
    o1.increment_log_start_offset(start).unwrap();
    let ours: BTreeMap<(String, i32), (u64, u64, String, usize)> = mgr
        .logs()
        .map(|((t, p), l)| {
            (
                (t.to_string(), p),
                (
                    l.log_start_offset(),
                    l.log_end_offset(),
                    topic_id(t).to_kafka_string(),
                    l.segment_count(),
                ),
            )
        })
        .collect();
    assert_eq!(ours.len(), 9);
    mgr.shutdown(now + 1000).unwrap();
    let unclean = tmp.path().join("unclean");
    copy_tree(&root, &unclean);
    fs::remove_file(unclean.join(CLEAN_SHUTDOWN)).unwrap();

    let names: Vec<&str> = topics.iter().map(|(t, _)| *t).collect();
    let v = read_with_kafka(&root, &names);
    assert_eq!(
        v.meta,
        format!(
            "1 a2xvZy1rYWZrYS10ZXN0MA {}",
            directory_id.to_kafka_string()
        )
    );
    assert_eq!(
        v.clean, "true -1",
        "our .kafka_cleanshutdown, read by Kafka"
    );
    for ((t, p), (start, end, id, segments)) in &ours {
        let rp = v.checkpoints[&(RECOVERY_POINT_CHECKPOINT.to_string(), t.clone(), *p)];
        assert_eq!(
            rp, *end,
            "{t}-{p}: Kafka's OffsetCheckpointFile read our recovery point"
        );
        assert_eq!(
            v.metadata[&format!("{t}-{p}")],
            *id,
            "{t}-{p}: partition.metadata"
        );
        let want = KafkaLog {
            log_start_offset: *start,
            log_end_offset: *end,
            recovery_point: *end,
            topic_id: id.clone(),
            segments: *segments,
        };
        assert_eq!(
            v.logs[&(t.clone(), *p)],
            want,
            "{t}-{p}: Kafka's LogManager loaded it"
        );
    }
    assert_eq!(
        v.logs.len(),
        ours.len(),
        "Kafka loaded every partition and no other"
    );
    let starts: Vec<_> = v
        .checkpoints
        .iter()
        .filter(|((f, _, _), _)| f == LOG_START_OFFSET_CHECKPOINT)
        .collect();
    assert_eq!(starts.len(), 1, "{starts:?}");
    assert_eq!(*starts[0].1, start);

    // without the marker Kafka recovers from our recovery points, to the same offsets
    let u = read_with_kafka(&unclean, &names);
    assert_eq!(u.clean, "false none");
    for ((t, p), (start, end, _, _)) in &ours {
        let k = &u.logs[&(t.clone(), *p)];
        assert_eq!(
            (k.log_start_offset, k.log_end_offset),
            (*start, *end),
            "{t}-{p}: Kafka's recovery"
        );
    }

    // and what Kafka's LogManager left at its shutdown, klog's opens again, cleanly
    let (mgr, report) = LogManager::open(
        FsStorage::new(&root).unwrap(),
        manager_config(directory_id),
        &|_| log_cfg.clone(),
        now + 2000,
    )
    .unwrap();
    assert!(report.had_clean_shutdown, "Kafka wrote its marker");
    for ((t, p), (start, end, _, _)) in &ours {
        let log = mgr.log(t, *p).unwrap();
        assert_eq!(
            (log.log_start_offset(), log.log_end_offset()),
            (*start, *end),
            "{t}-{p}"
        );
    }
}
