//! Binding parameters: [`Param`]s to PostgreSQL's binary format.
//!
//! Every statement is prepared, so the server tells the type of each parameter; [`PgParam`]
//! encodes a [`Value`] as that TARGET type rather than as the value's own type. An `I64` key
//! binds to an `int4` column (range-checked), an `F32` to a `float8` column, and a mismatch
//! (text for a `uuid` column) is an error of kind `InvalidValue`, never a panic.
//! [`Param::Array`] is written as a one-dimensional PostgreSQL array of the element type the
//! server asks for (`$1::int4[]`), with NULL elements.

use bytes::BytesMut;
use postgres_protocol::types::{ArrayDimension, array_to_sql};
use std::error::Error as StdError;
use std::fmt;
use strata_core::Value;
use strata_core::driver::Param;
use tokio_postgres::types::{IsNull, Kind, ToSql, Type};

type BoxError = Box<dyn StdError + Sync + Send>;

/// A parameter that cannot be encoded as the type the server expects.
///
/// tokio-postgres wraps it ("error serializing parameter 2"); [`crate::error`] finds it in the
/// source chain and reports [`strata_core::ErrorKind::InvalidValue`].
#[derive(Debug)]
pub(crate) struct EncodeError(pub(crate) String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for EncodeError {}

fn mismatch(value: &Value, ty: &Type) -> BoxError {
    Box::new(EncodeError(format!(
        "cannot bind a {} value to a parameter of type {}",
        value.type_name(),
        ty.name()
    )))
}

fn out_of_range(value: i64, ty: &Type) -> BoxError {
    Box::new(EncodeError(format!("{value} is out of range for a parameter of type {}", ty.name())))
}

/// One bound parameter, encoded for the type the server gives it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PgParam<'a>(pub(crate) &'a Param);

impl ToSql for PgParam<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match self.0 {
            Param::Value(value) => encode_value(value, ty, out),
            Param::Array(_, values) => encode_array(values, ty, out),
        }
    }

    /// Any type: [`ToSql::to_sql`] decides per value, and reports a mismatch as an error.
    fn accepts(_: &Type) -> bool {
        true
    }

    fn to_sql_checked(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        // `accepts` holds for every type, so the check is the conversion itself.
        self.to_sql(ty, out)
    }
}

/// Writes `values` as a one-dimensional array of the element type of `ty`.
fn encode_array(values: &[Value], ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
    let Kind::Array(member) = ty.kind() else {
        return Err(Box::new(EncodeError(format!(
            "cannot bind an array of {} values to a parameter of type {}",
            values.len(),
            ty.name()
        ))));
    };
    let len = i32::try_from(values.len())
        .map_err(|_| EncodeError(format!("an array of {} values is too long", values.len())))?;
    array_to_sql(
        Some(ArrayDimension { len, lower_bound: 1 }),
        member.oid(),
        values,
        |value, buf| match encode_value(value, member, buf)? {
            IsNull::Yes => Ok(postgres_protocol::IsNull::Yes),
            IsNull::No => Ok(postgres_protocol::IsNull::No),
        },
        out,
    )?;
    Ok(IsNull::No)
}

/// Writes one value as type `ty`, converting between integer widths and float widths.
pub(crate) fn encode_value(
    value: &Value,
    ty: &Type,
    out: &mut BytesMut,
) -> Result<IsNull, BoxError> {
    if value.is_null() {
        return Ok(IsNull::Yes);
    }
    match *ty {
        Type::BOOL => match value {
            Value::Bool(b) => b.to_sql(ty, out),
            _ => Err(mismatch(value, ty)),
        },
        Type::INT2 => {
            let v = integer(value, ty)?;
            i16::try_from(v).map_err(|_| out_of_range(v, ty))?.to_sql(ty, out)
        }
        Type::INT4 => {
            let v = integer(value, ty)?;
            i32::try_from(v).map_err(|_| out_of_range(v, ty))?.to_sql(ty, out)
        }
        Type::INT8 => integer(value, ty)?.to_sql(ty, out),
        Type::FLOAT4 => {
            #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
            let v = match *value {
                Value::F32(f) => f,
                Value::F64(f) => f as f32,
                _ => integer(value, ty)? as f32,
            };
            v.to_sql(ty, out)
        }
        Type::FLOAT8 => {
            #[allow(clippy::cast_precision_loss)]
            let v = match *value {
                Value::F32(f) => f64::from(f),
                Value::F64(f) => f,
                _ => integer(value, ty)? as f64,
            };
            v.to_sql(ty, out)
        }
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => match value {
            Value::Text(s) => s.as_str().to_sql(ty, out),
            _ => Err(mismatch(value, ty)),
        },
        Type::UUID => match value {
            Value::Uuid(u) => u.to_sql(ty, out),
            _ => Err(mismatch(value, ty)),
        },
        Type::TIMESTAMPTZ => match value {
            Value::TimestampTz(t) => t.to_sql(ty, out),
            _ => Err(mismatch(value, ty)),
        },
        // A `timestamp` column holds UTC wall-clock time, as `decode` reads it back.
        Type::TIMESTAMP => match value {
            Value::TimestampTz(t) => t.naive_utc().to_sql(ty, out),
            _ => Err(mismatch(value, ty)),
        },
        Type::DATE => match value {
            Value::Date(d) => d.to_sql(ty, out),
            _ => Err(mismatch(value, ty)),
        },
        Type::JSON | Type::JSONB => match value {
            Value::Json(j) => j.to_sql(ty, out),
            _ => Err(mismatch(value, ty)),
        },
        Type::BYTEA => match value {
            Value::Bytes(b) => b.as_slice().to_sql(ty, out),
            _ => Err(mismatch(value, ty)),
        },
        _ => match (ty.kind(), value) {
            // A domain is stored as its base type.
            (Kind::Domain(base), _) => encode_value(value, base, out),
            // An enum label travels as its text.
            (Kind::Enum(_), Value::Text(s)) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
            _ => Err(mismatch(value, ty)),
        },
    }
}

