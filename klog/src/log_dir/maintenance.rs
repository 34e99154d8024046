//! The log directory's time-driven work (Kafka's `LogManager` scheduler tasks and each
//! `UnifiedLog`'s producer id expiration task): `flush.ms` per log, retention every
//! `log.retention.check.interval.ms`, both checkpoints at their intervals, producer id
//! expiration every `producer.id.expiration.check.interval.ms`.

use alloc::string::String;
use alloc::vec::Vec;

use super::manager::LogManager;
use super::LogDirError;
use crate::log::LogError;
use crate::storage::Storage;

/// What one [`LogManager::handle_timeout`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MaintenanceReport {
    /// Logs flushed because `flush.ms` passed since their last flush.
    pub flushed: Vec<(String, i32)>,
    /// Retention ran over every log.
    pub retention_ran: bool,
    /// Segments deleted by retention, by log.
    pub deleted_segments: Vec<((String, i32), usize)>,
    /// `recovery-point-offset-checkpoint` was written.
    pub recovery_points_checkpointed: bool,
    /// `log-start-offset-checkpoint` was written.
    pub log_starts_checkpointed: bool,
    /// Idle producer ids were expired in every log.
    pub producers_expired: bool,
    /// Logs whose work failed (each log is then failed: it refuses work until reopened); the
    /// others went on, as Kafka's tasks catch each log's error.
    pub failed: Vec<((String, i32), LogError)>,
}

impl<S: Storage + Clone> LogManager<S> {
    /// When [`handle_timeout`](LogManager::handle_timeout) is next due: the earliest of the
    /// next retention pass, checkpoint and producer expiration (Kafka's periods, the first
    /// after `log.initial.task.delay.ms` = 30 s from opening; producer expiration after one
    /// period) and every log's `flush.ms` deadline when it has unflushed records. `None` once
    /// the directory failed.
    pub fn poll_timeout(&self) -> Option<i64> {
        if self.failed.is_some() {
            return None;
        }
        let mut due = self
            .next_retention_ms
            .min(self.next_recovery_checkpoint_ms)
            .min(self.next_start_checkpoint_ms)
            .min(self.next_producer_expiry_ms);
        for log in self.logs.values().filter(|l| !l.is_failed()) {
            if let Some(at) = flush_deadline(log) {
                due = due.min(at);
            }
        }
        Some(due)
    }

    /// Does the work due at `now_ms` (see [`poll_timeout`](LogManager::poll_timeout)): flushes
    /// the logs whose `flush.ms` passed, runs retention over every log, writes the checkpoints
    /// and expires idle producers when their periods came round (the next run is one period
    /// after `now_ms`). A log's failure is reported and the others go on; a checkpoint that
    /// cannot be written is an error and takes the directory offline (Kafka marks the log
    /// directory offline on such an I/O error).
    pub fn handle_timeout(&mut self, now_ms: i64) -> Result<MaintenanceReport, LogDirError> {
        if let Some(cause) = &self.failed {
            return Err(LogDirError::Offline {
                cause: cause.clone(),
            });
        }
        let mut report = MaintenanceReport::default();
        let retention = now_ms >= self.next_retention_ms;
        let expiry = now_ms >= self.next_producer_expiry_ms;
        for ((topic, partition), log) in self.logs.iter_mut() {
            if log.is_failed() {
                continue;
            }
            let key = || (topic.clone(), *partition);
            if flush_deadline(log).is_some_and(|at| now_ms >= at) {
                match log.flush(now_ms) {
                    Ok(()) => report.flushed.push(key()),
                    Err(e) => {
                        report.failed.push((key(), e));
                        continue;
                    }
                }
            }
            if retention {
                match log.delete_old_segments(now_ms) {
                    Ok(0) => {}
                    Ok(n) => report.deleted_segments.push((key(), n)),
                    Err(e) => {
                        report.failed.push((key(), e));
                        continue;
                    }
                }
            }
            if expiry {
                log.remove_expired_producers(now_ms);
            }
        }
        if retention {
            report.retention_ran = true;
            self.next_retention_ms = next_run(now_ms, self.cfg.retention_check_interval_ms);
        }
        if expiry {
            report.producers_expired = true;
            self.next_producer_expiry_ms =
                next_run(now_ms, self.cfg.producer_id_expiration_check_interval_ms);
        }
        if now_ms >= self.next_recovery_checkpoint_ms {
            let r = self.checkpoint_recovery_points();
            self.fail(r)?;
            report.recovery_points_checkpointed = true;
            self.next_recovery_checkpoint_ms =
                next_run(now_ms, self.cfg.recovery_point_checkpoint_interval_ms);
        }
        if now_ms >= self.next_start_checkpoint_ms {
            let r = self.checkpoint_log_starts();
            self.fail(r)?;
            report.log_starts_checkpointed = true;
            self.next_start_checkpoint_ms =
                next_run(now_ms, self.cfg.log_start_offset_checkpoint_interval_ms);
        }
        Ok(report)
    }
}

/// The next run of a periodic task after one at `now_ms`: one period later; a period of 0 or
/// less runs the task once (Kafka's `KafkaScheduler` schedules such a task once, not
/// periodically).
pub(super) fn next_run(now_ms: i64, period_ms: i64) -> i64 {
    if period_ms <= 0 {
        i64::MAX
    } else {
        now_ms.saturating_add(period_ms)
    }
}

/// When the log is due a `flush.ms` flush: it has unflushed records and `flush.ms` is not
/// "never" (Kafka's `flushDirtyLogs` checks `time since last flush >= flush.ms`).
fn flush_deadline<S: Storage>(log: &crate::log::Log<S>) -> Option<i64> {
    let flush_ms = log.config().flush_ms;
    if flush_ms == i64::MAX || log.log_end_offset() <= log.recovery_point() {
        return None;
    }
    Some(log.last_flush_ms().saturating_add(flush_ms))
}
