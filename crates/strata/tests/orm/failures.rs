use crate::common::*;
use strata::driver::StatementKind;
use strata::prelude::*;

#[derive(Entity, Debug, Clone, PartialEq)]
struct Note {
    #[strata(primary_key)]
    id: i32,
    body: Option<String>,
    post_id: i32,
}

const NOTE_DDL: Ddl = Ddl {
    postgres: r#"
    CREATE TABLE "note" (
        "id" serial PRIMARY KEY,
        "body" varchar(255) NOT NULL,
        "post_id" integer NOT NULL CONSTRAINT "note_post_id_foreign" REFERENCES "post_entity" ("id")
    );"#,
    sqlite: r#"
    CREATE TABLE "note" (
        "id" INTEGER PRIMARY KEY AUTOINCREMENT,
        "body" varchar(255) NOT NULL,
        "post_id" INTEGER NOT NULL CONSTRAINT "note_post_id_foreign" REFERENCES "post_entity" ("id")
    );"#,
};

async fn a_unique_violation_mid_flush_changes_nothing_and_a_retry_succeeds(b: Backend) {
    let (db, orm) = setup(b, &[ARTICLE_DDL]).await;
    let em = orm.em();
    em.native_insert([article("taken")]).await.unwrap();
    let existing = em.find_one_or_fail::<Article>(1).await.unwrap();
    existing.write().views = 10;
    let fresh: Vec<_> = ["a", "b", "taken", "c"].iter().map(|s| em.create(article(s))).collect();

    let err = em.flush().await.unwrap_err();
    assert_eq!(err.unique_violation(), Some("article_slug_unique"), "{err}");
    assert_eq!(err.code(), Some(caps(b).unique_violation_code));
    // The database is unchanged …
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM article").await, 1);
    assert_eq!(scalar_i64(&db, "SELECT views FROM article").await, 0);
    // … and so is the EntityManager: no key written back, changes still pending.
    assert!(fresh.iter().all(|a| a.read().id == 0), "no key from a rolled-back insert");
    assert_eq!(existing.read().views, 10);
    assert_eq!(existing.read().version, 1, "the version is not bumped by a failed flush");

    fresh[2].write().slug = "fixed".into();
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM article").await, 5);
    assert_eq!(scalar_i64(&db, "SELECT views FROM article WHERE id = 1").await, 10);
    assert!(fresh.iter().all(|a| a.read().id > 1));
    assert_eq!(existing.read().version, 2);
}

async fn an_optimistic_lock_conflict_between_two_entity_managers_is_detected(b: Backend) {
    let (db, orm) = setup(b, &[ARTICLE_DDL]).await;
    orm.em().native_insert([article("a")]).await.unwrap();
    let (em1, em2) = (orm.em(), orm.em());
    let a1 = em1.find_one_or_fail::<Article>(1).await.unwrap();
    let a2 = em2.find_one_or_fail::<Article>(1).await.unwrap();
    a1.write().views = 1;
    em1.flush().await.unwrap();
    a2.write().views = 2;
    let err = em2.flush().await.unwrap_err();
    assert!(err.is_optimistic_lock(), "{err}");
    assert!(err.message().contains("Article") && err.message().contains('1'), "{}", err.message());
    assert_eq!(scalar_i64(&db, "SELECT views FROM article").await, 1, "the loser wrote nothing");
    // After a refresh the second writer can apply its change.
    assert!(em2.refresh(&a2).await.unwrap());
    a2.write().views = 2;
    em2.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT version FROM article").await, 3);
}

async fn a_nul_byte_and_an_overlong_value_give_their_error_kinds(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let caps = caps(b);
    let em = orm.em();
    let nul = em.create(PostEntity::new("nul\0byte", "x"));
    if caps.rejects_nul_in_text {
        let err = em.flush().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::InvalidText, "{err}");
    } else {
        // Declared difference: stored as given, NUL included.
        em.flush().await.unwrap();
        let stored = orm.em().find_one_or_fail::<PostEntity>(nul.key()).await.unwrap();
        assert_eq!(stored.read().title, "nul\0byte");
    }
    em.remove(&nul).unwrap();

    let long = em.create(PostEntity::new(&"x".repeat(300), "x"));
    if caps.enforces_varchar_length {
        let err = em.flush().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::ValueTooLong, "{err}");
    } else {
        // Declared difference: varchar(255) does not limit the length.
        em.flush().await.unwrap();
        let sql = "SELECT length(title) FROM post_entity WHERE id = ";
        assert_eq!(scalar_i64(&db, &format!("{sql}{}", long.read().id)).await, 300);
    }
    long.write().title = "é".repeat(255);
    em.flush().await.unwrap();
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM post_entity").await,
        1,
        "255 characters (not bytes) fit"
    );
}

