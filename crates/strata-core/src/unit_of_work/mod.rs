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
//! - on success `FlushPlan::write_back` writes generated keys into the live instances and
//!   `UnitOfWork::apply` re-snapshots; on failure nothing here has changed, so the caller can
//!   fix and flush again.
//!
//! No entity is waited for while the unit of work is locked: collecting only *tries* entity
//! locks (a borrowed entity is deferred); waiting for it, writing back and undoing happen with
//! the unit of work unlocked. A flush
//! applies only what it wrote, so whatever is persisted, changed or removed while it runs stays
//! pending for the next one.

pub(crate) mod change_set;
pub mod commit_order;
pub(crate) mod computer;
pub(crate) mod persister;

use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::identity_map::{FastHash, Table};
use crate::managed::Managed;
use crate::metadata::EntityMeta;
use crate::value::{FieldType, Value};
use change_set::ChangeSet;
use std::any::{Any, TypeId};
use std::collections::{HashMap, HashSet};

/// The rows one INSERT group returned: per row, the values of its returning columns.
pub(crate) type ReturnedRows = Vec<Vec<Value>>;

/// Puts a live instance back as it was before a flush inside a transaction that then rolled
/// back (its generated key, its version).
pub(crate) type Undo = Box<dyn FnOnce() + Send>;

/// All tables of one EntityManager.
#[derive(Default)]
pub(crate) struct UnitOfWork {
    tables: HashMap<TypeId, Box<dyn AnyTable>, FastHash>,
    /// Tables in first-use order: the stable base of the commit order.
    order: Vec<TypeId>,
    /// Changed by `clear` and by a transaction's rollback: a flush planned before applies
    /// nothing to the identity map afterwards.
    generation: u64,
    /// While a transaction is open (`Some`), how to undo what its flushes did to live
    /// instances, should it roll back.
    journal: Option<Vec<Undo>>,
}

/// The identity map as a transaction found it, to return to when the transaction rolls back.
/// Cheap: handles and snapshots are shared, not copied.
pub(crate) struct Saved {
    tables: HashMap<TypeId, Box<dyn AnyTable>, FastHash>,
    order: Vec<TypeId>,
    /// The length of the journal when the transaction started.
    journal_mark: usize,
}

/// A type-erased [`Table<T>`], as the unit of work stores it.
pub(crate) trait AnyTable: TableFlush + Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn clone_box(&self) -> Box<dyn AnyTable>;
    fn managed_len(&self) -> usize;
}

impl<T: Entity> AnyTable for Table<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn clone_box(&self) -> Box<dyn AnyTable> {
        Box::new(self.clone())
    }
    fn managed_len(&self) -> usize {
        self.len()
    }
}

/// What the EntityManager asks of the unit of work. The EntityManager never touches the
/// identity map directly; none of these lock an entity.
impl UnitOfWork {
    /// The managed instance of `T` with `key`.
    pub(crate) fn managed<T: Entity>(&self, key: &T::Key) -> Option<Managed<T>> {
        self.table::<T>().and_then(|t| t.get(key)).cloned()
    }

    /// True when `handle` waits for its INSERT.
    pub(crate) fn is_new<T: Entity>(&self, handle: &Managed<T>) -> bool {
        self.table::<T>().is_some_and(|t| t.is_new(handle))
    }

    /// `create`: a new instance, inserted at the next flush.
    pub(crate) fn create<T: Entity>(&mut self, handle: Managed<T>) {
        self.table_mut::<T>().track_new(handle);
    }

    /// `persist` of `handle`, whose key is `key`.
    pub(crate) fn persist<T: Entity>(&mut self, handle: &Managed<T>, key: &T::Key) -> Result<()> {
        self.table_mut::<T>().persist(handle, key)
    }

    /// `remove` of a new instance: forgotten, nothing to delete. False when it is not new.
    pub(crate) fn forget_new<T: Entity>(&mut self, handle: &Managed<T>) -> bool {
        self.table_mut::<T>().forget_new(handle)
    }

    /// `remove` of an instance that is not new, whose key is `key`.
    pub(crate) fn remove<T: Entity>(&mut self, handle: &Managed<T>, key: T::Key) -> Result<()> {
        self.table_mut::<T>().schedule_removal(handle, key)
    }

    /// `remove_by_key`.
    pub(crate) fn remove_by_key<T: Entity>(&mut self, key: T::Key) {
        self.table_mut::<T>().schedule_removal_by_key(key);
    }

    /// A row a query read: its managed instance.
    pub(crate) fn hydrate<T: Entity>(&mut self, row: Vec<Value>) -> Result<Managed<T>> {
        self.table_mut::<T>().hydrate_row(row)
    }

