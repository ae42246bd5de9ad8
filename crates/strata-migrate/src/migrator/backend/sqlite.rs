//! The migrator on SQLite: no lock for whole runs, but each migration in a `BEGIN IMMEDIATE`
//! transaction that checks the tracking table again; no schemas; `fresh` drops every table and
//! view listed in `sqlite_master`.

use super::{MigrationBackend, any, text};
use crate::migrator::progress::Progress;
use async_trait::async_trait;
use strata_core::driver::{Connection, Statement, StatementKind};
use strata_core::sql::quote_ident;
use strata_core::{ColumnType, Result, Value};

/// The migrator's SQLite backend.
pub(crate) struct Sqlite;

#[async_trait]
impl MigrationBackend for Sqlite {
    /// SQLite has no schemas: the tracking table is unqualified.
    fn tracking_schema(&self, _configured: Option<&str>) -> Option<String> {
        None
    }

    /// No advisory lock: [`Sqlite::recheck_in_transaction`] keeps concurrent runs apart.
    async fn lock(
        &self,
        _conn: &mut dyn Connection,
        _progress: &(dyn Fn(&Progress<'_>) + Sync),
    ) -> Result<()> {
        Ok(())
    }

    async fn unlock(&self, _conn: &mut dyn Connection) -> Result<()> {
        Ok(())
    }

    /// Takes the database's write lock at once, so that the recheck inside sees every
    /// migration another process committed.
    async fn begin(&self, conn: &mut dyn Connection) -> Result<()> {
        conn.batch_execute("BEGIN IMMEDIATE").await
    }

    async fn commit(&self, conn: &mut dyn Connection) -> Result<()> {
        conn.batch_execute("COMMIT").await
    }

    async fn rollback(&self, conn: &mut dyn Connection) -> Result<()> {
        conn.batch_execute("ROLLBACK").await
    }

    fn recheck_in_transaction(&self) -> bool {
        true
    }

    fn create_tracking_table(&self, _schema: Option<&str>, table: &str) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n  \"id\" integer PRIMARY KEY AUTOINCREMENT,\n  \
             \"name\" varchar(255) NOT NULL UNIQUE,\n  \"checksum\" varchar(64) NOT NULL,\n  \
             \"executed_at\" text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))\n)"
        )
    }

    async fn tracking_table_exists(
        &self,
        conn: &mut dyn Connection,
        _schema: Option<&str>,
        table: &str,
    ) -> Result<bool> {
        let count = Statement {
            sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1".into(),
            params: vec![text(table)],
            returns: vec![ColumnType::I64],
            kind: StatementKind::Select,
        };
        any(conn, &count).await
    }

    async fn drop_everything(
        &self,
        conn: &mut dyn Connection,
        _schema: Option<&str>,
        _others: &[String],
    ) -> Result<Vec<String>> {
        let objects = conn
            .run(&Statement {
                sql: "SELECT type, name FROM sqlite_master \
                      WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
                    .into(),
                params: Vec::new(),
                returns: vec![ColumnType::Text, ColumnType::Text],
                kind: StatementKind::Select,
            })
            .await?;
        let mut dropped = Vec::new();
        for row in &objects.rows {
            let (Some(Value::Text(kind)), Some(Value::Text(name))) = (row.first(), row.get(1))
            else {
                continue;
            };
            let kind = kind.to_uppercase();
            conn.batch_execute(&format!("DROP {kind} IF EXISTS {}", quote_ident(name))).await?;
            dropped.push(format!("{} {name}", kind.to_lowercase()));
        }
        Ok(dropped)
    }
}
