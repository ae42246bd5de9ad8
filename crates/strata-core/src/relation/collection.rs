//! [`Collection<T>`]: the to-many side of a relation (MikroORM's `Collection`).

use super::serialize::Visit;
use super::{Member, MembershipChanges, Reference, RelationValue};
use crate::entity::{Entity, Key};
use crate::managed::{ErasedHandle, Managed, WeakManaged};
use crate::value::{FieldType, Value};
use std::any::Any;
use std::fmt;

/// The items of a one-to-many or many-to-many relation.
///
/// A collection is **unloaded** until populated (`FindOptions::populate`, `em.populate`): its
/// items are unknown, and it is never mistaken for an empty one — `len`, `items` and `keys` are
/// `None`, and a flush writes only what was explicitly added, removed or set. A **loaded**
/// collection knows its items and the membership it had when loaded (or last flushed): the
/// flush of a many-to-many owner writes only the difference to the pivot table.
///
/// A new entity's collection starts loaded and empty ([`Collection::new`]).
///
/// Serialized, a loaded collection is the list of its items (each as the entity when it is at
/// hand, else its key); write `#[serde(skip_serializing_if = "Collection::is_unloaded")]` on the
/// field to leave an unloaded one out.
pub struct Collection<T: Entity> {
    state: State<T>,
}

/// One member: its key (unknown for a new instance) and the instance when at hand.
struct Item<T: Entity> {
    key: Option<T::Key>,
    link: Link<T>,
}

enum Link<T: Entity> {
    /// Known by key only.
    None,
    /// A managed instance (the identity map keeps it alive).
    Weak(WeakManaged<T>),
    /// An instance added by the application, possibly new: kept alive until flushed.
    Strong(Managed<T>),
}

enum State<T: Entity> {
    Unloaded {
        added: Vec<Item<T>>,
        removed: Vec<T::Key>,
        /// `set` was called: every previous member leaves.
        replace_all: bool,
    },
    Loaded {
        items: Vec<Item<T>>,
        /// The members' keys when loaded or last flushed, sorted.
        baseline: Vec<T::Key>,
        /// Members of the baseline removed since, with their instances (orphan removal).
        dropped: Vec<Item<T>>,
    },
}

impl<T: Entity> Clone for Item<T> {
    fn clone(&self) -> Self {
        let link = match &self.link {
            Link::None => Link::None,
            Link::Weak(w) => Link::Weak(w.clone()),
            Link::Strong(h) => Link::Strong(h.clone()),
        };
        Self { key: self.key.clone(), link }
    }
}

impl<T: Entity> Clone for Collection<T> {
    fn clone(&self) -> Self {
        let state = match &self.state {
            State::Unloaded { added, removed, replace_all } => State::Unloaded {
                added: added.clone(),
                removed: removed.clone(),
                replace_all: *replace_all,
            },
            State::Loaded { items, baseline, dropped } => State::Loaded {
                items: items.clone(),
                baseline: baseline.clone(),
                dropped: dropped.clone(),
            },
        };
        Self { state }
    }
}

impl<T: Entity> fmt::Debug for Collection<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = T::meta().name;
        match &self.state {
            State::Unloaded { .. } => write!(f, "Collection<{name}>(unloaded)"),
            State::Loaded { items, .. } => {
                let keys: Vec<String> = items
                    .iter()
                    .map(|i| i.key.as_ref().map_or_else(|| "new".to_owned(), ToString::to_string))
                    .collect();
                write!(f, "Collection<{name}>[{}]", keys.join(", "))
            }
        }
    }
}

