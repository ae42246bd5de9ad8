//! Regression test for crashed runs: databases whose creator died are dropped by the next run.
//!
//! This file is its own test binary, so its process has not created a test database before the
//! test below; the leftovers come from a child process that exits without running `Drop`.

use std::process::Command;

use strata_test::{TestDb, base_url};
use tokio_postgres::{Client, NoTls};

const TEST: &str = "databases_left_by_a_crashed_process_are_dropped_by_the_next_process";
const CHILD: &str = "STRATA_TEST_LEFTOVER_CHILD";
const OTHER_HOST: &str = "strata-test-some-other-host";

async fn maintenance() -> Client {
    let (client, connection) =
        tokio_postgres::connect(&base_url(), NoTls).await.expect("connect to the maintenance db");
    tokio::spawn(connection);
    client
}

async fn exists(client: &Client, name: &str) -> bool {
    let row = client
        .query_one("SELECT count(*) FROM pg_database WHERE datname = $1", &[&name])
        .await
        .expect("query pg_database");
    row.get::<_, i64>(0) == 1
}

/// In the child: creates three databases, marks two as another host's (one of them three hours
/// old), prints their names and exits without dropping them, like a crashed test run.
#[expect(clippy::print_stdout, reason = "the parent reads the names from stdout")]
async fn leave_databases_behind() -> ! {
    let (dead, old, foreign) = (TestDb::new().await, TestDb::new().await, TestDb::new().await);
    let client = maintenance().await;
    client
        .execute(
            "UPDATE strata_test.databases SET host = $2, created_at = now() - interval '3 hours' \
             WHERE name = $1",
            &[&old.name(), &OTHER_HOST],
        )
        .await
        .expect("age the old database");
    client
        .execute(
            "UPDATE strata_test.databases SET host = $2 WHERE name = $1",
            &[&foreign.name(), &OTHER_HOST],
        )
        .await
        .expect("move the foreign database");
    // Another process's cleanup may have read the registry before these updates; staying alive
    // a moment makes it judge those rows while their creator still lives, as it would any row.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    println!("leftovers={} {} {}", dead.name(), old.name(), foreign.name());
    std::process::exit(0);
}

#[tokio::test]
async fn databases_left_by_a_crashed_process_are_dropped_by_the_next_process() {
    if std::env::var_os(CHILD).is_some() {
        leave_databases_behind().await;
    }
    let exe = std::env::current_exe().expect("current test binary");
    let out = Command::new(exe)
        .args([TEST, "--exact", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .expect("run the child process");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().find_map(|l| l.strip_prefix("leftovers="));
    let Some(names) = line.map(|l| l.split(' ').map(str::to_owned).collect::<Vec<_>>()) else {
        panic!("the child printed no names:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    };
    let [dead, old, foreign] = names.as_slice() else { panic!("unexpected names {names:?}") };
    let client = maintenance().await;
    // Only the foreign one is checked first: another process starting its tests right now may
    // already have dropped the other two.
    assert!(exists(&client, foreign).await, "the child did not leave {foreign}");

    let _first_in_this_process = TestDb::new().await;

    assert!(!exists(&client, dead).await, "{dead}, created by a dead process, still exists");
    assert!(!exists(&client, old).await, "{old}, three hours old, still exists");
    assert!(exists(&client, foreign).await, "{foreign}, fresh on another host, was dropped");
    let registered: i64 = client
        .query_one(
            "SELECT count(*) FROM strata_test.databases WHERE name = ANY($1)",
            &[&vec![dead.as_str(), old.as_str()]],
        )
        .await
        .expect("query the registry")
        .get(0);
    assert_eq!(registered, 0, "dropped databases are still registered");

    client
        .batch_execute(&format!("DROP DATABASE \"{foreign}\" WITH (FORCE)"))
        .await
        .expect("drop the foreign database");
    client
        .execute("DELETE FROM strata_test.databases WHERE name = $1", &[foreign])
        .await
        .expect("unregister the foreign database");
}
