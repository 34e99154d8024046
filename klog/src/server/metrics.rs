//! The Prometheus metrics of `kpp serve`: the core's counters ([`BrokerMetrics`], read from the
//! core thread at each scrape) and the adapter's own (connections per listener, request
//! latency histograms), rendered in Prometheus' text exposition format 0.0.4.
//!
//! # Names
//!
//! Kafka publishes its broker metrics over JMX; Prometheus scrapes them through the JMX
//! exporter, whose Kafka configuration (`kafka-2_0_0.yml`, `lowercaseOutputName: true`)
//! turns `kafka.<domain>:type=<Type>,name=<Name>PerSec,<tag>=<value>`'s `Count` into the
//! counter `kafka_<domain>_<type>_<name>_total{<tag>="<value>"}` and a gauge's `Value` into
//! `kafka_<domain>_<type>_<name>`. The same names are used here, so a Kafka dashboard reads
//! this endpoint unchanged:
//!
//! | Prometheus | Kafka MBean | type |
//! |---|---|---|
//! | `kafka_server_brokertopicmetrics_bytesin_total` | `kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec` | counter |
//! | `kafka_server_brokertopicmetrics_bytesout_total` | `...,name=BytesOutPerSec` | counter |
//! | `kafka_server_brokertopicmetrics_messagesin_total` | `...,name=MessagesInPerSec` | counter |
//! | `kafka_server_brokertopicmetrics_totalproducerequests_total` | `...,name=TotalProduceRequestsPerSec` | counter |
//! | `kafka_server_brokertopicmetrics_totalfetchrequests_total` | `...,name=TotalFetchRequestsPerSec` | counter |
//! | `kafka_network_requestmetrics_requests_total{request}` | `kafka.network:type=RequestMetrics,name=RequestsPerSec,request=<api>` | counter |
//! | `kafka_network_requestmetrics_errors_total{request,error}` | `...,name=ErrorsPerSec,request=<api>,error=<ERROR_NAME>` | counter |
//! | `kafka_network_requestmetrics_totaltimems{request}` | `...,name=TotalTimeMs,request=<api>` | histogram |
//! | `kafka_server_replicamanager_partitioncount` | `kafka.server:type=ReplicaManager,name=PartitionCount` | gauge |
//! | `kafka_server_replicamanager_leadercount` | `...,name=LeaderCount` | gauge |
//! | `kafka_server_delayedoperationpurgatory_purgatorysize{delayedOperation="Fetch"}` | `kafka.server:type=DelayedOperationPurgatory,name=PurgatorySize,delayedOperation=Fetch` | gauge |
//! | `kafka_server_socketservermetrics_connection_count{listener}` | `kafka.server:type=socket-server-metrics,listener=<name>` `connection-count` | gauge |
//! | `kafka_server_socketservermetrics_connection_creation_total{listener}` | `...` `connection-creation-total` | counter |
//! | `kafka_server_socketservermetrics_connection_close_total{listener}` | `...` `connection-close-total` | counter |
//! | `kafka_server_kafkaserver_brokerstate` | `kafka.server:type=KafkaServer,name=BrokerState` (3, RUNNING, while served) | gauge |
//! | `kafka_log_logmanager_offlinelogdirectorycount` | `kafka.log:type=LogManager,name=OfflineLogDirectoryCount` | gauge |
//! | `kafka_server_replicamanager_offlinereplicacount` | `kafka.server:type=ReplicaManager,name=OfflineReplicaCount` | gauge |
//! | `kpp_broker_core_closed_connections_total` | none: connections the core refused (bad frame, unknown API, acks=0 failure) | counter |
//! | `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`, `process_start_time_seconds` | none: Prometheus' standard process metrics, as its clients and the JMX exporter export them (Linux, from `/proc/self`) | counter, gauges |
//!
//! Differences from Kafka, by design or for want of the data:
//! - `TotalTimeMs` is a Yammer histogram in Kafka, which the JMX exporter shows as quantiles;
//!   here it is a Prometheus histogram ([`LATENCY_BUCKETS_MS`], plus `_sum` in milliseconds and
//!   `_count`), so quantiles can be aggregated. It is measured as Kafka measures it, from the
//!   moment the whole request frame was read to the moment its response was written (for a
//!   request without response, acks=0, to the moment the core answered; a request the core
//!   answers by closing the connection is not recorded, nor is a frame of no known API).
//!   Fetches are counted under `Fetch` only, not also under Kafka's
//!   `FetchConsumer`/`FetchFollower`.
//! - `RequestsPerSec` carries no `version` tag (the core counts per API, not per version), and
//!   `ErrorsPerSec` has no `error="NONE"` series (the core counts errors only).
//! - The socket-server metrics carry no `networkProcessor` tag (there are no processors: one
//!   task serves each connection).
//! - The offline gauges come from the core's events ([`LogHealth`], kept by the core thread):
//!   a failed log directory takes every partition offline, as in Kafka, until the restart.
//! - Only the all-topics `BrokerTopicMetrics` (Kafka's series without a `topic` tag) exist.
//!
//! # Why no crate
//!
//! `prometheus-client` writes OpenMetrics 1.0 (`# EOF`, its own counter naming) rather than
//! the 0.0.4 text format, and, like `prometheus`, wants to own the metrics in its registry;
//! here the counters are the core's, read as one [`BrokerMetrics`] snapshot from another
//! thread, so a collector over them would be most of this file anyway. The format is a few
//! line shapes; [`render`] writes them and its tests check them.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use core::time::Duration;

