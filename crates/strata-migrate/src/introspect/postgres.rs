//! PostgreSQL introspection: four catalog queries (tables, columns, constraints, indexes) over
//! `pg_catalog`, folded into the model's canonical form.

use super::TRACKING_TABLE;
use crate::schema::{
    Check, Column, ForeignKey, ForeignKeyAction, Index, PrimaryKey, Schema, SqlType, Table, Unique,
    normalize_default,
};
use std::collections::BTreeMap;
use strata_core::driver::{Connection, Param, Statement, StatementKind};
use strata_core::{ColumnType, Result, Value};

/// The tables of the schemas `$1` (a `text[]`), but not the tracking table. Joined as `c`/`n`.
const TABLE_FILTER: &str = "c.relkind in ('r', 'p') and n.nspname::text = any($1::text[]) \
     and c.relname::text <> $2::text";

pub(super) async fn introspect(conn: &mut dyn Connection, namespaces: &[String]) -> Result<Schema> {
    let current = query(conn, "select current_schema()::text", Vec::new()).await?;
    let current = current.first().and_then(|r| text(r, 0)).unwrap_or_else(|| "public".to_owned());
    let wanted: Vec<String> =
        if namespaces.is_empty() { vec![current.clone()] } else { namespaces.to_vec() };
    let names =
        Param::Array(ColumnType::Text, wanted.iter().map(|n| Value::Text(n.clone())).collect());
    let params = || vec![names.clone(), Param::Value(Value::Text(TRACKING_TABLE.to_owned()))];
    let ns = |name: String| if name == current { None } else { Some(name) };

    let mut schema = Schema { default_namespace: Some(current.clone()), ..Schema::default() };
    let existing = query(
        conn,
        "select nspname::text from pg_namespace where nspname::text = any($1::text[])",
        vec![names.clone()],
    )
    .await?;
    schema.namespaces =
        existing.iter().filter_map(|r| text(r, 0)).filter(|n| *n != current).collect();

    let mut tables: BTreeMap<i64, Table> = BTreeMap::new();
    let sql = format!(
        "select c.oid::int8, n.nspname::text, c.relname::text from pg_class c \
         join pg_namespace n on n.oid = c.relnamespace where {TABLE_FILTER} order by 2, 3"
    );
    for row in query(conn, &sql, params()).await? {
        let name = text(&row, 2).unwrap_or_default();
        tables.insert(int(&row, 0), Table::new(text(&row, 1).and_then(ns), name));
    }

    let sql = format!(
        "select c.oid::int8, a.attname::text, format_type(a.atttypid, a.atttypmod), \
         a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity::text \
         from pg_attribute a join pg_class c on c.oid = a.attrelid \
         join pg_namespace n on n.oid = c.relnamespace \
         left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum \
         where {TABLE_FILTER} and a.attnum > 0 and not a.attisdropped order by 1, a.attnum"
    );
    for row in query(conn, &sql, params()).await? {
        let Some(table) = tables.get_mut(&int(&row, 0)) else { continue };
        let default = text(&row, 4);
        let sequence_default = default.as_deref().is_some_and(|d| d.starts_with("nextval("));
        let identity_column = text(&row, 5).is_some_and(|a| a == "a" || a == "d");
        table.columns.push(Column {
            name: text(&row, 1).unwrap_or_default(),
            ty: SqlType::parse(&text(&row, 2).unwrap_or_default()),
            nullable: !matches!(row.get(3), Some(Value::Bool(true))),
            default: if sequence_default {
                None
            } else {
                default.as_deref().and_then(normalize_default)
            },
            identity: sequence_default || identity_column,
            renamed_from: None,
        });
    }

    let sql = format!(
        "select con.conrelid::int8, con.conname::text, con.contype::text, \
         (select coalesce(json_agg(a.attname order by k.o), '[]') \
            from unnest(con.conkey) with ordinality k(n, o) \
            join pg_attribute a on a.attrelid = con.conrelid and a.attnum = k.n), \
         rn.nspname::text, rc.relname::text, \
         (select coalesce(json_agg(a.attname order by k.o), '[]') \
            from unnest(con.confkey) with ordinality k(n, o) \
            join pg_attribute a on a.attrelid = con.confrelid and a.attnum = k.n), \
         con.confupdtype::text, con.confdeltype::text, pg_get_constraintdef(con.oid) \
         from pg_constraint con join pg_class c on c.oid = con.conrelid \
         join pg_namespace n on n.oid = c.relnamespace \
         left join pg_class rc on rc.oid = con.confrelid \
         left join pg_namespace rn on rn.oid = rc.relnamespace \
         where {TABLE_FILTER} and con.contype in ('p', 'u', 'f', 'c') order by 1, 2"
    );
    for row in query(conn, &sql, params()).await? {
        let Some(table) = tables.get_mut(&int(&row, 0)) else { continue };
        let name = text(&row, 1).unwrap_or_default();
        let columns = names_of(row.get(3));
        match text(&row, 2).as_deref() {
            Some("p") => table.primary_key = Some(PrimaryKey { name, columns }),
            Some("u") => table.uniques.push(Unique { name, columns }),
            Some("f") => table.foreign_keys.push(ForeignKey {
                name,
                columns,
                referenced_namespace: text(&row, 4).and_then(ns),
                referenced_table: text(&row, 5).unwrap_or_default(),
                referenced_columns: names_of(row.get(6)),
                on_update: action(text(&row, 7).as_deref()),
                on_delete: action(text(&row, 8).as_deref()),
            }),
            _ => {
                if let ([column], Some(values)) =
                    (columns.as_slice(), text(&row, 9).as_deref().and_then(enum_check_values))
                {
                    table.checks.push(Check { name, column: column.clone(), values });
                }
            }
        }
    }

    let sql = format!(
        "select c.oid::int8, ic.relname::text, i.indisunique, \
         (select json_agg(a.attname order by k.o) \
            from unnest(i.indkey::int2[]) with ordinality k(n, o) \
            left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n \
            where k.o <= i.indnkeyatts), \
         i.indexprs is not null or i.indpred is not null \
         from pg_index i join pg_class ic on ic.oid = i.indexrelid \
         join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace \
         where {TABLE_FILTER} and not exists (select 1 from pg_constraint con \
            where con.conindid = i.indexrelid and con.conrelid = i.indrelid \
            and con.contype in ('p', 'u', 'x')) \
         order by 1, 2"
    );
    for row in query(conn, &sql, params()).await? {
        let Some(table) = tables.get_mut(&int(&row, 0)) else { continue };
        if matches!(row.get(4), Some(Value::Bool(true))) {
            continue;
        }
        table.indexes.push(Index {
            name: text(&row, 1).unwrap_or_default(),
            columns: names_of(row.get(3)),
            unique: matches!(row.get(2), Some(Value::Bool(true))),
        });
    }

    schema.tables = tables.into_values().collect();
    schema.normalize();
    Ok(schema)
}

