//! The producer's metrics (group `producer-metrics`), measured the way kafka-clients'
//! `org.apache.kafka.common.metrics` measures them and recorded where Kafka's
//! `Sender.SenderMetrics`, `Selector.SelectorMetrics` and `RecordAccumulator` record them.
//!
//! # Measurement
//!
//! A [`SampledStat`] keeps `samples + 1` rotating samples (`SampledStat.advance`); a record
//! starts a new sample once the current one is `time_window_ms` old. Reading first purges every
//! sample whose last event is `samples * time_window_ms` or more in the past (`purgeObsoleteSamples`:
//! it is reset to start at the reading time), then combines the rest: a windowed sum or count
//! adds them, [`SampledKind::Avg`] divides their sum by their event count (NaN when there is
//! none), [`SampledKind::Max`] takes the largest (NaN when there is no event). A [`Rate`] divides a
//! windowed sum by its window in seconds: the time since the oldest kept sample started, raised
//! to at least `(samples - 1)` whole windows, and at least 1 ms (`Rate.windowSize`). Reading
//! has the side effects Kafka's has (purging; creating the first sample), so a replay must
//! read at the same instants to get the same values.
//!
//! # Call order
//!
//! The Sender calls, with the current time:
//! [`ProducerMetrics::record_produce_request`] once per node request built from drained
//! batches (`updateProduceRequestMetrics`); [`ProducerMetrics::record_request_latency`] per
//! completed Produce response (`recordLatency`); [`ProducerMetrics::record_errors`] /
//! [`ProducerMetrics::record_retries`] with a batch's record count when it fails / is
//! re-enqueued; [`ProducerMetrics::record_batch_split`] when a batch is split. The network
//! client calls [`ProducerMetrics::record_bytes_sent`] / [`ProducerMetrics::record_bytes_received`]
//! per socket write / read and [`ProducerMetrics::record_completed_send`] /
//! [`ProducerMetrics::record_completed_receive`] per whole request / response. The producer
//! calls [`ProducerMetrics::set_buffer`] whenever the buffer pool changes. Readers call
//! [`ProducerMetrics::metric`] or [`ProducerMetrics::values`].

use crate::accumulator::{BufferPool, ProducerBatch};
use alloc::vec::Vec;

/// Sampling configuration (`MetricConfig`): `metrics.num.samples` and
/// `metrics.sample.window.ms`, plus the event window (unbounded in the producer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricConfig {
    /// Samples kept in the monitored window (`metrics.num.samples`, default 2, at least 1).
    pub samples: u32,
    /// Length of one sample in ms (`metrics.sample.window.ms`, default 30000).
    pub time_window_ms: u64,
    /// Events after which a sample is complete regardless of age (`Long.MAX_VALUE` in Kafka).
    pub event_window: u64,
}

impl Default for MetricConfig {
    fn default() -> Self {
        MetricConfig {
            samples: 2,
            time_window_ms: 30_000,
            event_window: i64::MAX as u64,
        }
    }
}

/// `Math.max` as Java has it: NaN if either side is NaN.
fn jmax(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a >= b {
        a
    } else {
        b
    }
}

/// What a [`SampledStat`] accumulates per sample and how it combines them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampledKind {
    /// `WindowedSum`: the sum of recorded values.
    Sum,
    /// `WindowedCount`: the number of record calls.
    Count,
    /// `Avg`: sum of values over number of events; NaN without events.
    Avg,
    /// `Max`: the largest value; NaN without events.
    Max,
}

#[derive(Clone, Copy, Debug)]
struct Sample {
    value: f64,
    event_count: u64,
    start_ms: i64,
    last_event_ms: i64,
}

/// A windowed statistic over rotating samples (`SampledStat` and its subclasses).
#[derive(Clone, Debug)]
pub struct SampledStat {
    kind: SampledKind,
    samples: Vec<Sample>,
    current: usize,
}

impl SampledStat {
    /// An empty stat of `kind`.
    pub fn new(kind: SampledKind) -> Self {
        SampledStat {
            kind,
            samples: Vec::new(),
            current: 0,
        }
    }

    fn initial(&self) -> f64 {
        match self.kind {
            SampledKind::Max => f64::NEG_INFINITY,
            _ => 0.0,
        }
    }

