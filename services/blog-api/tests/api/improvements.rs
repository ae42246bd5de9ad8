//! Every item of the README's "Where the rebuild must do better" list, one test each: where the
//! original answered 500, stored garbage or surprised its clients.

use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp, conformance, spawn_app, validation_body};

const EACH: &str =
    "each value in categories must be a number conforming to the specified constraints";

async fn register(app: &TestApp, body: Value) -> crate::helpers::Answer {
    app.post_json("/authentication/register", &body).await
}

async fn registration_is_validated(b: Backend) {
    let app = spawn_app(b).await;
    let cases = [
        (
            json!({"name": "X", "password": "p"}),
            vec!["email should not be empty", "email must be a string"],
        ),
        (
            json!({"email": "x@x", "password": "p"}),
            vec!["name should not be empty", "name must be a string"],
        ),
        (
            json!({"email": "x@x", "name": "X"}),
            vec!["password should not be empty", "password must be a string"],
        ),
        (
            json!({"email": "x@x", "name": null, "password": "p"}),
            vec!["name should not be empty", "name must be a string"],
        ),
        (json!({"email": 12345, "name": "N", "password": "p"}), vec!["email must be a string"]),
        (
            json!({"email": "x@x", "name": "N", "password": 12345678}),
            vec!["password must be a string"],
        ),
        (
            json!({"email": "x@x", "name": "N", "password": ""}),
            vec!["password should not be empty"],
        ),
    ];
    for (body, messages) in cases {
        let answer = register(&app, body.clone()).await;
        assert_eq!((answer.status, answer.json()), (400, validation_body(&messages)), "{body}");
    }
    let answer = app.post_json("/authentication/register", &json!([])).await;
    assert_eq!(answer.status, 400, "an array body is an empty one");
    assert_eq!(
        app.orm.em().count::<blog_api::entities::User>(strata::query::Filter::all()).await.ok(),
        Some(0)
    );
}

async fn a_registration_address_is_validated(b: Backend) {
    let app = spawn_app(b).await;
    let base = json!({"email": "x@x", "name": "N", "password": "p"});
    let cases = [
        (json!("Main Street"), vec!["address must be an object"]),
        (json!(5), vec!["address must be an object"]),
        (
            json!({}),
            vec![
                "address.street should not be empty",
                "address.street must be a string",
                "address.city should not be empty",
                "address.city must be a string",
                "address.country should not be empty",
                "address.country must be a string",
            ],
        ),
        (
            json!({"street": "s", "city": "c"}),
            vec!["address.country should not be empty", "address.country must be a string"],
        ),
        (
            json!({"street": 1, "city": "c", "country": "x"}),
            vec!["address.street must be a string"],
        ),
    ];
    for (address, messages) in cases {
        let mut body = base.clone();
        body["address"] = address.clone();
        let answer = register(&app, body).await;
        assert_eq!((answer.status, answer.json()), (400, validation_body(&messages)), "{address}");
    }
}

async fn long_strings_and_nul_characters_are_400(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let long = "x".repeat(256);
    let max = |field: &str| format!("{field} must be shorter than or equal to 255 characters");
    let nul = |field: &str| format!("{field} must not contain the NUL character (\\u0000)");
    let address = json!({"street": long, "city": "c\u{0}", "country": "x"});
    let answer = register(
        &app,
        json!({"email": long, "name": "a\u{0}b", "password": "p", "address": address}),
    )
    .await;
    assert_eq!(
        answer.json(),
        validation_body(&[
            &max("email"),
            &nul("name"),
            &max("address.street"),
            &nul("address.city")
        ])
    );
    let answer = app.post_as("/categories", &token, &json!({"name": long})).await;
    assert_eq!(answer.json(), validation_body(&[&max("name")]));
    let answer = app.post_as("/categories", &token, &json!({"name": "a\u{0}b"})).await;
    assert_eq!(answer.json(), validation_body(&[&nul("name")]));
    let body = json!({"title": long, "content": "a\u{0}", "categories": []});
    let answer = app.post_as("/posts", &token, &body).await;
    assert_eq!(answer.json(), validation_body(&[&max("title"), &nul("content")]));
    let at_limit = "é".repeat(255);
    let answer = app
        .post_as("/posts", &token, &json!({"title": at_limit, "content": "c", "categories": []}))
        .await;
    assert_eq!(answer.status, 201, "255 characters fit: {}", answer.text);
}

async fn patch_with_a_null_field_is_400(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let category = app.category(&token, "Tech").await;
    let post = app.post(&token, "t", &[]).await;
    let answer = app.patch_json(&format!("/categories/{category}"), &json!({"name": null})).await;
    assert_eq!(
        answer.json(),
        validation_body(&["name should not be empty", "name must be a string"])
    );
    let answer = app.patch_as(&format!("/posts/{post}"), &token, &json!({"title": null})).await;
    assert_eq!(
        answer.json(),
        validation_body(&["title should not be empty", "title must be a string"])
    );
    let answer =
        app.patch_as(&format!("/posts/{post}"), &token, &json!({"categories": null})).await;
    assert_eq!(answer.json(), validation_body(&[EACH]));
}

