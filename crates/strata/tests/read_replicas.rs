//! Read replicas on a real streaming standby (PostgreSQL only).
//!
//! scripts/test starts a primary with a hot standby of its own and sets
//! `STRATA_TEST_REPLICATION_URL` and `STRATA_TEST_STANDBY_URL`; without them these tests say so
//! and pass (they fail under CI, which always runs scripts/test).

use std::time::{Duration, Instant};
use strata::prelude::*;
use strata::query_log::LoggedStatement;
use strata::{Strata, StrataConfig};
use strata_test::{TestDb, database_url};

#[derive(Entity, Debug, Clone, PartialEq)]
struct PostEntity {
    #[strata(primary_key)]
    id: i32,
    title: String,
    content: String,
}

fn post(title: &str) -> PostEntity {
    PostEntity { id: 0, title: title.into(), content: "x".into() }
}

/// The primary's and the standby's maintenance URLs, when scripts/test started them.
fn servers() -> Option<(String, String)> {
    let primary = std::env::var("STRATA_TEST_REPLICATION_URL").ok();
    let standby = std::env::var("STRATA_TEST_STANDBY_URL").ok();
    match (primary, standby) {
        (Some(p), Some(s)) => Some((p, s)),
        _ => {
            assert!(std::env::var_os("CI").is_none(), "CI runs scripts/test, which starts them");
            eprintln!("skipped: no standby (scripts/test sets STRATA_TEST_STANDBY_URL)");
            None
        }
    }
}

/// A fresh database on the primary with the posts table and `rows` posts, once the standby
/// has replayed it; and its URL on the standby.
async fn database(primary: &str, standby: &str, rows: usize) -> (TestDb, String) {
    let db = TestDb::on_server(primary).await;
    let client = db.client().await;
    client
        .batch_execute(
            r#"CREATE TABLE "post_entity" ("id" serial PRIMARY KEY,
                 "title" varchar(255) NOT NULL, "content" varchar(255) NOT NULL)"#,
        )
        .await
        .expect("DDL applies");
    for i in 0..rows {
        client
            .execute(
                "INSERT INTO post_entity (title, content) VALUES ($1, 'x')",
                &[&format!("{i}")],
            )
            .await
            .expect("a row");
    }
    let on_standby = database_url(standby, db.name());
    wait_for_replay(&on_standby, rows).await;
    (db, on_standby)
}

