//! [`Backend`] and [`AnyTestDb`]: one test body, run against every database Strata supports.

use strata_core::StrataConfig;

use crate::{SqliteTestDb, TestDb};

/// The database a test runs on: [`strata_core::DbKind`] under the name the test suites use.
pub use strata_core::DbKind as Backend;

/// A fresh database of one test on either backend, dropped with it.
#[derive(Debug)]
pub enum AnyTestDb {
    /// A PostgreSQL database.
    Postgres(TestDb),
    /// A SQLite file.
    Sqlite(SqliteTestDb),
}

impl AnyTestDb {
    /// A fresh, empty database on `backend`.
    ///
    /// # Panics
    ///
    /// As [`TestDb::new`] and [`SqliteTestDb::new`].
    pub async fn new(backend: Backend) -> AnyTestDb {
        match backend {
            Backend::Postgres => AnyTestDb::Postgres(TestDb::new().await),
            Backend::Sqlite => AnyTestDb::Sqlite(SqliteTestDb::new()),
        }
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        match self {
            AnyTestDb::Postgres(_) => Backend::Postgres,
            AnyTestDb::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The connection URL.
    pub fn url(&self) -> String {
        match self {
            AnyTestDb::Postgres(db) => db.url().to_owned(),
            AnyTestDb::Sqlite(db) => db.url(),
        }
    }

    /// A configuration for this database with a pool of [`TestDb::POOL_SIZE`] connections.
    pub fn config(&self) -> StrataConfig {
        match self {
            AnyTestDb::Postgres(db) => db.config(),
            AnyTestDb::Sqlite(db) => db.config(),
        }
    }
}
