//! The change-set persister: renders a [`FlushPlan`] as set-based statements and runs them,
//! pipelined, on one connection inside a transaction (or a savepoint when the EntityManager is
//! already in one).
//!
//! A plan runs in waves: each wave's INSERTs go together (tables in commit order), and the keys
//! the database returns fill the foreign keys of the next wave's rows. The UPDATEs, the pivot
//! rows of many-to-many collections and the DELETEs (tables in reverse commit order) go with
//! the last wave, or right after it when they need the keys it returns. A plan without
//! relations between new rows is one round trip.

use super::FlushPlan;
use super::plan::{Cell, Pending, PivotOps, ReturnedRows};
use crate::dialect::{DeleteBatch, Dialect, InsertBatch, TableName, UpdateBatch};
use crate::driver::{Outcome, Statement};
use crate::error::{Error, ErrorKind, Result};
use crate::session::Session;
use crate::sql::FlushStatements;
use crate::sql::flush::{Pivot, RowSetColumn, pivot_clear, pivot_delete, pivot_insert};
use crate::value::Value;
use std::collections::HashMap;

/// Which batch a statement belongs to.
#[derive(Clone, Copy)]
enum Role {
    Insert {
        table: usize,
        group: usize,
    },
    Update {
        table: usize,
        group: usize,
    },
    Delete {
        table: usize,
    },
    /// Pivot rows and cycle fix-ups: written, not counted.
    Pivot,
    /// The keys allocated for an insert group that goes by `COPY`.
    Allocate {
        table: usize,
        group: usize,
    },
}

/// An insert group that goes by `COPY` once the batch it waits for has run.
struct Copy {
    table: usize,
    group: usize,
    /// Its rows' generated keys are allocated in the batch (else the rows carry their keys,
    /// or need none back).
    allocated: bool,
}

/// What the statements of a flush returned.
pub(crate) struct Executed {
    /// Per table, per insert group: the rows the INSERTs returned.
    pub(crate) returned: Vec<Vec<ReturnedRows>>,
    /// The key of every instance inserted, by address.
    pub(crate) keys: HashMap<usize, Value>,
}

/// Statements being gathered for one round trip.
#[derive(Default)]
struct Batch {
    statements: Vec<Statement>,
    roles: Vec<Role>,
}

impl Batch {
    fn push(&mut self, statements: Vec<Statement>, role: Role) {
        for s in statements {
            self.statements.push(s);
            self.roles.push(role);
        }
    }
}

