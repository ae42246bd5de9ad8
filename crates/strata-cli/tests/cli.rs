//! The commands run in-process as a library, against a real PostgreSQL (one database per
//! test), checking exit codes, output and the database.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use strata::Entity;
use strata::StrataConfig;
use strata_cli::{Backend, Console, Project, run};
use strata_test::{SqliteTestDb, TestDb};

#[derive(Entity, Debug, Clone)]
struct PostEntity {
    #[strata(primary_key)]
    id: i32,
    title: String,
    content: String,
}

/// The post with a new column: the entity after a change.
#[derive(Entity, Debug, Clone)]
#[strata(table = "post_entity")]
struct PostWithTags {
    #[strata(primary_key)]
    id: i32,
    title: String,
    content: String,
    tags: Option<String>,
}

/// A migrations directory of one test, removed afterwards.
struct Dir(PathBuf);

impl Dir {
    fn new() -> Dir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "strata-cli-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Dir(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    /// The files of the directory, sorted (the snapshot included).
    fn files(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(&self.0)
            .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        out.sort();
        out
    }

    fn read(&self, suffix: &str) -> String {
        let name = self.files().into_iter().find(|f| f.ends_with(suffix)).unwrap();
        std::fs::read_to_string(self.0.join(name)).unwrap()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The output of one command.
#[derive(Debug)]
struct Ran {
    code: u8,
    out: String,
    err: String,
}

async fn cli(project: &Project, config: &StrataConfig, args: &[&str]) -> Ran {
    let console = Console::memory();
    let argv = std::iter::once("posts-api").chain(args.iter().copied());
    let code = run(project, config, argv, &console).await;
    Ran { code, out: console.stdout(), err: console.stderr() }
}

fn posts(dir: &Dir) -> Project {
    Project::new(&[PostEntity::meta()]).migrations_dir(dir.path())
}

/// A project that ships migrations for PostgreSQL and SQLite, in `dir/postgres` and
/// `dir/sqlite`.
fn both(dir: &Dir, entities: &[&'static strata::metadata::EntityMeta]) -> Project {
    Project::new(entities)
        .migrations_for(Backend::Postgres, dir.path().join("postgres"), &[])
        .migrations_for(Backend::Sqlite, dir.path().join("sqlite"), &[])
}

/// The sorted file names of `dir`.
fn files_of(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// The text of the one file of `dir` whose name ends in `suffix`.
fn read_in(dir: &Path, suffix: &str) -> String {
    let found: Vec<String> = files_of(dir).into_iter().filter(|f| f.ends_with(suffix)).collect();
    assert_eq!(found.len(), 1, "one *{suffix} in {}: {found:?}", dir.display());
    std::fs::read_to_string(dir.join(&found[0])).unwrap()
}

/// The columns of `table` as `name type nullability`, in order.
async fn columns(db: &TestDb, table: &str) -> Vec<String> {
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT column_name::text, data_type::text, is_nullable::text, \
             coalesce(column_default, '') FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let (name, ty, nullable, default): (String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            format!("{name} {ty} {nullable} {default}").trim_end().to_owned()
        })
        .collect()
}

#[tokio::test]
async fn create_up_create_again_and_down_follow_the_article() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    let project = posts(&dir);
    let config = db.config();

    let created =
        cli(&project, &config, &["migration:create", "--name", "create_post_entity"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    assert!(created.out.contains("Created migration"), "{created:?}");
    assert!(created.out.contains("_create_post_entity.up.sql"), "{created:?}");
    assert!(created.out.contains("- create table \"post_entity\""), "{created:?}");
    let files = dir.files();
    assert_eq!(files.len(), 3, "{files:?}");
    assert_eq!(files[0], ".snapshot.json");
    let up = dir.read(".up.sql");
    assert!(
        up.contains(
            "create table \"post_entity\" (\"id\" serial primary key, \"title\" varchar(255) \
             not null, \"content\" varchar(255) not null);"
        ),
        "{up}"
    );
    assert!(dir.read(".down.sql").contains("drop table \"post_entity\";"));

    let applied = cli(&project, &config, &["migration:up"]).await;
    assert_eq!(applied.code, 0, "{applied:?}");
    assert!(applied.out.contains("_create_post_entity (1/1) … done in "), "{applied:?}");
    assert_eq!(
        columns(&db, "post_entity").await,
        [
            "id integer NO nextval('post_entity_id_seq'::regclass)",
            "title character varying NO",
            "content character varying NO",
        ]
    );

    // Against the snapshot, then against the database: nothing to do either way.
    let again = cli(&project, &config, &["migration:create"]).await;
    assert_eq!((again.code, again.out.trim()), (0, "No changes required, schema is up-to-date"));
    std::fs::remove_file(dir.path().join(".snapshot.json")).unwrap();
    let again = cli(&project, &config, &["migration:create"]).await;
    assert_eq!((again.code, again.out.trim()), (0, "No changes required, schema is up-to-date"));
    assert_eq!(dir.files().len(), 2, "no file written");

    let check = cli(&project, &config, &["migration:check"]).await;
    assert_eq!(check.code, 0, "{check:?}");

    let down = cli(&project, &config, &["migration:down"]).await;
    assert_eq!(down.code, 0, "{down:?}");
    assert!(down.out.contains("Reverted 1 migration"), "{down:?}");
    assert!(columns(&db, "post_entity").await.is_empty(), "the table is gone");
}

/// One `migration:create` against PostgreSQL writes the migration for SQLite too, with the
/// same id; applied to a real SQLite file, it gives SQLite the entities' table, so the SQLite
/// default is not left without it.
#[tokio::test]
async fn a_migration_created_against_postgres_is_written_for_sqlite_too() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    let config = db.config();
    let (pg, lite) = (dir.path().join("postgres"), dir.path().join("sqlite"));

    let first = both(&dir, &[PostEntity::meta()]);
    let created = cli(&first, &config, &["migration:create", "--name", "create_post"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    assert_eq!(cli(&first, &config, &["migration:up"]).await.code, 0);

    let changed = both(&dir, &[PostWithTags::meta()]);
    let created = cli(&changed, &config, &["migration:create", "--name", "add_tags"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    assert!(created.out.contains("- add column \"post_entity\".\"tags\""), "{created:?}");
    assert_eq!(files_of(&pg), files_of(&lite), "the sets pair up, snapshot included");
    assert_eq!(files_of(&pg).len(), 5, "{:?}", files_of(&pg));
    assert!(
        read_in(&lite, "_create_post.up.sql").contains("\"id\" integer primary key autoincrement")
    );
    assert!(read_in(&pg, "_create_post.up.sql").contains("\"id\" serial primary key"));
    let tags = read_in(&lite, "_add_tags.up.sql");
    assert!(
        tags.contains(r#"alter table "post_entity" add column "tags" varchar(255);"#),
        "{tags}"
    );

    // Both databases end up where the entities are.
    assert_eq!(cli(&changed, &config, &["migration:up"]).await.code, 0);
    let check = cli(&changed, &config, &["migration:check"]).await;
    assert_eq!(check.code, 0, "{check:?}");
    let sqlite = SqliteTestDb::new();
    let up = cli(&changed, &sqlite.config(), &["migration:up"]).await;
    assert_eq!(up.code, 0, "{up:?}");
    assert!(up.out.contains("Applied 2 migrations"), "{up:?}");
    let check = cli(&changed, &sqlite.config(), &["migration:check"]).await;
    assert_eq!(check.code, 0, "{check:?}");
}

/// Without its snapshot, the SQLite set is compared with what its own migrations build (in an
/// in-memory SQLite), not with the PostgreSQL database; a PostgreSQL set without a snapshot is
/// not guessed from SQLite.
#[tokio::test]
async fn the_other_database_is_diffed_from_its_migrations_without_running_it() {
    let dir = Dir::new();
    let lite = dir.path().join("sqlite");
    // Nothing listens on port 1: the PostgreSQL set is diffed from its snapshot.
    let pg_down = StrataConfig::from_url("postgres://app:secret@127.0.0.1:1/nowhere");
    let first = both(&dir, &[PostEntity::meta()]);
    let created = cli(&first, &pg_down, &["migration:create", "--initial"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    std::fs::remove_file(lite.join(".snapshot.json")).unwrap();

    let changed = both(&dir, &[PostWithTags::meta()]);
    let created = cli(&changed, &pg_down, &["migration:create", "--name", "add_tags"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    let tags = read_in(&lite, "_add_tags.up.sql");
    assert!(tags.starts_with("-- Generated by migration:create from the migrations before it."));
    assert!(tags.contains(r#"add column "tags""#), "only the new column: {tags}");
    assert!(!tags.contains("create table"), "{tags}");

    // Configured for SQLite, the PostgreSQL set needs its snapshot.
    std::fs::remove_file(dir.path().join("postgres/.snapshot.json")).unwrap();
    let sqlite = SqliteTestDb::new();
    let refused = cli(&changed, &sqlite.config(), &["migration:create", "--name", "x"]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.err.contains(".snapshot.json") && refused.err.contains("PostgreSQL"));
}

/// The header of a generated migration names what it was compared with, never a path of this
/// machine nor the database URL (which may hold a password).
#[tokio::test]
async fn generated_migrations_contain_neither_a_path_nor_the_database_url() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    let url = db.url().replacen("postgres@", "postgres:s3cret@", 1);
    assert!(url.contains(":s3cret@"), "{url}");
    let config = StrataConfig::from_url(url).pool_size(2);
    let project = posts(&dir);
    // From the database (no snapshot yet), then from the snapshot.
    let created = cli(&project, &config, &["migration:create", "--name", "one"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    let changed = Project::new(&[PostWithTags::meta()]).migrations_dir(dir.path());
    let dumped = cli(&changed, &config, &["migration:create", "--dump"]).await;
    assert_eq!(dumped.code, 0, "{dumped:?}");
    let created = cli(&changed, &config, &["migration:create", "--name", "two"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    let temp = std::env::temp_dir();
    for (name, text) in dir
        .files()
        .iter()
        .filter(|f| f.ends_with(".sql"))
        .map(|f| (f.clone(), std::fs::read_to_string(dir.path().join(f)).unwrap()))
        .chain([("--dump".to_owned(), dumped.out.clone())])
    {
        let header = text.lines().find(|l| l.starts_with("-- Generated by migration:create from "));
        assert!(header.is_some(), "{name}: {text}");
        for leak in ["s3cret", "postgres://", "127.0.0.1", db.name(), &temp.display().to_string()] {
            assert!(!text.contains(leak), "{name} contains {leak:?}: {text}");
        }
    }
    assert!(
        read_in(dir.path(), "_one.up.sql")
            .starts_with("-- Generated by migration:create from the database.\n")
    );
    assert!(
        read_in(dir.path(), "_two.up.sql").contains("from the schema snapshot .snapshot.json.\n")
    );
}

#[tokio::test]
async fn check_exits_1_while_entities_and_database_differ() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    let project = posts(&dir);
    let config = db.config();
    let check = cli(&project, &config, &["migration:check"]).await;
    assert_eq!(check.code, 1, "{check:?}");
    assert!(check.out.contains("- create table \"post_entity\""), "{check:?}");
    assert!(check.out.contains("migration:create"), "{check:?}");

    let created = cli(&project, &config, &["schema:create", "--run"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    let check = cli(&project, &config, &["migration:check"]).await;
    assert_eq!((check.code, check.out.trim()), (0, "No changes required, schema is up-to-date"));
}

#[tokio::test]
async fn list_and_pending_show_names_and_times() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path()).unwrap();
    for (id, sql) in [
        ("20260101000000_a", "CREATE TABLE a (id int);"),
        ("20260102000000_b", "CREATE TABLE b (id int);"),
    ] {
        std::fs::write(dir.path().join(format!("{id}.up.sql")), sql).unwrap();
    }
    let project = posts(&dir);
    let config = db.config();
    let list = cli(&project, &config, &["migration:list"]).await;
    assert_eq!((list.code, list.out.trim()), (0, "No migrations have been applied"));
    let pending = cli(&project, &config, &["migration:pending"]).await;
    assert!(pending.out.contains("20260101000000_a") && pending.out.contains("20260102000000_b"));

    let up = cli(&project, &config, &["migration:up", "--to", "20260101000000_a"]).await;
    assert_eq!(up.code, 0, "{up:?}");
    let list = cli(&project, &config, &["migration:list"]).await;
    assert_eq!(list.code, 0);
    assert!(list.out.contains("| Name "), "{}", list.out);
    assert!(list.out.contains("Executed at"), "{}", list.out);
    assert!(list.out.contains("| 20260101000000_a |"), "{}", list.out);
    assert!(list.out.contains(" UTC |"), "{}", list.out);
    assert!(!list.out.contains("20260102000000_b"), "{}", list.out);
    let pending = cli(&project, &config, &["migration:pending"]).await;
    assert!(!pending.out.contains("20260101000000_a"), "{}", pending.out);
    assert!(pending.out.contains("20260102000000_b"), "{}", pending.out);

    // `down` without a down file says which file to write.
    let down = cli(&project, &config, &["migration:down", "--to", "0"]).await;
    assert_eq!(down.code, 1, "{down:?}");
    assert!(down.err.contains("20260101000000_a.down.sql"), "{down:?}");
}

/// `migration:up --from/--to/--only` and `migration:down --only` choose as MikroORM's do;
/// `down --from` says what to use instead.
#[tokio::test]
async fn up_and_down_take_from_to_and_only_as_mikroorm_does() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path()).unwrap();
    for name in ["a", "b", "c", "d"] {
        let id = format!("2026010{}000000_{name}", 1 + name.as_bytes()[0] - b'a');
        std::fs::write(dir.path().join(format!("{id}.up.sql")), format!("CREATE TABLE {name} ();"))
            .unwrap();
        std::fs::write(dir.path().join(format!("{id}.down.sql")), format!("DROP TABLE {name};"))
            .unwrap();
    }
    let project = posts(&dir);
    let config = db.config();
    let applied = |ran: &Ran| {
        ran.out
            .lines()
            .filter_map(|l| l.strip_prefix("Applying "))
            .map(|l| l[15..16].to_owned())
            .collect::<Vec<_>>()
    };

    let only = cli(&project, &config, &["migration:up", "--only", "c,b"]).await;
    assert_eq!(only.code, 0, "{only:?}");
    assert_eq!(applied(&only), ["b", "c"], "{only:?}");
    let again = cli(&project, &config, &["migration:up", "-o", "b"]).await;
    assert!(again.out.contains("Nothing to apply: b applied already"), "{again:?}");
    let range = cli(&project, &config, &["migration:up", "--from", "a", "--to", "d"]).await;
    assert_eq!(applied(&range), ["d"], "after a, up to d; b and c are applied: {range:?}");
    let rest = cli(&project, &config, &["migration:up", "--to", "0"]).await;
    assert_eq!(applied(&rest), ["a"], "{rest:?}");

    let down = cli(&project, &config, &["migration:down", "--only", "b", "--only", "d"]).await;
    assert_eq!(down.code, 0, "{down:?}");
    assert!(down.out.contains("Reverted 2 migrations"), "{down:?}");
    let list = cli(&project, &config, &["migration:list"]).await;
    assert!(list.out.contains("_a |") && list.out.contains("_c |"), "{list:?}");
    assert!(!list.out.contains("_b |") && !list.out.contains("_d |"), "{list:?}");

    let from = cli(&project, &config, &["migration:down", "--from", "c"]).await;
    assert_eq!(from.code, 2, "{from:?}");
    assert!(from.err.contains("--to") && from.err.contains("--only"), "{from:?}");
    let both = cli(&project, &config, &["migration:up", "--only", "a", "--to", "b"]).await;
    assert_eq!(both.code, 2, "--only and --to conflict: {both:?}");
    let help = cli(&project, &config, &["migration:up", "--help"]).await;
    for option in ["--from", "--to", "--only"] {
        assert!(help.out.contains(option), "{option}: {help:?}");
    }
}

#[tokio::test]
async fn a_failing_migration_exits_1_naming_it_and_its_statement() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path()).unwrap();
    std::fs::write(dir.path().join("20260101000000_ok.up.sql"), "CREATE TABLE ok (id int);")
        .unwrap();
    std::fs::write(
        dir.path().join("20260102000000_broken.up.sql"),
        "CREATE TABLE t (id int);\nALTER TABLE nowhere ADD COLUMN x int;",
    )
    .unwrap();
    let ran = cli(&posts(&dir), &db.config(), &["migration:up"]).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(ran.out.contains("20260101000000_ok (1/2) … done in"), "{ran:?}");
    assert!(ran.out.contains("20260102000000_broken (2/2) … failed"), "{ran:?}");
    assert!(ran.err.starts_with("error: migration 20260102000000_broken failed"), "{ran:?}");
    assert!(ran.err.contains("statement 2 of 2: ALTER TABLE nowhere"), "{ran:?}");
    assert!(ran.err.contains("\"nowhere\" does not exist"), "{ran:?}");
}

#[tokio::test]
async fn destructive_changes_need_allow_destructive() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    let config = db.config();
    assert_eq!(cli(&posts(&dir), &config, &["migration:create"]).await.code, 0);
    assert_eq!(cli(&posts(&dir), &config, &["migration:up"]).await.code, 0);

    // The entity is gone from the code: its table would be dropped.
    let none = Project::new(&[]).migrations_dir(dir.path());
    let refused = cli(&none, &config, &["migration:create"]).await;
    assert_eq!(refused.code, 1, "{refused:?}");
    assert!(refused.err.contains("lose data"), "{refused:?}");
    assert!(refused.err.contains("drop table \"post_entity\""), "{refused:?}");
    assert!(refused.err.contains("--allow-destructive"), "{refused:?}");
    assert_eq!(dir.files().len(), 3, "nothing written");

    let dumped = cli(&none, &config, &["migration:create", "--allow-destructive", "--dump"]).await;
    assert_eq!(dumped.code, 0, "{dumped:?}");
    assert!(dumped.out.contains("drop table \"post_entity\";"), "{dumped:?}");
    assert_eq!(dir.files().len(), 3, "--dump writes nothing");

    let allowed = cli(&none, &config, &["migration:create", "--allow-destructive"]).await;
    assert_eq!(allowed.code, 0, "{allowed:?}");
    assert_eq!(dir.files().len(), 5);
    assert_eq!(cli(&none, &config, &["migration:up"]).await.code, 0);
    assert!(columns(&db, "post_entity").await.is_empty());
}

#[tokio::test]
async fn initial_and_blank_migrations_need_no_database() {
    let dir = Dir::new();
    // Nothing listens on port 1: any attempt to connect would fail the command.
    let config = StrataConfig::from_url("postgres://app:secret@127.0.0.1:1/nowhere");
    let initial = cli(&posts(&dir), &config, &["migration:create", "--initial"]).await;
    assert_eq!(initial.code, 0, "{initial:?}");
    assert!(dir.read(".up.sql").contains("create table \"post_entity\""));
    let again = cli(&posts(&dir), &config, &["migration:create", "--initial"]).await;
    assert_eq!(again.code, 1, "{again:?}");
    assert!(again.err.contains("--initial creates the first one only"), "{again:?}");
    let same = cli(&posts(&dir), &config, &["migration:create"]).await;
    assert_eq!(same.out.trim(), "No changes required, schema is up-to-date", "{same:?}");
    let blank = cli(&posts(&dir), &config, &["migration:create", "--blank", "-n", "seed"]).await;
    assert_eq!(blank.code, 0, "{blank:?}");
    assert!(dir.files().iter().any(|f| f.ends_with("_seed.up.sql")), "{:?}", dir.files());
}

#[tokio::test]
async fn an_unreachable_database_is_named_without_its_password() {
    let dir = Dir::new();
    let config = StrataConfig::from_url("postgres://app:secret@127.0.0.1:1/blog")
        .connect_timeout(std::time::Duration::from_secs(2));
    let ran = cli(&posts(&dir), &config, &["migration:up"]).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(ran.err.contains("postgres://app:***@127.0.0.1:1/blog"), "{ran:?}");
    assert!(ran.err.contains("DATABASE_URL"), "{ran:?}");
    assert!(!ran.err.contains("secret") && !ran.out.contains("secret"), "{ran:?}");
}

/// `url` (of the test server) with its user replaced by `user` and no password.
fn with_user(url: &str, user: &str) -> String {
    let start = url.find("://").unwrap() + 3;
    let at = start + url[start..].find('@').unwrap();
    format!("{}{user}{}", &url[..start], &url[at..])
}

/// A refused connection, an unknown role and an unknown database each say what failed, keep
/// the reason the system or the server gave, and say what to change.
#[tokio::test]
async fn each_connection_error_says_what_failed_and_keeps_the_reason() {
    let dir = Dir::new();
    let timeout = std::time::Duration::from_secs(5);

    let refused =
        StrataConfig::from_url("postgres://app:secret@127.0.0.1:1/blog").connect_timeout(timeout);
    let ran = cli(&posts(&dir), &refused, &["migration:up"]).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(ran.err.contains("the connection was refused"), "what failed: {ran:?}");
    assert!(ran.err.to_lowercase().contains("connection refused ("), "the reason: {ran:?}");
    assert!(ran.err.contains("check that the server is running"), "{ran:?}");

    let url = with_user(&strata_test::base_url(), "strata_no_such_role");
    let login = StrataConfig::from_url(url).connect_timeout(timeout);
    let ran = cli(&posts(&dir), &login, &["migration:up"]).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(ran.err.contains("refused the login (authentication failed)"), "{ran:?}");
    assert!(ran.err.contains("\"strata_no_such_role\""), "the server's reason: {ran:?}");
    assert!(ran.err.contains("POSTGRES_USER and POSTGRES_PASSWORD"), "{ran:?}");
    assert!(!ran.err.contains("a server that is running"), "the server is running: {ran:?}");

    let db = TestDb::new().await;
    let missing = StrataConfig::from_url(format!("{}_missing", db.url())).connect_timeout(timeout);
    let ran = cli(&posts(&dir), &missing, &["migration:up"]).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(ran.err.contains("the database does not exist"), "{ran:?}");
    assert!(ran.err.contains(&format!("\"{}_missing\" does not exist", db.name())), "{ran:?}");
    assert!(ran.err.contains("database:create"), "{ran:?}");
}

#[tokio::test]
async fn a_missing_database_suggests_database_create_which_creates_it() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    let name = format!("{}_created", db.name());
    let url = format!("{}_created", db.url());
    let config = StrataConfig::from_url(url).pool_size(1);
    let ran = cli(&posts(&dir), &config, &["migration:up"]).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(ran.err.contains("database:create"), "{ran:?}");

    let created = cli(&posts(&dir), &config, &["database:create"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    assert_eq!(created.out.trim(), format!("Created database {name}"));
    let again = cli(&posts(&dir), &config, &["database:create"]).await;
    assert_eq!(again.out.trim(), format!("Database {name} already exists"), "{again:?}");
    let up = cli(&posts(&dir), &config, &["migration:up"]).await;
    assert_eq!(up.code, 0, "{up:?}");
    db.client()
        .await
        .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .await
        .unwrap();
}

#[tokio::test]
async fn debug_shows_the_configuration_without_password_and_every_entity() {
    let dir = Dir::new();
    let config = StrataConfig::from_url("postgres://app:secret@127.0.0.1:1/blog")
        .connect_timeout(std::time::Duration::from_secs(1));
    let ran = cli(&posts(&dir), &config, &["debug"]).await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.out.contains("postgres://app:***@127.0.0.1:1/blog"), "{ran:?}");
    assert!(!ran.out.contains("secret"), "{ran:?}");
    assert!(ran.out.contains("unreachable"), "{ran:?}");
    assert!(ran.out.contains("PostEntity -> table post_entity"), "{ran:?}");
    assert!(ran.out.contains("title    varchar(255)  not null"), "{ran:?}");
    assert!(ran.out.contains("id       int  primary key, generated, not null"), "{ran:?}");
}

#[tokio::test]
async fn schema_commands_dump_run_drop_and_fresh() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    let project = posts(&dir);
    let config = db.config();
    let dump = cli(&project, &config, &["schema:create", "--dump"]).await;
    assert_eq!(dump.code, 0, "{dump:?}");
    assert!(dump.out.starts_with("create table \"post_entity\""), "{dump:?}");
    assert!(columns(&db, "post_entity").await.is_empty(), "--dump runs nothing");

    assert_eq!(cli(&project, &config, &["schema:update", "--run"]).await.code, 0);
    assert_eq!(columns(&db, "post_entity").await.len(), 3);
    let update = cli(&project, &config, &["schema:update", "--dump"]).await;
    assert!(update.out.contains("No changes required"), "{update:?}");

    db.client().await.batch_execute("CREATE TABLE stray (id int)").await.unwrap();
    let drop = cli(&project, &config, &["schema:drop", "--run"]).await;
    assert_eq!(drop.code, 0, "{drop:?}");
    assert!(columns(&db, "post_entity").await.is_empty());
    assert_eq!(columns(&db, "stray").await.len(), 1, "only the entities' tables are dropped");

    let fresh = cli(&project, &config, &["schema:fresh", "--run"]).await;
    assert_eq!(fresh.code, 0, "{fresh:?}");
    assert!(columns(&db, "stray").await.is_empty(), "fresh drops everything");
    assert_eq!(columns(&db, "post_entity").await.len(), 3);
}

/// `schema:update --dump` runs nothing, so it shows the SQL that loses data too, marked, where
/// `--run` refuses it.
#[tokio::test]
async fn schema_update_dump_shows_destructive_sql_marked() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    let project = posts(&dir);
    let config = db.config();
    let created = cli(&project, &config, &["schema:create", "--run"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    assert_eq!(created.out.trim(), "Schema created (1 statement)", "one, not \"1 statements\"");
    db.client().await.batch_execute("ALTER TABLE post_entity ADD COLUMN extra int").await.unwrap();

    let dump = cli(&project, &config, &["schema:update", "--dump"]).await;
    assert_eq!(dump.code, 0, "{dump:?}");
    assert!(dump.out.starts_with("-- These changes lose data"), "{dump:?}");
    assert!(dump.out.contains("--   drop column \"post_entity\".\"extra\""), "{dump:?}");
    assert!(dump.out.contains("alter table \"post_entity\" drop column \"extra\";"), "{dump:?}");
    assert_eq!(columns(&db, "post_entity").await.len(), 4, "--dump runs nothing");

    let run = cli(&project, &config, &["schema:update", "--run"]).await;
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.err.contains("--allow-destructive"), "{run:?}");
    assert_eq!(columns(&db, "post_entity").await.len(), 4);
}

/// On SQLite, `debug` does not speak of PostgreSQL's search path.
#[tokio::test]
async fn debug_on_sqlite_says_sqlite_has_no_schemas() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.path()).unwrap();
    let file = dir.path().join("app.sqlite");
    let config = StrataConfig::from_url(format!("sqlite://{}", file.display()));
    let ran = cli(&posts(&dir), &config, &["debug"]).await;
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.out.contains("schema:          (none: SQLite has no schemas)"), "{ran:?}");
    assert!(!ran.out.contains("search path"), "{ran:?}");
}

#[tokio::test]
async fn migration_fresh_reapplies_everything() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    let project = posts(&dir);
    let config = db.config();
    assert_eq!(cli(&project, &config, &["migration:create"]).await.code, 0);
    assert_eq!(cli(&project, &config, &["migration:up"]).await.code, 0);
    let client = db.client().await;
    client
        .batch_execute("INSERT INTO post_entity (title, content) VALUES ('a', 'b')")
        .await
        .unwrap();
    let fresh = cli(&project, &config, &["migration:fresh"]).await;
    assert_eq!(fresh.code, 0, "{fresh:?}");
    assert!(fresh.out.contains("Dropped table public.post_entity\n"), "{fresh:?}");
    assert!(fresh.out.contains("Dropped table public.strata_migrations\n"), "{fresh:?}");
    assert!(!fresh.out.contains("sequence"), "owned sequences go with their tables: {fresh:?}");
    assert!(fresh.out.contains("applied 1 migration"), "{fresh:?}");
    let n: i64 = client.query_one("SELECT count(*) FROM post_entity", &[]).await.unwrap().get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn usage_errors_exit_2_and_help_exits_0() {
    let dir = Dir::new();
    let project = posts(&dir);
    let config = StrataConfig::default();
    for args in [
        &["migration:nope"][..],
        &["migration:up", "--bogus"],
        &["schema:create"],
        &["schema:update", "--run", "--dump"],
        &["schema:fresh"],
        &["migration:create", "--blank", "--initial"],
    ] {
        let ran = cli(&project, &config, args).await;
        assert_eq!(ran.code, 2, "{args:?}: {ran:?}");
        assert!(ran.err.contains("Usage"), "{args:?}: {ran:?}");
    }
    for command in [
        "migration:create",
        "migration:up",
        "migration:down",
        "migration:list",
        "migration:pending",
        "migration:check",
        "migration:fresh",
        "schema:create",
        "schema:update",
        "schema:drop",
        "schema:fresh",
        "database:create",
        "debug",
    ] {
        let ran = cli(&project, &config, &[command, "--help"]).await;
        assert_eq!(ran.code, 0, "{command}: {ran:?}");
        assert!(ran.out.contains(&format!("Usage: posts-api {command}")), "{command}: {ran:?}");
    }
    let ran = cli(&project, &config, &["--help"]).await;
    assert_eq!(ran.code, 0);
    assert!(ran.out.contains("migration:create"), "{ran:?}");
}

/// The options docs/migrations.md lists for each command are the ones the command takes, and
/// the range options of `migration:up` and `migration:down` are all documented.
#[tokio::test]
async fn the_documented_options_of_each_command_are_the_ones_it_takes() {
    let docs =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/migrations.md"))
            .unwrap();
    let dir = Dir::new();
    let project = posts(&dir);
    let config = StrataConfig::default();
    let options = |text: &str| -> Vec<String> {
        text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter(|w| w.starts_with("--") && w.len() > 2)
            .map(str::to_owned)
            .collect()
    };
    let mut seen = 0;
    for line in
        docs.lines().filter(|l| l.starts_with("| `migration:") || l.starts_with("| `schema:"))
    {
        let cell = line.split('`').nth(1).unwrap();
        let command = cell.split_whitespace().next().unwrap();
        let help = cli(&project, &config, &[command, "--help"]).await;
        assert_eq!(help.code, 0, "{command}: {help:?}");
        for option in options(cell) {
            assert!(help.out.contains(&option), "docs list {option} for {command}: {help:?}");
        }
        if command == "migration:up" || command == "migration:down" {
            for option in ["--to", "--only"] {
                assert!(options(cell).contains(&option.to_owned()), "{command} documents {option}");
            }
        }
        if command == "migration:up" {
            assert!(options(cell).contains(&"--from".to_owned()), "{line}");
        }
        seen += 1;
    }
    assert!(seen >= 10, "the command table was found: {seen} rows");
}

#[test]
fn is_command_recognises_the_prefixes() {
    for yes in ["migration:up", "schema:drop", "database:create", "debug", "migration:whatever"] {
        assert!(strata_cli::is_command(yes), "{yes}");
    }
    for no in ["serve", "--port", "migration", "debugger"] {
        assert!(!strata_cli::is_command(no), "{no}");
    }
    let argv = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert!(strata_cli::is_command_line(argv(&["posts-api", "migration:up"])));
    assert!(!strata_cli::is_command_line(argv(&["posts-api"])));
}
