//! Planning a flush: from the change sets of every table to batches placed in waves.
//!
//! ```text
//! collected tables ─► wait for borrowed entities ─► cascade persist: instances attached to
//! relations that nothing manages join as INSERTs (and what they attach, in turn)
//! ─► waves: a new row whose foreign key waits for the key the database generates for another
//! new row goes one wave after it ─► per table, batches by (wave, column set); the commit order
//! of the tables; many-to-many membership changes as pivot rows
//! ```
//!
//! Wave 0 holds every row that waits for nothing; with no relation (or only managed targets)
//! a flush has one wave, as before relations.

use super::change_set::{ChangeSet, Link, PivotChange};
use super::computer::{self, Collected};
use super::write_back::TypedPlan;
use super::{AnyTable, commit_order};
use crate::entity::{Entity, Key};
use crate::error::{Error, Result};
use crate::identity_map::Table;
use crate::managed::{ErasedHandle, Managed};
use crate::metadata::EntityMeta;
use crate::relation::Member;
use crate::value::{ColumnType, FieldType, Value};
use std::any::TypeId;
use std::collections::{HashMap, HashSet};

/// The rows one INSERT group returned: per row, the values of its returning columns.
pub(crate) type ReturnedRows = Vec<Vec<Value>>;

/// A value of a statement that is known, or that is the key of an instance this flush inserts
/// (known once its wave ran).
#[derive(Clone)]
pub(crate) enum Cell {
    Known(Value),
    KeyOf(usize),
}

/// A value of a row that waits for another row's key: row, position in the row, instance.
#[derive(Clone, Copy)]
pub(crate) struct Pending {
    pub(crate) row: usize,
    pub(crate) at: usize,
    pub(crate) target: usize,
}

pub(crate) struct InsertGroup {
    /// The wave the rows go in.
    pub(crate) wave: usize,
    pub(crate) columns: Vec<usize>,
    pub(crate) rows: Vec<Vec<Value>>,
    pub(crate) returning: Vec<usize>,
    /// Number of rows (kept when `rows` moves into a statement).
    pub(crate) len: usize,
    /// Each row's instance (by address), to record the key its INSERT gives it.
    pub(crate) addrs: Vec<usize>,
    /// The position of the primary key in `returning` (a generated key) — or `None` when the
    /// rows carry their keys.
    pub(crate) key_returned_at: Option<usize>,
    /// The key of each row when the rows carry them (in `rows`, at this position).
    pub(crate) key_at: Option<usize>,
    /// Values to fill in from other rows' keys before the rows are sent.
    pub(crate) pending: Vec<Pending>,
}

pub(crate) struct UpdateGroup {
    pub(crate) columns: Vec<usize>,
    pub(crate) rows: Vec<crate::dialect::UpdateRow>,
    pub(crate) versioned: bool,
    /// Number of rows (kept when `rows` moves into a statement).
    pub(crate) len: usize,
    /// The keys of the group's rows, kept when the rows move into the statements, to name
    /// the rows that were not updated.
    pub(crate) keys: Vec<Value>,
    /// Values (in `UpdateRow::values`) to fill in from new rows' keys.
    pub(crate) pending: Vec<Pending>,
}

/// The pivot rows one many-to-many relation writes.
pub(crate) struct PivotOps {
    pub(crate) table: String,
    pub(crate) owner_column: String,
    pub(crate) owner_type: ColumnType,
    pub(crate) target_column: String,
    pub(crate) target_type: ColumnType,
    /// Owners whose every pivot row goes (`set` on an unloaded collection).
    pub(crate) clear_owners: Vec<Cell>,
    /// Pairs to delete.
    pub(crate) delete: Vec<(Cell, Cell)>,
    /// Pairs to insert.
    pub(crate) insert: Vec<(Cell, Cell)>,
}

/// A nullable foreign key of a new row that broke a cycle: set by an UPDATE once both rows
/// are inserted.
pub(crate) struct Fixup {
    pub(crate) column: usize,
    /// The row's key.
    pub(crate) row: Cell,
    /// The foreign key's value.
    pub(crate) value: Cell,
}

