//! Path ids follow JavaScript's `Number()`, as the original's `@Type(() => Number)` does.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, conformance, send, spawn_app, validation_body};

/// What a path id should give.
enum Expect {
    /// Post 1.
    Found,
    /// 404 naming the id as JavaScript prints it.
    NotFound(&'static str),
    /// 400: not a number.
    NotANumber,
}

async fn path_ids_follow_javascript_number(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("Hello", "World").await;
    let post = r#"{"id":1,"title":"Hello","content":"World"}"#;
    use Expect::*;
    let cases: &[(&str, Expect)] = &[
        ("1", Found),
        ("01", Found),
        ("+1", Found),
        ("1e0", Found),
        ("0x1", Found),
        ("0X1", Found),
        ("0b1", Found),
        ("0o1", Found),
        ("1.", Found),
        ("1.0", Found),
        ("%201%20", Found),
        ("%31", Found),
        ("1.5", NotFound("1.5")),
        ("-1", NotFound("-1")),
        ("0", NotFound("0")),
        ("-0", NotFound("0")),
        (".5", NotFound("0.5")),
        ("%20", NotFound("0")),
        ("99999999999", NotFound("99999999999")),
        ("2147483648", NotFound("2147483648")),
        ("1e21", NotFound("1e+21")),
        ("1e-7", NotFound("1e-7")),
        ("0.000001", NotFound("0.000001")),
        ("12345678901234567890", NotFound("12345678901234567000")),
        ("abc", NotANumber),
        ("NaN", NotANumber),
        ("Infinity", NotANumber),
        ("-Infinity", NotANumber),
        ("1e400", NotANumber),
        ("0x", NotANumber),
        ("-0x1", NotANumber),
        ("1_000", NotANumber),
        ("1e", NotANumber),
        ("1a", NotANumber),
        ("%FF", NotANumber),
    ];
    for (raw, expected) in cases {
        let answer = app.get(&format!("/posts/{raw}")).await;
        match expected {
            Found => {
                assert_eq!(answer.status, 200, "GET /posts/{raw}: {}", answer.text);
                assert_eq!(answer.text, post, "GET /posts/{raw}");
            }
            NotFound(printed) => {
                assert_eq!(answer.status, 404, "GET /posts/{raw}: {}", answer.text);
                let message = format!("Post with id {printed} not found");
                assert_eq!(answer.message(), json!(message), "GET /posts/{raw}");
            }
            NotANumber => {
                assert_eq!(answer.status, 400, "GET /posts/{raw}: {}", answer.text);
                assert_eq!(
                    answer.text,
                    validation_body(&[
                        "id must be a number conforming to the specified constraints"
                    ]),
                    "GET /posts/{raw}"
                );
            }
        }
    }
}

async fn patch_and_delete_read_path_ids_the_same_way(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("Hello", "World").await;
    let answer = app.patch_json("/posts/0x1", &json!({"title": "Hi"})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json()["title"], json!("Hi"));
    let answer = app.patch_json("/posts/1.5", &json!({})).await;
    assert_eq!(answer.message(), json!("Post with id 1.5 not found"));
    let answer = send(app.request(Method::DELETE, "/posts/NaN")).await;
    assert_eq!(answer.status, 400, "{}", answer.text);
    let answer = app.delete("/posts/1e0").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(app.get("/posts").await.text, "[]");
}

conformance!(path_ids_follow_javascript_number, patch_and_delete_read_path_ids_the_same_way,);
