//! class-validator's rules and messages, in the order the NestJS originals report them, for
//! the DTOs of every service.
//!
//! | rule | messages |
//! | --- | --- |
//! | [`text`] | `should not be empty` (missing, `null`, `""`), `must be a string`, then two rules the originals lacked: at most 255 characters ([`MAX_LENGTH`], class-validator's `MaxLength` message), no NUL character |
//! | [`number_list`] | `each value in <field> must be a number conforming to the specified constraints` for anything but an array of numbers |
//! | [`body_id`] | an optional number that never changes a row's id: [`crate::ID_MESSAGE`] otherwise |
//!
//! Fields are checked in declaration order; unknown fields are ignored; whitespace-only strings
//! are accepted.

use serde_json::Value;

use crate::extract::ID_MESSAGE;

/// The longest string, in characters (the columns are `varchar(255)`).
pub const MAX_LENGTH: usize = 255;

/// Whether a missing field is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// `@IsNotEmpty()`: a missing field is an error.
    Required,
    /// `@IsOptional()` for PATCH: a missing field is fine; an explicit `null` is not (it would
    /// violate `not null`).
    Optional,
}

/// Checks one text field (`@IsString() @IsNotEmpty() @MaxLength(255)`, no NUL) and returns its
/// value when valid; pushes its messages otherwise.
pub fn text(
    name: &str,
    value: Option<&Value>,
    presence: Presence,
    messages: &mut Vec<String>,
) -> Option<String> {
    match value {
        None if presence == Presence::Optional => None,
        None | Some(Value::Null) => {
            messages.push(format!("{name} should not be empty"));
            messages.push(format!("{name} must be a string"));
            None
        }
        Some(Value::String(s)) if s.is_empty() => {
            messages.push(format!("{name} should not be empty"));
            None
        }
        Some(Value::String(s)) => {
            let before = messages.len();
            if s.chars().count() > MAX_LENGTH {
                messages.push(format!(
                    "{name} must be shorter than or equal to {MAX_LENGTH} characters"
                ));
            }
            if s.contains('\0') {
                messages.push(format!("{name} must not contain the NUL character (\\u0000)"));
            }
            (messages.len() == before).then(|| s.clone())
        }
        Some(_) => {
            messages.push(format!("{name} must be a string"));
            None
        }
    }
}

/// Checks a list of numbers (`@IsNumber({}, {each: true})` on an array): the numbers, or its
/// message for anything but an array of numbers (a missing field, `null`, a bare number, a
/// string, an array with a non-number).
pub fn number_list(
    name: &str,
    value: Option<&Value>,
    messages: &mut Vec<String>,
) -> Option<Vec<f64>> {
    let numbers = match value {
        Some(Value::Array(items)) => items.iter().map(Value::as_f64).collect::<Option<Vec<_>>>(),
        _ => None,
    };
    if numbers.is_none() {
        messages.push(format!(
            "each value in {name} must be a number conforming to the specified constraints"
        ));
    }
    numbers
}

/// Checks an optional body `id` (`@IsOptional() @IsNumber()`): it is accepted and ignored, as
/// a row's id never changes.
pub fn body_id(value: Option<&Value>, messages: &mut Vec<String>) {
    match value {
        None | Some(Value::Null | Value::Number(_)) => {}
        Some(_) => messages.push(ID_MESSAGE.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(value: Option<&Value>, presence: Presence) -> Result<String, Vec<String>> {
        let mut messages = Vec::new();
        let got = text("title", value, presence, &mut messages);
        got.ok_or(messages)
    }

    #[test]
    fn text_messages_follow_class_validator() {
        let long = "é".repeat(256);
        let cases: Vec<(Option<Value>, Vec<&str>)> = vec![
            (None, vec!["title should not be empty", "title must be a string"]),
            (Some(json!(null)), vec!["title should not be empty", "title must be a string"]),
            (Some(json!("")), vec!["title should not be empty"]),
            (Some(json!(1)), vec!["title must be a string"]),
            (Some(json!([])), vec!["title must be a string"]),
            (Some(json!(long)), vec!["title must be shorter than or equal to 255 characters"]),
            (Some(json!("a\u{0}b")), vec!["title must not contain the NUL character (\\u0000)"]),
        ];
        for (value, expected) in cases {
            let expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
            assert_eq!(check(value.as_ref(), Presence::Required), Err(expected), "{value:?}");
        }
        let at_limit = json!("é".repeat(255));
        assert_eq!(check(Some(&at_limit), Presence::Required), Ok("é".repeat(255)));
        assert_eq!(check(None, Presence::Optional), Err(Vec::new()), "absent and optional");
    }

    #[test]
    fn number_lists_are_arrays_of_numbers() {
        let message =
            "each value in categories must be a number conforming to the specified constraints";
        for bad in [
            None,
            Some(json!(null)),
            Some(json!(1)),
            Some(json!("1")),
            Some(json!(["1"])),
            Some(json!([{"id": 1}])),
        ] {
            let mut messages = Vec::new();
            assert_eq!(number_list("categories", bad.as_ref(), &mut messages), None, "{bad:?}");
            assert_eq!(messages, [message], "{bad:?}");
        }
        let mut messages = Vec::new();
        let got = number_list("categories", Some(&json!([1, 2.5])), &mut messages);
        assert_eq!((got, messages.len()), (Some(vec![1.0, 2.5]), 0));
    }
}
