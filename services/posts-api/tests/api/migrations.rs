//! The service's migration sets and their snapshots, and what `/health` says when the migrated
//! database does not fit the entities.

use std::path::{Path, PathBuf};

use posts_api::db::{self, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use serde_json::json;
use strata::{Connect, Strata, StrataConfig};
use strata_migrate::diff::diff;
use strata_migrate::introspect::introspect;
use strata_migrate::{MigrationSource, Migrator, snapshot};
use strata_test::{SqliteTestDb, TestDb};

use crate::helpers::{Backend, conformance, spawn_app};

/// The shipped migrations of each database, applied to a real database of that kind, build
/// exactly the schema of the set's committed snapshot.
#[tokio::test]
async fn each_shipped_snapshot_is_what_its_migrations_build() {
    let pg = TestDb::new().await;
    let lite = SqliteTestDb::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (engine, config, migrations, dir) in [
        (Backend::Postgres, pg.config(), POSTGRES_MIGRATIONS, "migrations/postgres"),
        (Backend::Sqlite, lite.config(), SQLITE_MIGRATIONS, "migrations/sqlite"),
    ] {
        let orm = Strata::connect(config).await.unwrap();
        Migrator::new(&orm, MigrationSource::Embedded(migrations)).up(None).await.unwrap();
        let mut conn = orm.driver().acquire().await.unwrap();
        let built = introspect(conn.as_mut(), engine, &["public".to_owned()]).await.unwrap();
        let snapshot = snapshot::load(&root.join(dir)).unwrap().expect("a shipped snapshot");
        let changes = diff(&built, &snapshot);
        assert!(changes.is_empty(), "{dir}: {:?}", changes.summaries());
    }
}

/// A copy of the service's migrations in a directory of one test, removed afterwards.
struct Copy(PathBuf);

impl Copy {
    fn new() -> Copy {
        let root =
            std::env::temp_dir().join(format!("posts-api-migrations-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for set in ["postgres", "sqlite"] {
            let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(set);
            let to = root.join("migrations").join(set);
            std::fs::create_dir_all(&to).unwrap();
            for entry in std::fs::read_dir(from).unwrap() {
                let path = entry.unwrap().path();
                std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
            }
        }
        Copy(root)
    }

    fn files(&self, set: &str) -> Vec<String> {
        let dir = self.0.join("migrations").join(set);
        let mut out: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        out.sort();
        out
    }
}

impl Drop for Copy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// In a fresh clone, `migration:create` compares the entities with the committed snapshots:
/// no database is needed, and a new migration goes into both sets with one id.
#[tokio::test]
async fn migration_create_needs_no_database_and_writes_both_sets() {
    let copy = Copy::new();
    let project = db::project(&copy.0);
    let nowhere = StrataConfig::from_url("postgres://app:secret@127.0.0.1:1/posts");
    let console = strata_cli::Console::memory();
    let code =
        strata_cli::run(&project, &nowhere, ["posts-api", "migration:create"], &console).await;
    assert_eq!(code, 0, "{}{}", console.stdout(), console.stderr());
    assert_eq!(console.stdout().trim(), "No changes required, schema is up-to-date");

    let console = strata_cli::Console::memory();
    let args = ["posts-api", "migration:create", "--blank", "--name", "seed"];
    let code = strata_cli::run(&project, &nowhere, args, &console).await;
    assert_eq!(code, 0, "{}{}", console.stdout(), console.stderr());
    assert_eq!(copy.files("postgres"), copy.files("sqlite"), "the sets pair up");
    assert!(copy.files("sqlite").iter().any(|f| f.ends_with("_seed.up.sql")));
}

/// A database whose table does not fit the entities after migrating (here a column renamed by
/// hand) is reported by `/health` with a 503 that names the difference, in NestJS's shape.
async fn a_schema_that_does_not_fit_the_entities_makes_health_answer_503_naming_it(b: Backend) {
    let app = spawn_app(b).await;
    assert_eq!(app.get("/health").await.status, 200);
    app.sql(r#"ALTER TABLE "post_entity" RENAME COLUMN "content" TO "body""#).await;
    let answer = app.get("/health").await;
    assert_eq!(answer.status, 503, "{}", answer.text);
    assert!(answer.text.starts_with(r#"{"statusCode":503,"message":""#), "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["error"], json!("Service Unavailable"));
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains("does not match the entities"), "{message}");
    assert!(message.contains(r#"add column "post_entity"."content""#), "{message}");
    assert!(message.contains("migration:create"), "{message}");
}

/// Tables of another application in the same database (with foreign keys between them) do not
/// make the service unhealthy: only its own tables must fit its entities.
async fn tables_of_other_applications_in_the_database_leave_health_at_200(b: Backend) {
    let app = spawn_app(b).await;
    app.sql(r#"CREATE TABLE "author" ("id" integer PRIMARY KEY, "name" varchar(255) NOT NULL)"#)
        .await;
    app.sql(
        r#"CREATE TABLE "book" ("id" integer PRIMARY KEY,
           "author_id" integer NOT NULL REFERENCES "author" ("id"))"#,
    )
    .await;
    let answer = app.get("/health").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    // Its own table still counts.
    app.sql(r#"ALTER TABLE "post_entity" RENAME COLUMN "content" TO "body""#).await;
    let answer = app.get("/health").await;
    assert_eq!(answer.status, 503, "{}", answer.text);
    let message = answer.json()["message"].as_str().unwrap_or_default().to_owned();
    assert!(!message.contains("author") && !message.contains("book"), "{message}");
}

conformance!(
    a_schema_that_does_not_fit_the_entities_makes_health_answer_503_naming_it,
    tables_of_other_applications_in_the_database_leave_health_at_200,
);