use kproto::ApiKey;

use crate::broker::{BrokerEvent, BrokerMetrics};

/// The upper bounds (`le`, milliseconds) of the latency histograms' buckets, `+Inf` aside:
/// from sub-millisecond local answers to delayed fetches waiting `fetch.max.wait.ms` and slow
/// `fsync`s.
pub const LATENCY_BUCKETS_MS: [f64; 14] = [
    0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0,
];

/// The same bounds in microseconds (what is compared; exact for every bound above).
const BUCKET_BOUNDS_US: [u64; 14] = [
    500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// One latency histogram, lock-free: per-bucket counts (not cumulative) and the sum.
#[derive(Debug, Default)]
struct Histogram {
    /// One per bound, then the `+Inf` bucket.
    buckets: [AtomicU64; BUCKET_BOUNDS_US.len() + 1],
    /// The sum of the observations, in microseconds.
    sum_us: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = BUCKET_BOUNDS_US.partition_point(|&b| b < us);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        let _ = self
            .sum_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| {
                Some(s.saturating_add(us))
            });
    }

    fn snapshot(&self) -> HistogramSnapshot {
        HistogramSnapshot {
            buckets: core::array::from_fn(|i| self.buckets[i].load(Ordering::Relaxed)),
            sum_us: self.sum_us.load(Ordering::Relaxed),
        }
    }
}

/// A histogram read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistogramSnapshot {
    /// Observations per bucket (not cumulative): one per [`LATENCY_BUCKETS_MS`] bound, then
    /// the `+Inf` bucket.
    pub buckets: [u64; LATENCY_BUCKETS_MS.len() + 1],
    /// The sum of the observations, in microseconds.
    pub sum_us: u64,
}

impl HistogramSnapshot {
    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }
}

/// The connection counters of one listener (Kafka's `socket-server-metrics`).
#[derive(Debug)]
pub(crate) struct ListenerMetrics {
    /// The listener's name (`PLAINTEXT`).
    name: String,
    /// Open connections.
    count: AtomicI64,
    /// Connections accepted.
    created: AtomicU64,
    /// Connections closed.
    closed: AtomicU64,
}

impl ListenerMetrics {
    /// Counts an accepted connection; the guard counts its close when dropped.
    pub(crate) fn opened(self: &Arc<Self>) -> ConnectionGuard {
        self.created.fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        ConnectionGuard(Arc::clone(self))
    }
}

/// An open connection of a listener: dropping it counts the close.
#[derive(Debug)]
pub(crate) struct ConnectionGuard(Arc<ListenerMetrics>);

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.0.count.fetch_sub(1, Ordering::Relaxed);
        self.0.closed.fetch_add(1, Ordering::Relaxed);
    }
}

/// The adapter's metrics: shared by the acceptors, the connection tasks and the endpoint.
#[derive(Debug)]
pub(crate) struct AdapterMetrics {
    /// `TotalTimeMs`, indexed by API key.
    latency: Vec<Histogram>,
    /// One per listener, in configuration order.
    listeners: Vec<Arc<ListenerMetrics>>,
}

