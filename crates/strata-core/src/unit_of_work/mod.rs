//! The unit of work: everything an EntityManager will write at the next flush.
//!
//! The pipeline, one noun per module as in MikroORM:
//!
//! - `identity_map` holds the managed instances and their snapshots;
//! - `computer` compares instances with snapshots and produces change sets, grouped by
//!   operation and column set;
//! - `commit_order` orders tables by foreign-key dependency;
//! - `persister` renders each group as set-based statements with the dialect and runs them
//!   pipelined in one transaction;
//! - on success `UnitOfWork::apply` writes generated keys back and re-snapshots; on failure
//!   nothing here has changed, so the caller can fix and flush again.

pub(crate) mod change_set;
pub mod commit_order;
pub(crate) mod computer;
pub(crate) mod persister;

use crate::entity::Entity;
use crate::error::Result;
use crate::identity_map::{AnyTable, Table, Tracked};
use crate::managed::Managed;
use crate::metadata::EntityMeta;
use crate::value::{FieldType, Value};
use change_set::ChangeSet;
use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};

/// All tables of one EntityManager.
#[derive(Default)]
pub(crate) struct UnitOfWork {
    tables: HashMap<TypeId, Box<dyn AnyTable>, crate::identity_map::FastHash>,
    /// Tables in first-use order: the stable base of the commit order.
    order: Vec<TypeId>,
}

impl Clone for UnitOfWork {
    fn clone(&self) -> Self {
        Self {
            tables: self.tables.iter().map(|(k, v)| (*k, v.clone_box())).collect(),
            order: self.order.clone(),
        }
    }
}

impl UnitOfWork {
    pub(crate) fn table<T: Entity>(&self) -> Option<&Table<T>> {
        self.tables.get(&TypeId::of::<T>()).and_then(|t| t.as_any().downcast_ref())
    }

    pub(crate) fn table_mut<T: Entity>(&mut self) -> &mut Table<T> {
        let id = TypeId::of::<T>();
        let table = match self.tables.entry(id) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                self.order.push(id);
                e.insert(Box::new(Table::<T>::default()))
            }
        };
        table.as_any_mut().downcast_mut().expect("a table is stored under its own TypeId")
    }

    pub(crate) fn clear(&mut self) {
        self.tables.clear();
        self.order.clear();
    }

    /// Number of managed (loaded or flushed) instances.
    pub(crate) fn managed_len(&self) -> usize {
        self.tables.values().map(|t| t.managed_len()).sum()
    }

    /// Computes the plan of the next flush; `None` when nothing changed.
    pub(crate) fn plan(&self) -> Result<Option<FlushPlan>> {
        let mut tables = Vec::new();
        for id in &self.order {
            if let Some(plan) = self.tables[id].plan()? {
                tables.push((*id, plan));
            }
        }
        if tables.is_empty() {
            return Ok(None);
        }
        let names: Vec<(&str, &[&str])> =
            tables.iter().map(|(_, p)| (p.meta.table, p.meta.references)).collect();
        let order = commit_order::commit_order(&names)?;
        let mut slots: Vec<Option<(TypeId, TablePlan)>> = tables.into_iter().map(Some).collect();
        let tables = order.into_iter().filter_map(|i| slots[i].take()).collect();
        Ok(Some(FlushPlan { tables }))
    }

    /// Applies a flush that committed: keys written back, snapshots renewed, deletes forgotten.
    pub(crate) fn apply(
        &mut self,
        plan: FlushPlan,
        inserted: Vec<Vec<Vec<Vec<Value>>>>,
    ) -> Result<()> {
        for ((id, plan), inserted) in plan.tables.into_iter().zip(inserted) {
            if let Some(table) = self.tables.get_mut(&id) {
                table.apply(plan.typed, inserted)?;
            }
        }
        Ok(())
    }
}

/// What one flush writes, table by table in commit order.
pub(crate) struct FlushPlan {
    pub(crate) tables: Vec<(TypeId, TablePlan)>,
}

/// The batches of one table.
pub(crate) struct TablePlan {
    pub(crate) meta: &'static EntityMeta,
    pub(crate) inserts: Vec<InsertGroup>,
    pub(crate) updates: Vec<UpdateGroup>,
    pub(crate) deletes: Vec<Value>,
    /// The typed change sets (`TypedPlan<T>`), consumed by `apply`.
    pub(crate) typed: Box<dyn Any + Send + Sync>,
}

pub(crate) struct InsertGroup {
    pub(crate) columns: Vec<usize>,
    pub(crate) rows: Vec<Vec<Value>>,
    pub(crate) returning: Vec<usize>,
    /// Number of rows (kept when `rows` moves into a statement).
    pub(crate) len: usize,
}

pub(crate) struct UpdateGroup {
    pub(crate) columns: Vec<usize>,
    pub(crate) rows: Vec<crate::dialect::UpdateRow>,
    pub(crate) versioned: bool,
    /// The keys of a versioned group's rows, kept when the rows move into the statements.
    pub(crate) keys: Vec<Value>,
}

struct TypedPlan<T: Entity> {
    inserts: Vec<Vec<ChangeSet<T>>>,
    updates: Vec<Vec<ChangeSet<T>>>,
    deletes: Vec<T::Key>,
}

