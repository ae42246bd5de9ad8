//! The request bodies and their validation, with class-validator's messages in the order the
//! NestJS original reports them.
//!
//! | field | rules (in message order) |
//! | --- | --- |
//! | `title`, `content` | `should not be empty` (missing, `null`, `""`), `must be a string`, then two rules the original lacked: at most 255 characters, no NUL character |
//! | `id` (PATCH only, optional) | `must be a number conforming to the specified constraints`; never changes the post's id |
//!
//! Fields are checked in declaration order (POST: title, content; PATCH: id, title, content).
//! Unknown fields are ignored; whitespace-only strings are accepted.

use nest_service::validation::{self, Presence};
use serde::Serialize;
use serde_json::{Map, Value};

/// The longest title or content, in characters (the columns are `varchar(255)`).
pub const MAX_LENGTH: usize = validation::MAX_LENGTH;

/// The message of an id that is not a number (path or body).
pub use nest_service::ID_MESSAGE;

/// The body of `POST /posts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatePostDto {
    /// The title.
    pub title: String,
    /// The content.
    pub content: String,
}

/// The body of `PATCH /posts/:id`: the fields to change (absent fields are untouched).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpdatePostDto {
    /// The new title, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The new content, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
}

impl CreatePostDto {
    /// Validates a body, returning every message when it is invalid.
    pub fn validate(body: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut messages = Vec::new();
        let title = text_field("title", body.get("title"), Presence::Required, &mut messages);
        let content = text_field("content", body.get("content"), Presence::Required, &mut messages);
        match (title, content) {
            (Some(title), Some(content)) if messages.is_empty() => Ok(Self { title, content }),
            _ => Err(messages),
        }
    }
}

impl UpdatePostDto {
    /// Validates a body, returning every message when it is invalid.
    pub fn validate(body: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut messages = Vec::new();
        validation::body_id(body.get("id"), &mut messages);
        let title = text_field("title", body.get("title"), Presence::Optional, &mut messages);
        let content = text_field("content", body.get("content"), Presence::Optional, &mut messages);
        if messages.is_empty() { Ok(Self { title, content }) } else { Err(messages) }
    }
}

/// Checks one text field and returns its value when valid.
fn text_field(
    name: &str,
    value: Option<&Value>,
    presence: Presence,
    messages: &mut Vec<String>,
) -> Option<String> {
    validation::text(name, value, presence, messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn create_messages_follow_declaration_and_rule_order() {
        let long = "é".repeat(256);
        let cases: Vec<(&str, Value, Vec<&str>)> = vec![
            (
                "an empty body",
                json!({}),
                vec![
                    "title should not be empty",
                    "title must be a string",
                    "content should not be empty",
                    "content must be a string",
                ],
            ),
            (
                "null title",
                json!({"title": null, "content": "c"}),
                vec!["title should not be empty", "title must be a string"],
            ),
            (
                "empty title",
                json!({"title": "", "content": "c"}),
                vec!["title should not be empty"],
            ),
            ("numeric title", json!({"title": 1, "content": "c"}), vec!["title must be a string"]),
            (
                "boolean content",
                json!({"title": "t", "content": false}),
                vec!["content must be a string"],
            ),
            ("array title", json!({"title": [], "content": "c"}), vec!["title must be a string"]),
            ("object title", json!({"title": {}, "content": "c"}), vec!["title must be a string"]),
            (
                "256 characters",
                json!({"title": long, "content": "c"}),
                vec!["title must be shorter than or equal to 255 characters"],
            ),
            (
                "a NUL character",
                json!({"title": "a\u{0}b", "content": "c"}),
                vec!["title must not contain the NUL character (\\u0000)"],
            ),
        ];
        for (case, body, expected) in cases {
            let got = CreatePostDto::validate(&object(body)).expect_err(case);
            assert_eq!(got, expected, "case: {case}");
        }
    }

    #[test]
    fn create_accepts_whitespace_255_characters_and_ignores_unknown_fields() {
        let at_limit = "é".repeat(255);
        let dto = CreatePostDto::validate(&object(
            json!({"title": " ", "content": at_limit, "id": 7, "extra": true}),
        ))
        .unwrap();
        assert_eq!(dto, CreatePostDto { title: " ".into(), content: at_limit });
    }

    #[test]
    fn update_fields_are_optional_but_not_nullable() {
        assert_eq!(UpdatePostDto::validate(&Map::new()).unwrap(), UpdatePostDto::default());
        let got = UpdatePostDto::validate(&object(json!({"title": null}))).unwrap_err();
        assert_eq!(got, vec!["title should not be empty", "title must be a string"]);
        let ok = UpdatePostDto::validate(&object(json!({"id": 99, "content": "c"}))).unwrap();
        assert_eq!(ok, UpdatePostDto { title: None, content: Some("c".into()) });
    }

    #[test]
    fn update_checks_the_body_id_first() {
        let got = UpdatePostDto::validate(&object(json!({"id": "1", "title": 5, "content": ""})))
            .unwrap_err();
        assert_eq!(got, vec![ID_MESSAGE, "title must be a string", "content should not be empty"]);
    }
}
