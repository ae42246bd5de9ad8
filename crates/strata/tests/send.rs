//! The EntityManager and the futures of its operations are `Send`, so handlers of a
//! multi-threaded server (axum on tokio) can hold one across `.await`.

use strata::prelude::*;
use strata_test::TestDb;

#[derive(Entity, Debug, Clone, PartialEq)]
struct PostEntity {
    #[strata(primary_key)]
    id: i32,
    title: String,
    content: String,
}

#[derive(Entity, Debug, Clone)]
struct Author {
    #[strata(primary_key)]
    id: i32,
    #[strata(one_to_many, mapped_by = "author")]
    posts: Collection<Article>,
}

#[derive(Entity, Debug, Clone)]
struct Article {
    #[strata(primary_key)]
    id: i32,
    #[strata(many_to_one)]
    author: Reference<Author>,
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

fn assert_send_sync<T: Send + Sync>(t: T) -> T {
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn references_collections_and_populate_work_across_awaits_on_spawned_tasks() {
    let db = TestDb::new().await;
    db.client()
        .await
        .batch_execute(
            r#"CREATE TABLE "author" ("id" serial PRIMARY KEY);
               CREATE TABLE "article" ("id" serial PRIMARY KEY,
                 "author_id" integer NOT NULL REFERENCES "author" ("id"))"#,
        )
        .await
        .expect("DDL applies");
    let orm = Strata::connect(db.config()).await.expect("connects");
    let em = orm.em();
    let task = tokio::spawn(assert_send(async move {
        let author = Managed::new(Author { id: 0, posts: Collection::new() });
        let reference = assert_send_sync(Reference::to(&author));
        let article = em.create(Article { id: 0, author: reference.clone() });
        assert_send(em.flush()).await?;
        tokio::task::yield_now().await;
        em.clear();
        let articles = em.find_all::<Article>(FindOptions::new()).await?;
        let populate = assert_send(em.populate(&articles, Article::fields().author));
        populate.await?;
        let loaded = articles[0].read().author.clone();
        let author_again = assert_send(loaded.load(&em)).await?;
        let authors = vec![author_again.clone()];
        assert_send(em.populate(&authors, Author::fields().posts)).await?;
        let posts = assert_send_sync(author_again.read().posts.clone());
        Ok::<_, Error>((article.read().id, posts.len()))
    }));
    let (id, posts) = task.await.expect("the task ran").expect("the operations succeeded");
    assert_eq!((id, posts), (1, Some(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entity_manager_works_across_awaits_on_spawned_tasks() {
    let db = TestDb::new().await;
    db.client()
        .await
        .batch_execute(
            r#"CREATE TABLE "post_entity" ("id" serial PRIMARY KEY,
                 "title" varchar(255) NOT NULL, "content" varchar(255) NOT NULL)"#,
        )
        .await
        .expect("DDL applies");
    let orm = Strata::connect(db.config()).await.expect("connects");
    let em = assert_send(orm.em());

    // Every step awaits while the EntityManager and managed handles are held by the task.
    let task = tokio::spawn(assert_send(async move {
        let post = em.create(PostEntity { id: 0, title: "a".into(), content: "b".into() });
        em.flush().await?;
        tokio::task::yield_now().await;
        let again = em.find_one_or_fail::<PostEntity>(post.key()).await?;
        again.write().title = "changed".into();
        em.transactional(|tx| async move { tx.flush().await }).await?;
        let all = em.find_all::<PostEntity>(FindOptions::new()).await?;
        Ok::<_, Error>((Managed::ptr_eq(&post, &again), all.len()))
    }));
    let (same, rows) = task.await.expect("the task ran").expect("the operations succeeded");
    assert!(same, "one instance per row inside the task");
    assert_eq!(rows, 1);
    let title: String = db
        .client()
        .await
        .query_one("SELECT title FROM post_entity", &[])
        .await
        .expect("one row")
        .get(0);
    assert_eq!(title, "changed");
}
