//! A connection in use by one operation, with logging.
//!
//! An EntityManager outside a transaction takes a pooled connection per operation; inside
//! `transactional` every operation shares the transaction's connection, held behind an async
//! mutex. [`Session`] hides the difference and logs each statement.

use crate::driver::{
    Connection, CopyIn, Driver, Outcome, Param, RowSink, Statement, StatementKind,
};
use crate::error::Result;
use crate::query_log::QueryLog;
use std::time::Instant;
use tokio::sync::OwnedMutexGuard;

pub(crate) enum Slot {
    Owned(Box<dyn Connection>),
    /// The connection of a transaction; `None` once the transaction finished (checked when the
    /// session is made).
    Shared(OwnedMutexGuard<Option<Box<dyn Connection>>>),
}

pub(crate) struct Session<'a> {
    slot: Slot,
    log: &'a QueryLog,
    /// The read replica of the connection, for the log.
    replica: Option<usize>,
    /// For a read on a replica: where to read instead when the replica's connection turns out
    /// dead (the replica stopped since the pool opened it).
    primary: Option<&'a dyn Driver>,
}

fn params_len(s: &Statement) -> usize {
    s.params
        .iter()
        .map(|p| match p {
            Param::Value(_) => 1,
            Param::Array(..) => 1,
        })
        .sum()
}

impl<'a> Session<'a> {
    pub(crate) fn new(slot: Slot, log: &'a QueryLog) -> Self {
        let replica = match &slot {
            Slot::Owned(c) => c.replica(),
            Slot::Shared(g) => g.as_ref().and_then(|c| c.replica()),
        };
        Self { slot, log, replica, primary: None }
    }

    /// A session for reads on `slot`, which may be a replica's: a read that fails there with a
    /// connection error before any row arrived is sent again to `primary`'s connection.
    pub(crate) fn for_reads(slot: Slot, log: &'a QueryLog, primary: &'a dyn Driver) -> Self {
        let mut session = Self::new(slot, log);
        if session.replica.is_some() {
            session.primary = Some(primary);
        }
        session
    }

    /// After `e` on a replica's connection: true when the read may go to the primary instead,
    /// which is now this session's connection.
    async fn fell_back(&mut self, e: &crate::error::Error) -> bool {
        let Some(primary) = self.primary.take() else { return false };
        if !e.is_connection() {
            return false;
        }
        match primary.acquire().await {
            Ok(conn) => {
                tracing::warn!(
                    target: "strata::sql",
                    replica = self.replica,
                    error = %e,
                    "a read replica's connection failed; reading from the primary"
                );
                self.slot = Slot::Owned(conn);
                self.replica = None;
                true
            }
            Err(_) => false,
        }
    }

    /// True when this is the connection of an open transaction.
    pub(crate) fn is_transaction(&self) -> bool {
        matches!(self.slot, Slot::Shared(_))
    }

    fn conn(&mut self) -> &mut dyn Connection {
        match &mut self.slot {
            Slot::Owned(c) => c.as_mut(),
            Slot::Shared(g) => g
                .as_mut()
                .expect("a shared session is made only while its transaction is open")
                .as_mut(),
        }
    }

    pub(crate) async fn run(&mut self, s: &Statement) -> Result<Outcome> {
        match self.run_once(s).await {
            Err(e) if self.fell_back(&e).await => self.run_once(s).await,
            other => other,
        }
    }

    async fn run_once(&mut self, s: &Statement) -> Result<Outcome> {
        let start = Instant::now();
        match self.conn().run(s).await {
            Ok(out) => {
                self.log.record(
                    self.log.batch(),
                    &s.sql,
                    s.kind,
                    params_len(s),
                    out.rows_affected,
                    start.elapsed(),
                    self.replica,
                );
                Ok(out)
            }
            Err(e) => Err(self.failed(s, start, e)),
        }
    }

    pub(crate) async fn run_each(&mut self, s: &Statement, row: &mut RowSink<'_>) -> Result<u64> {
        if self.primary.is_none() {
            // No replica to fall back from: the rows go straight to `row`, uncounted.
            return self.run_each_once(s, row).await;
        }
        let mut delivered = 0u64;
        let first = {
            let mut counted = |r: &mut Vec<crate::value::Value>| {
                delivered += 1;
                row(r)
            };
            self.run_each_once(s, &mut counted).await
        };
        match first {
            // Only before any row arrived: the rows handed on cannot be taken back.
            Err(e) if delivered == 0 && self.fell_back(&e).await => {
                self.run_each_once(s, row).await
            }
            other => other,
        }
    }

    async fn run_each_once(&mut self, s: &Statement, row: &mut RowSink<'_>) -> Result<u64> {
        let start = Instant::now();
        match self.conn().run_each(s, row).await {
            Ok(rows) => {
                self.log.record(
                    self.log.batch(),
                    &s.sql,
                    s.kind,
                    params_len(s),
                    rows,
                    start.elapsed(),
                    self.replica,
                );
                Ok(rows)
            }
            Err(e) => Err(self.failed(s, start, e)),
        }
    }

