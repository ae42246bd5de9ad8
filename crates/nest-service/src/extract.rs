//! Extractors that reject in the NestJS format: the request body and the `:id` path parameter.
//!
//! Bodies are parsed like the original's Express body parsers: `application/json` (any
//! parameters, such as a charset) and `application/x-www-form-urlencoded` are read, up to
//! [`BODY_LIMIT`] bytes; any other or missing content type counts as an empty body, so it fails
//! validation rather than parsing. Malformed JSON or a JSON scalar is a 400 with a string
//! message; a JSON array is validated as an empty object.

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{HeaderMap, header, request::Parts};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::js_number::{js_number, js_to_string};

/// class-validator's message for an id that is not a number (path or body).
pub const ID_MESSAGE: &str = "id must be a number conforming to the specified constraints";

/// The largest body read: 100 kB, as the original's body parser (`100kb` = 102,400 bytes).
pub const BODY_LIMIT: usize = 100 * 1024;

/// A request body as a JSON object (empty when there is no parsable body).
#[derive(Debug, Default)]
pub struct Body(pub Map<String, Value>);

/// How a body is parsed, from its content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyKind {
    Json,
    Form,
    Ignored,
}

fn body_kind(headers: &HeaderMap) -> BodyKind {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return BodyKind::Ignored;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    if essence.eq_ignore_ascii_case("application/json") {
        BodyKind::Json
    } else if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        BodyKind::Form
    } else {
        BodyKind::Ignored
    }
}

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let kind = body_kind(req.headers());
        if kind == BodyKind::Ignored {
            return Ok(Self::default());
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > BODY_LIMIT as u64) {
            return Err(ApiError::PayloadTooLarge);
        }
        let bytes = read_limited(req.into_body()).await?;
        match kind {
            BodyKind::Json => parse_json(&bytes).map(Self),
            BodyKind::Form => Ok(Self(parse_form(&bytes))),
            BodyKind::Ignored => Ok(Self::default()),
        }
    }
}

/// Reads the whole body, failing with 413 as soon as it grows past [`BODY_LIMIT`].
async fn read_limited(body: axum::body::Body) -> Result<Vec<u8>, ApiError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("request aborted: {e}")))?;
        if bytes.len() + chunk.len() > BODY_LIMIT {
            return Err(ApiError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// An empty body is `{}`; an object is itself; an array is validated as `{}`.
fn parse_json(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.is_empty() {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("The request body is not valid JSON: {e}")))?;
    match value {
        Value::Object(map) => Ok(map),
        Value::Array(_) => Ok(Map::new()),
        other => Err(ApiError::BadRequest(format!(
            "The request body must be a JSON object, not {}",
            match other {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                _ => "a string",
            }
        ))),
    }
}

/// `a=1&b=2` into an object of strings, in the manner of the `qs` parser: a repeated key or
/// `key[]` gives an array, `key[name]` an object (so such fields fail `must be a string`).
fn parse_form(bytes: &[u8]) -> Map<String, Value> {
    let mut map = Map::new();
    for (key, value) in form_urlencoded::parse(bytes) {
        let value = Value::String(value.into_owned());
        let bracket = key.find('[').filter(|&i| i > 0 && key.ends_with(']'));
        match bracket {
            Some(i) => {
                let (base, sub) = (&key[..i], &key[i + 1..key.len() - 1]);
                let list = sub.is_empty() || sub.bytes().all(|b| b.is_ascii_digit());
                let empty = if list { Value::Array(Vec::new()) } else { Value::Object(Map::new()) };
                let entry = map.entry(base.to_owned()).or_insert(empty);
                match entry {
                    Value::Array(items) => items.push(value),
                    Value::Object(fields) => {
                        fields.insert(sub.to_owned(), value);
                    }
                    other => *other = Value::Array(vec![other.take(), value]),
                }
            }
            None => match map.get_mut(key.as_ref()) {
                None => {
                    map.insert(key.into_owned(), value);
                }
                Some(Value::Array(items)) => items.push(value),
                Some(other) => *other = Value::Array(vec![other.take(), value]),
            },
        }
    }
    map
}

/// The raw `:id` path parameter, resolved with [`PathId::resolve`] after the body is
/// validated (the original reports the body's errors first).
#[derive(Debug)]
pub struct PathId(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        // A parameter that is not valid UTF-8 after percent-decoding is not a number.
        let raw = Path::<String>::from_request_parts(parts, state).await.ok().map(|p| p.0);
        Ok(Self(raw))
    }
}

