//! Work done through a clone of an EntityManager while its flush is under way: the flush applies
//! only what it wrote, so whatever arrives meanwhile stays pending for the next flush.

use crate::common::*;
use strata::driver::StatementKind;
use strata::prelude::*;
use tokio::sync::{Mutex, Notify};

/// Signalled by the `on_update` hook of [`Ticket`]: a flush has planned its change sets and is
/// about to write them.
static PLANNED: Notify = Notify::const_new();
/// The tests of this module share [`PLANNED`]: one at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::const_new(());

fn planned() -> i32 {
    PLANNED.notify_one();
    1
}

#[derive(Entity, Debug, Clone, PartialEq)]
struct Ticket {
    #[strata(primary_key)]
    id: i32,
    name: String,
    #[strata(on_update = "planned")]
    touched: i32,
}

const TICKET_DDL: Ddl = Ddl {
    postgres: r#"CREATE TABLE "ticket" (
        "id" serial PRIMARY KEY, "name" varchar(255) NOT NULL, "touched" integer NOT NULL);"#,
    sqlite: r#"CREATE TABLE "ticket" (
        "id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" varchar(255) NOT NULL,
        "touched" INTEGER NOT NULL);"#,
};

/// Starts a flush of `em` that changes the ticket and is held up by a lock on `post_entity`
/// until the returned connection commits; returns once the flush has planned.
async fn flush_in_flight(
    db: &Db,
    b: Backend,
    em: &EntityManager,
) -> (tokio::task::JoinHandle<Result<(), Error>>, Box<dyn strata::driver::Connection>) {
    // A signal left by an earlier flush of a ticket must not count.
    let _ = tokio::time::timeout(std::time::Duration::from_millis(1), PLANNED.notified()).await;
    let ticket = em.find_one_or_fail::<Ticket>(1).await.unwrap();
    ticket.update(|t| t.name = "changed".into());
    let lock = hold_write_lock(db, b, "post_entity").await;
    let flushing = tokio::spawn({
        let em = em.clone();
        async move { em.flush().await }
    });
    tokio::time::timeout(std::time::Duration::from_secs(10), PLANNED.notified())
        .await
        .expect("the flush plans its change sets");
    (flushing, lock)
}

async fn a_remove_made_while_a_large_flush_is_in_flight_is_not_lost(b: Backend) {
    let _one = ONE_AT_A_TIME.lock().await;
    let (db, orm) = setup(b, &[POST_DDL, TICKET_DDL]).await;
    let em = orm.em();
    let posts: Vec<_> = (0..102).map(|i| PostEntity::new(&format!("p{i}"), "x")).collect();
    em.native_insert(posts).await.unwrap();
    em.native_insert([Ticket { id: 0, name: "t".into(), touched: 0 }]).await.unwrap();
    let loaded = em.find_all::<PostEntity>(FindOptions::new()).await.unwrap();
    // More than 64 deletions: the size at which the flush used to forget every removed row.
    for p in loaded.iter().filter(|p| p.read().id <= 100) {
        em.remove(p).unwrap();
    }
    let late = loaded.iter().find(|p| p.read().id == 101).unwrap().clone();

    let (flushing, lock) = flush_in_flight(&db, b, &em).await;
    em.remove(&late).unwrap();
    em.remove_by_key::<PostEntity>(102);
    release_write_lock(lock).await;
    flushing.await.unwrap().unwrap();

    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 2);
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(count(&log, StatementKind::Delete), 1, "the late removals are one DELETE");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 0);
    assert_eq!(em.managed_count(), 1, "only the ticket is left");
}

async fn a_new_entity_removed_while_a_large_flush_inserts_it_is_deleted_next(b: Backend) {
    let _one = ONE_AT_A_TIME.lock().await;
    let (db, orm) = setup(b, &[POST_DDL, TICKET_DDL]).await;
    let em = orm.em();
    em.native_insert((0..100).map(|i| PostEntity::new(&format!("p{i}"), "x"))).await.unwrap();
    em.native_insert([Ticket { id: 0, name: "t".into(), touched: 0 }]).await.unwrap();
    for p in em.find_all::<PostEntity>(FindOptions::new()).await.unwrap() {
        em.remove(&p).unwrap();
    }
    let fresh = em.create(PostEntity::new("inserted, then removed", "x"));

    let (flushing, lock) = flush_in_flight(&db, b, &em).await;
    // Nothing else changes meanwhile: only this removal of an instance being inserted.
    em.remove(&fresh).unwrap();
    release_write_lock(lock).await;
    flushing.await.unwrap().unwrap();
    assert!(fresh.read().id > 0, "its INSERT committed");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 1);
    assert_eq!(em.managed_count(), 2, "the ticket, and the post waiting for its DELETE");

    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 0);
    assert_eq!(em.managed_count(), 1);
}

async fn a_remove_by_key_made_while_a_flush_is_in_flight_is_not_lost(b: Backend) {
    let _one = ONE_AT_A_TIME.lock().await;
    let (db, orm) = setup(b, &[POST_DDL, TICKET_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "x"), PostEntity::new("b", "x")]).await.unwrap();
    em.native_insert([Ticket { id: 0, name: "t".into(), touched: 0 }]).await.unwrap();
    em.remove_by_key::<PostEntity>(1);

    let (flushing, lock) = flush_in_flight(&db, b, &em).await;
    em.get_reference::<PostEntity>(2).remove(&em);
    release_write_lock(lock).await;
    flushing.await.unwrap().unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 1);

    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 0);
}

async fn work_persisted_changed_or_removed_during_a_flush_stays_pending(b: Backend) {
    let _one = ONE_AT_A_TIME.lock().await;
    let (db, orm) = setup(b, &[POST_DDL, TICKET_DDL]).await;
    let em = orm.em();
    em.native_insert([Ticket { id: 0, name: "t".into(), touched: 0 }]).await.unwrap();
    let inserted = em.create(PostEntity::new("inserted by the flush", "x"));

    let (flushing, lock) = flush_in_flight(&db, b, &em).await;
    // A new entity persisted meanwhile, and the one being inserted removed again.
    let later = em.create(PostEntity::new("persisted meanwhile", "x"));
    em.remove(&inserted).unwrap();
    let ticket = em.find_one_or_fail::<Ticket>(1).await.unwrap();
    ticket.update(|t| t.name = "changed again".into());
    release_write_lock(lock).await;
    flushing.await.unwrap().unwrap();

    assert!(inserted.read().id > 0, "the insert that was under way got its key");
    assert_eq!(later.read().id, 0, "not part of that flush");
    let names = db.query("SELECT name FROM ticket", &[strata::ColumnType::Text]).await;
    assert_eq!(names, [vec![strata::Value::Text("changed".into())]]);

    em.flush().await.unwrap();
    let titles = db.query("SELECT title FROM post_entity", &[strata::ColumnType::Text]).await;
    assert_eq!(titles, [vec![strata::Value::Text("persisted meanwhile".into())]]);
    let names = db.query("SELECT name FROM ticket", &[strata::ColumnType::Text]).await;
    assert_eq!(names, [vec![strata::Value::Text("changed again".into())]]);
}

conformance!(
    a_remove_made_while_a_large_flush_is_in_flight_is_not_lost,
    a_new_entity_removed_while_a_large_flush_inserts_it_is_deleted_next,
    a_remove_by_key_made_while_a_flush_is_in_flight_is_not_lost,
    work_persisted_changed_or_removed_during_a_flush_stays_pending,
);
