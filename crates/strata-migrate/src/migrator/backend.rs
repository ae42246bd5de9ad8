//! What the migrator does differently per database: locking, transactions, the tracking table
//! and dropping everything for `fresh`.
//!
//! - PostgreSQL: a session-level advisory lock (`pg_advisory_lock`) on the migrator's connection
//!   serializes whole runs between processes; each migration runs in its own transaction.
//! - SQLite: there is no advisory lock; each migration runs in a `BEGIN IMMEDIATE` transaction,
//!   which takes the database's write lock at once, and checks the tracking table again inside
//!   it, so a concurrent process never applies a migration twice.

use super::Progress;
use chrono::{DateTime, NaiveDateTime, Utc};
use strata_core::driver::{Connection, Param, Statement, StatementKind};
use strata_core::sql::quote_ident;
use strata_core::{ColumnType, DbKind, Error, Result, Value};

/// The key of the PostgreSQL advisory lock the migrator holds while it runs ("STRATAMG").
pub(crate) const LOCK_KEY: i64 = 0x5354_5241_5441_4d47;

/// The database family, from `orm.db_kind()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    Postgres,
    Sqlite,
}

impl Flavor {
    pub(crate) fn of(kind: DbKind) -> Self {
        match kind {
            DbKind::Postgres => Self::Postgres,
            DbKind::Sqlite => Self::Sqlite,
        }
    }

    /// Placeholder `n` (1-based).
    pub(crate) fn placeholder(self, n: usize) -> String {
        match self {
            Self::Postgres => format!("${n}"),
            Self::Sqlite => format!("?{n}"),
        }
    }

    /// Takes the migration lock (PostgreSQL), reporting when another process holds it.
    pub(crate) async fn lock(
        self,
        conn: &mut dyn Connection,
        progress: &(dyn Fn(&Progress<'_>) + Sync),
    ) -> Result<()> {
        if self != Self::Postgres {
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

    /// Releases the migration lock.
    pub(crate) async fn unlock(self, conn: &mut dyn Connection) -> Result<()> {
        match self {
            Self::Postgres => {
                conn.batch_execute(&format!("SELECT pg_advisory_unlock({LOCK_KEY})")).await
            }
            Self::Sqlite => Ok(()),
        }
    }

    /// Opens the transaction of one migration.
    pub(crate) async fn begin(self, conn: &mut dyn Connection) -> Result<()> {
        match self {
            Self::Postgres => conn.begin().await,
            Self::Sqlite => conn.batch_execute("BEGIN IMMEDIATE").await,
        }
    }

    /// Commits the transaction of one migration.
    pub(crate) async fn commit(self, conn: &mut dyn Connection) -> Result<()> {
        match self {
            Self::Postgres => conn.commit().await,
            Self::Sqlite => conn.batch_execute("COMMIT").await,
        }
    }

    /// Rolls back the transaction of one migration.
    pub(crate) async fn rollback(self, conn: &mut dyn Connection) -> Result<()> {
        match self {
            Self::Postgres => conn.rollback().await,
            Self::Sqlite => conn.batch_execute("ROLLBACK").await,
        }
    }

    /// True when each migration's transaction must check the tracking table again (no lock
    /// serializes whole runs).
    pub(crate) fn recheck_in_transaction(self) -> bool {
        self == Self::Sqlite
    }

    /// `CREATE … IF NOT EXISTS` for the tracking table (and its schema).
    pub(crate) fn create_tracking_table(self, schema: Option<&str>, table: &str) -> String {
        match self {
            Self::Postgres => {
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
            Self::Sqlite => format!(
                "CREATE TABLE IF NOT EXISTS {table} (\n  \"id\" integer PRIMARY KEY AUTOINCREMENT,\n  \
                 \"name\" varchar(255) NOT NULL UNIQUE,\n  \"checksum\" varchar(64) NOT NULL,\n  \
                 \"executed_at\" text NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))\n)"
            ),
        }
    }

    /// True when the tracking table exists.
    pub(crate) async fn tracking_table_exists(
        self,
        conn: &mut dyn Connection,
        schema: Option<&str>,
        table: &str,
    ) -> Result<bool> {
        let statement = match self {
            Self::Postgres => Statement {
                sql: "SELECT count(*)::int4 FROM pg_catalog.pg_tables \
                      WHERE schemaname = $1 AND tablename = $2"
                    .into(),
                params: vec![text(schema.unwrap_or("public")), text(table)],
                returns: vec![ColumnType::I32],
                kind: StatementKind::Select,
            },
            Self::Sqlite => Statement {
                sql: "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1".into(),
                params: vec![text(table)],
                returns: vec![ColumnType::I64],
                kind: StatementKind::Select,
            },
        };
        let out = conn.run(&statement).await?;
        Ok(first(&out.rows).and_then(Value::as_i64).unwrap_or(0) > 0)
    }

    /// Drops every table, view, sequence, enum type and domain of `schema`, and the whole of
    /// each schema in `others` (which the migrations create themselves). Returns what it
    /// dropped, for progress output. Runs inside the caller's transaction.
    pub(crate) async fn drop_everything(
        self,
        conn: &mut dyn Connection,
        schema: Option<&str>,
        others: &[String],
    ) -> Result<Vec<String>> {
        let mut dropped = Vec::new();
        match self {
            Self::Postgres => {
                let schema = schema.unwrap_or("public");
                for other in others.iter().filter(|o| *o != schema) {
                    conn.batch_execute(&format!(
                        "DROP SCHEMA IF EXISTS {} CASCADE",
                        quote_ident(other)
                    ))
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
                    let (Some(Value::Text(kind)), Some(Value::Text(name))) =
                        (row.first(), row.get(1))
                    else {
                        continue;
                    };
                    // Sequences owned by a column go with their table (left out above); a view
                    // may have gone with a table it reads: `IF EXISTS`.
                    conn.batch_execute(&format!("DROP {kind} IF EXISTS {name} CASCADE")).await?;
                    dropped.push(format!("{} {name}", kind.to_lowercase()));
                }
            }
            Self::Sqlite => {
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
                for row in &objects.rows {
                    let (Some(Value::Text(kind)), Some(Value::Text(name))) =
                        (row.first(), row.get(1))
                    else {
                        continue;
                    };
                    let kind = kind.to_uppercase();
                    conn.batch_execute(&format!("DROP {kind} IF EXISTS {}", quote_ident(name)))
                        .await?;
                    dropped.push(format!("{} {name}", kind.to_lowercase()));
                }
            }
        }
        Ok(dropped)
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

/// A timestamp read back from the tracking table (`timestamptz` on PostgreSQL, ISO text on
/// SQLite).
pub(crate) fn timestamp(value: &Value) -> Result<DateTime<Utc>> {
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
