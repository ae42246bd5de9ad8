//! SQL shared by every dialect: SELECT, COUNT, filters, native UPDATE and DELETE, and (in
//! [`flush`]) the set-based statements of a flush.
//!
//! [`SqlWriter`] accumulates SQL text and bound parameters; the dialect supplies placeholders.
//! Values are always parameters; identifiers always come from entity metadata and are quoted by
//! [`quote_ident`], the one place in Strata that quotes an identifier (the drivers, the schema
//! engine and the test support use it too).

pub mod flush;

pub use flush::FlushStatements;

use crate::dialect::{Dialect, TableName};
use crate::driver::{Param, Statement, StatementKind};
use crate::metadata::ColumnMeta;
use crate::query::{CmpOp, Expr, Order};
use crate::value::{ColumnType, Value};

/// Appends `ident` as a quoted identifier to `out`: `post` → `"post"`, an embedded `"`
/// doubled. Every database Strata supports quotes identifiers this way.
pub fn push_ident(out: &mut String, ident: &str) {
    out.reserve(ident.len() + 2);
    out.push('"');
    for c in ident.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// `ident` as a quoted identifier (see [`push_ident`]).
///
/// ```
/// use strata_core::sql::quote_ident;
/// assert_eq!(quote_ident("post"), r#""post""#);
/// assert_eq!(quote_ident(r#"a"b"#), r#""a""b""#);
/// ```
pub fn quote_ident(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 2);
    push_ident(&mut out, ident);
    out
}

/// Builds one statement.
pub struct SqlWriter<'d> {
    dialect: &'d dyn Dialect,
    sql: String,
    params: Vec<Param>,
}

impl<'d> SqlWriter<'d> {
    /// An empty statement in `dialect`.
    pub fn new(dialect: &'d dyn Dialect) -> Self {
        Self { dialect, sql: String::with_capacity(128), params: Vec::new() }
    }

    /// Appends SQL text.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a quoted identifier.
    pub fn ident(&mut self, ident: &str) -> &mut Self {
        push_ident(&mut self.sql, ident);
        self
    }

    /// Appends a quoted, possibly schema-qualified, table name.
    pub fn table(&mut self, table: TableName<'_>) -> &mut Self {
        if let Some(schema) = table.schema {
            self.ident(schema);
            self.sql.push('.');
        }
        self.ident(table.name)
    }

    /// Appends a placeholder bound to `param`.
    pub fn param(&mut self, param: Param) -> &mut Self {
        self.params.push(param);
        self.dialect.placeholder(self.params.len(), &mut self.sql);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn value(&mut self, value: Value) -> &mut Self {
        self.param(Param::Value(value))
    }

    /// Appends a comma-separated list of quoted column names.
    pub fn columns<'c>(&mut self, columns: impl IntoIterator<Item = &'c ColumnMeta>) -> &mut Self {
        for (i, c) in columns.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.ident(c.name);
        }
        self
    }

    /// Appends a filter expression.
    pub fn expr(&mut self, expr: &Expr) -> &mut Self {
        match expr {
            Expr::Compare { column, op, value } => {
                self.ident(column);
                match (op, value) {
                    (CmpOp::Eq, Value::Null) => self.push(" IS NULL"),
                    (CmpOp::Ne, Value::Null) => self.push(" IS NOT NULL"),
                    _ => {
                        self.push(" ").push(op.sql()).push(" ");
                        self.value(value.clone())
                    }
                };
            }
            Expr::InList { column, values, negated } => {
                if values.is_empty() {
                    self.push(if *negated { "1 = 1" } else { "1 = 0" });
                } else {
                    self.ident(column).push(if *negated { " NOT IN (" } else { " IN (" });
                    for (i, v) in values.iter().enumerate() {
                        if i > 0 {
                            self.push(", ");
                        }
                        self.value(v.clone());
                    }
                    self.push(")");
                }
            }
            Expr::Like { column, pattern, case_insensitive, negated } => {
                let not = if *negated { "NOT " } else { "" };
                if *case_insensitive && !self.dialect.has_ilike() {
                    self.push("lower(").ident(column).push(") ").push(not).push("LIKE lower(");
                    self.value(Value::Text(pattern.clone())).push(")");
                } else {
                    let op = if *case_insensitive { "ILIKE " } else { "LIKE " };
                    self.ident(column).push(" ").push(not).push(op);
                    self.value(Value::Text(pattern.clone()));
                }
                self.push(self.dialect.like_escape());
            }
            Expr::IsNull { column, negated } => {
                self.ident(column).push(if *negated { " IS NOT NULL" } else { " IS NULL" });
            }
            Expr::And(items) | Expr::Or(items) => {
                let (sep, empty) = if matches!(expr, Expr::And(_)) {
                    (" AND ", "1 = 1")
                } else {
                    (" OR ", "1 = 0")
                };
                if items.is_empty() {
                    self.push(empty);
                } else {
                    self.push("(");
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.push(sep);
                        }
                        self.expr(item);
                    }
                    self.push(")");
                }
            }
            Expr::Not(inner) => {
                self.push("NOT (").expr(inner).push(")");
            }
        }
        self
    }

    /// Appends ` WHERE <expr>` unless the filter matches everything.
    pub fn where_clause(&mut self, filter: Option<&Expr>) -> &mut Self {
        match filter {
            None => self,
            Some(Expr::And(items)) if items.is_empty() => self,
            Some(e) => self.push(" WHERE ").expr(e),
        }
    }

    /// Finishes the statement.
    pub fn finish(self, kind: StatementKind, returns: Vec<ColumnType>) -> Statement {
        Statement { sql: self.sql, params: self.params, returns, kind }
    }
}

