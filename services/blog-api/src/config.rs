//! The service's configuration: the variables every service shares ([`ServiceConfig`], in
//! `nest-service`; the data in `./data/blog.sqlite` when no database is configured) and the
//! two of article #63, both required:
//!
//! | variable | meaning |
//! | --- | --- |
//! | `JWT_SECRET` | the key that signs the authentication tokens (HS256); at least 1 character, a long random string in production |
//! | `JWT_EXPIRATION_TIME` | how long a token (and its cookie's `Max-Age`) lasts, in seconds: a positive whole number |
//!
//! The shared variables are `DATABASE_URL`, `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`,
//! `POSTGRES_PASSWORD`, `POSTGRES_DB`, `STRATA_SCHEMA`, `STRATA_POOL_SIZE`, `STRATA_LOG_SQL`,
//! `SQLITE_PATH`, `PORT`, `REQUEST_TIMEOUT_SECS`, `HEADER_READ_TIMEOUT_SECS`,
//! `WRITE_TIMEOUT_SECS`, `SHUTDOWN_TIMEOUT_SECS`, `MIGRATE_ON_START`, `RUST_LOG` / `LOG_LEVEL`
//! (see `nest_service::config` and `.env.example`). Every invalid variable, of either kind, is
//! reported, one line each, before start-up stops.

use std::fmt;

pub use nest_service::config::{ConfigError, ServiceConfig};

/// The SQLite file used when no PostgreSQL is configured.
pub const DEFAULT_SQLITE_PATH: &str = "./data/blog.sqlite";

/// The longest `JWT_EXPIRATION_TIME`: ten years, in seconds.
pub const MAX_EXPIRATION_SECS: u64 = 10 * 365 * 24 * 60 * 60;

/// The configuration of the blog service.
#[derive(Debug, Clone)]
pub struct Config {
    /// The variables every service shares.
    pub service: ServiceConfig,
    /// The authentication tokens' key and lifetime.
    pub jwt: JwtSettings,
}

/// `JWT_SECRET` and `JWT_EXPIRATION_TIME`.
#[derive(Clone, PartialEq, Eq)]
pub struct JwtSettings {
    /// The signing key.
    pub secret: String,
    /// The lifetime of a token and of its cookie, in seconds.
    pub expiration_secs: u64,
}

impl fmt::Debug for JwtSettings {
    /// The secret is never printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSettings")
            .field("secret", &"***")
            .field("expiration_secs", &self.expiration_secs)
            .finish()
    }
}

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    ///
    /// Every invalid or missing variable, one line each.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads variables through `get` (the environment, or a map in tests).
    ///
    /// # Errors
    ///
    /// Every invalid or missing variable, one line each.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let service = ServiceConfig::read(&get, DEFAULT_SQLITE_PATH, &mut problems);
        let jwt = JwtSettings::read(&get, &mut problems);
        match (service, jwt) {
            (Some(service), Some(jwt)) if problems.is_empty() => Ok(Self { service, jwt }),
            _ => Err(ConfigError { problems }),
        }
    }
}

/// The shared variables alone, for the Strata commands (`migration:up`, …), which sign no
/// tokens and so need no `JWT_*` variable.
///
/// # Errors
///
/// Every invalid shared variable, one line each.
pub fn service_from_env() -> Result<ServiceConfig, ConfigError> {
    ServiceConfig::from_env(DEFAULT_SQLITE_PATH)
}

/// The defaults, for printing help when the environment's configuration is invalid.
pub fn for_help() -> ServiceConfig {
    ServiceConfig::for_help(DEFAULT_SQLITE_PATH)
}

