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
//! collection), nested with `.then(…)`. Populate runs level by level: the statements of every
//! path's first edge go to the database together (pipelined on PostgreSQL: one round trip),
//! then those of the second edges, and so on. Paths that share a prefix (`author` and
//! `author.address`) send the shared statement once.

use super::{Collection, Reference};
use crate::driver::{Outcome, Statement};
use crate::entity::{Entity, Key};
use crate::entity_manager::EntityManager;
use crate::error::{Error, Result};
use crate::identity_map::FastHash;
use crate::managed::{BORROW_WAIT, Managed};
use crate::metadata::{EntityMeta, RelationKind, RelationMeta};
use crate::query::{Col, Rel};
use crate::sql;
use crate::value::{FieldType, Value};

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

/// The maps of a populate, keyed by keys from the database (foldhash, as the identity map).
type HashMap<K, V> = std::collections::HashMap<K, V, FastHash>;
type HashSet<K> = std::collections::HashSet<K, FastHash>;

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

/// What a populate path does. Implemented for each kind of relation edge.
trait PopulatePath<E>: Send + Sync {
    /// The path, for messages: `author.address`.
    fn describe(&self) -> String;
    /// The first edge of the path for `parents`: what to select, and how to link what comes
    /// back.
    fn step(&self, em: &EntityManager, parents: Vec<Managed<E>>) -> Result<Box<dyn Step>>;
}

/// One relation edge for a set of parents, prepared: the statements it needs (none when the
/// identity map has every target), then the linking of their rows.
trait Step: Send {
    /// The statements to send, taken once.
    fn statements(&mut self) -> Vec<Statement>;
    /// Links the rows of the statements (one outcome each, in order) into the parents, and
    /// returns the steps of the rest of the path, from the loaded targets.
    fn finish(
        self: Box<Self>,
        em: &EntityManager,
        outcomes: Vec<Outcome>,
    ) -> Result<Vec<Box<dyn Step>>>;
}

/// Loads `paths` for `parents`, level by level: every statement of one level goes to the
/// database in one call (pipelined on PostgreSQL), an identical statement once; from the
/// primary with `primary`, else where the EntityManager reads.
pub(crate) async fn run<E: Entity>(
    em: &EntityManager,
    parents: &[Managed<E>],
    paths: &[Populate<E>],
    primary: bool,
) -> Result<()> {
    if parents.is_empty() {
        return Ok(());
    }
    let mut level: Vec<Box<dyn Step>> =
        paths.iter().map(|p| p.path.step(em, parents.to_vec())).collect::<Result<_>>()?;
    while !level.is_empty() {
        // The level's distinct statements, and where each step's ones are among them.
        let mut batch: Vec<Statement> = Vec::new();
        let mut places: Vec<Vec<usize>> = Vec::with_capacity(level.len());
        for step in &mut level {
            let mut at = Vec::new();
            for statement in step.statements() {
                let i = batch.iter().position(|s| *s == statement).unwrap_or_else(|| {
                    batch.push(statement);
                    batch.len() - 1
                });
                at.push(i);
            }
            places.push(at);
        }
        let mut outcomes: Vec<Option<Outcome>> = if batch.is_empty() {
            Vec::new()
        } else {
            em.read_session(primary).await?.run_all(&batch).await?.into_iter().map(Some).collect()
        };
        // How many steps still need each outcome: the last one takes it, the others a copy.
        let mut uses = vec![0usize; outcomes.len()];
        for i in places.iter().flatten() {
            uses[*i] += 1;
        }
        let mut next = Vec::new();
        for (step, at) in level.into_iter().zip(places) {
            let mine = at
                .into_iter()
                .map(|i| {
                    uses[i] -= 1;
                    let outcome =
                        if uses[i] == 0 { outcomes[i].take() } else { outcomes[i].clone() };
                    outcome.ok_or_else(|| Error::usage("a populate statement returned no outcome"))
                })
                .collect::<Result<Vec<_>>>()?;
            next.extend(step.finish(em, mine)?);
        }
        level = next;
    }
    Ok(())
}

