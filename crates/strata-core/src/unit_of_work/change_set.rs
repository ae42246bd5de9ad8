//! Change sets: what one flush does to one entity. Deletes need only keys and have none.

use crate::entity::Entity;
use crate::managed::{ErasedHandle, Managed};
use crate::relation::MembershipChanges;
use crate::value::Value;

/// One entity's pending write, computed against its snapshot.
pub(crate) enum ChangeSet<T: Entity> {
    /// INSERT a new entity.
    Insert {
        /// The live instance; generated values are written back into it.
        handle: Managed<T>,
        /// The state being written: it becomes the snapshot when the flush succeeds.
        state: T,
        /// The columns written.
        columns: Vec<usize>,
        /// Foreign keys whose value is another instance's key.
        links: Vec<Link>,
        /// Reached by cascade persist rather than persisted: managed only once inserted.
        cascaded: bool,
    },
    /// UPDATE the changed columns of a managed entity.
    Update {
        /// The live instance.
        handle: Managed<T>,
        /// The key as the database knows it.
        key: T::Key,
        /// The state being written: it becomes the snapshot when the flush succeeds.
        state: T,
        /// The changed columns.
        columns: Vec<usize>,
        /// The version the row had when loaded (entities with a version column).
        old_version: Option<Value>,
        /// Changed foreign keys whose value is another instance's key.
        links: Vec<Link>,
    },
}

/// A foreign key whose value is the key of an attached instance, perhaps one this flush
/// inserts (its key is then known only once its INSERT returns it).
#[derive(Clone)]
pub(crate) struct Link {
    /// The foreign-key column.
    pub(crate) column: usize,
    /// The instance it refers to.
    pub(crate) target: ErasedHandle,
}

/// The membership changes of one owner's many-to-many relation: pivot rows to write.
pub(crate) struct PivotChange {
    /// The relation's position in the owner's metadata.
    pub(crate) relation: usize,
    /// The owner's key, when it has one.
    pub(crate) owner_key: Option<Value>,
    /// The owner's address (its key comes from its INSERT when it is new).
    pub(crate) owner: usize,
    /// What changed.
    pub(crate) changes: MembershipChanges,
}

impl<T: Entity> ChangeSet<T> {
    /// The columns the change set writes.
    pub(crate) fn columns(&self) -> &[usize] {
        match self {
            Self::Insert { columns, .. } | Self::Update { columns, .. } => columns,
        }
    }

    /// The key of an update (inserts have none yet).
    #[cfg(test)]
    pub(crate) fn key(&self) -> Option<&T::Key> {
        match self {
            Self::Insert { .. } => None,
            Self::Update { key, .. } => Some(key),
        }
    }

    pub(crate) fn is_insert(&self) -> bool {
        matches!(self, Self::Insert { .. })
    }
}
