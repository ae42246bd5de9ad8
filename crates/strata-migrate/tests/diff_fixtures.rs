//! Schema-diff fixtures against a real PostgreSQL and a real SQLite file, in the manner of
//! Diesel's `generate_migrations` tests.
//!
//! Each case has, per backend, a starting schema (SQL run on a fresh database) and the exact up
//! and down SQL expected, and entities (`#[derive(Entity)]`) shared by both. Each test is an
//! `async fn(Backend)` listed in its module's `conformance!` (strata-test's), so it runs as
//! `<case>::postgres::<test>` and `<case>::sqlite::<test>`; [`Case::run`] runs it on one
//! backend: creates the database, applies the start, introspects, diffs against
//! the entities and compares the SQL; then applies up (in one transaction, as the migrator
//! does) and checks that the database equals the target (and that a second diff is empty),
//! applies down and checks that it equals the start again.
//!
//! Every case declares what it does on SQLite ([`OnSqlite`]): its own start and expected SQL,
//! or why it does not apply. Nothing is skipped silently: a case that declares nothing fails.

// Helpers outside `#[test]` functions may unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod diff_fixtures {
    pub(crate) mod columns;
    pub(crate) mod constraints;
    pub(crate) mod relations;
    pub(crate) mod renames;
    pub(crate) mod tables;
}

use std::sync::Arc;
use strata::Value;
use strata::driver::{Connection, Driver, Statement, StatementKind};
use strata::metadata::EntityMeta;
use strata::{Connect, Strata};
use strata_migrate::ddl::{MigrationSql, render};
use strata_migrate::diff::diff;
use strata_migrate::introspect::introspect;
use strata_migrate::schema::Schema;
use strata_migrate::target::target_schema;
use strata_test::AnyTestDb;
pub(crate) use strata_test::{Backend, conformance};

/// One fixture. The fields without a prefix are PostgreSQL's.
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
    /// What the case does on SQLite.
    pub(crate) sqlite: OnSqlite<'a>,
}

/// What a case does on SQLite.
pub(crate) enum OnSqlite<'a> {
    /// Not declared: the case fails, so that no case skips SQLite by omission.
    Undeclared,
    /// It runs, with these expectations.
    Run(Sqlite<'a>),
    /// It does not apply to SQLite, for the reason given.
    PostgresOnly(&'a str),
}

/// A case's start and expectations on SQLite.
#[derive(Default)]
pub(crate) struct Sqlite<'a> {
    /// SQL run on the empty database first.
    pub(crate) start: &'a str,
    /// SQL run after the start.
    pub(crate) seed: &'a str,
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
            sqlite: OnSqlite::Undeclared,
        }
    }
}

/// A case in progress on one backend: its database, after `Case::run` applied up (and down,
/// at the end).
pub(crate) struct Fixture {
    #[allow(dead_code)] // kept alive: dropping it drops the database
    db: AnyTestDb,
    driver: Arc<dyn Driver>,
    pub(crate) backend: Backend,
    namespaces: Vec<String>,
    start: Schema,
    target: Schema,
    sql: MigrationSql,
}

