//! Relations: foreign keys, the unique constraint of an owning one-to-one and pivot tables,
//! created from nothing and added to existing tables, up and down, on both databases.

use crate::{Backend, Case, OnSqlite, Sqlite, conformance};
use strata::prelude::*;

mod blog {
    use super::*;

    #[derive(Entity, Clone)]
    #[strata(table = "address")]
    pub(crate) struct Address {
        #[strata(primary_key)]
        pub id: i32,
        pub city: String,
    }

    #[derive(Entity, Clone)]
    #[strata(table = "user")]
    pub(crate) struct User {
        #[strata(primary_key)]
        pub id: i32,
        #[strata(one_to_one)]
        pub address: Option<Reference<Address>>,
    }

    #[derive(Entity, Clone)]
    pub(crate) struct PostEntity {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
        #[strata(many_to_one)]
        pub author: Reference<User>,
        #[strata(many_to_many)]
        pub categories: Collection<Category>,
    }

    #[derive(Entity, Clone)]
    pub(crate) struct Category {
        #[strata(primary_key)]
        pub id: i32,
        pub name: String,
    }

    async fn the_blog_schema_is_created_with_its_foreign_keys_and_pivot_table(b: Backend) {
        Case {
            entities: &[Address::meta(), User::meta(), PostEntity::meta(), Category::meta()],
            up: &[
                r#"create table "address" ("id" serial primary key, "city" varchar(255) not null)"#,
                r#"create table "category" ("id" serial primary key, "name" varchar(255) not null)"#,
                r#"create table "post_entity" ("id" serial primary key, "title" varchar(255) not null, "author_id" int not null)"#,
                r#"create table "post_entity_categories" ("post_entity_id" int not null, "category_id" int not null, constraint "post_entity_categories_pkey" primary key ("post_entity_id", "category_id"))"#,
                r#"create table "user" ("id" serial primary key, "address_id" int)"#,
                r#"alter table "user" add constraint "user_address_id_unique" unique ("address_id")"#,
                r#"alter table "post_entity" add constraint "post_entity_author_id_foreign" foreign key ("author_id") references "user" ("id") on update cascade"#,
                r#"alter table "post_entity_categories" add constraint "post_entity_categories_category_id_foreign" foreign key ("category_id") references "category" ("id") on update cascade on delete cascade"#,
                r#"alter table "post_entity_categories" add constraint "post_entity_categories_post_entity_id_foreign" foreign key ("post_entity_id") references "post_entity" ("id") on update cascade on delete cascade"#,
                r#"alter table "user" add constraint "user_address_id_foreign" foreign key ("address_id") references "address" ("id") on update cascade on delete set null"#,
            ],
            down: &[
                r#"alter table "user" drop constraint "user_address_id_foreign""#,
                r#"alter table "post_entity_categories" drop constraint "post_entity_categories_post_entity_id_foreign""#,
                r#"alter table "post_entity_categories" drop constraint "post_entity_categories_category_id_foreign""#,
                r#"alter table "post_entity" drop constraint "post_entity_author_id_foreign""#,
                r#"drop table "user""#,
                r#"drop table "post_entity_categories""#,
                r#"drop table "post_entity""#,
                r#"drop table "category""#,
                r#"drop table "address""#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                up: &[
                    r#"create table "address" ("id" integer primary key autoincrement, "city" varchar(255) not null)"#,
                    r#"create table "category" ("id" integer primary key autoincrement, "name" varchar(255) not null)"#,
                    r#"create table "post_entity" ("id" integer primary key autoincrement, "title" varchar(255) not null, "author_id" integer not null, constraint "post_entity_author_id_foreign" foreign key ("author_id") references "user" ("id") on update cascade)"#,
                    r#"create table "post_entity_categories" ("post_entity_id" integer not null, "category_id" integer not null, constraint "post_entity_categories_pkey" primary key ("post_entity_id", "category_id"), constraint "post_entity_categories_category_id_foreign" foreign key ("category_id") references "category" ("id") on update cascade on delete cascade, constraint "post_entity_categories_post_entity_id_foreign" foreign key ("post_entity_id") references "post_entity" ("id") on update cascade on delete cascade)"#,
                    r#"create table "user" ("id" integer primary key autoincrement, "address_id" integer, constraint "user_address_id_foreign" foreign key ("address_id") references "address" ("id") on update cascade on delete set null)"#,
                    r#"create unique index "user_address_id_unique" on "user" ("address_id")"#,
                ],
                down: &[
                    r#"drop table "post_entity_categories""#,
                    r#"drop table "post_entity""#,
                    r#"drop table "user""#,
                    r#"drop table "category""#,
                    r#"drop table "address""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(the_blog_schema_is_created_with_its_foreign_keys_and_pivot_table);
}

mod author_added {
    use super::*;

    #[derive(Entity, Clone)]
    #[strata(table = "user")]
    pub(crate) struct User {
        #[strata(primary_key)]
        pub id: i32,
    }

    #[derive(Entity, Clone)]
    pub(crate) struct PostEntity {
        #[strata(primary_key)]
        pub id: i32,
        pub title: String,
        #[strata(many_to_one)]
        pub author: Reference<User>,
    }

    async fn adding_an_author_to_posts_adds_its_column_and_foreign_key_as_mikro_orm_does(
        b: Backend,
    ) {
        Case {
            start: r#"create table "user" ("id" serial primary key);
                create table "post_entity" ("id" serial primary key, "title" varchar(255) not null)"#,
            entities: &[User::meta(), PostEntity::meta()],
            up: &[
                r#"alter table "post_entity" add column "author_id" int not null"#,
                r#"alter table "post_entity" add constraint "post_entity_author_id_foreign" foreign key ("author_id") references "user" ("id") on update cascade"#,
            ],
            down: &[
                r#"alter table "post_entity" drop constraint "post_entity_author_id_foreign""#,
                r#"alter table "post_entity" drop column "author_id""#,
            ],
            sqlite: OnSqlite::Run(Sqlite {
                start: r#"create table "user" ("id" integer primary key autoincrement);
                    create table "post_entity" ("id" integer primary key autoincrement,
                        "title" varchar(255) not null)"#,
                up: &[
                    "pragma defer_foreign_keys = on",
                    r#"create table "_strata_old_post_entity" as select * from "post_entity""#,
                    r#"drop table "post_entity""#,
                    r#"create table "post_entity" ("id" integer primary key autoincrement, "title" varchar(255) not null, "author_id" integer not null, constraint "post_entity_author_id_foreign" foreign key ("author_id") references "user" ("id") on update cascade)"#,
                    r#"insert into "post_entity" ("id", "title") select "id", "title" from "_strata_old_post_entity""#,
                    r#"drop table "_strata_old_post_entity""#,
                ],
                down: &[
                    "pragma defer_foreign_keys = on",
                    r#"create table "_strata_old_post_entity" as select * from "post_entity""#,
                    r#"drop table "post_entity""#,
                    r#"create table "post_entity" ("id" integer primary key autoincrement, "title" varchar(255) not null)"#,
                    r#"insert into "post_entity" ("id", "title") select "id", "title" from "_strata_old_post_entity""#,
                    r#"drop table "_strata_old_post_entity""#,
                ],
                ..Sqlite::default()
            }),
            ..Case::default()
        }
        .run(b)
        .await;
    }

    conformance!(adding_an_author_to_posts_adds_its_column_and_foreign_key_as_mikro_orm_does);
}
