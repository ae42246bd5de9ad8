//! Flushing a graph: cascade persist, new rows in waves with their keys written back into
//! references and collections, pivot rows as set differences.

use super::*;
use crate::common::*;
use strata::ColumnType;
use strata::driver::StatementKind;
use strata::query_log::LoggedStatement;

/// The data statements of a flush (no BEGIN/COMMIT), as (kind, table) pairs.
fn writes(log: &[LoggedStatement]) -> Vec<(StatementKind, String)> {
    data_statements(log)
        .into_iter()
        .map(|s| {
            let table = s.sql.split('"').nth(1).unwrap_or_default().to_owned();
            (s.kind, table)
        })
        .collect()
}

fn ins(table: &str) -> (StatementKind, String) {
    (StatementKind::Insert, table.to_owned())
}

async fn pivot_rows(db: &Db) -> Vec<(i64, i64)> {
    db.query(
        "SELECT post_id, category_id FROM post_categories ORDER BY post_id, category_id",
        &[ColumnType::I64, ColumnType::I64],
    )
    .await
    .into_iter()
    .map(|r| (r[0].as_i64().unwrap(), r[1].as_i64().unwrap()))
    .collect()
}

async fn a_new_author_is_inserted_before_its_post_and_keys_are_written_back(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    let author = Managed::new(User::new("new@example.com"));
    let post = em.create(Post::new("first", &author));
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert_eq!(writes(&orm.query_log().take()), [ins("user"), ins("post")]);
    let author_id = author.read().id;
    assert!(author_id > 0, "the author got its key");
    assert_eq!(post.read().author.key(), Some(author_id), "and the post's reference with it");
    assert!(Managed::ptr_eq(&post.read().author.get().unwrap(), &author));
    assert_eq!(scalar_i64(&db, "SELECT author_id FROM post").await, i64::from(author_id));
    let found = em.find_one_or_fail::<User>(author_id).await.unwrap();
    assert!(Managed::ptr_eq(&found, &author), "cascade persist made the author managed");
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "nothing left to write");
}

async fn a_thousand_new_posts_with_a_thousand_new_authors_are_two_inserts(b: Backend) {
    let (db, orm) = setup_with_copy(b, &[BLOG_DDL]).await;
    let em = orm.em();
    let posts: Vec<_> = (0..1000)
        .map(|i| {
            let author = Managed::new(User::new(&format!("u{i}@example.com")));
            em.create(Post::new(&format!("p{i}"), &author))
        })
        .collect();
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    match orm.dialect().copy_rows_from() {
        // PostgreSQL: the keys of both tables allocated in one round trip, then one COPY each.
        Some(from) if from <= 1000 => {
            let allocate = (StatementKind::Select, String::new());
            assert_eq!(writes(&log), [allocate.clone(), allocate, ins("user"), ins("post")]);
            let copies: Vec<&str> = data_statements(&log)
                .into_iter()
                .filter(|s| s.kind == StatementKind::Insert)
                .map(|s| s.sql.as_str())
                .collect();
            assert!(copies.iter().all(|sql| sql.starts_with("COPY ")), "{copies:?}");
        }
        _ => assert_eq!(writes(&log), [ins("user"), ins("post")]),
    }
    assert_eq!(
        scalar_i64(
            &db,
            "SELECT count(*) FROM post p JOIN \"user\" u ON u.id = p.author_id \
                         WHERE u.email = 'u' || (p.id - 1) || '@example.com'"
        )
        .await,
        1000,
        "each post points at its own author"
    );
    assert!(posts.iter().all(|p| p.read().author.is_loaded()));
}

async fn registering_a_user_inserts_the_address_by_cascade_in_the_same_flush(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    let address = Managed::new(Address::new("Warsaw"));
    let user = em.create(User { address: Some(Reference::to(&address)), ..User::new("a@b.c") });
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert_eq!(writes(&orm.query_log().take()), [ins("address"), ins("user")]);
    let address_id = address.read().id;
    assert_eq!(user.read().address.as_ref().and_then(Reference::key), Some(address_id));
    assert_eq!(scalar_i64(&db, "SELECT address_id FROM \"user\"").await, i64::from(address_id));
}

