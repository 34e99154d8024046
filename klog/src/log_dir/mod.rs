//! A Kafka log directory (one `log.dirs` entry) and the partitions in it: Kafka's `LogManager`
//! ([`LogManager`]) over one [`Storage`](crate::Storage), and the directory's own files in
//! Kafka 4.4.0's formats (`meta.properties`, `partition.metadata`, `.kafka_cleanshutdown`,
//! directory names).
//!
//! ```
//! use klog::log_dir::{LogManager, LogManagerConfig};
//! use klog::{LogConfig, MemStorage};
//! use kproto::Uuid;
//!
//! let cfg = LogManagerConfig::new(1, "a2xvZy1rYWZrYS10ZXN0MA".into(), Uuid([7; 16]));
//! let st = MemStorage::new();
//! let (mut dir, report) = LogManager::open(st.clone(), cfg.clone(), &|_| LogConfig::default(), 0).unwrap();
//! assert!(report.partitions.is_empty());
//! dir.create_log("orders", 0, Uuid([1; 16]), LogConfig::default(), 0).unwrap();
//! let st = dir.shutdown(10).unwrap();
//! let (dir, report) = LogManager::open(st, cfg, &|_| LogConfig::default(), 20).unwrap();
//! assert!(report.had_clean_shutdown);
//! assert_eq!(dir.topic_id("orders"), Some(Uuid([1; 16])));
//! ```

mod dir_name;
mod files;
mod maintenance;
mod manager;
#[cfg(test)]
mod tests;

pub use dir_name::{
    parse_dir_name, parse_partition_dir, set_aside_dir_name, DirKind, PartitionDirName,
};
pub use files::{
    CleanShutdown, LogDirFileError, MetaProperties, PartitionMetadata, CLEAN_SHUTDOWN,
    META_PROPERTIES, PARTITION_METADATA,
};
pub use maintenance::MaintenanceReport;
pub use manager::{
    LogDirError, LogDirReport, LogManager, LogManagerConfig, PartitionReport,
    LOG_START_OFFSET_CHECKPOINT, RECOVERY_POINT_CHECKPOINT,
};
