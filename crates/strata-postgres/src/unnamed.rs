//! Statements without server-side state, for connections shared by a transaction-pooling proxy.
//!
//! By default every statement is prepared once per connection under a name (`s0`, `s1`, …) and
//! kept. PgBouncer in transaction mode (and managed poolers like it) hands the server
//! connection to another client after each transaction, so a name prepared by one client is
//! met by the next (`prepared statement "s0" already exists`, SQLSTATE 42P05) or missing when
//! its owner comes back (26000). With the statement cache off, each statement goes out as the
//! unnamed statement: Parse, Bind, Describe, Execute and Sync in one message group, one round
//! trip, nothing left behind in the session.
//!
//! An unnamed statement is bound in the same round trip as it is parsed, so the server cannot
//! tell the parameter types first: they come from the values ([`param_type`]) — an `I64` is an
//! `int8`, a text is `text`, an array of a column's values is that column type's array — and
//! the server converts where SQL allows it (an `int8` compared with an `int4` column, a
//! `text` assigned to a `varchar` or `uuid` column). A `NULL` is sent as `unknown`, which the
//! server resolves from its context as it does for a prepared statement.
//!
//! [`StatementMode`] is shared by a driver's connections. With the cache on, the first 42P05 or
//! 26000 turns it off for the whole driver, logs once what to configure, and a statement
//! outside a transaction is sent again unnamed.

use crate::decode;
use crate::encode::PgParam;
use crate::error;
use futures_util::TryStreamExt;
use std::sync::atomic::{AtomicBool, Ordering};
use strata_core::driver::{Outcome, Param, RowSink, Statement};
use strata_core::{ColumnType, Error, Result, Value};
use tokio_postgres::Client;
use tokio_postgres::types::{ToSql, Type};

/// Whether a driver's connections prepare and cache statements.
#[derive(Debug)]
pub(crate) struct StatementMode {
    cache: AtomicBool,
    /// The advice to turn the cache off has been logged.
    warned: AtomicBool,
}

impl StatementMode {
    pub(crate) fn new(cache: bool) -> Self {
        Self { cache: AtomicBool::new(cache), warned: AtomicBool::new(false) }
    }

    /// True while statements are prepared and cached.
    pub(crate) fn cached(&self) -> bool {
        self.cache.load(Ordering::Relaxed)
    }

    /// After `e` from a cached statement: true when `e` says another client shares the server
    /// session (a transaction-pooling proxy). Turns the cache off for every connection of the
    /// driver and logs, once, what to configure.
    pub(crate) fn shared_session(&self, e: &Error) -> bool {
        if !matches!(e.code(), Some("42P05" | "26000")) {
            return false;
        }
        self.cache.store(false, Ordering::Relaxed);
        if !self.warned.swap(true, Ordering::Relaxed) {
            tracing::error!(
                target: "strata::postgres",
                error = %e,
                "the server session is shared with other clients, as behind PgBouncer in \
                 transaction pooling mode: named prepared statements collide there. Set \
                 STRATA_STATEMENT_CACHE=off (or add ?statement_cache=off to DATABASE_URL); \
                 statements are sent unnamed from now on"
            );
        }
        true
    }
}

/// The type a parameter is declared with.
pub(crate) fn param_type(param: &Param) -> Type {
    match param {
        Param::Value(value) => value_type(value),
        Param::Array(column, _) => array_type(*column),
    }
}

fn value_type(value: &Value) -> Type {
    match value {
        Value::Null => Type::UNKNOWN,
        Value::Bool(_) => Type::BOOL,
        Value::I16(_) => Type::INT2,
        Value::I32(_) => Type::INT4,
        Value::I64(_) => Type::INT8,
        Value::F32(_) => Type::FLOAT4,
        Value::F64(_) => Type::FLOAT8,
        Value::Text(_) => Type::TEXT,
        Value::Bytes(_) => Type::BYTEA,
        Value::Uuid(_) => Type::UUID,
        Value::TimestampTz(_) => Type::TIMESTAMPTZ,
        Value::Date(_) => Type::DATE,
        Value::Json(_) => Type::JSONB,
        // A kind added to the core after this driver: encoding reports it.
        _ => Type::UNKNOWN,
    }
}

