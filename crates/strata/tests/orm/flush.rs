use crate::common::*;
use strata::driver::StatementKind;
use strata::prelude::*;
use strata::{ColumnType, Value};

async fn flush_with_no_change_sends_nothing(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "1")]).await.unwrap();
    let post = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    // Writing the same value is not a change.
    post.write().title = "a".into();
    em.flush().await.unwrap();
    orm.em().flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "no statement and no transaction");
}

async fn a_changed_entity_updates_only_its_changed_columns(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "1")]).await.unwrap();
    let post = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    post.write().content = "changed".into();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    let data = data_statements(&log);
    assert_eq!(data.len(), 1, "{log:#?}");
    assert_eq!(data[0].kind, StatementKind::Update);
    assert!(data[0].sql.contains(r#""content""#), "{}", data[0].sql);
    assert!(
        !data[0].sql.contains(r#""title""#),
        "only changed columns are written: {}",
        data[0].sql
    );
    assert_eq!(count(&log, StatementKind::Transaction), 2, "BEGIN and COMMIT: {log:#?}");
    let rows =
        db.query("SELECT title, content FROM post_entity", &[ColumnType::Text, ColumnType::Text]);
    assert_eq!(rows.await, [[Value::Text("a".into()), Value::Text("changed".into())]]);
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "the snapshot is renewed after a flush");
}

async fn persist_and_flush_inserts_and_writes_the_key_back(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    let post = Managed::new(PostEntity::new("Hello", "World"));
    orm.query_log().start_capture();
    em.persist_and_flush(&post).await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(post.read().id, 1);
    let kinds: Vec<_> = log.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [StatementKind::Transaction, StatementKind::Insert, StatementKind::Transaction]
    );
    assert!(log[1].sql.contains("RETURNING"), "{}", log[1].sql);
    // The new instance is now in the identity map.
    assert!(Managed::ptr_eq(&em.find_one_or_fail::<PostEntity>(1).await.unwrap(), &post));
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 1);
}

const N: usize = 10_000;

async fn ten_thousand_inserts_updates_and_deletes_flush_in_batches(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    let chunk = orm.dialect().batch_rows(3);
    let expected = N.div_ceil(chunk);
    let posts: Vec<_> =
        (0..N).map(|i| em.create(PostEntity::new(&format!("title {i}"), "content"))).collect();

    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(count(&log, StatementKind::Insert), expected, "inserts are batched by {chunk}");
    assert_eq!(
        count(&log, StatementKind::Transaction),
        2,
        "one transaction: {:?}",
        log.iter().map(|s| &s.sql).collect::<Vec<_>>()
    );
    let ids: Vec<i32> = posts.iter().map(|p| p.read().id).collect();
    assert_eq!(
        ids,
        (1..=i32::try_from(N).unwrap()).collect::<Vec<_>>(),
        "keys written back by position"
    );
    assert_eq!(posts[1234].read().title, "title 1234");
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM post_entity").await,
        i64::try_from(N).unwrap()
    );

    for p in &posts {
        p.write().content = format!("updated {}", p.read().id);
    }
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(count(&log, StatementKind::Update), expected);
    assert_eq!(count(&log, StatementKind::Transaction), 2);
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM post_entity WHERE content = 'updated ' || id").await,
        i64::try_from(N).unwrap()
    );

    for p in &posts {
        em.remove(p).unwrap();
    }
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(count(&log, StatementKind::Delete), N.div_ceil(orm.dialect().batch_rows(1)));
    assert_eq!(count(&log, StatementKind::Transaction), 2);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 0);
    assert_eq!(em.managed_count(), 0);
}

async fn removing_a_new_entity_before_flush_sends_nothing(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    let post = em.create(PostEntity::new("a", "1"));
    em.remove(&post).unwrap();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty());
}

async fn on_create_on_update_and_version_are_maintained(b: Backend) {
    let (db, orm) = setup(b, &[ARTICLE_DDL]).await;
    let em = orm.em();
    let a = em.create(article("first"));
    em.flush().await.unwrap();
    let (created, updated, version) = {
        let r = a.read();
        (r.created_at, r.updated_at, r.version)
    };
    assert!(created > chrono::DateTime::UNIX_EPOCH, "on_create ran");
    assert_eq!(version, 1, "a new versioned entity starts at 1");
    assert_eq!(a.read().subtitle.as_deref(), Some("untitled"), "the database default is read back");

    a.write().views = 5;
    em.flush().await.unwrap();
    let r = a.get();
    assert_eq!(r.version, 2, "every UPDATE increments the version");
    assert_eq!(r.created_at, created, "on_create does not run on update");
    assert!(r.updated_at >= updated, "on_update ran");
    let rows = db.query("SELECT version, views FROM article", &[ColumnType::I32, ColumnType::I32]);
    assert_eq!(rows.await, [[Value::I32(2), Value::I32(5)]]);
}

async fn uuid_keys_are_generated_by_the_application(b: Backend) {
    let (_db, orm) = setup(b, &[TAG_DDL]).await;
    let em = orm.em();
    let tag = em.create(Tag { id: uuid::Uuid::nil(), name: "rust".into() });
    let explicit = uuid::Uuid::new_v4();
    em.create(Tag { id: explicit, name: "orm".into() });
    em.flush().await.unwrap();
    let key = tag.key();
    assert!(!key.is_nil());
    let em2 = orm.em();
    assert_eq!(em2.find_one_or_fail::<Tag>(key).await.unwrap().read().name, "rust");
    assert_eq!(em2.find_one_or_fail::<Tag>(explicit).await.unwrap().read().name, "orm");
}

async fn persisting_a_second_instance_with_a_managed_key_is_refused(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "1")]).await.unwrap();
    let _loaded = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    let impostor = Managed::new(PostEntity { id: 1, title: "x".into(), content: "y".into() });
    let err = em.persist(&impostor).unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Usage);
    assert!(err.message().contains("already managed"), "{}", err.message());
}

conformance!(
    flush_with_no_change_sends_nothing,
    a_changed_entity_updates_only_its_changed_columns,
    persist_and_flush_inserts_and_writes_the_key_back,
    ten_thousand_inserts_updates_and_deletes_flush_in_batches,
    removing_a_new_entity_before_flush_sends_nothing,
    on_create_on_update_and_version_are_maintained,
    uuid_keys_are_generated_by_the_application,
    persisting_a_second_instance_with_a_managed_key_is_refused,
);
