//! klog reads the log directory files a real Kafka 4.4.0 broker wrote (`meta.properties`,
//! each partition's `partition.metadata`, `.kafka_cleanshutdown` after a clean stop) and writes
//! `partition.metadata` byte for byte as Kafka does. The broker run is the shared
//! transactional fixture (`tests/src/kafka_dirs.rs`); fails, never skips, without Kafka.

use std::fs;

use integration_tests::kafka_dirs::kafka_txn_dir;
use klog::log_dir::{
    parse_partition_dir, CleanShutdown, MetaProperties, PartitionMetadata, CLEAN_SHUTDOWN,
    META_PROPERTIES, PARTITION_METADATA,
};

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
