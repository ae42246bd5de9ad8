//! Dirty checking of loaded entities: a loaded instance carries no snapshot until it is first
//! borrowed for writing; every way of changing it is still found, and nothing else is written.

use crate::common::*;
use strata::driver::StatementKind;
use strata::prelude::*;

async fn titles(db: &Db) -> Vec<String> {
    db.query("SELECT title FROM post_entity ORDER BY id", &[strata::ColumnType::Text])
        .await
        .into_iter()
        .map(|r| match &r[0] {
            strata::Value::Text(t) => t.clone(),
            other => panic!("a title is text, not {other:?}"),
        })
        .collect()
}

fn updates(orm: &Strata) -> usize {
    count(&orm.query_log().take(), StatementKind::Update)
}

/// `write`, `update` and `assign` on loaded instances are each found; the instances nobody
/// borrowed for writing are not written.
async fn every_way_of_changing_a_loaded_entity_is_flushed_and_nothing_else(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert((1..=5).map(|i| PostEntity::new(&format!("t{i}"), "c"))).await.unwrap();
    let posts = em
        .find_all::<PostEntity>(FindOptions::new().order_by(PostEntity::fields().id.asc()))
        .await
        .unwrap();
    posts[0].write().title = "written".into();
    posts[1].update(|p| p.title = "updated".into());
    em.assign(&posts[2], serde_json::json!({ "title": "assigned" })).unwrap();
    // Read, never written.
    assert_eq!(posts[3].read().title, "t4");
    assert_eq!(posts[4].get().title, "t5");
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    let update = data_statements(&log);
    assert_eq!(update.len(), 1, "one set-based UPDATE: {log:#?}");
    assert_eq!(update[0].rows, 3, "the three changed rows only");
    assert_eq!(titles(&db).await, ["written", "updated", "assigned", "t4", "t5"]);
}

/// A loaded entity changed and changed back is not written; changed again after a flush, it is
/// written again.
async fn a_change_undone_is_nothing_and_a_second_change_after_a_flush_is_written(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "c")]).await.unwrap();
    let post = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    post.write().title = "b".into();
    post.write().title = "a".into();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "changed back: nothing to write");
    post.write().title = "b".into();
    em.flush().await.unwrap();
    post.write().title = "c".into();
    em.flush().await.unwrap();
    assert_eq!(updates(&orm), 2);
    assert_eq!(titles(&db).await, ["c"]);
    em.flush().await.unwrap();
    assert_eq!(updates(&orm), 0);
}

/// A change flushed inside a transaction that rolls back is written again by the next flush:
/// the entity keeps the change, the database does not.
async fn a_change_rolled_back_with_its_transaction_is_written_by_the_next_flush(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "c")]).await.unwrap();
    let post = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    let result = em
        .transactional(|tx| async move {
            let post = tx.find_one_or_fail::<PostEntity>(1).await?;
            post.write().title = "in tx".into();
            tx.flush().await?;
            Err::<(), _>(Error::usage("roll back"))
        })
        .await;
    assert!(result.is_err());
    assert_eq!(titles(&db).await, ["a"], "rolled back");
    assert_eq!(post.read().title, "in tx", "the instance keeps the change");
    em.flush().await.unwrap();
    assert_eq!(titles(&db).await, ["in tx"]);
}

/// A clean instance that another task borrows for writing while a flush runs is waited for,
/// and its change written.
async fn a_write_borrow_held_while_flushing_a_clean_instance_is_waited_for(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "c")]).await.unwrap();
    let post = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    let (taken, take) = tokio::sync::oneshot::channel();
    let writer = {
        let post = post.clone();
        std::thread::spawn(move || {
            let mut guard = post.write();
            guard.title = "from a thread".into();
            let _ = taken.send(());
            std::thread::sleep(std::time::Duration::from_millis(100));
            drop(guard);
        })
    };
    take.await.unwrap();
    em.flush().await.unwrap();
    writer.join().unwrap();
    assert_eq!(titles(&db).await, ["from a thread"]);
}

/// Loading many rows keeps no copy of them, and a flush after loading them sends nothing.
async fn loading_ten_thousand_rows_then_flushing_sends_nothing(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert((0..10_000).map(|i| PostEntity::new(&format!("t{i}"), "c"))).await.unwrap();
    let posts = em.find_all::<PostEntity>(FindOptions::new()).await.unwrap();
    assert_eq!(posts.len(), 10_000);
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty());
    posts[9_999].write().content = "last".into();
    em.flush().await.unwrap();
    assert_eq!(updates(&orm), 1);
}

conformance!(
    every_way_of_changing_a_loaded_entity_is_flushed_and_nothing_else,
    a_change_undone_is_nothing_and_a_second_change_after_a_flush_is_written,
    a_change_rolled_back_with_its_transaction_is_written_by_the_next_flush,
    a_write_borrow_held_while_flushing_a_clean_instance_is_waited_for,
    loading_ten_thousand_rows_then_flushing_sends_nothing,
);
