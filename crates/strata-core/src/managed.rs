//! [`Managed<T>`]: the shared handle to an entity instance that an EntityManager tracks.
//!
//! Every lookup of the same row within one EntityManager returns a clone of the same handle
//! (the identity map), so a change made through one is seen through all. The handle is an `Arc`
//! around a lock: cheap to clone, `Send + Sync`, safe to hold across `.await`.
//!
//! Prefer [`Managed::get`] (a copy) and [`Managed::update`] (a closure): they hold the lock
//! only while they run. The guards of [`Managed::read`] and [`Managed::write`] are not `Send`,
//! so the compiler stops a guard from being held across an `.await` in a spawned task; where
//! one is held anyway (in `main` or a `#[tokio::test]`), the EntityManager's own operations
//! never wait for it forever: they wait at most [`BORROW_WAIT`] and then fail with a usage
//! error that names the entity, and `Debug` prints `<borrowed>` instead of waiting.

use crate::entity::Entity;
use crate::error::{Error, Result};
use parking_lot::{MappedMutexGuard, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

/// How long an operation of the EntityManager (persist, remove, flush, refresh, assign) waits
/// for an entity that is borrowed elsewhere before it fails with a usage error. Guards are
/// meant to be short-lived; one still alive after this long is almost always held across an
/// `.await` on the same thread, where waiting longer could never succeed.
pub const BORROW_WAIT: Duration = Duration::from_millis(500);

/// A shared, managed entity instance.
///
/// ```
/// # use strata_core::managed::Managed;
/// # fn demo<T: strata_core::Entity + std::fmt::Debug>(post: Managed<T>) {
/// let same = post.clone();
/// assert!(Managed::ptr_eq(&post, &same));
/// # }
/// ```
pub struct Managed<T>(Arc<Slot<T>>);

/// What a [`Managed<T>`] points to: the entity behind its lock, whether its row is known to
/// exist, and what dirty checking compares it with when it was loaded without a snapshot.
struct Slot<T> {
    /// True once the instance was loaded from its row or inserted by a committed flush (of any
    /// EntityManager); false again once a flush deleted the row. Cascade persist tells by it a
    /// new instance (inserted) from one another EntityManager loaded (referenced by its key).
    stored: AtomicBool,
    /// [`EAGER`], [`CLEAN`] or [`WRITTEN`]: see [`Versioning`].
    versioning: AtomicU8,
    /// For a [`WRITTEN`] instance: its state before the first write borrow.
    before: Mutex<Option<Box<T>>>,
    entity: RwLock<T>,
}

/// How dirty checking learns what changed in an instance.
///
/// A loaded instance starts without a snapshot (copying every loaded row would double the cost
/// of loading it): it is [`CLEAN`], the same as its row, for as long as nobody borrows it for
/// writing. The first write borrow ([`Managed::write`], [`Managed::update`], `assign`) keeps a
/// copy of it as it was and makes it [`WRITTEN`]; the flush compares with that copy, and skips
/// clean instances without even locking them. Once a flush wrote it, the unit of work keeps a
/// snapshot of its own and the instance is [`EAGER`]. New instances are [`EAGER`] too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versioning {
    /// The unit of work keeps a snapshot (or the instance is new): writes are not watched.
    Eager,
    /// Loaded and never borrowed for writing since: the same as its row.
    Clean,
    /// Loaded, then borrowed for writing: [`Managed::before`] holds it as loaded.
    Written,
}

const EAGER: u8 = 0;
const CLEAN: u8 = 1;
const WRITTEN: u8 = 2;

impl<T> Deref for Slot<T> {
    type Target = RwLock<T>;
    fn deref(&self) -> &RwLock<T> {
        &self.entity
    }
}

/// A read borrow of a managed entity, from [`Managed::read`]. Drop it before the next
/// `.await`.
pub struct ReadGuard<'a, T>(RwLockReadGuard<'a, T>);

