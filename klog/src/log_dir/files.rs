//! The files of a Kafka log directory (`log.dirs` entry) besides the partitions' segments, in
//! Kafka 4.4.0's formats: `meta.properties` (the directory's cluster id, node id and directory
//! id), each partition's `partition.metadata` (its topic id) and `.kafka_cleanshutdown` (the
//! marker of a clean stop, with the broker epoch). Parse and render only; the
//! [`LogManager`](super::LogManager) reads and writes them.

use alloc::format;
use alloc::string::{String, ToString};

use kproto::Uuid;

use crate::broker::properties::parse_properties;

/// `meta.properties`: the file name.
pub const META_PROPERTIES: &str = "meta.properties";
/// A partition's `partition.metadata`: the file name.
pub const PARTITION_METADATA: &str = "partition.metadata";
/// `.kafka_cleanshutdown`: the file name.
pub const CLEAN_SHUTDOWN: &str = ".kafka_cleanshutdown";

/// A file of the log directory that is not in Kafka's format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LogDirFileError {
    /// A line is not what the format has there (Kafka's "Malformed line in checkpoint file").
    #[error("{file}: malformed line {line:?}: {expected}")]
    Malformed {
        /// The file's name.
        file: &'static str,
        /// The line (or text) as read.
        line: String,
        /// What belongs there.
        expected: &'static str,
    },
    /// A version this code does not know.
    #[error("{file}: unsupported version {version}")]
    Version {
        /// The file's name.
        file: &'static str,
        /// The version read.
        version: i64,
    },
}

fn malformed(file: &'static str, line: &str, expected: &'static str) -> LogDirFileError {
    LogDirFileError::Malformed {
        file,
        line: line.into(),
        expected,
    }
}

/// A partition's `partition.metadata` (Kafka's `PartitionMetadataFile`): version 0 and the
/// topic id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionMetadata {
    /// The topic's id (never the zero UUID).
    pub topic_id: Uuid,
}

impl PartitionMetadata {
    /// The file's text, as Kafka writes it: `version: 0\ntopic_id: <id>` (no final newline).
    pub fn render(&self) -> String {
        format!("version: 0\ntopic_id: {}", self.topic_id.to_kafka_string())
    }

    /// Reads the file's text as Kafka's `PartitionMetadataReadBuffer` does: `name: value`
    /// lines (white space after the colon), a version of 0 or more, a non-zero topic id.
    pub fn parse(text: &str) -> Result<PartitionMetadata, LogDirFileError> {
        const F: &str = PARTITION_METADATA;
        let mut lines = text.lines();
        let value = |line: Option<&str>, name: &str| -> Result<String, LogDirFileError> {
            let line = line.unwrap_or("");
            let (k, v) = line
                .split_once(':')
                .ok_or_else(|| malformed(F, line, "name: value"))?;
            if k != name || !v.starts_with(char::is_whitespace) || v.trim().is_empty() {
                return Err(malformed(F, line, "name: value"));
            }
            Ok(v.trim().to_string())
        };
        let version_line = lines.next();
        let version: i64 = value(version_line, "version")?
            .parse()
            .map_err(|_| malformed(F, version_line.unwrap_or(""), "version: <int>"))?;
        if version < 0 {
            return Err(LogDirFileError::Version { file: F, version });
        }
        let id_line = lines.next();
        let id = value(id_line, "topic_id")?;
        let topic_id = Uuid::from_kafka_string(&id)
            .map_err(|_| malformed(F, id_line.unwrap_or(""), "topic_id: <base64 UUID>"))?;
        if topic_id == Uuid::ZERO {
            return Err(malformed(F, id_line.unwrap_or(""), "a non-zero topic id"));
        }
        Ok(PartitionMetadata { topic_id })
    }
}

/// `meta.properties` of a KRaft log directory (Kafka's `MetaProperties`, version 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetaProperties {
    /// `cluster.id`.
    pub cluster_id: String,
    /// `node.id`.
    pub node_id: i32,
    /// `directory.id`, when present.
    pub directory_id: Option<Uuid>,
}

impl MetaProperties {
    /// The file's text: a properties file as Java's `Properties.store` writes it, without its
    /// date comment line (this code reads no clock), keys in Kafka's usual order.
    pub fn render(&self) -> String {
        let mut s = String::from("#\n");
        s.push_str(&format!("node.id={}\n", self.node_id));
        if let Some(d) = self.directory_id {
            s.push_str(&format!("directory.id={}\n", d.to_kafka_string()));
        }
        s.push_str("version=1\n");
        s.push_str(&format!("cluster.id={}\n", self.cluster_id));
        s
    }

    /// Reads the file's text as Kafka's `MetaProperties.Builder(Properties)` does for version
    /// 1 (KRaft): `node.id` and `cluster.id` required, `directory.id` optional.
    pub fn parse(text: &str) -> Result<MetaProperties, LogDirFileError> {
        const F: &str = META_PROPERTIES;
        let pairs = parse_properties(text)
            .map_err(|e| malformed(F, &e.to_string(), "a properties file"))?;
        let get = |k: &str| {
            pairs
                .iter()
                .rev()
                .find(|(pk, _)| pk == k)
                .map(|(_, v)| v.trim())
        };
        let version: i64 = get("version")
            .unwrap_or("0")
            .parse()
            .map_err(|_| malformed(F, get("version").unwrap_or(""), "version=<int>"))?;
        if version != 1 {
            return Err(LogDirFileError::Version { file: F, version });
        }
        let node = get("node.id").ok_or_else(|| malformed(F, text, "node.id=<int>"))?;
        let node_id = node
            .parse()
            .map_err(|_| malformed(F, node, "node.id=<int>"))?;
        let cluster_id = get("cluster.id")
            .filter(|c| !c.is_empty())
            .ok_or_else(|| malformed(F, text, "cluster.id=<id>"))?
            .to_string();
        let directory_id = match get("directory.id") {
            Some(d) => Some(
                Uuid::from_kafka_string(d)
                    .map_err(|_| malformed(F, d, "directory.id=<base64 UUID>"))?,
            ),
            None => None,
        };
        Ok(MetaProperties {
            cluster_id,
            node_id,
            directory_id,
        })
    }
}

