//! Reads and timestamp lookups.

use super::{Log, LogError};
use crate::index::{TimestampOffset, NO_TIMESTAMP};
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
