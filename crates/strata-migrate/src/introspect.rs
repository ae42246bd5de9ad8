//! Introspection: the [`Schema`] a live database has, read from its catalog.
//!
//! `migration:create` diffs it against the entities when there is no snapshot, and
//! `migration:check` uses it to tell whether the database matches the code. It runs through the
//! driver-agnostic [`Connection`], so any driver works; what is read depends on the
//! [`DbKind`] (`pg_catalog` for PostgreSQL in `introspect/postgres.rs`; `sqlite_master` and
//! the pragma functions for SQLite in `introspect/sqlite.rs`). The migrations' own tracking
//! table `strata_migrations` is never reported.

mod postgres;
mod sqlite;

use crate::schema::Schema;
use strata_core::driver::Connection;
use strata_core::{DbKind, Result};

/// The name of the migrator's tracking table, which introspection leaves out.
pub const TRACKING_TABLE: &str = "strata_migrations";

/// The database schemas to introspect for a diff towards `schemas` (the target, and the
/// snapshot when there is one): every namespace they use, and the default schema
/// (`default_schema`, or `public` when none is configured).
///
/// Reading the namespaces of the snapshot too means a schema whose last entity was removed is
/// still read, so its tables are dropped.
///
/// # Examples
///
/// ```
/// use strata_migrate::introspect::namespaces_for;
/// use strata_migrate::schema::Schema;
///
/// let target = Schema { namespaces: vec!["blog".into()], ..Schema::default() };
/// assert_eq!(namespaces_for(&[&target], None), ["blog", "public"]);
/// ```
pub fn namespaces_for(schemas: &[&Schema], default_schema: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = schemas.iter().flat_map(|s| s.namespaces.iter().cloned()).collect();
    out.push(default_schema.unwrap_or("public").to_owned());
    out.sort();
    out.dedup();
    out
}

/// Reads the tables of the database schemas `namespaces` (`["public"]`, `["blog", "public"]`;
/// empty: the connection's current schema); [`namespaces_for`] says which to read.
///
/// The returned schema's [`default_namespace`](Schema::default_namespace) is the connection's
/// current schema (`current_schema()`), whose tables are reported with `namespace: None`; every
/// other namespace that exists is listed in [`Schema::namespaces`]. Only what the model
/// describes is read: simple-column indexes (expression and partial indexes are left out),
/// and of the CHECK constraints only the enum checks (`"col" in ('a', 'b')`).
///
/// # Errors
///
/// The database's error when a catalog query fails.
///
/// On SQLite, `namespaces` is ignored (SQLite has no schemas): the tables of the main
/// database are read, and the returned schema's [`backend`](Schema::backend) is
/// `Some(DbKind::Sqlite)`, so that comparisons with it use SQLite's storage types.
pub async fn introspect(
    conn: &mut dyn Connection,
    backend: DbKind,
    namespaces: &[String],
) -> Result<Schema> {
    match backend {
        DbKind::Postgres => postgres::introspect(conn, namespaces).await,
        DbKind::Sqlite => sqlite::introspect(conn).await,
    }
}
