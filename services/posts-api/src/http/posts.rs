//! The `/posts` routes and `GET /health`.
//!
//! | route | success |
//! | --- | --- |
//! | `GET /posts` | 200, every post by id ascending |
//! | `GET /posts/:id` | 200, the post |
//! | `POST /posts` | 201, the created post |
//! | `PATCH /posts/:id` | 200, the whole post after the change |
//! | `DELETE /posts/:id` | 200, empty body |
//! | `GET /health` | 200 `{"status":"ok","database":"up"}`, or 503 when the database is down, has pending migrations or a schema the entities do not fit |

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::error::ApiError;
use super::extract::{Body, PathId, PostId};
use super::json_response;
use crate::posts::dto::{CreatePostDto, UpdatePostDto};
use crate::state::AppState;

/// The routes of the API.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/posts", get(get_all_posts).post(create_post))
        .route("/posts/{id}", get(get_post_by_id).patch(update_post).delete(delete_post))
        .route("/health", get(health))
}

async fn get_all_posts(State(state): State<AppState>) -> Result<Response, ApiError> {
    let posts = state.posts().await?.get_all_posts().await?;
    Ok(json_response(StatusCode::OK, &posts))
}

async fn get_post_by_id(State(state): State<AppState>, id: PathId) -> Result<Response, ApiError> {
    let id = existing(id.resolve()?)?;
    let post = state.posts().await?.get_post_by_id(id).await?;
    Ok(json_response(StatusCode::OK, &post))
}

async fn create_post(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let post = CreatePostDto::validate(&body).map_err(ApiError::Validation)?;
    let created = state.posts().await?.create_post(post).await?;
    Ok(json_response(StatusCode::CREATED, &created))
}

async fn update_post(
    State(state): State<AppState>,
    id: PathId,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let post = UpdatePostDto::validate(&body).map_err(ApiError::Validation)?;
    let id = existing(id.resolve()?)?;
    let updated = state.posts().await?.update_post(id, post).await?;
    Ok(json_response(StatusCode::OK, &updated))
}

async fn delete_post(State(state): State<AppState>, id: PathId) -> Result<Response, ApiError> {
    let id = existing(id.resolve()?)?;
    state.posts().await?.delete_post(id).await?;
    Ok(StatusCode::OK.into_response())
}

/// A key to look up; a number no post can have is a 404 without a query.
fn existing(id: PostId) -> Result<i32, ApiError> {
    match id {
        PostId::Key(key) => Ok(key),
        PostId::NoPost(printed) => Err(ApiError::PostNotFound(printed)),
    }
}

async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.orm().ping().await?;
    if !state.migrations_are_external() {
        // Migrated by this process (now, if no request has done it yet): nothing can be pending.
        state.ensure_schema().await?;
    }
    // Pending migrations (MIGRATE_ON_START=false before `migration:up`), or a schema the
    // entities do not fit after migrating.
    if let Some(why) = state.not_ready().await? {
        return Err(ApiError::NotReady(why));
    }
    Ok(json_response(StatusCode::OK, &Health { status: "ok", database: "up" }))
}

/// `{"status":"ok","database":"up"}`.
#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
}
