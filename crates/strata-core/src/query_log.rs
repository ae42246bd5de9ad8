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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::Arc;

    /// Collects what a `tracing` subscriber writes.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What `log` writes through `tracing` for one statement.
    fn logged(log: &QueryLog) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber =
            tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        tracing::subscriber::with_default(subscriber, || {
            log.record("SELECT 1 WHERE $1", StatementKind::Select, 1, 3, Duration::from_micros(42));
        });
        let bytes = buffer.0.lock().clone();
        String::from_utf8(bytes).expect("the log is text")
    }

    #[test]
    fn statements_are_logged_through_tracing_only_when_configured() {
        let on = logged(&QueryLog::new(true));
        for part in ["strata::sql", "SELECT 1 WHERE $1", "params=1", "rows=3", "duration_us=42"] {
            assert!(on.contains(part), "{part:?} in {on:?}");
        }
        assert_eq!(logged(&QueryLog::new(false)), "", "off unless configured");
    }

    #[test]
    fn every_statement_is_counted_and_captured_only_while_capturing() {
        let log = QueryLog::new(false);
        log.record("SELECT 1", StatementKind::Select, 0, 1, Duration::ZERO);
        log.start_capture();
        log.record("DELETE", StatementKind::Delete, 1, 2, Duration::ZERO);
        let captured = log.take();
        assert_eq!(log.total(), 2);
        assert_eq!(captured.len(), 1);
        assert_eq!((captured[0].sql.as_str(), captured[0].rows), ("DELETE", 2));
    }
}
