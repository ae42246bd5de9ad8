//! The SQLite driver against real SQLite databases: files under the target directory and
//! in-memory databases. The ORM-level behaviour is covered by the conformance suite in
//! `crates/strata/tests/orm`, which runs on this driver and PostgreSQL alike.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use strata_core::dialect::{InsertBatch, TableName, UpdateBatch, UpdateRow};
use strata_core::driver::{Connection, Driver, Param, Statement, StatementKind};
use strata_core::sql::FlushStatements;
use strata_core::{ColumnType, ErrorKind, StrataConfig, Value};
use strata_sqlite::SqliteDriver;
use strata_test::column;

/// A fresh path for a database file of this test run (the directory is the target's).
fn db_path(name: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("strata-sqlite-driver")
        .join(format!("{}-{n}", std::process::id()));
    let path = dir.join(format!("{name}.sqlite"));
    let _ = std::fs::remove_dir_all(&dir);
    path
}

fn config(path: &std::path::Path) -> StrataConfig {
    StrataConfig::from_url(format!("sqlite://{}", path.display())).pool_size(4)
}

fn select(sql: &str, returns: Vec<ColumnType>) -> Statement {
    Statement { sql: sql.into(), params: Vec::new(), returns, kind: StatementKind::Select }
}

async fn scalar(conn: &mut dyn Connection, sql: &str) -> i64 {
    let out = conn.run(&select(sql, vec![ColumnType::I64])).await.unwrap();
    out.rows[0][0].as_i64().unwrap()
}

const POST_DDL: &str = r#"CREATE TABLE "post" (
    "id" INTEGER PRIMARY KEY,
    "title" TEXT NOT NULL,
    "version" INTEGER NOT NULL DEFAULT 1
)"#;

#[tokio::test]
async fn a_file_database_and_its_directory_are_created_in_wal_mode() {
    let path = db_path("created");
    assert!(!path.parent().unwrap().exists());
    let driver = SqliteDriver::connect(&config(&path)).await.unwrap();
    assert!(path.exists(), "the file is created at connect");
    assert_eq!(driver.describe(), format!("SQLite {}", path.display()));
    let mut conn = driver.acquire().await.unwrap();
    let out = conn.run(&select("PRAGMA journal_mode", vec![ColumnType::Text])).await.unwrap();
    assert_eq!(out.rows, vec![vec![Value::Text("wal".into())]]);
    assert_eq!(scalar(conn.as_mut(), "PRAGMA foreign_keys").await, 1);
    assert_eq!(scalar(conn.as_mut(), "PRAGMA busy_timeout").await, 5000);
}

#[tokio::test]
async fn data_survives_reopening_the_file() {
    let path = db_path("restart");
    {
        let driver = SqliteDriver::connect(&config(&path)).await.unwrap();
        let mut conn = driver.acquire().await.unwrap();
        conn.batch_execute(POST_DDL).await.unwrap();
        conn.batch_execute("INSERT INTO post (title) VALUES ('kept')").await.unwrap();
    }
    let driver = SqliteDriver::connect(&config(&path)).await.unwrap();
    let mut conn = driver.acquire().await.unwrap();
    let out = conn.run(&select("SELECT title FROM post", vec![ColumnType::Text])).await.unwrap();
    assert_eq!(out.rows, vec![vec![Value::Text("kept".into())]]);
}

#[tokio::test]
async fn a_path_that_cannot_be_created_is_a_connection_error_naming_it() {
    let path = db_path("blocked");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = path.parent().unwrap().join("a-file");
    std::fs::write(&file, b"not a directory").unwrap();
    let target = file.join("db.sqlite");
    let err = SqliteDriver::connect(&config(&target)).await.unwrap_err();
    assert!(err.is_connection(), "{err}");
    assert!(err.message().contains(&target.display().to_string()), "{err}");

    // A file that is not a database.
    let err = SqliteDriver::connect(&config(&file)).await.unwrap_err();
    assert!(err.is_connection(), "{err}");
    assert!(err.message().contains("a-file"), "{err}");
}

