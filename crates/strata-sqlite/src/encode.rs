//! Binding parameters: [`Param`]s to SQLite's storage classes.
//!
//! SQLite stores five kinds of values (NULL, INTEGER, REAL, TEXT, BLOB), so every logical type
//! is written as one of them, in a form that sorts and compares correctly as stored:
//!
//! | value | stored as |
//! | --- | --- |
//! | `Bool` | INTEGER `0` / `1` |
//! | `I16`, `I32`, `I64` | INTEGER |
//! | `F32`, `F64` | REAL (SQLite stores NaN as NULL) |
//! | `Text` | TEXT |
//! | `Uuid` | TEXT, hyphenated lowercase (`67e55044-10b1-426f-9247-bb680e5fe0c8`) |
//! | `TimestampTz` | TEXT, UTC RFC 3339 with exactly six fractional digits (`2024-02-29T13:45:00.000000Z`), so that text order is time order |
//! | `Date` | TEXT `YYYY-MM-DD` |
//! | `Json` | TEXT, the serialized document |
//! | `Bytes` | BLOB |
//!
//! [`Param::Array`] (PostgreSQL's `UNNEST` batching) is never produced by the SQLite dialect;
//! binding one is an error of kind `InvalidValue`.
//!
//! Parameters are converted before a statement is handed to the connection's thread, so the
//! values that travel there are owned.

use rusqlite::types::Value as Sql;
use strata_core::driver::Param;
use strata_core::{Error, Result, Value};

/// The text form of a timestamp: UTC, microseconds, `Z`.
pub(crate) const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Converts every parameter of a statement.
pub(crate) fn params(params: &[Param]) -> Result<Vec<Sql>> {
    params
        .iter()
        .enumerate()
        .map(|(i, p)| match p {
            Param::Value(v) => value(v),
            Param::Array(ty, values) => Err(Error::invalid_value(format!(
                "parameter {} is an array of {} {ty:?} values; SQLite has no array parameters",
                i + 1,
                values.len()
            ))),
        })
        .collect()
}

/// Converts one value.
pub(crate) fn value(value: &Value) -> Result<Sql> {
    Ok(match value {
        Value::Null => Sql::Null,
        Value::Bool(b) => Sql::Integer(i64::from(*b)),
        Value::I16(v) => Sql::Integer(i64::from(*v)),
        Value::I32(v) => Sql::Integer(i64::from(*v)),
        Value::I64(v) => Sql::Integer(*v),
        Value::F32(v) => Sql::Real(f64::from(*v)),
        Value::F64(v) => Sql::Real(*v),
        Value::Text(s) => Sql::Text(s.clone()),
        Value::Bytes(b) => Sql::Blob(b.clone()),
        Value::Uuid(u) => Sql::Text(u.hyphenated().to_string()),
        Value::TimestampTz(t) => Sql::Text(t.format(TIMESTAMP_FORMAT).to_string()),
        Value::Date(d) => Sql::Text(d.format("%Y-%m-%d").to_string()),
        Value::Json(j) => Sql::Text(j.to_string()),
        other => {
            return Err(Error::invalid_value(format!(
                "cannot bind a {} value to SQLite",
                other.type_name()
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate, Utc};
    use strata_core::ColumnType;

    #[test]
    fn every_value_has_a_storage_class() {
        let t: DateTime<Utc> = "2024-02-29T13:45:00.5Z".parse().unwrap();
        let u = uuid::Uuid::parse_str("67E55044-10B1-426F-9247-BB680E5FE0C8").unwrap();
        let cases = [
            (Value::Null, Sql::Null),
            (Value::Bool(true), Sql::Integer(1)),
            (Value::Bool(false), Sql::Integer(0)),
            (Value::I16(-3), Sql::Integer(-3)),
            (Value::I32(i32::MAX), Sql::Integer(i64::from(i32::MAX))),
            (Value::I64(i64::MIN), Sql::Integer(i64::MIN)),
            (Value::F32(0.25), Sql::Real(0.25)),
            (Value::F64(-1.0e300), Sql::Real(-1.0e300)),
            (Value::Text("é".into()), Sql::Text("é".into())),
            (Value::Bytes(vec![0, 255]), Sql::Blob(vec![0, 255])),
            (Value::Uuid(u), Sql::Text("67e55044-10b1-426f-9247-bb680e5fe0c8".into())),
            (Value::TimestampTz(t), Sql::Text("2024-02-29T13:45:00.500000Z".into())),
            (
                Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
                Sql::Text("2024-02-29".into()),
            ),
            (
                Value::Json(serde_json::json!({"a": [1, null]})),
                Sql::Text(r#"{"a":[1,null]}"#.into()),
            ),
        ];
        for (v, expected) in cases {
            assert_eq!(value(&v).unwrap(), expected, "{v:?}");
        }
    }

    #[test]
    fn timestamps_sort_as_text_in_time_order() {
        let a: DateTime<Utc> = "2024-01-01T00:00:09Z".parse().unwrap();
        let b: DateTime<Utc> = "2024-01-01T00:00:10.000001Z".parse().unwrap();
        let c: DateTime<Utc> = "2024-01-01T00:00:10.1Z".parse().unwrap();
        let text = |t| match value(&Value::TimestampTz(t)).unwrap() {
            Sql::Text(s) => s,
            other => panic!("{other:?}"),
        };
        assert!(text(a) < text(b) && text(b) < text(c), "{} {} {}", text(a), text(b), text(c));
    }

    #[test]
    fn arrays_are_refused_with_their_position() {
        let p = [Param::Value(Value::I32(1)), Param::Array(ColumnType::I32, vec![Value::I32(1)])];
        let err = params(&p).unwrap_err();
        assert_eq!(err.kind(), &strata_core::ErrorKind::InvalidValue);
        assert!(err.message().contains("parameter 2"), "{err}");
    }
}
