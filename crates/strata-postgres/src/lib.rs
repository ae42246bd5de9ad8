//! The PostgreSQL driver of Strata.
//!
//! [`PgDriver`] keeps a pool of tokio-postgres connections (deadpool) and renders statements
//! in [`PgDialect`]: `$n` placeholders and set-based flush statements that bind each column as
//! one array (`UNNEST`), so a flush of 10,000 new entities is one `INSERT`. Every statement is
//! prepared once per connection and cached; parameters are encoded for the type the server
//! expects and result columns decoded by their actual type. With the statement cache off
//! (behind PgBouncer in transaction mode) statements go out unnamed instead (the `unnamed`
//! module).
//! PostgreSQL's errors become Strata `ErrorKind`s by SQLSTATE. A connection dropped in the middle
//! of a statement or a transaction (a cancelled request) has its statement cancelled and its
//! transaction rolled back before it returns to the pool (the `reset` module).
//!
//! Applications do not use this crate directly: `strata::Strata::connect` picks it for a
//! `postgres://` URL.
//!
//! ```no_run
//! # async fn run() -> strata_core::Result<()> {
//! use strata_core::{Strata, StrataConfig};
//! use strata_postgres::PgDriver;
//! use std::sync::Arc;
//!
//! let config = StrataConfig::from_url("postgres://postgres@127.0.0.1:5432/postgres");
//! let driver = PgDriver::connect(&config).await?;
//! let orm = Strata::with_driver(Arc::new(driver), config);
//! orm.ping().await?;
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

mod decode;
mod dialect;
mod encode;
mod error;
mod replicas;
mod reset;
mod unnamed;

pub use dialect::{DEFAULT_BATCH_ROWS, DEFAULT_COPY_ROWS, PgDialect};

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};
use futures_util::TryStreamExt;
use futures_util::future::join_all;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use strata_core::dialect::Dialect;
use strata_core::driver::{Connection, CopyIn, Driver, Outcome, Param, RowSink, Statement};
use strata_core::sql::quote_ident;
use strata_core::{Error, ErrorKind, Result, StrataConfig};
use tokio_postgres::NoTls;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use crate::encode::PgParam;
use crate::replicas::{Replica, Replicas};
use crate::unnamed::StatementMode;

/// A pool of PostgreSQL connections.
#[derive(Clone)]
pub struct PgDriver {
    pool: Pool,
    dialect: Arc<PgDialect>,
    target: Arc<str>,
    /// How long resetting an abandoned connection may take (the connect timeout).
    reset_timeout: Duration,
    /// Where its cancel requests go.
    cancel_target: Arc<reset::CancelTarget>,
    /// Prepared and cached, or unnamed statements.
    mode: Arc<StatementMode>,
    /// What opens a transaction: `BEGIN`, and the default schema's search path when it cannot
    /// be a startup option.
    begin_sql: Arc<str>,
    /// Where reads outside a transaction go, if anywhere else.
    replicas: Arc<Replicas>,
}

impl std::fmt::Debug for PgDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDriver")
            .field("target", &self.target)
            .field("pool", &self.pool.status())
            .finish()
    }
}

impl PgDriver {
    /// Creates the pool and checks that the database answers.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] for a malformed URL; [`ErrorKind::Connection`] when the server
    /// cannot be reached or refuses the login, with the URL (password hidden) and what to set.
    pub async fn connect(config: &StrataConfig) -> Result<Self> {
        let driver = Self::lazy(config)?;
        let conn = driver.acquire().await?;
        drop(conn);
        Ok(driver)
    }

    /// Creates the pool without connecting: the first operation opens the first connection.
    /// A service that must start while its database is down uses this and reports readiness
    /// with [`strata_core::Strata::ping`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] for a malformed URL or pool size.
    pub fn lazy(config: &StrataConfig) -> Result<Self> {
        let cache = config.uses_statement_cache();
        let mut begin_sql = "BEGIN".to_owned();
        if let (Some(schema), false) = (&config.default_schema, cache) {
            // A pooler in transaction mode neither forwards startup options nor keeps session
            // settings: there, each transaction sets the search path for itself.
            begin_sql
                .push_str(&format!("; SET LOCAL search_path TO {}, public", quote_ident(schema)));
        }
        let target: Arc<str> = config.redacted_url().into();
        let (pool, cancel_target) = pool_for(&config.driver_url(), &target, config, cache)?;
        let replicas = config
            .read_replicas
            .iter()
            .map(|url| {
                let target: Arc<str> = strata_core::config::redact_url(url).into();
                let url = strata_core::config::StrataConfig::from_url(url.clone()).driver_url();
                let (pool, cancel_target) = pool_for(&url, &target, config, cache)?;
                Ok(Replica::new(pool, target, cancel_target))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            pool,
            dialect: Arc::new(PgDialect::new()),
            target,
            reset_timeout: config.connect_timeout,
            cancel_target,
            mode: Arc::new(StatementMode::new(cache)),
            begin_sql: begin_sql.into(),
            replicas: Arc::new(Replicas::new(replicas)),
        })
    }

