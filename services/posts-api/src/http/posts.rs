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
use nest_service::{ApiError, Body, PathId, json_response};
use serde::ser::{Serialize, SerializeSeq, Serializer};
use strata::Managed;

use crate::posts::dto::{CreatePostDto, UpdatePostDto};
use crate::posts::entity::PostEntity;
use crate::posts::service::PostsError;
use crate::state::AppState;

/// The routes of the API.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/posts", get(get_all_posts).post(create_post))
        .route("/posts/{id}", get(get_post_by_id).patch(update_post).delete(delete_post))
        .route("/health", get(health))
        .route("/health/ready", get(health))
        .route("/health/live", get(nest_service::live))
}

async fn get_all_posts(State(state): State<AppState>) -> Result<Response, ApiError> {
    let posts = state.posts().await?.get_all_posts().await.map_err(answer)?;
    Ok(json_response(StatusCode::OK, &InPlace(posts.as_slice())))
}

async fn get_post_by_id(State(state): State<AppState>, id: PathId) -> Result<Response, ApiError> {
    let id = existing(id.resolve()?)?;
    let post = state.posts().await?.get_post_by_id(id).await.map_err(answer)?;
    Ok(json_response(StatusCode::OK, &*post.read()))
}

async fn create_post(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let post = CreatePostDto::validate(&body).map_err(ApiError::Validation)?;
    let created = state.posts().await?.create_post(post).await.map_err(answer)?;
    Ok(json_response(StatusCode::CREATED, &*created.read()))
}

async fn update_post(
    State(state): State<AppState>,
    id: PathId,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let post = UpdatePostDto::validate(&body).map_err(ApiError::Validation)?;
    let id = existing(id.resolve()?)?;
    let updated = state.posts().await?.update_post(id, post).await.map_err(answer)?;
    Ok(json_response(StatusCode::OK, &*updated.read()))
}

async fn delete_post(State(state): State<AppState>, id: PathId) -> Result<Response, ApiError> {
    let id = existing(id.resolve()?)?;
    state.posts().await?.delete_post(id).await.map_err(answer)?;
    Ok(StatusCode::OK.into_response())
}

/// A key to look up; a number no post can have is a 404 without a query.
fn existing(id: nest_service::EntityId) -> Result<i32, ApiError> {
    id.existing(post_not_found)
}

/// 404 `Post with id 999 not found`.
fn post_not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!("Post with id {id} not found"))
}

async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.health().await
}

/// The answer of a failed posts operation.
fn answer(e: PostsError) -> ApiError {
    match e {
        PostsError::NotFound(id) => post_not_found(&id.to_string()),
        PostsError::Database(e) => e.into(),
    }
}

/// Managed posts serialized as a JSON array in place, each under its read guard, so that no
/// post's strings are copied for the response.
struct InPlace<'a>(&'a [Managed<PostEntity>]);

impl Serialize for InPlace<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for post in self.0 {
            seq.serialize_element(&*post.read())?;
        }
        seq.end()
    }
}