/// Waits until the standby's copy of the table has `rows` rows.
async fn wait_for_replay(url: &str, rows: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok((client, conn)) = tokio_postgres::connect(url, tokio_postgres::NoTls).await {
            tokio::spawn(conn);
            let n = client.query_one("SELECT count(*) FROM post_entity", &[]).await;
            if n.is_ok_and(|r| r.get::<_, i64>(0) == i64::try_from(rows).expect("a small count")) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the standby did not replay {rows} rows within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Where each captured statement went: `None` for the primary, the replica's index otherwise.
fn servers_of(log: &[LoggedStatement]) -> Vec<(String, Option<usize>)> {
    log.iter()
        .map(|s| (s.sql.split_whitespace().next().unwrap_or("").to_owned(), s.replica))
        .collect()
}

#[tokio::test]
async fn reads_go_to_the_replica_writes_transactions_and_later_reads_to_the_primary() {
    let Some((primary, standby)) = servers() else { return };
    let (db, on_standby) = database(&primary, &standby, 2).await;
    let config = StrataConfig::from_url(db.url()).pool_size(2).read_replica(on_standby);
    let orm = Strata::connect(config).await.expect("connects");
    let log = orm.query_log();

    let em = orm.em();
    log.start_capture();
    assert_eq!(em.find_all::<PostEntity>(FindOptions::new()).await.unwrap().len(), 2);
    assert_eq!(em.count::<PostEntity>(Filter::all()).await.unwrap(), 2);
    assert_eq!(
        servers_of(&log.take()),
        [("SELECT".into(), Some(0)), ("SELECT".into(), Some(0))],
        "reads outside a transaction go to the replica"
    );

    let forced = em.find_all::<PostEntity>(FindOptions::new().from_primary()).await.unwrap();
    assert_eq!(forced.len(), 2);
    assert_eq!(servers_of(&log.take()), [("SELECT".into(), None)], "from_primary");

    em.create(post("new"));
    em.flush().await.unwrap();
    let after = em.find_all::<PostEntity>(FindOptions::new()).await.unwrap();
    assert_eq!(after.len(), 3, "an EntityManager sees its own write");
    let where_ = servers_of(&log.take());
    assert!(where_.iter().all(|(_, r)| r.is_none()), "flush and later reads: primary: {where_:?}");

    let other = orm.em();
    other
        .transactional(|tx| async move { tx.find_all::<PostEntity>(FindOptions::new()).await })
        .await
        .unwrap();
    let where_ = servers_of(&log.take());
    assert!(where_.iter().all(|(_, r)| r.is_none()), "a transaction: primary: {where_:?}");
}

#[tokio::test]
async fn a_replica_that_lags_serves_old_rows_and_from_primary_sees_the_new_one() {
    let Some((primary, standby)) = servers() else { return };
    let (db, on_standby) = database(&primary, &standby, 1).await;
    let (replica, conn) =
        tokio_postgres::connect(&on_standby, tokio_postgres::NoTls).await.expect("standby");
    tokio::spawn(conn);
    let config = StrataConfig::from_url(db.url()).read_replica(on_standby);
    let orm = Strata::connect(config).await.expect("connects");

    replica.batch_execute("SELECT pg_wal_replay_pause()").await.expect("replay pauses");
    let direct = db.client().await;
    direct
        .batch_execute("INSERT INTO post_entity (title, content) VALUES ('late', 'x')")
        .await
        .unwrap();
    let seen = orm.em().find_all::<PostEntity>(FindOptions::new()).await.unwrap();
    let fresh = orm.em().find_all::<PostEntity>(FindOptions::new().from_primary()).await.unwrap();
    replica.batch_execute("SELECT pg_wal_replay_resume()").await.expect("replay resumes");
    assert_eq!(seen.len(), 1, "the paused replica has not replayed the insert");
    assert_eq!(fresh.len(), 2, "the primary has it");
}

#[tokio::test]
async fn reads_skip_a_replica_that_does_not_answer_and_fall_back_to_the_primary() {
    let Some((primary, standby)) = servers() else { return };
    let (db, on_standby) = database(&primary, &standby, 1).await;
    // Nothing listens on a port just released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dead = format!("postgres://postgres@127.0.0.1:{closed}/{}", db.name());
    let timeout = Duration::from_secs(1);

    let only_dead = StrataConfig::from_url(db.url()).connect_timeout(timeout).read_replica(&dead);
    let orm = Strata::connect(only_dead).await.expect("the primary answers");
    orm.query_log().start_capture();
    for _ in 0..3 {
        let found = orm.em().find_all::<PostEntity>(FindOptions::new()).await;
        assert_eq!(found.expect("no error for the user").len(), 1);
    }
    let where_ = servers_of(&orm.query_log().take());
    assert!(where_.iter().all(|(_, r)| r.is_none()), "all on the primary: {where_:?}");

    let dead_first = StrataConfig::from_url(db.url())
        .connect_timeout(timeout)
        .read_replica(&dead)
        .read_replica(on_standby);
    let orm = Strata::connect(dead_first).await.expect("the primary answers");
    orm.query_log().start_capture();
    for _ in 0..4 {
        assert_eq!(orm.em().find_all::<PostEntity>(FindOptions::new()).await.unwrap().len(), 1);
    }
    let where_ = servers_of(&orm.query_log().take());
    assert!(where_.iter().all(|(_, r)| *r == Some(1)), "the live replica serves: {where_:?}");
}
