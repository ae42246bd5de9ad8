//! Schema-diff fixtures against a real PostgreSQL, in the manner of Diesel's
//! `generate_migrations` tests.
//!
//! Each case has a starting schema (SQL run on a fresh database), entities (`#[derive(Entity)]`)
//! and the exact up and down SQL expected. [`Case::run`] creates the database, applies the start,
//! introspects, diffs against the entities and compares the SQL; then applies up and checks
//! that the database equals the target (and that a second diff is empty), applies down and
//! checks that it equals the start again.

// Helpers outside `#[test]` functions may unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod diff_fixtures {
    pub(crate) mod columns;
    pub(crate) mod constraints;
    pub(crate) mod renames;
    pub(crate) mod tables;
}

use strata::driver::Driver;
use strata::metadata::EntityMeta;
use strata::postgres::PgDriver;
use strata_migrate::ddl::{MigrationSql, render};
use strata_migrate::diff::diff;
use strata_migrate::introspect::introspect;
use strata_migrate::schema::{Backend, Schema};
use strata_migrate::target::target_schema;
use strata_test::TestDb;

/// One fixture.
pub(crate) struct Case<'a> {
    /// SQL run on the empty database first.
    pub(crate) start: &'a str,
    /// SQL run after the start, before anything is compared (rows whose survival is checked).
    pub(crate) seed: &'a str,
    /// The entities, the target.
    pub(crate) entities: &'a [&'static EntityMeta],
    /// The database schemas to introspect.
    pub(crate) namespaces: &'a [&'a str],
    /// The expected up statements.
    pub(crate) up: &'a [&'a str],
    /// The expected down statements.
    pub(crate) down: &'a [&'a str],
    /// The summaries of the changes expected to be destructive.
    pub(crate) destructive: &'a [&'a str],
}

impl Default for Case<'_> {
    fn default() -> Self {
        Case {
            start: "",
            seed: "",
            entities: &[],
            namespaces: &["public"],
            up: &[],
            down: &[],
            destructive: &[],
        }
    }
}

/// A case in progress: its database, after `Case::run` applied up (and down, at the end).
pub(crate) struct Fixture {
    #[allow(dead_code)] // kept alive: dropping it drops the database
    db: TestDb,
    pub(crate) client: tokio_postgres::Client,
    namespaces: Vec<String>,
    start: Schema,
    target: Schema,
    sql: MigrationSql,
}

impl Case<'_> {
    /// Runs the whole case: start, diff, compare the SQL, up, compare, down, compare.
    pub(crate) async fn run(self) {
        let f = self.prepare().await;
        f.up().await;
        f.down().await;
    }

    /// Applies the start and the seed, then diffs and checks the SQL and the destructive steps.
    pub(crate) async fn prepare(self) -> Fixture {
        let db = TestDb::new().await;
        let client = db.client().await;
        client.batch_execute(self.start).await.unwrap();
        client.batch_execute(self.seed).await.unwrap();
        let driver = PgDriver::connect(&db.config()).await.unwrap();
        let mut conn = driver.acquire().await.unwrap();
        let namespaces: Vec<String> = self.namespaces.iter().map(|n| (*n).to_owned()).collect();
        let start = introspect(conn.as_mut(), Backend::Postgres, &namespaces).await.unwrap();
        let target = target_schema(self.entities, None);

        let d = diff(&start, &target);
        let sql = render(&d, Backend::Postgres).unwrap();
        assert_eq!(sql.up, self.up, "up SQL; changes: {:#?}", d.summaries());
        assert_eq!(sql.down, self.down, "down SQL");
        let destructive: Vec<String> = d.destructive().iter().map(|c| c.summary()).collect();
        assert_eq!(destructive, self.destructive, "destructive changes");
        Fixture { db, client, namespaces, start, target, sql }
    }
}

impl Fixture {
    async fn current(&self) -> Schema {
        // A fresh connection each time: the fixture's connection is borrowed immutably here.
        let driver = PgDriver::connect(&self.db.config()).await.unwrap();
        let mut conn = driver.acquire().await.unwrap();
        introspect(conn.as_mut(), Backend::Postgres, &self.namespaces).await.unwrap()
    }

    async fn apply(&self, statements: &[String]) {
        if statements.is_empty() {
            return;
        }
        // One simple-query batch runs as one transaction, as the migrator runs a migration.
        let sql = statements.join(";\n");
        self.client.batch_execute(&sql).await.unwrap_or_else(|e| panic!("{e:?} in\n{sql}"));
    }

    /// Applies up; the database must then equal the target, with nothing left to diff.
    pub(crate) async fn up(&self) {
        self.apply(&self.sql.up).await;
        let after = self.current().await;
        assert_eq!(after, self.target, "the database after up equals the entities");
        let again = diff(&after, &self.target);
        assert!(again.is_empty(), "a second diff is empty, got {:#?}", again.summaries());
    }

    /// Applies down; the database must then equal the start.
    pub(crate) async fn down(&self) {
        self.apply(&self.sql.down).await;
        let after = self.current().await;
        assert_eq!(after, self.start, "the database after down equals the start");
        assert!(diff(&after, &self.start).is_empty());
    }

    /// The first column of the first row of `sql`, as text.
    pub(crate) async fn text(&self, sql: &str) -> String {
        self.client.query_one(sql, &[]).await.unwrap().get(0)
    }
}
