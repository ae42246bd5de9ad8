//! Statement logging and counting.
//!
//! Every statement an EntityManager sends passes through the [`QueryLog`] of its
//! [`crate::orm::Orm`]: it is logged through `tracing` when SQL logging is on (target
//! `strata::sql`: statement, parameter count, rows, duration), counted always, and recorded
//! while a capture is active — which is how tests assert the exact statements an operation
//! sent.
//!
//! ```
//! # use strata_core::query_log::QueryLog;
//! let log = QueryLog::new(false);
//! log.start_capture();
//! // … run operations …
//! let statements = log.take();
//! assert!(statements.is_empty());
//! ```

use crate::driver::StatementKind;
use parking_lot::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// One statement as sent to the database.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedStatement {
    /// The SQL text (`BEGIN`, `COMMIT`, … for transaction commands).
    pub sql: String,
    /// What the statement did.
    pub kind: StatementKind,
    /// Number of bound parameters.
    pub params: usize,
    /// Rows affected or returned.
    pub rows: u64,
    /// Time from sending to the last result (for pipelined statements, of the whole pipeline).
    pub duration: Duration,
}

/// Logs, counts and (on demand) records statements.
#[derive(Debug)]
pub struct QueryLog {
    log_sql: bool,
    capturing: AtomicBool,
    total: AtomicU64,
    captured: Mutex<Vec<LoggedStatement>>,
}

impl QueryLog {
    /// A log that writes to `tracing` when `log_sql` is true.
    pub fn new(log_sql: bool) -> Self {
        Self {
            log_sql,
            capturing: AtomicBool::new(false),
            total: AtomicU64::new(0),
            captured: Mutex::new(Vec::new()),
        }
    }

    /// Starts recording statements (clearing earlier records).
    pub fn start_capture(&self) {
        self.captured.lock().clear();
        self.capturing.store(true, Ordering::SeqCst);
    }

    /// Stops recording.
    pub fn stop_capture(&self) {
        self.capturing.store(false, Ordering::SeqCst);
    }

    /// Takes the statements recorded so far (recording continues).
    pub fn take(&self) -> Vec<LoggedStatement> {
        std::mem::take(&mut *self.captured.lock())
    }

    /// Total statements sent since start-up.
    pub fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    pub(crate) fn record(
        &self,
        sql: &str,
        kind: StatementKind,
        params: usize,
        rows: u64,
        duration: Duration,
    ) {
        self.total.fetch_add(1, Ordering::Relaxed);
        if self.log_sql {
            tracing::info!(
                target: "strata::sql",
                sql,
                params,
                rows,
                duration_us = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
                "statement"
            );
        }
        if self.capturing.load(Ordering::Relaxed) {
            self.captured.lock().push(LoggedStatement {
                sql: sql.to_owned(),
                kind,
                params,
                rows,
                duration,
            });
        }
    }
}