/// The next steps of a path: `next` from `targets`, when there are both.
fn then<U: Entity>(
    em: &EntityManager,
    next: Option<&Populate<U>>,
    targets: Vec<Managed<U>>,
) -> Result<Vec<Box<dyn Step>>> {
    match next {
        Some(next) if !targets.is_empty() => Ok(vec![next.path.step(em, targets)?]),
        _ => Ok(Vec::new()),
    }
}

/// The field types of a to-one relation: `Reference<U>` and `Option<Reference<U>>`.
trait ToOneField<U: Entity>: Send + Sync + 'static {
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
    let mut seen = HashSet::default();
    items.into_iter().filter(|k| seen.insert(k.clone())).collect()
}

/// Each row of `outcomes`, in order.
fn rows(outcomes: Vec<Outcome>) -> impl Iterator<Item = Vec<Value>> {
    outcomes.into_iter().flat_map(|o| o.rows)
}

/// The parents' keys (unset ones, of new entities, left out), each with its parent.
fn parent_keys<E: Entity>(parents: Vec<Managed<E>>) -> Vec<(E::Key, Managed<E>)> {
    parents
        .into_iter()
        .filter_map(|p| {
            let key = p.try_key(BORROW_WAIT).filter(|k| !k.is_unset())?;
            Some((key, p))
        })
        .collect()
}

// ---- owning to-one: many-to-one, owning one-to-one ----

struct OwningToOne<E, U: Entity, R> {
    column: usize,
    next: Option<Populate<U>>,
    _field: PhantomData<fn() -> (E, R)>,
}

impl<E: Entity, U: Entity, R: ToOneField<U>> OwningToOne<E, U, R> {
    fn relation(&self) -> Result<usize> {
        let meta = E::meta();
        relation_of_column(meta, self.column).ok_or_else(|| {
            not_a_relation(meta, meta.columns.get(self.column).map_or("?", |c| c.field))
        })
    }
}

/// An owning to-one edge, prepared: the targets the identity map has, and a select-in of the
/// others by key.
struct OwningStep<E: Entity, U: Entity, R> {
    relation: usize,
    parents: Vec<(Managed<E>, Option<U::Key>)>,
    wanted: Vec<U::Key>,
    found: HashMap<U::Key, Managed<U>>,
    statements: Vec<Statement>,
    next: Option<Populate<U>>,
    _field: PhantomData<fn() -> R>,
}

impl<E: Entity, U: Entity, R: ToOneField<U>> PopulatePath<E> for OwningToOne<E, U, R> {
    fn describe(&self) -> String {
        let field = E::meta().columns.get(self.column).map_or("?", |c| c.field);
        describe(field, self.next.as_ref())
    }

    fn step(&self, em: &EntityManager, parents: Vec<Managed<E>>) -> Result<Box<dyn Step>> {
        let relation = self.relation()?;
        let keys: Vec<Option<U::Key>> =
            read_fields::<E, R, _>(&parents, relation, ToOneField::target_key)?;
        let wanted = distinct(keys.iter().flatten().cloned());
        let mut found = HashMap::with_capacity_and_hasher(wanted.len(), FastHash::default());
        let mut missing = Vec::new();
        for key in &wanted {
            match em.cached::<U>(key) {
                Some(instance) => {
                    found.insert(key.clone(), instance);
                }
                None => missing.push(key.to_value()),
            }
        }
        let statements = if missing.is_empty() {
            Vec::new()
        } else {
            let meta = U::meta();
            let dialect = em.orm().dialect();
            sql::select_in(
                dialect,
                em.table_name::<U>(),
                meta.columns,
                meta.pk(),
                missing,
                meta.pk(),
            )
        };
        Ok(Box::new(OwningStep::<E, U, R> {
            relation,
            parents: parents.into_iter().zip(keys).collect(),
            wanted,
            found,
            statements,
            next: self.next.clone(),
            _field: PhantomData,
        }))
    }
}

