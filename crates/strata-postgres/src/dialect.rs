//! The PostgreSQL dialect: `$n` placeholders, `ILIKE`, and the set-based statements of a flush.
//!
//! A flush writes each group of rows with one statement per chunk of
//! [`PgDialect::with_batch_rows`] rows, whatever the number of rows: every column travels as
//! one array parameter, so the statement text (and its cached prepared statement) is the same
//! for 3 rows and for 10,000.
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
use strata_core::dialect::{DeleteBatch, Dialect, InsertBatch, UpdateBatch, owned_chunks};
use strata_core::driver::{Param, Statement, StatementKind};
use strata_core::metadata::ColumnMeta;
use strata_core::sql::SqlWriter;

/// Rows per flush statement unless [`PgDialect::with_batch_rows`] says otherwise.
pub const DEFAULT_BATCH_ROWS: usize = 10_000;

/// The alias of the updated table. Aliasing it always keeps `UPDATE … FROM UNNEST(…) AS u`
/// valid for schema-qualified tables and for a table that happens to be named `u`.
const TARGET: &str = "t0";
/// The alias of the `UNNEST` rows of an UPDATE.
const ROWS: &str = "u";
/// The `UNNEST` column holding each row's old version; cannot clash with a column name the
/// naming strategy produces.
const OLD_VERSION: &str = "__strata_version";

/// The SQL dialect of PostgreSQL.
///
/// # Examples
///
/// ```
/// use strata_core::dialect::{DeleteBatch, Dialect, TableName};
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

/// Appends `, ` before every item but the first.
fn comma(w: &mut SqlWriter<'_>, i: usize) {
    if i > 0 {
        w.push(", ");
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

    fn insert(&self, batch: InsertBatch<'_>) -> Vec<Statement> {
        let InsertBatch { table, columns, rows, returning } = batch;
        let returns: Vec<ColumnType> = returning.iter().map(|c| c.ty).collect();
        let per = self.batch_rows(columns.len()).max(1);
        owned_chunks(rows, per)
            .into_iter()
            .map(|chunk| {
                let mut w = SqlWriter::new(self);
                w.push("INSERT INTO ").table(table);
                if columns.is_empty() {
                    // Every column takes its default: one row per number of the series.
                    let rows = i64::try_from(chunk.len()).unwrap_or(i64::MAX);
                    w.push(" SELECT FROM generate_series(1, ").value(Value::I64(rows));
                    w.push("::int8)");
                } else {
                    // Rows to columns, moving each value into its column's array.
                    let mut arrays: Vec<Vec<Value>> =
                        columns.iter().map(|_| Vec::with_capacity(chunk.len())).collect();
                    for row in chunk {
                        for (array, value) in arrays.iter_mut().zip(row) {
                            array.push(value);
                        }
                    }
                    w.push(" (").columns(columns.iter().copied()).push(") SELECT * FROM UNNEST(");
                    for (i, (column, values)) in columns.iter().zip(arrays).enumerate() {
                        comma(&mut w, i);
                        array(&mut w, column.ty, values);
                    }
                    w.push(")");
                }
                if !returning.is_empty() {
                    w.push(" RETURNING ").columns(returning.iter().copied());
                }
                w.finish(StatementKind::Insert, returns.clone())
            })
            .collect()
    }

    fn update(&self, batch: UpdateBatch<'_>) -> Vec<Statement> {
        let UpdateBatch { table, pk, set, version, rows } = batch;
        if set.is_empty() && version.is_none() {
            return Vec::new();
        }
        let arrays = 1 + set.len() + usize::from(version.is_some());
        let per = self.batch_rows(arrays).max(1);
        owned_chunks(rows, per)
            .into_iter()
            .map(|chunk| {
                let n = chunk.len();
                let mut keys = Vec::with_capacity(n);
                let mut columns: Vec<Vec<Value>> =
                    set.iter().map(|_| Vec::with_capacity(n)).collect();
                let mut old_versions = Vec::with_capacity(if version.is_some() { n } else { 0 });
                for row in chunk {
                    keys.push(row.key);
                    for (column, value) in columns.iter_mut().zip(row.values) {
                        column.push(value);
                    }
                    if version.is_some() {
                        old_versions.push(row.version.unwrap_or(Value::Null));
                    }
                }
                let mut w = SqlWriter::new(self);
                w.push("UPDATE ").table(table).push(" AS ").push(TARGET).push(" SET ");
                for (i, column) in set.iter().enumerate() {
                    comma(&mut w, i);
                    w.ident(column.name).push(" = ").push(ROWS).push(".").ident(column.name);
                }
                if let Some(version) = version {
                    comma(&mut w, set.len());
                    w.ident(version.name).push(" = ").push(TARGET).push(".").ident(version.name);
                    w.push(" + 1");
                }
                w.push(" FROM UNNEST(");
                array(&mut w, pk.ty, keys);
                for (column, values) in set.iter().zip(columns) {
                    w.push(", ");
                    array(&mut w, column.ty, values);
                }
                if let Some(version) = version {
                    w.push(", ");
                    array(&mut w, version.ty, old_versions);
                }
                w.push(") AS ").push(ROWS).push("(").ident(pk.name);
                for column in &set {
                    w.push(", ").ident(column.name);
                }
                if version.is_some() {
                    w.push(", ").ident(OLD_VERSION);
                }
                w.push(") WHERE ");
                qualified(&mut w, TARGET, pk).push(" = ");
                qualified(&mut w, ROWS, pk);
                let returns = match version {
                    Some(version) => {
                        w.push(" AND ");
                        qualified(&mut w, TARGET, version).push(" = ").push(ROWS).push(".");
                        w.ident(OLD_VERSION).push(" RETURNING ");
                        qualified(&mut w, TARGET, pk);
                        vec![pk.ty]
                    }
                    None => Vec::new(),
                };
                w.finish(StatementKind::Update, returns)
            })
            .collect()
    }

    fn delete(&self, batch: DeleteBatch<'_>) -> Vec<Statement> {
        let DeleteBatch { table, pk, keys } = batch;
        let per = self.batch_rows(1).max(1);
        owned_chunks(keys, per)
            .into_iter()
            .map(|keys| {
                let mut w = SqlWriter::new(self);
                w.push("DELETE FROM ").table(table).push(" WHERE ").ident(pk.name);
                w.push(" = ANY(");
                array(&mut w, pk.ty, keys);
                w.push(")");
                w.finish(StatementKind::Delete, Vec::new())
            })
            .collect()
    }
}

/// Appends `alias."column"`.
fn qualified<'w, 'd>(
    w: &'w mut SqlWriter<'d>,
    alias: &str,
    column: &ColumnMeta,
) -> &'w mut SqlWriter<'d> {
    w.push(alias).push(".").ident(column.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::dialect::{TableName, UpdateRow};
    use strata_core::metadata::Generated;

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
