//! The identity map: per entity type, the managed instances by primary key, with the snapshot
//! each was loaded or last flushed with, plus the new instances waiting for their INSERT and
//! the keys removed without loading.
//!
//! A [`Table<T>`] keeps its state private; the [`crate::unit_of_work`] is its only writer, through
//! the methods below (track a new instance, schedule a removal, take a loaded row, record what
//! a flush wrote). Every loop over instances runs in the monomorphised `Table<T>`, so a flush
//! over 10,000 entities costs no dynamic dispatch per entity. This module knows nothing of the
//! unit of work.

use crate::entity::{Entity, Key};
use crate::error::{Error, Result};
use crate::managed::{Managed, Versioning};
use crate::value::{FieldType, Value};
use parking_lot::MappedMutexGuard;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// The hasher of the identity map: foldhash, seeded per process. Keys come from the database,
/// and SipHash (the std default) dominated the cost of loading and flushing many rows.
pub(crate) type FastHash = foldhash::fast::RandomState;

/// One managed instance and what the database holds for it.
pub(crate) struct Tracked<T: Entity> {
    handle: Managed<T>,
    /// The state at the last flush (or refresh) that wrote it: dirty checking compares against
    /// it. `None` for an instance loaded and not flushed since: its handle knows whether it
    /// was written to, and keeps its state from before the first write ([`Versioning`]), so
    /// loading copies nothing.
    snapshot: Option<Box<T>>,
    /// Scheduled for DELETE at the next flush.
    removed: bool,
}

/// What dirty checking compares an instance with: its snapshot, or the copy its handle took at
/// the first write borrow.
pub(crate) enum Baseline<'a, T> {
    Kept(&'a T),
    Before(MappedMutexGuard<'a, T>),
}

impl<T> std::ops::Deref for Baseline<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Baseline::Kept(t) => t,
            Baseline::Before(g) => g,
        }
    }
}

impl<T: Entity> Tracked<T> {
    fn new(handle: Managed<T>, snapshot: T) -> Self {
        Self { handle, snapshot: Some(Box::new(snapshot)), removed: false }
    }

    /// A loaded instance, without a snapshot (its handle is [`Versioning::Clean`]).
    fn loaded(handle: Managed<T>) -> Self {
        Self { handle, snapshot: None, removed: false }
    }

    pub(crate) fn handle(&self) -> &Managed<T> {
        &self.handle
    }

    /// True when the instance is known to be as it was loaded: no snapshot, and never
    /// borrowed for writing since. Read without locking the instance: a write borrow taken at
    /// this very moment belongs to the next flush.
    pub(crate) fn is_clean(&self) -> bool {
        self.snapshot.is_none() && self.handle.versioning() == Versioning::Clean
    }

    /// What dirty checking compares the instance with; `None` when it is clean. Called with
    /// the instance locked, or when it is not clean.
    pub(crate) fn baseline(&self) -> Option<Baseline<'_, T>> {
        match &self.snapshot {
            Some(s) => Some(Baseline::Kept(s)),
            None => self.handle.before().map(Baseline::Before),
        }
    }

    /// The value the database holds in `column`, as far as this EntityManager knows.
    fn stored_value(&self, column: usize) -> Value {
        match self.baseline() {
            Some(b) => b.column_value(column),
            // Clean: the instance is its row.
            None => self.handle.read().column_value(column),
        }
    }

    /// The database changed `column` of the row (a rule of a foreign key): the baseline
    /// follows. A clean instance has none; the live instance is changed by the caller.
    fn set_stored_value(&mut self, column: usize, value: Value) {
        let _ = match &mut self.snapshot {
            Some(s) => s.set_column(column, value),
            None => match self.handle.before() {
                Some(mut b) => b.set_column(column, value),
                None => Ok(()),
            },
        };
    }

    pub(crate) fn is_removed(&self) -> bool {
        self.removed
    }
}

