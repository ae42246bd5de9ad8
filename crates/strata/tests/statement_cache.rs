//! The statement cache and transaction-pooling proxies (PostgreSQL only).
//!
//! With the cache off nothing stays in the server session; with it on behind PgBouncer in
//! transaction mode, the first collision of prepared-statement names turns it off for the
//! driver, and the statement that met it is sent again, unnamed. The PgBouncer test needs
//! `STRATA_TEST_PGBOUNCER_URL`, which scripts/test sets after starting one.

use strata::driver::{Statement, StatementKind};
use strata::prelude::*;
use strata::{ColumnType, StrataConfig};
use strata_test::TestDb;

#[derive(Entity, Debug, Clone, PartialEq)]
struct PostEntity {
    #[strata(primary_key)]
    id: i32,
    title: String,
    content: String,
}

fn post(title: &str) -> PostEntity {
    PostEntity { id: 0, title: title.into(), content: "x".into() }
}

const TABLE: &str = r#"CREATE TABLE "post_entity" ("id" serial PRIMARY KEY,
    "title" varchar(255) NOT NULL, "content" varchar(255) NOT NULL)"#;

/// The prepared statements of the session of `orm`'s one pooled connection.
async fn prepared_in_session(orm: &Strata) -> i64 {
    let mut conn = orm.driver().acquire().await.expect("a connection");
    let out = conn
        .run(&Statement {
            sql: "SELECT count(*) FROM pg_prepared_statements".into(),
            params: Vec::new(),
            returns: vec![ColumnType::I64],
            kind: StatementKind::Select,
        })
        .await
        .expect("the catalog answers");
    out.rows[0][0].as_i64().expect("a count")
}

/// Inserts two posts, updates one and removes the other through `orm`, reading in between,
/// in and out of transactions; `before` posts exist already.
async fn work(orm: &Strata, before: usize) {
    let em = orm.em();
    let a = em.create(post("a"));
    let b = em.create(post("b"));
    em.flush().await.expect("inserts");
    a.write().title = "changed".into();
    em.flush().await.expect("updates");
    let em = orm.em();
    let found = em.find_one::<PostEntity>(a.get().id).await.expect("reads").expect("found");
    assert_eq!(found.get().title, "changed");
    let all = em.find_all::<PostEntity>(FindOptions::default()).await.expect("reads all");
    assert_eq!(all.len(), before + 2);
    let b_id = b.get().id;
    orm.em()
        .transactional(|tx| async move {
            let b = tx.find_one::<PostEntity>(b_id).await?.expect("b exists");
            tx.remove(&b)?;
            tx.flush().await
        })
        .await
        .expect("a transaction");
}

#[tokio::test]
async fn with_the_cache_off_nothing_stays_prepared_in_the_session() {
    let db = TestDb::new().await;
    db.client().await.batch_execute(TABLE).await.expect("DDL applies");
    let direct = StrataConfig::from_url(db.direct_url()).pool_size(1);

    let uncached = Strata::connect(direct.clone().statement_cache(false)).await.expect("connects");
    work(&uncached, 0).await;
    assert_eq!(prepared_in_session(&uncached).await, 0, "unnamed statements only");
    drop(uncached);

    db.client().await.batch_execute("TRUNCATE post_entity RESTART IDENTITY").await.unwrap();
    let cached = Strata::connect(direct).await.expect("connects");
    work(&cached, 0).await;
    assert!(prepared_in_session(&cached).await > 0, "the default prepares and keeps statements");
}

#[tokio::test]
async fn the_url_parameter_turns_the_cache_off_and_is_not_sent_to_the_server() {
    let db = TestDb::new().await;
    db.client().await.batch_execute(TABLE).await.expect("DDL applies");
    let url = format!("{}?application_name=cacheless&statement_cache=off", db.direct_url());
    let orm = Strata::connect(StrataConfig::from_url(url).pool_size(1)).await.expect("connects");
    assert!(!orm.config().uses_statement_cache());
    work(&orm, 0).await;
    assert_eq!(prepared_in_session(&orm).await, 0);
}

#[tokio::test]
async fn behind_pgbouncer_a_name_collision_turns_the_cache_off_and_the_read_still_answers() {
    let Some(bouncer) = std::env::var("STRATA_TEST_PGBOUNCER_URL").ok() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs scripts/test, which starts PgBouncer and sets STRATA_TEST_PGBOUNCER_URL"
        );
        eprintln!("skipped: STRATA_TEST_PGBOUNCER_URL is not set (scripts/test sets it)");
        return;
    };
    let db = TestDb::new().await;
    let direct = db.client().await;
    direct.batch_execute(TABLE).await.expect("DDL applies");
    direct
        .batch_execute("INSERT INTO post_entity (title, content) VALUES ('kept', 'x')")
        .await
        .expect("a row");
    let url = format!("{}/{}", bouncer.rsplit_once('/').expect("a database path").0, db.name());

    // What another process left on the pooler's one server connection: the names this
    // process's next statements will take (tokio-postgres numbers them per process).
    let _probe = direct.prepare("SELECT 1").await.expect("prepares");
    let names = direct.query("SELECT name FROM pg_prepared_statements", &[]).await.unwrap();
    let next = names
        .iter()
        .filter_map(|r| r.get::<_, String>(0).trim_start_matches('s').parse::<usize>().ok())
        .max()
        .expect("the probe's name, like s12");
    let (other, connection) =
        tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("PgBouncer answers");
    tokio::spawn(connection);
    let planted = 2000;
    let prepares: String =
        (next + 1..=next + planted).map(|n| format!("PREPARE s{n} AS SELECT {n};")).collect();
    other.batch_execute(&prepares).await.expect("statements prepared through the pooler");

    let orm = Strata::connect(StrataConfig::from_url(url).pool_size(1)).await.expect("connects");
    assert!(orm.config().uses_statement_cache(), "configured with the cache on");
    let em = orm.em();
    let found = em.find_one::<PostEntity>(1).await.expect("answered despite the collision");
    assert_eq!(found.expect("the row").get().title, "kept");
    // From now on nothing is prepared: the server session holds only what was planted.
    work(&orm, 1).await;
    assert_eq!(prepared_in_session(&orm).await, i64::try_from(planted).unwrap());
    let rows = direct.query_one("SELECT count(*) FROM post_entity", &[]).await.unwrap();
    assert_eq!(rows.get::<_, i64>(0), 2, "kept, a (b was removed)");
}
