//! The driver interface: what a database backend implements.
//!
//! A driver ([`Driver`]) hands out connections ([`Connection`]) and names its [`Dialect`]. The
//! core renders every statement with the dialect and asks the connection to execute it; the
//! connection binds [`Param`]s and decodes result columns to [`Value`]s by the [`ColumnType`]s the
//! statement declares. `strata-postgres` is the reference implementation.

use crate::dialect::Dialect;
use crate::error::Result;
use crate::value::{ColumnType, Value};
use async_trait::async_trait;
use std::sync::Arc;

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// One value.
    Value(Value),
    /// A whole column of values, bound as one array (PostgreSQL's `UNNEST` batching).
    Array(ColumnType, Vec<Value>),
}

/// What kind of work a statement does; used by logging and statement counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementKind {
    /// A SELECT.
    Select,
    /// An INSERT.
    Insert,
    /// An UPDATE.
    Update,
    /// A DELETE.
    Delete,
    /// BEGIN, COMMIT, ROLLBACK or a savepoint command.
    Transaction,
    /// Anything else (DDL, raw SQL).
    Other,
}

/// One SQL statement with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The SQL text, with the dialect's placeholders.
    pub sql: String,
    /// The parameters, in placeholder order.
    pub params: Vec<Param>,
    /// The types of the columns the statement returns (empty when it returns none).
    pub returns: Vec<ColumnType>,
    /// What the statement does.
    pub kind: StatementKind,
}

impl Statement {
    /// A statement without parameters or result columns.
    pub fn raw(sql: impl Into<String>, kind: StatementKind) -> Self {
        Self { sql: sql.into(), params: Vec::new(), returns: Vec::new(), kind }
    }
}

/// Rows to load into a table by `COPY … FROM STDIN` (PostgreSQL's bulk load), as a large flush
/// of new rows sends them: see [`crate::dialect::Dialect::copy_rows_from`].
#[derive(Debug, Clone, PartialEq)]
pub struct CopyIn {
    /// `COPY "t" ("id", "a") FROM STDIN (FORMAT binary)`.
    pub sql: String,
    /// A query of the same columns that returns no row (`SELECT "id", "a" FROM "t" WHERE
    /// false`): the driver learns the columns' exact types from it, to encode the rows.
    pub probe: String,
    /// The rows, one value per column.
    pub rows: Vec<Vec<Value>>,
}

/// What [`Connection::run_each`] hands each row to: the row's values in column order, in a
/// buffer the driver reuses for the next row. Take the values out (`drain(..)`, or
/// `std::mem::take` to keep the whole `Vec`); what is left is dropped before the next row is
/// decoded into it.
pub type RowSink<'a> = dyn FnMut(&mut Vec<Value>) -> Result<()> + Send + 'a;

/// The result of one statement: rows affected, and the returned rows decoded as values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Rows inserted, updated or deleted (or returned, for a SELECT).
    pub rows_affected: u64,
    /// Returned rows, one value per declared result column.
    pub rows: Vec<Vec<Value>>,
}

/// A database backend: a pool of connections and a SQL dialect.
#[async_trait]
pub trait Driver: Send + Sync + 'static {
    /// The dialect statements for this driver are rendered in.
    fn dialect(&self) -> Arc<dyn Dialect>;

    /// Takes a connection from the pool (or opens one).
    async fn acquire(&self) -> Result<Box<dyn Connection>>;

    /// Takes a connection for reads outside a transaction: one of a read replica, spread
    /// across them, when the driver has any and one answers; else [`Driver::acquire`]'s.
    async fn acquire_read(&self) -> Result<Box<dyn Connection>> {
        self.acquire().await
    }

    /// A description of the database for logs, with any password hidden.
    fn describe(&self) -> String;
}

/// One connection to the database.
///
/// A connection dropped while a transaction is open, or while a call's future is in flight (a
/// cancelled request), must not be reused as it is: drivers end what the database is still
/// doing for it (cancel the statement, roll the transaction back) before it returns to the
/// pool, or close it. It counts against the pool's size until then.
#[async_trait]
pub trait Connection: Send {
    /// Runs one statement.
    async fn run(&mut self, statement: &Statement) -> Result<Outcome>;

    /// Which read replica this connection is to (its index in the configuration), `None` for
    /// the primary. Recorded with each statement in the query log.
    fn replica(&self) -> Option<usize> {
        None
    }

    /// Runs statements in order and returns one outcome each, stopping at the first error.
    /// Drivers that can, pipeline them (send all, then read all results).
    async fn run_all(&mut self, statements: &[Statement]) -> Result<Vec<Outcome>> {
        let mut out = Vec::with_capacity(statements.len());
        for s in statements {
            out.push(self.run(s).await?);
        }
        Ok(out)
    }

    /// Runs a query and hands each returned row to `row` as soon as it is decoded, instead of
    /// collecting them first: loading many rows then touches each row's memory while it is
    /// still in the CPU cache. Returns the number of rows. Drivers that stream rows override
    /// it; the default collects with [`Connection::run`].
    ///
    /// The row arrives in a buffer that the driver decodes every row into (see [`RowSink`]),
    /// so streaming rows allocates nothing per row beyond the values themselves.
    async fn run_each(&mut self, statement: &Statement, row: &mut RowSink<'_>) -> Result<u64> {
        let out = self.run(statement).await?;
        for mut r in out.rows {
            row(&mut r)?;
        }
        Ok(out.rows_affected)
    }

    /// Loads rows by `COPY` and returns how many it loaded. Only drivers whose dialect says
    /// so ([`crate::dialect::Dialect::copy_rows_from`]) are asked; the default refuses.
    async fn copy_in(&mut self, copy: CopyIn) -> Result<u64> {
        let _ = copy;
        Err(crate::error::Error::usage("this database does not load rows by COPY"))
    }

    /// Runs SQL text without parameters (possibly several statements): DDL, migrations.
    async fn batch_execute(&mut self, sql: &str) -> Result<()>;

    /// Starts a transaction. A driver may defer sending `BEGIN` until the next statement so
    /// that both travel in one round trip.
    async fn begin(&mut self) -> Result<()>;
    /// Commits the open transaction.
    async fn commit(&mut self) -> Result<()>;
    /// Rolls back the open transaction.
    async fn rollback(&mut self) -> Result<()>;
    /// Creates a savepoint inside the open transaction.
    async fn savepoint(&mut self, name: &str) -> Result<()>;
    /// Releases a savepoint.
    async fn release_savepoint(&mut self, name: &str) -> Result<()>;
    /// Rolls back to a savepoint, keeping the transaction open.
    async fn rollback_to_savepoint(&mut self, name: &str) -> Result<()>;
}
