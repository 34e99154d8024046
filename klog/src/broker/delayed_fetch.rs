//! Delayed fetches (Kafka's `DelayedFetch` in the fetch purgatory): a Fetch that found fewer
//! than `min_bytes` waits until enough is there or `max_wait_ms` passed, then is read again
//! and answered through [`Broker::poll_completed`].
//!
//! `DelayedFetch.tryComplete`, per partition of the request, from its fetch offset to the
//! offset its isolation reads up to (high watermark, last stable offset or log end offset):
//! - the partition is gone, its log failed, or its leader epoch no longer matches the one the
//!   client sent: answer now (cases A–E);
//! - the fetch offset is past that end offset, or on an older segment than it: answer now
//!   (case F);
//! - on the same segment: the bytes from the fetch offset's batch to the end offset count, at
//!   most `partition_max_bytes` (case G); so does a diverging last fetched epoch (case H).
//!
//! The sum reaching `min_bytes` answers the request. Checks run when the request arrives,
//! on [`Broker::wake_delayed_fetches`] (after an append moved a high watermark) and at the
//! deadline ([`Broker::handle_timeout`]). A closed connection's fetches are dropped.

use alloc::vec::Vec;

use super::core::{Broker, ConnectionId, Handled};
use super::fetch::{segment_of, slice, FetchOp};
use super::offset_for_leader_epoch::{
    check_current_leader_epoch, end_offset_for_epoch, UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET,
};
use super::BrokerEvent;
use crate::storage::Storage;

/// The waiting fetches, oldest first.
#[derive(Debug, Default)]
pub(crate) struct DelayedFetches {
    ops: Vec<FetchOp>,
}

impl DelayedFetches {
    /// Adds a waiting fetch.
    pub(crate) fn push(&mut self, op: FetchOp) {
        self.ops.push(op);
    }

    /// How many wait.
    pub(crate) fn len(&self) -> usize {
        self.ops.len()
    }

    /// The earliest deadline, if any fetch waits.
    pub(crate) fn earliest_deadline(&self) -> Option<i64> {
        self.ops.iter().map(|o| o.deadline_ms).min()
    }

    /// Drops the fetches of `conn`.
    pub(crate) fn drop_connection(&mut self, conn: ConnectionId) {
        self.ops.retain(|o| o.conn != conn);
    }
}

impl<S: Storage + Clone> Broker<S> {
    /// Re-checks every waiting fetch after data arrived (call after an append that moved a
    /// partition's high watermark): those that now have `min_bytes`, or whose deadline is at
    /// or before `now_ms`, are answered into [`Broker::poll_completed`].
    pub(crate) fn wake_delayed_fetches(&mut self, now_ms: i64) {
        self.complete_delayed_fetches(|b, op| op.deadline_ms <= now_ms || b.fetch_satisfied(op));
    }

    /// Answers the waiting fetches whose deadline is at or before `now_ms` with what is there.
    pub(crate) fn expire_delayed_fetches(&mut self, now_ms: i64) {
        self.complete_delayed_fetches(|_, op| op.deadline_ms <= now_ms);
    }

    fn complete_delayed_fetches(&mut self, mut due: impl FnMut(&mut Self, &FetchOp) -> bool) {
        if self.delayed_fetches.ops.is_empty() {
            return;
        }
        let ops = core::mem::take(&mut self.delayed_fetches.ops);
        let mut waiting = Vec::with_capacity(ops.len());
        for op in ops {
            if due(self, &op) {
                self.complete_fetch(&op);
            } else {
                waiting.push(op);
            }
        }
        self.delayed_fetches.ops = waiting;
        self.metrics.delayed_fetches = self.delayed_fetches.len() as u64;
    }

    /// Reads `op` again and queues its answer (`DelayedFetch.onComplete`).
    fn complete_fetch(&mut self, op: &FetchOp) {
        let (reads, _, _) = self.read_fetch(op);
        match self.fetch_response(op, reads) {
            Handled::Respond(frame) => self.completed.push_back((op.conn, frame)),
            Handled::Close(reason) => {
                // not encodable (a bug): the client times out rather than reading garbage
                self.events.push_back(BrokerEvent::ConnectionClosed {
                    conn: op.conn,
                    reason,
                });
            }
            Handled::NoResponse | Handled::Pending => {}
        }
    }

    /// `DelayedFetch.tryComplete`: whether `op` can be answered now.
    pub(crate) fn fetch_satisfied(&mut self, op: &FetchOp) -> bool {
        let mut accumulated: i64 = 0;
        for part in &op.parts {
            let Some(log) = self.logs.log_mut(&part.topic, part.partition) else {
                return true;
            };
            if log.is_failed()
                || check_current_leader_epoch(log.leader_epoch(), part.current_leader_epoch)
                    .is_err()
            {
                return true;
            }
            let end = op.isolation.bound(log);
            let Ok(fetch_offset) = u64::try_from(part.fetch_offset) else {
                return true;
            };
            if fetch_offset > end {
                return true;
            }
            if fetch_offset < end {
                if segment_of(log, fetch_offset) < segment_of(log, end) {
                    return true;
                }
                // only whether the sum reaches min_bytes matters: read no more than is
                // missing (the answer is the same, the read smaller)
                let missing = (i64::from(op.min_bytes) - accumulated).clamp(0, i64::from(i32::MAX));
                let cap = part.max_bytes.max(0).min(missing as i32);
                match slice(log, part.fetch_offset, cap, end, false) {
                    Ok(s) => accumulated += s.records.len() as i64,
                    // the re-read answers with the error
                    Err(_) => return true,
                }
                if accumulated >= i64::from(op.min_bytes) {
                    return true;
                }
            }
            if let Some(fetch_epoch) = part.last_fetched_epoch {
                let (epoch, end_offset) = end_offset_for_epoch(log, fetch_epoch);
                if epoch == UNDEFINED_EPOCH
                    || end_offset == UNDEFINED_EPOCH_OFFSET
                    || epoch < fetch_epoch
                    || end_offset < part.fetch_offset
                {
                    return true;
                }
            }
        }
        accumulated >= i64::from(op.min_bytes)
    }
}
