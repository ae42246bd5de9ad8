//! The diff: the ordered [`Change`]s that turn one [`Schema`] into another.
//!
//! Used by migration creation (database or snapshot → entities) and by `migration:check`.
//! [`ddl`](crate::ddl) renders the changes as SQL; the down migration is
//! [`Diff::reverse`]: the inverse of every change, in reverse order.
//!
//! Tables and columns are matched by name. A target table or column that declares
//! `renamed_from` is matched with the old name when the new one does not exist yet and the old
//! one does, giving a rename (and renames of the constraints, indexes and sequences named after
//! it) instead of a drop and an add. Nothing else is guessed.
//!
//! The order of the steps is one that PostgreSQL accepts: new schemas; renames; foreign keys
//! dropped; per table, constraints and indexes dropped, columns dropped, added and altered,
//! constraints and indexes added; new tables; dropped tables; foreign keys added; schemas dropped.

mod change;

pub use change::Change;

use crate::schema::{Column, Schema, Table, TableRef, constraint_name};
use strata_core::DbKind;

/// The changes from one schema to another, in the order they apply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// The changes, in order.
    pub changes: Vec<Change>,
    /// The schema the changes start from, in the canonical form the diff compared. Renderers
    /// that rewrite a whole table for one change (SQLite's table rebuild) read the parts of
    /// the table that did not change from it.
    pub from: Schema,
    /// The schema the changes lead to, in the same form.
    pub to: Schema,
}

impl Diff {
    /// The columns these changes add NOT NULL, without a default, to tables that exist: the
    /// migration fails on a table that has rows (as the article's `author_id` migration would).
    /// As `table.column`.
    pub fn not_null_without_default(&self) -> Vec<String> {
        self.changes
            .iter()
            .filter_map(|c| match c {
                Change::AddColumn { table, column }
                    if !column.nullable && column.default.is_none() && !column.identity =>
                {
                    Some(format!("{}.{}", table.name, column.name))
                }
                _ => None,
            })
            .collect()
    }

    /// True when the schemas are the same.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes that lose data (see [`Change::is_destructive`]).
    pub fn destructive(&self) -> Vec<&Change> {
        self.changes.iter().filter(|c| c.is_destructive()).collect()
    }

    /// The diff that undoes this one: each change's inverse, last change first.
    pub fn reverse(&self) -> Diff {
        Diff {
            changes: self.changes.iter().rev().map(Change::inverse).collect(),
            from: self.to.clone(),
            to: self.from.clone(),
        }
    }

    /// One line per change, as [`Change::summary`] writes it.
    pub fn summaries(&self) -> Vec<String> {
        self.changes.iter().map(Change::summary).collect()
    }

    /// One line per change that means something on `backend`: SQLite has no sequences (an
    /// identity key's counter belongs to its table), so renames of identity sequences are left
    /// out there.
    pub fn summaries_for(&self, backend: DbKind) -> Vec<String> {
        self.changes
            .iter()
            .filter(|c| !(backend == DbKind::Sqlite && matches!(c, Change::RenameSequence { .. })))
            .map(Change::summary)
            .collect()
    }
}

