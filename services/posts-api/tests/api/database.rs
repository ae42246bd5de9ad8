//! The database going away and coming back, constraint violations, internal errors, the
//! request timeout (and the statements of timed-out requests) and graceful shutdown.

use std::time::Duration;

use posts_api::ServerSettings;
use reqwest::Method;
use serde_json::json;
use strata::StrataConfig;

use crate::helpers::{
    Answer, Backend, TestApp, admin, bring_database_back, client, conformance, send,
    serve_in_background, spawn_app, spawn_app_with, spawn_lazy_app, take_database_away,
};

const UNAVAILABLE: &str = r#"{"statusCode":503,"message":"The database is unavailable; try again in a few seconds","error":"Service Unavailable"}"#;

async fn an_unreachable_database_returns_503_with_the_nestjs_body() {
    let config = StrataConfig::from_url("postgres://postgres@127.0.0.1:1/posts")
        .connect_timeout(Duration::from_secs(2));
    let app = spawn_lazy_app(config).await;
    let answers = [
        ("GET /posts", app.get("/posts").await),
        ("GET /posts/1", app.get("/posts/1").await),
        ("POST /posts", app.post_json("/posts", &json!({"title": "t", "content": "c"})).await),
        ("PATCH /posts/1", app.patch_json("/posts/1", &json!({"title": "t"})).await),
        ("DELETE /posts/1", app.delete("/posts/1").await),
        ("GET /health", app.get("/health").await),
    ];
    for (case, answer) in answers {
        assert_eq!(answer.status, 503, "{case}: {}", answer.text);
        assert_eq!(answer.text, UNAVAILABLE, "{case}");
        assert_eq!(answer.header("retry-after"), Some("1"), "{case}");
    }
    let invalid = app.post_json("/posts", &json!({})).await;
    assert_eq!(invalid.status, 400, "validation needs no database");
}

