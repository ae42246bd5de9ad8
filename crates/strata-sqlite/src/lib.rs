//! The SQLite driver of Strata: rusqlite with the bundled SQLite, so nothing is needed from the
//! system.
//!
//! [`SqliteDriver`] keeps a small pool of connections to one database file (or one in-memory
//! database) and renders statements in [`SqliteDialect`]: `?n` placeholders and multi-row
//! `VALUES` flush statements within SQLite's parameter limit. Every connection runs in WAL mode
//! with foreign keys on and a busy timeout; writes are serialized by a write lock in this
//! process (see the `pool` module), so concurrent requests queue instead of failing with
//! "database is locked", and writers queue without holding a connection, so reads go on while
//! another process holds the database's write lock. Values are stored in SQLite's storage classes as `encode` describes
//! and read back by the types a statement declares (`decode`); SQLite's result codes become
//! Strata `ErrorKind`s (`error`).
//!
//! Applications do not use this crate directly: `strata::Strata::connect` picks it for a
//! `sqlite:` URL.
//!
//! ```
//! # async fn run() -> strata_core::Result<()> {
//! use strata_core::{Strata, StrataConfig};
//! use strata_sqlite::SqliteDriver;
//! use std::sync::Arc;
//!
//! let config = StrataConfig::from_url("sqlite::memory:");
//! let driver = SqliteDriver::connect(&config).await?;
//! let orm = Strata::with_driver(Arc::new(driver), config);
//! orm.execute("CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT NOT NULL)").await?;
//! orm.ping().await?;
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(run()).unwrap();
//! ```
//!
//! Tables are best declared with the types of [`declared_type`] (INTEGER, REAL, TEXT, BLOB,
//! `varchar(n)`), so that SQLite keeps every value exactly as the driver binds it.
//!
//! # Differences from PostgreSQL
//!
//! - Text longer than a `varchar(n)` column's length and text containing NUL are stored as
//!   given: SQLite neither enforces the length nor rejects NUL, so this driver never reports
//!   `ValueTooLong` or `InvalidText` for them. Validate lengths in the application.
//! - There are no schemas: a schema-qualified table is an error (unless a database of that
//!   name is attached).
//! - Foreign-key violations carry no constraint name; unique violations carry the name of the
//!   unique INDEX over the reported columns (`CREATE UNIQUE INDEX "post_title_unique" …`), and
//!   none for an inline `UNIQUE` (SQLite keeps no name for it).
//! - Every transaction takes the write lock when it opens (`BEGIN IMMEDIATE`), even one that
//!   only reads, so that it can never fail half-way when it starts writing.
//! - `ILIKE` becomes `lower(col) LIKE lower(?)`, which folds ASCII letters only.
//! - An in-memory database (`sqlite::memory:`) has one connection, so statements of concurrent
//!   requests run one after another.

#![forbid(unsafe_code)]

mod decode;
mod dialect;
mod encode;
mod error;
mod location;
mod pool;

pub use dialect::{MAX_PARAMS, SqliteDialect, declared_type};

use async_trait::async_trait;
use pool::{Pool, Shared, blocking};
use std::sync::Arc;
use strata_core::dialect::Dialect;
use strata_core::driver::{Connection, Driver, Outcome, Statement, StatementKind};
use strata_core::sql::quote_ident;
use strata_core::value::ColumnType;
use strata_core::{Error, Result, StrataConfig};
use tokio::sync::OwnedSemaphorePermit;

use crate::location::Location;

/// A pool of connections to one SQLite database.
#[derive(Clone)]
pub struct SqliteDriver {
    pool: Arc<Pool>,
    dialect: Arc<SqliteDialect>,
}

impl std::fmt::Debug for SqliteDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDriver")
            .field("database", &self.pool.describe())
            .field("pool_size", &self.pool.size())
            .finish()
    }
}

impl SqliteDriver {
    /// Opens the database of a `sqlite:` URL (creating the file and its directory when missing)
    /// and the pool of [`StrataConfig::pool_size`] connections.
    ///
    /// # Errors
    ///
    /// [`strata_core::ErrorKind::Config`] for a URL that is not `sqlite:…`;
    /// [`strata_core::ErrorKind::Connection`] when the file cannot be created or opened, naming
    /// the path.
    pub async fn connect(config: &StrataConfig) -> Result<Self> {
        let location = Location::parse(&config.connection_url())?;
        let pool = Pool::open(location, config.pool_size, config.connect_timeout).await?;
        Ok(Self { pool: Arc::new(pool), dialect: Arc::new(SqliteDialect::new()) })
    }

