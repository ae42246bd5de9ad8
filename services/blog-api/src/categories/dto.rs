//! The bodies of `POST /categories` and `PATCH /categories/:id`.
//!
//! | field | rules |
//! | --- | --- |
//! | `name` | required on POST; on PATCH optional but not `null`: a non-empty string of at most 255 characters without NUL |
//! | `id` (PATCH) | optional number; never changes the category's id (the original moved the row) |
//!
//! An `id` in a POST body and unknown fields are ignored: the database assigns ids.

use nest_service::validation::{self, Presence};
use serde_json::{Map, Value};

/// The body of `POST /categories`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCategoryDto {
    /// The name.
    pub name: String,
}

/// The body of `PATCH /categories/:id`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateCategoryDto {
    /// The new name, if given.
    pub name: Option<String>,
}

impl CreateCategoryDto {
    /// Validates a body, returning every message when it is invalid.
    pub fn validate(body: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut messages = Vec::new();
        let name = validation::text("name", body.get("name"), Presence::Required, &mut messages);
        match name {
            Some(name) if messages.is_empty() => Ok(Self { name }),
            _ => Err(messages),
        }
    }
}

impl UpdateCategoryDto {
    /// Validates a body, returning every message when it is invalid.
    pub fn validate(body: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut messages = Vec::new();
        validation::body_id(body.get("id"), &mut messages);
        let name = validation::text("name", body.get("name"), Presence::Optional, &mut messages);
        if messages.is_empty() { Ok(Self { name }) } else { Err(messages) }
    }
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
    fn create_needs_a_name() {
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (json!({}), vec!["name should not be empty", "name must be a string"]),
            (json!({"name": null}), vec!["name should not be empty", "name must be a string"]),
            (json!({"name": ""}), vec!["name should not be empty"]),
            (json!({"name": 5}), vec!["name must be a string"]),
        ];
        for (body, expected) in cases {
            assert_eq!(
                CreateCategoryDto::validate(&object(body.clone())).unwrap_err(),
                expected,
                "{body}"
            );
        }
        let dto = CreateCategoryDto::validate(&object(json!({"name": "Tech", "id": 70}))).unwrap();
        assert_eq!(dto.name, "Tech");
    }

    #[test]
    fn update_ignores_the_id_and_refuses_null() {
        let ok = UpdateCategoryDto::validate(&object(json!({"id": 50, "name": "Sports"}))).unwrap();
        assert_eq!(ok.name.as_deref(), Some("Sports"));
        let got = UpdateCategoryDto::validate(&object(json!({"name": null}))).unwrap_err();
        assert_eq!(got, ["name should not be empty", "name must be a string"]);
        let got = UpdateCategoryDto::validate(&object(json!({"id": "x"}))).unwrap_err();
        assert_eq!(got, [nest_service::ID_MESSAGE]);
        assert_eq!(UpdateCategoryDto::validate(&Map::new()).unwrap(), UpdateCategoryDto::default());
    }
}
