//! The bodies of `POST /authentication/register` and `POST /authentication/log-in`.
//!
//! Registration is validated, where the original validated nothing (it answered 500, or stored
//! a number as an email): `email`, `name` and `password` are required non-empty strings of at
//! most 255 characters without NUL (the password has no length limit: only its hash is
//! stored); `address`, when present and not `null`, is an object whose `street`, `city` and
//! `country` follow the same rules, reported as `address.street should not be empty`. The
//! email's format is not checked, as in the original. Unknown fields (`posts`, `id`) are
//! ignored.
//!
//! Log-in reads the body as passport-local does: a missing or empty (falsy) `email` or
//! `password` is 401 `Unauthorized`; any other value that is not a string cannot match a user
//! and is 400 `Wrong credentials provided`.

use nest_service::validation::{self, Presence};
use serde_json::{Map, Value};

/// The body of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterDto {
    /// The email (any text: its format is not checked).
    pub email: String,
    /// The name.
    pub name: String,
    /// The password, hashed before it is stored.
    pub password: String,
    /// The address, if any.
    pub address: AddressInput,
}

/// The `address` of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressInput {
    /// No `address` key: the answer has none either.
    Absent,
    /// `"address": null`: no address, and the answer says `"address":null`.
    Null,
    /// An address, inserted with the user.
    Given(AddressDto),
}

/// A new address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressDto {
    /// The street.
    pub street: String,
    /// The city.
    pub city: String,
    /// The country.
    pub country: String,
}

impl RegisterDto {
    /// Validates a body, returning every message when it is invalid.
    pub fn validate(body: &Map<String, Value>) -> Result<Self, Vec<String>> {
        let mut messages = Vec::new();
        let email = validation::text("email", body.get("email"), Presence::Required, &mut messages);
        let name = validation::text("name", body.get("name"), Presence::Required, &mut messages);
        let password = password(body.get("password"), &mut messages);
        let address = match body.get("address") {
            None => Some(AddressInput::Absent),
            Some(Value::Null) => Some(AddressInput::Null),
            Some(Value::Object(fields)) => {
                let mut field = |name: &str| {
                    let label = format!("address.{name}");
                    validation::text(&label, fields.get(name), Presence::Required, &mut messages)
                };
                let (street, city, country) = (field("street"), field("city"), field("country"));
                match (street, city, country) {
                    (Some(street), Some(city), Some(country)) => {
                        Some(AddressInput::Given(AddressDto { street, city, country }))
                    }
                    _ => None,
                }
            }
            Some(_) => {
                messages.push("address must be an object".to_owned());
                None
            }
        };
        match (email, name, password, address) {
            (Some(email), Some(name), Some(password), Some(address)) if messages.is_empty() => {
                Ok(Self { email, name, password, address })
            }
            _ => Err(messages),
        }
    }
}

/// A required non-empty string without NUL (bcrypt would stop at one); no length limit.
fn password(value: Option<&Value>, messages: &mut Vec<String>) -> Option<String> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => {
            if s.contains('\0') {
                messages.push("password must not contain the NUL character (\\u0000)".to_owned());
                return None;
            }
            Some(s.clone())
        }
        // Missing, null, empty or not a string: the text rules' messages.
        other => validation::text("password", other, Presence::Required, messages),
    }
}

/// What a log-in body asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogIn {
    /// Both fields are strings: check them.
    Credentials {
        /// The email, matched exactly.
        email: String,
        /// The password.
        password: String,
    },
    /// A field is missing or falsy: 401 `Unauthorized`.
    Missing,
    /// A field is not a string: no user can match (400 `Wrong credentials provided`).
    Unmatchable,
}

impl LogIn {
    /// Reads a body as passport-local does.
    pub fn read(body: &Map<String, Value>) -> Self {
        let (email, password) = (body.get("email"), body.get("password"));
        if !truthy(email) || !truthy(password) {
            return Self::Missing;
        }
        match (email, password) {
            (Some(Value::String(email)), Some(Value::String(password))) => {
                Self::Credentials { email: email.clone(), password: password.clone() }
            }
            _ => Self::Unmatchable,
        }
    }
}

/// JavaScript's truthiness of a body field.
fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null | Value::Bool(false)) => false,
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::Array(_) | Value::Object(_) | Value::Bool(true)) => true,
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

    fn register(v: Value) -> Result<RegisterDto, Vec<String>> {
        RegisterDto::validate(&object(v))
    }

    #[test]
    fn a_registration_needs_three_strings() {
        let got = register(json!({})).unwrap_err();
        assert_eq!(
            got,
            [
                "email should not be empty",
                "email must be a string",
                "name should not be empty",
                "name must be a string",
                "password should not be empty",
                "password must be a string",
            ]
        );
        let got = register(json!({"email": 12345, "name": null, "password": 1})).unwrap_err();
        assert_eq!(
            got,
            [
                "email must be a string",
                "name should not be empty",
                "name must be a string",
                "password must be a string",
            ]
        );
    }

    #[test]
    fn an_address_is_an_object_of_three_strings() {
        let base = json!({"email": "a@b.c", "name": "A", "password": "p"});
        let with = |address: Value| {
            let mut body = base.clone();
            body["address"] = address;
            register(body)
        };
        assert_eq!(with(json!("Main Street")).unwrap_err(), ["address must be an object"]);
        assert_eq!(with(json!([])).unwrap_err(), ["address must be an object"]);
        assert_eq!(
            with(json!({"street": "s", "city": "c"})).unwrap_err(),
            ["address.country should not be empty", "address.country must be a string"]
        );
        assert_eq!(with(json!(null)).unwrap().address, AddressInput::Null);
        assert_eq!(register(base.clone()).unwrap().address, AddressInput::Absent);
        let given = with(json!({"street": "s", "city": "c", "country": "x", "id": 9})).unwrap();
        let expected = AddressDto { street: "s".into(), city: "c".into(), country: "x".into() };
        assert_eq!(given.address, AddressInput::Given(expected));
    }

    #[test]
    fn long_and_nul_values_are_refused_except_long_passwords() {
        let long = "x".repeat(256);
        let got =
            register(json!({"email": long, "name": "a\u{0}b", "password": long})).unwrap_err();
        assert_eq!(
            got,
            [
                "email must be shorter than or equal to 255 characters",
                "name must not contain the NUL character (\\u0000)",
            ]
        );
        let got = register(json!({"email": "e", "name": "n", "password": format!("{long}\u{0}")}))
            .unwrap_err();
        assert_eq!(got, ["password must not contain the NUL character (\\u0000)"]);
    }

    #[test]
    fn log_in_reads_the_body_as_passport_local() {
        let read = |v: Value| LogIn::read(&object(v));
        assert_eq!(read(json!({})), LogIn::Missing);
        assert_eq!(read(json!({"email": "a", "password": ""})), LogIn::Missing);
        assert_eq!(read(json!({"email": 0, "password": "p"})), LogIn::Missing);
        assert_eq!(read(json!({"email": 12345, "password": "p"})), LogIn::Unmatchable);
        assert_eq!(read(json!({"email": "a", "password": 12345})), LogIn::Unmatchable);
        assert_eq!(
            read(json!({"email": "a", "password": "p"})),
            LogIn::Credentials { email: "a".into(), password: "p".into() }
        );
    }
}
