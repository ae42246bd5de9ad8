//! The set-based statements of a flush, written once for every database.
//!
//! The shapes are the same everywhere; only how a *set of rows* and a *set of keys* are bound
//! differs, and that is what a [`Dialect`] supplies:
//!
//! ```text
//! INSERT INTO t ("a", "b") <rows>                      RETURNING "id"
//! UPDATE t AS t0 SET "a" = <u.a> FROM <row set> AS u WHERE t0."id" = <u.id>
//!                [AND t0."version" = <u.old version> RETURNING "id"]
//! DELETE FROM t WHERE "id" <key set>
//! ```
//!
//! | part | PostgreSQL | SQLite |
//! | --- | --- | --- |
//! | rows | `SELECT * FROM UNNEST($1::text[], $2::int4[])` | `VALUES (?1, ?2), (?3, ?4)` |
//! | row set | `UNNEST(…) AS u("id", "a")`, columns `u."a"` | `(VALUES …) AS u`, columns `u.column2` |
//! | key set | `= ANY($1::int4[])` | `IN (?1, ?2)` |
//! | chunks | 10,000 rows | 32,766 parameters |
//!
//! Each batch is split into statements of at most [`Dialect::batch_rows`] rows. Relations add
//! pivot-table inserts and deletes and select-in loads that differ in exactly these ways, and
//! build on the same parts.

use super::SqlWriter;
use crate::dialect::{DeleteBatch, Dialect, InsertBatch, TableName, UpdateBatch, owned_chunks};
use crate::driver::{CopyIn, Statement, StatementKind};
use crate::metadata::ColumnMeta;
use crate::value::{ColumnType, Value};

/// The alias of the updated table. Aliasing it always keeps `UPDATE … FROM … AS u` valid for
/// schema-qualified tables and for a table that happens to be named `u`.
pub const TARGET: &str = "t0";
/// The alias of the row set of an UPDATE.
pub const ROWS: &str = "u";
/// The row-set column holding each row's old version; cannot clash with a column name the
/// naming strategy produces.
pub const OLD_VERSION: &str = "__strata_version";

/// A set of rows in `FROM`, named `alias`, with these columns: what an UPDATE reads its new
/// values (and old versions) from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSet<'a> {
    /// The name the statement refers to it by.
    pub alias: &'a str,
    /// Its columns, in row order.
    pub columns: &'a [RowSetColumn<'a>],
}

/// One column of a row set: its name in the row set and the type its values are bound as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowSetColumn<'a> {
    /// The name (PostgreSQL names the row set's columns; SQLite numbers them).
    pub name: &'a str,
    /// The type of its values.
    pub ty: ColumnType,
}

