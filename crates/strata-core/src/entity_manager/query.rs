//! Reading through an EntityManager: `find*`, `count`, `refresh`. Every row read becomes (or
//! finds) its managed instance in the identity map.

use super::EntityManager;
use crate::driver::Statement;
use crate::entity::Entity;
use crate::error::{Error, Result};
use crate::managed::Managed;
use crate::query::{CmpOp, Expr, Filter, FindOptions};
use crate::sql;
use crate::value::{FieldType, Value};

impl EntityManager {
    pub(crate) fn select_statement<T: Entity>(
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
        let mut session = self.read_session(options.from_primary).await?;
        // Each row becomes (or finds) its managed instance as soon as the driver decoded it
        // (into a buffer it reuses for the next row).
        session
            .run_each(&stmt, &mut |row| {
                let handle = self.inner.uow.lock().hydrate::<T>(row)?;
                out.push(handle);
                Ok(())
            })
            .await?;
        drop(session);
        crate::relation::populate::run(self, &out, &options.populate, options.from_primary).await?;
        Ok(out)
    }

    pub(crate) fn cached<T: Entity>(&self, key: &T::Key) -> Option<Managed<T>> {
        self.inner.uow.lock().managed::<T>(key)
    }

    pub(crate) fn key_filter<T: Entity>(key: &T::Key) -> Expr {
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
        let rows = self.read_session(false).await?.run(&stmt).await?.rows;
        let n = rows.first().and_then(|r| r.first()).and_then(Value::as_i64).unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Reloads an entity from the database into the same instance, discarding unflushed
    /// changes. Returns false (and forgets the instance) when the row no longer exists.
    pub async fn refresh<T: Entity>(&self, entity: &Managed<T>) -> Result<bool> {
        if self.inner.uow.lock().is_new(entity) {
            return Err(Error::usage(format!(
                "this {} has not been flushed yet, so there is nothing to refresh from",
                T::meta().name
            )));
        }
        let key = entity.read_for("refresh", None)?.key();
        let filter = Self::key_filter::<T>(&key);
        let stmt = self.select_statement::<T>(Some(&filter), &FindOptions::new());
        // The primary: a refresh asks for the latest state.
        let row = self.read_session(true).await?.run(&stmt).await?.rows.into_iter().next();
        let Some(row) = row else {
            self.inner.uow.lock().refreshed(entity, key, None);
            return Ok(false);
        };
        let fresh = T::from_values(row)?;
        // The instance first, then the identity map: never both locks at once.
        *entity.write_for("refresh", Some(&key))? = fresh.clone();
        self.inner.uow.lock().refreshed(entity, key, Some(fresh));
        Ok(true)
    }
}
