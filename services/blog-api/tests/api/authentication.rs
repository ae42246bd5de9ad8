//! Registration, log-in, log-out and the guard, as a client of the original sees them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, EXPIRATION, SECRET, conformance, send, spawn_app, unauthorized};

fn bob_address() -> Value {
    json!({"street": "1 Main Street", "city": "Springfield", "country": "USA"})
}

async fn register_answers_the_user_without_password_and_with_empty_posts(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.register("alice@example.com", Value::Null).await;
    assert_eq!(alice, json!({"id": 1, "email": "alice@example.com", "name": "Name", "posts": []}));
    let bob = app.register("bob@example.com", bob_address()).await;
    let mut address = bob_address();
    address["id"] = json!(1);
    assert_eq!(
        bob,
        json!({"id": 2, "email": "bob@example.com", "name": "Name", "address": address, "posts": []})
    );
    let body = json!({"email": "carol@example.com", "name": "C", "password": "p", "address": null});
    let answer = app.post_json("/authentication/register", &body).await;
    assert_eq!(answer.status, 201);
    assert_eq!(
        answer.text,
        r#"{"id":3,"email":"carol@example.com","name":"C","address":null,"posts":[]}"#
    );
}

async fn the_password_is_stored_as_a_2b_bcrypt_hash_of_cost_10(b: Backend) {
    let app = spawn_app(b).await;
    app.register("alice@example.com", Value::Null).await;
    let em = app.orm.em();
    let user = em.find_one::<blog_api::entities::User>(1).await.unwrap().expect("stored");
    let hash = user.read().password.clone();
    assert!(hash.starts_with("$2b$10$") && hash.len() == 60, "{hash}");
    assert!(bcrypt::verify("password-1", &hash).unwrap());
}

async fn a_duplicate_email_is_the_originals_400(b: Backend) {
    let app = spawn_app(b).await;
    app.register("alice@example.com", Value::Null).await;
    for address in [Value::Null, bob_address()] {
        let mut body = json!({"email": "alice@example.com", "name": "Alice II", "password": "x"});
        if !address.is_null() {
            body["address"] = address;
        }
        let answer = app.post_json("/authentication/register", &body).await;
        assert_eq!(answer.status, 400, "{}", answer.text);
        assert_eq!(
            answer.text,
            r#"{"statusCode":400,"message":"User with that email already exists"}"#
        );
    }
    let addresses =
        app.orm.em().count::<blog_api::entities::Address>(strata::query::Filter::all()).await;
    assert_eq!(addresses.ok(), Some(0), "the address of a refused registration is rolled back");
}

async fn log_in_sets_the_cookie_and_answers_address_and_posts(b: Backend) {
    let app = spawn_app(b).await;
    app.register("bob@example.com", bob_address()).await;
    let token = app.log_in("bob@example.com").await;
    let post = app.post(&token, "Hello", &[]).await;
    let body = json!({"email": "bob@example.com", "password": "password-1"});
    let answer = app.post_json("/authentication/log-in", &body).await;
    assert_eq!(answer.status, 200, "200, not 201");
    let cookie = answer.header("set-cookie").unwrap();
    let expected_tail = format!("; HttpOnly; Path=/; Max-Age={EXPIRATION}");
    assert!(
        cookie.starts_with("Authentication=ey") && cookie.ends_with(&expected_tail),
        "{cookie}"
    );
    let mut address = bob_address();
    address["id"] = json!(1);
    assert_eq!(
        answer.json(),
        json!({"id": 1, "email": "bob@example.com", "name": "Name", "address": address,
               "posts": [{"id": post, "title": "Hello", "content": "content", "author": 1}]})
    );
    assert!(!answer.text.contains("password") && !answer.text.contains("$2b$"), "{}", answer.text);
}

async fn the_token_is_hs256_with_the_user_id(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let key = jsonwebtoken::DecodingKey::from_secret(SECRET.as_bytes()).unwrap();
    let data = jsonwebtoken::decode::<Value>(
        &token,
        &key,
        &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256),
    )
    .unwrap();
    assert_eq!(data.claims["userId"], json!(1));
    let (iat, exp) = (data.claims["iat"].as_u64().unwrap(), data.claims["exp"].as_u64().unwrap());
    assert_eq!(exp - iat, EXPIRATION);
}

async fn wrong_credentials_are_400_and_missing_ones_401(b: Backend) {
    let app = spawn_app(b).await;
    app.register("alice@example.com", Value::Null).await;
    let wrong = json!({"statusCode": 400, "message": "Wrong credentials provided"});
    for body in [
        json!({"email": "alice@example.com", "password": "wrong"}),
        json!({"email": "nobody@example.com", "password": "x"}),
        json!({"email": "ALICE@example.com", "password": "password-1"}),
        json!({"email": 12345, "password": "password-1"}),
        json!({"email": "alice@example.com", "password": 12345}),
    ] {
        let answer = app.post_json("/authentication/log-in", &body).await;
        assert_eq!((answer.status, answer.json()), (400, wrong.clone()), "{body}");
    }
    for body in [
        json!({}),
        json!({"email": "alice@example.com"}),
        json!({"password": "p"}),
        json!({"email": "alice@example.com", "password": ""}),
    ] {
        let answer = app.post_json("/authentication/log-in", &body).await;
        assert_eq!((answer.status, answer.json()), (401, unauthorized()), "{body}");
    }
}