/// The flush statements of a dialect: `dialect.insert(batch)`, `dialect.update(batch)`,
/// `dialect.delete(batch)`, each a list of statements (one per chunk of rows).
pub trait FlushStatements {
    /// The INSERT statements of a batch. The batch is taken by value so that its values move
    /// into the statements' parameters uncopied.
    fn insert(&self, batch: InsertBatch<'_>) -> Vec<Statement>;
    /// The UPDATE statements of a batch (none when there is nothing to set).
    fn update(&self, batch: UpdateBatch<'_>) -> Vec<Statement>;
    /// The DELETE statements of a batch.
    fn delete(&self, batch: DeleteBatch<'_>) -> Vec<Statement>;
}

impl<D: Dialect> FlushStatements for D {
    fn insert(&self, batch: InsertBatch<'_>) -> Vec<Statement> {
        insert(self, batch)
    }
    fn update(&self, batch: UpdateBatch<'_>) -> Vec<Statement> {
        update(self, batch)
    }
    fn delete(&self, batch: DeleteBatch<'_>) -> Vec<Statement> {
        delete(self, batch)
    }
}

impl FlushStatements for dyn Dialect {
    fn insert(&self, batch: InsertBatch<'_>) -> Vec<Statement> {
        insert(self, batch)
    }
    fn update(&self, batch: UpdateBatch<'_>) -> Vec<Statement> {
        update(self, batch)
    }
    fn delete(&self, batch: DeleteBatch<'_>) -> Vec<Statement> {
        delete(self, batch)
    }
}

fn insert(d: &dyn Dialect, batch: InsertBatch<'_>) -> Vec<Statement> {
    let InsertBatch { table, columns, rows, returning } = batch;
    let returns: Vec<ColumnType> = returning.iter().map(|c| c.ty).collect();
    let per = if columns.is_empty() {
        d.default_rows_per_statement()
    } else {
        d.batch_rows(columns.len())
    };
    owned_chunks(rows, per)
        .into_iter()
        .map(|chunk| {
            let mut w = SqlWriter::new(d);
            w.push("INSERT INTO ").table(table);
            if columns.is_empty() {
                // Every column takes its default.
                d.default_rows(&mut w, chunk.len());
            } else {
                w.push(" (").columns(columns.iter().copied()).push(")");
                let types: Vec<ColumnType> = columns.iter().map(|c| c.ty).collect();
                d.insert_rows(&mut w, &types, chunk);
            }
            if !returning.is_empty() {
                w.push(" RETURNING ").columns(returning.iter().copied());
            }
            w.finish(StatementKind::Insert, returns.clone())
        })
        .collect()
}

fn update(d: &dyn Dialect, batch: UpdateBatch<'_>) -> Vec<Statement> {
    let UpdateBatch { table, pk, set, version, rows } = batch;
    if set.is_empty() && version.is_none() {
        return Vec::new();
    }
    // The row set: the key, the new values, then the old version.
    let mut columns: Vec<RowSetColumn<'_>> = Vec::with_capacity(set.len() + 2);
    columns.push(RowSetColumn { name: pk.name, ty: pk.ty });
    columns.extend(set.iter().map(|c| RowSetColumn { name: c.name, ty: c.ty }));
    if let Some(v) = version {
        columns.push(RowSetColumn { name: OLD_VERSION, ty: v.ty });
    }
    let row_set = RowSet { alias: ROWS, columns: &columns };
    let per = d.batch_rows(columns.len());
    owned_chunks(rows, per)
        .into_iter()
        .map(|chunk| {
            let mut w = SqlWriter::new(d);
            w.push("UPDATE ").table(table).push(" AS ").push(TARGET).push(" SET ");
            for (i, column) in set.iter().enumerate() {
                if i > 0 {
                    w.push(", ");
                }
                w.ident(column.name).push(" = ");
                d.row_set_column(&mut w, &row_set, i + 1);
            }
            if let Some(version) = version {
                if !set.is_empty() {
                    w.push(", ");
                }
                w.ident(version.name).push(" = ").push(TARGET).push(".").ident(version.name);
                w.push(" + 1");
            }
            let values = chunk
                .into_iter()
                .map(|row| {
                    // The row's own vector becomes the row set's row: no allocation per row
                    // when it was made with room for the key and the version.
                    let mut values = row.values;
                    values.insert(0, row.key);
                    if version.is_some() {
                        values.push(row.version.unwrap_or(Value::Null));
                    }
                    values
                })
                .collect();
            w.push(" FROM ");
            d.row_set(&mut w, &row_set, values);
            w.push(" WHERE ").push(TARGET).push(".").ident(pk.name).push(" = ");
            d.row_set_column(&mut w, &row_set, 0);
            let returns = match version {
                Some(version) => {
                    w.push(" AND ").push(TARGET).push(".").ident(version.name).push(" = ");
                    d.row_set_column(&mut w, &row_set, columns.len() - 1);
                    w.push(" RETURNING ");
                    if d.qualifies_returning() {
                        w.push(TARGET).push(".");
                    }
                    w.ident(pk.name);
                    vec![pk.ty]
                }
                None => Vec::new(),
            };
            w.finish(StatementKind::Update, returns)
        })
        .collect()
}

/// The pivot table of a many-to-many relation, as the flush writes it.
#[derive(Debug, Clone, Copy)]
pub struct Pivot<'a> {
    /// The table.
    pub table: TableName<'a>,
    /// The column of the owners' keys, and their type.
    pub owner: RowSetColumn<'a>,
    /// The column of the targets' keys, and their type.
    pub target: RowSetColumn<'a>,
}

/// `INSERT INTO pivot (owner, target) <rows> ON CONFLICT DO NOTHING`, chunked: the pairs a flush
/// adds. A collection is a set, so a pair the pivot has already (written meanwhile through
/// another EntityManager, or added to a collection that was not loaded) is no error.
pub fn pivot_insert(d: &dyn Dialect, pivot: Pivot<'_>, pairs: Vec<Vec<Value>>) -> Vec<Statement> {
    let types = [pivot.owner.ty, pivot.target.ty];
    owned_chunks(pairs, d.batch_rows(2))
        .into_iter()
        .map(|chunk| {
            let mut w = SqlWriter::new(d);
            w.push("INSERT INTO ").table(pivot.table).push(" (").ident(pivot.owner.name);
            w.push(", ").ident(pivot.target.name).push(")");
            d.insert_rows(&mut w, &types, chunk);
            w.push(" ON CONFLICT DO NOTHING");
            w.finish(StatementKind::Insert, Vec::new())
        })
        .collect()
}

/// `DELETE FROM pivot WHERE (owner, target) IN (SELECT … FROM <row set>)`, chunked: the pairs a
/// flush removes.
pub fn pivot_delete(d: &dyn Dialect, pivot: Pivot<'_>, pairs: Vec<Vec<Value>>) -> Vec<Statement> {
    let columns = [pivot.owner, pivot.target];
    let set = RowSet { alias: ROWS, columns: &columns };
    owned_chunks(pairs, d.batch_rows(2))
        .into_iter()
        .map(|chunk| {
            let mut w = SqlWriter::new(d);
            w.push("DELETE FROM ").table(pivot.table).push(" WHERE (").ident(pivot.owner.name);
            w.push(", ").ident(pivot.target.name).push(") IN (SELECT ");
            d.row_set_column(&mut w, &set, 0);
            w.push(", ");
            d.row_set_column(&mut w, &set, 1);
            w.push(" FROM ");
            d.row_set(&mut w, &set, chunk);
            w.push(")");
            w.finish(StatementKind::Delete, Vec::new())
        })
        .collect()
}

/// `DELETE FROM pivot WHERE owner <key set>`: every pair of these owners (a collection `set`
/// without loading it).
pub fn pivot_clear(d: &dyn Dialect, pivot: Pivot<'_>, owners: Vec<Value>) -> Vec<Statement> {
    owned_chunks(owners, d.batch_rows(1))
        .into_iter()
        .map(|keys| {
            let mut w = SqlWriter::new(d);
            w.push("DELETE FROM ").table(pivot.table).push(" WHERE ").ident(pivot.owner.name);
            d.key_set(&mut w, pivot.owner.ty, keys);
            w.finish(StatementKind::Delete, Vec::new())
        })
        .collect()
}

fn delete(d: &dyn Dialect, batch: DeleteBatch<'_>) -> Vec<Statement> {
    let DeleteBatch { table, pk, keys } = batch;
    owned_chunks(keys, d.batch_rows(1))
        .into_iter()
        .map(|keys| {
            let mut w = SqlWriter::new(d);
            w.push("DELETE FROM ").table(table).push(" WHERE ").ident(pk.name);
            d.key_set(&mut w, pk.ty, keys);
            w.finish(StatementKind::Delete, Vec::new())
        })
        .collect()
}

/// The query that allocates `n` keys for the new rows of `table` before they go by `COPY`
/// (see [`Dialect::allocate_keys`]).
pub fn allocate_keys(
    d: &dyn Dialect,
    table: TableName<'_>,
    pk: &ColumnMeta,
    n: usize,
) -> Statement {
    let mut w = SqlWriter::new(d);
    d.allocate_keys(&mut w, table, pk, n);
    w.finish(StatementKind::Select, vec![pk.ty])
}

/// The `COPY` of `rows` (one value per column of `columns`) into `table`, with the query that
/// tells the driver the columns' types.
pub fn copy_in(
    d: &dyn Dialect,
    table: TableName<'_>,
    columns: &[&ColumnMeta],
    rows: Vec<Vec<Value>>,
) -> CopyIn {
    let mut copy = SqlWriter::new(d);
    copy.push("COPY ").table(table).push(" (").columns(columns.iter().copied());
    copy.push(") FROM STDIN (FORMAT binary)");
    let mut probe = SqlWriter::new(d);
    probe.push("SELECT ").columns(columns.iter().copied()).push(" FROM ").table(table);
    probe.push(" WHERE false");
    CopyIn {
        sql: copy.finish(StatementKind::Insert, Vec::new()).sql,
        probe: probe.finish(StatementKind::Select, Vec::new()).sql,
        rows,
    }
}