impl<T: Entity> Clone for Tracked<T> {
    /// A copy with a snapshot of its own (a transaction keeps these to return to): the handle
    /// is shared, so the copy cannot rely on what the handle watches.
    fn clone(&self) -> Self {
        let snapshot = match self.baseline() {
            Some(b) => (*b).clone(),
            None => {
                // Clean: the instance is its row. Read it, then check it is still clean (a
                // writer marks it before changing anything, under the write lock).
                let entity = self.handle.read();
                match self.handle.versioning() {
                    Versioning::Clean => entity.clone(),
                    _ => {
                        drop(entity);
                        self.baseline().map(|b| (*b).clone()).unwrap_or_else(|| self.handle.get())
                    }
                }
            }
        };
        Self {
            handle: self.handle.clone(),
            snapshot: Some(Box::new(snapshot)),
            removed: self.removed,
        }
    }
}

/// The instances of one entity type.
pub(crate) struct Table<T: Entity> {
    managed: HashMap<T::Key, Tracked<T>, FastHash>,
    /// New instances in persist order; inserted (and keyed) at the next flush.
    new: Vec<Managed<T>>,
    new_addrs: HashSet<usize, FastHash>,
    /// Keys scheduled for DELETE without a loaded instance (`remove_by_key`), in order.
    removed_keys: Vec<T::Key>,
    /// Counts the changes of removal marks, so that a flush can tell whether any happened while
    /// it ran.
    removal_marks: u64,
}

impl<T: Entity> Clone for Table<T> {
    fn clone(&self) -> Self {
        Self {
            managed: self.managed.clone(),
            new: self.new.clone(),
            new_addrs: self.new_addrs.clone(),
            removed_keys: self.removed_keys.clone(),
            removal_marks: self.removal_marks,
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
            removal_marks: 0,
        }
    }
}

impl<T: Entity> Table<T> {
    // ---- lookups ----

    /// The managed instance with `key`.
    pub(crate) fn get(&self, key: &T::Key) -> Option<&Managed<T>> {
        self.managed.get(key).map(|t| &t.handle)
    }

    /// Number of managed (loaded or flushed) instances.
    pub(crate) fn len(&self) -> usize {
        self.managed.len()
    }

    pub(crate) fn is_new(&self, handle: &Managed<T>) -> bool {
        self.new_addrs.contains(&handle.addr())
    }

