//! Real Kafka clients as test drivers: kcat, kafka-python, confluent-kafka (librdkafka),
//! kafkajs and the Java client 4.4.0, each behind functions that take a bootstrap address and a
//! topic, run the client's produce or consume and return what it saw (delivery reports,
//! records with partition, offset, timestamp, key, value and headers), so a test compares that
//! with what it sent. The same drivers run against Apache Kafka 4.4.0
//! (`tests/tests/clients_kafka_reference.rs`) and against our broker.
//!
//! - [`payload`] makes realistic records (unicode keys, 0.1 to 4 KB values, headers);
//! - [`check`] compares what was sent with what was read back (dense offsets per partition,
//!   every record once, per-producer order, delivery reports);
//! - [`batches`] reads what the producers wrote from a broker's log directory (codecs,
//!   idempotence);
//! - [`lines`] is the line format the Python, Node.js and Java driver programs read records from
//!   and print results in;
//! - [`process`] runs a client program with a time limit;
//! - one module per client: [`kcat`], [`kafka_python`], [`confluent_kafka`], [`kafkajs`],
//!   [`java`], and Kafka's own `kafka-topics.sh` / `kafka-configs.sh` classes in
//!   [`kafka_tools`];
//! - [`suite`] is the scenario every broker test runs with them, one per client.
//!
//! Each client is installed by `.ci/install` (`kcat` by `05-apt.sh`, kafka-python by
//! `20-python.sh`, confluent-kafka by `21-confluent-kafka.sh`, the Java program by
//! `33-java-clients.sh`, kafkajs by `55-node-clients.sh`); a driver whose client is missing
//! panics saying which install step makes it (a missing client is a failure, never a skip).

pub mod batches;
pub mod check;
pub mod confluent_kafka;
pub mod java;
pub mod kafka_python;
pub mod kafka_tools;
pub mod kafkajs;
pub mod kcat;
pub mod lines;
pub mod payload;
pub mod process;
pub mod suite;

/// A record header: a string key and a value that may be null.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Header {
    /// The header's key (Kafka header keys are strings).
    pub key: String,
    /// The header's value; `None` is a null value.
    pub value: Option<Vec<u8>>,
}

/// A record to produce.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// The partition to send it to; `None` leaves the choice to the client's partitioner.
    pub partition: Option<i32>,
    /// The key; `None` is a null key.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is a null value (a tombstone).
    pub value: Option<Vec<u8>>,
    /// The headers, in order.
    pub headers: Vec<Header>,
}

/// A client's delivery report for one record it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Which record (its index in the slice the client was given).
    pub index: usize,
    /// The partition it was written to.
    pub partition: i32,
    /// The offset the broker gave it; `-1` when the client does not learn it (acks=0).
    pub offset: i64,
}

/// A record a consumer read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumed {
    /// The partition it was read from.
    pub partition: i32,
    /// Its offset.
    pub offset: i64,
    /// Its timestamp (milliseconds since the epoch).
    pub timestamp: i64,
    /// The key; `None` is a null key.
    pub key: Option<Vec<u8>>,
    /// The value; `None` is a null value.
    pub value: Option<Vec<u8>>,
    /// The headers, in order.
    pub headers: Vec<Header>,
}

impl Consumed {
    /// Whether it holds `r`'s key, value and headers.
    pub fn holds(&self, r: &Record) -> bool {
        self.key == r.key && self.value == r.value && self.headers == r.headers
    }
}

/// What a consumer saw: the records in the order it read them and, where the client reports
/// them, the end offsets (high watermarks) it read up to.
#[derive(Debug, Clone, Default)]
pub struct ReadBack {
    /// Every record read.
    pub records: Vec<Consumed>,
    /// `(partition, end offset)` per partition, where the client reports them.
    pub end_offsets: Vec<(i32, i64)>,
}

/// What a producer run reported: one delivery report per record it was given, in the order
/// the client reported them.
#[derive(Debug, Clone, Default)]
pub struct ProduceReport {
    /// The delivery reports.
    pub deliveries: Vec<Delivery>,
}

/// Compression codecs, by the name every client uses for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Codec {
    /// No compression.
    None,
    /// gzip.
    Gzip,
    /// Snappy (xerial framing, as Kafka writes it).
    Snappy,
    /// LZ4 (frame format).
    Lz4,
    /// Zstandard.
    Zstd,
}

impl Codec {
    /// Every codec, `None` first.
    pub const ALL: [Codec; 5] = [
        Codec::None,
        Codec::Gzip,
        Codec::Snappy,
        Codec::Lz4,
        Codec::Zstd,
    ];

    /// The name in `compression.type` / `compression.codec` (`none`, `gzip`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "none",
            Codec::Gzip => "gzip",
            Codec::Snappy => "snappy",
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        }
    }
}

/// The `acks` a producer asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Acks {
    /// `acks=0`: no response; the client learns no offsets.
    None,
    /// `acks=1`: the leader's write.
    Leader,
    /// `acks=all` (-1): every in-sync replica.
    All,
}

impl Acks {
    /// Every value, `0` first.
    pub const ALL: [Acks; 3] = [Acks::None, Acks::Leader, Acks::All];

    /// The value as the wire and Kafka's configs write it: `0`, `1`, `-1`.
    pub fn wire(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }
}