impl AdapterMetrics {
    /// Metrics for the listeners named `listeners`.
    pub(crate) fn new<'a>(listeners: impl IntoIterator<Item = &'a str>) -> AdapterMetrics {
        AdapterMetrics {
            latency: (0..ApiKey::ALL.len())
                .map(|_| Histogram::default())
                .collect(),
            listeners: listeners
                .into_iter()
                .map(|name| {
                    Arc::new(ListenerMetrics {
                        name: String::from(name),
                        count: AtomicI64::new(0),
                        created: AtomicU64::new(0),
                        closed: AtomicU64::new(0),
                    })
                })
                .collect(),
        }
    }

    /// The counters of the listener named `name` (a new one if no listener has that name).
    pub(crate) fn listener(&self, name: &str) -> Arc<ListenerMetrics> {
        self.listeners
            .iter()
            .find(|l| l.name == name)
            .cloned()
            .unwrap_or_else(|| {
                Arc::new(ListenerMetrics {
                    name: String::from(name),
                    count: AtomicI64::new(0),
                    created: AtomicU64::new(0),
                    closed: AtomicU64::new(0),
                })
            })
    }

    /// Records the total time of a request whose frame starts with API key `api_key` (frames
    /// of no known API are not recorded).
    pub(crate) fn observe(&self, api_key: i16, d: Duration) {
        if let Some(h) = usize::try_from(api_key)
            .ok()
            .and_then(|i| self.latency.get(i))
        {
            h.observe(d);
        }
    }

    /// Reads everything.
    pub(crate) fn snapshot(&self) -> AdapterSnapshot {
        let mut latency = BTreeMap::new();
        for (i, h) in self.latency.iter().enumerate() {
            let Some(key) = i16::try_from(i).ok().and_then(ApiKey::from_i16) else {
                continue;
            };
            let s = h.snapshot();
            // Produce and Fetch always (dashboards expect them), others once seen
            if s.count() > 0 || matches!(key, ApiKey::Produce | ApiKey::Fetch) {
                latency.insert(key.key(), s);
            }
        }
        AdapterSnapshot {
            latency,
            listeners: self
                .listeners
                .iter()
                .map(|l| ListenerSnapshot {
                    name: l.name.clone(),
                    connections: u64::try_from(l.count.load(Ordering::Relaxed)).unwrap_or(0),
                    created: l.created.load(Ordering::Relaxed),
                    closed: l.closed.load(Ordering::Relaxed),
                })
                .collect(),
        }
    }
}

/// The connection counters of one listener, read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerSnapshot {
    /// The listener's name.
    pub name: String,
    /// Open connections.
    pub connections: u64,
    /// Connections accepted.
    pub created: u64,
    /// Connections closed.
    pub closed: u64,
}

/// The adapter's metrics, read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdapterSnapshot {
    /// `TotalTimeMs` by API key.
    pub latency: BTreeMap<i16, HistogramSnapshot>,
    /// Per listener.
    pub listeners: Vec<ListenerSnapshot>,
}

/// The log failures the core's events reported, kept by the core thread for Kafka's offline
/// gauges (the core does not count them: they are events, see [`BrokerEvent`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogHealth {
    /// The log directory failed ([`BrokerEvent::LogDirFailed`]): every partition is offline.
    pub log_dir_offline: bool,
    /// Partitions whose log failed ([`BrokerEvent::LogFailed`]), each once.
    pub offline_partitions: BTreeSet<(String, i32)>,
}

impl LogHealth {
    /// Takes note of `event` (only the failures matter; a failure lasts until the restart).
    pub fn observe(&mut self, event: &BrokerEvent) {
        match event {
            BrokerEvent::LogDirFailed { .. } => self.log_dir_offline = true,
            BrokerEvent::LogFailed {
                topic, partition, ..
            } => {
                self.offline_partitions.insert((topic.clone(), *partition));
            }
            _ => {}
        }
    }

    /// Offline replicas among `partition_count` (all when the directory failed).
    pub fn offline_replicas(&self, partition_count: u64) -> u64 {
        if self.log_dir_offline {
            partition_count
        } else {
            (self.offline_partitions.len() as u64).min(partition_count)
        }
    }
}

