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
use strata_core::DbKind;
use strata_core::Value;
use strata_core::dialect::{Dialect, TableName};
use strata_core::driver::Param;
use strata_core::metadata::ColumnMeta;
use strata_core::sql::SqlWriter;
use strata_core::sql::flush::RowSet;

/// Rows per flush statement unless [`PgDialect::with_batch_rows`] says otherwise.
pub const DEFAULT_BATCH_ROWS: usize = 10_000;

/// The least number of new rows of one table worth loading by binary `COPY` rather than by
/// `INSERT … SELECT * FROM UNNEST(…)`, for [`PgDialect::with_copy_rows`]; below it the extra
/// round trip costs more than `COPY` saves.
///
/// `COPY` is off by default. Measured on 10,000 posts with `serial` keys (docs/benchmarks.md):
/// `COPY` itself takes half the time of the INSERT (20 ms against 39 ms), but the keys it
/// cannot return must be allocated first, one `nextval` per row (about 3 µs each: 34 ms), so
/// the whole is slower (55 ms). It pays for rows whose keys the application generates (UUIDs)
/// and that read nothing back: turn it on for such tables' bulk loads.
pub const DEFAULT_COPY_ROWS: usize = 1_000;

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
    copy_rows: Option<usize>,
}

impl PgDialect {
    /// The dialect with [`DEFAULT_BATCH_ROWS`] rows per flush statement.
    pub fn new() -> Self {
        Self { batch_rows: DEFAULT_BATCH_ROWS, copy_rows: None }
    }

    /// Sets the rows per flush statement (at least 1).
    #[must_use]
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Sets the least number of new rows of one table that a flush loads by `COPY`; `None`:
    /// always by INSERT.
    #[must_use]
    pub fn with_copy_rows(mut self, rows: Option<usize>) -> Self {
        self.copy_rows = rows.map(|r| r.max(1));
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
    fn kind(&self) -> DbKind {
        DbKind::Postgres
    }

    fn copy_rows_from(&self) -> Option<usize> {
        self.copy_rows
    }

    /// `nextval` of the column's sequence `n` times; no row when the column has no sequence
    /// or is `GENERATED ALWAYS` (`COPY` cannot write it).
    fn allocate_keys(
        &self,
        w: &mut SqlWriter<'_>,
        table: TableName<'_>,
        pk: &ColumnMeta,
        n: usize,
    ) {
        let mut name = String::new();
        if let Some(schema) = table.schema {
            strata_core::sql::push_ident(&mut name, schema);
            name.push('.');
        }
        strata_core::sql::push_ident(&mut name, table.name);
        let scalar = array_type(pk.ty).trim_end_matches("[]");
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        w.push("SELECT nextval(s.seq)::").push(scalar);
        w.push(" FROM (SELECT pg_get_serial_sequence(").value(Value::Text(name.clone()));
        w.push("::text, ").value(Value::Text(pk.name.to_owned())).push("::text) AS seq) AS s");
        w.push(" CROSS JOIN generate_series(1, ").value(Value::I64(n)).push("::int8)");
        w.push(" WHERE s.seq IS NOT NULL AND NOT EXISTS (SELECT FROM pg_attribute AS a");
        w.push(" WHERE a.attrelid = ").value(Value::Text(name)).push("::text::regclass");
        w.push(" AND a.attname = ").value(Value::Text(pk.name.to_owned()));
        w.push("::text AND a.attidentity = 'a')");
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

    fn row_set(&self, w: &mut SqlWriter<'_>, set: &RowSet<'_>, rows: Vec<Vec<Value>>) {
        w.push("UNNEST(");
        let values = columns_of(rows, set.columns.len());
        arrays(w, set.columns.iter().map(|c| c.ty).zip(values));
        w.push(") AS ").push(set.alias).push("(");
        for (i, c) in set.columns.iter().enumerate() {
            if i > 0 {
                w.push(", ");
            }
            w.ident(c.name);
        }
        w.push(")");
    }

    /// The row set's columns are named.
    fn row_set_column(&self, w: &mut SqlWriter<'_>, set: &RowSet<'_>, index: usize) {
        w.push(set.alias).push(".").ident(set.columns[index].name);
    }

    fn key_set(&self, w: &mut SqlWriter<'_>, ty: ColumnType, keys: Vec<Value>) {
        w.push(" = ANY(");
        array(w, ty, keys);
        w.push(")");
    }
}
