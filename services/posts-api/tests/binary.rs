//! Tests of the compiled `posts-api` binary, run as a user runs it: in a working directory of
//! its own, with a clean environment (only `PATH`, `HOME` and the variables a test sets).
//!
//! - the zero-setup run: no database configured, the posts go to `./data/posts.sqlite` and
//!   survive a restart (SIGTERM, then a second start);
//! - PostgreSQL through `DATABASE_URL`: the service migrates its own database and serves;
//! - the Strata commands the binary embeds (`migration:*`, `debug`, `--help`), their output and
//!   exit codes (0 ok, 1 error or differences, 2 usage);
//! - invalid configuration: one line per problem, exit code 2, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use strata_test::TestDb;

/// The first migration, which every database gets.
const MIGRATION: &str = "20261124000000_create_post_entity";

/// Every migration the service ships (for each database the same ids), in order: the first
/// one, and any a developer added since.
fn shipped() -> Vec<&'static str> {
    posts_api::db::POSTGRES_MIGRATIONS.iter().map(|m| m.id).collect()
}

/// `1 migration`, `2 migrations`.
fn migrations(n: usize) -> String {
    format!("{n} migration{}", if n == 1 { "" } else { "s" })
}

/// A working directory of one test, removed afterwards.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(name: &str) -> WorkDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "posts-api-binary-{}-{}-{name}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the working directory can be created");
        WorkDir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The binary with a clean environment: `PATH`, `HOME` and `vars`, run in `dir`.
fn posts_api(dir: &Path, vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_posts-api"));
    command.env_clear().current_dir(dir);
    for inherited in ["PATH", "HOME"] {
        if let Some(value) = std::env::var_os(inherited) {
            command.env(inherited, value);
        }
    }
    command.envs(vars.iter().copied());
    command
}

/// A command's exit code, stdout and stderr.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Run {
    fn of(output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
        }
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `posts-api <args>` to completion.
fn run(dir: &Path, vars: &[(&str, &str)], args: &[&str]) -> Run {
    let output = posts_api(dir, vars)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("the posts-api binary runs");
    let run = Run::of(output);
    assert!(!run.stderr.contains("panicked"), "posts-api {args:?} panicked: {run}");
    run
}

/// A port nobody listens on (bound, read, released).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("a bound address").port()
}

/// The service running as a child process, its output going to a log file; killed if a test
/// ends without stopping it.
struct Service {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Service {
    /// Starts the service in `dir` on a free port and waits until it accepts connections.
    fn start(dir: &Path, vars: &[(&str, &str)]) -> Service {
        // The free port may be taken by another test between `free_port` and the service's
        // bind: then start again on another one.
        for _ in 0..3 {
            let mut service = Service::spawn(dir, vars);
            match service.wait_until_ready() {
                Ok(()) => return service,
                Err(log) if log.contains("cannot listen on port") => continue,
                Err(log) => panic!(
                    "the service exited before serving:
{log}"
                ),
            }
        }
        panic!("the service found no free port in three attempts");
    }

    fn spawn(dir: &Path, vars: &[(&str, &str)]) -> Service {
        static N: AtomicUsize = AtomicUsize::new(0);
        let port = free_port();
        // Beside the working directory, so that the service's own files are all it holds.
        let log = dir.with_extension(format!("{}.log", N.fetch_add(1, Ordering::Relaxed)));
        let out = File::create(&log).expect("a log file");
        let err = out.try_clone().expect("a second handle on the log file");
        let child = posts_api(dir, vars)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("the posts-api binary starts");
        Service { child, port, log }
    }

