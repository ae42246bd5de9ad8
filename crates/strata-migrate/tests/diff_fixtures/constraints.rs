//! Keys and indexes: unique constraints, indexes, primary keys, identity.

use crate::Case;
use strata::Entity;

mod unique {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        #[strata(unique)]
        pub title: String,
        pub slug: String,
    }

    #[tokio::test]
    async fn unique_constraints_are_added_and_dropped() {
        Case {
            start: "create table post (id serial primary key, title varchar(255) not null,
                    slug varchar(255) not null, constraint post_slug_unique unique (slug))",
            entities: &[Post::meta()],
            up: &[
                r#"alter table "post" drop constraint "post_slug_unique""#,
                r#"alter table "post" add constraint "post_title_unique" unique ("title")"#,
            ],
            down: &[
                r#"alter table "post" drop constraint "post_title_unique""#,
                r#"alter table "post" add constraint "post_slug_unique" unique ("slug")"#,
            ],
            ..Case::default()
        }
        .run()
        .await;
    }
}

mod index {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        #[strata(index)]
        pub title: String,
        pub slug: String,
    }

    #[tokio::test]
    async fn indexes_are_created_and_dropped() {
        Case {
            start: "create table post (id serial primary key, title varchar(255) not null,
                    slug varchar(255) not null);
                    create index post_slug_index on post (slug)",
            entities: &[Post::meta()],
            up: &[
                r#"drop index "post_slug_index""#,
                r#"create index "post_title_index" on "post" ("title")"#,
            ],
            down: &[
                r#"drop index "post_title_index""#,
                r#"create index "post_slug_index" on "post" ("slug")"#,
            ],
            ..Case::default()
        }
        .run()
        .await;
    }
}

mod primary_key {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Tag {
        #[strata(primary_key)]
        pub id: uuid::Uuid,
        pub external: uuid::Uuid,
    }

    #[tokio::test]
    async fn a_primary_key_moves_to_another_column() {
        Case {
            start: "create table tag (id uuid not null, external uuid primary key)",
            entities: &[Tag::meta()],
            up: &[
                r#"alter table "tag" drop constraint "tag_pkey""#,
                r#"alter table "tag" add constraint "tag_pkey" primary key ("id")"#,
            ],
            down: &[
                r#"alter table "tag" drop constraint "tag_pkey""#,
                r#"alter table "tag" add constraint "tag_pkey" primary key ("external")"#,
            ],
            ..Case::default()
        }
        .run()
        .await;
    }
}

mod identity {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
    }

    #[tokio::test]
    async fn an_integer_key_becomes_serial_continuing_after_the_largest_key() {
        let f = Case {
            start: "create table post (id int primary key, title varchar(255) not null)",
            seed: "insert into post values (41, 'kept')",
            entities: &[Post::meta()],
            up: &[
                r#"create sequence "post_id_seq" as int owned by "post"."id""#,
                r#"select setval('"post_id_seq"', coalesce(max("id"), 0) + 1, false) from "post""#,
                r#"alter table "post" alter column "id" set default nextval('"post_id_seq"')"#,
            ],
            down: &[
                r#"alter table "post" alter column "id" drop default"#,
                r#"drop sequence "post_id_seq""#,
            ],
            ..Case::default()
        }
        .prepare()
        .await;
        f.up().await;
        let id = f.text("insert into post (title) values ('new') returning id::text").await;
        assert_eq!(id, "42");
        f.down().await;
    }
}

mod identity_type {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i64,
    }

    #[tokio::test]
    async fn a_serial_key_widened_to_bigint_widens_its_sequence() {
        let f = Case {
            start: "create table post (id serial primary key)",
            entities: &[Post::meta()],
            up: &[
                r#"alter table "post" alter column "id" type bigint using "id"::bigint"#,
                r#"alter sequence "post_id_seq" as bigint"#,
            ],
            down: &[
                r#"alter table "post" alter column "id" type int using "id"::int"#,
                r#"alter sequence "post_id_seq" as int"#,
            ],
            ..Case::default()
        }
        .prepare()
        .await;
        f.up().await;
        f.client.batch_execute("select setval('post_id_seq', 3000000000)").await.unwrap();
        let id = f.text("insert into post default values returning id::text").await;
        assert_eq!(id, "3000000001");
        f.client.batch_execute("delete from post; select setval('post_id_seq', 1)").await.unwrap();
        f.down().await;
    }
}