#[tokio::test]
async fn multi_row_inserts_return_generated_keys_in_row_order() {
    let driver = SqliteDriver::connect(&StrataConfig::from_url("sqlite::memory:")).await.unwrap();
    let mut conn = driver.acquire().await.unwrap();
    conn.batch_execute(POST_DDL).await.unwrap();
    // Keys that are not in insertion order: the third row takes an explicit key below the
    // others' so that position, not value, must match.
    conn.batch_execute("INSERT INTO post (id, title) VALUES (100, 'seed')").await.unwrap();
    let (id, title) = (column("id", ColumnType::I32), column("title", ColumnType::Text));
    let rows: Vec<Vec<Value>> = (0..5000).map(|i| vec![Value::Text(format!("t{i}"))]).collect();
    let statements = driver.dialect().insert(InsertBatch {
        table: TableName { schema: None, name: "post" },
        columns: vec![&title],
        rows,
        returning: vec![&id, &title],
    });
    assert_eq!(statements.len(), 1);
    let out = conn.run(&statements[0]).await.unwrap();
    assert_eq!(out.rows.len(), 5000);
    for (i, row) in out.rows.iter().enumerate() {
        let expected =
            vec![Value::I32(101 + i32::try_from(i).unwrap()), Value::Text(format!("t{i}"))];
        assert_eq!(row, &expected, "row {i}");
    }
}

#[tokio::test]
async fn a_versioned_update_returns_only_the_rows_whose_version_matched() {
    let driver = SqliteDriver::connect(&StrataConfig::from_url("sqlite::memory:")).await.unwrap();
    let mut conn = driver.acquire().await.unwrap();
    conn.batch_execute(POST_DDL).await.unwrap();
    conn.batch_execute("INSERT INTO post (title, version) VALUES ('a', 1), ('b', 1), ('c', 5)")
        .await
        .unwrap();
    let (id, title, version) = (
        column("id", ColumnType::I32),
        column("title", ColumnType::Text),
        column("version", ColumnType::I32),
    );
    let row = |key: i32, t: &str, v: i32| UpdateRow {
        key: Value::I32(key),
        values: vec![Value::Text(t.into())],
        version: Some(Value::I32(v)),
    };
    let statements = driver.dialect().update(UpdateBatch {
        table: TableName { schema: None, name: "post" },
        pk: &id,
        set: vec![&title],
        version: Some(&version),
        rows: vec![row(1, "A", 1), row(2, "B", 1), row(3, "C", 1)],
    });
    let out = conn.run(&statements[0]).await.unwrap();
    let mut keys: Vec<Value> = out.rows.into_iter().map(|mut r| r.remove(0)).collect();
    keys.sort_by_key(|k| k.as_i64());
    assert_eq!(keys, vec![Value::I32(1), Value::I32(2)], "row 3 had another version");
    let out = conn
        .run(&select(
            "SELECT title, version FROM post ORDER BY id",
            vec![ColumnType::Text, ColumnType::I32],
        ))
        .await
        .unwrap();
    let text = |s: &str| Value::Text(s.into());
    assert_eq!(
        out.rows,
        vec![
            vec![text("A"), Value::I32(2)],
            vec![text("B"), Value::I32(2)],
            vec![text("c"), Value::I32(5)]
        ]
    );
}

#[tokio::test]
async fn a_connection_dropped_inside_a_transaction_is_rolled_back_before_reuse() {
    let path = db_path("dropped");
    let driver = SqliteDriver::connect(&config(&path).pool_size(1)).await.unwrap();
    let mut conn = driver.acquire().await.unwrap();
    conn.batch_execute(POST_DDL).await.unwrap();
    conn.begin().await.unwrap();
    conn.batch_execute("INSERT INTO post (title) VALUES ('lost')").await.unwrap();
    drop(conn);
    // The one pooled connection comes back clean, and the write lock is free again.
    let mut conn = driver.acquire().await.unwrap();
    assert_eq!(scalar(conn.as_mut(), "SELECT count(*) FROM post").await, 0);
    conn.batch_execute("INSERT INTO post (title) VALUES ('kept')").await.unwrap();
    assert_eq!(scalar(conn.as_mut(), "SELECT count(*) FROM post").await, 1);
}