    fn fresh(&self, now: i64) -> Sample {
        Sample {
            value: self.initial(),
            event_count: 0,
            start_ms: now,
            last_event_ms: now,
        }
    }

    fn current_index(&mut self, now: i64) -> usize {
        if self.samples.is_empty() {
            let s = self.fresh(now);
            self.samples.push(s);
        }
        self.current
    }

    /// Records `value` at `now_ms` (`SampledStat.record`).
    pub fn record(&mut self, config: &MetricConfig, value: f64, now_ms: u64) {
        let now = now_ms as i64;
        let mut idx = self.current_index(now);
        let s = self.samples[idx];
        if now.wrapping_sub(s.start_ms) >= config.time_window_ms as i64
            || s.event_count >= config.event_window
        {
            // advance: one slot more than `samples` for the overlapping sample.
            let max = config.samples.max(1) as usize + 1;
            self.current = (self.current + 1) % max;
            idx = self.current;
            let fresh = self.fresh(now);
            if idx >= self.samples.len() {
                self.samples.push(fresh);
                idx = self.samples.len() - 1;
                self.current = idx;
            } else {
                self.samples[idx] = fresh;
            }
        }
        let kind = self.kind;
        let s = &mut self.samples[idx];
        match kind {
            SampledKind::Sum | SampledKind::Avg => s.value += value,
            SampledKind::Count => s.value += 1.0,
            SampledKind::Max => s.value = jmax(s.value, value),
        }
        s.event_count += 1;
        s.last_event_ms = now;
    }

    fn purge(&mut self, config: &MetricConfig, now: i64) {
        let expire = i64::from(config.samples) * config.time_window_ms as i64;
        let fresh = self.fresh(now);
        for s in &mut self.samples {
            if now.wrapping_sub(s.last_event_ms) >= expire {
                *s = fresh;
            }
        }
    }

    fn oldest_start(&mut self, now: i64) -> i64 {
        if self.samples.is_empty() {
            let s = self.fresh(now);
            self.samples.push(s);
        }
        let mut oldest = self.samples[0].start_ms;
        for s in &self.samples[1..] {
            if s.start_ms < oldest {
                oldest = s.start_ms;
            }
        }
        oldest
    }

    /// Purges obsolete samples and combines the rest at `now_ms` (`SampledStat.measure`).
    pub fn measure(&mut self, config: &MetricConfig, now_ms: u64) -> f64 {
        self.purge(config, now_ms as i64);
        match self.kind {
            SampledKind::Sum | SampledKind::Count => {
                let mut total = 0.0;
                for s in &self.samples {
                    total += s.value;
                }
                total
            }
            SampledKind::Avg => {
                let mut total = 0.0;
                let mut count = 0u64;
                for s in &self.samples {
                    total += s.value;
                    count += s.event_count;
                }
                if count == 0 {
                    f64::NAN
                } else {
                    total / count as f64
                }
            }
            SampledKind::Max => {
                let mut max = f64::NEG_INFINITY;
                let mut count = 0u64;
                for s in &self.samples {
                    max = jmax(max, s.value);
                    count += s.event_count;
                }
                if count == 0 {
                    f64::NAN
                } else {
                    max
                }
            }
        }
    }
}

/// A per-second rate over a windowed sum or count (`Rate` with `TimeUnit.SECONDS`).
#[derive(Clone, Debug)]
pub struct Rate {
    stat: SampledStat,
}

impl Rate {
    /// A rate over a windowed [`SampledKind::Sum`] or [`SampledKind::Count`].
    pub fn new(kind: SampledKind) -> Self {
        Rate {
            stat: SampledStat::new(kind),
        }
    }

    /// Records `value` at `now_ms`.
    pub fn record(&mut self, config: &MetricConfig, value: f64, now_ms: u64) {
        self.stat.record(config, value, now_ms);
    }

    /// The window in ms the rate divides by (`Rate.windowSize`).
    pub fn window_size(&mut self, config: &MetricConfig, now_ms: u64) -> i64 {
        let now = now_ms as i64;
        self.stat.purge(config, now);
        let mut elapsed = now.wrapping_sub(self.stat.oldest_start(now));
        let window = config.time_window_ms as i64;
        let full = (elapsed / window.max(1)) as i32;
        let min_full = config.samples as i32 - 1;
        if full < min_full {
            elapsed += i64::from(min_full - full) * window;
        }
        elapsed.max(1)
    }

