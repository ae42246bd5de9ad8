//! Whether a live database matches the entities: what `migration:check` reports, and what a
//! service checks at start-up after migrating, so that a schema the entities do not fit is
//! reported before requests fail on it.

use crate::diff::{Diff, diff};
use crate::introspect::{introspect, namespaces_for};
use crate::schema::Schema;
use crate::target::target_schema;
use std::collections::HashSet;
use strata_core::metadata::EntityMeta;
use strata_core::{DbKind, Result, Strata};

/// The changes that would make the database of `orm` what `entities` describe: empty when it
/// matches. Tables of the entities go to the ORM's configured schema when they name none.
/// Tables no entity maps count too (as tables to drop), as `migration:create` sees them.
///
/// # Errors
///
/// The database's error when reading its catalog fails.
pub async fn differences(orm: &Strata, entities: &[&'static EntityMeta]) -> Result<Diff> {
    let (current, target) = schemas(orm, entities).await?;
    Ok(diff(&current, &target))
}

/// What the tables of `entities` lack or have differently in the database of `orm`: empty when
/// every entity fits its table. Unlike [`differences`], tables no entity maps (another
/// service's, in a shared database) and schemas no entity uses are left out: they do not stop
/// the entities from working, so a service's readiness check uses this.
///
/// # Errors
///
/// The database's error when reading its catalog fails.
pub async fn entity_differences(orm: &Strata, entities: &[&'static EntityMeta]) -> Result<Diff> {
    let (mut current, target) = schemas(orm, entities).await?;
    keep_entity_tables(&mut current, &target);
    Ok(diff(&current, &target))
}

/// The database's schema as it is, and the entities' as they want it.
async fn schemas(orm: &Strata, entities: &[&'static EntityMeta]) -> Result<(Schema, Schema)> {
    let backend = orm.db_kind();
    let target = target_schema(entities, orm.default_schema());
    let namespaces = match backend {
        DbKind::Postgres => namespaces_for(&[&target], orm.default_schema()),
        DbKind::Sqlite => Vec::new(),
    };
    let mut conn = orm.driver().acquire().await?;
    let current = introspect(conn.as_mut(), backend, &namespaces).await?;
    Ok((current, target))
}

/// Leaves in `current` only the tables (and schemas) of `target`, by name or by the name a
/// table had before a declared rename.
fn keep_entity_tables(current: &mut Schema, target: &Schema) {
    let default = current.default_namespace.clone().unwrap_or_else(|| "public".to_owned());
    let unqualified = |ns: Option<&str>| ns.filter(|n| *n != default).map(str::to_owned);
    let wanted: HashSet<(Option<String>, &str)> = target
        .tables
        .iter()
        .flat_map(|t| {
            let ns = unqualified(t.namespace.as_deref());
            std::iter::once(t.name.as_str())
                .chain(t.renamed_from.as_deref())
                .map(move |name| (ns.clone(), name))
        })
        .collect();
    current
        .tables
        .retain(|t| wanted.contains(&(unqualified(t.namespace.as_deref()), t.name.as_str())));
    current.namespaces.retain(|n| target.namespaces.contains(n));
}