impl JwtSettings {
    /// Reads `JWT_SECRET` and `JWT_EXPIRATION_TIME`, adding a problem for each missing or
    /// invalid one.
    pub fn read(get: impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Option<Self> {
        // A secret is used as given (spaces are part of it); only an empty one is missing.
        let secret = get("JWT_SECRET").filter(|s| !s.is_empty());
        if secret.is_none() {
            problems.push(
                "JWT_SECRET is required: set it to a long random string, the key that signs the \
                 authentication tokens (e.g. the output of `openssl rand -hex 32`)"
                    .to_owned(),
            );
        }
        let expiration = match get("JWT_EXPIRATION_TIME").filter(|s| !s.trim().is_empty()) {
            None => {
                problems.push(
                    "JWT_EXPIRATION_TIME is required: how long a log-in lasts, in seconds \
                     (e.g. 3600)"
                        .to_owned(),
                );
                None
            }
            Some(s) => match s.trim().parse::<u64>() {
                Ok(n) if (1..=MAX_EXPIRATION_SECS).contains(&n) => Some(n),
                _ => {
                    problems.push(format!(
                        "JWT_EXPIRATION_TIME must be a whole number of seconds from 1 to \
                         {MAX_EXPIRATION_SECS}, got {s:?}"
                    ));
                    None
                }
            },
        };
        Some(Self { secret: secret?, expiration_secs: expiration? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::path::PathBuf;
    use strata::DbKind;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(move |k| map.get(k).cloned())
    }

    const JWT: [(&str, &str); 2] = [("JWT_SECRET", "s3cret"), ("JWT_EXPIRATION_TIME", "3600")];

    #[test]
    fn nothing_but_the_jwt_variables_chooses_data_blog_sqlite() {
        let c = load(&JWT).unwrap();
        assert_eq!(c.service.database, DbKind::Sqlite);
        assert_eq!(c.service.sqlite_path(), Some(PathBuf::from("./data/blog.sqlite")));
        assert_eq!(c.jwt, JwtSettings { secret: "s3cret".into(), expiration_secs: 3600 });
        assert!(!format!("{c:?}").contains("s3cret"), "the secret is never printed");
    }

    #[test]
    fn both_jwt_variables_are_required() {
        let e = load(&[]).unwrap_err();
        assert_eq!(e.problems.len(), 2, "{e}");
        assert!(e.problems[0].starts_with("JWT_SECRET is required"), "{e}");
        assert!(e.problems[1].starts_with("JWT_EXPIRATION_TIME is required"), "{e}");
        let e = load(&[("JWT_SECRET", ""), ("JWT_EXPIRATION_TIME", " ")]).unwrap_err();
        assert_eq!(e.problems.len(), 2, "empty is missing: {e}");
    }

    #[test]
    fn the_expiration_is_a_positive_number_of_seconds() {
        for bad in ["0", "-1", "1h", "3600s", "1.5", "99999999999999999999", "315360001"] {
            let e = load(&[("JWT_SECRET", "x"), ("JWT_EXPIRATION_TIME", bad)]).unwrap_err();
            assert_eq!(e.problems.len(), 1, "{bad}: {e}");
            assert!(e.problems[0].starts_with("JWT_EXPIRATION_TIME must be"), "{bad}: {e}");
        }
        let c = load(&[("JWT_SECRET", "x"), ("JWT_EXPIRATION_TIME", " 60 ")]).unwrap();
        assert_eq!(c.jwt.expiration_secs, 60);
    }

    #[test]
    fn jwt_problems_are_reported_with_the_others() {
        let e = load(&[("PORT", "http"), ("JWT_EXPIRATION_TIME", "soon")]).unwrap_err();
        assert_eq!(e.problems.len(), 3, "{e}");
        assert!(e.problems[0].starts_with("PORT"), "{e}");
    }

    #[test]
    fn the_article_variables_choose_postgres() {
        let mut vars = vec![("POSTGRES_HOST", "db"), ("POSTGRES_DB", "nestjs")];
        vars.extend(JWT);
        let c = load(&vars).unwrap();
        assert_eq!(c.service.database, DbKind::Postgres);
        assert_eq!(c.service.strata.redacted_url(), "postgres://postgres@db:5432/nestjs");
    }
}