async fn not_null_check_and_foreign_key_violations_are_told_apart(b: Backend) {
    let (_db, orm) = setup(b, &[POST_DDL, ARTICLE_DDL, NOTE_DDL]).await;
    let em = orm.em();
    let post = em.create(PostEntity::new("a", "b"));
    em.flush().await.unwrap();

    let note = em.create(Note { id: 0, body: None, post_id: post.read().id });
    let err = em.flush().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotNullViolation(Some("body".into())), "{err}");
    note.write().body = Some("text".into());
    note.write().post_id = 999;
    let err = em.flush().await.unwrap_err();
    let expected = caps(b).names_foreign_keys.then_some("note_post_id_foreign");
    assert!(err.is_foreign_key_violation(), "{err}");
    assert_eq!(err.foreign_key_violation(), expected, "{err}");
    note.write().post_id = post.read().id;
    em.flush().await.unwrap();

    let a = em.create(article("a"));
    a.write().views = -1;
    let err = em.flush().await.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::CheckViolation(Some(name)) if name == "article_views_check"),
        "{err}"
    );
}

async fn an_unreachable_database_is_a_connection_error_without_the_password(b: Backend) {
    match b {
        Backend::Postgres => {
            let config = StrataConfig::from_url("postgres://someone:s3cret@127.0.0.1:1/nowhere")
                .connect_timeout(std::time::Duration::from_secs(2));
            let err = Strata::connect(config).await.unwrap_err();
            assert!(err.is_connection(), "{err}");
            assert!(!err.to_string().contains("s3cret"), "{err}");
            assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
        }
        Backend::Sqlite => {
            // A file whose directory cannot exist: its would-be parent is a regular file.
            let blocker = strata_test::SqliteTestDb::new();
            std::fs::write(blocker.path(), b"a file, not a directory").unwrap();
            let target = blocker.path().join("db.sqlite");
            let config = StrataConfig::from_url(format!("sqlite://{}", target.display()));
            let err = Strata::connect(config).await.unwrap_err();
            assert!(err.is_connection(), "{err}");
            assert!(err.to_string().contains(&target.display().to_string()), "{err}");
        }
    }
}

async fn a_delete_of_a_row_deleted_meanwhile_fails_with_row_gone(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "x"), PostEntity::new("b", "x")]).await.unwrap();
    let a = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    let b2 = em.find_one_or_fail::<PostEntity>(2).await.unwrap();
    db.execute("DELETE FROM post_entity WHERE id = 1").await;
    em.remove(&a).unwrap();
    em.remove(&b2).unwrap();
    let err = em.flush().await.unwrap_err();
    assert!(err.is_row_gone(), "{err}");
    assert!(err.message().contains("1 of the 2 PostEntity rows to delete"), "{}", err.message());
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 1, "nothing written");
    assert_eq!(em.managed_count(), 2, "the EntityManager is as before the flush");

    // One missing row is named; so is a key removed without loading it.
    em.clear();
    em.remove_by_key::<PostEntity>(7);
    let err = em.flush().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::RowGone);
    assert!(err.message().contains("PostEntity with key 7 to delete"), "{}", err.message());
}

async fn an_update_of_a_row_deleted_meanwhile_fails_with_row_gone(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    let em = orm.em();
    em.native_insert([PostEntity::new("a", "x")]).await.unwrap();
    let a = em.find_one_or_fail::<PostEntity>(1).await.unwrap();
    orm.em().native_delete(PostEntity::fields().id.eq(1)).await.unwrap();
    a.update(|p| p.title = "lost?".into());
    let err = em.flush().await.unwrap_err();
    assert!(err.is_row_gone(), "{err}");
    assert!(err.message().contains("PostEntity with key 1 to update"), "{}", err.message());
    assert_eq!(a.read().title, "lost?", "the change is still pending");
    // Re-created meanwhile, the row can take the change again.
    db.execute("INSERT INTO post_entity (id, title, content) VALUES (1, 'again', 'x')").await;
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity WHERE title = 'lost?'").await, 1);
}

