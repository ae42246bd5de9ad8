//! SQLite DDL, lowercase like PostgreSQL's: `create table "post_entity" ("id" integer primary
//! key autoincrement, "title" varchar(255) not null, "content" varchar(255) not null)`.
//!
//! SQLite's `alter table` can add, rename and drop a column and rename a table; indexes are
//! created and dropped on their own (`types` has the type mapping). Everything else (a type,
//! nullability, default or identity change, a primary key, an enum check or a foreign key, or
//! dropping a column that a key uses) is done by rebuilding the table ([`rebuild`]), which needs
//! the whole table, not only what changed: the renderer applies every change to a copy of the
//! starting schema ([`model`]) as it goes. Consecutive changes of one table that need a
//! rebuild become one rebuild to the table's final definition.
//!
//! A unique constraint is a unique index (`create unique index "post_title_unique" …`): SQLite
//! keeps the name of an index, not of an inline `unique`, and the driver reports that name in
//! unique violations. SQLite has no schemas: a table in a non-default one is an error.

mod model;
mod rebuild;
pub(crate) mod types;

use crate::diff::Change;
use crate::schema::storage::storage_default;
use crate::schema::{Schema, Table, TableRef, constraint_name, quote_ident};
use rebuild::{create_index, create_table, create_unique, no_schemas};
use strata_core::{Error, Result};
use types::{addable_default, declared_type, default_clause};

/// The statements of `changes`, applied in order to `start` (the diff's starting schema, in
/// which the tables that are changed but not created by `changes` are found).
pub(crate) fn render(start: &Schema, changes: &[Change]) -> Result<Vec<String>> {
    let folded = fold_foreign_keys(start, changes);
    let changes = folded.as_slice();
    let mut cur = start.clone();
    let mut out = Vec::new();
    let mut i = 0;
    while i < changes.len() {
        let change = &changes[i];
        let Some(r) = model::table_of(change).cloned() else {
            out.extend(whole_table(change)?);
            model::apply(&mut cur, change);
            i += 1;
            continue;
        };
        // The run of consecutive changes of this table.
        let end = changes[i..]
            .iter()
            .position(|c| model::table_of(c) != Some(&r))
            .map_or(changes.len(), |n| i + n);
        let later_names: Vec<&str> = changes[end..]
            .iter()
            .filter_map(|c| match c {
                Change::RenameTable { table, to } if *table == r => Some(to.as_str()),
                _ => None,
            })
            .collect();
        out.extend(table_changes(&mut cur, &r, &changes[i..end], &later_names)?);
        i = end;
    }
    Ok(out)
}

/// SQLite declares foreign keys in `create table` only. A foreign key of a table the same
/// changes create goes into its `create table` (instead of a rebuild right after it); one of a
/// table they drop just goes with it. Tables that are dropped go children first, so that no
/// drop deletes rows other rows still refer to.
fn fold_foreign_keys(start: &Schema, changes: &[Change]) -> Vec<Change> {
    let created: Vec<TableRef> = changes
        .iter()
        .filter_map(|c| match c {
            Change::CreateTable(t) => Some(t.table_ref()),
            _ => None,
        })
        .collect();
    let dropped: Vec<TableRef> = changes
        .iter()
        .filter_map(|c| match c {
            Change::DropTable(t) => Some(t.table_ref()),
            _ => None,
        })
        .collect();
    let mut out: Vec<Change> = Vec::with_capacity(changes.len());
    for change in changes {
        match change {
            Change::AddForeignKey { table, key } if created.contains(table) => {
                for c in &mut out {
                    if let Change::CreateTable(t) = c
                        && t.table_ref() == *table
                    {
                        t.foreign_keys.push(key.clone());
                    }
                }
            }
            Change::DropForeignKey { table, .. } if dropped.contains(table) => {}
            other => out.push(other.clone()),
        }
    }
    // Children first: a dropped table that another dropped table refers to waits for it.
    let refers = |child: &TableRef, parent: &TableRef| {
        start.table(child.namespace.as_deref(), &child.name).is_some_and(|t| {
            t.foreign_keys.iter().any(|k| {
                k.referenced_table == parent.name && k.referenced_namespace == parent.namespace
            }) && child != parent
        })
    };
    let mut i = 0;
    while i < out.len() {
        let Change::DropTable(_) = &out[i] else {
            i += 1;
            continue;
        };
        let end = out[i..]
            .iter()
            .position(|c| !matches!(c, Change::DropTable(_)))
            .map_or(out.len(), |n| i + n);
        let mut run: Vec<Change> = out.drain(i..end).collect();
        let mut ordered = Vec::with_capacity(run.len());
        while !run.is_empty() {
            let next = run
                .iter()
                .position(|c| {
                    let Change::DropTable(t) = c else { return true };
                    !run.iter().any(|o| match o {
                        Change::DropTable(other) => refers(&other.table_ref(), &t.table_ref()),
                        _ => false,
                    })
                })
                .unwrap_or(0);
            ordered.push(run.remove(next));
        }
        let n = ordered.len();
        out.splice(i..i, ordered);
        i += n;
    }
    out
}

