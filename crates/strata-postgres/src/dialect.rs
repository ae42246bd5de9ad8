//! The PostgreSQL dialect: `$n` placeholders, `ILIKE`, and the set-based statements of a flush.
//!
//! A flush (whose statement shapes live in [`strata_core::sql::flush`]) writes each group of
//! rows with one statement per chunk of [`PgDialect::with_batch_rows`] rows, whatever the
//! number of rows: every column travels as one array parameter, so the statement text (and its
//! cached prepared statement) is the same for 3 rows and for 10,000.
//!
//! | batch  | statement                                                                         |
//! | ------ | --------------------------------------------------------------------------------- |
//! | insert | `INSERT INTO t ("a", "b") SELECT * FROM UNNEST($1::text[], $2::int4[]) RETURNING "id"` |
//! | update | `UPDATE t AS t0 SET "a" = u."a" FROM UNNEST($1::int4[], $2::text[]) AS u("id", "a") WHERE t0."id" = u."id"` |
//! | delete | `DELETE FROM t WHERE "id" = ANY($1::int4[])`                                      |
//!
//! Text columns are bound as `text[]` even when the column is `varchar(n)`: an explicit cast
//! to `varchar(n)` silently truncates, while the assignment into the column raises
//! `22001 value too long`, which the ORM must report. The rest of the SQL (SELECT, filters) is
//! shared by every dialect and lives in [`strata_core::sql`].

use strata_core::ColumnType;
use strata_core::Value;
use strata_core::dialect::Dialect;
use strata_core::driver::Param;
use strata_core::sql::SqlWriter;
use strata_core::sql::flush::RowSetColumn;

/// Rows per flush statement unless [`PgDialect::with_batch_rows`] says otherwise.
pub const DEFAULT_BATCH_ROWS: usize = 10_000;

/// The SQL dialect of PostgreSQL.
///
/// # Examples
///
/// ```
/// use strata_core::dialect::{DeleteBatch, TableName};
/// use strata_core::sql::FlushStatements;
/// use strata_core::metadata::{ColumnMeta, Generated};
/// use strata_core::{ColumnType, Value};
/// use strata_postgres::PgDialect;
///
/// let id = ColumnMeta {
///     field: "id", name: "id", ty: ColumnType::I32, nullable: false, default: None,
///     primary_key: true, generated: Generated::Identity, unique: false, index: false,
///     version: false, enum_values: None, renamed_from: None,
/// };
/// let statements = PgDialect::new().delete(DeleteBatch {
///     table: TableName { schema: Some("blog"), name: "post" },
///     pk: &id,
///     keys: vec![Value::I32(1), Value::I32(2)],
/// });
/// assert_eq!(statements[0].sql, r#"DELETE FROM "blog"."post" WHERE "id" = ANY($1::int4[])"#);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PgDialect {
    batch_rows: usize,
}

impl PgDialect {
    /// The dialect with [`DEFAULT_BATCH_ROWS`] rows per flush statement.
    pub fn new() -> Self {
        Self { batch_rows: DEFAULT_BATCH_ROWS }
    }

    /// Sets the rows per flush statement (at least 1).
    #[must_use]
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }
}

impl Default for PgDialect {
    fn default() -> Self {
        Self::new()
    }
}

/// The array type a column is bound as.
fn array_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Bool => "bool[]",
        ColumnType::I16 => "int2[]",
        ColumnType::I32 => "int4[]",
        ColumnType::I64 => "int8[]",
        ColumnType::F32 => "float4[]",
        ColumnType::F64 => "float8[]",
        // Not varchar(n)[]: see the module documentation.
        ColumnType::Varchar(_) | ColumnType::Text => "text[]",
        ColumnType::Uuid => "uuid[]",
        ColumnType::TimestampTz => "timestamptz[]",
        ColumnType::Date => "date[]",
        ColumnType::Json => "jsonb[]",
        ColumnType::Bytes => "bytea[]",
        // A type added to the core after this driver: the server reports the mismatch when
        // the text array is assigned to the column.
        _ => "text[]",
    }
}

/// Appends `$n::type[]` bound to one column of values.
fn array(w: &mut SqlWriter<'_>, ty: ColumnType, values: Vec<Value>) {
    w.param(Param::Array(ty, values)).push("::").push(array_type(ty));
}

/// Moves the values of `rows` (each with one value per column) into one array per column.
fn columns_of(rows: Vec<Vec<Value>>, columns: usize) -> Vec<Vec<Value>> {
    let mut arrays: Vec<Vec<Value>> =
        (0..columns).map(|_| Vec::with_capacity(rows.len())).collect();
    for row in rows {
        for (array, value) in arrays.iter_mut().zip(row) {
            array.push(value);
        }
    }
    arrays
}