/// A path id as JavaScript's `Number()` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntityId {
    /// A number that can be a row's id (an `integer` key).
    Key(i32),
    /// A number no row can have (a fraction, out of the `integer` range), as JavaScript
    /// prints it: always 404.
    Missing(String),
}

impl EntityId {
    /// The key to look up; a number no row can have is the 404 `not_found(printed id)` gives,
    /// without a query.
    ///
    /// # Errors
    ///
    /// The 404 of an id no row can have.
    pub fn existing(self, not_found: impl FnOnce(&str) -> ApiError) -> Result<i32, ApiError> {
        match self {
            Self::Key(key) => Ok(key),
            Self::Missing(printed) => Err(not_found(&printed)),
        }
    }
}

impl PathId {
    /// `Number(id)`: `NaN` and `±Infinity` are a 400 with class-validator's `IsNumber` message.
    pub fn resolve(&self) -> Result<EntityId, ApiError> {
        let number = self.0.as_deref().and_then(js_number).filter(|n| n.is_finite());
        let Some(n) = number else {
            return Err(ApiError::Validation(vec![ID_MESSAGE.to_owned()]));
        };
        if n.fract() == 0.0 && n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX) {
            Ok(EntityId::Key(n as i32))
        } else {
            Ok(EntityId::Missing(js_to_string(n)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_types_choose_the_parser() {
        let cases = [
            ("application/json", BodyKind::Json),
            ("application/json; charset=utf-8", BodyKind::Json),
            ("Application/JSON;charset=UTF-8", BodyKind::Json),
            ("application/x-www-form-urlencoded", BodyKind::Form),
            ("application/x-www-form-urlencoded; charset=utf-8", BodyKind::Form),
            ("text/plain", BodyKind::Ignored),
            ("multipart/form-data; boundary=x", BodyKind::Ignored),
            ("application/jsonx", BodyKind::Ignored),
        ];
        for (content_type, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::CONTENT_TYPE, content_type.parse().unwrap());
            assert_eq!(body_kind(&headers), expected, "{content_type}");
        }
        assert_eq!(body_kind(&HeaderMap::new()), BodyKind::Ignored, "no content type");
    }

    #[test]
    fn json_bodies_parse_like_the_original() {
        assert_eq!(parse_json(b"").unwrap(), Map::new(), "empty");
        assert_eq!(parse_json(b"[1,2]").unwrap(), Map::new(), "array");
        let map = parse_json(br#"{"title":"a","title":"b"}"#).unwrap();
        assert_eq!(map.get("title"), Some(&json!("b")), "the last duplicate wins");
        for (body, case) in [
            (&b"{"[..], "truncated"),
            (b"   ", "white space only"),
            (b"\"text\"", "string"),
            (b"1", "number"),
            (b"null", "null"),
            (b"true", "boolean"),
            (b"\xff", "not UTF-8"),
        ] {
            let err = parse_json(body).expect_err(case);
            assert!(matches!(err, ApiError::BadRequest(_)), "{case}: {err:?}");
        }
    }

    #[test]
    fn form_bodies_parse_like_qs() {
        let map = parse_form(b"title=Hello+there&content=%C3%A9&x[]=1&x[]=2&o[a]=1&d=1&d=2");
        assert_eq!(
            Value::Object(map),
            json!({"title": "Hello there", "content": "é", "x": ["1", "2"], "o": {"a": "1"},
                   "d": ["1", "2"]})
        );
    }

    #[test]
    fn path_ids_resolve_to_keys_or_missing_rows() {
        let cases: &[(Option<&str>, Result<EntityId, ()>)] = &[
            (Some("1"), Ok(EntityId::Key(1))),
            (Some("0x1"), Ok(EntityId::Key(1))),
            (Some("-0"), Ok(EntityId::Key(0))),
            (Some("2147483647"), Ok(EntityId::Key(i32::MAX))),
            (Some("2147483648"), Ok(EntityId::Missing("2147483648".into()))),
            (Some("1.5"), Ok(EntityId::Missing("1.5".into()))),
            (Some("1e21"), Ok(EntityId::Missing("1e+21".into()))),
            (Some("abc"), Err(())),
            (Some("Infinity"), Err(())),
            (Some("1e400"), Err(())),
            (None, Err(())),
        ];
        for (raw, expected) in cases {
            let got = PathId(raw.map(str::to_owned)).resolve().map_err(|_| ());
            assert_eq!(&got, expected, "{raw:?}");
        }
    }
}