/// The batches of one table.
pub(crate) struct TablePlan {
    pub(crate) meta: &'static EntityMeta,
    pub(crate) inserts: Vec<InsertGroup>,
    pub(crate) updates: Vec<UpdateGroup>,
    pub(crate) fixups: Vec<Fixup>,
    pub(crate) pivots: Vec<PivotOps>,
    pub(crate) deletes: Vec<Value>,
    /// The number of keys in `deletes` (kept when the keys move into a statement).
    pub(crate) delete_count: usize,
    /// The key of a lone delete, kept to name it should its row be gone.
    pub(crate) lone_delete: Option<Value>,
    /// Makes the table in the identity map (a table only cascade persist reached).
    pub(crate) new_table: fn() -> Box<dyn AnyTable>,
    /// The typed change sets, for writing back and applying.
    pub(crate) typed: Box<dyn super::write_back::TypedWork>,
}

/// What the flush knows of the rows it inserts, across tables, once the change sets are
/// complete.
pub(crate) struct Graph {
    /// The wave of each new row, by instance address.
    pub(crate) waves: HashMap<usize, usize>,
    /// The keys known before anything is sent (application-generated ones), by address.
    pub(crate) known_keys: HashMap<usize, Value>,
    /// Nullable foreign keys that break a cycle of new rows (row, target): the row is inserted
    /// with NULL there, and one UPDATE sets the key once the target is inserted.
    pub(crate) deferred: HashSet<(usize, usize)>,
}

/// A new row a table inserts: its address, its key when known, and the rows its foreign keys
/// wait for (with whether the foreign key is nullable).
pub(crate) type NewRow = (usize, Option<Value>, Vec<(usize, bool)>);

/// A new row as the graph sees it: its key when known, the rows it waits for (with whether the
/// foreign key is nullable), and its entity's name for messages.
type Node = (Option<Value>, Vec<(usize, bool)>, &'static str);

/// One table's change sets between collecting and planning, type-erased.
pub(crate) trait PendingTable: Send {
    fn entity_type(&self) -> TypeId;
    fn entity_name(&self) -> &'static str;
    /// True when the entity has relations (only then can rows wait for each other).
    fn has_relations(&self) -> bool;
    /// Waits for borrowed entities and computes their change sets.
    fn compute(&mut self) -> Result<()>;
    /// Takes the instances attached to cascading relations seen so far.
    fn take_attached(&mut self) -> Vec<ErasedHandle>;
    /// Takes the instances dropped from collections with orphan removal seen so far.
    fn take_orphans(&mut self) -> Vec<ErasedHandle>;
    /// Adds the DELETE of a managed instance (an orphan).
    fn delete(&mut self, handle: &ErasedHandle) -> Result<()>;
    /// Adds the INSERT of an instance that cascade persist reached.
    fn cascade(&mut self, handle: &ErasedHandle) -> Result<()>;
    /// The instances this table inserts: address, key when known, and the addresses their
    /// foreign keys wait for (with whether the foreign key is nullable).
    fn inserting(&self) -> Vec<NewRow>;
    /// The table's batches; `None` when it writes nothing.
    fn plan(self: Box<Self>, graph: &Graph) -> Result<Option<TablePlan>>;
}

impl<T: Entity> PendingTable for Collected<T> {
    fn entity_type(&self) -> TypeId {
        TypeId::of::<T>()
    }

    fn entity_name(&self) -> &'static str {
        T::meta().name
    }

    fn has_relations(&self) -> bool {
        !T::meta().relations.is_empty()
    }

    fn compute(&mut self) -> Result<()> {
        computer::compute(self)
    }

    fn take_attached(&mut self) -> Vec<ErasedHandle> {
        std::mem::take(&mut self.scan.attached)
    }

    fn take_orphans(&mut self) -> Vec<ErasedHandle> {
        std::mem::take(&mut self.scan.orphans)
    }

    fn delete(&mut self, handle: &ErasedHandle) -> Result<()> {
        let handle: Managed<T> =
            handle.downcast().expect("an instance is deleted from the table of its type");
        let key = handle.read_for("remove the orphan", None)?.key();
        if let Err(at) = self.deletes.binary_search(&key) {
            self.deletes.insert(at, key);
        }
        // Forget the deleted rows one by one: they carry no removal mark.
        self.removal_marks = u64::MAX;
        Ok(())
    }

    fn cascade(&mut self, handle: &ErasedHandle) -> Result<()> {
        let handle: Managed<T> =
            handle.downcast().expect("an instance is cascaded to the table of its type");
        computer::cascade(self, &handle)
    }

    fn inserting(&self) -> Vec<NewRow> {
        let columns = T::meta().columns;
        self.sets
            .iter()
            .filter_map(|cs| match cs {
                ChangeSet::Insert { handle, state, links, .. } => {
                    let key = state.key();
                    let key = (!key.is_unset()).then(|| key.to_value());
                    let waits = links
                        .iter()
                        .map(|l| (l.target.addr(), columns[l.column].nullable))
                        .collect();
                    Some((handle.addr(), key, waits))
                }
                ChangeSet::Update { .. } => None,
            })
            .collect()
    }

    fn plan(self: Box<Self>, graph: &Graph) -> Result<Option<TablePlan>> {
        plan_table(*self, graph)
    }
}