async fn form_encoded_register_and_log_in_work(b: Backend) {
    let app = spawn_app(b).await;
    let form = "email=frank%40example.com&name=Frank&password=frank-password&address[street]=2+Side+Road&address[city]=Shelbyville&address[country]=USA";
    let answer = send(
        app.request(Method::POST, "/authentication/register")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    assert_eq!(answer.json()["address"]["city"], json!("Shelbyville"));
    let answer = send(
        app.request(Method::POST, "/authentication/log-in")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=frank%40example.com&password=frank-password"),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
}

async fn get_authentication_answers_the_user_with_address(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.user("alice@example.com").await;
    let answer = app.get_as("/authentication", &alice).await;
    assert_eq!(answer.text, r#"{"id":1,"email":"alice@example.com","name":"Name","address":null}"#);
    app.register("bob@example.com", bob_address()).await;
    let bob = app.log_in("bob@example.com").await;
    let answer = send(
        app.request(Method::GET, "/authentication/")
            .header("cookie", format!("theme=dark; Authentication={bob}")),
    )
    .await;
    assert_eq!(answer.json()["address"]["street"], json!("1 Main Street"));
}

async fn log_out_clears_the_cookie_but_the_token_stays_valid(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.user("alice@example.com").await;
    let answer = send(app.authed(Method::POST, "/authentication/log-out", &alice)).await;
    assert_eq!((answer.status, answer.text.as_str()), (200, "OK"));
    assert_eq!(answer.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(answer.header("set-cookie"), Some("Authentication=; HttpOnly; Path=/; Max-Age=0"));
    assert_eq!(app.get_as("/authentication", &alice).await.status, 200, "as in the original");
    let answer = send(app.request(Method::POST, "/authentication/log-out")).await;
    assert_eq!((answer.status, answer.json()), (401, unauthorized()));
}

async fn bad_tokens_are_401_and_a_token_of_a_missing_user_404(b: Backend) {
    let app = spawn_app(b).await;
    let alice = app.user("alice@example.com").await;
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()).unwrap();
    let sign = |claims: Value| {
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
    };
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let expired = sign(json!({"userId": 1, "iat": 1000, "exp": 2000}));
    let other_key = jsonwebtoken::EncodingKey::from_secret(b"another secret").unwrap();
    let foreign = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"userId": 1, "iat": now, "exp": now + 60}),
        &other_key,
    )
    .unwrap();
    let string_id = sign(json!({"userId": "1", "iat": now, "exp": now + 60}));
    let no_exp = sign(json!({"userId": 1, "iat": now}));
    for cookie in [
        String::new(),
        "Authentication=".into(),
        "Authentication=garbage".into(),
        format!("Authentication={alice}x"),
        "Authorization=abc.def.ghi".into(),
        format!("Authentication={expired}"),
        format!("Authentication={foreign}"),
        format!("Authentication={string_id}"),
        format!("Authentication={no_exp}"),
    ] {
        for (method, path) in [
            (Method::GET, "/authentication"),
            (Method::POST, "/posts"),
            (Method::POST, "/categories"),
            (Method::DELETE, "/posts/1"),
        ] {
            let answer =
                send(app.request(method.clone(), path).header("cookie", cookie.clone())).await;
            assert_eq!(
                (answer.status, answer.json()),
                (401, unauthorized()),
                "{method} {path} {cookie}"
            );
        }
    }
    let unknown = sign(json!({"userId": 999, "iat": now, "exp": now + 60}));
    let not_found = json!({"statusCode": 404, "message": "User not found", "error": "Not Found"});
    let answer = app.get_as("/authentication", &unknown).await;
    assert_eq!((answer.status, answer.json()), (404, not_found.clone()));
    let body = json!({"title": "T", "content": "C", "categories": []});
    let answer = app.post_as("/posts", &unknown, &body).await;
    assert_eq!((answer.status, answer.json()), (404, not_found));
}

conformance!(
    register_answers_the_user_without_password_and_with_empty_posts,
    the_password_is_stored_as_a_2b_bcrypt_hash_of_cost_10,
    a_duplicate_email_is_the_originals_400,
    log_in_sets_the_cookie_and_answers_address_and_posts,
    the_token_is_hs256_with_the_user_id,
    wrong_credentials_are_400_and_missing_ones_401,
    form_encoded_register_and_log_in_work,
    get_authentication_answers_the_user_with_address,
    log_out_clears_the_cookie_but_the_token_stays_valid,
    bad_tokens_are_401_and_a_token_of_a_missing_user_404,
);
