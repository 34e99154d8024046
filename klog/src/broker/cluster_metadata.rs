//! What Kafka keeps in its KRaft metadata log and this broker keeps in one text file in the
//! log directory's root, `klog-cluster-metadata`: the cluster id, every topic (id, partition
//! count, config overrides) and the producer id block (Kafka's `ProducerIdsRecord`).
//!
//! Kafka's `LogManager.loadLogs` only looks at the root's directories (and its own files:
//! `meta.properties`, the checkpoints, `.kafka_cleanshutdown`), so the directory stays one a
//! Kafka broker can open. The file is rewritten whole and atomically: written to
//! `klog-cluster-metadata.tmp`, synced, renamed over the old one, the root synced.
//!
//! Format, one record per line (`#` starts a comment line):
//!
//! ```text
//! version=1
//! cluster.id=<22-character Kafka UUID>
//! uuids.drawn=<how many ids the seeded generator has given>
//! producer.ids.next=<the first producer id of the next block>
//! topic <name> <topic id> <partition count>
//! config <name> <key> <value, \ escaped as \\, newline as \n, carriage return as \r>
//! ```

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use kproto::Uuid;

use super::error::BrokerError;
use super::topic_config::TopicConfigs;
use crate::error::StorageError;
use crate::storage::Storage;

/// The file's name in the log directory's root.
pub const CLUSTER_METADATA_FILE: &str = "klog-cluster-metadata";
const TMP: &str = "klog-cluster-metadata.tmp";
/// The largest file accepted (a file this broker writes for ~100,000 topics stays under it).
const MAX_FILE_BYTES: u64 = 64 << 20;

/// One topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicMeta {
    pub(crate) id: Uuid,
    pub(crate) partitions: i32,
    pub(crate) configs: TopicConfigs,
}

/// The cluster's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterMetadata {
    pub(crate) cluster_id: String,
    pub(crate) uuids_drawn: u64,
    pub(crate) producer_ids_next: i64,
    pub(crate) topics: BTreeMap<String, TopicMeta>,
}

fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            c => s.push(c),
        }
    }
    s
}

fn unescape(v: &str) -> Option<String> {
    let mut s = String::with_capacity(v.len());
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next()? {
                '\\' => s.push('\\'),
                'n' => s.push('\n'),
                'r' => s.push('\r'),
                _ => return None,
            }
        } else {
            s.push(c);
        }
    }
    Some(s)
}

impl ClusterMetadata {
    /// A new cluster.
    pub(crate) fn new(cluster_id: String) -> Self {
        ClusterMetadata {
            cluster_id,
            uuids_drawn: 0,
            producer_ids_next: 0,
            topics: BTreeMap::new(),
        }
    }

    /// The file's text.
    pub(crate) fn render(&self) -> String {
        let mut s = String::from("# klog broker cluster metadata: topics, configs, producer ids\n");
        s.push_str("version=1\n");
        s.push_str(&format!("cluster.id={}\n", self.cluster_id));
        s.push_str(&format!("uuids.drawn={}\n", self.uuids_drawn));
        s.push_str(&format!("producer.ids.next={}\n", self.producer_ids_next));
        for (name, t) in &self.topics {
            s.push_str(&format!(
                "topic {name} {} {}\n",
                t.id.to_kafka_string(),
                t.partitions
            ));
            for (k, v) in t.configs.overrides() {
                s.push_str(&format!("config {name} {k} {}\n", escape(v)));
            }
        }
        s
    }