    /// `refresh` reloaded `handle` with `fresh` (`None`: the row is gone).
    pub(crate) fn refreshed<T: Entity>(
        &mut self,
        handle: &Managed<T>,
        key: T::Key,
        fresh: Option<T>,
    ) {
        let table = self.table_mut::<T>();
        match fresh {
            Some(fresh) => table.refreshed(handle, key, fresh),
            None => table.vanished(handle, &key),
        }
    }
}

impl UnitOfWork {
    fn table<T: Entity>(&self) -> Option<&Table<T>> {
        self.tables.get(&TypeId::of::<T>()).and_then(|t| t.as_any().downcast_ref())
    }

    fn table_mut<T: Entity>(&mut self) -> &mut Table<T> {
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
        self.generation += 1;
    }

    /// Number of managed (loaded or flushed) instances.
    pub(crate) fn managed_len(&self) -> usize {
        self.tables.values().map(|t| t.managed_len()).sum()
    }

    /// A transaction starts: keeps what to return to on rollback, and starts journaling.
    pub(crate) fn save(&mut self) -> Saved {
        let journal = self.journal.get_or_insert_with(Vec::new);
        Saved {
            tables: self.tables.iter().map(|(k, v)| (*k, v.clone_box())).collect(),
            order: self.order.clone(),
            journal_mark: journal.len(),
        }
    }

    /// A transaction committed (`outermost`: the whole transaction, not a savepoint): its
    /// undo entries are no longer needed, or now belong to the enclosing transaction.
    pub(crate) fn committed(&mut self, outermost: bool) {
        if outermost {
            self.journal = None;
        }
    }

    /// A transaction rolled back: the identity map returns to `saved`, and the returned undo
    /// entries (newest first) must run, outside the unit-of-work lock, to put live instances
    /// back as they were.
    pub(crate) fn rolled_back(&mut self, saved: Saved, outermost: bool) -> Vec<Undo> {
        self.tables = saved.tables;
        self.order = saved.order;
        self.generation += 1;
        let mut undo = match &mut self.journal {
            Some(journal) if journal.len() > saved.journal_mark => {
                journal.split_off(saved.journal_mark)
            }
            _ => Vec::new(),
        };
        if outermost {
            self.journal = None;
        }
        undo.reverse();
        undo
    }

    /// Step one of a flush, under the unit-of-work lock: the change sets of every entity that
    /// can be locked at once, and the borrowed ones to wait for. `None` when nothing changed.
    /// Never waits for an entity.
    pub(crate) fn collect(&self) -> Result<Option<Collected>> {
        let mut tables: Vec<(TypeId, Box<dyn PendingTable>)> = Vec::new();
        for id in &self.order {
            if let Some(pending) = self.tables[id].collect()? {
                tables.push((*id, pending));
            }
        }
        if tables.is_empty() {
            return Ok(None);
        }
        Ok(Some(Collected { generation: self.generation, tables }))
    }

    /// The last step of a committed flush, under the unit-of-work lock: flushed instances
    /// become managed with new snapshots, deleted rows are forgotten. Only what this flush
    /// wrote changes: what was persisted, changed or removed while it ran stays pending.
    pub(crate) fn apply(&mut self, plan: FlushPlan, undo: Vec<Undo>) {
        if let Some(journal) = &mut self.journal {
            journal.extend(undo);
        }
        if plan.generation != self.generation {
            // Cleared (or rolled back) while the flush ran: nothing here to update.
            return;
        }
        for (id, table_plan) in plan.tables {
            if let Some(table) = self.tables.get_mut(&id) {
                table.apply(table_plan.typed.into_any());
            }
        }
    }
}

/// The candidates of a flush, collected under the unit-of-work lock.
pub(crate) struct Collected {
    generation: u64,
    tables: Vec<(TypeId, Box<dyn PendingTable>)>,
}

impl Collected {
    /// Step two, without the unit-of-work lock: change sets, grouped into batches, tables in
    /// commit order. `None` when nothing really changed.
    pub(crate) fn plan(self) -> Result<Option<FlushPlan>> {
        let mut tables = Vec::new();
        for (id, pending) in self.tables {
            if let Some(plan) = pending.plan()? {
                tables.push((id, plan));
            }
        }
        if tables.is_empty() {
            return Ok(None);
        }
        let referenced: Vec<Vec<&str>> =
            tables.iter().map(|(_, p)| p.meta.referenced_tables()).collect();
        let names: Vec<(&str, &[&str])> = tables
            .iter()
            .zip(&referenced)
            .map(|((_, p), refs)| (p.meta.table, refs.as_slice()))
            .collect();
        let order = commit_order::commit_order(&names)?;
        let mut slots: Vec<Option<(TypeId, TablePlan)>> = tables.into_iter().map(Some).collect();
        let tables = order.into_iter().filter_map(|i| slots[i].take()).collect();
        Ok(Some(FlushPlan { generation: self.generation, tables }))
    }
}