/// The changes that turn `from` into `to`.
///
/// # Examples
///
/// ```
/// use strata_migrate::diff::diff;
/// use strata_migrate::schema::{Column, Schema, SqlType, Table};
///
/// let mut to = Schema::default();
/// let mut post = Table::new(None, "post");
/// post.columns.push(Column::new("title", SqlType::Varchar(255)));
/// to.tables.push(post);
///
/// let d = diff(&Schema::default(), &to);
/// assert_eq!(d.summaries(), ["create table \"post\""]);
/// assert!(diff(&to, &to).is_empty());
/// ```
pub fn diff(from: &Schema, to: &Schema) -> Diff {
    let (default, backend) = (Schema::shared_default(from, to), Schema::shared_backend(from, to));
    let mut cur = from.comparable(default, backend);
    let to = to.comparable(default, backend);
    let start = cur.clone();
    let mut plan = Plan::default();

    for ns in to.namespaces.iter().filter(|n| !cur.namespaces.contains(n)) {
        plan.create_namespaces.push(Change::CreateNamespace(ns.clone()));
    }
    rename_tables(&mut cur, &to, &mut plan.renames);
    for t in &to.tables {
        if let Some(i) = position(&cur, &t.table_ref()) {
            rename_columns(&mut cur, i, t, &mut plan.renames);
        }
    }

    for t in &to.tables {
        match cur.table(t.namespace.as_deref(), &t.name) {
            Some(f) => diff_table(f, t, &mut plan),
            None => {
                let (table, fks) = without_foreign_keys(t);
                plan.create_tables.push(Change::CreateTable(table));
                plan.add_fks.extend(fks);
            }
        }
    }
    for f in &cur.tables {
        if to.table(f.namespace.as_deref(), &f.name).is_none() {
            let (table, fks) = without_foreign_keys(f);
            plan.drop_fks.extend(fks.into_iter().map(|c| c.inverse()));
            plan.drop_tables.push(Change::DropTable(table));
        }
    }
    for ns in cur.namespaces.iter().filter(|n| !to.namespaces.contains(n)) {
        plan.drop_namespaces.push(Change::DropNamespace(ns.clone()));
    }
    let mut out = plan.finish();
    (out.from, out.to) = (start, to);
    out
}

/// The changes by phase, concatenated in [`Plan::finish`].
#[derive(Default)]
struct Plan {
    create_namespaces: Vec<Change>,
    renames: Vec<Change>,
    drop_fks: Vec<Change>,
    tables: Vec<Change>,
    create_tables: Vec<Change>,
    drop_tables: Vec<Change>,
    add_fks: Vec<Change>,
    drop_namespaces: Vec<Change>,
}

impl Plan {
    fn finish(self) -> Diff {
        let mut changes = self.create_namespaces;
        for part in [
            self.renames,
            self.drop_fks,
            self.tables,
            self.create_tables,
            self.drop_tables,
            self.add_fks,
            self.drop_namespaces,
        ] {
            changes.extend(part);
        }
        Diff { changes, ..Diff::default() }
    }
}

fn position(schema: &Schema, r: &TableRef) -> Option<usize> {
    schema.tables.iter().position(|t| t.namespace == r.namespace && t.name == r.name)
}

/// `t` without its foreign keys, and one `AddForeignKey` per key.
fn without_foreign_keys(t: &Table) -> (Table, Vec<Change>) {
    let mut table = t.clone();
    let fks = std::mem::take(&mut table.foreign_keys)
        .into_iter()
        .map(|key| Change::AddForeignKey { table: t.table_ref(), key })
        .collect();
    (table, fks)
}

/// Declared table renames: applies them to `cur` and records the steps.
fn rename_tables(cur: &mut Schema, to: &Schema, out: &mut Vec<Change>) {
    for t in &to.tables {
        let Some(old) = &t.renamed_from else { continue };
        let old_ref = TableRef { namespace: t.namespace.clone(), name: old.clone() };
        if position(cur, &t.table_ref()).is_some()
            || to.table(t.namespace.as_deref(), old).is_some()
        {
            continue;
        }
        let Some(i) = position(cur, &old_ref) else { continue };
        out.push(Change::RenameTable { table: old_ref.clone(), to: t.name.clone() });
        let table = &mut cur.tables[i];
        table.name = t.name.clone();
        let new_ref = table.table_ref();
        let renamed = |name: &str| {
            name.strip_prefix(old.as_str()).filter(|rest| rest.starts_with('_')).map(|rest| {
                crate::schema::normalize::truncate_identifier(&format!("{}{rest}", t.name))
            })
        };
        // Identity sequences are named as `serial` names them: `<table>_<column>_seq`.
        let sequences = table
            .columns
            .iter()
            .filter(|c| c.identity)
            .map(|c| constraint_name(old, Some(&c.name), "seq"))
            .collect();
        rename_objects(table, &new_ref, renamed, sequences, out);
        for other in &mut cur.tables {
            for fk in &mut other.foreign_keys {
                if fk.referenced_namespace == old_ref.namespace && fk.referenced_table == *old {
                    fk.referenced_table = t.name.clone();
                }
            }
        }
    }
}

