//! The identity map: per entity type, the managed instances by primary key, with the snapshot
//! each was loaded or last flushed with, plus the new instances waiting for their INSERT.
//!
//! Tables are stored type-erased ([`AnyTable`]) in the [`crate::unit_of_work::UnitOfWork`] but
//! every loop over instances runs in the monomorphised [`Table<T>`], so a flush over 10,000
//! entities costs no dynamic dispatch per entity.

use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::managed::Managed;
use crate::value::{FieldType, Value};
use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The hasher of the identity map: foldhash, seeded per process. Keys come from the database,
/// and SipHash (the std default) dominated the cost of loading and flushing many rows.
pub(crate) type FastHash = foldhash::fast::RandomState;

/// One managed instance and what the database holds for it.
pub(crate) struct Tracked<T: Entity> {
    pub(crate) handle: Managed<T>,
    /// The state at load or last flush: dirty checking compares against it. Shared, so that a
    /// flush can compare outside the unit-of-work lock and a transaction can keep a copy of
    /// the identity map without copying entities.
    pub(crate) snapshot: Arc<T>,
    /// Scheduled for DELETE at the next flush.
    pub(crate) removed: bool,
}

impl<T: Entity> Tracked<T> {
    pub(crate) fn new(handle: Managed<T>, snapshot: Arc<T>) -> Self {
        Self { handle, snapshot, removed: false }
    }
}

impl<T: Entity> Clone for Tracked<T> {
    fn clone(&self) -> Self {
        Self {
            handle: self.handle.clone(),
            snapshot: Arc::clone(&self.snapshot),
            removed: self.removed,
        }
    }
}

/// The instances of one entity type.
pub(crate) struct Table<T: Entity> {
    pub(crate) managed: HashMap<T::Key, Tracked<T>, FastHash>,
    /// New instances in persist order; inserted (and keyed) at the next flush.
    pub(crate) new: Vec<Managed<T>>,
    new_addrs: HashSet<usize, FastHash>,
    /// Keys scheduled for DELETE without a loaded instance (`remove_by_key`).
    pub(crate) removed_keys: Vec<T::Key>,
}

impl<T: Entity> Clone for Table<T> {
    fn clone(&self) -> Self {
        Self {
            managed: self.managed.clone(),
            new: self.new.clone(),
            new_addrs: self.new_addrs.clone(),
            removed_keys: self.removed_keys.clone(),
        }
    }
}

impl<T: Entity> Default for Table<T> {
    fn default() -> Self {
        Self {
            managed: HashMap::default(),
            new: Vec::new(),
            new_addrs: HashSet::default(),
            removed_keys: Vec::new(),
        }
    }
}

impl<T: Entity> Table<T> {
    pub(crate) fn is_new(&self, handle: &Managed<T>) -> bool {
        self.new_addrs.contains(&handle.addr())
    }

    pub(crate) fn add_new(&mut self, handle: Managed<T>) {
        if self.new_addrs.insert(handle.addr()) {
            self.new.push(handle);
        }
    }

    pub(crate) fn forget_new(&mut self, handle: &Managed<T>) {
        if self.new_addrs.remove(&handle.addr()) {
            self.new.retain(|h| !Managed::ptr_eq(h, handle));
        }
    }

    /// Forgets the new instances in `flushed` (by address): they were inserted.
    pub(crate) fn forget_flushed_new(&mut self, flushed: &HashSet<usize, FastHash>) {
        if flushed.is_empty() {
            return;
        }
        self.new.retain(|h| !flushed.contains(&h.addr()));
        self.new_addrs.retain(|a| !flushed.contains(a));
    }

    /// The managed instance for a row loaded from the database: the one already in the map
    /// (the row is then not even decoded, and unflushed changes are kept), or a new one.
    pub(crate) fn hydrate_row(&mut self, row: Vec<Value>) -> Result<Managed<T>> {
        let pk = T::meta().primary_key;
        let key = row
            .get(pk)
            .cloned()
            .ok_or_else(|| Error::invalid_value("a row without its primary key"))
            .and_then(<T::Key as FieldType>::from_value)?;
        // One probe per row.
        Ok(match self.managed.entry(key) {
            std::collections::hash_map::Entry::Occupied(t) => t.get().handle.clone(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let entity = T::from_values(row)?;
                let handle = Managed::new(entity.clone());
                slot.insert(Tracked::new(handle.clone(), Arc::new(entity)));
                handle
            }
        })
    }
}

/// A type-erased [`Table<T>`].
pub(crate) trait AnyTable: crate::unit_of_work::TableFlush + Send + Sync {
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
        self.managed.len()
    }
}
