//! Reading rows: result columns to [`Value`]s by the column types the STATEMENT declares.
//!
//! A SQLite column holds whatever storage class was written to it, so the driver reads each
//! result column as the [`ColumnType`] the statement declares ([`Statement::returns`]) and
//! converts from the stored form that [`crate::encode`] writes: INTEGER `0`/`1` to a boolean,
//! TEXT to a UUID, timestamp, date or JSON document. Integers come back in the declared width
//! (`I32` for an `integer` column), because the core compares returned keys by value.
//!
//! A result column beyond the declared ones (raw SQL such as `SELECT 1`) is read by its storage
//! class: INTEGER as `I64`, REAL as `F64`, TEXT as `Text`, BLOB as `Bytes`.
//!
//! Values written by other tools are accepted where the meaning is clear: timestamps as
//! `YYYY-MM-DD HH:MM:SS[.fff]` (SQLite's own `datetime()`, read as UTC), with any offset, or as
//! INTEGER Unix seconds; UUIDs as 16-byte BLOBs. Anything else fails with an error of kind
//! `InvalidValue` naming the column.
//!
//! [`Statement::returns`]: strata_core::driver::Statement::returns

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rusqlite::types::ValueRef;
use strata_core::value::ColumnType;
use strata_core::{Error, Result, Value};

/// Reads one row: column `i` as `declared[i]`, or by storage class past the declared ones.
pub(crate) fn row(row: &rusqlite::Row<'_>, declared: &[ColumnType]) -> Result<Vec<Value>> {
    let count = row.as_ref().column_count();
    (0..count)
        .map(|i| {
            let raw = row.get_ref(i).map_err(|e| {
                Error::invalid_value(format!("cannot read result column {i}: {e}")).with_source(e)
            })?;
            match declared.get(i) {
                Some(ty) => value(raw, *ty).map_err(|problem| {
                    let name = row.as_ref().column_name(i).unwrap_or("?");
                    Error::invalid_value(format!(
                        "cannot read result column \"{name}\" as {ty:?}: {problem}"
                    ))
                }),
                None => Ok(dynamic(raw)),
            }
        })
        .collect()
}

/// A stored value as its storage class says.
pub(crate) fn dynamic(raw: ValueRef<'_>) -> Value {
    match raw {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::I64(v),
        ValueRef::Real(v) => Value::F64(v),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Bytes(b.to_vec()),
    }
}

