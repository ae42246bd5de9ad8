//! `spawn_app(backend)` and the typed helpers the tests share. Each module runs its tests once
//! per database with strata-test's `conformance!`.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use posts_api::{AppState, ServerSettings};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use strata::driver::Connection;
use strata::postgres::PgDriver;
use strata::{Connect, Strata, StrataConfig};
use strata_test::{AnyTestDb, TestDb};
pub(crate) use strata_test::{Backend, caps, conformance};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A running server and what the tests need to drive and inspect it.
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) client: reqwest::Client,
    /// The same ORM the server uses: its query log shows the statements a request sent.
    pub(crate) orm: Strata,
    /// A second ORM on the same database for [`TestApp::sql`], so that test SQL never shows in
    /// the server's query log. Declared before `db`: its connections close before the
    /// database is dropped.
    raw: Option<Strata>,
    /// Dropped (with its database) when the test ends. `None` for an unreachable database.
    db: Option<AnyTestDb>,
}

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("the body is not JSON ({e}): {:?}", self.text))
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `message` of a NestJS error body.
    pub(crate) fn message(&self) -> Value {
        self.json()["message"].clone()
    }
}

/// A server over a fresh database of `backend` with the posts table (applied by the service's
/// own migrations, as at start-up).
pub(crate) async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |state| state).await
}

/// Like [`spawn_app`], with the state adjusted (a shorter timeout, …).
pub(crate) async fn spawn_app_with(
    backend: Backend,
    adjust: impl FnOnce(AppState) -> AppState,
) -> TestApp {
    spawn_app_serving(backend, adjust, ServerSettings::default()).await
}

/// Like [`spawn_app_with`], with the server's own timeouts set.
pub(crate) async fn spawn_app_serving(
    backend: Backend,
    adjust: impl FnOnce(AppState) -> AppState,
    settings: ServerSettings,
) -> TestApp {
    let db = AnyTestDb::new(backend).await;
    // SQLite: `sqlite://<temp>/strata-test-sqlite/<file>.sqlite`, as `Strata::connect` opens
    // the service's default file.
    let orm = Strata::connect(db.config()).await.expect("the test database accepts connections");
    assert_eq!(orm.db_kind(), backend, "the app runs on the database asked for");
    let raw = Strata::connect(db.config().pool_size(1))
        .await
        .expect("the test database accepts a second connection");
    let state = adjust(AppState::new(orm.clone()));
    state.ensure_schema().await.expect("the posts table is created");
    let (address, _) = serve_in_background(state, settings, std::future::pending()).await;
    TestApp { address, client: client(), orm, raw: Some(raw), db: Some(db) }
}

/// A PostgreSQL server whose ORM uses a lazy pool for `config`: nothing is checked at start-up.
pub(crate) async fn spawn_lazy_app(config: StrataConfig) -> TestApp {
    let driver = PgDriver::lazy(&config).expect("a valid URL");
    let orm = Strata::with_driver(Arc::new(driver), config);
    let settings = ServerSettings::default();
    let (address, _) =
        serve_in_background(AppState::new(orm.clone()), settings, std::future::pending()).await;
    TestApp { address, client: client(), orm, raw: None, db: None }
}

/// Serves the app on a free port until `shutdown` completes; returns `http://127.0.0.1:port`
/// and the server's task, which ends when the server has shut down.
pub(crate) async fn serve_in_background(
    state: AppState,
    settings: ServerSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> (String, JoinHandle<std::io::Result<()>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = format!("http://{}", listener.local_addr().expect("a bound address"));
    let app = posts_api::app(state);
    (address, tokio::spawn(posts_api::serve(listener, app, settings, shutdown)))
}

/// The socket address of an `http://host:port` address, for raw connections.
pub(crate) fn socket_addr(address: &str) -> SocketAddr {
    let authority = address.trim_start_matches("http://");
    authority.parse().unwrap_or_else(|e| panic!("{address} is not http://ip:port: {e}"))
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(30)).build().expect("an HTTP client")
}

pub(crate) async fn send(request: RequestBuilder) -> Answer {
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    Answer { status, headers, text }
}

impl TestApp {
    /// The PostgreSQL test database, for the tests that only PostgreSQL can run.
    pub(crate) fn pg(&self) -> &TestDb {
        match &self.db {
            Some(AnyTestDb::Postgres(db)) => db,
            _ => panic!("this test needs an app on a PostgreSQL test database"),
        }
    }

