use crate::common::*;
use strata::prelude::*;
use strata::{ColumnType, Value};

async fn every_field_type_round_trips(b: Backend) {
    let (_db, orm) = setup(b, &[ARTICLE_DDL]).await;
    let em = orm.em();
    let mut a = article("types");
    a.body = "Zażółć gęślą jaźń — 日本語 — 🦀".into();
    a.views = i32::MAX;
    a.priority = i16::MIN;
    a.score = 0.25;
    a.rating = Some(-1.0e300);
    a.published = true;
    a.status = Status::InReview;
    a.tags = serde_json::json!({"nested": [1, "two", null, {"three": 3.5}]});
    a.published_on = Some(chrono::NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
    a.external_id = Some(uuid::Uuid::new_v4());
    a.thumbnail = Some(vec![0, 1, 2, 255]);
    a.subtitle = Some("ünïcödé".into());
    let created = em.create(a);
    em.flush().await.unwrap();
    let expected = created.get();
    let loaded = orm.em().find_one_or_fail::<Article>(expected.id).await.unwrap().get();
    assert_eq!(loaded.created_at.timestamp_micros(), expected.created_at.timestamp_micros());
    let normalise = |mut x: Article| {
        // PostgreSQL keeps microseconds; Rust clocks may carry nanoseconds.
        x.created_at =
            chrono::DateTime::from_timestamp_micros(x.created_at.timestamp_micros()).unwrap();
        x.updated_at =
            chrono::DateTime::from_timestamp_micros(x.updated_at.timestamp_micros()).unwrap();
        x
    };
    assert_eq!(normalise(loaded), normalise(expected));
}

async fn enums_are_stored_as_snake_case_text(b: Backend) {
    let (db, orm) = setup(b, &[ARTICLE_DDL]).await;
    let mut a = article("e");
    a.status = Status::InReview;
    orm.em().native_insert([a]).await.unwrap();
    let stored = db.query("SELECT status FROM article", &[ColumnType::Text]).await;
    assert_eq!(stored, [[Value::Text("in_review".into())]]);
    db.execute("UPDATE article SET status = 'bogus'").await;
    let err = orm.em().find_one::<Article>(1).await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::InvalidValue, "{err}");
}

#[derive(Entity, Debug, Clone, PartialEq)]
#[strata(schema = "blog")]
struct BlogPost {
    #[strata(primary_key)]
    id: i32,
    title: String,
}

const SCHEMAS_DDL: Ddl = Ddl {
    postgres: r#"CREATE SCHEMA blog; CREATE TABLE blog.blog_post (id serial PRIMARY KEY, title varchar(255) NOT NULL);
           CREATE SCHEMA app; CREATE TABLE app.post_entity (id serial PRIMARY KEY, title varchar(255) NOT NULL, content varchar(255) NOT NULL);"#,
    // No schemas: a table of the same name in the one database is not used instead.
    sqlite: r#"CREATE TABLE blog_post (id INTEGER PRIMARY KEY, title varchar(255) NOT NULL);"#,
};

async fn the_schema_option_puts_tables_in_the_named_schema(b: Backend) {
    let (db, orm) = setup(b, &[SCHEMAS_DDL]).await;
    let em = orm.em();
    orm.query_log().start_capture();
    em.create(BlogPost { id: 0, title: "in blog".into() });
    if !caps(b).schemas {
        // Declared difference: the schema-qualified table does not exist, and the error says so.
        let err = em.flush().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Database, "{err}");
        assert!(err.message().contains("blog.blog_post"), "{err}");
        assert_eq!(scalar_i64(&db, "SELECT count(*) FROM blog_post").await, 0);
        return;
    }
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert!(log.iter().any(|s| s.sql.contains(r#""blog"."blog_post""#)), "{log:#?}");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM blog.blog_post").await, 1);

    // A default schema from the configuration applies to entities that name none.
    let app = Strata::connect(db.config().schema("app")).await.unwrap();
    let em = app.em();
    let p = em.create(PostEntity::new("in app", "x"));
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM app.post_entity").await, 1);
    let again = app.em().find_one_or_fail::<PostEntity>(p.key()).await.unwrap();
    assert_eq!(again.read().title, "in app");
    assert_eq!(app.em().find_one_or_fail::<BlogPost>(1).await.unwrap().read().title, "in blog");
}

async fn on_create_fills_only_values_the_application_left_unset(b: Backend) {
    let (_db, orm) = setup(b, &[ARTICLE_DDL]).await;
    let em = orm.em();
    let chosen = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
    let before = chrono::Utc::now();
    let explicit = em.create(Article { created_at: chosen, ..article("explicit") });
    let unset = em.create(article("unset"));
    em.flush().await.unwrap();
    assert_eq!(explicit.read().created_at, chosen, "a value the application set is kept");
    assert!(unset.read().created_at >= before, "the epoch counts as unset and is filled");
    em.native_insert([Article { created_at: chosen, ..article("native") }]).await.unwrap();
    let f = Article::fields();
    let native = orm.em().find_one_by_or_fail(f.slug.eq("native")).await.unwrap();
    assert_eq!(native.read().created_at, chosen, "native_insert keeps it too");
    let reloaded = orm.em().find_one_by_or_fail(f.slug.eq("explicit")).await.unwrap();
    assert_eq!(reloaded.read().created_at, chosen);
}

conformance!(
    on_create_fills_only_values_the_application_left_unset,
    every_field_type_round_trips,
    enums_are_stored_as_snake_case_text,
    the_schema_option_puts_tables_in_the_named_schema,
);
