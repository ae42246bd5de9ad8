//! Declared renames: the data stays, and the down renames back.

use crate::{Backend, Case, OnSqlite, Sqlite, conformance};
use strata::Entity;

mod column {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        #[strata(unique, renamed_from = "title")]
        pub headline: String,
    }

    async fn a_declared_column_rename_keeps_the_data(b: Backend) {
        let case = Case {
            start: "create table post (id serial primary key, title varchar(255) not null,
                    constraint post_title_unique unique (title))",
            seed: "insert into post (title) values ('hello')",
            entities: &[Post::meta()],
            up: &[
                r#"alter table "post" rename column "title" to "headline""#,
                r#"alter table "post" rename constraint "post_title_unique" to "post_headline_unique""#,
            ],
            down: &[
                r#"alter table "post" rename constraint "post_headline_unique" to "post_title_unique""#,
                r#"alter table "post" rename column "headline" to "title""#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement,
                        title varchar(255) not null);
                    create unique index post_title_unique on post (title)",
                seed: "insert into post (title) values ('hello')",
                up: &[
                    r#"alter table "post" rename column "title" to "headline""#,
                    r#"drop index "post_title_unique""#,
                    r#"create unique index "post_headline_unique" on "post" ("headline")"#,
                ],
                down: &[
                    r#"drop index "post_headline_unique""#,
                    r#"create unique index "post_title_unique" on "post" ("headline")"#,
                    r#"alter table "post" rename column "headline" to "title""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        };
        if let Some(f) = case.prepare(b).await {
            f.up().await;
            assert_eq!(f.text("select headline from post").await, "hello");
            f.down().await;
            assert_eq!(f.text("select title from post").await, "hello");
        }
    }

    conformance!(a_declared_column_rename_keeps_the_data);
}

mod table {
    use super::*;

    #[derive(Entity, Clone)]
    #[strata(table = "article", renamed_from = "post_entity")]
    pub(crate) struct Article {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
    }

    async fn a_declared_table_rename_keeps_the_data_and_the_sequence(b: Backend) {
        let case = Case {
            start: "create table post_entity (id serial primary key, title varchar(255) not null)",
            seed: "insert into post_entity (title) values ('hello')",
            entities: &[Article::meta()],
            up: &[
                r#"alter table "post_entity" rename to "article""#,
                r#"alter table "article" rename constraint "post_entity_pkey" to "article_pkey""#,
                r#"alter sequence "post_entity_id_seq" rename to "article_id_seq""#,
            ],
            down: &[
                r#"alter sequence "article_id_seq" rename to "post_entity_id_seq""#,
                r#"alter table "article" rename constraint "article_pkey" to "post_entity_pkey""#,
                r#"alter table "article" rename to "post_entity""#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post_entity (id integer primary key autoincrement,
                        title varchar(255) not null)",
                seed: "insert into post_entity (title) values ('hello')",
                up: &[r#"alter table "post_entity" rename to "article""#],
                down: &[r#"alter table "article" rename to "post_entity""#],
                ..Sqlite::default()
            }),
            ..Case::default()
        };
        if let Some(f) = case.prepare(b).await {
            f.up().await;
            assert_eq!(f.text("select title from article where id = 1").await, "hello");
            let id =
                f.text("insert into article (title) values ('next') returning cast(id as text)");
            assert_eq!(id.await, "2", "{:?}", f.backend);
            f.down().await;
            assert_eq!(f.text("select title from post_entity where id = 2").await, "next");
        }
    }

    conformance!(a_declared_table_rename_keeps_the_data_and_the_sequence);
}
