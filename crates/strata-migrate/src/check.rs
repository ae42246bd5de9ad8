//! Whether a live database matches the entities: what `migration:check` reports, and what a
//! service checks at start-up after migrating, so that a schema the entities do not fit is
//! reported before requests fail on it.

use crate::diff::{Diff, diff};
use crate::introspect::{introspect, namespaces_for};
use crate::schema::Backend;
use crate::target::target_schema;
use strata_core::metadata::EntityMeta;
use strata_core::{Error, Orm, Result};

/// The changes that would make the database of `orm` what `entities` describe: empty when it
/// matches. Tables of the entities go to the ORM's configured schema when they name none.
///
/// # Errors
///
/// A usage error for a dialect without a schema engine; the database's error when reading its
/// catalog fails.
pub async fn differences(orm: &Orm, entities: &[&'static EntityMeta]) -> Result<Diff> {
    let name = orm.dialect().name();
    let backend = Backend::from_name(name)
        .ok_or_else(|| Error::usage(format!("the {name:?} dialect has no schema engine")))?;
    let target = target_schema(entities, orm.default_schema());
    let namespaces = match backend {
        Backend::Postgres => namespaces_for(&[&target], orm.default_schema()),
        Backend::Sqlite => Vec::new(),
    };
    let mut conn = orm.driver().acquire().await?;
    let current = introspect(conn.as_mut(), backend, &namespaces).await?;
    Ok(diff(&current, &target))
}
