//! Populate: select-in loading of relations, one statement per relation edge for any number of
//! parents (MikroORM's `EntityLoader` with the `select-in` strategy).
//!
//! ```text
//! SELECT … FROM "user" WHERE "id" = ANY($1)                         -- many-to-one, owning 1:1
//! SELECT … FROM "post" WHERE "author_id" = ANY($1)                  -- one-to-many, inverse 1:1
//! SELECT t.…, p."post_id" FROM "category" AS t JOIN "post_categories" AS p
//!   ON p."category_id" = t."id" WHERE p."post_id" = ANY($1)          -- many-to-many
//! ```
//!
//! Keys already in the identity map are linked without a query, NULL keys skipped, each key
//! sent once; rows go through the identity map, so a populated author *is* the instance
//! `find_one` returns and an instance with unflushed changes keeps them. Populating never makes
//! an entity dirty: a reference keeps its key, a collection counts what it loaded as its members.
//!
//! Paths are typed: `Post::fields().author` (a reference column), `User::fields().posts` (a
//! collection), nested with `.then(…)`. Each path runs on its own; the paths of one find that
//! share a prefix cost no extra statement, because the second finds the first one's targets in
//! the identity map.

use super::{Collection, Reference};
use crate::entity::{Entity, Key};
use crate::entity_manager::EntityManager;
use crate::error::{Error, Result};
use crate::managed::{BORROW_WAIT, Managed};
use crate::metadata::{EntityMeta, RelationKind, RelationMeta};
use crate::query::{Col, Rel};
use crate::sql;
use crate::value::{FieldType, Value};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed, `Send` future, as populate paths return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A populate path from entity `E`: one relation of `E`, then optionally a path from its
/// target. Build it from a relation field: `Post::fields().author`,
/// `Post::fields().author.then(User::fields().address)`, `User::fields().posts`.
pub struct Populate<E> {
    path: Arc<dyn PopulatePath<E>>,
}

impl<E> Clone for Populate<E> {
    fn clone(&self) -> Self {
        Self { path: Arc::clone(&self.path) }
    }
}

impl<E> fmt::Debug for Populate<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Populate({})", self.path.describe())
    }
}

impl<E> Populate<E> {
    /// Loads this path for `parents`.
    pub(crate) fn run<'a>(
        &'a self,
        em: &'a EntityManager,
        parents: &'a [Managed<E>],
    ) -> BoxFuture<'a, Result<()>> {
        self.path.run(em, parents)
    }
}

/// What a populate path does. Implemented for each kind of relation edge.
pub trait PopulatePath<E>: Send + Sync {
    /// The path, for messages: `author.address`.
    fn describe(&self) -> String;
    /// Loads the relation for `parents`, links it, then runs the rest of the path.
    fn run<'a>(
        &'a self,
        em: &'a EntityManager,
        parents: &'a [Managed<E>],
    ) -> BoxFuture<'a, Result<()>>;
}

/// The field types of a to-one relation: `Reference<U>` and `Option<Reference<U>>`.
pub trait ToOneField<U: Entity>: Send + Sync + 'static {
    /// The target's key, when there is one.
    fn target_key(&self) -> Option<U::Key>;
    /// Links the field to `target` if it still refers to `key`.
    fn link(&mut self, key: &U::Key, target: &Managed<U>);
    /// For an inverse side: sets the field to `target`, or to no target.
    fn set_inverse(&mut self, target: Option<(&U::Key, &Managed<U>)>);
}

impl<U: Entity> ToOneField<U> for Reference<U> {
    fn target_key(&self) -> Option<U::Key> {
        self.key()
    }
    fn link(&mut self, key: &U::Key, target: &Managed<U>) {
        if self.key().as_ref() == Some(key) && self.attached().is_none() {
            *self = Reference::linked(key.clone(), target);
        }
    }
    fn set_inverse(&mut self, target: Option<(&U::Key, &Managed<U>)>) {
        if let Some((key, target)) = target {
            *self = Reference::linked(key.clone(), target);
        }
    }
}