/// Renames the constraints and indexes of `table`, and the identity `sequences` (their names
/// before the rename), for which `renamed` gives a new name.
fn rename_objects(
    table: &mut Table,
    r: &TableRef,
    renamed: impl Fn(&str) -> Option<String>,
    sequences: Vec<String>,
    out: &mut Vec<Change>,
) {
    let mut constraint = |name: &mut String| {
        if let Some(new) = renamed(name) {
            out.push(Change::RenameConstraint {
                table: r.clone(),
                from: name.clone(),
                to: new.clone(),
            });
            *name = new;
        }
    };
    if let Some(pk) = &mut table.primary_key {
        constraint(&mut pk.name);
    }
    table.uniques.iter_mut().for_each(|u| constraint(&mut u.name));
    table.checks.iter_mut().for_each(|c| constraint(&mut c.name));
    table.foreign_keys.iter_mut().for_each(|f| constraint(&mut f.name));
    for index in &mut table.indexes {
        if let Some(new) = renamed(&index.name) {
            out.push(Change::RenameIndex {
                table: r.clone(),
                from: index.name.clone(),
                to: new.clone(),
            });
            index.name = new;
        }
    }
    for old in sequences {
        if let Some(new) = renamed(&old) {
            out.push(Change::RenameSequence { table: r.clone(), from: old, to: new });
        }
    }
}

/// Declared column renames of the table at `cur.tables[i]`, towards `t`.
fn rename_columns(cur: &mut Schema, i: usize, t: &Table, out: &mut Vec<Change>) {
    for c in &t.columns {
        let Some(old) = &c.renamed_from else { continue };
        let f = &cur.tables[i];
        if f.column(&c.name).is_some() || f.column(old).is_none() || t.column(old).is_some() {
            continue;
        }
        let r = f.table_ref();
        out.push(Change::RenameColumn { table: r.clone(), from: old.clone(), to: c.name.clone() });
        let table = &mut cur.tables[i];
        let rename = |cols: &mut Vec<String>| {
            cols.iter_mut().filter(|n| *n == old).for_each(|n| n.clone_from(&c.name));
        };
        for col in table.columns.iter_mut().filter(|col| col.name == *old) {
            col.name.clone_from(&c.name);
        }
        if let Some(pk) = &mut table.primary_key {
            rename(&mut pk.columns);
        }
        table.uniques.iter_mut().for_each(|u| rename(&mut u.columns));
        table.indexes.iter_mut().for_each(|x| rename(&mut x.columns));
        table.foreign_keys.iter_mut().for_each(|f| rename(&mut f.columns));
        table
            .checks
            .iter_mut()
            .filter(|k| k.column == *old)
            .for_each(|k| k.column.clone_from(&c.name));
        let table_name = table.name.clone();
        let sequences = if table.column(&c.name).is_some_and(|x| x.identity) {
            vec![constraint_name(&table_name, Some(old), "seq")]
        } else {
            Vec::new()
        };
        let renamed = |name: &str| {
            ["unique", "index", "check", "foreign", "seq"].iter().find_map(|suffix| {
                (name == constraint_name(&table_name, Some(old), suffix))
                    .then(|| constraint_name(&table_name, Some(&c.name), suffix))
            })
        };
        rename_objects(table, &r, renamed, sequences, out);
        for other in &mut cur.tables {
            for fk in &mut other.foreign_keys {
                if fk.referenced_namespace == r.namespace && fk.referenced_table == r.name {
                    rename(&mut fk.referenced_columns);
                }
            }
        }
    }
}

