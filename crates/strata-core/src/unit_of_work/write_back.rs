//! After the commit: what the database generated goes into the live instances (keys, defaults,
//! versions, the keys of new targets in references and collections), then the identity map
//! records what the flush wrote.
//!
//! Writing back locks entities one at a time, with the unit of work unlocked; recording locks
//! the unit of work and no entity. Inside a transaction, every value written back is journaled
//! so that a rollback can put it back.

use super::Undo;
use super::plan::ReturnedRows;
use crate::entity::Entity;
use crate::error::Result;
use crate::identity_map::{FastHash, Table};
use crate::managed::Managed;
use crate::relation::MembershipChanges;
use crate::value::{ColumnType, Value};
use std::any::Any;
use std::collections::{HashMap, HashSet};

/// An updated instance, its key, the state written, and its version before.
pub(crate) type Updated<T> = (Managed<T>, <T as Entity>::Key, T, Option<Value>);

/// Per insert group: each new instance, the state it is inserted with and whether cascade
/// persist reached it; and the columns the group returns.
pub(crate) type Inserted<T> = (Vec<(Managed<T>, T, bool)>, Vec<usize>);

/// An instance whose collections a flush wrote, with the changes of each relation written.
pub(crate) type Touched<T> = (Managed<T>, Vec<(usize, MembershipChanges)>);

/// One table's typed change sets, from planning to applying.
pub(crate) struct TypedPlan<T: Entity> {
    pub(crate) inserts: Vec<Inserted<T>>,
    pub(crate) updates: Vec<Updated<T>>,
    pub(crate) deletes: Vec<T::Key>,
    /// How many of the table's removed-by-key entries this flush covers.
    pub(crate) removed_keys: usize,
    /// The table's removal marks when the flush collected its deletes.
    pub(crate) removal_marks: u64,
    /// Instances whose collections the flush wrote, with what it wrote of each relation.
    pub(crate) touched: Vec<Touched<T>>,
}

/// The steps of a flush on one table's typed change sets, type-erased.
pub(crate) trait TypedWork: Send + Sync {
    /// Writes what the database generated into the live instances. `keys` gives the key of
    /// every instance the flush inserted, by address.
    fn write_back(
        &mut self,
        returned: Vec<ReturnedRows>,
        keys: &HashMap<usize, Value>,
        undo: Option<&mut Vec<Undo>>,
    ) -> Result<()>;
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    /// The keys this flush deletes from the table.
    fn deleted(&self) -> Vec<Value>;
}

impl<T: Entity> TypedWork for TypedPlan<T> {
    fn write_back(
        &mut self,
        returned: Vec<ReturnedRows>,
        keys: &HashMap<usize, Value>,
        mut undo: Option<&mut Vec<Undo>>,
    ) -> Result<()> {
        let meta = T::meta();
        let relations = meta.relations.len();
        let key_of = |addr: usize| keys.get(&addr).cloned();
        let mut first_error = None;
        for ((group, returning), rows) in self.inserts.iter_mut().zip(returned) {
            for ((handle, state, _), row) in group.iter_mut().zip(rows) {
                for (&col, value) in returning.iter().zip(&row) {
                    state.set_column(col, value.clone())?;
                }
                resolve_relations(state, relations, &key_of);
                match handle.write_for("finish the flush of the new", None) {
                    Ok(mut live) => {
                        if let Some(undo) = undo.as_deref_mut() {
                            let before: Vec<(usize, Value)> =
                                returning.iter().map(|&c| (c, live.column_value(c))).collect();
                            undo.push(restore_columns(handle.clone(), before));
                        }
                        for (&col, value) in returning.iter().zip(row) {
                            live.set_column(col, value)?;
                        }
                        resolve_relations(&mut *live, relations, &key_of);
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
        }
        let version = meta.version_column();
        for (handle, key, state, old) in &mut self.updates {
            let next = match (version, old.as_ref().and_then(Value::as_i64)) {
                (Some(v), Some(old)) => Some((v, bump(old, meta.columns[v].ty))),
                _ => None,
            };
            if let Some((v, next)) = &next {
                state.set_column(*v, next.clone())?;
            }
            resolve_relations(state, relations, &key_of);
            if next.is_none() && relations == 0 {
                continue;
            }
            match handle.write_for("finish the flush of", Some(key)) {
                Ok(mut live) => {
                    if let Some((v, next)) = next {
                        if let Some(undo) = undo.as_deref_mut() {
                            undo.push(restore_columns(
                                handle.clone(),
                                vec![(v, live.column_value(v))],
                            ));
                        }
                        live.set_column(v, next)?;
                    }
                    resolve_relations(&mut *live, relations, &key_of);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        for (handle, written) in &self.touched {
            match handle.write_for("finish the flush of", None) {
                Ok(mut live) => {
                    for (relation, changes) in written {
                        if let Some(field) = live.relation_mut(*relation) {
                            field.written(changes, &key_of);
                        }
                    }
                    resolve_relations(&mut *live, relations, &key_of);
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }

    fn deleted(&self) -> Vec<Value> {
        self.deletes.iter().map(crate::value::FieldType::to_value).collect()
    }
}

/// Tells each relation field of `entity` that the flush wrote it: references to instances it
/// inserted get their keys, collections take their membership as written.
fn resolve_relations<T: Entity>(
    entity: &mut T,
    relations: usize,
    keys: &dyn Fn(usize) -> Option<Value>,
) {
    for index in 0..relations {
        if let Some(field) = entity.relation_mut(index) {
            field.flushed(keys);
        }
    }
}

/// An undo entry that sets `columns` of a live instance back to the values they had.
fn restore_columns<T: Entity>(handle: Managed<T>, columns: Vec<(usize, Value)>) -> Undo {
    Box::new(move || {
        // A rollback cannot fail: an instance borrowed for longer than the wait keeps the
        // values of the rolled-back flush, as any other in-memory change would.
        if let Ok(mut live) = handle.write_for("undo a rolled-back flush of", None) {
            for (col, value) in columns {
                let _ = live.set_column(col, value);
            }
        }
    })
}

fn bump(old: i64, ty: ColumnType) -> Value {
    match ty {
        ColumnType::I64 => Value::I64(old + 1),
        ColumnType::I16 => Value::I16(i16::try_from(old + 1).unwrap_or(i16::MAX)),
        _ => Value::I32(i32::try_from(old + 1).unwrap_or(i32::MAX)),
    }
}

/// Records on a table what a committed flush wrote to it: deletes first (an instance removed
/// while its INSERT was under way is marked removed by `inserted`, for the next flush).
pub(crate) fn apply_typed<T: Entity>(table: &mut Table<T>, typed: TypedPlan<T>) {
    table.deleted(&typed.deletes, typed.removed_keys, typed.removal_marks);
    let inserted_rows: usize = typed.inserts.iter().map(|(g, _)| g.len()).sum();
    table.reserve(inserted_rows);
    let mut flushed_new: HashSet<usize, FastHash> =
        HashSet::with_capacity_and_hasher(inserted_rows, FastHash::default());
    for (handle, state, cascaded) in typed.inserts.into_iter().flat_map(|(g, _)| g) {
        flushed_new.insert(handle.addr());
        if cascaded {
            table.inserted_by_cascade(handle, state);
        } else {
            table.inserted(handle, state);
        }
    }
    table.forget_flushed_new(&flushed_new);
    for (handle, key, state, _) in typed.updates {
        table.updated(&handle, &key, state);
    }
}