impl<T: Entity> Default for Collection<T> {
    /// A loaded, empty collection: what a new entity starts with.
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Entity> Item<T> {
    fn from_reference(r: &Reference<T>) -> Self {
        let key = r.key();
        let link = match (r.attached(), r.get()) {
            (Some(h), _) => Link::Strong(h.clone()),
            (None, Some(h)) => Link::Weak(h.downgrade()),
            (None, None) => Link::None,
        };
        Self { key, link }
    }

    fn instance(&self) -> Option<Managed<T>> {
        match &self.link {
            Link::None => None,
            Link::Weak(w) => w.upgrade(),
            Link::Strong(h) => Some(h.clone()),
        }
    }

    fn addr(&self) -> Option<usize> {
        match &self.link {
            Link::None => None,
            Link::Weak(w) => Some(w.addr()),
            Link::Strong(h) => Some(h.addr()),
        }
    }

    /// After a flush: a new instance learns its key; a member with a key is managed, so it is
    /// held weakly from now on.
    fn resolve(&mut self, keys: &dyn Fn(usize) -> Option<Value>) {
        if self.key.is_none()
            && let Some(addr) = self.addr()
            && let Some(value) = keys(addr)
        {
            self.key = <T::Key as FieldType>::from_value(value).ok();
        }
        if let Link::Strong(h) = &self.link
            && self.key.as_ref().is_some_and(|k| !k.is_unset())
        {
            self.link = Link::Weak(h.downgrade());
        }
    }

    fn in_baseline(&self, baseline: &[T::Key]) -> bool {
        self.key.as_ref().is_some_and(|k| baseline.binary_search(k).is_ok())
    }

    /// The same member: the same key, or the same instance when either has no key.
    fn same(&self, other: &Self) -> bool {
        match (&self.key, &other.key) {
            (Some(a), Some(b)) => a == b,
            _ => self.addr().is_some() && self.addr() == other.addr(),
        }
    }
}

impl<T: Entity> Collection<T> {
    /// A loaded, empty collection, as a new entity has.
    pub fn new() -> Self {
        Self {
            state: State::Loaded { items: Vec::new(), baseline: Vec::new(), dropped: Vec::new() },
        }
    }

    /// An unloaded collection: what an entity read from the database has until populated.
    pub fn unloaded() -> Self {
        Self {
            state: State::Unloaded { added: Vec::new(), removed: Vec::new(), replace_all: false },
        }
    }

    /// Populate loaded the members `rows` from the database: an unloaded collection becomes
    /// loaded with them as its members (not as additions), keeping what was added, removed or
    /// set before it was loaded as changes still to write. A loaded collection is left as it is
    /// (its members may have unflushed changes).
    pub(crate) fn populated(&mut self, rows: Vec<(T::Key, Managed<T>)>) {
        let State::Unloaded { added, removed, replace_all } = &mut self.state else { return };
        let mut baseline: Vec<T::Key> = rows.iter().map(|(k, _)| k.clone()).collect();
        baseline.sort_unstable();
        let from_db = rows
            .into_iter()
            .map(|(key, h)| Item { key: Some(key), link: Link::Weak(h.downgrade()) });
        let mut items: Vec<Item<T>> = if *replace_all {
            Vec::new()
        } else {
            from_db.filter(|i| i.key.as_ref().is_none_or(|k| !removed.contains(k))).collect()
        };
        for item in std::mem::take(added) {
            if !items.iter().any(|i| i.same(&item)) {
                items.push(item);
            }
        }
        self.state = State::Loaded { items, baseline, dropped: Vec::new() };
    }

    /// True when the items are known.
    pub fn is_loaded(&self) -> bool {
        matches!(self.state, State::Loaded { .. })
    }

    /// True until populated (for `#[serde(skip_serializing_if = "Collection::is_unloaded")]`).
    pub fn is_unloaded(&self) -> bool {
        !self.is_loaded()
    }

    /// The number of items; `None` when unloaded.
    pub fn len(&self) -> Option<usize> {
        match &self.state {
            State::Loaded { items, .. } => Some(items.len()),
            State::Unloaded { .. } => None,
        }
    }

    /// True when loaded and empty; `None` when unloaded.
    pub fn is_empty(&self) -> Option<bool> {
        self.len().map(|n| n == 0)
    }

    /// The instances of the items, in order; `None` when unloaded. An item known only by its
    /// key (added with `Reference::from_key`), or whose EntityManager is gone, is not in it.
    pub fn items(&self) -> Option<Vec<Managed<T>>> {
        match &self.state {
            State::Loaded { items, .. } => Some(items.iter().filter_map(Item::instance).collect()),
            State::Unloaded { .. } => None,
        }
    }

    /// The keys of the items, in order (a new instance without a key yet is left out); `None`
    /// when unloaded.
    pub fn keys(&self) -> Option<Vec<T::Key>> {
        match &self.state {
            State::Loaded { items, .. } => {
                Some(items.iter().filter_map(|i| i.key.clone()).collect())
            }
            State::Unloaded { .. } => None,
        }
    }

    /// Whether the row with `key` is an item; `None` when unloaded.
    pub fn contains(&self, key: &T::Key) -> Option<bool> {
        match &self.state {
            State::Loaded { items, .. } => Some(items.iter().any(|i| i.key.as_ref() == Some(key))),
            State::Unloaded { .. } => None,
        }
    }

