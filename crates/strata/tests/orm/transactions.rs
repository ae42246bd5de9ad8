use crate::common::*;
use strata::driver::StatementKind;
use strata::prelude::*;
use strata::{ColumnType, Value};

async fn transactional_commits_on_ok_and_keeps_what_it_flushed(b: Backend) {
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
    assert_eq!(em.managed_count(), 0, "the EntityManager is as before the transaction");
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

async fn changes_made_through_the_outer_entity_manager_join_the_transaction(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("loaded", "x")]).await.unwrap();
    let outer = em.clone();
    let other = orm.clone();
    em.transactional(|tx| async move {
        assert!(outer.in_transaction(), "every clone is in the transaction");
        outer.create(PostEntity::new("created on the outer handle", "x"));
        let loaded = outer.repo::<PostEntity>().find_one_or_fail(1).await?;
        loaded.update(|p| p.title = "changed on the outer handle".into());
        tx.create(PostEntity::new("created on the closure's handle", "x"));
        // The outer handle reads on the transaction's connection: it sees its writes.
        outer.flush().await?;
        assert_eq!(outer.count(PostEntity::fields().id.gt(0)).await?, 3);
        assert_eq!(other.em().count(PostEntity::fields().id.gt(0)).await?, 1, "not committed");
        Ok::<_, Error>(())
    })
    .await
    .unwrap();
    assert!(!em.in_transaction());
    let titles = db.query("SELECT title FROM post_entity ORDER BY id", &[ColumnType::Text]).await;
    let text = |s: &str| vec![Value::Text(s.into())];
    assert_eq!(
        titles,
        [
            text("changed on the outer handle"),
            text("created on the outer handle"),
            text("created on the closure's handle")
        ]
    );
    assert_eq!(em.managed_count(), 3, "all of them are managed by em");
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "nothing was left pending");
}

async fn changes_made_through_the_outer_entity_manager_roll_back_with_the_transaction(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("kept", "x")]).await.unwrap();
    let pending = em.create(PostEntity::new("pending before the transaction", "x"));
    let outer = em.clone();
    let created = std::sync::Arc::new(std::sync::Mutex::new(None));
    let created_inside = created.clone();
    let result: Result<(), Error> = em
        .transactional(|_tx| async move {
            let c = outer.create(PostEntity::new("created on the outer handle", "x"));
            *created_inside.lock().unwrap() = Some(c);
            let kept = outer.repo::<PostEntity>().find_one_or_fail(1).await?;
            kept.update(|p| p.title = "changed inside".into());
            outer.flush().await?;
            Err(Error::usage("changed my mind"))
        })
        .await;
    assert_eq!(result.unwrap_err().message(), "changed my mind");
    let titles = db.query("SELECT title FROM post_entity", &[ColumnType::Text]).await;
    assert_eq!(titles, [vec![Value::Text("kept".into())]], "everything was rolled back");
    assert!(!em.in_transaction());
    assert_eq!(em.managed_count(), 0, "as before the transaction");
    let created = created.lock().unwrap().take().unwrap();
    assert_eq!(created.read().id, 0, "the key of the rolled-back insert is taken back");
    assert_eq!(pending.read().id, 0, "the key of the rolled-back insert is taken back");
    // What was pending before the transaction is pending again, and only that.
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert_eq!(count(&orm.query_log().take(), StatementKind::Insert), 1);
    let titles = db.query("SELECT title FROM post_entity ORDER BY id", &[ColumnType::Text]).await;
    assert_eq!(
        titles,
        [
            vec![Value::Text("kept".into())],
            vec![Value::Text("pending before the transaction".into())]
        ]
    );
    assert!(pending.read().id > 1);
}

async fn a_transactional_future_dropped_midway_rolls_back_and_leaves_no_transaction(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    let inner = em.clone();
    let cancelled = tokio::time::timeout(
        std::time::Duration::from_millis(200),
        em.transactional(|tx| async move {
            tx.create(PostEntity::new("never committed", "x"));
            tx.flush().await?;
            std::future::pending::<()>().await;
            Ok::<_, Error>(())
        }),
    )
    .await;
    assert!(cancelled.is_err(), "the transaction was still running");
    assert!(!inner.in_transaction(), "the EntityManager is out of the dropped transaction");
    assert_eq!(em.managed_count(), 0);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 0);
    em.create(PostEntity::new("after", "x"));
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 1);
}

conformance!(
    changes_made_through_the_outer_entity_manager_join_the_transaction,
    changes_made_through_the_outer_entity_manager_roll_back_with_the_transaction,
    a_transactional_future_dropped_midway_rolls_back_and_leaves_no_transaction,
    transactional_commits_on_ok_and_keeps_what_it_flushed,
    transactional_rolls_back_on_err,
    work_pending_before_transactional_is_flushed_inside_it,
    nested_transactional_uses_savepoints,
    a_failed_flush_inside_a_transaction_rolls_back_only_to_its_savepoint,
);