async fn twenty_concurrent_deletes_of_one_row_succeed_exactly_once(b: Backend) {
    let (db, orm) = setup(b, &[POST_DDL]).await;
    orm.em().native_insert([PostEntity::new("contested", "x")]).await.unwrap();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (orm, barrier) = (orm.clone(), barrier.clone());
            tokio::spawn(async move {
                let em = orm.em();
                let found = em.find_one::<PostEntity>(1).await?;
                barrier.wait().await;
                match found {
                    None => Ok::<_, Error>("not found"),
                    Some(post) => match em.remove_and_flush(&post).await {
                        Ok(()) => Ok("deleted"),
                        Err(e) if e.is_row_gone() => Ok("gone"),
                        Err(e) => Err(e),
                    },
                }
            })
        })
        .collect();
    let mut deleted = 0;
    for t in tasks {
        if t.await.unwrap().unwrap() == "deleted" {
            deleted += 1;
        }
    }
    assert_eq!(deleted, 1, "exactly one DELETE found the row");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_entity").await, 0);
}

async fn native_update_moves_the_version_so_a_stale_flush_fails(b: Backend) {
    let (db, orm) = setup(b, &[ARTICLE_DDL]).await;
    let em = orm.em();
    em.native_insert([article("a")]).await.unwrap();
    let stale = em.find_one_or_fail::<Article>(1).await.unwrap();
    assert_eq!(stale.read().version, 1);
    let f = Article::fields();
    orm.query_log().start_capture();
    let n = orm.em().native_update(f.id.eq(1), [f.views.set(5)]).await.unwrap();
    assert_eq!(n, 1);
    let log = orm.query_log().take();
    assert!(log[0].sql.contains(r#""version" = "version" + 1"#), "{}", log[0].sql);
    assert_eq!(scalar_i64(&db, "SELECT version FROM article").await, 2);
    stale.update(|a| a.views = 7);
    let err = em.flush().await.unwrap_err();
    assert!(err.is_optimistic_lock(), "{err}");
    assert_eq!(scalar_i64(&db, "SELECT views FROM article").await, 5, "not overwritten");
    // Setting the version explicitly is the caller's choice.
    orm.em().native_update(f.id.eq(1), [f.version.set(9)]).await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT version FROM article").await, 9);
}

/// The query log shows the statement that failed, with its error, between `BEGIN` and
/// `ROLLBACK`: not the transaction commands alone.
async fn the_statement_that_failed_is_in_the_query_log_with_its_error(b: Backend) {
    let (_db, orm) = setup(b, &[ARTICLE_DDL]).await;
    let em = orm.em();
    em.native_insert([article("taken")]).await.unwrap();
    em.create(article("taken"));
    orm.query_log().start_capture();
    let err = em.flush().await.unwrap_err();
    let log = orm.query_log().take();
    let sql: Vec<&str> = log.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(sql.first(), Some(&"BEGIN"), "{sql:?}");
    assert_eq!(sql.last(), Some(&"ROLLBACK"), "{sql:?}");
    let failed: Vec<_> = log.iter().filter(|s| s.error.is_some()).collect();
    assert_eq!(failed.len(), 1, "{log:#?}");
    assert!(failed[0].sql.to_lowercase().starts_with("insert into"), "{log:#?}");
    assert_eq!(failed[0].kind, StatementKind::Insert);
    let logged = failed[0].error.as_deref().unwrap_or_default();
    assert!(logged.contains("article_slug_unique") || logged.contains(err.message()), "{logged}");
    assert!(log.iter().filter(|s| s.error.is_none()).all(|s| s.kind == StatementKind::Transaction));
}

conformance!(
    a_delete_of_a_row_deleted_meanwhile_fails_with_row_gone,
    an_update_of_a_row_deleted_meanwhile_fails_with_row_gone,
    twenty_concurrent_deletes_of_one_row_succeed_exactly_once,
    native_update_moves_the_version_so_a_stale_flush_fails,
    the_statement_that_failed_is_in_the_query_log_with_its_error,
    a_unique_violation_mid_flush_changes_nothing_and_a_retry_succeeds,
    an_optimistic_lock_conflict_between_two_entity_managers_is_detected,
    a_nul_byte_and_an_overlong_value_give_their_error_kinds,
    not_null_check_and_foreign_key_violations_are_told_apart,
    an_unreachable_database_is_a_connection_error_without_the_password,
);
