use crate::common::*;
use strata::driver::StatementKind;
use strata::prelude::*;
use strata::{ColumnType, Value};

async fn transactional_commits_on_ok_and_adopts_the_fork_state(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    orm.query_log().start_capture();
    let id = em
        .transactional(|tx| async move {
            let post = tx.create(PostEntity::new("in tx", "x"));
            tx.flush().await?;
            let id = post.read().id;
            Ok::<_, Error>(id)
        })
        .await
        .unwrap();
    let log = orm.query_log().take();
    let tx_cmds: Vec<&str> = log
        .iter()
        .filter(|s| s.kind == StatementKind::Transaction)
        .map(|s| s.sql.as_str())
        .collect();
    assert_eq!(
        tx_cmds,
        ["BEGIN", "SAVEPOINT strata_flush", "RELEASE SAVEPOINT strata_flush", "COMMIT"]
    );
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 1);
    orm.query_log().start_capture();
    let post = em.find_one_or_fail::<PostEntity>(id).await.unwrap();
    assert!(
        orm.query_log().take().is_empty(),
        "the entity created in the transaction is managed by em"
    );
    assert_eq!(post.read().title, "in tx");
}

async fn transactional_rolls_back_on_err(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("kept", "x")]).await.unwrap();
    let result: Result<(), Error> = em
        .transactional(|tx| async move {
            tx.create(PostEntity::new("rolled back", "x"));
            tx.flush().await?;
            let p = tx.find_one_or_fail::<PostEntity>(1).await?;
            tx.remove(&p)?;
            tx.flush().await?;
            Err(Error::usage("changed my mind"))
        })
        .await;
    assert_eq!(result.unwrap_err().message(), "changed my mind");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 1);
    assert_eq!(em.managed_count(), 0, "the outer EntityManager did not take the fork's state");
    assert!(em.find_one::<PostEntity>(1).await.unwrap().is_some());
}

async fn work_pending_before_transactional_is_flushed_inside_it(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    let pending = em.create(PostEntity::new("pending", "x"));
    em.transactional(|_tx| async move { Ok::<_, Error>(()) }).await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 1);
    assert_eq!(pending.read().id, 1, "the key is written back to the same instance");
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "nothing left to flush");
}

async fn nested_transactional_uses_savepoints(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.transactional(|tx| async move {
        tx.create(PostEntity::new("outer", "x"));
        let inner: Result<(), Error> = tx
            .transactional(|inner| async move {
                inner.create(PostEntity::new("inner, rolled back", "x"));
                inner.flush().await?;
                Err(Error::usage("inner fails"))
            })
            .await;
        assert!(inner.is_err());
        tx.transactional(|inner| async move {
            inner.create(PostEntity::new("inner, kept", "x"));
            Ok::<_, Error>(())
        })
        .await?;
        Ok::<_, Error>(())
    })
    .await
    .unwrap();
    let titles = db.query("SELECT title FROM post_entity ORDER BY title", &[ColumnType::Text]);
    let text = |s: &str| vec![Value::Text(s.into())];
    assert_eq!(titles.await, [text("inner, kept"), text("outer")]);
}

async fn a_failed_flush_inside_a_transaction_rolls_back_only_to_its_savepoint(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL, ARTICLE_DDL]).await;
    let em = orm.em();
    let varchar_length = caps(b).enforces_varchar_length;
    em.transactional(|tx| async move {
        tx.create(PostEntity::new("first", "x"));
        tx.flush().await?;
        if varchar_length {
            let bad = tx.create(PostEntity::new(&"x".repeat(300), "x"));
            let err = tx.flush().await.expect_err("too long");
            assert_eq!(err.kind(), &ErrorKind::ValueTooLong);
            bad.write().title = "fixed".into();
        } else {
            // Declared difference: no length limit to violate, so a CHECK fails instead.
            let bad = tx.create(Article { views: -1, ..article("a") });
            let err = tx.flush().await.expect_err("views must not be negative");
            assert!(matches!(err.kind(), ErrorKind::CheckViolation(_)), "{err}");
            tx.create(PostEntity::new("fixed", "x"));
            bad.write().views = 0;
        }
        tx.flush().await?;
        Ok::<_, Error>(())
    })
    .await
    .unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 2);
}

conformance!(
    transactional_commits_on_ok_and_adopts_the_fork_state,
    transactional_rolls_back_on_err,
    work_pending_before_transactional_is_flushed_inside_it,
    nested_transactional_uses_savepoints,
    a_failed_flush_inside_a_transaction_rolls_back_only_to_its_savepoint,
);
