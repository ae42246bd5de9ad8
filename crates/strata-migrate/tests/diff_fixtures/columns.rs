//! Columns: add, drop, type (widening and narrowing), nullability, defaults, enum checks.

use crate::{Backend, Case, OnSqlite, Sqlite, conformance};
use strata::{DbEnum, Entity};

mod add_column {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
        pub content: Option<String>,
        #[strata(default = "0")]
        pub views: i32,
    }

    async fn add_column(b: Backend) {
        Case {
            start: "create table post (id serial primary key, title varchar(255) not null)",
            seed: "insert into post (title) values ('kept')",
            entities: &[Post::meta()],
            up: &[
                r#"alter table "post" add column "content" varchar(255)"#,
                r#"alter table "post" add column "views" int not null default 0"#,
            ],
            down: &[
                r#"alter table "post" drop column "views""#,
                r#"alter table "post" drop column "content""#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement, title varchar(255) not null)",
                seed: "insert into post (title) values ('kept')",
                up: &[
                    r#"alter table "post" add column "content" varchar(255)"#,
                    r#"alter table "post" add column "views" integer not null default 0"#,
                ],
                down: &[
                    r#"alter table "post" drop column "views""#,
                    r#"alter table "post" drop column "content""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(add_column);
}

mod drop_column {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
    }

    async fn drop_column_is_destructive(b: Backend) {
        Case {
            start: "create table post (id serial primary key, title varchar(255) not null,
                    content varchar(255) not null default 'x')",
            entities: &[Post::meta()],
            up: &[r#"alter table "post" drop column "content""#],
            down: &[r#"alter table "post" add column "content" varchar(255) not null default 'x'"#],
            destructive: &[r#"drop column "post"."content""#],
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement,
                        title varchar(255) not null, content varchar(255) not null default 'x')",
                up: &[r#"alter table "post" drop column "content""#],
                down: &[
                    r#"alter table "post" add column "content" varchar(255) not null default 'x'"#,
                ],
                destructive: &[r#"drop column "post"."content""#],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(drop_column_is_destructive);
}

mod widen {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
        pub views: i64,
    }

    async fn widening_a_type_keeps_the_data_and_is_not_destructive(b: Backend) {
        let case = Case {
            start: "create table post (id serial primary key, title varchar(100) not null,
                    views int not null)",
            seed: "insert into post (title, views) values ('kept', 7)",
            entities: &[Post::meta()],
            up: &[
                r#"alter table "post" alter column "title" type varchar(255) using "title"::varchar(255)"#,
                r#"alter table "post" alter column "views" type bigint using "views"::bigint"#,
            ],
            down: &[
                r#"alter table "post" alter column "views" type int using "views"::int"#,
                r#"alter table "post" alter column "title" type varchar(100) using "title"::varchar(100)"#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement,
                        title varchar(100) not null, views integer not null)",
                seed: "insert into post (title, views) values ('kept', 7)",
                up: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "title" varchar(255) not null, "views" integer not null)"#,
                    r#"insert into "post" ("id", "title", "views") select "id", cast("title" as varchar(255)), "views" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                down: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "title" varchar(100) not null, "views" integer not null)"#,
                    r#"insert into "post" ("id", "title", "views") select "id", cast("title" as varchar(100)), "views" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        };
        if let Some(f) = case.prepare(b).await {
            f.up().await;
            assert_eq!(f.text("select title || views from post").await, "kept7", "{:?}", f.backend);
            f.down().await;
        }
    }

    conformance!(widening_a_type_keeps_the_data_and_is_not_destructive);
}

mod narrow {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        #[strata(length = 100)]
        pub title: String,
        pub views: i32,
    }

    async fn narrowing_a_type_is_destructive(b: Backend) {
        Case {
            start: "create table post (id serial primary key, title varchar(255) not null,
                    views bigint not null)",
            entities: &[Post::meta()],
            up: &[
                r#"alter table "post" alter column "title" type varchar(100) using "title"::varchar(100)"#,
                r#"alter table "post" alter column "views" type int using "views"::int"#,
            ],
            down: &[
                r#"alter table "post" alter column "views" type bigint using "views"::bigint"#,
                r#"alter table "post" alter column "title" type varchar(255) using "title"::varchar(255)"#,
            ],
            destructive: &[
                r#"alter column "post"."title" type varchar(255) -> varchar(100)"#,
                r#"alter column "post"."views" type bigint -> int"#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement,
                        title varchar(255) not null, views integer not null)",
                up: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "title" varchar(100) not null, "views" integer not null)"#,
                    r#"insert into "post" ("id", "title", "views") select "id", cast("title" as varchar(100)), "views" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                down: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "title" varchar(255) not null, "views" integer not null)"#,
                    r#"insert into "post" ("id", "title", "views") select "id", cast("title" as varchar(255)), "views" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                destructive: &[r#"alter column "post"."title" type varchar(255) -> varchar(100)"#],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(narrowing_a_type_is_destructive);
}

mod nullability {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
        pub content: Option<String>,
    }

    async fn nullability_changes_both_ways(b: Backend) {
        Case {
            start: "create table post (id serial primary key, title varchar(255),
                    content varchar(255) not null)",
            entities: &[Post::meta()],
            up: &[
                r#"alter table "post" alter column "title" set not null"#,
                r#"alter table "post" alter column "content" drop not null"#,
            ],
            down: &[
                r#"alter table "post" alter column "content" set not null"#,
                r#"alter table "post" alter column "title" drop not null"#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                start:
                    "create table post (id integer primary key autoincrement, title varchar(255),
                        content varchar(255) not null)",
                up: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "title" varchar(255) not null, "content" varchar(255))"#,
                    r#"insert into "post" ("id", "title", "content") select "id", "title", "content" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                down: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "title" varchar(255), "content" varchar(255) not null)"#,
                    r#"insert into "post" ("id", "title", "content") select "id", "title", "content" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(nullability_changes_both_ways);
}

mod defaults {
    use super::*;

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        #[strata(default = "'new'")]
        pub a: String,
        #[strata(default = "'newer'")]
        pub b: String,
        pub c: i32,
    }

    async fn defaults_are_added_changed_and_dropped(b: Backend) {
        Case {
            start: "create table post (id serial primary key, a varchar(255) not null,
                    b varchar(255) not null default 'old', c int not null default 5)",
            entities: &[Post::meta()],
            up: &[
                r#"alter table "post" alter column "a" set default 'new'"#,
                r#"alter table "post" alter column "b" set default 'newer'"#,
                r#"alter table "post" alter column "c" drop default"#,
            ],
            down: &[
                r#"alter table "post" alter column "c" set default 5"#,
                r#"alter table "post" alter column "b" set default 'old'"#,
                r#"alter table "post" alter column "a" drop default"#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement,
                        a varchar(255) not null, b varchar(255) not null default 'old',
                        c integer not null default 5)",
                up: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "a" varchar(255) not null default 'new', "b" varchar(255) not null default 'newer', "c" integer not null)"#,
                    r#"insert into "post" ("id", "a", "b", "c") select "id", "a", "b", "c" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                down: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "a" varchar(255) not null, "b" varchar(255) not null default 'old', "c" integer not null default 5)"#,
                    r#"insert into "post" ("id", "a", "b", "c") select "id", "a", "b", "c" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(defaults_are_added_changed_and_dropped);
}

mod enum_check {
    use super::*;

    #[derive(DbEnum, Clone, Copy, PartialEq)]
    pub(crate) enum Status {
        Draft,
        #[strata(rename = "live")]
        Published,
    }

    #[derive(Entity, Clone)]
    pub(crate) struct Post {
        #[strata(primary_key)]
        pub id: i32,
        #[strata(enum, default = "'draft'")]
        pub status: Status,
    }

    async fn an_enum_column_comes_with_its_check(b: Backend) {
        Case {
            start: "create table post (id serial primary key)",
            entities: &[Post::meta()],
            up: &[
                r#"alter table "post" add column "status" text not null default 'draft'"#,
                r#"alter table "post" add constraint "post_status_check" check ("status" in ('draft', 'live'))"#,
            ],
            down: &[
                r#"alter table "post" drop constraint "post_status_check""#,
                r#"alter table "post" drop column "status""#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement)",
                up: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "status" text not null default 'draft', constraint "post_status_check" check ("status" in ('draft', 'live')))"#,
                    r#"insert into "post" ("id") select "id" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                down: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement)"#,
                    r#"insert into "post" ("id") select "id" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    async fn changed_enum_values_replace_the_check(b: Backend) {
        Case {
            start: "create table post (id serial primary key,
                    status text not null default 'draft' check (status in ('draft', 'published')))",
            entities: &[Post::meta()],
            up: &[
                r#"alter table "post" drop constraint "post_status_check""#,
                r#"alter table "post" add constraint "post_status_check" check ("status" in ('draft', 'live'))"#,
            ],
            down: &[
                r#"alter table "post" drop constraint "post_status_check""#,
                r#"alter table "post" add constraint "post_status_check" check ("status" in ('draft', 'published'))"#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                start: "create table post (id integer primary key autoincrement,
                        status text not null default 'draft',
                        constraint post_status_check check (status in ('draft', 'published')))",
                up: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "status" text not null default 'draft', constraint "post_status_check" check ("status" in ('draft', 'live')))"#,
                    r#"insert into "post" ("id", "status") select "id", "status" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                down: &[
                    r#"pragma defer_foreign_keys = on"#,
                    r#"create table "_strata_old_post" as select * from "post""#,
                    r#"drop table "post""#,
                    r#"create table "post" ("id" integer primary key autoincrement, "status" text not null default 'draft', constraint "post_status_check" check ("status" in ('draft', 'published')))"#,
                    r#"insert into "post" ("id", "status") select "id", "status" from "_strata_old_post""#,
                    r#"drop table "_strata_old_post""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(an_enum_column_comes_with_its_check, changed_enum_values_replace_the_check);
}