async fn a_failed_cascading_flush_leaves_new_targets_unmanaged_and_retryable(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    em.native_insert([User::new("taken@example.com")]).await.unwrap();
    let author = Managed::new(User::new("taken@example.com"));
    let post = em.create(Post::new("by a duplicate", &author));
    let err = em.flush().await.unwrap_err();
    assert!(err.is_unique_violation(), "{err}");
    assert_eq!(author.read().id, 0, "no key from the rolled-back insert");
    assert_eq!(post.read().id, 0);
    assert_eq!(em.managed_count(), 0, "the author did not become managed");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post").await, 0);

    author.update(|u| u.email = "fresh@example.com".into());
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM \"user\"").await, 2);
    assert_eq!(post.read().author.key(), Some(author.read().id));
}

async fn a_new_post_with_category_keys_inserts_the_post_then_its_pivot_rows(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    em.native_insert([User::new("a@b.c")]).await.unwrap();
    em.native_insert((1..=3).map(|i| Category::new(&format!("c{i}")))).await.unwrap();
    let mut post = Post::new("tagged", Reference::from_key(1));
    post.categories.set_keys([1, 2]);
    let post = em.create(post);
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(writes(&log), [ins("post"), ins("post_categories")]);
    assert_eq!(count(&log, StatementKind::Select), 0, "no category is loaded");
    let id = i64::from(post.read().id);
    assert_eq!(pivot_rows(&db).await, [(id, 1), (id, 2)]);
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty(), "the collection counts them as written");
}

async fn changing_categories_writes_only_the_pivot_difference(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    em.native_insert([User::new("a@b.c")]).await.unwrap();
    em.native_insert((1..=3).map(|i| Category::new(&format!("c{i}")))).await.unwrap();
    em.native_insert([Post::new("p", Reference::from_key(1))]).await.unwrap();
    db.execute("INSERT INTO post_categories VALUES (1, 1), (1, 2)").await;
    let post = em.find_one_or_fail::<Post>(1).await.unwrap();
    em.populate(std::slice::from_ref(&post), Post::fields().categories).await.unwrap();
    let three = em.find_one_or_fail::<Category>(3).await.unwrap();
    post.update(|p| {
        p.categories.remove(Reference::from_key(1));
        p.categories.add(&three);
    });
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(
        writes(&log),
        [(StatementKind::Delete, "post_categories".into()), ins("post_categories")],
        "{log:#?}"
    );
    assert_eq!(pivot_rows(&db).await, [(1, 2), (1, 3)]);
    assert_eq!(post.read().categories.keys(), Some(vec![2, 3]));
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert!(orm.query_log().take().is_empty());
}

async fn setting_categories_by_key_replaces_pivot_rows_without_loading(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    em.native_insert([User::new("a@b.c")]).await.unwrap();
    em.native_insert((1..=4).map(|i| Category::new(&format!("c{i}")))).await.unwrap();
    em.native_insert([Post::new("p", Reference::from_key(1))]).await.unwrap();
    db.execute("INSERT INTO post_categories VALUES (1, 1), (1, 2)").await;
    let post = em.find_one_or_fail::<Post>(1).await.unwrap();
    post.update(|p| p.categories.set_keys([2, 4]));
    assert!(post.read().categories.is_unloaded());
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let log = orm.query_log().take();
    assert_eq!(count(&log, StatementKind::Select), 0);
    assert_eq!(
        writes(&log),
        [(StatementKind::Delete, "post_categories".into()), ins("post_categories")]
    );
    assert_eq!(pivot_rows(&db).await, [(1, 2), (1, 4)]);
}

