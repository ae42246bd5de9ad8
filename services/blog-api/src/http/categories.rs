//! The `/categories` routes. Only `POST` is guarded, as in the original: anybody may rename or
//! delete a category.
//!
//! | route | guarded | success |
//! | --- | --- | --- |
//! | `GET /categories` | no | 200, every category by id |
//! | `GET /categories/:id` | no | 200, the category |
//! | `POST /categories` | yes | 201 `{"name","id"}` |
//! | `PATCH /categories/:id` | no | 200, the category after the change |
//! | `DELETE /categories/:id` | no | 200, empty body |

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use nest_service::{ApiError, Body, PathId, json_response};

use crate::categories::dto::{CreateCategoryDto, UpdateCategoryDto};
use crate::categories::service::CategoriesService;
use crate::errors::category_not_found;
use crate::state::AppState;
use crate::views::{CategoryView, CreatedCategory};

/// The routes of the categories controller.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/categories", get(get_all).post(create))
        .route("/categories/{id}", get(get_by_id).patch(update).delete(delete))
}

async fn get_all(State(state): State<AppState>) -> Result<Response, ApiError> {
    let em = state.em().await?;
    let categories = CategoriesService::new(&em).get_all().await?;
    let views: Vec<CategoryView> = categories.iter().map(|c| CategoryView::of(&c.read())).collect();
    Ok(json_response(StatusCode::OK, &views))
}

async fn get_by_id(State(state): State<AppState>, id: PathId) -> Result<Response, ApiError> {
    let id = id.resolve()?.existing(category_not_found)?;
    let em = state.em().await?;
    let category = CategoriesService::new(&em).get_by_id(id).await?;
    Ok(json_response(StatusCode::OK, &CategoryView::of(&category.read())))
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let (em, _user) = super::guard(&state, &headers).await?;
    let dto = CreateCategoryDto::validate(&body).map_err(ApiError::Validation)?;
    let category = CategoriesService::new(&em).create(dto).await?;
    Ok(json_response(StatusCode::CREATED, &CreatedCategory::of(&category.read())))
}

async fn update(
    State(state): State<AppState>,
    id: PathId,
    Body(body): Body,
) -> Result<Response, ApiError> {
    let dto = UpdateCategoryDto::validate(&body).map_err(ApiError::Validation)?;
    let id = id.resolve()?.existing(category_not_found)?;
    let em = state.em().await?;
    let category = CategoriesService::new(&em).update(id, dto).await?;
    Ok(json_response(StatusCode::OK, &CategoryView::of(&category.read())))
}

async fn delete(State(state): State<AppState>, id: PathId) -> Result<Response, ApiError> {
    let id = id.resolve()?.existing(category_not_found)?;
    let em = state.em().await?;
    CategoriesService::new(&em).delete(id).await?;
    Ok(StatusCode::OK.into_response())
}
