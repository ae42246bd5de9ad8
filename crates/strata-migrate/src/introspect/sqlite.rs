//! SQLite introspection: three queries joining `sqlite_master` with the pragma functions
//! (`pragma_table_info`, `pragma_index_list` + `pragma_index_info`, `pragma_foreign_key_list`),
//! plus the `create table` text SQLite keeps, for what the pragmas do not say (`parse`).
//!
//! SQLite keeps no names for a primary key, an inline `unique` or an unnamed check or foreign
//! key: those get the names Strata gives them (`<table>_pkey`, `<table>_<col>_check`,
//! `<table>_<col>_foreign`), or the `constraint` name written in the `create table`. An inline
//! unique without a name keeps the name of its automatic index (`sqlite_autoindex_post_1`).
//! A one-column `integer` primary key of a rowid table is an alias of the rowid, which SQLite
//! fills in: it reads as an identity column, with or without `autoincrement`.

mod parse;

use super::TRACKING_TABLE;
use crate::schema::storage::read_default;
use crate::schema::{
    Check, Column, ForeignKey, ForeignKeyAction, Index, PrimaryKey, Schema, SqlType, Table, Unique,
    constraint_name,
};
use std::collections::BTreeMap;
use strata_core::driver::{Connection, Param, Statement, StatementKind};
use strata_core::{DbKind, Result, Value};

/// The tables to read, joined as `m`: not SQLite's own (`sqlite_%`) nor the tracking table
/// (`?1`).
const TABLE_FILTER: &str =
    "m.type = 'table' and m.name not like 'sqlite\\_%' escape '\\' and m.name <> ?1";

