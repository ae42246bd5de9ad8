//! class-validator's messages and their order, and the fixes for inputs the original
//! answered with 500.

use serde_json::{Value, json};

use crate::helpers::{Backend, conformance, spawn_app, validation_body};

const ID: &str = "id must be a number conforming to the specified constraints";

async fn post_validation_messages_match_class_validator_in_declaration_order(b: Backend) {
    let app = spawn_app(b).await;
    let both_title = ["title should not be empty", "title must be a string"];
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        (
            "an empty object",
            json!({}),
            vec![
                "title should not be empty",
                "title must be a string",
                "content should not be empty",
                "content must be a string",
            ],
        ),
        ("a missing title", json!({"content": "c"}), both_title.to_vec()),
        ("a null title", json!({"title": null, "content": "c"}), both_title.to_vec()),
        ("an empty title", json!({"title": "", "content": "c"}), vec!["title should not be empty"]),
        ("a numeric title", json!({"title": 1, "content": "c"}), vec!["title must be a string"]),
        ("a boolean title", json!({"title": true, "content": "c"}), vec!["title must be a string"]),
        ("an array title", json!({"title": ["a"], "content": "c"}), vec!["title must be a string"]),
        (
            "an object title",
            json!({"title": {"a": 1}, "content": "c"}),
            vec!["title must be a string"],
        ),
        (
            "a missing content",
            json!({"title": "t"}),
            vec!["content should not be empty", "content must be a string"],
        ),
        (
            "an empty content",
            json!({"title": "t", "content": ""}),
            vec!["content should not be empty"],
        ),
        (
            "a numeric content",
            json!({"title": "t", "content": 2.5}),
            vec!["content must be a string"],
        ),
        (
            "both wrong",
            json!({"title": 1, "content": null}),
            vec![
                "title must be a string",
                "content should not be empty",
                "content must be a string",
            ],
        ),
    ];
    for (case, body, messages) in cases {
        let answer = app.post_json("/posts", &body).await;
        assert_eq!(answer.status, 400, "{case}: {}", answer.text);
        assert_eq!(answer.text, validation_body(&messages), "{case}");
    }
    assert_eq!(app.get("/posts").await.text, "[]", "nothing was stored");
}

