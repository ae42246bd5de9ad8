//! The `/posts` routes. Writing needs a logged-in user, any user: there is no ownership check,
//! as in the original.
//!
//! | route | guarded | success |
//! | --- | --- | --- |
//! | `GET /posts` | no | 200, every post by id with author (and address) and categories |
//! | `GET /posts/:id` | no | 200, the post, `author` as its id |
//! | `POST /posts` | yes | 201, the post with the logged-in author and the category ids |
//! | `PATCH /posts/:id` | yes | 200, the post after the change (with `categories` ids when they were given) |
//! | `DELETE /posts/:id` | yes | 200, empty body |

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use nest_service::{ApiError, Body, PathId, json_response};

use crate::errors::post_not_found;
use crate::posts::dto::{CreatePostDto, UpdatePostDto};
use crate::posts::service::PostsService;
use crate::state::AppState;
use crate::views::{PostView, PostWithAll};

/// The routes of the posts controller.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/posts", get(get_all).post(create))
        .route("/posts/{id}", get(get_by_id).patch(update).delete(delete))
}

async fn get_all(State(state): State<AppState>) -> Result<Response, ApiError> {
    let em = state.em().await?;
    let posts = PostsService::new(&em).get_all().await?;
    let views: Vec<PostWithAll> = posts.iter().map(PostWithAll::of).collect();
    Ok(json_response(StatusCode::OK, &views))
}

async fn get_by_id(State(state): State<AppState>, id: PathId) -> Result<Response, ApiError> {
    let id = id.resolve()?.existing(post_not_found)?;
    let em = state.em().await?;
    let post = PostsService::new(&em).get_by_id(id).await?;
    Ok(json_response(StatusCode::OK, &PostView::of(&post.read())))
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (em, author) = super::guard(&state, &headers).await?;
    let dto = CreatePostDto::validate(&body).map_err(ApiError::Validation)?;
    let keys = dto.categories.keys.clone();
    let post = PostsService::new(&em).create(&author, dto).await?;
    Ok(json_response(StatusCode::CREATED, &PostWithAll::created(&post, &author, keys)))
}

async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: PathId,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (em, _user) = super::guard(&state, &headers).await?;
    let dto = UpdatePostDto::validate(&body).map_err(ApiError::Validation)?;
    let id = id.resolve()?.existing(post_not_found)?;
    let keys = dto.categories.as_ref().map(|c| c.keys.clone());
    let post = PostsService::new(&em).update(id, dto).await?;
    let view = PostView::of(&post.read());
    let view = match keys {
        Some(keys) => view.with_categories(keys),
        None => view,
    };
    Ok(json_response(StatusCode::OK, &view))
}

async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    id: PathId,
) -> Result<Response, ApiError> {
    let (em, _user) = super::guard(&state, &headers).await?;
    let id = id.resolve()?.existing(post_not_found)?;
    PostsService::new(&em).delete(id).await?;
    Ok(StatusCode::OK.into_response())
}