pub(super) async fn introspect(conn: &mut dyn Connection) -> Result<Schema> {
    let mut tables: BTreeMap<String, (Table, parse::CreateTable)> = BTreeMap::new();
    let sql = format!("select m.name, m.sql from sqlite_master m where {TABLE_FILTER}");
    for row in query(conn, &sql).await? {
        let name = text(&row, 0);
        let parsed = parse::create_table(&text(&row, 1));
        tables.insert(name.clone(), (Table::new(None, name), parsed));
    }

    let sql = format!(
        "select m.name, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk \
         from sqlite_master m join pragma_table_info(m.name) p \
         where {TABLE_FILTER} order by m.name, p.cid"
    );
    let mut keys: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    // The declared type of each key column, as written: only `integer` makes a rowid alias.
    let mut declared: BTreeMap<(String, String), String> = BTreeMap::new();
    for row in query(conn, &sql).await? {
        let Some((table, _)) = tables.get_mut(&text(&row, 0)) else { continue };
        let name = text(&row, 1);
        let position = int(&row, 5);
        if position > 0 {
            keys.entry(table.name.clone()).or_default().push((position, name.clone()));
            declared.insert((table.name.clone(), name.clone()), text(&row, 2));
        }
        table.columns.push(Column {
            name,
            ty: SqlType::parse(&text(&row, 2)),
            nullable: int(&row, 3) == 0,
            default: row.get(4).and_then(as_text).as_deref().and_then(read_default),
            identity: false,
            renamed_from: None,
        });
    }
    for (name, (table, parsed)) in &mut tables {
        let mut columns = keys.remove(name).unwrap_or_default();
        columns.sort();
        let columns: Vec<String> = columns.into_iter().map(|(_, c)| c).collect();
        if columns.is_empty() {
            continue;
        }
        if let [only] = columns.as_slice()
            && !parsed.without_rowid
            && declared
                .get(&(name.clone(), only.clone()))
                .is_some_and(|t| t.eq_ignore_ascii_case("integer"))
            && let Some(c) = table.columns.iter_mut().find(|c| c.name == *only)
        {
            c.identity = true;
            c.nullable = false;
        }
        let key_name = parsed.primary_key.as_ref().and_then(|k| k.name.clone());
        table.primary_key = Some(PrimaryKey {
            name: key_name.unwrap_or_else(|| constraint_name(name, None, "pkey")),
            columns,
        });
        for check in &parsed.checks {
            table.checks.push(Check {
                name: check
                    .name
                    .clone()
                    .unwrap_or_else(|| constraint_name(name, Some(&check.column), "check")),
                column: check.column.clone(),
                values: check.values.clone(),
            });
        }
    }

    let sql = format!(
        "select m.name, il.name, il.\"unique\", il.origin, il.partial, ii.name \
         from sqlite_master m join pragma_index_list(m.name) il \
         join pragma_index_info(il.name) ii \
         where {TABLE_FILTER} order by m.name, il.name, ii.seqno"
    );
    // (table, index) → (unique, origin, partial, columns; `None` for an expression)
    type Found = (bool, String, bool, Vec<Option<String>>);
    let mut indexes: BTreeMap<(String, String), Found> = BTreeMap::new();
    for row in query(conn, &sql).await? {
        let entry = indexes
            .entry((text(&row, 0), text(&row, 1)))
            .or_insert_with(|| (int(&row, 2) == 1, text(&row, 3), int(&row, 4) == 1, Vec::new()));
        entry.3.push(row.get(5).and_then(as_text));
    }
    for ((table_name, index), (unique, origin, partial, columns)) in indexes {
        let Some((table, parsed)) = tables.get_mut(&table_name) else { continue };
        let Some(columns) = columns.into_iter().collect::<Option<Vec<String>>>() else {
            continue; // an expression index: not described by the model
        };
        if partial || origin == "pk" {
            continue;
        }
        if !unique {
            table.indexes.push(Index { name: index, columns, unique: false });
            continue;
        }
        let name = if origin == "u" {
            parsed
                .uniques
                .iter()
                .find(|u| u.columns == columns)
                .and_then(|u| u.name.clone())
                .unwrap_or(index)
        } else {
            index
        };
        table.uniques.push(Unique { name, columns });
    }

    let sql = format!(
        "select m.name, f.id, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete \
         from sqlite_master m join pragma_foreign_key_list(m.name) f \
         where {TABLE_FILTER} order by m.name, f.id, f.seq"
    );
    let mut fks: BTreeMap<(String, i64), ForeignKey> = BTreeMap::new();
    for row in query(conn, &sql).await? {
        let fk = fks.entry((text(&row, 0), int(&row, 1))).or_insert_with(|| ForeignKey {
            name: String::new(),
            columns: Vec::new(),
            referenced_namespace: None,
            referenced_table: text(&row, 2),
            referenced_columns: Vec::new(),
            on_update: action(&text(&row, 5)),
            on_delete: action(&text(&row, 6)),
        });
        fk.columns.push(text(&row, 3));
        // `to` is NULL when the key references the other table's primary key implicitly.
        if let Some(to) = row.get(4).and_then(as_text) {
            fk.referenced_columns.push(to);
        }
    }
    let primary_keys: BTreeMap<String, Vec<String>> = tables
        .iter()
        .filter_map(|(n, (t, _))| t.primary_key.as_ref().map(|k| (n.clone(), k.columns.clone())))
        .collect();
    for ((table_name, _), mut fk) in fks {
        let Some((table, parsed)) = tables.get_mut(&table_name) else { continue };
        if fk.referenced_columns.len() != fk.columns.len() {
            fk.referenced_columns =
                primary_keys.get(&fk.referenced_table).cloned().unwrap_or_default();
        }
        let first = fk.columns.first().cloned().unwrap_or_default();
        fk.name = parsed
            .foreign_keys
            .iter()
            .find(|k| k.columns == fk.columns)
            .and_then(|k| k.name.clone())
            .unwrap_or_else(|| constraint_name(&table_name, Some(&first), "foreign"));
        table.foreign_keys.push(fk);
    }

    let mut schema = Schema { backend: Some(DbKind::Sqlite), ..Schema::default() };
    schema.tables = tables.into_values().map(|(t, _)| t).collect();
    schema.normalize();
    Ok(schema)
}

async fn query(conn: &mut dyn Connection, sql: &str) -> Result<Vec<Vec<Value>>> {
    let statement = Statement {
        sql: sql.to_owned(),
        params: vec![Param::Value(Value::Text(TRACKING_TABLE.to_owned()))],
        returns: Vec::new(),
        kind: StatementKind::Select,
    };
    let outcome = conn
        .run(&statement)
        .await
        .map_err(|e| e.context("reading the SQLite database schema failed"))?;
    Ok(outcome.rows)
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        Value::I64(n) => Some(n.to_string()),
        Value::F64(n) => Some(n.to_string()),
        _ => None,
    }
}

fn text(row: &[Value], i: usize) -> String {
    row.get(i).and_then(as_text).unwrap_or_default()
}

fn int(row: &[Value], i: usize) -> i64 {
    row.get(i).and_then(Value::as_i64).unwrap_or_default()
}

/// An action as `pragma_foreign_key_list` spells it (`CASCADE`, `SET NULL`, `NO ACTION`).
fn action(text: &str) -> ForeignKeyAction {
    match text.to_ascii_uppercase().as_str() {
        "RESTRICT" => ForeignKeyAction::Restrict,
        "CASCADE" => ForeignKeyAction::Cascade,
        "SET NULL" => ForeignKeyAction::SetNull,
        "SET DEFAULT" => ForeignKeyAction::SetDefault,
        _ => ForeignKeyAction::NoAction,
    }
}
