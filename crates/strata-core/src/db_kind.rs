//! [`DbKind`]: which database, the one answer every layer asks for.
//!
//! A dialect says which database it renders for ([`Dialect::kind`](crate::dialect::Dialect::kind)),
//! a connection URL names one by its scheme ([`DbKind::from_url`]), and everything chosen per
//! database is chosen by matching on this enum: the driver the facade's `connect` opens, the
//! DDL, introspection and migrator backend of `strata-migrate`, the migration set of a
//! `strata-cli` project, and the backend a `strata-test` test runs on.

use crate::error::{Error, Result};
use std::fmt;
use std::str::FromStr;

/// A database Strata has a driver for.
///
/// ```
/// use strata_core::DbKind;
///
/// assert_eq!(DbKind::from_url("postgresql://app@db/blog").unwrap(), DbKind::Postgres);
/// assert_eq!(DbKind::from_url("sqlite://./data/app.sqlite").unwrap(), DbKind::Sqlite);
/// assert_eq!(DbKind::Sqlite.name(), "sqlite");
/// assert!(DbKind::from_url("mysql://root@db/blog").is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DbKind {
    /// PostgreSQL, through `strata-postgres`.
    Postgres,
    /// SQLite, through `strata-sqlite`.
    Sqlite,
}

impl DbKind {
    /// Every database, in a fixed order.
    pub const ALL: [DbKind; 2] = [DbKind::Postgres, DbKind::Sqlite];

    /// The short name: `postgres` or `sqlite` (the URL scheme, and the name of test modules
    /// and migration directories).
    pub fn name(self) -> &'static str {
        match self {
            DbKind::Postgres => "postgres",
            DbKind::Sqlite => "sqlite",
        }
    }

    /// The product's name for messages: `PostgreSQL` or `SQLite`.
    pub fn title(self) -> &'static str {
        match self {
            DbKind::Postgres => "PostgreSQL",
            DbKind::Sqlite => "SQLite",
        }
    }

    /// The database of a short name or URL scheme: `postgres` (or `postgresql`) or `sqlite`.
    pub fn from_name(name: &str) -> Option<DbKind> {
        match name {
            "postgres" | "postgresql" => Some(DbKind::Postgres),
            "sqlite" => Some(DbKind::Sqlite),
            _ => None,
        }
    }

    /// The database a connection URL names by its scheme: `postgres://` or `postgresql://`,
    /// and `sqlite:` (`sqlite://path`, `sqlite::memory:`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for another scheme; the message shows
    /// the URL without its password and the forms accepted.
    pub fn from_url(url: &str) -> Result<DbKind> {
        let scheme = url.split(':').next().unwrap_or_default();
        DbKind::from_name(scheme).ok_or_else(|| {
            Error::config(format!(
                "unsupported database URL scheme {scheme:?} in {}: use \
                 postgres://user:password@host:port/database or sqlite://path/to/file.sqlite",
                crate::config::redact_url(url)
            ))
        })
    }
}

impl fmt::Display for DbKind {
    /// The short name, as [`DbKind::name`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DbKind {
    type Err = Error;

    /// As [`DbKind::from_name`], with an error naming the accepted names.
    fn from_str(s: &str) -> Result<DbKind> {
        DbKind::from_name(s).ok_or_else(|| {
            Error::config(format!("unknown database {s:?}: expected postgres or sqlite"))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_schemes_round_trip() {
        for kind in DbKind::ALL {
            assert_eq!(DbKind::from_name(kind.name()), Some(kind));
            assert_eq!(kind.name().parse::<DbKind>().unwrap(), kind);
            assert_eq!(kind.to_string(), kind.name());
        }
        assert_eq!(DbKind::from_name("postgresql"), Some(DbKind::Postgres));
        assert_eq!(DbKind::from_url("sqlite::memory:").unwrap(), DbKind::Sqlite);
    }

    #[test]
    fn an_unknown_scheme_is_a_config_error_without_the_password() {
        let err = DbKind::from_url("mysql://root:hunter2@db/blog").unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::Config);
        assert!(err.message().contains("\"mysql\""), "{err}");
        assert!(!err.message().contains("hunter2"), "{err}");
    }
}
