//! Whole tables and schemas: create, drop, a non-default schema, and the no-op run.

use crate::Case;
use strata::{DbEnum, Entity};

mod create_table {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct PostEntity {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
        pub content: String,
    }

    /// The article's migration, exactly.
    #[tokio::test]
    async fn create_table_from_nothing() {
        Case {
            entities: &[PostEntity::meta()],
            up: &[
                r#"create table "post_entity" ("id" serial primary key, "title" varchar(255) not null, "content" varchar(255) not null)"#,
            ],
            down: &[r#"drop table "post_entity""#],
            ..Case::default()
        }
        .run()
        .await;
    }
}

mod no_op {
    use super::*;

    #[derive(DbEnum, Clone, Copy, PartialEq)]
    pub(crate) enum Status {
        Draft,
        Published,
    }

    #[derive(Entity, Clone)]
    #[strata(table = "article")]
    pub(crate) struct Article {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(unique, length = 100)]
        pub slug: String,
        #[strata(default = "'untitled'")]
        pub title: String,
        #[strata(type = "text", index)]
        pub body: String,
        #[strata(enum, default = "'draft'")]
        pub status: Status,
        pub external_id: uuid::Uuid,
        #[strata(default = "'{}'")]
        pub tags: serde_json::Value,
        #[strata(default = "now()")]
        pub created_at: chrono::DateTime<chrono::Utc>,
        pub data: Vec<u8>,
        pub published_on: Option<chrono::NaiveDate>,
        #[strata(default = "false")]
        pub featured: bool,
        #[strata(default = "-1")]
        pub priority: i16,
        pub score: f32,
        pub rating: Option<f64>,
        #[strata(default = "0")]
        pub views: i32,
    }

    /// Written by hand with PostgreSQL's aliases and spellings: nothing to change.
    const START: &str = "
        create table article (
            id bigserial primary key,
            slug character varying(100) not null,
            title character varying(255) not null default 'untitled',
            body text not null,
            status text not null default 'draft' check (status in ('draft', 'published')),
            external_id uuid not null,
            tags jsonb not null default '{}'::jsonb,
            created_at timestamp with time zone not null default NOW(),
            data bytea not null,
            published_on date,
            featured bool not null default FALSE,
            priority int2 not null default -1,
            score float4 not null,
            rating float8,
            views int4 not null default 0,
            constraint article_slug_unique unique (slug)
        );
        create index article_body_index on article (body);";

    #[tokio::test]
    async fn an_unchanged_schema_needs_no_change() {
        Case { start: START, entities: &[Article::meta()], ..Case::default() }.run().await;
    }

    /// The same table created by Strata's own DDL also diffs as unchanged.
    #[tokio::test]
    async fn a_table_strata_created_needs_no_change() {
        let sql = strata_migrate::ddl::render(
            &strata_migrate::diff::diff(
                &strata_migrate::schema::Schema::default(),
                &strata_migrate::target::target_schema(&[Article::meta()], None),
            ),
            strata_migrate::schema::Backend::Postgres,
        )
        .unwrap();
        let start = sql.up.join(";\n");
        Case { start: &start, entities: &[Article::meta()], ..Case::default() }.run().await;
    }
}

mod drop_table {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
    }

    #[tokio::test]
    async fn drop_table_is_destructive() {
        Case {
            start: "create table post (id serial primary key, title varchar(255) not null);
                    create table legacy (id serial primary key, note text)",
            entities: &[Post::meta()],
            up: &[r#"drop table "legacy""#],
            down: &[r#"create table "legacy" ("id" serial primary key, "note" text)"#],
            destructive: &[r#"drop table "legacy""#],
            ..Case::default()
        }
        .run()
        .await;
    }
}

mod other_schema {
    use super::*;

    #[derive(Entity, Clone)]
    #[strata(schema = "blog")]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        #[strata(index)]
        pub title: String,
    }

    #[tokio::test]
    async fn a_table_in_a_non_default_schema_creates_and_drops_the_schema() {
        Case {
            entities: &[Post::meta()],
            namespaces: &["blog", "public"],
            up: &[
                r#"create schema if not exists "blog""#,
                r#"create table "blog"."post" ("id" serial primary key, "title" varchar(255) not null)"#,
                r#"create index "post_title_index" on "blog"."post" ("title")"#,
            ],
            down: &[r#"drop table "blog"."post""#, r#"drop schema "blog""#],
            ..Case::default()
        }
        .run()
        .await;
    }

    #[tokio::test]
    async fn a_column_added_in_a_non_default_schema_is_qualified() {
        Case {
            start: "create schema blog; create table blog.post (id serial primary key)",
            entities: &[Post::meta()],
            namespaces: &["blog", "public"],
            up: &[
                r#"alter table "blog"."post" add column "title" varchar(255) not null"#,
                r#"create index "post_title_index" on "blog"."post" ("title")"#,
            ],
            down: &[
                r#"drop index "blog"."post_title_index""#,
                r#"alter table "blog"."post" drop column "title""#,
            ],
            ..Case::default()
        }
        .run()
        .await;
    }
}
