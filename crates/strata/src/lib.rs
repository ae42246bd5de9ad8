//! Strata: a data-mapper ORM for Rust in the manner of MikroORM.
//!
//! Entities are plain structs; an [`EntityManager`] per request keeps an identity map (the same
//! row fetched twice is one instance and one SELECT) and a unit of work (change managed
//! entities, then one `flush` writes every change in one transaction, batched into set-based
//! statements).
//!
//! ```no_run
//! use strata::prelude::*;
//!
//! #[derive(Entity, Debug, Clone, serde::Serialize)]
//! pub struct PostEntity {
//!     #[strata(primary_key)]
//!     pub id: i32,
//!     pub title: String,
//!     pub content: String,
//! }
//!
//! # async fn demo() -> strata::Result<()> {
//! let orm = Strata::connect(StrataConfig::from_env()?).await?;
//! let em = orm.em();                                   // one per request
//! let post = em.create(PostEntity { id: 0, title: "Hello".into(), content: "World".into() });
//! em.flush().await?;                                   // INSERT … RETURNING "id"
//! let again = em.find_one::<PostEntity>(post.key()).await?.expect("just inserted");
//! assert!(Managed::ptr_eq(&post, &again));              // same instance, no SELECT
//! em.assign(&post, serde_json::json!({ "title": "Hi" }))?;
//! em.flush().await?;                                   // UPDATE "post_entity" SET "title" …
//! em.remove_and_flush(&post).await?;                   // DELETE … WHERE "id" = ANY($1)
//! # Ok(()) }
//! ```
//!
//! # The map
//!
//! | to … | use |
//! | --- | --- |
//! | connect once, share it | [`Strata`] and [`Strata::connect`](Connect::connect), configured by [`StrataConfig`] ([`config`]: `DATABASE_URL`, `STRATA_*`) |
//! | describe a table | `#[derive(Entity)]` and `#[derive(DbEnum)]` ([`Entity`], [`DbEnum`], [`metadata`], [`value`]); every attribute in `docs/entities.md` |
//! | load, change, write | one [`EntityManager`] per request ([`Strata::em`]): [`Managed`] instances, [`Repository`], [`AssignOptions`] |
//! | relate entities | [`Reference`] and [`Collection`] fields, populate ([`relation`]); `docs/relations.md` |
//! | filter and sort | [`query`]: the typed fields of `Entity::fields()`, [`query::Filter`], [`query::FindOptions`] |
//! | handle failures | [`Error`] and its [`ErrorKind`] ([`error`]) |
//! | see the statements sent | [`query_log`]: logging through `tracing`, counts, captures |
//! | know which database | [`DbKind`] ([`Strata::db_kind`]); the drivers [`postgres`] and [`sqlite`] |
//! | write a driver | [`driver`]: the [`Driver`](driver::Driver) and [`Connection`](driver::Connection) traits, the [`dialect`](driver::dialect) and the SQL every dialect shares ([`sql`](driver::sql)) |
//!
//! `use strata::prelude::*;` brings what an application usually needs.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! | --- | --- | --- |
//! | `postgres` | on | the PostgreSQL driver ([`postgres`], `strata-postgres`): `postgres://` URLs |
//! | `sqlite` | on | the SQLite driver ([`sqlite`], `strata-sqlite`): `sqlite:` URLs, a bundled SQLite |
//!
//! A URL whose driver a build leaves out is a configuration error of [`Strata::connect`](Connect::connect).
//!
//! # The other crates
//!
//! | crate | what |
//! | --- | --- |
//! | `strata-migrate` | the schema model, introspection, diff, DDL, migration files, the migrator, `embed_migrations!` |
//! | `strata-cli` | the `migration:*`, `schema:*`, `database:create` and `debug` commands, as a library an application's binary embeds |
//! | `strata-test` | a fresh database per test, and `conformance!`, which runs a test once per database |
//! | `strata-core`, `strata-macros`, `strata-postgres`, `strata-sqlite` | the parts this crate re-exports: the engine, the derive macros, the drivers |
//! | `strata-conventions` | the naming and migration-file rules the engine, the macros and the migrator share |

#![forbid(unsafe_code)]

mod connect;

pub use connect::Connect;
pub use strata_core::{
    AssignOptions, Collection, ColumnType, DbEnum, DbKind, Entity, EntityManager, Error, ErrorKind,
    FieldType, Key, Managed, Reference, Repository, Result, Strata, StrataConfig, Value, config,
    entity, error, metadata, query, query_log, relation, value,
};
pub use strata_macros::{DbEnum, Entity};

/// The PostgreSQL driver (`strata-postgres`), for a pool built by hand
/// ([`PgDriver::lazy`](strata_postgres::PgDriver::lazy)) and its tuning.
#[cfg(feature = "postgres")]
pub use strata_postgres as postgres;
/// The SQLite driver (`strata-sqlite`).
#[cfg(feature = "sqlite")]
pub use strata_sqlite as sqlite;

pub mod driver {
    //! For driver authors: what a database driver implements, and the SQL the core renders for
    //! it.
    //!
    //! A [`Driver`] hands out [`Connection`]s that run [`Statement`]s (SQL text, typed
    //! [`Param`]s, declared result types) and names its [`Dialect`](dialect::Dialect); [`sql`]
    //! renders every statement once for all databases from the dialect's few differences
    //! (placeholders, how a set of rows and a set of keys are bound). `strata-postgres` is the
    //! reference implementation; [`Strata::with_driver`](crate::Strata::with_driver) puts a
    //! driver to use.

    pub use strata_core::driver::*;
    pub use strata_core::{dialect, sql};
}

/// The engine crate, for code generated by the derive macros. Not a public API.
#[doc(hidden)]
pub use strata_core as __core;

/// Everything an application usually needs: `use strata::prelude::*;`.
pub mod prelude {
    pub use crate::query::{Filter, FindOptions};
    pub use crate::{
        AssignOptions, Collection, Connect, DbEnum, Entity, EntityManager, Error, ErrorKind,
        Managed, Reference, Repository, Strata, StrataConfig,
    };
}

/// The README's example, compiled by `cargo test --doc` so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeExample;
