//! Typed queries: filters built from generated columns, find options, and native updates.
//!
//! ```
//! # use strata_core::query::{Col, Filter};
//! # #[derive(Clone)] struct Post;
//! let title: Col<Post, String> = Col::new(1, "title");
//! let views: Col<Post, i32> = Col::new(2, "views");
//! let f: Filter<Post> = title.ilike("%rust%") & (views.gt(10) | views.is_null());
//! # let _ = f;
//! ```
//!
//! Every value ends up as a bound parameter; nothing a caller passes is spliced into SQL.

mod expr;
mod filter;
mod options;

pub use expr::{CmpOp, Expr};
pub use filter::{Col, Filter, Rel, Set, TextField};
pub use options::{FindOptions, Order, OrderBy};