impl Case<'_> {
    /// Runs the whole case on `backend`, if it applies there: start, diff, compare the SQL, up,
    /// compare, down, compare.
    pub(crate) async fn run(self, backend: Backend) {
        if let Some(f) = self.prepare(backend).await {
            f.up().await;
            f.down().await;
        }
    }

    /// Applies the start and the seed on `backend`, then diffs and checks the SQL and the
    /// destructive steps. `None` when the case declares that it does not apply to `backend`.
    pub(crate) async fn prepare(&self, backend: Backend) -> Option<Fixture> {
        let (start_sql, seed, up, down, destructive) = match (backend, &self.sqlite) {
            (Backend::Postgres, _) => (self.start, self.seed, self.up, self.down, self.destructive),
            (Backend::Sqlite, OnSqlite::Run(s)) => (s.start, s.seed, s.up, s.down, s.destructive),
            (Backend::Sqlite, OnSqlite::PostgresOnly(reason)) => {
                assert!(!reason.is_empty(), "a PostgreSQL-only case says why");
                return None;
            }
            (Backend::Sqlite, OnSqlite::Undeclared) => {
                panic!(
                    "the case declares nothing for SQLite: give `sqlite: OnSqlite::Run(…)` or `OnSqlite::PostgresOnly(\"why\")`"
                )
            }
        };
        let db = AnyTestDb::new(backend).await;
        let driver = Strata::connect(db.config()).await.unwrap().driver().clone();
        let mut conn = driver.acquire().await.unwrap();
        for sql in [start_sql, seed].into_iter().filter(|s| !s.trim().is_empty()) {
            conn.batch_execute(sql).await.unwrap_or_else(|e| panic!("{backend:?}: {e} in\n{sql}"));
        }
        let namespaces: Vec<String> = self.namespaces.iter().map(|n| (*n).to_owned()).collect();
        let start = introspect(conn.as_mut(), backend, &namespaces).await.unwrap();
        drop(conn);
        let target = target_schema(self.entities, None);

        let d = diff(&start, &target);
        let sql = render(&d, backend).unwrap();
        assert_eq!(sql.up, up, "{backend:?}: up SQL; changes: {:#?}", d.summaries());
        assert_eq!(sql.down, down, "{backend:?}: down SQL");
        let found: Vec<String> = d.destructive().iter().map(|c| c.summary()).collect();
        assert_eq!(found, destructive, "{backend:?}: destructive changes");
        Some(Fixture { db, driver, backend, namespaces, start, target, sql })
    }
}

impl Fixture {
    async fn conn(&self) -> Box<dyn Connection> {
        self.driver.acquire().await.unwrap()
    }

    async fn current(&self) -> Schema {
        let mut conn = self.conn().await;
        introspect(conn.as_mut(), self.backend, &self.namespaces).await.unwrap()
    }

    /// Runs the statements in one transaction, as the migrator runs a migration.
    async fn apply(&self, statements: &[String]) {
        if statements.is_empty() {
            return;
        }
        let sql = statements.join(";\n");
        let mut conn = self.conn().await;
        conn.begin().await.unwrap();
        let result = conn.batch_execute(&sql).await;
        if let Err(e) = result {
            conn.rollback().await.unwrap();
            panic!("{:?}: {e:?} in\n{sql}", self.backend);
        }
        conn.commit()
            .await
            .unwrap_or_else(|e| panic!("{:?}: commit: {e:?} in\n{sql}", self.backend));
    }

    /// Applies up; the database must then equal the target, with nothing left to diff.
    pub(crate) async fn up(&self) {
        self.apply(&self.sql.up).await;
        let after = self.current().await;
        assert_eq!(
            after, self.target,
            "{:?}: the database after up equals the entities",
            self.backend
        );
        let again = diff(&after, &self.target);
        assert!(
            again.is_empty(),
            "{:?}: a second diff is empty, got {:#?}",
            self.backend,
            again.summaries()
        );
    }

    /// Applies down; the database must then equal the start.
    pub(crate) async fn down(&self) {
        self.apply(&self.sql.down).await;
        let after = self.current().await;
        assert_eq!(
            after, self.start,
            "{:?}: the database after down equals the start",
            self.backend
        );
        assert!(diff(&after, &self.start).is_empty());
    }

    /// Runs SQL outside a transaction.
    pub(crate) async fn execute(&self, sql: &str) {
        let mut conn = self.conn().await;
        conn.batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e} in\n{sql}", self.backend));
    }

    /// The first column of the first row of `sql`, as text.
    pub(crate) async fn text(&self, sql: &str) -> String {
        let mut conn = self.conn().await;
        let kind = if sql.trim_start().to_lowercase().starts_with("select") {
            StatementKind::Select
        } else {
            StatementKind::Insert
        };
        let statement =
            Statement { sql: sql.to_owned(), params: Vec::new(), returns: Vec::new(), kind };
        let outcome = conn.run(&statement).await.unwrap_or_else(|e| panic!("{e} in {sql}"));
        match outcome.rows.first().and_then(|r| r.first()) {
            Some(Value::Text(s)) => s.clone(),
            Some(Value::I64(n)) => n.to_string(),
            Some(Value::I32(n)) => n.to_string(),
            other => panic!("{sql} returned {other:?}"),
        }
    }
}
