//! The statements each route sends, as the README of article #63 counts them (BEGIN and COMMIT
//! included), asserted from the server's query log on both databases. None grows with the
//! number of rows: `GET /posts` is 4 statements for 2 posts and for 30.

use serde_json::json;
use strata::driver::StatementKind::{self, Delete, Insert, Select, Transaction, Update};

use crate::helpers::{Backend, TestApp, conformance, kinds, spawn_app, sql_of};

/// `[Transaction, …middle, Transaction]`.
fn in_transaction(middle: &[StatementKind]) -> Vec<StatementKind> {
    let mut all = vec![Transaction];
    all.extend_from_slice(middle);
    all.push(Transaction);
    all
}

/// A user with an address (`with`) and one without, logged in, and two categories.
async fn blog(app: &TestApp) -> (String, String, i64, i64) {
    let address = json!({"street": "1 Main Street", "city": "Springfield", "country": "USA"});
    app.register("bob@example.com", address).await;
    let with = app.log_in("bob@example.com").await;
    let without = app.user("alice@example.com").await;
    let tech = app.category(&with, "Tech").await;
    let life = app.category(&with, "Life").await;
    (with, without, tech, life)
}

async fn get_posts_is_one_select_without_posts(b: Backend) {
    let app = spawn_app(b).await;
    let (answer, statements) = app.capture(app.get("/posts")).await;
    assert_eq!((answer.status, answer.text.as_str()), (200, "[]"));
    assert_eq!(kinds(&statements), [Select], "{:#?}", sql_of(&statements));
}