    /// The managed instances with their keys, for computing a flush.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&T::Key, &Tracked<T>)> {
        self.managed.iter()
    }

    pub(crate) fn contains(&self, key: &T::Key) -> bool {
        self.managed.contains_key(key)
    }

    /// The new instances, in persist order.
    pub(crate) fn new_instances(&self) -> &[Managed<T>] {
        &self.new
    }

    /// The number of removal marks set or cleared so far (see [`Table::deleted`]).
    pub(crate) fn removal_marks(&self) -> u64 {
        self.removal_marks
    }

    /// The keys removed without loading, in order (duplicates possible).
    pub(crate) fn removed_keys(&self) -> &[T::Key] {
        &self.removed_keys
    }

    // ---- what the application asks for ----

    /// Tracks a new instance, to insert at the next flush (once, however often it is added).
    pub(crate) fn track_new(&mut self, handle: Managed<T>) {
        if self.new_addrs.insert(handle.addr()) {
            self.new.push(handle);
        }
    }

    /// Forgets a new instance; false when it was not new.
    pub(crate) fn forget_new(&mut self, handle: &Managed<T>) -> bool {
        if self.new_addrs.remove(&handle.addr()) {
            self.new.retain(|h| !Managed::ptr_eq(h, handle));
            return true;
        }
        false
    }

    /// `persist` of an instance with `key`: a managed instance loses its pending removal; any
    /// other becomes new, unless another instance has that key.
    pub(crate) fn persist(&mut self, handle: &Managed<T>, key: &T::Key) -> Result<()> {
        if let Some(t) = self.managed.get_mut(key) {
            if Managed::ptr_eq(&t.handle, handle) {
                t.removed = false;
                self.removal_marks += 1;
                return Ok(());
            }
            return Err(Error::usage(format!(
                "another instance of {} with key {key} is already managed by this \
                 EntityManager; change that instance (find_one returns it) instead",
                T::meta().name
            )));
        }
        self.track_new(handle.clone());
        Ok(())
    }

    /// `remove` of an instance that is not new: a managed one is scheduled for DELETE, any
    /// other by its key. False when it was scheduled already.
    pub(crate) fn schedule_removal(&mut self, handle: &Managed<T>, key: T::Key) -> Result<bool> {
        if let Some(t) = self.managed.get_mut(&key)
            && Managed::ptr_eq(&t.handle, handle)
        {
            let first = !t.removed;
            t.removed = true;
            self.removal_marks += 1;
            return Ok(first);
        }
        if key.is_unset() {
            return Err(Error::usage(format!(
                "this {} is not managed by this EntityManager and has no key; there is \
                 nothing to remove",
                T::meta().name
            )));
        }
        if self.removed_keys.contains(&key) {
            return Ok(false);
        }
        self.removed_keys.push(key);
        Ok(true)
    }

    /// `remove_by_key`: the managed instance with `key` is scheduled for DELETE, else the key.
    pub(crate) fn schedule_removal_by_key(&mut self, key: T::Key) {
        match self.managed.get_mut(&key) {
            Some(t) => t.removed = true,
            None => self.removed_keys.push(key),
        }
        self.removal_marks += 1;
    }

    // ---- what the database says ----

    /// The managed instance for a row loaded from the database: the one already in the map
    /// (the row's values are then left alone, and unflushed changes are kept), or a new one
    /// built from the values taken out of `row`.
    pub(crate) fn hydrate_row(&mut self, row: &mut Vec<Value>) -> Result<Managed<T>> {
        let pk = T::meta().primary_key;
        let key = row
            .get(pk)
            .cloned()
            .ok_or_else(|| Error::invalid_value("a row without its primary key"))
            .and_then(<T::Key as FieldType>::from_value)?;
        // One probe per row.
        Ok(match self.managed.entry(key) {
            Entry::Occupied(t) => t.get().handle.clone(),
            Entry::Vacant(slot) => {
                let handle = Managed::loaded(T::take_values(row)?);
                slot.insert(Tracked::loaded(handle.clone()));
                handle
            }
        })
    }

    /// `refresh` reloaded `handle` (already holding `fresh`): it is managed with that state.
    pub(crate) fn refreshed(&mut self, handle: &Managed<T>, key: T::Key, fresh: T) {
        match self.managed.get_mut(&key) {
            Some(t) if Managed::ptr_eq(&t.handle, handle) => {
                handle.set_stored(true);
                handle.set_eager();
                t.snapshot = Some(Box::new(fresh));
                t.removed = false;
                self.removal_marks += 1;
            }
            _ => {
                handle.set_stored(true);
                handle.set_eager();
                self.managed.insert(key, Tracked::new(handle.clone(), fresh));
            }
        }
    }

    /// `refresh` found the row of `handle` gone: it is no longer managed.
    pub(crate) fn vanished(&mut self, handle: &Managed<T>, key: &T::Key) {
        handle.set_stored(false);
        if self.managed.get(key).is_some_and(|t| Managed::ptr_eq(&t.handle, handle)) {
            self.managed.remove(key);
        }
    }

    // ---- what a committed flush wrote ----

    /// Mirrors what the database did to the rows that refer to deleted rows (`deleted`: table
    /// names with their deleted keys): managed entities whose `on delete cascade` foreign key
    /// points at one are forgotten (their keys are returned, as this table's deletions), ones
    /// with `on delete set null` read NULL (in the snapshot here, in the live instance by a
    /// `task` run once the unit of work is unlocked), and loaded collections and inverse
    /// references forget the deleted targets (by tasks too).
    pub(crate) fn mirror_deleted(
        &mut self,
        deleted: &[(&str, Vec<Value>)],
        tasks: &mut Vec<Box<dyn FnOnce() + Send>>,
    ) -> Vec<Value> {
        use crate::metadata::ReferentialAction;
        let mut forgotten = Vec::new();
        for (index, relation) in T::meta().relations.iter().enumerate() {
            let target = relation.target().table;
            let Some((_, keys)) = deleted.iter().find(|(table, _)| *table == target) else {
                continue;
            };
            match relation.join_column {
                Some(column) => match relation.delete_rule() {
                    Some(ReferentialAction::Cascade) => {
                        let gone: Vec<T::Key> = self
                            .managed
                            .iter()
                            .filter(|(_, t)| keys.contains(&t.stored_value(column)))
                            .map(|(k, _)| k.clone())
                            .collect();
                        for key in gone {
                            forgotten.push(key.to_value());
                            self.managed.remove(&key);
                        }
                    }
                    Some(ReferentialAction::SetNull) => {
                        for t in self.managed.values_mut() {
                            if keys.contains(&t.stored_value(column)) {
                                t.set_stored_value(column, Value::Null);
                                let (handle, keys) = (t.handle.clone(), keys.clone());
                                tasks.push(Box::new(move || {
                                    if let Ok(mut live) =
                                        handle.write_for("mirror the deletion of", None)
                                        && keys.contains(&live.column_value(column))
                                    {
                                        let _ = live.set_column(column, Value::Null);
                                    }
                                }));
                            }
                        }
                    }
                    _ => {}
                },
                None => {
                    for t in self.managed.values() {
                        let (handle, keys) = (t.handle.clone(), keys.clone());
                        tasks.push(Box::new(move || {
                            if let Ok(mut live) = handle.write_for("mirror the deletion of", None)
                                && let Some(field) = live.relation_mut(index)
                            {
                                field.forget_deleted(&keys);
                            }
                        }));
                    }
                }
            }
        }
        forgotten
    }

    /// Room for `n` more managed instances.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.managed.reserve(n);
    }

    /// A new instance was inserted with `state`: it is managed now. An instance removed while
    /// its INSERT was under way is no longer new; its row exists now, so the removal becomes a
    /// DELETE at the next flush.
    pub(crate) fn inserted(&mut self, handle: Managed<T>, state: T) {
        let removed_meanwhile = !self.is_new(&handle);
        handle.set_stored(true);
        let key = state.key();
        let mut tracked = Tracked::new(handle, state);
        tracked.removed = removed_meanwhile;
        self.managed.insert(key, tracked);
    }

    /// An instance that cascade persist reached was inserted with `state`: it is managed now.
    pub(crate) fn inserted_by_cascade(&mut self, handle: Managed<T>, state: T) {
        handle.set_stored(true);
        let key = state.key();
        self.managed.insert(key, Tracked::new(handle, state));
    }

    /// Forgets the new instances in `flushed` (by address): they were inserted.
    pub(crate) fn forget_flushed_new(&mut self, flushed: &HashSet<usize, FastHash>) {
        if flushed.is_empty() {
            return;
        }
        self.new.retain(|h| !flushed.contains(&h.addr()));
        self.new_addrs.retain(|a| !flushed.contains(a));
    }

    /// A managed instance was updated to `state`, its new snapshot.
    pub(crate) fn updated(&mut self, handle: &Managed<T>, key: &T::Key, state: T) {
        if let Some(t) = self.managed.get_mut(key)
            && Managed::ptr_eq(&t.handle, handle)
        {
            handle.set_eager();
            t.snapshot = Some(Box::new(state));
        }
    }

    /// The rows of `keys` were deleted, covering the first `removed_keys` keys removed without
    /// loading (later ones arrived while the flush ran, and stay pending). `marks` is
    /// [`Table::removal_marks`] when the flush collected its deletes: unchanged, every entry
    /// marked removed is one the flush deleted.
    pub(crate) fn deleted(&mut self, keys: &[T::Key], removed_keys: usize, marks: u64) {
        if keys.len() > 64 && marks == self.removal_marks {
            // One pass over the map in memory order rather than one random probe per key.
            self.managed.retain(|_, t| {
                if t.removed {
                    t.handle.set_stored(false);
                }
                !t.removed
            });
        } else {
            for key in keys {
                if let Some(t) = self.managed.remove(key) {
                    t.handle.set_stored(false);
                }
            }
        }
        let covered = removed_keys.min(self.removed_keys.len());
        self.removed_keys.drain(..covered);
    }
}