    /// Events (or their values) per second at `now_ms` (`Rate.measure`).
    pub fn measure(&mut self, config: &MetricConfig, now_ms: u64) -> f64 {
        let value = self.stat.measure(config, now_ms);
        value / (self.window_size(config, now_ms) as f64 / 1000.0)
    }
}

/// A rate with its cumulative total (`Meter`: a [`Rate`] plus a `CumulativeSum`; over a
/// windowed count the total counts record calls).
#[derive(Clone, Debug)]
pub struct Meter {
    rate: Rate,
    total: f64,
    count: bool,
}

impl Meter {
    /// A meter over the sum of recorded values (`Meter` with `WindowedSum`).
    pub fn sum() -> Self {
        Meter {
            rate: Rate::new(SampledKind::Sum),
            total: 0.0,
            count: false,
        }
    }

    /// A meter over the number of record calls (`Meter` with `WindowedCount`).
    pub fn count() -> Self {
        Meter {
            rate: Rate::new(SampledKind::Count),
            total: 0.0,
            count: true,
        }
    }

    /// Records `value` at `now_ms`.
    pub fn record(&mut self, config: &MetricConfig, value: f64, now_ms: u64) {
        self.rate.record(config, value, now_ms);
        self.total += if self.count { 1.0 } else { value };
    }

    /// The per-second rate at `now_ms`.
    pub fn rate(&mut self, config: &MetricConfig, now_ms: u64) -> f64 {
        self.rate.measure(config, now_ms)
    }

    /// The cumulative total (`CumulativeSum`).
    pub fn total(&self) -> f64 {
        self.total
    }
}

/// One drained batch as `Sender.SenderMetrics.updateProduceRequestMetrics` reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrainedBatch {
    /// `ProducerBatch.estimatedSizeInBytes()`.
    pub size_bytes: u64,
    /// `ProducerBatch.recordCount`.
    pub record_count: u64,
    /// `ProducerBatch.compressionRatio()`.
    pub compression_ratio: f64,
    /// `ProducerBatch.queueTimeMs()`: drain time minus creation time.
    pub queue_time_ms: u64,
    /// `ProducerBatch.maxRecordSize`: the largest record's size upper bound.
    pub max_record_size: u64,
}

impl From<&ProducerBatch> for DrainedBatch {
    /// What `updateProduceRequestMetrics` reads from a drained (and closed) batch; the `float`
    /// compression ratio widens to `double` as in Java.
    fn from(b: &ProducerBatch) -> Self {
        DrainedBatch {
            size_bytes: b.estimated_size_in_bytes() as u64,
            record_count: b.record_count() as u64,
            compression_ratio: f64::from(b.compression_ratio()),
            queue_time_ms: b.queue_time_ms(),
            max_record_size: b.max_record_size() as u64,
        }
    }
}