    /// Sets the most parameters per flush statement (default [`MAX_PARAMS`]).
    #[must_use]
    pub fn with_max_params(mut self, params: usize) -> Self {
        self.dialect = Arc::new(self.dialect.with_max_params(params));
        self
    }
}

#[async_trait]
impl Driver for SqliteDriver {
    fn dialect(&self) -> Arc<dyn Dialect> {
        self.dialect.clone()
    }

    /// A handle that takes its pooled connection with its first statement: a writer first
    /// waits for the write lock, holding no connection meanwhile (see the `pool` module).
    async fn acquire(&self) -> Result<Box<dyn Connection>> {
        Ok(Box::new(SqliteConnection {
            pool: self.pool.clone(),
            conn: None,
            slot: None,
            write: None,
            tx: Tx::None,
            in_flight: false,
        }))
    }

    fn describe(&self) -> String {
        format!("SQLite {}", self.pool.describe())
    }
}

/// Where a connection is in a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tx {
    None,
    /// `begin` was called; `BEGIN IMMEDIATE` goes out with the next statement.
    Pending,
    Open,
}

/// A handle on one pooled connection, taken with the first statement.
struct SqliteConnection {
    pool: Arc<Pool>,
    /// `None` until the first statement, and while being dropped.
    conn: Option<Shared>,
    /// The pool slot, given back when the connection is.
    slot: Option<OwnedSemaphorePermit>,
    /// The write lock, held by an open transaction or a write outside one.
    write: Option<OwnedSemaphorePermit>,
    tx: Tx,
    /// A call was started and not seen to finish (its future was dropped).
    in_flight: bool,
}

impl Drop for SqliteConnection {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        let (slot, write, pool) = (self.slot.take(), self.write.take(), self.pool.clone());
        if self.tx != Tx::Open && !self.in_flight && write.is_none() {
            pool.put(conn);
            drop(slot);
            return;
        }
        // Inside a transaction (a future cancelled mid-flush, say): roll it back before the
        // connection is reused, and give the write lock back only after that. A connection
        // that cannot be rolled back is closed instead.
        let clean_up = move || {
            let reusable = {
                let c = conn.lock();
                c.is_autocommit() || c.execute_batch("ROLLBACK").is_ok()
            };
            if reusable {
                pool.put(conn);
            }
            drop(write);
            drop(slot);
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(clean_up)),
            Err(_) => clean_up(),
        }
    }
}

impl SqliteConnection {
    /// Runs `f` with the connection on a blocking thread, taking a connection from the pool
    /// first if this handle has none yet.
    async fn call<R: Send + 'static>(
        &mut self,
        f: impl FnOnce(&rusqlite::Connection) -> R + Send + 'static,
    ) -> Result<R> {
        let conn = match &self.conn {
            Some(conn) => conn.clone(),
            None => {
                let (conn, slot) = self.pool.get().await?;
                self.slot = Some(slot);
                self.conn.insert(conn).clone()
            }
        };
        self.in_flight = true;
        let out = blocking(move || f(&conn.lock())).await;
        self.in_flight = false;
        out
    }

    /// Runs `work` after `BEGIN IMMEDIATE` when a transaction is pending, holding the write
    /// lock when `writes` (or a transaction opens); a write outside a transaction gives the
    /// lock back after it. The write lock is taken before a connection when the handle has
    /// none yet, so that writers queueing for it leave the pool's connections to readers.
    async fn with_tx<R: Send + 'static>(
        &mut self,
        writes: bool,
        work: impl FnOnce(&rusqlite::Connection) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let begin = self.tx == Tx::Pending;
        if (begin || writes) && self.write.is_none() {
            self.write = Some(self.pool.write_lock().await?);
        }
        let called = self
            .call(move |c| {
                if begin && let Err(e) = c.execute_batch("BEGIN IMMEDIATE") {
                    return (false, Err(error::map(e, c)));
                }
                (begin, work(c))
            })
            .await;
        if let Ok((true, _)) = called {
            self.tx = Tx::Open;
        }
        // Outside a transaction the lock is given back, even when no connection was free.
        if self.tx == Tx::None {
            self.write = None;
        }
        called?.1
    }

    /// Ends the open transaction with `COMMIT` or `ROLLBACK`.
    async fn finish(&mut self, sql: &'static str) -> Result<()> {
        let (result, ended) = self
            .call(move |c| {
                // SQLite rolls a transaction back by itself after some errors (a full disk).
                if sql == "ROLLBACK" && c.is_autocommit() {
                    return (Ok(()), true);
                }
                let result = c.execute_batch(sql).map_err(|e| error::map(e, c));
                (result, c.is_autocommit())
            })
            .await?;
        if ended {
            self.tx = Tx::None;
            self.write = None;
        }
        result
    }

    /// Runs a savepoint command inside the transaction.
    async fn savepoint_command(&mut self, command: &str, name: &str) -> Result<()> {
        if self.tx == Tx::None {
            return Err(Error::usage(format!("{command} outside a transaction")));
        }
        let sql = format!("{command} {}", quote_ident(name));
        self.with_tx(false, move |c| c.execute_batch(&sql).map_err(|e| error::map(e, c))).await
    }
}