/// `.kafka_cleanshutdown` (Kafka's `CleanShutdownFileHandler`): `{"version":0,"brokerEpoch":N}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CleanShutdown {
    /// The broker epoch at the stop (-1 when none).
    pub broker_epoch: i64,
}

impl CleanShutdown {
    /// The file's text, as Kafka's JSON encoder writes it.
    pub fn render(&self) -> String {
        format!("{{\"version\":0,\"brokerEpoch\":{}}}", self.broker_epoch)
    }

    /// Reads the marker. Kafka treats an unreadable marker as absent (it logs and recovers
    /// every partition), so a caller should too: this returns `None` for anything but a JSON
    /// object with an integer `brokerEpoch`.
    pub fn parse(text: &str) -> Option<CleanShutdown> {
        let t = text.trim();
        let body = t.strip_prefix('{')?.strip_suffix('}')?;
        let mut epoch = None;
        for field in body.split(',') {
            let (k, v) = field.split_once(':')?;
            match k.trim() {
                "\"brokerEpoch\"" => epoch = Some(v.trim().parse().ok()?),
                "\"version\"" => {
                    v.trim().parse::<i64>().ok()?;
                }
                _ => return None,
            }
        }
        Some(CleanShutdown {
            broker_epoch: epoch?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_metadata_as_kafka_writes_and_reads_it() {
        // A file Kafka 4.4.0 wrote (a test broker's topic).
        let kafka = "version: 0\ntopic_id: cS3ZFOwjS6yrsolwKs05bA";
        let m = PartitionMetadata::parse(kafka).unwrap();
        assert_eq!(m.render(), kafka);
        assert_eq!(m.topic_id.to_kafka_string(), "cS3ZFOwjS6yrsolwKs05bA");
        // Kafka's reader takes any white space after the colon and a newer version.
        assert!(
            PartitionMetadata::parse("version:\t1\ntopic_id:  cS3ZFOwjS6yrsolwKs05bA\n").is_ok()
        );
        for bad in [
            "",
            "version: 0",
            "version 0\ntopic_id: cS3ZFOwjS6yrsolwKs05bA",
            "version:0\ntopic_id: cS3ZFOwjS6yrsolwKs05bA",
            "version: x\ntopic_id: cS3ZFOwjS6yrsolwKs05bA",
            "version: 0\ntopic_id: AAAAAAAAAAAAAAAAAAAAAA",
            "version: 0\ntopic_id: not-a-uuid",
            "version: 0\ntopicid: cS3ZFOwjS6yrsolwKs05bA",
        ] {
            assert!(PartitionMetadata::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            PartitionMetadata::parse("version: -1\ntopic_id: cS3ZFOwjS6yrsolwKs05bA"),
            Err(LogDirFileError::Version {
                file: PARTITION_METADATA,
                version: -1
            })
        );
    }

    #[test]
    fn meta_properties_as_kafka_writes_and_reads_it() {
        // Kafka 4.4.0's own file (kafka-storage format, then the broker's start).
        let kafka = "#\n#Wed Dec 02 07:01:43 UTC 2026\nnode.id=1\ndirectory.id=kOtcXRbdf-B11psL7JcTHg\nversion=1\ncluster.id=a2xvZy1rYWZrYS10ZXN0MA\n";
        let m = MetaProperties::parse(kafka).unwrap();
        assert_eq!(m.node_id, 1);
        assert_eq!(m.cluster_id, "a2xvZy1rYWZrYS10ZXN0MA");
        assert_eq!(
            m.directory_id.unwrap().to_kafka_string(),
            "kOtcXRbdf-B11psL7JcTHg"
        );
        // Ours is Kafka's without the date line, and reads back the same.
        let ours = m.render();
        let without_date: String = kafka
            .lines()
            .filter(|l| !l.starts_with("#W"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(ours, without_date);
        assert_eq!(MetaProperties::parse(&ours).unwrap(), m);
        assert!(matches!(
            MetaProperties::parse("version=0\nbroker.id=1\n"),
            Err(LogDirFileError::Version { version: 0, .. })
        ));
        assert!(MetaProperties::parse("version=1\ncluster.id=x\n").is_err());
        assert!(MetaProperties::parse("version=1\nnode.id=one\ncluster.id=x\n").is_err());
        assert!(MetaProperties::parse("version=1\nnode.id=1\n").is_err());
        assert!(
            MetaProperties::parse("version=1\nnode.id=1\ncluster.id=x\ndirectory.id=zz\n").is_err()
        );
    }

    #[test]
    fn clean_shutdown_marker_as_kafka_writes_it() {
        let m = CleanShutdown { broker_epoch: 5 };
        assert_eq!(m.render(), "{\"version\":0,\"brokerEpoch\":5}");
        assert_eq!(CleanShutdown::parse(&m.render()), Some(m));
        assert_eq!(
            CleanShutdown::parse("{\"version\":0,\"brokerEpoch\":-1}\n"),
            Some(CleanShutdown { broker_epoch: -1 })
        );
        for bad in [
            "",
            "{}",
            "{\"version\":0}",
            "{\"brokerEpoch\":x}",
            "garbage",
            "{\"brokerEpoch\":1,\"other\":2}",
        ] {
            assert_eq!(CleanShutdown::parse(bad), None, "{bad:?}");
        }
    }
}