impl<U: Entity> ToOneField<U> for Option<Reference<U>> {
    fn target_key(&self) -> Option<U::Key> {
        self.as_ref().and_then(Reference::key)
    }
    fn link(&mut self, key: &U::Key, target: &Managed<U>) {
        if let Some(r) = self {
            r.link(key, target);
        }
    }
    fn set_inverse(&mut self, target: Option<(&U::Key, &Managed<U>)>) {
        *self = target.map(|(key, target)| Reference::linked(key.clone(), target));
    }
}

/// The relation of `E` with join column `column`.
fn relation_of_column(meta: &EntityMeta, column: usize) -> Option<usize> {
    meta.relations.iter().position(|r| r.join_column == Some(column))
}

fn not_a_relation(meta: &EntityMeta, what: &str) -> Error {
    Error::usage(format!("{what} of {} is not a relation, so it cannot be populated", meta.name))
}

/// Reads relation field `relation` of each parent, one lock at a time.
fn read_fields<E: Entity, R: 'static, X>(
    parents: &[Managed<E>],
    relation: usize,
    read: impl Fn(&R) -> X,
) -> Result<Vec<X>> {
    parents
        .iter()
        .map(|p| {
            let entity = p.read_for("populate", None)?;
            let field = field_of::<E, R>(&entity, relation)?;
            Ok(read(field))
        })
        .collect()
}

fn field_of<E: Entity, R: 'static>(entity: &E, relation: usize) -> Result<&R> {
    entity
        .relation(relation)
        .and_then(|f| f.as_any().downcast_ref::<R>())
        .ok_or_else(|| wrong_field::<E>(relation))
}

fn field_of_mut<E: Entity, R: 'static>(entity: &mut E, relation: usize) -> Result<&mut R> {
    entity
        .relation_mut(relation)
        .and_then(|f| f.as_any_mut().downcast_mut::<R>())
        .ok_or_else(|| wrong_field::<E>(relation))
}

fn wrong_field<E: Entity>(relation: usize) -> Error {
    let meta = E::meta();
    let field = meta.relations.get(relation).map_or("?", |r| r.field);
    Error::usage(format!("{}.{field} does not have the type its relation declares", meta.name))
}

/// The distinct values of `items`, in first-seen order.
fn distinct<K: Clone + Eq + std::hash::Hash>(items: impl IntoIterator<Item = K>) -> Vec<K> {
    let mut seen = std::collections::HashSet::new();
    items.into_iter().filter(|k| seen.insert(k.clone())).collect()
}

/// Loads the `U` rows with these keys that the identity map does not have; returns every
/// instance by key.
async fn targets_by_key<U: Entity>(
    em: &EntityManager,
    keys: Vec<U::Key>,
) -> Result<HashMap<U::Key, Managed<U>>> {
    let mut found = HashMap::with_capacity(keys.len());
    let mut missing = Vec::new();
    for key in keys {
        match em.cached::<U>(&key) {
            Some(instance) => {
                found.insert(key, instance);
            }
            None => missing.push(key),
        }
    }
    if missing.is_empty() {
        return Ok(found);
    }
    let meta = U::meta();
    let statements = sql::select_in(
        em.orm().dialect(),
        em.table_name::<U>(),
        meta.columns,
        meta.pk(),
        missing.iter().map(FieldType::to_value).collect(),
        meta.pk(),
    );
    let mut session = em.session().await?;
    for statement in &statements {
        session
            .run_each(statement, &mut |row| {
                let instance = em.inner.uow.lock().hydrate::<U>(row)?;
                let key = instance.try_key(BORROW_WAIT);
                if let Some(key) = key {
                    found.insert(key, instance);
                }
                Ok(())
            })
            .await?;
    }
    Ok(found)
}

/// The parents' keys (unset ones, of new entities, left out), each with its parent.
fn parent_keys<E: Entity>(parents: &[Managed<E>]) -> Vec<(E::Key, &Managed<E>)> {
    parents
        .iter()
        .filter_map(|p| p.try_key(BORROW_WAIT).filter(|k| !k.is_unset()).map(|k| (k, p)))
        .collect()
}

// ---- owning to-one: many-to-one, owning one-to-one ----

struct OwningToOne<E, U: Entity, R> {
    column: usize,
    next: Option<Populate<U>>,
    _field: PhantomData<fn() -> (E, R)>,
}

impl<E: Entity, U: Entity, R: ToOneField<U>> PopulatePath<E> for OwningToOne<E, U, R> {
    fn describe(&self) -> String {
        let field = E::meta().columns.get(self.column).map_or("?", |c| c.field);
        describe(field, self.next.as_ref())
    }

