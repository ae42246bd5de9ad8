//! The relation scenarios: posts with an author (many-to-one) and categories (many-to-many),
//! on tables of their own beside `post_entity`.
//!
//! | scenario      | what is timed                                                          |
//! | ------------- | ---------------------------------------------------------------------- |
//! | `populate`    | load n posts with their authors and categories                          |
//! | `flush_graph` | n new posts, each with a new author and 2 existing categories, one flush |
//!
//! `populate` starts from n posts by 100 authors, each post in 2 of 10 categories;
//! `flush_graph` from the 10 categories alone. The hand-written baseline sends what a careful
//! engineer writes: for `populate` the posts, then the authors and the categories by key set
//! (pipelined on one connection), assembled into structs; for `flush_graph` one transaction
//! with an `UNNEST` insert of the authors, of the posts (with the returned author ids) and of
//! the pivot rows.

use anyhow::{Result, bail, ensure};
use std::collections::HashMap;
use std::sync::Arc;
use tokio_postgres::{Client, Statement};

/// The tables of the relation scenarios.
pub(crate) const DDL: &str = r#"
    CREATE TABLE "author" (
        "id" serial PRIMARY KEY,
        "email" varchar(255) NOT NULL,
        "name" varchar(255) NOT NULL
    );
    CREATE TABLE "category" (
        "id" serial PRIMARY KEY,
        "name" varchar(255) NOT NULL
    );
    CREATE TABLE "post" (
        "id" serial PRIMARY KEY,
        "title" varchar(255) NOT NULL,
        "content" varchar(255) NOT NULL,
        "author_id" int NOT NULL REFERENCES "author" ("id") ON UPDATE CASCADE
    );
    CREATE INDEX "post_author_id_index" ON "post" ("author_id");
    CREATE TABLE "post_categories" (
        "post_id" int NOT NULL REFERENCES "post" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
        "category_id" int NOT NULL REFERENCES "category" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
        PRIMARY KEY ("post_id", "category_id")
    )"#;

/// Empties the relation tables and restarts their ids.
pub(crate) const RESET_SQL: &str =
    r#"TRUNCATE "post_categories", "post", "author", "category" RESTART IDENTITY"#;

/// Authors of the seeded posts.
pub(crate) const AUTHORS: usize = 100;
/// Categories, seeded for both scenarios.
pub(crate) const CATEGORIES: usize = 10;

/// The rows a scenario starts from (after [`RESET_SQL`]): the categories, and for `populate`
/// the authors, `posts` posts (post i by author i % 100 + 1) and their pivot rows (post i in
/// categories i % 10 + 1 and (i + 1) % 10 + 1). The MikroORM peer seeds with the same SQL.
pub(crate) fn seed_sql(posts: usize) -> String {
    let mut sql = format!(
        r#"INSERT INTO "category" ("name") SELECT 'category ' || i FROM generate_series(1, {CATEGORIES}) AS i;"#
    );
    if posts > 0 {
        sql.push_str(&format!(
            r#"
            INSERT INTO "author" ("email", "name")
                SELECT 'author' || i || '@example.com', 'author ' || i FROM generate_series(1, {AUTHORS}) AS i;
            INSERT INTO "post" ("title", "content", "author_id")
                SELECT 'title ' || i, 'content ' || i, i % {AUTHORS} + 1 FROM generate_series(1, {posts}) AS i;
            INSERT INTO "post_categories" ("post_id", "category_id")
                SELECT i, i % {CATEGORIES} + 1 FROM generate_series(1, {posts}) AS i
                UNION ALL
                SELECT i, (i + 1) % {CATEGORIES} + 1 FROM generate_series(1, {posts}) AS i;"#
        ));
    }
    sql
}

/// Checks the tables after a run: `populate` changed nothing, `flush_graph` wrote n posts with
/// n authors and 2n pivot rows, the last post with its own author.
pub(crate) async fn check(control: &Client, flushed: bool, n: usize) -> Result<()> {
    let count = |table: &'static str| async move {
        let sql = format!(r#"SELECT count(*) FROM "{table}""#);
        Ok::<i64, anyhow::Error>(control.query_one(&sql, &[]).await?.get(0))
    };
    let authors = if flushed { n } else { AUTHORS };
    for (table, expected) in
        [("post", n), ("author", authors), ("post_categories", 2 * n), ("category", CATEGORIES)]
    {
        let found = count(table).await?;
        if found != expected as i64 {
            bail!("{found} rows in {table} after the run, expected {expected}");
        }
    }
    if flushed {
        let row = control
            .query_one(
                r#"SELECT p.title, a.name FROM "post" p JOIN "author" a ON a.id = p.author_id
                   WHERE p.id = $1"#,
                &[&(n as i32)],
            )
            .await?;
        let (title, author): (String, String) = (row.get(0), row.get(1));
        if title != format!("title {n}") || author != format!("author {n}") {
            bail!("post {n} is ({title:?} by {author:?}), expected its own new author");
        }
    }
    Ok(())
}

/// The categories of new post `i` in `flush_graph` (as in the seed).
pub(crate) fn categories_of(i: usize) -> [i32; 2] {
    [(i % CATEGORIES + 1) as i32, ((i + 1) % CATEGORIES + 1) as i32]
}

// ---- the hand-written baseline ----

/// An author as the baseline decodes it.
#[derive(Debug)]
#[allow(dead_code, reason = "decoded to pay the cost an application pays, then dropped")]
struct Author {
    id: i32,
    email: String,
    name: String,
}

