//! JSON responses as Express sends them: `application/json; charset=utf-8` with a weak `ETag`
//! of the body, and the 304 of a conditional `GET` or `HEAD` whose `If-None-Match` names it.
//! The `ETag` is computed before axum strips the body of a `HEAD` response, so `HEAD` and `GET`
//! carry the same one.

use std::fmt::Write as _;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// A JSON response: `application/json; charset=utf-8` with a weak `ETag` of the body.
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response {
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
    // The tag's bytes become the header's without a copy.
    if let Ok(etag) = HeaderValue::try_from(etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

/// `W/"<length in hex>-<first 16 bytes of SHA-256 in hex>"`, in the manner of Express. Every
/// JSON response computes one, so the tag is written into one buffer.
pub(crate) fn weak_etag(body: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(body);
    let mut tag = String::with_capacity(56);
    let _ = write!(tag, "W/\"{:x}-", body.len());
    for b in &digest[..16] {
        tag.push(char::from(HEX[usize::from(b >> 4)]));
        tag.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    tag.push('"');
    tag
}

/// Whether `If-None-Match` names `etag` (weak comparison; `*` matches any).
fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let etag = opaque(etag);
    if_none_match.split(',').any(|candidate| candidate.trim() == "*" || opaque(candidate) == etag)
}

/// The `If-None-Match` of a `GET` or `HEAD` request: what [`not_modified`] compares the
/// response's `ETag` with. Requests without one (most) get `None` and pass untouched.
pub(crate) fn if_none_match(req: &Request) -> Option<String> {
    let cacheable = matches!(*req.method(), Method::GET | Method::HEAD);
    if cacheable { header_text(req.headers(), header::IF_NONE_MATCH) } else { None }
}

/// A successful `response` whose `ETag` one of `candidates` (the request's `If-None-Match`)
/// names becomes a 304 without a body; any other passes through.
pub(crate) fn not_modified(candidates: Option<String>, response: Response) -> Response {
    let Some(candidates) = candidates else { return response };
    let etag = header_text(response.headers(), header::ETAG);
    match (response.status().is_success(), etag) {
        (true, Some(etag)) if etag_matches(&candidates, &etag) => {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_compare_weakly() {
        let tag = weak_etag(b"[]");
        assert_eq!(
            tag, "W/\"2-4f53cda18c2baa0c0354bb5f9a3ecbe5\"",
            "length in hex, then SHA-256's first 16 bytes"
        );
        assert!(etag_matches(&tag, &tag));
        assert!(etag_matches(&tag.replace("W/", ""), &tag), "a strong form matches weakly");
        assert!(etag_matches(&format!("\"x\", {tag}"), &tag), "one of a list");
        assert!(etag_matches("*", &tag));
        assert!(!etag_matches(&weak_etag(b"{}"), &tag));
    }
}
