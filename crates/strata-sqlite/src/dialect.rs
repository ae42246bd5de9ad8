//! The SQLite dialect: `?n` placeholders, no `ILIKE`, and the multi-row statements of a flush.
//!
//! SQLite has no array parameters, so a flush (whose statement shapes live in
//! [`strata_core::sql::flush`]) binds every value on its own and chunks each group of rows so
//! that one statement never carries more than [`MAX_PARAMS`] parameters (SQLite's
//! `SQLITE_MAX_VARIABLE_NUMBER`, 32,766 since 3.32; the bundled SQLite is newer).
//!
//! | batch  | statement                                                                         |
//! | ------ | --------------------------------------------------------------------------------- |
//! | insert | `INSERT INTO "t" ("a", "b") VALUES (?1, ?2), (?3, ?4) RETURNING "id"`              |
//! | update | `UPDATE "t" AS t0 SET "a" = u.column2 FROM (VALUES (?1, ?2), (?3, ?4)) AS u WHERE t0."id" = u.column1` |
//! | delete | `DELETE FROM "t" WHERE "id" IN (?1, ?2)`                                          |
//!
//! The rows of a `VALUES` list are named `column1`, `column2`, … by SQLite (it has no column
//! aliases on a subquery), in the order key, changed columns, old version. A versioned update
//! adds `"version" = t0."version" + 1`, matches the old version and returns the keys it
//! updated, like PostgreSQL's. `UPDATE … FROM` needs SQLite 3.33 and `RETURNING` 3.35.
//!
//! `ILIKE` does not exist: [`strata_core::sql`] renders a case-insensitive match as
//! `lower(col) LIKE lower(?)`, which folds ASCII letters only (SQLite's `lower()` without ICU).

use strata_core::DbKind;
use strata_core::Value;
use strata_core::dialect::Dialect;
use strata_core::sql::SqlWriter;
use strata_core::sql::flush::RowSet;
use strata_core::value::ColumnType;

/// The most parameters one statement binds: SQLite's default `SQLITE_MAX_VARIABLE_NUMBER`.
pub const MAX_PARAMS: usize = 32_766;

/// The declared SQLite type of a column of type `ty`, matching how [`crate`] stores its values:
/// the declared type sets the column's affinity, and only INTEGER, REAL, TEXT and BLOB keep
/// values exactly as bound (a `json` or `uuid` column would get NUMERIC affinity, which turns
/// the text `"5"` into the number 5). `varchar(n)` keeps its length for readers of the schema;
/// SQLite does not enforce it. An identity key is `INTEGER PRIMARY KEY AUTOINCREMENT`, so that
/// keys are never reused, as with PostgreSQL's sequences.
///
/// ```
/// use strata_core::ColumnType;
/// use strata_sqlite::declared_type;
///
/// assert_eq!(declared_type(ColumnType::Uuid), "TEXT");
/// assert_eq!(declared_type(ColumnType::Varchar(255)), "varchar(255)");
/// ```
pub fn declared_type(ty: ColumnType) -> String {
    match ty {
        ColumnType::Bool | ColumnType::I16 | ColumnType::I32 | ColumnType::I64 => "INTEGER".into(),
        ColumnType::F32 | ColumnType::F64 => "REAL".into(),
        ColumnType::Varchar(n) => format!("varchar({n})"),
        ColumnType::Bytes => "BLOB".into(),
        // Text, uuid, timestamptz, date, json, and types added to the core later.
        _ => "TEXT".into(),
    }
}

/// The SQL dialect of SQLite.
///
/// # Examples
///
/// ```
/// use strata_core::dialect::{DeleteBatch, TableName};
/// use strata_core::sql::FlushStatements;
/// use strata_core::metadata::{ColumnMeta, Generated};
/// use strata_core::{ColumnType, Value};
/// use strata_sqlite::SqliteDialect;
///
/// let id = ColumnMeta {
///     field: "id", name: "id", ty: ColumnType::I32, nullable: false, default: None,
///     primary_key: true, generated: Generated::Identity, unique: false, index: false,
///     version: false, enum_values: None, renamed_from: None,
/// };
/// let statements = SqliteDialect::new().delete(DeleteBatch {
///     table: TableName { schema: None, name: "post" },
///     pk: &id,
///     keys: vec![Value::I32(1), Value::I32(2)],
/// });
/// assert_eq!(statements[0].sql, r#"DELETE FROM "post" WHERE "id" IN (?1, ?2)"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteDialect {
    max_params: usize,
}