    /// Waits until the service says it listens and accepts a connection; `Err` holds the log
    /// of a service that exited instead.
    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                return Err(format!("({status})\n{}", self.log()));
            }
            if self.log().contains("posts API listening")
                && TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            {
                return Ok(());
            }
            assert!(
                Instant::now() < deadline,
                "the service does not listen on port {} after 60 s:\n{}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Everything the service printed so far.
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for the process to exit.
    fn stop(mut self) -> (ExitStatus, String) {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill").args(["-TERM", &pid]).status().expect("kill runs");
        assert!(kill.success(), "kill -TERM {pid} failed");
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the child can be polled") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "the service did not exit 30 s after SIGTERM:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        (status, self.log())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        let _ = std::fs::remove_file(&self.log);
    }
}

/// An HTTP answer: status and body.
async fn call(method: reqwest::Method, url: &str, body: Option<&Value>) -> (u16, String) {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(body);
    }
    let response = request.send().await.unwrap_or_else(|e| panic!("{url}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("a readable body"))
}

async fn get(service: &Service, path: &str) -> (u16, String) {
    call(reqwest::Method::GET, &service.url(path), None).await
}

async fn post(service: &Service, path: &str, body: &Value) -> (u16, String) {
    call(reqwest::Method::POST, &service.url(path), Some(body)).await
}

/// `url` with a password: its own if it has one, else `s3cret` (which a trust-auth server
/// ignores). Returns the URL and the password.
fn with_password(url: &str) -> (String, String) {
    let start = url.find("://").expect("a URL with a scheme") + 3;
    let at = start + url[start..].find('@').expect("a URL with a user");
    let userinfo = &url[start..at];
    if let Some((_, password)) = userinfo.split_once(':') {
        return (url.to_owned(), password.to_owned());
    }
    (format!("{}:s3cret{}", &url[..at], &url[at..]), "s3cret".to_owned())
}

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

#[tokio::test]
async fn version_prints_the_name_and_version() {
    let dir = WorkDir::new("version");
    for flag in ["--version", "-V"] {
        let version = run(dir.path(), &[], &[flag]);
        assert_eq!(version.code, Some(0), "{version}");
        assert_eq!(version.stdout, format!("posts-api {}\n", env!("CARGO_PKG_VERSION")));
    }
    assert!(!dir.path().join("data").exists(), "--version opens no database");
}

/// `help <command>` and `<command> --help` print that command's help only, not the
/// service's introduction.
#[tokio::test]
async fn help_for_one_command_prints_only_that_command() {
    let dir = WorkDir::new("help-command");
    for args in [&["help", "migration:up"][..], &["migration:up", "--help"]] {
        let help = run(dir.path(), &[], args);
        assert_eq!(help.code, Some(0), "{args:?}: {help}");
        assert!(help.stdout.starts_with("Apply the pending migrations"), "{args:?}: {help}");
        assert!(!help.stdout.contains("posts REST API"), "{args:?}: {help}");
    }
}

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

#[tokio::test]
async fn help_exits_0_and_lists_the_commands() {
    let dir = WorkDir::new("help");
    for args in [&["--help"][..], &["-h"], &["help"]] {
        let help = run(dir.path(), &[], args);
        assert_eq!(help.code, Some(0), "{args:?}: {help}");
        for command in ["migration:create", "migration:up", "migration:check", "debug"] {
            assert!(help.stdout.contains(command), "{args:?} lists {command}: {help}");
        }
    }
    let help = run(dir.path(), &[], &["migration:up", "--help"]);
    assert_eq!(help.code, Some(0), "{help}");
    assert!(help.stdout.contains("--to"), "{help}");
    // Help is shown even when the configuration is invalid.
    let help = run(dir.path(), &[("PORT", "abc")], &["--help"]);
    assert_eq!(help.code, Some(0), "{help}");
    assert!(help.stdout.contains("migration:up"), "{help}");
    assert!(!dir.path().join("data").exists(), "--help opens no database");
}

#[tokio::test]
async fn an_unknown_flag_or_command_is_a_usage_error_with_exit_code_2() {
    let dir = WorkDir::new("usage");
    let cases: &[(&[&str], &str)] = &[
        (&["--bogus"], "--bogus"),
        (&["migration:up", "--bogus"], "--bogus"),
        (&["migration:nope"], "migration:nope"),
    ];
    for (args, named) in cases {
        let usage = run(dir.path(), &[], args);
        assert_eq!(usage.code, Some(2), "{args:?}: {usage}");
        assert!(usage.stderr.contains(named), "{args:?} names {named}: {usage}");
    }
    assert!(!dir.path().join("data").exists(), "a usage error opens no database");
}

#[tokio::test]
async fn invalid_configuration_prints_one_line_per_problem_and_exits_2() {
    let dir = WorkDir::new("invalid");
    /// The variables, and the variable each line of the answer names, in order.
    type Case<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case<'_>] = &[
        (&[("PORT", "abc")], &["PORT"]),
        (
            &[("PORT", "abc"), ("LOG_LEVEL", "loud"), ("REQUEST_TIMEOUT_SECS", "0")],
            &["PORT", "REQUEST_TIMEOUT_SECS", "LOG_LEVEL"],
        ),
        (&[("DATABASE_URL", "mysql://root:hunter2@db/posts")], &["DATABASE_URL"]),
        (&[("POSTGRES_PORT", "99999")], &["POSTGRES_PORT"]),
    ];
    for (vars, variables) in cases {
        for args in [&[][..], &["migration:up"]] {
            let run = run(dir.path(), vars, args);
            assert_eq!(run.code, Some(2), "{vars:?} {args:?}: {run}");
            assert_eq!(run.stdout, "", "{vars:?} {args:?}");
            let lines: Vec<&str> = run.stderr.lines().collect();
            assert_eq!(lines.len(), variables.len(), "one line per problem: {run}");
            for (line, variable) in lines.iter().zip(*variables) {
                let expected = format!("invalid configuration: {variable}");
                assert!(line.starts_with(&expected), "{vars:?}: {line:?}");
            }
            assert!(!run.stderr.contains("hunter2"), "{run}");
        }
    }
    assert!(!dir.path().join("data").exists(), "nothing was started");
}
