//! The change-set computer: compares each managed entity with its snapshot, and groups the
//! resulting change sets into set-based batches by (operation, column set).
//!
//! No entity is ever locked *waiting* while the unit of work is: [`collect`] runs under the
//! unit-of-work lock and only *tries* entity locks. An entity it can lock at once (nearly all)
//! gets its change set there, hooks included; one that is borrowed is deferred with a copy of its
//! snapshot, and [`compute`] — after that lock is released — waits (boundedly) for it.

use super::change_set::{ChangeSet, Link, PivotChange};
use crate::entity::{Entity, Key};
use crate::error::{Error, Result};
use crate::identity_map::Table;
use crate::managed::{ErasedHandle, Managed};
use crate::metadata::{EntityMeta, Generated, RelationKind};
use crate::value::{FieldType, Value};
use std::collections::HashMap;

/// What [`collect`] found in one table.
pub(crate) struct Collected<T: Entity> {
    /// The change sets of the entities that could be locked at once.
    pub(crate) sets: Vec<ChangeSet<T>>,
    /// New instances that were borrowed: their INSERT is computed after the wait.
    pub(crate) deferred_new: Vec<Managed<T>>,
    /// Managed instances that were borrowed, with their key and a copy of their snapshot.
    pub(crate) deferred: Vec<(T::Key, Managed<T>, T)>,
    /// The keys to delete, sorted, each once.
    pub(crate) deletes: Vec<T::Key>,
    /// How many keys of `removed_keys` this flush covers (later ones arrived while it ran).
    pub(crate) removed_keys: usize,
    /// The table's removal marks when collected (see `Table::deleted`).
    pub(crate) removal_marks: u64,
    /// What the relations of the scanned entities hold.
    pub(crate) scan: Scan<T>,
}

/// What the relation fields of the entities of one table hold, for a flush.
pub(crate) struct Scan<T: Entity> {
    /// Instances attached to relations with cascade persist (inserted if nothing manages them).
    pub(crate) attached: Vec<ErasedHandle>,
    /// Membership changes of owned many-to-many collections.
    pub(crate) pivots: Vec<PivotChange>,
    /// Entities whose collections changed, to mark them written after the commit.
    pub(crate) touched: Vec<Managed<T>>,
    /// Instances dropped from one-to-many collections with `orphan_removal`: deleted.
    pub(crate) orphans: Vec<ErasedHandle>,
}

impl<T: Entity> Default for Scan<T> {
    fn default() -> Self {
        Self { attached: Vec::new(), pivots: Vec::new(), touched: Vec::new(), orphans: Vec::new() }
    }
}

