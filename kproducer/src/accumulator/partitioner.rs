//! The built-in partitioner for records without a partition or key (KIP-794), as Kafka's
//! `BuiltInPartitioner`: one sticky partition per topic, switched after `batch.size` bytes
//! (2 × `batch.size` at most while the partition's last batch is not full), the next one
//! picked uniformly among the partitions with a leader or, once the accumulator has queue
//! sizes for every partition, with weights that favour short queues (the cumulative frequency
//! table of `updatePartitionLoadStats`).

use crate::cluster::Cluster;
use crate::partitioner::to_positive;
use alloc::string::String;
use alloc::vec::Vec;
use kproto::rng::Rng;

/// The current sticky partition and the bytes produced to it (`StickyPartitionInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StickyPartitionInfo {
    partition: i32,
    produced_bytes: usize,
    generation: u64,
}

impl StickyPartitionInfo {
    /// The partition.
    pub fn partition(&self) -> i32 {
        self.partition
    }

    /// Bytes appended since it was picked.
    pub fn produced_bytes(&self) -> usize {
        self.produced_bytes
    }
}

/// Weights from queue sizes (`PartitionLoadStats`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct PartitionLoadStats {
    cumulative_frequency_table: Vec<u32>,
    partition_ids: Vec<i32>,
}

/// One topic's built-in partitioner (`BuiltInPartitioner`).
#[derive(Debug, Clone)]
pub struct BuiltInPartitioner {
    topic: String,
    sticky_batch_size: usize,
    load_stats: Option<PartitionLoadStats>,
    sticky: Option<StickyPartitionInfo>,
    generation: u64,
}

impl BuiltInPartitioner {
    /// A partitioner for `topic` switching after `sticky_batch_size` bytes (`batch.size`, at
    /// least 1).
    pub fn new(topic: impl Into<String>, sticky_batch_size: usize) -> Self {
        BuiltInPartitioner {
            topic: topic.into(),
            sticky_batch_size: sticky_batch_size.max(1),
            load_stats: None,
            sticky: None,
            generation: 0,
        }
    }

    /// The topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// Picks the next partition (`nextPartition`): uniformly among partitions with a leader
    /// (all partitions when none has one) without load stats, else the first entry of the
    /// cumulative frequency table above a random number below its total. `None` when the
    /// topic is unknown or has no partitions.
    fn next_partition(&self, cluster: &Cluster, rng: &mut Rng) -> Option<i32> {
        // Java: Utils.toPositive(ThreadLocalRandom.nextInt()).
        let random = to_positive(rng.next_u64() as u32 as i32) as u32;
        match &self.load_stats {
            None => {
                let available: Vec<i32> = cluster
                    .available_partitions(&self.topic)
                    .map(|p| p.partition)
                    .collect();
                if !available.is_empty() {
                    Some(available[random as usize % available.len()])
                } else {
                    let n = cluster.partition_count(&self.topic)?;
                    if n == 0 {
                        return None;
                    }
                    Some((random as usize % n) as i32)
                }
            }
            Some(stats) => {
                let cft = &stats.cumulative_frequency_table;
                let total = *cft.last()?;
                let weighted = random % total.max(1);
                // Arrays.binarySearch's |result + 1|: the first entry greater than `weighted`.
                let index = cft.partition_point(|&c| c <= weighted);
                stats.partition_ids.get(index).copied()
            }
        }
    }

    /// The current sticky partition, picking one when there is none
    /// (`peekCurrentPartitionInfo`). `None` when the topic has no partitions in `cluster`.
    pub fn peek_current_partition_info(
        &mut self,
        cluster: &Cluster,
        rng: &mut Rng,
    ) -> Option<StickyPartitionInfo> {
        if let Some(info) = &self.sticky {
            return Some(info.clone());
        }
        let partition = self.next_partition(cluster, rng)?;
        self.generation += 1;
        let info = StickyPartitionInfo {
            partition,
            produced_bytes: 0,
            generation: self.generation,
        };
        self.sticky = Some(info.clone());
        Some(info)
    }

    /// Whether the sticky partition changed since `info` was peeked (`isPartitionChanged`).
    pub fn is_partition_changed(&self, info: &StickyPartitionInfo) -> bool {
        self.sticky.as_ref().map(|s| s.generation) != Some(info.generation)
    }