/// The erased parts of a table that only cascade persist reaches.
pub(crate) fn new_pending<T: Entity>() -> Box<dyn PendingTable> {
    Box::new(computer::empty::<T>())
}

pub(crate) fn new_table<T: Entity>() -> Box<dyn AnyTable> {
    Box::new(Table::<T>::default())
}

/// The flush's tables, from collecting to the plan.
pub(crate) struct Planner {
    pub(crate) generation: u64,
    pub(crate) tables: Vec<Box<dyn PendingTable>>,
}

impl Planner {
    /// Completes the change sets (borrowed entities, cascade persist), places new rows in waves
    /// and batches every table. `tracked` tells whether the unit of work already manages (or
    /// will insert) an instance; it locks the unit of work, never an entity. `None` when nothing
    /// is written.
    pub(crate) fn plan(
        mut self,
        tracked: impl Fn(&ErasedHandle) -> bool,
    ) -> Result<Option<super::FlushPlan>> {
        for table in &mut self.tables {
            table.compute()?;
        }
        let relations = self.tables.iter().any(|t| t.has_relations());
        let graph = if relations {
            self.cascade(&tracked)?;
            self.orphans()?;
            self.graph()?
        } else {
            // No relation: no row waits for another, one wave.
            Graph { waves: HashMap::new(), known_keys: HashMap::new(), deferred: HashSet::new() }
        };
        let mut plans = Vec::new();
        for table in self.tables {
            let id = table.entity_type();
            if let Some(plan) = table.plan(&graph)? {
                plans.push((id, plan));
            }
        }
        if plans.is_empty() {
            return Ok(None);
        }
        let order = table_order(&plans)?;
        let mut slots: Vec<Option<(TypeId, TablePlan)>> = plans.into_iter().map(Some).collect();
        let tables = order.into_iter().filter_map(|i| slots[i].take()).collect();
        let waves = graph.waves.values().copied().max().unwrap_or(0) + 1;
        Ok(Some(super::FlushPlan { generation: self.generation, tables, waves, relations }))
    }

    /// Inserts the instances attached to cascading relations that nothing manages, and what
    /// they attach in turn. An instance whose row exists (another EntityManager loaded or
    /// inserted it) is referenced by its key, not inserted again.
    fn cascade(&mut self, tracked: &impl Fn(&ErasedHandle) -> bool) -> Result<()> {
        let mut seen: HashSet<usize> = self
            .tables
            .iter()
            .flat_map(|t| t.inserting().into_iter().map(|(addr, _, _)| addr))
            .collect();
        let mut work: Vec<ErasedHandle> =
            self.tables.iter_mut().flat_map(|t| t.take_attached()).collect();
        while let Some(handle) = work.pop() {
            if !seen.insert(handle.addr()) || tracked(&handle) || handle.is_stored() {
                continue;
            }
            let id = handle.entity_type();
            let index = match self.tables.iter().position(|t| t.entity_type() == id) {
                Some(i) => i,
                None => {
                    self.tables.push(handle.new_pending());
                    self.tables.len() - 1
                }
            };
            let table = &mut self.tables[index];
            table.cascade(&handle)?;
            work.extend(table.take_attached());
        }
        Ok(())
    }

    /// Deletes the instances dropped from collections with orphan removal.
    fn orphans(&mut self) -> Result<()> {
        let orphans: Vec<ErasedHandle> =
            self.tables.iter_mut().flat_map(|t| t.take_orphans()).collect();
        for handle in orphans {
            let id = handle.entity_type();
            let index = match self.tables.iter().position(|t| t.entity_type() == id) {
                Some(i) => i,
                None => {
                    self.tables.push(handle.new_pending());
                    self.tables.len() - 1
                }
            };
            self.tables[index].delete(&handle)?;
        }
        Ok(())
    }