/// The changes within one table that exists on both sides (after renames).
fn diff_table(f: &Table, t: &Table, plan: &mut Plan) {
    let r = t.table_ref();
    let out = &mut plan.tables;

    for fk in f.foreign_keys.iter().filter(|k| !t.foreign_keys.contains(k)) {
        plan.drop_fks.push(Change::DropForeignKey { table: r.clone(), key: fk.clone() });
    }
    for fk in t.foreign_keys.iter().filter(|k| !f.foreign_keys.contains(k)) {
        plan.add_fks.push(Change::AddForeignKey { table: r.clone(), key: fk.clone() });
    }
    for check in f.checks.iter().filter(|k| !t.checks.contains(k)) {
        out.push(Change::DropCheck { table: r.clone(), check: check.clone() });
    }
    for index in f.indexes.iter().filter(|k| !t.indexes.contains(k)) {
        out.push(Change::DropIndex { table: r.clone(), index: index.clone() });
    }
    for unique in f.uniques.iter().filter(|k| !t.uniques.contains(k)) {
        out.push(Change::DropUnique { table: r.clone(), unique: unique.clone() });
    }
    let pk_changed = f.primary_key != t.primary_key;
    if let (true, Some(key)) = (pk_changed, &f.primary_key) {
        out.push(Change::DropPrimaryKey { table: r.clone(), key: key.clone() });
    }
    for c in f.columns.iter().filter(|c| t.column(&c.name).is_none()) {
        out.push(Change::DropColumn { table: r.clone(), column: c.clone() });
    }
    for c in &t.columns {
        match f.column(&c.name) {
            None => {
                let mut column = c.clone();
                column.renamed_from = None;
                out.push(Change::AddColumn { table: r.clone(), column });
            }
            Some(old) => diff_column(&r, old, c, out),
        }
    }
    if let (true, Some(key)) = (pk_changed, &t.primary_key) {
        out.push(Change::AddPrimaryKey { table: r.clone(), key: key.clone() });
    }
    for unique in t.uniques.iter().filter(|k| !f.uniques.contains(k)) {
        out.push(Change::AddUnique { table: r.clone(), unique: unique.clone() });
    }
    for index in t.indexes.iter().filter(|k| !f.indexes.contains(k)) {
        out.push(Change::CreateIndex { table: r.clone(), index: index.clone() });
    }
    for check in t.checks.iter().filter(|k| !f.checks.contains(k)) {
        out.push(Change::AddCheck { table: r.clone(), check: check.clone() });
    }
}

/// The changes of one column, in an order whose reverse is also valid: identity off, type,
/// default, identity on, nullability.
fn diff_column(r: &TableRef, f: &Column, t: &Column, out: &mut Vec<Change>) {
    let column = t.name.clone();
    let identity = |ty: &crate::schema::SqlType, identity| Change::AlterIdentity {
        table: r.clone(),
        column: column.clone(),
        ty: ty.clone(),
        identity,
    };
    if f.identity && !t.identity {
        out.push(identity(&f.ty, false));
    }
    if f.ty != t.ty {
        out.push(Change::AlterType {
            table: r.clone(),
            column: column.clone(),
            from: f.ty.clone(),
            to: t.ty.clone(),
            identity: f.identity && t.identity,
        });
    }
    if f.default != t.default {
        out.push(Change::AlterDefault {
            table: r.clone(),
            column: column.clone(),
            from: f.default.clone(),
            to: t.default.clone(),
        });
    }
    if !f.identity && t.identity {
        out.push(identity(&t.ty, true));
    }
    if f.nullable != t.nullable {
        out.push(Change::AlterNullable { table: r.clone(), column, nullable: t.nullable });
    }
}

#[cfg(test)]
mod tests;
