//! The statements each request sends: the identity map and unit of work seen through the API.
//!
//! The counts are the same on both databases: the query log records what the EntityManager
//! sends, `BEGIN` and `COMMIT` included. (On SQLite the driver sends its `BEGIN IMMEDIATE`
//! together with the first statement of the transaction; that changes no count.)

use serde_json::json;
use strata::driver::StatementKind;
use strata::query_log::LoggedStatement;

use crate::helpers::{Answer, Backend, TestApp, conformance, spawn_app};

/// Runs `request` while capturing, returning the answer and the statements it sent.
/// (A future does nothing until awaited, so only `request`'s statements are captured.)
async fn capture(
    app: &TestApp,
    request: impl Future<Output = Answer>,
) -> (Answer, Vec<LoggedStatement>) {
    let log = app.orm.query_log();
    log.start_capture();
    let answer = request.await;
    let statements = log.take();
    log.stop_capture();
    (answer, statements)
}

fn kinds(statements: &[LoggedStatement]) -> Vec<StatementKind> {
    statements.iter().map(|s| s.kind).collect()
}

/// The statements other than BEGIN / COMMIT.
fn data(statements: &[LoggedStatement]) -> Vec<&LoggedStatement> {
    statements.iter().filter(|s| s.kind != StatementKind::Transaction).collect()
}

async fn get_all_and_get_by_id_send_one_select_each(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("t", "c").await;
    let (answer, statements) = capture(&app, app.get("/posts")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(kinds(&statements), [StatementKind::Select], "{statements:#?}");
    assert!(statements[0].sql.contains("ORDER BY"), "{}", statements[0].sql);
    let (answer, statements) = capture(&app, app.get("/posts/1")).await;
    assert_eq!(answer.status, 200);
    assert_eq!(kinds(&statements), [StatementKind::Select], "{statements:#?}");
}

async fn post_sends_one_insert_in_a_transaction(b: Backend) {
    let app = spawn_app(b).await;
    let (answer, statements) =
        capture(&app, app.post_json("/posts", &json!({"title": "t", "content": "c"}))).await;
    assert_eq!(answer.status, 201);
    let data = data(&statements);
    assert_eq!(data.len(), 1, "{statements:#?}");
    assert_eq!(data[0].kind, StatementKind::Insert);
    let sql: Vec<&str> = statements.iter().map(|s| s.sql.as_str()).collect();
    assert_eq!(sql.first(), Some(&"BEGIN"), "{sql:#?}");
    assert_eq!(sql.last(), Some(&"COMMIT"), "{sql:#?}");
}

async fn patch_sends_one_select_and_one_update_of_the_changed_columns_only(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("t", "c").await;
    let (answer, statements) =
        capture(&app, app.patch_json("/posts/1", &json!({"title": "new", "content": "c"}))).await;
    assert_eq!(answer.status, 200);
    let data = data(&statements);
    let data_kinds: Vec<StatementKind> = data.iter().map(|s| s.kind).collect();
    assert_eq!(data_kinds, [StatementKind::Select, StatementKind::Update], "{statements:#?}");
    let update = &data[1].sql;
    assert!(update.contains("\"title\""), "{update}");
    assert!(!update.contains("\"content\""), "content did not change: {update}");
}

async fn patch_with_an_unchanged_body_sends_no_update(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("t", "c").await;
    for body in [json!({"title": "t"}), json!({}), json!({"title": "t", "content": "c", "id": 9})] {
        let (answer, statements) = capture(&app, app.patch_json("/posts/1", &body)).await;
        assert_eq!(answer.status, 200, "{body}");
        assert_eq!(kinds(&statements), [StatementKind::Select], "{body}: {statements:#?}");
    }
}

async fn delete_sends_one_select_and_one_delete(b: Backend) {
    let app = spawn_app(b).await;
    app.create_post("t", "c").await;
    let (answer, statements) = capture(&app, app.delete("/posts/1")).await;
    assert_eq!(answer.status, 200);
    let data_kinds: Vec<StatementKind> = data(&statements).iter().map(|s| s.kind).collect();
    assert_eq!(data_kinds, [StatementKind::Select, StatementKind::Delete], "{statements:#?}");
}

async fn an_invalid_request_or_an_impossible_id_sends_nothing(b: Backend) {
    let app = spawn_app(b).await;
    let cases = [
        ("POST {}", capture(&app, app.post_json("/posts", &json!({}))).await),
        ("GET /posts/abc", capture(&app, app.get("/posts/abc")).await),
        ("GET /posts/1.5", capture(&app, app.get("/posts/1.5")).await),
    ];
    for (case, (answer, statements)) in cases {
        assert!(answer.status >= 400, "{case}");
        assert!(statements.is_empty(), "{case}: {statements:#?}");
    }
}

conformance!(
    get_all_and_get_by_id_send_one_select_each,
    post_sends_one_insert_in_a_transaction,
    patch_sends_one_select_and_one_update_of_the_changed_columns_only,
    patch_with_an_unchanged_body_sends_no_update,
    delete_sends_one_select_and_one_delete,
    an_invalid_request_or_an_impossible_id_sends_nothing,
);
