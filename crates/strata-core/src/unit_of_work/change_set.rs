//! Change sets: what one flush does to one entity. Deletes need only keys and have none.

use crate::entity::Entity;
use crate::managed::Managed;
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
    },
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
