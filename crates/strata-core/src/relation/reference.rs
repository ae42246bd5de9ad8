//! [`Reference<T>`]: the to-one side of a relation, and an entity known by its key
//! (MikroORM's `Reference` and `getReference`).

use super::RelationValue;
use super::serialize::Visit;
use crate::entity::{Entity, Key};
use crate::entity_manager::EntityManager;
use crate::error::Result;
use crate::managed::{BORROW_WAIT, ErasedHandle, Managed, WeakManaged};
use crate::value::{ColumnType, FieldType, IntoValue, Value};
use std::any::Any;
use std::fmt;

/// An entity known by its primary key, with the instance when it is loaded.
///
/// As a field, `#[strata(many_to_one)] author: Reference<User>` (or `Option<Reference<User>>`
/// for a nullable one) is the owning side of a relation: the foreign key (`author_id`) is a
/// column, always known without a query.
///
/// A reference is in one of three states, never a hollow instance:
///
/// - **unloaded**: the key only ([`Reference::from_key`], or a row just read): [`get`] is
///   `None`, [`load`] looks in the identity map, then queries;
/// - **loaded**: linked to the managed instance (by `populate`, or `em.get_reference` of a
///   loaded entity), held weakly — the identity map owns it, so a graph is freed with its
///   EntityManager;
/// - **attached**: made with [`Reference::to`] from an instance, typically a new one that no
///   EntityManager manages yet; held strongly until the flush that inserts it (cascade persist)
///   makes it managed.
///
/// [`get`]: Reference::get
/// [`load`]: Reference::load
pub struct Reference<T: Entity> {
    state: State<T>,
}

enum State<T: Entity> {
    Unloaded(T::Key),
    Loaded(T::Key, WeakManaged<T>),
    /// The key as it was when attached (`None` for a new instance without one yet).
    Attached(Managed<T>, Option<T::Key>),
}

impl<T: Entity> Clone for Reference<T> {
    fn clone(&self) -> Self {
        let state = match &self.state {
            State::Unloaded(k) => State::Unloaded(k.clone()),
            State::Loaded(k, w) => State::Loaded(k.clone(), w.clone()),
            State::Attached(h, k) => State::Attached(h.clone(), k.clone()),
        };
        Self { state }
    }
}

impl<T: Entity> fmt::Debug for Reference<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = T::meta().name;
        match &self.state {
            State::Unloaded(k) => write!(f, "Reference<{name}>({k})"),
            State::Loaded(k, _) => write!(f, "Reference<{name}>({k}, loaded)"),
            State::Attached(_, Some(k)) => write!(f, "Reference<{name}>({k}, attached)"),
            State::Attached(_, None) => write!(f, "Reference<{name}>(new)"),
        }
    }
}

impl<T: Entity> Reference<T> {
    /// A reference to the row with primary key `key`, not loaded.
    pub fn from_key(key: T::Key) -> Self {
        Self { state: State::Unloaded(key) }
    }

    /// A reference attached to an instance: a new one (inserted with the entity that refers to
    /// it, by cascade persist) or a managed one.
    pub fn to(instance: &Managed<T>) -> Self {
        // The key as it is now; a new instance gets its key at the flush that inserts it.
        let key = instance.try_key(BORROW_WAIT).filter(|k| !k.is_unset());
        Self { state: State::Attached(instance.clone(), key) }
    }

    /// A reference linked to a managed instance (the identity map keeps it alive).
    pub(crate) fn linked(key: T::Key, instance: &Managed<T>) -> Self {
        Self { state: State::Loaded(key, instance.downgrade()) }
    }

    /// The primary key; `None` only for an attached instance that has none yet.
    pub fn key(&self) -> Option<T::Key> {
        match &self.state {
            State::Unloaded(k) | State::Loaded(k, _) => Some(k.clone()),
            State::Attached(_, k) => k.clone(),
        }
    }

    /// True when the instance is at hand (loaded and alive, or attached).
    pub fn is_loaded(&self) -> bool {
        self.get().is_some()
    }

    /// The instance, when the reference is loaded and the instance lives. Never queries.
    pub fn get(&self) -> Option<Managed<T>> {
        match &self.state {
            State::Unloaded(_) => None,
            State::Loaded(_, w) => w.upgrade(),
            State::Attached(h, _) => Some(h.clone()),
        }
    }

    /// The instance: the loaded one, else the one in `em`'s identity map, else loaded with one
    /// SELECT (a `NotFound` error when the row is gone). Does not change this reference; use
    /// `em.populate` to link the references of managed entities.
    pub async fn load(&self, em: &EntityManager) -> Result<Managed<T>> {
        if let Some(instance) = self.get() {
            return Ok(instance);
        }
        match self.key() {
            Some(key) => em.find_one_or_fail::<T>(key).await,
            None => Err(crate::error::Error::usage(format!(
                "this reference to a new {} has no key to load",
                T::meta().name
            ))),
        }
    }

