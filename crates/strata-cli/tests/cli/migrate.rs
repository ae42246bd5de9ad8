//! `migration:up`, `down`, `list`, `pending`, `check` and `fresh`.

use crate::common::*;

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
