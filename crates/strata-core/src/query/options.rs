use crate::relation::populate::Populate;
use std::marker::PhantomData;

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// `ORDER BY column ASC|DESC`, built with `Col::asc` / `Col::desc`.
#[derive(Debug)]
pub struct OrderBy<E> {
    /// The column name.
    pub column: &'static str,
    /// The direction.
    pub order: Order,
    _entity: PhantomData<fn() -> E>,
}

impl<E> Clone for OrderBy<E> {
    fn clone(&self) -> Self {
        Self::new(self.column, self.order)
    }
}

impl<E> OrderBy<E> {
    pub(crate) fn new(column: &'static str, order: Order) -> Self {
        Self { column, order, _entity: PhantomData }
    }
}

/// Options of `find`: order, limit, offset, and the relations to populate.
///
/// ```
/// # use strata_core::query::{Col, FindOptions};
/// # struct Post;
/// # let id: Col<Post, i32> = Col::new(0, "id");
/// let opts = FindOptions::new().order_by(id.desc()).limit(10).offset(20);
/// assert_eq!(opts.limit, Some(10));
/// ```
#[derive(Debug)]
pub struct FindOptions<E> {
    /// Sort keys, in order.
    pub order_by: Vec<OrderBy<E>>,
    /// At most this many rows.
    pub limit: Option<u64>,
    /// Skip this many rows.
    pub offset: Option<u64>,
    /// Relations to load for the entities found (select-in, one statement per edge).
    pub populate: Vec<Populate<E>>,
    /// Read from the primary even where a read replica would serve (MikroORM's
    /// `connectionType: 'write'`): for a read that must see a write made elsewhere just now.
    pub from_primary: bool,
}

impl<E> Default for FindOptions<E> {
    fn default() -> Self {
        Self {
            order_by: Vec::new(),
            limit: None,
            offset: None,
            populate: Vec::new(),
            from_primary: false,
        }
    }
}

impl<E> Clone for FindOptions<E> {
    fn clone(&self) -> Self {
        Self {
            order_by: self.order_by.clone(),
            limit: self.limit,
            offset: self.offset,
            populate: self.populate.clone(),
            from_primary: self.from_primary,
        }
    }
}

impl<E> FindOptions<E> {
    /// No order, no limit.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a sort key.
    #[must_use]
    pub fn order_by(mut self, order: OrderBy<E>) -> Self {
        self.order_by.push(order);
        self
    }
    /// Reads from the primary, not a read replica (see [`FindOptions::from_primary`]).
    #[must_use]
    pub fn from_primary(mut self) -> Self {
        self.from_primary = true;
        self
    }

    /// Returns at most `n` rows.
    #[must_use]
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }
    /// Skips `n` rows.
    #[must_use]
    pub fn offset(mut self, n: u64) -> Self {
        self.offset = Some(n);
        self
    }
    /// Also loads a relation of the entities found (and of its targets, for a nested path):
    /// `.populate(Post::fields().author.then(User::fields().address))`.
    #[must_use]
    pub fn populate(mut self, path: impl Into<Populate<E>>) -> Self {
        self.populate.push(path.into());
        self
    }
}
