//! Entities and set-up shared by the suite.

use serde::Serialize;
use strata::driver::StatementKind;
use strata::query_log::LoggedStatement;
use strata::{DbEnum, Entity, Strata};
use strata_test::TestDb;

#[derive(Entity, Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PostEntity {
    #[strata(primary_key)]
    pub id: i32,
    pub title: String,
    pub content: String,
}

impl PostEntity {
    pub(crate) fn new(title: &str, content: &str) -> Self {
        Self { id: 0, title: title.into(), content: content.into() }
    }
}

pub(crate) const POST_DDL: &str = r#"
    CREATE TABLE "post_entity" (
        "id" serial PRIMARY KEY,
        "title" varchar(255) NOT NULL,
        "content" varchar(255) NOT NULL
    );"#;

#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) enum Status {
    Draft,
    InReview,
    Published,
}

pub(crate) fn now_utc() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// Every supported field type and most attributes.
#[derive(Entity, Debug, Clone, PartialEq, Serialize)]
#[strata(table = "article")]
pub(crate) struct Article {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(unique, length = 100)]
    pub slug: String,
    #[strata(type = "text")]
    pub body: String,
    pub views: i32,
    pub priority: i16,
    pub score: f32,
    pub rating: Option<f64>,
    pub published: bool,
    #[strata(enum)]
    pub status: Status,
    pub tags: serde_json::Value,
    pub published_on: Option<chrono::NaiveDate>,
    pub external_id: Option<uuid::Uuid>,
    pub thumbnail: Option<Vec<u8>>,
    #[strata(default = "'untitled'")]
    pub subtitle: Option<String>,
    #[strata(on_create = "now_utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[strata(on_create = "now_utc", on_update = "now_utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[strata(version)]
    pub version: i32,
}

pub(crate) const ARTICLE_DDL: &str = r#"
    CREATE TABLE "article" (
        "id" bigserial PRIMARY KEY,
        "slug" varchar(100) NOT NULL CONSTRAINT "article_slug_unique" UNIQUE,
        "body" text NOT NULL,
        "views" integer NOT NULL CHECK ("views" >= 0),
        "priority" smallint NOT NULL,
        "score" real NOT NULL,
        "rating" double precision,
        "published" boolean NOT NULL,
        "status" text NOT NULL,
        "tags" jsonb NOT NULL,
        "published_on" date,
        "external_id" uuid,
        "thumbnail" bytea,
        "subtitle" varchar(255) DEFAULT 'untitled',
        "created_at" timestamptz NOT NULL,
        "updated_at" timestamptz NOT NULL,
        "version" integer NOT NULL
    );"#;

pub(crate) fn article(slug: &str) -> Article {
    Article {
        id: 0,
        slug: slug.into(),
        body: "body".into(),
        views: 0,
        priority: 1,
        score: 1.5,
        rating: None,
        published: false,
        status: Status::Draft,
        tags: serde_json::json!({"lang": "en", "meta": {"a": 1, "b": 2}}),
        published_on: None,
        external_id: None,
        thumbnail: None,
        subtitle: None,
        created_at: chrono::DateTime::UNIX_EPOCH,
        updated_at: chrono::DateTime::UNIX_EPOCH,
        version: 0,
    }
}

#[derive(Entity, Debug, Clone, PartialEq)]
pub(crate) struct Tag {
    #[strata(primary_key)]
    pub id: uuid::Uuid,
    pub name: String,
}

pub(crate) const TAG_DDL: &str =
    r#"CREATE TABLE "tag" ("id" uuid PRIMARY KEY, "name" varchar(255) NOT NULL);"#;

/// A fresh database with the given DDL applied, and an ORM connected to it.
pub(crate) async fn setup(ddl: &str) -> (TestDb, Strata) {
    let db = TestDb::new().await;
    db.client().await.batch_execute(ddl).await.expect("test DDL applies");
    let orm = Strata::connect(db.config()).await.expect("the test database accepts connections");
    (db, orm)
}

/// The statements captured since the last call, without transaction commands.
pub(crate) fn data_statements(log: &[LoggedStatement]) -> Vec<&LoggedStatement> {
    log.iter().filter(|s| s.kind != StatementKind::Transaction).collect()
}

pub(crate) fn count(log: &[LoggedStatement], kind: StatementKind) -> usize {
    log.iter().filter(|s| s.kind == kind).count()
}

pub(crate) async fn scalar_i64(db: &TestDb, sql: &str) -> i64 {
    db.client().await.query_one(sql, &[]).await.expect("scalar query").get::<_, i64>(0)
}