    /// Adds an item: `&handle` (a managed or new instance) or `Reference::from_key(k)`. Allowed
    /// on an unloaded collection too: the flush writes it without loading the others. Adding a
    /// member twice is one member.
    pub fn add(&mut self, item: impl Into<Reference<T>>) {
        let item = Item::from_reference(&item.into());
        match &mut self.state {
            State::Loaded { items, .. } => {
                if !items.iter().any(|i| i.same(&item)) {
                    items.push(item);
                }
            }
            State::Unloaded { added, removed, .. } => {
                if let Some(key) = &item.key {
                    removed.retain(|k| k != key);
                }
                if !added.iter().any(|i| i.same(&item)) {
                    added.push(item);
                }
            }
        }
    }

    /// Removes an item (by key, or by instance for a new one). Allowed unloaded too.
    pub fn remove(&mut self, item: impl Into<Reference<T>>) {
        let item = Item::from_reference(&item.into());
        match &mut self.state {
            State::Loaded { items, baseline, dropped } => {
                let (gone, kept): (Vec<Item<T>>, Vec<Item<T>>) =
                    std::mem::take(items).into_iter().partition(|i| i.same(&item));
                *items = kept;
                dropped.extend(gone.into_iter().filter(|i| i.in_baseline(baseline)));
            }
            State::Unloaded { added, removed, .. } => {
                added.retain(|i| !i.same(&item));
                if let Some(key) = item.key
                    && !removed.contains(&key)
                {
                    removed.push(key);
                }
            }
        }
    }

    /// Makes `items` the members, in order. On an unloaded collection the flush replaces every
    /// member (`DELETE` of the pivot rows, then an `INSERT`), without loading them.
    pub fn set<I: Into<Reference<T>>>(&mut self, items: impl IntoIterator<Item = I>) {
        let mut new: Vec<Item<T>> = Vec::new();
        for item in items {
            let item = Item::from_reference(&item.into());
            if !new.iter().any(|i| i.same(&item)) {
                new.push(item);
            }
        }
        match &mut self.state {
            State::Loaded { items, baseline, dropped } => {
                let old = std::mem::replace(items, new);
                dropped.extend(
                    old.into_iter()
                        .filter(|i| i.in_baseline(baseline) && !items.iter().any(|n| n.same(i))),
                );
            }
            State::Unloaded { .. } => {
                self.state = State::Unloaded { added: new, removed: Vec::new(), replace_all: true };
            }
        }
    }

    /// Removes every member (`set` of nothing).
    pub fn clear(&mut self) {
        self.set(std::iter::empty::<Reference<T>>());
    }

    /// Sets the members by key, without loading anything (`set` of `Reference::from_key`).
    pub fn set_keys(&mut self, keys: impl IntoIterator<Item = T::Key>) {
        self.set(keys.into_iter().map(Reference::from_key));
    }

    /// True when membership changed since the collection was loaded or last flushed.
    pub fn is_dirty(&self) -> bool {
        self.changes().is_some()
    }