/// Runs the plan on `session`, which is inside a transaction or savepoint, wave by wave.
///
/// Every row a flush updates or deletes must still exist: a versioned UPDATE that matched no
/// row is an [`ErrorKind::OptimisticLock`] conflict, any other UPDATE or DELETE that matched
/// fewer rows than it names is [`ErrorKind::RowGone`] (another writer deleted the row).
pub(crate) async fn execute(
    session: &mut Session<'_>,
    plan: &mut FlushPlan,
    dialect: &dyn Dialect,
    default_schema: Option<&str>,
) -> Result<Executed> {
    let mut keys: HashMap<usize, Value> = HashMap::new();
    let mut returned: Vec<Vec<ReturnedRows>> =
        plan.tables.iter().map(|(_, tp)| vec![Vec::new(); tp.inserts.len()]).collect();
    let mut counts = Counts::new(plan);
    // The keys the rows carry (application-generated) are known before anything is sent.
    for (_, tp) in plan.tables.iter().filter(|_| plan.relations) {
        for group in &tp.inserts {
            if let Some(at) = group.key_at {
                for (row, addr) in group.rows.iter().zip(&group.addrs) {
                    keys.insert(*addr, row[at].clone());
                }
            }
        }
    }
    // The groups that go by COPY have their generated keys allocated in the first round trip:
    // from then on the rows that refer to them know their keys.
    let mut allocated: HashMap<(usize, usize), Vec<Value>> = HashMap::new();
    let mut final_sent = false;
    for wave in 0..plan.waves {
        let mut batch = Batch::default();
        if wave == 0 {
            render_allocations(plan, dialect, default_schema, &mut batch);
        }
        let copies =
            render_inserts(plan, wave, &keys, &allocated, dialect, default_schema, &mut batch)?;
        let last = wave + 1 == plan.waves;
        // The rows that go by COPY are written after the batch: the final statements, which
        // may need them, wait for them.
        if last && copies.is_empty() && final_ready(plan, &keys) {
            render_final(plan, &keys, dialect, default_schema, &mut batch)?;
            final_sent = true;
        }
        let outcomes = session.run_all(&batch.statements).await?;
        let fresh = record(plan, &batch.roles, outcomes, &mut returned, &mut keys, &mut counts);
        for ((t, g), group_keys) in fresh {
            let group = &plan.tables[t].1.inserts[g];
            // One key per row, or none (no sequence, GENERATED ALWAYS): then by INSERT.
            if group_keys.len() == group.len && !group_keys.iter().any(Value::is_null) {
                for (addr, key) in group.addrs.iter().zip(&group_keys) {
                    keys.insert(*addr, key.clone());
                }
                allocated.insert((t, g), group_keys);
            }
        }
        if !copies.is_empty() {
            let mut copied = Ctx { returned: &mut returned, keys: &mut keys, counts: &mut counts };
            run_copies(session, plan, copies, &mut allocated, dialect, default_schema, &mut copied)
                .await?;
        }
    }
    if !final_sent {
        let mut batch = Batch::default();
        render_final(plan, &keys, dialect, default_schema, &mut batch)?;
        let outcomes = session.run_all(&batch.statements).await?;
        record(plan, &batch.roles, outcomes, &mut returned, &mut keys, &mut counts);
    }
    counts.check(plan, &returned)?;
    Ok(Executed { returned, keys })
}

fn table_name<'a>(tp: &'a super::plan::TablePlan, schema: Option<&'a str>) -> TableName<'a> {
    TableName { schema: tp.meta.schema_or(schema), name: tp.meta.table }
}

/// The value a pending cell waits for: the key of a row inserted in an earlier wave.
fn key_of(keys: &HashMap<usize, Value>, target: usize) -> Result<Value> {
    keys.get(&target).cloned().ok_or_else(|| {
        Error::usage("a row waits for the key of another that the flush has not inserted yet")
    })
}

fn fill(rows: &mut [Vec<Value>], pending: &[Pending], keys: &HashMap<usize, Value>) -> Result<()> {
    for p in pending {
        rows[p.row][p.at] = key_of(keys, p.target)?;
    }
    Ok(())
}

/// Renders the INSERTs of `wave` into `batch`; returns the insert groups that go by `COPY`
/// instead (their key allocations, if any, are in the batch).
fn render_inserts(
    plan: &mut FlushPlan,
    wave: usize,
    keys: &HashMap<usize, Value>,
    allocated: &HashMap<(usize, usize), Vec<Value>>,
    dialect: &dyn Dialect,
    schema: Option<&str>,
    batch: &mut Batch,
) -> Result<Vec<Copy>> {
    let mut copies = Vec::new();
    for (t, (_, tp)) in plan.tables.iter_mut().enumerate() {
        let meta = tp.meta;
        let table = TableName { schema: meta.schema_or(schema), name: meta.table };
        for (g, group) in tp.inserts.iter_mut().enumerate() {
            if group.wave != wave {
                continue;
            }
            fill(&mut group.rows, &group.pending, keys)?;
            // Groups of later waves whose keys could not be allocated go by INSERT; those of
            // the first wave learn it with their allocation, and fall back then.
            match copy_plan(dialect, meta, group) {
                Some(false) => {
                    copies.push(Copy { table: t, group: g, allocated: false });
                    continue;
                }
                Some(true) if wave == 0 || allocated.contains_key(&(t, g)) => {
                    copies.push(Copy { table: t, group: g, allocated: true });
                    continue;
                }
                _ => {}
            }
            batch.push(
                dialect.insert(insert_batch(meta, table, group)),
                Role::Insert { table: t, group: g },
            );
        }
    }
    Ok(copies)
}

