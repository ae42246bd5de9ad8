//! Posts and categories as a client of the original sees them: shapes, guards, ids.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, conformance, send, spawn_app, unauthorized, validation_body};

async fn post_posts_answers_the_author_with_address_and_the_category_ids(b: Backend) {
    let app = spawn_app(b).await;
    let address = json!({"street": "1 Main Street", "city": "Springfield", "country": "USA"});
    app.register("bob@example.com", address.clone()).await;
    let bob = app.log_in("bob@example.com").await;
    let tech = app.category(&bob, "Tech").await;
    let life = app.category(&bob, "Life").await;
    let body = json!({"title": "Hello", "content": "World", "categories": [life, tech, life], "author": 9});
    let answer = app.post_as("/posts", &bob, &body).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    let mut address = address;
    address["id"] = json!(1);
    assert_eq!(
        answer.json(),
        json!({"id": 1, "title": "Hello", "content": "World",
               "author": {"id": 1, "email": "bob@example.com", "name": "Name", "address": address},
               "categories": [life, tech]})
    );
}

async fn get_posts_populates_author_address_and_categories_by_id(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.user("alice@example.com").await;
    let tech = app.category(&alice, "Tech").await;
    let life = app.category(&alice, "Life").await;
    app.post(&alice, "first", &[life, tech]).await;
    app.post(&alice, "second", &[]).await;
    let answer = app.get("/posts").await;
    let author = json!({"id": 1, "email": "alice@example.com", "name": "Name", "address": null});
    assert_eq!(
        answer.json(),
        json!([
            {"id": 1, "title": "first", "content": "content", "author": author,
             "categories": [{"id": tech, "name": "Tech"}, {"id": life, "name": "Life"}]},
            {"id": 2, "title": "second", "content": "content", "author": author, "categories": []},
        ])
    );
}

async fn get_post_by_id_answers_the_author_as_an_id(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.user("alice@example.com").await;
    app.post(&alice, "first", &[]).await;
    let expected = r#"{"id":1,"title":"first","content":"content","author":1}"#;
    for path in ["/posts/1", "/posts/1e0", "/POSTS/1", "/posts/01", "/posts/0x1"] {
        let answer = app.get(path).await;
        assert_eq!((answer.status, answer.text.as_str()), (200, expected), "{path}");
    }
    let answer = app.get("/posts/1.5").await;
    assert_eq!(answer.json()["message"], json!("Post with id 1.5 not found"));
    let answer = app.get("/posts/abc").await;
    assert_eq!(answer.json(), validation_body(&[nest_service::ID_MESSAGE]));
}

async fn patch_posts_answers_the_post_and_the_categories_when_given(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.user("alice@example.com").await;
    let bob = app.user("bob@example.com").await;
    let tech = app.category(&alice, "Tech").await;
    app.post(&alice, "first", &[]).await;
    let answer = app.patch_as("/posts/1", &bob, &json!({"title": "by bob"})).await;
    assert_eq!(
        answer.text, r#"{"id":1,"title":"by bob","content":"content","author":1}"#,
        "any user may"
    );
    let answer = app.patch_as("/posts/1", &bob, &json!({"categories": [tech]})).await;
    assert_eq!(
        answer.json(),
        json!({"id": 1, "title": "by bob", "content": "content", "author": 1, "categories": [tech]})
    );
    let categories = app.get("/posts").await.json()[0]["categories"].clone();
    assert_eq!(categories, json!([{"id": tech, "name": "Tech"}]));
}

async fn delete_posts_removes_the_post_and_its_links(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.user("alice@example.com").await;
    let tech = app.category(&alice, "Tech").await;
    app.post(&alice, "first", &[tech]).await;
    let answer = app.delete_as("/posts/1", &alice).await;
    assert_eq!((answer.status, answer.text.as_str()), (200, ""));
    let answer = app.get("/posts/1").await;
    assert_eq!(
        answer.json(),
        json!({"statusCode": 404, "message": "Post with id 1 not found", "error": "Not Found"})
    );
    assert_eq!(app.get(&format!("/categories/{tech}")).await.status, 200, "the category stays");
}

async fn writing_posts_needs_a_cookie_before_anything_else(b: Backend) {
    let app = spawn_app(b).await;
    for (method, path, body) in [
        (Method::POST, "/posts", json!({})),
        (Method::PATCH, "/posts/abc", json!({"title": "Nope"})),
        (Method::DELETE, "/posts/5", Value::Null),
        (Method::POST, "/categories", json!({})),
    ] {
        let answer = send(app.request(method.clone(), path).json(&body)).await;
        assert_eq!((answer.status, answer.json()), (401, unauthorized()), "{method} {path}");
    }
}

async fn categories_are_read_by_anyone_and_only_post_is_guarded(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.user("alice@example.com").await;
    let answer = app.post_as("/categories", &alice, &json!({"name": "Tech", "id": 70})).await;
    assert_eq!((answer.status, answer.text.as_str()), (201, r#"{"name":"Tech","id":1}"#));
    let answer = app.get("/categories/1").await;
    assert_eq!(answer.text, r#"{"id":1,"name":"Tech"}"#);
    let etag = answer.header("etag").unwrap().to_owned();
    let cached =
        send(app.request(Method::GET, "/categories/1").header("if-none-match", etag)).await;
    assert_eq!(cached.status, 304);
    let answer = app.patch_json("/categories/1", &json!({"name": "Technology"})).await;
    assert_eq!(answer.text, r#"{"id":1,"name":"Technology"}"#, "no cookie needed");
    let answer = app.get("/categories/999").await;
    assert_eq!(
        answer.json(),
        json!({"statusCode": 404, "message": "Category with id 999 not found", "error": "Not Found"})
    );
    let answer = app.delete("/categories/1").await;
    assert_eq!((answer.status, answer.text.as_str()), (200, ""), "no cookie needed");
    assert_eq!(app.delete("/categories/1").await.status, 404);
    assert_eq!(app.get("/categories").await.text, "[]");
}

async fn deleting_a_category_unlinks_it_from_posts(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.user("alice@example.com").await;
    let tech = app.category(&alice, "Tech").await;
    let life = app.category(&alice, "Life").await;
    app.post(&alice, "first", &[tech, life]).await;
    assert_eq!(app.delete(&format!("/categories/{tech}")).await.status, 200);
    let categories = app.get("/posts").await.json()[0]["categories"].clone();
    assert_eq!(categories, json!([{"id": life, "name": "Life"}]));
}

conformance!(
    post_posts_answers_the_author_with_address_and_the_category_ids,
    get_posts_populates_author_address_and_categories_by_id,
    get_post_by_id_answers_the_author_as_an_id,
    patch_posts_answers_the_post_and_the_categories_when_given,
    delete_posts_removes_the_post_and_its_links,
    writing_posts_needs_a_cookie_before_anything_else,
    categories_are_read_by_anyone_and_only_post_is_guarded,
    deleting_a_category_unlinks_it_from_posts,
);
