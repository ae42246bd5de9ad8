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
//! An `EntityManager` is a cheap handle (`Clone`, `Send`, `Sync`): clones share the identity map.
//! Fork a new one per request with [`crate::orm::Orm::em`].

use crate::driver::{Connection, Statement};
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::managed::Managed;
use crate::orm::Orm;
use crate::query::{CmpOp, Expr, Filter, FindOptions};
use crate::session::{Session, Slot};
use crate::sql;
use crate::unit_of_work::{UnitOfWork, persister};
use crate::value::{FieldType, Value};
use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A request-scoped EntityManager: identity map, unit of work, queries.
#[derive(Clone)]
pub struct EntityManager {
    pub(crate) inner: Arc<EmInner>,
}

pub(crate) struct EmInner {
    pub(crate) orm: Orm,
    pub(crate) uow: Mutex<UnitOfWork>,
    tx: Option<Arc<TxState>>,
    flush_lock: tokio::sync::Mutex<()>,
}

/// The connection of an open transaction, shared by the forks inside `transactional`.
struct TxState {
    conn: Arc<tokio::sync::Mutex<Option<Box<dyn Connection>>>>,
    depth: u32,
    finished: AtomicBool,
}

impl std::fmt::Debug for EntityManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntityManager")
            .field("managed", &self.inner.uow.lock().managed_len())
            .field("in_transaction", &self.inner.tx.is_some())
            .finish()
    }
}

impl EntityManager {
    pub(crate) fn new(orm: Orm) -> Self {
        Self::with_state(orm, UnitOfWork::default(), None)
    }