/// The storage class of a stored value, for messages.
fn class(raw: ValueRef<'_>) -> &'static str {
    match raw {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "INTEGER",
        ValueRef::Real(_) => "REAL",
        ValueRef::Text(_) => "TEXT",
        ValueRef::Blob(_) => "BLOB",
    }
}

/// Converts a stored value to `ty`; the error is a description of the problem.
pub(crate) fn value(raw: ValueRef<'_>, ty: ColumnType) -> Result<Value, String> {
    let unexpected = || format!("the database holds a {} value", class(raw));
    if let ValueRef::Null = raw {
        return Ok(Value::Null);
    }
    Ok(match ty {
        ColumnType::Bool => match raw {
            ValueRef::Integer(0) => Value::Bool(false),
            ValueRef::Integer(1) => Value::Bool(true),
            ValueRef::Integer(v) => return Err(format!("{v} is not a boolean (0 or 1)")),
            _ => return Err(unexpected()),
        },
        ColumnType::I16 => {
            let v = integer(raw).ok_or_else(unexpected)?;
            Value::I16(i16::try_from(v).map_err(|_| format!("{v} does not fit smallint"))?)
        }
        ColumnType::I32 => {
            let v = integer(raw).ok_or_else(unexpected)?;
            Value::I32(i32::try_from(v).map_err(|_| format!("{v} does not fit integer"))?)
        }
        ColumnType::I64 => Value::I64(integer(raw).ok_or_else(unexpected)?),
        #[allow(clippy::cast_possible_truncation)]
        ColumnType::F32 => Value::F32(float(raw).ok_or_else(unexpected)? as f32),
        ColumnType::F64 => Value::F64(float(raw).ok_or_else(unexpected)?),
        ColumnType::Varchar(_) | ColumnType::Text => Value::Text(text(raw)?.to_owned()),
        ColumnType::Uuid => match raw {
            ValueRef::Blob(b) => Value::Uuid(
                uuid::Uuid::from_slice(b).map_err(|_| format!("a {}-byte BLOB", b.len()))?,
            ),
            _ => {
                let s = text(raw)?;
                Value::Uuid(uuid::Uuid::parse_str(s).map_err(|e| format!("{s:?}: {e}"))?)
            }
        },
        ColumnType::TimestampTz => {
            match raw {
                ValueRef::Integer(secs) => Value::TimestampTz(
                    DateTime::from_timestamp(secs, 0)
                        .ok_or_else(|| format!("{secs} seconds is out of range"))?,
                ),
                _ => {
                    let s = text(raw)?;
                    Value::TimestampTz(timestamp(s).ok_or_else(|| {
                    format!("{s:?} is not a timestamp (expected RFC 3339, e.g. 2024-02-29T13:45:00Z)")
                })?)
                }
            }
        }
        ColumnType::Date => {
            let s = text(raw)?;
            Value::Date(
                s.parse::<NaiveDate>()
                    .map_err(|_| format!("{s:?} is not a date (expected YYYY-MM-DD)"))?,
            )
        }
        ColumnType::Json => match raw {
            ValueRef::Integer(v) => Value::Json(v.into()),
            ValueRef::Real(v) => Value::Json(v.into()),
            _ => {
                let s = text(raw)?;
                Value::Json(serde_json::from_str(s).map_err(|e| format!("invalid JSON: {e}"))?)
            }
        },
        ColumnType::Bytes => match raw {
            ValueRef::Blob(b) | ValueRef::Text(b) => Value::Bytes(b.to_vec()),
            _ => return Err(unexpected()),
        },
        other => return Err(format!("the SQLite driver does not know the type {other:?}")),
    })
}

/// An INTEGER, or a REAL without a fractional part.
fn integer(raw: ValueRef<'_>) -> Option<i64> {
    match raw {
        ValueRef::Integer(v) => Some(v),
        #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
        ValueRef::Real(f) if f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64 => {
            Some(f as i64)
        }
        _ => None,
    }
}

/// A REAL or an INTEGER.
fn float(raw: ValueRef<'_>) -> Option<f64> {
    match raw {
        ValueRef::Real(f) => Some(f),
        #[allow(clippy::cast_precision_loss)]
        ValueRef::Integer(v) => Some(v as f64),
        _ => None,
    }
}

/// TEXT as UTF-8.
fn text(raw: ValueRef<'_>) -> Result<&str, String> {
    match raw {
        ValueRef::Text(t) => std::str::from_utf8(t).map_err(|e| format!("invalid UTF-8: {e}")),
        _ => Err(format!("the database holds a {} value", class(raw))),
    }
}

/// Parses the stored forms of a timestamp; without an offset the time is UTC.
fn timestamp(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = DateTime::parse_from_str(s, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> ValueRef<'_> {
        ValueRef::Text(s.as_bytes())
    }

    #[test]
    fn stored_forms_convert_to_the_declared_type() {
        let u = uuid::Uuid::new_v4();
        let hyphenated = u.hyphenated().to_string();
        let t: DateTime<Utc> = "2024-02-29T13:45:00.123456Z".parse().unwrap();
        let cases: Vec<(ValueRef<'_>, ColumnType, Value)> = vec![
            (ValueRef::Integer(1), ColumnType::Bool, Value::Bool(true)),
            (ValueRef::Integer(0), ColumnType::Bool, Value::Bool(false)),
            (ValueRef::Integer(-7), ColumnType::I16, Value::I16(-7)),
            (ValueRef::Integer(7), ColumnType::I32, Value::I32(7)),
            (ValueRef::Integer(7), ColumnType::I64, Value::I64(7)),
            (ValueRef::Real(3.0), ColumnType::I32, Value::I32(3)),
            (ValueRef::Real(0.25), ColumnType::F32, Value::F32(0.25)),
            (ValueRef::Integer(2), ColumnType::F64, Value::F64(2.0)),
            (text("héllo"), ColumnType::Varchar(10), Value::Text("héllo".into())),
            (text(&hyphenated), ColumnType::Uuid, Value::Uuid(u)),
            (ValueRef::Blob(u.as_bytes()), ColumnType::Uuid, Value::Uuid(u)),
            (text("2024-02-29T13:45:00.123456Z"), ColumnType::TimestampTz, Value::TimestampTz(t)),
            (text("2024-02-29 13:45:00.123456"), ColumnType::TimestampTz, Value::TimestampTz(t)),
            (
                text("2024-02-29T14:45:00.123456+01:00"),
                ColumnType::TimestampTz,
                Value::TimestampTz(t),
            ),
            (
                ValueRef::Integer(0),
                ColumnType::TimestampTz,
                Value::TimestampTz(DateTime::UNIX_EPOCH),
            ),
            (
                text("2024-02-29"),
                ColumnType::Date,
                Value::Date(NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()),
            ),
            (text(r#"{"a":[1]}"#), ColumnType::Json, Value::Json(serde_json::json!({"a": [1]}))),
            (text("null"), ColumnType::Json, Value::Json(serde_json::Value::Null)),
            (ValueRef::Integer(5), ColumnType::Json, Value::Json(serde_json::json!(5))),
            (ValueRef::Blob(&[0, 1, 255]), ColumnType::Bytes, Value::Bytes(vec![0, 1, 255])),
            (ValueRef::Null, ColumnType::I32, Value::Null),
            (ValueRef::Null, ColumnType::Json, Value::Null),
        ];
        for (raw, ty, expected) in cases {
            assert_eq!(value(raw, ty), Ok(expected), "{raw:?} as {ty:?}");
        }
    }

    #[test]
    fn values_that_do_not_fit_are_described_errors() {
        let cases: Vec<(ValueRef<'_>, ColumnType, &str)> = vec![
            (ValueRef::Integer(2), ColumnType::Bool, "not a boolean"),
            (ValueRef::Integer(70_000), ColumnType::I16, "does not fit smallint"),
            (ValueRef::Real(1.5), ColumnType::I32, "REAL"),
            (text("x"), ColumnType::I64, "TEXT"),
            (ValueRef::Integer(1), ColumnType::Text, "INTEGER"),
            (text("not-a-uuid"), ColumnType::Uuid, "not-a-uuid"),
            (text("yesterday"), ColumnType::TimestampTz, "not a timestamp"),
            (text("2024-13-01"), ColumnType::Date, "not a date"),
            (text("{"), ColumnType::Json, "invalid JSON"),
            (ValueRef::Real(1.0), ColumnType::Bytes, "REAL"),
        ];
        for (raw, ty, needle) in cases {
            let err = value(raw, ty).unwrap_err();
            assert!(err.contains(needle), "{raw:?} as {ty:?}: {err}");
        }
    }

    #[test]
    fn undeclared_columns_are_read_by_storage_class() {
        assert_eq!(dynamic(ValueRef::Integer(1)), Value::I64(1));
        assert_eq!(dynamic(ValueRef::Real(1.5)), Value::F64(1.5));
        assert_eq!(dynamic(text("a")), Value::Text("a".into()));
        assert_eq!(dynamic(ValueRef::Blob(&[1])), Value::Bytes(vec![1]));
        assert_eq!(dynamic(ValueRef::Null), Value::Null);
    }
}