impl SqliteDialect {
    /// The dialect with [`MAX_PARAMS`] parameters per statement.
    pub fn new() -> Self {
        Self { max_params: MAX_PARAMS }
    }

    /// Sets the most parameters per flush statement (at least 1), for a SQLite built with a
    /// lower `SQLITE_MAX_VARIABLE_NUMBER`, or to make statements smaller.
    #[must_use]
    pub fn with_max_params(mut self, params: usize) -> Self {
        self.max_params = params.max(1);
        self
    }
}

impl Default for SqliteDialect {
    fn default() -> Self {
        Self::new()
    }
}

/// Appends `, ` before every item but the first.
fn comma(w: &mut SqlWriter<'_>, i: usize) {
    if i > 0 {
        w.push(", ");
    }
}

/// Appends `(?a, ?b, …)` bound to `values`.
fn tuple(w: &mut SqlWriter<'_>, values: impl IntoIterator<Item = Value>) {
    w.push("(");
    for (i, v) in values.into_iter().enumerate() {
        comma(w, i);
        w.value(v);
    }
    w.push(")");
}

/// Appends `(?a, ?b), (?c, ?d), …`, one tuple per row.
fn tuples(w: &mut SqlWriter<'_>, rows: Vec<Vec<Value>>) {
    for (i, row) in rows.into_iter().enumerate() {
        comma(w, i);
        tuple(w, row);
    }
}

impl Dialect for SqliteDialect {
    fn kind(&self) -> DbKind {
        DbKind::Sqlite
    }

    /// SQLite requires a LIMIT before an OFFSET; a negative one is none.
    fn no_limit(&self) -> &'static str {
        "-1"
    }

    fn placeholder(&self, n: usize, out: &mut String) {
        out.push('?');
        out.push_str(&n.to_string());
    }

    fn has_ilike(&self) -> bool {
        false
    }

    /// SQLite's LIKE has no escape character unless one is named.
    fn like_escape(&self) -> &'static str {
        " ESCAPE '\\'"
    }

    /// Each row binds one parameter per column: as many rows as fit the parameter limit.
    fn batch_rows(&self, columns: usize) -> usize {
        (self.max_params / columns.max(1)).max(1)
    }

    fn insert_rows(&self, w: &mut SqlWriter<'_>, _types: &[ColumnType], rows: Vec<Vec<Value>>) {
        w.push(" VALUES ");
        tuples(w, rows);
    }

    /// `DEFAULT VALUES` inserts exactly one row.
    fn default_rows(&self, w: &mut SqlWriter<'_>, _rows: usize) {
        w.push(" DEFAULT VALUES");
    }

    fn default_rows_per_statement(&self) -> usize {
        1
    }

    /// SQLite names the columns of a `VALUES` list `column1`, `column2`, … itself (a subquery
    /// takes no column aliases).
    fn row_set(&self, w: &mut SqlWriter<'_>, set: &RowSet<'_>, rows: Vec<Vec<Value>>) {
        w.push("(VALUES ");
        tuples(w, rows);
        w.push(") AS ").push(set.alias);
    }

    /// SQLite numbers the columns of a `VALUES` list from 1.
    fn row_set_column(&self, w: &mut SqlWriter<'_>, set: &RowSet<'_>, index: usize) {
        w.push(set.alias).push(&format!(".column{}", index + 1));
    }

    fn key_set(&self, w: &mut SqlWriter<'_>, _ty: ColumnType, keys: Vec<Value>) {
        w.push(" IN ");
        tuple(w, keys);
    }

    /// `RETURNING` of an `UPDATE … FROM` names the target table's columns bare.
    fn qualifies_returning(&self) -> bool {
        false
    }
}
