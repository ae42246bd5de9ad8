//! The change-set computer: compares each managed entity with its snapshot, and groups the
//! resulting change sets into set-based batches by (operation, column set).
//!
//! It runs in two steps so that no entity is ever locked while the unit of work is:
//! [`collect`] runs under the unit-of-work lock and only *tries* entity locks (an entity it
//! cannot read at once is taken along as possibly changed); [`compute`] runs after that lock is
//! released, waits (boundedly) for each entity it must read or change, runs the hooks and builds
//! the change sets.

use super::change_set::ChangeSet;
use crate::entity::{Entity, Key};
use crate::error::{Error, Result};
use crate::identity_map::Table;
use crate::managed::Managed;
use crate::metadata::{EntityMeta, Generated};
use crate::value::{FieldType, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What [`collect`] found in one table: the candidates of a flush.
pub(crate) struct Collected<T: Entity> {
    /// New instances, in persist order.
    pub(crate) new: Vec<Managed<T>>,
    /// Managed instances that changed, or that were borrowed and could not be compared yet,
    /// with their key and snapshot.
    pub(crate) candidates: Vec<(T::Key, Managed<T>, Arc<T>)>,
    /// The keys to delete, sorted, each once.
    pub(crate) deletes: Vec<T::Key>,
    /// How many keys of `removed_keys` this flush covers (later ones arrived while it ran).
    pub(crate) removed_keys: usize,
}

/// The candidates of one table's flush; `None` when the table has nothing to write. Never
/// waits for an entity.
pub(crate) fn collect<T: Entity>(table: &Table<T>) -> Option<Collected<T>> {
    let mut candidates = Vec::new();
    let mut deletes = Vec::new();
    let mut changed = Vec::new();
    for (key, tracked) in table.entries() {
        if tracked.is_removed() {
            deletes.push(key.clone());
            continue;
        }
        let dirty = match tracked.handle().try_read_now() {
            Some(entity) => {
                changed.clear();
                entity.changed_columns(tracked.snapshot(), &mut changed);
                !changed.is_empty()
            }
            None => true,
        };
        if dirty {
            candidates.push((
                key.clone(),
                tracked.handle().clone(),
                Arc::clone(tracked.snapshot()),
            ));
        }
    }
    for key in table.removed_keys() {
        if !table.contains(key) {
            deletes.push(key.clone());
        }
    }
    // Sorted, so concurrent flushes lock rows in the same order; each key once, so that the
    // number of rows deleted tells whether every row still existed.
    deletes.sort_unstable();
    deletes.dedup();
    if table.new_instances().is_empty() && candidates.is_empty() && deletes.is_empty() {
        return None;
    }
    Some(Collected {
        new: table.new_instances().to_vec(),
        candidates,
        deletes,
        removed_keys: table.removed_keys().len(),
    })
}

/// What one table's flush does: insert and update change sets, and the keys to delete.
pub(crate) struct Computed<T: Entity> {
    pub(crate) sets: Vec<ChangeSet<T>>,
    /// Deletes need only their keys: kept apart, they cost no change set each.
    pub(crate) deletes: Vec<T::Key>,
}

/// The change sets of collected candidates. Runs the `on_create`/`on_update` hooks and assigns
/// generated UUID keys and initial versions on the live instances (they are pending changes
/// either way). Waits at most [`crate::managed::BORROW_WAIT`] for each borrowed entity.
pub(crate) fn compute<T: Entity>(collected: Collected<T>) -> Result<Computed<T>> {
    let meta = T::meta();
    let pk = meta.primary_key;
    let version = meta.version_column();
    let mut out = Vec::with_capacity(collected.new.len() + collected.candidates.len());

    for handle in collected.new {
        let mut entity = handle.write_for("flush the new", None)?;
        entity.on_create();
        let key = entity.key();
        if key.is_unset()
            && let Some(k) = <T::Key as Key>::generate()
        {
            entity.set_column(pk, k.to_value())?;
        }
        if let Some(v) = version
            && entity.column_value(v).as_i64() == Some(0)
        {
            entity.set_column(v, Value::I32(1))?;
        }
        let state = entity.clone();
        drop(entity);
        let columns = insert_columns(meta, &state);
        out.push(ChangeSet::Insert { handle, state, columns });
    }

    let mut changed = Vec::new();
    for (key, handle, snapshot) in collected.candidates {
        let mut entity = handle.write_for("flush", Some(&key))?;
        changed.clear();
        entity.changed_columns(&snapshot, &mut changed);
        if changed.is_empty() {
            continue;
        }
        entity.on_update();
        changed.clear();
        entity.changed_columns(&snapshot, &mut changed);
        if changed.contains(&pk) {
            return Err(Error::usage(format!(
                "the primary key of a managed {} changed from {key} to {}; keys cannot change: \
                 remove the entity and create a new one",
                meta.name,
                entity.key()
            )));
        }
        // The version column is maintained by the flush, never written from the entity.
        changed.retain(|c| Some(*c) != version);
        if changed.is_empty() {
            continue;
        }
        let state = entity.clone();
        drop(entity);
        let old_version = version.map(|v| snapshot.column_value(v));
        out.push(ChangeSet::Update { handle, key, state, columns: changed.clone(), old_version });
    }
    Ok(Computed { sets: out, deletes: collected.deletes })
}

/// The columns an INSERT writes: all but an unset identity key, and NULLs of columns with a
/// database default (so the default applies and is read back).
fn insert_columns<T: Entity>(meta: &EntityMeta, entity: &T) -> Vec<usize> {
    meta.columns
        .iter()
        .enumerate()
        .filter(|(i, c)| {
            if c.primary_key && c.generated == Generated::Identity {
                return !entity.key().is_unset();
            }
            !(c.default.is_some() && entity.column_value(*i).is_null())
        })
        .map(|(i, _)| i)
        .collect()
}

/// The columns an INSERT must return: the generated key and the defaulted columns it omitted.
pub(crate) fn returning_columns(meta: &EntityMeta, inserted: &[usize]) -> Vec<usize> {
    (0..meta.columns.len()).filter(|i| !inserted.contains(i)).collect()
}

/// Insert groups and update groups.
pub(crate) type Grouped<T> = (Vec<Vec<ChangeSet<T>>>, Vec<Vec<ChangeSet<T>>>);

/// Groups change sets of one kind by column set, keeping first-seen order. Updates are sorted
/// by key inside each group, so concurrent flushes lock rows in the same order.
pub(crate) fn group<T: Entity>(sets: Vec<ChangeSet<T>>) -> Grouped<T> {
    let mut inserts: Vec<Vec<ChangeSet<T>>> = Vec::new();
    let mut updates: Vec<Vec<ChangeSet<T>>> = Vec::new();
    let mut insert_idx: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut update_idx: HashMap<Vec<usize>, usize> = HashMap::new();
    // The group of the previous change set of each kind: consecutive change sets usually
    // write the same columns, and comparing two short slices is cheaper than hashing.
    let (mut last_insert, mut last_update) = (usize::MAX, usize::MAX);
    for cs in sets {
        let (groups, idx, last) = if cs.is_insert() {
            (&mut inserts, &mut insert_idx, &mut last_insert)
        } else {
            (&mut updates, &mut update_idx, &mut last_update)
        };
        let same_as_last = groups.get(*last).is_some_and(|g| g[0].columns() == cs.columns());
        if !same_as_last {
            let n = groups.len();
            *last = *idx.entry(cs.columns().to_vec()).or_insert(n);
            if *last == n {
                groups.push(Vec::new());
            }
        }
        groups[*last].push(cs);
    }
    // Keys are unique within a table, so an unstable sort gives the same order, faster.
    for g in &mut updates {
        g.sort_unstable_by(|a, b| a.key().cmp(&b.key()));
    }
    (inserts, updates)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::managed::Managed;
    use crate::metadata::ColumnMeta;
    use crate::value::ColumnType;

    /// A hand-written entity, so these tests do not depend on the derive macro.
    #[derive(Clone, Debug, PartialEq)]
    struct Item {
        id: i32,
        name: String,
        note: Option<String>,
    }

    const fn col(
        field: &'static str,
        ty: ColumnType,
        pk: bool,
        nullable: bool,
        default: Option<&'static str>,
    ) -> ColumnMeta {
        ColumnMeta {
            field,
            name: field,
            ty,
            nullable,
            default,
            primary_key: pk,
            generated: if pk { Generated::Identity } else { Generated::No },
            unique: false,
            index: false,
            version: false,
            enum_values: None,
            renamed_from: None,
        }
    }

    static COLUMNS: [ColumnMeta; 3] = [
        col("id", ColumnType::I32, true, false, None),
        col("name", ColumnType::Varchar(255), false, false, None),
        col("note", ColumnType::Text, false, true, Some("'n/a'")),
    ];
    static META: EntityMeta = EntityMeta {
        name: "Item",
        table: "item",
        schema: None,
        columns: &COLUMNS,
        primary_key: 0,
        renamed_from: None,
        references: &[],
    };

    impl Entity for Item {
        type Key = i32;
        type Fields = ();
        fn meta() -> &'static EntityMeta {
            &META
        }
        fn fields() {}
        fn key(&self) -> i32 {
            self.id
        }
        fn column_value(&self, index: usize) -> Value {
            match index {
                0 => self.id.to_value(),
                1 => self.name.to_value(),
                _ => self.note.to_value(),
            }
        }
        fn set_column(&mut self, index: usize, value: Value) -> crate::error::Result<()> {
            match index {
                0 => self.id = FieldType::from_value(value)?,
                1 => self.name = FieldType::from_value(value)?,
                _ => self.note = FieldType::from_value(value)?,
            }
            Ok(())
        }
        fn from_values(values: Vec<Value>) -> crate::error::Result<Self> {
            let mut it = values.into_iter();
            let mut next = || it.next().unwrap_or(Value::Null);
            Ok(Item {
                id: FieldType::from_value(next())?,
                name: FieldType::from_value(next())?,
                note: FieldType::from_value(next())?,
            })
        }
        fn changed_columns(&self, s: &Self, out: &mut Vec<usize>) {
            if !self.id.same(&s.id) {
                out.push(0);
            }
            if !self.name.same(&s.name) {
                out.push(1);
            }
            if !self.note.same(&s.note) {
                out.push(2);
            }
        }
    }

    fn item(id: i32, name: &str, note: Option<&str>) -> Item {
        Item { id, name: name.into(), note: note.map(Into::into) }
    }

    /// Loads `e` the way a query does: its row goes through `Table::hydrate_row`.
    fn loaded(table: &mut Table<Item>, e: &Item) -> Managed<Item> {
        let row = (0..META.columns.len()).map(|c| e.column_value(c)).collect();
        table.hydrate_row(row).unwrap()
    }

    /// Both steps of a flush's computation, as a flush runs them.
    fn computed(table: &Table<Item>) -> Result<Computed<Item>> {
        match collect(table) {
            Some(c) => compute(c),
            None => Ok(Computed { sets: Vec::new(), deletes: Vec::new() }),
        }
    }

    #[test]
    fn unchanged_entities_produce_no_change_sets() {
        let mut t = Table::<Item>::default();
        let h = loaded(&mut t, &item(1, "a", None));
        h.write().name = "a".into();
        assert!(collect(&t).is_none(), "nothing to write: nothing collected");
    }

    #[test]
    fn a_change_lists_exactly_the_changed_columns() {
        let mut t = Table::<Item>::default();
        let h = loaded(&mut t, &item(1, "a", None));
        h.write().note = Some("x".into());
        let sets = computed(&t).unwrap().sets;
        assert_eq!(sets.len(), 1);
        assert!(!sets[0].is_insert());
        assert_eq!(sets[0].columns(), [2]);
        assert_eq!(sets[0].key(), Some(&1));
    }

    #[test]
    fn an_entity_borrowed_while_collecting_is_compared_afterwards() {
        let mut t = Table::<Item>::default();
        let h = loaded(&mut t, &item(1, "a", None));
        let guard = h.write();
        let collected = collect(&t).expect("a borrowed entity is a candidate");
        assert_eq!(collected.candidates.len(), 1);
        drop(guard);
        assert!(compute(collected).unwrap().sets.is_empty(), "it did not change after all");
    }

    #[test]
    fn new_entities_insert_without_unset_identity_keys_or_defaulted_nulls() {
        let mut t = Table::<Item>::default();
        t.track_new(Managed::new(item(0, "a", None)));
        t.track_new(Managed::new(item(0, "b", Some("note"))));
        t.track_new(Managed::new(item(7, "c", Some("note"))));
        let sets = computed(&t).unwrap().sets;
        let cols: Vec<_> = sets.iter().map(|s| s.columns().to_vec()).collect();
        assert_eq!(cols, vec![vec![1], vec![1, 2], vec![0, 1, 2]]);
        assert!(sets.iter().all(ChangeSet::is_insert));
        assert_eq!(returning_columns(&META, &[1]), vec![0, 2]);
        let (inserts, updates) = group(sets);
        assert_eq!(inserts.len(), 3, "three column sets, three groups");
        assert!(updates.is_empty());
    }

    #[test]
    fn removed_and_removed_by_key_entities_are_deleted_once_each() {
        let mut t = Table::<Item>::default();
        loaded(&mut t, &item(2, "a", None));
        let h = t.get(&2).unwrap().clone();
        t.schedule_removal(&h, 2).unwrap();
        for key in [9, 1, 9, 2] {
            t.schedule_removal_by_key(key);
        }
        let collected = collect(&t).unwrap();
        assert_eq!(collected.removed_keys, 3, "2 is managed: marked, not listed");
        let computed = compute(collected).unwrap();
        assert!(computed.sets.is_empty(), "deletes make no change sets");
        assert_eq!(computed.deletes, vec![1, 2, 9], "every key once, sorted");
    }

    #[test]
    fn updates_group_by_column_set_and_sort_by_key() {
        let mut t = Table::<Item>::default();
        for id in [5, 3, 4, 1] {
            let h = loaded(&mut t, &item(id, "a", None));
            if id == 4 {
                h.write().note = Some("n".into());
            } else {
                h.write().name = format!("n{id}");
            }
        }
        let (_, updates) = group(computed(&t).unwrap().sets);
        let mut shape: Vec<(Vec<usize>, Vec<Option<i32>>)> = updates
            .iter()
            .map(|g| (g[0].columns().to_vec(), g.iter().map(|c| c.key().copied()).collect()))
            .collect();
        shape.sort();
        assert_eq!(
            shape,
            vec![(vec![1], vec![Some(1), Some(3), Some(5)]), (vec![2], vec![Some(4)])]
        );
    }

    #[test]
    fn changing_a_managed_key_is_an_error() {
        let mut t = Table::<Item>::default();
        let h = loaded(&mut t, &item(1, "a", None));
        h.write().id = 2;
        let err = computed(&t).err().expect("a key change is refused");
        assert_eq!(err.kind(), &crate::ErrorKind::Usage);
    }
}
