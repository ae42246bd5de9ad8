//! What the migrator does differently per database, as one trait implemented per database (the
//! shape of sqlx's `Migrate`): locking whole runs, the transaction of one migration, the
//! tracking table's DDL and existence check, and dropping everything for `fresh`.
//!
//! - [`postgres::Postgres`]: a session-level advisory lock (`pg_advisory_lock`) on the
//!   migrator's connection serializes whole runs between processes; each migration runs in its
//!   own transaction. Behind a transaction-pooling proxy (statement cache off) the lock is a
//!   transaction-level one taken in each migration's transaction, which then checks the
//!   tracking table again, as on SQLite.
//! - [`sqlite::Sqlite`]: there is no advisory lock; each migration runs in a `BEGIN IMMEDIATE`
//!   transaction, which takes the database's write lock at once, and checks the tracking table
//!   again inside it, so a concurrent process never applies a migration twice.
//!
//! [`for_kind`] is the one place that picks the implementation from a [`DbKind`].

mod postgres;
mod sqlite;

use super::progress::Progress;
use async_trait::async_trait;
use strata_core::driver::{Connection, Param, Statement};
use strata_core::{DbKind, Result, Value};

pub(crate) use postgres::LOCK_KEY;

/// The database-specific steps of a migration run.
#[async_trait]
pub(crate) trait MigrationBackend: Send + Sync {
    /// The schema of the tracking table, from the configured one (`None`: the database has no
    /// schemas).
    fn tracking_schema(&self, configured: Option<&str>) -> Option<String>;

    /// Takes the migration lock for a whole run, reporting when another process holds it.
    async fn lock(
        &self,
        conn: &mut dyn Connection,
        progress: &(dyn Fn(&Progress<'_>) + Sync),
    ) -> Result<()>;

    /// Releases the migration lock.
    async fn unlock(&self, conn: &mut dyn Connection) -> Result<()>;

    /// Opens the transaction of one migration.
    async fn begin(&self, conn: &mut dyn Connection) -> Result<()>;

    /// Commits the transaction of one migration.
    async fn commit(&self, conn: &mut dyn Connection) -> Result<()>;

    /// Rolls back the transaction of one migration.
    async fn rollback(&self, conn: &mut dyn Connection) -> Result<()>;

    /// True when each migration's transaction must check the tracking table again (no lock
    /// serializes whole runs).
    fn recheck_in_transaction(&self) -> bool;

    /// `CREATE … IF NOT EXISTS` for the tracking table `table` (quoted and qualified), and its
    /// schema.
    fn create_tracking_table(&self, schema: Option<&str>, table: &str) -> String;

    /// True when the tracking table named `table` exists in `schema`.
    async fn tracking_table_exists(
        &self,
        conn: &mut dyn Connection,
        schema: Option<&str>,
        table: &str,
    ) -> Result<bool>;

    /// Drops every table, view, sequence, enum type and domain of `schema`, and the whole of
    /// each schema in `others` (which the migrations create themselves). Returns what it
    /// dropped, for progress output. Runs inside the caller's transaction.
    async fn drop_everything(
        &self,
        conn: &mut dyn Connection,
        schema: Option<&str>,
        others: &[String],
    ) -> Result<Vec<String>>;
}

/// The backend of a database; `pooled`: behind a transaction-pooling proxy (no session state).
pub(crate) fn for_kind(kind: DbKind, pooled: bool) -> &'static dyn MigrationBackend {
    match kind {
        DbKind::Postgres if pooled => &postgres::Postgres::POOLED,
        DbKind::Postgres => &postgres::Postgres::SESSION,
        DbKind::Sqlite => &sqlite::Sqlite,
    }
}

/// A text parameter.
pub(crate) fn text(s: &str) -> Param {
    Param::Value(Value::Text(s.to_owned()))
}

/// The first column of the first row.
pub(crate) fn first(rows: &[Vec<Value>]) -> Option<&Value> {
    rows.first().and_then(|r| r.first())
}

/// True when `count`, a `SELECT count(*) …` of an integer type, counts any row.
pub(crate) async fn any(conn: &mut dyn Connection, count: &Statement) -> Result<bool> {
    let out = conn.run(count).await?;
    Ok(first(&out.rows).and_then(Value::as_i64).unwrap_or(0) > 0)
}