/// The key allocations of every insert group that goes by `COPY` with generated keys.
fn render_allocations(
    plan: &FlushPlan,
    dialect: &dyn Dialect,
    schema: Option<&str>,
    batch: &mut Batch,
) {
    for (t, (_, tp)) in plan.tables.iter().enumerate() {
        let meta = tp.meta;
        let table = TableName { schema: meta.schema_or(schema), name: meta.table };
        for (g, group) in tp.inserts.iter().enumerate() {
            if copy_plan(dialect, meta, group) == Some(true) {
                let allocate =
                    crate::sql::flush::allocate_keys(dialect, table, meta.pk(), group.len);
                batch.push(vec![allocate], Role::Allocate { table: t, group: g });
            }
        }
    }
}

/// The INSERT of an insert group (its rows move into the statements).
fn insert_batch<'a>(
    meta: &'a crate::metadata::EntityMeta,
    table: TableName<'a>,
    group: &mut super::plan::InsertGroup,
) -> InsertBatch<'a> {
    InsertBatch {
        table,
        columns: group.columns.iter().map(|&c| &meta.columns[c]).collect(),
        rows: std::mem::take(&mut group.rows),
        returning: group.returning.iter().map(|&c| &meta.columns[c]).collect(),
    }
}

/// Whether an insert group goes by `COPY`: `Some(true)` with its generated keys allocated
/// first, `Some(false)` when it needs nothing back, `None` by INSERT. Only large groups of a
/// dialect that can, whose INSERT would return nothing but the generated key (columns filled by
/// database defaults must be read back, which `COPY` cannot).
fn copy_plan(
    dialect: &dyn Dialect,
    meta: &crate::metadata::EntityMeta,
    group: &super::plan::InsertGroup,
) -> Option<bool> {
    let from = dialect.copy_rows_from()?;
    if group.len < from || group.columns.is_empty() {
        return None;
    }
    match group.returning.as_slice() {
        [] => Some(false),
        [only] if *only == meta.primary_key && group.key_returned_at == Some(0) => Some(true),
        _ => None,
    }
}

/// The state the statements' outcomes are recorded into.
struct Ctx<'a> {
    returned: &'a mut [Vec<ReturnedRows>],
    keys: &'a mut HashMap<usize, Value>,
    counts: &'a mut Counts,
}

/// Sends the insert groups that go by `COPY`, with the keys allocated for them; a group whose
/// keys could not be allocated (no sequence, or `GENERATED ALWAYS`) goes by INSERT instead.
async fn run_copies(
    session: &mut Session<'_>,
    plan: &mut FlushPlan,
    copies: Vec<Copy>,
    allocated: &mut HashMap<(usize, usize), Vec<Value>>,
    dialect: &dyn Dialect,
    schema: Option<&str>,
    ctx: &mut Ctx<'_>,
) -> Result<()> {
    let mut fallback = Batch::default();
    for Copy { table: t, group: g, allocated: with_keys } in copies {
        let meta = plan.tables[t].1.meta;
        let table = TableName { schema: meta.schema_or(schema), name: meta.table };
        let group = &mut plan.tables[t].1.inserts[g];
        let mut columns: Vec<&crate::metadata::ColumnMeta> =
            group.columns.iter().map(|&c| &meta.columns[c]).collect();
        let mut rows = std::mem::take(&mut group.rows);
        let keys = if with_keys {
            let Some(keys) = allocated.remove(&(t, g)) else {
                group.rows = rows;
                fallback.push(
                    dialect.insert(insert_batch(meta, table, group)),
                    Role::Insert { table: t, group: g },
                );
                continue;
            };
            columns.insert(0, meta.pk());
            for (row, key) in rows.iter_mut().zip(&keys) {
                row.insert(0, key.clone());
            }
            keys
        } else {
            Vec::new()
        };
        let copy = crate::sql::flush::copy_in(dialect, table, &columns, rows);
        let loaded = session.copy_in(copy).await?;
        let outcome =
            Outcome { rows_affected: loaded, rows: keys.into_iter().map(|k| vec![k]).collect() };
        record(
            plan,
            &[Role::Insert { table: t, group: g }],
            vec![outcome],
            ctx.returned,
            ctx.keys,
            ctx.counts,
        );
    }
    if !fallback.statements.is_empty() {
        let outcomes = session.run_all(&fallback.statements).await?;
        record(plan, &fallback.roles, outcomes, ctx.returned, ctx.keys, ctx.counts);
    }
    Ok(())
}