/// A SELECT of whole entities.
#[derive(Debug)]
pub struct Select<'a> {
    /// The table.
    pub table: TableName<'a>,
    /// The columns, in entity order.
    pub columns: &'a [ColumnMeta],
    /// The filter.
    pub filter: Option<&'a Expr>,
    /// Sort keys.
    pub order_by: Vec<(&'a str, Order)>,
    /// LIMIT.
    pub limit: Option<u64>,
    /// OFFSET.
    pub offset: Option<u64>,
}

/// Renders a SELECT.
///
/// ```
/// # use strata_core::sql::{select, Select};
/// # use strata_core::dialect::TableName;
/// # use strata_core::query::Order;
/// # fn show(d: &dyn strata_core::dialect::Dialect, cols: &[strata_core::metadata::ColumnMeta]) {
/// let s = select(d, &Select {
///     table: TableName { schema: None, name: "post_entity" },
///     columns: cols, filter: None, order_by: vec![("id", Order::Asc)], limit: Some(10), offset: None,
/// });
/// // SELECT "id", "title", "content" FROM "post_entity" ORDER BY "id" ASC LIMIT 10
/// # let _ = s;
/// # }
/// ```
pub fn select(dialect: &dyn Dialect, q: &Select<'_>) -> Statement {
    let mut w = SqlWriter::new(dialect);
    w.push("SELECT ").columns(q.columns).push(" FROM ").table(q.table).where_clause(q.filter);
    if !q.order_by.is_empty() {
        w.push(" ORDER BY ");
        for (i, (col, order)) in q.order_by.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.ident(col).push(if *order == Order::Asc { " ASC" } else { " DESC" });
        }
    }
    match (q.limit, q.offset) {
        (Some(l), o) => {
            w.push(&format!(" LIMIT {l}"));
            if let Some(o) = o {
                w.push(&format!(" OFFSET {o}"));
            }
        }
        // SQLite requires a LIMIT before OFFSET.
        (None, Some(o)) => {
            w.push(&format!(" LIMIT {} OFFSET {o}", dialect.no_limit()));
        }
        (None, None) => {}
    }
    let returns = q.columns.iter().map(|c| c.ty).collect();
    w.finish(StatementKind::Select, returns)
}

/// Renders the statements that load the rows of `table` whose `key_column` is one of `keys`
/// (populate of a relation): `SELECT … FROM t WHERE "author_id" = ANY($1)`, or `IN (…)` chunked
/// by the dialect's parameter limit. Rows come ordered by `order_by` within each statement.
///
/// ```text
/// SELECT "id", "email" FROM "user" WHERE "id" = ANY($1::int4[]) ORDER BY "id" ASC
/// ```
pub fn select_in(
    dialect: &dyn Dialect,
    table: TableName<'_>,
    columns: &[ColumnMeta],
    key_column: &ColumnMeta,
    keys: Vec<Value>,
    order_by: &ColumnMeta,
) -> Vec<Statement> {
    let returns: Vec<ColumnType> = columns.iter().map(|c| c.ty).collect();
    crate::dialect::owned_chunks(keys, dialect.batch_rows(1))
        .into_iter()
        .map(|keys| {
            let mut w = SqlWriter::new(dialect);
            w.push("SELECT ").columns(columns).push(" FROM ").table(table).push(" WHERE ");
            w.ident(key_column.name);
            dialect.key_set(&mut w, key_column.ty, keys);
            w.push(" ORDER BY ").ident(order_by.name).push(" ASC");
            w.finish(StatementKind::Select, returns.clone())
        })
        .collect()
}