/// What one flush writes, table by table in commit order.
pub(crate) struct FlushPlan {
    generation: u64,
    pub(crate) tables: Vec<(TypeId, TablePlan)>,
}

impl FlushPlan {
    /// After the commit, without the unit-of-work lock: writes generated keys, defaults and
    /// new versions into the live instances (`returned`: per table, per insert group). Inside
    /// a transaction (`journal`), returns how to undo that. An instance still borrowed after
    /// the wait is reported, but the rest is written all the same: the rows are committed.
    pub(crate) fn write_back(
        &mut self,
        returned: Vec<Vec<ReturnedRows>>,
        journal: bool,
    ) -> (Vec<Undo>, Option<Error>) {
        let mut undo = Vec::new();
        let mut first_error = None;
        for ((_, plan), returned) in self.tables.iter_mut().zip(returned) {
            if let Err(e) = plan.typed.write_back(returned, journal.then_some(&mut undo)) {
                first_error.get_or_insert(e);
            }
        }
        (undo, first_error)
    }
}

/// The batches of one table.
pub(crate) struct TablePlan {
    pub(crate) meta: &'static EntityMeta,
    pub(crate) inserts: Vec<InsertGroup>,
    pub(crate) updates: Vec<UpdateGroup>,
    pub(crate) deletes: Vec<Value>,
    /// The number of keys in `deletes` (kept when the keys move into a statement).
    pub(crate) delete_count: usize,
    /// The key of a lone delete, kept to name it should its row be gone.
    pub(crate) lone_delete: Option<Value>,
    /// The typed change sets (`TypedPlan<T>`), for writing back and applying.
    typed: Box<dyn TypedWork>,
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
    /// Number of rows (kept when `rows` moves into a statement).
    pub(crate) len: usize,
    /// The keys of the group's rows, kept when the rows move into the statements, to name
    /// the rows that were not updated.
    pub(crate) keys: Vec<Value>,
}

/// An updated instance, its key, the state written, and its version before.
type Updated<T> = (Managed<T>, <T as Entity>::Key, T, Option<Value>);

/// One table's typed change sets, from planning to applying.
struct TypedPlan<T: Entity> {
    /// Per insert group: each new instance and the state it is inserted with.
    inserts: Vec<Vec<(Managed<T>, T)>>,
    /// The columns each insert group returns.
    returning: Vec<Vec<usize>>,
    updates: Vec<Updated<T>>,
    deletes: Vec<T::Key>,
    /// How many of the table's removed-by-key entries this flush covers.
    removed_keys: usize,
    /// The table's removal marks when the flush collected its deletes.
    removal_marks: u64,
}

