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
pub(crate) mod plan;
mod write_back;

use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::identity_map::{FastHash, Table};
use crate::managed::{ErasedHandle, Managed};
use crate::value::Value;
use plan::{PendingTable, Planner, ReturnedRows, TablePlan};
use std::any::{Any, TypeId};
use std::collections::HashMap;

/// Puts a live instance back as it was before a flush inside a transaction that then rolled
/// back (its generated key, its version).
pub(crate) type Undo = Box<dyn FnOnce() + Send>;

/// Work on a live instance that must wait until the unit of work is unlocked.
pub(crate) type Task = Box<dyn FnOnce() + Send>;

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
pub(crate) trait AnyTable: Send + Sync {
    fn as_any(&self) -> &dyn Any;
    fn as_any_mut(&mut self) -> &mut dyn Any;
    fn clone_box(&self) -> Box<dyn AnyTable>;
    fn managed_len(&self) -> usize;
    /// Step one of a flush on this table (see [`UnitOfWork::collect`]).
    fn collect(&self) -> Result<Option<Box<dyn PendingTable>>>;
    /// Records what a committed flush wrote to this table.
    fn apply(&mut self, typed: Box<dyn Any>);
    /// Whether this table manages `handle`, or inserts it at the next flush.
    fn tracks(&self, handle: &ErasedHandle) -> bool;
    /// The table's entity metadata.
    fn meta(&self) -> &'static crate::metadata::EntityMeta;
    /// See [`Table::mirror_deleted`].
    fn mirror_deleted(
        &mut self,
        deleted: &[(&str, Vec<Value>)],
        tasks: &mut Vec<Task>,
    ) -> Vec<Value>;
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
    fn collect(&self) -> Result<Option<Box<dyn PendingTable>>> {
        Ok(computer::collect(self)?.map(|c| Box::new(c) as Box<dyn PendingTable>))
    }
    fn apply(&mut self, typed: Box<dyn Any>) {
        let typed = typed
            .downcast::<write_back::TypedPlan<T>>()
            .expect("a plan is applied to its own table");
        write_back::apply_typed(self, *typed);
    }
    fn tracks(&self, handle: &ErasedHandle) -> bool {
        handle.downcast::<T>().is_some_and(|h| plan::tracks(self, &h))
    }
    fn meta(&self) -> &'static crate::metadata::EntityMeta {
        T::meta()
    }
    fn mirror_deleted(
        &mut self,
        deleted: &[(&str, Vec<Value>)],
        tasks: &mut Vec<Task>,
    ) -> Vec<Value> {
        Table::mirror_deleted(self, deleted, tasks)
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

    /// `remove` of an instance that is not new, whose key is `key`; false when it was removed
    /// already.
    pub(crate) fn remove<T: Entity>(&mut self, handle: &Managed<T>, key: T::Key) -> Result<bool> {
        self.table_mut::<T>().schedule_removal(handle, key)
    }

    /// `remove_by_key`.
    pub(crate) fn remove_by_key<T: Entity>(&mut self, key: T::Key) {
        self.table_mut::<T>().schedule_removal_by_key(key);
    }

    /// A row a query read: its managed instance.
    pub(crate) fn hydrate<T: Entity>(&mut self, row: &mut Vec<Value>) -> Result<Managed<T>> {
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
    pub(crate) fn collect(&self) -> Result<Option<Planner>> {
        let mut tables: Vec<Box<dyn PendingTable>> = Vec::new();
        for id in &self.order {
            if let Some(pending) = self.tables[id].collect()? {
                tables.push(pending);
            }
        }
        if tables.is_empty() {
            return Ok(None);
        }
        Ok(Some(Planner { generation: self.generation, tables }))
    }

    /// Whether the unit of work manages `handle`, or inserts it at the next flush.
    pub(crate) fn tracks(&self, handle: &ErasedHandle) -> bool {
        self.tables.get(&handle.entity_type()).is_some_and(|t| t.tracks(handle))
    }

    /// The last step of a committed flush, under the unit-of-work lock: flushed instances
    /// become managed with new snapshots, deleted rows are forgotten, and what the database's
    /// own rules did to the rows referring to them is mirrored. Only what this flush wrote
    /// changes: what was persisted, changed or removed while it ran stays pending. Returns the
    /// tasks to run on live instances once the unit of work is unlocked.
    pub(crate) fn apply(&mut self, plan: FlushPlan, undo: Vec<Undo>) -> Vec<Task> {
        if let Some(journal) = &mut self.journal {
            journal.extend(undo);
        }
        if plan.generation != self.generation {
            // Cleared (or rolled back) while the flush ran: nothing here to update.
            return Vec::new();
        }
        // The rows referring to deleted ones, as far as entities of this EntityManager map them.
        let mut deleted: Vec<(&str, Vec<Value>)> = Vec::new();
        for (_, table_plan) in &plan.tables {
            let name = table_plan.meta.table;
            let referred = || {
                self.tables
                    .values()
                    .any(|t| t.meta().relations.iter().any(|r| r.target().table == name))
            };
            if table_plan.delete_count > 0 && referred() {
                deleted.push((name, table_plan.typed.deleted()));
            }
        }
        for (id, table_plan) in plan.tables {
            let table = match self.tables.entry(id) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    // A table only cascade persist reached.
                    self.order.push(id);
                    e.insert((table_plan.new_table)())
                }
            };
            table.apply(table_plan.typed.into_any());
        }
        self.mirror_deleted(deleted)
    }

    /// Mirrors deletions on the managed entities that refer to the deleted rows, until the
    /// database's cascades have been followed to their end.
    fn mirror_deleted(&mut self, mut deleted: Vec<(&str, Vec<Value>)>) -> Vec<Task> {
        let mut tasks = Vec::new();
        let refers = |table: &dyn AnyTable, deleted: &[(&str, Vec<Value>)]| {
            table
                .meta()
                .relations
                .iter()
                .any(|r| deleted.iter().any(|(t, _)| *t == r.target().table))
        };
        while !deleted.is_empty() {
            let mut next: Vec<(&str, Vec<Value>)> = Vec::new();
            for table in self.tables.values_mut() {
                if !refers(table.as_ref(), &deleted) {
                    continue;
                }
                let forgotten = table.mirror_deleted(&deleted, &mut tasks);
                if !forgotten.is_empty() {
                    next.push((table.meta().table, forgotten));
                }
            }
            deleted = next;
        }
        tasks
    }
}

