//! `schema:create`, `schema:update`, `schema:drop` and `schema:fresh`.

use crate::common::*;

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