    /// Marks the entity for deletion at the next flush of `em`, without loading it.
    pub fn remove(&self, em: &EntityManager) {
        match &self.state {
            State::Attached(h, None) => {
                let _ = em.remove(h);
            }
            _ => {
                if let Some(key) = self.key() {
                    em.remove_by_key::<T>(key);
                }
            }
        }
    }

    /// The attached instance, when this reference holds one strongly.
    pub(crate) fn attached(&self) -> Option<&Managed<T>> {
        match &self.state {
            State::Attached(h, _) => Some(h),
            _ => None,
        }
    }
}

impl<T: Entity> From<&Managed<T>> for Reference<T> {
    fn from(instance: &Managed<T>) -> Self {
        Self::to(instance)
    }
}

impl<T: Entity> FieldType for Reference<T> {
    const COLUMN_TYPE: ColumnType = <T::Key as FieldType>::COLUMN_TYPE;

    /// The foreign key; NULL for an attached instance without a key yet (the flush writes its
    /// key once it is inserted).
    fn to_value(&self) -> Value {
        self.key().map_or(Value::Null, |k| k.to_value())
    }

    fn from_value(value: Value) -> Result<Self> {
        Ok(Self::from_key(<T::Key as FieldType>::from_value(value)?))
    }

    /// The same target: the same key, or the same instance when one has no key yet. Loading
    /// a reference does not change it.
    fn same(&self, other: &Self) -> bool {
        if let (State::Attached(a, _), State::Attached(b, _)) = (&self.state, &other.state)
            && Managed::ptr_eq(a, b)
        {
            return true;
        }
        match (self.key(), other.key()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }
}

impl<T: Entity> Reference<T> {
    /// After a flush: an attached instance that has a key now (from `keys`, or its own) is
    /// managed, so the reference holds it weakly from now on.
    fn resolve(&mut self, keys: &dyn Fn(usize) -> Option<Value>) {
        let State::Attached(handle, cached) = &self.state else { return };
        let key = keys(handle.addr())
            .and_then(|v| <T::Key as FieldType>::from_value(v).ok())
            .or_else(|| cached.clone());
        if let Some(key) = key.filter(|k| !k.is_unset()) {
            self.state = State::Loaded(key, handle.downgrade());
        }
    }
}

impl<T: Entity> RelationValue for Reference<T> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn attached_target(&self) -> Option<ErasedHandle> {
        self.attached().map(Managed::erase)
    }
    fn flushed(&mut self, keys: &dyn Fn(usize) -> Option<Value>) {
        self.resolve(keys);
    }
    fn loaded_targets(&self) -> Vec<ErasedHandle> {
        self.get().map(|h| h.erase()).into_iter().collect()
    }
}

impl<T: Entity> RelationValue for Option<Reference<T>> {
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn attached_target(&self) -> Option<ErasedHandle> {
        self.as_ref().and_then(Reference::attached).map(Managed::erase)
    }
    fn flushed(&mut self, keys: &dyn Fn(usize) -> Option<Value>) {
        if let Some(r) = self {
            r.resolve(keys);
        }
    }
    fn loaded_targets(&self) -> Vec<ErasedHandle> {
        self.as_ref().and_then(Reference::get).map(|h| h.erase()).into_iter().collect()
    }
    /// The inverse side of a one-to-one whose target was deleted has no target any more.
    fn forget_deleted(&mut self, keys: &[Value]) {
        if self.as_ref().and_then(Reference::key).is_some_and(|k| keys.contains(&k.to_value())) {
            *self = None;
        }
    }
}

macro_rules! key_into_reference {
    ($($key:ty),*) => {$(
        impl<T: Entity<Key = $key>> IntoValue<Reference<T>> for $key {
            fn into_value(self) -> Value {
                self.to_value()
            }
        }
        impl<T: Entity<Key = $key>> IntoValue<Option<Reference<T>>> for $key {
            fn into_value(self) -> Value {
                self.to_value()
            }
        }
    )*};
}

key_into_reference!(i32, i64, uuid::Uuid);

impl<T: Entity + serde::Serialize> serde::Serialize for Reference<T> {
    /// A loaded reference serializes as the entity, any other as its key (`null` for a new
    /// instance without one). An instance already being serialized further up (a graph that
    /// leads back to it) is written as its key.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if let Some(instance) = self.get()
            && let Some(visit) = Visit::enter(instance.addr())
        {
            let entity = instance.get();
            let out = entity.serialize(serializer);
            drop(visit);
            return out;
        }
        match self.key() {
            Some(key) => key.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }
}
