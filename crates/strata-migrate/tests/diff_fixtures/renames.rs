//! Declared renames: the data stays, and the down renames back.

use crate::Case;
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

    #[tokio::test]
    async fn a_declared_column_rename_keeps_the_data() {
        let f = Case {
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
            ..Case::default()
        }
        .prepare()
        .await;
        f.up().await;
        assert_eq!(f.text("select headline from post").await, "hello");
        f.down().await;
        assert_eq!(f.text("select title from post").await, "hello");
    }
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

    #[tokio::test]
    async fn a_declared_table_rename_keeps_the_data_and_the_sequence() {
        let f = Case {
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
            ..Case::default()
        }
        .prepare()
        .await;
        f.up().await;
        assert_eq!(f.text("select title from article where id = 1").await, "hello");
        let id = f.text("insert into article (title) values ('next') returning id::text").await;
        assert_eq!(id, "2");
        f.down().await;
        assert_eq!(
            f.text("select string_agg(title, ',' order by id) from post_entity").await,
            "hello,next"
        );
    }
}