/// What one flush writes, table by table in commit order, in `waves` waves.
pub(crate) struct FlushPlan {
    generation: u64,
    pub(crate) tables: Vec<(TypeId, TablePlan)>,
    pub(crate) waves: usize,
    /// True when an entity of the flush has relations: the keys of inserted rows are then
    /// recorded, for the rows and references that wait for them.
    pub(crate) relations: bool,
}

impl FlushPlan {
    /// After the commit, without the unit-of-work lock: writes generated keys, defaults and
    /// new versions into the live instances (`returned`: per table, per insert group; `keys`:
    /// the key of each inserted instance by address). Inside a transaction (`journal`),
    /// returns how to undo that. An instance still borrowed after the wait is reported, but the
    /// rest is written all the same: the rows are committed.
    pub(crate) fn write_back(
        &mut self,
        returned: Vec<Vec<ReturnedRows>>,
        keys: &HashMap<usize, Value>,
        journal: bool,
    ) -> (Vec<Undo>, Option<Error>) {
        let mut undo = Vec::new();
        let mut first_error = None;
        for ((_, plan), returned) in self.tables.iter_mut().zip(returned) {
            if let Err(e) = plan.typed.write_back(returned, keys, journal.then_some(&mut undo)) {
                first_error.get_or_insert(e);
            }
        }
        (undo, first_error)
    }
}