/// The steps of a flush on one table's typed change sets, type-erased.
trait TypedWork: Send + Sync {
    fn write_back(
        &mut self,
        returned: Vec<ReturnedRows>,
        undo: Option<&mut Vec<Undo>>,
    ) -> Result<()>;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

/// The flush steps every table performs under the unit-of-work lock, type-erased.
pub(crate) trait TableFlush {
    fn collect(&self) -> Result<Option<Box<dyn PendingTable>>>;
    fn apply(&mut self, typed: Box<dyn Any>);
}

/// One table's candidates between collecting and planning, type-erased.
pub(crate) trait PendingTable: Send {
    fn plan(self: Box<Self>) -> Result<Option<TablePlan>>;
}

impl<T: Entity> PendingTable for computer::Collected<T> {
    fn plan(self: Box<Self>) -> Result<Option<TablePlan>> {
        let (removed_keys, removal_marks) = (self.removed_keys, self.removal_marks);
        let computer::Computed { sets, deletes } = computer::compute(*self)?;
        if sets.is_empty() && deletes.is_empty() {
            return Ok(None);
        }
        let meta = T::meta();
        let versioned = meta.version_column().is_some();
        let (inserts, updates) = computer::group(sets);
        let mut insert_groups = Vec::with_capacity(inserts.len());
        let mut typed_inserts = Vec::with_capacity(inserts.len());
        let mut returning_of = Vec::with_capacity(inserts.len());
        for group in inserts {
            let columns = group[0].columns().to_vec();
            let returning = computer::returning_columns(meta, &columns);
            let len = group.len();
            let mut rows = Vec::with_capacity(len);
            let mut typed = Vec::with_capacity(len);
            for cs in group {
                if let ChangeSet::Insert { handle, state, .. } = cs {
                    rows.push(columns.iter().map(|&c| state.column_value(c)).collect());
                    typed.push((handle, state));
                }
            }
            insert_groups.push(InsertGroup { columns, rows, returning: returning.clone(), len });
            typed_inserts.push(typed);
            returning_of.push(returning);
        }
        let mut update_groups = Vec::with_capacity(updates.len());
        let mut typed_updates = Vec::new();
        for group in updates {
            let columns = group[0].columns().to_vec();
            let len = group.len();
            let mut rows = Vec::with_capacity(len);
            for cs in group {
                if let ChangeSet::Update { handle, key, state, old_version, .. } = cs {
                    // Room for the key and the old version, which the statement adds to the row.
                    let mut values = Vec::with_capacity(columns.len() + 2);
                    values.extend(columns.iter().map(|&c| state.column_value(c)));
                    rows.push(crate::dialect::UpdateRow {
                        key: key.to_value(),
                        values,
                        version: old_version.clone(),
                    });
                    typed_updates.push((handle, key, state, old_version));
                }
            }
            update_groups.push(UpdateGroup { columns, rows, versioned, len, keys: Vec::new() });
        }
        let delete_keys: Vec<Value> = deletes.iter().map(FieldType::to_value).collect();
        Ok(Some(TablePlan {
            meta,
            inserts: insert_groups,
            updates: update_groups,
            delete_count: delete_keys.len(),
            lone_delete: None,
            deletes: delete_keys,
            typed: Box::new(TypedPlan {
                inserts: typed_inserts,
                returning: returning_of,
                updates: typed_updates,
                deletes,
                removed_keys,
                removal_marks,
            }),
        }))
    }
}

impl<T: Entity> TypedWork for TypedPlan<T> {
    fn write_back(
        &mut self,
        returned: Vec<ReturnedRows>,
        mut undo: Option<&mut Vec<Undo>>,
    ) -> Result<()> {
        let meta = T::meta();
        let mut first_error = None;
        for ((group, rows), returning) in self.inserts.iter_mut().zip(returned).zip(&self.returning)
        {
            for ((handle, state), row) in group.iter_mut().zip(rows) {
                for (&col, value) in returning.iter().zip(&row) {
                    state.set_column(col, value.clone())?;
                }
                match handle.write_for("finish the flush of the new", None) {
                    Ok(mut live) => {
                        if let Some(undo) = undo.as_deref_mut() {
                            let before: Vec<(usize, Value)> =
                                returning.iter().map(|&c| (c, live.column_value(c))).collect();
                            undo.push(restore_columns(handle.clone(), before));
                        }
                        for (&col, value) in returning.iter().zip(row) {
                            live.set_column(col, value)?;
                        }
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        if let Some(v) = meta.version_column() {
            for (handle, key, state, old) in &mut self.updates {
                let Some(old) = old.as_ref().and_then(Value::as_i64) else { continue };
                let next = bump(old, meta.columns[v].ty);
                state.set_column(v, next.clone())?;
                match handle.write_for("finish the flush of", Some(key)) {
                    Ok(mut live) => {
                        if let Some(undo) = undo.as_deref_mut() {
                            undo.push(restore_columns(
                                handle.clone(),
                                vec![(v, live.column_value(v))],
                            ));
                        }
                        live.set_column(v, next)?;
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// An undo entry that sets `columns` of a live instance back to the values they had.
fn restore_columns<T: Entity>(handle: Managed<T>, columns: Vec<(usize, Value)>) -> Undo {
    Box::new(move || {
        // A rollback cannot fail: an instance borrowed for longer than the wait keeps the
        // values of the rolled-back flush, as any other in-memory change would.
        if let Ok(mut live) = handle.write_for("undo a rolled-back flush of", None) {
            for (col, value) in columns {
                let _ = live.set_column(col, value);
            }
        }
    })
}

/// Records on a table what a committed flush wrote to it: deletes first (an instance removed
/// while its INSERT was under way is marked removed by `inserted`, for the next flush).
fn apply_typed<T: Entity>(table: &mut Table<T>, typed: TypedPlan<T>) {
    table.deleted(&typed.deletes, typed.removed_keys, typed.removal_marks);
    let inserted_rows: usize = typed.inserts.iter().map(Vec::len).sum();
    table.reserve(inserted_rows);
    let mut flushed_new: HashSet<usize, FastHash> =
        HashSet::with_capacity_and_hasher(inserted_rows, FastHash::default());
    for (handle, state) in typed.inserts.into_iter().flatten() {
        flushed_new.insert(handle.addr());
        table.inserted(handle, state);
    }
    table.forget_flushed_new(&flushed_new);
    for (handle, key, state, _) in typed.updates {
        table.updated(&handle, &key, state);
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
    fn collect(&self) -> Result<Option<Box<dyn PendingTable>>> {
        Ok(computer::collect(self)?.map(|c| Box::new(c) as Box<dyn PendingTable>))
    }
    fn apply(&mut self, typed: Box<dyn Any>) {
        let typed = typed.downcast::<TypedPlan<T>>().expect("a plan is applied to its own table");
        apply_typed(self, *typed);
    }
}
