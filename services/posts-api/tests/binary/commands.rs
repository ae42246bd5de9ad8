//! The Strata commands the binary embeds, against PostgreSQL and the default SQLite file.

use crate::common::*;

#[tokio::test]
async fn the_migration_commands_report_and_apply_the_pending_migration_on_postgres() {
    let db = TestDb::new().await;
    let dir = WorkDir::new("cli-postgres");
    let vars = [("DATABASE_URL", db.url())];
    let cli = |args: &[&str]| run(dir.path(), &vars, args);

    let list = cli(&["migration:list"]);
    assert_eq!(list.code, Some(0), "{list}");
    assert!(list.stdout.contains("No migrations have been applied"), "{list}");

    let pending = cli(&["migration:pending"]);
    assert_eq!(pending.code, Some(0), "{pending}");
    assert!(pending.stdout.contains(MIGRATION), "{pending}");

    let check = cli(&["migration:check"]);
    assert_eq!(check.code, Some(1), "the database lacks the table: {check}");
    assert!(check.stdout.contains("The entities and the database differ"), "{check}");
    assert!(check.stdout.contains("post_entity"), "{check}");
    let n = shipped().len();
    assert!(check.stdout.contains(&format!("{} pending", migrations(n))), "{check}");

    let up = cli(&["migration:up"]);
    assert_eq!(up.code, Some(0), "{up}");
    assert!(up.stdout.contains(&format!("Applying {MIGRATION} (1/{n})")), "{up}");
    assert!(up.stdout.contains(&format!("Applied {}", migrations(n))), "{up}");
    let client = db.client().await;
    let count = client.query_one(r#"SELECT count(*) FROM "post_entity""#, &[]).await;
    assert_eq!(count.expect("the table exists").get::<_, i64>(0), 0);

    let list = cli(&["migration:list"]);
    assert_eq!(list.code, Some(0), "{list}");
    assert!(list.stdout.contains("Executed at") && list.stdout.contains(MIGRATION), "{list}");
    let pending = cli(&["migration:pending"]);
    assert!(pending.stdout.contains("No pending migrations"), "{pending}");
    let check = cli(&["migration:check"]);
    assert_eq!(check.code, Some(0), "{check}");
    assert!(check.stdout.contains("No changes required, schema is up-to-date"), "{check}");
    let again = cli(&["migration:up"]);
    assert_eq!(again.code, Some(0), "{again}");
    assert!(again.stdout.contains("No pending migrations, the database is up-to-date"), "{again}");
}

/// The article's workflow with the real binary: `migration:create` on an empty database writes
/// the article's migration, `migration:up` applies it, a second `migration:create` finds
/// nothing to do, and `migration:down` removes the table again.
#[tokio::test]
async fn migration_create_up_create_again_and_down_follow_the_article() {
    let db = TestDb::new().await;
    let dir = WorkDir::new("cli-create");
    let migrations = dir.path().join("migrations");
    let path = migrations.to_str().expect("a UTF-8 temp path").to_owned();
    let vars = [("DATABASE_URL", db.url())];
    let cli = |args: &[&str]| run(dir.path(), &vars, args);

    let create = cli(&["migration:create", "--name", "init", "--path", &path]);
    assert_eq!(create.code, Some(0), "{create}");
    assert!(create.stdout.contains("post_entity"), "a summary line per change: {create}");
    let mut ups: Vec<std::path::PathBuf> = std::fs::read_dir(&migrations)
        .expect("the migrations directory was created")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.to_string_lossy().ends_with("_init.up.sql"))
        .collect();
    assert_eq!(ups.len(), 1, "one up file: {ups:?}");
    let up_file = ups.remove(0);
    let up_sql = std::fs::read_to_string(&up_file).expect("the up file is readable");
    assert!(
        up_sql.contains(
            r#"create table "post_entity" ("id" serial primary key, "title" varchar(255) not null, "content" varchar(255) not null);"#
        ),
        "the article's migration: {up_sql}"
    );
    let down_file = up_file.to_string_lossy().replace(".up.sql", ".down.sql");
    assert!(std::path::Path::new(&down_file).exists(), "a down file next to it");
    assert!(create.stdout.contains(&*up_file.to_string_lossy()), "its path is printed: {create}");

    let up = cli(&["migration:up", "--path", &path]);
    assert_eq!(up.code, Some(0), "{up}");
    let client = db.client().await;
    let exists_sql = "SELECT to_regclass('post_entity') IS NOT NULL";
    let exists = client.query_one(exists_sql, &[]).await.expect("a boolean").get::<_, bool>(0);
    assert!(exists, "migration:up created the table");

    let again = cli(&["migration:create", "--path", &path]);
    assert_eq!(again.code, Some(0), "{again}");
    assert!(again.stdout.contains("No changes required, schema is up-to-date"), "{again}");

    let down = cli(&["migration:down", "--path", &path]);
    assert_eq!(down.code, Some(0), "{down}");
    let exists = client.query_one(exists_sql, &[]).await.expect("a boolean").get::<_, bool>(0);
    assert!(!exists, "migration:down removed the table");
}

