//! One row of the batch table: every header field of a batch (v2) or legacy message (magic 0
//! and 1), with the stored and computed CRC.

use kproto::records::control::{control_record_type, ControlRecordType};
use kproto::records::legacy::LegacyMessage;
use kproto::records::{BatchView, Compression, TimestampType, DEFAULT_MAX_UNCOMPRESSED};
use serde::Serialize;

/// A batch's header as the table shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchSummary {
    /// Its index in the file's listing.
    pub index: usize,
    /// Where it starts in the file.
    pub position: u64,
    /// Its size in bytes, offset and size fields included.
    pub size: u64,
    /// The magic byte (0, 1 or 2).
    pub magic: i8,
    /// The first offset (for a legacy wrapper, its first inner message's).
    pub base_offset: i64,
    /// The last offset.
    pub last_offset: i64,
    /// The record count (the header's for v2; inner messages for a legacy wrapper).
    pub count: i64,
    /// `baseTimestamp` (v2) or the message timestamp (magic 1); -1 when none.
    pub first_timestamp: i64,
    /// `maxTimestamp` (v2) or the message timestamp (magic 1); -1 when none.
    pub max_timestamp: i64,
    /// `CreateTime`, `LogAppendTime`, or `NoTimestamp` for magic 0.
    pub timestamp_type: &'static str,
    /// `producerId` (-1 for none and for legacy messages).
    pub producer_id: i64,
    /// `producerEpoch`.
    pub producer_epoch: i16,
    /// `baseSequence`.
    pub base_sequence: i32,
    /// The last sequence (Kafka's wrapping arithmetic), -1 when none.
    pub last_sequence: i32,
    /// `partitionLeaderEpoch` (-1 for legacy).
    pub partition_leader_epoch: i32,
    /// Part of a transaction.
    pub transactional: bool,
    /// A control batch.
    pub control: bool,
    /// For a control batch: `COMMIT`, `ABORT`, ... (from its first record's key).
    pub control_type: Option<String>,
    /// The codec's name, or `unknown(N)`.
    pub compression: String,
    /// The CRC stored in the header (CRC-32C for v2, CRC-32 for legacy).
    pub crc_stored: u32,
    /// The CRC of the bytes.
    pub crc_computed: u32,
    /// Whether the two CRCs agree.
    pub crc_ok: bool,
    /// What else is wrong with it (invalid attributes, undecodable records, ...).
    pub problem: Option<String>,
}

fn ts_type(t: TimestampType) -> &'static str {
    match t {
        TimestampType::CreateTime => "CreateTime",
        TimestampType::LogAppendTime => "LogAppendTime",
    }
}

/// Kafka's name of a control record type (`ControlRecordType`'s enum constants).
pub fn control_name(t: ControlRecordType) -> String {
    match t {
        ControlRecordType::Abort => "ABORT".into(),
        ControlRecordType::Commit => "COMMIT".into(),
        ControlRecordType::LeaderChange => "LEADER_CHANGE".into(),
        ControlRecordType::SnapshotHeader => "SNAPSHOT_HEADER".into(),
        ControlRecordType::SnapshotFooter => "SNAPSHOT_FOOTER".into(),
        ControlRecordType::KraftVersion => "KRAFT_VERSION".into(),
        ControlRecordType::KraftVoters => "KRAFT_VOTERS".into(),
        ControlRecordType::Unknown(id) => format!("UNKNOWN({id})"),
    }
}

fn codec_name(c: Option<Compression>, id: u8) -> String {
    c.map_or_else(|| format!("unknown({id})"), |c| c.name().to_owned())
}

/// The summary of a v2 batch at `position` of its file.
pub fn v2(index: usize, position: u64, b: &BatchView<&[u8]>) -> BatchSummary {
    let attrs = b.attributes();
    let (crc_stored, crc_computed) = (b.crc(), b.compute_crc());
    let mut problem = b
        .validate()
        .err()
        .filter(|_| crc_stored == crc_computed)
        .map(|e| e.to_string());
    let control_type = if b.is_control() && crc_stored == crc_computed {
        let mut scratch = Vec::new();
        match b.records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED) {
            Ok(mut recs) => match recs.next() {
                Some(Ok(r)) => match control_record_type(&r) {
                    Ok(t) => Some(control_name(t)),
                    Err(e) => {
                        problem.get_or_insert(format!("control record: {e}"));
                        None
                    }
                },
                Some(Err(e)) => {
                    problem.get_or_insert(format!("control record: {e}"));
                    None
                }
                None => None,
            },
            Err(e) => {
                problem.get_or_insert(e.to_string());
                None
            }
        }
    } else {
        None
    };
    BatchSummary {
        index,
        position,
        size: b.size() as u64,
        magic: b.magic(),
        base_offset: b.base_offset(),
        last_offset: b.last_offset(),
        count: i64::from(b.record_count()),
        first_timestamp: b.base_timestamp(),
        max_timestamp: b.max_timestamp(),
        timestamp_type: ts_type(b.timestamp_type()),
        producer_id: b.producer_id(),
        producer_epoch: b.producer_epoch(),
        base_sequence: b.base_sequence(),
        last_sequence: b.last_sequence(),
        partition_leader_epoch: b.partition_leader_epoch(),
        transactional: attrs.is_transactional(),
        control: attrs.is_control(),
        control_type,
        compression: codec_name(attrs.compression(), attrs.compression_id()),
        crc_stored,
        crc_computed,
        crc_ok: crc_stored == crc_computed,
        problem,
    }
}

/// The summary of a legacy (magic 0 or 1) message at `position`; a compressed wrapper is
/// opened to count its inner messages and find its first offset.
pub fn legacy(index: usize, position: u64, m: &LegacyMessage<'_>) -> BatchSummary {
    let (crc_stored, crc_computed) = (m.crc, m.compute_crc());
    let ok = crc_stored == crc_computed;
    let mut problem = None;
    let (mut base, mut count, mut first_ts) = (m.offset, 1i64, m.timestamp.unwrap_or(-1));
    let compression = match m.compression() {
        Ok(c) => c.name().to_owned(),
        Err(e) => {
            problem = Some(e.to_string());
            format!("unknown({})", m.attributes & 7)
        }
    };
    if ok && problem.is_none() && m.compression().is_ok_and(|c| c != Compression::None) {
        let mut scratch = Vec::new();
        match m.records(&mut scratch, DEFAULT_MAX_UNCOMPRESSED) {
            Ok(inner) => {
                count = inner.len() as i64;
                if let Some(f) = inner.first() {
                    base = f.offset;
                    first_ts = f.timestamp.unwrap_or(-1);
                }
            }
            Err(e) => problem = Some(e.to_string()),
        }
    }
    BatchSummary {
        index,
        position,
        size: m.as_bytes().len() as u64,
        magic: m.magic,
        base_offset: base,
        last_offset: m.offset,
        count,
        first_timestamp: first_ts,
        max_timestamp: m.timestamp.unwrap_or(-1),
        timestamp_type: if m.magic == 0 {
            "NoTimestamp"
        } else {
            ts_type(m.timestamp_type())
        },
        producer_id: -1,
        producer_epoch: -1,
        base_sequence: -1,
        last_sequence: -1,
        partition_leader_epoch: -1,
        transactional: false,
        control: false,
        control_type: None,
        compression,
        crc_stored,
        crc_computed,
        crc_ok: ok,
        problem,
    }
}