#[tokio::test]
async fn savepoints_roll_back_part_of_a_transaction() {
    let driver = SqliteDriver::connect(&StrataConfig::from_url("sqlite::memory:")).await.unwrap();
    let mut conn = driver.acquire().await.unwrap();
    conn.batch_execute(POST_DDL).await.unwrap();
    conn.begin().await.unwrap();
    conn.savepoint("outer").await.unwrap();
    conn.batch_execute("INSERT INTO post (title) VALUES ('a')").await.unwrap();
    conn.savepoint("inner").await.unwrap();
    conn.batch_execute("INSERT INTO post (title) VALUES ('b')").await.unwrap();
    conn.rollback_to_savepoint("inner").await.unwrap();
    conn.release_savepoint("outer").await.unwrap();
    conn.commit().await.unwrap();
    assert_eq!(scalar(conn.as_mut(), "SELECT count(*) FROM post").await, 1);
    let err = conn.savepoint("x").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Usage, "{err}");
}

#[tokio::test]
async fn a_statement_error_keeps_the_transaction_usable_for_a_rollback() {
    let driver = SqliteDriver::connect(&StrataConfig::from_url("sqlite::memory:")).await.unwrap();
    let mut conn = driver.acquire().await.unwrap();
    conn.batch_execute(
        r#"CREATE TABLE t (id INTEGER PRIMARY KEY, slug TEXT NOT NULL);
           CREATE UNIQUE INDEX "t_slug_unique" ON t (slug);"#,
    )
    .await
    .unwrap();
    conn.begin().await.unwrap();
    conn.batch_execute("INSERT INTO t (slug) VALUES ('a')").await.unwrap();
    let insert = Statement {
        sql: "INSERT INTO t (slug) VALUES (?1), (?2)".into(),
        params: vec![Param::Value(Value::Text("b".into())), Param::Value(Value::Text("a".into()))],
        returns: vec![],
        kind: StatementKind::Insert,
    };
    let err = conn.run(&insert).await.unwrap_err();
    assert_eq!(err.unique_violation(), Some("t_slug_unique"), "{err}");
    assert_eq!(err.code(), Some("2067"));
    conn.rollback().await.unwrap();
    assert_eq!(scalar(conn.as_mut(), "SELECT count(*) FROM t").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_queue_instead_of_failing_with_database_is_locked() {
    let path = db_path("concurrent");
    let driver = Arc::new(SqliteDriver::connect(&config(&path).pool_size(8)).await.unwrap());
    driver.acquire().await.unwrap().batch_execute(POST_DDL).await.unwrap();
    let tasks: Vec<_> = (0..16)
        .map(|t| {
            let driver = driver.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    let mut conn = driver.acquire().await?;
                    if i % 2 == 0 {
                        // A transaction that reads, then writes.
                        conn.begin().await?;
                        conn.run(&select("SELECT count(*) FROM post", vec![ColumnType::I64]))
                            .await?;
                        conn.batch_execute(&format!("INSERT INTO post (title) VALUES ('{t}-{i}')"))
                            .await?;
                        conn.commit().await?;
                    } else {
                        // A write outside a transaction, beside reads.
                        conn.batch_execute(&format!("INSERT INTO post (title) VALUES ('{t}-{i}')"))
                            .await?;
                        conn.run(&select("SELECT count(*) FROM post", vec![ColumnType::I64]))
                            .await?;
                    }
                }
                Ok::<_, strata_core::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let mut conn = driver.acquire().await.unwrap();
    assert_eq!(scalar(conn.as_mut(), "SELECT count(*) FROM post").await, 16 * 25);
}

#[tokio::test]
async fn two_drivers_of_one_file_share_the_write_lock() {
    let path = db_path("shared");
    let a = SqliteDriver::connect(&config(&path)).await.unwrap();
    let b = SqliteDriver::connect(&config(&path)).await.unwrap();
    let mut ca = a.acquire().await.unwrap();
    ca.batch_execute(POST_DDL).await.unwrap();
    ca.begin().await.unwrap();
    ca.batch_execute("INSERT INTO post (title) VALUES ('a')").await.unwrap();
    let writer = tokio::spawn(async move {
        let mut cb = b.acquire().await.unwrap();
        cb.batch_execute("INSERT INTO post (title) VALUES ('b')").await.unwrap();
        scalar(cb.as_mut(), "SELECT count(*) FROM post").await
    });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(!writer.is_finished(), "the second writer waits for the transaction");
    ca.commit().await.unwrap();
    assert_eq!(writer.await.unwrap(), 2);
}

/// Another process holds the write lock (`BEGIN IMMEDIATE`): writes of this process queue for
/// it, twice as many as the pool has connections, and reads are still served at once (WAL lets
/// readers run beside a writer); the writes complete once the lock is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reads_are_served_while_writes_wait_for_another_process_to_release_the_write_lock() {
    let path = db_path("foreign-lock");
    let driver = Arc::new(SqliteDriver::connect(&config(&path)).await.unwrap());
    driver.acquire().await.unwrap().batch_execute(POST_DDL).await.unwrap();
    driver
        .acquire()
        .await
        .unwrap()
        .batch_execute("INSERT INTO post (title) VALUES ('a')")
        .await
        .unwrap();

    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO post (title) VALUES ('other')").unwrap();

    let writers: Vec<_> = (0..8)
        .map(|i| {
            let driver = driver.clone();
            tokio::spawn(async move {
                let mut conn = driver.acquire().await?;
                if i % 2 == 0 {
                    conn.batch_execute(&format!("INSERT INTO post (title) VALUES ('w{i}')")).await
                } else {
                    conn.begin().await?;
                    conn.batch_execute(&format!("INSERT INTO post (title) VALUES ('t{i}')"))
                        .await?;
                    conn.commit().await
                }
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;

    for _ in 0..10 {
        let read = tokio::time::timeout(std::time::Duration::from_millis(1000), async {
            let mut conn = driver.acquire().await.unwrap();
            scalar(conn.as_mut(), "SELECT count(*) FROM post").await
        })
        .await;
        assert_eq!(read.expect("a read does not wait for the writers"), 1, "nothing committed yet");
    }
    assert!(writers.iter().all(|w| !w.is_finished()), "the writes wait for the lock");

    other.execute_batch("ROLLBACK").unwrap();
    for writer in writers {
        let written = tokio::time::timeout(std::time::Duration::from_secs(10), writer).await;
        written.expect("the writes complete after the release").unwrap().unwrap();
    }
    let mut conn = driver.acquire().await.unwrap();
    assert_eq!(scalar(conn.as_mut(), "SELECT count(*) FROM post").await, 9);
}

#[tokio::test]
async fn undeclared_result_columns_are_read_by_storage_class() {
    let driver = SqliteDriver::connect(&StrataConfig::from_url("sqlite::memory:")).await.unwrap();
    let mut conn = driver.acquire().await.unwrap();
    let out = conn.run(&select("SELECT 1, 1.5, 'a', x'01', NULL", vec![])).await.unwrap();
    assert_eq!(
        out.rows,
        vec![vec![
            Value::I64(1),
            Value::F64(1.5),
            Value::Text("a".into()),
            Value::Bytes(vec![1]),
            Value::Null
        ]]
    );
}

#[tokio::test]
async fn an_unsupported_url_option_is_a_config_error() {
    let err = SqliteDriver::connect(&StrataConfig::from_url("sqlite://x.db?cache=shared"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Config, "{err}");
}