/// On SQLite `database:create` only opens (creates) the file, and `migration:create` without
/// a snapshot refuses to diff against a database that lacks written migrations: the new
/// migration would repeat them.
#[tokio::test]
async fn migration_create_waits_for_pending_migrations_and_database_create_on_sqlite_is_the_file() {
    let dir = WorkDir::new("cli-sqlite-create");
    // The service's SQLite migrations without their snapshot: compared with the database.
    let migrations = dir.path().join("migrations");
    std::fs::create_dir_all(&migrations).unwrap();
    let shipped_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(shipped_dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "sql") {
            std::fs::copy(&path, migrations.join(path.file_name().unwrap())).unwrap();
        }
    }
    let path = migrations.to_str().expect("a UTF-8 temp path").to_owned();
    let cli = |args: &[&str]| run(dir.path(), &[], args);
    let created = cli(&["database:create"]);
    assert_eq!(created.code, Some(0), "{created}");
    assert!(created.stdout.contains("SQLite"), "{created}");
    assert!(dir.path().join("data/posts.sqlite").exists(), "the file is created");
    assert!(!dir.path().join("postgres").exists(), "no file named after a PostgreSQL database");

    let create = cli(&["migration:create", "--dump", "--path", &path]);
    assert_eq!(create.code, Some(1), "{create}");
    assert!(create.stderr.contains("run `migration:up` first"), "{create}");
    assert!(create.stderr.contains(MIGRATION), "names the pending migration: {create}");
    assert_eq!(cli(&["migration:up", "--path", &path]).code, Some(0));
    let again = cli(&["migration:create", "--dump", "--path", &path]);
    assert_eq!(again.code, Some(0), "{again}");
    assert!(again.stdout.contains("No changes required, schema is up-to-date"), "{again}");
}

#[tokio::test]
async fn the_migration_commands_use_the_default_sqlite_file_when_nothing_is_configured() {
    let dir = WorkDir::new("cli-sqlite");
    let cli = |args: &[&str]| run(dir.path(), &[], args);
    let check = cli(&["migration:check"]);
    assert_eq!(check.code, Some(1), "the database lacks the table: {check}");
    let n = shipped().len();
    assert!(check.stdout.contains(&format!("{} pending", migrations(n))), "{check}");
    let up = cli(&["migration:up"]);
    assert_eq!(up.code, Some(0), "{up}");
    assert!(up.stdout.contains(&format!("Applied {}", migrations(n))), "{up}");
    assert!(dir.path().join("data/posts.sqlite").is_file(), "{up}");
    let check = cli(&["migration:check"]);
    assert_eq!(check.code, Some(0), "{check}");
    assert!(check.stdout.contains("No changes required, schema is up-to-date"), "{check}");
    let list = cli(&["migration:list"]);
    assert!(list.stdout.contains(MIGRATION), "{list}");
}

#[tokio::test]
async fn debug_shows_the_configuration_with_the_password_hidden_and_the_entity() {
    let db = TestDb::new().await;
    let dir = WorkDir::new("debug");
    let (url, password) = with_password(db.url());
    let debug = run(dir.path(), &[("DATABASE_URL", &url)], &["debug"]);
    assert_eq!(debug.code, Some(0), "{debug}");
    assert!(!debug.stdout.contains(&password) && !debug.stderr.contains(&password), "{debug}");
    assert!(debug.stdout.contains(":***@"), "{debug}");
    assert!(debug.stdout.contains(db.name()), "{debug}");
    assert!(debug.stdout.contains("connection:      reachable"), "{debug}");
    assert!(debug.stdout.contains("PostEntity -> table post_entity"), "{debug}");
    for column in ["id", "title", "content"] {
        assert!(debug.stdout.lines().any(|l| l.trim_start().starts_with(column)), "{debug}");
    }
}

#[tokio::test]
async fn a_command_against_an_unreachable_database_says_what_to_do_without_the_password() {
    let dir = WorkDir::new("cli-unreachable");
    let url = "postgres://postgres:s3cret@127.0.0.1:1/posts";
    let up = run(dir.path(), &[("DATABASE_URL", url)], &["migration:up"]);
    assert_eq!(up.code, Some(1), "{up}");
    assert!(up.stderr.starts_with("error: "), "{up}");
    assert!(up.stderr.contains("DATABASE_URL"), "it says how to point at a server: {up}");
    assert!(!up.stdout.contains("s3cret") && !up.stderr.contains("s3cret"), "{up}");
}
