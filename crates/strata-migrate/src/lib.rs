//! The schema engine of Strata: schema model, introspection, diff, DDL, migration files and the
//! migrator.
//!
//! - [`schema`]: the model (schemas, tables, columns, keys, indexes, foreign keys);
//!   [`target`]: the schema the entities want; [`introspect`]: the schema a live database has;
//!   [`snapshot`]: the committed `migrations/.snapshot.json`.
//! - [`diff`]: the changes from one schema to another; [`ddl`]: those changes as SQL, up and down.
//! - [`files`]: migration files on disk or embedded in the binary; [`migrator`]: applies and
//!   reverts them, recorded in the `strata_migrations` table.
//! - [`check`]: whether a live database matches the entities.

#![forbid(unsafe_code)]

pub mod check;
pub mod ddl;
pub mod diff;
pub mod files;
pub mod introspect;
pub mod migrator;
pub mod schema;
pub mod snapshot;
pub mod target;

pub use files::{EmbeddedMigration, Migration, MigrationSource};
pub use migrator::{DownTo, MigrationState, MigrationStatus, Migrator, Progress, UpTo};

#[doc(hidden)]
pub use strata_macros::embed_migrations as __embed_migrations;

/// Embeds the migration files of a directory in the binary, so a deployed binary migrates
/// without its source tree. The directory is relative to the `Cargo.toml` of the crate that
/// calls the macro; it expands to a `&'static [EmbeddedMigration]`.
///
/// ```ignore
/// static MIGRATIONS: &[strata_migrate::EmbeddedMigration] =
///     strata_migrate::embed_migrations!("migrations");
/// let migrator = Migrator::new(&orm, MigrationSource::Embedded(MIGRATIONS));
/// ```
///
/// Each file is included with `include_str!`, so editing a migration rebuilds the binary. A new
/// file is picked up at the next build of the crate; to rebuild as soon as one is added, give
/// the crate a `build.rs` that prints `cargo:rerun-if-changed=migrations`. A malformed file name
/// is a compile error that names the file.
#[macro_export]
macro_rules! embed_migrations {
    ($dir:literal $(,)?) => {
        $crate::__embed_migrations!($crate, $dir)
    };
}
