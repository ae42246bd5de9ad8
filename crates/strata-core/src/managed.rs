//! [`Managed<T>`]: the shared handle to an entity instance that an EntityManager tracks.
//!
//! Every lookup of the same row within one EntityManager returns a clone of the same handle
//! (the identity map), so a change made through one is seen through all. The handle is an `Arc`
//! around a lock: cheap to clone, `Send + Sync`, safe to hold across `.await`. Its guards are
//! not `Send`, so the compiler stops a guard from being held across an `.await` in a spawned
//! task: read or change the entity, drop the guard, then await.

use crate::entity::Entity;
use parking_lot::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::fmt;
use std::sync::Arc;

/// A shared, managed entity instance.
///
/// ```
/// # use strata_core::managed::Managed;
/// # fn demo<T: strata_core::Entity + std::fmt::Debug>(post: Managed<T>) {
/// let same = post.clone();
/// assert!(Managed::ptr_eq(&post, &same));
/// # }
/// ```
pub struct Managed<T>(Arc<RwLock<T>>);

impl<T> Clone for Managed<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<T: Entity> Managed<T> {
    /// Wraps a new, not yet managed entity. Persist it with `em.persist(&handle)`; or use
    /// `em.create(entity)`, which does both.
    pub fn new(entity: T) -> Self {
        Self(Arc::new(RwLock::new(entity)))
    }

    /// Borrows the entity for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0.read()
    }

    /// Borrows the entity for writing. The next flush writes whatever changed.
    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0.write()
    }

    /// A copy of the entity's current state.
    pub fn get(&self) -> T {
        self.0.read().clone()
    }

    /// Changes the entity through a closure and returns what it returns.
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.0.write())
    }

    /// The primary key.
    pub fn key(&self) -> T::Key {
        self.0.read().key()
    }

    /// True when both handles are the same instance.
    pub fn ptr_eq(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }

    pub(crate) fn addr(&self) -> usize {
        Arc::as_ptr(&self.0) as *const () as usize
    }
}

impl<T: Entity + fmt::Debug> fmt::Debug for Managed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0.read(), f)
    }
}

impl<T: Entity + serde::Serialize> serde::Serialize for Managed<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.read().serialize(serializer)
    }
}
