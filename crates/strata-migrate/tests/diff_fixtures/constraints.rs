//! Keys and indexes: unique constraints, indexes, primary keys, identity.

use crate::{Backend, Case, OnSqlite, Sqlite, conformance};
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

    async fn unique_constraints_are_added_and_dropped(b: Backend) {
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
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement,
                        title varchar(255) not null, slug varchar(255) not null);
                    create unique index post_slug_unique on post (slug)",
                up: &[
                    r#"drop index "post_slug_unique""#,
                    r#"create unique index "post_title_unique" on "post" ("title")"#,
                ],
                down: &[
                    r#"drop index "post_title_unique""#,
                    r#"create unique index "post_slug_unique" on "post" ("slug")"#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(unique_constraints_are_added_and_dropped);
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

    async fn indexes_are_created_and_dropped(b: Backend) {
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
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement,
                        title varchar(255) not null, slug varchar(255) not null);
                    create index post_slug_index on post (slug)",
                up: &[
                    r#"drop index "post_slug_index""#,
                    r#"create index "post_title_index" on "post" ("title")"#,
                ],
                down: &[
                    r#"drop index "post_title_index""#,
                    r#"create index "post_slug_index" on "post" ("slug")"#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(indexes_are_created_and_dropped);
}

mod primary_key {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Tag {
        #[strata(primary_key)]
        pub id: uuid::Uuid,
        pub external: uuid::Uuid,
    }

    async fn a_primary_key_moves_to_another_column(b: Backend) {
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
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table tag (id text not null, external text not null primary key)",
                seed: "insert into tag values ('a', 'b')",
                up: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_tag" as select * from "tag""#,
                    r#"drop table "tag""#,
                    r#"create table "tag" ("id" text not null primary key, "external" text not null)"#,
                    r#"insert into "tag" ("id", "external") select "id", "external" from "_strata_old_tag""#,
                    r#"drop table "_strata_old_tag""#,
                ],
                down: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_tag" as select * from "tag""#,
                    r#"drop table "tag""#,
                    r#"create table "tag" ("id" text not null, "external" text not null primary key)"#,
                    r#"insert into "tag" ("id", "external") select "id", "external" from "_strata_old_tag""#,
                    r#"drop table "_strata_old_tag""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(a_primary_key_moves_to_another_column);
}

mod identity {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
    }

    async fn an_integer_key_becomes_serial_continuing_after_the_largest_key(b: Backend) {
        let case = Case {
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
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id int primary key, title varchar(255) not null)",
                seed: "insert into post values (41, 'kept')",
                up: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "title" varchar(255) not null)"#,
                    r#"insert into "post" ("id", "title") select "id", "title" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                down: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" int primary key, "title" varchar(255) not null)"#,
                    r#"insert into "post" ("id", "title") select "id", "title" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        };
        if let Some(f) = case.prepare(b).await {
            f.up().await;
            let id = f.text("insert into post (title) values ('new') returning cast(id as text)");
            assert_eq!(id.await, "42", "{:?}", f.backend);
            f.down().await;
        }
    }

    conformance!(an_integer_key_becomes_serial_continuing_after_the_largest_key);
}

mod identity_type {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i64,
    }

    async fn a_serial_key_widened_to_bigint_widens_its_sequence(b: Backend) {
        let case = Case {
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
            // Every SQLite integer is 64 bits: `int` and `bigint` keys are the same
            // `integer primary key`, so there is nothing to change.
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement)",
                ..Sqlite::default()
            }),
            ..Case::default()
        };
        if let Some(f) = case.prepare(b).await {
            f.up().await;
            if f.backend == strata::DbKind::Postgres {
                f.execute("select setval('post_id_seq', 3000000000)").await;
            } else {
                f.execute("insert into post (id) values (3000000000)").await;
            }
            let id = f.text("insert into post default values returning cast(id as text)").await;
            assert_eq!(id, "3000000001", "{:?}", f.backend);
            if f.backend == strata::DbKind::Postgres {
                f.execute("delete from post; select setval('post_id_seq', 1)").await;
            } else {
                f.execute("delete from post").await;
            }
            f.down().await;
        }
    }

    conformance!(a_serial_key_widened_to_bigint_widens_its_sequence);
}

