//! The engine of Strata, a data-mapper ORM in the manner of MikroORM.
//!
//! Applications use the `strata` facade crate; this crate holds the parts:
//!
//! - [`entity`] and [`metadata`]: the [`Entity`] trait that `#[derive(Entity)]` implements, and the
//!   runtime description of tables and columns; [`value`]: column types and values.
//! - [`orm`]: the application-wide ORM, [`Strata`]; [`entity_manager`]: the request-scoped
//!   [`EntityManager`] with its identity map and [`unit_of_work`]; [`managed`]: the shared
//!   handle to a managed instance; [`repository`], [`relation`] (references, collections, populate), [`assign`](mod@assign).
//! - [`query`]: typed filters and find options.
//! - [`driver`], [`dialect`] and [`sql`]: what a database backend implements, and the SQL shared
//!   by all of them; [`query_log`]: statement logging and counting.
//! - [`config`]: where the database is; [`db_kind`]: which database ([`DbKind`]); [`error`]:
//!   the one error type.

#![forbid(unsafe_code)]

pub mod assign;
pub mod config;
pub mod db_kind;
pub mod dialect;
pub mod driver;
pub mod entity;
pub mod entity_manager;
pub mod error;
pub(crate) mod identity_map;
pub mod managed;
pub mod metadata;
mod native;
pub mod orm;
pub mod query;
pub mod query_log;
pub mod relation;
pub mod repository;
pub(crate) mod session;
pub mod sql;
pub mod unit_of_work;
pub mod value;

pub use assign::AssignOptions;
pub use config::StrataConfig;
pub use db_kind::DbKind;
pub use entity::{Entity, Key};
pub use entity_manager::EntityManager;
pub use error::{Error, ErrorKind, Result};
pub use managed::Managed;
pub use orm::Strata;
pub use relation::{Collection, Reference};
pub use repository::Repository;
pub use value::{ColumnType, DbEnum, FieldType, Value};