async fn an_unloaded_collection_is_never_flushed_as_empty(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    em.native_insert([User::new("a@b.c")]).await.unwrap();
    em.native_insert([Category::new("c")]).await.unwrap();
    em.native_insert([Post::new("p", Reference::from_key(1))]).await.unwrap();
    db.execute("INSERT INTO post_categories VALUES (1, 1)").await;
    let post = em.find_one_or_fail::<Post>(1).await.unwrap();
    post.update(|p| p.title = "renamed".into());
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert_eq!(writes(&orm.query_log().take()), [(StatementKind::Update, "post".into())]);
    assert_eq!(pivot_rows(&db).await, [(1, 1)]);
}

async fn a_new_category_added_to_a_new_post_is_inserted_with_it(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    let author = em.create(User::new("a@b.c"));
    let category = Managed::new(Category::new("new"));
    let mut post = Post::new("p", &author);
    post.categories.add(&category);
    let post = em.create(post);
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    let mut tables: Vec<_> = writes(&orm.query_log().take());
    tables.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(tables, [ins("category"), ins("post"), ins("post_categories"), ins("user")]);
    let (p, c) = (i64::from(post.read().id), i64::from(category.read().id));
    assert!(c > 0);
    assert_eq!(pivot_rows(&db).await, [(p, c)]);
    assert_eq!(post.read().categories.keys(), Some(vec![category.read().id]));
}

async fn removing_a_referenced_user_is_a_foreign_key_violation_and_stays_retryable(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    em.native_insert([User::new("a@b.c")]).await.unwrap();
    em.native_insert([Post::new("p", Reference::from_key(1))]).await.unwrap();
    let user = em.find_one_or_fail::<User>(1).await.unwrap();
    em.remove(&user).unwrap();
    let err = em.flush().await.unwrap_err();
    assert!(err.is_foreign_key_violation(), "{err}");
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM \"user\"").await, 1);
    // Removing the post first (in the same flush) makes the delete valid: children go first.
    let post = em.find_one_or_fail::<Post>(1).await.unwrap();
    em.remove(&post).unwrap();
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM \"user\"").await, 0);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM post").await, 0);
}

async fn a_new_instance_added_to_a_collection_is_inserted_by_cascade(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let em = orm.em();
    em.native_insert([User::new("a@b.c")]).await.unwrap();
    let post = em.create(Post::new("p", Reference::from_key(1)));
    em.flush().await.unwrap();
    let fresh = Managed::new(Category::new("fresh"));
    post.update(|p| p.categories.add(&fresh));
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert_eq!(writes(&orm.query_log().take()), [ins("category"), ins("post_categories")]);
    assert!(fresh.read().id > 0, "cascade persist reached it through the collection");
    assert_eq!(pivot_rows(&db).await, [(1, i64::from(fresh.read().id))]);
}

/// A note whose author relation does not cascade.
#[derive(Entity, Debug, Clone)]
#[strata(table = "note")]
struct Note {
    #[strata(primary_key)]
    id: i32,
    #[strata(many_to_one, cascade = "none")]
    author: Reference<User>,
}

const NOTE_DDL: Ddl = Ddl {
    postgres: r#"CREATE TABLE "note" ("id" serial PRIMARY KEY,
        "author_id" integer NOT NULL REFERENCES "user" ("id"));"#,
    sqlite: r#"CREATE TABLE "note" ("id" INTEGER PRIMARY KEY AUTOINCREMENT,
        "author_id" INTEGER NOT NULL REFERENCES "user" ("id"));"#,
};

async fn a_relation_to_an_unpersisted_instance_without_cascade_is_a_usage_error(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL, NOTE_DDL]).await;
    let em = orm.em();
    let author = Managed::new(User::new("a@b.c"));
    let note = em.create(Note { id: 0, author: Reference::to(&author) });
    let err = em.flush().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Usage);
    assert!(err.message().contains("new User that is not persisted"), "{}", err.message());
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM note").await, 0, "nothing was sent");
    // Persisting the author is what the message asks for.
    em.persist(&author).unwrap();
    em.flush().await.unwrap();
    assert_eq!(note.read().author.key(), Some(author.read().id));
}

