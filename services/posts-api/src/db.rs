//! The schema: the service's migrations, embedded in the binary, applied at start-up.
//!
//! `migrations/postgres/` and `migrations/sqlite/` hold the same migrations for each database,
//! each with its `.snapshot.json` (`cargo run -p posts-api -- migration:create` writes the next
//! one into both, see [`project`]). [`migrate`] applies the pending ones with the Strata
//! migrator, which records them in `strata_migrations` and takes a lock, so instances starting
//! at once apply each migration once. A schema gate lets a service that started while its
//! database was down migrate on the first request that finds it up. [`schema_differences`]
//! tells whether the migrated database fits the entities, which start-up logs and `/health`
//! reports.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use strata::metadata::EntityMeta;
use strata::{DbKind, Entity, Strata};
use strata_migrate::{EmbeddedMigration, MigrationSource, Migrator};

use crate::posts::entity::PostEntity;

/// The PostgreSQL migrations, embedded at compile time.
pub static POSTGRES_MIGRATIONS: &[EmbeddedMigration] =
    strata_migrate::embed_migrations!("migrations/postgres");

/// The SQLite migrations, embedded at compile time.
pub static SQLITE_MIGRATIONS: &[EmbeddedMigration] =
    strata_migrate::embed_migrations!("migrations/sqlite");

/// The service's entities.
pub fn entities() -> [&'static EntityMeta; 1] {
    [PostEntity::meta()]
}

/// The Strata commands' view of the service: its entities, a migration set per database, in
/// `root/migrations/postgres` and `root/migrations/sqlite` (the binary passes its crate's
/// directory) with the copies embedded in the binary, and the service's connection variables
/// for the advice after a connection error.
pub fn project(root: &Path) -> strata_cli::Project {
    strata_cli::Project::new(&entities())
        .connection_settings(connection_settings())
        .migrations_for(DbKind::Postgres, root.join("migrations/postgres"), POSTGRES_MIGRATIONS)
        .migrations_for(DbKind::Sqlite, root.join("migrations/sqlite"), SQLITE_MIGRATIONS)
}

/// The variables of the service's PostgreSQL connection (see [`crate::config`]).
pub fn connection_settings() -> strata_cli::ConnectionSettings {
    strata_cli::ConnectionSettings {
        server: "DATABASE_URL, or POSTGRES_HOST and POSTGRES_PORT".into(),
        login: "DATABASE_URL, or POSTGRES_USER and POSTGRES_PASSWORD".into(),
    }
}

/// What the service's tables lack or have besides what the entities describe, one line per
/// change (`add column "post_entity"."tags" varchar(255)`): empty when they fit. Tables of
/// other applications in the same database are not the service's business and are ignored.
///
/// # Errors
///
/// The database's error when reading its catalog fails.
pub async fn schema_differences(orm: &Strata) -> strata::Result<Vec<String>> {
    let changes = strata_migrate::check::entity_differences(orm, &entities()).await?;
    Ok(changes.summaries_for(orm.db_kind()))
}

/// The migrations for a database of `kind`, and their directory in the source tree (relative
/// to the crate).
pub fn migrations_for(kind: DbKind) -> (&'static [EmbeddedMigration], &'static str) {
    match kind {
        DbKind::Sqlite => (SQLITE_MIGRATIONS, "migrations/sqlite"),
        DbKind::Postgres => (POSTGRES_MIGRATIONS, "migrations/postgres"),
    }
}

/// Applies the pending migrations; returns the ids applied.
///
/// # Errors
///
/// Any error of the migrator: the database is unreachable ([`strata::ErrorKind::Connection`]),
/// a migration fails (named with its statement), or an applied migration was changed.
pub async fn migrate(orm: &Strata) -> strata::Result<Vec<String>> {
    let (migrations, _) = migrations_for(orm.db_kind());
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
pub async fn pending(orm: &Strata) -> strata::Result<Vec<String>> {
    let (migrations, _) = migrations_for(orm.db_kind());
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
    failed: std::sync::OnceLock<strata::Error>,
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

    pub(crate) async fn ensure(&self, orm: &Strata) -> strata::Result<()> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let _guard = self.lock.lock().await;
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        if let Some(failed) = self.failed.get() {
            return Err(failed.clone());
        }
        if let Err(e) = migrate(orm).await {
            if !e.is_connection() {
                tracing::error!(error = %e, "the migrations failed; fix them and restart");
                let _ = self.failed.set(e.clone());
            }
            return Err(e);
        }
        self.ready.store(true, Ordering::Release);
        tracing::info!("migrations up to date");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_migration_set_pairs_up_across_databases() {
        let ids = |m: &[EmbeddedMigration]| m.iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(POSTGRES_MIGRATIONS), ids(SQLITE_MIGRATIONS));
        // Migrations added after the first one keep these true.
        assert_eq!(ids(POSTGRES_MIGRATIONS).first(), Some(&"20261124000000_create_post_entity"));
        assert!(POSTGRES_MIGRATIONS[0].up.contains(r#""id" serial primary key"#));
        assert!(SQLITE_MIGRATIONS[0].up.contains(r#""id" integer primary key"#));
        assert!(POSTGRES_MIGRATIONS.iter().chain(SQLITE_MIGRATIONS).all(|m| m.down.is_some()));
    }

    #[test]
    fn the_commands_see_one_migration_set_per_database_the_service_ships() {
        let project = project(Path::new(env!("CARGO_MANIFEST_DIR")));
        for (backend, dir) in [(DbKind::Postgres, "postgres"), (DbKind::Sqlite, "sqlite")] {
            let set = project.set_for(backend).expect("a set for each database");
            assert_eq!(set.backend(), Some(backend));
            assert!(set.dir().ends_with(Path::new("migrations").join(dir)), "{set:?}");
            assert!(set.dir().is_dir(), "{set:?}");
            let (embedded, relative) = migrations_for(backend);
            assert!(set.dir().ends_with(relative));
            assert!(set.embedded().is_some_and(|e| std::ptr::eq(e, embedded)));
        }
        assert_eq!(project.sets().len(), 2);
    }

    /// Fails when an entity changed without a migration: `cargo run -p posts-api --
    /// migration:create` writes the migrations and updates the snapshots.
    #[test]
    fn the_shipped_snapshots_match_the_entities() {
        let project = project(Path::new(env!("CARGO_MANIFEST_DIR")));
        let target = strata_migrate::target::target_schema(&entities(), None);
        for set in project.sets() {
            let snapshot = strata_migrate::snapshot::load(set.dir())
                .expect("a readable snapshot")
                .unwrap_or_else(|| panic!("{} has no .snapshot.json", set.dir().display()));
            let changes = strata_migrate::diff::diff(&snapshot, &target);
            assert!(
                changes.is_empty(),
                "the entities changed without a migration in {}: {:?}; run `cargo run -p \
                 posts-api -- migration:create`",
                set.dir().display(),
                changes.summaries()
            );
        }
    }
}
