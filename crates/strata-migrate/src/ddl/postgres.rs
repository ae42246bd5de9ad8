//! PostgreSQL DDL, lowercase as MikroORM writes it: `create table "post_entity" ("id" serial
//! primary key, "title" varchar(255) not null)`.

use crate::diff::Change;
use crate::schema::{
    Check, Column, ForeignKey, ForeignKeyAction, Index, PrimaryKey, SqlType, Table, TableRef,
    Unique, constraint_name, quote_ident, quote_literal,
};

/// The statements of one change.
pub(super) fn render(change: &Change) -> Vec<String> {
    let alter = |t: &TableRef, rest: String| format!("alter table {t} {rest}");
    let drop_constraint =
        |t: &TableRef, name: &str| vec![alter(t, format!("drop constraint {}", quote_ident(name)))];
    match change {
        Change::CreateNamespace(n) => {
            vec![format!("create schema if not exists {}", quote_ident(n))]
        }
        Change::DropNamespace(n) => vec![format!("drop schema {}", quote_ident(n))],
        Change::CreateTable(t) => create_table(t),
        Change::DropTable(t) => vec![format!("drop table {}", t.table_ref())],
        Change::RenameTable { table, to } => {
            vec![alter(table, format!("rename to {}", quote_ident(to)))]
        }
        Change::RenameColumn { table, from, to } => vec![alter(
            table,
            format!("rename column {} to {}", quote_ident(from), quote_ident(to)),
        )],
        Change::RenameConstraint { table, from, to } => vec![alter(
            table,
            format!("rename constraint {} to {}", quote_ident(from), quote_ident(to)),
        )],
        Change::RenameIndex { table, from, to } => {
            vec![format!("alter index {} rename to {}", sibling(table, from), quote_ident(to))]
        }
        Change::RenameSequence { table, from, to } => {
            vec![format!("alter sequence {} rename to {}", sibling(table, from), quote_ident(to))]
        }
        Change::AddColumn { table, column } => {
            vec![alter(table, format!("add column {}", column_definition(column, false)))]
        }
        Change::DropColumn { table, column } => {
            vec![alter(table, format!("drop column {}", quote_ident(&column.name)))]
        }
        Change::AlterType { table, column, to, identity, .. } => {
            let c = quote_ident(column);
            let mut out = vec![alter(table, format!("alter column {c} type {to} using {c}::{to}"))];
            if *identity && to.is_integer() {
                let seq = sibling(table, &constraint_name(&table.name, Some(column), "seq"));
                out.push(format!("alter sequence {seq} as {to}"));
            }
            out
        }
        Change::AlterNullable { table, column, nullable } => {
            let what = if *nullable { "drop not null" } else { "set not null" };
            vec![alter(table, format!("alter column {} {what}", quote_ident(column)))]
        }
        Change::AlterDefault { table, column, to, .. } => {
            let what = to
                .as_ref()
                .map_or_else(|| "drop default".to_owned(), |d| format!("set default {d}"));
            vec![alter(table, format!("alter column {} {what}", quote_ident(column)))]
        }
        Change::AlterIdentity { table, column, ty, identity } => {
            alter_identity(table, column, ty, *identity)
        }
        Change::AddPrimaryKey { table, key } => vec![alter(table, add_primary_key(key))],
        Change::DropPrimaryKey { table, key } => drop_constraint(table, &key.name),
        Change::AddUnique { table, unique } => vec![alter(table, add_unique(unique))],
        Change::DropUnique { table, unique } => drop_constraint(table, &unique.name),
        Change::CreateIndex { table, index } => vec![create_index(table, index)],
        Change::DropIndex { table, index } => {
            vec![format!("drop index {}", sibling(table, &index.name))]
        }
        Change::AddCheck { table, check } => {
            vec![alter(table, format!("add {}", check_clause(check)))]
        }
        Change::DropCheck { table, check } => drop_constraint(table, &check.name),
        Change::AddForeignKey { table, key } => vec![alter(table, add_foreign_key(key))],
        Change::DropForeignKey { table, key } => drop_constraint(table, &key.name),
    }
}

/// An object in the same schema as `table` (an index, a sequence): `"blog"."name"`.
fn sibling(table: &TableRef, name: &str) -> TableRef {
    TableRef { namespace: table.namespace.clone(), name: name.to_owned() }
}

