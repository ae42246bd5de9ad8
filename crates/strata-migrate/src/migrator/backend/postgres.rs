//! The migrator on PostgreSQL: a session advisory lock for whole runs, the driver's own
//! transactions, the tracking table in the configured schema (`public` by default), and
//! `fresh` dropping everything of that schema through the catalog.
//!
//! Behind a transaction-pooling proxy (the statement cache off) a session lock would stay on
//! whichever server connection took it, and its unlock could reach another: there, each
//! migration's transaction takes a transaction-level lock (`pg_advisory_xact_lock`) instead and
//! checks the tracking table again under it, so concurrent migrators still apply each
//! migration once, one after the other — interleaved migration by migration rather than run
//! by run.

use super::{MigrationBackend, any, first, text};
use crate::migrator::progress::Progress;
use async_trait::async_trait;
use strata_core::driver::{Connection, Statement, StatementKind};
use strata_core::sql::quote_ident;
use strata_core::{ColumnType, Result, Value};

/// The key of the PostgreSQL advisory lock the migrator holds while it runs ("STRATAMG").
pub(crate) const LOCK_KEY: i64 = 0x5354_5241_5441_4d47;

/// The migrator's PostgreSQL backend.
pub(crate) struct Postgres {
    /// A session lock around whole runs; `false`: a transaction lock in each migration's
    /// transaction.
    session_lock: bool,
}

impl Postgres {
    /// On a server session of its own.
    pub(crate) const SESSION: Postgres = Postgres { session_lock: true };
    /// Behind a transaction-pooling proxy.
    pub(crate) const POOLED: Postgres = Postgres { session_lock: false };
}

#[async_trait]
impl MigrationBackend for Postgres {
    fn tracking_schema(&self, configured: Option<&str>) -> Option<String> {
        Some(configured.unwrap_or("public").to_owned())
    }

    async fn lock(
        &self,
        conn: &mut dyn Connection,
        progress: &(dyn Fn(&Progress<'_>) + Sync),
    ) -> Result<()> {
        if !self.session_lock {
            return Ok(());
        }
        let tried = conn
            .run(&Statement {
                sql: format!("SELECT pg_try_advisory_lock({LOCK_KEY})"),
                params: Vec::new(),
                returns: vec![ColumnType::Bool],
                kind: StatementKind::Select,
            })
            .await?;
        if first(&tried.rows) == Some(&Value::Bool(true)) {
            return Ok(());
        }
        progress(&Progress::WaitingForLock);
        // `pg_advisory_lock` returns `void`: the simple protocol ignores the row.
        conn.batch_execute(&format!("SELECT pg_advisory_lock({LOCK_KEY})")).await
    }

    async fn unlock(&self, conn: &mut dyn Connection) -> Result<()> {
        if !self.session_lock {
            return Ok(());
        }
        conn.batch_execute(&format!("SELECT pg_advisory_unlock({LOCK_KEY})")).await
    }

    async fn begin(&self, conn: &mut dyn Connection) -> Result<()> {
        conn.begin().await?;
        if !self.session_lock {
            // Released by the transaction's end, on the server connection that took it.
            conn.batch_execute(&format!("SELECT pg_advisory_xact_lock({LOCK_KEY})")).await?;
        }
        Ok(())
    }

    async fn commit(&self, conn: &mut dyn Connection) -> Result<()> {
        conn.commit().await
    }

    async fn rollback(&self, conn: &mut dyn Connection) -> Result<()> {
        conn.rollback().await
    }

    fn recheck_in_transaction(&self) -> bool {
        !self.session_lock
    }

    fn create_tracking_table(&self, schema: Option<&str>, table: &str) -> String {
        let mut sql = String::new();
        if let Some(s) = schema.filter(|s| *s != "public") {
            sql.push_str(&format!("CREATE SCHEMA IF NOT EXISTS {};\n", quote_ident(s)));
        }
        sql.push_str(&format!(
            "CREATE TABLE IF NOT EXISTS {table} (\n  \"id\" serial PRIMARY KEY,\n  \
             \"name\" varchar(255) NOT NULL UNIQUE,\n  \"checksum\" varchar(64) NOT NULL,\n  \
             \"executed_at\" timestamptz NOT NULL DEFAULT now()\n)"
        ));
        sql
    }

    async fn tracking_table_exists(
        &self,
        conn: &mut dyn Connection,
        schema: Option<&str>,
        table: &str,
    ) -> Result<bool> {
        let count = Statement {
            sql: "SELECT count(*)::int4 FROM pg_catalog.pg_tables \
                  WHERE schemaname = $1 AND tablename = $2"
                .into(),
            params: vec![text(schema.unwrap_or("public")), text(table)],
            returns: vec![ColumnType::I32],
            kind: StatementKind::Select,
        };
        any(conn, &count).await
    }

    async fn drop_everything(
        &self,
        conn: &mut dyn Connection,
        schema: Option<&str>,
        others: &[String],
    ) -> Result<Vec<String>> {
        let mut dropped = Vec::new();
        let schema = schema.unwrap_or("public");
        for other in others.iter().filter(|o| *o != schema) {
            conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", quote_ident(other)))
                .await?;
            dropped.push(format!("schema {other}"));
        }
        let objects = conn
            .run(&Statement {
                sql: "SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' \
                      WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' \
                      WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, \
                      quote_ident(n.nspname) || '.' || quote_ident(c.relname) \
                      FROM pg_catalog.pg_class c \
                      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace \
                      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') \
                      AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_catalog.pg_depend d \
                        WHERE d.classid = 'pg_catalog.pg_class'::regclass \
                        AND d.objid = c.oid AND d.deptype IN ('a', 'i'))) \
                      UNION ALL \
                      SELECT CASE t.typtype WHEN 'd' THEN 'DOMAIN' ELSE 'TYPE' END, \
                      quote_ident(n.nspname) || '.' || quote_ident(t.typname) \
                      FROM pg_catalog.pg_type t \
                      JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace \
                      WHERE n.nspname = $1 AND t.typtype IN ('e', 'd')"
                    .into(),
                params: vec![text(schema)],
                returns: vec![ColumnType::Text, ColumnType::Text],
                kind: StatementKind::Select,
            })
            .await?;
        for row in &objects.rows {
            let (Some(Value::Text(kind)), Some(Value::Text(name))) = (row.first(), row.get(1))
            else {
                continue;
            };
            // Sequences owned by a column go with their table (left out above); a view may
            // have gone with a table it reads: `IF EXISTS`.
            conn.batch_execute(&format!("DROP {kind} IF EXISTS {name} CASCADE")).await?;
            dropped.push(format!("{} {name}", kind.to_lowercase()));
        }
        Ok(dropped)
    }
}
