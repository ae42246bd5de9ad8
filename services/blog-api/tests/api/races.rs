//! Concurrent requests: registrations of one email race to the unique constraint; one wins, the
//! others get the original's 400, never a 500.

use serde_json::json;

use crate::helpers::{Backend, conformance, spawn_app};

async fn racing_registrations_of_one_email_give_one_201_and_400s(b: Backend) {
    let app = spawn_app(b).await;
    for round in 0..3 {
        let email = format!("race{round}@example.com");
        let attempts = (0..6).map(|i| {
            let body = json!({"email": email, "name": format!("R{i}"), "password": "p",
                              "address": {"street": "s", "city": "c", "country": "x"}});
            let app = &app;
            async move { app.post_json("/authentication/register", &body).await }
        });
        let answers = futures_util::future::join_all(attempts).await;
        let created = answers.iter().filter(|a| a.status == 201).count();
        assert_eq!(created, 1, "{answers:#?}");
        for answer in answers.iter().filter(|a| a.status != 201) {
            assert_eq!(answer.status, 400, "{answer:?}");
            assert_eq!(
                answer.text,
                r#"{"statusCode":400,"message":"User with that email already exists"}"#
            );
        }
    }
    let users = app.orm.em().count::<blog_api::entities::User>(strata::query::Filter::all()).await;
    let addresses =
        app.orm.em().count::<blog_api::entities::Address>(strata::query::Filter::all()).await;
    assert_eq!(
        (users.ok(), addresses.ok()),
        (Some(3), Some(3)),
        "the losers' addresses are rolled back"
    );
}

conformance!(racing_registrations_of_one_email_give_one_201_and_400s);
