//! Strata's conventions: the rules that more than one crate must apply identically, in one
//! small crate without dependencies.
//!
//! - [`naming`]: the default names of tables, columns and stored enum variants
//!   ([`underscore`]). `strata-macros` applies it while it expands `#[derive(Entity)]` and
//!   `#[derive(DbEnum)]`; `strata-core` re-exports it as `strata::metadata::underscore`.
//! - [`migration`]: what a migration id looks like ([`migration::check_id`],
//!   [`migration::new_id`]) and how the `.up.sql` / `.down.sql` files of a directory pair up
//!   into migrations ([`migration::scan_dir`]). `strata-macros` checks the files that
//!   `embed_migrations!` embeds at compile time; `strata-migrate` reads a migrations directory
//!   at run time and writes new files.
//!
//! A proc-macro crate cannot call into the crates that depend on it, and `strata-migrate`
//! depends on the macros; keeping the rules here (in the manner of Diesel's
//! `migrations_internals`) lets every side compile the same code, and lets each crate be
//! packaged on its own.

#![forbid(unsafe_code)]

pub mod migration;
pub mod naming;

pub use naming::underscore;