/// A change of a whole table (or of a schema).
fn whole_table(change: &Change) -> Result<Vec<String>> {
    Ok(match change {
        Change::CreateNamespace(n) | Change::DropNamespace(n) => {
            return Err(no_schemas(&TableRef { namespace: Some(n.clone()), name: "*".into() }));
        }
        Change::CreateTable(t) => create_table(t)?,
        Change::DropTable(t) => {
            check_default_schema(&t.table_ref())?;
            vec![format!("drop table {}", t.table_ref())]
        }
        Change::RenameTable { table, to } => {
            check_default_schema(table)?;
            vec![format!("alter table {table} rename to {}", quote_ident(to))]
        }
        Change::RenameColumn { table, from, to } => {
            check_default_schema(table)?;
            vec![format!(
                "alter table {table} rename column {} to {}",
                quote_ident(from),
                quote_ident(to)
            )]
        }
        // SQLite's sequence of an `autoincrement` key is keyed by the table's name, which the
        // table rename already changed.
        _ => Vec::new(),
    })
}

fn check_default_schema(r: &TableRef) -> Result<()> {
    if r.namespace.is_some() { Err(no_schemas(r)) } else { Ok(()) }
}

/// The statements of consecutive changes of the table `r`: each with `alter table` or an index
/// statement when all of them can be, else one rebuild. `later_names` are the names later
/// changes rename the table to.
fn table_changes(
    cur: &mut Schema,
    r: &TableRef,
    changes: &[Change],
    later_names: &[&str],
) -> Result<Vec<String>> {
    check_default_schema(r)?;
    let start = cur.clone();
    let before = start.table(r.namespace.as_deref(), &r.name);
    let mut direct_sql = Some(Vec::new());
    for change in changes {
        let table = model::table_mut(cur, r)
            .map_or_else(|| Table::new(r.namespace.clone(), r.name.clone()), |t| t.clone());
        if let (Some(sql), Some(statements)) =
            (direct_sql.as_mut(), direct(&table, change, later_names))
        {
            sql.extend(statements);
        } else {
            direct_sql = None;
        }
        model::apply(cur, change);
    }
    if let Some(sql) = direct_sql {
        return Ok(sql);
    }
    let (Some(before), Some(after)) = (before, model::table_mut(cur, r)) else {
        return Err(Error::usage(format!(
            "SQLite makes this change of {r} by rebuilding the table, which needs the table's \
             whole definition: render the diff with `ddl::render`, which knows the schema the \
             changes start from, rather than rendering the changes alone"
        )));
    };
    rebuild::rebuild(&start, before, after)
}

/// The statements of one change on `t` (the table just before it) without a rebuild, or
/// `None` when it needs one.
fn direct(t: &Table, change: &Change, later_names: &[&str]) -> Option<Vec<String>> {
    let r = t.table_ref();
    let drop_index = |name: &str| format!("drop index {}", quote_ident(name));
    let uses = |column: &str| {
        t.primary_key.as_ref().is_some_and(|k| k.columns.iter().any(|c| c == column))
            || t.foreign_keys.iter().any(|k| k.columns.iter().any(|c| c == column))
            || t.uniques.iter().any(|u| u.columns.iter().any(|c| c == column))
            || t.indexes.iter().any(|i| i.columns.iter().any(|c| c == column))
            || t.checks.iter().any(|k| k.column == column)
    };
    Some(match change {
        Change::AddColumn { column, .. } => {
            let default_ok = column.default.as_deref().is_none_or(addable_default);
            let null_ok = column.nullable || column.default.is_some();
            if column.identity || !default_ok || !null_ok {
                return None;
            }
            let mut def = format!("{} {}", quote_ident(&column.name), declared_type(&column.ty));
            if !column.nullable {
                def.push_str(" not null");
            }
            if let Some(d) = &column.default {
                def.push_str(" default ");
                def.push_str(&default_clause(d));
            }
            vec![format!("alter table {r} add column {def}")]
        }
        Change::DropColumn { column, .. } if !uses(&column.name) => {
            vec![format!("alter table {r} drop column {}", quote_ident(&column.name))]
        }
        // `int` → `bigint`, `uuid` → `text`: the same in SQLite.
        Change::AlterType { from, to, .. } if declared_type(from) == declared_type(to) => {
            Vec::new()
        }
        Change::AlterDefault { from, to, .. }
            if storage_default(from.as_deref()) == storage_default(to.as_deref()) =>
        {
            Vec::new()
        }
        Change::AddUnique { unique, .. } => vec![create_unique(&r, unique)],
        Change::DropUnique { unique, .. } if !unique.name.starts_with("sqlite_autoindex_") => {
            vec![drop_index(&unique.name)]
        }
        Change::CreateIndex { index, .. } => vec![create_index(&r, index)],
        Change::DropIndex { index, .. } => vec![drop_index(&index.name)],
        Change::RenameIndex { from, to, .. } => {
            let index = t.indexes.iter().find(|i| i.name == *from)?;
            let renamed = crate::schema::Index { name: to.clone(), ..index.clone() };
            vec![drop_index(from), create_index(&r, &renamed)]
        }
        Change::RenameConstraint { from, to, .. } => {
            if let Some(u) = t.uniques.iter().find(|u| u.name == *from) {
                let renamed = crate::schema::Unique { name: to.clone(), ..u.clone() };
                return Some(vec![drop_index(from), create_unique(&r, &renamed)]);
            }
            // A primary key with the default name has no name in SQLite: the name follows
            // the table's, now or after a rename that comes later.
            let is_pk = t.primary_key.as_ref().is_some_and(|k| k.name == *from);
            let follows_table = std::iter::once(t.name.as_str())
                .chain(later_names.iter().copied())
                .any(|name| *to == constraint_name(name, None, "pkey"));
            return (is_pk && follows_table).then(Vec::new);
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
