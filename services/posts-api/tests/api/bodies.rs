//! Body parsing as the original's Express body parsers do it, and the 100 kB limit.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, conformance, send, spawn_app, validation_body};

const ALL_FOUR: [&str; 4] = [
    "title should not be empty",
    "title must be a string",
    "content should not be empty",
    "content must be a string",
];

async fn json_is_parsed_with_or_without_a_charset(b: Backend) {
    let app = spawn_app(b).await;
    let body = r#"{"title":"a","content":"b"}"#;
    for content_type in
        ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]
    {
        let answer = send(
            app.request(Method::POST, "/posts").header("content-type", content_type).body(body),
        )
        .await;
        assert_eq!(answer.status, 201, "{content_type}: {}", answer.text);
    }
}

async fn urlencoded_bodies_are_parsed(b: Backend) {
    let app = spawn_app(b).await;
    let answer = send(
        app.request(Method::POST, "/posts")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("title=Hello+there&content=%C5%BC%C3%B3%C5%82w"),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.text, r#"{"id":1,"title":"Hello there","content":"żółw"}"#);
    let answer = send(
        app.request(Method::PATCH, "/posts/1")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("title[]=a&id=1"),
    )
    .await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(
        answer.text,
        validation_body(&[
            "id must be a number conforming to the specified constraints",
            "title must be a string"
        ]),
        "form values are strings; a bracketed key is an array"
    );
}

async fn other_or_missing_content_types_are_treated_as_an_empty_body(b: Backend) {
    let app = spawn_app(b).await;
    let body = r#"{"title":"a","content":"b"}"#;
    let requests = [
        (
            "text/plain",
            app.request(Method::POST, "/posts").header("content-type", "text/plain").body(body),
        ),
        ("no content type", app.request(Method::POST, "/posts").body(body)),
        (
            "text/plain, malformed",
            app.request(Method::POST, "/posts").header("content-type", "text/plain").body("{"),
        ),
    ];
    for (case, request) in requests {
        let answer = send(request).await;
        assert_eq!(answer.status, 400, "{case}: {}", answer.text);
        assert_eq!(answer.text, validation_body(&ALL_FOUR), "{case}");
    }
}

async fn an_empty_json_body_is_validated_as_an_empty_object(b: Backend) {
    let app = spawn_app(b).await;
    let answer =
        send(app.request(Method::POST, "/posts").header("content-type", "application/json")).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.text, validation_body(&ALL_FOUR));
}

async fn malformed_json_returns_400_with_a_string_message(b: Backend) {
    let app = spawn_app(b).await;
    for body in ["{", r#"{"title": "a",}"#, "{title: 1}", "   "] {
        let answer = send(
            app.request(Method::POST, "/posts")
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_eq!(answer.status, 400, "{body:?}: {}", answer.text);
        let json = answer.json();
        assert_eq!(json["statusCode"], json!(400), "{body:?}");
        assert_eq!(json["error"], json!("Bad Request"), "{body:?}");
        let message = json["message"].as_str().unwrap_or_else(|| panic!("{body:?}: {json}"));
        assert!(message.contains("not valid JSON"), "{body:?}: {message}");
    }
}

async fn a_json_scalar_returns_400_with_a_string_message(b: Backend) {
    let app = spawn_app(b).await;
    for body in [r#""text""#, "1", "null", "true"] {
        let answer = send(
            app.request(Method::POST, "/posts")
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_eq!(answer.status, 400, "{body}: {}", answer.text);
        assert!(answer.message().is_string(), "{body}: {}", answer.text);
    }
}

async fn a_json_array_is_validated_as_an_empty_object(b: Backend) {
    let app = spawn_app(b).await;
    let answer = app.post_json("/posts", &json!([{"title": "a", "content": "b"}])).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.text, validation_body(&ALL_FOUR));
}

async fn a_body_over_100_kb_returns_413_with_the_original_body(b: Backend) {
    let app = spawn_app(b).await;
    let pad = |len: usize| {
        let skeleton = r#"{"title":"a","content":"b","pad":""}"#;
        format!(r#"{{"title":"a","content":"b","pad":"{}"}}"#, "x".repeat(len - skeleton.len()))
    };
    let at_limit = pad(100 * 1024);
    let answer = send(
        app.request(Method::POST, "/posts")
            .header("content-type", "application/json")
            .body(at_limit),
    )
    .await;
    assert_eq!(answer.status, 201, "exactly 100 kB is accepted: {}", answer.text);

    for content_type in ["application/json", "application/x-www-form-urlencoded"] {
        let answer = send(
            app.request(Method::POST, "/posts")
                .header("content-type", content_type)
                .body(pad(100 * 1024 + 1)),
        )
        .await;
        assert_eq!(answer.status, 413, "{content_type}");
        assert_eq!(answer.text, r#"{"statusCode":413,"message":"request entity too large"}"#);
    }
    let answer = send(
        app.request(Method::PATCH, "/posts/1")
            .header("content-type", "application/json")
            .body(pad(200 * 1024)),
    )
    .await;
    assert_eq!(answer.status, 413, "PATCH too");
}

conformance!(
    json_is_parsed_with_or_without_a_charset,
    urlencoded_bodies_are_parsed,
    other_or_missing_content_types_are_treated_as_an_empty_body,
    an_empty_json_body_is_validated_as_an_empty_object,
    malformed_json_returns_400_with_a_string_message,
    a_json_scalar_returns_400_with_a_string_message,
    a_json_array_is_validated_as_an_empty_object,
    a_body_over_100_kb_returns_413_with_the_original_body,
);