/// SQLite rebuilds a table to change it; rows of other tables that reference it survive, with
/// foreign keys on and inside the migration's transaction.
mod sqlite_rebuild {
    use strata::DbKind;
    use strata::driver::Driver;
    use strata::sqlite::SqliteDriver;
    use strata_migrate::ddl::render;
    use strata_migrate::diff::diff;
    use strata_migrate::introspect::introspect;
    use strata_test::SqliteTestDb;

    const START: &str = "create table post (id integer primary key autoincrement,
            title varchar(255));
        create table comment (id integer primary key autoincrement,
            post_id integer not null constraint comment_post_id_foreign references post (id){ACTION});
        insert into post (title) values ('a'), ('b');
        insert into comment (post_id) values (1), (2), (2)";

    async fn start(action: &str) -> (SqliteTestDb, SqliteDriver) {
        let db = SqliteTestDb::new();
        let driver = SqliteDriver::connect(&db.config()).await.unwrap();
        let mut conn = driver.acquire().await.unwrap();
        conn.batch_execute(&START.replace("{ACTION}", action)).await.unwrap();
        (db, driver)
    }

    #[tokio::test]
    async fn a_referenced_table_is_rebuilt_keeping_the_rows_that_reference_it() {
        let (_db, driver) = start("").await;
        let mut conn = driver.acquire().await.unwrap();
        let before = introspect(conn.as_mut(), DbKind::Sqlite, &[]).await.unwrap();
        let mut target = before.clone();
        let post = target.tables.iter_mut().find(|t| t.name == "post").unwrap();
        post.columns[1].nullable = false;
        let d = diff(&before, &target);
        let sql = render(&d, DbKind::Sqlite).unwrap();
        assert_eq!(sql.up[0], "pragma defer_foreign_keys = on");

        conn.begin().await.unwrap();
        conn.batch_execute(&sql.up.join(";\n")).await.unwrap();
        conn.commit().await.unwrap();
        let after = introspect(conn.as_mut(), DbKind::Sqlite, &[]).await.unwrap();
        assert_eq!(after, target);
        let count = strata::driver::Statement {
            sql: "select count(*) from comment join post on post.id = comment.post_id".into(),
            params: Vec::new(),
            returns: Vec::new(),
            kind: strata::driver::StatementKind::Select,
        };
        let rows = conn.run(&count).await.unwrap().rows;
        assert_eq!(rows[0][0], strata::Value::I64(3));

        // A dangling reference is still caught when the migration commits.
        conn.batch_execute("delete from post where id = 2").await.unwrap_err();
        conn.begin().await.unwrap();
        conn.batch_execute(&sql.down.join(";\n")).await.unwrap();
        conn.commit().await.unwrap();
        assert_eq!(introspect(conn.as_mut(), DbKind::Sqlite, &[]).await.unwrap(), before);
    }

    #[tokio::test]
    async fn a_table_referenced_with_on_delete_cascade_is_not_rebuilt() {
        let (_db, driver) = start(" on delete cascade").await;
        let mut conn = driver.acquire().await.unwrap();
        let before = introspect(conn.as_mut(), DbKind::Sqlite, &[]).await.unwrap();
        let mut target = before.clone();
        let post = target.tables.iter_mut().find(|t| t.name == "post").unwrap();
        post.columns[1].nullable = false;
        let err = render(&diff(&before, &target), DbKind::Sqlite).unwrap_err();
        assert!(err.message().contains("on delete cascade"), "{err}");
        assert!(err.message().contains("pragma foreign_keys = off"), "{err}");
    }
}
