//! The change-set persister: renders a [`FlushPlan`] as set-based statements and runs them,
//! pipelined, on one connection inside a transaction (or a savepoint when the EntityManager is
//! already in one).

use super::FlushPlan;
use crate::dialect::{DeleteBatch, Dialect, InsertBatch, TableName, UpdateBatch};
use crate::driver::Statement;
use crate::error::{Error, ErrorKind, Result};
use crate::session::Session;
use crate::value::Value;

/// Which batch a statement belongs to.
#[derive(Clone, Copy)]
enum Role {
    Insert { table: usize, group: usize },
    VersionedUpdate { table: usize, group: usize },
    Other,
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
                    // A version conflict names the keys of the rows not updated.
                    if group.versioned {
                        group.keys = rows.iter().map(|r| r.key.clone()).collect();
                    }
                    rows
                },
            };
            let role = if group.versioned {
                Role::VersionedUpdate { table: t, group: g }
            } else {
                Role::Other
            };
            push(dialect.update(batch), role);
        }
    }
    for (_, tp) in plan.tables.iter_mut().rev() {
        if tp.deletes.is_empty() {
            continue;
        }
        let meta = tp.meta;
        let batch = DeleteBatch {
            table: TableName { schema: meta.schema_or(default_schema), name: meta.table },
            pk: meta.pk(),
            keys: std::mem::take(&mut tp.deletes),
        };
        push(dialect.delete(batch), Role::Other);
    }
    RenderedPlan { statements, roles }
}

/// Runs the rendered plan on `session`, which is inside a transaction or savepoint. Returns the
/// generated values of each insert group: `[table][group][row][returning column]`.
pub(crate) async fn execute(
    session: &mut Session<'_>,
    plan: &FlushPlan,
    rendered: &RenderedPlan,
) -> Result<Vec<Vec<Vec<Vec<Value>>>>> {
    let outcomes = session.run_all(&rendered.statements).await?;
    let mut inserted: Vec<Vec<Vec<Vec<Value>>>> =
        plan.tables.iter().map(|(_, tp)| vec![Vec::new(); tp.inserts.len()]).collect();
    let mut updated_keys: Vec<Vec<Vec<Value>>> =
        plan.tables.iter().map(|(_, tp)| vec![Vec::new(); tp.updates.len()]).collect();
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
            Role::VersionedUpdate { table, group } => {
                updated_keys[table][group]
                    .extend(outcome.rows.into_iter().filter_map(|mut r| r.pop()));
            }
            Role::Other => {}
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
            if !group.versioned {
                continue;
            }
            let got = &updated_keys[t][g];
            // RETURNING gives back only keys of this group, each once: every row was updated
            // when the counts match. Only a conflict pays for finding the stale keys.
            if got.len() == group.keys.len() {
                continue;
            }
            let stale: Vec<String> =
                group.keys.iter().filter(|k| !got.contains(k)).map(display_value).collect();
            if !stale.is_empty() {
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
        }
    }
    Ok(inserted)
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
