//! Large flushes of new rows by `COPY` (PostgreSQL, where `PgDriver::with_copy_rows` turns it
//! on; it is off by default): the keys are allocated from the sequence first, the rows loaded by binary COPY, and everything else is as with INSERT — every type,
//! keys written back, errors, a failed flush that changes nothing. SQLite has no COPY: the
//! same flushes go by INSERT there (`Dialect::copy_rows_from` is `None`), and the tests assert
//! that too.

use crate::common::*;
use strata::driver::StatementKind;
use strata::prelude::*;
use strata::{ErrorKind, query_log::LoggedStatement};

/// The rows one flush needs to go by COPY (on SQLite, where nothing does, the same number).
fn copy_size(orm: &Strata) -> usize {
    orm.dialect().copy_rows_from().unwrap_or(1_000)
}

fn copies(log: &[LoggedStatement]) -> usize {
    log.iter().filter(|s| s.sql.starts_with("COPY ")).count()
}

fn inserts(log: &[LoggedStatement]) -> usize {
    log.iter().filter(|s| s.sql.starts_with("INSERT ")).count()
}

/// An article with every field set, so that no column is left to a database default.
fn full_article(i: usize) -> Article {
    let mut a = article(&format!("slug-{i}"));
    a.views = i32::try_from(i).unwrap();
    a.rating = Some(i as f64 / 4.0);
    a.published = i.is_multiple_of(2);
    a.status = [Status::Draft, Status::InReview, Status::Published][i % 3];
    a.tags = serde_json::json!({ "i": i, "name": format!("tag \"{i}\"\n") });
    a.published_on = chrono::NaiveDate::from_ymd_opt(2026, 1, 1 + (i % 28) as u32);
    a.external_id = Some(uuid::Uuid::from_u128(i as u128 + 1));
    a.thumbnail = Some(vec![0, 1, 2, (i % 256) as u8]);
    a.subtitle = Some(format!("subtitle {i} – ünïcode"));
    a
}

/// Every column of every row arrives as it was created, the keys and versions come back into
/// the instances, and only the dialect decides between COPY and INSERT.
async fn a_large_flush_of_new_rows_goes_by_copy_with_every_type_and_its_keys(b: Backend) {
    let (_db, orm) = setup_with_copy(b, &[ARTICLE_DDL]).await;
    let n = copy_size(&orm);
    let em = orm.em();
    let created: Vec<_> = (0..n).map(|i| em.create(full_article(i))).collect();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    match orm.dialect().copy_rows_from() {
        Some(_) => {
            assert_eq!((copies(&log), inserts(&log)), (1, 0), "{log:#?}");
            assert_eq!(count(&log, StatementKind::Select), 1, "the keys, allocated at once");
        }
        None => assert_eq!((copies(&log), inserts(&log)), (0, inserts(&log).max(1))),
    }
    let mut ids: Vec<i64> = created.iter().map(|a| a.read().id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "every instance has a key of its own");
    assert!(created.iter().all(|a| a.read().version == 1));
    let fresh = orm.em();
    for (i, instance) in created.iter().enumerate().step_by(97) {
        let expected = instance.get();
        let loaded = fresh.find_one_or_fail::<Article>(expected.id).await.unwrap();
        let loaded = loaded.get();
        assert_eq!(loaded.slug, format!("slug-{i}"));
        assert_eq!(loaded.tags, expected.tags);
        assert_eq!(loaded.published_on, expected.published_on);
        assert_eq!(loaded.external_id, expected.external_id);
        assert_eq!(loaded.thumbnail, expected.thumbnail);
        assert_eq!(loaded.subtitle, expected.subtitle);
        assert_eq!(loaded.status, expected.status);
        assert_eq!(loaded.rating, expected.rating);
        assert_eq!(loaded.created_at.timestamp_micros(), expected.created_at.timestamp_micros());
    }
    // The instances are managed: nothing more to write.
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty());
}

/// One row fewer than the threshold goes by INSERT; keys allocated for a COPY are taken from the
/// sequence, so the next INSERT continues after them.
async fn below_the_threshold_rows_go_by_insert_and_the_sequence_continues(b: Backend) {
    let (db, orm) = setup_with_copy(b, &[POST_DDL]).await;
    let n = copy_size(&orm);
    let em = orm.em();
    for i in 0..n - 1 {
        em.create(PostEntity::new(&format!("t{i}"), "c"));
    }
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(copies(&log), 0, "{} rows go by INSERT", n - 1);
    for i in 0..n {
        em.create(PostEntity::new(&format!("u{i}"), "c"));
    }
    em.flush().await.unwrap();
    let expected = usize::from(orm.dialect().copy_rows_from().is_some());
    assert_eq!(copies(&orm.query_log().take()), expected);
    let last = em.create(PostEntity::new("last", "c"));
    em.flush().await.unwrap();
    assert_eq!(usize::try_from(last.read().id).unwrap(), 2 * n, "ids 1..=2n-1 are taken");
    assert_eq!(scalar_i64(&db, "SELECT count(DISTINCT id) FROM post_entity").await, 2 * n as i64);
}

