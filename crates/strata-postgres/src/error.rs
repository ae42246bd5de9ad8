//! PostgreSQL errors to Strata's [`ErrorKind`]s, by SQLSTATE.
//!
//! | SQLSTATE | kind |
//! | --- | --- |
//! | `23505` unique_violation | [`ErrorKind::UniqueViolation`] (constraint name) |
//! | `23503` foreign_key_violation | [`ErrorKind::ForeignKeyViolation`] (constraint name) |
//! | `23502` not_null_violation | [`ErrorKind::NotNullViolation`] (column name) |
//! | `23514` check_violation | [`ErrorKind::CheckViolation`] (constraint name) |
//! | `22001` string_data_right_truncation | [`ErrorKind::ValueTooLong`] |
//! | `22021`, `22P05` (NUL or invalid bytes in text) | [`ErrorKind::InvalidText`] |
//! | `40001`, `40P01` | [`ErrorKind::SerializationFailure`] |
//! | class `08`, `57P01`–`57P03`, a closed connection, I/O, pool timeouts | [`ErrorKind::Connection`] |
//! | anything else | [`ErrorKind::Database`] |

use crate::encode::EncodeError;
use std::error::Error as StdError;
use strata_core::{Error, ErrorKind};
use tokio_postgres::error::{DbError, SqlState};

/// Maps an error of tokio-postgres.
pub(crate) fn map(e: tokio_postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let (kind, message) = from_db(db);
        let code = db.code().code().to_owned();
        return Error::new(kind, message).with_code(code).with_source(e);
    }
    // A parameter the encoder refused: the caller's value, not the database's fault.
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(enc) = s.downcast_ref::<EncodeError>() {
            let message = enc.0.clone();
            return Error::new(ErrorKind::InvalidValue, message).with_source(e);
        }
        source = s.source();
    }
    if e.is_closed() || has_io_source(&e) {
        return Error::new(
            ErrorKind::Connection,
            format!("the connection to PostgreSQL was lost: {}", reasons(&e)),
        )
        .with_source(e);
    }
    Error::new(ErrorKind::Database, format!("PostgreSQL: {}", reasons(&e))).with_source(e)
}

/// `e` and every error under it, joined with `: ` (`error connecting to server: Connection
/// refused (os error 111)`): tokio-postgres keeps the reason in the source, which its own
/// message leaves out. A source whose text the line already holds is skipped.
pub(crate) fn reasons(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// What failed when a connection could not be opened, for the first words of the message.
fn refused_because(e: &tokio_postgres::Error) -> &'static str {
    let mut source = e.source();
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            return match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "the connection was refused",
                std::io::ErrorKind::TimedOut => "the connection timed out",
                _ => "the server could not be reached",
            };
        }
        source = s.source();
    }
    if e.to_string().contains("timeout") {
        return "the connection timed out";
    }
    "the server could not be reached"
}

fn has_io_source(e: &tokio_postgres::Error) -> bool {
    let mut source = e.source();
    while let Some(s) = source {
        if s.is::<std::io::Error>() {
            return true;
        }
        source = s.source();
    }
    false
}

fn from_db(db: &DbError) -> (ErrorKind, String) {
    let mut message = db.message().to_owned();
    if let Some(detail) = db.detail() {
        message.push_str(": ");
        message.push_str(detail);
    }
    let constraint = || db.constraint().map(str::to_owned);
    let code = db.code();
    let kind = if *code == SqlState::UNIQUE_VIOLATION {
        ErrorKind::UniqueViolation(constraint())
    } else if *code == SqlState::FOREIGN_KEY_VIOLATION {
        ErrorKind::ForeignKeyViolation(constraint())
    } else if *code == SqlState::NOT_NULL_VIOLATION {
        ErrorKind::NotNullViolation(db.column().map(str::to_owned))
    } else if *code == SqlState::CHECK_VIOLATION {
        ErrorKind::CheckViolation(constraint())
    } else if *code == SqlState::STRING_DATA_RIGHT_TRUNCATION {
        ErrorKind::ValueTooLong
    } else if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE
        || *code == SqlState::UNTRANSLATABLE_CHARACTER
    {
        ErrorKind::InvalidText
    } else if *code == SqlState::T_R_SERIALIZATION_FAILURE
        || *code == SqlState::T_R_DEADLOCK_DETECTED
    {
        ErrorKind::SerializationFailure
    } else if code.code().starts_with("08")
        || *code == SqlState::ADMIN_SHUTDOWN
        || *code == SqlState::CRASH_SHUTDOWN
        || *code == SqlState::CANNOT_CONNECT_NOW
    {
        ErrorKind::Connection
    } else {
        ErrorKind::Database
    };
    (kind, message)
}

