//! A database connection that dies in the middle of a unit of work: the operation fails with a
//! connection error, nothing of the transaction is kept, and the next operation gets a fresh
//! connection from the pool. And one whose operation is abandoned midway (its future dropped):
//! the server stops the statement, and the connection serves the next operation.

use std::sync::Arc;
use std::time::{Duration, Instant};
use strata::prelude::*;
use strata_test::TestDb;

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

const TERMINATE_OTHERS: &str = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
     WHERE datname = current_database() AND pid <> pg_backend_pid()";

async fn rows(db: &TestDb) -> i64 {
    db.client()
        .await
        .query_one("SELECT count(*) FROM post_entity", &[])
        .await
        .expect("count")
        .get(0)
}

#[tokio::test]
async fn a_connection_killed_mid_transaction_is_a_connection_error_and_the_pool_recovers() {
    let db = TestDb::new().await;
    let admin = Arc::new(db.client().await);
    admin
        .batch_execute(
            r#"CREATE TABLE "post_entity" ("id" serial PRIMARY KEY,
                 "title" varchar(255) NOT NULL, "content" varchar(255) NOT NULL)"#,
        )
        .await
        .expect("DDL applies");
    let orm = Strata::connect(db.config()).await.expect("connects");
    let em = orm.em();

    let killer = admin.clone();
    let result = em
        .transactional(|tx| async move {
            tx.create(post("first"));
            tx.flush().await?;
            killer.query(TERMINATE_OTHERS, &[]).await.expect("terminate the ORM's connection");
            tx.create(post("second"));
            tx.flush().await
        })
        .await;
    let err = result.expect_err("the flush after the connection died fails");
    assert!(err.is_connection(), "a connection error, got {:?}: {err}", err.kind());
    assert_eq!(rows(&db).await, 0, "the first flush of the dead transaction is not kept");

    // A new unit of work gets a working connection without any intervention.
    let again = orm.em();
    let p = again.create(post("after"));
    again.flush().await.expect("the pool replaced the dead connection");
    assert!(p.read().id > 0);
    assert_eq!(rows(&db).await, 1);
}

#[tokio::test]
async fn idle_pooled_connections_killed_by_the_server_are_replaced() {
    let db = TestDb::new().await;
    let admin = db.client().await;
    admin
        .batch_execute(
            r#"CREATE TABLE "post_entity" ("id" serial PRIMARY KEY,
                 "title" varchar(255) NOT NULL, "content" varchar(255) NOT NULL)"#,
        )
        .await
        .expect("DDL applies");
    let orm = Strata::connect(db.config()).await.expect("connects");
    orm.em().persist_and_flush(&Managed::new(post("before"))).await.expect("first insert");
    admin.query(TERMINATE_OTHERS, &[]).await.expect("terminate the pool's connections");
    // Give the pooled client a moment to notice the closed socket.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    let em = orm.em();
    let found = em.find_all::<PostEntity>(FindOptions::new()).await.expect("a fresh connection");
    assert_eq!(found.len(), 1);
}

/// Two transactions that lock the same rows in opposite orders: PostgreSQL aborts one of them
/// with a deadlock (40P01), which Strata reports as a serialization failure — the kind a caller
/// retries — and the other commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadlock_is_a_serialization_failure_and_the_other_transaction_commits() {
    let db = TestDb::new().await;
    db.client()
        .await
        .batch_execute(
            r#"CREATE TABLE "post_entity" ("id" serial PRIMARY KEY,
                 "title" varchar(255) NOT NULL, "content" varchar(255) NOT NULL);
               INSERT INTO "post_entity" ("title", "content") VALUES ('a', 'x'), ('b', 'x');"#,
        )
        .await
        .expect("DDL applies");
    let orm = Strata::connect(db.config()).await.expect("connects");
    let barrier = Arc::new(tokio::sync::Barrier::new(2));

    let run = |first: i32, second: i32, title: &'static str| {
        let em = orm.em();
        let barrier = barrier.clone();
        tokio::spawn(async move {
            em.transactional(|tx| async move {
                let f = PostEntity::fields();
                tx.native_update(f.id.eq(first), [f.title.set(title)]).await?;
                barrier.wait().await;
                tx.native_update(f.id.eq(second), [f.title.set(title)]).await?;
                Ok::<_, Error>(())
            })
            .await
        })
    };
    let (one, two) = (run(1, 2, "one"), run(2, 1, "two"));
    let results = [one.await.expect("task one ran"), two.await.expect("task two ran")];

    let failures: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failures.len(), 1, "exactly one transaction is aborted: {results:?}");
    assert_eq!(failures[0].kind(), &ErrorKind::SerializationFailure, "{}", failures[0]);
    assert_eq!(failures[0].code(), Some("40P01"));
    let winner = if results[0].is_ok() { "one" } else { "two" };
    let titles: Vec<String> = db
        .client()
        .await
        .query("SELECT title FROM post_entity ORDER BY id", &[])
        .await
        .expect("titles")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(titles, [winner, winner], "the winner's two updates, none of the loser's");
}

