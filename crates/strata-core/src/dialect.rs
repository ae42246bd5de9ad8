//! SQL dialects: how statements are rendered for one database.
//!
//! Most SQL is shared (see [`crate::sql`]); a dialect supplies the placeholders, identifier
//! quoting, and the set-based write statements of a flush, which differ the most between
//! databases (`UNNEST` arrays on PostgreSQL, multi-row `VALUES` on SQLite).

use crate::driver::Statement;
use crate::metadata::ColumnMeta;
use crate::value::Value;

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
    /// The new values, in `set` order.
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
    /// The dialect's name (`postgres`, `sqlite`).
    fn name(&self) -> &'static str;

    /// Writes the placeholder of parameter `n` (1-based): `$1` or `?1`.
    fn placeholder(&self, n: usize, out: &mut String);

    /// Writes a quoted identifier.
    fn quote_ident(&self, ident: &str, out: &mut String) {
        out.push('"');
        for c in ident.chars() {
            if c == '"' {
                out.push('"');
            }
            out.push(c);
        }
        out.push('"');
    }

    /// True when the database has `ILIKE`; otherwise `lower(col) LIKE lower(pattern)` is used.
    fn has_ilike(&self) -> bool;

    /// What follows a LIKE pattern so that a backslash escapes `%`, `_` and itself, as it does
    /// by default on PostgreSQL (`" ESCAPE '\'"` on SQLite). LIKE must also be
    /// case-sensitive on every database.
    fn like_escape(&self) -> &'static str {
        ""
    }

    /// The most rows one flush statement carries (the test suite asserts statement counts
    /// with it).
    fn batch_rows(&self, columns: usize) -> usize;

    /// The INSERT statements for a batch, chunked by [`Dialect::batch_rows`]. The batch is
    /// taken by value so its values move into the statements' parameters uncopied.
    fn insert(&self, batch: InsertBatch<'_>) -> Vec<Statement>;

    /// The UPDATE statements for a batch, chunked.
    fn update(&self, batch: UpdateBatch<'_>) -> Vec<Statement>;

    /// The DELETE statements for a batch, chunked.
    fn delete(&self, batch: DeleteBatch<'_>) -> Vec<Statement>;
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