/// True when every key the final statements need is known.
fn final_ready(plan: &FlushPlan, keys: &HashMap<usize, Value>) -> bool {
    let cell_ready = |c: &Cell| match c {
        Cell::Known(_) => true,
        Cell::KeyOf(addr) => keys.contains_key(addr),
    };
    plan.tables.iter().all(|(_, tp)| {
        tp.updates.iter().all(|g| g.pending.iter().all(|p| keys.contains_key(&p.target)))
            && tp.fixups.iter().all(|f| cell_ready(&f.row) && cell_ready(&f.value))
            && tp.pivots.iter().all(|ops| {
                ops.clear_owners.iter().all(cell_ready)
                    && ops.delete.iter().all(|(a, b)| cell_ready(a) && cell_ready(b))
                    && ops.insert.iter().all(|(a, b)| cell_ready(a) && cell_ready(b))
            })
    })
}

/// Updates in commit order, pivot rows, then deletes in reverse commit order.
fn render_final(
    plan: &mut FlushPlan,
    keys: &HashMap<usize, Value>,
    dialect: &dyn Dialect,
    schema: Option<&str>,
    batch: &mut Batch,
) -> Result<()> {
    for (t, (_, tp)) in plan.tables.iter_mut().enumerate() {
        let meta = tp.meta;
        let table = TableName { schema: meta.schema_or(schema), name: meta.table };
        for (g, group) in tp.updates.iter_mut().enumerate() {
            for p in &group.pending {
                group.rows[p.row].values[p.at] = key_of(keys, p.target)?;
            }
            let rows = std::mem::take(&mut group.rows);
            // A version conflict names the keys of the rows not updated; a lone row that is
            // gone is named too.
            if group.versioned || rows.len() == 1 {
                group.keys = rows.iter().map(|r| r.key.clone()).collect();
            }
            let update = UpdateBatch {
                table,
                pk: meta.pk(),
                set: group.columns.iter().map(|&c| &meta.columns[c]).collect(),
                version: if group.versioned {
                    meta.version_column().map(|v| &meta.columns[v])
                } else {
                    None
                },
                rows,
            };
            batch.push(dialect.update(update), Role::Update { table: t, group: g });
        }
    }
    for (_, tp) in &mut plan.tables {
        render_fixups(tp, schema, keys, dialect, batch)?;
    }
    for (_, tp) in &mut plan.tables {
        let table_schema = tp.meta.schema_or(schema);
        for ops in &mut tp.pivots {
            render_pivot(ops, table_schema, keys, dialect, batch)?;
        }
    }
    for (t, (_, tp)) in plan.tables.iter_mut().enumerate().rev() {
        if tp.deletes.is_empty() {
            continue;
        }
        let keys = std::mem::take(&mut tp.deletes);
        if keys.len() == 1 {
            tp.lone_delete = keys.first().cloned();
        }
        let delete = DeleteBatch { table: table_name(tp, schema), pk: tp.meta.pk(), keys };
        batch.push(dialect.delete(delete), Role::Delete { table: t });
    }
    Ok(())
}