async fn the_service_recovers_when_the_database_goes_away_and_comes_back() {
    let app = spawn_app(Backend::Postgres).await;
    app.create_post("Hello", "World").await;
    assert_eq!(app.get("/posts/1").await.status, 200);

    take_database_away(app.pg()).await;
    for path in ["/posts", "/posts/1", "/health", "/health/ready"] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, 503, "GET {path} while the database is away: {}", answer.text);
        assert_eq!(answer.text, UNAVAILABLE, "GET {path}");
    }
    // Alive all the same: restarting the process would not bring the database back.
    let live = app.get("/health/live").await;
    assert_eq!((live.status, live.text.as_str()), (200, r#"{"status":"ok"}"#), "liveness");

    bring_database_back(app.pg()).await;
    let answer = first_answer_after_return(&app, "/posts/1").await;
    assert_eq!(answer.status, 200, "after the database came back: {}", answer.text);
    assert_eq!(answer.text, r#"{"id":1,"title":"Hello","content":"World"}"#);
    assert_eq!(app.create_post("again", "ok").await["id"], json!(2));
}

async fn the_service_starts_before_its_database_and_creates_the_schema_when_it_arrives() {
    let db = strata_test::TestDb::new().await;
    take_database_away(&db).await;
    let app = spawn_lazy_app(db.config().connect_timeout(Duration::from_secs(2))).await;
    assert_eq!(app.get("/posts").await.status, 503, "no database yet");

    bring_database_back(&db).await;
    let answer = first_answer_after_return(&app, "/posts").await;
    assert_eq!((answer.status, answer.text.as_str()), (200, "[]"), "the table was created");
    assert_eq!(app.create_post("first", "post").await["id"], json!(1));
}

async fn a_unique_violation_returns_409(b: Backend) {
    let app = spawn_app(b).await;
    app.sql(r#"CREATE UNIQUE INDEX "post_title_key" ON "post_entity" ("title")"#).await;
    app.create_post("same", "c").await;
    let answer = app.post_json("/posts", &json!({"title": "same", "content": "d"})).await;
    assert_eq!(answer.status, 409, "{}", answer.text);
    let body = answer.json();
    assert_eq!(body["statusCode"], json!(409));
    assert_eq!(body["error"], json!("Conflict"));
    assert!(body["message"].as_str().is_some_and(|m| m.contains("post_title_key")), "{body}");
    let other = app.create_post("other", "c").await;
    let path = format!("/posts/{}", other["id"]);
    let answer = app.patch_json(&path, &json!({"title": "same"})).await;
    assert_eq!(answer.status, 409, "PATCH too: {}", answer.text);
    assert_eq!(app.get(&path).await.json()["title"], json!("other"), "the PATCH changed nothing");
}

async fn an_unexpected_database_error_returns_500_without_any_detail(b: Backend) {
    let app = spawn_app(b).await;
    app.sql(r#"DROP TABLE "post_entity""#).await;
    for answer in [app.get("/posts").await, app.get("/posts/1").await] {
        assert_eq!(answer.status, 500);
        assert_eq!(answer.text, r#"{"statusCode":500,"message":"Internal server error"}"#);
    }
}

async fn a_request_over_the_timeout_returns_408(b: Backend) {
    let app = spawn_app_with(b, |s| s.with_request_timeout(Duration::from_millis(500))).await;
    let lock = app.lock_posts_table().await;
    let read = app.get("/posts").await;
    if app.reads_wait_for_the_lock() {
        assert_eq!(read.status, 408, "a read waits for the lock: {}", read.text);
        assert_eq!(read.text, r#"{"statusCode":408,"message":"Request Timeout"}"#);
    } else {
        assert_eq!((read.status, read.text.as_str()), (200, "[]"), "a read does not wait");
    }
    let write = app.post_json("/posts", &json!({"title": "t", "content": "c"})).await;
    assert_eq!(write.status, 408, "a write waits for the lock: {}", write.text);
    assert_eq!(write.text, r#"{"statusCode":408,"message":"Request Timeout"}"#);
    lock.release().await;
    assert_eq!(app.get("/posts").await.status, 200, "the pool survived the cancelled query");
    let created = app.post_json("/posts", &json!({"title": "after", "content": "c"})).await;
    assert_eq!(created.status, 201, "writes work again: {}", created.text);
    let posts = app.get("/posts").await.json();
    assert_eq!(posts.as_array().map(Vec::len), Some(1), "{posts}");
    assert_eq!(posts[0]["title"], json!("after"), "the request answered with 408 stored nothing");
}

/// PATCHes of a row that another connection holds locked, in five waves of five, each answered
/// 408: every timed-out request's UPDATE is cancelled on the server and its connection goes
/// back to the pool, so the service never holds more backends than its pool has connections,
/// and none is left waiting for the lock.
async fn requests_that_time_out_on_a_locked_row_leave_no_backend_waiting() {
    let timeout = Duration::from_millis(500);
    let app = spawn_app_with(Backend::Postgres, |s| s.with_request_timeout(timeout)).await;
    app.create_post("locked", "row").await;
    let locker = app.pg().client().await;
    locker
        .batch_execute(r#"BEGIN; SELECT * FROM "post_entity" WHERE "id" = 1 FOR UPDATE"#)
        .await
        .expect("the row can be locked");
    let locker_pid: i32 =
        locker.query_one("SELECT pg_backend_pid()", &[]).await.expect("a pid").get(0);

    let db_name = app.pg().name().to_owned();
    let (stop_sampling, mut sampling_stopped) = tokio::sync::oneshot::channel::<()>();
    let sampler = tokio::spawn({
        let db_name = db_name.clone();
        async move {
            let (admin, mut most) = (admin().await, 0);
            while sampling_stopped.try_recv().is_err() {
                most = most.max(backends(&admin, &db_name, locker_pid).await.0);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            most
        }
    });

    for wave in 0..5 {
        let app = &app;
        let patches = (0..5).map(|i| async move {
            app.patch_json("/posts/1", &json!({"title": format!("wave {wave}, request {i}")})).await
        });
        for answer in futures_util::future::join_all(patches).await {
            assert_eq!(answer.status, 408, "the row is locked: {}", answer.text);
        }
    }
    stop_sampling.send(()).expect("the sampler runs");
    let most = sampler.await.expect("the sampler's count");
    // The app's pool, and the connection `TestApp::sql` keeps open.
    // Behind a transaction pooler, the pooler's server connections are the backends: an
    // abandoned connection is closed (no cancel request through the pooler), and the pooler
    // opens another while the server notices the first one's end.
    let pool = match strata_test::pooler_url() {
        None => strata_test::TestDb::POOL_SIZE,
        Some(_) => pooler_pool_size(),
    };
    let allowed = i64::try_from(pool).expect("a small pool") + 1;
    assert!(most <= allowed, "{most} backends while requests timed out; at most {allowed}");

    // The cancellations (behind a pooler: the server's connection checks) land within
    // moments of the 408s.
    let admin = admin().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (all, waiting) = backends(&admin, &db_name, locker_pid).await;
        if waiting == 0 {
            assert!(all <= allowed, "{all} backends after the requests; at most {allowed}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{waiting} backends still wait for the lock 5 s after their requests timed out"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    locker.batch_execute("ROLLBACK").await.expect("the lock is released");
    let answer = app.patch_json("/posts/1", &json!({"title": "after"})).await;
    assert_eq!(answer.status, 200, "the service still answers: {}", answer.text);
    assert_eq!(answer.json()["title"], json!("after"));
}

/// The backends connected to database `name`, but `except`: (all, those waiting for a lock).
async fn backends(admin: &tokio_postgres::Client, name: &str, except: i32) -> (i64, i64) {
    let row = admin
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock') \
             FROM pg_stat_activity WHERE datname = $1 AND pid <> $2",
            &[&name, &except],
        )
        .await
        .expect("pg_stat_activity can be read");
    (row.get(0), row.get(1))
}

async fn graceful_shutdown_lets_in_flight_requests_finish(b: Backend) {
    let base = spawn_app(b).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = posts_api::AppState::new(base.orm.clone());
    let (address, _) = serve_in_background(state, ServerSettings::default(), async {
        let _ = stopped.await;
    })
    .await;
    let lock = base.lock_posts_table().await;

    // A write waits for the lock on both databases.
    let in_flight = tokio::spawn(send(
        client()
            .request(Method::POST, format!("{address}/posts"))
            .json(&json!({"title": "in", "content": "flight"})),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!in_flight.is_finished(), "the request waits for the lock");
    lock.release().await;

    let answer = in_flight.await.unwrap();
    assert_eq!(
        (answer.status, answer.text.as_str()),
        (201, r#"{"id":1,"title":"in","content":"flight"}"#),
        "the in-flight request finished"
    );
    let refused = client().get(format!("{address}/posts")).send().await;
    assert!(refused.is_err(), "the server no longer accepts connections");
    assert_eq!(base.get("/posts/1").await.status, 200, "the in-flight post was stored");
}

conformance!(
    a_unique_violation_returns_409,
    an_unexpected_database_error_returns_500_without_any_detail,
    a_request_over_the_timeout_returns_408,
    graceful_shutdown_lets_in_flight_requests_finish;
    postgres_only:
        an_unreachable_database_returns_503_with_the_nestjs_body =>
            "PostgreSQL only: a server that does not answer on its port. A SQLite database is a \
             file opened at start-up, so an unreachable SQLite database stops start-up instead \
             (the binary tests cover start-up).",
        the_service_recovers_when_the_database_goes_away_and_comes_back =>
            "PostgreSQL only: the server refuses connections (`ALLOW_CONNECTIONS false`) and \
             accepts them again; an open SQLite file cannot go away and come back.",
        the_service_starts_before_its_database_and_creates_the_schema_when_it_arrives =>
            "PostgreSQL only: the service starts with a lazy pool before its server accepts \
             connections; SQLite creates its file at start-up, so its database is always there.",
        requests_that_time_out_on_a_locked_row_leave_no_backend_waiting =>
            "PostgreSQL only: server backends and `pg_stat_activity`. A SQLite statement runs in \
             this process, and one waiting for a lock gives up after its busy timeout.",
);

/// The answer to GET `path` once the database is back. Directly, the first request finds it.
/// Behind a pooler, the pooler tries the server again only after its `server_login_retry`
/// (1 s in the tests' configuration) and answers the failed login until then, which the
/// service reports as 503: the request is repeated for up to 5 s.
async fn first_answer_after_return(app: &TestApp, path: &str) -> Answer {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let answer = app.get(path).await;
        if strata_test::pooler_url().is_none()
            || answer.status != 503
            || std::time::Instant::now() > deadline
        {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The pooler's server connections per database (`STRATA_TEST_POOLER_POOL_SIZE`, set by
/// scripts/test).
fn pooler_pool_size() -> usize {
    std::env::var("STRATA_TEST_POOLER_POOL_SIZE").ok().and_then(|n| n.parse().ok()).unwrap_or(8)
}
