//! Relations between entities: [`Reference<T>`] (to-one) and [`Collection<T>`] (to-many), the
//! type-erased view of them the unit of work needs, and populate (`populate`), the select-in
//! loading of relations.
//!
//! The metadata of a relation is [`crate::metadata::RelationMeta`]; the derive emits it, and
//! implements [`crate::Entity::relation`] to reach each relation field. The design and its
//! reasons are in `docs/design/relations.md`.
//!
//! Ownership: the identity map owns managed instances; loaded references and collection items
//! hold them weakly, so a `User` ⇄ `posts` graph is freed with its EntityManager. Only an
//! instance no EntityManager manages yet (a new author attached to a new post) is held strongly,
//! until the flush that inserts it.

mod collection;
pub mod populate;
mod reference;
mod serialize;

pub use collection::Collection;
pub use reference::Reference;
pub(crate) use serialize::Visit;

use crate::managed::ErasedHandle;
use crate::value::Value;
use std::any::Any;

/// A relation field as the unit of work sees it, whatever its target type: implemented by
/// `Reference<T>`, `Option<Reference<T>>` and `Collection<T>`; reached through
/// [`crate::Entity::relation`]. Not meant to be implemented elsewhere.
pub trait RelationValue: Send + Sync + 'static {
    /// The field, for typed access.
    fn as_any(&self) -> &dyn Any;
    /// The field, for typed changes.
    fn as_any_mut(&mut self) -> &mut dyn Any;

    /// A to-one's target held strongly (attached): inserted with the entity when it is new,
    /// and the source of the foreign key once it has one.
    #[doc(hidden)]
    fn attached_target(&self) -> Option<ErasedHandle> {
        None
    }

    /// A collection's items held strongly (added instances): inserted with the entity when
    /// they are new.
    #[doc(hidden)]
    fn attached_items(&self) -> Vec<ErasedHandle> {
        Vec::new()
    }

    /// The instances at hand: a loaded reference's target, a loaded collection's items (for
    /// cascade remove).
    #[doc(hidden)]
    fn loaded_targets(&self) -> Vec<ErasedHandle> {
        Vec::new()
    }

    /// A loaded collection's members that were removed from it, with their instances (for
    /// orphan removal).
    #[doc(hidden)]
    fn orphans(&self) -> Vec<ErasedHandle> {
        Vec::new()
    }

    /// Rows with these keys were deleted: a collection forgets them (as members, not as
    /// removals).
    #[doc(hidden)]
    fn forget_deleted(&mut self, _keys: &[Value]) {}

    /// A collection's membership changes since it was loaded or last flushed; `None` when
    /// there are none.
    #[doc(hidden)]
    fn membership_changes(&self) -> Option<MembershipChanges> {
        None
    }

    /// The flush that inserted instances this field refers to committed: `keys` gives their
    /// keys, by address. References to them become loaded (held weakly, as the identity map
    /// now manages them); collection items learn their keys.
    #[doc(hidden)]
    fn flushed(&mut self, _keys: &dyn Fn(usize) -> Option<Value>) {}

    /// A collection's membership changes `written` are in the database now: they count as
    /// its membership (changes made since stay pending).
    #[doc(hidden)]
    fn written(&mut self, _written: &MembershipChanges, _keys: &dyn Fn(usize) -> Option<Value>) {}
}

/// The side a `mapped_by` names on the target of a one-to-many or an inverse one-to-one: a
/// reference to `Owner`. The derive checks `mapped_by` with it, so a wrong name is a compile
/// error.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`mapped_by` must name the target's Reference<{Owner}> field; `{Self}` is not one",
    label = "not a reference to {Owner}"
)]
pub trait ReferenceTo<Owner> {}
impl<E, Owner: crate::Entity> ReferenceTo<Owner> for crate::query::Col<E, Reference<Owner>> {}
impl<E, Owner: crate::Entity> ReferenceTo<Owner>
    for crate::query::Col<E, Option<Reference<Owner>>>
{
}

/// The side a `mapped_by` names on the target of an inverse many-to-many: a collection of
/// `Owner`.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`mapped_by` must name the target's Collection<{Owner}> field; `{Self}` is not one",
    label = "not a collection of {Owner}"
)]
pub trait CollectionOf<Owner> {}
impl<E, Owner: crate::Entity> CollectionOf<Owner> for crate::query::Rel<E, Collection<Owner>> {}

/// Generated code's check that `mapped_by` names a reference to the declaring entity.
#[doc(hidden)]
pub fn mapped_by_reference<Owner, F: ReferenceTo<Owner>>(_field: F) {}

/// Generated code's check that `mapped_by` names a collection of the declaring entity.
#[doc(hidden)]
pub fn mapped_by_collection<Owner, F: CollectionOf<Owner>>(_field: F) {}

/// What changed in a collection since it was loaded or last flushed.
#[doc(hidden)]
#[derive(Clone, Default)]
pub struct MembershipChanges {
    /// Every previous member leaves (`set` on an unloaded collection).
    pub replace_all: bool,
    /// Members that joined: a key, or an instance whose key the flush will know.
    pub added: Vec<Member>,
    /// The keys of members that left.
    pub removed: Vec<Value>,
}

/// A member that joined a collection.
#[doc(hidden)]
#[derive(Clone)]
pub enum Member {
    /// A row with this key.
    Key(Value),
    /// An instance that has no key yet (it is inserted by the same flush).
    New(ErasedHandle),
}