    /// Counts `appended_bytes` to the sticky partition and switches to a new one after
    /// `batch.size` bytes when `enable_switch` (every batch of the partition is full), or
    /// after 2 × `batch.size` regardless (`updatePartitionInfo`).
    pub fn update_partition_info(
        &mut self,
        info: &StickyPartitionInfo,
        appended_bytes: usize,
        cluster: &Cluster,
        rng: &mut Rng,
        enable_switch: bool,
    ) {
        let size = self.sticky_batch_size;
        let Some(current) = self.sticky.as_mut() else {
            return;
        };
        if current.generation != info.generation {
            return;
        }
        current.produced_bytes = current.produced_bytes.saturating_add(appended_bytes);
        let produced = current.produced_bytes;
        if (produced >= size && enable_switch) || produced >= size.saturating_mul(2) {
            if let Some(partition) = self.next_partition(cluster, rng) {
                self.generation += 1;
                self.sticky = Some(StickyPartitionInfo {
                    partition,
                    produced_bytes: 0,
                    generation: self.generation,
                });
            }
        }
    }

    /// Sets the load statistics from queue sizes (`updatePartitionLoadStats`): `queue_sizes`
    /// and `partition_ids` hold the partitions with a leader first; only the first `length`
    /// count (the others were excluded as unavailable). `None` turns adaptive picking off.
    /// Adaptive picking stays off when fewer than two partitions exist, none is available, or
    /// every queue is as long as every other and none was excluded.
    pub fn update_partition_load_stats(
        &mut self,
        queue_sizes: Option<(&[u32], &[i32])>,
        length: usize,
    ) {
        let Some((sizes, ids)) = queue_sizes else {
            self.load_stats = None;
            return;
        };
        if length < 1 || sizes.len() < 2 || length > sizes.len() || ids.len() < length {
            self.load_stats = None;
            return;
        }
        let mut max = sizes[0];
        let mut all_equal = true;
        for &s in &sizes[1..length] {
            if s != max {
                all_equal = false;
            }
            max = max.max(s);
        }
        let max_plus_1 = max.saturating_add(1);
        if all_equal && length == sizes.len() {
            self.load_stats = None;
            return;
        }
        // Invert the sizes (short queues weigh more) and accumulate: 0 3 1 -> 4 1 3 -> 4 5 8.
        let mut cft = Vec::with_capacity(length);
        let mut sum: u32 = 0;
        for &s in &sizes[..length] {
            sum = sum.saturating_add(max_plus_1 - s);
            cft.push(sum);
        }
        self.load_stats = Some(PartitionLoadStats {
            cumulative_frequency_table: cft,
            partition_ids: ids[..length].to_vec(),
        });
    }

    /// The cumulative frequency table's total, when adaptive picking is on
    /// (`loadStatsRangeEnd`).
    pub fn load_stats_range_end(&self) -> Option<u32> {
        self.load_stats
            .as_ref()
            .and_then(|s| s.cumulative_frequency_table.last().copied())
    }

