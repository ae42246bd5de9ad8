//! A read replica that stops while the service runs: reads fall back to the primary without an
//! error, and go back to the replica once it is started again (PostgreSQL only).
//!
//! A test binary of its own: it stops the standby that scripts/test started
//! (`STRATA_TEST_STANDBY_STOP`, `STRATA_TEST_STANDBY_START`), which the other read-replica
//! tests must not see; cargo runs test binaries one after another.

use std::process::Command;
use std::time::{Duration, Instant};
use strata::prelude::*;
use strata::{Strata, StrataConfig};
use strata_test::{TestDb, database_url};

#[derive(Entity, Debug, Clone, PartialEq)]
struct PostEntity {
    #[strata(primary_key)]
    id: i32,
    title: String,
    content: String,
}

fn run(command: &str) {
    let status = Command::new("sh").arg("-c").arg(command).status().expect("sh runs");
    assert!(status.success(), "{command} failed ({status})");
}

/// Where each read of a fresh EntityManager went: `None` for the primary.
async fn read_from(orm: &Strata) -> Option<usize> {
    orm.query_log().start_capture();
    let posts = orm.em().find_all::<PostEntity>(FindOptions::new()).await;
    assert_eq!(posts.expect("a read never fails for the user").len(), 1);
    let log = orm.query_log().take();
    log.last().expect("the read was logged").replica
}

#[tokio::test]
async fn reads_fall_back_to_the_primary_while_the_standby_is_stopped_and_return_after() {
    let var = |name: &str| std::env::var(name).ok();
    let (Some(primary), Some(standby), Some(stop), Some(start)) = (
        var("STRATA_TEST_REPLICATION_URL"),
        var("STRATA_TEST_STANDBY_URL"),
        var("STRATA_TEST_STANDBY_STOP"),
        var("STRATA_TEST_STANDBY_START"),
    ) else {
        assert!(std::env::var_os("CI").is_none(), "CI runs scripts/test, which starts a standby");
        eprintln!("skipped: no standby (scripts/test sets STRATA_TEST_STANDBY_URL)");
        return;
    };
    let db = TestDb::on_server(&primary).await;
    db.client()
        .await
        .batch_execute(
            "CREATE TABLE post_entity (id serial PRIMARY KEY, title varchar(255) NOT NULL, \
             content varchar(255) NOT NULL); INSERT INTO post_entity (title, content) VALUES ('a', 'x')",
        )
        .await
        .expect("the table");
    let on_standby = database_url(&standby, db.name());
    // Once the standby has replayed the table (a replica refused before rests 5 s).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok((client, conn)) =
            tokio_postgres::connect(&on_standby, tokio_postgres::NoTls).await
        {
            tokio::spawn(conn);
            if client.query_one("SELECT count(*) FROM post_entity", &[]).await.is_ok() {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the standby did not replay the table");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let config = StrataConfig::from_url(db.url())
        .connect_timeout(Duration::from_secs(2))
        .read_replica(&on_standby);
    let orm = Strata::connect(config).await.expect("connects");
    assert_eq!(read_from(&orm).await, Some(0), "the standby serves");

    run(&stop);
    // In a task of its own, so that a failure still starts the standby again below.
    let down = tokio::spawn({
        let orm = orm.clone();
        async move {
            for _ in 0..3 {
                assert_eq!(read_from(&orm).await, None, "the primary serves while it is down");
            }
        }
    })
    .await;
    run(&start);
    if let Err(e) = down {
        std::panic::resume_unwind(e.into_panic());
    }
    // Back after its rest: reads return to the replica.
    let deadline = Instant::now() + Duration::from_secs(20);
    while read_from(&orm).await != Some(0) {
        assert!(Instant::now() < deadline, "reads did not return to the restarted standby");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
