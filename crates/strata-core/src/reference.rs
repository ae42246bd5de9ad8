//! [`Reference<T>`]: an entity known by its key, loaded or not (MikroORM's `getReference`).

use crate::entity::Entity;
use crate::entity_manager::EntityManager;
use crate::error::Result;
use crate::managed::Managed;

/// An entity known by its primary key. When the entity was already in the identity map the
/// reference holds the managed instance; otherwise it can be loaded, or removed by key without
/// a query.
#[derive(Debug)]
pub struct Reference<T: Entity> {
    key: T::Key,
    entity: Option<Managed<T>>,
}

impl<T: Entity> Clone for Reference<T> {
    fn clone(&self) -> Self {
        Self { key: self.key.clone(), entity: self.entity.clone() }
    }
}

impl<T: Entity> Reference<T> {
    pub(crate) fn new(key: T::Key, entity: Option<Managed<T>>) -> Self {
        Self { key, entity }
    }

    /// The primary key.
    pub fn key(&self) -> &T::Key {
        &self.key
    }

    /// True when the instance was already loaded.
    pub fn is_loaded(&self) -> bool {
        self.entity.is_some()
    }

    /// The managed instance, if it was loaded.
    pub fn get(&self) -> Option<&Managed<T>> {
        self.entity.as_ref()
    }

    /// The managed instance, loading it if needed (a `NotFound` error if the row is gone).
    pub async fn load(&self, em: &EntityManager) -> Result<Managed<T>> {
        match &self.entity {
            Some(e) => Ok(e.clone()),
            None => em.find_one_or_fail::<T>(self.key.clone()).await,
        }
    }

    /// Marks the entity for deletion at the next flush of `em`, without loading it.
    pub fn remove(&self, em: &EntityManager) {
        em.remove_by_key::<T>(self.key.clone());
    }
}