impl<E: Entity, U: Entity, R: ToOneField<U>> Step for OwningStep<E, U, R> {
    fn statements(&mut self) -> Vec<Statement> {
        std::mem::take(&mut self.statements)
    }

    fn finish(
        self: Box<Self>,
        em: &EntityManager,
        outcomes: Vec<Outcome>,
    ) -> Result<Vec<Box<dyn Step>>> {
        let Self { relation, parents, wanted, mut found, next, .. } = *self;
        for mut row in rows(outcomes) {
            let instance = em.inner.uow.lock().hydrate::<U>(&mut row)?;
            if let Some(key) = instance.try_key(BORROW_WAIT) {
                found.insert(key, instance);
            }
        }
        for (parent, key) in &parents {
            if let Some(key) = key
                && let Some(target) = found.get(key)
            {
                let mut entity = parent.write_for("populate", None)?;
                field_of_mut::<E, R>(&mut entity, relation)?.link(key, target);
            }
        }
        let targets = wanted.iter().filter_map(|k| found.get(k).cloned()).collect();
        then(em, next.as_ref(), targets)
    }
}

// ---- one-to-many, many-to-many, inverse one-to-one ----

struct ToMany<E, U: Entity, F> {
    relation: usize,
    next: Option<Populate<U>>,
    _field: PhantomData<fn() -> (E, F)>,
}

/// A to-many (or inverse one-to-one) edge, prepared: a select-in of the targets by the
/// parents' keys, through the pivot for a many-to-many.
struct ToManyStep<E: Entity, U: Entity, F> {
    relation: usize,
    parents: Vec<(E::Key, Managed<E>)>,
    statements: Vec<Statement>,
    /// Where in a row the parent's key is: the last column (pivot) or the join column.
    owner_at: Option<usize>,
    next: Option<Populate<U>>,
    _field: PhantomData<fn() -> F>,
}

/// The statements that load the targets of each parent (the parent's key in each row) for a
/// one-to-many or inverse one-to-one (`mapped_by` a join column of `U`) or a many-to-many
/// (through its pivot), and where the parent's key is in a row (`None`: last).
fn related_statements<E: Entity, U: Entity>(
    em: &EntityManager,
    relation: &RelationMeta,
    keys: Vec<Value>,
) -> Result<(Vec<Statement>, Option<usize>)> {
    if keys.is_empty() {
        return Ok((Vec::new(), None));
    }
    let target = U::meta();
    let dialect = em.orm().dialect();
    match relation.kind {
        RelationKind::ManyToMany => {
            let owner = E::meta();
            let names = relation.pivot(owner).ok_or_else(|| {
                Error::usage(format!("{}.{} has no pivot table", owner.name, relation.field))
            })?;
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
            Ok((statements, None))
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
            Ok((statements, Some(owning)))
        }
    }
}

/// The targets loaded for each parent, by the parent's key.
type Groups<E, U> = HashMap<<E as Entity>::Key, Vec<(<U as Entity>::Key, Managed<U>)>>;

impl<E: Entity, U: Entity, F> ToManyStep<E, U, F> {
    /// Hydrates the rows and groups them by parent.
    fn groups(&self, em: &EntityManager, outcomes: Vec<Outcome>) -> Result<Groups<E, U>> {
        let mut groups: Groups<E, U> = HashMap::default();
        for mut row in rows(outcomes) {
            let owner_value = match self.owner_at {
                None => row.pop(),
                Some(at) => row.get(at).cloned(),
            }
            .unwrap_or(Value::Null);
            let Ok(owner) = <E::Key as FieldType>::from_value(owner_value) else {
                continue;
            };
            let instance = em.inner.uow.lock().hydrate::<U>(&mut row)?;
            if let Some(key) = instance.try_key(BORROW_WAIT) {
                groups.entry(owner).or_default().push((key, instance));
            }
        }
        Ok(groups)
    }
}

