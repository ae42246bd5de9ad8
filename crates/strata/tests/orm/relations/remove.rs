//! Removing across relations: cascade remove of loaded targets, orphan removal, and the
//! identity map mirroring what `on delete cascade` and `on delete set null` did.

use super::*;
use crate::common::*;
use strata::driver::StatementKind;

#[derive(Entity, Debug, Clone)]
#[strata(table = "author")]
struct Author {
    #[strata(primary_key)]
    id: i32,
    name: String,
    #[strata(one_to_many, mapped_by = "author", cascade = "all", orphan_removal)]
    books: Collection<Book>,
}

#[derive(Entity, Debug, Clone)]
#[strata(table = "book")]
struct Book {
    #[strata(primary_key)]
    id: i32,
    title: String,
    #[strata(many_to_one, on_delete = "cascade")]
    author: Reference<Author>,
    #[strata(many_to_one)]
    editor: Option<Reference<Author>>,
}

const LIBRARY_DDL: Ddl = Ddl {
    postgres: r#"
    CREATE TABLE "author" ("id" serial PRIMARY KEY, "name" varchar(255) NOT NULL);
    CREATE TABLE "book" ("id" serial PRIMARY KEY, "title" varchar(255) NOT NULL,
        "author_id" integer NOT NULL REFERENCES "author" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
        "editor_id" integer NULL REFERENCES "author" ("id") ON UPDATE CASCADE ON DELETE SET NULL);"#,
    sqlite: r#"
    CREATE TABLE "author" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" varchar(255) NOT NULL);
    CREATE TABLE "book" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "title" varchar(255) NOT NULL,
        "author_id" INTEGER NOT NULL REFERENCES "author" ("id") ON UPDATE CASCADE ON DELETE CASCADE,
        "editor_id" INTEGER NULL REFERENCES "author" ("id") ON UPDATE CASCADE ON DELETE SET NULL);"#,
};

/// Two authors; author 1 wrote books 1 to 3, author 2 edited book 1.
async fn library(b: Backend) -> (Db, Strata) {
    let (db, orm) = setup(b, &[LIBRARY_DDL]).await;
    db.execute(
        "INSERT INTO author (name) VALUES ('a1'), ('a2');
         INSERT INTO book (title, author_id, editor_id) VALUES ('b1', 1, 2), ('b2', 1, NULL),
             ('b3', 1, NULL);",
    )
    .await;
    (db, orm)
}

fn kinds(log: &[strata::query_log::LoggedStatement]) -> Vec<(StatementKind, String)> {
    data_statements(log)
        .into_iter()
        .map(|s| (s.kind, s.sql.split('"').nth(1).unwrap_or_default().to_owned()))
        .collect()
}

async fn cascade_remove_removes_the_loaded_children_first(b: Backend) {
    let (db, orm) = library(b).await;
    let em = orm.em();
    let author = em.find_one_or_fail::<Author>(1).await.unwrap();
    em.populate(std::slice::from_ref(&author), Author::fields().books).await.unwrap();
    em.remove(&author).unwrap();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(
        kinds(&log),
        [(StatementKind::Delete, "book".into()), (StatementKind::Delete, "author".into())],
        "one DELETE per table, children first"
    );
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM book").await, 0);
    assert_eq!(em.managed_count(), 0);
}

async fn orphan_removal_deletes_a_book_dropped_from_a_loaded_collection(b: Backend) {
    let (db, orm) = library(b).await;
    let em = orm.em();
    let author = em.find_one_or_fail::<Author>(1).await.unwrap();
    em.populate(std::slice::from_ref(&author), Author::fields().books).await.unwrap();
    author.update(|a| a.books.remove(Reference::from_key(2)));
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert_eq!(kinds(&orm.query_log().take()), [(StatementKind::Delete, "book".into())]);
    let titles = db.query("SELECT title FROM book ORDER BY id", &[strata::ColumnType::Text]);
    let titles: Vec<_> = titles.await.into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(titles, [strata::Value::Text("b1".into()), strata::Value::Text("b3".into())]);
    assert_eq!(author.read().books.keys(), Some(vec![1, 3]));
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "the orphan is gone for good");
}

async fn on_delete_cascade_forgets_the_managed_children_after_commit(b: Backend) {
    let (db, orm) = library(b).await;
    let em = orm.em();
    let books = em.find_all::<Book>(FindOptions::new()).await.unwrap();
    assert_eq!(books.len(), 3);
    // Removed by key: nothing is loaded, so nothing cascades in memory; the database does.
    em.remove_by_key::<Author>(1);
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM book").await, 0);
    assert_eq!(em.managed_count(), 0, "the books the database deleted are forgotten");
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty());
}

async fn on_delete_set_null_clears_managed_references_after_commit(b: Backend) {
    let (db, orm) = library(b).await;
    let em = orm.em();
    let book = em.find_one_or_fail::<Book>(1).await.unwrap();
    assert_eq!(book.read().editor.as_ref().and_then(Reference::key), Some(2));
    em.remove_by_key::<Author>(2);
    em.flush().await.unwrap();
    assert!(book.read().editor.is_none(), "the editor reads None, as the row does");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM book WHERE editor_id IS NULL").await, 3);
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "and that is no change to write");
}

async fn deleting_a_category_drops_it_from_loaded_collections(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    em.native_insert([User::new("a@b.c")]).await.unwrap();
    em.native_insert([Category::new("c1"), Category::new("c2")]).await.unwrap();
    em.native_insert([Post::new("p", Reference::from_key(1))]).await.unwrap();
    db.execute("INSERT INTO post_categories VALUES (1, 1), (1, 2)").await;
    let post = em.find_one_or_fail::<Post>(1).await.unwrap();
    em.populate(std::slice::from_ref(&post), Post::fields().categories).await.unwrap();
    let first = em.find_one_or_fail::<Category>(1).await.unwrap();
    em.remove(&first).unwrap();
    em.flush().await.unwrap();
    assert_eq!(post.read().categories.keys(), Some(vec![2]));
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "no pivot DELETE for a row the database removed");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post_categories").await, 1);
}

conformance!(
    cascade_remove_removes_the_loaded_children_first,
    orphan_removal_deletes_a_book_dropped_from_a_loaded_collection,
    on_delete_cascade_forgets_the_managed_children_after_commit,
    on_delete_set_null_clears_managed_references_after_commit,
    deleting_a_category_drops_it_from_loaded_collections,
);