/// Appends `$1::a[], $2::b[], …`, one array per column.
fn arrays(w: &mut SqlWriter<'_>, columns: impl Iterator<Item = (ColumnType, Vec<Value>)>) {
    for (i, (ty, values)) in columns.enumerate() {
        if i > 0 {
            w.push(", ");
        }
        array(w, ty, values);
    }
}

impl Dialect for PgDialect {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn placeholder(&self, n: usize, out: &mut String) {
        out.push('$');
        out.push_str(&n.to_string());
    }

    fn has_ilike(&self) -> bool {
        true
    }

    /// Every column is one array parameter, so the parameter limit never binds: the same
    /// number of rows for any column count.
    fn batch_rows(&self, _columns: usize) -> usize {
        self.batch_rows
    }

    fn insert_rows(&self, w: &mut SqlWriter<'_>, types: &[ColumnType], rows: Vec<Vec<Value>>) {
        w.push(" SELECT * FROM UNNEST(");
        let values = columns_of(rows, types.len());
        arrays(w, types.iter().copied().zip(values));
        w.push(")");
    }

    /// One row per number of the series.
    fn default_rows(&self, w: &mut SqlWriter<'_>, rows: usize) {
        let rows = i64::try_from(rows).unwrap_or(i64::MAX);
        w.push(" SELECT FROM generate_series(1, ").value(Value::I64(rows)).push("::int8)");
    }

    fn default_rows_per_statement(&self) -> usize {
        self.batch_rows
    }

    fn row_set(
        &self,
        w: &mut SqlWriter<'_>,
        columns: &[RowSetColumn<'_>],
        rows: Vec<Vec<Value>>,
        alias: &str,
    ) {
        w.push("UNNEST(");
        let values = columns_of(rows, columns.len());
        arrays(w, columns.iter().map(|c| c.ty).zip(values));
        w.push(") AS ").push(alias).push("(");
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.ident(c.name);
        }
        w.push(")");
    }

    fn row_set_column(
        &self,
        w: &mut SqlWriter<'_>,
        alias: &str,
        _index: usize,
        column: &RowSetColumn<'_>,
    ) {
        w.push(alias).push(".").ident(column.name);
    }

