//! Column types and the values that travel between entities and drivers.
//!
//! [`ColumnType`] is the logical type of a column (what the schema engine renders per dialect);
//! [`Value`] is one database value. [`FieldType`] connects a Rust field type to both: the derive
//! macro uses it for every field, so the set of supported field types is exactly the set of
//! `FieldType` implementations below (plus enums deriving `DbEnum`).

use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// The logical type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// `boolean`
    Bool,
    /// `smallint`
    I16,
    /// `integer`
    I32,
    /// `bigint`
    I64,
    /// `real`
    F32,
    /// `double precision`
    F64,
    /// `varchar(n)`
    Varchar(u32),
    /// `text`
    Text,
    /// `uuid`
    Uuid,
    /// `timestamptz`
    TimestampTz,
    /// `date`
    Date,
    /// `jsonb`
    Json,
    /// `bytea`
    Bytes,
}

impl ColumnType {
    /// True for the text types (`varchar(n)` and `text`).
    pub fn is_text(self) -> bool {
        matches!(self, ColumnType::Varchar(_) | ColumnType::Text)
    }

    /// True for the integer types.
    pub fn is_integer(self) -> bool {
        matches!(self, ColumnType::I16 | ColumnType::I32 | ColumnType::I64)
    }
}

/// One database value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A 16-bit integer.
    I16(i16),
    /// A 32-bit integer.
    I32(i32),
    /// A 64-bit integer.
    I64(i64),
    /// A 32-bit float.
    F32(f32),
    /// A 64-bit float.
    F64(f64),
    /// Text (`varchar`, `text`, enums).
    Text(String),
    /// Bytes (`bytea`).
    Bytes(Vec<u8>),
    /// A UUID.
    Uuid(Uuid),
    /// A point in time, UTC.
    TimestampTz(DateTime<Utc>),
    /// A calendar date.
    Date(NaiveDate),
    /// A JSON document (`jsonb`).
    Json(serde_json::Value),
}

impl Value {
    /// True for `NULL`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value as an `i64`, when it is an integer.
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::I16(v) => Some(v.into()),
            Value::I32(v) => Some(v.into()),
            Value::I64(v) => Some(v),
            _ => None,
        }
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::I16(_) => "smallint",
            Value::I32(_) => "integer",
            Value::I64(_) => "bigint",
            Value::F32(_) => "real",
            Value::F64(_) => "double precision",
            Value::Text(_) => "text",
            Value::Bytes(_) => "bytea",
            Value::Uuid(_) => "uuid",
            Value::TimestampTz(_) => "timestamptz",
            Value::Date(_) => "date",
            Value::Json(_) => "jsonb",
        }
    }

    /// Converts a JSON value (from a PATCH body, say) to a value of column type `ty`.
    ///
    /// `null` becomes [`Value::Null`]; whether the column accepts it is checked by the field.
    pub fn from_json(ty: ColumnType, json: &serde_json::Value) -> Result<Value> {
        use serde_json::Value as J;
        let mismatch =
            || Error::invalid_value(format!("expected a value of type {ty:?}, got JSON {json}"));
        Ok(match (ty, json) {
            // JSON null is SQL NULL for every column, JSON ones included: a JSON column that
            // must hold the JSON value `null` is not nullable, and refuses NULL.
            (_, J::Null) => Value::Null,
            (ColumnType::Json, j) => Value::Json(j.clone()),
            (ColumnType::Bool, J::Bool(b)) => Value::Bool(*b),
            (ColumnType::I16, J::Number(n)) => {
                Value::I16(n.as_i64().and_then(|v| i16::try_from(v).ok()).ok_or_else(mismatch)?)
            }
            (ColumnType::I32, J::Number(n)) => {
                Value::I32(n.as_i64().and_then(|v| i32::try_from(v).ok()).ok_or_else(mismatch)?)
            }
            (ColumnType::I64, J::Number(n)) => Value::I64(n.as_i64().ok_or_else(mismatch)?),
            #[allow(clippy::cast_possible_truncation)]
            (ColumnType::F32, J::Number(n)) => Value::F32(n.as_f64().ok_or_else(mismatch)? as f32),
            (ColumnType::F64, J::Number(n)) => Value::F64(n.as_f64().ok_or_else(mismatch)?),
            (ColumnType::Varchar(_) | ColumnType::Text, J::String(s)) => Value::Text(s.clone()),
            (ColumnType::Uuid, J::String(s)) => {
                Value::Uuid(Uuid::parse_str(s).map_err(|_| mismatch())?)
            }
            (ColumnType::TimestampTz, J::String(s)) => Value::TimestampTz(
                DateTime::parse_from_rfc3339(s).map_err(|_| mismatch())?.with_timezone(&Utc),
            ),
            (ColumnType::Date, J::String(s)) => {
                Value::Date(s.parse::<NaiveDate>().map_err(|_| mismatch())?)
            }
            (ColumnType::Bytes, J::Array(items)) => Value::Bytes(
                items
                    .iter()
                    .map(|i| i.as_u64().and_then(|b| u8::try_from(b).ok()).ok_or_else(mismatch))
                    .collect::<Result<_>>()?,
            ),
            _ => return Err(mismatch()),
        })
    }
}

