//! `create table` for SQLite, and the table rebuild that makes every change SQLite cannot
//! `alter`.
//!
//! The rebuild follows SQLite's procedure for "other kinds of table schema changes"
//! (<https://www.sqlite.org/lang_altertable.html#otheralter>), adapted so that it runs inside
//! the migration's transaction with foreign keys on:
//!
//! ```sql
//! pragma defer_foreign_keys = on;
//! create table "_strata_old_post" as select * from "post";
//! drop table "post";
//! create table "post" (…the new definition…);
//! insert into "post" ("id", "title") select "id", cast("title" as varchar(100)) from "_strata_old_post";
//! drop table "_strata_old_post";
//! create index …;   -- the table's indexes and unique indexes
//! ```
//!
//! `pragma foreign_keys = off` is what SQLite's procedure starts with, but it does nothing
//! inside a transaction. Deferring the checks to the commit instead is enough when no table is
//! renamed: rows of other tables that reference the dropped table count as violations until
//! the same keys are inserted into the new table under the old name, which is why the data
//! goes through a holding table rather than into a new table renamed afterwards (a rename
//! would also rewrite the foreign keys of referencing tables to the holding name). A table
//! that other tables reference with an `on delete` action (`cascade`, `set null`,
//! `set default`, `restrict`) is refused: dropping it would run the action.

use super::types::{declared_type, default_clause, is_integer};
use crate::schema::{
    Column, ForeignKey, ForeignKeyAction, Index, Schema, Table, TableRef, Unique, constraint_name,
    quote_ident, quote_literal,
};
use strata_core::{Error, Result};

/// The name of the holding table of a rebuild.
fn holding(table: &str) -> String {
    format!("_strata_old_{table}")
}

/// The statements that turn `before` into `after` (the same table, by name), keeping the rows
/// of the columns both have. `schema` is the whole schema before, to find references.
pub(crate) fn rebuild(schema: &Schema, before: &Table, after: &Table) -> Result<Vec<String>> {
    refuse_referenced_with_actions(schema, before)?;
    let r = after.table_ref();
    let old = quote_ident(&holding(&before.name));
    let mut out = vec![
        "pragma defer_foreign_keys = on".to_owned(),
        format!("create table {old} as select * from {r}"),
        format!("drop table {r}"),
    ];
    out.extend(create_table(after)?);
    let (mut targets, mut sources) = (Vec::new(), Vec::new());
    for c in &after.columns {
        let Some(was) = before.column(&c.name) else { continue };
        let name = quote_ident(&c.name);
        let declared = declared_type(&c.ty);
        let source = if declared_type(&was.ty) == declared {
            name.clone()
        } else {
            format!("cast({name} as {declared})")
        };
        targets.push(name);
        sources.push(source);
    }
    if !targets.is_empty() {
        out.push(format!(
            "insert into {r} ({}) select {} from {old}",
            targets.join(", "),
            sources.join(", ")
        ));
    }
    out.push(format!("drop table {old}"));
    Ok(out)
}

/// A rebuild drops the table, which deletes its rows first: with foreign keys on, that runs
/// the `on delete` action of every key that references it.
fn refuse_referenced_with_actions(schema: &Schema, table: &Table) -> Result<()> {
    for other in &schema.tables {
        for fk in &other.foreign_keys {
            let references =
                fk.referenced_namespace == table.namespace && fk.referenced_table == table.name;
            if references && fk.on_delete != ForeignKeyAction::NoAction {
                return Err(Error::usage(format!(
                    "SQLite cannot change the table {} in a migration: it would be rebuilt \
                     (dropped and created again), and the foreign key {} of {} would run its \
                     `on delete {}` action on the way. Write this migration by hand: run \
                     `pragma foreign_keys = off` before it, outside its transaction",
                    table.table_ref(),
                    quote_ident(&fk.name),
                    other.table_ref(),
                    fk.on_delete.sql()
                )));
            }
        }
    }
    Ok(())
}

