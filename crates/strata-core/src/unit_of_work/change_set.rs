//! Change sets: what one flush does to one entity.

use crate::entity::Entity;
use crate::managed::Managed;

/// The operation a change set performs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum ChangeKind {
    /// INSERT a new entity.
    Insert,
    /// UPDATE the changed columns of a managed entity.
    Update,
}

/// One entity's pending change, computed against its snapshot.
pub(crate) struct ChangeSet<T: Entity> {
    pub(crate) kind: ChangeKind,
    /// The instance (absent for a delete by key).
    pub(crate) handle: Option<Managed<T>>,
    /// The key as the database knows it (for updates and deletes).
    pub(crate) key: Option<T::Key>,
    /// The state being written: it becomes the snapshot when the flush succeeds.
    pub(crate) state: Option<T>,
    /// For an insert, the columns written; for an update, the changed columns.
    pub(crate) columns: Vec<usize>,
}
