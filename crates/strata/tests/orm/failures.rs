use crate::common::*;
use strata::prelude::*;

#[derive(Entity, Debug, Clone, PartialEq)]
struct Note {
    #[strata(primary_key)]
    id: i32,
    body: Option<String>,
    post_id: i32,
}

const NOTE_DDL: &str = r#"
    CREATE TABLE "note" (
        "id" serial PRIMARY KEY,
        "body" varchar(255) NOT NULL,
        "post_id" integer NOT NULL CONSTRAINT "note_post_id_foreign" REFERENCES "post_entity" ("id")
    );"#;

#[tokio::test]
async fn a_unique_violation_mid_flush_changes_nothing_and_a_retry_succeeds() {
    let (db, orm) = setup(ARTICLE_DDL).await;
    let em = orm.em();
    em.native_insert([article("taken")]).await.unwrap();
    let existing = em.find_one_or_fail::<Article>(1).await.unwrap();
    existing.write().views = 10;
    let fresh: Vec<_> = ["a", "b", "taken", "c"].iter().map(|s| em.create(article(s))).collect();

    let err = em.flush().await.unwrap_err();
    assert_eq!(err.unique_violation(), Some("article_slug_unique"), "{err}");
    assert_eq!(err.code(), Some("23505"));
    // The database is unchanged …
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM article").await, 1);
    assert_eq!(scalar_i64(&db, "SELECT views::int8 FROM article").await, 0);
    // … and so is the EntityManager: no key written back, changes still pending.
    assert!(fresh.iter().all(|a| a.read().id == 0), "no key from a rolled-back insert");
    assert_eq!(existing.read().views, 10);
    assert_eq!(existing.read().version, 1, "the version is not bumped by a failed flush");

    fresh[2].write().slug = "fixed".into();
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM article").await, 5);
    assert_eq!(scalar_i64(&db, "SELECT views::int8 FROM article WHERE id = 1").await, 10);
    assert!(fresh.iter().all(|a| a.read().id > 1));
    assert_eq!(existing.read().version, 2);
}

#[tokio::test]
async fn an_optimistic_lock_conflict_between_two_entity_managers_is_detected() {
    let (db, orm) = setup(ARTICLE_DDL).await;
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
    assert_eq!(
        scalar_i64(&db, "SELECT views::int8 FROM article").await,
        1,
        "the loser wrote nothing"
    );
    // After a refresh the second writer can apply its change.
    assert!(em2.refresh(&a2).await.unwrap());
    a2.write().views = 2;
    em2.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT version::int8 FROM article").await, 3);
}

#[tokio::test]
async fn a_nul_byte_and_an_overlong_value_give_their_error_kinds() {
    let (db, orm) = setup(POST_DDL).await;
    let em = orm.em();
    let nul = em.create(PostEntity::new("nul\0byte", "x"));
    let err = em.flush().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidText, "{err}");
    em.remove(&nul).unwrap();

    let long = em.create(PostEntity::new(&"x".repeat(300), "x"));
    let err = em.flush().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::ValueTooLong, "{err}");
    long.write().title = "é".repeat(255);
    em.flush().await.unwrap();
    assert_eq!(
        scalar_i64(&db, "SELECT count(*) FROM post_entity").await,
        1,
        "255 characters (not bytes) fit"
    );
}

#[tokio::test]
async fn not_null_check_and_foreign_key_violations_are_told_apart() {
    let (_db, orm) = setup(&format!("{POST_DDL}{ARTICLE_DDL}{NOTE_DDL}")).await;
    let em = orm.em();
    let post = em.create(PostEntity::new("a", "b"));
    em.flush().await.unwrap();

    let note = em.create(Note { id: 0, body: None, post_id: post.read().id });
    let err = em.flush().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::NotNullViolation(Some("body".into())), "{err}");
    note.write().body = Some("text".into());
    note.write().post_id = 999;
    let err = em.flush().await.unwrap_err();
    assert_eq!(err.foreign_key_violation(), Some("note_post_id_foreign"), "{err}");
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

#[tokio::test]
async fn an_unreachable_database_is_a_connection_error_without_the_password() {
    let config = StrataConfig::from_url("postgres://someone:s3cret@127.0.0.1:1/nowhere")
        .connect_timeout(std::time::Duration::from_secs(2));
    let err = Strata::connect(config).await.unwrap_err();
    assert!(err.is_connection(), "{err}");
    assert!(!err.to_string().contains("s3cret"), "{err}");
    assert!(err.to_string().contains("127.0.0.1:1"), "{err}");
}