    /// The wave of every new row: 0 when it waits for nothing, else one more than the latest
    /// row whose database-generated key it needs. New rows that refer to each other in a cycle
    /// are ordered without their nullable foreign keys, which are set by an UPDATE afterwards
    /// (MikroORM's extra updates); a cycle without one is an error naming the entities.
    fn graph(&self) -> Result<Graph> {
        let mut rows: HashMap<usize, Node> = HashMap::new();
        for table in &self.tables {
            let name = table.entity_name();
            for (addr, key, waits) in table.inserting() {
                rows.insert(addr, (key, waits, name));
            }
        }
        let known_keys: HashMap<usize, Value> =
            rows.iter().filter_map(|(a, (k, _, _))| k.clone().map(|k| (*a, k))).collect();
        match place(&rows, &known_keys, false) {
            Ok(waves) => Ok(Graph { waves, known_keys, deferred: HashSet::new() }),
            Err(_) => {
                let waves = place(&rows, &known_keys, true)?;
                let deferred = rows
                    .iter()
                    .flat_map(|(addr, (_, waits, _))| {
                        waits
                            .iter()
                            .filter(|(t, nullable)| *nullable && rows.contains_key(t))
                            .map(move |(t, _)| (*addr, *t))
                    })
                    .collect();
                Ok(Graph { waves, known_keys, deferred })
            }
        }
    }
}

/// The commit order of the tables: by every foreign key, or, when the tables refer to each
/// other in a cycle, by their NOT NULL ones (rows whose nullable foreign key closes the cycle
/// get it by an UPDATE after both are inserted), or, when even those form a cycle, the order
/// the tables were first used in: the new rows do not form one (the waves would have said
/// so), so no row of this flush waits for another across it.
fn table_order(plans: &[(TypeId, TablePlan)]) -> Result<Vec<usize>> {
    let order_by = |references: &dyn Fn(&EntityMeta) -> Vec<&'static str>| {
        let referenced: Vec<Vec<&str>> = plans.iter().map(|(_, p)| references(p.meta)).collect();
        let names: Vec<(&str, &[&str])> = plans
            .iter()
            .zip(&referenced)
            .map(|((_, p), refs)| (p.meta.table, refs.as_slice()))
            .collect();
        commit_order::commit_order(&names)
    };
    order_by(&|m: &EntityMeta| m.referenced_tables())
        .or_else(|_| order_by(&|m: &EntityMeta| m.required_references()))
        .or_else(|_| Ok((0..plans.len()).collect()))
}

/// Places new rows in waves (iterative depth-first); `skip_nullable` leaves out the nullable
/// foreign keys between new rows. A row met again while being placed is a cycle: an error
/// naming the entities in it.
fn place(
    rows: &HashMap<usize, Node>,
    known_keys: &HashMap<usize, Value>,
    skip_nullable: bool,
) -> Result<HashMap<usize, usize>> {
    let mut waves: HashMap<usize, usize> = HashMap::with_capacity(rows.len());
    let mut placing: Vec<usize> = Vec::new();
    let edges = |addr: usize| {
        rows.get(&addr).into_iter().flat_map(move |(_, waits, _)| {
            waits
                .iter()
                .filter(move |(t, nullable)| rows.contains_key(t) && !(skip_nullable && *nullable))
                .map(|(t, _)| *t)
        })
    };
    for &start in rows.keys() {
        let mut stack = vec![(start, false)];
        while let Some((addr, expanded)) = stack.pop() {
            if waves.contains_key(&addr) {
                continue;
            }
            if expanded {
                let wave = edges(addr)
                    .map(|t| {
                        let w = waves.get(&t).copied().unwrap_or(0);
                        // A key the application set is known at once: same wave, earlier table
                        // (the commit order); a generated one, the next wave.
                        if known_keys.contains_key(&t) { w } else { w + 1 }
                    })
                    .max()
                    .unwrap_or(0);
                placing.retain(|a| *a != addr);
                waves.insert(addr, wave);
                continue;
            }
            placing.push(addr);
            stack.push((addr, true));
            for t in edges(addr) {
                if waves.contains_key(&t) {
                    continue;
                }
                if placing.contains(&t) {
                    let mut names: Vec<&str> =
                        placing.iter().filter_map(|a| rows.get(a).map(|r| r.2)).collect();
                    names.sort_unstable();
                    names.dedup();
                    return Err(Error::usage(format!(
                        "cannot order the flush: new {} entities refer to each other in a cycle \
                         of foreign keys none of which is nullable; flush one of them first, or \
                         make one of the relations optional",
                        names.join(", ")
                    )));
                }
                stack.push((t, false));
            }
        }
    }
    Ok(waves)
}