/// A write borrow of a managed entity, from [`Managed::write`]. Drop it before the next
/// `.await`; the next flush writes whatever changed.
pub struct WriteGuard<'a, T>(RwLockWriteGuard<'a, T>);

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for ReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl<T: fmt::Debug> fmt::Debug for WriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl<T> Clone for Managed<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T: Entity> Managed<T> {
    /// Wraps a new, not yet managed entity. Persist it with `em.persist(&handle)`; or use
    /// `em.create(entity)`, which does both.
    pub fn new(entity: T) -> Self {
        Self::with(entity, false, EAGER)
    }

    /// An instance loaded from its row, without a snapshot: [`Versioning::Clean`].
    pub(crate) fn loaded(entity: T) -> Self {
        Self::with(entity, true, CLEAN)
    }

    fn with(entity: T, stored: bool, versioning: u8) -> Self {
        Self(Arc::new(Slot {
            stored: AtomicBool::new(stored),
            versioning: AtomicU8::new(versioning),
            before: Mutex::new(None),
            entity: RwLock::new(entity),
        }))
    }

    /// How dirty checking learns what changed (see [`Versioning`]).
    pub(crate) fn versioning(&self) -> Versioning {
        match self.0.versioning.load(Ordering::Acquire) {
            CLEAN => Versioning::Clean,
            WRITTEN => Versioning::Written,
            _ => Versioning::Eager,
        }
    }

    /// The instance's state before its first write borrow, for a [`Versioning::Written`] one.
    pub(crate) fn before(&self) -> Option<MappedMutexGuard<'_, T>> {
        MutexGuard::try_map(self.0.before.lock(), |b| b.as_deref_mut()).ok()
    }

    /// The unit of work keeps a snapshot of the instance from now on: writes are no longer
    /// watched, and the copy kept for them is dropped.
    pub(crate) fn set_eager(&self) {
        self.0.versioning.store(EAGER, Ordering::Release);
        self.0.before.lock().take();
    }

    /// Called with the write lock held, before a write borrow is handed out: the first one of
    /// a clean instance keeps a copy of it as it is.
    fn before_write(&self, entity: &T) {
        if self.0.versioning.load(Ordering::Acquire) == CLEAN {
            *self.0.before.lock() = Some(Box::new(entity.clone()));
            self.0.versioning.store(WRITTEN, Ordering::Release);
        }
    }

    /// Notes that the instance's row exists (`true`: loaded, inserted) or not any more.
    pub(crate) fn set_stored(&self, stored: bool) {
        self.0.stored.store(stored, Ordering::Relaxed);
    }

    /// A copy of the entity's current state.
    pub fn get(&self) -> T {
        self.0.read().clone()
    }

    /// Changes the entity through a closure and returns what it returns. The next flush
    /// writes whatever changed.
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut entity = self.0.write();
        self.before_write(&entity);
        f(&mut entity)
    }

    /// Borrows the entity for reading, waiting while it is borrowed for writing.
    pub fn read(&self) -> ReadGuard<'_, T> {
        ReadGuard(self.0.read())
    }

    /// Borrows the entity for writing, waiting while it is borrowed.
    pub fn write(&self) -> WriteGuard<'_, T> {
        let entity = self.0.write();
        self.before_write(&entity);
        WriteGuard(entity)
    }

    /// The primary key.
    pub fn key(&self) -> T::Key {
        self.0.read().key()
    }

    /// The primary key, waiting at most `wait` for a borrowed instance.
    pub(crate) fn try_key(&self, wait: Duration) -> Option<T::Key> {
        self.0.try_read_for(wait).map(|e| e.key())
    }

    /// True when both handles are the same instance.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }

    /// A handle that does not keep the instance alive (loaded relations hold these: the
    /// identity map owns managed instances).
    pub fn downgrade(&self) -> WeakManaged<T> {
        WeakManaged(Arc::downgrade(&self.0))
    }

    /// The instance behind a type-erased handle, for code that does not know `T`.
    pub(crate) fn erase(&self) -> ErasedHandle {
        ErasedHandle(Arc::clone(&self.0) as Arc<dyn AnyInstance>)
    }

    /// A write borrow without waiting, for work done while the unit of work is locked.
    pub(crate) fn try_write_now(&self) -> Option<WriteGuard<'_, T>> {
        self.0.try_write().map(WriteGuard)
    }

    /// A read borrow for an operation of the EntityManager (`"flush"`, `"persist"`, …) on the
    /// entity with `key` (when known): waits at most [`BORROW_WAIT`].
    pub(crate) fn read_for(
        &self,
        operation: &str,
        key: Option<&T::Key>,
    ) -> Result<ReadGuard<'_, T>> {
        match self.0.try_read_for(BORROW_WAIT) {
            Some(guard) => Ok(ReadGuard(guard)),
            None => Err(borrowed::<T>(operation, key)),
        }
    }

    /// A write borrow for an operation of the EntityManager that changes what the user sees
    /// and the flush must write (`assign`): watched like [`Managed::write`].
    pub(crate) fn change_for(
        &self,
        operation: &str,
        key: Option<&T::Key>,
    ) -> Result<WriteGuard<'_, T>> {
        let guard = self.write_for(operation, key)?;
        self.before_write(&guard);
        Ok(guard)
    }

    /// A write borrow for an operation of the EntityManager that keeps the entity as its row
    /// is (linking loaded relations, writing back generated keys): not watched. Waits at most
    /// [`BORROW_WAIT`].
    pub(crate) fn write_for(
        &self,
        operation: &str,
        key: Option<&T::Key>,
    ) -> Result<WriteGuard<'_, T>> {
        match self.0.try_write_for(BORROW_WAIT) {
            Some(guard) => Ok(WriteGuard(guard)),
            None => Err(borrowed::<T>(operation, key)),
        }
    }
}

