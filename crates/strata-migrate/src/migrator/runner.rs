//! The runner: applies or reverts one migration, in its own transaction together with its
//! tracking-table row, and locates the statement that failed.
//!
//! The file is executed as one batch, exactly as the database parses it. A migration that fails
//! is rolled back entirely and not recorded; only then is the file split into statements
//! ([`super::statements`]) and re-run one by one in a transaction that is rolled back too, to
//! name the failing statement in the error.

use super::backend::MigrationBackend;
use super::statements;
use super::storage::Storage;
use crate::files::Migration;
use strata_core::dialect::Dialect;
use strata_core::driver::Connection;
use strata_core::{Error, Result};

/// Runs migrations on one connection of one database.
pub(crate) struct Runner<'a> {
    pub(crate) backend: &'static dyn MigrationBackend,
    pub(crate) dialect: &'a dyn Dialect,
    pub(crate) storage: &'a Storage,
}

impl Runner<'_> {
    /// Applies one migration with its record in one transaction. False when another process
    /// applied it meanwhile (SQLite).
    pub(crate) async fn apply(&self, conn: &mut dyn Connection, m: &Migration) -> Result<bool> {
        let backend = self.backend;
        backend.begin(conn).await?;
        if backend.recheck_in_transaction()
            && self.storage.is_recorded(conn, self.dialect, &m.id).await?
        {
            backend.rollback(conn).await?;
            return Ok(false);
        }
        if let Err(e) = conn.batch_execute(&m.up).await {
            let _ = backend.rollback(conn).await;
            return Err(self.failure(conn, &m.id, "up", &m.up, e).await);
        }
        let record = self.storage.record(self.dialect, &m.id, &m.checksum);
        if let Err(e) = conn.run(&record).await {
            let _ = backend.rollback(conn).await;
            return Err(e.context(format!("migration {} ran, but recording it failed", m.id)));
        }
        backend
            .commit(conn)
            .await
            .map_err(|e| e.context(format!("committing migration {}", m.id)))?;
        Ok(true)
    }

    /// Reverts one migration with `down` and deletes its record, in one transaction.
    pub(crate) async fn revert(
        &self,
        conn: &mut dyn Connection,
        m: &Migration,
        down: &str,
    ) -> Result<()> {
        let backend = self.backend;
        backend.begin(conn).await?;
        if let Err(e) = conn.batch_execute(down).await {
            let _ = backend.rollback(conn).await;
            return Err(self.failure(conn, &m.id, "down", down, e).await);
        }
        if let Err(e) = conn.run(&self.storage.unrecord(self.dialect, &m.id)).await {
            let _ = backend.rollback(conn).await;
            return Err(
                e.context(format!("migration {} was reverted, but unrecording it failed", m.id))
            );
        }
        backend
            .commit(conn)
            .await
            .map_err(|e| e.context(format!("committing the revert of {}", m.id)))
    }

    /// The error of a failed migration, naming the statement that failed. The transaction has
    /// been rolled back; the statements are re-run one by one in a new one, rolled back too.
    async fn failure(
        &self,
        conn: &mut dyn Connection,
        id: &str,
        direction: &str,
        sql: &str,
        error: Error,
    ) -> Error {
        let parts = statements::split(sql);
        let located = if parts.len() == 1 {
            Some((1, parts[0]))
        } else if parts.is_empty() || error.is_connection() {
            None
        } else {
            self.locate(conn, &parts).await
        };
        let what = if direction == "up" { "applied" } else { "reverted" };
        let mut message = format!(
            "migration {id} failed ({direction}); it was rolled back: nothing of it was {what}"
        );
        if let Some((n, statement)) = located {
            message.push_str(&format!(
                "\n  statement {n} of {}: {}",
                parts.len(),
                statement.replace('\n', "\n    ")
            ));
        }
        message.push_str("\n  error");
        error.context(message)
    }

    /// Re-runs `parts` one by one in a transaction that is always rolled back; the first that
    /// fails.
    async fn locate<'s>(
        &self,
        conn: &mut dyn Connection,
        parts: &[&'s str],
    ) -> Option<(usize, &'s str)> {
        self.backend.begin(conn).await.ok()?;
        let mut found = None;
        for (i, part) in parts.iter().enumerate() {
            if conn.batch_execute(part).await.is_err() {
                found = Some((i + 1, *part));
                break;
            }
        }
        let _ = self.backend.rollback(conn).await;
        found
    }
}
