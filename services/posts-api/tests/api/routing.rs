//! Express's routing: unrouted 404s, case-insensitive paths, trailing slashes, HEAD, and the
//! JSON content type with a weak ETag and 304s.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, conformance, send, spawn_app};

async fn an_unrouted_method_or_path_returns_404_cannot_method_path(b: Backend) {
    let app = spawn_app(b).await;
    let cases = [
        (Method::PUT, "/posts/1", "Cannot PUT /posts/1"),
        (Method::POST, "/posts/1", "Cannot POST /posts/1"),
        (Method::DELETE, "/posts", "Cannot DELETE /posts"),
        (Method::PATCH, "/posts", "Cannot PATCH /posts"),
        (Method::GET, "/", "Cannot GET /"),
        (Method::GET, "/Nope/Deeper?x=1", "Cannot GET /Nope/Deeper?x=1"),
        (Method::GET, "/posts/1/comments", "Cannot GET /posts/1/comments"),
        (Method::OPTIONS, "/posts", "Cannot OPTIONS /posts"),
    ];
    for (method, path, message) in cases {
        let answer = send(app.request(method.clone(), path)).await;
        assert_eq!(answer.status, 404, "{method} {path}");
        assert_eq!(
            answer.text,
            format!(r#"{{"statusCode":404,"message":"{message}","error":"Not Found"}}"#),
            "{method} {path}"
        );
    }
}

async fn paths_are_case_insensitive_and_accept_a_trailing_slash(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("Hello", "World").await;
    let post = r#"{"id":1,"title":"Hello","content":"World"}"#;
    for path in ["/POSTS/1", "/Posts/1/", "/posts/1/"] {
        let answer = app.get(path).await;
        assert_eq!((answer.status, answer.text.as_str()), (200, post), "GET {path}");
    }
    for path in ["/posts/", "/POSTS", "/Posts/"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 200, "GET {path}");
        assert_eq!(answer.text, format!("[{post}]"), "GET {path}");
    }
    let answer = app.post_json("/Posts/", &json!({"title": "a", "content": "b"})).await;
    assert_eq!(answer.status, 201, "POST /Posts/");
    let answer = app.patch_json("/POSTS/2/", &json!({"title": "c"})).await;
    assert_eq!(answer.status, 200, "PATCH /POSTS/2/");
    assert_eq!(app.delete("/pOsTs/2/").await.status, 200, "DELETE /pOsTs/2/");
    assert_eq!(app.get("/HEALTH/").await.status, 200, "GET /HEALTH/");
}

async fn head_works_where_get_does(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("Hello", "World").await;
    for path in ["/posts", "/posts/1"] {
        let get = app.get(path).await;
        let head = send(app.request(Method::HEAD, path)).await;
        assert_eq!(head.status, 200, "HEAD {path}");
        assert_eq!(head.text, "", "HEAD {path} has no body");
        assert_eq!(head.header("content-type"), get.header("content-type"), "HEAD {path}");
        assert_eq!(head.header("etag"), get.header("etag"), "HEAD {path}");
        assert_eq!(
            head.header("content-length"),
            Some(get.text.len().to_string().as_str()),
            "HEAD {path}"
        );
    }
    let missing = send(app.request(Method::HEAD, "/posts/2")).await;
    assert_eq!((missing.status, missing.text.as_str()), (404, ""), "HEAD of a missing post");
}

async fn json_responses_are_utf8_json_with_a_weak_etag(b: Backend) {
    let app = spawn_app(b).await;
    let created = app.post_json("/posts", &json!({"title": "a", "content": "b"})).await;
    let answers = [
        ("POST /posts", created),
        ("GET /posts", app.get("/posts").await),
        ("GET /posts/1", app.get("/posts/1").await),
        ("a 404", app.get("/posts/2").await),
        ("a 400", app.post_json("/posts", &json!({})).await),
    ];
    for (case, answer) in answers {
        assert_eq!(
            answer.header("content-type"),
            Some("application/json; charset=utf-8"),
            "{case}"
        );
        let etag = answer.header("etag").unwrap_or_default();
        assert!(etag.starts_with("W/\"") && etag.ends_with('"'), "{case}: ETag {etag:?}");
    }
    let deleted = app.delete("/posts/1").await;
    assert_eq!(deleted.header("content-type"), None, "an empty body has no content type");
}

async fn a_matching_if_none_match_returns_304(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("Hello", "World").await;
    let first = app.get("/posts/1").await;
    let etag = first.header("etag").expect("an ETag").to_owned();
    assert_eq!(app.get("/posts/1").await.header("etag"), Some(etag.as_str()), "the ETag is stable");

    let cases = [
        (Method::GET, etag.clone(), 304),
        (Method::HEAD, etag.clone(), 304),
        (Method::GET, format!("\"other\", {etag}"), 304),
        (Method::GET, "*".to_owned(), 304),
        (Method::GET, "W/\"other\"".to_owned(), 200),
    ];
    for (method, if_none_match, status) in cases {
        let answer =
            send(app.request(method.clone(), "/posts/1").header("if-none-match", &if_none_match))
                .await;
        assert_eq!(answer.status, status, "{method} with If-None-Match {if_none_match}");
        if status == 304 {
            assert_eq!(answer.text, "", "a 304 has no body");
            assert_eq!(answer.header("etag"), Some(etag.as_str()));
        }
    }

    app.patch_json("/posts/1", &json!({"title": "Changed"})).await;
    let after = send(app.request(Method::GET, "/posts/1").header("if-none-match", &etag)).await;
    assert_eq!(after.status, 200, "a changed post no longer matches");
    assert_ne!(after.header("etag"), Some(etag.as_str()));
    let patch = send(
        app.request(Method::PATCH, "/posts/1")
            .header("if-none-match", "*")
            .json(&json!({"title": "x"})),
    )
    .await;
    assert_eq!(patch.status, 200, "If-None-Match only applies to GET and HEAD");
}

conformance!(
    an_unrouted_method_or_path_returns_404_cannot_method_path,
    paths_are_case_insensitive_and_accept_a_trailing_slash,
    head_works_where_get_does,
    json_responses_are_utf8_json_with_a_weak_etag,
    a_matching_if_none_match_returns_304,
);
