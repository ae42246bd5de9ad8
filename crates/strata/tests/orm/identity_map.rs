use crate::common::*;
use strata::driver::StatementKind;
use strata::prelude::*;

async fn the_same_id_fetched_twice_is_one_instance_and_one_select(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    orm.em().native_insert([PostEntity::new("Hello", "World")]).await.unwrap();
    let em = orm.em();
    orm.query_log().start_capture();
    let a = em.find_one::<PostEntity>(1).await.unwrap().expect("row 1 exists");
    let b = em.repo::<PostEntity>().find_one(1).await.unwrap().expect("row 1 exists");
    let log = orm.query_log().take();
    assert!(Managed::ptr_eq(&a, &b), "both lookups must return the same instance");
    assert_eq!(count(&log, StatementKind::Select), 1, "second lookup must not query: {log:#?}");
    assert_eq!(log.len(), 1, "{log:#?}");
    // A change through one handle is visible through the other.
    a.write().title = "Changed".into();
    assert_eq!(b.read().title, "Changed");
}

/// The instance already in the map comes back as it is, between rows that are new: the row
/// it would have been built from is skipped, and the rows after it are read whole (the driver
/// decodes every row into one buffer, which the skipped row leaves full).
async fn a_query_returns_the_instances_already_loaded(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    let posts = [PostEntity::new("a", "1"), PostEntity::new("b", "2"), PostEntity::new("c", "3")];
    em.native_insert(posts).await.unwrap();
    let one = em.find_one_or_fail::<PostEntity>(2).await.unwrap();
    one.write().title = "unsaved".into();
    let all = em
        .find_all::<PostEntity>(FindOptions::new().order_by(PostEntity::fields().id.asc()))
        .await
        .unwrap();
    assert_eq!(all.len(), 3);
    assert!(Managed::ptr_eq(&all[1], &one), "the loaded instance is reused");
    assert_eq!(all[1].read().title, "unsaved", "a query does not overwrite unsaved changes");
    let read = |p: &Managed<PostEntity>| {
        let p = p.read();
        (p.id, p.title.clone(), p.content.clone())
    };
    assert_eq!(read(&all[0]), (1, "a".to_owned(), "1".to_owned()));
    assert_eq!(read(&all[2]), (3, "c".to_owned(), "3".to_owned()), "the row after the skipped one");
}

async fn two_entity_managers_have_separate_identity_maps(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    orm.em().native_insert([PostEntity::new("a", "1")]).await.unwrap();
    let (em1, em2) = (orm.em(), orm.em());
    let a = em1.find_one_or_fail::<PostEntity>(1).await.unwrap();
    let b = em2.find_one_or_fail::<PostEntity>(1).await.unwrap();
    assert!(!Managed::ptr_eq(&a, &b));
    a.write().title = "only in em1".into();
    assert_eq!(b.read().title, "a");
}

async fn refresh_reloads_and_clear_forgets(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "1")]).await.unwrap();
    let post = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    post.write().title = "local change".into();
    db.execute("UPDATE post_entity SET content = 'remote'").await;
    assert!(em.refresh(&post).await.unwrap());
    assert_eq!(post.get(), PostEntity { id: 1, title: "a".into(), content: "remote".into() });
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "refresh renews the snapshot: nothing to flush");

    em.clear();
    assert_eq!(em.managed_count(), 0);
    let again = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    assert!(!Managed::ptr_eq(&again, &post), "after clear a new instance is loaded");

    db.execute("DELETE FROM post_entity").await;
    assert!(!em.refresh(&again).await.unwrap(), "refresh of a deleted row reports it");
    assert!(em.find_one::<PostEntity>(1).await.unwrap().is_none());
}

async fn get_reference_removes_without_loading(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "1"), PostEntity::new("b", "2")]).await.unwrap();
    let r = em.get_reference::<PostEntity>(2);
    assert!(!r.is_loaded());
    orm.query_log().start_capture();
    r.remove(&em);
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(count(&log, StatementKind::Select), 0, "{log:#?}");
    assert_eq!(count(&log, StatementKind::Delete), 1, "{log:#?}");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 1);

    let loaded = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    let r1 = em.get_reference::<PostEntity>(1);
    assert!(r1.is_loaded() && Managed::ptr_eq(&r1.get().unwrap(), &loaded));
    assert!(Managed::ptr_eq(&r1.load(&em).await.unwrap(), &loaded));
}

async fn find_one_or_fail_names_the_entity_and_the_key(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    let err = orm.em().find_one_or_fail::<PostEntity>(999).await.unwrap_err();
    assert!(err.is_not_found());
    assert_eq!(err.message(), "PostEntity not found (999)");
}

conformance!(
    the_same_id_fetched_twice_is_one_instance_and_one_select,
    a_query_returns_the_instances_already_loaded,
    two_entity_managers_have_separate_identity_maps,
    refresh_reloads_and_clear_forgets,
    get_reference_removes_without_loading,
    find_one_or_fail_names_the_entity_and_the_key,
);