    /// The cumulative frequency table and its partition ids, when adaptive picking is on.
    pub fn load_stats(&self) -> Option<(&[u32], &[i32])> {
        self.load_stats.as_ref().map(|s| {
            (
                s.cumulative_frequency_table.as_slice(),
                s.partition_ids.as_slice(),
            )
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cluster::{Node, PartitionInfo, TopicInfo};
    use alloc::format;
    use alloc::vec;
    use kproto::Uuid;

    /// A cluster of `nodes` brokers with `topic` of `partitions` partitions led round robin;
    /// the partitions in `leaderless` have no leader.
    pub(crate) fn cluster(topic: &str, partitions: i32, nodes: i32, leaderless: &[i32]) -> Cluster {
        let mut c = Cluster::default();
        add_nodes(&mut c, nodes);
        add_topic(&mut c, topic, partitions, nodes, leaderless);
        c
    }

    pub(crate) fn add_nodes(c: &mut Cluster, nodes: i32) {
        for id in 0..nodes {
            c.nodes.insert(
                id,
                Node {
                    id,
                    host: format!("broker{id}"),
                    port: 9092,
                    rack: None,
                },
            );
        }
    }

    pub(crate) fn add_topic(
        c: &mut Cluster,
        topic: &str,
        partitions: i32,
        nodes: i32,
        leaderless: &[i32],
    ) {
        let parts = (0..partitions)
            .map(|p| PartitionInfo {
                partition: p,
                leader: (!leaderless.contains(&p)).then_some(p % nodes),
                leader_epoch: 0,
                replicas: vec![p % nodes],
                isr: vec![p % nodes],
            })
            .collect();
        c.topics.insert(
            topic.into(),
            TopicInfo {
                topic_id: Uuid::default(),
                partitions: parts,
            },
        );
    }

    // BuiltInPartitionerTest.testStickyPartitioning: stick until batch.size bytes, then move.
    #[test]
    fn sticks_then_switches_after_batch_size() {
        let c = cluster("t", 3, 3, &[]);
        let mut rng = Rng::new(7);
        let mut p = BuiltInPartitioner::new("t", 16384);
        let first = p.peek_current_partition_info(&c, &mut rng).unwrap();
        for _ in 0..15 {
            p.update_partition_info(&first, 1024, &c, &mut rng, true);
            assert!(!p.is_partition_changed(&first));
        }
        p.update_partition_info(&first, 1024, &c, &mut rng, true);
        assert!(p.is_partition_changed(&first), "switched at 16384 bytes");
        let second = p.peek_current_partition_info(&c, &mut rng).unwrap();
        assert_eq!(second.produced_bytes(), 0);
        // With switching disabled the 2x cap still applies.
        p.update_partition_info(&second, 20000, &c, &mut rng, false);
        assert!(!p.is_partition_changed(&second));
        p.update_partition_info(&second, 12768, &c, &mut rng, false);
        assert!(
            p.is_partition_changed(&second),
            "switched at 2 x batch.size"
        );
    }

    #[test]
    fn leaderless_partitions_are_not_picked() {
        let c = cluster("t", 10, 3, &[0, 1, 2, 3, 4, 5, 6, 8]);
        let mut rng = Rng::new(1);
        let mut p = BuiltInPartitioner::new("t", 100);
        for _ in 0..200 {
            let info = p.peek_current_partition_info(&c, &mut rng).unwrap();
            assert!(info.partition() == 7 || info.partition() == 9);
            p.update_partition_info(&info, 100, &c, &mut rng, true);
        }
        // No partition has a leader: any partition.
        let none = cluster("t", 4, 1, &[0, 1, 2, 3]);
        let mut p = BuiltInPartitioner::new("t", 100);
        let info = p.peek_current_partition_info(&none, &mut rng).unwrap();
        assert!((0..4).contains(&info.partition()));
        // The sticky partition stays until bytes move it, whatever the metadata says now.
        assert_eq!(
            p.peek_current_partition_info(&Cluster::default(), &mut rng),
            Some(info)
        );
        let mut unknown = BuiltInPartitioner::new("other", 100);
        assert!(unknown
            .peek_current_partition_info(&none, &mut rng)
            .is_none());
    }

    // The example of the Java comment: sizes 0 3 1 give the table 4 5 8.
    #[test]
    fn cumulative_frequency_table_as_java_builds_it() {
        let mut p = BuiltInPartitioner::new("t", 100);
        p.update_partition_load_stats(Some((&[0, 3, 1], &[0, 1, 2])), 3);
        assert_eq!(p.load_stats(), Some((&[4u32, 5, 8][..], &[0, 1, 2][..])));
        assert_eq!(p.load_stats_range_end(), Some(8));
        // All equal and nothing excluded: uniform.
        p.update_partition_load_stats(Some((&[2, 2, 2], &[0, 1, 2])), 3);
        assert_eq!(p.load_stats(), None);
        // All equal but one excluded: the table covers the rest.
        p.update_partition_load_stats(Some((&[2, 2, 2], &[0, 2, 1])), 2);
        assert_eq!(p.load_stats(), Some((&[1u32, 2][..], &[0, 2][..])));
        // One partition: uniform.
        p.update_partition_load_stats(Some((&[5], &[0])), 1);
        assert_eq!(p.load_stats(), None);
        p.update_partition_load_stats(None, 0);
        assert_eq!(p.load_stats(), None);
    }

    // BuiltInPartitionerTest.adaptivePartitionsTest in spirit: the weighted pick follows the
    // table, so a partition with a long queue is picked less often.
    #[test]
    fn adaptive_pick_follows_the_weights() {
        let c = cluster("t", 4, 2, &[]);
        let mut rng = Rng::new(42);
        let mut p = BuiltInPartitioner::new("t", 1);
        // Queue sizes 0 9 0 4: weights 10 1 10 6 out of 27.
        p.update_partition_load_stats(Some((&[0, 9, 0, 4], &[0, 1, 2, 3])), 4);
        let mut counts = [0u32; 4];
        let n = 27_000;
        for _ in 0..n {
            let info = p.peek_current_partition_info(&c, &mut rng).unwrap();
            counts[info.partition() as usize] += 1;
            p.update_partition_info(&info, 1, &c, &mut rng, true);
        }
        let expect = [10_000.0, 1_000.0, 10_000.0, 6_000.0];
        for (got, want) in counts.iter().zip(expect) {
            let got = f64::from(*got);
            assert!(
                (got - want).abs() < want * 0.1,
                "counts {counts:?}, expected about {expect:?}"
            );
        }
    }

    #[test]
    fn same_seed_same_partitions() {
        let c = cluster("t", 50, 5, &[]);
        let run = |seed| {
            let mut rng = Rng::new(seed);
            let mut p = BuiltInPartitioner::new("t", 10);
            (0..100)
                .map(|_| {
                    let info = p.peek_current_partition_info(&c, &mut rng).unwrap();
                    p.update_partition_info(&info, 10, &c, &mut rng, true);
                    info.partition()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }
}
