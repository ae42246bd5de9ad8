//! Relations: the entities of the article's blog (users with an address, posts with an author
//! and categories), populate, and flushing a graph.

mod cycles;
mod declare;
mod flush;
mod populate;
mod remove;

use crate::common::Ddl;
use serde::Serialize;
use strata::prelude::*;

#[derive(Entity, Debug, Clone, Serialize)]
#[strata(table = "address")]
pub(crate) struct Address {
    #[strata(primary_key)]
    pub id: i32,
    pub street: String,
    pub city: String,
    pub country: String,
    #[strata(one_to_one, mapped_by = "address")]
    #[serde(skip)]
    pub user: Option<Reference<User>>,
}

#[derive(Entity, Debug, Clone, Serialize)]
#[strata(table = "user")]
pub(crate) struct User {
    #[strata(primary_key)]
    pub id: i32,
    pub email: String,
    pub name: String,
    #[serde(skip_serializing)]
    pub password: String,
    #[strata(one_to_one)]
    pub address: Option<Reference<Address>>,
    #[strata(one_to_many, mapped_by = "author")]
    #[serde(skip_serializing_if = "Collection::is_unloaded")]
    pub posts: Collection<Post>,
}

#[derive(Entity, Debug, Clone, Serialize)]
#[strata(table = "post")]
pub(crate) struct Post {
    #[strata(primary_key)]
    pub id: i32,
    pub title: String,
    #[strata(many_to_one)]
    pub author: Reference<User>,
    #[strata(many_to_many)]
    #[serde(skip_serializing_if = "Collection::is_unloaded")]
    pub categories: Collection<Category>,
}

#[derive(Entity, Debug, Clone, Serialize)]
#[strata(table = "category")]
pub(crate) struct Category {
    #[strata(primary_key)]
    pub id: i32,
    pub name: String,
    #[strata(many_to_many, mapped_by = "categories")]
    #[serde(skip_serializing_if = "Collection::is_unloaded")]
    pub posts: Collection<Post>,
}

impl User {
    pub(crate) fn new(email: &str) -> Self {
        Self {
            id: 0,
            email: email.into(),
            name: email.split('@').next().unwrap_or(email).into(),
            password: "hash".into(),
            address: None,
            posts: Collection::new(),
        }
    }
}

impl Post {
    pub(crate) fn new(title: &str, author: impl Into<Reference<User>>) -> Self {
        Self { id: 0, title: title.into(), author: author.into(), categories: Collection::new() }
    }
}

impl Category {
    pub(crate) fn new(name: &str) -> Self {
        Self { id: 0, name: name.into(), posts: Collection::new() }
    }
}

impl Address {
    pub(crate) fn new(city: &str) -> Self {
        Self {
            id: 0,
            street: "1 Main St".into(),
            city: city.into(),
            country: "PL".into(),
            user: None,
        }
    }
}

/// The blog's tables, as the migrations create them (foreign keys as MikroORM names them).
pub(crate) const BLOG_DDL: Ddl = Ddl {
    postgres: r#"
    CREATE TABLE "address" ("id" serial PRIMARY KEY, "street" varchar(255) NOT NULL,
        "city" varchar(255) NOT NULL, "country" varchar(255) NOT NULL);
    CREATE TABLE "user" ("id" serial PRIMARY KEY,
        "email" varchar(255) NOT NULL CONSTRAINT "user_email_unique" UNIQUE,
        "name" varchar(255) NOT NULL, "password" varchar(255) NOT NULL, "address_id" integer NULL,
        CONSTRAINT "user_address_id_unique" UNIQUE ("address_id"),
        CONSTRAINT "user_address_id_foreign" FOREIGN KEY ("address_id") REFERENCES "address" ("id")
            ON UPDATE CASCADE ON DELETE SET NULL);
    CREATE TABLE "category" ("id" serial PRIMARY KEY, "name" varchar(255) NOT NULL);
    CREATE TABLE "post" ("id" serial PRIMARY KEY, "title" varchar(255) NOT NULL,
        "author_id" integer NOT NULL,
        CONSTRAINT "post_author_id_foreign" FOREIGN KEY ("author_id") REFERENCES "user" ("id")
            ON UPDATE CASCADE);
    CREATE TABLE "post_categories" ("post_id" integer NOT NULL, "category_id" integer NOT NULL,
        CONSTRAINT "post_categories_pkey" PRIMARY KEY ("post_id", "category_id"),
        CONSTRAINT "post_categories_post_id_foreign" FOREIGN KEY ("post_id") REFERENCES "post" ("id")
            ON UPDATE CASCADE ON DELETE CASCADE,
        CONSTRAINT "post_categories_category_id_foreign" FOREIGN KEY ("category_id")
            REFERENCES "category" ("id") ON UPDATE CASCADE ON DELETE CASCADE);"#,
    sqlite: r#"
    CREATE TABLE "address" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "street" varchar(255) NOT NULL,
        "city" varchar(255) NOT NULL, "country" varchar(255) NOT NULL);
    CREATE TABLE "user" ("id" INTEGER PRIMARY KEY AUTOINCREMENT,
        "email" varchar(255) NOT NULL CONSTRAINT "user_email_unique" UNIQUE,
        "name" varchar(255) NOT NULL, "password" varchar(255) NOT NULL,
        "address_id" INTEGER NULL CONSTRAINT "user_address_id_foreign" REFERENCES "address" ("id")
            ON UPDATE CASCADE ON DELETE SET NULL);
    CREATE UNIQUE INDEX "user_address_id_unique" ON "user" ("address_id");
    CREATE TABLE "category" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" varchar(255) NOT NULL);
    CREATE TABLE "post" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "title" varchar(255) NOT NULL,
        "author_id" INTEGER NOT NULL CONSTRAINT "post_author_id_foreign" REFERENCES "user" ("id")
            ON UPDATE CASCADE);
    CREATE TABLE "post_categories" ("post_id" INTEGER NOT NULL
            CONSTRAINT "post_categories_post_id_foreign" REFERENCES "post" ("id")
            ON UPDATE CASCADE ON DELETE CASCADE,
        "category_id" INTEGER NOT NULL CONSTRAINT "post_categories_category_id_foreign"
            REFERENCES "category" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
        CONSTRAINT "post_categories_pkey" PRIMARY KEY ("post_id", "category_id"));"#,
};
