//! Connecting, `database:create`, `debug`, usage errors, `--help` and the documented options.

use crate::common::*;

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