/// The producer-level metrics in Kafka's order of registration, with our descriptions.
pub const METRICS: &[(&str, &str)] = &[
    (
        "batch-size-avg",
        "Mean estimated size in bytes of the batches sent, over the sample window.",
    ),
    (
        "batch-size-max",
        "Largest estimated batch size in bytes sent in the sample window.",
    ),
    (
        "compression-rate-avg",
        "Mean ratio of compressed to uncompressed size of the batches sent.",
    ),
    (
        "record-queue-time-avg",
        "Mean ms a batch waited in the accumulator before being drained.",
    ),
    (
        "record-queue-time-max",
        "Longest ms a batch waited in the accumulator before being drained.",
    ),
    (
        "request-latency-avg",
        "Mean ms from sending a Produce request to its response.",
    ),
    (
        "request-latency-max",
        "Longest ms from sending a Produce request to its response.",
    ),
    (
        "record-send-total",
        "Records handed to Produce requests since start.",
    ),
    (
        "record-send-rate",
        "Records per second handed to Produce requests.",
    ),
    (
        "records-per-request-avg",
        "Mean number of records in one node's Produce request.",
    ),
    (
        "record-retry-total",
        "Records whose batch was re-enqueued for a retry since start.",
    ),
    (
        "record-retry-rate",
        "Records per second whose batch was re-enqueued for a retry.",
    ),
    (
        "record-error-total",
        "Records whose send failed for good since start.",
    ),
    (
        "record-error-rate",
        "Records per second whose send failed for good.",
    ),
    (
        "record-size-max",
        "Largest per-batch maximum record size in bytes in the sample window.",
    ),
    (
        "record-size-avg",
        "Mean of the per-batch maximum record sizes in bytes.",
    ),
    (
        "batch-split-total",
        "Batches split because the broker found them too large, since start.",
    ),
    ("batch-split-rate", "Batch splits per second."),
    (
        "network-io-total",
        "Socket reads and writes on all connections since start.",
    ),
    (
        "network-io-rate",
        "Socket reads and writes per second on all connections.",
    ),
    (
        "outgoing-byte-total",
        "Bytes written to all brokers since start.",
    ),
    (
        "outgoing-byte-rate",
        "Bytes per second written to all brokers.",
    ),
    ("request-total", "Requests completely sent since start."),
    ("request-rate", "Requests completely sent per second."),
    (
        "request-size-avg",
        "Mean size in bytes of the requests sent.",
    ),
    (
        "request-size-max",
        "Largest size in bytes of a request sent in the sample window.",
    ),
    (
        "incoming-byte-total",
        "Bytes read from all brokers since start.",
    ),
    (
        "incoming-byte-rate",
        "Bytes per second read from all brokers.",
    ),
    (
        "response-total",
        "Responses completely received since start.",
    ),
    ("response-rate", "Responses completely received per second."),
    (
        "buffer-total-bytes",
        "Bytes of buffer memory the producer may use (buffer.memory).",
    ),
    (
        "buffer-available-bytes",
        "Bytes of buffer memory not in use, free or unallocated.",
    ),
];

/// Kafka's producer-level metrics, recorded with explicit times (see the module doc).
#[derive(Clone, Debug)]
pub struct ProducerMetrics {
    config: MetricConfig,
    batch_size_avg: SampledStat,
    batch_size_max: SampledStat,
    compression_rate_avg: SampledStat,
    queue_time_avg: SampledStat,
    queue_time_max: SampledStat,
    latency_avg: SampledStat,
    latency_max: SampledStat,
    record_send: Meter,
    records_per_request_avg: SampledStat,
    retry: Meter,
    error: Meter,
    record_size_max: SampledStat,
    record_size_avg: SampledStat,
    batch_split: Meter,
    network_io: Meter,
    outgoing: Meter,
    request: Meter,
    request_size_avg: SampledStat,
    request_size_max: SampledStat,
    incoming: Meter,
    response: Meter,
    buffer_total: f64,
    buffer_available: f64,
}

impl Default for ProducerMetrics {
    fn default() -> Self {
        ProducerMetrics::new(MetricConfig::default())
    }
}

impl ProducerMetrics {
    /// Empty metrics sampled per `config`.
    pub fn new(config: MetricConfig) -> Self {
        use SampledKind::{Avg, Max};
        ProducerMetrics {
            config,
            batch_size_avg: SampledStat::new(Avg),
            batch_size_max: SampledStat::new(Max),
            compression_rate_avg: SampledStat::new(Avg),
            queue_time_avg: SampledStat::new(Avg),
            queue_time_max: SampledStat::new(Max),
            latency_avg: SampledStat::new(Avg),
            latency_max: SampledStat::new(Max),
            record_send: Meter::sum(),
            records_per_request_avg: SampledStat::new(Avg),
            retry: Meter::sum(),
            error: Meter::sum(),
            record_size_max: SampledStat::new(Max),
            record_size_avg: SampledStat::new(Avg),
            batch_split: Meter::sum(),
            network_io: Meter::count(),
            outgoing: Meter::sum(),
            request: Meter::count(),
            request_size_avg: SampledStat::new(Avg),
            request_size_max: SampledStat::new(Max),
            incoming: Meter::sum(),
            response: Meter::count(),
            buffer_total: 0.0,
            buffer_available: 0.0,
        }
    }

    /// The sampling configuration.
    pub fn config(&self) -> &MetricConfig {
        &self.config
    }