async fn get_posts_is_four_selects_for_any_number_of_posts(b: Backend) {
    let app = spawn_app(b).await;
    let (with, without, tech, life) = blog(&app).await;
    app.post(&with, "first", &[tech]).await;
    app.post(&without, "second", &[tech, life]).await;
    let (answer, few) = app.capture(app.get("/posts")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(kinds(&few), [Select; 4], "{:#?}", sql_of(&few));
    for i in 0..28 {
        let token = if i % 2 == 0 { &with } else { &without };
        app.post(token, &format!("post {i}"), &[tech, life][..i % 3]).await;
    }
    let (answer, many) = app.capture(app.get("/posts")).await;
    assert_eq!(answer.json().as_array().map(Vec::len), Some(30));
    assert_eq!(kinds(&many), [Select; 4], "30 posts: {:#?}", sql_of(&many));
}

async fn get_posts_is_three_selects_when_no_author_has_an_address(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.user("alice@example.com").await;
    let carol = app.user("carol@example.com").await;
    let tech = app.category(&alice, "Tech").await;
    app.post(&alice, "first", &[tech]).await;
    app.post(&carol, "second", &[]).await;
    let (answer, statements) = app.capture(app.get("/posts")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(kinds(&statements), [Select; 3], "{:#?}", sql_of(&statements));
}

async fn get_post_and_categories_are_one_select(b: Backend) {
    let app = spawn_app(b).await;
    let (with, _, tech, _) = blog(&app).await;
    let post = app.post(&with, "first", &[tech]).await;
    for path in [
        format!("/posts/{post}"),
        "/posts/999".into(),
        "/categories".into(),
        format!("/categories/{tech}"),
        "/categories/999".into(),
    ] {
        let (answer, statements) = app.capture(app.get(&path)).await;
        assert!(answer.status == 200 || answer.status == 404, "{path}: {}", answer.text);
        assert_eq!(kinds(&statements), [Select], "{path}: {:#?}", sql_of(&statements));
    }
    let (answer, statements) = app.capture(app.get("/posts/abc")).await;
    assert_eq!((answer.status, statements.len()), (400, 0));
}

async fn the_guard_is_one_select_or_two_with_an_address(b: Backend) {
    let app = spawn_app(b).await;
    let (with, without, _, _) = blog(&app).await;
    let (answer, statements) = app.capture(app.get_as("/authentication", &without)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(kinds(&statements), [Select], "{:#?}", sql_of(&statements));
    let (answer, statements) = app.capture(app.get_as("/authentication", &with)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(kinds(&statements), [Select, Select], "{:#?}", sql_of(&statements));
    let (answer, statements) = app.capture(app.get_as("/authentication", "garbage")).await;
    assert_eq!((answer.status, statements.len()), (401, 0));
}

async fn post_posts_is_the_guard_and_an_insert_of_the_post_and_of_its_links(b: Backend) {
    let app = spawn_app(b).await;
    let (with, without, tech, life) = blog(&app).await;
    let body = json!({"title": "t", "content": "c", "categories": [tech, life]});
    let (answer, statements) = app.capture(app.post_as("/posts", &with, &body)).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let mut expected = vec![Select, Select];
    expected.extend(in_transaction(&[Insert, Insert]));
    assert_eq!(kinds(&statements), expected, "{:#?}", sql_of(&statements));
    assert!(!sql_of(&statements).iter().any(|s| s.contains("\"category\"")), "never loaded");
    let body = json!({"title": "t", "content": "c", "categories": []});
    let (answer, statements) = app.capture(app.post_as("/posts", &without, &body)).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let mut expected = vec![Select];
    expected.extend(in_transaction(&[Insert]));
    assert_eq!(kinds(&statements), expected, "no categories: {:#?}", sql_of(&statements));
    let (answer, statements) = app.capture(app.post_as("/posts", &without, &json!({}))).await;
    assert_eq!((answer.status, kinds(&statements)), (400, vec![Select]), "400 costs the guard");
}

async fn patch_posts_writes_only_the_changed_columns(b: Backend) {
    let app = spawn_app(b).await;
    let (_, without, _, _) = blog(&app).await;
    let post = app.post(&without, "t", &[]).await;
    let path = format!("/posts/{post}");
    let (answer, statements) = app
        .capture(app.patch_as(&path, &without, &json!({"title": "new", "content": "content"})))
        .await;
    assert_eq!(answer.status, 200);
    let mut expected = vec![Select, Select];
    expected.extend(in_transaction(&[Update]));
    assert_eq!(kinds(&statements), expected, "{:#?}", sql_of(&statements));
    let update = statements.iter().find(|s| s.kind == Update).map(|s| s.sql.clone()).unwrap();
    assert!(update.contains("\"title\"") && !update.contains("\"content\""), "{update}");
    for body in [json!({"title": "new"}), json!({}), json!({"id": 9})] {
        let (answer, statements) = app.capture(app.patch_as(&path, &without, &body)).await;
        assert_eq!(answer.status, 200);
        assert_eq!(kinds(&statements), [Select, Select], "{body}: {:#?}", sql_of(&statements));
    }
    let (answer, statements) = app.capture(app.patch_as("/posts/999", &without, &json!({}))).await;
    assert_eq!((answer.status, kinds(&statements)), (404, vec![Select, Select]));
}

async fn patch_posts_categories_writes_only_the_pivot_difference(b: Backend) {
    let app = spawn_app(b).await;
    let (with, without, tech, life) = blog(&app).await;
    let news = app.category(&with, "News").await;
    let post = app.post(&without, "t", &[tech, life]).await;
    let path = format!("/posts/{post}");
    // [tech, life] → [life, news]: one DELETE (tech), one INSERT (news).
    let body = json!({"categories": [life, news]});
    let (answer, statements) = app.capture(app.patch_as(&path, &without, &body)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let mut expected = vec![Select, Select, Select];
    expected.extend(in_transaction(&[Delete, Insert]));
    assert_eq!(kinds(&statements), expected, "{:#?}", sql_of(&statements));
    // The same set again: nothing to write.
    let body = json!({"categories": [news, life]});
    let (answer, statements) = app.capture(app.patch_as(&path, &without, &body)).await;
    assert_eq!(answer.status, 200);
    assert_eq!(kinds(&statements), [Select, Select, Select], "{:#?}", sql_of(&statements));
    // Only additions: one INSERT.
    let body = json!({"categories": [news, life, tech]});
    let (_, statements) = app.capture(app.patch_as(&path, &without, &body)).await;
    let mut expected = vec![Select, Select, Select];
    expected.extend(in_transaction(&[Insert]));
    assert_eq!(kinds(&statements), expected, "{:#?}", sql_of(&statements));
    // Everything removed: one DELETE.
    let (_, statements) =
        app.capture(app.patch_as(&path, &without, &json!({"categories": []}))).await;
    let mut expected = vec![Select, Select, Select];
    expected.extend(in_transaction(&[Delete]));
    assert_eq!(kinds(&statements), expected, "{:#?}", sql_of(&statements));
}

async fn delete_posts_is_the_guard_a_select_and_a_delete(b: Backend) {
    let app = spawn_app(b).await;
    let (_, without, tech, _) = blog(&app).await;
    let post = app.post(&without, "t", &[tech]).await;
    let (answer, statements) =
        app.capture(app.delete_as(&format!("/posts/{post}"), &without)).await;
    assert_eq!(answer.status, 200);
    let mut expected = vec![Select, Select];
    expected.extend(in_transaction(&[Delete]));
    assert_eq!(kinds(&statements), expected, "{:#?}", sql_of(&statements));
    let (answer, statements) =
        app.capture(app.delete_as(&format!("/posts/{post}"), &without)).await;
    assert_eq!((answer.status, kinds(&statements)), (404, vec![Select, Select]));
}

async fn categories_writes_are_one_statement_besides_the_transaction(b: Backend) {
    let app = spawn_app(b).await;
    let (with, _, tech, _) = blog(&app).await;
    let (answer, statements) =
        app.capture(app.post_as("/categories", &with, &json!({"name": "News"}))).await;
    assert_eq!(answer.status, 201);
    let mut expected = vec![Select, Select];
    expected.extend(in_transaction(&[Insert]));
    assert_eq!(kinds(&statements), expected, "{:#?}", sql_of(&statements));
    let path = format!("/categories/{tech}");
    let (answer, statements) =
        app.capture(app.patch_json(&path, &json!({"name": "Technology"}))).await;
    assert_eq!(answer.status, 200);
    let mut expected = vec![Select];
    expected.extend(in_transaction(&[Update]));
    assert_eq!(kinds(&statements), expected, "{:#?}", sql_of(&statements));
    let (_, statements) = app.capture(app.patch_json(&path, &json!({"name": "Technology"}))).await;
    assert_eq!(kinds(&statements), [Select], "unchanged: {:#?}", sql_of(&statements));
    let (answer, statements) = app.capture(app.delete(&path)).await;
    assert_eq!(answer.status, 200);
    let mut expected = vec![Select];
    expected.extend(in_transaction(&[Delete]));
    assert_eq!(kinds(&statements), expected, "{:#?}", sql_of(&statements));
}

async fn register_inserts_the_address_by_cascade_in_the_same_flush(b: Backend) {
    let app = spawn_app(b).await;
    let body = json!({"email": "a@x", "name": "A", "password": "p"});
    let (answer, statements) = app.capture(app.post_json("/authentication/register", &body)).await;
    assert_eq!(answer.status, 201);
    assert_eq!(kinds(&statements), in_transaction(&[Insert]), "{:#?}", sql_of(&statements));
    let address = json!({"street": "s", "city": "c", "country": "x"});
    let body = json!({"email": "b@x", "name": "B", "password": "p", "address": address});
    let (answer, statements) = app.capture(app.post_json("/authentication/register", &body)).await;
    assert_eq!(answer.status, 201);
    assert_eq!(kinds(&statements), in_transaction(&[Insert, Insert]), "{:#?}", sql_of(&statements));
    assert!(statements[1].sql.contains("\"address\"") && statements[2].sql.contains("\"user\""));
    let (answer, statements) =
        app.capture(app.post_json("/authentication/register", &json!({}))).await;
    assert_eq!((answer.status, statements.len()), (400, 0), "validation sends nothing");
}

async fn log_in_is_the_user_then_its_address_and_posts(b: Backend) {
    let app = spawn_app(b).await;
    let (_, without, _, _) = blog(&app).await;
    app.post(&without, "mine", &[]).await;
    let app = &app;
    let log_in = |email: &str, password: &str| {
        let body = json!({"email": email, "password": password});
        async move { app.post_json("/authentication/log-in", &body).await }
    };
    let (answer, statements) = app.capture(log_in("bob@example.com", "password-1")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(kinds(&statements), [Select; 3], "with an address: {:#?}", sql_of(&statements));
    let (answer, statements) = app.capture(log_in("alice@example.com", "password-1")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(kinds(&statements), [Select; 2], "without: {:#?}", sql_of(&statements));
    let (answer, statements) = app.capture(log_in("alice@example.com", "wrong")).await;
    assert_eq!((answer.status, kinds(&statements)), (400, vec![Select; 2]));
    let (answer, statements) = app.capture(log_in("nobody@example.com", "x")).await;
    assert_eq!((answer.status, kinds(&statements)), (400, vec![Select]));
    let (answer, statements) = app.capture(log_in("alice@example.com", "")).await;
    assert_eq!((answer.status, statements.len()), (401, 0));
}

async fn log_out_is_the_guard(b: Backend) {
    let app = spawn_app(b).await;
    let (_, without, _, _) = blog(&app).await;
    let request = crate::helpers::send(app.authed(
        reqwest::Method::POST,
        "/authentication/log-out",
        &without,
    ));
    let (answer, statements) = app.capture(request).await;
    assert_eq!(answer.status, 200);
    assert_eq!(kinds(&statements), [Select]);
}

conformance!(
    get_posts_is_one_select_without_posts,
    get_posts_is_four_selects_for_any_number_of_posts,
    get_posts_is_three_selects_when_no_author_has_an_address,
    get_post_and_categories_are_one_select,
    the_guard_is_one_select_or_two_with_an_address,
    post_posts_is_the_guard_and_an_insert_of_the_post_and_of_its_links,
    patch_posts_writes_only_the_changed_columns,
    patch_posts_categories_writes_only_the_pivot_difference,
    delete_posts_is_the_guard_a_select_and_a_delete,
    categories_writes_are_one_statement_besides_the_transaction,
    register_inserts_the_address_by_cascade_in_the_same_flush,
    log_in_is_the_user_then_its_address_and_posts,
    log_out_is_the_guard,
);