    /// A connection of `client`, to the primary or to replica `replica`.
    fn connection(
        &self,
        client: Object,
        cancel_target: Arc<reset::CancelTarget>,
        replica: Option<usize>,
    ) -> Box<dyn Connection> {
        Box::new(PgConnection {
            client: Some(client),
            tx: Tx::None,
            in_flight: false,
            reset_timeout: self.reset_timeout,
            cancel_target,
            mode: self.mode.clone(),
            begin_sql: self.begin_sql.clone(),
            replica,
        })
    }

    /// Sets the rows per flush statement (default [`DEFAULT_BATCH_ROWS`]).
    #[must_use]
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.dialect = Arc::new(self.dialect.with_batch_rows(rows));
        self
    }

    /// Sets the least number of new rows of one table that a flush loads by `COPY`, e.g.
    /// `Some(DEFAULT_COPY_ROWS)`; `None` (the default): always by INSERT. See
    /// [`DEFAULT_COPY_ROWS`] for when it pays.
    #[must_use]
    pub fn with_copy_rows(mut self, rows: Option<usize>) -> Self {
        self.dialect = Arc::new(self.dialect.with_copy_rows(rows));
        self
    }

    /// The pool's size, available and waiting counts.
    pub fn status(&self) -> deadpool_postgres::Status {
        self.pool.status()
    }
}

#[async_trait]
impl Driver for PgDriver {
    fn dialect(&self) -> Arc<dyn Dialect> {
        self.dialect.clone()
    }

    async fn acquire(&self) -> Result<Box<dyn Connection>> {
        let client = self.pool.get().await.map_err(|e| error::pool(e, &self.target))?;
        Ok(self.connection(client, self.cancel_target.clone(), None))
    }

    async fn acquire_read(&self) -> Result<Box<dyn Connection>> {
        if !self.replicas.is_empty()
            && let Some((index, replica, client)) = self.replicas.pick().await
        {
            return Ok(self.connection(client, replica.cancel_target.clone(), Some(index)));
        }
        self.acquire().await
    }

    fn describe(&self) -> String {
        format!("PostgreSQL {}", self.target)
    }
}

/// Where a connection is in a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tx {
    None,
    /// `begin` was called; `BEGIN` goes out with the next statement.
    Pending,
    Open,
}

/// One pooled connection.
struct PgConnection {
    /// `None` only while being dropped.
    client: Option<Object>,
    tx: Tx,
    /// A call was started and not seen to finish: its future was dropped, and the server may
    /// still be running its statement.
    in_flight: bool,
    reset_timeout: Duration,
    cancel_target: Arc<reset::CancelTarget>,
    mode: Arc<StatementMode>,
    begin_sql: Arc<str>,
    /// The read replica it is to; `None`: the primary.
    replica: Option<usize>,
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else { return };
        // A statement sent with a pending BEGIN (`run`) may have opened the transaction.
        let in_transaction = self.tx == Tx::Open || (self.in_flight && self.tx == Tx::Pending);
        if !self.in_flight && !in_transaction {
            return; // idle: back to the pool as it is
        }
        // Dropped mid-statement or inside a transaction (a cancelled request): cancel, roll
        // back, then return it to the pool, from a task of its own (see the `reset` module).
        // Without a runtime to run that, it is closed instead.
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn(reset::reset(
                client,
                self.in_flight,
                in_transaction,
                self.cancel_target.clone(),
                self.reset_timeout,
            ))),
            // Taken out of the pool, it is closed when it drops here.
            Err(_) => drop(Object::take(client)),
        }
    }
}

impl PgConnection {
    fn client(&self) -> &Object {
        self.client.as_ref().expect("the client is present until drop")
    }

    /// Sends a pending `BEGIN` on its own.
    async fn open(&mut self) -> Result<()> {
        if self.tx == Tx::Pending {
            self.client().batch_execute(&self.begin_sql).await.map_err(error::map)?;
            self.tx = Tx::Open;
        }
        Ok(())
    }

