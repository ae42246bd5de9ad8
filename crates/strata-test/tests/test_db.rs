//! `TestDb` against a real PostgreSQL: isolation, cleanup on drop, the connection cap.

use strata_test::{TestDb, base_url};
use tokio_postgres::{Client, NoTls};

async fn maintenance() -> Client {
    let (client, connection) =
        tokio_postgres::connect(&base_url(), NoTls).await.expect("connect to the maintenance db");
    tokio::spawn(connection);
    client
}

async fn database_exists(client: &Client, name: &str) -> bool {
    client
        .query_one("SELECT count(*) FROM pg_database WHERE datname = $1", &[&name])
        .await
        .expect("query pg_database")
        .get::<_, i64>(0)
        == 1
}

#[tokio::test]
async fn two_test_databases_are_distinct_and_both_usable() {
    let (a, b) = tokio::join!(TestDb::new(), TestDb::new());
    assert_ne!(a.name(), b.name());
    assert_ne!(a.url(), b.url());

    for (db, rows) in [(&a, 1_i64), (&b, 2)] {
        let client = db.client().await;
        client.batch_execute("CREATE TABLE post (id serial PRIMARY KEY)").await.expect("create");
        for _ in 0..rows {
            client.execute("INSERT INTO post DEFAULT VALUES", &[]).await.expect("insert");
        }
    }
    for (db, rows) in [(&a, 1_i64), (&b, 2)] {
        let client = db.client().await;
        let row = client
            .query_one("SELECT current_database(), (SELECT count(*) FROM post)", &[])
            .await
            .expect("select");
        assert_eq!(row.get::<_, String>(0), db.name());
        assert_eq!(row.get::<_, i64>(1), rows, "rows in {}", db.name());
    }
}

#[tokio::test]
async fn the_database_is_gone_after_drop_even_with_open_connections() {
    let db = TestDb::new().await;
    let name = db.name().to_owned();
    let open = db.client().await;
    let maintenance = maintenance().await;
    assert!(database_exists(&maintenance, &name).await);

    drop(db);

    assert!(!database_exists(&maintenance, &name).await, "{name} still exists");
    let registered: i64 = maintenance
        .query_one("SELECT count(*) FROM strata_test.databases WHERE name = $1", &[&name])
        .await
        .expect("query the registry")
        .get(0);
    assert_eq!(registered, 0, "{name} is still registered");
    assert!(open.simple_query("SELECT 1").await.is_err(), "the open connection was not closed");
}

#[tokio::test]
async fn config_points_at_the_test_database_with_the_connection_cap() {
    let db = TestDb::new().await;
    let config = db.config();
    assert_eq!(config.connection_url(), db.url());
    assert_eq!(config.pool_size, TestDb::POOL_SIZE);

    let limit: i32 = maintenance()
        .await
        .query_one("SELECT datconnlimit FROM pg_database WHERE datname = $1", &[&db.name()])
        .await
        .expect("query pg_database")
        .get(0);
    assert_eq!(limit, i32::try_from(TestDb::POOL_SIZE + 2).expect("small"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_test_databases_can_be_created_at_once() {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            tokio::spawn(async {
                let db = TestDb::new().await;
                let client = db.client().await;
                client.batch_execute("CREATE TABLE t (id int)").await.expect("create table");
                db.name().to_owned()
            })
        })
        .collect();
    let mut names = Vec::new();
    for task in tasks {
        names.push(task.await.expect("task"));
    }
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8);
}
