//! The hand-written peer of the posts API: what a careful engineer writes without an ORM.
//! axum, tokio-postgres through a deadpool pool, one prepared statement per query (cached per
//! connection), serde for the bodies, and the article's JSON and status codes:
//!
//! | route | statement | success |
//! | --- | --- | --- |
//! | `GET /posts` | `SELECT … ORDER BY id` | 200, every post |
//! | `GET /posts/:id` | `SELECT … WHERE id = $1` | 200, the post; 404 |
//! | `POST /posts` | `INSERT … RETURNING id` | 201, the created post |
//! | `PATCH /posts/:id` | `UPDATE … SET col = COALESCE($n, col) … RETURNING …` | 200, the post; 404 |
//! | `DELETE /posts/:id` | `DELETE … WHERE id = $1` | 200, empty; 404 |
//!
//! Bodies are validated as the article's DTOs are (present, a non-empty string of at most 255
//! characters), with class-validator's messages; errors have the NestJS shape. Unlike the posts
//! API it parses `:id` as a plain integer, not with JavaScript's `Number()`, reads only JSON
//! bodies, and has no ETag, timeouts or path normalization: none of that is on the benchmarked
//! paths' success answers, which are byte for byte the posts API's.
//!
//! The benchmark program runs it in a process of its own (`--serve-handwritten PORT`), so that
//! its CPU time and peak memory are its own.

use anyhow::{Context, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use tokio_postgres::{NoTls, Row};

const SELECT_ALL: &str = "SELECT id, title, content FROM post_entity ORDER BY id ASC";
const SELECT_ONE: &str = "SELECT id, title, content FROM post_entity WHERE id = $1";
const INSERT: &str = "INSERT INTO post_entity (title, content) VALUES ($1, $2) RETURNING id";
const UPDATE: &str = "UPDATE post_entity SET title = COALESCE($2, title), \
                      content = COALESCE($3, content) WHERE id = $1 RETURNING id, title, content";
const DELETE: &str = "DELETE FROM post_entity WHERE id = $1";

/// Serves the posts routes on `127.0.0.1:port` over a pool of `pool_size` connections to `url`
/// until the process is killed.
pub(crate) async fn serve(url: &str, port: u16, pool_size: usize) -> Result<()> {
    let config: tokio_postgres::Config = url.parse().context("invalid database URL")?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig { recycling_method: RecyclingMethod::Fast },
    );
    let pool = Pool::builder(manager).max_size(pool_size).build()?;
    // Fails here, not on the first request, when the database is not there.
    drop(pool.get().await.context("cannot connect to the database")?);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
        .await
        .with_context(|| format!("cannot listen on port {port}"))?;
    axum::serve(listener, app(pool)).await?;
    Ok(())
}

fn app(pool: Pool) -> Router {
    Router::new()
        .route("/posts", get(get_all).post(create))
        .route("/posts/{id}", get(get_one).patch(update).delete(delete))
        .with_state(pool)
}

#[derive(Serialize)]
struct Post {
    id: i32,
    title: String,
    content: String,
}

impl From<Row> for Post {
    fn from(row: Row) -> Self {
        Self { id: row.get(0), title: row.get(1), content: row.get(2) }
    }
}