/// Maps an error of the pool, naming the database (without its password), what failed
/// (the connection, the login, the database) with the server's or the system's reason, and
/// what to check.
pub(crate) fn pool(e: deadpool_postgres::PoolError, target: &str) -> Error {
    use deadpool_postgres::PoolError;
    match e {
        PoolError::Backend(e) if e.as_db_error().is_none() => Error::new(
            ErrorKind::Connection,
            format!(
                "cannot connect to PostgreSQL at {target}: {} ({}); check that the server is \
                 running and that DATABASE_URL points at it",
                refused_because(&e),
                reasons(&e)
            ),
        )
        .with_source(e),
        PoolError::Backend(e) => {
            let mapped = map(e);
            let what = match mapped.code() {
                Some(INVALID_AUTHORIZATION | INVALID_PASSWORD) => {
                    "the server refused the login (authentication failed)"
                }
                Some(UNKNOWN_DATABASE) => "the database does not exist",
                Some(TOO_MANY_CONNECTIONS) => "the server accepts no more connections",
                _ => "the server refused the connection",
            };
            let hint = match mapped.code() {
                Some(INVALID_AUTHORIZATION | INVALID_PASSWORD) => {
                    "; check the user and password in DATABASE_URL"
                }
                Some(UNKNOWN_DATABASE) => "; check the database name in DATABASE_URL, or create it",
                _ => "",
            };
            let message = format!(
                "cannot connect to PostgreSQL at {target}: {what} ({}){hint}",
                mapped.message()
            );
            // Authentication or a missing database: refused by the server, not the network.
            let kind = match mapped.kind() {
                ErrorKind::Database => ErrorKind::Connection,
                other => other.clone(),
            };
            let mut err = Error::new(kind, message);
            if let Some(code) = mapped.code() {
                err = err.with_code(code.to_owned());
            }
            err.with_source(mapped)
        }
        PoolError::Timeout(_) => Error::new(
            ErrorKind::Connection,
            format!(
                "timed out waiting for a connection to PostgreSQL at {target}; the server may be \
                 down or every pooled connection busy (raise STRATA_POOL_SIZE)"
            ),
        ),
        other => Error::new(
            ErrorKind::Connection,
            format!("cannot get a connection to PostgreSQL at {target}: {}", reasons(&other)),
        ),
    }
}

/// SQLSTATE `28000` invalid_authorization_specification (an unknown role, a `pg_hba.conf`
/// refusal).
const INVALID_AUTHORIZATION: &str = "28000";
/// SQLSTATE `28P01` invalid_password.
const INVALID_PASSWORD: &str = "28P01";
/// SQLSTATE `3D000` invalid_catalog_name: the database does not exist.
const UNKNOWN_DATABASE: &str = "3D000";
/// SQLSTATE `53300` too_many_connections.
const TOO_MANY_CONNECTIONS: &str = "53300";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_timeouts_are_connection_errors_with_a_hint() {
        let e = pool(
            deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait),
            "postgres://app@db:5432/app",
        );
        assert_eq!(e.kind(), &ErrorKind::Connection);
        assert!(e.message().contains("postgres://app@db:5432/app"), "{e}");
        assert!(e.message().contains("STRATA_POOL_SIZE"), "{e}");
    }
}
