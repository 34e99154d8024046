//! What the producer knows of the cluster: the brokers and, per topic, the partitions with their
//! leaders, as Kafka's `Cluster`/`MetadataSnapshot` holds them after a Metadata response.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use kproto::Uuid;

/// A topic and partition, Kafka's `TopicPartition`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TopicPartition {
    /// The topic's name.
    pub topic: String,
    /// The partition index.
    pub partition: i32,
}

impl TopicPartition {
    /// `topic`-`partition`.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl core::fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A broker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// `node.id`.
    pub id: i32,
    /// The advertised host.
    pub host: String,
    /// The advertised port.
    pub port: u16,
    /// `broker.rack`, if any.
    pub rack: Option<String>,
}

/// One partition of a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    /// The partition index.
    pub partition: i32,
    /// The leader's node id, `None` while the partition has no leader.
    pub leader: Option<i32>,
    /// The leader epoch, -1 when the broker does not say.
    pub leader_epoch: i32,
    /// The replicas' node ids.
    pub replicas: Vec<i32>,
    /// The in-sync replicas' node ids.
    pub isr: Vec<i32>,
}

/// A topic's partitions, in partition order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicInfo {
    /// The topic id (zero when the broker gives none, before Metadata v10).
    pub topic_id: Uuid,
    /// Every partition, indexed by partition number.
    pub partitions: Vec<PartitionInfo>,
}

/// A snapshot of the cluster's metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cluster {
    /// The cluster id, if the broker gave one.
    pub cluster_id: Option<String>,
    /// The controller's node id, if known.
    pub controller: Option<i32>,
    /// The brokers by node id.
    pub nodes: BTreeMap<i32, Node>,
    /// The topics by name.
    pub topics: BTreeMap<String, TopicInfo>,
}

impl Cluster {
    /// A broker by id.
    pub fn node(&self, id: i32) -> Option<&Node> {
        self.nodes.get(&id)
    }

    /// A topic's partitions, if the topic is known.
    pub fn partitions(&self, topic: &str) -> Option<&[PartitionInfo]> {
        self.topics.get(topic).map(|t| t.partitions.as_slice())
    }

    /// The number of partitions of a topic, if the topic is known.
    pub fn partition_count(&self, topic: &str) -> Option<usize> {
        self.partitions(topic).map(<[_]>::len)
    }

    /// The leader of a partition, if the partition is known and has one.
    pub fn leader_for(&self, topic: &str, partition: i32) -> Option<&Node> {
        let p = usize::try_from(partition).ok()?;
        let leader = self.partitions(topic)?.get(p)?.leader?;
        self.node(leader)
    }

    /// The partitions of a topic whose leader is known (Java's `availablePartitionsForTopic`).
    pub fn available_partitions<'a>(
        &'a self,
        topic: &str,
    ) -> impl Iterator<Item = &'a PartitionInfo> + 'a {
        let parts: &'a [PartitionInfo] = match self.topics.get(topic) {
            Some(t) => &t.partitions,
            None => &[],
        };
        parts.iter().filter(|p| p.leader.is_some())
    }
}
