//! Topic (log) configuration with Apache Kafka 4.4.0's defaults.

/// Where a batch's timestamps come from (`message.timestamp.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampType {
    /// Keep the producer's timestamps (`CreateTime`, the default).
    #[default]
    CreateTime,
    /// The broker sets every batch's max timestamp to the append time (`LogAppendTime`).
    LogAppendTime,
}

/// A topic's `compression.type`: the codec the log stores batches in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TopicCompression {
    /// `producer` (the default): keep the codec each producer chose.
    #[default]
    Producer,
    /// `uncompressed`, `gzip`, `snappy`, `lz4` or `zstd`: a batch in another codec is
    /// decompressed and written again in this one, as Kafka's LogValidator does.
    Codec(kproto::records::Compression),
}

impl TopicCompression {
    /// The value of Kafka's `compression.type` topic config (`uncompressed`, `gzip`,
    /// `snappy`, `lz4`, `zstd` or `producer`), `None` for any other name.
    pub fn from_name(name: &str) -> Option<Self> {
        use kproto::records::Compression as C;
        Some(match name {
            "producer" => TopicCompression::Producer,
            "uncompressed" => TopicCompression::Codec(C::None),
            "gzip" => TopicCompression::Codec(C::Gzip),
            "snappy" => TopicCompression::Codec(C::Snappy),
            "lz4" => TopicCompression::Codec(C::Lz4),
            "zstd" => TopicCompression::Codec(C::Zstd),
            _ => return None,
        })
    }
}

/// The log settings klog honours, named after Kafka's topic configs. [`Default`] gives Kafka
/// 4.4.0's defaults. Durations are milliseconds; `i64::MAX` means never, `-1` unlimited where
/// Kafka says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `segment.bytes`: roll when a segment would grow past this (default 1 GiB). Kafka's
    /// minimum is 1 MiB; klog accepts smaller values (tests use them).
    pub segment_bytes: u32,
    /// `segment.ms`: roll when the first batch of the active segment is this old (7 days).
    pub segment_ms: i64,
    /// `segment.jitter.ms`: subtracted from `segment.ms` (0).
    pub segment_jitter_ms: i64,
    /// `segment.index.bytes`: preallocated size of each index file (10 MiB).
    pub segment_index_bytes: u32,
    /// `index.interval.bytes`: bytes of batches between two index entries (4096).
    pub index_interval_bytes: u32,
    /// `retention.ms`: delete segments whose newest timestamp is older (7 days; -1: never).
    pub retention_ms: i64,
    /// `retention.bytes`: delete oldest segments while the log is larger (-1: no limit).
    pub retention_bytes: i64,
    /// `flush.messages`: sync once this many messages are unflushed (`i64::MAX`: never).
    pub flush_messages: i64,
    /// `flush.ms`: sync when the last flush is this old (`i64::MAX`: never).
    pub flush_ms: i64,
    /// `max.message.bytes`: the largest batch accepted (1048588).
    pub max_message_bytes: u32,
    /// `message.timestamp.type` (CreateTime).
    pub message_timestamp_type: TimestampType,
    /// `message.timestamp.before.max.ms`: how far in the past a CreateTime may be (`i64::MAX`).
    pub message_timestamp_before_max_ms: i64,
    /// `message.timestamp.after.max.ms`: how far in the future a CreateTime may be (1 hour).
    pub message_timestamp_after_max_ms: i64,
    /// `producer.id.expiration.ms` (a broker config): forget idle producer ids (1 day).
    pub producer_id_expiration_ms: i64,
    /// `compression.type`: the producer's codec (the default) or one the log recompresses to.
    pub compression_type: TopicCompression,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: 604_800_000,
            segment_jitter_ms: 0,
            segment_index_bytes: 10 << 20,
            index_interval_bytes: 4096,
            retention_ms: 604_800_000,
            retention_bytes: -1,
            flush_messages: i64::MAX,
            flush_ms: i64::MAX,
            max_message_bytes: 1_048_588,
            message_timestamp_type: TimestampType::CreateTime,
            message_timestamp_before_max_ms: i64::MAX,
            message_timestamp_after_max_ms: 3_600_000,
            producer_id_expiration_ms: 86_400_000,
            compression_type: TopicCompression::Producer,
        }
    }
}

/// Why a [`LogConfig`] is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A value is outside what Kafka (or klog) accepts.
    #[error("{name} = {value}: {expected}")]
    OutOfRange {
        /// The config name (`segment.index.bytes`).
        name: &'static str,
        /// The value given.
        value: i64,
        /// What is accepted.
        expected: &'static str,
    },
}

impl LogConfig {
    /// Checks the values against Kafka's valid ranges (except `segment.bytes`, which klog lets
    /// go below Kafka's 1 MiB minimum, down to 64 bytes, for tests).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |name, value: i64, expected| {
            Err(ConfigError::OutOfRange {
                name,
                value,
                expected,
            })
        };
        if self.segment_bytes < 64 || self.segment_bytes > i32::MAX as u32 {
            return bad(
                "segment.bytes",
                i64::from(self.segment_bytes),
                "64..=2147483647",
            );
        }
        if self.segment_ms < 1 {
            return bad("segment.ms", self.segment_ms, ">= 1");
        }
        if self.segment_jitter_ms < 0 {
            return bad("segment.jitter.ms", self.segment_jitter_ms, ">= 0");
        }
        if self.segment_index_bytes < 24 || self.segment_index_bytes > i32::MAX as u32 {
            return bad(
                "segment.index.bytes",
                i64::from(self.segment_index_bytes),
                "24..=2147483647 (room for two time index entries)",
            );
        }
        if self.index_interval_bytes > i32::MAX as u32 {
            return bad(
                "index.interval.bytes",
                i64::from(self.index_interval_bytes),
                "0..=2147483647",
            );
        }
        if self.retention_ms < -1 {
            return bad("retention.ms", self.retention_ms, ">= -1");
        }
        if self.flush_messages < 1 {
            return bad("flush.messages", self.flush_messages, ">= 1");
        }
        if self.flush_ms < 0 {
            return bad("flush.ms", self.flush_ms, ">= 0");
        }
        if self.max_message_bytes > i32::MAX as u32 {
            return bad(
                "max.message.bytes",
                i64::from(self.max_message_bytes),
                "0..=2147483647",
            );
        }
        if self.message_timestamp_before_max_ms < 0 || self.message_timestamp_after_max_ms < 0 {
            return bad("message.timestamp.*.max.ms", -1, ">= 0");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kafka_4_4_0s() {
        let c = LogConfig::default();
        assert_eq!(c.segment_bytes, 1_073_741_824);
        assert_eq!(c.segment_index_bytes, 10_485_760);
        assert_eq!(c.index_interval_bytes, 4096);
        assert_eq!(c.retention_ms, 604_800_000);
        assert_eq!(c.retention_bytes, -1);
        assert_eq!(c.flush_messages, 9_223_372_036_854_775_807);
        assert_eq!(c.max_message_bytes, 1_048_588);
        c.validate().unwrap();
        let bad = LogConfig {
            segment_index_bytes: 12,
            ..LogConfig::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(ConfigError::OutOfRange {
                name: "segment.index.bytes",
                ..
            })
        ));
    }
}