    async fn execute(&self, statement: &Statement) -> Result<Outcome> {
        let client = self.client();
        if !self.mode.cached() {
            return unnamed::run(client, statement).await;
        }
        let prepared = match client.prepare_cached(&statement.sql).await.map_err(error::map) {
            Ok(prepared) => prepared,
            Err(e) if self.mode.shared_session(&e) && self.tx == Tx::None => {
                return unnamed::run(client, statement).await;
            }
            Err(e) => return Err(e),
        };
        match run_prepared(client, &prepared, statement).await {
            Err(e) if self.forget_if_stale(&e, &statement.sql) => {
                let prepared = client.prepare_cached(&statement.sql).await.map_err(error::map)?;
                run_prepared(client, &prepared, statement).await
            }
            Err(e) if self.mode.shared_session(&e) && self.tx == Tx::None => {
                unnamed::run(client, statement).await
            }
            other => other,
        }
    }

    /// After `e`, drops `sql` from the statement cache when PostgreSQL called its plan stale (a
    /// migration changed a table under it), so the next use prepares it again. True when the
    /// statement may be retried at once: outside a transaction. Inside one, the transaction is
    /// already aborted, and the caller's retry of the transaction prepares afresh.
    fn forget_if_stale(&self, e: &Error, sql: &str) -> bool {
        if !is_stale_plan(e) {
            return false;
        }
        self.client().statement_cache.remove(sql, &[]);
        self.tx == Tx::None
    }
}

/// PostgreSQL refuses a prepared statement whose result columns changed since it was prepared
/// (`ALTER TABLE … ALTER COLUMN … TYPE` by a migration): `cached plan must not change result
/// type` (SQLSTATE 0A000).
fn is_stale_plan(e: &Error) -> bool {
    e.code() == Some("0A000") && e.message().contains("cached plan must not change result type")
}

async fn run_prepared(
    client: &Object,
    prepared: &tokio_postgres::Statement,
    statement: &Statement,
) -> Result<Outcome> {
    let params: Vec<PgParam<'_>> = statement.params.iter().map(PgParam).collect();
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
    if prepared.columns().is_empty() {
        let rows_affected = client.execute(prepared, &refs).await.map_err(error::map)?;
        return Ok(Outcome { rows_affected, rows: Vec::new() });
    }
    let decoders = decode::decoders(prepared.columns())?;
    let rows = client.query(prepared, &refs).await.map_err(error::map)?;
    let rows =
        rows.iter().map(|row| decode::decode_row(row, &decoders)).collect::<Result<Vec<_>>>()?;
    Ok(Outcome { rows_affected: rows.len() as u64, rows })
}

/// The calls of [`Connection`] that talk to the server; the trait's implementation below marks
/// the connection in flight around each.
impl PgConnection {
    async fn run_untracked(&mut self, statement: &Statement) -> Result<Outcome> {
        if self.tx == Tx::Pending {
            // BEGIN and the statement travel together: the client pipelines requests that are
            // polled concurrently, in the order they were first polled.
            let client = self.client();
            let (begin, out) = futures_util::future::join(
                client.batch_execute(&self.begin_sql),
                self.execute(statement),
            )
            .await;
            begin.map_err(error::map)?;
            self.tx = Tx::Open;
            return out;
        }
        self.execute(statement).await
    }

    async fn run_each_untracked(
        &mut self,
        statement: &Statement,
        row: &mut RowSink<'_>,
    ) -> Result<u64> {
        if self.tx == Tx::Pending {
            // The transaction's first statement: BEGIN travels with it through `run`.
            let out = self.run_untracked(statement).await?;
            for mut r in out.rows {
                row(&mut r)?;
            }
            return Ok(out.rows_affected);
        }
        let client = self.client();
        if !self.mode.cached() {
            return unnamed::stream(client, statement, row).await;
        }
        let mut prepared = match client.prepare_cached(&statement.sql).await.map_err(error::map) {
            Ok(prepared) => prepared,
            Err(e) if self.mode.shared_session(&e) && self.tx == Tx::None => {
                return unnamed::stream(client, statement, row).await;
            }
            Err(e) => return Err(e),
        };
        let mut retried = false;
        loop {
            let decoders = decode::decoders(prepared.columns())?;
            let params: Vec<PgParam<'_>> = statement.params.iter().map(PgParam).collect();
            let refs = params.iter().map(|p| p as &(dyn ToSql + Sync));
            let stream = match client.query_raw(&prepared, refs).await.map_err(error::map) {
                Err(e) if self.forget_if_stale(&e, &statement.sql) && !retried => {
                    prepared = client.prepare_cached(&statement.sql).await.map_err(error::map)?;
                    retried = true;
                    continue;
                }
                other => other?,
            };
            let mut stream = std::pin::pin!(stream);
            let mut rows = 0u64;
            let mut values = Vec::new();
            while let Some(r) = stream.try_next().await.map_err(error::map)? {
                decode::decode_row_into(&r, &decoders, &mut values)?;
                row(&mut values)?;
                rows += 1;
            }
            return Ok(rows);
        }
    }