    /// One node's Produce request built from `batches` at `now_ms`
    /// (`SenderMetrics.updateProduceRequestMetrics`, one node's iteration).
    pub fn record_produce_request(&mut self, batches: &[DrainedBatch], now_ms: u64) {
        let c = &self.config;
        let mut records = 0u64;
        for b in batches {
            self.batch_size_avg.record(c, b.size_bytes as f64, now_ms);
            self.batch_size_max.record(c, b.size_bytes as f64, now_ms);
            self.queue_time_avg
                .record(c, b.queue_time_ms as f64, now_ms);
            self.queue_time_max
                .record(c, b.queue_time_ms as f64, now_ms);
            self.compression_rate_avg
                .record(c, b.compression_ratio, now_ms);
            self.record_size_max
                .record(c, b.max_record_size as f64, now_ms);
            self.record_size_avg
                .record(c, b.max_record_size as f64, now_ms);
            records += b.record_count;
        }
        self.record_send.record(c, records as f64, now_ms);
        self.records_per_request_avg
            .record(c, records as f64, now_ms);
    }

    /// A Produce response `latency_ms` after its request (`SenderMetrics.recordLatency`).
    pub fn record_request_latency(&mut self, latency_ms: u64, now_ms: u64) {
        self.latency_avg
            .record(&self.config, latency_ms as f64, now_ms);
        self.latency_max
            .record(&self.config, latency_ms as f64, now_ms);
    }

    /// `records` records failed for good (`SenderMetrics.recordErrors`).
    pub fn record_errors(&mut self, records: u64, now_ms: u64) {
        self.error.record(&self.config, records as f64, now_ms);
    }

    /// `records` records re-enqueued for a retry (`SenderMetrics.recordRetries`).
    pub fn record_retries(&mut self, records: u64, now_ms: u64) {
        self.retry.record(&self.config, records as f64, now_ms);
    }

    /// A batch split (`SenderMetrics.recordBatchSplit`).
    pub fn record_batch_split(&mut self, now_ms: u64) {
        self.batch_split.record(&self.config, 1.0, now_ms);
    }

    /// One socket write of `bytes` (`SelectorMetrics.recordBytesSent`; its parent sensor
    /// counts a network operation).
    pub fn record_bytes_sent(&mut self, bytes: u64, now_ms: u64) {
        self.outgoing.record(&self.config, bytes as f64, now_ms);
        self.network_io.record(&self.config, bytes as f64, now_ms);
    }

    /// One socket read of `bytes` (`SelectorMetrics.recordBytesReceived`).
    pub fn record_bytes_received(&mut self, bytes: u64, now_ms: u64) {
        self.incoming.record(&self.config, bytes as f64, now_ms);
        self.network_io.record(&self.config, bytes as f64, now_ms);
    }

    /// A request of `total_bytes` completely written (`SelectorMetrics.recordCompletedSend`).
    pub fn record_completed_send(&mut self, total_bytes: u64, now_ms: u64) {
        let c = &self.config;
        self.request.record(c, total_bytes as f64, now_ms);
        self.request_size_avg.record(c, total_bytes as f64, now_ms);
        self.request_size_max.record(c, total_bytes as f64, now_ms);
    }

    /// A response of `total_bytes` completely read (`SelectorMetrics.recordCompletedReceive`).
    pub fn record_completed_receive(&mut self, total_bytes: u64, now_ms: u64) {
        self.response
            .record(&self.config, total_bytes as f64, now_ms);
    }

    /// [`ProducerMetrics::set_buffer`] from the pool itself.
    pub fn set_buffer_from(&mut self, pool: &BufferPool) {
        self.set_buffer(pool.available_memory(), pool.total_memory());
    }

    /// The buffer pool's `availableMemory()` and `totalMemory()` (the accumulator's
    /// `buffer-available-bytes` / `buffer-total-bytes` gauges).
    pub fn set_buffer(&mut self, available: u64, total: u64) {
        self.buffer_available = available as f64;
        self.buffer_total = total as f64;
    }