/// Prometheus' standard process metrics, read from `/proc` (Linux).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessStats {
    /// User and system CPU time, seconds.
    pub cpu_seconds: f64,
    /// Resident set size, bytes.
    pub resident_bytes: u64,
    /// Virtual memory size, bytes.
    pub virtual_bytes: u64,
    /// Open file descriptors.
    pub open_fds: u64,
    /// The soft limit on open file descriptors (`None`: unlimited).
    pub max_fds: Option<u64>,
    /// When the process started, seconds since the Unix epoch.
    pub start_time_seconds: f64,
}

/// Clock ticks per second of `/proc`'s times: `USER_HZ`, 100 on every Linux architecture (the
/// Go client's procfs assumes the same).
const USER_HZ: f64 = 100.0;

impl ProcessStats {
    /// Parses `/proc/self/stat`, `/proc/self/status`, `/proc/self/limits` and `/proc/stat`
    /// (`None` when one lacks what is read from it).
    pub fn parse(
        stat: &str,
        status: &str,
        limits: &str,
        proc_stat: &str,
        open_fds: u64,
    ) -> Option<ProcessStats> {
        // after the command name, which may hold spaces and parentheses: field 3 onwards
        let fields: Vec<&str> = stat
            .get(stat.rfind(')')? + 1..)?
            .split_whitespace()
            .collect();
        let field = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
        let (utime, stime, start_ticks, vsize) = (field(14)?, field(15)?, field(22)?, field(23)?);
        let resident_kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .split_whitespace()
            .next()?
            .parse()
            .ok()?;
        let max_fds = limits
            .lines()
            .find_map(|l| l.strip_prefix("Max open files"))?
            .split_whitespace()
            .next()?;
        let max_fds = if max_fds == "unlimited" {
            None
        } else {
            Some(max_fds.parse().ok()?)
        };
        let boot: u64 = proc_stat
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        Some(ProcessStats {
            cpu_seconds: (utime + stime) as f64 / USER_HZ,
            resident_bytes: resident_kb * 1024,
            virtual_bytes: vsize,
            open_fds,
            max_fds,
            start_time_seconds: boot as f64 + start_ticks as f64 / USER_HZ,
        })
    }

    /// This process's, where `/proc` has them.
    pub fn read() -> Option<ProcessStats> {
        let read = |p: &str| std::fs::read_to_string(p).ok();
        let open_fds = std::fs::read_dir("/proc/self/fd").ok()?.count() as u64;
        ProcessStats::parse(
            &read("/proc/self/stat")?,
            &read("/proc/self/status")?,
            &read("/proc/self/limits")?,
            &read("/proc/stat")?,
            open_fds,
        )
    }

    /// Appends the `process_*` families.
    pub fn render(&self, o: &mut String) {
        family(
            o,
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
        );
        let _ = writeln!(o, "process_cpu_seconds_total {}", self.cpu_seconds);
        single(
            o,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            self.resident_bytes,
        );
        single(
            o,
            "process_virtual_memory_bytes",
            "gauge",
            "Virtual memory size in bytes.",
            self.virtual_bytes,
        );
        single(
            o,
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            self.open_fds,
        );
        if let Some(max) = self.max_fds {
            single(
                o,
                "process_max_fds",
                "gauge",
                "Maximum number of open file descriptors.",
                max,
            );
        }
        family(
            o,
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
        );
        let _ = writeln!(o, "process_start_time_seconds {}", self.start_time_seconds);
    }
}