/// A Rust type that can be an entity field.
///
/// Implemented for `bool`, `i16`, `i32`, `i64`, `f32`, `f64`, `String`, `Vec<u8>`,
/// `uuid::Uuid`, `chrono::DateTime<Utc>`, `chrono::NaiveDate`, `serde_json::Value`,
/// `Option<T>` of any of these, and enums deriving `DbEnum`.
pub trait FieldType: Clone + Send + Sync + 'static {
    /// The column type used when the field has no explicit `type`/`length`.
    const COLUMN_TYPE: ColumnType;
    /// True for `Option<T>`.
    const NULLABLE: bool = false;
    /// For enums stored as text, the allowed values.
    const ENUM_VALUES: Option<&'static [&'static str]> = None;

    /// Converts the field to a database value.
    fn to_value(&self) -> Value;

    /// Converts a database value back to the field.
    fn from_value(value: Value) -> Result<Self>;

    /// True when `self` and `other` would be stored as the same value. Used by dirty checking.
    fn same(&self, other: &Self) -> bool;

    /// True when the field holds no value the application chose, so that an `on_create` hook
    /// may fill it: `None` for an `Option`, and for the other types their zero value — `0`,
    /// `0.0`, `false`, an empty string or byte array, the nil UUID, the Unix epoch (the
    /// timestamp and date `Default`), JSON `null`. An enum is never unset.
    fn is_unset_value(&self) -> bool {
        false
    }
}

fn wrong_type(expected: &str, got: &Value) -> Error {
    Error::invalid_value(format!("expected {expected}, got {}", got.type_name()))
}

macro_rules! field_type {
    ($ty:ty, $col:expr, $variant:ident, $name:literal, $unset:expr) => {
        impl FieldType for $ty {
            const COLUMN_TYPE: ColumnType = $col;
            fn to_value(&self) -> Value {
                Value::$variant(self.clone())
            }
            fn from_value(value: Value) -> Result<Self> {
                match value {
                    Value::$variant(v) => Ok(v),
                    other => Err(wrong_type($name, &other)),
                }
            }
            fn same(&self, other: &Self) -> bool {
                self == other
            }
            fn is_unset_value(&self) -> bool {
                let unset: fn(&$ty) -> bool = $unset;
                unset(self)
            }
        }
    };
}

field_type!(bool, ColumnType::Bool, Bool, "boolean", |b| !*b);
field_type!(String, ColumnType::Varchar(255), Text, "text", String::is_empty);
field_type!(Vec<u8>, ColumnType::Bytes, Bytes, "bytea", Vec::is_empty);
field_type!(Uuid, ColumnType::Uuid, Uuid, "uuid", Uuid::is_nil);
field_type!(DateTime<Utc>, ColumnType::TimestampTz, TimestampTz, "timestamptz", |t| {
    *t == DateTime::<Utc>::UNIX_EPOCH
});
field_type!(NaiveDate, ColumnType::Date, Date, "date", |d| *d == NaiveDate::default());
field_type!(serde_json::Value, ColumnType::Json, Json, "jsonb", serde_json::Value::is_null);

macro_rules! int_field_type {
    ($ty:ty, $col:expr, $variant:ident, $name:literal) => {
        impl FieldType for $ty {
            const COLUMN_TYPE: ColumnType = $col;
            fn to_value(&self) -> Value {
                Value::$variant(*self)
            }
            fn from_value(value: Value) -> Result<Self> {
                // Integers widen or narrow losslessly or fail: a driver may report a
                // different width than the field's (SQLite has one integer type).
                let wide = value.as_i64().ok_or_else(|| wrong_type($name, &value))?;
                <$ty>::try_from(wide)
                    .map_err(|_| Error::invalid_value(format!("{wide} does not fit {}", $name)))
            }
            fn same(&self, other: &Self) -> bool {
                self == other
            }
            fn is_unset_value(&self) -> bool {
                *self == 0
            }
        }
    };
}

int_field_type!(i16, ColumnType::I16, I16, "smallint");
int_field_type!(i32, ColumnType::I32, I32, "integer");
int_field_type!(i64, ColumnType::I64, I64, "bigint");