/// A collection is a set: adding a pair the pivot already has (written meanwhile through another
/// EntityManager, or added to an unloaded collection) is no error and no second row.
async fn adding_a_pair_another_entity_manager_added_meanwhile_is_no_error(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let seed = orm.em();
    seed.native_insert([User::new("a@b.c")]).await.unwrap();
    seed.native_insert((1..=3).map(|i| Category::new(&format!("c{i}")))).await.unwrap();
    seed.native_insert([Post::new("p", Reference::from_key(1))]).await.unwrap();
    let (first, second) = (orm.em(), orm.em());
    let mut posts = Vec::new();
    for em in [&first, &second] {
        let post = em.find_one_or_fail::<Post>(1).await.unwrap();
        em.populate(std::slice::from_ref(&post), Post::fields().categories).await.unwrap();
        let two = em.find_one_or_fail::<Category>(2).await.unwrap();
        post.update(|p| p.categories.add(&two));
        posts.push(post);
    }
    first.flush().await.unwrap();
    second.flush().await.expect("the pair is there already: nothing to add");
    assert_eq!(pivot_rows(&db).await, [(1, 2)]);
    // The same through an unloaded collection, by key.
    let third = orm.em();
    let post = third.find_one_or_fail::<Post>(1).await.unwrap();
    post.update(|p| {
        p.categories.add(Reference::from_key(2));
        p.categories.add(Reference::from_key(3));
    });
    third.flush().await.unwrap();
    assert_eq!(pivot_rows(&db).await, [(1, 2), (1, 3)]);
}

/// An author (or category) loaded through another EntityManager is a row that exists: a post
/// referring to it is inserted with its key; it is not inserted a second time.
async fn instances_another_entity_manager_loaded_are_referenced_not_inserted(b: Backend) {
    let (db, orm) = setup(b, &[BLOG_DDL]).await;
    let (other, em) = (orm.em(), orm.em());
    other.native_insert([User::new("a@b.c")]).await.unwrap();
    other.native_insert([Category::new("c")]).await.unwrap();
    let author = other.find_one_or_fail::<User>(1).await.unwrap();
    let category = other.find_one_or_fail::<Category>(1).await.unwrap();
    let mut post = Post::new("p", Reference::to(&author));
    post.categories.add(&category);
    em.create(post);
    orm.query_log().start_capture();
    em.flush().await.unwrap();
    assert_eq!(writes(&orm.query_log().take()), [ins("post"), ins("post_categories")]);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM \"user\"").await, 1);
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM category").await, 1);
    assert_eq!(scalar_i64(&db, "SELECT author_id FROM post").await, 1);
    assert_eq!(pivot_rows(&db).await, [(1, 1)]);
    // A new instance, even with a key of its own, is still inserted by cascade.
    let fresh = Managed::new(User::new("new@b.c"));
    em.create(Post::new("q", Reference::to(&fresh)));
    em.flush().await.unwrap();
    assert_eq!(scalar_i64(&db, "SELECT count(*) FROM \"user\"").await, 2);
}

conformance!(
    instances_another_entity_manager_loaded_are_referenced_not_inserted,
    adding_a_pair_another_entity_manager_added_meanwhile_is_no_error,
    a_new_author_is_inserted_before_its_post_and_keys_are_written_back,
    a_thousand_new_posts_with_a_thousand_new_authors_are_two_inserts,
    registering_a_user_inserts_the_address_by_cascade_in_the_same_flush,
    a_failed_cascading_flush_leaves_new_targets_unmanaged_and_retryable,
    a_new_post_with_category_keys_inserts_the_post_then_its_pivot_rows,
    changing_categories_writes_only_the_pivot_difference,
    setting_categories_by_key_replaces_pivot_rows_without_loading,
    an_unloaded_collection_is_never_flushed_as_empty,
    a_new_category_added_to_a_new_post_is_inserted_with_it,
    removing_a_referenced_user_is_a_foreign_key_violation_and_stays_retryable,
    a_new_instance_added_to_a_collection_is_inserted_by_cascade,
    a_relation_to_an_unpersisted_instance_without_cascade_is_a_usage_error,
);

