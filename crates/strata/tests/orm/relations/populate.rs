//! Populate: one statement per relation edge for any number of parents, through the identity
//! map, never dirtying anything.

use super::*;
use crate::common::*;
use strata::driver::StatementKind;

/// 6 addresses, 10 users (the even ones with addresses 1 to 5), 5 categories, 100 posts by the 10 users, each
/// post in two categories.
async fn blog(b: Backend) -> (Db, Strata) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    em.native_insert((0..6).map(|i| Address::new(&format!("city {i}")))).await.unwrap();
    em.native_insert((1..=10).map(|i| {
        let mut u = User::new(&format!("u{i}@example.com"));
        u.address = (i % 2 == 0).then(|| Reference::from_key(i / 2));
        u
    }))
    .await
    .unwrap();
    em.native_insert((1..=5).map(|i| Category::new(&format!("c{i}")))).await.unwrap();
    em.native_insert(
        (0..100).map(|i| Post::new(&format!("p{i}"), Reference::from_key(i % 10 + 1))),
    )
    .await
    .unwrap();
    let pairs: Vec<String> =
        (1..=100).map(|p| format!("({p}, {}), ({p}, {})", p % 5 + 1, (p + 1) % 5 + 1)).collect();
    db.execute(&format!(
        "INSERT INTO post_categories (post_id, category_id) VALUES {}",
        pairs.join(", ")
    ))
    .await;
    (db, orm)
}

fn selects(orm: &Strata) -> Vec<String> {
    let log = orm.query_log().take();
    assert!(log.iter().all(|s| s.kind == StatementKind::Select), "{log:#?}");
    log.into_iter().map(|s| s.sql).collect()
}

/// The captured SELECTs, grouped by the call to the driver that sent them (a batch goes in one
/// round trip on PostgreSQL).
fn select_batches(orm: &Strata) -> Vec<Vec<String>> {
    let log = orm.query_log().take();
    assert!(log.iter().all(|s| s.kind == StatementKind::Select), "{log:#?}");
    let mut batches: Vec<(u64, Vec<String>)> = Vec::new();
    for s in log {
        match batches.last_mut() {
            Some((batch, sql)) if *batch == s.batch => sql.push(s.sql),
            _ => batches.push((s.batch, vec![s.sql])),
        }
    }
    batches.into_iter().map(|(_, sql)| sql).collect()
}

async fn populating_100_posts_with_author_and_categories_sends_three_selects(b: Backend) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let f = Post::fields();
    orm.query_log().start_capture();
    let posts = em
        .find_all::<Post>(
            FindOptions::new().order_by(f.id.asc()).populate(f.author).populate(f.categories),
        )
        .await
        .unwrap();
    let batches = select_batches(&orm);
    let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
    assert_eq!(sizes, [1, 2], "posts, then their authors and categories together: {batches:#?}");
    assert!(batches[1][0].contains("\"user\""), "{batches:#?}");
    assert!(batches[1][1].contains("post_categories"), "{batches:#?}");
    assert_eq!(posts.len(), 100);
    let first = posts[0].get();
    let author = first.author.get().expect("the author is populated");
    assert_eq!(author.read().email, "u1@example.com");
    let categories = first.categories.items().expect("the categories are loaded");
    let mut names: Vec<String> = categories.iter().map(|c| c.read().name.clone()).collect();
    names.sort();
    assert_eq!(names, ["c2", "c3"]);
    assert_eq!(em.managed_count(), 100 + 10 + 5);
}

async fn a_nested_path_loads_each_level_once(b: Backend) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let (f, u) = (Post::fields(), User::fields());
    orm.query_log().start_capture();
    let posts = em
        .find_all::<Post>(
            FindOptions::new()
                .populate(f.author.then(u.address))
                .populate(f.categories)
                .populate(f.author),
        )
        .await
        .unwrap();
    let batches = select_batches(&orm);
    let sizes: Vec<usize> = batches.iter().map(Vec::len).collect();
    // `author` twice (alone and before `address`) is one statement.
    assert_eq!(sizes, [1, 2, 1], "posts; users and categories; addresses: {batches:#?}");
    assert!(batches[2][0].contains("\"address\""), "{batches:#?}");
    let with_address = posts
        .iter()
        .filter_map(|p| p.read().author.get())
        .filter(|a| a.read().address.as_ref().is_some_and(Reference::is_loaded))
        .count();
    assert_eq!(with_address, 50, "the even users' posts");
}