async fn query(
    conn: &mut dyn Connection,
    sql: &str,
    params: Vec<Param>,
) -> Result<Vec<Vec<Value>>> {
    let statement =
        Statement { sql: sql.to_owned(), params, returns: Vec::new(), kind: StatementKind::Select };
    let outcome =
        conn.run(&statement).await.map_err(|e| e.context("reading the database schema failed"))?;
    Ok(outcome.rows)
}

fn text(row: &[Value], i: usize) -> Option<String> {
    match row.get(i) {
        Some(Value::Text(s)) => Some(s.clone()),
        _ => None,
    }
}

fn int(row: &[Value], i: usize) -> i64 {
    row.get(i).and_then(Value::as_i64).unwrap_or_default()
}

/// Column names from a JSON array of strings (`json_agg(attname)`).
fn names_of(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::Json(serde_json::Value::Array(items))) => {
            items.iter().filter_map(|i| i.as_str().map(str::to_owned)).collect()
        }
        _ => Vec::new(),
    }
}

fn action(code: Option<&str>) -> ForeignKeyAction {
    match code {
        Some("r") => ForeignKeyAction::Restrict,
        Some("c") => ForeignKeyAction::Cascade,
        Some("n") => ForeignKeyAction::SetNull,
        Some("d") => ForeignKeyAction::SetDefault,
        _ => ForeignKeyAction::NoAction,
    }
}

/// The allowed values of an enum check as PostgreSQL prints it back:
/// `CHECK ((status = ANY (ARRAY['draft'::text, 'published'::text])))`, or the `IN` form.
/// `None` for any other check, which the model does not describe.
pub(crate) fn enum_check_values(definition: &str) -> Option<Vec<String>> {
    let lower = definition.to_lowercase();
    let body = if let Some(at) = lower.find("= any (").filter(|at| lower[*at..].contains("array["))
    {
        &definition[at..]
    } else if let Some(at) = lower.find(" in (") {
        &definition[at..]
    } else {
        return None;
    };
    let mut values = Vec::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut value = String::new();
        loop {
            match chars.next() {
                Some('\'') if chars.peek() == Some(&'\'') => {
                    chars.next();
                    value.push('\'');
                }
                Some('\'') | None => break,
                Some(other) => value.push(other),
            }
        }
        values.push(value);
    }
    (!values.is_empty()).then_some(values)
}

#[cfg(test)]
mod tests {
    use super::enum_check_values;

    #[test]
    fn enum_checks_are_read_in_every_form_postgres_prints() {
        for def in [
            "CHECK ((status = ANY (ARRAY['draft'::text, 'it''s'::text])))",
            "CHECK (((status)::text = ANY ((ARRAY['draft'::character varying, 'it''s'::character varying])::text[])))",
            "CHECK (status IN ('draft', 'it''s'))",
        ] {
            assert_eq!(enum_check_values(def), Some(vec!["draft".into(), "it's".into()]), "{def}");
        }
        assert_eq!(enum_check_values("CHECK ((price > 0))"), None);
    }
}
