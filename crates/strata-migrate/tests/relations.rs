//! What relations put in the target schema, and the DDL it renders: foreign keys named and
//! ruled as MikroORM's, the unique constraint of an owning one-to-one, pivot tables; on SQLite
//! the foreign keys of new tables inline in `create table`, and tables dropped children first.
//! (The round trip against real databases is in `diff_fixtures/relations.rs`.)

#![allow(clippy::unwrap_used, missing_docs)]

use strata::DbKind;
use strata::prelude::*;
use strata_migrate::ddl::render;
use strata_migrate::diff::diff;
use strata_migrate::schema::Schema;
use strata_migrate::target::target_schema;

#[derive(Entity, Debug, Clone)]
#[strata(table = "address")]
pub struct Address {
    #[strata(primary_key)]
    pub id: i32,
    pub city: String,
}

#[derive(Entity, Debug, Clone)]
#[strata(table = "user")]
pub struct User {
    #[strata(primary_key)]
    pub id: i32,
    #[strata(one_to_one)]
    pub address: Option<Reference<Address>>,
    #[strata(one_to_many, mapped_by = "author")]
    pub posts: Collection<PostEntity>,
}

#[derive(Entity, Debug, Clone)]
pub struct PostEntity {
    #[strata(primary_key)]
    pub id: i32,
    pub title: String,
    #[strata(many_to_one)]
    pub author: Reference<User>,
    #[strata(many_to_many)]
    pub categories: Collection<Category>,
}

#[derive(Entity, Debug, Clone)]
pub struct Category {
    #[strata(primary_key)]
    pub id: i32,
    pub name: String,
    #[strata(many_to_many, mapped_by = "categories")]
    pub posts: Collection<PostEntity>,
}

fn blog() -> Schema {
    target_schema(&[Address::meta(), User::meta(), PostEntity::meta(), Category::meta()], None)
}

#[test]
fn postgres_ddl_creates_the_tables_then_the_foreign_keys_as_mikro_orm_names_them() {
    let sql = render(&diff(&Schema::default(), &blog()), DbKind::Postgres).unwrap();
    assert_eq!(
        sql.up,
        [
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
        ]
    );
    assert_eq!(sql.down.last().map(String::as_str), Some(r#"drop table "address""#));
    assert!(sql.down[0].contains("drop constraint"), "constraints go before the tables");
}

#[test]
fn sqlite_ddl_inlines_the_foreign_keys_of_new_tables_and_drops_children_first() {
    let sql = render(&diff(&Schema::default(), &blog()), DbKind::Sqlite).unwrap();
    assert_eq!(sql.up.len(), 6, "{:#?}", sql.up);
    assert!(sql.up.iter().all(|s| !s.contains("_strata_old_")), "no rebuild: {:#?}", sql.up);
    assert_eq!(
        sql.up[2],
        r#"create table "post_entity" ("id" integer primary key autoincrement, "title" varchar(255) not null, "author_id" integer not null, constraint "post_entity_author_id_foreign" foreign key ("author_id") references "user" ("id") on update cascade)"#
    );
    assert_eq!(
        sql.down,
        [
            r#"drop table "post_entity_categories""#,
            r#"drop table "post_entity""#,
            r#"drop table "user""#,
            r#"drop table "category""#,
            r#"drop table "address""#,
        ]
    );
}

#[test]
fn the_inverse_side_adds_nothing_to_the_schema() {
    let schema = blog();
    let category = schema.tables.iter().find(|t| t.name == "category").unwrap();
    assert!(category.foreign_keys.is_empty(), "Category.posts is mapped by the owner");
    assert_eq!(category.columns.len(), 2);
    let user = schema.tables.iter().find(|t| t.name == "user").unwrap();
    assert!(!user.columns.iter().any(|c| c.name.contains("post")), "User.posts has no column");
    let pivots = schema.tables.iter().filter(|t| t.name.contains("categories")).count();
    assert_eq!(pivots, 1, "one pivot for the two sides");
}
