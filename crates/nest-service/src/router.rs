//! [`app`]: a service's routes inside the layer stack every service shares.
//!
//! Requests pass, outermost first: tracing (method, path, status, latency) → catch-panic (a
//! NestJS 500) → one middleware for the rest: path normalization (the first segment is
//! case-insensitive, one trailing slash is ignored, as Express routes), the timeout (a NestJS
//! 408) around the routes, and the conditional GET (a matching `If-None-Match` gives 304, see
//! [`crate::response`]) → the service's routes, whose unrouted method or path is the
//! original's 404 `Cannot PUT /posts/1`.

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::extract::{OriginalUri, Request, State};
use axum::http::uri::PathAndQuery;
use axum::http::{Method, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::error::ApiError;
use crate::response::{if_none_match, not_modified};

/// The application: `routes` (with their state) inside every layer; a request that takes longer
/// than `timeout` is answered with 408.
pub fn app(routes: Router, timeout: Duration) -> Router {
    let routes = routes.fallback(unrouted).method_not_allowed_fallback(unrouted);
    // One stack of statically typed layers around the routes, outermost first. (`Router::layer`
    // would box every layer as a route of its own, and clone each box for every request.)
    // Normalization must rewrite the path before routing: the innermost step.
    let stack = ServiceBuilder::new()
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                // 5xx causes are logged where they happen (`ApiError`), once.
                .on_failure(()),
        )
        .layer(CatchPanicLayer::custom(|panic: Box<dyn Any + Send>| panic_response(&*panic)))
        // Timeout, conditional GET and path normalization in one middleware: each `from_fn`
        // layer boxes its future and its `Next` for every request.
        .layer(middleware::from_fn_with_state(timeout, express))
        .service(routes);
    Router::new().fallback_service(stack)
}

/// The path normalized (before routing), then the routes under the timeout (408 when the
/// request takes longer), then the conditional GET (304 when `If-None-Match` names the
/// response's `ETag`).
async fn express(State(timeout): State<Duration>, req: Request, next: Next) -> Response {
    let req = normalize_path(req);
    let candidates = if_none_match(&req);
    let Ok(response) = tokio::time::timeout(timeout, next.run(req)).await else {
        tracing::warn!(timeout_ms = timeout.as_millis() as u64, "request timed out");
        return ApiError::Timeout.into_response();
    };
    not_modified(candidates, response)
}

/// A panic in a handler: the original's 500 body; the panic message goes to the log.
fn panic_response(panic: &(dyn Any + Send)) -> Response {
    let detail = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "a panic without a message".to_owned());
    ApiError::Internal(format!("handler panicked: {detail}")).into_response()
}

/// Routes as Express does: `/Posts/1/` is `/posts/1`. Keeps the original URI for messages
/// (the outer router has recorded it already; a router used on its own records it here).
fn normalize_path(mut req: Request) -> Request {
    if req.extensions().get::<OriginalUri>().is_none() {
        let original = req.uri().clone();
        req.extensions_mut().insert(OriginalUri(original));
    }
    if let Some(uri) = normalized_uri(req.uri()) {
        *req.uri_mut() = uri;
    }
    req
}

/// The URI with its first path segment lower-cased (ASCII) and one trailing slash removed, or
/// `None` when nothing changes.
fn normalized_uri(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
    // Most paths are normalized already: find that out without allocating.
    let trimmed = path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path);
    let first_end =
        trimmed.get(1..).and_then(|rest| rest.find('/')).map_or(trimmed.len(), |i| i + 1);
    if trimmed.len() == path.len() && !trimmed[..first_end].bytes().any(|b| b.is_ascii_uppercase())
    {
        return None;
    }
    let mut normalized =
        path.strip_suffix('/').filter(|p| !p.is_empty()).unwrap_or(path).to_owned();
    let first_end =
        normalized.get(1..).and_then(|rest| rest.find('/')).map_or(normalized.len(), |i| i + 1);
    normalized[..first_end].make_ascii_lowercase();
    if normalized == path {
        return None;
    }
    let path_and_query = match uri.query() {
        Some(q) => format!("{normalized}?{q}"),
        None => normalized,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query).ok()?);
    Uri::from_parts(parts).ok()
}

/// No route for this method and path: `Cannot PUT /posts/1`, with the URI as sent.
async fn unrouted(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    let uri =
        uri.path_and_query().map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    ApiError::RouteNotFound { method, uri }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{StatusCode, header};

    #[test]
    fn paths_normalize_like_express() {
        let cases = [
            ("/posts", None),
            ("/posts/", Some("/posts")),
            ("/POSTS/1", Some("/posts/1")),
            ("/Posts/AbC/", Some("/posts/AbC")),
            ("/posts//", Some("/posts/")),
            ("/", None),
            ("/Health?x=1", Some("/health?x=1")),
        ];
        for (input, expected) in cases {
            let uri: Uri = input.parse().unwrap();
            let got = normalized_uri(&uri).map(|u| u.to_string());
            assert_eq!(got.as_deref(), expected, "{input}");
        }
    }

    #[test]
    fn a_panic_is_the_original_500_and_its_message_is_not_sent() {
        let response = panic_response(&"secret detail");
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let expected = br#"{"statusCode":500,"message":"Internal server error"}"#;
        let etag = response.headers().get(header::ETAG).and_then(|v| v.to_str().ok());
        let expected = crate::response::weak_etag(expected);
        assert_eq!(etag, Some(expected.as_str()), "the body is the original's");
    }
}
