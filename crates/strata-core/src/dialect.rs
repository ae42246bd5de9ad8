//! SQL dialects: how statements are rendered for one database.
//!
//! All SQL is written once, in [`crate::sql`] (identifiers are quoted the same way everywhere,
//! by [`crate::sql::quote_ident`]); a dialect supplies only what differs between databases:
//! placeholders, capabilities, and how a set of rows and a set of keys are
//! bound (`UNNEST` arrays on PostgreSQL, multi-row `VALUES` on SQLite), with the chunking that
//! follows from it. The statements of a flush are built from those parts by
//! [`crate::sql::flush`].

use crate::db_kind::DbKind;
use crate::metadata::ColumnMeta;
use crate::sql::SqlWriter;
use crate::sql::flush::RowSet;
use crate::value::{ColumnType, Value};

/// A possibly schema-qualified table name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableName<'a> {
    /// The schema, if any.
    pub schema: Option<&'a str>,
    /// The table.
    pub name: &'a str,
}

/// New rows of one table with the same column set: one or more INSERT statements.
#[derive(Debug)]
pub struct InsertBatch<'a> {
    /// The table.
    pub table: TableName<'a>,
    /// The inserted columns.
    pub columns: Vec<&'a ColumnMeta>,
    /// One row per entity, values in `columns` order.
    pub rows: Vec<Vec<Value>>,
    /// Columns the database generates and the statement must return, in this order, one row
    /// per inserted row in insertion order.
    pub returning: Vec<&'a ColumnMeta>,
}

/// Changed rows of one table with the same set of changed columns.
#[derive(Debug)]
pub struct UpdateBatch<'a> {
    /// The table.
    pub table: TableName<'a>,
    /// The primary-key column.
    pub pk: &'a ColumnMeta,
    /// The columns to set.
    pub set: Vec<&'a ColumnMeta>,
    /// The version column: when present, each row's UPDATE must match its old version, sets
    /// `version = version + 1`, and the statement returns the primary keys it updated.
    pub version: Option<&'a ColumnMeta>,
    /// The rows.
    pub rows: Vec<UpdateRow>,
}

/// One row of an [`UpdateBatch`].
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateRow {
    /// The primary key.
    pub key: Value,
    /// The new values, in `set` order. Made with room for two more values, it becomes a row of
    /// the statement's row set without an allocation.
    pub values: Vec<Value>,
    /// The version the row had when loaded (only with a version column).
    pub version: Option<Value>,
}

/// Rows of one table to delete by primary key.
#[derive(Debug)]
pub struct DeleteBatch<'a> {
    /// The table.
    pub table: TableName<'a>,
    /// The primary-key column.
    pub pk: &'a ColumnMeta,
    /// The keys.
    pub keys: Vec<Value>,
}