    fn with_state(orm: Orm, uow: UnitOfWork, tx: Option<Arc<TxState>>) -> Self {
        Self {
            inner: Arc::new(EmInner {
                orm,
                uow: Mutex::new(uow),
                tx,
                flush_lock: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The ORM this EntityManager was forked from.
    pub fn orm(&self) -> &Orm {
        &self.inner.orm
    }

    /// A new, empty EntityManager on the same ORM (MikroORM's `em.fork()`).
    pub fn fork(&self) -> EntityManager {
        self.inner.orm.em()
    }

    /// True inside `transactional`.
    pub fn in_transaction(&self) -> bool {
        self.inner.tx.is_some()
    }

    pub(crate) async fn session(&self) -> Result<Session<'_>> {
        match &self.inner.tx {
            None => self.inner.orm.session().await,
            Some(tx) => {
                let guard = Arc::clone(&tx.conn).lock_owned().await;
                if tx.finished.load(Ordering::SeqCst) || guard.is_none() {
                    return Err(Error::usage(
                        "this EntityManager belongs to a transaction that has already finished; \
                         use the EntityManager that called transactional()",
                    ));
                }
                Ok(Session::new(Slot::Shared(guard), self.inner.orm.query_log()))
            }
        }
    }

    /// The entity's table, qualified by its schema or the configured default schema.
    pub(crate) fn table_name<T: Entity>(&self) -> crate::dialect::TableName<'_> {
        let meta = T::meta();
        crate::dialect::TableName {
            schema: meta.schema_or(self.inner.orm.default_schema()),
            name: meta.table,
        }
    }

    fn select_statement<T: Entity>(
        &self,
        filter: Option<&Expr>,
        options: &FindOptions<T>,
    ) -> Statement {
        let meta = T::meta();
        let table = self.table_name::<T>();
        let orm = &self.inner.orm;
        sql::select(
            orm.dialect(),
            &sql::Select {
                table,
                columns: meta.columns,
                filter,
                order_by: options.order_by.iter().map(|o| (o.column, o.order)).collect(),
                limit: options.limit,
                offset: options.offset,
            },
        )
    }

    async fn query<T: Entity>(
        &self,
        filter: Option<&Expr>,
        options: &FindOptions<T>,
    ) -> Result<Vec<Managed<T>>> {
        let stmt = self.select_statement::<T>(filter, options);
        let mut out = Vec::new();
        let mut session = self.session().await?;
        // Each row becomes (or finds) its managed instance as soon as the driver decoded it.
        session
            .run_each(&stmt, &mut |row| {
                let handle = self.inner.uow.lock().table_mut::<T>().hydrate_row(row)?;
                out.push(handle);
                Ok(())
            })
            .await?;
        Ok(out)
    }

    fn cached<T: Entity>(&self, key: &T::Key) -> Option<Managed<T>> {
        self.inner
            .uow
            .lock()
            .table::<T>()
            .and_then(|t| t.managed.get(key))
            .map(|t| t.handle.clone())
    }

    fn key_filter<T: Entity>(key: &T::Key) -> Expr {
        Expr::Compare { column: T::meta().pk().name, op: CmpOp::Eq, value: key.to_value() }
    }

    /// The entity with primary key `key`. An instance already in the identity map is returned
    /// as is, without a query.
    pub async fn find_one<T: Entity>(&self, key: T::Key) -> Result<Option<Managed<T>>> {
        if let Some(h) = self.cached::<T>(&key) {
            return Ok(Some(h));
        }
        let filter = Self::key_filter::<T>(&key);
        Ok(self.query::<T>(Some(&filter), &FindOptions::new()).await?.into_iter().next())
    }

    /// Like [`EntityManager::find_one`], but a missing entity is an error of kind `NotFound`
    /// naming the entity and the key.
    pub async fn find_one_or_fail<T: Entity>(&self, key: T::Key) -> Result<Managed<T>> {
        let missing = key.to_string();
        self.find_one::<T>(key).await?.ok_or_else(|| Error::not_found(T::meta().name, missing))
    }

    /// The first entity matching `filter` (`LIMIT 1`).
    pub async fn find_one_by<T: Entity>(&self, filter: Filter<T>) -> Result<Option<Managed<T>>> {
        let options = FindOptions::new().limit(1);
        Ok(self.query::<T>(Some(filter.expr()), &options).await?.into_iter().next())
    }

    /// Like [`EntityManager::find_one_by`], but no match is a `NotFound` error.
    pub async fn find_one_by_or_fail<T: Entity>(&self, filter: Filter<T>) -> Result<Managed<T>> {
        self.find_one_by(filter)
            .await?
            .ok_or_else(|| Error::not_found(T::meta().name, "no row matches the filter"))
    }

    /// The entities matching `filter`, ordered and paged by `options`.
    pub async fn find<T: Entity>(
        &self,
        filter: Filter<T>,
        options: FindOptions<T>,
    ) -> Result<Vec<Managed<T>>> {
        self.query::<T>(Some(filter.expr()), &options).await
    }

    /// All entities of a type, ordered and paged by `options`.
    pub async fn find_all<T: Entity>(&self, options: FindOptions<T>) -> Result<Vec<Managed<T>>> {
        self.query::<T>(None, &options).await
    }

    /// One page of entities and the total count of matches (two statements).
    pub async fn find_and_count<T: Entity>(
        &self,
        filter: Filter<T>,
        options: FindOptions<T>,
    ) -> Result<(Vec<Managed<T>>, u64)> {
        let items = self.query::<T>(Some(filter.expr()), &options).await?;
        let total = self.count::<T>(filter).await?;
        Ok((items, total))
    }

    /// The number of rows matching `filter`.
    pub async fn count<T: Entity>(&self, filter: Filter<T>) -> Result<u64> {
        let stmt =
            sql::count(self.inner.orm.dialect(), self.table_name::<T>(), Some(filter.expr()));
        let rows = self.session().await?.run(&stmt).await?.rows;
        let n = rows.first().and_then(|r| r.first()).and_then(Value::as_i64).unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Reloads an entity from the database into the same instance, discarding unflushed
    /// changes. Returns false (and forgets the instance) when the row no longer exists.
    pub async fn refresh<T: Entity>(&self, entity: &Managed<T>) -> Result<bool> {
        let key = entity.key();
        if self.inner.uow.lock().table::<T>().is_some_and(|t| t.is_new(entity)) {
            return Err(Error::usage(format!(
                "this {} has not been flushed yet, so there is nothing to refresh from",
                T::meta().name
            )));
        }
        let filter = Self::key_filter::<T>(&key);
        let stmt = self.select_statement::<T>(Some(&filter), &FindOptions::new());
        let row = self.session().await?.run(&stmt).await?.rows.into_iter().next();
        let mut uow = self.inner.uow.lock();
        let table = uow.table_mut::<T>();
        match row {
            Some(row) => {
                let fresh = T::from_values(row)?;
                *entity.write() = fresh.clone();
                match table.managed.get_mut(&key) {
                    Some(t) if Managed::ptr_eq(&t.handle, entity) => {
                        t.snapshot = fresh;
                        t.removed = false;
                    }
                    _ => {
                        table.managed.insert(
                            key,
                            crate::identity_map::Tracked {
                                handle: entity.clone(),
                                snapshot: fresh,
                                removed: false,
                            },
                        );
                    }
                }
                Ok(true)
            }
            None => {
                table.managed.remove(&key);
                Ok(false)
            }
        }
    }

    /// Wraps a new entity and marks it for insertion at the next flush (as MikroORM's
    /// `em.create` does since v6). Returns the managed handle.
    pub fn create<T: Entity>(&self, entity: T) -> Managed<T> {
        let handle = Managed::new(entity);
        self.inner.uow.lock().table_mut::<T>().add_new(handle.clone());
        handle
    }

    /// Marks an entity for insertion at the next flush. Persisting an instance that is
    /// already managed does nothing (and cancels a pending removal).
    pub fn persist<T: Entity>(&self, entity: &Managed<T>) -> Result<()> {
        let key = entity.key();
        let mut uow = self.inner.uow.lock();
        let table = uow.table_mut::<T>();
        if let Some(t) = table.managed.get_mut(&key) {
            if Managed::ptr_eq(&t.handle, entity) {
                t.removed = false;
                return Ok(());
            }
            return Err(Error::usage(format!(
                "another instance of {} with key {key} is already managed by this \
                 EntityManager; change that instance (find_one returns it) instead",
                T::meta().name
            )));
        }
        table.add_new(entity.clone());
        Ok(())
    }

    /// Marks an entity for deletion at the next flush. Removing a new, never flushed entity
    /// just forgets it.
    pub fn remove<T: Entity>(&self, entity: &Managed<T>) -> Result<()> {
        let mut uow = self.inner.uow.lock();
        let table = uow.table_mut::<T>();
        if table.is_new(entity) {
            table.forget_new(entity);
            return Ok(());
        }
        let key = entity.key();
        if let Some(t) = table.managed.get_mut(&key)
            && Managed::ptr_eq(&t.handle, entity)
        {
            t.removed = true;
            return Ok(());
        }
        if crate::entity::Key::is_unset(&key) {
            return Err(Error::usage(format!(
                "this {} is not managed by this EntityManager and has no key; there is \
                 nothing to remove",
                T::meta().name
            )));
        }
        table.removed_keys.push(key);
        Ok(())
    }

    /// Marks the row with primary key `key` for deletion at the next flush, without loading it.
    pub fn remove_by_key<T: Entity>(&self, key: T::Key) {
        let mut uow = self.inner.uow.lock();
        let table = uow.table_mut::<T>();
        match table.managed.get_mut(&key) {
            Some(t) => t.removed = true,
            None => table.removed_keys.push(key),
        }
    }

    /// A reference to the entity with key `key`: the managed instance if loaded, otherwise a
    /// key that can be loaded or removed without a query.
    pub fn get_reference<T: Entity>(&self, key: T::Key) -> crate::reference::Reference<T> {
        let entity = self.cached::<T>(&key);
        crate::reference::Reference::new(key, entity)
    }

    /// Forgets every managed entity and pending change.
    pub fn clear(&self) {
        self.inner.uow.lock().clear();
    }

    /// Number of entities in the identity map.
    pub fn managed_count(&self) -> usize {
        self.inner.uow.lock().managed_len()
    }

    /// Writes every pending change in one transaction. With nothing to do, sends nothing.
    ///
    /// On failure the transaction is rolled back and the EntityManager keeps every pending
    /// change (no generated key is written back), so the caller can fix the cause and flush
    /// again, or `clear`.
    pub async fn flush(&self) -> Result<()> {
        let _serial = self.inner.flush_lock.lock().await;
        let plan = self.inner.uow.lock().plan()?;
        let Some(mut plan) = plan else { return Ok(()) };
        let orm = &self.inner.orm;
        let rendered = persister::render(&mut plan, orm.dialect(), orm.default_schema());
        let in_tx = self.inner.tx.is_some();
        let mut session = self.session().await?;
        if in_tx {
            session.savepoint("strata_flush").await?;
        } else {
            session.begin().await?;
        }
        let result = persister::execute(&mut session, &plan, &rendered).await;
        let inserted = match result {
            Ok(inserted) => inserted,
            Err(e) => {
                // The original error matters; a failed rollback (connection gone) is implied.
                let _ = if in_tx {
                    session.rollback_to_savepoint("strata_flush").await
                } else {
                    session.rollback().await
                };
                return Err(e);
            }
        };
        if in_tx {
            session.release_savepoint("strata_flush").await?;
        } else {
            session.commit().await?;
        }
        drop(session);
        self.inner.uow.lock().apply(plan, inserted)
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

    /// Runs `work` in a transaction with a fork of this EntityManager (which starts with a copy
    /// of this identity map and pending changes), flushes the fork, and commits. On `Ok`, this
    /// EntityManager takes over the fork's state; on `Err` the transaction rolls back and this
    /// EntityManager's identity map is as before (instances changed in memory keep their
    /// changes: `refresh` or `clear` them). Nested calls use savepoints.
    pub async fn transactional<F, Fut, R, E>(&self, work: F) -> Result<R, E>
    where
        F: FnOnce(EntityManager) -> Fut,
        Fut: Future<Output = Result<R, E>>,
        E: From<Error>,
    {
        let (tx, savepoint) = match &self.inner.tx {
            Some(parent) => {
                let depth = parent.depth + 1;
                let name = format!("strata_tx_{depth}");
                self.session().await?.savepoint(&name).await?;
                let tx = TxState {
                    conn: Arc::clone(&parent.conn),
                    depth,
                    finished: AtomicBool::new(false),
                };
                (Arc::new(tx), Some(name))
            }
            None => {
                let conn = self.inner.orm.driver().acquire().await?;
                let conn = Arc::new(tokio::sync::Mutex::new(Some(conn)));
                let tx = TxState { conn, depth: 0, finished: AtomicBool::new(false) };
                (Arc::new(tx), None)
            }
        };
        let log = self.inner.orm.query_log();
        if savepoint.is_none() {
            Session::new(Slot::Shared(Arc::clone(&tx.conn).lock_owned().await), log)
                .begin()
                .await?;
        }
        let state = self.inner.uow.lock().clone();
        let fork = Self::with_state(self.inner.orm.clone(), state, Some(Arc::clone(&tx)));
        let mut result = work(fork.clone()).await;
        if result.is_ok()
            && let Err(e) = fork.flush().await
        {
            result = Err(E::from(e));
        }
        let mut session = Session::new(Slot::Shared(Arc::clone(&tx.conn).lock_owned().await), log);
        let finish = match (&result, &savepoint) {
            (Ok(_), Some(name)) => session.release_savepoint(name).await,
            (Ok(_), None) => session.commit().await,
            (Err(_), Some(name)) => session.rollback_to_savepoint(name).await,
            (Err(_), None) => session.rollback().await,
        };
        drop(session);
        tx.finished.store(true, Ordering::SeqCst);
        if savepoint.is_none() {
            // Return the connection to the pool even if a clone of the fork lives on.
            tx.conn.lock().await.take();
        }
        match result {
            Ok(value) => {
                finish?;
                let state = std::mem::take(&mut *fork.inner.uow.lock());
                *self.inner.uow.lock() = state;
                Ok(value)
            }
            Err(e) => Err(e),
        }
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
    /// are not changed). Returns the number of rows updated.
    pub async fn native_update<T: Entity>(
        &self,
        filter: Filter<T>,
        values: impl IntoIterator<Item = crate::query::Set<T>>,
    ) -> Result<u64> {
        crate::native::update(self, filter, values).await
    }

    /// `DELETE … WHERE filter` directly, bypassing the unit of work. Returns the number of rows
    /// deleted.
    pub async fn native_delete<T: Entity>(&self, filter: Filter<T>) -> Result<u64> {
        crate::native::delete(self, filter).await
    }

    /// A repository of `T` bound to this EntityManager.
    pub fn repo<T: Entity>(&self) -> crate::repository::Repository<T> {
        crate::repository::Repository::new(self.clone())
    }
}
