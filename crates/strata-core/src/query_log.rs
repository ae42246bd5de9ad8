//! Statement logging and counting.
//!
//! Every statement an EntityManager sends passes through the [`QueryLog`] of its
//! [`crate::orm::Strata`]: it is logged through `tracing` when SQL logging is on (target
//! `strata::sql`: statement, parameter count, rows, duration, and the error of a statement
//! that failed), counted always, and recorded while a capture is active — which is how tests
//! assert the exact statements an operation sent. A statement that fails is logged and
//! recorded too, with its error, so that a log never shows only the `BEGIN` and `ROLLBACK`
//! around it.
//!
//! ```
//! # use strata_core::query_log::QueryLog;
//! let log = QueryLog::new(false);
//! log.start_capture();
//! // … run operations …
//! let statements = log.take();
//! assert!(statements.is_empty());
//! ```

/// What a logged statement did (re-exported from [`crate::driver`], where statements are made).
pub use crate::driver::StatementKind;
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
    /// The call to the driver the statement was part of: statements sent together share it.
    /// PostgreSQL pipelines such a batch (every statement sent before any result is read: one
    /// round trip), SQLite runs it in one trip to the connection's thread. Numbers grow with
    /// each call, starting at 1.
    pub batch: u64,
    /// Time from sending to the last result (for pipelined statements, of the whole pipeline).
    pub duration: Duration,
    /// The database's error when the statement failed. For statements sent together in one
    /// pipeline, the error of the pipeline: each of its statements carries it, since the
    /// database stops at the one that failed and runs none after it.
    pub error: Option<String>,
    /// The read replica it went to (its index among `read_replicas`); `None`: the primary.
    pub replica: Option<usize>,
}

/// Logs, counts and (on demand) records statements.
#[derive(Debug)]
pub struct QueryLog {
    log_sql: bool,
    capturing: AtomicBool,
    total: AtomicU64,
    batches: AtomicU64,
    captured: Mutex<Vec<LoggedStatement>>,
}

impl QueryLog {
    /// A log that writes to `tracing` when `log_sql` is true.
    pub fn new(log_sql: bool) -> Self {
        Self {
            log_sql,
            capturing: AtomicBool::new(false),
            total: AtomicU64::new(0),
            batches: AtomicU64::new(0),
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

    /// A new batch number, for the statements of one call to the driver.
    pub(crate) fn batch(&self) -> u64 {
        self.batches.fetch_add(1, Ordering::Relaxed) + 1
    }

    #[allow(clippy::too_many_arguments, reason = "the fields of one record, named at each call")]
    pub(crate) fn record(
        &self,
        batch: u64,
        sql: &str,
        kind: StatementKind,
        params: usize,
        rows: u64,
        duration: Duration,
        replica: Option<usize>,
    ) {
        self.write(Entry { sql, kind, params, rows, batch, duration, error: None, replica });
    }

    /// Records a statement that failed with `error`.
    #[allow(clippy::too_many_arguments, reason = "the fields of one record, named at each call")]
    pub(crate) fn record_failure(
        &self,
        batch: u64,
        sql: &str,
        kind: StatementKind,
        params: usize,
        duration: Duration,
        error: &crate::error::Error,
        replica: Option<usize>,
    ) {
        let error = Some(error);
        self.write(Entry { sql, kind, params, rows: 0, batch, duration, error, replica });
    }

    /// Counts `entry`, logs it when SQL logging is on, and records it while capturing. Nothing
    /// is copied unless it is recorded: the hot path of a statement is two relaxed atomics.
    fn write(&self, entry: Entry<'_>) {
        self.total.fetch_add(1, Ordering::Relaxed);
        let Entry { sql, params, rows, duration, error, .. } = entry;
        if self.log_sql {
            let duration_us = u64::try_from(duration.as_micros()).unwrap_or(u64::MAX);
            match error {
                None => tracing::info!(
                    target: "strata::sql",
                    sql,
                    params,
                    rows,
                    duration_us,
                    "statement"
                ),
                Some(error) => tracing::warn!(
                    target: "strata::sql",
                    sql,
                    params,
                    duration_us,
                    error = error.to_string().as_str(),
                    "statement failed"
                ),
            }
        }
        if self.capturing.load(Ordering::Relaxed) {
            self.captured.lock().push(LoggedStatement {
                sql: sql.to_owned(),
                kind: entry.kind,
                params,
                rows,
                batch: entry.batch,
                duration,
                error: error.map(ToString::to_string),
                replica: entry.replica,
            });
        }
    }
}

/// A statement as it passes through the log, borrowed from the caller.
#[derive(Clone, Copy)]
struct Entry<'a> {
    sql: &'a str,
    kind: StatementKind,
    params: usize,
    rows: u64,
    batch: u64,
    duration: Duration,
    error: Option<&'a crate::error::Error>,
    replica: Option<usize>,
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
            log.record(
                1,
                "SELECT 1 WHERE $1",
                StatementKind::Select,
                1,
                3,
                Duration::from_micros(42),
                None,
            );
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
    fn a_failed_statement_is_logged_and_captured_with_its_error() {
        let log = QueryLog::new(true);
        log.start_capture();
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber =
            tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
        let error = crate::error::Error::new(
            crate::error::ErrorKind::UniqueViolation(Some("post_title_unique".into())),
            "duplicate key value violates unique constraint \"post_title_unique\"",
        )
        .with_code("23505");
        tracing::subscriber::with_default(subscriber, || {
            log.record_failure(
                1,
                "INSERT INTO post VALUES ($1)",
                StatementKind::Insert,
                1,
                Duration::from_micros(7),
                &error,
                None,
            );
        });
        let text = String::from_utf8(buffer.0.lock().clone()).expect("the log is text");
        for part in ["WARN", "statement failed", "INSERT INTO post VALUES ($1)", "23505"] {
            assert!(text.contains(part), "{part:?} in {text:?}");
        }
        let captured = log.take();
        assert_eq!(captured.len(), 1);
        assert_eq!(captured[0].sql, "INSERT INTO post VALUES ($1)");
        assert!(captured[0].error.as_deref().is_some_and(|e| e.contains("post_title_unique")));
        assert_eq!(log.total(), 1);
    }

    #[test]
    fn every_statement_is_counted_and_captured_only_while_capturing() {
        let log = QueryLog::new(false);
        log.record(log.batch(), "SELECT 1", StatementKind::Select, 0, 1, Duration::ZERO, None);
        log.start_capture();
        let batch = log.batch();
        log.record(batch, "DELETE", StatementKind::Delete, 1, 2, Duration::ZERO, None);
        let captured = log.take();
        assert_eq!(captured[0].batch, 2, "one batch per call");
        assert_eq!(log.total(), 2);
        assert_eq!(captured.len(), 1);
        assert_eq!((captured[0].sql.as_str(), captured[0].rows), ("DELETE", 2));
    }
}
