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

use strata_core::Value;
use strata_core::dialect::Dialect;
use strata_core::sql::SqlWriter;
use strata_core::sql::flush::RowSetColumn;
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
    fn name(&self) -> &'static str {
        "sqlite"
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
    fn row_set(
        &self,
        w: &mut SqlWriter<'_>,
        _columns: &[RowSetColumn<'_>],
        rows: Vec<Vec<Value>>,
        alias: &str,
    ) {
        w.push("(VALUES ");
        tuples(w, rows);
        w.push(") AS ").push(alias);
    }

    fn row_set_column(
        &self,
        w: &mut SqlWriter<'_>,
        alias: &str,
        index: usize,
        _column: &RowSetColumn<'_>,
    ) {
        w.push(alias).push(&format!(".column{}", index + 1));
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

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::dialect::{DeleteBatch, InsertBatch, TableName, UpdateBatch, UpdateRow};
    use strata_core::driver::Param;
    use strata_core::driver::{Statement, StatementKind};
    use strata_core::metadata::{ColumnMeta, Generated};
    use strata_core::sql::FlushStatements;

    fn column(name: &'static str, ty: ColumnType) -> ColumnMeta {
        ColumnMeta {
            field: name,
            name,
            ty,
            nullable: false,
            default: None,
            primary_key: name == "id",
            generated: if name == "id" { Generated::Identity } else { Generated::No },
            unique: false,
            index: false,
            version: name == "version",
            enum_values: None,
            renamed_from: None,
        }
    }

    const POST: TableName<'static> = TableName { schema: None, name: "post" };

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    fn values(s: &Statement) -> Vec<Value> {
        s.params
            .iter()
            .map(|p| match p {
                Param::Value(v) => v.clone(),
                Param::Array(..) => panic!("SQLite statements bind no arrays"),
            })
            .collect()
    }

    #[test]
    fn insert_binds_every_value_and_returns_generated_columns() {
        let (id, title, likes) = (
            column("id", ColumnType::I32),
            column("title", ColumnType::Varchar(255)),
            column("likes", ColumnType::I64),
        );
        let batch = InsertBatch {
            table: POST,
            columns: vec![&title, &likes],
            rows: vec![vec![text("a"), Value::I64(1)], vec![text("b"), Value::Null]],
            returning: vec![&id],
        };
        let statements = SqliteDialect::new().insert(batch);
        assert_eq!(statements.len(), 1);
        let s = &statements[0];
        assert_eq!(
            s.sql,
            r#"INSERT INTO "post" ("title", "likes") VALUES (?1, ?2), (?3, ?4) RETURNING "id""#
        );
        assert_eq!(values(s), vec![text("a"), Value::I64(1), text("b"), Value::Null]);
        assert_eq!(s.returns, vec![ColumnType::I32]);
        assert_eq!(s.kind, StatementKind::Insert);
    }

    #[test]
    fn insert_without_columns_is_one_default_values_row_each() {
        let id = column("id", ColumnType::I32);
        let batch = InsertBatch {
            table: POST,
            columns: vec![],
            rows: vec![vec![]; 3],
            returning: vec![&id],
        };
        let statements = SqliteDialect::new().insert(batch);
        assert_eq!(statements.len(), 3);
        assert_eq!(statements[0].sql, r#"INSERT INTO "post" DEFAULT VALUES RETURNING "id""#);
        assert!(statements[0].params.is_empty());
    }

    #[test]
    fn schema_qualified_tables_are_quoted_in_parts() {
        let title = column("title", ColumnType::Text);
        let batch = InsertBatch {
            table: TableName { schema: Some("blog"), name: "post" },
            columns: vec![&title],
            rows: vec![vec![text("a")]],
            returning: vec![],
        };
        let s = &SqliteDialect::new().insert(batch)[0];
        assert_eq!(s.sql, r#"INSERT INTO "blog"."post" ("title") VALUES (?1)"#);
    }

    #[test]
    fn update_joins_a_values_list_on_the_key() {
        let (id, title, body) = (
            column("id", ColumnType::I32),
            column("title", ColumnType::Text),
            column("body", ColumnType::Text),
        );
        let batch = UpdateBatch {
            table: POST,
            pk: &id,
            set: vec![&title, &body],
            version: None,
            rows: vec![
                UpdateRow { key: Value::I32(1), values: vec![text("a"), text("b")], version: None },
                UpdateRow {
                    key: Value::I32(2),
                    values: vec![text("c"), Value::Null],
                    version: None,
                },
            ],
        };
        let statements = SqliteDialect::new().update(batch);
        assert_eq!(statements.len(), 1);
        let s = &statements[0];
        assert_eq!(
            s.sql,
            r#"UPDATE "post" AS t0 SET "title" = u.column2, "body" = u.column3 FROM (VALUES (?1, ?2, ?3), (?4, ?5, ?6)) AS u WHERE t0."id" = u.column1"#
        );
        assert_eq!(
            values(s),
            vec![Value::I32(1), text("a"), text("b"), Value::I32(2), text("c"), Value::Null]
        );
        assert!(s.returns.is_empty());
    }

    #[test]
    fn a_versioned_update_checks_and_bumps_the_version_and_returns_keys() {
        let (id, title, version) = (
            column("id", ColumnType::I64),
            column("title", ColumnType::Text),
            column("version", ColumnType::I32),
        );
        let batch = UpdateBatch {
            table: POST,
            pk: &id,
            set: vec![&title],
            version: Some(&version),
            rows: vec![UpdateRow {
                key: Value::I64(7),
                values: vec![text("a")],
                version: Some(Value::I32(3)),
            }],
        };
        let s = &SqliteDialect::new().update(batch)[0];
        assert_eq!(
            s.sql,
            r#"UPDATE "post" AS t0 SET "title" = u.column2, "version" = t0."version" + 1 FROM (VALUES (?1, ?2, ?3)) AS u WHERE t0."id" = u.column1 AND t0."version" = u.column3 RETURNING "id""#
        );
        assert_eq!(values(s), vec![Value::I64(7), text("a"), Value::I32(3)]);
        assert_eq!(s.returns, vec![ColumnType::I64]);
    }

    #[test]
    fn an_update_with_nothing_to_set_is_no_statement() {
        let id = column("id", ColumnType::I32);
        let batch = UpdateBatch {
            table: POST,
            pk: &id,
            set: vec![],
            version: None,
            rows: vec![UpdateRow { key: Value::I32(1), values: vec![], version: None }],
        };
        assert!(SqliteDialect::new().update(batch).is_empty());
    }

    #[test]
    fn batches_are_chunked_by_the_parameter_limit() {
        let (id, title) = (column("id", ColumnType::I32), column("title", ColumnType::Text));
        // 10 parameters: 5 rows of 2 columns, 10 keys.
        let dialect = SqliteDialect::new().with_max_params(10);
        assert_eq!(dialect.batch_rows(2), 5);
        assert_eq!(dialect.batch_rows(0), 10);
        assert_eq!(dialect.batch_rows(11), 1, "a row wider than the limit still goes alone");
        let insert = InsertBatch {
            table: POST,
            columns: vec![&id, &title],
            rows: (0..12).map(|i| vec![Value::I32(i), text("t")]).collect(),
            returning: vec![],
        };
        let sizes: Vec<usize> = dialect.insert(insert).iter().map(|s| s.params.len()).collect();
        assert_eq!(sizes, vec![10, 10, 4]);

        let update = UpdateBatch {
            table: POST,
            pk: &id,
            set: vec![&title],
            version: None,
            rows: (0..12)
                .map(|i| UpdateRow { key: Value::I32(i), values: vec![text("x")], version: None })
                .collect(),
        };
        let sizes: Vec<usize> = dialect.update(update).iter().map(|s| s.params.len()).collect();
        assert_eq!(sizes, vec![10, 10, 4]);

        let delete = DeleteBatch { table: POST, pk: &id, keys: (0..25).map(Value::I32).collect() };
        let statements = dialect.delete(delete);
        assert_eq!(statements.len(), 3);
        assert_eq!(values(&statements[2]), (20..25).map(Value::I32).collect::<Vec<_>>());
        assert!(statements[2].sql.ends_with(r#""id" IN (?1, ?2, ?3, ?4, ?5)"#));
    }

    #[test]
    fn declared_types_keep_values_as_bound() {
        for ty in [ColumnType::Uuid, ColumnType::TimestampTz, ColumnType::Date, ColumnType::Json] {
            assert_eq!(declared_type(ty), "TEXT", "{ty:?}");
        }
        assert_eq!(declared_type(ColumnType::Bool), "INTEGER");
        assert_eq!(declared_type(ColumnType::F32), "REAL");
        assert_eq!(declared_type(ColumnType::Bytes), "BLOB");
    }

    #[test]
    fn the_default_limit_fits_ten_thousand_rows_of_three_columns_in_one_statement() {
        assert_eq!(SqliteDialect::new().batch_rows(3), 10_922);
        assert_eq!(SqliteDialect::new().batch_rows(1), MAX_PARAMS);
    }
}
