//! The schema: the service's migrations, embedded in the binary, applied at start-up.
//!
//! `migrations/postgres/` and `migrations/sqlite/` hold the same migrations for each database
//! (`cargo run -p posts-api -- migration:create` writes the next one for the configured
//! database). [`migrate`] applies the pending ones with the Strata migrator, which records
//! them in `strata_migrations` and takes a lock, so instances starting at once apply each
//! migration once. A schema gate lets a service that started while its database was down
//! migrate on the first request that finds it up.

use std::sync::atomic::{AtomicBool, Ordering};

use strata::Orm;
use strata_migrate::{EmbeddedMigration, MigrationSource, Migrator};

/// The PostgreSQL migrations, embedded at compile time.
pub static POSTGRES_MIGRATIONS: &[EmbeddedMigration] =
    strata_migrate::embed_migrations!("migrations/postgres");

/// The SQLite migrations, embedded at compile time.
pub static SQLITE_MIGRATIONS: &[EmbeddedMigration] =
    strata_migrate::embed_migrations!("migrations/sqlite");

/// The migrations for a database of `dialect` (`"postgres"` or `"sqlite"`, as
/// `Dialect::name` says), and their directory in the source tree (relative to the crate).
pub fn migrations_for(dialect: &str) -> (&'static [EmbeddedMigration], &'static str) {
    match dialect {
        "sqlite" => (SQLITE_MIGRATIONS, "migrations/sqlite"),
        _ => (POSTGRES_MIGRATIONS, "migrations/postgres"),
    }
}

/// Applies the pending migrations; returns the ids applied.
///
/// # Errors
///
/// Any error of the migrator: the database is unreachable ([`strata::ErrorKind::Connection`]),
/// a migration fails (named with its statement), or an applied migration was changed.
pub async fn migrate(orm: &Orm) -> strata::Result<Vec<String>> {
    let (migrations, _) = migrations_for(orm.dialect().name());
    let applied = Migrator::new(orm, MigrationSource::Embedded(migrations)).up(None).await?;
    for id in &applied {
        tracing::info!(migration = %id, "migration applied");
    }
    Ok(applied)
}

/// The ids of the service's migrations not applied to the database yet.
///
/// # Errors
///
/// Any error of the migrator reading its tracking table.
pub async fn pending(orm: &Orm) -> strata::Result<Vec<String>> {
    let (migrations, _) = migrations_for(orm.dialect().name());
    let pending = Migrator::new(orm, MigrationSource::Embedded(migrations)).pending().await?;
    Ok(pending.into_iter().map(|m| m.id).collect())
}

/// Remembers whether the migrations ran, and lets one request at a time run them.
///
/// A database that cannot be reached is retried by the next request; a migration that failed
/// is not: it would fail the same way, so every request answers 500 quickly (the log says why)
/// until the migration or the database is fixed and the service restarted.
#[derive(Debug, Default)]
pub(crate) struct SchemaGate {
    ready: AtomicBool,
    lock: tokio::sync::Mutex<()>,
    failed: std::sync::OnceLock<(strata::ErrorKind, String)>,
    /// The schema is migrated outside the service: nothing to do here.
    external: bool,
}

impl SchemaGate {
    /// A gate that never migrates: the schema is managed outside the service
    /// (`MIGRATE_ON_START=false`, then `posts-api migration:up`).
    pub(crate) fn disabled() -> Self {
        Self { ready: AtomicBool::new(true), external: true, ..Self::default() }
    }

    /// True for a gate made by [`SchemaGate::disabled`].
    pub(crate) fn is_external(&self) -> bool {
        self.external
    }

    pub(crate) async fn ensure(&self, orm: &Orm) -> strata::Result<()> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let _guard = self.lock.lock().await;
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        if let Some((kind, message)) = self.failed.get() {
            return Err(strata::Error::new(kind.clone(), message.clone()));
        }
        if let Err(e) = migrate(orm).await {
            if !e.is_connection() {
                tracing::error!(error = %e, "the migrations failed; fix them and restart");
                let _ = self.failed.set((e.kind().clone(), e.message().to_owned()));
            }
            return Err(e);
        }
        self.ready.store(true, Ordering::Release);
        tracing::info!("schema up to date");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_databases_embed_the_same_migrations() {
        let ids = |m: &[EmbeddedMigration]| m.iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(POSTGRES_MIGRATIONS), ids(SQLITE_MIGRATIONS));
        assert_eq!(ids(POSTGRES_MIGRATIONS), ["20261124000000_create_post_entity"]);
        assert!(POSTGRES_MIGRATIONS[0].up.contains(r#""id" serial primary key"#));
        assert!(SQLITE_MIGRATIONS[0].up.contains(r#""id" integer primary key"#));
        assert!(POSTGRES_MIGRATIONS.iter().chain(SQLITE_MIGRATIONS).all(|m| m.down.is_some()));
    }
}