async fn a_populated_author_is_the_instance_find_one_returns(b: Backend) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let user = em.find_one_or_fail::<User>(1).await.unwrap();
    orm.query_log().start_capture();
    let posts = em
        .find(Post::fields().author.eq(1), FindOptions::new().populate(Post::fields().author))
        .await
        .unwrap();
    assert_eq!(selects(&orm).len(), 1, "the managed author is not selected again");
    assert_eq!(posts.len(), 10);
    for post in &posts {
        let author = post.read().author.get().unwrap();
        assert!(Managed::ptr_eq(&author, &user));
    }
}

async fn nothing_to_populate_sends_nothing(b: Backend) {
    let (db, orm) = blog(b).await;
    let em = orm.em();
    // No parents.
    orm.query_log().start_capture();
    let none = em
        .find(Post::fields().id.gt(1000), FindOptions::new().populate(Post::fields().author))
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(selects(&orm).len(), 1, "the find alone");
    // Every foreign key NULL.
    db.execute("UPDATE \"user\" SET address_id = NULL").await;
    let users = em.find_all::<User>(FindOptions::new()).await.unwrap();
    orm.query_log().start_capture();
    em.populate(&users, User::fields().address).await.unwrap();
    assert!(selects(&orm).is_empty());
    assert!(users.iter().all(|u| u.read().address.is_none()));
}

async fn populating_never_makes_an_entity_dirty(b: Backend) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let (f, u, c) = (Post::fields(), User::fields(), Category::fields());
    let posts = em
        .find_all::<Post>(
            FindOptions::new().populate(f.author.then(u.posts)).populate(f.categories),
        )
        .await
        .unwrap();
    let categories = em.find_all::<Category>(FindOptions::new()).await.unwrap();
    em.populate(&categories, c.posts).await.unwrap();
    assert_eq!(posts.len(), 100);
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "nothing changed, nothing written");
}

async fn one_to_many_many_to_many_and_inverse_sides_populate_from_either_end(b: Backend) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let user = em.find_one_or_fail::<User>(3).await.unwrap();
    orm.query_log().start_capture();
    em.populate(std::slice::from_ref(&user), User::fields().posts).await.unwrap();
    assert_eq!(selects(&orm).len(), 1);
    let posts = user.read().posts.items().unwrap();
    assert_eq!(posts.len(), 10);
    assert!(posts.iter().all(|p| p.read().author.key() == Some(3)));

    let category = em.find_one_or_fail::<Category>(2).await.unwrap();
    em.populate(std::slice::from_ref(&category), Category::fields().posts).await.unwrap();
    let in_category = category.read().posts.keys().unwrap();
    assert_eq!(in_category.len(), 40, "two categories per post, five categories");
    assert!(in_category.windows(2).all(|w| w[0] < w[1]), "ordered by key");

    let address = em.find_one_or_fail::<Address>(2).await.unwrap();
    em.populate(std::slice::from_ref(&address), Address::fields().user).await.unwrap();
    let owner = address.read().user.as_ref().and_then(Reference::get).expect("user 4 lives here");
    assert_eq!(owner.read().id, 4);
    let lonely = em.find_one_or_fail::<Address>(6).await.unwrap();
    em.populate(std::slice::from_ref(&lonely), Address::fields().user).await.unwrap();
    assert!(lonely.read().user.is_none(), "no user has address 6");
}

async fn loading_references_in_a_loop_selects_each_author_once(b: Backend) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let posts = em.find_all::<Post>(FindOptions::new()).await.unwrap();
    orm.query_log().start_capture();
    for post in &posts {
        let author = post.read().author.clone();
        let user = author.load(&em).await.unwrap();
        assert_eq!(Some(user.read().id), author.key());
    }
    assert_eq!(selects(&orm).len(), 10, "100 posts by 10 authors");
}

async fn a_populated_reference_serializes_as_the_entity_and_an_unpopulated_one_as_its_key(
    b: Backend,
) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let post = em.find_one_or_fail::<Post>(1).await.unwrap();
    assert_eq!(
        serde_json::to_value(&post).unwrap(),
        serde_json::json!({"id": 1, "title": "p0", "author": 1})
    );
    em.populate(std::slice::from_ref(&post), Post::fields().author).await.unwrap();
    em.populate(std::slice::from_ref(&post), Post::fields().categories).await.unwrap();
    let json = serde_json::to_value(&post).unwrap();
    assert_eq!(json["author"]["email"], "u1@example.com");
    assert!(json["author"].get("password").is_none(), "hidden with skip_serializing");
    assert!(json["author"].get("posts").is_none(), "an unloaded collection is left out");
    assert_eq!(json["categories"].as_array().map(Vec::len), Some(2));
}