    pub(crate) async fn run_all(&mut self, statements: &[Statement]) -> Result<Vec<Outcome>> {
        match self.run_all_once(statements).await {
            Err(e) if self.fell_back(&e).await => self.run_all_once(statements).await,
            other => other,
        }
    }

    async fn run_all_once(&mut self, statements: &[Statement]) -> Result<Vec<Outcome>> {
        let start = Instant::now();
        let result = self.conn().run_all(statements).await;
        let elapsed = start.elapsed();
        let batch = self.log.batch();
        match result {
            Ok(out) => {
                for (s, o) in statements.iter().zip(&out) {
                    self.log.record(
                        batch,
                        &s.sql,
                        s.kind,
                        params_len(s),
                        o.rows_affected,
                        elapsed,
                        self.replica,
                    );
                }
                Ok(out)
            }
            Err(e) => {
                for s in statements {
                    self.log.record_failure(
                        batch,
                        &s.sql,
                        s.kind,
                        params_len(s),
                        elapsed,
                        &e,
                        self.replica,
                    );
                }
                Err(e)
            }
        }
    }

    /// Loads rows by `COPY`; logged as an INSERT with the rows it loaded.
    pub(crate) async fn copy_in(&mut self, copy: CopyIn) -> Result<u64> {
        let start = Instant::now();
        let sql = copy.sql.clone();
        let batch = self.log.batch();
        match self.conn().copy_in(copy).await {
            Ok(rows) => {
                self.log.record(
                    batch,
                    &sql,
                    StatementKind::Insert,
                    0,
                    rows,
                    start.elapsed(),
                    self.replica,
                );
                Ok(rows)
            }
            Err(e) => {
                self.log.record_failure(
                    batch,
                    &sql,
                    StatementKind::Insert,
                    0,
                    start.elapsed(),
                    &e,
                    self.replica,
                );
                Err(e)
            }
        }
    }

    pub(crate) async fn batch_execute(&mut self, sql: &str) -> Result<()> {
        let start = Instant::now();
        match self.conn().batch_execute(sql).await {
            Ok(()) => {
                self.log.record(
                    self.log.batch(),
                    sql,
                    StatementKind::Other,
                    0,
                    0,
                    start.elapsed(),
                    self.replica,
                );
                Ok(())
            }
            Err(e) => {
                self.log.record_failure(
                    self.log.batch(),
                    sql,
                    StatementKind::Other,
                    0,
                    start.elapsed(),
                    &e,
                    self.replica,
                );
                Err(e)
            }
        }
    }

    /// Logs `s` as failed with `e`, and gives `e` back.
    fn failed(&self, s: &Statement, start: Instant, e: crate::error::Error) -> crate::error::Error {
        self.log.record_failure(
            self.log.batch(),
            &s.sql,
            s.kind,
            params_len(s),
            start.elapsed(),
            &e,
            self.replica,
        );
        e
    }

    async fn tx_command(&mut self, sql: &str, f: TxCommand<'_>) -> Result<()> {
        let start = Instant::now();
        let conn = self.conn();
        let result = match f {
            TxCommand::Begin => conn.begin().await,
            TxCommand::Commit => conn.commit().await,
            TxCommand::Rollback => conn.rollback().await,
            TxCommand::Savepoint(n) => conn.savepoint(n).await,
            TxCommand::Release(n) => conn.release_savepoint(n).await,
            TxCommand::RollbackTo(n) => conn.rollback_to_savepoint(n).await,
        };
        match result {
            Ok(()) => {
                self.log.record(
                    self.log.batch(),
                    sql,
                    StatementKind::Transaction,
                    0,
                    0,
                    start.elapsed(),
                    self.replica,
                );
                Ok(())
            }
            Err(e) => {
                self.log.record_failure(
                    self.log.batch(),
                    sql,
                    StatementKind::Transaction,
                    0,
                    start.elapsed(),
                    &e,
                    self.replica,
                );
                Err(e)
            }
        }
    }

    pub(crate) async fn begin(&mut self) -> Result<()> {
        self.tx_command("BEGIN", TxCommand::Begin).await
    }
    pub(crate) async fn commit(&mut self) -> Result<()> {
        self.tx_command("COMMIT", TxCommand::Commit).await
    }
    pub(crate) async fn rollback(&mut self) -> Result<()> {
        self.tx_command("ROLLBACK", TxCommand::Rollback).await
    }
    pub(crate) async fn savepoint(&mut self, name: &str) -> Result<()> {
        self.tx_command(&format!("SAVEPOINT {name}"), TxCommand::Savepoint(name)).await
    }
    pub(crate) async fn release_savepoint(&mut self, name: &str) -> Result<()> {
        self.tx_command(&format!("RELEASE SAVEPOINT {name}"), TxCommand::Release(name)).await
    }
    pub(crate) async fn rollback_to_savepoint(&mut self, name: &str) -> Result<()> {
        self.tx_command(&format!("ROLLBACK TO SAVEPOINT {name}"), TxCommand::RollbackTo(name)).await
    }
}

enum TxCommand<'n> {
    Begin,
    Commit,
    Rollback,
    Savepoint(&'n str),
    Release(&'n str),
    RollbackTo(&'n str),
}
