//! The NestJS wire layer as the blog routes inherit it from `nest-service`: body parsing before
//! the guard, 413, HEAD, case-insensitive paths, the original's 404 for unrouted requests.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, conformance, send, spawn_app, unauthorized};

async fn malformed_json_and_huge_bodies_are_answered_before_the_guard(b: Backend) {
    let app = spawn_app(b).await;
    let answer = send(
        app.request(Method::POST, "/categories")
            .header("content-type", "application/json")
            .body("{\"name\": "),
    )
    .await;
    assert_eq!(answer.status, 400, "no cookie + malformed JSON: {}", answer.text);
    assert!(answer.message().is_string(), "{}", answer.text);
    let big = json!({"title": "big", "content": "x".repeat(150 * 1024)});
    let answer = app.post_json("/posts", &big).await;
    assert_eq!(
        (answer.status, answer.json()),
        (413, json!({"statusCode": 413, "message": "request entity too large"}))
    );
    let answer = app.post_json("/posts", &json!({})).await;
    assert_eq!(
        (answer.status, answer.json()),
        (401, unauthorized()),
        "the guard runs before validation"
    );
}

async fn unrouted_requests_are_the_originals_404(b: Backend) {
    let app = spawn_app(b).await;
    for (method, path) in [
        (Method::OPTIONS, "/authentication"),
        (Method::GET, "/authentication/log-out"),
        (Method::GET, "/authentication/register"),
        (Method::PUT, "/posts/1"),
        (Method::DELETE, "/categories"),
        (Method::GET, "/unknown"),
    ] {
        let answer = send(app.request(method.clone(), path)).await;
        let message = format!("Cannot {method} {path}");
        assert_eq!(
            answer.json(),
            json!({"statusCode": 404, "message": message, "error": "Not Found"})
        );
    }
}

async fn head_and_case_insensitive_paths_answer_like_get(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let get = app.get("/posts").await;
    let head = send(app.request(Method::HEAD, "/Posts/")).await;
    assert_eq!((head.status, head.text.as_str()), (200, ""));
    assert_eq!(head.header("etag"), get.header("etag"));
    let head = send(app.authed(Method::HEAD, "/AUTHENTICATION", &token)).await;
    assert_eq!(head.status, 200);
    assert_eq!(
        send(app.request(Method::GET, "/health")).await.json(),
        json!({"status": "ok", "database": "up"})
    );
}

async fn liveness_and_readiness_answer_for_a_load_balancer(b: Backend) {
    let app = spawn_app(b).await;
    let ready = send(app.request(Method::GET, "/health/ready")).await;
    assert_eq!((ready.status, ready.json()), (200, json!({"status": "ok", "database": "up"})));
    let live = send(app.request(Method::GET, "/health/live")).await;
    assert_eq!((live.status, live.json()), (200, json!({"status": "ok"})));
}

conformance!(
    malformed_json_and_huge_bodies_are_answered_before_the_guard,
    unrouted_requests_are_the_originals_404,
    head_and_case_insensitive_paths_answer_like_get,
    liveness_and_readiness_answer_for_a_load_balancer,
);