/// A duplicate in a COPY is the same unique violation as in an INSERT, naming the constraint;
/// the flush rolls back and leaves every instance new and unkeyed, so a retry after the fix
/// writes them all.
async fn a_unique_violation_in_a_copy_is_the_insert_error_and_changes_nothing(b: Backend) {
    let (db, orm) = setup_with_copy(b, &[ARTICLE_DDL]).await;
    let n = copy_size(&orm);
    orm.em().native_insert([full_article(n / 2)]).await.unwrap();
    let em = orm.em();
    let created: Vec<_> = (0..n).map(|i| em.create(full_article(i))).collect();
    let error = em.flush().await.unwrap_err();
    assert_eq!(
        error.kind(),
        &ErrorKind::UniqueViolation(Some("article_slug_unique".into())),
        "{error}"
    );
    assert!(created.iter().all(|a| a.read().id == 0), "no key written back");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM article").await, 1);
    created[n / 2].write().slug = "fixed".into();
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM article").await, n as i64 + 1);
}

/// Rows with columns left to a database default must read the default back, which COPY cannot:
/// they go by INSERT … RETURNING.
async fn rows_that_read_back_a_database_default_go_by_insert(b: Backend) {
    let (_db, orm) = setup_with_copy(b, &[ARTICLE_DDL]).await;
    let n = copy_size(&orm);
    let em = orm.em();
    let created: Vec<_> = (0..n)
        .map(|i| {
            let mut a = full_article(i);
            a.subtitle = None;
            em.create(a)
        })
        .collect();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert_eq!(copies(&orm.query_log().take()), 0);
    assert!(created.iter().all(|a| a.read().subtitle.as_deref() == Some("untitled")));
}

/// A key column that only the database may write (`GENERATED ALWAYS AS IDENTITY`) cannot take
/// allocated keys: the rows go by INSERT, in the same flush.
async fn a_generated_always_key_falls_back_to_insert(b: Backend) {
    let always = Ddl {
        postgres: r#"CREATE TABLE "post_entity" (
            "id" int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            "title" varchar(255) NOT NULL, "content" varchar(255) NOT NULL)"#,
        sqlite: POST_DDL.sqlite,
    };
    let (db, orm) = setup_with_copy(b, &[always]).await;
    let n = copy_size(&orm);
    let em = orm.em();
    let created: Vec<_> =
        (0..n).map(|i| em.create(PostEntity::new(&format!("t{i}"), "c"))).collect();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(copies(&log), 0, "{log:#?}");
    assert!(inserts(&log) >= 1);
    assert!(created.iter().all(|p| p.read().id > 0));
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, n as i64);
}

/// Flushes racing on the same table take keys of their own from the sequence: no duplicate,
/// every row written, every instance keyed with its own row.
async fn concurrent_large_flushes_take_distinct_keys(b: Backend) {
    let (db, orm) = setup_with_copy(b, &[POST_DDL]).await;
    let n = copy_size(&orm);
    let flushes: Vec<_> = (0..4)
        .map(|f| {
            let em = orm.em();
            tokio::spawn(async move {
                let created: Vec<_> =
                    (0..n).map(|i| em.create(PostEntity::new(&format!("f{f} {i}"), "c"))).collect();
                em.flush().await.map(|()| created)
            })
        })
        .collect();
    let mut all = Vec::new();
    for flush in flushes {
        all.extend(flush.await.unwrap().unwrap());
    }
    let mut ids: Vec<i32> = all.iter().map(|p| p.read().id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 4 * n);
    for post in all.iter().step_by(101) {
        let (id, title) = (post.read().id, post.read().title.clone());
        let sql = format!("SELECT count(*) FROM post_entity WHERE id = {id} AND title = '{title}'");
        assert_eq!(scalar_i64(&db, &sql).await, 1, "{title} has its own row");
    }
}

conformance!(
    concurrent_large_flushes_take_distinct_keys,
    a_large_flush_of_new_rows_goes_by_copy_with_every_type_and_its_keys,
    below_the_threshold_rows_go_by_insert_and_the_sequence_continues,
    a_unique_violation_in_a_copy_is_the_insert_error_and_changes_nothing,
    rows_that_read_back_a_database_default_go_by_insert,
    a_generated_always_key_falls_back_to_insert,
);