    fn changes(&self) -> Option<MembershipChanges> {
        let member = |i: &Item<T>| match (&i.key, &i.link) {
            (Some(k), _) => Some(Member::Key(k.to_value())),
            (None, Link::Strong(h)) => Some(Member::New(h.erase())),
            (None, Link::Weak(w)) => w.upgrade().map(|h| Member::New(h.erase())),
            (None, Link::None) => None,
        };
        let changes = match &self.state {
            State::Unloaded { added, removed, replace_all } => MembershipChanges {
                replace_all: *replace_all,
                added: added.iter().filter_map(member).collect(),
                removed: removed.iter().map(FieldType::to_value).collect(),
            },
            State::Loaded { items, baseline, .. } => MembershipChanges {
                replace_all: false,
                added: items
                    .iter()
                    .filter(|i| i.key.as_ref().is_none_or(|k| baseline.binary_search(k).is_err()))
                    .filter_map(member)
                    .collect(),
                removed: baseline
                    .iter()
                    .filter(|k| !items.iter().any(|i| i.key.as_ref() == Some(*k)))
                    .map(FieldType::to_value)
                    .collect(),
            },
        };
        let nothing =
            !changes.replace_all && changes.added.is_empty() && changes.removed.is_empty();
        (!nothing).then_some(changes)
    }
}

impl<T: Entity> FromIterator<Reference<T>> for Collection<T> {
    /// A loaded collection of new members (a new entity's).
    fn from_iter<I: IntoIterator<Item = Reference<T>>>(iter: I) -> Self {
        let mut c = Self::new();
        c.set(iter);
        c
    }
}

impl<T: Entity> RelationValue for Collection<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn attached_items(&self) -> Vec<ErasedHandle> {
        let items = match &self.state {
            State::Loaded { items, .. } => items,
            State::Unloaded { added, .. } => added,
        };
        items
            .iter()
            .filter_map(|i| match &i.link {
                Link::Strong(h) => Some(h.erase()),
                _ => None,
            })
            .collect()
    }
    fn membership_changes(&self) -> Option<MembershipChanges> {
        self.changes()
    }
    fn loaded_targets(&self) -> Vec<ErasedHandle> {
        self.items().unwrap_or_default().iter().map(Managed::erase).collect()
    }
    fn orphans(&self) -> Vec<ErasedHandle> {
        match &self.state {
            State::Loaded { dropped, .. } => {
                dropped.iter().filter_map(Item::instance).map(|h| h.erase()).collect()
            }
            State::Unloaded { .. } => Vec::new(),
        }
    }
    fn forget_deleted(&mut self, keys: &[Value]) {
        let deleted = |k: &T::Key| keys.contains(&k.to_value());
        match &mut self.state {
            State::Loaded { items, baseline, dropped } => {
                items.retain(|i| i.key.as_ref().is_none_or(|k| !deleted(k)));
                baseline.retain(|k| !deleted(k));
                dropped.retain(|i| i.key.as_ref().is_none_or(|k| !deleted(k)));
            }
            State::Unloaded { added, removed, .. } => {
                added.retain(|i| i.key.as_ref().is_none_or(|k| !deleted(k)));
                removed.retain(|k| !deleted(k));
            }
        }
    }
    fn flushed(&mut self, keys: &dyn Fn(usize) -> Option<Value>) {
        let items = match &mut self.state {
            State::Loaded { items, .. } => items,
            State::Unloaded { added, .. } => added,
        };
        for item in items.iter_mut() {
            item.resolve(keys);
        }
    }

    fn written(&mut self, written: &MembershipChanges, keys: &dyn Fn(usize) -> Option<Value>) {
        let key_of = |m: &Member| -> Option<T::Key> {
            let value = match m {
                Member::Key(v) => Some(v.clone()),
                Member::New(h) => keys(h.addr()),
            };
            value.and_then(|v| <T::Key as FieldType>::from_value(v).ok())
        };
        let added: Vec<T::Key> = written.added.iter().filter_map(key_of).collect();
        let added_addrs: Vec<usize> = written
            .added
            .iter()
            .filter_map(|m| match m {
                Member::New(h) => Some(h.addr()),
                Member::Key(_) => None,
            })
            .collect();
        let removed: Vec<T::Key> = written
            .removed
            .iter()
            .filter_map(|v| <T::Key as FieldType>::from_value(v.clone()).ok())
            .collect();
        match &mut self.state {
            State::Unloaded { added: pending, removed: gone, replace_all } => {
                // What was written is no longer pending; what came since stays.
                pending.retain(|i| {
                    let by_key = i.key.as_ref().is_some_and(|k| added.contains(k));
                    let by_addr = i.addr().is_some_and(|a| added_addrs.contains(&a));
                    !(by_key || by_addr)
                });
                gone.retain(|k| !removed.contains(k));
                if written.replace_all {
                    *replace_all = false;
                }
                for item in pending.iter_mut() {
                    item.resolve(keys);
                }
            }
            State::Loaded { items, baseline, dropped } => {
                for item in items.iter_mut() {
                    item.resolve(keys);
                }
                baseline.retain(|k| !removed.contains(k));
                dropped.retain(|i| i.key.as_ref().is_none_or(|k| !removed.contains(k)));
                for key in added {
                    if let Err(at) = baseline.binary_search(&key) {
                        baseline.insert(at, key);
                    }
                }
            }
        }
    }
}

impl<T: Entity + serde::Serialize> serde::Serialize for Collection<T> {
    /// A loaded collection: its items, each as the entity when at hand (and not already being
    /// serialized further up), else as its key. An unloaded one: an empty list (leave it out
    /// with `skip_serializing_if = "Collection::is_unloaded"`).
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let items: &[Item<T>] = match &self.state {
            State::Loaded { items, .. } => items,
            State::Unloaded { .. } => &[],
        };
        let mut seq = serializer.serialize_seq(Some(items.len()))?;
        for item in items {
            match item.instance() {
                Some(instance) => match Visit::enter(instance.addr()) {
                    Some(visit) => {
                        seq.serialize_element(&instance.get())?;
                        drop(visit);
                    }
                    None => seq.serialize_element(&item.key)?,
                },
                None => seq.serialize_element(&item.key)?,
            }
        }
        seq.end()
    }
}