async fn a_patch_body_id_never_changes_the_id_and_the_rest_applies(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let category = app.category(&token, "Tech").await;
    let post = app.post(&token, "t", &[]).await;
    let answer = app
        .patch_json(&format!("/categories/{category}"), &json!({"id": 50, "name": "Sports"}))
        .await;
    assert_eq!(answer.json(), json!({"id": category, "name": "Sports"}));
    assert_eq!(app.get("/categories/50").await.status, 404);
    let answer = app
        .patch_as(&format!("/posts/{post}"), &token, &json!({"id": 500, "title": "Other"}))
        .await;
    assert_eq!(answer.json()["id"], json!(post));
    assert_eq!(app.get(&format!("/posts/{post}")).await.json()["title"], json!("Other"));
    assert_eq!(app.get("/posts/500").await.status, 404);
}

async fn lists_are_ordered_by_id(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    for name in ["a", "b", "c"] {
        app.category(&token, name).await;
        app.post(&token, name, &[]).await;
    }
    // Updating the first rows moves them last in a heap table without ORDER BY.
    app.patch_json("/categories/1", &json!({"name": "first"})).await;
    app.patch_as("/posts/1", &token, &json!({"title": "first"})).await;
    let ids = |v: Value| {
        v.as_array().unwrap().iter().map(|x| x["id"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(ids(app.get("/categories").await.json()), [1, 2, 3]);
    assert_eq!(ids(app.get("/posts").await.json()), [1, 2, 3]);
}

async fn unknown_category_ids_are_a_400_naming_them_and_nothing_is_stored(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let tech = app.category(&token, "Tech").await;
    let error =
        |message: &str| json!({"statusCode": 400, "message": message, "error": "Bad Request"});
    let body = json!({"title": "T", "content": "C", "categories": [999]});
    let answer = app.post_as("/posts", &token, &body).await;
    assert_eq!((answer.status, answer.json()), (400, error("Category with id 999 not found")));
    let body = json!({"title": "T", "content": "C", "categories": [tech, 998, 1.5, 999]});
    let answer = app.post_as("/posts", &token, &body).await;
    assert_eq!(answer.json(), error("Categories with ids 998, 999, 1.5 not found"));
    assert_eq!(app.get("/posts").await.text, "[]", "nothing stored");
    let post = app.post(&token, "kept", &[tech]).await;
    let answer = app
        .patch_as(
            &format!("/posts/{post}"),
            &token,
            &json!({"title": "changed", "categories": [999]}),
        )
        .await;
    assert_eq!((answer.status, answer.json()), (400, error("Category with id 999 not found")));
    let stored = app.get("/posts").await.json();
    assert_eq!(stored[0]["title"], json!("kept"), "the whole PATCH is rolled back");
    assert_eq!(stored[0]["categories"], json!([{"id": tech, "name": "Tech"}]));
}

async fn patch_categories_is_validated_like_post(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let post = app.post(&token, "t", &[]).await;
    for categories in [json!("x"), json!(1), json!(["1"]), json!([{"id": 1}]), json!({})] {
        let answer = app
            .patch_as(&format!("/posts/{post}"), &token, &json!({"categories": categories}))
            .await;
        assert_eq!((answer.status, answer.json()), (400, validation_body(&[EACH])), "{categories}");
    }
}

async fn an_id_in_a_post_body_is_ignored(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let answer = app
        .post_as(
            "/posts",
            &token,
            &json!({"id": 100, "title": "T", "content": "C", "categories": []}),
        )
        .await;
    assert_eq!(answer.json()["id"], json!(1));
    let answer = app.post_as("/categories", &token, &json!({"id": 70, "name": "Travel"})).await;
    assert_eq!(answer.json()["id"], json!(1));
    assert_eq!(app.get("/posts/100").await.status, 404);
    let second = app.post(&token, "second", &[]).await;
    assert_eq!(second, 2, "the sequence was not disturbed");
}

async fn a_posts_field_in_a_registration_is_ignored(b: Backend) {
    let app = spawn_app(b).await;
    let token = app.user("alice@example.com").await;
    let post = app.post(&token, "alice's", &[]).await;
    let answer =
        register(&app, json!({"email": "m@x", "name": "M", "password": "p", "posts": [post]}))
            .await;
    assert_eq!(answer.status, 201);
    assert_eq!(answer.json()["posts"], json!([]));
    assert_eq!(
        app.get(&format!("/posts/{post}")).await.json()["author"],
        json!(1),
        "still alice's"
    );
}

conformance!(
    registration_is_validated,
    a_registration_address_is_validated,
    long_strings_and_nul_characters_are_400,
    patch_with_a_null_field_is_400,
    a_patch_body_id_never_changes_the_id_and_the_rest_applies,
    lists_are_ordered_by_id,
    unknown_category_ids_are_a_400_naming_them_and_nothing_is_stored,
    patch_categories_is_validated_like_post,
    an_id_in_a_post_body_is_ignored,
    a_posts_field_in_a_registration_is_ignored,
);