async fn a_bidirectional_graph_serializes_without_recursing_forever(b: Backend) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let user = em.find_one_or_fail::<User>(1).await.unwrap();
    em.populate(std::slice::from_ref(&user), User::fields().posts.then(Post::fields().author))
        .await
        .unwrap();
    let json = serde_json::to_value(&user).unwrap();
    let posts = json["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 10);
    assert_eq!(posts[0]["author"], 1, "the user being serialized is written as its key");
}

async fn a_graph_is_freed_with_its_entity_manager(b: Backend) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let user = em.find_one_or_fail::<User>(1).await.unwrap();
    em.populate(std::slice::from_ref(&user), User::fields().posts.then(Post::fields().author))
        .await
        .unwrap();
    let post = user.read().posts.items().unwrap()[0].clone();
    let (weak_user, weak_post) = (user.downgrade(), post.downgrade());
    drop((user, post));
    assert!(weak_user.upgrade().is_some(), "the EntityManager keeps them");
    drop(em);
    assert!(weak_user.upgrade().is_none() && weak_post.upgrade().is_none(), "no cycle keeps them");
}

async fn a_collection_is_counted_without_loading_it(b: Backend) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let user = em.find_one_or_fail::<User>(1).await.unwrap();
    let category = em.find_one_or_fail::<Category>(1).await.unwrap();
    orm.query_log().start_capture();
    assert_eq!(em.count_related(&user, User::fields().posts).await.unwrap(), 10);
    assert_eq!(em.count_related(&category, Category::fields().posts).await.unwrap(), 40);
    let post = em.find_one_or_fail::<Post>(1).await.unwrap();
    assert_eq!(em.count_related(&post, Post::fields().categories).await.unwrap(), 2);
    assert_eq!(selects(&orm).len(), 4, "three counts and the post");
    assert!(user.read().posts.is_unloaded(), "counting loads nothing");
}

/// Populate inside `transactional` reads through the transaction's connection: it sees the rows
/// the transaction wrote and has not committed.
async fn populate_inside_a_transaction_sees_its_uncommitted_rows(b: Backend) {
    let (_db, orm) = blog(b).await;
    let em = orm.em();
    let emails = em
        .transactional(|tx| async move {
            tx.native_insert([User::new("new@example.com")]).await?;
            tx.native_insert([Post::new("fresh", Reference::from_key(11))]).await?;
            let f = Post::fields();
            let options = FindOptions::new().populate(f.author).populate(f.categories);
            let posts = tx.find(f.author.eq(11), options).await?;
            let emails: Vec<Option<String>> = posts
                .iter()
                .map(|p| p.read().author.get().map(|a| a.read().email.clone()))
                .collect();
            Ok::<_, Error>(emails)
        })
        .await
        .unwrap();
    assert_eq!(emails, [Some("new@example.com".to_owned())]);
}

/// More keys than one statement may carry: the edge is split in chunks of the dialect's limit,
/// sent together in one batch, and every reference is linked.
async fn more_parents_than_one_statement_takes_are_loaded_in_chunks_of_one_batch(b: Backend) {
    let (_db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    let chunk = orm.dialect().batch_rows(1);
    let n = chunk + 5;
    em.native_insert((0..n).map(|i| User::new(&format!("u{i}@example.com")))).await.unwrap();
    let author = |i: usize| Reference::from_key(i32::try_from(i + 1).unwrap());
    em.native_insert((0..n).map(|i| Post::new("p", author(i)))).await.unwrap();
    let posts = em.find_all::<Post>(FindOptions::new()).await.unwrap();
    orm.query_log().start_capture();
    em.populate(&posts, Post::fields().author).await.unwrap();
    let batches = select_batches(&orm);
    assert_eq!(batches.len(), 1, "one call for the whole edge");
    assert_eq!(batches[0].len(), 2, "{n} keys in chunks of {chunk}");
    assert!(posts.iter().all(|p| p.read().author.is_loaded()));
    assert_eq!(em.managed_count(), 2 * n);
}

conformance!(
    more_parents_than_one_statement_takes_are_loaded_in_chunks_of_one_batch,
    populate_inside_a_transaction_sees_its_uncommitted_rows,
    a_collection_is_counted_without_loading_it,
    populating_100_posts_with_author_and_categories_sends_three_selects,
    a_nested_path_loads_each_level_once,
    a_populated_author_is_the_instance_find_one_returns,
    nothing_to_populate_sends_nothing,
    populating_never_makes_an_entity_dirty,
    one_to_many_many_to_many_and_inverse_sides_populate_from_either_end,
    loading_references_in_a_loop_selects_each_author_once,
    a_populated_reference_serializes_as_the_entity_and_an_unpopulated_one_as_its_key,
    a_bidirectional_graph_serializes_without_recursing_forever,
    a_graph_is_freed_with_its_entity_manager,
);