mod key_types {
    //! Relations to entities keyed by i64 and by UUID (keys the application generates: no
    //! wave waits for them).
    use crate::common::*;
    use strata::driver::StatementKind;
    use strata::prelude::*;

    #[derive(Entity, Debug, Clone)]
    #[strata(table = "team")]
    pub(crate) struct Team {
        #[strata(primary_key)]
        pub id: uuid::Uuid,
        pub name: String,
        #[strata(many_to_many)]
        pub members: Collection<Member>,
    }

    #[derive(Entity, Debug, Clone)]
    #[strata(table = "member")]
    pub(crate) struct Member {
        #[strata(primary_key)]
        pub id: i64,
        #[strata(many_to_one)]
        pub lead: Option<Reference<Team>>,
    }

    const DDL: Ddl = Ddl {
        postgres: r#"
        CREATE TABLE "team" ("id" uuid PRIMARY KEY, "name" varchar(255) NOT NULL);
        CREATE TABLE "member" ("id" bigserial PRIMARY KEY,
            "lead_id" uuid NULL REFERENCES "team" ("id") ON DELETE SET NULL);
        CREATE TABLE "team_members" ("team_id" uuid NOT NULL REFERENCES "team" ("id") ON DELETE CASCADE,
            "member_id" bigint NOT NULL REFERENCES "member" ("id") ON DELETE CASCADE,
            PRIMARY KEY ("team_id", "member_id"));"#,
        sqlite: r#"
        CREATE TABLE "team" ("id" TEXT NOT NULL PRIMARY KEY, "name" varchar(255) NOT NULL);
        CREATE TABLE "member" ("id" INTEGER PRIMARY KEY AUTOINCREMENT,
            "lead_id" TEXT NULL REFERENCES "team" ("id") ON DELETE SET NULL);
        CREATE TABLE "team_members" ("team_id" TEXT NOT NULL REFERENCES "team" ("id") ON DELETE CASCADE,
            "member_id" INTEGER NOT NULL REFERENCES "member" ("id") ON DELETE CASCADE,
            PRIMARY KEY ("team_id", "member_id"));"#,
    };

    async fn relations_to_i64_and_uuid_keys_flush_and_populate(b: Backend) {
        let (db, orm) = setup(b, &[DDL]).await;
        let em = orm.em();
        let team = Managed::new(Team {
            id: uuid::Uuid::nil(),
            name: "t".into(),
            members: Collection::new(),
        });
        let members: Vec<_> =
            (0..3).map(|_| em.create(Member { id: 0, lead: Some(Reference::to(&team)) })).collect();
        team.update(|t| members.iter().for_each(|m| t.members.add(m)));
        orm.query_log().start_capture();
        em.flush().await.unwrap();
        let log = orm.query_log().take();
        assert_eq!(count(&log, StatementKind::Insert), 3, "team, members, pivot rows: {log:#?}");
        let team_id = team.read().id;
        assert!(!team_id.is_nil(), "the UUID key was generated");
        assert!(
            members
                .iter()
                .all(|m| m.read().lead.as_ref().and_then(Reference::key) == Some(team_id))
        );
        assert_eq!(scalar_i64(&db, "SELECT count(*) FROM team_members").await, 3);

        let fresh = orm.em();
        let found = fresh
            .find_all::<Member>(FindOptions::new().populate(Member::fields().lead))
            .await
            .unwrap();
        let lead = found[0].read().lead.as_ref().and_then(Reference::get).unwrap();
        fresh.populate(std::slice::from_ref(&lead), Team::fields().members).await.unwrap();
        let mut keys = lead.read().members.keys().unwrap();
        keys.sort_unstable();
        let mut expected: Vec<i64> = members.iter().map(|m| m.read().id).collect();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    conformance!(relations_to_i64_and_uuid_keys_flush_and_populate);
}
