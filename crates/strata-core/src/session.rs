//! A connection in use by one operation, with logging.
//!
//! An EntityManager outside a transaction takes a pooled connection per operation; inside
//! `transactional` every operation shares the transaction's connection, held behind an async
//! mutex. [`Session`] hides the difference and logs each statement.

use crate::driver::{Connection, Outcome, Param, Statement, StatementKind};
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
        Self { slot, log }
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
        let start = Instant::now();
        let out = self.conn().run(s).await?;
        self.log.record(&s.sql, s.kind, params_len(s), out.rows_affected, start.elapsed());
        Ok(out)
    }

    pub(crate) async fn run_each(
        &mut self,
        s: &Statement,
        row: &mut (dyn FnMut(Vec<crate::value::Value>) -> Result<()> + Send),
    ) -> Result<u64> {
        let start = Instant::now();
        let rows = self.conn().run_each(s, row).await?;
        self.log.record(&s.sql, s.kind, params_len(s), rows, start.elapsed());
        Ok(rows)
    }

    pub(crate) async fn run_all(&mut self, statements: &[Statement]) -> Result<Vec<Outcome>> {
        let start = Instant::now();
        let out = self.conn().run_all(statements).await?;
        let elapsed = start.elapsed();
        for (s, o) in statements.iter().zip(&out) {
            self.log.record(&s.sql, s.kind, params_len(s), o.rows_affected, elapsed);
        }
        Ok(out)
    }

    pub(crate) async fn batch_execute(&mut self, sql: &str) -> Result<()> {
        let start = Instant::now();
        self.conn().batch_execute(sql).await?;
        self.log.record(sql, StatementKind::Other, 0, 0, start.elapsed());
        Ok(())
    }

    async fn tx_command(&mut self, sql: &str, f: TxCommand<'_>) -> Result<()> {
        let start = Instant::now();
        let conn = self.conn();
        match f {
            TxCommand::Begin => conn.begin().await?,
            TxCommand::Commit => conn.commit().await?,
            TxCommand::Rollback => conn.rollback().await?,
            TxCommand::Savepoint(n) => conn.savepoint(n).await?,
            TxCommand::Release(n) => conn.release_savepoint(n).await?,
            TxCommand::RollbackTo(n) => conn.rollback_to_savepoint(n).await?,
        }
        self.log.record(sql, StatementKind::Transaction, 0, 0, start.elapsed());
        Ok(())
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
