//! Reads and timestamp lookups.

use super::{Log, LogError};
use crate::index::{AbortedTxn, TimestampOffset, NO_TIMESTAMP};
use crate::storage::Storage;
use alloc::vec::Vec;

/// The special timestamps of a ListOffsets request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOffsetsTimestamp {
    /// -2: the log start offset.
    Earliest,
    /// -1: the log end offset.
    Latest,
    /// -3: the record with the largest timestamp.
    MaxTimestamp,
    /// -4: the first offset on local storage (the log start offset: klog has no tiers).
    EarliestLocal,
    /// A timestamp (>= 0): the first record at or after it.
    At(i64),
}

impl ListOffsetsTimestamp {
    /// From the wire value; `None` for values Kafka does not define (or tiered ones).
    pub fn from_wire(ts: i64) -> Option<Self> {
        match ts {
            -1 => Some(Self::Latest),
            -2 => Some(Self::Earliest),
            -3 => Some(Self::MaxTimestamp),
            -4 => Some(Self::EarliestLocal),
            t if t >= 0 => Some(Self::At(t)),
            _ => None,
        }
    }
}

impl<S: Storage> Log<S> {
    /// The aborted transactions overlapping `fetch_offset..upper_bound_offset` (Kafka's
    /// `collectAbortedTransactions`, what a READ_COMMITTED Fetch returns with the data): the
    /// transaction indexes from the segment holding `fetch_offset` on, until an entry's last
    /// stable offset reaches the upper bound.
    pub fn aborted_transactions(
        &self,
        fetch_offset: u64,
        upper_bound_offset: u64,
    ) -> Vec<AbortedTxn> {
        let floor = self
            .segments
            .range(..=fetch_offset)
            .next_back()
            .map_or(0, |(b, _)| *b);
        let mut out = Vec::new();
        for seg in self.segments.range(floor..).map(|(_, s)| s) {
            let (found, complete) = seg
                .txn_index()
                .collect_aborted_txns(fetch_offset, upper_bound_offset);
            out.extend(found);
            if complete {
                break;
            }
        }
        out
    }

    /// The high watermark: offsets below it are replicated. klog does no replication: it is
    /// the log end offset after opening and moves when [`set_high_watermark`] is called.
    ///
    /// [`set_high_watermark`]: Self::set_high_watermark
    pub fn high_watermark(&self) -> u64 {
        self.high_watermark
    }

    /// Moves the high watermark (kept within the log start and end offsets); completed
    /// transactions whose markers fall below it become stable.
    pub fn set_high_watermark(&mut self, offset: u64) {
        let hw = offset.clamp(self.log_start_offset, self.log_end_offset);
        self.high_watermark = hw;
        self.producers.on_high_watermark_updated(hw);
    }

    /// The first offset of the earliest transaction not yet decided, or decided by a marker
    /// not yet below the high watermark (at least the log start offset).
    pub fn first_unstable_offset(&self) -> Option<u64> {
        self.producers
            .first_unstable_offset()
            .map(|o| o.max(self.log_start_offset))
    }

    /// The last stable offset (Kafka's `lastStableOffset`): the first unstable offset when it
    /// is below the high watermark, else the high watermark. READ_COMMITTED consumers read
    /// up to it.
    pub fn last_stable_offset(&self) -> u64 {
        match self.first_unstable_offset() {
            Some(o) if o < self.high_watermark => o,
            _ => self.high_watermark,
        }
    }

    /// Reads whole batches from the one holding `offset`, up to `max_bytes` (at least one
    /// batch). Empty at the log end offset; outside `log start..=log end` is
    /// OFFSET_OUT_OF_RANGE.
    pub fn read(&mut self, offset: u64, max_bytes: u32) -> Result<Vec<u8>, LogError> {
        self.check_failed()?;
        if offset < self.log_start_offset || offset > self.log_end_offset {
            return Err(LogError::OffsetOutOfRange {
                offset,
                log_start_offset: self.log_start_offset,
                log_end_offset: self.log_end_offset,
            });
        }
        let st = &mut self.st;
        let floor = self
            .segments
            .range(..=offset)
            .next_back()
            .map_or(0, |(b, _)| *b);
        for (_, seg) in self.segments.range_mut(floor..) {
            let data = seg.read(st, offset, max_bytes)?;
            if !data.is_empty() {
                return Ok(data);
            }
        }
        Ok(Vec::new())
    }

    /// ListOffsets for one partition: the offset (and timestamp) for `which`, or `None`
    /// when no record has a timestamp at or after the one asked for.
    pub fn fetch_offset_by_timestamp(
        &mut self,
        which: ListOffsetsTimestamp,
    ) -> Result<Option<TimestampOffset>, LogError> {
        self.check_failed()?;
        let st = &mut self.st;
        match which {
            ListOffsetsTimestamp::Earliest | ListOffsetsTimestamp::EarliestLocal => {
                Ok(Some(TimestampOffset {
                    timestamp: NO_TIMESTAMP,
                    offset: self.log_start_offset,
                }))
            }
            ListOffsetsTimestamp::Latest => Ok(Some(TimestampOffset {
                timestamp: NO_TIMESTAMP,
                offset: self.log_end_offset,
            })),
            ListOffsetsTimestamp::MaxTimestamp => {
                let mut best: Option<u64> = None;
                let mut best_ts = NO_TIMESTAMP;
                for (b, seg) in &self.segments {
                    if seg.max_timestamp().timestamp > best_ts {
                        best_ts = seg.max_timestamp().timestamp;
                        best = Some(*b);
                    }
                }
                match best {
                    Some(b) => Ok(self
                        .segments
                        .get_mut(&b)
                        .expect("found")
                        .offset_of_max_timestamp(st)?),
                    None => Ok(None),
                }
            }
            ListOffsetsTimestamp::At(ts) => {
                let start = self.log_start_offset;
                for seg in self.segments.values_mut() {
                    if seg.max_timestamp().timestamp >= ts {
                        if let Some(found) = seg.find_offset_by_timestamp(st, ts, start)? {
                            return Ok(Some(found));
                        }
                    }
                }
                Ok(None)
            }
        }
    }
}
