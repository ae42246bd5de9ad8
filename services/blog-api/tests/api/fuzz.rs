//! No request a client can send gets a 500: every route is sent wrong types, nulls, NUL bytes,
//! 300-character strings, unknown and odd ids, huge and malformed bodies, and malformed and
//! tampered cookies, with and without a valid cookie.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, conformance, send, spawn_app};

/// The values every field is tried with.
fn values() -> Vec<Value> {
    let long = "x".repeat(300);
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(1e300),
        json!(2_147_483_648_i64),
        json!(""),
        json!(" "),
        json!("a\u{0}b"),
        json!(long),
        json!("1"),
        json!([]),
        json!([1, "x", null]),
        json!([2_147_483_648_i64, -5, 1e300]),
        json!({}),
        json!({"street": 1}),
    ]
}

/// The routes, with the fields of their bodies.
const ROUTES: [(&str, &str, &[&str]); 12] = [
    ("POST", "/authentication/register", &["email", "name", "password", "address", "posts"]),
    ("POST", "/authentication/log-in", &["email", "password"]),
    ("POST", "/authentication/log-out", &[]),
    ("GET", "/authentication", &[]),
    ("POST", "/categories", &["name", "id"]),
    ("PATCH", "/categories/{id}", &["name", "id"]),
    ("DELETE", "/categories/{id}", &[]),
    ("GET", "/categories/{id}", &[]),
    ("POST", "/posts", &["title", "content", "categories", "id", "author"]),
    ("PATCH", "/posts/{id}", &["title", "content", "categories", "id", "author"]),
    ("DELETE", "/posts/{id}", &[]),
    ("GET", "/posts/{id}", &[]),
];

const IDS: [&str; 12] =
    ["1", "999", "0", "-1", "abc", "1.5", "1e400", "2147483648", "%00", "%FF", "0x1", "1%20"];

async fn no_body_field_value_gets_a_500(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let tech = app.category(&token, "Tech").await;
    app.post(&token, "first", &[tech]).await;
    let mut sent = 0;
    for (method, path, fields) in ROUTES {
        let path = path.replace("{id}", "1");
        let method: Method = method.parse().unwrap();
        for field in fields {
            for value in values() {
                let mut body = json!({"email": "fuzz@example.com", "name": "N", "password": "p",
                                      "title": "T", "content": "C", "categories": [tech]});
                body[*field] = value.clone();
                for cookie in [Some(token.as_str()), None] {
                    let mut request = app.request(method.clone(), &path).json(&body);
                    if let Some(token) = cookie {
                        request = request.header("cookie", format!("Authentication={token}"));
                    }
                    let answer = send(request).await;
                    sent += 1;
                    assert!(
                        answer.status < 500,
                        "{method} {path} {field}={value}: {} {}",
                        answer.status,
                        answer.text
                    );
                    assert!(
                        answer.text.starts_with('{')
                            || answer.text.starts_with('[')
                            || answer.status == 200
                            || answer.status == 201,
                        "{method} {path}: {}",
                        answer.text
                    );
                }
            }
        }
    }
    assert!(sent > 300, "{sent}");
}

async fn no_path_id_gets_a_500(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    for (method, path, _) in ROUTES.iter().filter(|r| r.1.contains("{id}")) {
        for id in IDS {
            let path = path.replace("{id}", id);
            let method: Method = method.parse().unwrap();
            let answer =
                send(app.authed(method.clone(), &path, &token).json(&json!({"name": "n"}))).await;
            assert!(answer.status < 500, "{method} {path}: {} {}", answer.status, answer.text);
        }
    }
}

async fn no_malformed_body_gets_a_500(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let huge = format!("{{\"title\":\"{}\"}}", "x".repeat(200 * 1024));
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        ("application/json", b"{\"title\": ".to_vec()),
        ("application/json", b"\"text\"".to_vec()),
        ("application/json", b"null".to_vec()),
        ("application/json", b"\xff\xfe".to_vec()),
        ("application/json", b"{\"a\":\"\\u0000\"}".to_vec()),
        ("application/json", huge.into_bytes()),
        ("application/x-www-form-urlencoded", b"categories[]=1&address[street]=x&%FF=%FF".to_vec()),
        ("text/plain", b"hello".to_vec()),
        ("multipart/form-data; boundary=x", b"--x--".to_vec()),
    ];
    for (method, path, _) in ROUTES {
        let path = path.replace("{id}", "1");
        let method: Method = method.parse().unwrap();
        for (content_type, body) in &bodies {
            for cookie in [format!("Authentication={token}"), String::new()] {
                let request = app
                    .request(method.clone(), &path)
                    .header("content-type", *content_type)
                    .header("cookie", cookie.clone())
                    .body(body.clone());
                let answer = send(request).await;
                assert!(
                    answer.status < 500,
                    "{method} {path} {content_type}: {} {}",
                    answer.status,
                    answer.text
                );
            }
        }
    }
}

async fn no_cookie_gets_a_500(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let (head, rest) = token.split_once('.').unwrap();
    let cookies = [
        "Authentication".to_owned(),
        "Authentication=a.b.c".into(),
        "Authentication=...".into(),
        format!("Authentication={}", "x".repeat(8000)),
        format!("Authentication={token}; Authentication=garbage"),
        format!("Authentication=garbage; Authentication={token}"),
        format!("Authentication=\"{token}\""),
        format!("Authentication={head}.e30.{}", rest.split_once('.').unwrap().1),
        format!("Authentication={}", token.replace('.', "%2E")),
        "Authentication=%FF%FE".into(),
        ";;;=;".into(),
    ];
    for cookie in cookies {
        for (method, path) in [
            (Method::GET, "/authentication"),
            (Method::POST, "/posts"),
            (Method::POST, "/authentication/log-out"),
        ] {
            let answer = send(
                app.request(method.clone(), path)
                    .header("cookie", cookie.as_bytes())
                    .json(&json!({"title": "t", "content": "c", "categories": []})),
            )
            .await;
            assert!(
                answer.status < 500,
                "{method} {path} {cookie:.60}: {} {}",
                answer.status,
                answer.text
            );
        }
    }
}

conformance!(
    no_body_field_value_gets_a_500,
    no_path_id_gets_a_500,
    no_malformed_body_gets_a_500,
    no_cookie_gets_a_500,
);
