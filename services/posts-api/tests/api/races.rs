//! Requests that race for the same post: a write that finds its row gone answers 404, as if the
//! post had never been found, and never reports a change that did not happen.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{Backend, conformance, spawn_app};

async fn twenty_parallel_deletes_of_one_post_answer_200_once_and_404_otherwise(b: Backend) {
    let app = std::sync::Arc::new(spawn_app(b).await);
    app.create_post("contested", "x").await;
    // Every request reads the post, then waits to delete it: they all race for the same row.
    let lock = app.lock_posts_for_writes().await;
    let deletes: Vec<_> = (0..20)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.delete("/posts/1").await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    lock.release().await;
    let mut statuses = Vec::new();
    for d in deletes {
        let answer = d.await.unwrap();
        if answer.status == 404 {
            assert_eq!(
                answer.text,
                r#"{"statusCode":404,"message":"Post with id 1 not found","error":"Not Found"}"#
            );
        }
        statuses.push(answer.status);
    }
    statuses.sort_unstable();
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, 1, "exactly one DELETE removed the post: {statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 200 | 404)), "{statuses:?}");
}

async fn a_patch_whose_post_is_deleted_meanwhile_answers_404(b: Backend) {
    let app = std::sync::Arc::new(spawn_app(b).await);
    app.create_post("Hello", "World").await;
    let lock = app.lock_posts_for_writes().await;
    let patch = tokio::spawn({
        let app = app.clone();
        async move { app.patch_json("/posts/1", &json!({"title": "changed"})).await }
    });
    // The PATCH has read the post and waits to write it when another client deletes it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    lock.commit_after(r#"DELETE FROM "post_entity" WHERE "id" = 1"#).await;
    let answer = patch.await.unwrap();
    assert_eq!(answer.status, 404, "{}", answer.text);
    assert_eq!(
        answer.text,
        r#"{"statusCode":404,"message":"Post with id 1 not found","error":"Not Found"}"#
    );
    assert_eq!(app.get("/posts").await.text, "[]", "nothing was written back");
}

conformance!(
    twenty_parallel_deletes_of_one_post_answer_200_once_and_404_otherwise,
    a_patch_whose_post_is_deleted_meanwhile_answers_404,
);
