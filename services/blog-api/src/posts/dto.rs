//! The bodies of `POST /posts` and `PATCH /posts/:id`.
//!
//! | field | rules (in message order) |
//! | --- | --- |
//! | `id` (PATCH) | optional number; never changes the post's id |
//! | `title`, `content` | required on POST; on PATCH optional but not `null`: a non-empty string of at most 255 characters without NUL |
//! | `categories` | required on POST, optional on PATCH: an array of numbers, `each value in categories must be a number conforming to the specified constraints` otherwise (a bare number, `null` and strings included) |
//!
//! An `id` in a POST body, an `author` (the author is the logged-in user) and unknown fields
//! are ignored. Category ids are [`CategoryIds`]: duplicates removed, and numbers no category
//! can have kept apart so that they are reported as missing without a query.

use nest_service::validation::{self, Presence};
use serde_json::{Map, Value};

/// The body of `POST /posts`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatePostDto {
    /// The title.
    pub title: String,
    /// The content.
    pub content: String,
    /// The categories.
    pub categories: CategoryIds,
}

/// The body of `PATCH /posts/:id`: the fields to change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdatePostDto {
    /// The new title, if given.
    pub title: Option<String>,
    /// The new content, if given.
    pub content: Option<String>,
    /// The new categories (replacing the old ones), if given.
    pub categories: Option<CategoryIds>,
}

/// The category ids of a body, in the order sent, each once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryIds {
    /// The ids a category can have (integers of the `integer` range).
    pub keys: Vec<i32>,
    /// Numbers no category can have (fractions, out of range): missing whatever the database
    /// holds.
    pub impossible: Vec<f64>,
}

impl CategoryIds {
    fn of(numbers: Vec<f64>) -> Self {
        let mut ids = Self::default();
        for n in numbers {
            if n.fract() == 0.0 && n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX) {
                let key = n as i32;
                if !ids.keys.contains(&key) {
                    ids.keys.push(key);
                }
            } else if !ids.impossible.contains(&n) {
                ids.impossible.push(n);
            }
        }
        ids
    }
}

impl CreatePostDto {
    /// Validates a body, returning every message when it is invalid.
    pub fn validate(body: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut messages = Vec::new();
        let title = validation::text("title", body.get("title"), Presence::Required, &mut messages);
        let content =
            validation::text("content", body.get("content"), Presence::Required, &mut messages);
        let categories =
            validation::number_list("categories", body.get("categories"), &mut messages);
        match (title, content, categories) {
            (Some(title), Some(content), Some(categories)) if messages.is_empty() => {
                Ok(Self { title, content, categories: CategoryIds::of(categories) })
            }
            _ => Err(messages),
        }
    }
}

impl UpdatePostDto {
    /// Validates a body, returning every message when it is invalid.
    pub fn validate(body: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut messages = Vec::new();
        validation::body_id(body.get("id"), &mut messages);
        let title = validation::text("title", body.get("title"), Presence::Optional, &mut messages);
        let content =
            validation::text("content", body.get("content"), Presence::Optional, &mut messages);
        let categories = match body.get("categories") {
            None => None,
            given => {
                validation::number_list("categories", given, &mut messages).map(CategoryIds::of)
            }
        };
        if messages.is_empty() { Ok(Self { title, content, categories }) } else { Err(messages) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EACH: &str =
        "each value in categories must be a number conforming to the specified constraints";

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            other => panic!("not an object: {other}"),
        }
    }

    #[test]
    fn create_reports_every_field_in_order() {
        let got = CreatePostDto::validate(&object(json!({}))).unwrap_err();
        assert_eq!(
            got,
            [
                "title should not be empty",
                "title must be a string",
                "content should not be empty",
                "content must be a string",
                EACH,
            ]
        );
        for categories in [json!(null), json!(1), json!("1"), json!(["1"]), json!([{"id": 1}])] {
            let body = json!({"title": "t", "content": "c", "categories": categories});
            assert_eq!(CreatePostDto::validate(&object(body)).unwrap_err(), [EACH], "{categories}");
        }
    }

    #[test]
    fn category_ids_lose_duplicates_and_keep_impossible_numbers_apart() {
        let body = json!({"title": "t", "content": "c", "categories": [3, 1, 3, 1.5, 1e21, -0.0], "id": 100});
        let dto = CreatePostDto::validate(&object(body)).unwrap();
        assert_eq!(dto.categories.keys, [3, 1, 0]);
        assert_eq!(dto.categories.impossible, [1.5, 1e21]);
    }

    #[test]
    fn update_validates_categories_like_create_and_refuses_null() {
        let got = UpdatePostDto::validate(&object(json!({"categories": "x"}))).unwrap_err();
        assert_eq!(got, [EACH]);
        let got = UpdatePostDto::validate(&object(json!({"categories": null, "title": null})))
            .unwrap_err();
        assert_eq!(got, ["title should not be empty", "title must be a string", EACH]);
        let ok = UpdatePostDto::validate(&object(json!({"id": 500, "title": "T", "author": 3})))
            .unwrap();
        assert_eq!(ok, UpdatePostDto { title: Some("T".into()), ..UpdatePostDto::default() });
    }
}
