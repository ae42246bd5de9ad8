//! Every route's success, and 404 for a post that does not exist.

use serde_json::json;

use crate::helpers::{Backend, conformance, spawn_app};

async fn get_posts_returns_an_empty_array_when_there_are_no_posts(b: Backend) {
    let app = spawn_app(b).await;
    let answer = app.get("/posts").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, "[]");
}

async fn get_posts_returns_every_post_ordered_by_id_ascending(b: Backend) {
    let app = spawn_app(b).await;
    for title in ["a", "b", "c"] {
        app.create_post(title, "content").await;
    }
    // Reorder the physical rows on PostgreSQL, where an UPDATE writes a new row version at the
    // end of the table (SQLite keeps rows in rowid order, so there the order is by id anyway).
    app.sql(r#"UPDATE "post_entity" SET "content" = 'changed' WHERE "id" = 1"#).await;
    let answer = app.get("/posts").await;
    assert_eq!(answer.status, 200);
    assert_eq!(
        answer.text,
        r#"[{"id":1,"title":"a","content":"changed"},{"id":2,"title":"b","content":"content"},{"id":3,"title":"c","content":"content"}]"#
    );
}

async fn get_post_by_id_returns_the_post_with_keys_in_order(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("Hello", "World").await;
    let answer = app.get("/posts/1").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, r#"{"id":1,"title":"Hello","content":"World"}"#);
}

async fn post_creates_a_post_and_returns_201_with_it(b: Backend) {
    let app = spawn_app(b).await;
    let answer = app.post_json("/posts", &json!({"title": "Hello", "content": "World"})).await;
    assert_eq!(answer.status, 201);
    assert_eq!(answer.text, r#"{"id":1,"title":"Hello","content":"World"}"#);
    assert_eq!(app.get("/posts/1").await.text, answer.text, "the post is stored");
}

async fn patch_changes_only_the_given_fields_and_returns_the_whole_post(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("Hello", "World").await;
    let answer = app.patch_json("/posts/1", &json!({"title": "Hi"})).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, r#"{"id":1,"title":"Hi","content":"World"}"#);
    let answer = app.patch_json("/posts/1", &json!({"content": "There"})).await;
    assert_eq!(answer.text, r#"{"id":1,"title":"Hi","content":"There"}"#);
    assert_eq!(app.get("/posts/1").await.text, answer.text, "the change is stored");
}

async fn delete_returns_200_with_an_empty_body_and_removes_the_post(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("Hello", "World").await;
    let answer = app.delete("/posts/1").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, "");
    assert_eq!(app.get("/posts/1").await.status, 404, "the post is gone");
    assert_eq!(app.get("/posts").await.text, "[]");
}

async fn a_missing_post_returns_404_naming_its_id_on_every_route(b: Backend) {
    let app = spawn_app(b).await;
    let expected =
        r#"{"statusCode":404,"message":"Post with id 999 not found","error":"Not Found"}"#;
    let answers = [
        ("GET", app.get("/posts/999").await),
        ("PATCH", app.patch_json("/posts/999", &json!({"title": "x"})).await),
        ("DELETE", app.delete("/posts/999").await),
    ];
    for (method, answer) in answers {
        assert_eq!(answer.status, 404, "{method}");
        assert_eq!(answer.text, expected, "{method}");
    }
}

async fn health_reports_ok_when_the_database_answers(b: Backend) {
    let app = spawn_app(b).await;
    let answer = app.get("/health").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.text, r#"{"status":"ok","database":"up"}"#);
    let ready = app.get("/health/ready").await;
    assert_eq!((ready.status, ready.text.as_str()), (200, r#"{"status":"ok","database":"up"}"#));
    let live = app.get("/health/live").await;
    assert_eq!((live.status, live.text.as_str()), (200, r#"{"status":"ok"}"#));
}

conformance!(
    get_posts_returns_an_empty_array_when_there_are_no_posts,
    get_posts_returns_every_post_ordered_by_id_ascending,
    get_post_by_id_returns_the_post_with_keys_in_order,
    post_creates_a_post_and_returns_201_with_it,
    patch_changes_only_the_given_fields_and_returns_the_whole_post,
    delete_returns_200_with_an_empty_body_and_removes_the_post,
    a_missing_post_returns_404_naming_its_id_on_every_route,
    health_reports_ok_when_the_database_answers,
);