/// The flush steps every table performs, type-erased.
pub(crate) trait TableFlush {
    fn plan(&self) -> Result<Option<TablePlan>>;
    fn apply(
        &mut self,
        typed: Box<dyn Any + Send + Sync>,
        inserted: Vec<Vec<Vec<Value>>>,
    ) -> Result<()>;
}

impl<T: Entity> Table<T> {
    fn plan_typed(&self) -> Result<Option<TablePlan>> {
        let computer::Computed { sets, deletes } = computer::compute(self)?;
        if sets.is_empty() && deletes.is_empty() {
            return Ok(None);
        }
        let meta = T::meta();
        let version = meta.version_column();
        let (inserts, updates) = computer::group(sets);
        let insert_groups = inserts
            .iter()
            .map(|g| {
                let columns = g[0].columns.clone();
                let rows: Vec<Vec<Value>> = g
                    .iter()
                    .map(|cs| {
                        let state = cs.state.as_ref().expect("inserts carry their state");
                        columns.iter().map(|&c| state.column_value(c)).collect()
                    })
                    .collect();
                let returning = computer::returning_columns(meta, &columns);
                InsertGroup { columns, rows, returning, len: g.len() }
            })
            .collect();
        let update_groups = updates
            .iter()
            .map(|g| {
                let columns = g[0].columns.clone();
                let rows = g
                    .iter()
                    .map(|cs| {
                        let state = cs.state.as_ref().expect("updates carry their state");
                        let key = cs.key.as_ref().expect("updates carry their key");
                        let old_version =
                            version.map(|v| self.managed[key].snapshot.column_value(v));
                        crate::dialect::UpdateRow {
                            key: key.to_value(),
                            values: columns.iter().map(|&c| state.column_value(c)).collect(),
                            version: old_version,
                        }
                    })
                    .collect();
                UpdateGroup { columns, rows, versioned: version.is_some(), keys: Vec::new() }
            })
            .collect();
        let delete_keys = deletes.iter().map(FieldType::to_value).collect();
        Ok(Some(TablePlan {
            meta,
            inserts: insert_groups,
            updates: update_groups,
            deletes: delete_keys,
            typed: Box::new(TypedPlan { inserts, updates, deletes }),
        }))
    }

    fn apply_typed(&mut self, typed: TypedPlan<T>, inserted: Vec<Vec<Vec<Value>>>) -> Result<()> {
        let meta = T::meta();
        let version = meta.version_column();
        let inserted_rows: usize = typed.inserts.iter().map(Vec::len).sum();
        self.managed.reserve(inserted_rows);
        let mut flushed_new: HashSet<usize, crate::identity_map::FastHash> =
            HashSet::with_capacity_and_hasher(inserted_rows, Default::default());
        for (group, returned) in typed.inserts.into_iter().zip(inserted) {
            let returning = computer::returning_columns(meta, &group[0].columns);
            for (cs, row) in group.into_iter().zip(returned) {
                let handle = cs.handle.expect("inserts carry their handle");
                let mut state = cs.state.expect("inserts carry their state");
                let mut live = handle.write();
                for (&col, value) in returning.iter().zip(row) {
                    state.set_column(col, value.clone())?;
                    live.set_column(col, value)?;
                }
                drop(live);
                flushed_new.insert(handle.addr());
                let key = state.key();
                self.managed.insert(key, Tracked { handle, snapshot: state, removed: false });
            }
        }
        if !flushed_new.is_empty() {
            let remaining: Vec<Managed<T>> =
                self.take_new().into_iter().filter(|h| !flushed_new.contains(&h.addr())).collect();
            for h in remaining {
                self.add_new(h);
            }
        }
        for cs in typed.updates.into_iter().flatten() {
            let key = cs.key.expect("updates carry their key");
            let mut state = cs.state.expect("updates carry their state");
            if let Some(v) = version
                && let Some(old) =
                    self.managed.get(&key).and_then(|t| t.snapshot.column_value(v).as_i64())
            {
                let next = bump(old, meta.columns[v].ty);
                state.set_column(v, next.clone())?;
                if let Some(h) = &cs.handle {
                    h.write().set_column(v, next)?;
                }
            }
            if let Some(t) = self.managed.get_mut(&key) {
                t.snapshot = state;
            }
        }
        // Every instance marked removed was deleted by this flush. Many deletions are one pass
        // over the map in memory order, rather than one random probe per key.
        if typed.deletes.len() > 64 {
            self.managed.retain(|_, t| !t.removed);
        } else {
            for key in typed.deletes {
                self.managed.remove(&key);
            }
        }
        self.removed_keys.clear();
        Ok(())
    }
}

fn bump(old: i64, ty: crate::value::ColumnType) -> Value {
    match ty {
        crate::value::ColumnType::I64 => Value::I64(old + 1),
        crate::value::ColumnType::I16 => Value::I16(i16::try_from(old + 1).unwrap_or(i16::MAX)),
        _ => Value::I32(i32::try_from(old + 1).unwrap_or(i32::MAX)),
    }
}

impl<T: Entity> TableFlush for Table<T> {
    fn plan(&self) -> Result<Option<TablePlan>> {
        self.plan_typed()
    }
    fn apply(
        &mut self,
        typed: Box<dyn Any + Send + Sync>,
        inserted: Vec<Vec<Vec<Value>>>,
    ) -> Result<()> {
        let typed = typed.downcast::<TypedPlan<T>>().expect("a plan is applied to its own table");
        self.apply_typed(*typed, inserted)
    }
}