    async fn run_all_untracked(&mut self, statements: &[Statement]) -> Result<Vec<Outcome>> {
        self.open().await?;
        let client = self.client();
        if !self.mode.cached() {
            // Every statement's Parse, Bind and Execute go out before any result is read.
            let results = join_all(statements.iter().map(|s| unnamed::run(client, s))).await;
            return results.into_iter().collect();
        }
        // Prepare every distinct text (cached ones cost nothing), then send every execution
        // before reading any result: one round trip for the whole batch.
        let prepared = join_all(statements.iter().map(|s| client.prepare_cached(&s.sql))).await;
        let prepared = match prepared.into_iter().collect::<Result<Vec<_>, _>>() {
            Ok(prepared) => prepared,
            Err(e) => {
                let e = error::map(e);
                if self.mode.shared_session(&e) && self.tx == Tx::None {
                    let results =
                        join_all(statements.iter().map(|s| unnamed::run(client, s))).await;
                    return results.into_iter().collect();
                }
                return Err(e);
            }
        };
        let results =
            join_all(statements.iter().zip(&prepared).map(|(s, p)| run_prepared(client, p, s)))
                .await;
        for (s, r) in statements.iter().zip(&results) {
            if let Err(e) = r {
                // Inside the flush's transaction: no retry here, only a fresh plan next time.
                self.forget_if_stale(e, &s.sql);
            }
        }
        results.into_iter().collect()
    }

    /// Binary `COPY`: the columns' types come from the probe query (prepared once per
    /// connection), each row is encoded as the parameters of a statement are.
    async fn copy_in_untracked(&mut self, copy: CopyIn) -> Result<u64> {
        self.open().await?;
        let client = self.client();
        // Without the cache the probe is prepared afresh: inside the flush's transaction, and
        // closed before it ends, so nothing outlives the transaction.
        let probe = if self.mode.cached() {
            client.prepare_cached(&copy.probe).await
        } else {
            client.prepare(&copy.probe).await
        };
        let types: Vec<Type> =
            probe.map_err(error::map)?.columns().iter().map(|c| c.type_().clone()).collect();
        let sink = client.copy_in(&copy.sql).await.map_err(error::map)?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        futures_util::pin_mut!(writer);
        for row in copy.rows {
            let params: Vec<Param> = row.into_iter().map(Param::Value).collect();
            let encoded: Vec<PgParam<'_>> = params.iter().map(PgParam).collect();
            let refs: Vec<&(dyn ToSql + Sync)> =
                encoded.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            writer.as_mut().write(&refs).await.map_err(error::map)?;
        }
        writer.finish().await.map_err(error::map)
    }

    async fn batch_execute_untracked(&mut self, sql: &str) -> Result<()> {
        self.open().await?;
        self.client().batch_execute(sql).await.map_err(error::map)
    }

    async fn commit_untracked(&mut self) -> Result<()> {
        match self.tx {
            Tx::None => Err(Error::usage("commit without an open transaction")),
            // Nothing was sent: there is nothing to commit.
            Tx::Pending => {
                self.tx = Tx::None;
                Ok(())
            }
            Tx::Open => {
                let result = self.client().batch_execute("COMMIT").await.map_err(error::map);
                // Whatever happened, the server has left the transaction (or the connection
                // is gone, in which case the pool's recycling check discards it).
                if result.as_ref().is_err_and(|e| e.kind() == &ErrorKind::Connection) {
                    return result;
                }
                self.tx = Tx::None;
                result
            }
        }
    }

    async fn rollback_untracked(&mut self) -> Result<()> {
        match self.tx {
            Tx::None => Ok(()),
            Tx::Pending => {
                self.tx = Tx::None;
                Ok(())
            }
            Tx::Open => {
                let result = self.client().batch_execute("ROLLBACK").await.map_err(error::map);
                if result.is_ok() {
                    self.tx = Tx::None;
                }
                result
            }
        }
    }

    async fn savepoint_untracked(&mut self, name: &str) -> Result<()> {
        self.open().await?;
        let sql = format!("SAVEPOINT {}", quote_ident(name));
        self.client().batch_execute(&sql).await.map_err(error::map)
    }

    async fn release_savepoint_untracked(&mut self, name: &str) -> Result<()> {
        let sql = format!("RELEASE SAVEPOINT {}", quote_ident(name));
        self.client().batch_execute(&sql).await.map_err(error::map)
    }