/// A migration that changes a column's type under a statement the pool has prepared: the next
/// query prepares it again instead of failing with "cached plan must not change result type".
#[tokio::test]
async fn a_column_type_changed_under_a_cached_statement_is_prepared_again() {
    let db = TestDb::new().await;
    let admin = db.client().await;
    admin
        .batch_execute(
            r#"CREATE TABLE "post_entity" ("id" serial PRIMARY KEY,
                 "title" varchar(100) NOT NULL, "content" varchar(255) NOT NULL);
               INSERT INTO "post_entity" ("title", "content") VALUES ('a', 'x');"#,
        )
        .await
        .expect("DDL applies");
    // One connection, so the second query surely meets the statement the first one cached.
    let orm = Strata::connect(db.config().pool_size(1)).await.expect("connects");
    let first = orm.em().find_all::<PostEntity>(FindOptions::new()).await.expect("first read");
    assert_eq!(first.len(), 1);

    admin
        .batch_execute(r#"ALTER TABLE "post_entity" ALTER COLUMN "title" TYPE text"#)
        .await
        .expect("the migration applies");
    let again = orm.em().find_all::<PostEntity>(FindOptions::new()).await.expect("prepared again");
    assert_eq!(again[0].read().title, "a");

    // Inside a transaction the statement cannot be retried (the transaction is aborted), but
    // the stale plan is forgotten, so the next transaction works.
    admin
        .batch_execute(r#"ALTER TABLE "post_entity" ALTER COLUMN "title" TYPE varchar(200)"#)
        .await
        .expect("the second migration applies");
    let count_in_tx = || async {
        orm.em()
            .transactional(|tx| async move {
                tx.find_all::<PostEntity>(FindOptions::new()).await.map(|rows| rows.len())
            })
            .await
    };
    let err = count_in_tx().await.expect_err("the stale plan fails its transaction");
    assert_eq!(err.code(), Some("0A000"), "{err}");
    assert_eq!(count_in_tx().await.expect("the next transaction prepares afresh"), 1);
}

/// A statement whose future is dropped (a request that timed out) is cancelled on the server:
/// the pool's one connection serves the next statement at once instead of after the abandoned
/// one has run to its end, and no backend keeps running it.
#[tokio::test]
async fn a_dropped_statement_is_cancelled_and_its_connection_serves_the_next_one_at_once() {
    let db = TestDb::new().await;
    let orm = Strata::connect(db.config().pool_size(1)).await.expect("connects");
    let abandoned =
        tokio::time::timeout(Duration::from_millis(200), orm.execute("SELECT pg_sleep(60)")).await;
    assert!(abandoned.is_err(), "the statement was still running when it was dropped");

    let started = Instant::now();
    let next = tokio::time::timeout(Duration::from_secs(10), orm.ping()).await;
    next.expect("the connection is free within moments").expect("SELECT 1 succeeds");
    assert!(started.elapsed() < Duration::from_secs(5), "waited {:?}", started.elapsed());
    let sleeping: i64 = db
        .client()
        .await
        .query_one(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep%' \
             AND state = 'active'",
            &[],
        )
        .await
        .expect("pg_stat_activity can be read")
        .get(0);
    assert_eq!(sleeping, 0, "the abandoned statement was cancelled");
}

/// The cancel request of an abandoned statement is followed to its end before the connection is
/// reused: sent and left to arrive whenever the server gets to it, it would cancel the next
/// statement on that connection instead, here a `pg_sleep` (SQLSTATE 57014, "canceling
/// statement due to user request").
#[tokio::test]
async fn the_cancel_of_a_dropped_statement_never_hits_the_next_statement_on_its_connection() {
    let db = TestDb::new().await;
    let orm = Strata::connect(db.config().pool_size(1)).await.expect("connects");
    for round in 0..20 {
        // Polled once, so that its statement is sent, then dropped before the answer comes.
        let mut abandoned = Box::pin(orm.execute("SELECT 1"));
        let polled = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::future::Future::poll(abandoned.as_mut(), cx))
        })
        .await;
        assert!(polled.is_pending(), "round {round}: the statement was still in flight");
        drop(abandoned);
        let next =
            tokio::time::timeout(Duration::from_secs(10), orm.execute("SELECT pg_sleep(0.05)"))
                .await
                .expect("the connection serves the next statement");
        if let Err(e) = next {
            panic!("round {round}: the next statement failed: {e}");
        }
    }
}
