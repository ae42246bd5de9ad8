//! [`Repository<T>`]: the EntityManager's operations for one entity type
//! (`em.repo::<PostEntity>()`), as MikroORM's `EntityRepository`.

use crate::entity::Entity;
use crate::entity_manager::EntityManager;
use crate::error::Result;
use crate::managed::Managed;
use crate::query::{Filter, FindOptions};
use std::marker::PhantomData;

/// The operations of one entity type, bound to an EntityManager.
pub struct Repository<T: Entity> {
    em: EntityManager,
    _entity: PhantomData<fn() -> T>,
}

impl<T: Entity> Clone for Repository<T> {
    fn clone(&self) -> Self {
        Self::new(self.em.clone())
    }
}

impl<T: Entity> std::fmt::Debug for Repository<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Repository<{}>", T::meta().name)
    }
}

impl<T: Entity> Repository<T> {
    pub(crate) fn new(em: EntityManager) -> Self {
        Self { em, _entity: PhantomData }
    }

    /// The EntityManager.
    pub fn em(&self) -> &EntityManager {
        &self.em
    }

    /// See [`EntityManager::find_one`].
    pub async fn find_one(&self, key: T::Key) -> Result<Option<Managed<T>>> {
        self.em.find_one::<T>(key).await
    }

    /// See [`EntityManager::find_one_or_fail`].
    pub async fn find_one_or_fail(&self, key: T::Key) -> Result<Managed<T>> {
        self.em.find_one_or_fail::<T>(key).await
    }

    /// See [`EntityManager::find_one_by`].
    pub async fn find_one_by(&self, filter: Filter<T>) -> Result<Option<Managed<T>>> {
        self.em.find_one_by(filter).await
    }

    /// See [`EntityManager::find`].
    pub async fn find(
        &self,
        filter: Filter<T>,
        options: FindOptions<T>,
    ) -> Result<Vec<Managed<T>>> {
        self.em.find(filter, options).await
    }

    /// See [`EntityManager::find_all`].
    pub async fn find_all(&self, options: FindOptions<T>) -> Result<Vec<Managed<T>>> {
        self.em.find_all(options).await
    }

    /// See [`EntityManager::find_and_count`].
    pub async fn find_and_count(
        &self,
        filter: Filter<T>,
        options: FindOptions<T>,
    ) -> Result<(Vec<Managed<T>>, u64)> {
        self.em.find_and_count(filter, options).await
    }

    /// See [`EntityManager::count`].
    pub async fn count(&self, filter: Filter<T>) -> Result<u64> {
        self.em.count(filter).await
    }

    /// See [`EntityManager::create`].
    pub fn create(&self, entity: T) -> Managed<T> {
        self.em.create(entity)
    }
}