/// `create table` with the columns, the primary key, the checks and the foreign keys, then
/// the unique indexes and the indexes.
pub(crate) fn create_table(t: &Table) -> Result<Vec<String>> {
    if t.namespace.is_some() {
        return Err(no_schemas(&t.table_ref()));
    }
    let r = t.table_ref();
    let pk_columns: &[String] = t.primary_key.as_ref().map_or(&[], |pk| &pk.columns);
    let default_pk_name = constraint_name(&t.name, None, "pkey");
    let identity_pk = t.columns.iter().any(|c| c.identity);
    // A one-column key goes on the column when it has the name introspection gives it, or
    // when it is an identity column (SQLite's `integer primary key` is a column constraint).
    let inline_pk = match (pk_columns, &t.primary_key) {
        ([column], Some(pk)) if pk.name == default_pk_name || identity_pk => {
            Some((column.as_str(), (pk.name != default_pk_name).then_some(pk.name.as_str())))
        }
        _ => None,
    };
    for c in t.columns.iter().filter(|c| c.identity) {
        if pk_columns != [c.name.clone()] || !is_integer(&c.ty) {
            return Err(Error::usage(format!(
                "SQLite generates values only for a one-column integer primary key, but {}.{} \
                 is an identity column {}: make it the table's only primary key column, or \
                 assign its values in the application",
                r,
                quote_ident(&c.name),
                if is_integer(&c.ty) { "outside the primary key" } else { "of a non-integer type" }
            )));
        }
    }
    let sole_pk = match pk_columns {
        [column] => Some(column.as_str()),
        _ => None,
    };
    let mut parts: Vec<String> = t
        .columns
        .iter()
        .map(|c| column_definition(c, sole_pk == Some(c.name.as_str()), inline_pk))
        .collect();
    if let (None, Some(pk)) = (inline_pk, &t.primary_key) {
        parts.push(format!(
            "constraint {} primary key ({})",
            quote_ident(&pk.name),
            columns(&pk.columns)
        ));
    }
    parts.extend(t.checks.iter().map(|c| {
        let values = c.values.iter().map(|v| quote_literal(v)).collect::<Vec<_>>().join(", ");
        format!(
            "constraint {} check ({} in ({values}))",
            quote_ident(&c.name),
            quote_ident(&c.column)
        )
    }));
    for fk in &t.foreign_keys {
        parts.push(foreign_key(fk)?);
    }
    let mut out = vec![format!("create table {r} ({})", parts.join(", "))];
    out.extend(t.uniques.iter().map(|u| create_unique(&r, u)));
    out.extend(t.indexes.iter().map(|i| create_index(&r, i)));
    Ok(out)
}

/// `"title" varchar(255) not null default 'x'`. An identity column is SQLite's
/// `integer primary key autoincrement` (an alias of the rowid, never reusing a key); another
/// integer column that is the only key column is declared `int`, because an `integer` one
/// would become a rowid alias that SQLite fills in by itself. `inline_pk` is the column that
/// carries the primary key, with the key's name when it is not the default one.
fn column_definition(c: &Column, sole_pk: bool, inline_pk: Option<(&str, Option<&str>)>) -> String {
    let mut out = quote_ident(&c.name);
    let key = inline_pk.filter(|(column, _)| *column == c.name).map(|(_, name)| {
        let named = name.map(|n| format!(" constraint {}", quote_ident(n))).unwrap_or_default();
        format!("{named} primary key")
    });
    if c.identity {
        out.push_str(" integer");
        out.push_str(&key.unwrap_or_default());
        out.push_str(" autoincrement");
    } else {
        if sole_pk && is_integer(&c.ty) {
            out.push_str(" int");
        } else {
            out.push(' ');
            out.push_str(&declared_type(&c.ty));
        }
        if !c.nullable {
            out.push_str(" not null");
        }
        out.push_str(&key.unwrap_or_default());
    }
    if let Some(d) = &c.default {
        out.push_str(" default ");
        out.push_str(&default_clause(d));
    }
    out
}

fn columns(cols: &[String]) -> String {
    cols.iter().map(|c| quote_ident(c)).collect::<Vec<_>>().join(", ")
}

/// A unique constraint, as a unique index: SQLite keeps the name of an index, not of an
/// inline `unique`, and reports it in unique violations.
pub(crate) fn create_unique(table: &TableRef, u: &Unique) -> String {
    format!("create unique index {} on {table} ({})", quote_ident(&u.name), columns(&u.columns))
}

pub(crate) fn create_index(table: &TableRef, i: &Index) -> String {
    let unique = if i.unique { "unique " } else { "" };
    format!("create {unique}index {} on {table} ({})", quote_ident(&i.name), columns(&i.columns))
}

fn foreign_key(k: &ForeignKey) -> Result<String> {
    if k.referenced_namespace.is_some() {
        return Err(no_schemas(&TableRef {
            namespace: k.referenced_namespace.clone(),
            name: k.referenced_table.clone(),
        }));
    }
    let mut out = format!(
        "constraint {} foreign key ({}) references {} ({})",
        quote_ident(&k.name),
        columns(&k.columns),
        quote_ident(&k.referenced_table),
        columns(&k.referenced_columns)
    );
    for (what, action) in [("update", k.on_update), ("delete", k.on_delete)] {
        if action != ForeignKeyAction::NoAction {
            out.push_str(&format!(" on {what} {}", action.sql()));
        }
    }
    Ok(out)
}

/// The error for anything in a database schema other than the default one.
pub(crate) fn no_schemas(r: &TableRef) -> Error {
    Error::usage(format!(
        "SQLite has no schemas (namespaces), so {r} cannot be created: remove \
         `#[strata(schema = …)]` from the entity, or leave `default_schema` unset, when the \
         database is SQLite"
    ))
}
