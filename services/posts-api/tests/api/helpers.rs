//! `spawn_app()` and the typed helpers the tests share.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use posts_api::AppState;
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use strata::postgres::PgDriver;
use strata::{Strata, StrataConfig};
use strata_test::TestDb;
use tokio::net::TcpListener;

/// A running server and what the tests need to drive and inspect it.
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) client: reqwest::Client,
    /// The same ORM the server uses: its query log shows the statements a request sent.
    pub(crate) orm: Strata,
    /// Dropped (with its database) when the test ends. `None` for an unreachable database.
    pub(crate) db: Option<TestDb>,
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

/// A server over a fresh database with the posts table.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|state| state).await
}

/// Like [`spawn_app`], with the state adjusted (a shorter timeout, …).
pub(crate) async fn spawn_app_with(adjust: impl FnOnce(AppState) -> AppState) -> TestApp {
    let db = TestDb::new().await;
    let orm = Strata::connect(db.config()).await.expect("the test database accepts connections");
    let state = adjust(AppState::new(orm.clone()));
    state.ensure_schema().await.expect("the posts table is created");
    let address = serve_in_background(state, std::future::pending()).await;
    TestApp { address, client: client(), orm, db: Some(db) }
}

/// A server whose ORM uses a lazy pool for `config`: nothing is checked at start-up.
pub(crate) async fn spawn_lazy_app(config: StrataConfig) -> TestApp {
    let driver = PgDriver::lazy(&config).expect("a valid URL");
    let orm = Strata::with_driver(Arc::new(driver), config);
    let address = serve_in_background(AppState::new(orm.clone()), std::future::pending()).await;
    TestApp { address, client: client(), orm, db: None }
}

/// Serves the app on a free port until `shutdown` completes; returns `http://127.0.0.1:port`.
pub(crate) async fn serve_in_background(
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = format!("http://{}", listener.local_addr().expect("a bound address"));
    tokio::spawn(posts_api::serve(listener, posts_api::app(state), shutdown));
    address
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
    pub(crate) fn db(&self) -> &TestDb {
        self.db.as_ref().expect("this app has a test database")
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

    /// Runs SQL on the test database directly.
    pub(crate) async fn sql(&self, sql: &str) {
        self.db().client().await.batch_execute(sql).await.expect("test SQL runs");
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

/// The `{"statusCode":…,"message":[…],"error":"Bad Request"}` body of validation errors.
pub(crate) fn validation_body(messages: &[&str]) -> String {
    let messages = serde_json::to_string(messages).expect("strings serialize");
    format!(r#"{{"statusCode":400,"message":{messages},"error":"Bad Request"}}"#)
}
