//! The service itself: zero-setup SQLite across a restart, and PostgreSQL from `DATABASE_URL`.

use crate::common::*;

/// Registers, logs in and creates a category; returns the cookie.
async fn blog(service: &Service) -> String {
    let register = json!({"email": "a@example.com", "name": "A", "password": "pw",
                          "address": {"street": "s", "city": "c", "country": "x"}});
    let (status, body, _) = call(service, "/authentication/register", Some(&register), None).await;
    assert_eq!(status, 201, "{body}");
    assert!(!body.contains("pw") && !body.contains("password"), "{body}");
    let log_in = json!({"email": "a@example.com", "password": "pw"});
    let (status, _, cookie) = call(service, "/authentication/log-in", Some(&log_in), None).await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("a cookie");
    let (status, body, _) =
        call(service, "/categories", Some(&json!({"name": "Tech"})), Some(&cookie)).await;
    assert_eq!((status, body.as_str()), (201, r#"{"name":"Tech","id":1}"#));
    cookie
}

#[tokio::test]
async fn with_only_the_jwt_variables_the_data_goes_to_data_blog_sqlite_across_a_restart() {
    let dir = WorkDir::new("zero-setup");
    let first = Service::start(dir.path(), &JWT);
    assert!(dir.path().join("data/blog.sqlite").is_file(), "created at start-up");
    let cookie = blog(&first).await;
    let (status, log) = first.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(log.contains("using SQLite") && log.contains("create_blog_tables"), "{log}");
    assert!(
        !log.contains("binary-test-secret") && !log.contains("$2b$"),
        "no secret in the log:\n{log}"
    );
    let second = Service::start(dir.path(), &JWT);
    let (status, body, _) = call(&second, "/authentication", None, Some(&cookie)).await;
    assert_eq!(status, 200, "the token outlives the restart: {body}");
    assert_eq!(call(&second, "/categories", None, None).await.1, r#"[{"id":1,"name":"Tech"}]"#);
    let (status, log) = second.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(!log.contains("migration applied"), "nothing left to migrate:\n{log}");
}

#[tokio::test]
async fn with_database_url_the_service_migrates_postgres_and_serves() {
    let db = strata_test::TestDb::new().await;
    let dir = WorkDir::new("postgres");
    let mut vars = vec![("DATABASE_URL", db.url())];
    vars.extend(JWT);
    let service = Service::start(dir.path(), &vars);
    blog(&service).await;
    let (status, body, _) = call(&service, "/health", None, None).await;
    assert_eq!((status, body.as_str()), (200, r#"{"status":"ok","database":"up"}"#));
    let (status, log) = service.stop();
    assert!(status.success(), "{status}:\n{log}");
    assert!(log.contains("using PostgreSQL"), "{log}");
    assert!(!dir.path().join("data").exists(), "no SQLite file when PostgreSQL is configured");
}