    fn run<'a>(
        &'a self,
        em: &'a EntityManager,
        parents: &'a [Managed<E>],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let meta = E::meta();
            let Some(relation) = relation_of_column(meta, self.column) else {
                let field = meta.columns.get(self.column).map_or("?", |c| c.field);
                return Err(not_a_relation(meta, field));
            };
            let keys: Vec<Option<U::Key>> =
                read_fields::<E, R, _>(parents, relation, ToOneField::target_key)?;
            let wanted = distinct(keys.iter().flatten().cloned());
            let found = targets_by_key::<U>(em, wanted.clone()).await?;
            for (parent, key) in parents.iter().zip(&keys) {
                if let Some(key) = key
                    && let Some(target) = found.get(key)
                {
                    let mut entity = parent.write_for("populate", None)?;
                    field_of_mut::<E, R>(&mut entity, relation)?.link(key, target);
                }
            }
            if let Some(next) = &self.next {
                let targets: Vec<Managed<U>> =
                    wanted.iter().filter_map(|k| found.get(k).cloned()).collect();
                if !targets.is_empty() {
                    next.run(em, &targets).await?;
                }
            }
            Ok(())
        })
    }
}

// ---- one-to-many, many-to-many, inverse one-to-one ----

struct ToMany<E, U: Entity, F> {
    relation: usize,
    next: Option<Populate<U>>,
    _field: PhantomData<fn() -> (E, F)>,
}

/// The targets loaded for each parent, by the parent's key.
type Groups<E, U> = HashMap<<E as Entity>::Key, Vec<(<U as Entity>::Key, Managed<U>)>>;

/// The targets of each parent (by the parent's key), loaded for a one-to-many or inverse
/// one-to-one (`mapped_by` a join column of `U`) or a many-to-many (through its pivot).
async fn related<E: Entity, U: Entity>(
    em: &EntityManager,
    relation: &RelationMeta,
    parent_keys: Vec<E::Key>,
) -> Result<Groups<E, U>> {
    let mut groups: Groups<E, U> = HashMap::new();
    if parent_keys.is_empty() {
        return Ok(groups);
    }
    let target = U::meta();
    let keys: Vec<Value> = parent_keys.iter().map(FieldType::to_value).collect();
    let dialect = em.orm().dialect();
    // Each statement's rows, and where in a row the parent's key is.
    let (statements, owner_at, pivot) = match relation.kind {
        RelationKind::ManyToMany => {
            let names = relation.pivot(E::meta()).ok_or_else(|| {
                Error::usage(format!("{}.{} has no pivot table", E::meta().name, relation.field))
            })?;
            let owner = E::meta();
            let pivot_table = crate::dialect::TableName {
                schema: owner.schema_or(em.orm().default_schema()),
                name: &names.table,
            };
            let statements = sql::select_through_pivot(
                dialect,
                em.table_name::<U>(),
                target.columns,
                target.pk(),
                sql::PivotJoin {
                    table: pivot_table,
                    owner_column: &names.owner_column,
                    owner_type: owner.pk().ty,
                    target_column: &names.target_column,
                },
                keys,
            );
            (statements, target.columns.len(), true)
        }
        _ => {
            let owning = relation
                .owning_side()
                .and_then(|o| o.join_column)
                .ok_or_else(|| not_a_relation(E::meta(), relation.field))?;
            let statements = sql::select_in(
                dialect,
                em.table_name::<U>(),
                target.columns,
                &target.columns[owning],
                keys,
                target.pk(),
            );
            (statements, owning, false)
        }
    };
    let mut session = em.session().await?;
    for statement in &statements {
        session
            .run_each(statement, &mut |mut row| {
                let owner_value = if pivot { row.pop() } else { row.get(owner_at).cloned() }
                    .unwrap_or(Value::Null);
                let Ok(owner) = <E::Key as FieldType>::from_value(owner_value) else {
                    return Ok(());
                };
                let instance = em.inner.uow.lock().hydrate::<U>(row)?;
                if let Some(key) = instance.try_key(BORROW_WAIT) {
                    groups.entry(owner).or_default().push((key, instance));
                }
                Ok(())
            })
            .await?;
    }
    Ok(groups)
}

