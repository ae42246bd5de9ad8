//! The [`EntityManager`]: a request-scoped identity map and unit of work.
//!
//! ```text
//! find / create ──► identity map ──► change managed entities ──► flush()
//! flush(): change sets vs snapshots ─► nothing? no SQL ─► else one transaction of set-based
//!          statements (INSERT … UNNEST, UPDATE … FROM UNNEST, DELETE … = ANY), pipelined
//!          ok  ─► keys written back, snapshots renewed
//!          err ─► rolled back; the EntityManager is as it was before the flush
//! ```
//!
//! An `EntityManager` is a cheap handle (`Clone`, `Send`, `Sync`): clones share the identity map
//! and, while [`EntityManager::transactional`] runs, its transaction. Fork a new one per request
//! with [`crate::orm::Strata::em`].
//!
//! The module is split by concern: `query` (find, count, refresh), `flush`, and `transaction`
//! (`transactional` and the connection a transaction holds).

mod flush;
mod query;
mod transaction;

use crate::entity::Entity;
use crate::error::Result;
use crate::managed::Managed;
use crate::orm::Strata;
use crate::unit_of_work::UnitOfWork;
use parking_lot::Mutex;
use std::sync::Arc;
use transaction::TxState;

/// A request-scoped EntityManager: identity map, unit of work, queries.
#[derive(Clone)]
pub struct EntityManager {
    pub(crate) inner: Arc<EmInner>,
}

pub(crate) struct EmInner {
    pub(crate) orm: Strata,
    pub(crate) uow: Mutex<UnitOfWork>,
    /// The innermost open transaction of `transactional`, shared by every clone.
    tx: Mutex<Option<Arc<TxState>>>,
    /// One outermost transaction at a time (clones used from several tasks).
    tx_gate: tokio::sync::Mutex<()>,
    flush_lock: tokio::sync::Mutex<()>,
    /// A write went out through this EntityManager: its reads go to the primary from now on,
    /// so that it sees its own writes (read replicas lag behind).
    pub(crate) wrote: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for EntityManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntityManager")
            .field("managed", &self.inner.uow.lock().managed_len())
            .field("in_transaction", &self.in_transaction())
            .finish()
    }
}

impl EntityManager {
    pub(crate) fn new(orm: Strata) -> Self {
        Self {
            inner: Arc::new(EmInner {
                orm,
                uow: Mutex::new(UnitOfWork::default()),
                tx: Mutex::new(None),
                tx_gate: tokio::sync::Mutex::new(()),
                flush_lock: tokio::sync::Mutex::new(()),
                wrote: std::sync::atomic::AtomicBool::new(false),
            }),
        }
    }

    /// The ORM this EntityManager was forked from.
    pub fn orm(&self) -> &Strata {
        &self.inner.orm
    }

    /// A new, empty EntityManager on the same ORM (MikroORM's `em.fork()`). It shares neither
    /// the identity map nor an open transaction.
    pub fn fork(&self) -> EntityManager {
        self.inner.orm.em()
    }

    /// True while `transactional` runs on this EntityManager or one of its clones.
    pub fn in_transaction(&self) -> bool {
        self.inner.tx.lock().is_some()
    }

