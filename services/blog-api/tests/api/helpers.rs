//! `spawn_app(backend)` and the typed helpers the tests share: a real server on port 0 over a
//! database of its own (PostgreSQL or a SQLite file), a client, and the query log of the
//! server's ORM. Each module runs its tests once per database with strata-test's
//! `conformance!`.

use std::time::Duration;

use blog_api::config::JwtSettings;
use blog_api::{AppState, ServerSettings};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use strata::driver::StatementKind;
use strata::query_log::LoggedStatement;
use strata::{Connect, Strata};
use strata_test::AnyTestDb;
pub(crate) use strata_test::{Backend, conformance};
use tokio::net::TcpListener;

/// The secret the test servers sign tokens with.
pub(crate) const SECRET: &str = "test-secret-of-the-blog-api";

/// The token lifetime of the test servers, in seconds.
pub(crate) const EXPIRATION: u64 = 3600;

/// A running server and what the tests need to drive and inspect it.
pub(crate) struct TestApp {
    pub(crate) address: String,
    pub(crate) client: reqwest::Client,
    /// The same ORM the server uses: its query log shows the statements a request sent.
    pub(crate) orm: Strata,
    /// Dropped (with its database) when the test ends.
    _db: AnyTestDb,
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

    /// The token of the answer's `Set-Cookie: Authentication=…`.
    pub(crate) fn token(&self) -> String {
        let cookie = self.header("set-cookie").expect("a Set-Cookie header");
        let value = cookie.strip_prefix("Authentication=").expect("the Authentication cookie");
        value.split(';').next().unwrap_or_default().to_owned()
    }
}

/// A server over a fresh database of `backend`, migrated by the service's own migrations.
pub(crate) async fn spawn_app(backend: Backend) -> TestApp {
    let db = AnyTestDb::new(backend).await;
    let orm = Strata::connect(db.config()).await.expect("the test database accepts connections");
    assert_eq!(orm.db_kind(), backend, "the app runs on the database asked for");
    let jwt = JwtSettings { secret: SECRET.into(), expiration_secs: EXPIRATION };
    let state = AppState::new(orm.clone(), &jwt).expect("a usable secret");
    state.ensure_schema().await.expect("the tables are created");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let address = format!("http://{}", listener.local_addr().expect("a bound address"));
    let app = blog_api::app(state);
    tokio::spawn(blog_api::serve(listener, app, ServerSettings::default(), std::future::pending()));
    TestApp { address, client: client(), orm, _db: db }
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("an HTTP client")
}

pub(crate) async fn send(request: RequestBuilder) -> Answer {
    let response = request.send().await.expect("the server answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("a readable body");
    Answer { status, headers, text }
}

impl TestApp {
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.address))
    }

    /// A request with the `Authentication` cookie `token`.
    pub(crate) fn authed(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.request(method, path).header("cookie", format!("Authentication={token}"))
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        send(self.request(Method::GET, path)).await
    }

    pub(crate) async fn get_as(&self, path: &str, token: &str) -> Answer {
        send(self.authed(Method::GET, path, token)).await
    }

    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> Answer {
        send(self.request(Method::POST, path).json(body)).await
    }

    pub(crate) async fn post_as(&self, path: &str, token: &str, body: &Value) -> Answer {
        send(self.authed(Method::POST, path, token).json(body)).await
    }

    pub(crate) async fn patch_json(&self, path: &str, body: &Value) -> Answer {
        send(self.request(Method::PATCH, path).json(body)).await
    }

    pub(crate) async fn patch_as(&self, path: &str, token: &str, body: &Value) -> Answer {
        send(self.authed(Method::PATCH, path, token).json(body)).await
    }

    pub(crate) async fn delete(&self, path: &str) -> Answer {
        send(self.request(Method::DELETE, path)).await
    }

    pub(crate) async fn delete_as(&self, path: &str, token: &str) -> Answer {
        send(self.authed(Method::DELETE, path, token)).await
    }

    /// Registers a user (with `address` unless it is `Value::Null`) and returns the answer.
    pub(crate) async fn register(&self, email: &str, address: Value) -> Value {
        let mut body = json!({"email": email, "name": "Name", "password": "password-1"});
        if !address.is_null() {
            body["address"] = address;
        }
        let answer = self.post_json("/authentication/register", &body).await;
        assert_eq!(answer.status, 201, "registering {email}: {}", answer.text);
        answer.json()
    }

    /// Logs `email` (registered with [`TestApp::register`]) in and returns the token.
    pub(crate) async fn log_in(&self, email: &str) -> String {
        let body = json!({"email": email, "password": "password-1"});
        let answer = self.post_json("/authentication/log-in", &body).await;
        assert_eq!(answer.status, 200, "logging {email} in: {}", answer.text);
        answer.token()
    }

    /// Registers `email` without an address and logs in: the token.
    pub(crate) async fn user(&self, email: &str) -> String {
        self.register(email, Value::Null).await;
        self.log_in(email).await
    }

    /// Creates a category as the user of `token`; its id.
    pub(crate) async fn category(&self, token: &str, name: &str) -> i64 {
        let answer = self.post_as("/categories", token, &json!({"name": name})).await;
        assert_eq!(answer.status, 201, "creating category {name}: {}", answer.text);
        answer.json()["id"].as_i64().expect("an id")
    }

    /// Creates a post as the user of `token`; its id.
    pub(crate) async fn post(&self, token: &str, title: &str, categories: &[i64]) -> i64 {
        let body = json!({"title": title, "content": "content", "categories": categories});
        let answer = self.post_as("/posts", token, &body).await;
        assert_eq!(answer.status, 201, "creating post {title}: {}", answer.text);
        answer.json()["id"].as_i64().expect("an id")
    }

    /// Runs `request` while capturing, returning the answer and the statements it sent.
    pub(crate) async fn capture(
        &self,
        request: impl Future<Output = Answer>,
    ) -> (Answer, Vec<LoggedStatement>) {
        let log = self.orm.query_log();
        log.start_capture();
        let answer = request.await;
        let statements = log.take();
        log.stop_capture();
        (answer, statements)
    }
}

/// The kinds of `statements`, BEGIN and COMMIT included (as `Transaction`).
pub(crate) fn kinds(statements: &[LoggedStatement]) -> Vec<StatementKind> {
    statements.iter().map(|s| s.kind).collect()
}

/// The statements' SQL, for failure messages.
pub(crate) fn sql_of(statements: &[LoggedStatement]) -> Vec<&str> {
    statements.iter().map(|s| s.sql.as_str()).collect()
}

/// The `{"statusCode":400,"message":[…],"error":"Bad Request"}` body of validation errors.
pub(crate) fn validation_body(messages: &[&str]) -> Value {
    json!({"statusCode": 400, "message": messages, "error": "Bad Request"})
}

/// `{"statusCode":401,"message":"Unauthorized"}`.
pub(crate) fn unauthorized() -> Value {
    json!({"statusCode": 401, "message": "Unauthorized"})
}