    /// The value of metric `name` at `now_ms`, `None` for a name not in [`METRICS`].
    pub fn metric(&mut self, name: &str, now_ms: u64) -> Option<f64> {
        let c = self.config;
        Some(match name {
            "batch-size-avg" => self.batch_size_avg.measure(&c, now_ms),
            "batch-size-max" => self.batch_size_max.measure(&c, now_ms),
            "compression-rate-avg" => self.compression_rate_avg.measure(&c, now_ms),
            "record-queue-time-avg" => self.queue_time_avg.measure(&c, now_ms),
            "record-queue-time-max" => self.queue_time_max.measure(&c, now_ms),
            "request-latency-avg" => self.latency_avg.measure(&c, now_ms),
            "request-latency-max" => self.latency_max.measure(&c, now_ms),
            "record-send-total" => self.record_send.total(),
            "record-send-rate" => self.record_send.rate(&c, now_ms),
            "records-per-request-avg" => self.records_per_request_avg.measure(&c, now_ms),
            "record-retry-total" => self.retry.total(),
            "record-retry-rate" => self.retry.rate(&c, now_ms),
            "record-error-total" => self.error.total(),
            "record-error-rate" => self.error.rate(&c, now_ms),
            "record-size-max" => self.record_size_max.measure(&c, now_ms),
            "record-size-avg" => self.record_size_avg.measure(&c, now_ms),
            "batch-split-total" => self.batch_split.total(),
            "batch-split-rate" => self.batch_split.rate(&c, now_ms),
            "network-io-total" => self.network_io.total(),
            "network-io-rate" => self.network_io.rate(&c, now_ms),
            "outgoing-byte-total" => self.outgoing.total(),
            "outgoing-byte-rate" => self.outgoing.rate(&c, now_ms),
            "request-total" => self.request.total(),
            "request-rate" => self.request.rate(&c, now_ms),
            "request-size-avg" => self.request_size_avg.measure(&c, now_ms),
            "request-size-max" => self.request_size_max.measure(&c, now_ms),
            "incoming-byte-total" => self.incoming.total(),
            "incoming-byte-rate" => self.incoming.rate(&c, now_ms),
            "response-total" => self.response.total(),
            "response-rate" => self.response.rate(&c, now_ms),
            "buffer-total-bytes" => self.buffer_total,
            "buffer-available-bytes" => self.buffer_available,
            _ => return None,
        })
    }

