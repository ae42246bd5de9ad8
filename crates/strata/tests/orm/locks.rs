//! Entity borrows and the EntityManager: a guard held where it should not be ends in a usage
//! error naming the entity, never in a hang. Each test runs on a runtime of its own under a
//! deadline ([`within`]), so that a deadlock fails the test instead of hanging the suite.

use crate::common::*;
use std::time::{Duration, Instant};
use strata::prelude::*;

/// A database with one post, an ORM, and the post loaded by an EntityManager.
async fn one_post(b: Backend) -> (Db, Strata, EntityManager, Managed<PostEntity>) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "x")]).await.unwrap();
    let post = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    (db, orm, em, post)
}

fn a_flush_does_not_deadlock_with_a_thread_that_holds_an_entity_and_calls_create(b: Backend) {
    let done = within(20, move || async move {
        let (db, _orm, em, post) = one_post(b).await;
        post.update(|p| p.title = "changed".into());
        let (held_tx, held_rx) = std::sync::mpsc::channel();
        let holder = std::thread::spawn({
            let (em, post) = (em.clone(), post.clone());
            move || {
                let mut guard = post.write();
                held_tx.send(()).unwrap();
                // Give the flush time to reach this entity, then use the EntityManager while
                // still holding the guard (no .await: nothing wrong with that).
                std::thread::sleep(Duration::from_millis(100));
                em.create(PostEntity::new("created by the holder", "x"));
                guard.content = "held".into();
            }
        });
        held_rx.recv().unwrap();
        em.flush().await.unwrap();
        holder.join().unwrap();
        em.flush().await.unwrap();
        scalar_i64(&db, "SELECT count(*) FROM post_entity").await
    });
    assert_eq!(done, Some(2), "both flushes finished and wrote both posts");
}

fn debug_of_an_entity_borrowed_for_writing_does_not_wait(b: Backend) {
    let shown = within(20, move || async move {
        let (_db, _orm, _em, post) = one_post(b).await;
        let guard = post.write();
        let shown = format!("{post:?}");
        drop(guard);
        (shown, format!("{post:?}"))
    });
    let (borrowed, free) = shown.expect("formatting never waits");
    assert_eq!(borrowed, "Managed<PostEntity>(<borrowed>)");
    assert!(free.contains("title: \"a\""), "{free}");
}

fn persist_or_remove_while_the_same_thread_holds_the_entity_is_a_usage_error(b: Backend) {
    let errors = within(20, move || async move {
        let (_db, _orm, em, post) = one_post(b).await;
        let guard = post.write();
        let persist = em.persist(&post).unwrap_err();
        let remove = em.remove(&post).unwrap_err();
        drop(guard);
        em.remove(&post).unwrap();
        (persist, remove)
    });
    let (persist, remove) = errors.expect("no hang");
    for (e, op) in [(persist, "persist"), (remove, "remove")] {
        assert_eq!(e.kind(), &ErrorKind::Usage);
        let m = e.message();
        assert!(m.contains(&format!("cannot {op} PostEntity")) && m.contains("guard"), "{m}");
    }
}

#[allow(
    clippy::await_holding_invalid_type,
    reason = "the misuse under test: a guard held across flush().await"
)]
fn a_write_guard_held_across_flush_is_a_usage_error_not_a_hang(b: Backend) {
    let outcome = within(20, move || async move {
        let (db, _orm, em, post) = one_post(b).await;
        let start = Instant::now();
        let mut guard = post.write();
        guard.title = "held across flush".into();
        // What a #[tokio::test] or `main` may compile: the guard lives across the .await.
        let err = em.flush().await.unwrap_err();
        drop(guard);
        let waited = start.elapsed();
        // Once the guard is gone the same flush succeeds.
        em.flush().await.unwrap();
        let titles = db.query("SELECT title FROM post_entity", &[strata::ColumnType::Text]).await;
        (err, waited, titles)
    });
    let (err, waited, titles) = outcome.expect("the flush gives up instead of hanging");
    assert_eq!(err.kind(), &ErrorKind::Usage);
    assert!(err.message().contains("cannot flush PostEntity 1"), "{}", err.message());
    assert!(waited < Duration::from_secs(5), "gave up after {waited:?}");
    assert_eq!(titles, [vec![strata::Value::Text("held across flush".into())]]);
}

conformance_sync!(
    a_flush_does_not_deadlock_with_a_thread_that_holds_an_entity_and_calls_create,
    debug_of_an_entity_borrowed_for_writing_does_not_wait,
    persist_or_remove_while_the_same_thread_holds_the_entity_is_a_usage_error,
    a_write_guard_held_across_flush_is_a_usage_error_not_a_hang,
);
