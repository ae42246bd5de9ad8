//! The schema: the service's migrations, embedded in the binary, applied at start-up.
//!
//! `migrations/postgres/` and `migrations/sqlite/` hold the same migrations for each database,
//! each with its `.snapshot.json` (`cargo run -p posts-api -- migration:create` writes the next
//! one into both, see [`project`]). Applying them, the schema gate and the readiness check are
//! `nest-service`'s ([`nest_service::schema`]), shared with blog-api.

use std::path::Path;

use nest_service::Schema;
use strata::metadata::EntityMeta;
use strata::{DbKind, Entity, Strata};
use strata_migrate::EmbeddedMigration;

use crate::posts::entity::PostEntity;

/// The PostgreSQL migrations, embedded at compile time.
pub static POSTGRES_MIGRATIONS: &[EmbeddedMigration] =
    strata_migrate::embed_migrations!("migrations/postgres");

/// The SQLite migrations, embedded at compile time.
pub static SQLITE_MIGRATIONS: &[EmbeddedMigration] =
    strata_migrate::embed_migrations!("migrations/sqlite");

/// The service's schema: its entities and migrations.
pub static SCHEMA: Schema = Schema {
    service: "posts-api",
    entities: || entities().to_vec(),
    postgres: POSTGRES_MIGRATIONS,
    sqlite: SQLITE_MIGRATIONS,
};

/// The service's entities.
pub fn entities() -> [&'static EntityMeta; 1] {
    [PostEntity::meta()]
}

/// The Strata commands' view of the service: its entities, a migration set per database, in
/// `root/migrations/postgres` and `root/migrations/sqlite` (the binary passes its crate's
/// directory) with the copies embedded in the binary, and the service's connection variables
/// for the advice after a connection error.
pub fn project(root: &Path) -> strata_cli::Project {
    SCHEMA.project(root)
}

/// What the service's tables lack or have besides what the entities describe, one line per
/// change: empty when they fit.
///
/// # Errors
///
/// The database's error when reading its catalog fails.
pub async fn schema_differences(orm: &Strata) -> strata::Result<Vec<String>> {
    SCHEMA.differences(orm).await
}

/// The migrations for a database of `kind`, and their directory in the source tree (relative
/// to the crate).
pub fn migrations_for(kind: DbKind) -> (&'static [EmbeddedMigration], &'static str) {
    SCHEMA.migrations_for(kind)
}

/// Applies the pending migrations; returns the ids applied.
///
/// # Errors
///
/// Any error of the migrator (see [`Schema::migrate`]).
pub async fn migrate(orm: &Strata) -> strata::Result<Vec<String>> {
    SCHEMA.migrate(orm).await
}

/// The ids of the service's migrations not applied to the database yet.
///
/// # Errors
///
/// Any error of the migrator reading its tracking table.
pub async fn pending(orm: &Strata) -> strata::Result<Vec<String>> {
    SCHEMA.pending(orm).await
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
