//! [`ApiError`]: every error response, in the NestJS wire format.
//!
//! The body is `{"statusCode":…,"message":…,"error":…}` with keys in that order; `message` is an
//! array for validation errors and a string otherwise. Two bodies are the original's exact
//! ones: 413 `{"statusCode":413,"message":"request entity too large"}` and 500
//! `{"statusCode":500,"message":"Internal server error"}` (the detail is logged, never sent).

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use strata::ErrorKind;

/// An error answer of the API. Each variant's doc names its status.
#[derive(Debug)]
pub enum ApiError {
    /// 400: validation messages, reported as an array.
    Validation(Vec<String>),
    /// 400: a body that cannot be parsed, reported as a string.
    BadRequest(String),
    /// 404 with a message: `Post with id 999 not found`, `User not found`.
    NotFound(String),
    /// 404: no route for this method and path (`Cannot PUT /posts/1`).
    RouteNotFound {
        /// The request method.
        method: Method,
        /// The path and query as the client sent them.
        uri: String,
    },
    /// A NestJS `HttpException(message, status)`: `{"statusCode":…,"message":…}` without an
    /// `error` key, as the original's `Unauthorized` (401) and `Wrong credentials provided`
    /// (400) are.
    Exception {
        /// The status.
        status: StatusCode,
        /// The message.
        message: String,
    },
    /// 408: the request took longer than the configured timeout.
    Timeout,
    /// 409: the change conflicts with existing data (a unique or foreign-key constraint, a
    /// concurrent change).
    Conflict(String),
    /// 413: the body is over 100 kB.
    PayloadTooLarge,
    /// 503: the database cannot be reached; retry later.
    Unavailable,
    /// 503 from `/health`: the database answers but the service is not ready for it (pending
    /// migrations, a schema that differs from the entities); the message says what to do.
    NotReady(String),
    /// 500: anything else; the string is logged, never sent.
    Internal(String),
}

/// The message of a 503.
pub const UNAVAILABLE_MESSAGE: &str = "The database is unavailable; try again in a few seconds";

impl ApiError {
    /// 401 `{"statusCode":401,"message":"Unauthorized"}`, NestJS's `UnauthorizedException`.
    pub fn unauthorized() -> Self {
        Self::Exception { status: StatusCode::UNAUTHORIZED, message: "Unauthorized".into() }
    }

    /// The HTTP status of this error.
    pub fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound(_) | Self::RouteNotFound { .. } => StatusCode::NOT_FOUND,
            Self::Exception { status, .. } => *status,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unavailable | Self::NotReady(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The NestJS body of this error.
    fn body(&self) -> NestBody<'_> {
        let status = self.status_code();
        let reason = status.canonical_reason();
        let (message, error) = match self {
            Self::Validation(messages) => (Message::List(messages), reason),
            Self::BadRequest(m) | Self::Conflict(m) | Self::NotReady(m) => {
                (Message::Text(m.clone()), reason)
            }
            Self::NotFound(m) => (Message::Text(m.clone()), reason),
            Self::Exception { message, .. } => (Message::Text(message.clone()), None),
            Self::RouteNotFound { method, uri } => {
                (Message::Text(format!("Cannot {method} {uri}")), reason)
            }
            Self::Timeout => (Message::Text("Request Timeout".into()), None),
            Self::PayloadTooLarge => (Message::Text("request entity too large".into()), None),
            Self::Unavailable => (Message::Text(UNAVAILABLE_MESSAGE.into()), reason),
            Self::Internal(_) => (Message::Text("Internal server error".into()), None),
        };
        NestBody { status_code: status.as_u16(), message, error }
    }
}

/// `{"statusCode":…,"message":…,"error":…}`, keys in this order.
#[derive(Serialize)]
struct NestBody<'a> {
    #[serde(rename = "statusCode")]
    status_code: u16,
    message: Message<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'static str>,
}

/// A message: an array for validation errors, a string otherwise.
#[derive(Serialize)]
#[serde(untagged)]
enum Message<'a> {
    List(&'a [String]),
    Text(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal server error");
        }
        let mut response = crate::response::json_response(self.status_code(), &self.body());
        if matches!(self, Self::Unavailable) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}