    /// The server's socket address, for raw connections.
    pub(crate) fn socket_addr(&self) -> SocketAddr {
        socket_addr(&self.address)
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.address))
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        send(self.request(Method::GET, path)).await
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Answer {
        send(self.request(Method::POST, path).json(body)).await
    }

    pub(crate) async fn patch_json(&self, path: &str, body: &Value) -> Answer {
        send(self.request(Method::PATCH, path).json(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> Answer {
        send(self.request(Method::DELETE, path)).await
    }

    /// Creates a post through the API and returns it.
    pub(crate) async fn create_post(&self, title: &str, content: &str) -> Value {
        let answer = self.post_json("/posts", &json!({"title": title, "content": content})).await;
        assert_eq!(answer.status, 201, "creating a post: {}", answer.text);
        answer.json()
    }

    /// Runs SQL on the test database directly, outside the server's ORM.
    pub(crate) async fn sql(&self, sql: &str) {
        let raw = self.raw.as_ref().expect("this app has a test database");
        raw.execute(sql).await.unwrap_or_else(|e| panic!("test SQL fails: {sql}: {e}"));
    }

    /// Makes writes to the posts table wait until [`TableLock::release`], as another client
    /// holding a lock does. On PostgreSQL, an `ACCESS EXCLUSIVE` lock taken by another
    /// connection makes reads wait too; on SQLite, a write transaction of another connection
    /// makes only writes wait (in WAL mode readers never wait for a writer).
    pub(crate) async fn lock_posts_table(&self) -> TableLock {
        self.lock_posts(true).await
    }

    /// Makes writes to the posts table wait until the lock is released, while reads go on (on
    /// both databases): requests that read a post and then write it all read it first.
    pub(crate) async fn lock_posts_for_writes(&self) -> TableLock {
        self.lock_posts(false).await
    }

    async fn lock_posts(&self, reads_too: bool) -> TableLock {
        match &self.db {
            Some(AnyTestDb::Postgres(db)) => {
                let client = db.client().await;
                let mode = if reads_too { "ACCESS EXCLUSIVE" } else { "EXCLUSIVE" };
                client
                    .batch_execute(&format!(r#"BEGIN; LOCK TABLE "post_entity" IN {mode} MODE"#))
                    .await
                    .expect("the posts table can be locked");
                TableLock::Postgres(client)
            }
            Some(AnyTestDb::Sqlite(db)) => {
                let other = Strata::connect(db.config().pool_size(1))
                    .await
                    .expect("the test database accepts another connection");
                let mut conn = other.driver().acquire().await.expect("a connection");
                conn.begin().await.expect("a transaction");
                // The first statement of a transaction takes SQLite's write lock.
                conn.batch_execute(r#"UPDATE "post_entity" SET "title" = "title" WHERE 0"#)
                    .await
                    .expect("the write lock is taken");
                TableLock::Sqlite(other, conn)
            }
            None => panic!("this app has no test database"),
        }
    }

    /// Whether a GET waits while [`TestApp::lock_posts_table`] holds its lock.
    pub(crate) fn reads_wait_for_the_lock(&self) -> bool {
        self.db.as_ref().is_some_and(|db| caps(db.backend()).reads_wait_for_table_locks)
    }
}

/// A lock held by another connection; see [`TestApp::lock_posts_table`].
pub(crate) enum TableLock {
    Postgres(tokio_postgres::Client),
    Sqlite(Strata, Box<dyn Connection>),
}

impl TableLock {
    /// Runs `sql` in the locking transaction, then commits it.
    pub(crate) async fn commit_after(self, sql: &str) {
        match self {
            TableLock::Postgres(client) => {
                client.batch_execute(sql).await.expect("the SQL runs under the lock");
                client.batch_execute("COMMIT").await.expect("the lock is released");
            }
            TableLock::Sqlite(_orm, mut conn) => {
                conn.batch_execute(sql).await.expect("the SQL runs under the lock");
                conn.commit().await.expect("the lock is released");
            }
        }
    }

    /// Rolls the locking transaction back.
    pub(crate) async fn release(self) {
        match self {
            TableLock::Postgres(client) => {
                client.batch_execute("ROLLBACK").await.expect("the lock is released");
            }
            TableLock::Sqlite(_orm, mut conn) => {
                conn.rollback().await.expect("the lock is released");
            }
        }
    }
}

/// A connection to the maintenance database, for commands on the test database itself.
pub(crate) async fn admin() -> tokio_postgres::Client {
    let (client, connection) =
        tokio_postgres::connect(&strata_test::base_url(), tokio_postgres::NoTls)
            .await
            .expect("the maintenance database accepts connections");
    tokio::spawn(connection);
    client
}

/// Makes `db` refuse new connections and closes the open ones: the database "goes away".
pub(crate) async fn take_database_away(db: &TestDb) {
    let admin = admin().await;
    admin
        .batch_execute(&format!("ALTER DATABASE \"{}\" ALLOW_CONNECTIONS false", db.name()))
        .await
        .expect("connections can be disallowed");
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db.name()],
        )
        .await
        .expect("connections can be terminated");
}

/// Lets `db` accept connections again.
pub(crate) async fn bring_database_back(db: &TestDb) {
    admin()
        .await
        .batch_execute(&format!("ALTER DATABASE \"{}\" ALLOW_CONNECTIONS true", db.name()))
        .await
        .expect("connections can be allowed");
}

/// The `{"statusCode":400,"message":[…],"error":"Bad Request"}` body of validation errors.
pub(crate) fn validation_body(messages: &[&str]) -> String {
    let messages = serde_json::to_string(messages).expect("strings serialize");
    format!(r#"{{"statusCode":400,"message":{messages},"error":"Bad Request"}}"#)
}