async fn patch_validation_messages_match_class_validator_in_declaration_order(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("t", "c").await;
    let cases: Vec<(&str, Value, Vec<&str>)> = vec![
        ("an empty title", json!({"title": ""}), vec!["title should not be empty"]),
        ("a numeric content", json!({"content": 1}), vec!["content must be a string"]),
        ("a string id", json!({"id": "1"}), vec![ID]),
        ("a boolean id", json!({"id": true}), vec![ID]),
        (
            "id, title and content wrong",
            json!({"content": [], "title": "", "id": {}}),
            vec![ID, "title should not be empty", "content must be a string"],
        ),
    ];
    for (case, body, messages) in cases {
        let answer = app.patch_json("/posts/1", &body).await;
        assert_eq!(answer.status, 400, "{case}: {}", answer.text);
        assert_eq!(answer.text, validation_body(&messages), "{case}");
    }
    assert_eq!(app.get("/posts/1").await.text, r#"{"id":1,"title":"t","content":"c"}"#);
}

async fn whitespace_only_strings_are_accepted_and_unknown_fields_ignored(b: Backend) {
    let app = spawn_app(b).await;
    let answer =
        app.post_json("/posts", &json!({"title": " ", "content": "\t", "author": "x"})).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.text, r#"{"id":1,"title":" ","content":"\t"}"#);
}

async fn patch_ignores_unknown_fields_as_nestjs_does(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("Hello", "World").await;
    let answer = app.patch_json("/posts/1", &json!({"content": "changed", "tilte": "typo"})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, r#"{"id":1,"title":"Hello","content":"changed"}"#);
}

async fn a_title_over_255_characters_returns_400_instead_of_500(b: Backend) {
    let app = spawn_app(b).await;
    let cases = [
        ("title", json!({"title": "a".repeat(256), "content": "c"})),
        ("content", json!({"title": "t", "content": "ż".repeat(256)})),
    ];
    for (field, body) in cases {
        let answer = app.post_json("/posts", &body).await;
        assert_eq!(answer.status, 400, "{field}: {}", answer.text);
        let message = format!("{field} must be shorter than or equal to 255 characters");
        assert_eq!(answer.text, validation_body(&[&message]), "{field}");
    }
    let created = app.create_post("t", "c").await;
    let answer = app.patch_json("/posts/1", &json!({"title": "x".repeat(300)})).await;
    assert_eq!(answer.status, 400, "PATCH: {}", answer.text);
    assert_eq!(app.get("/posts/1").await.json(), created, "PATCH changed nothing");
}

async fn length_is_counted_in_characters_not_bytes(b: Backend) {
    let app = spawn_app(b).await;
    // 255 characters of two bytes each: 510 bytes, still within varchar(255).
    let title = "ż".repeat(255);
    let post = app.create_post(&title, "c").await;
    assert_eq!(post["title"], json!(title));
    assert_eq!(app.get("/posts/1").await.json()["title"], json!(title));
}

async fn a_nul_character_returns_400_with_a_clear_message(b: Backend) {
    let app = spawn_app(b).await;
    let answer = app.post_json("/posts", &json!({"title": "a\u{0}b", "content": "c"})).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.message(), json!(["title must not contain the NUL character (\\u0000)"]));
    app.create_post("t", "c").await;
    let answer = app.patch_json("/posts/1", &json!({"content": "\u{0}"})).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(answer.message(), json!(["content must not contain the NUL character (\\u0000)"]));
}

async fn patch_with_a_null_title_returns_400_like_post(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("t", "c").await;
    let answer = app.patch_json("/posts/1", &json!({"title": null})).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    assert_eq!(
        answer.text,
        validation_body(&["title should not be empty", "title must be a string"])
    );
}

async fn an_id_in_a_post_body_is_ignored_and_the_database_assigns_ids(b: Backend) {
    let app = spawn_app(b).await;
    let first = app.post_json("/posts", &json!({"id": 2, "title": "a", "content": "c"})).await;
    assert_eq!(first.status, 201, "{}", first.text);
    assert_eq!(first.json()["id"], json!(1));
    // The original stored id 2 here, and the sequence later collided with it.
    let second = app.create_post("b", "c").await;
    let third = app.create_post("c", "c").await;
    assert_eq!((second["id"].clone(), third["id"].clone()), (json!(2), json!(3)));
}

async fn an_id_in_a_patch_body_is_validated_but_never_changes_the_post_id(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("t", "c").await;
    let answer = app.patch_json("/posts/1", &json!({"id": 42, "title": "new"})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.text, r#"{"id":1,"title":"new","content":"c"}"#);
    assert_eq!(app.get("/posts/42").await.status, 404);
    let answer = app.patch_json("/posts/1", &json!({"id": null})).await;
    assert_eq!(answer.status, 200, "a null id is allowed: {}", answer.text);
}

async fn when_both_the_path_id_and_the_body_are_invalid_the_body_messages_are_reported(b: Backend) {
    let app = spawn_app(b).await;
    let answer = app.patch_json("/posts/abc", &json!({"title": 5})).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.text, validation_body(&["title must be a string"]));
    let answer = app.patch_json("/posts/abc", &json!({"title": "fine"})).await;
    assert_eq!(answer.text, validation_body(&[ID]), "a valid body leaves the id's message");
}

conformance!(
    post_validation_messages_match_class_validator_in_declaration_order,
    patch_validation_messages_match_class_validator_in_declaration_order,
    whitespace_only_strings_are_accepted_and_unknown_fields_ignored,
    patch_ignores_unknown_fields_as_nestjs_does,
    a_title_over_255_characters_returns_400_instead_of_500,
    length_is_counted_in_characters_not_bytes,
    a_nul_character_returns_400_with_a_clear_message,
    patch_with_a_null_title_returns_400_like_post,
    an_id_in_a_post_body_is_ignored_and_the_database_assigns_ids,
    an_id_in_a_patch_body_is_validated_but_never_changes_the_post_id,
    when_both_the_path_id_and_the_body_are_invalid_the_body_messages_are_reported,
);