/// A many-to-many's pivot table, as [`select_through_pivot`] joins it.
#[derive(Debug, Clone, Copy)]
pub struct PivotJoin<'a> {
    /// The pivot table.
    pub table: TableName<'a>,
    /// The column holding the owners' keys (the parents being populated).
    pub owner_column: &'a str,
    /// The type of the owners' keys.
    pub owner_type: ColumnType,
    /// The column holding the targets' keys.
    pub target_column: &'a str,
}

/// Renders the statements that load the targets linked through a pivot table to the owners
/// with `keys`, each row followed by its owner's key:
///
/// ```text
/// SELECT t."id", t."name", p."post_id" FROM "category" AS t
///   JOIN "post_categories" AS p ON p."category_id" = t."id"
///   WHERE p."post_id" = ANY($1::int4[]) ORDER BY p."post_id" ASC, t."id" ASC
/// ```
pub fn select_through_pivot(
    dialect: &dyn Dialect,
    target: TableName<'_>,
    columns: &[ColumnMeta],
    target_key: &ColumnMeta,
    pivot: PivotJoin<'_>,
    keys: Vec<Value>,
) -> Vec<Statement> {
    let mut returns: Vec<ColumnType> = columns.iter().map(|c| c.ty).collect();
    returns.push(pivot.owner_type);
    crate::dialect::owned_chunks(keys, dialect.batch_rows(1))
        .into_iter()
        .map(|keys| {
            let mut w = SqlWriter::new(dialect);
            w.push("SELECT ");
            for c in columns {
                w.push("t.").ident(c.name).push(", ");
            }
            w.push("p.").ident(pivot.owner_column).push(" FROM ").table(target).push(" AS t JOIN ");
            w.table(pivot.table).push(" AS p ON p.").ident(pivot.target_column);
            w.push(" = t.").ident(target_key.name).push(" WHERE p.").ident(pivot.owner_column);
            dialect.key_set(&mut w, pivot.owner_type, keys);
            w.push(" ORDER BY p.").ident(pivot.owner_column).push(" ASC, t.");
            w.ident(target_key.name).push(" ASC");
            w.finish(StatementKind::Select, returns.clone())
        })
        .collect()
}

/// Renders `SELECT COUNT(*) FROM table WHERE …`.
pub fn count(dialect: &dyn Dialect, table: TableName<'_>, filter: Option<&Expr>) -> Statement {
    let mut w = SqlWriter::new(dialect);
    w.push("SELECT COUNT(*) FROM ").table(table).where_clause(filter);
    w.finish(StatementKind::Select, vec![ColumnType::I64])
}

/// Renders `SELECT COUNT(*) FROM table WHERE column = $1` (a column named at run time, such as
/// a pivot table's).
pub fn count_by(
    dialect: &dyn Dialect,
    table: TableName<'_>,
    column: &str,
    value: Value,
) -> Statement {
    let mut w = SqlWriter::new(dialect);
    w.push("SELECT COUNT(*) FROM ").table(table).push(" WHERE ").ident(column).push(" = ");
    w.value(value);
    w.finish(StatementKind::Select, vec![ColumnType::I64])
}

/// Renders `UPDATE table SET … WHERE …`; with `increment`, that column is also set to itself
/// plus one (an entity's version column).
///
/// ```text
/// UPDATE "article" SET "views" = $1, "version" = "version" + 1 WHERE "id" = $2
/// ```
pub fn update_where(
    dialect: &dyn Dialect,
    table: TableName<'_>,
    sets: &[(&str, Value)],
    increment: Option<&str>,
    filter: Option<&Expr>,
) -> Statement {
    let mut w = SqlWriter::new(dialect);
    w.push("UPDATE ").table(table).push(" SET ");
    for (i, (col, v)) in sets.iter().enumerate() {
        if i > 0 {
            w.push(", ");
        }
        w.ident(col).push(" = ").value(v.clone());
    }
    if let Some(col) = increment {
        if !sets.is_empty() {
            w.push(", ");
        }
        w.ident(col).push(" = ").ident(col).push(" + 1");
    }
    w.where_clause(filter);
    w.finish(StatementKind::Update, Vec::new())
}

/// Renders `DELETE FROM table WHERE …`.
pub fn delete_where(
    dialect: &dyn Dialect,
    table: TableName<'_>,
    filter: Option<&Expr>,
) -> Statement {
    let mut w = SqlWriter::new(dialect);
    w.push("DELETE FROM ").table(table).where_clause(filter);
    w.finish(StatementKind::Delete, Vec::new())
}