/// A category as the baseline decodes it.
#[derive(Debug)]
#[allow(dead_code, reason = "decoded to pay the cost an application pays, then dropped")]
struct Category {
    id: i32,
    name: String,
}

/// A post with its author and categories, shared as an application shares them.
#[derive(Debug)]
#[allow(dead_code, reason = "decoded to pay the cost an application pays, then dropped")]
struct Post {
    id: i32,
    title: String,
    content: String,
    author: Option<Arc<Author>>,
    categories: Vec<Arc<Category>>,
}

/// The baseline's prepared statements.
pub(super) struct Prepared {
    posts: Statement,
    authors: Statement,
    categories: Statement,
    insert_authors: Statement,
    insert_posts: Statement,
    insert_pivot: Statement,
}

impl Prepared {
    pub(super) async fn new(client: &Client) -> Result<Self> {
        Ok(Self {
            posts: client.prepare(r#"SELECT id, title, content, author_id FROM "post""#).await?,
            authors: client
                .prepare(r#"SELECT id, email, name FROM "author" WHERE id = ANY($1)"#)
                .await?,
            categories: client
                .prepare(
                    r#"SELECT c.id, c.name, p.post_id FROM "category" c
                       JOIN "post_categories" p ON p.category_id = c.id
                       WHERE p.post_id = ANY($1)"#,
                )
                .await?,
            insert_authors: client
                .prepare(
                    r#"INSERT INTO "author" (email, name)
                       SELECT * FROM UNNEST($1::varchar[], $2::varchar[]) RETURNING id"#,
                )
                .await?,
            insert_posts: client
                .prepare(
                    r#"INSERT INTO "post" (title, content, author_id)
                       SELECT * FROM UNNEST($1::varchar[], $2::varchar[], $3::int4[]) RETURNING id"#,
                )
                .await?,
            insert_pivot: client
                .prepare(
                    r#"INSERT INTO "post_categories" (post_id, category_id)
                       SELECT * FROM UNNEST($1::int4[], $2::int4[])"#,
                )
                .await?,
        })
    }
}

/// `populate` by hand: the posts, then their authors and categories in one pipeline.
pub(super) async fn raw_populate(client: &Client, st: &Prepared, n: usize) -> Result<()> {
    let rows = client.query(&st.posts, &[]).await?;
    let mut author_ids: Vec<i32> = rows.iter().map(|r| r.get(3)).collect();
    author_ids.sort_unstable();
    author_ids.dedup();
    let post_ids: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    let (author_keys, post_keys) = ([&author_ids as _], [&post_ids as _]);
    let (authors, categories) = tokio::try_join!(
        client.query(&st.authors, &author_keys),
        client.query(&st.categories, &post_keys),
    )?;
    let authors: HashMap<i32, Arc<Author>> = authors
        .iter()
        .map(|r| {
            let a = Author { id: r.get(0), email: r.get(1), name: r.get(2) };
            (a.id, Arc::new(a))
        })
        .collect();
    let mut shared: HashMap<i32, Arc<Category>> = HashMap::new();
    let mut by_post: HashMap<i32, Vec<Arc<Category>>> = HashMap::with_capacity(rows.len());
    for r in &categories {
        let id: i32 = r.get(0);
        let category =
            shared.entry(id).or_insert_with(|| Arc::new(Category { id, name: r.get(1) })).clone();
        by_post.entry(r.get(2)).or_default().push(category);
    }
    let posts: Vec<Post> = rows
        .iter()
        .map(|r| {
            let id: i32 = r.get(0);
            let author_id: i32 = r.get(3);
            Post {
                id,
                title: r.get(1),
                content: r.get(2),
                author: authors.get(&author_id).cloned(),
                categories: by_post.remove(&id).unwrap_or_default(),
            }
        })
        .collect();
    ensure!(posts.len() == n, "loaded {} posts, expected {n}", posts.len());
    ensure!(
        posts.iter().all(|p| p.author.is_some() && p.categories.len() == 2),
        "a post without its author or categories"
    );
    std::hint::black_box(posts);
    Ok(())
}

/// `flush_graph` by hand: one transaction, three set-based inserts.
pub(super) async fn raw_flush_graph(client: &mut Client, st: &Prepared, n: usize) -> Result<()> {
    let tx = client.transaction().await?;
    let emails: Vec<String> = (1..=n).map(|i| format!("author{i}@example.com")).collect();
    let names: Vec<String> = (1..=n).map(|i| format!("author {i}")).collect();
    let author_ids: Vec<i32> =
        tx.query(&st.insert_authors, &[&emails, &names]).await?.iter().map(|r| r.get(0)).collect();
    let titles: Vec<String> = (1..=n).map(|i| format!("title {i}")).collect();
    let contents: Vec<String> = (1..=n).map(|i| format!("content {i}")).collect();
    let post_ids: Vec<i32> = tx
        .query(&st.insert_posts, &[&titles, &contents, &author_ids])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut pivot_posts = Vec::with_capacity(2 * n);
    let mut pivot_categories = Vec::with_capacity(2 * n);
    for (i, post) in post_ids.iter().enumerate() {
        for category in categories_of(i + 1) {
            pivot_posts.push(*post);
            pivot_categories.push(category);
        }
    }
    tx.execute(&st.insert_pivot, &[&pivot_posts, &pivot_categories]).await?;
    tx.commit().await?;
    Ok(())
}
