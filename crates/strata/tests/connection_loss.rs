//! A database connection that dies in the middle of a unit of work: the operation fails with a
//! connection error, nothing of the transaction is kept, and the next operation gets a fresh
//! connection from the pool.

use std::sync::Arc;
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