macro_rules! float_field_type {
    ($ty:ty, $col:expr, $variant:ident, $name:literal) => {
        impl FieldType for $ty {
            const COLUMN_TYPE: ColumnType = $col;
            fn to_value(&self) -> Value {
                Value::$variant(*self)
            }
            #[allow(clippy::cast_possible_truncation)]
            fn from_value(value: Value) -> Result<Self> {
                match value {
                    Value::F32(v) => Ok(v as $ty),
                    Value::F64(v) => Ok(v as $ty),
                    other => Err(wrong_type($name, &other)),
                }
            }
            // Bitwise, so that NaN equals NaN and a NaN field is not dirty forever.
            fn same(&self, other: &Self) -> bool {
                self.to_bits() == other.to_bits()
            }
            fn is_unset_value(&self) -> bool {
                *self == 0.0
            }
        }
    };
}

float_field_type!(f32, ColumnType::F32, F32, "real");
float_field_type!(f64, ColumnType::F64, F64, "double precision");

impl<T: FieldType> FieldType for Option<T> {
    const COLUMN_TYPE: ColumnType = T::COLUMN_TYPE;
    const NULLABLE: bool = true;
    const ENUM_VALUES: Option<&'static [&'static str]> = T::ENUM_VALUES;

    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
    fn from_value(value: Value) -> Result<Self> {
        match value {
            Value::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
    fn same(&self, other: &Self) -> bool {
        match (self, other) {
            (Some(a), Some(b)) => a.same(b),
            (None, None) => true,
            _ => false,
        }
    }
    fn is_unset_value(&self) -> bool {
        self.is_none()
    }
}

/// A Rust enum stored as text. Derive it with `#[derive(DbEnum)]`: unit variants only, each
/// stored as its snake_case name unless renamed with `#[strata(rename = "…")]`.
pub trait DbEnum: Sized + Clone + PartialEq + Send + Sync + 'static {
    /// Every stored value, in declaration order.
    const VALUES: &'static [&'static str];
    /// The stored text of this variant.
    fn as_str(&self) -> &'static str;
    /// The variant stored as `s`.
    fn from_str_value(s: &str) -> Option<Self>;
}

/// Converts a filter argument to a [`Value`] for a column whose field type is `T`.
///
/// Lets `Col<E, String>` take a `&str`, and `Col<E, Option<i32>>` take an `i32`.
pub trait IntoValue<T> {
    /// The database value.
    fn into_value(self) -> Value;
}

impl<T: FieldType> IntoValue<T> for T {
    fn into_value(self) -> Value {
        self.to_value()
    }
}

impl<T: FieldType> IntoValue<Option<T>> for T {
    fn into_value(self) -> Value {
        self.to_value()
    }
}

impl IntoValue<String> for &str {
    fn into_value(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl IntoValue<Option<String>> for &str {
    fn into_value(self) -> Value {
        Value::Text(self.to_owned())
    }
}

impl IntoValue<String> for &String {
    fn into_value(self) -> Value {
        Value::Text(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn option_round_trips_null_and_value() {
        assert_eq!(Some(5i32).to_value(), Value::I32(5));
        assert_eq!(None::<i32>.to_value(), Value::Null);
        assert_eq!(Option::<i32>::from_value(Value::Null).unwrap(), None);
        assert_eq!(Option::<i32>::from_value(Value::I64(7)).unwrap(), Some(7));
    }

    #[test]
    fn integers_refuse_values_that_do_not_fit() {
        let err = i16::from_value(Value::I64(70_000)).unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::InvalidValue);
    }

    #[test]
    fn nan_floats_are_not_dirty() {
        assert!(f64::NAN.same(&f64::NAN));
        assert!(!0.1f64.same(&0.2));
    }

    #[test]
    fn json_conversion_checks_types() {
        let v = Value::from_json(ColumnType::Varchar(255), &serde_json::json!("x")).unwrap();
        assert_eq!(v, Value::Text("x".into()));
        assert!(Value::from_json(ColumnType::I32, &serde_json::json!("x")).is_err());
        assert!(Value::from_json(ColumnType::I16, &serde_json::json!(1_000_000)).is_err());
        assert_eq!(
            Value::from_json(ColumnType::Text, &serde_json::Value::Null).unwrap(),
            Value::Null
        );
        // JSON null is SQL NULL for a JSON column too (`None` for an `Option<Value>` field).
        assert_eq!(
            Value::from_json(ColumnType::Json, &serde_json::Value::Null).unwrap(),
            Value::Null
        );
    }
}
