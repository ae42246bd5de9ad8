//! The schema: the service's migrations, embedded in the binary, applied at start-up.
//!
//! `migrations/postgres/` and `migrations/sqlite/` hold the same migrations for each database,
//! each with its `.snapshot.json`, written by the service's own `migration:create` from the
//! entities (`cargo run -p blog-api -- migration:create`). The service starts from one initial
//! migration of all four tables and the pivot table rather than replaying article #62's table
//! and #63's changes: a new database needs no history, and the original's second migration
//! (adding `author_id not null` without a default) fails on a table that has rows anyway.
//! Applying them, the schema gate and the readiness check are `nest-service`'s, shared with
//! posts-api.

use std::path::Path;

use nest_service::Schema;
use strata::Entity;
use strata::metadata::EntityMeta;
use strata_migrate::EmbeddedMigration;

use crate::entities::{Address, Category, PostEntity, User};

/// The PostgreSQL migrations, embedded at compile time.
pub static POSTGRES_MIGRATIONS: &[EmbeddedMigration] =
    strata_migrate::embed_migrations!("migrations/postgres");

/// The SQLite migrations, embedded at compile time.
pub static SQLITE_MIGRATIONS: &[EmbeddedMigration] =
    strata_migrate::embed_migrations!("migrations/sqlite");

/// The service's schema: its entities and migrations.
pub static SCHEMA: Schema = Schema {
    service: "blog-api",
    entities: || entities().to_vec(),
    postgres: POSTGRES_MIGRATIONS,
    sqlite: SQLITE_MIGRATIONS,
};

/// The service's entities.
pub fn entities() -> [&'static EntityMeta; 4] {
    [Address::meta(), User::meta(), Category::meta(), PostEntity::meta()]
}

/// The Strata commands' view of the service (see [`Schema::project`]).
pub fn project(root: &Path) -> strata_cli::Project {
    SCHEMA.project(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_migration_set_pairs_up_across_databases() {
        let ids = |m: &[EmbeddedMigration]| m.iter().map(|m| m.id).collect::<Vec<_>>();
        assert_eq!(ids(POSTGRES_MIGRATIONS), ids(SQLITE_MIGRATIONS));
        assert!(!POSTGRES_MIGRATIONS.is_empty());
        assert!(POSTGRES_MIGRATIONS.iter().chain(SQLITE_MIGRATIONS).all(|m| m.down.is_some()));
    }

    #[test]
    fn the_initial_migration_names_keys_as_mikro_orm_does() {
        let up = POSTGRES_MIGRATIONS[0].up;
        for name in [
            "user_email_unique",
            "user_address_id_unique",
            "user_address_id_foreign",
            "post_entity_author_id_foreign",
            "post_entity_categories_pkey",
            "post_entity_categories_post_entity_id_foreign",
            "post_entity_categories_category_id_foreign",
        ] {
            assert!(up.contains(name), "{name} is missing from:\n{up}");
        }
    }

    /// Fails when an entity changed without a migration: `cargo run -p blog-api --
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
                 blog-api -- migration:create`",
                set.dir().display(),
                changes.summaries()
            );
        }
    }
}
