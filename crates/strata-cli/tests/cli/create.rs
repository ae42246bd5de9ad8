//! `migration:create`: the article's workflow, every database's set, what the files say, and
//! what is refused.

use crate::common::*;

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
async fn an_author_added_to_posts_renders_mikro_orm_sql_and_warns_about_not_null() {
    let db = TestDb::new().await;
    let dir = Dir::new();
    let config = db.config();
    let first = cli(&posts(&dir), &config, &["migration:create", "--name", "posts"]).await;
    assert_eq!(first.code, 0, "{first:?}");
    let with_author =
        Project::new(&[PostWithAuthor::meta(), User::meta()]).migrations_dir(dir.path());
    let created =
        cli(&with_author, &config, &["migration:create", "--name", "author", "--dump"]).await;
    assert_eq!(created.code, 0, "{created:?}");
    for expected in [
        r#"alter table "post_entity" add column "author_id" int not null;"#,
        r#"alter table "post_entity" add constraint "post_entity_author_id_foreign" foreign key ("author_id") references "user" ("id") on update cascade;"#,
    ] {
        assert!(created.out.contains(expected), "{expected}\n{created:?}");
    }
    assert!(
        created.err.contains("warning: post_entity.author_id is added NOT NULL without a default"),
        "{created:?}"
    );
}
