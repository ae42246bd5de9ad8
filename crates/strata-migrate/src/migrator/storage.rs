//! The tracking table (MikroORM's `MigrationStorage`): which migrations are applied, with the
//! checksum of the up SQL each was applied with and when.
//!
//! It lives in the configured schema (`orm.default_schema()`, else `public`; unqualified on
//! SQLite), is created on the first run that applies or reverts anything, and reads as empty
//! while it does not exist. Rows are written inside each migration's transaction by the runner.

use super::backend::{MigrationBackend, text};
use crate::introspect::TRACKING_TABLE;
use chrono::{DateTime, NaiveDateTime, Utc};
use strata_core::dialect::Dialect;
use strata_core::driver::{Connection, Statement, StatementKind};
use strata_core::sql::{SqlWriter, quote_ident};
use strata_core::{ColumnType, Error, Result, Value};

/// One row of the tracking table.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// The migration id.
    pub(crate) name: String,
    /// The checksum of the up SQL it was applied with.
    pub(crate) checksum: String,
    /// When it was applied.
    pub(crate) executed_at: DateTime<Utc>,
}

/// The tracking table of one database.
#[derive(Clone)]
pub(crate) struct Storage {
    backend: &'static dyn MigrationBackend,
    schema: Option<String>,
}

impl Storage {
    /// The tracking table of `backend`'s database, in the `configured` schema.
    pub(crate) fn new(backend: &'static dyn MigrationBackend, configured: Option<&str>) -> Self {
        Self { backend, schema: backend.tracking_schema(configured) }
    }

    /// The schema of the table (`None` on SQLite).
    pub(crate) fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// The table's name, quoted and qualified: `"public"."strata_migrations"`.
    pub(crate) fn table(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(TRACKING_TABLE)),
            None => quote_ident(TRACKING_TABLE),
        }
    }

    async fn create(&self, conn: &mut dyn Connection) -> Result<()> {
        let sql = self.backend.create_tracking_table(self.schema(), &self.table());
        // In the backend's transaction: where no session lock serializes migrators (SQLite,
        // a transaction-pooling proxy), its lock keeps two first runs from racing here.
        let backend = self.backend;
        backend.begin(conn).await?;
        let created = match conn.batch_execute(&sql).await {
            Ok(()) => backend.commit(conn).await,
            Err(e) => {
                let _ = backend.rollback(conn).await;
                Err(e)
            }
        };
        created.map_err(|e| e.context(format!("cannot create the tracking table {}", self.table())))
    }

    /// The rows of the table in the order they were applied. With `create`, creates the table
    /// first; without, a missing table reads as empty.
    pub(crate) async fn records(
        &self,
        conn: &mut dyn Connection,
        create: bool,
    ) -> Result<Vec<Record>> {
        let exists =
            self.backend.tracking_table_exists(conn, self.schema(), TRACKING_TABLE).await?;
        if create && !exists {
            // Checked first: `CREATE … IF NOT EXISTS` of an existing table makes PostgreSQL
            // send a notice that lands in the application's log on every start.
            self.create(conn).await?;
        } else if !create && !exists {
            return Ok(Vec::new());
        }
        let out = conn
            .run(&Statement {
                sql: format!(
                    "SELECT \"name\", \"checksum\", \"executed_at\" FROM {} ORDER BY \"id\"",
                    self.table()
                ),
                params: Vec::new(),
                returns: vec![
                    ColumnType::Varchar(255),
                    ColumnType::Varchar(64),
                    ColumnType::TimestampTz,
                ],
                kind: StatementKind::Select,
            })
            .await?;
        out.rows
            .iter()
            .map(|row| match row.as_slice() {
                [Value::Text(name), Value::Text(checksum), at] => Ok(Record {
                    name: name.clone(),
                    checksum: checksum.clone(),
                    executed_at: timestamp(at)?,
                }),
                other => Err(Error::invalid_value(format!(
                    "unexpected row in {}: {other:?}",
                    self.table()
                ))),
            })
            .collect()
    }

    /// True when migration `id` is recorded.
    pub(crate) async fn is_recorded(
        &self,
        conn: &mut dyn Connection,
        dialect: &dyn Dialect,
        id: &str,
    ) -> Result<bool> {
        let mut w = SqlWriter::new(dialect);
        w.push("SELECT count(*) FROM ").push(&self.table()).push(" WHERE \"name\" = ");
        w.param(text(id));
        super::backend::any(conn, &w.finish(StatementKind::Select, vec![ColumnType::I64])).await
    }

    /// The INSERT that records migration `id`, applied with `checksum`.
    pub(crate) fn record(&self, dialect: &dyn Dialect, id: &str, checksum: &str) -> Statement {
        let mut w = SqlWriter::new(dialect);
        w.push("INSERT INTO ").push(&self.table()).push(" (\"name\", \"checksum\") VALUES (");
        w.param(text(id)).push(", ").param(text(checksum)).push(")");
        w.finish(StatementKind::Insert, Vec::new())
    }

    /// The DELETE that forgets migration `id`.
    pub(crate) fn unrecord(&self, dialect: &dyn Dialect, id: &str) -> Statement {
        let mut w = SqlWriter::new(dialect);
        w.push("DELETE FROM ").push(&self.table()).push(" WHERE \"name\" = ").param(text(id));
        w.finish(StatementKind::Delete, Vec::new())
    }
}

/// A timestamp read back from the tracking table (`timestamptz` on PostgreSQL, ISO text on
/// SQLite).
fn timestamp(value: &Value) -> Result<DateTime<Utc>> {
    match value {
        Value::TimestampTz(t) => Ok(*t),
        Value::Text(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.to_utc())
            .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc()))
            .map_err(|_| {
                Error::invalid_value(format!("unreadable executed_at in the tracking table: {s:?}"))
            }),
        other => Err(Error::invalid_value(format!(
            "executed_at in the tracking table is a {}, expected a timestamp",
            other.type_name()
        ))),
    }
}
