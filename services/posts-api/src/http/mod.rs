//! The HTTP layer: [`app`] puts the routes of `http::posts` inside the NestJS wire layer of
//! `nest-service` (tracing, catch-panic, timeout, ETag / 304, path normalization, the original's
//! `Cannot PUT /posts/1`), which blog-api shares.

mod posts;

use axum::Router;

pub use nest_service::{BODY_LIMIT, error, js_number};

use crate::state::AppState;

/// The application: every route and layer, over `state`.
pub fn app(state: AppState) -> Router {
    let timeout = state.request_timeout();
    nest_service::app(posts::router().with_state(state), timeout)
}