/// Runs one statement with its converted parameters.
fn execute(
    c: &rusqlite::Connection,
    sql: &str,
    params: &[rusqlite::types::Value],
    returns: &[ColumnType],
) -> Result<Outcome> {
    let map = |e| error::map(e, c);
    let mut stmt = c.prepare_cached(sql).map_err(map)?;
    if stmt.parameter_count() != params.len() {
        return Err(Error::usage(format!(
            "the statement has {} placeholders but {} parameters were given: {sql}",
            stmt.parameter_count(),
            params.len()
        )));
    }
    for (i, p) in params.iter().enumerate() {
        stmt.raw_bind_parameter(i + 1, p).map_err(map)?;
    }
    if stmt.column_count() == 0 {
        let n = stmt.raw_execute().map_err(map)?;
        return Ok(Outcome { rows_affected: n as u64, rows: Vec::new() });
    }
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(map)? {
        out.push(decode::row(row, returns)?);
    }
    Ok(Outcome { rows_affected: out.len() as u64, rows: out })
}

/// A statement's SQL, converted parameters and declared result types, owned so that they can
/// travel to the connection's thread.
struct Prepared {
    sql: String,
    params: Vec<rusqlite::types::Value>,
    returns: Vec<ColumnType>,
}

impl Prepared {
    fn new(s: &Statement) -> Result<Self> {
        Ok(Self {
            sql: s.sql.clone(),
            params: encode::params(&s.params)?,
            returns: s.returns.clone(),
        })
    }
}

/// True for statements that may write (everything but a SELECT).
fn writes(s: &Statement) -> bool {
    s.kind != StatementKind::Select
}

#[async_trait]
impl Connection for SqliteConnection {
    async fn run(&mut self, statement: &Statement) -> Result<Outcome> {
        let p = Prepared::new(statement)?;
        self.with_tx(writes(statement), move |c| execute(c, &p.sql, &p.params, &p.returns)).await
    }

    /// Runs every statement in one trip to the connection's thread.
    async fn run_all(&mut self, statements: &[Statement]) -> Result<Vec<Outcome>> {
        let prepared = statements.iter().map(Prepared::new).collect::<Result<Vec<_>>>()?;
        self.with_tx(statements.iter().any(writes), move |c| {
            prepared.iter().map(|p| execute(c, &p.sql, &p.params, &p.returns)).collect()
        })
        .await
    }

    async fn batch_execute(&mut self, sql: &str) -> Result<()> {
        let sql = sql.to_owned();
        self.with_tx(true, move |c| c.execute_batch(&sql).map_err(|e| error::map(e, c))).await
    }

    async fn begin(&mut self) -> Result<()> {
        if self.tx != Tx::None {
            return Err(Error::usage("a transaction is already open on this connection"));
        }
        self.tx = Tx::Pending;
        Ok(())
    }

    async fn commit(&mut self) -> Result<()> {
        match self.tx {
            Tx::None => Err(Error::usage("commit without an open transaction")),
            // Nothing was sent: there is nothing to commit.
            Tx::Pending => {
                self.tx = Tx::None;
                self.write = None;
                Ok(())
            }
            Tx::Open => self.finish("COMMIT").await,
        }
    }

    async fn rollback(&mut self) -> Result<()> {
        match self.tx {
            Tx::None => Ok(()),
            Tx::Pending => {
                self.tx = Tx::None;
                self.write = None;
                Ok(())
            }
            Tx::Open => self.finish("ROLLBACK").await,
        }
    }

    async fn savepoint(&mut self, name: &str) -> Result<()> {
        self.savepoint_command("SAVEPOINT", name).await
    }

    async fn release_savepoint(&mut self, name: &str) -> Result<()> {
        self.savepoint_command("RELEASE SAVEPOINT", name).await
    }

    async fn rollback_to_savepoint(&mut self, name: &str) -> Result<()> {
        self.savepoint_command("ROLLBACK TO SAVEPOINT", name).await
    }
}