    /// Every metric as (name, description, value at `now_ms`), in [`METRICS`] order.
    pub fn values(
        &mut self,
        now_ms: u64,
    ) -> impl Iterator<Item = (&'static str, &'static str, f64)> + '_ {
        METRICS.iter().map(move |&(name, desc)| {
            let v = self.metric(name, now_ms).unwrap_or(f64::NAN);
            (name, desc, v)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W: u64 = 30_000;

    #[test]
    fn empty_windows_are_nan_for_avg_and_max_and_zero_for_rates() {
        let mut m = ProducerMetrics::default();
        assert!(m.metric("batch-size-avg", 0).unwrap().is_nan());
        assert!(m.metric("request-latency-max", 0).unwrap().is_nan());
        assert_eq!(m.metric("record-send-rate", 0), Some(0.0));
        assert_eq!(m.metric("record-send-total", 0), Some(0.0));
        assert_eq!(m.metric("no-such-metric", 0), None);
        assert_eq!(m.values(0).count(), METRICS.len());
    }

    #[test]
    fn rate_window_is_at_least_samples_minus_one_windows() {
        let c = MetricConfig::default();
        let mut r = Rate::new(SampledKind::Sum);
        r.record(&c, 3000.0, 1_000);
        // 1 s elapsed since the sample started, plus one whole window: 31 s.
        assert_eq!(r.window_size(&c, 2_000), 31_000);
        assert_eq!(r.measure(&c, 2_000), 3000.0 / 31.0);
        // Beyond samples * window since the last event, the sample is purged.
        assert_eq!(r.measure(&c, 1_000 + 2 * W), 0.0);
    }

    #[test]
    fn samples_rotate_and_old_ones_are_purged() {
        let c = MetricConfig::default();
        let mut avg = SampledStat::new(SampledKind::Avg);
        let mut max = SampledStat::new(SampledKind::Max);
        for i in 0..400u64 {
            let t = i * 500; // 200 s, 200 events per minute
            avg.record(&c, (i % 100) as f64, t);
            max.record(&c, (i % 100) as f64 * 10.0, t);
        }
        // The sample list never exceeds samples + 1.
        assert_eq!(avg.samples.len(), 3);
        let a = avg.measure(&c, 199_500);
        assert!(a > 0.0 && a < 100.0);
        assert_eq!(max.measure(&c, 199_500), 990.0);
        // A minute after the last event everything is obsolete.
        assert!(avg.measure(&c, 199_500 + 2 * W).is_nan());
        assert!(max.measure(&c, 199_500 + 2 * W).is_nan());
    }

    #[test]
    fn drained_batch_reads_a_real_producer_batch() {
        use crate::accumulator::{BatchId, RecordId};
        use crate::TopicPartition;
        use kproto::records::Compression;
        let mut b = ProducerBatch::new(
            BatchId(7),
            TopicPartition::new("metrics", 3),
            Compression::None,
            16_384,
            1.0,
            Vec::new(),
            1_000,
        );
        let value = alloc::vec![b'x'; 2_000];
        let mut n = 0u64;
        while b
            .try_append(
                RecordId(n),
                1_000,
                Some(b"key-\xc3\xa9"),
                Some(&value),
                &[],
                1_000,
            )
            .unwrap()
            .is_some()
        {
            n += 1;
        }
        b.drained(1_250);
        b.close().unwrap();
        let d = DrainedBatch::from(&b);
        assert_eq!(d.record_count, n);
        assert!(n >= 7, "{n} records of 2 KB in 16 KiB");
        assert_eq!(d.queue_time_ms, 250);
        assert_eq!(d.size_bytes, b.estimated_size_in_bytes() as u64);
        assert!(d.max_record_size >= 2_000);
        assert_eq!(d.compression_ratio, f64::from(b.compression_ratio()));
        let mut m = ProducerMetrics::default();
        m.record_produce_request(&[d, d], 1_250);
        assert_eq!(
            m.metric("records-per-request-avg", 1_250),
            Some(2.0 * n as f64)
        );
        // One request in the first 1 ms of a 2 x 30 s config: window 30.001 s.
        assert_eq!(
            m.metric("record-send-rate", 1_251),
            Some(2.0 * n as f64 / 30.001)
        );
    }

    #[test]
    fn network_io_counts_reads_and_writes_and_request_rate_counts_sends() {
        let mut m = ProducerMetrics::default();
        for i in 0..500u64 {
            m.record_bytes_sent(1_000 + i, i * 10);
            m.record_bytes_received(100, i * 10);
            if i % 5 == 0 {
                m.record_completed_send(5_000 + i, i * 10);
            }
        }
        assert_eq!(m.metric("network-io-total", 5_000), Some(1_000.0));
        assert_eq!(m.metric("request-total", 5_000), Some(100.0));
        let sent: u64 = (0..500u64).map(|i| 1_000 + i).sum();
        assert_eq!(m.metric("outgoing-byte-total", 5_000), Some(sent as f64));
        assert_eq!(m.metric("incoming-byte-total", 5_000), Some(50_000.0));
        assert_eq!(m.metric("request-size-max", 5_000), Some(5_495.0));
        // 5 s elapsed, raised to one whole window plus 5 s: 35 s.
        assert_eq!(m.metric("request-rate", 5_000), Some(100.0 / 35.0));
        for (name, desc, _) in m.values(5_000) {
            assert!(!desc.is_empty(), "{name}");
        }
    }

    #[test]
    fn produce_request_records_batches_and_records_per_request() {
        let mut m = ProducerMetrics::default();
        let batches: Vec<DrainedBatch> = (0..300u64)
            .map(|i| DrainedBatch {
                size_bytes: 16_384 - i,
                record_count: 10 + i % 7,
                compression_ratio: 0.5,
                queue_time_ms: i % 40,
                max_record_size: 1_024 + i,
            })
            .collect();
        m.record_produce_request(&batches, 10_000);
        let records: u64 = batches.iter().map(|b| b.record_count).sum();
        assert_eq!(m.metric("record-send-total", 10_000), Some(records as f64));
        assert_eq!(
            m.metric("records-per-request-avg", 10_000),
            Some(records as f64)
        );
        assert_eq!(m.metric("batch-size-max", 10_000), Some(16_384.0));
        assert_eq!(m.metric("record-size-max", 10_000), Some(1_323.0));
        assert_eq!(m.metric("compression-rate-avg", 10_000), Some(0.5));
        assert_eq!(m.metric("record-queue-time-max", 10_000), Some(39.0));
        m.set_buffer(1 << 20, 32 << 20);
        assert_eq!(m.metric("buffer-available-bytes", 0), Some(1_048_576.0));
        assert_eq!(m.metric("buffer-total-bytes", 0), Some(33_554_432.0));
    }
}