/// A label value escaped as the text format wants (`\\`, `\"`, `\n`).
fn escape(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// The `# HELP` and `# TYPE` lines of a family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A family of one sample without labels.
fn single(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    family(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// The name of API key `key` (`Produce`), or its number for a key Kafka does not define.
fn api_name(key: i16) -> String {
    match ApiKey::from_i16(key) {
        Some(k) => String::from(k.name()),
        None => alloc::format!("{key}"),
    }
}

/// Microseconds as milliseconds with three decimals.
fn ms(us: u64) -> String {
    alloc::format!("{}.{:03}", us / 1000, us % 1000)
}

/// A bucket bound as Prometheus writes it (`1`, `2.5`).
fn bound(b: f64) -> String {
    alloc::format!("{b}")
}

/// A per-listener family: name, type, help, and its value of a listener.
type ListenerFamily = (
    &'static str,
    &'static str,
    &'static str,
    fn(&ListenerSnapshot) -> u64,
);

/// Renders the broker's and the adapter's metrics in Prometheus' text format 0.0.4 (the
/// names are in the module docs).
pub fn render(broker: &BrokerMetrics, health: &LogHealth, adapter: &AdapterSnapshot) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let o = &mut out;
    single(
        o,
        "kafka_server_brokertopicmetrics_bytesin_total",
        "counter",
        "Bytes of record batches appended by Produce (BrokerTopicMetrics BytesInPerSec).",
        broker.bytes_in,
    );
    single(
        o,
        "kafka_server_brokertopicmetrics_bytesout_total",
        "counter",
        "Bytes of record batches returned by Fetch (BrokerTopicMetrics BytesOutPerSec).",
        broker.bytes_out,
    );
    single(
        o,
        "kafka_server_brokertopicmetrics_messagesin_total",
        "counter",
        "Records appended (BrokerTopicMetrics MessagesInPerSec).",
        broker.messages_in,
    );
    single(
        o,
        "kafka_server_brokertopicmetrics_totalproducerequests_total",
        "counter",
        "Produce requests (BrokerTopicMetrics TotalProduceRequestsPerSec).",
        broker.total_produce_requests,
    );
    single(
        o,
        "kafka_server_brokertopicmetrics_totalfetchrequests_total",
        "counter",
        "Partitions fetched (BrokerTopicMetrics TotalFetchRequestsPerSec).",
        broker.total_fetch_requests,
    );

    let name = "kafka_network_requestmetrics_requests_total";
    family(
        o,
        name,
        "counter",
        "Requests handled, by API (RequestMetrics RequestsPerSec).",
    );
    for (key, c) in &broker.apis {
        if c.requests > 0 {
            let _ = writeln!(
                o,
                "{name}{{request=\"{}\"}} {}",
                escape(&api_name(*key)),
                c.requests
            );
        }
    }
    let name = "kafka_network_requestmetrics_errors_total";
    family(
        o,
        name,
        "counter",
        "Error codes returned, by API and error (RequestMetrics ErrorsPerSec).",
    );
    for (key, c) in &broker.apis {
        for (code, n) in &c.errors {
            let _ = writeln!(
                o,
                "{name}{{request=\"{}\",error=\"{}\"}} {n}",
                escape(&api_name(*key)),
                code.name()
            );
        }
    }

    let name = "kafka_network_requestmetrics_totaltimems";
    family(
        o,
        name,
        "histogram",
        "Milliseconds from a request's arrival to its response written (RequestMetrics TotalTimeMs).",
    );
    for (key, h) in &adapter.latency {
        let request = escape(&api_name(*key));
        let mut cumulative = 0u64;
        for (i, n) in h.buckets.iter().enumerate() {
            cumulative += n;
            let le = LATENCY_BUCKETS_MS
                .get(i)
                .map_or_else(|| String::from("+Inf"), |b| bound(*b));
            let _ = writeln!(
                o,
                "{name}_bucket{{request=\"{request}\",le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(o, "{name}_sum{{request=\"{request}\"}} {}", ms(h.sum_us));
        let _ = writeln!(o, "{name}_count{{request=\"{request}\"}} {cumulative}");
    }

    single(
        o,
        "kafka_server_replicamanager_partitioncount",
        "gauge",
        "Partitions on this broker (ReplicaManager PartitionCount).",
        broker.partition_count,
    );
    single(
        o,
        "kafka_server_replicamanager_leadercount",
        "gauge",
        "Partitions this broker leads: all of them, it is the only replica (ReplicaManager LeaderCount).",
        broker.partition_count,
    );
    single(
        o,
        "kafka_server_replicamanager_offlinereplicacount",
        "gauge",
        "Partitions whose log failed, all of them once the log directory failed (ReplicaManager OfflineReplicaCount).",
        health.offline_replicas(broker.partition_count),
    );
    single(
        o,
        "kafka_log_logmanager_offlinelogdirectorycount",
        "gauge",
        "Log directories offline after a storage failure (LogManager OfflineLogDirectoryCount).",
        u64::from(health.log_dir_offline),
    );
    single(
        o,
        "kafka_server_kafkaserver_brokerstate",
        "gauge",
        "The broker's state: 3 (RUNNING) while it serves requests (KafkaServer BrokerState).",
        3,
    );
    let name = "kafka_server_delayedoperationpurgatory_purgatorysize";
    family(
        o,
        name,
        "gauge",
        "Requests waiting in a purgatory (DelayedOperationPurgatory PurgatorySize).",
    );
    let _ = writeln!(
        o,
        "{name}{{delayedOperation=\"Fetch\"}} {}",
        broker.delayed_fetches
    );

    let families: [ListenerFamily; 3] = [
        (
            "kafka_server_socketservermetrics_connection_count",
            "gauge",
            "Open connections, by listener (socket-server-metrics connection-count).",
            |l| l.connections,
        ),
        (
            "kafka_server_socketservermetrics_connection_creation_total",
            "counter",
            "Connections accepted, by listener (socket-server-metrics connection-creation-total).",
            |l| l.created,
        ),
        (
            "kafka_server_socketservermetrics_connection_close_total",
            "counter",
            "Connections closed, by listener (socket-server-metrics connection-close-total).",
            |l| l.closed,
        ),
    ];
    for (name, kind, help, value) in families {
        family(o, name, kind, help);
        for l in &adapter.listeners {
            let _ = writeln!(o, "{name}{{listener=\"{}\"}} {}", escape(&l.name), value(l));
        }
    }
    single(
        o,
        "kpp_broker_core_closed_connections_total",
        "counter",
        "Connections the broker core refused: undecodable frame, unknown API or version, acks=0 produce failure.",
        broker.connections_closed,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::broker::ApiCounters;
    use kproto::ErrorCode;

    /// Every sample line as (name with labels, value).
    fn samples(text: &str) -> Vec<(String, String)> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| {
                let (k, v) = l.rsplit_once(' ').expect("a sample");
                (String::from(k), String::from(v))
            })
            .collect()
    }

    fn value(text: &str, key: &str) -> String {
        samples(text)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("no sample {key} in\n{text}"))
    }

    #[test]
    fn the_text_format_has_one_help_and_type_per_family_and_kafka_names() {
        let mut apis = BTreeMap::new();
        let mut produce = ApiCounters {
            requests: 1_234,
            ..ApiCounters::default()
        };
        produce
            .errors
            .insert(ErrorCode::UnknownTopicOrPartition, 17);
        produce.errors.insert(ErrorCode::CorruptMessage, 2);
        apis.insert(ApiKey::Produce.key(), produce);
        apis.insert(
            ApiKey::Metadata.key(),
            ApiCounters {
                requests: 300,
                ..ApiCounters::default()
            },
        );
        let broker = BrokerMetrics {
            apis,
            bytes_in: 5_000_000_123,
            bytes_out: 77_777,
            messages_in: 100_000,
            total_produce_requests: 1_234,
            total_fetch_requests: 55,
            connections_closed: 3,
            partition_count: 12,
            delayed_fetches: 4,
        };
        let adapter = AdapterMetrics::new(["PLAINTEXT", "INTERNAL"]);
        let l = adapter.listener("PLAINTEXT");
        let mut open: Vec<_> = (0..300).map(|_| l.opened()).collect();
        drop(open.split_off(200));
        // latencies across every bucket: 0.2 ms .. 20 s
        let mut total_us = 0u64;
        for i in 0..500u64 {
            let us = 200 + i * i * 80;
            total_us += us;
            adapter.observe(ApiKey::Produce.key(), Duration::from_micros(us));
        }
        adapter.observe(ApiKey::Metadata.key(), Duration::from_micros(1_000));
        // not an API: ignored
        adapter.observe(999, Duration::from_millis(1));
        adapter.observe(-1, Duration::from_millis(1));
        let snap = adapter.snapshot();
        let mut health = LogHealth::default();
        for p in [3, 7, 3] {
            health.observe(&BrokerEvent::LogFailed {
                topic: String::from("orders"),
                partition: p,
                error: String::from("No space left on device"),
            });
        }
        health.observe(&BrokerEvent::MetadataWriteFailed {
            error: String::from("read-only file system"),
        });
        let text = render(&broker, &health, &snap);
        drop(open);

        // every family once, TYPE right after HELP, every sample under its family
        let mut seen = Vec::new();
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            if let Some(rest) = l.strip_prefix("# HELP ") {
                let name = rest.split(' ').next().unwrap();
                assert!(!seen.contains(&name), "{name} twice");
                seen.push(name);
                assert!(lines[i + 1].starts_with(&alloc::format!("# TYPE {name} ")));
            } else if !l.starts_with('#') {
                let family = seen.last().expect("a sample before any family");
                assert!(l.starts_with(family), "{l} outside {family}");
                // metric and label names of the text format
                let name: String = l.chars().take_while(|c| *c != '{' && *c != ' ').collect();
                assert!(name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'));
            }
        }
        assert_eq!(seen.len(), 18, "{seen:?}");
        assert_eq!(
            value(&text, "kafka_server_replicamanager_offlinereplicacount"),
            "2"
        );
        assert_eq!(
            value(&text, "kafka_log_logmanager_offlinelogdirectorycount"),
            "0"
        );
        assert_eq!(value(&text, "kafka_server_kafkaserver_brokerstate"), "3");
        // the directory fails: every partition is offline
        health.observe(&BrokerEvent::LogDirFailed {
            error: String::from("cannot write recovery-point-offset-checkpoint"),
        });
        let failed = render(&broker, &health, &snap);
        assert_eq!(
            value(&failed, "kafka_server_replicamanager_offlinereplicacount"),
            "12"
        );
        assert_eq!(
            value(&failed, "kafka_log_logmanager_offlinelogdirectorycount"),
            "1"
        );
        assert!(text.ends_with('\n'));

        assert_eq!(
            value(&text, "kafka_server_brokertopicmetrics_bytesin_total"),
            "5000000123"
        );
        assert_eq!(
            value(&text, "kafka_server_brokertopicmetrics_messagesin_total"),
            "100000"
        );
        assert_eq!(
            value(
                &text,
                "kafka_network_requestmetrics_requests_total{request=\"Produce\"}"
            ),
            "1234"
        );
        assert_eq!(
            value(
                &text,
                "kafka_network_requestmetrics_errors_total{request=\"Produce\",error=\"UNKNOWN_TOPIC_OR_PARTITION\"}"
            ),
            "17"
        );
        assert_eq!(
            value(
                &text,
                "kafka_network_requestmetrics_errors_total{request=\"Produce\",error=\"CORRUPT_MESSAGE\"}"
            ),
            "2"
        );
        assert_eq!(
            value(
                &text,
                "kafka_server_delayedoperationpurgatory_purgatorysize{delayedOperation=\"Fetch\"}"
            ),
            "4"
        );
        assert_eq!(
            value(
                &text,
                "kafka_server_socketservermetrics_connection_count{listener=\"PLAINTEXT\"}"
            ),
            "200"
        );
        assert_eq!(
            value(
                &text,
                "kafka_server_socketservermetrics_connection_close_total{listener=\"PLAINTEXT\"}"
            ),
            "100"
        );
        assert_eq!(
            value(
                &text,
                "kafka_server_socketservermetrics_connection_count{listener=\"INTERNAL\"}"
            ),
            "0"
        );
        assert_eq!(
            value(&text, "kafka_server_replicamanager_partitioncount"),
            "12"
        );

        // the histogram: cumulative, monotonic, +Inf = count = observations, sum in ms
        let h = "kafka_network_requestmetrics_totaltimems";
        let buckets: Vec<(String, u64)> = samples(&text)
            .into_iter()
            .filter(|(k, _)| k.starts_with(&alloc::format!("{h}_bucket{{request=\"Produce\"")))
            .map(|(k, v)| (k, v.parse().unwrap()))
            .collect();
        assert_eq!(buckets.len(), LATENCY_BUCKETS_MS.len() + 1);
        assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{buckets:?}");
        assert!(buckets[0].0.ends_with("le=\"0.5\"}"));
        assert!(buckets[2].0.ends_with("le=\"2.5\"}"));
        assert!(buckets.last().unwrap().0.ends_with("le=\"+Inf\"}"));
        assert_eq!(buckets.last().unwrap().1, 500);
        // 200 + i²·80 µs ≤ 500 µs for i ≤ 1: two observations in the first bucket
        assert_eq!(buckets[0].1, 2);
        // above 10 s: i²·80 > 9 999 800, i ≥ 354: 146 observations in +Inf only
        assert_eq!(buckets[LATENCY_BUCKETS_MS.len() - 1].1, 500 - 146);
        assert_eq!(
            value(&text, &alloc::format!("{h}_count{{request=\"Produce\"}}")),
            "500"
        );
        assert_eq!(
            value(&text, &alloc::format!("{h}_sum{{request=\"Produce\"}}")),
            ms(total_us)
        );
        // Fetch is shown though unseen; Metadata once seen; unknown keys never
        assert_eq!(
            value(&text, &alloc::format!("{h}_count{{request=\"Fetch\"}}")),
            "0"
        );
        assert_eq!(
            value(
                &text,
                &alloc::format!("{h}_bucket{{request=\"Metadata\",le=\"1\"}}")
            ),
            "1"
        );
        assert!(!text.contains("request=\"999\""));
        assert_eq!(snap.latency.len(), 3);
    }

    #[test]
    fn process_stats_parse_procfs_and_render() {
        // a command name with spaces and parentheses; utime 1234, stime 766 ticks
        let stat = "4242 (kpp (net) w) S 1 4242 4242 0 -1 4194560 31337 0 0 0 1234 766 0 0 20 \
                    0 9 0 387136 1073741824 20480 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 \
                    17 1 0 0 0 0 0";
        let status = "Name:\tkpp\nVmPeak:\t 1100000 kB\nVmSize:\t 1048576 kB\n\
                      VmRSS:\t   81920 kB\nThreads:\t9\n";
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max cpu time              unlimited            unlimited            seconds   \n\
                      Max open files            20000                524288               files     \n";
        let proc_stat = "cpu  1 2 3 4\nintr 5\nbtime 1796302063\nprocesses 9\n";
        let p = ProcessStats::parse(stat, status, limits, proc_stat, 37).unwrap();
        assert_eq!(p.cpu_seconds, 20.0);
        assert_eq!(p.resident_bytes, 81920 * 1024);
        assert_eq!(p.virtual_bytes, 1_073_741_824);
        assert_eq!((p.open_fds, p.max_fds), (37, Some(20000)));
        assert_eq!(p.start_time_seconds, 1_796_302_063.0 + 3871.36);
        let mut o = String::new();
        p.render(&mut o);
        assert!(o.contains("\nprocess_cpu_seconds_total 20\n"), "{o}");
        assert!(
            o.contains("\nprocess_resident_memory_bytes 83886080\n"),
            "{o}"
        );
        assert!(o.contains("\nprocess_max_fds 20000\n"), "{o}");
        assert!(
            o.contains("\nprocess_start_time_seconds 1796305934.36\n"),
            "{o}"
        );
        // unlimited descriptors: no process_max_fds
        let unlimited = limits.replace("20000  ", "unlimited");
        let p = ProcessStats::parse(stat, status, &unlimited, proc_stat, 37).unwrap();
        assert_eq!(p.max_fds, None);
        // truncated files: nothing rather than garbage
        assert_eq!(
            ProcessStats::parse(&stat[..60], status, limits, proc_stat, 1),
            None
        );
        assert_eq!(
            ProcessStats::parse(stat, "Name:\tkpp\n", limits, proc_stat, 1),
            None
        );
        assert_eq!(
            ProcessStats::parse(stat, status, limits, "cpu 1\n", 1),
            None
        );
        assert_eq!(
            ProcessStats::parse("no parenthesis", status, limits, proc_stat, 1),
            None
        );
        // this process, on Linux
        if cfg!(target_os = "linux") {
            let me = ProcessStats::read().expect("/proc/self");
            assert!(me.resident_bytes > 1 << 20 && me.open_fds >= 3, "{me:?}");
        }
    }

    #[test]
    fn label_values_are_escaped_and_bounds_are_exact() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        for (b, us) in LATENCY_BUCKETS_MS.iter().zip(BUCKET_BOUNDS_US) {
            assert_eq!((*b * 1000.0) as u64, us);
        }
        assert_eq!(ms(1_234_567), "1234.567");
        assert_eq!(ms(5), "0.005");
        // a bound is inclusive (le)
        let h = Histogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_micros(501));
        h.observe(Duration::from_secs(u64::MAX));
        let s = h.snapshot();
        assert_eq!((s.buckets[0], s.buckets[1], s.buckets[14]), (1, 1, 1));
        assert_eq!(s.count(), 3);
        assert_eq!(s.sum_us, u64::MAX);
    }
}