impl<E: Entity, U: Entity> PopulatePath<E> for ToMany<E, U, Collection<U>> {
    fn describe(&self) -> String {
        describe(relation_field::<E>(self.relation), self.next.as_ref())
    }

    fn run<'a>(
        &'a self,
        em: &'a EntityManager,
        parents: &'a [Managed<E>],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let relation = relation_meta::<E>(self.relation)?;
            let parents = parent_keys(parents);
            let keys = distinct(parents.iter().map(|(k, _)| k.clone()));
            let mut groups = related::<E, U>(em, relation, keys).await?;
            let mut children: Vec<Managed<U>> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for (key, parent) in &parents {
                let items = groups.remove(key).unwrap_or_default();
                for (_, item) in &items {
                    if seen.insert(item.addr()) {
                        children.push(item.clone());
                    }
                }
                let mut entity = parent.write_for("populate", Some(key))?;
                field_of_mut::<E, Collection<U>>(&mut entity, self.relation)?.populated(items);
            }
            if let Some(next) = &self.next
                && !children.is_empty()
            {
                next.run(em, &children).await?;
            }
            Ok(())
        })
    }
}

impl<E: Entity, U: Entity> PopulatePath<E> for ToMany<E, U, Option<Reference<U>>> {
    fn describe(&self) -> String {
        describe(relation_field::<E>(self.relation), self.next.as_ref())
    }

    fn run<'a>(
        &'a self,
        em: &'a EntityManager,
        parents: &'a [Managed<E>],
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let relation = relation_meta::<E>(self.relation)?;
            let parents = parent_keys(parents);
            let keys = distinct(parents.iter().map(|(k, _)| k.clone()));
            let mut groups = related::<E, U>(em, relation, keys).await?;
            let mut children = Vec::new();
            for (key, parent) in &parents {
                let target = groups.remove(key).and_then(|mut items| items.pop());
                if let Some((_, instance)) = &target {
                    children.push(instance.clone());
                }
                let mut entity = parent.write_for("populate", Some(key))?;
                let field = field_of_mut::<E, Option<Reference<U>>>(&mut entity, self.relation)?;
                field.set_inverse(target.as_ref().map(|(k, h)| (k, h)));
            }
            if let Some(next) = &self.next
                && !children.is_empty()
            {
                next.run(em, &children).await?;
            }
            Ok(())
        })
    }
}

fn relation_meta<E: Entity>(relation: usize) -> Result<&'static RelationMeta> {
    E::meta().relations.get(relation).ok_or_else(|| wrong_field::<E>(relation))
}

fn relation_field<E: Entity>(relation: usize) -> &'static str {
    E::meta().relations.get(relation).map_or("?", |r| r.field)
}

fn describe<U>(field: &str, next: Option<&Populate<U>>) -> String {
    match next {
        Some(next) => format!("{field}.{}", next.path.describe()),
        None => field.to_owned(),
    }
}

// ---- building paths from the typed fields ----

impl<E: Entity, U: Entity> From<Col<E, Reference<U>>> for Populate<E> {
    fn from(col: Col<E, Reference<U>>) -> Self {
        owning::<E, U, Reference<U>>(col.index(), None)
    }
}

impl<E: Entity, U: Entity> From<Col<E, Option<Reference<U>>>> for Populate<E> {
    fn from(col: Col<E, Option<Reference<U>>>) -> Self {
        owning::<E, U, Option<Reference<U>>>(col.index(), None)
    }
}

impl<E: Entity, U: Entity> From<Rel<E, Collection<U>>> for Populate<E> {
    fn from(rel: Rel<E, Collection<U>>) -> Self {
        to_many::<E, U, Collection<U>>(rel.index(), None)
    }
}

impl<E: Entity, U: Entity> From<Rel<E, Option<Reference<U>>>> for Populate<E> {
    fn from(rel: Rel<E, Option<Reference<U>>>) -> Self {
        to_many::<E, U, Option<Reference<U>>>(rel.index(), None)
    }
}

fn owning<E: Entity, U: Entity, R: ToOneField<U>>(
    column: usize,
    next: Option<Populate<U>>,
) -> Populate<E> {
    Populate { path: Arc::new(OwningToOne::<E, U, R> { column, next, _field: PhantomData }) }
}

