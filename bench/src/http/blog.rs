//! The blog route of the HTTP benchmark: `GET /posts` of the blog API (`services/blog-api`),
//! every post with its author (and the author's address) and its categories, next to the
//! NestJS + MikroORM original of article #63 (`bench/nestjs-blog`).
//!
//! Both serve a database of their own beside the benchmark's (the blog API's tables have the
//! posts API's names), which the blog API migrates at start-up. Every measurement starts from
//! the same rows, written with SQL:
//!
//! | table | rows |
//! | --- | --- |
//! | `address` | 10: `<i> Main Street`, `City <i>`, `Country <i>` |
//! | `user` | 10: `user<i>@example.com`, `User <i>`, each with address `<i>` |
//! | `category` | 5: `Category <c>` |
//! | `post_entity` | 100: `title <i>`, `content <i>`, by user `(i - 1) % 10 + 1` |
//! | `post_entity_categories` | 200: post `<i>` in categories `(i - 1) % 5 + 1` and `i % 5 + 1` |
//!
//! The pivot rows are written in (post, category) order, so that both services list a post's
//! categories in the same order: neither orders them, and PostgreSQL returns them as written.

use anyhow::{Context, Result};

/// Users, each with an address.
pub(crate) const USERS: usize = 10;
/// Categories.
pub(crate) const CATEGORIES: usize = 5;
/// Posts, each in two categories: what `GET /posts` answers.
pub(crate) const POSTS: usize = 100;

/// Empties the blog's tables (ids restarted) and writes the rows every measurement starts from.
pub(crate) fn seed_sql() -> String {
    // No one logs in during the benchmark: the password column holds a value of a bcrypt
    // hash's shape that no password matches.
    format!(
        r#"TRUNCATE "post_entity_categories", "post_entity", "category", "user", "address"
               RESTART IDENTITY;
           INSERT INTO "address" ("street", "city", "country")
           SELECT i || ' Main Street', 'City ' || i, 'Country ' || i
           FROM generate_series(1, {USERS}) AS i;
           INSERT INTO "user" ("email", "name", "password", "address_id")
           SELECT 'user' || i || '@example.com', 'User ' || i, '$2b$10$' || repeat('.', 53), i
           FROM generate_series(1, {USERS}) AS i;
           INSERT INTO "category" ("name")
           SELECT 'Category ' || c FROM generate_series(1, {CATEGORIES}) AS c;
           INSERT INTO "post_entity" ("title", "content", "author_id")
           SELECT 'title ' || i, 'content ' || i, (i - 1) % {USERS} + 1
           FROM generate_series(1, {POSTS}) AS i;
           INSERT INTO "post_entity_categories" ("post_entity_id", "category_id")
           SELECT i, c
           FROM generate_series(1, {POSTS}) AS i,
                LATERAL (VALUES ((i - 1) % {CATEGORIES} + 1), (i % {CATEGORIES} + 1)) AS v (c)
           ORDER BY i, c"#
    )
}

/// Writes the rows every measurement starts from, through `control`, a connection to the
/// blog's database.
pub(crate) async fn reset(control: &tokio_postgres::Client) -> Result<()> {
    control.batch_execute(&seed_sql()).await.context("cannot reset the blog's tables")
}