/// One table's candidates and, for every entity it can lock at once, its change set; `None`
/// when the table has nothing to write. Never waits for an entity.
pub(crate) fn collect<T: Entity>(table: &Table<T>) -> Result<Option<Collected<T>>> {
    let has_relations = !T::meta().relations.is_empty();
    let mut sets = Vec::with_capacity(table.new_instances().len());
    let mut deferred_new = Vec::new();
    let mut deferred = Vec::new();
    let mut deletes = Vec::new();
    let mut scan = Scan::default();
    for handle in table.new_instances() {
        match handle.try_write_now() {
            Some(mut entity) => {
                sets.push(insert_set(handle.clone(), &mut entity, false, &mut scan)?);
            }
            None => deferred_new.push(handle.clone()),
        }
    }
    let mut changed = Vec::new();
    for (key, tracked) in table.entries() {
        if tracked.is_removed() {
            deletes.push(key.clone());
            continue;
        }
        // Loaded and never borrowed for writing since: nothing to compare, nothing to lock.
        if tracked.is_clean() {
            continue;
        }
        let handle = tracked.handle();
        // One lock for comparing and for the hooks: nothing changes in between.
        match handle.try_write_now() {
            Some(mut entity) => {
                let Some(baseline) = tracked.baseline() else { continue };
                if has_relations {
                    scan_relations(&*entity, handle, Some(key), &mut scan);
                }
                changed.clear();
                entity.changed_columns(&baseline, &mut changed);
                if changed.is_empty() {
                    continue;
                }
                let known = std::mem::take(&mut changed);
                if let Some(set) = update_set(key, handle, &mut entity, &baseline, Some(known))? {
                    sets.push(set);
                }
            }
            None => {
                // Borrowed for writing elsewhere, so no longer clean: its baseline is kept.
                if let Some(baseline) = tracked.baseline() {
                    deferred.push((key.clone(), handle.clone(), (*baseline).clone()));
                }
            }
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
    let nothing = sets.is_empty()
        && deferred_new.is_empty()
        && deferred.is_empty()
        && deletes.is_empty()
        && scan.pivots.is_empty()
        && scan.attached.is_empty()
        && scan.orphans.is_empty();
    if nothing {
        return Ok(None);
    }
    Ok(Some(Collected {
        sets,
        deferred_new,
        deferred,
        deletes,
        removed_keys: table.removed_keys().len(),
        removal_marks: table.removal_marks(),
        scan,
    }))
}

/// Waits (at most [`crate::managed::BORROW_WAIT`] each) for the deferred entities and adds
/// their change sets.
pub(crate) fn compute<T: Entity>(collected: &mut Collected<T>) -> Result<()> {
    for handle in std::mem::take(&mut collected.deferred_new) {
        let mut entity = handle.write_for("flush the new", None)?;
        let set = insert_set(handle.clone(), &mut entity, false, &mut collected.scan)?;
        drop(entity);
        collected.sets.push(set);
    }
    for (key, handle, snapshot) in std::mem::take(&mut collected.deferred) {
        let mut entity = handle.write_for("flush", Some(&key))?;
        if !T::meta().relations.is_empty() {
            scan_relations(&*entity, &handle, Some(&key), &mut collected.scan);
        }
        let set = update_set(&key, &handle, &mut entity, &snapshot, None)?;
        drop(entity);
        collected.sets.extend(set);
    }
    Ok(())
}

/// Adds the INSERT of an instance that cascade persist reached.
pub(crate) fn cascade<T: Entity>(collected: &mut Collected<T>, handle: &Managed<T>) -> Result<()> {
    let mut entity = handle.write_for("flush the new", None)?;
    let set = insert_set(handle.clone(), &mut entity, true, &mut collected.scan)?;
    drop(entity);
    collected.sets.push(set);
    Ok(())
}

/// An empty collection of change sets, for a table that only cascade persist reaches.
pub(crate) fn empty<T: Entity>() -> Collected<T> {
    Collected {
        sets: Vec::new(),
        deferred_new: Vec::new(),
        deferred: Vec::new(),
        deletes: Vec::new(),
        removed_keys: 0,
        removal_marks: 0,
        scan: Scan::default(),
    }
}

/// Notes what the relation fields of `entity` hold: attached instances to cascade to, and the
/// membership changes of owned many-to-many collections. `key`: the entity's key, if it has
/// one.
fn scan_relations<T: Entity>(
    entity: &T,
    handle: &Managed<T>,
    key: Option<&T::Key>,
    scan: &mut Scan<T>,
) {
    let mut touched = false;
    for (index, relation) in T::meta().relations.iter().enumerate() {
        let Some(field) = entity.relation(index) else { continue };
        if relation.cascade.persist {
            if relation.is_to_one() {
                scan.attached.extend(field.attached_target());
            } else {
                scan.attached.extend(field.attached_items());
            }
        }
        let owned_pivot = relation.kind == RelationKind::ManyToMany && relation.is_owner();
        let orphaning = relation.kind == RelationKind::OneToMany && relation.orphan_removal;
        if orphaning {
            scan.orphans.extend(field.orphans());
        }
        if (owned_pivot || orphaning)
            && let Some(changes) = field.membership_changes()
        {
            scan.pivots.push(PivotChange {
                relation: index,
                owner_key: key.filter(|k| !k.is_unset()).map(FieldType::to_value),
                owner: handle.addr(),
                changes,
            });
            touched = true;
        }
    }
    if touched {
        scan.touched.push(handle.clone());
    }
}

/// The foreign keys among `columns` whose relation holds an attached instance.
fn links<T: Entity>(entity: &T, columns: &[usize]) -> Vec<Link> {
    let mut out = Vec::new();
    for (index, relation) in T::meta().relations.iter().enumerate() {
        let Some(column) = relation.join_column else { continue };
        if !columns.contains(&column) {
            continue;
        }
        if let Some(target) = entity.relation(index).and_then(|f| f.attached_target()) {
            out.push(Link { column, target });
        }
    }
    out
}

/// The INSERT of a new entity: runs `on_create`, generates a UUID key and the first version.
fn insert_set<T: Entity>(
    handle: Managed<T>,
    entity: &mut T,
    cascaded: bool,
    scan: &mut Scan<T>,
) -> Result<ChangeSet<T>> {
    let meta = T::meta();
    entity.on_create();
    if entity.key().is_unset()
        && let Some(k) = <T::Key as Key>::generate()
    {
        entity.set_column(meta.primary_key, k.to_value())?;
    }
    if let Some(v) = meta.version_column()
        && entity.column_value(v).as_i64() == Some(0)
    {
        entity.set_column(v, Value::I32(1))?;
    }
    let state = entity.clone();
    let mut columns = insert_columns(meta, &state);
    let links = if meta.relations.is_empty() {
        Vec::new()
    } else {
        scan_relations(&state, &handle, None, scan);
        // A foreign key waiting for its target's key is written with the row all the same.
        let all: Vec<usize> = (0..meta.columns.len()).collect();
        let links = links(&state, &all);
        for link in &links {
            if !columns.contains(&link.column) {
                columns.push(link.column);
                columns.sort_unstable();
            }
        }
        links
    };
    Ok(ChangeSet::Insert { handle, state, columns, links, cascaded })
}

/// The UPDATE of a managed entity that may have changed; `None` when it did not after all.
/// Runs `on_update` first. `changed`: the columns already found changed, if known.
fn update_set<T: Entity>(
    key: &T::Key,
    handle: &Managed<T>,
    entity: &mut T,
    snapshot: &T,
    changed: Option<Vec<usize>>,
) -> Result<Option<ChangeSet<T>>> {
    let meta = T::meta();
    let pk = meta.primary_key;
    let version = meta.version_column();
    let mut changed = match changed {
        Some(changed) => changed,
        None => {
            let mut changed = Vec::new();
            entity.changed_columns(snapshot, &mut changed);
            changed
        }
    };
    if changed.is_empty() {
        return Ok(None);
    }
    if T::HAS_ON_UPDATE {
        entity.on_update();
        changed.clear();
        entity.changed_columns(snapshot, &mut changed);
    }
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
        return Ok(None);
    }
    let links = if meta.relations.is_empty() { Vec::new() } else { links(entity, &changed) };
    Ok(Some(ChangeSet::Update {
        handle: handle.clone(),
        key: key.clone(),
        state: entity.clone(),
        columns: changed,
        old_version: version.map(|v| snapshot.column_value(v)),
        links,
    }))
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

/// Sorts updates by key. Change sets are large: the keys are sorted with their positions, and
/// each change set then moves once. Keys are unique within a table, so an unstable sort gives
/// the same order, faster.
fn sort_by_key<T: Entity>(group: &mut Vec<ChangeSet<T>>) {
    let mut order: Vec<(T::Key, usize)> = group
        .iter()
        .enumerate()
        .filter_map(|(i, cs)| match cs {
            ChangeSet::Update { key, .. } => Some((key.clone(), i)),
            ChangeSet::Insert { .. } => None,
        })
        .collect();
    if order.len() != group.len() || order.windows(2).all(|w| w[0].0 <= w[1].0) {
        return;
    }
    order.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let mut slots: Vec<Option<ChangeSet<T>>> =
        std::mem::take(group).into_iter().map(Some).collect();
    group.extend(order.into_iter().filter_map(|(_, i)| slots[i].take()));
}

/// Insert groups and update groups.
pub(crate) type Grouped<T> = (Vec<Vec<ChangeSet<T>>>, Vec<Vec<ChangeSet<T>>>);

/// Groups change sets of one kind by column set (inserts also by wave), keeping first-seen
/// order. Updates are sorted by key inside each group, so concurrent flushes lock rows in the
/// same order.
pub(crate) fn group<T: Entity>(
    sets: Vec<ChangeSet<T>>,
    wave_of: impl Fn(&ChangeSet<T>) -> usize,
) -> Grouped<T> {
    let mut inserts: Vec<Vec<ChangeSet<T>>> = Vec::new();
    let mut updates: Vec<Vec<ChangeSet<T>>> = Vec::new();
    let mut insert_idx: HashMap<(usize, Vec<usize>), usize> = HashMap::new();
    let mut update_idx: HashMap<(usize, Vec<usize>), usize> = HashMap::new();
    // The group of the previous change set of each kind: consecutive change sets usually
    // write the same columns, and comparing two short slices is cheaper than hashing.
    let (mut last_insert, mut last_update) = (usize::MAX, usize::MAX);
    for cs in sets {
        let wave = wave_of(&cs);
        let (groups, idx, last) = if cs.is_insert() {
            (&mut inserts, &mut insert_idx, &mut last_insert)
        } else {
            (&mut updates, &mut update_idx, &mut last_update)
        };
        let same_as_last = groups
            .get(*last)
            .is_some_and(|g| g[0].columns() == cs.columns() && wave_of(&g[0]) == wave);
        if !same_as_last {
            let n = groups.len();
            *last = *idx.entry((wave, cs.columns().to_vec())).or_insert(n);
            if *last == n {
                groups.push(Vec::new());
            }
        }
        groups[*last].push(cs);
    }
    for g in &mut updates {
        sort_by_key(g);
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
        relations: &[],
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
        let mut row = (0..META.columns.len()).map(|c| e.column_value(c)).collect();
        table.hydrate_row(&mut row).unwrap()
    }

    /// Both steps of a flush's computation, as a flush runs them: the change sets and the
    /// keys to delete.
    fn computed(table: &Table<Item>) -> Result<(Vec<ChangeSet<Item>>, Vec<i32>)> {
        match collect(table)? {
            Some(mut c) => {
                compute(&mut c)?;
                Ok((c.sets, c.deletes))
            }
            None => Ok((Vec::new(), Vec::new())),
        }
    }

    #[test]
    fn unchanged_entities_produce_no_change_sets() {
        let mut t = Table::<Item>::default();
        let h = loaded(&mut t, &item(1, "a", None));
        h.write().name = "a".into();
        assert!(collect(&t).unwrap().is_none(), "nothing to write: nothing collected");
    }

    #[test]
    fn a_change_lists_exactly_the_changed_columns() {
        let mut t = Table::<Item>::default();
        let h = loaded(&mut t, &item(1, "a", None));
        h.write().note = Some("x".into());
        let sets = computed(&t).unwrap().0;
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
        let collected = collect(&t).unwrap().expect("a borrowed entity is a candidate");
        assert_eq!(collected.deferred.len(), 1);
        assert!(collected.sets.is_empty());
        drop(guard);
        let mut collected = collected;
        compute(&mut collected).unwrap();
        assert!(collected.sets.is_empty(), "it did not change after all");
    }

    #[test]
    fn new_entities_insert_without_unset_identity_keys_or_defaulted_nulls() {
        let mut t = Table::<Item>::default();
        t.track_new(Managed::new(item(0, "a", None)));
        t.track_new(Managed::new(item(0, "b", Some("note"))));
        t.track_new(Managed::new(item(7, "c", Some("note"))));
        let sets = computed(&t).unwrap().0;
        let cols: Vec<_> = sets.iter().map(|s| s.columns().to_vec()).collect();
        assert_eq!(cols, vec![vec![1], vec![1, 2], vec![0, 1, 2]]);
        assert!(sets.iter().all(ChangeSet::is_insert));
        assert_eq!(returning_columns(&META, &[1]), vec![0, 2]);
        let (inserts, updates) = group(sets, |_| 0);
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
        let collected = collect(&t).unwrap().unwrap();
        assert_eq!(collected.removed_keys, 3, "2 is managed: marked, not listed");
        let mut collected = collected;
        compute(&mut collected).unwrap();
        assert!(collected.sets.is_empty(), "deletes make no change sets");
        assert_eq!(collected.deletes, vec![1, 2, 9], "every key once, sorted");
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
        let (_, updates) = group(computed(&t).unwrap().0, |_| 0);
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
