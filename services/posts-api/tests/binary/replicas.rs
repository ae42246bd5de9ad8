//! Several processes of the service, as behind a load balancer: started at once on an empty
//! database (directly and through PgBouncer), and stopped with a request in flight.

use crate::common::*;

/// The URL of `db` through the PgBouncer of scripts/test, with the statement cache off; `None`
/// when no PgBouncer runs (outside scripts/test).
fn through_pgbouncer(db: &TestDb) -> Option<String> {
    let Ok(bouncer) = std::env::var("STRATA_TEST_PGBOUNCER_URL") else {
        assert!(std::env::var_os("CI").is_none(), "CI runs scripts/test, which starts PgBouncer");
        eprintln!("skipped the PgBouncer case: STRATA_TEST_PGBOUNCER_URL is not set");
        return None;
    };
    let server = bouncer.rsplit_once('/').expect("a database path").0;
    Some(format!("{server}/{}?statement_cache=off", db.name()))
}

/// Starts three processes at the same moment on `url`'s empty database and checks that the
/// migration was applied once, by one of them, and that all serve.
async fn three_start_at_once(db: &TestDb, url: &str) {
    let dirs: Vec<WorkDir> = (0..3).map(|i| WorkDir::new(&format!("replica-{i}"))).collect();
    let mut services: Vec<Service> =
        dirs.iter().map(|d| Service::spawn(d.path(), &[("DATABASE_URL", url)])).collect();
    for service in &mut services {
        service.wait_until_ready().unwrap_or_else(|log| panic!("a replica exited:\n{log}"));
    }
    for (i, service) in services.iter().enumerate() {
        let ready = get(service, "/health/ready").await;
        assert_eq!(ready, (200, r#"{"status":"ok","database":"up"}"#.into()), "replica {i}");
        let body = json!({"title": format!("from {i}"), "content": "x"});
        assert_eq!(post(service, "/posts", &body).await.0, 201, "replica {i} writes");
    }
    let client = db.client().await;
    let recorded: i64 = client
        .query_one(r#"SELECT count(*) FROM "strata_migrations""#, &[])
        .await
        .expect("the tracking table exists")
        .get(0);
    assert_eq!(recorded, 1, "the one migration is recorded once");
    let posts: i64 =
        client.query_one("SELECT count(*) FROM post_entity", &[]).await.unwrap().get(0);
    assert_eq!(posts, 3);
    let logs: Vec<String> = services.into_iter().map(|s| s.stop().1).collect();
    // Only the process that applies a migration names it in its log ("migration applied").
    let applied = logs.iter().filter(|log| log.contains(MIGRATION)).count();
    assert_eq!(applied, 1, "one process applied the migration:\n{logs:#?}");
}

#[tokio::test]
async fn three_processes_started_at_once_on_an_empty_database_migrate_once_and_all_serve() {
    let db = TestDb::new().await;
    three_start_at_once(&db, db.direct_url()).await;
}

#[tokio::test]
async fn three_processes_started_at_once_behind_pgbouncer_migrate_once_and_all_serve() {
    let db = TestDb::new().await;
    let Some(url) = through_pgbouncer(&db) else { return };
    three_start_at_once(&db, &url).await;
}

#[tokio::test]
async fn a_request_in_flight_when_sigterm_arrives_is_answered_before_the_process_exits() {
    let db = TestDb::new().await;
    let dir = WorkDir::new("sigterm");
    let service = Service::start(dir.path(), &[("DATABASE_URL", db.direct_url())]);
    assert_eq!(post(&service, "/posts", &json!({"title": "a", "content": "b"})).await.0, 201);

    // A PATCH that waits for a row lock held here: in flight until the lock is released.
    let locker = db.client().await;
    locker.batch_execute("BEGIN; SELECT * FROM post_entity WHERE id = 1 FOR UPDATE").await.unwrap();
    let url = service.url("/posts/1");
    let patch = tokio::spawn(async move {
        call(reqwest::Method::PATCH, &url, Some(&json!({"title": "during shutdown"}))).await
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let waiting: i64 = locker
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
                 AND wait_event_type = 'Lock'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting == 1 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the PATCH never waited for the lock");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    service.terminate();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    locker.batch_execute("ROLLBACK").await.unwrap();
    let (status, body) = patch.await.expect("the request task");
    assert_eq!(
        (status, body.as_str()),
        (200, r#"{"id":1,"title":"during shutdown","content":"b"}"#),
        "the request in flight is answered"
    );
    let (exit, log) = service.wait();
    assert!(exit.success(), "a clean exit ({exit}):\n{log}");
    assert!(log.contains("SIGTERM received"), "{log}");
}
