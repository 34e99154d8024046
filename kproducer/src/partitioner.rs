//! Choosing a partition: Java's `Utils.murmur2` for keyed records and the [`Partitioner`] trait
//! for a user's own choice (Kafka's `partitioner.class`). The built-in sticky, adaptive choice
//! for unkeyed records (KIP-794) lives with the accumulator, as Kafka's `BuiltInPartitioner`
//! does, because it is driven by how full each partition's queue is.

use crate::cluster::PartitionInfo;

/// Java's `org.apache.kafka.common.utils.Utils.murmur2`: MurmurHash2, seed `0x9747b28c`, over
/// the key's bytes as Kafka's producer hashes them.
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len();
    // Java computes `seed ^ length` on ints; the length wraps the same way.
    let mut h: u32 = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        // Java reads each 4-byte group little-endian.
        let mut k = u32::from(chunk[0])
            | u32::from(chunk[1]) << 8
            | u32::from(chunk[2]) << 16
            | u32::from(chunk[3]) << 24;
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Java's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows on `i32::MIN`).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition of a keyed record, as Kafka's `BuiltInPartitioner.partitionForKey`:
/// `toPositive(murmur2(key)) % numPartitions`. `num_partitions` must be positive.
pub fn partition_for_key(key: &[u8], num_partitions: i32) -> i32 {
    debug_assert!(num_partitions > 0);
    to_positive(murmur2(key)) % num_partitions.max(1)
}

/// A user's partition choice, Kafka's `org.apache.kafka.clients.producer.Partitioner`
/// (`partitioner.class`). It sees the serialized key and value and the topic's partitions as
/// the producer's metadata knows them, and returns a partition of that topic.
pub trait Partitioner {
    /// The partition for a record of `topic`. `partitions` lists every partition of the topic
    /// (with its leader, if known), in partition order.
    fn partition(
        &mut self,
        topic: &str,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        partitions: &[PartitionInfo],
    ) -> i32;
}

#[cfg(test)]
mod tests {
    use super::*;

    // Kafka's own vectors, `UtilsTest.testMurmur2`.
    #[test]
    fn murmur2_matches_kafkas_utils_test() {
        let cases: [(&[u8], i32); 7] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (
                b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8",
                -58897971,
            ),
            (b"abc", 479470107),
            (b"", 275646681),
        ];
        for (key, want) in cases {
            assert_eq!(
                murmur2(key),
                want,
                "murmur2({:?})",
                core::str::from_utf8(key)
            );
        }
    }

    #[test]
    fn to_positive_clears_the_sign_bit() {
        assert_eq!(to_positive(i32::MIN), 0);
        assert_eq!(to_positive(-1), i32::MAX);
        assert_eq!(to_positive(42), 42);
    }

    #[test]
    fn keyed_partition_is_in_range() {
        for n in 1..50 {
            let key = alloc::format!("key-{n}").into_bytes();
            let p = partition_for_key(&key, n);
            assert!((0..n).contains(&p));
        }
    }
}