    async fn rollback_to_savepoint_untracked(&mut self, name: &str) -> Result<()> {
        let sql = format!("ROLLBACK TO SAVEPOINT {}", quote_ident(name));
        self.client().batch_execute(&sql).await.map_err(error::map)
    }
}

/// Marks `$conn` in flight while `$call` (one of its `_untracked` calls) runs: a future
/// dropped before the call completes leaves the mark, and `Drop` resets the connection.
macro_rules! tracked {
    ($conn:ident . $call:ident ( $($arg:expr),* )) => {{
        $conn.in_flight = true;
        let out = $conn.$call($($arg),*).await;
        $conn.in_flight = false;
        out
    }};
}

#[async_trait]
impl Connection for PgConnection {
    fn replica(&self) -> Option<usize> {
        self.replica
    }

    async fn run(&mut self, statement: &Statement) -> Result<Outcome> {
        tracked!(self.run_untracked(statement))
    }

    async fn run_each(&mut self, statement: &Statement, row: &mut RowSink<'_>) -> Result<u64> {
        tracked!(self.run_each_untracked(statement, row))
    }

    async fn run_all(&mut self, statements: &[Statement]) -> Result<Vec<Outcome>> {
        tracked!(self.run_all_untracked(statements))
    }

    async fn copy_in(&mut self, copy: CopyIn) -> Result<u64> {
        tracked!(self.copy_in_untracked(copy))
    }

    async fn batch_execute(&mut self, sql: &str) -> Result<()> {
        tracked!(self.batch_execute_untracked(sql))
    }

    async fn begin(&mut self) -> Result<()> {
        if self.tx != Tx::None {
            return Err(Error::usage("a transaction is already open on this connection"));
        }
        self.tx = Tx::Pending;
        Ok(())
    }

    async fn commit(&mut self) -> Result<()> {
        tracked!(self.commit_untracked())
    }

    async fn rollback(&mut self) -> Result<()> {
        tracked!(self.rollback_untracked())
    }

    async fn savepoint(&mut self, name: &str) -> Result<()> {
        tracked!(self.savepoint_untracked(name))
    }

    async fn release_savepoint(&mut self, name: &str) -> Result<()> {
        tracked!(self.release_savepoint_untracked(name))
    }

    async fn rollback_to_savepoint(&mut self, name: &str) -> Result<()> {
        tracked!(self.rollback_to_savepoint_untracked(name))
    }
}

/// A pool of connections to `url` (`target`: the same, password hidden) with the settings of
/// `config`, and where its cancel requests go.
fn pool_for(
    url: &str,
    target: &str,
    config: &StrataConfig,
    cache: bool,
) -> Result<(Pool, Arc<reset::CancelTarget>)> {
    let mut pg = tokio_postgres::Config::from_str(url)
        .map_err(|e| Error::config(format!("invalid PostgreSQL URL {target}: {e}")))?;
    if pg.get_connect_timeout().is_none() {
        pg.connect_timeout(config.connect_timeout);
    }
    if pg.get_application_name().is_none() {
        pg.application_name("strata");
    }
    if let (Some(schema), true) = (&config.default_schema, cache) {
        // Unqualified names (raw SQL, migration files) resolve in the configured schema
        // first, as the ORM's own statements do by qualifying every table.
        pg.options(search_path_option(schema));
    }
    let cancel_target =
        Arc::new(if cache { reset::CancelTarget::of(&pg) } else { reset::CancelTarget::Never });
    let manager =
        Manager::from_config(pg, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    let pool = Pool::builder(manager)
        .max_size(config.pool_size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(config.connect_timeout))
        .create_timeout(Some(config.connect_timeout))
        .recycle_timeout(Some(config.connect_timeout))
        .build()
        .map_err(|e| Error::config(format!("cannot create the PostgreSQL pool: {e}")))?;
    Ok((pool, cancel_target))
}

/// The startup option that puts `schema` first on the search path: `-c search_path="s",public`.
/// Spaces are escaped because the server splits the options string on them.
fn search_path_option(schema: &str) -> String {
    let quoted = quote_ident(schema).replace('\\', "\\\\").replace(' ', "\\ ");
    format!("-c search_path={quoted},public")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_search_path_option_quotes_and_escapes_the_schema() {
        assert_eq!(search_path_option("blog"), r#"-c search_path="blog",public"#);
        assert_eq!(search_path_option("my blog"), r#"-c search_path="my\ blog",public"#);
        assert_eq!(search_path_option("a\"b"), r#"-c search_path="a""b",public"#);
    }
}
