//! Reading rows: result columns to [`Value`]s by their ACTUAL PostgreSQL type.
//!
//! The decoder of each column is chosen once per statement from the prepared statement's
//! column types ([`decoders`]), before anything runs, so a result column of a type Strata does
//! not know (`numeric`, `inet`, …) fails the statement with an error of kind `InvalidValue`
//! naming the column and its type. Values come back as the database stores them (`int8` as
//! [`Value::I64`], `timestamp` as UTC); converting to the field's type is the core's job.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use strata_core::{Error, Result, Value};
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Column, Row};
use uuid::Uuid;

/// How one result column is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decoder {
    Bool,
    I16,
    I32,
    I64,
    F32,
    F64,
    Text,
    Uuid,
    TimestampTz,
    /// `timestamp` without time zone, read as UTC.
    Timestamp,
    Date,
    Json,
    Bytes,
}

impl Decoder {
    /// The decoder for a PostgreSQL type, if Strata reads it.
    pub(crate) fn for_type(ty: &Type) -> Option<Decoder> {
        Some(match *ty {
            Type::BOOL => Decoder::Bool,
            Type::INT2 => Decoder::I16,
            Type::INT4 => Decoder::I32,
            Type::INT8 => Decoder::I64,
            Type::FLOAT4 => Decoder::F32,
            Type::FLOAT8 => Decoder::F64,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => Decoder::Text,
            Type::UUID => Decoder::Uuid,
            Type::TIMESTAMPTZ => Decoder::TimestampTz,
            Type::TIMESTAMP => Decoder::Timestamp,
            Type::DATE => Decoder::Date,
            Type::JSON | Type::JSONB => Decoder::Json,
            Type::BYTEA => Decoder::Bytes,
            _ => return None,
        })
    }
}

/// The decoders of a statement's result columns, or an error naming the first column of an
/// unsupported type.
pub(crate) fn decoders(columns: &[Column]) -> Result<Vec<Decoder>> {
    columns
        .iter()
        .map(|c| {
            Decoder::for_type(c.type_()).ok_or_else(|| {
                Error::invalid_value(format!(
                    "result column \"{}\" has type {}, which Strata cannot read; cast it in the \
                     query (for example to text or float8)",
                    c.name(),
                    c.type_().name()
                ))
            })
        })
        .collect()
}

/// Decodes one row with the decoders from [`decoders`].
pub(crate) fn decode_row(row: &Row, decoders: &[Decoder]) -> Result<Vec<Value>> {
    decoders.iter().enumerate().map(|(i, d)| decode(row, i, *d)).collect()
}

/// Decodes one row into `values`, replacing what it held: streaming rows reuses one buffer.
pub(crate) fn decode_row_into(
    row: &Row,
    decoders: &[Decoder],
    values: &mut Vec<Value>,
) -> Result<()> {
    values.clear();
    values.reserve(decoders.len());
    for (i, d) in decoders.iter().enumerate() {
        values.push(decode(row, i, *d)?);
    }
    Ok(())
}

fn decode(row: &Row, i: usize, decoder: Decoder) -> Result<Value> {
    Ok(match decoder {
        Decoder::Bool => get::<bool>(row, i)?.map_or(Value::Null, Value::Bool),
        Decoder::I16 => get::<i16>(row, i)?.map_or(Value::Null, Value::I16),
        Decoder::I32 => get::<i32>(row, i)?.map_or(Value::Null, Value::I32),
        Decoder::I64 => get::<i64>(row, i)?.map_or(Value::Null, Value::I64),
        Decoder::F32 => get::<f32>(row, i)?.map_or(Value::Null, Value::F32),
        Decoder::F64 => get::<f64>(row, i)?.map_or(Value::Null, Value::F64),
        Decoder::Text => get::<String>(row, i)?.map_or(Value::Null, Value::Text),
        Decoder::Uuid => get::<Uuid>(row, i)?.map_or(Value::Null, Value::Uuid),
        Decoder::TimestampTz => {
            get::<DateTime<Utc>>(row, i)?.map_or(Value::Null, Value::TimestampTz)
        }
        Decoder::Timestamp => {
            get::<NaiveDateTime>(row, i)?.map_or(Value::Null, |t| Value::TimestampTz(t.and_utc()))
        }
        Decoder::Date => get::<NaiveDate>(row, i)?.map_or(Value::Null, Value::Date),
        Decoder::Json => get::<serde_json::Value>(row, i)?.map_or(Value::Null, Value::Json),
        Decoder::Bytes => get::<Vec<u8>>(row, i)?.map_or(Value::Null, Value::Bytes),
    })
}

fn get<'r, T: FromSql<'r>>(row: &'r Row, i: usize) -> Result<Option<T>> {
    row.try_get::<_, Option<T>>(i).map_err(|e| {
        let column = &row.columns()[i];
        let cause =
            std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
        Error::invalid_value(format!(
            "cannot read result column \"{}\" of type {}: {cause}",
            column.name(),
            column.type_().name()
        ))
        .with_source(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_type_has_a_decoder() {
        for (ty, d) in [
            (Type::BOOL, Decoder::Bool),
            (Type::INT2, Decoder::I16),
            (Type::INT4, Decoder::I32),
            (Type::INT8, Decoder::I64),
            (Type::FLOAT4, Decoder::F32),
            (Type::FLOAT8, Decoder::F64),
            (Type::TEXT, Decoder::Text),
            (Type::VARCHAR, Decoder::Text),
            (Type::BPCHAR, Decoder::Text),
            (Type::NAME, Decoder::Text),
            (Type::UUID, Decoder::Uuid),
            (Type::TIMESTAMPTZ, Decoder::TimestampTz),
            (Type::TIMESTAMP, Decoder::Timestamp),
            (Type::DATE, Decoder::Date),
            (Type::JSON, Decoder::Json),
            (Type::JSONB, Decoder::Json),
            (Type::BYTEA, Decoder::Bytes),
        ] {
            assert_eq!(Decoder::for_type(&ty), Some(d), "decoder of {ty}");
        }
        assert_eq!(Decoder::for_type(&Type::NUMERIC), None);
        assert_eq!(Decoder::for_type(&Type::INT4_ARRAY), None);
    }
}