/// A foreign key's value now, or the instance whose key it waits for.
fn link_cell(link: &Link, graph: &Graph) -> Result<Cell> {
    let addr = link.target.addr();
    if graph.waves.contains_key(&addr) {
        return Ok(match graph.known_keys.get(&addr) {
            Some(key) => Cell::Known(key.clone()),
            None => Cell::KeyOf(addr),
        });
    }
    match link.target.key_value()? {
        Some(key) => Ok(Cell::Known(key)),
        None => Err(Error::usage(format!(
            "a relation refers to a new {} that is not persisted and not reached by cascade \
             persist: persist it (em.persist) before flushing",
            link.target.meta().name
        ))),
    }
}

fn plan_table<T: Entity>(collected: Collected<T>, graph: &Graph) -> Result<Option<TablePlan>> {
    let Collected { sets, deletes, removed_keys, removal_marks, scan, .. } = collected;
    let meta = T::meta();
    if sets.is_empty() && deletes.is_empty() && scan.pivots.is_empty() {
        return Ok(None);
    }
    let versioned = meta.version_column().is_some();
    let wave_of = |cs: &ChangeSet<T>| match cs {
        ChangeSet::Insert { handle, .. } => graph.waves.get(&handle.addr()).copied().unwrap_or(0),
        ChangeSet::Update { .. } => 0,
    };
    let (inserts, updates) = computer::group(sets, wave_of);
    let pk = meta.primary_key;

    let mut insert_groups = Vec::with_capacity(inserts.len());
    let mut typed_inserts = Vec::with_capacity(inserts.len());
    let mut fixups = Vec::new();
    for group in inserts {
        let wave = wave_of(&group[0]);
        let columns = group[0].columns().to_vec();
        let returning = computer::returning_columns(meta, &columns);
        let len = group.len();
        let mut rows = Vec::with_capacity(len);
        let mut typed = Vec::with_capacity(len);
        let mut addrs = Vec::with_capacity(len);
        let mut pending = Vec::new();
        for cs in group {
            let ChangeSet::Insert { handle, state, links, cascaded, .. } = cs else { continue };
            let mut row: Vec<Value> = columns.iter().map(|&c| state.column_value(c)).collect();
            for link in &links {
                let Some(at) = columns.iter().position(|&c| c == link.column) else { continue };
                if graph.deferred.contains(&(handle.addr(), link.target.addr())) {
                    // Inserted NULL; set once both rows exist.
                    row[at] = Value::Null;
                    let own = match graph.known_keys.get(&handle.addr()) {
                        Some(k) => Cell::Known(k.clone()),
                        None => Cell::KeyOf(handle.addr()),
                    };
                    fixups.push(Fixup {
                        column: link.column,
                        row: own,
                        value: link_cell(link, graph)?,
                    });
                    continue;
                }
                match link_cell(link, graph)? {
                    Cell::Known(v) => row[at] = v,
                    Cell::KeyOf(target) => pending.push(Pending { row: rows.len(), at, target }),
                }
            }
            addrs.push(handle.addr());
            rows.push(row);
            typed.push((handle, state, cascaded));
        }
        insert_groups.push(InsertGroup {
            wave,
            key_returned_at: returning.iter().position(|&c| c == pk),
            key_at: columns.iter().position(|&c| c == pk),
            columns,
            rows,
            returning: returning.clone(),
            len,
            addrs,
            pending,
        });
        typed_inserts.push((typed, returning));
    }

    let mut update_groups = Vec::with_capacity(updates.len());
    let mut typed_updates = Vec::new();
    for group in updates {
        let columns = group[0].columns().to_vec();
        let len = group.len();
        let mut rows = Vec::with_capacity(len);
        let mut pending = Vec::new();
        for cs in group {
            let ChangeSet::Update { handle, key, state, old_version, links, .. } = cs else {
                continue;
            };
            // Room for the key and the old version, which the statement adds to the row.
            let mut values = Vec::with_capacity(columns.len() + 2);
            values.extend(columns.iter().map(|&c| state.column_value(c)));
            for link in &links {
                let Some(at) = columns.iter().position(|&c| c == link.column) else { continue };
                match link_cell(link, graph)? {
                    Cell::Known(v) => values[at] = v,
                    Cell::KeyOf(target) => pending.push(Pending { row: rows.len(), at, target }),
                }
            }
            rows.push(crate::dialect::UpdateRow {
                key: key.to_value(),
                values,
                version: old_version.clone(),
            });
            typed_updates.push((handle, key, state, old_version));
        }
        update_groups.push(UpdateGroup {
            columns,
            rows,
            versioned,
            len,
            keys: Vec::new(),
            pending,
        });
    }

    let pivots = pivot_ops::<T>(&scan.pivots, graph)?;
    let scan = scan;
    let delete_keys: Vec<Value> = deletes.iter().map(FieldType::to_value).collect();
    Ok(Some(TablePlan {
        meta,
        inserts: insert_groups,
        updates: update_groups,
        fixups,
        pivots,
        delete_count: delete_keys.len(),
        lone_delete: None,
        deletes: delete_keys,
        new_table: new_table::<T>,
        typed: Box::new(TypedPlan {
            inserts: typed_inserts,
            updates: typed_updates,
            deletes,
            removed_keys,
            removal_marks,
            touched: touched_owners(scan.touched, scan.pivots),
        }),
    }))
}