fn array_type(column: ColumnType) -> Type {
    match column {
        ColumnType::Bool => Type::BOOL_ARRAY,
        ColumnType::I16 => Type::INT2_ARRAY,
        ColumnType::I32 => Type::INT4_ARRAY,
        ColumnType::I64 => Type::INT8_ARRAY,
        ColumnType::F32 => Type::FLOAT4_ARRAY,
        ColumnType::F64 => Type::FLOAT8_ARRAY,
        // As the dialect casts them: `$1::text[]`.
        ColumnType::Varchar(_) | ColumnType::Text => Type::TEXT_ARRAY,
        ColumnType::Uuid => Type::UUID_ARRAY,
        ColumnType::TimestampTz => Type::TIMESTAMPTZ_ARRAY,
        ColumnType::Date => Type::DATE_ARRAY,
        ColumnType::Json => Type::JSONB_ARRAY,
        ColumnType::Bytes => Type::BYTEA_ARRAY,
        // A type added to the core after this driver, bound as the dialect casts it.
        _ => Type::TEXT_ARRAY,
    }
}

/// Runs `statement` unnamed, handing each decoded row to `row`; returns the rows it returned,
/// or the rows it changed when it returns none.
pub(crate) async fn stream(
    client: &Client,
    statement: &Statement,
    row: &mut RowSink<'_>,
) -> Result<u64> {
    let params: Vec<PgParam<'_>> = statement.params.iter().map(PgParam).collect();
    let typed = params.iter().map(|p| (p as &(dyn ToSql + Sync), param_type(p.0)));
    let stream = client.query_typed_raw(&statement.sql, typed).await.map_err(error::map)?;
    let mut stream = std::pin::pin!(stream);
    let mut decoders = None;
    let mut rows = 0u64;
    let mut values = Vec::new();
    while let Some(r) = stream.try_next().await.map_err(error::map)? {
        let decoders = match &decoders {
            Some(d) => d,
            None => decoders.insert(decode::decoders(r.columns())?),
        };
        decode::decode_row_into(&r, decoders, &mut values)?;
        row(&mut values)?;
        rows += 1;
    }
    if rows == 0 {
        return Ok(stream.rows_affected().unwrap_or(0));
    }
    Ok(rows)
}

/// Runs `statement` unnamed and collects its rows.
pub(crate) async fn run(client: &Client, statement: &Statement) -> Result<Outcome> {
    let mut rows = Vec::new();
    let count = stream(client, statement, &mut |r| {
        rows.push(std::mem::take(r));
        Ok(())
    })
    .await?;
    let rows_affected = if rows.is_empty() { count } else { rows.len() as u64 };
    Ok(Outcome { rows_affected, rows })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strata_core::ErrorKind;

    fn error(code: &str) -> Error {
        Error::new(ErrorKind::Database, format!("SQLSTATE {code}")).with_code(code)
    }

    #[test]
    fn a_name_collision_turns_the_cache_off_for_good_and_other_errors_do_not() {
        let mode = StatementMode::new(true);
        assert!(!mode.shared_session(&error("23505")), "a unique violation is not a collision");
        assert!(mode.cached() && !mode.warned.load(Ordering::Relaxed));
        assert!(mode.shared_session(&error("42P05")), "prepared statement already exists");
        assert!(!mode.cached(), "off for every connection of the driver");
        assert!(mode.warned.load(Ordering::Relaxed), "the advice was logged");
        assert!(mode.shared_session(&error("26000")), "prepared statement does not exist");
        assert!(!mode.cached());
    }

    #[test]
    fn parameters_are_declared_by_their_values_and_null_is_left_to_the_server() {
        assert_eq!(param_type(&Param::Value(Value::Null)), Type::UNKNOWN);
        assert_eq!(param_type(&Param::Value(Value::I64(7))), Type::INT8);
        assert_eq!(param_type(&Param::Value(Value::Text("a".into()))), Type::TEXT);
        let varchar = Param::Array(ColumnType::Varchar(255), vec![Value::Text("a".into())]);
        assert_eq!(param_type(&varchar), Type::TEXT_ARRAY, "as the dialect casts it");
        assert_eq!(param_type(&Param::Array(ColumnType::I32, Vec::new())), Type::INT4_ARRAY);
    }
}
