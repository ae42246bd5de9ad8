//! Whether a live database matches the entities: what `migration:check` reports, and what a
//! service checks at start-up after migrating, so that a schema the entities do not fit is
//! reported before requests fail on it.

use crate::diff::{Diff, diff};
use crate::introspect::{introspect, namespaces_for};
use crate::target::target_schema;
use strata_core::metadata::EntityMeta;
use strata_core::{DbKind, Result, Strata};

/// The changes that would make the database of `orm` what `entities` describe: empty when it
/// matches. Tables of the entities go to the ORM's configured schema when they name none.
///
/// # Errors
///
/// The database's error when reading its catalog fails.
pub async fn differences(orm: &Strata, entities: &[&'static EntityMeta]) -> Result<Diff> {
    let backend = orm.db_kind();
    let target = target_schema(entities, orm.default_schema());
    let namespaces = match backend {
        DbKind::Postgres => namespaces_for(&[&target], orm.default_schema()),
        DbKind::Sqlite => Vec::new(),
    };
    let mut conn = orm.driver().acquire().await?;
    let current = introspect(conn.as_mut(), backend, &namespaces).await?;
    Ok(diff(&current, &target))
}