impl<E: Entity, U: Entity, F: Send + Sync + 'static> ToMany<E, U, F> {
    fn prepare(&self, em: &EntityManager, parents: Vec<Managed<E>>) -> Result<ToManyStep<E, U, F>> {
        let relation = relation_meta::<E>(self.relation)?;
        let parents = parent_keys(parents);
        let keys = distinct(parents.iter().map(|(k, _)| k.clone()));
        let keys = keys.iter().map(FieldType::to_value).collect();
        let (statements, owner_at) = related_statements::<E, U>(em, relation, keys)?;
        Ok(ToManyStep {
            relation: self.relation,
            parents,
            statements,
            owner_at,
            next: self.next.clone(),
            _field: PhantomData,
        })
    }
}

impl<E: Entity, U: Entity> PopulatePath<E> for ToMany<E, U, Collection<U>> {
    fn describe(&self) -> String {
        describe(relation_field::<E>(self.relation), self.next.as_ref())
    }

    fn step(&self, em: &EntityManager, parents: Vec<Managed<E>>) -> Result<Box<dyn Step>> {
        Ok(Box::new(self.prepare(em, parents)?))
    }
}

impl<E: Entity, U: Entity> Step for ToManyStep<E, U, Collection<U>> {
    fn statements(&mut self) -> Vec<Statement> {
        std::mem::take(&mut self.statements)
    }

    fn finish(
        self: Box<Self>,
        em: &EntityManager,
        outcomes: Vec<Outcome>,
    ) -> Result<Vec<Box<dyn Step>>> {
        let mut groups = self.groups(em, outcomes)?;
        let mut children: Vec<Managed<U>> = Vec::new();
        let mut seen = HashSet::default();
        for (key, parent) in &self.parents {
            let items = groups.remove(key).unwrap_or_default();
            for (_, item) in &items {
                if seen.insert(item.addr()) {
                    children.push(item.clone());
                }
            }
            let mut entity = parent.write_for("populate", Some(key))?;
            field_of_mut::<E, Collection<U>>(&mut entity, self.relation)?.populated(items);
        }
        then(em, self.next.as_ref(), children)
    }
}

impl<E: Entity, U: Entity> PopulatePath<E> for ToMany<E, U, Option<Reference<U>>> {
    fn describe(&self) -> String {
        describe(relation_field::<E>(self.relation), self.next.as_ref())
    }

    fn step(&self, em: &EntityManager, parents: Vec<Managed<E>>) -> Result<Box<dyn Step>> {
        Ok(Box::new(self.prepare(em, parents)?))
    }
}

impl<E: Entity, U: Entity> Step for ToManyStep<E, U, Option<Reference<U>>> {
    fn statements(&mut self) -> Vec<Statement> {
        std::mem::take(&mut self.statements)
    }

    fn finish(
        self: Box<Self>,
        em: &EntityManager,
        outcomes: Vec<Outcome>,
    ) -> Result<Vec<Box<dyn Step>>> {
        let mut groups = self.groups(em, outcomes)?;
        let mut children = Vec::new();
        for (key, parent) in &self.parents {
            let target = groups.remove(key).and_then(|mut items| items.pop());
            if let Some((_, instance)) = &target {
                children.push(instance.clone());
            }
            let mut entity = parent.write_for("populate", Some(key))?;
            let field = field_of_mut::<E, Option<Reference<U>>>(&mut entity, self.relation)?;
            field.set_inverse(target.as_ref().map(|(k, h)| (k, h)));
        }
        then(em, self.next.as_ref(), children)
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
        let rows = self.read_session(false).await?.run(&statement).await?.rows;
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
        run(self, parents, &[path.into()], false).await
    }
}