    /// The entity's table, qualified by its schema or the configured default schema.
    pub(crate) fn table_name<T: Entity>(&self) -> crate::dialect::TableName<'_> {
        let meta = T::meta();
        crate::dialect::TableName {
            schema: meta.schema_or(self.inner.orm.default_schema()),
            name: meta.table,
        }
    }

    /// Wraps a new entity and marks it for insertion at the next flush (as MikroORM's
    /// `em.create` does since v6). Returns the managed handle.
    pub fn create<T: Entity>(&self, entity: T) -> Managed<T> {
        let handle = Managed::new(entity);
        self.inner.uow.lock().create(handle.clone());
        handle
    }

    /// Marks an entity for insertion at the next flush. Persisting an instance that is
    /// already managed does nothing (and cancels a pending removal).
    pub fn persist<T: Entity>(&self, entity: &Managed<T>) -> Result<()> {
        // The key before the identity map: never both locks at once.
        let key = entity.read_for("persist", None)?.key();
        self.inner.uow.lock().persist(entity, &key)
    }

    /// Marks an entity for deletion at the next flush. Removing a new, never flushed entity
    /// just forgets it. Relations with `cascade = "remove"` (or `"all"`) remove their loaded
    /// targets too (an unloaded relation is left to the database's own rules).
    pub fn remove<T: Entity>(&self, entity: &Managed<T>) -> Result<()> {
        if self.inner.uow.lock().forget_new(entity) {
            return Ok(());
        }
        let meta = T::meta();
        let cascades = meta.relations.iter().any(|r| r.cascade.remove);
        let (key, targets) = {
            let e = entity.read_for("remove", None)?;
            let mut targets = Vec::new();
            if cascades {
                for (index, relation) in meta.relations.iter().enumerate() {
                    if relation.cascade.remove
                        && let Some(field) = e.relation(index)
                    {
                        targets.extend(field.loaded_targets());
                    }
                }
            }
            (e.key(), targets)
        };
        let first = self.inner.uow.lock().remove(entity, key)?;
        // Once per entity, so that relations that lead back to it end.
        if first {
            for target in targets {
                target.remove_in(self)?;
            }
        }
        Ok(())
    }

    /// Marks the row with primary key `key` for deletion at the next flush, without loading it.
    /// The flush fails with [`crate::ErrorKind::RowGone`] when no such row exists.
    pub fn remove_by_key<T: Entity>(&self, key: T::Key) {
        self.inner.uow.lock().remove_by_key::<T>(key);
    }

    /// A reference to the entity with key `key`: the managed instance if loaded, otherwise a
    /// key that can be loaded or removed without a query.
    pub fn get_reference<T: Entity>(&self, key: T::Key) -> crate::relation::Reference<T> {
        match self.cached::<T>(&key) {
            Some(instance) => crate::relation::Reference::linked(key, &instance),
            None => crate::relation::Reference::from_key(key),
        }
    }

    /// Forgets every managed entity and pending change.
    pub fn clear(&self) {
        self.inner.uow.lock().clear();
    }

    /// Number of entities in the identity map.
    pub fn managed_count(&self) -> usize {
        self.inner.uow.lock().managed_len()
    }

    /// `persist` then `flush`.
    pub async fn persist_and_flush<T: Entity>(&self, entity: &Managed<T>) -> Result<()> {
        self.persist(entity)?;
        self.flush().await
    }

    /// `remove` then `flush`.
    pub async fn remove_and_flush<T: Entity>(&self, entity: &Managed<T>) -> Result<()> {
        self.remove(entity)?;
        self.flush().await
    }

    /// Inserts entities directly, bypassing the identity map and unit of work. Returns the
    /// number of rows inserted.
    pub async fn native_insert<T: Entity>(
        &self,
        entities: impl IntoIterator<Item = T>,
    ) -> Result<u64> {
        crate::native::insert(self, entities).await
    }

    /// `UPDATE … SET … WHERE filter` directly, bypassing the unit of work (managed instances
    /// are not changed). An entity with a version column gets `version = version + 1` too, so
    /// a managed instance loaded before fails its next flush with an optimistic-lock error
    /// instead of overwriting this change. Returns the number of rows updated.
    pub async fn native_update<T: Entity>(
        &self,
        filter: crate::query::Filter<T>,
        values: impl IntoIterator<Item = crate::query::Set<T>>,
    ) -> Result<u64> {
        crate::native::update(self, filter, values).await
    }

    /// `DELETE … WHERE filter` directly, bypassing the unit of work. Returns the number of rows
    /// deleted.
    pub async fn native_delete<T: Entity>(&self, filter: crate::query::Filter<T>) -> Result<u64> {
        crate::native::delete(self, filter).await
    }

    /// A repository of `T` bound to this EntityManager.
    pub fn repo<T: Entity>(&self) -> crate::repository::Repository<T> {
        crate::repository::Repository::new(self.clone())
    }
}