/// A [`Managed<T>`] that does not keep its instance alive ([`Managed::downgrade`]).
pub struct WeakManaged<T>(Weak<Slot<T>>);

impl<T> fmt::Debug for WeakManaged<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WeakManaged")
    }
}

impl<T> Clone for WeakManaged<T> {
    fn clone(&self) -> Self {
        Self(Weak::clone(&self.0))
    }
}

impl<T: Entity> WeakManaged<T> {
    /// The instance, while someone (its EntityManager) keeps it alive.
    pub fn upgrade(&self) -> Option<Managed<T>> {
        self.0.upgrade().map(Managed)
    }

    pub(crate) fn addr(&self) -> usize {
        Weak::as_ptr(&self.0) as *const () as usize
    }
}

/// A managed instance of some entity type, for the parts of a flush that walk relations across
/// types (cascade persist, foreign keys of new rows). Opaque outside the engine.
#[derive(Clone)]
pub struct ErasedHandle(Arc<dyn AnyInstance>);

impl fmt::Debug for ErasedHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ErasedHandle<{}>", self.0.meta().name)
    }
}

impl ErasedHandle {
    /// The address, which identifies the instance (the same as its `Managed<T>::addr`).
    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }

    /// The entity's metadata.
    pub(crate) fn meta(&self) -> &'static crate::metadata::EntityMeta {
        self.0.meta()
    }

    /// The `TypeId` of the entity type.
    pub(crate) fn entity_type(&self) -> std::any::TypeId {
        self.0.entity_type()
    }

    /// The key, when it is set; waits at most [`BORROW_WAIT`] for a borrowed instance.
    pub(crate) fn key_value(&self) -> Result<Option<crate::value::Value>> {
        self.0.key_value()
    }

    /// The typed handle, when the instance is a `T`.
    pub(crate) fn downcast<T: Entity>(&self) -> Option<Managed<T>> {
        Arc::clone(&self.0).into_any().downcast::<Slot<T>>().ok().map(Managed)
    }

    /// True when the instance's row is known to exist: it was loaded or inserted (possibly by
    /// another EntityManager) and not deleted since.
    pub(crate) fn is_stored(&self) -> bool {
        self.0.is_stored()
    }

    /// Removes the instance from `em` (cascade remove).
    pub(crate) fn remove_in(&self, em: &crate::EntityManager) -> Result<()> {
        Arc::clone(&self.0).remove_in(em)
    }

    /// An empty flush plan of the instance's table, for cascade persist.
    pub(crate) fn new_pending(&self) -> Box<dyn crate::unit_of_work::plan::PendingTable> {
        self.0.new_pending()
    }
}

