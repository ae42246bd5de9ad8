//! The schema engine of Strata: schema model, introspection, diff, DDL, migration files and the
//! migrator.
//!
//! - [`schema`]: the model (schemas, tables, columns, keys, indexes, foreign keys);
//!   [`target`]: the schema the entities want; [`introspect`]: the schema a live database has;
//!   [`snapshot`]: the committed `migrations/.snapshot.json`.
//! - [`diff`]: the changes from one schema to another; [`ddl`]: those changes as SQL, up and down.
//! - [`files`]: migration files on disk or embedded in the binary; [`migrator`]: applies and
//!   reverts them, recorded in the `strata_migrations` table.

#![forbid(unsafe_code)]

pub mod ddl;
pub mod diff;
pub mod files;
pub mod introspect;
pub mod migrator;
pub mod schema;
pub mod snapshot;
pub mod target;
