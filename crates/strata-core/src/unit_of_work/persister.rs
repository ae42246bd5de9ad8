//! The change-set persister: renders a [`FlushPlan`] as set-based statements and runs them,
//! pipelined, on one connection inside a transaction (or a savepoint when the EntityManager is
//! already in one).

use super::{FlushPlan, ReturnedRows};
use crate::dialect::{DeleteBatch, Dialect, InsertBatch, TableName, UpdateBatch};
use crate::driver::Statement;
use crate::error::{Error, ErrorKind, Result};
use crate::session::Session;
use crate::sql::FlushStatements;
use crate::value::Value;

/// Which batch a statement belongs to.
#[derive(Clone, Copy)]
enum Role {
    Insert { table: usize, group: usize },
    Update { table: usize, group: usize },
    Delete { table: usize },
}

/// The statements of a plan, with what each one is for.
pub(crate) struct RenderedPlan {
    statements: Vec<Statement>,
    roles: Vec<Role>,
}

/// Renders the plan: inserts and updates in commit order, deletes in reverse commit order.
pub(crate) fn render(
    plan: &mut FlushPlan,
    dialect: &dyn Dialect,
    default_schema: Option<&str>,
) -> RenderedPlan {
    let mut statements = Vec::new();
    let mut roles = Vec::new();
    let mut push = |stmts: Vec<Statement>, role: Role| {
        for s in stmts {
            statements.push(s);
            roles.push(role);
        }
    };
    for (t, (_, tp)) in plan.tables.iter_mut().enumerate() {
        let meta = tp.meta;
        let table = TableName { schema: meta.schema_or(default_schema), name: meta.table };
        for (g, group) in tp.inserts.iter_mut().enumerate() {
            let batch = InsertBatch {
                table,
                columns: group.columns.iter().map(|&c| &meta.columns[c]).collect(),
                rows: std::mem::take(&mut group.rows),
                returning: group.returning.iter().map(|&c| &meta.columns[c]).collect(),
            };
            push(dialect.insert(batch), Role::Insert { table: t, group: g });
        }
    }
    for (t, (_, tp)) in plan.tables.iter_mut().enumerate() {
        let meta = tp.meta;
        let table = TableName { schema: meta.schema_or(default_schema), name: meta.table };
        for (g, group) in tp.updates.iter_mut().enumerate() {
            let batch = UpdateBatch {
                table,
                pk: meta.pk(),
                set: group.columns.iter().map(|&c| &meta.columns[c]).collect(),
                version: if group.versioned {
                    meta.version_column().map(|v| &meta.columns[v])
                } else {
                    None
                },
                rows: {
                    let rows = std::mem::take(&mut group.rows);
                    // A version conflict names the keys of the rows not updated; a lone row
                    // that is gone is named too.
                    if group.versioned || rows.len() == 1 {
                        group.keys = rows.iter().map(|r| r.key.clone()).collect();
                    }
                    rows
                },
            };
            push(dialect.update(batch), Role::Update { table: t, group: g });
        }
    }
    for (t, (_, tp)) in plan.tables.iter_mut().enumerate().rev() {
        if tp.deletes.is_empty() {
            continue;
        }
        let meta = tp.meta;
        let keys = std::mem::take(&mut tp.deletes);
        if keys.len() == 1 {
            tp.lone_delete = keys.first().cloned();
        }
        let batch = DeleteBatch {
            table: TableName { schema: meta.schema_or(default_schema), name: meta.table },
            pk: meta.pk(),
            keys,
        };
        push(dialect.delete(batch), Role::Delete { table: t });
    }
    RenderedPlan { statements, roles }
}

/// Runs the rendered plan on `session`, which is inside a transaction or savepoint. Returns the
/// generated values of each insert group, per table.
///
/// Every row a flush updates or deletes must still exist: a versioned UPDATE that matched no
/// row is an [`ErrorKind::OptimisticLock`] conflict, any other UPDATE or DELETE that matched
/// fewer rows than it names is [`ErrorKind::RowGone`] (another writer deleted the row).
pub(crate) async fn execute(
    session: &mut Session<'_>,
    plan: &FlushPlan,
    rendered: &RenderedPlan,
) -> Result<Vec<Vec<ReturnedRows>>> {
    let outcomes = session.run_all(&rendered.statements).await?;
    let mut inserted: Vec<Vec<ReturnedRows>> =
        plan.tables.iter().map(|(_, tp)| vec![Vec::new(); tp.inserts.len()]).collect();
    let mut updated_keys: Vec<Vec<Vec<Value>>> =
        plan.tables.iter().map(|(_, tp)| vec![Vec::new(); tp.updates.len()]).collect();
    let mut updated: Vec<Vec<u64>> =
        plan.tables.iter().map(|(_, tp)| vec![0; tp.updates.len()]).collect();
    let mut deleted: Vec<u64> = vec![0; plan.tables.len()];
    for (outcome, role) in outcomes.into_iter().zip(&rendered.roles) {
        match *role {
            Role::Insert { table, group } => {
                if plan.tables[table].1.inserts[group].returning.is_empty() {
                    // Nothing generated: one empty row per inserted row.
                    let n = usize::try_from(outcome.rows_affected).unwrap_or(usize::MAX);
                    inserted[table][group].extend(std::iter::repeat_n(Vec::new(), n));
                } else {
                    inserted[table][group].extend(outcome.rows);
                }
            }
            Role::Update { table, group } => {
                updated[table][group] += outcome.rows_affected;
                if plan.tables[table].1.updates[group].versioned {
                    updated_keys[table][group]
                        .extend(outcome.rows.into_iter().filter_map(|mut r| r.pop()));
                }
            }
            Role::Delete { table } => deleted[table] += outcome.rows_affected,
        }
    }
    for (t, (_, tp)) in plan.tables.iter().enumerate() {
        for (g, group) in tp.inserts.iter().enumerate() {
            let expected = group.len;
            if inserted[t][g].len() != expected {
                return Err(Error::new(
                    ErrorKind::Database,
                    format!(
                        "INSERT into {} returned {} rows for {} new entities",
                        tp.meta.table,
                        inserted[t][g].len(),
                        expected
                    ),
                ));
            }
        }
        for (g, group) in tp.updates.iter().enumerate() {
            if group.versioned {
                let got = &updated_keys[t][g];
                // RETURNING gives back only keys of this group, each once: every row was
                // updated when the counts match. Only a conflict pays for finding the stale keys.
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
            if updated[t][g] != group.len as u64 {
                return Err(row_gone(tp, "update", group.len, updated[t][g], group.keys.first()));
            }
        }
        if deleted[t] != tp.delete_count as u64 {
            let key = tp.lone_delete.as_ref();
            return Err(row_gone(tp, "delete", tp.delete_count, deleted[t], key));
        }
    }
    Ok(inserted)
}

/// The error of an UPDATE or DELETE that found fewer rows than it named.
fn row_gone(
    tp: &super::TablePlan,
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