    fn key_set(&self, w: &mut SqlWriter<'_>, ty: ColumnType, keys: Vec<Value>) {
        w.push(" = ANY(");
        array(w, ty, keys);
        w.push(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::dialect::{DeleteBatch, InsertBatch, TableName, UpdateBatch, UpdateRow};
    use strata_core::driver::StatementKind;
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

    #[test]
    fn insert_binds_one_array_per_column_and_returns_generated_columns() {
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
        let statements = PgDialect::new().insert(batch);
        assert_eq!(statements.len(), 1);
        let s = &statements[0];
        assert_eq!(
            s.sql,
            r#"INSERT INTO "post" ("title", "likes") SELECT * FROM UNNEST($1::text[], $2::int8[]) RETURNING "id""#
        );
        assert_eq!(
            s.params,
            vec![
                Param::Array(ColumnType::Varchar(255), vec![text("a"), text("b")]),
                Param::Array(ColumnType::I64, vec![Value::I64(1), Value::Null]),
            ]
        );
        assert_eq!(s.returns, vec![ColumnType::I32]);
        assert_eq!(s.kind, StatementKind::Insert);
    }

    #[test]
    fn insert_casts_every_column_type_to_its_array_type() {
        let columns: Vec<ColumnMeta> = [
            ("a", ColumnType::Bool),
            ("b", ColumnType::I16),
            ("c", ColumnType::F32),
            ("d", ColumnType::F64),
            ("e", ColumnType::Text),
            ("f", ColumnType::Uuid),
            ("g", ColumnType::TimestampTz),
            ("h", ColumnType::Date),
            ("i", ColumnType::Json),
            ("j", ColumnType::Bytes),
        ]
        .into_iter()
        .map(|(n, t)| column(n, t))
        .collect();
        let batch = InsertBatch {
            table: POST,
            columns: columns.iter().collect(),
            rows: vec![vec![Value::Null; columns.len()]],
            returning: vec![],
        };
        let s = &PgDialect::new().insert(batch)[0];
        assert_eq!(
            s.sql,
            "INSERT INTO \"post\" (\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\") \
             SELECT * FROM UNNEST($1::bool[], $2::int2[], $3::float4[], $4::float8[], $5::text[], \
             $6::uuid[], $7::timestamptz[], $8::date[], $9::jsonb[], $10::bytea[])"
        );
        assert!(s.returns.is_empty());
    }

    #[test]
    fn insert_without_columns_takes_every_default() {
        let id = column("id", ColumnType::I32);
        let batch = InsertBatch {
            table: POST,
            columns: vec![],
            rows: vec![vec![]; 3],
            returning: vec![&id],
        };
        let s = &PgDialect::new().insert(batch)[0];
        assert_eq!(
            s.sql,
            r#"INSERT INTO "post" SELECT FROM generate_series(1, $1::int8) RETURNING "id""#
        );
        assert_eq!(s.params, vec![Param::Value(Value::I64(3))]);
    }

    #[test]
    fn batches_are_chunked_by_batch_rows() {
        let (id, title) = (column("id", ColumnType::I32), column("title", ColumnType::Text));
        let dialect = PgDialect::new().with_batch_rows(10);
        let insert = InsertBatch {
            table: POST,
            columns: vec![&title],
            rows: (0..25).map(|i| vec![text(&i.to_string())]).collect(),
            returning: vec![&id],
        };
        let statements = dialect.insert(insert);
        let sizes: Vec<usize> = statements
            .iter()
            .map(|s| match &s.params[0] {
                Param::Array(_, v) => v.len(),
                Param::Value(_) => 0,
            })
            .collect();
        assert_eq!(sizes, vec![10, 10, 5]);
        assert!(statements.iter().all(|s| s.sql == statements[0].sql), "one SQL text per chunk");
        assert_eq!(
            statements[2].params[0],
            Param::Array(ColumnType::Text, (20..25).map(|i| text(&i.to_string())).collect())
        );

        let update = UpdateBatch {
            table: POST,
            pk: &id,
            set: vec![&title],
            version: None,
            rows: (0..25)
                .map(|i| UpdateRow { key: Value::I32(i), values: vec![text("x")], version: None })
                .collect(),
        };
        assert_eq!(dialect.update(update).len(), 3);
        let delete = DeleteBatch { table: POST, pk: &id, keys: (0..25).map(Value::I32).collect() };
        assert_eq!(dialect.delete(delete).len(), 3);
        let exact = DeleteBatch { table: POST, pk: &id, keys: (0..20).map(Value::I32).collect() };
        assert_eq!(dialect.delete(exact).len(), 2);
    }

    #[test]
    fn empty_batches_render_nothing() {
        let (id, title) = (column("id", ColumnType::I32), column("title", ColumnType::Text));
        let d = PgDialect::new();
        let insert =
            InsertBatch { table: POST, columns: vec![&title], rows: vec![], returning: vec![] };
        assert!(d.insert(insert).is_empty());
        let update =
            UpdateBatch { table: POST, pk: &id, set: vec![&title], version: None, rows: vec![] };
        assert!(d.update(update).is_empty());
        assert!(d.delete(DeleteBatch { table: POST, pk: &id, keys: vec![] }).is_empty());
        let nothing_to_set = UpdateBatch {
            table: POST,
            pk: &id,
            set: vec![],
            version: None,
            rows: vec![UpdateRow { key: Value::I32(1), values: vec![], version: None }],
        };
        assert!(d.update(nothing_to_set).is_empty());
    }

    #[test]
    fn update_sets_only_the_given_columns_from_unnest() {
        let (id, title, body) = (
            column("id", ColumnType::I32),
            column("title", ColumnType::Varchar(255)),
            column("content", ColumnType::Text),
        );
        let batch = UpdateBatch {
            table: POST,
            pk: &id,
            set: vec![&title, &body],
            version: None,
            rows: vec![
                UpdateRow {
                    key: Value::I32(1),
                    values: vec![text("t1"), text("c1")],
                    version: None,
                },
                UpdateRow {
                    key: Value::I32(2),
                    values: vec![text("t2"), Value::Null],
                    version: None,
                },
            ],
        };
        let statements = PgDialect::new().update(batch);
        assert_eq!(statements.len(), 1);
        let s = &statements[0];
        assert_eq!(
            s.sql,
            r#"UPDATE "post" AS t0 SET "title" = u."title", "content" = u."content" FROM UNNEST($1::int4[], $2::text[], $3::text[]) AS u("id", "title", "content") WHERE t0."id" = u."id""#
        );
        assert_eq!(
            s.params,
            vec![
                Param::Array(ColumnType::I32, vec![Value::I32(1), Value::I32(2)]),
                Param::Array(ColumnType::Varchar(255), vec![text("t1"), text("t2")]),
                Param::Array(ColumnType::Text, vec![text("c1"), Value::Null]),
            ]
        );
        assert!(s.returns.is_empty());
        assert_eq!(s.kind, StatementKind::Update);
    }

    #[test]
    fn versioned_update_checks_old_versions_and_returns_the_updated_keys() {
        let (id, title, version) = (
            column("id", ColumnType::Uuid),
            column("title", ColumnType::Text),
            column("version", ColumnType::I32),
        );
        let key = Value::Uuid(uuid::Uuid::nil());
        let batch = UpdateBatch {
            table: TableName { schema: Some("blog"), name: "post" },
            pk: &id,
            set: vec![&title],
            version: Some(&version),
            rows: vec![UpdateRow { key, values: vec![text("t")], version: Some(Value::I32(3)) }],
        };
        let s = &PgDialect::new().update(batch)[0];
        assert_eq!(
            s.sql,
            r#"UPDATE "blog"."post" AS t0 SET "title" = u."title", "version" = t0."version" + 1 FROM UNNEST($1::uuid[], $2::text[], $3::int4[]) AS u("id", "title", "__strata_version") WHERE t0."id" = u."id" AND t0."version" = u."__strata_version" RETURNING t0."id""#
        );
        assert_eq!(s.params[2], Param::Array(ColumnType::I32, vec![Value::I32(3)]));
        assert_eq!(s.returns, vec![ColumnType::Uuid]);
    }

    #[test]
    fn versioned_update_without_changed_columns_still_bumps_the_version() {
        let (id, version) = (column("id", ColumnType::I64), column("version", ColumnType::I32));
        let batch = UpdateBatch {
            table: POST,
            pk: &id,
            set: vec![],
            version: Some(&version),
            rows: vec![UpdateRow { key: Value::I64(1), values: vec![], version: None }],
        };
        let s = &PgDialect::new().update(batch)[0];
        assert_eq!(
            s.sql,
            r#"UPDATE "post" AS t0 SET "version" = t0."version" + 1 FROM UNNEST($1::int8[], $2::int4[]) AS u("id", "__strata_version") WHERE t0."id" = u."id" AND t0."version" = u."__strata_version" RETURNING t0."id""#
        );
        assert_eq!(s.params[1], Param::Array(ColumnType::I32, vec![Value::Null]));
    }

    #[test]
    fn delete_binds_the_keys_as_one_array() {
        let id = column("id", ColumnType::I32);
        let batch = DeleteBatch { table: POST, pk: &id, keys: vec![Value::I32(4), Value::I32(5)] };
        let s = &PgDialect::new().delete(batch)[0];
        assert_eq!(s.sql, r#"DELETE FROM "post" WHERE "id" = ANY($1::int4[])"#);
        assert_eq!(
            s.params,
            vec![Param::Array(ColumnType::I32, vec![Value::I32(4), Value::I32(5)])]
        );
        assert_eq!(s.kind, StatementKind::Delete);
    }

    #[test]
    fn identifiers_with_quotes_are_escaped_and_schemas_qualified() {
        let id = column("i\"d", ColumnType::I32);
        let title = column("ti\"tle", ColumnType::Text);
        let table = TableName { schema: Some("my\"schema"), name: "po\"st" };
        let d = PgDialect::new();
        let insert = InsertBatch {
            table,
            columns: vec![&title],
            rows: vec![vec![text("x")]],
            returning: vec![&id],
        };
        assert_eq!(
            d.insert(insert)[0].sql,
            r#"INSERT INTO "my""schema"."po""st" ("ti""tle") SELECT * FROM UNNEST($1::text[]) RETURNING "i""d""#
        );
        let update = UpdateBatch {
            table,
            pk: &id,
            set: vec![&title],
            version: None,
            rows: vec![UpdateRow { key: Value::I32(1), values: vec![text("x")], version: None }],
        };
        assert_eq!(
            d.update(update)[0].sql,
            r#"UPDATE "my""schema"."po""st" AS t0 SET "ti""tle" = u."ti""tle" FROM UNNEST($1::int4[], $2::text[]) AS u("i""d", "ti""tle") WHERE t0."i""d" = u."i""d""#
        );
        let delete = DeleteBatch { table, pk: &id, keys: vec![Value::I32(1)] };
        assert_eq!(
            d.delete(delete)[0].sql,
            r#"DELETE FROM "my""schema"."po""st" WHERE "i""d" = ANY($1::int4[])"#
        );
    }

    #[test]
    fn placeholders_are_dollar_numbers() {
        let mut out = String::new();
        PgDialect::new().placeholder(12, &mut out);
        assert_eq!(out, "$12");
        assert!(PgDialect::new().has_ilike());
        assert_eq!(PgDialect::new().batch_rows(3), DEFAULT_BATCH_ROWS);
        assert_eq!(PgDialect::new().with_batch_rows(0).batch_rows(3), 1);
    }
}