/// What a type-erased instance offers.
trait AnyInstance: Send + Sync {
    fn meta(&self) -> &'static crate::metadata::EntityMeta;
    fn entity_type(&self) -> std::any::TypeId;
    fn key_value(&self) -> Result<Option<crate::value::Value>>;
    fn into_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync>;
    fn new_pending(&self) -> Box<dyn crate::unit_of_work::plan::PendingTable>;
    fn remove_in(self: Arc<Self>, em: &crate::EntityManager) -> Result<()>;
    fn is_stored(&self) -> bool;
}

impl<T: Entity> AnyInstance for Slot<T> {
    fn meta(&self) -> &'static crate::metadata::EntityMeta {
        T::meta()
    }
    fn entity_type(&self) -> std::any::TypeId {
        std::any::TypeId::of::<T>()
    }
    fn key_value(&self) -> Result<Option<crate::value::Value>> {
        use crate::entity::Key;
        use crate::value::FieldType;
        let key = match self.try_read_for(BORROW_WAIT) {
            Some(entity) => entity.key(),
            None => return Err(borrowed::<T>("read the key of", None)),
        };
        Ok((!key.is_unset()).then(|| key.to_value()))
    }
    fn into_any(self: Arc<Self>) -> Arc<dyn std::any::Any + Send + Sync> {
        self
    }
    fn new_pending(&self) -> Box<dyn crate::unit_of_work::plan::PendingTable> {
        crate::unit_of_work::plan::new_pending::<T>()
    }
    fn remove_in(self: Arc<Self>, em: &crate::EntityManager) -> Result<()> {
        em.remove(&Managed(self))
    }
    fn is_stored(&self) -> bool {
        self.stored.load(Ordering::Relaxed)
    }
}

/// The usage error of an operation that found the entity borrowed for too long.
pub(crate) fn borrowed<T: Entity>(operation: &str, key: Option<&T::Key>) -> Error {
    let key = key.map(|k| format!(" {k}")).unwrap_or_default();
    Error::usage(format!(
        "cannot {operation} {}{key}: it is borrowed by a read() or write() guard that is still \
         alive after {} ms (held across an .await?); drop the guard before calling the \
         EntityManager, or use Managed::get / Managed::update",
        T::meta().name,
        BORROW_WAIT.as_millis()
    ))
}

impl<T: Entity + fmt::Debug> fmt::Debug for Managed<T> {
    /// The entity, or `Managed<Name>(<borrowed>)` while it is borrowed for writing: formatting
    /// never waits (a `{:?}` while the same thread holds a write guard would wait forever).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.try_read() {
            Some(entity) => fmt::Debug::fmt(&*entity, f),
            None => write!(f, "Managed<{}>(<borrowed>)", T::meta().name),
        }
    }
}

impl<T: Entity + serde::Serialize> serde::Serialize for Managed<T> {
    /// The entity, copied out of its lock first (its relations may lead to other instances,
    /// and no two entity locks are ever held at once). An instance already being serialized
    /// further up — a graph that leads back to it — is written as its key.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match crate::relation::Visit::enter(self.addr()) {
            Some(visit) => {
                let entity = self.get();
                let out = entity.serialize(serializer);
                drop(visit);
                out
            }
            None => self.key().serialize(serializer),
        }
    }
}