/// The value as an integer, for an integer (or float) parameter.
fn integer(value: &Value, ty: &Type) -> Result<i64, BoxError> {
    value.as_i64().ok_or_else(|| mismatch(value, ty))
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::ColumnType;

    /// The encoded bytes, with `None` for SQL NULL.
    fn encode(value: Value, ty: &Type) -> Result<(bool, Vec<u8>), String> {
        let mut out = BytesMut::new();
        let param = Param::Value(value);
        PgParam(&param)
            .to_sql_checked(ty, &mut out)
            .map(|n| (matches!(n, IsNull::Yes), out.to_vec()))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn integers_are_converted_to_the_target_width() {
        assert_eq!(encode(Value::I64(7), &Type::INT4).unwrap().1, 7i32.to_be_bytes());
        assert_eq!(encode(Value::I16(7), &Type::INT8).unwrap().1, 7i64.to_be_bytes());
        assert_eq!(encode(Value::I32(-2), &Type::INT2).unwrap().1, (-2i16).to_be_bytes());
        assert_eq!(encode(Value::I32(2), &Type::FLOAT8).unwrap().1, 2f64.to_be_bytes());
        assert_eq!(encode(Value::F32(1.5), &Type::FLOAT8).unwrap().1, 1.5f64.to_be_bytes());
    }

    #[test]
    fn integers_out_of_range_are_errors() {
        let err = encode(Value::I64(70_000), &Type::INT2).unwrap_err();
        assert_eq!(err, "70000 is out of range for a parameter of type int2");
        assert!(encode(Value::I64(i64::from(i32::MAX) + 1), &Type::INT4).is_err());
    }

    #[test]
    fn mismatched_types_are_errors_not_panics() {
        let err = encode(Value::Text("x".into()), &Type::UUID).unwrap_err();
        assert_eq!(err, "cannot bind a text value to a parameter of type uuid");
        assert!(encode(Value::F64(1.0), &Type::INT4).is_err());
        assert!(encode(Value::I32(1), &Type::TEXT).is_err());
        assert!(encode(Value::I32(1), &Type::INT4_ARRAY).is_err());
        assert!(encode(Value::Bool(true), &Type::NUMERIC).is_err());
    }

    #[test]
    fn null_is_null_for_every_type() {
        for ty in [Type::INT4, Type::TEXT, Type::UUID, Type::NUMERIC, Type::INT4_ARRAY] {
            assert!(encode(Value::Null, &ty).unwrap().0);
        }
    }

    #[test]
    fn arrays_hold_null_elements() {
        let param = Param::Array(ColumnType::I32, vec![Value::I32(1), Value::Null, Value::I64(3)]);
        let mut out = BytesMut::new();
        assert!(matches!(PgParam(&param).to_sql(&Type::INT4_ARRAY, &mut out), Ok(IsNull::No)));
        // ndim 1, has-nulls 1, element oid 23, length 3, lower bound 1, then the elements.
        let mut expected = Vec::new();
        for word in [1i32, 1, 23, 3, 1, 4, 1, -1, 4, 3] {
            expected.extend_from_slice(&word.to_be_bytes());
        }
        assert_eq!(out.to_vec(), expected);
    }

    #[test]
    fn arrays_need_an_array_type() {
        let param = Param::Array(ColumnType::I32, vec![Value::I32(1)]);
        let mut out = BytesMut::new();
        assert!(PgParam(&param).to_sql(&Type::INT4, &mut out).is_err());
        let bad = Param::Array(ColumnType::I32, vec![Value::Text("x".into())]);
        assert!(PgParam(&bad).to_sql(&Type::INT4_ARRAY, &mut out).is_err());
    }
}
