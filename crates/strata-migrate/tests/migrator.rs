//! The migrator against a real PostgreSQL, each test in its own database.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use strata::{Connect, Strata};
use strata_migrate::files::{EmbeddedMigration, MigrationSource};
use strata_migrate::migrator::{DownTo, MigrationState, Migrator, Progress, UpTo};
use strata_test::TestDb;

/// A migrations directory of one test, removed afterwards.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "strata-migrator-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
        Dir(dir)
    }

    fn write(&self, id: &str, up: &str, down: Option<&str>) {
        std::fs::write(self.0.join(format!("{id}.up.sql")), up).expect("writable");
        if let Some(down) = down {
            std::fs::write(self.0.join(format!("{id}.down.sql")), down).expect("writable");
        }
    }

    fn remove(&self, id: &str) {
        for half in ["up", "down"] {
            let _ = std::fs::remove_file(self.0.join(format!("{id}.{half}.sql")));
        }
    }

    fn source(&self) -> MigrationSource {
        MigrationSource::directory(&self.0)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn connect(db: &TestDb) -> Strata {
    Strata::connect(db.config()).await.expect("the test database accepts connections")
}

/// The tables of `schema`, sorted.
async fn tables(db: &TestDb, schema: &str) -> Vec<String> {
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT tablename::text FROM pg_tables WHERE schemaname = $1 ORDER BY tablename",
            &[&schema],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// The names in the tracking table of `public`, in the order they were applied.
async fn recorded(db: &TestDb) -> Vec<String> {
    let client = db.client().await;
    let rows = client
        .query("SELECT name::text FROM public.strata_migrations ORDER BY id", &[])
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

const A: &str = "20260101000000_create_a";
const B: &str = "20260102000000_create_b";
const C: &str = "20260103000000_create_c";

fn three(dir: &Dir) {
    dir.write(A, "CREATE TABLE a (id int);", Some("DROP TABLE a;"));
    dir.write(B, "CREATE TABLE b (id int);", Some("DROP TABLE b;"));
    dir.write(C, "CREATE TABLE c (id int);", Some("DROP TABLE c;"));
}

#[tokio::test]
async fn up_applies_pending_migrations_in_order_and_records_them() {
    let db = TestDb::new().await;
    let orm = connect(&db).await;
    let dir = Dir::new();
    three(&dir);
    let migrator = Migrator::new(&orm, dir.source());
    assert_eq!(migrator.up(None).await.unwrap(), [A, B, C]);
    assert_eq!(tables(&db, "public").await, ["a", "b", "c", "strata_migrations"]);
    assert_eq!(recorded(&db).await, [A, B, C]);
    assert!(migrator.up(None).await.unwrap().is_empty(), "a second run has nothing to do");
    let status = migrator.status().await.unwrap();
    assert!(status.iter().all(|s| matches!(s.state, MigrationState::Executed(_))), "{status:?}");
}

#[tokio::test]
async fn a_failing_migration_leaves_nothing_and_names_itself_and_the_statement() {
    let db = TestDb::new().await;
    let orm = connect(&db).await;
    let dir = Dir::new();
    dir.write(A, "CREATE TABLE a (id int);", Some("DROP TABLE a;"));
    dir.write(
        B,
        "CREATE TABLE b (id int);\n\
         INSERT INTO b VALUES ('not a number');\n\
         CREATE TABLE b2 (id int);",
        Some("DROP TABLE b2; DROP TABLE b;"),
    );
    dir.write(C, "CREATE TABLE c (id int);", None);
    let migrator = Migrator::new(&orm, dir.source());
    let err = migrator.up(None).await.unwrap_err();
    let message = err.to_string();
    assert!(message.contains(B), "names the migration: {message}");
    assert!(message.contains("statement 2 of 3"), "{message}");
    assert!(message.contains("INSERT INTO b VALUES ('not a number')"), "{message}");
    assert!(message.contains("invalid input syntax"), "keeps the database's error: {message}");
    assert_eq!(err.code(), Some("22P02"));
    // A before it stays applied; nothing of B, and C is not attempted.
    assert_eq!(tables(&db, "public").await, ["a", "strata_migrations"]);
    assert_eq!(recorded(&db).await, [A]);
    let pending: Vec<String> =
        migrator.pending().await.unwrap().into_iter().map(|m| m.id).collect();
    assert_eq!(pending, [B, C]);
}

#[tokio::test]
async fn two_migrators_started_at_once_apply_each_migration_exactly_once() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    // The sleep keeps the first run inside its lock while the second one starts. Without the
    // lock, the second would fail on CREATE TABLE or insert its rows a second time.
    dir.write(
        A,
        "CREATE TABLE counter (n int); INSERT INTO counter VALUES (1); SELECT pg_sleep(0.5);",
        None,
    );
    dir.write(B, "INSERT INTO counter VALUES (2);", None);
    let waits = Arc::new(AtomicUsize::new(0));
    let migrator = |orm: &Strata| {
        let waits = waits.clone();
        Migrator::new(orm, dir.source()).on_progress(move |p| {
            if *p == Progress::WaitingForLock {
                waits.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // Two ORMs: two pools, as two processes would have.
    let (first, second) = (connect(&db).await, connect(&db).await);
    let (m1, m2) = (migrator(&first), migrator(&second));
    let (r1, r2) = tokio::join!(
        tokio::spawn(async move { m1.up(None).await }),
        tokio::spawn(async move { m2.up(None).await })
    );
    let (r1, r2) = (r1.unwrap().unwrap(), r2.unwrap().unwrap());
    let mut all: Vec<String> = r1.iter().chain(&r2).cloned().collect();
    all.sort();
    assert_eq!(all, [A, B], "each applied once in all: {r1:?} and {r2:?}");
    if first.config().uses_statement_cache() {
        // A session lock around each run: one run applies both, the other waits.
        assert!(r1.is_empty() || r2.is_empty(), "one run applied both: {r1:?} and {r2:?}");
        assert_eq!(waits.load(Ordering::SeqCst), 1, "the second run waited for the lock");
    } else {
        // Behind a transaction pooler: a transaction lock per migration, so the runs may
        // share the work, and no run waits before it starts.
        assert_eq!(waits.load(Ordering::SeqCst), 0, "no session lock to wait for");
    }
    let client = db.client().await;
    let n: i64 = client.query_one("SELECT count(*) FROM counter", &[]).await.unwrap().get(0);
    assert_eq!(n, 2);
    assert_eq!(recorded(&db).await, [A, B]);
    // The lock was released: a third run takes it at once.
    let third = connect(&db).await;
    assert!(Migrator::new(&third, dir.source()).up(None).await.unwrap().is_empty());
    let held: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(held, 0, "no advisory lock left behind");
}

#[tokio::test]
async fn an_applied_migration_whose_file_changed_is_refused() {
    let db = TestDb::new().await;
    let orm = connect(&db).await;
    let dir = Dir::new();
    dir.write(A, "CREATE TABLE a (id int);", Some("DROP TABLE a;"));
    let migrator = Migrator::new(&orm, dir.source());
    migrator.up(None).await.unwrap();
    dir.write(A, "CREATE TABLE a (id bigint);", Some("DROP TABLE a;"));
    dir.write(B, "CREATE TABLE b (id int);", None);
    let err = migrator.up(None).await.unwrap_err();
    assert!(err.message().contains(A), "{err}");
    assert!(err.message().contains("changed after it was applied"), "{err}");
    assert_eq!(recorded(&db).await, [A], "B was not applied");
    let err = migrator.down(DownTo::OneStep).await.unwrap_err();
    assert!(err.message().contains("changed after it was applied"), "{err}");
    assert_eq!(tables(&db, "public").await, ["a", "strata_migrations"]);
}

#[tokio::test]
async fn an_applied_migration_whose_file_is_missing_is_reported_and_not_reverted() {
    let db = TestDb::new().await;
    let orm = connect(&db).await;
    let dir = Dir::new();
    dir.write(A, "CREATE TABLE a (id int);", Some("DROP TABLE a;"));
    Migrator::new(&orm, dir.source()).up(None).await.unwrap();
    dir.remove(A);
    dir.write(B, "CREATE TABLE b (id int);", Some("DROP TABLE b;"));
    let missing = Arc::new(Mutex::new(Vec::new()));
    let seen = missing.clone();
    let migrator = Migrator::new(&orm, dir.source()).on_progress(move |p| {
        if let Progress::Missing { id } = p {
            seen.lock().unwrap().push((*id).to_owned());
        }
    });

    let status = migrator.status().await.unwrap();
    assert_eq!(status.len(), 2);
    assert_eq!(status[0].name, A);
    assert!(matches!(status[0].state, MigrationState::Missing(_)), "{status:?}");
    assert_eq!(status[1].state, MigrationState::Pending);

    // `up` still applies the others, and reports the missing one.
    assert_eq!(migrator.up(None).await.unwrap(), [B]);
    assert_eq!(*missing.lock().unwrap(), [A]);
    // `down` reverts B, then refuses A, whose down SQL is gone.
    assert_eq!(migrator.down(DownTo::OneStep).await.unwrap(), [B]);
    let err = migrator.down(DownTo::OneStep).await.unwrap_err();
    assert!(err.message().contains(A) && err.message().contains("missing"), "{err}");
    assert_eq!(recorded(&db).await, [A]);
}

#[tokio::test]
async fn up_to_down_one_step_down_to_and_down_all() {
    let db = TestDb::new().await;
    let orm = connect(&db).await;
    let dir = Dir::new();
    three(&dir);
    let migrator = Migrator::new(&orm, dir.source());

    // `--to` takes the timestamp alone, and includes that migration.
    assert_eq!(migrator.up(Some("20260102000000")).await.unwrap(), [A, B]);
    assert_eq!(tables(&db, "public").await, ["a", "b", "strata_migrations"]);
    assert_eq!(migrator.down(DownTo::OneStep).await.unwrap(), [B]);
    assert_eq!(migrator.up(None).await.unwrap(), [B, C]);
    // Down to B (by its name) reverts C, then B.
    assert_eq!(migrator.down(DownTo::Migration("create_b".into())).await.unwrap(), [C, B]);
    assert_eq!(recorded(&db).await, [A]);
    assert_eq!(migrator.up(None).await.unwrap(), [B, C]);
    assert_eq!(migrator.down(DownTo::parse(Some("0"))).await.unwrap(), [C, B, A]);
    assert_eq!(tables(&db, "public").await, ["strata_migrations"]);
    assert!(migrator.down(DownTo::OneStep).await.unwrap().is_empty(), "nothing left to revert");

    let err = migrator.up(Some("nope")).await.unwrap_err();
    assert!(err.message().contains("no such migration"), "{err}");
    assert!(recorded(&db).await.is_empty(), "an unknown --to applies nothing");
}

/// `--from`, `--to` and `--only` choose as MikroORM's do: `--from` starts after its migration,
/// `--to` ends with its own, `--only` takes exactly the named ones (up: if pending; down: if
/// applied), whatever their position.
#[tokio::test]
async fn up_from_to_and_only_and_down_only_choose_as_mikroorm_does() {
    let db = TestDb::new().await;
    let orm = connect(&db).await;
    let dir = Dir::new();
    three(&dir);
    const D: &str = "20260104000000_create_d";
    dir.write(D, "CREATE TABLE d (id int);", Some("DROP TABLE d;"));
    let migrator = Migrator::new(&orm, dir.source());
    let names = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>();

    let only = UpTo { only: names(&["create_c"]), ..UpTo::default() };
    assert_eq!(migrator.up_with(&only).await.unwrap(), [C], "only C, though A and B pend");
    assert_eq!(tables(&db, "public").await, ["c", "strata_migrations"]);
    let range = UpTo { from: Some(A.into()), to: Some("20260104000000".into()), only: vec![] };
    assert_eq!(migrator.up_with(&range).await.unwrap(), [B, D], "after A, up to D, C applied");
    assert_eq!(recorded(&db).await, [C, B, D]);
    assert_eq!(migrator.up_with(&UpTo::to(Some("0"))).await.unwrap(), [A], "--to 0: the rest");

    let down = DownTo::Only(names(&["create_a", "create_c"]));
    assert_eq!(migrator.down(down).await.unwrap(), [A, C], "newest applied first");
    assert_eq!(tables(&db, "public").await, ["b", "d", "strata_migrations"]);
    assert_eq!(recorded(&db).await, [B, D]);

    let err = migrator.up_with(&UpTo { only: names(&["nope"]), ..UpTo::default() }).await;
    assert!(err.unwrap_err().message().contains("no such migration"));
    assert_eq!(recorded(&db).await, [B, D], "an unknown name applies nothing");
}

#[tokio::test]
async fn down_without_down_sql_is_refused_before_anything_is_reverted() {
    let db = TestDb::new().await;
    let orm = connect(&db).await;
    let dir = Dir::new();
    dir.write(A, "CREATE TABLE a (id int);", None);
    dir.write(B, "CREATE TABLE b (id int);", Some("DROP TABLE b;"));
    let migrator = Migrator::new(&orm, dir.source());
    migrator.up(None).await.unwrap();
    let err = migrator.down(DownTo::All).await.unwrap_err();
    assert!(err.message().contains(&format!("{A}.down.sql")), "{err}");
    assert_eq!(recorded(&db).await, [A, B], "B was not reverted either");
}

#[tokio::test]
async fn fresh_drops_everything_and_applies_all_again() {
    let db = TestDb::new().await;
    let orm = connect(&db).await;
    let dir = Dir::new();
    three(&dir);
    let migrator = Migrator::new(&orm, dir.source()).with_schemas(["extra"]);
    migrator.up(Some(A)).await.unwrap();
    let client = db.client().await;
    client
        .batch_execute(
            "INSERT INTO a VALUES (1); CREATE TABLE stray (id serial); CREATE VIEW v AS SELECT 1; \
             CREATE TYPE mood AS ENUM ('ok'); CREATE SCHEMA extra; CREATE TABLE extra.t (id int);",
        )
        .await
        .unwrap();
    assert_eq!(migrator.fresh().await.unwrap(), [A, B, C]);
    assert_eq!(tables(&db, "public").await, ["a", "b", "c", "strata_migrations"]);
    let n: i64 = client.query_one("SELECT count(*) FROM a", &[]).await.unwrap().get(0);
    assert_eq!(n, 0, "the data went with the table");
    let leftovers: i64 = client
        .query_one(
            "SELECT (SELECT count(*) FROM pg_views WHERE schemaname = 'public') \
             + (SELECT count(*) FROM pg_type WHERE typname = 'mood') \
             + (SELECT count(*) FROM pg_namespace WHERE nspname = 'extra')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(leftovers, 0);
    assert_eq!(recorded(&db).await, [A, B, C]);
}

#[tokio::test]
async fn the_tracking_table_lives_in_the_configured_schema() {
    let db = TestDb::new().await;
    let orm = Strata::connect(db.config().schema("app")).await.unwrap();
    let dir = Dir::new();
    dir.write(A, "CREATE TABLE app.a (id int);", Some("DROP TABLE app.a;"));
    let migrator = Migrator::new(&orm, dir.source());
    assert_eq!(migrator.tracking_schema(), Some("app"));
    migrator.up(None).await.unwrap();
    assert_eq!(tables(&db, "app").await, ["a", "strata_migrations"]);
    assert!(tables(&db, "public").await.is_empty());
}

static EMBEDDED: &[EmbeddedMigration] =
    strata_migrate::embed_migrations!("tests/fixtures/migrations");

#[tokio::test]
async fn embedded_migrations_apply_without_the_directory() {
    assert_eq!(EMBEDDED.len(), 2);
    assert_eq!(EMBEDDED[0].id, "20260101000000_create_author");
    assert!(EMBEDDED[1].up.contains("'none;yet'"));
    let db = TestDb::new().await;
    let orm = connect(&db).await;
    let migrator = Migrator::new(&orm, MigrationSource::Embedded(EMBEDDED));
    let applied = migrator.up(None).await.unwrap();
    assert_eq!(applied, ["20260101000000_create_author", "20260102000000_add_author_email"]);
    let client = db.client().await;
    client.batch_execute("INSERT INTO author (name) VALUES ('Ann')").await.unwrap();
    let email: String =
        client.query_one("SELECT email::text FROM author", &[]).await.unwrap().get(0);
    assert_eq!(email, "none;yet");
    // The same files read from disk carry the same checksums: the sources are interchangeable.
    let from_disk = Migrator::new(
        &orm,
        MigrationSource::directory(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/migrations"),
        ),
    );
    assert!(from_disk.up(None).await.unwrap().is_empty());
    assert_eq!(migrator.down(DownTo::All).await.unwrap().len(), 2);
    assert_eq!(tables(&db, "public").await, ["strata_migrations"]);
}