/// One UPDATE per column of the nullable foreign keys that broke a cycle of new rows.
fn render_fixups(
    tp: &mut super::plan::TablePlan,
    schema: Option<&str>,
    keys: &HashMap<usize, Value>,
    dialect: &dyn Dialect,
    batch: &mut Batch,
) -> Result<()> {
    let meta = tp.meta;
    let mut columns: Vec<usize> = tp.fixups.iter().map(|f| f.column).collect();
    columns.sort_unstable();
    columns.dedup();
    for column in columns {
        let mut rows = Vec::new();
        for f in tp.fixups.iter().filter(|f| f.column == column) {
            let value = |c: &Cell| match c {
                Cell::Known(v) => Ok(v.clone()),
                Cell::KeyOf(addr) => key_of(keys, *addr),
            };
            rows.push(crate::dialect::UpdateRow {
                key: value(&f.row)?,
                values: vec![value(&f.value)?],
                version: None,
            });
        }
        let update = UpdateBatch {
            table: TableName { schema: meta.schema_or(schema), name: meta.table },
            pk: meta.pk(),
            set: vec![&meta.columns[column]],
            version: None,
            rows,
        };
        batch.push(dialect.update(update), Role::Pivot);
    }
    Ok(())
}

fn render_pivot(
    ops: &mut PivotOps,
    schema: Option<&str>,
    keys: &HashMap<usize, Value>,
    dialect: &dyn Dialect,
    batch: &mut Batch,
) -> Result<()> {
    let value = |c: &Cell| match c {
        Cell::Known(v) => Ok(v.clone()),
        Cell::KeyOf(addr) => key_of(keys, *addr),
    };
    let pivot = Pivot {
        table: TableName { schema, name: &ops.table },
        owner: RowSetColumn { name: &ops.owner_column, ty: ops.owner_type },
        target: RowSetColumn { name: &ops.target_column, ty: ops.target_type },
    };
    if !ops.clear_owners.is_empty() {
        let owners = ops.clear_owners.iter().map(value).collect::<Result<Vec<_>>>()?;
        batch.push(pivot_clear(dialect, pivot, owners), Role::Pivot);
    }
    let pairs = |cells: &[(Cell, Cell)]| -> Result<Vec<Vec<Value>>> {
        cells.iter().map(|(a, b)| Ok(vec![value(a)?, value(b)?])).collect()
    };
    if !ops.delete.is_empty() {
        batch.push(pivot_delete(dialect, pivot, pairs(&ops.delete)?), Role::Pivot);
    }
    if !ops.insert.is_empty() {
        batch.push(pivot_insert(dialect, pivot, pairs(&ops.insert)?), Role::Pivot);
    }
    Ok(())
}

/// What the UPDATEs and DELETEs of a plan affected, to check when everything ran.
struct Counts {
    updated_keys: Vec<Vec<Vec<Value>>>,
    updated: Vec<Vec<u64>>,
    deleted: Vec<u64>,
}

impl Counts {
    fn new(plan: &FlushPlan) -> Self {
        Self {
            updated_keys: plan
                .tables
                .iter()
                .map(|(_, tp)| vec![Vec::new(); tp.updates.len()])
                .collect(),
            updated: plan.tables.iter().map(|(_, tp)| vec![0; tp.updates.len()]).collect(),
            deleted: vec![0; plan.tables.len()],
        }
    }