/// The body of POST and PATCH: both fields are optional here and checked by [`field`].
#[derive(Deserialize)]
struct PostBody {
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

async fn get_all(State(pool): State<Pool>) -> Result<Response, Error> {
    let client = pool.get().await?;
    let statement = client.prepare_cached(SELECT_ALL).await?;
    let posts: Vec<Post> =
        client.query(&statement, &[]).await?.into_iter().map(Post::from).collect();
    Ok(json_response(StatusCode::OK, &posts))
}

async fn get_one(State(pool): State<Pool>, Path(id): Path<String>) -> Result<Response, Error> {
    let id = parse_id(&id)?;
    let client = pool.get().await?;
    let statement = client.prepare_cached(SELECT_ONE).await?;
    let row = client.query_opt(&statement, &[&id]).await?.ok_or(Error::NotFound(id))?;
    Ok(json_response(StatusCode::OK, &Post::from(row)))
}

async fn create(State(pool): State<Pool>, body: Bytes) -> Result<Response, Error> {
    let body = parse_body(&body)?;
    let mut messages = Vec::new();
    let title = field("title", body.title, true, &mut messages);
    let content = field("content", body.content, true, &mut messages);
    let (Some(title), Some(content)) = (title, content) else {
        return Err(Error::Validation(messages));
    };
    let client = pool.get().await?;
    let statement = client.prepare_cached(INSERT).await?;
    let row = client.query_one(&statement, &[&title, &content]).await?;
    Ok(json_response(StatusCode::CREATED, &Post { id: row.get(0), title, content }))
}

async fn update(
    State(pool): State<Pool>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, Error> {
    let body = parse_body(&body)?;
    let mut messages = Vec::new();
    let title = field("title", body.title, false, &mut messages);
    let content = field("content", body.content, false, &mut messages);
    if !messages.is_empty() {
        return Err(Error::Validation(messages));
    }
    let id = parse_id(&id)?;
    let client = pool.get().await?;
    let statement = client.prepare_cached(UPDATE).await?;
    let row = client.query_opt(&statement, &[&id, &title, &content]).await?;
    Ok(json_response(StatusCode::OK, &Post::from(row.ok_or(Error::NotFound(id))?)))
}

async fn delete(State(pool): State<Pool>, Path(id): Path<String>) -> Result<Response, Error> {
    let id = parse_id(&id)?;
    let client = pool.get().await?;
    let statement = client.prepare_cached(DELETE).await?;
    match client.execute(&statement, &[&id]).await? {
        0 => Err(Error::NotFound(id)),
        _ => Ok(StatusCode::OK.into_response()),
    }
}

fn parse_id(id: &str) -> Result<i32, Error> {
    id.parse().map_err(|_| {
        Error::Validation(vec![
            "id must be a number conforming to the specified constraints".into(),
        ])
    })
}

fn parse_body(body: &[u8]) -> Result<PostBody, Error> {
    if body.is_empty() {
        return Ok(PostBody { title: None, content: None });
    }
    serde_json::from_slice(body).map_err(|e| Error::BadRequest(e.to_string()))
}

/// The value of a string field, or `None` with its class-validator messages added.
fn field(
    name: &str,
    value: Option<String>,
    required: bool,
    messages: &mut Vec<String>,
) -> Option<String> {
    match value {
        None if required => {
            messages.push(format!("{name} should not be empty"));
            messages.push(format!("{name} must be a string"));
            None
        }
        None => None,
        Some(v) if v.is_empty() => {
            messages.push(format!("{name} should not be empty"));
            None
        }
        Some(v) if v.chars().count() > 255 => {
            messages.push(format!("{name} must be shorter than or equal to 255 characters"));
            None
        }
        Some(v) => Some(v),
    }
}

fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut response = (status, bytes).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            );
            response
        }
        Err(e) => Error::Internal(e.to_string()).into_response(),
    }
}

/// An error answer, in the NestJS shape.
#[derive(Debug)]
enum Error {
    /// 400 with class-validator's messages.
    Validation(Vec<String>),
    /// 400: a body that is not the expected JSON.
    BadRequest(String),
    /// 404: no post with this id.
    NotFound(i32),
    /// 500: the database failed; logged, not sent.
    Internal(String),
}

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Internal(e.to_string())
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Self::Internal(e.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Error::Validation(messages) => (StatusCode::BAD_REQUEST, Message::List(messages)),
            Error::BadRequest(message) => (StatusCode::BAD_REQUEST, Message::Text(message)),
            Error::NotFound(id) => {
                (StatusCode::NOT_FOUND, Message::Text(format!("Post with id {id} not found")))
            }
            Error::Internal(detail) => {
                eprintln!("handwritten server: {detail}");
                let body = NestBody {
                    status_code: 500,
                    message: Message::Text("Internal server error".into()),
                    error: None,
                };
                return json_response(StatusCode::INTERNAL_SERVER_ERROR, &body);
            }
        };
        let body =
            NestBody { status_code: status.as_u16(), message, error: status.canonical_reason() };
        json_response(status, &body)
    }
}

/// `{"statusCode":…,"message":…,"error":…}`, keys in NestJS's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct NestBody {
    status_code: u16,
    message: Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Message {
    Text(String),
    List(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_validated_like_the_articles_dtos() {
        let cases: [(Option<&str>, bool, &[&str]); 5] = [
            (None, true, &["title should not be empty", "title must be a string"]),
            (None, false, &[]),
            (Some(""), false, &["title should not be empty"]),
            (Some("ok"), true, &[]),
            (
                Some(&"é".repeat(256)),
                true,
                &["title must be shorter than or equal to 255 characters"],
            ),
        ];
        for (value, required, expected) in cases {
            let mut messages = Vec::new();
            let got = field("title", value.map(str::to_owned), required, &mut messages);
            assert_eq!(messages, expected, "{value:?}, required: {required}");
            assert_eq!(got.is_some(), value.is_some() && expected.is_empty(), "{value:?}");
        }
    }
}