/// The SQL dialect of one database.
pub trait Dialect: Send + Sync + 'static {
    /// The database this dialect renders for.
    fn kind(&self) -> DbKind;

    /// Writes the placeholder of parameter `n` (1-based): `$1` or `?1`.
    fn placeholder(&self, n: usize, out: &mut String);

    /// True when the database has `ILIKE`; otherwise `lower(col) LIKE lower(pattern)` is used.
    fn has_ilike(&self) -> bool;

    /// What follows a LIKE pattern so that a backslash escapes `%`, `_` and itself, as it does
    /// by default on PostgreSQL (`" ESCAPE '\'"` on SQLite). LIKE must also be
    /// case-sensitive on every database.
    fn like_escape(&self) -> &'static str {
        ""
    }

    /// What `LIMIT` takes to mean "no limit", for an OFFSET without a LIMIT: `ALL`
    /// (PostgreSQL), `-1` (SQLite, which requires a LIMIT before an OFFSET).
    fn no_limit(&self) -> &'static str {
        "ALL"
    }

    /// The most rows one statement carries when each row has `columns` values (the test suite
    /// asserts statement counts with it). At least 1.
    fn batch_rows(&self, columns: usize) -> usize;

    /// Appends the rows of an INSERT after its column list, one value per column (of the types
    /// `types`) in each row: ` SELECT * FROM UNNEST($1::text[], …)` or ` VALUES (?1, ?2), …`.
    fn insert_rows(&self, w: &mut SqlWriter<'_>, types: &[ColumnType], rows: Vec<Vec<Value>>);

    /// Appends what makes an INSERT without columns insert `rows` rows of defaults:
    /// ` SELECT FROM generate_series(1, $1::int8)` or ` DEFAULT VALUES` (one row).
    fn default_rows(&self, w: &mut SqlWriter<'_>, rows: usize);

    /// The most rows of defaults one INSERT inserts (see [`Dialect::default_rows`]).
    fn default_rows_per_statement(&self) -> usize;

    /// Appends `rows` (each with one value per column of `set`) as a set usable in `FROM`:
    /// `UNNEST(…) AS u("id", "a")` or `(VALUES (?1, ?2), …) AS u`.
    fn row_set(&self, w: &mut SqlWriter<'_>, set: &RowSet<'_>, rows: Vec<Vec<Value>>);

    /// Appends a reference to the column at `index` of `set`: `u."a"` or `u.column2`.
    fn row_set_column(&self, w: &mut SqlWriter<'_>, set: &RowSet<'_>, index: usize);

    /// Appends the test that a column (written just before) is one of `keys`, all of type
    /// `ty`: ` = ANY($1::int4[])` or ` IN (?1, ?2)`.
    fn key_set(&self, w: &mut SqlWriter<'_>, ty: ColumnType, keys: Vec<Value>);

    /// The least number of new rows of one table that a flush sends by `COPY`
    /// ([`crate::driver::Connection::copy_in`]) rather than by INSERT, database-generated keys
    /// allocated first with [`Dialect::allocate_keys`]; `None`: never (the default).
    fn copy_rows_from(&self) -> Option<usize> {
        None
    }

    /// Appends a query returning `n` new keys for `pk` of `table` from the key's sequence, one
    /// row each, typed as the column: `SELECT nextval(…)::int4 FROM generate_series(1, $3)`.
    /// It must return no row when the column has no sequence or takes no value but its own
    /// (`GENERATED ALWAYS`): the flush then inserts those rows by INSERT. Only called when
    /// [`Dialect::copy_rows_from`] is `Some`.
    fn allocate_keys(
        &self,
        w: &mut SqlWriter<'_>,
        table: TableName<'_>,
        pk: &ColumnMeta,
        n: usize,
    ) {
        let _ = (w, table, pk, n);
    }

    /// True when `RETURNING` of an `UPDATE … AS t0` names columns as `t0."id"` (PostgreSQL);
    /// SQLite takes the bare column name.
    fn qualifies_returning(&self) -> bool {
        true
    }
}

/// Splits `items` into owned chunks of at most `per` items (at least one per chunk), in order;
/// no chunk for no items. Dialects chunk their batches with it.
///
/// ```
/// use strata_core::dialect::owned_chunks;
/// assert_eq!(owned_chunks(vec![1, 2, 3, 4, 5], 2), vec![vec![1, 2], vec![3, 4], vec![5]]);
/// assert!(owned_chunks(Vec::<i32>::new(), 2).is_empty());
/// ```
pub fn owned_chunks<T>(items: Vec<T>, per: usize) -> Vec<Vec<T>> {
    let per = per.max(1);
    if items.is_empty() {
        return Vec::new();
    }
    if items.len() <= per {
        return vec![items];
    }
    let mut out = Vec::with_capacity(items.len().div_ceil(per));
    let mut rest = items.into_iter();
    loop {
        let chunk: Vec<T> = rest.by_ref().take(per).collect();
        if chunk.is_empty() {
            return out;
        }
        out.push(chunk);
    }
}
