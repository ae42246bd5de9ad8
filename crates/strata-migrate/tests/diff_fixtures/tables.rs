//! Whole tables and schemas: create, drop, a non-default schema, and the no-op run.

use crate::{Backend, Case, OnSqlite, Sqlite, conformance};
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
    async fn create_table_from_nothing(b: Backend) {
        Case {
            entities: &[PostEntity::meta()],
            up: &[
                r#"create table "post_entity" ("id" serial primary key, "title" varchar(255) not null, "content" varchar(255) not null)"#,
            ],
            down: &[r#"drop table "post_entity""#],
            sqlite: OnSqlite::Run(Sqlite {
                up: &[
                    r#"create table "post_entity" ("id" integer primary key autoincrement, "title" varchar(255) not null, "content" varchar(255) not null)"#,
                ],
                down: &[
                    r#"drop table "post_entity""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(create_table_from_nothing);
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

    /// The same by hand for SQLite, with the aliases it accepts (`BOOLEAN`, `BIGINT`,
    /// `CURRENT_TIMESTAMP`): compared as SQLite stores them, nothing to change either.
    const SQLITE_START: &str = "
        CREATE TABLE article (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            slug varchar(100) NOT NULL,
            title varchar(255) NOT NULL DEFAULT 'untitled',
            body TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'draft',
            external_id TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
            data BLOB NOT NULL,
            published_on TEXT,
            featured BOOLEAN NOT NULL DEFAULT FALSE,
            priority SMALLINT NOT NULL DEFAULT -1,
            score REAL NOT NULL,
            rating DOUBLE PRECISION,
            views BIGINT NOT NULL DEFAULT 0,
            CONSTRAINT article_status_check CHECK (status IN ('draft', 'published'))
        );
        CREATE UNIQUE INDEX article_slug_unique ON article (slug);
        CREATE INDEX article_body_index ON article (body);";

    async fn an_unchanged_schema_needs_no_change(b: Backend) {
        Case {
            start: START,
            entities: &[Article::meta()],
            sqlite: OnSqlite::Run(Sqlite { start: SQLITE_START, ..Sqlite::default() }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    /// The same table created by Strata's own DDL also diffs as unchanged.
    async fn a_table_strata_created_needs_no_change(b: Backend) {
        let create = |backend| {
            let d = strata_migrate::diff::diff(
                &strata_migrate::schema::Schema::default(),
                &strata_migrate::target::target_schema(&[Article::meta()], None),
            );
            strata_migrate::ddl::render(&d, backend).unwrap().up.join(";\n")
        };
        let postgres = create(strata::DbKind::Postgres);
        let sqlite = create(strata::DbKind::Sqlite);
        Case {
            start: &postgres,
            entities: &[Article::meta()],
            sqlite: OnSqlite::Run(Sqlite { start: &sqlite, ..Sqlite::default() }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(an_unchanged_schema_needs_no_change, a_table_strata_created_needs_no_change);
}

mod drop_table {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
    }

    async fn drop_table_is_destructive(b: Backend) {
        Case {
            start: "create table post (id serial primary key, title varchar(255) not null);
                    create table legacy (id serial primary key, note text)",
            entities: &[Post::meta()],
            up: &[r#"drop table "legacy""#],
            down: &[r#"create table "legacy" ("id" serial primary key, "note" text)"#],
            destructive: &[r#"drop table "legacy""#],
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement,
                        title varchar(255) not null);
                    create table legacy (id integer primary key autoincrement, note text)",
                up: &[
                    r#"drop table "legacy""#,
                ],
                down: &[
                    r#"create table "legacy" ("id" integer primary key autoincrement, "note" text)"#,
                ],
                destructive: &[r#"drop table "legacy""#],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(drop_table_is_destructive);
}

mod other_schema {
    use super::*;

    /// Why these cases are PostgreSQL's alone. What SQLite does instead is tested in
    /// `a_non_default_schema_is_refused_on_sqlite`.
    const NO_SCHEMAS: &str = "SQLite has no schemas (namespaces): an attached database is \
        the nearest thing, and migrations do not manage attachments";

    #[derive(Entity, Clone)]
    #[strata(schema = "blog")]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        #[strata(index)]
        pub title: String,
    }

    async fn a_table_in_a_non_default_schema_creates_and_drops_the_schema(b: Backend) {
        Case {
            entities: &[Post::meta()],
            namespaces: &["blog", "public"],
            up: &[
                r#"create schema if not exists "blog""#,
                r#"create table "blog"."post" ("id" serial primary key, "title" varchar(255) not null)"#,
                r#"create index "post_title_index" on "blog"."post" ("title")"#,
            ],
            down: &[r#"drop table "blog"."post""#, r#"drop schema "blog""#],
            sqlite: OnSqlite::PostgresOnly(NO_SCHEMAS),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    async fn a_column_added_in_a_non_default_schema_is_qualified(b: Backend) {
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
            sqlite: OnSqlite::PostgresOnly(NO_SCHEMAS),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    /// On SQLite, the same entity gives an error that says what to do, not broken SQL.
    #[test]
    fn a_non_default_schema_is_refused_on_sqlite() {
        let d = strata_migrate::diff::diff(
            &strata_migrate::schema::Schema::default(),
            &strata_migrate::target::target_schema(&[Post::meta()], None),
        );
        let err = strata_migrate::ddl::render(&d, strata::DbKind::Sqlite).unwrap_err();
        assert!(err.message().contains("SQLite has no schemas"), "{err}");
        assert!(err.message().contains("schema = "), "{err}");
    }

    conformance!(
        a_table_in_a_non_default_schema_creates_and_drops_the_schema,
        a_column_added_in_a_non_default_schema_is_qualified
    );
}
