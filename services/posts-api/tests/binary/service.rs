//! The service itself: where it stores posts, how it migrates, starts and reports.

use crate::common::*;

#[tokio::test]
async fn with_nothing_configured_the_service_stores_posts_in_data_posts_sqlite_across_a_restart() {
    let dir = WorkDir::new("zero-setup");
    let first = Service::start(dir.path(), &[]);
    assert!(dir.path().join("data/posts.sqlite").is_file(), "the file is created at start-up");
    let (status, body) =
        post(&first, "/posts", &json!({"title": "Hello", "content": "World"})).await;
    assert_eq!((status, body.as_str()), (201, r#"{"id":1,"title":"Hello","content":"World"}"#));
    assert_eq!(get(&first, "/health").await, (200, r#"{"status":"ok","database":"up"}"#.into()));

    let (status, log) = first.stop();
    assert!(status.success(), "SIGTERM ends the service cleanly ({status}):\n{log}");
    assert!(log.contains("using SQLite"), "the log says which database it uses:\n{log}");
    assert!(log.contains(MIGRATION), "the first start applies the migration:\n{log}");
    assert!(log.contains("SIGTERM received"), "{log}");

    let second = Service::start(dir.path(), &[]);
    let stored = r#"{"id":1,"title":"Hello","content":"World"}"#;
    assert_eq!(get(&second, "/posts/1").await, (200, stored.into()), "the post survived");
    assert_eq!(get(&second, "/posts").await, (200, format!("[{stored}]")));
    let (status, body) = post(&second, "/posts", &json!({"title": "Again", "content": "ok"})).await;
    assert_eq!((status, body.as_str()), (201, r#"{"id":2,"title":"Again","content":"ok"}"#));
    let (status, log) = second.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(!log.contains(MIGRATION), "nothing is left to migrate on a restart:\n{log}");
}

#[tokio::test]
async fn sqlite_path_chooses_the_file() {
    let dir = WorkDir::new("sqlite-path");
    let service = Service::start(dir.path(), &[("SQLITE_PATH", "store/blog.db")]);
    let (status, _) = post(&service, "/posts", &json!({"title": "a", "content": "b"})).await;
    assert_eq!(status, 201);
    let (status, log) = service.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(dir.path().join("store/blog.db").is_file(), "{log}");
    assert!(!dir.path().join("data").exists(), "the default file is not created");
}

#[tokio::test]
async fn with_database_url_the_service_migrates_postgres_and_serves() {
    let db = TestDb::new().await;
    let dir = WorkDir::new("postgres");
    let service = Service::start(dir.path(), &[("DATABASE_URL", db.url())]);
    let (status, body) =
        post(&service, "/posts", &json!({"title": "Hello", "content": "World"})).await;
    assert_eq!((status, body.as_str()), (201, r#"{"id":1,"title":"Hello","content":"World"}"#));
    assert_eq!(get(&service, "/health").await, (200, r#"{"status":"ok","database":"up"}"#.into()));

    let client = db.client().await;
    let names: Vec<String> = client
        .query(r#"SELECT "name" FROM "strata_migrations" ORDER BY "id""#, &[])
        .await
        .expect("the migrations are recorded")
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(names, shipped());
    let row = client
        .query_one(r#"SELECT "title", "content" FROM "post_entity" WHERE "id" = 1"#, &[])
        .await
        .expect("the post is in PostgreSQL");
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1)),
        ("Hello".into(), "World".into())
    );

    let (status, log) = service.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(log.contains("using PostgreSQL"), "{log}");
    assert!(!dir.path().join("data").exists(), "no SQLite file when PostgreSQL is configured");

    // A second start finds nothing to do and logs no database notices.
    let service = Service::start(dir.path(), &[("DATABASE_URL", db.url())]);
    assert_eq!(get(&service, "/posts/1").await.0, 200);
    let (status, log) = service.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(!log.contains("migration applied"), "{log}");
    assert!(!log.contains("NOTICE"), "no notice from an existing tracking table: {log}");
}

/// With `MIGRATE_ON_START=false` the service leaves the schema alone until an operator runs
/// `posts-api migration:up`; the running service then serves without a restart.
#[tokio::test]
async fn with_migrate_on_start_false_the_schema_waits_for_migration_up() {
    let db = TestDb::new().await;
    let dir = WorkDir::new("no-migrate");
    let vars = [("DATABASE_URL", db.url()), ("MIGRATE_ON_START", "false")];
    let service = Service::start(dir.path(), &vars);
    let client = db.client().await;
    let tracking = "SELECT to_regclass('strata_migrations') IS NOT NULL";
    let migrated = client.query_one(tracking, &[]).await.expect("a boolean").get::<_, bool>(0);
    assert!(!migrated, "nothing was migrated at start-up");
    let (status, body) = get(&service, "/posts").await;
    assert_eq!(status, 500, "no table yet: {body}");
    assert_eq!(body, r#"{"statusCode":500,"message":"Internal server error"}"#);
    let (status, body) = get(&service, "/health").await;
    assert_eq!(status, 503, "not ready while migrations are pending: {body}");
    assert!(body.contains(MIGRATION) && body.contains("migration:up"), "{body}");
    assert!(body.starts_with(r#"{"statusCode":503,"message":""#), "NestJS key order: {body}");
    assert!(body.ends_with(r#"","error":"Service Unavailable"}"#), "NestJS key order: {body}");

    let up = run(dir.path(), &vars, &["migration:up"]);
    assert_eq!(up.code, Some(0), "{up}");
    assert_eq!(get(&service, "/posts").await, (200, "[]".to_owned()));
    assert_eq!(get(&service, "/health").await.0, 200);
    let (status, log) = service.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(log.contains("MIGRATE_ON_START=false"), "{log}");
}

/// A migration that fails at start-up (here: the table exists, made by hand) is logged with
/// the migration and its statement; requests answer the NestJS 500 body without detail, and
/// the failing migration is not retried on every request.
#[tokio::test]
async fn a_failing_migration_at_start_up_is_logged_and_requests_answer_500() {
    let db = TestDb::new().await;
    db.client()
        .await
        .batch_execute(r#"CREATE TABLE "post_entity" ("id" serial PRIMARY KEY)"#)
        .await
        .expect("a conflicting table");
    let dir = WorkDir::new("failing-migration");
    let service = Service::start(dir.path(), &[("DATABASE_URL", db.url())]);
    for _ in 0..3 {
        let (status, body) = get(&service, "/posts").await;
        assert_eq!(status, 500, "{body}");
        assert_eq!(body, r#"{"statusCode":500,"message":"Internal server error"}"#);
    }
    assert_eq!(get(&service, "/health").await.0, 500, "an unmigrated service is not healthy");
    let (status, log) = service.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(log.contains("the migrations failed"), "{log}");
    assert!(log.contains(MIGRATION) && log.contains("already exists"), "{log}");
    assert_eq!(log.matches("the migrations failed").count(), 1, "tried once: {log}");
}

#[tokio::test]
async fn with_an_unreachable_postgres_the_service_starts_and_answers_503() {
    let dir = WorkDir::new("unreachable");
    let url = "postgres://postgres:s3cret@127.0.0.1:1/posts";
    let service = Service::start(dir.path(), &[("DATABASE_URL", url)]);
    let (status, body) = get(&service, "/posts").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#""error":"Service Unavailable""#), "{body}");
    let (status, log) = service.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(!log.contains("s3cret"), "the password never reaches the log:\n{log}");
}

#[tokio::test]
async fn when_the_sqlite_file_cannot_be_created_start_up_fails_with_a_message() {
    let dir = WorkDir::new("unwritable");
    std::fs::write(dir.path().join("taken"), b"a file, not a directory").unwrap();
    let run = run(dir.path(), &[("SQLITE_PATH", "taken/posts.sqlite"), ("PORT", "0")], &[]);
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("cannot open the SQLite database taken/posts.sqlite"), "{run}");
}

/// After migrating, a database whose table does not fit the entities (here a column renamed
/// by hand, as a migration missing for this database leaves it) is reported at start-up in
/// the log and by `/health`, instead of being found by failing requests.
#[tokio::test]
async fn a_schema_that_does_not_fit_the_entities_is_reported_at_start_up_and_by_health() {
    let db = TestDb::new().await;
    let dir = WorkDir::new("schema-mismatch");
    let vars = [("DATABASE_URL", db.url())];
    assert_eq!(run(dir.path(), &vars, &["migration:up"]).code, Some(0));
    db.client()
        .await
        .batch_execute(r#"ALTER TABLE "post_entity" RENAME COLUMN "content" TO "body""#)
        .await
        .unwrap();
    let service = Service::start(dir.path(), &vars);
    let (status, body) = get(&service, "/health").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(r#"add column \"post_entity\".\"content\""#), "{body}");
    let (status, log) = service.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(log.contains("does not match the entities"), "{log}");
    assert!(log.contains(r#"add column "post_entity"."content""#), "{log}");
}

/// A SQLite file that cannot be opened is reported in one message that says it once, with
/// SQLite's reason.
#[tokio::test]
async fn a_sqlite_file_that_cannot_be_opened_is_reported_once() {
    let dir = WorkDir::new("unopenable");
    std::fs::create_dir_all(dir.path().join("posts.sqlite")).unwrap();
    let run = run(dir.path(), &[("SQLITE_PATH", "posts.sqlite"), ("PORT", "0")], &[]);
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(run.stderr.lines().count(), 1, "{run}");
    assert_eq!(run.stderr.matches("cannot open the SQLite database").count(), 1, "{run}");
    assert_eq!(run.stderr.matches("unable to open database file").count(), 1, "{run}");
}

/// The log written to a file or a pipe carries no terminal colour codes.
#[tokio::test]
async fn the_log_has_no_colour_codes_when_it_is_not_a_terminal() {
    let dir = WorkDir::new("no-colour");
    let service = Service::start(dir.path(), &[]);
    assert_eq!(get(&service, "/health").await.0, 200);
    let (status, log) = service.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(log.contains("posts API listening"), "{log}");
    assert!(!log.contains('\u{1b}'), "no ANSI escape codes: {log:?}");
}