    fn check(&self, plan: &FlushPlan, returned: &[Vec<ReturnedRows>]) -> Result<()> {
        for (t, (_, tp)) in plan.tables.iter().enumerate() {
            for (g, group) in tp.inserts.iter().enumerate() {
                let got = returned[t][g].len();
                if got != group.len {
                    return Err(Error::new(
                        ErrorKind::Database,
                        format!(
                            "INSERT into {} returned {got} rows for {} new entities",
                            tp.meta.table, group.len
                        ),
                    ));
                }
            }
            for (g, group) in tp.updates.iter().enumerate() {
                if group.versioned {
                    let got = &self.updated_keys[t][g];
                    // RETURNING gives back only keys of this group, each once: every row was
                    // updated when the counts match. Only a conflict pays for the stale keys.
                    if got.len() == group.keys.len() {
                        continue;
                    }
                    let stale: Vec<String> =
                        group.keys.iter().filter(|k| !got.contains(k)).map(display_value).collect();
                    return Err(Error::new(
                        ErrorKind::OptimisticLock,
                        format!(
                            "optimistic lock failed for {} with key {}: the row was changed or \
                             deleted since it was loaded (version mismatch); reload it and retry",
                            tp.meta.name,
                            stale.join(", ")
                        ),
                    ));
                }
                if self.updated[t][g] != group.len as u64 {
                    let key = group.keys.first();
                    return Err(row_gone(tp, "update", group.len, self.updated[t][g], key));
                }
            }
            if self.deleted[t] != tp.delete_count as u64 {
                let key = tp.lone_delete.as_ref();
                return Err(row_gone(tp, "delete", tp.delete_count, self.deleted[t], key));
            }
        }
        Ok(())
    }
}

/// Takes the outcomes of one round trip: the rows INSERTs returned (and the generated keys
/// among them), the counts of UPDATEs and DELETEs.
fn record(
    plan: &FlushPlan,
    roles: &[Role],
    outcomes: Vec<Outcome>,
    returned: &mut [Vec<ReturnedRows>],
    keys: &mut HashMap<usize, Value>,
    counts: &mut Counts,
) -> HashMap<(usize, usize), Vec<Value>> {
    let mut allocated = HashMap::new();
    for (outcome, role) in outcomes.into_iter().zip(roles) {
        match *role {
            Role::Insert { table, group } => {
                let g = &plan.tables[table].1.inserts[group];
                let rows = &mut returned[table][group];
                let first = rows.len();
                if g.returning.is_empty() {
                    // Nothing generated: one empty row per inserted row.
                    let n = usize::try_from(outcome.rows_affected).unwrap_or(usize::MAX);
                    rows.extend(std::iter::repeat_n(Vec::new(), n));
                } else {
                    rows.extend(outcome.rows);
                }
                if let Some(at) = g.key_returned_at.filter(|_| plan.relations) {
                    for (row, addr) in rows[first..].iter().zip(&g.addrs[first..]) {
                        if let Some(key) = row.get(at) {
                            keys.insert(*addr, key.clone());
                        }
                    }
                }
            }
            Role::Update { table, group } => {
                counts.updated[table][group] += outcome.rows_affected;
                if plan.tables[table].1.updates[group].versioned {
                    counts.updated_keys[table][group]
                        .extend(outcome.rows.into_iter().filter_map(|mut r| r.pop()));
                }
            }
            Role::Delete { table } => counts.deleted[table] += outcome.rows_affected,
            Role::Pivot => {}
            Role::Allocate { table, group } => {
                allocated.insert(
                    (table, group),
                    outcome.rows.into_iter().filter_map(|mut r| r.pop()).collect(),
                );
            }
        }
    }
    allocated
}

/// The error of an UPDATE or DELETE that found fewer rows than it named.
fn row_gone(
    tp: &super::plan::TablePlan,
    operation: &str,
    expected: usize,
    found: u64,
    key: Option<&Value>,
) -> Error {
    let missing = (expected as u64).saturating_sub(found);
    let which = if expected == 1 {
        let key = key.map(|k| format!(" with key {}", display_value(k))).unwrap_or_default();
        format!("the {}{key} to {operation} no longer exists", tp.meta.name)
    } else {
        format!("{missing} of the {expected} {} rows to {operation} no longer exist", tp.meta.name)
    };
    Error::new(
        ErrorKind::RowGone,
        format!(
            "{which}: another writer deleted it since it was loaded; nothing was written \
             (refresh or forget the entity, then retry)"
        ),
    )
}

fn display_value(v: &Value) -> String {
    match v {
        Value::I16(x) => x.to_string(),
        Value::I32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        Value::Text(s) => s.clone(),
        Value::Uuid(u) => u.to_string(),
        other => format!("{other:?}"),
    }
}
