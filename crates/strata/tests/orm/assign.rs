use crate::common::*;
use serde::Serialize;
use serde_json::json;
use strata::driver::StatementKind;
use strata::prelude::*;

#[derive(Serialize)]
struct UpdatePost {
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
}

async fn assign_has_patch_semantics_and_flushes_only_changed_columns(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "b")]).await.unwrap();
    let post = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    em.assign(&post, UpdatePost { title: Some("new".into()), content: None }).unwrap();
    assert_eq!(post.get(), PostEntity { id: 1, title: "new".into(), content: "b".into() });
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(count(&log, StatementKind::Update), 1);
    assert!(!log.iter().any(|s| s.sql.contains(r#""content""#)), "content untouched: {log:#?}");

    // Assigning the current values is no change at all.
    em.assign(&post, json!({"title": "new", "content": "b"})).unwrap();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty());

    // The key is never assigned.
    em.assign(&post, json!({"id": 42})).unwrap();
    assert_eq!(post.read().id, 1);
}

async fn assign_null_sets_nullable_columns_and_refuses_required_ones(b: Backend) {
    let (db, orm) = setup(b, &[ARTICLE_DDL]).await;
    let em = orm.em();
    let mut a = article("a");
    a.rating = Some(4.5);
    em.native_insert([a]).await.unwrap();
    let a = em.find_one_or_fail::<Article>(1).await.unwrap();
    em.assign(&a, json!({"rating": null})).unwrap();
    assert_eq!(a.read().rating, None);
    let err = em.assign(&a, json!({"slug": null, "views": 3})).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidValue);
    assert!(err.message().contains("Article.slug"), "{}", err.message());
    assert_eq!(a.read().views, 0, "a failed assign changes nothing");
    let err = em.assign(&a, json!({"views": "many"})).unwrap_err();
    assert!(err.message().contains("Article.views"), "{}", err.message());
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM article WHERE rating IS NULL").await, 1);
}

async fn assign_replaces_json_objects_or_merges_them_when_asked(b: Backend) {
    let (_db, orm) = setup(b, &[ARTICLE_DDL]).await;
    let em = orm.em();
    em.native_insert([article("a")]).await.unwrap();
    let a = em.find_one_or_fail::<Article>(1).await.unwrap();
    em.assign_with(
        &a,
        json!({"tags": {"meta": {"b": 20, "c": 3}}}),
        AssignOptions::new().merge_objects(),
    )
    .unwrap();
    assert_eq!(a.read().tags, json!({"lang": "en", "meta": {"a": 1, "b": 20, "c": 3}}));
    em.assign(&a, json!({"tags": {"only": true}})).unwrap();
    assert_eq!(a.read().tags, json!({"only": true}));
    em.flush().await.unwrap();
    let fresh = orm.em().find_one_or_fail::<Article>(1).await.unwrap();
    assert_eq!(fresh.read().tags, json!({"only": true}));
}

async fn assign_of_an_unknown_key_is_an_error_unless_ignored(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "b")]).await.unwrap();
    let post = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    let err = em.assign(&post, json!({"tilte": "typo", "content": "c"})).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidValue);
    assert!(err.message().contains("PostEntity has no field `tilte`"), "{}", err.message());
    assert_eq!(post.read().content, "b", "a refused patch changes nothing");
    em.assign_with(
        &post,
        json!({"tilte": "typo", "content": "c"}),
        AssignOptions::new().ignore_unknown(),
    )
    .unwrap();
    assert_eq!(post.get(), PostEntity { id: 1, title: "a".into(), content: "c".into() });
    // Column names are known keys as well as field names.
    em.assign(&post, json!({"title": "t"})).unwrap();
}

async fn assign_null_on_a_json_column_is_sql_null_or_an_error(b: Backend) {
    let (db, orm) = setup(b, &[SETTINGS_DDL]).await;
    let em = orm.em();
    let s = em.create(Settings { id: 0, data: json!({"a": 1}), extra: Some(json!([1])) });
    em.flush().await.unwrap();
    em.assign(&s, json!({"extra": null})).unwrap();
    assert_eq!(s.read().extra, None, "JSON null is None, not Some(Value::Null)");
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM settings WHERE extra IS NULL").await, 1);
    let err = em.assign(&s, json!({"data": null})).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidValue);
    assert!(err.message().contains("Settings.data"), "{}", err.message());
    assert_eq!(s.read().data, json!({"a": 1}));
}

conformance!(
    assign_of_an_unknown_key_is_an_error_unless_ignored,
    assign_null_on_a_json_column_is_sql_null_or_an_error,
    assign_has_patch_semantics_and_flushes_only_changed_columns,
    assign_null_sets_nullable_columns_and_refuses_required_ones,
    assign_replaces_json_objects_or_merges_them_when_asked,
);