    /// Reads the file's text; every line is checked (a config must be valid, a topic listed
    /// once, before its configs).
    pub(crate) fn parse(text: &str) -> Result<Self, BrokerError> {
        let bad = |line: usize, what: &str| BrokerError::MetadataFile {
            file: CLUSTER_METADATA_FILE,
            line,
            what: what.to_string(),
        };
        let mut version = None;
        let mut cluster_id = None;
        let mut uuids_drawn = None;
        let mut producer_ids_next = None;
        let mut topics: BTreeMap<String, TopicMeta> = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix("topic ") {
                let f: Vec<&str> = rest.split(' ').collect();
                let [name, id, partitions] = f[..] else {
                    return Err(bad(n, "expected `topic <name> <id> <partitions>`"));
                };
                let id = Uuid::from_kafka_string(id).map_err(|_| bad(n, "bad topic id"))?;
                let partitions: i32 = partitions
                    .parse()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad(n, "bad partition count"))?;
                if topics.contains_key(name) {
                    return Err(bad(n, "topic listed twice"));
                }
                topics.insert(
                    name.to_string(),
                    TopicMeta {
                        id,
                        partitions,
                        configs: TopicConfigs::default(),
                    },
                );
            } else if let Some(rest) = line.strip_prefix("config ") {
                let mut f = rest.splitn(3, ' ');
                let (Some(name), Some(key), Some(value)) = (f.next(), f.next(), f.next()) else {
                    return Err(bad(n, "expected `config <topic> <key> <value>`"));
                };
                let value = unescape(value).ok_or_else(|| bad(n, "bad escape in value"))?;
                let t = topics
                    .get_mut(name)
                    .ok_or_else(|| bad(n, "config of a topic not listed before"))?;
                t.configs
                    .set(key, &value)
                    .map_err(|e| bad(n, &e.to_string()))?;
            } else if let Some((k, v)) = line.split_once('=') {
                let num = |v: &str| v.parse::<i64>().map_err(|_| bad(n, "expected a number"));
                match k {
                    "version" => version = Some(num(v)?),
                    "cluster.id" => cluster_id = Some(v.to_string()),
                    "uuids.drawn" => uuids_drawn = Some(num(v)?),
                    "producer.ids.next" => producer_ids_next = Some(num(v)?),
                    _ => return Err(bad(n, "unknown key")),
                }
            } else {
                return Err(bad(n, "not a record of this file"));
            }
        }
        if version != Some(1) {
            return Err(bad(0, "version=1 missing"));
        }
        let cluster_id = cluster_id
            .filter(|c| !c.is_empty())
            .ok_or_else(|| bad(0, "cluster.id missing"))?;
        let uuids_drawn = uuids_drawn
            .filter(|u| *u >= 0)
            .ok_or_else(|| bad(0, "uuids.drawn missing"))? as u64;
        let producer_ids_next = producer_ids_next
            .filter(|p| *p >= 0)
            .ok_or_else(|| bad(0, "producer.ids.next missing"))?;
        Ok(ClusterMetadata {
            cluster_id,
            uuids_drawn,
            producer_ids_next,
            topics,
        })
    }

    /// Reads the file from the root of `st`; `None` when there is none (a new directory).
    pub(crate) fn load<S: Storage>(st: &mut S) -> Result<Option<Self>, BrokerError> {
        if !st.exists(CLUSTER_METADATA_FILE)? {
            return Ok(None);
        }
        let mut f = st.open(CLUSTER_METADATA_FILE, false)?;
        let len = st.len(&mut f)?;
        if len > MAX_FILE_BYTES {
            return Err(BrokerError::MetadataFile {
                file: CLUSTER_METADATA_FILE,
                line: 0,
                what: format!("{len} bytes, more than the {MAX_FILE_BYTES} accepted"),
            });
        }
        let mut buf = alloc::vec![0u8; len as usize];
        st.read_exact_at(&mut f, 0, &mut buf)?;
        let text = core::str::from_utf8(&buf).map_err(|_| BrokerError::MetadataFile {
            file: CLUSTER_METADATA_FILE,
            line: 0,
            what: "not UTF-8".to_string(),
        })?;
        Ok(Some(Self::parse(text)?))
    }

    /// Writes the file atomically (tmp, sync, rename, sync the root).
    pub(crate) fn store<S: Storage>(&self, st: &mut S) -> Result<(), StorageError> {
        let text = self.render();
        let mut f = st.open(TMP, true)?;
        st.set_len(&mut f, 0)?;
        st.write_at(&mut f, 0, text.as_bytes())?;
        st.sync(&mut f)?;
        st.rename(TMP, CLUSTER_METADATA_FILE)?;
        st.sync_dir("")
    }

    /// The name of the topic with id `id`.
    pub(crate) fn topic_name(&self, id: Uuid) -> Option<&str> {
        self.topics
            .iter()
            .find(|(_, t)| t.id == id)
            .map(|(n, _)| n.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemStorage;

    #[test]
    fn round_trips_through_the_file_and_refuses_what_it_does_not_write() {
        let mut m = ClusterMetadata::new("MkU3OEVBNTcwNTJENDM2Qk".into());
        m.uuids_drawn = 300;
        m.producer_ids_next = 5000;
        for i in 0..300 {
            let mut configs = TopicConfigs::default();
            if i % 3 == 0 {
                configs.set("retention.ms", "86400000").unwrap();
                configs
                    .set("message.timestamp.type", "LogAppendTime")
                    .unwrap();
            }
            m.topics.insert(
                format!("topic.{i}_with-dashes"),
                TopicMeta {
                    id: Uuid::from_u64_pair(i, i * 7 + 1),
                    partitions: (i % 50 + 1) as i32,
                    configs,
                },
            );
        }
        let mut st = MemStorage::new();
        m.store(&mut st).unwrap();
        assert_eq!(ClusterMetadata::load(&mut st).unwrap().unwrap(), m);
        assert!(!st.paths().contains(&TMP.to_string()));
        assert_eq!(unescape(&escape("a\\b\nc\rd")).unwrap(), "a\\b\nc\rd");
        for (text, what) in [
            ("", "version=1 missing"),
            (
                "version=1\ncluster.id=x\nuuids.drawn=0\nproducer.ids.next=0\ntopic a\n",
                "expected `topic",
            ),
            (
                "version=1\nconfig a retention.ms 5\n",
                "config of a topic not listed before",
            ),
            (
                "version=1\ntopic a AAAAAAAAAAAAAAAAAAAAAQ 1\nconfig a no.such 5\n",
                "Unknown topic config name",
            ),
            (
                "version=1\ntopic a AAAAAAAAAAAAAAAAAAAAAQ 0\n",
                "bad partition count",
            ),
            ("version=2\nfoo=1\n", "unknown key"),
        ] {
            let e = ClusterMetadata::parse(text).unwrap_err().to_string();
            assert!(e.contains(what), "{text:?}: {e}");
        }
    }
}
