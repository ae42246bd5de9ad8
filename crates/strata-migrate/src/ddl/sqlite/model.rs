//! The schema as it is between two changes: the SQLite renderer applies each change to an
//! in-memory [`Schema`], so that a table rebuild knows the whole table, not only what changed.

use crate::diff::Change;
use crate::schema::{Schema, Table, TableRef};

/// The table `r` of `schema`.
pub(crate) fn table_mut<'a>(schema: &'a mut Schema, r: &TableRef) -> Option<&'a mut Table> {
    schema.tables.iter_mut().find(|t| t.namespace == r.namespace && t.name == r.name)
}

/// Applies `change` to `schema`. A change to a table the schema does not hold changes nothing
/// (the caller reports it).
pub(crate) fn apply(schema: &mut Schema, change: &Change) {
    use Change as C;
    match change {
        C::CreateNamespace(_) | C::DropNamespace(_) | C::RenameSequence { .. } => {}
        C::CreateTable(t) => schema.tables.push(t.clone()),
        C::DropTable(t) => {
            schema.tables.retain(|x| !(x.namespace == t.namespace && x.name == t.name));
        }
        C::RenameTable { table, to } => {
            for other in &mut schema.tables {
                for fk in &mut other.foreign_keys {
                    if fk.referenced_namespace == table.namespace
                        && fk.referenced_table == table.name
                    {
                        fk.referenced_table.clone_from(to);
                    }
                }
            }
            if let Some(t) = table_mut(schema, table) {
                t.name.clone_from(to);
            }
        }
        C::RenameColumn { table, from, to } => rename_column(schema, table, from, to),
        _ => {
            let Some(r) = table_of(change) else { return };
            if let Some(t) = table_mut(schema, r) {
                apply_to_table(t, change);
            }
        }
    }
}

/// The table a table-local change applies to.
pub(crate) fn table_of(change: &Change) -> Option<&TableRef> {
    use Change as C;
    match change {
        C::RenameConstraint { table, .. }
        | C::RenameIndex { table, .. }
        | C::AddColumn { table, .. }
        | C::DropColumn { table, .. }
        | C::AlterType { table, .. }
        | C::AlterNullable { table, .. }
        | C::AlterDefault { table, .. }
        | C::AlterIdentity { table, .. }
        | C::AddPrimaryKey { table, .. }
        | C::DropPrimaryKey { table, .. }
        | C::AddUnique { table, .. }
        | C::DropUnique { table, .. }
        | C::CreateIndex { table, .. }
        | C::DropIndex { table, .. }
        | C::AddCheck { table, .. }
        | C::DropCheck { table, .. }
        | C::AddForeignKey { table, .. }
        | C::DropForeignKey { table, .. } => Some(table),
        _ => None,
    }
}

fn apply_to_table(t: &mut Table, change: &Change) {
    use Change as C;
    match change {
        C::RenameConstraint { from, to, .. } => {
            let mut names: Vec<&mut String> = Vec::new();
            if let Some(pk) = &mut t.primary_key {
                names.push(&mut pk.name);
            }
            names.extend(t.uniques.iter_mut().map(|u| &mut u.name));
            names.extend(t.checks.iter_mut().map(|c| &mut c.name));
            names.extend(t.foreign_keys.iter_mut().map(|f| &mut f.name));
            for name in names.into_iter().filter(|n| **n == *from) {
                name.clone_from(to);
            }
        }
        C::RenameIndex { from, to, .. } => {
            t.indexes.iter_mut().filter(|i| i.name == *from).for_each(|i| i.name.clone_from(to));
        }
        C::AddColumn { column, .. } => t.columns.push(column.clone()),
        C::DropColumn { column, .. } => t.columns.retain(|c| c.name != column.name),
        C::AlterType { column, to, .. } => {
            t.columns.iter_mut().filter(|c| c.name == *column).for_each(|c| c.ty = to.clone());
        }
        C::AlterNullable { column, nullable, .. } => {
            t.columns.iter_mut().filter(|c| c.name == *column).for_each(|c| c.nullable = *nullable);
        }
        C::AlterDefault { column, to, .. } => {
            t.columns
                .iter_mut()
                .filter(|c| c.name == *column)
                .for_each(|c| c.default.clone_from(to));
        }
        C::AlterIdentity { column, identity, .. } => {
            t.columns.iter_mut().filter(|c| c.name == *column).for_each(|c| c.identity = *identity);
        }
        C::AddPrimaryKey { key, .. } => t.primary_key = Some(key.clone()),
        C::DropPrimaryKey { .. } => t.primary_key = None,
        C::AddUnique { unique, .. } => t.uniques.push(unique.clone()),
        C::DropUnique { unique, .. } => t.uniques.retain(|u| u.name != unique.name),
        C::CreateIndex { index, .. } => t.indexes.push(index.clone()),
        C::DropIndex { index, .. } => t.indexes.retain(|i| i.name != index.name),
        C::AddCheck { check, .. } => t.checks.push(check.clone()),
        C::DropCheck { check, .. } => t.checks.retain(|c| c.name != check.name),
        C::AddForeignKey { key, .. } => t.foreign_keys.push(key.clone()),
        C::DropForeignKey { key, .. } => t.foreign_keys.retain(|k| k.name != key.name),
        _ => {}
    }
}

/// A column renamed everywhere it is named: the table's keys, indexes and checks, and the
/// foreign keys of other tables that reference it.
fn rename_column(schema: &mut Schema, r: &TableRef, from: &str, to: &str) {
    let rename = |cols: &mut Vec<String>| {
        cols.iter_mut().filter(|c| *c == from).for_each(|c| *c = to.to_owned());
    };
    for other in &mut schema.tables {
        for fk in &mut other.foreign_keys {
            if fk.referenced_namespace == r.namespace && fk.referenced_table == r.name {
                rename(&mut fk.referenced_columns);
            }
        }
    }
    let Some(t) = table_mut(schema, r) else { return };
    t.columns.iter_mut().filter(|c| c.name == from).for_each(|c| c.name = to.to_owned());
    if let Some(pk) = &mut t.primary_key {
        rename(&mut pk.columns);
    }
    t.uniques.iter_mut().for_each(|u| rename(&mut u.columns));
    t.indexes.iter_mut().for_each(|i| rename(&mut i.columns));
    t.foreign_keys.iter_mut().for_each(|f| rename(&mut f.columns));
    t.checks.iter_mut().filter(|c| c.column == from).for_each(|c| c.column = to.to_owned());
}