impl From<strata::Error> for ApiError {
    fn from(e: strata::Error) -> Self {
        match e.kind() {
            // A refused login or a missing database will not fix itself: say what to change.
            ErrorKind::Connection if matches!(e.code(), Some("28000" | "28P01" | "3D000")) => {
                tracing::error!(
                    error = %e,
                    "the database refused the connection: check DATABASE_URL or POSTGRES_USER, \
                     POSTGRES_PASSWORD and POSTGRES_DB (the service's database:create command \
                     creates a missing database)"
                );
                Self::Unavailable
            }
            ErrorKind::Connection => {
                tracing::warn!(error = %e, "the database is unavailable");
                Self::Unavailable
            }
            ErrorKind::UniqueViolation(name) => Self::Conflict(format!(
                "The change conflicts with an existing row (unique constraint {})",
                name.as_deref().unwrap_or("unknown")
            )),
            ErrorKind::ForeignKeyViolation(name) => Self::Conflict(format!(
                "The change refers to a row that does not exist, or removes one that is still \
                 referred to (foreign key {})",
                name.as_deref().unwrap_or("unknown")
            )),
            ErrorKind::OptimisticLock => Self::Conflict(
                "The row was changed by another request at the same time; retry".into(),
            ),
            // A deadlock, a serialization failure or a database locked by another process:
            // nothing is wrong with the request, and the same request succeeds when retried.
            ErrorKind::SerializationFailure => {
                tracing::warn!(error = %e, "the database is busy");
                Self::Unavailable
            }
            ErrorKind::ValueTooLong | ErrorKind::InvalidText => {
                Self::BadRequest(format!("A value cannot be stored: {}", e.message()))
            }
            _ => Self::Internal(format!("{e} ({:?})", e.kind())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body_of(e: &ApiError) -> String {
        serde_json::to_string(&e.body()).unwrap()
    }

    #[test]
    fn bodies_match_the_nestjs_wire_format() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (
                ApiError::Validation(vec!["title should not be empty".into()]),
                400,
                r#"{"statusCode":400,"message":["title should not be empty"],"error":"Bad Request"}"#,
            ),
            (
                ApiError::NotFound("Post with id 1e+21 not found".into()),
                404,
                r#"{"statusCode":404,"message":"Post with id 1e+21 not found","error":"Not Found"}"#,
            ),
            (
                ApiError::RouteNotFound { method: Method::PUT, uri: "/posts/1".into() },
                404,
                r#"{"statusCode":404,"message":"Cannot PUT /posts/1","error":"Not Found"}"#,
            ),
            (
                ApiError::PayloadTooLarge,
                413,
                r#"{"statusCode":413,"message":"request entity too large"}"#,
            ),
            (
                ApiError::Internal("secret detail".into()),
                500,
                r#"{"statusCode":500,"message":"Internal server error"}"#,
            ),
            (ApiError::unauthorized(), 401, r#"{"statusCode":401,"message":"Unauthorized"}"#),
            (
                ApiError::Exception {
                    status: StatusCode::BAD_REQUEST,
                    message: "Wrong credentials provided".into(),
                },
                400,
                r#"{"statusCode":400,"message":"Wrong credentials provided"}"#,
            ),
            (ApiError::Timeout, 408, r#"{"statusCode":408,"message":"Request Timeout"}"#),
        ];
        for (error, status, body) in cases {
            assert_eq!(error.status_code().as_u16(), status, "{error:?}");
            assert_eq!(body_of(&error), body, "{error:?}");
        }
    }

    #[test]
    fn database_errors_map_to_statuses() {
        let cases: Vec<(ErrorKind, u16)> = vec![
            (ErrorKind::UniqueViolation(Some("post_title_key".into())), 409),
            (ErrorKind::UniqueViolation(None), 409),
            (ErrorKind::ForeignKeyViolation(Some("post_author_fkey".into())), 409),
            (ErrorKind::OptimisticLock, 409),
            (ErrorKind::SerializationFailure, 503),
            (ErrorKind::Connection, 503),
            (ErrorKind::ValueTooLong, 400),
            (ErrorKind::InvalidText, 400),
            (ErrorKind::Database, 500),
            (ErrorKind::Usage, 500),
            (ErrorKind::NotNullViolation(Some("title".into())), 500),
        ];
        for (kind, status) in cases {
            let e = strata::Error::new(kind.clone(), "detail");
            assert_eq!(ApiError::from(e).status_code().as_u16(), status, "{kind:?}");
        }
    }

    #[test]
    fn a_unique_violation_names_its_constraint_with_the_conflict_shape() {
        let e = strata::Error::new(ErrorKind::UniqueViolation(Some("post_title_key".into())), "x");
        let body = body_of(&ApiError::from(e));
        assert!(body.starts_with(r#"{"statusCode":409,"message":"#), "{body}");
        assert!(body.contains("post_title_key"), "{body}");
        assert!(body.ends_with(r#","error":"Conflict"}"#), "{body}");
    }

    #[test]
    fn a_not_ready_503_has_its_keys_in_nestjs_order() {
        let body = body_of(&ApiError::NotReady("1 migration(s) pending".into()));
        assert_eq!(
            body,
            r#"{"statusCode":503,"message":"1 migration(s) pending","error":"Service Unavailable"}"#
        );
    }

    #[test]
    fn service_unavailable_has_the_nestjs_shape() {
        let body = body_of(&ApiError::Unavailable);
        assert_eq!(
            body,
            format!(
                r#"{{"statusCode":503,"message":"{UNAVAILABLE_MESSAGE}","error":"Service Unavailable"}}"#
            )
        );
    }
}
