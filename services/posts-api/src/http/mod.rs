//! The HTTP layer: [`app`] builds the router with its middleware, [`serve`] runs it with every
//! wait on a client bounded ([`ServerSettings`]; see the `server` module).
//!
//! Requests pass, outermost first: tracing (method, path, status, latency) → catch-panic (a
//! NestJS 500) → timeout (a NestJS 408) → conditional GET (a matching `If-None-Match` gives 304)
//! → path normalization (the first segment is case-insensitive, one trailing slash is
//! ignored, as Express routes) → the routes of `http::posts`, whose unrouted method or path is the
//! original's 404 `Cannot PUT /posts/1`.
//!
//! JSON responses are `application/json; charset=utf-8` with a weak `ETag`, computed before
//! axum strips the body of a `HEAD` response, so `HEAD` and `GET` carry the same one.

pub mod error;
mod extract;
pub mod js_number;
mod posts;
mod server;
mod write_timeout;

use std::any::Any;

use axum::Router;
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};
use tracing::Level;

pub use extract::BODY_LIMIT;
pub use server::{ServerSettings, serve};

use self::error::ApiError;
use crate::state::AppState;

/// The application: every route and layer, over `state`.
pub fn app(state: AppState) -> Router {
    let timeout = state.request_timeout();
    let routes =
        posts::router().fallback(unrouted).method_not_allowed_fallback(unrouted).with_state(state);
    // Normalization must rewrite the path before routing, so it wraps the routes as a service.
    let normalized = middleware::map_request(normalize_path).layer(routes);
    Router::new()
        .fallback_service(normalized)
        .layer(middleware::from_fn(conditional_get))
        .layer(middleware::from_fn_with_state(timeout, request_timeout))
        .layer(CatchPanicLayer::custom(|panic: Box<dyn Any + Send>| panic_response(&*panic)))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::INFO))
                // 5xx causes are logged where they happen (`ApiError`), once.
                .on_failure(()),
        )
}

/// A JSON response: `application/json; charset=utf-8` with a weak `ETag` of the body.
pub(crate) fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
    let bytes = match serde_json::to_vec(value) {
        Ok(bytes) => bytes,
        Err(e) => {
            return ApiError::Internal(format!("serializing a response: {e}")).into_response();
        }
    };
    let etag = weak_etag(&bytes);
    let mut response = (status, Body::from(bytes)).into_response();
    let headers = response.headers_mut();
    headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// `W/"<length in hex>-<first 16 bytes of SHA-256 in hex>"`, in the manner of Express.
fn weak_etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hash: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("W/\"{:x}-{hash}\"", body.len())
}

/// Whether `If-None-Match` names `etag` (weak comparison; `*` matches any).
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let etag = opaque(etag);
    if_none_match.split(',').any(|candidate| candidate.trim() == "*" || opaque(candidate) == etag)
}

/// A `GET` or `HEAD` whose `If-None-Match` matches the response's `ETag`: 304, no body.
async fn conditional_get(req: Request, next: Next) -> Response {
    let cacheable = matches!(*req.method(), Method::GET | Method::HEAD);
    let if_none_match = header_text(req.headers(), header::IF_NONE_MATCH);
    let response = next.run(req).await;
    let etag = header_text(response.headers(), header::ETAG);
    match (cacheable && response.status().is_success(), if_none_match, etag) {
        (true, Some(candidates), Some(etag)) if etag_matches(&candidates, &etag) => {
            let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
            if let Ok(value) = HeaderValue::from_str(&etag) {
                not_modified.headers_mut().insert(header::ETAG, value);
            }
            not_modified
        }
        _ => response,
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// Answers 408 when a request takes longer than the configured timeout.
async fn request_timeout(
    State(timeout): State<std::time::Duration>,
    req: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_ms = timeout.as_millis() as u64, "request timed out");
            ApiError::Timeout.into_response()
        }
    }
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

/// Routes as Express does: `/Posts/1/` is `/posts/1`. Keeps the original URI for messages.
async fn normalize_path(mut req: Request) -> Request {
    let original = req.uri().clone();
    if req.extensions().get::<OriginalUri>().is_none() {
        req.extensions_mut().insert(OriginalUri(original.clone()));
    }
    if let Some(uri) = normalized_uri(&original) {
        *req.uri_mut() = uri;
    }
    req
}

/// The URI with its first path segment lower-cased (ASCII) and one trailing slash removed, or
/// `None` when nothing changes.
fn normalized_uri(uri: &Uri) -> Option<Uri> {
    let path = uri.path();
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
        assert_eq!(etag, Some(weak_etag(expected).as_str()), "the body is the original's");
    }

    #[test]
    fn etags_compare_weakly() {
        let tag = weak_etag(b"[]");
        assert!(tag.starts_with("W/\"2-"), "{tag}");
        assert!(etag_matches(&tag, &tag));
        assert!(etag_matches(&tag.replace("W/", ""), &tag), "a strong form matches weakly");
        assert!(etag_matches(&format!("\"x\", {tag}"), &tag), "one of a list");
        assert!(etag_matches("*", &tag));
        assert!(!etag_matches(&weak_etag(b"{}"), &tag));
    }
}
