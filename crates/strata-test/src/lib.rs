//! Test support for Strata: one fresh PostgreSQL database (or SQLite file) per test.
//!
//! [`AnyTestDb::new`] takes a [`Backend`] (the core's `DbKind`, under the name tests use), so
//! that one test body runs against every driver: [`conformance!`] expands a list of
//! `async fn name(b: Backend)` tests into `postgres::name` and `sqlite::name`, and [`caps`] says
//! what legitimately differs between the databases (the ORM's suite, the schema engine's diff
//! fixtures and the posts service's tests all use both). [`SqliteTestDb`] is a database file in
//! the system's temporary directory, deleted with the value. The rest of this page is about
//! PostgreSQL.
//!
//! Integration tests of the drivers, the migrator and the services each call [`TestDb::new`] to
//! get a database of their own, so tests run in parallel threads and processes without seeing
//! each other's tables. The database is dropped when the [`TestDb`] is dropped.
//!
//! The server comes from [`base_url`]: `STRATA_TEST_DATABASE_URL`, else
//! `postgres://postgres@127.0.0.1:5432/postgres`. The project's `scripts/test` makes sure one is
//! reachable (it starts a throwaway server under `target/strata-pg` if needed) and exports that
//! variable, so `scripts/test` is the way to run the whole suite.
//!
//! How it works, in the manner of sqlx's test databases:
//!
//! - creation is serialized by a PostgreSQL advisory lock, so that concurrent processes neither
//!   race on creating the registry below nor on dropping the same leftovers;
//! - every database is recorded in the table `strata_test.databases` of the maintenance database
//!   (name, pid, host, created_at) before it is created;
//! - the first time a process creates a test database, it drops the recorded databases whose
//!   creating process on this host is no longer alive, and any older than two hours: what a
//!   crashed or killed test run left behind;
//! - each database allows [`TestDb::POOL_SIZE`] pooled connections plus two (see
//!   [`TestDb::config`]).
//!
//! The user of the base URL needs `CREATEDB` and the right to create a schema in the maintenance
//! database; the default `postgres` superuser has both.
//!
//! # Examples
//!
//! ```
//! # async fn example() {
//! use strata_test::TestDb;
//!
//! let db = TestDb::new().await;
//! let client = db.client().await;
//! client.batch_execute("CREATE TABLE post (id serial PRIMARY KEY, title text)").await.unwrap();
//! let rows = client.query("SELECT id FROM post", &[]).await.unwrap();
//! assert!(rows.is_empty());
//! // `db.config()` is the `StrataConfig` to connect the ORM to the same database.
//! # }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(example());
//! ```

mod backend;
mod conformance;
mod connect;
mod fixtures;
mod registry;
mod sqlite;
mod test_db;
mod url;

pub use backend::{AnyTestDb, Backend};
pub use conformance::{Caps, caps};
pub use fixtures::column;
pub use sqlite::SqliteTestDb;
pub use test_db::TestDb;
pub use url::{base_url, pooler_url, with_database as database_url};