/// Each owner whose collections changed, with the changes of each of its relations.
fn touched_owners<T: Entity>(
    owners: Vec<Managed<T>>,
    pivots: Vec<PivotChange>,
) -> Vec<super::write_back::Touched<T>> {
    let mut by_owner: HashMap<usize, Vec<(usize, crate::relation::MembershipChanges)>> =
        HashMap::new();
    for change in pivots {
        by_owner.entry(change.owner).or_default().push((change.relation, change.changes));
    }
    owners
        .into_iter()
        .map(|h| {
            let changes = by_owner.remove(&h.addr()).unwrap_or_default();
            (h, changes)
        })
        .collect()
}

/// The pivot rows of the owned many-to-many collections of one table.
fn pivot_ops<T: Entity>(changes: &[PivotChange], graph: &Graph) -> Result<Vec<PivotOps>> {
    let meta = T::meta();
    let mut by_relation: Vec<PivotOps> = Vec::new();
    let mut index_of: HashMap<usize, usize> = HashMap::new();
    for change in changes {
        let relation = &meta.relations[change.relation];
        let Some(names) = relation.pivot(meta) else { continue };
        let at = *index_of.entry(change.relation).or_insert_with(|| {
            by_relation.push(PivotOps {
                table: names.table.clone(),
                owner_column: names.owner_column.clone(),
                owner_type: meta.pk().ty,
                target_column: names.target_column.clone(),
                target_type: relation.target().pk().ty,
                clear_owners: Vec::new(),
                delete: Vec::new(),
                insert: Vec::new(),
            });
            by_relation.len() - 1
        });
        let ops = &mut by_relation[at];
        let owner = match (&change.owner_key, graph.known_keys.get(&change.owner)) {
            (Some(k), _) | (None, Some(k)) => Cell::Known(k.clone()),
            (None, None) => Cell::KeyOf(change.owner),
        };
        if change.changes.replace_all {
            ops.clear_owners.push(owner.clone());
        }
        for key in &change.changes.removed {
            ops.delete.push((owner.clone(), Cell::Known(key.clone())));
        }
        for member in &change.changes.added {
            let target = match member {
                Member::Key(k) => Cell::Known(k.clone()),
                Member::New(h) => match graph.known_keys.get(&h.addr()) {
                    Some(k) => Cell::Known(k.clone()),
                    None if graph.waves.contains_key(&h.addr()) => Cell::KeyOf(h.addr()),
                    None => match h.key_value()? {
                        Some(k) => Cell::Known(k),
                        None => {
                            return Err(Error::usage(format!(
                                "{}.{} holds a new {} that is not persisted and not reached by \
                                 cascade persist: persist it before flushing",
                                meta.name,
                                relation.field,
                                h.meta().name
                            )));
                        }
                    },
                },
            };
            ops.insert.push((owner.clone(), target));
        }
    }
    Ok(by_relation)
}

/// Whether the unit of work manages `handle` or inserts it at this flush already.
pub(crate) fn tracks<T: Entity>(table: &Table<T>, handle: &Managed<T>) -> bool {
    if table.is_new(handle) {
        return true;
    }
    match handle.try_key(std::time::Duration::ZERO) {
        Some(key) if !key.is_unset() => table.get(&key).is_some_and(|h| Managed::ptr_eq(h, handle)),
        _ => false,
    }
}
