//! Serializing a graph of entities without recursing forever: an instance already being
//! serialized further up the same call (a `User` ⇄ `posts` graph) is written as its key.
//! Serialization is synchronous, so a per-thread stack of instance addresses is enough.

use std::cell::RefCell;

thread_local! {
    static VISITING: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// An instance being serialized; leaves the stack when dropped.
pub(crate) struct Visit(());

impl Visit {
    /// Enters the instance at `addr`; `None` when it is already being serialized.
    pub(crate) fn enter(addr: usize) -> Option<Self> {
        VISITING.with(|stack| {
            let mut stack = stack.borrow_mut();
            if stack.contains(&addr) {
                return None;
            }
            stack.push(addr);
            Some(Visit(()))
        })
    }
}

impl Drop for Visit {
    fn drop(&mut self) {
        VISITING.with(|stack| {
            stack.borrow_mut().pop();
        });
    }
}
