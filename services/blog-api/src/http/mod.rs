//! The HTTP layer: [`app`] puts the routes of the three controllers inside the NestJS wire
//! layer of `nest-service` (tracing, catch-panic, timeout, ETag / 304, path normalization, the
//! original's `Cannot PUT /posts/1`), which posts-api shares.
//!
//! Guarded routes read the body first and then check the cookie, as the original's Express body
//! parser runs before its guard: malformed JSON is 400 and an over-large body 413 whatever the
//! cookie, while an invalid body with no cookie is 401. Validation comes after the guard.

mod authentication;
mod categories;
mod posts;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use nest_service::ApiError;
use strata::{EntityManager, Managed};

use crate::authentication::service::{authenticated_user, token_user_id};
use crate::entities::User;
use crate::state::AppState;

/// The application: every route and layer, over `state`.
pub fn app(state: AppState) -> Router {
    let timeout = state.request_timeout();
    let routes = Router::new()
        .merge(authentication::router())
        .merge(categories::router())
        .merge(posts::router())
        .route("/health", get(health))
        .route("/health/ready", get(health))
        .route("/health/live", get(nest_service::live))
        .with_state(state);
    nest_service::app(routes, timeout)
}

/// `GET /health` and `GET /health/ready`: 200 `{"status":"ok","database":"up"}`, or 503 saying what is wrong.
async fn health(State(state): State<AppState>) -> Result<Response, ApiError> {
    state.health().await
}

/// The guard (the original's `JwtAuthenticationGuard`): the request's EntityManager and the
/// user of its cookie. The token is checked first, so a request without a valid one is 401
/// without a statement, even while the database is down.
async fn guard(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<(EntityManager, Managed<User>), ApiError> {
    let user_id = token_user_id(state.tokens(), headers)?;
    let em = state.em().await?;
    let user = authenticated_user(&em, user_id).await?;
    Ok((em, user))
}