fn to_many<E: Entity, U: Entity, F: Send + Sync + 'static>(
    relation: usize,
    next: Option<Populate<U>>,
) -> Populate<E>
where
    ToMany<E, U, F>: PopulatePath<E>,
{
    Populate { path: Arc::new(ToMany::<E, U, F> { relation, next, _field: PhantomData }) }
}

impl<E: Entity, U: Entity> Col<E, Reference<U>> {
    /// Populates this reference, then `next` from its target: `author.then(address)`.
    pub fn then(self, next: impl Into<Populate<U>>) -> Populate<E> {
        owning::<E, U, Reference<U>>(self.index(), Some(next.into()))
    }
}

impl<E: Entity, U: Entity> Col<E, Option<Reference<U>>> {
    /// Populates this reference, then `next` from its target.
    pub fn then(self, next: impl Into<Populate<U>>) -> Populate<E> {
        owning::<E, U, Option<Reference<U>>>(self.index(), Some(next.into()))
    }
}

impl<E: Entity, U: Entity> Rel<E, Collection<U>> {
    /// Populates this collection, then `next` from its items.
    pub fn then(self, next: impl Into<Populate<U>>) -> Populate<E> {
        to_many::<E, U, Collection<U>>(self.index(), Some(next.into()))
    }
}

impl<E: Entity, U: Entity> Rel<E, Option<Reference<U>>> {
    /// Populates this inverse one-to-one, then `next` from its target.
    pub fn then(self, next: impl Into<Populate<U>>) -> Populate<E> {
        to_many::<E, U, Option<Reference<U>>>(self.index(), Some(next.into()))
    }
}

impl EntityManager {
    /// The number of items of `owner`'s collection `relation` in the database, without loading
    /// them (MikroORM's `loadCount`): one `SELECT COUNT(*)` of the target table (one-to-many) or
    /// of the pivot table (many-to-many). Unflushed changes of the collection are not counted.
    ///
    /// ```text
    /// em.count_related(&user, User::fields().posts).await?;
    /// -- SELECT COUNT(*) FROM "post" WHERE "author_id" = $1
    /// ```
    pub async fn count_related<E: Entity, U: Entity>(
        &self,
        owner: &Managed<E>,
        relation: Rel<E, Collection<U>>,
    ) -> Result<u64> {
        let meta = E::meta();
        let rel = relation_meta::<E>(relation.index())?;
        let Some(key) = owner.try_key(BORROW_WAIT).filter(|k| !k.is_unset()) else {
            return Ok(0);
        };
        let dialect = self.orm().dialect();
        let (table_name, column) = match rel.kind {
            RelationKind::ManyToMany => {
                let names = rel.pivot(meta).ok_or_else(|| not_a_relation(meta, rel.field))?;
                (names.table, names.owner_column)
            }
            _ => {
                let owning = rel
                    .owning_side()
                    .and_then(|o| o.join_column)
                    .ok_or_else(|| not_a_relation(meta, rel.field))?;
                (U::meta().table.to_owned(), U::meta().columns[owning].name.to_owned())
            }
        };
        let schema = match rel.kind {
            RelationKind::ManyToMany => meta.schema_or(self.orm().default_schema()),
            _ => U::meta().schema_or(self.orm().default_schema()),
        };
        let table = crate::dialect::TableName { schema, name: &table_name };
        let statement = sql::count_by(dialect, table, &column, key.to_value());
        let rows = self.session().await?.run(&statement).await?.rows;
        let n = rows.first().and_then(|r| r.first()).and_then(Value::as_i64).unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Loads the relation `path` of `parents` (and the rest of the path from its targets):
    /// one statement per relation edge for any number of parents, nothing for keys already in
    /// the identity map.
    ///
    /// ```text
    /// em.populate(&posts, Post::fields().author.then(User::fields().address)).await?;
    /// -- SELECT … FROM "user" WHERE "id" = ANY($1)
    /// -- SELECT … FROM "address" WHERE "id" = ANY($1)
    /// ```
    pub async fn populate<E: Entity>(
        &self,
        parents: &[Managed<E>],
        path: impl Into<Populate<E>>,
    ) -> Result<()> {
        if parents.is_empty() {
            return Ok(());
        }
        path.into().run(self, parents).await
    }
}