/// `create table` with the columns, the primary key and the checks, then the unique
/// constraints and indexes.
fn create_table(t: &Table) -> Vec<String> {
    let r = t.table_ref();
    // A one-column key named as PostgreSQL names it goes on the column (`"id" serial primary
    // key`); any other key is a named table constraint.
    let inline_pk = t.primary_key.as_ref().and_then(|pk| match pk.columns.as_slice() {
        [column] if pk.name == format!("{}_pkey", t.name) => Some(column.as_str()),
        _ => None,
    });
    let mut parts: Vec<String> = t
        .columns
        .iter()
        .map(|c| column_definition(c, inline_pk == Some(c.name.as_str())))
        .collect();
    if let (None, Some(pk)) = (inline_pk, &t.primary_key) {
        parts.push(add_primary_key(pk).trim_start_matches("add ").to_owned());
    }
    parts.extend(t.checks.iter().map(check_clause));
    let mut out = vec![format!("create table {r} ({})", parts.join(", "))];
    out.extend(t.uniques.iter().map(|u| format!("alter table {r} {}", add_unique(u))));
    out.extend(t.indexes.iter().map(|i| create_index(&r, i)));
    out
}

/// `"title" varchar(255) not null default 'x'`; identity columns are `serial` types.
fn column_definition(c: &Column, primary_key: bool) -> String {
    let mut out = quote_ident(&c.name);
    out.push(' ');
    match (&c.ty, c.identity) {
        (SqlType::SmallInt, true) => out.push_str("smallserial"),
        (SqlType::Integer, true) => out.push_str("serial"),
        (SqlType::BigInt, true) => out.push_str("bigserial"),
        (ty, _) => out.push_str(&ty.to_string()),
    }
    if primary_key {
        out.push_str(" primary key");
    } else if !c.nullable && !c.identity {
        out.push_str(" not null");
    } else if c.nullable && c.identity {
        // `serial` implies NOT NULL; a nullable identity column is written as declared.
        out.push_str(" null");
    }
    if let Some(d) = &c.default {
        out.push_str(" default ");
        out.push_str(d);
    }
    out
}

fn columns(cols: &[String]) -> String {
    cols.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
}

fn add_primary_key(pk: &PrimaryKey) -> String {
    format!("add constraint {} primary key ({})", quote_ident(&pk.name), columns(&pk.columns))
}

fn add_unique(u: &Unique) -> String {
    format!("add constraint {} unique ({})", quote_ident(&u.name), columns(&u.columns))
}

fn create_index(table: &TableRef, i: &Index) -> String {
    let unique = if i.unique { "unique " } else { "" };
    format!("create {unique}index {} on {table} ({})", quote_ident(&i.name), columns(&i.columns))
}

/// `constraint "post_status_check" check ("status" in ('draft', 'published'))`.
fn check_clause(c: &Check) -> String {
    let values = c.values.iter().map(|v| quote_literal(v)).collect::<Vec<_>>().join(", ");
    format!("constraint {} check ({} in ({values}))", quote_ident(&c.name), quote_ident(&c.column))
}

fn add_foreign_key(k: &ForeignKey) -> String {
    let target =
        TableRef { namespace: k.referenced_namespace.clone(), name: k.referenced_table.clone() };
    let mut out = format!(
        "add constraint {} foreign key ({}) references {target} ({})",
        quote_ident(&k.name),
        columns(&k.columns),
        columns(&k.referenced_columns)
    );
    for (what, action) in [("update", k.on_update), ("delete", k.on_delete)] {
        if action != ForeignKeyAction::NoAction {
            out.push_str(&format!(" on {what} {}", action.sql()));
        }
    }
    out
}

/// Turns a column into (or out of) a `serial` one: its own sequence `<table>_<column>_seq`,
/// owned by the column, starting after the largest value, as its default.
fn alter_identity(table: &TableRef, column: &str, ty: &SqlType, identity: bool) -> Vec<String> {
    let seq = sibling(table, &constraint_name(&table.name, Some(column), "seq"));
    let c = quote_ident(column);
    if !identity {
        return vec![
            format!("alter table {table} alter column {c} drop default"),
            format!("drop sequence {seq}"),
        ];
    }
    let seq_text = quote_literal(&seq.to_string());
    vec![
        format!("create sequence {seq} as {ty} owned by {table}.{c}"),
        format!("select setval({seq_text}, coalesce(max({c}), 0) + 1, false) from {table}"),
        format!("alter table {table} alter column {c} set default nextval({seq_text})"),
    ]
}
