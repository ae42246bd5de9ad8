//! Configuration: where the database is, the default schema, pool size and SQL logging.
//!
//! Read it from a URL, from parts (host, port, user, password, database), or from the
//! environment: `DATABASE_URL`, `STRATA_SCHEMA`, `STRATA_POOL_SIZE` and `STRATA_LOG_SQL`. An
//! application with variables of its own (a service that reads `POSTGRES_HOST`, …) fills the
//! parts from them itself.
//!
//! ```
//! use strata_core::config::StrataConfig;
//! let config = StrataConfig::from_url("postgres://app:secret@db.local:5433/blog")
//!     .schema("public")
//!     .pool_size(8);
//! assert_eq!(config.redacted_url(), "postgres://app:***@db.local:5433/blog");
//! ```

use crate::error::{Error, Result};
use std::time::Duration;

/// How to reach the database, and how the ORM behaves.
#[derive(Clone, PartialEq, Eq)]
pub struct StrataConfig {
    /// A full connection URL (`postgres://user:password@host:port/db`). When set, the parts
    /// below are ignored.
    pub url: Option<String>,
    /// The host (default `127.0.0.1`).
    pub host: String,
    /// The port (default 5432).
    pub port: u16,
    /// The user (default `postgres`).
    pub user: String,
    /// The password, if any.
    pub password: Option<String>,
    /// The database name (default `postgres`).
    pub database: String,
    /// The schema for entities that do not name one (`None`: the database's search path).
    pub default_schema: Option<String>,
    /// The most connections the pool opens (default 10).
    pub pool_size: usize,
    /// How long to wait for a connection before failing with a connection error (default 5 s).
    pub connect_timeout: Duration,
    /// Log every statement through `tracing` at INFO (target `strata::sql`); default off.
    pub log_sql: bool,
}

impl std::fmt::Debug for StrataConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrataConfig")
            .field("url", &self.redacted_url())
            .field("default_schema", &self.default_schema)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("log_sql", &self.log_sql)
            .finish()
    }
}

impl Default for StrataConfig {
    fn default() -> Self {
        Self {
            url: None,
            host: "127.0.0.1".into(),
            port: 5432,
            user: "postgres".into(),
            password: None,
            database: "postgres".into(),
            default_schema: None,
            pool_size: 10,
            connect_timeout: Duration::from_secs(5),
            log_sql: false,
        }
    }
}

impl StrataConfig {
    /// A configuration from a connection URL.
    pub fn from_url(url: impl Into<String>) -> Self {
        Self { url: Some(url.into()), ..Self::default() }
    }

    /// Reads `DATABASE_URL`, `STRATA_SCHEMA`, `STRATA_POOL_SIZE` and `STRATA_LOG_SQL`. Fails
    /// with one line per invalid variable.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Like [`StrataConfig::from_env`], reading variables through `get` (for tests and for
    /// applications that merge a `.env` file).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let mut c = Self::default();
        let mut problems = Vec::new();
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        c.url = get("DATABASE_URL");
        c.default_schema = get("STRATA_SCHEMA");
        if let Some(n) = get("STRATA_POOL_SIZE") {
            match n.trim().parse::<usize>() {
                Ok(n) if n > 0 => c.pool_size = n,
                _ => {
                    problems
                        .push(format!("STRATA_POOL_SIZE must be a positive integer, got {n:?}"));
                }
            }
        }
        if let Some(v) = get("STRATA_LOG_SQL") {
            match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => c.log_sql = true,
                "0" | "false" | "no" | "off" => c.log_sql = false,
                _ => problems.push(format!("STRATA_LOG_SQL must be true or false, got {v:?}")),
            }
        }
        if problems.is_empty() { Ok(c) } else { Err(Error::config(problems.join("\n"))) }
    }

    /// Sets the default schema.
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.default_schema = Some(schema.into());
        self
    }

    /// Sets the pool size.
    #[must_use]
    pub fn pool_size(mut self, n: usize) -> Self {
        self.pool_size = n.max(1);
        self
    }

    /// Turns SQL logging on or off.
    #[must_use]
    pub fn log_sql(mut self, on: bool) -> Self {
        self.log_sql = on;
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The connection URL: `url` if set, else one built from the parts.
    pub fn connection_url(&self) -> String {
        if let Some(url) = &self.url {
            return url.clone();
        }
        let auth = match &self.password {
            Some(p) => format!("{}:{}", encode(&self.user), encode(p)),
            None => encode(&self.user),
        };
        format!("postgres://{auth}@{}:{}/{}", self.host, self.port, encode(&self.database))
    }

    /// The connection URL with the password replaced by `***`, for logs and error messages.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.connection_url())
    }
}

/// Replaces the password of a URL (`scheme://user:password@host`, and a `password=` query
/// parameter, which libpq and tokio-postgres accept too) with `***`.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = redact_userinfo(base);
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => p.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

fn redact_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else { return url.to_owned() };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match (authority.rfind('@'), authority.find(':')) {
        (Some(at), Some(colon)) if colon < at => {
            format!("{}{}:***{}", &url[..scheme_end + 3], &authority[..colon], &rest[at..])
        }
        _ => url.to_owned(),
    }
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn parts_build_an_encoded_url() {
        let c = StrataConfig {
            host: "localhost".into(),
            port: 5433,
            user: "admin".into(),
            password: Some("p@ss word".into()),
            database: "nestjs".into(),
            ..StrataConfig::default()
        };
        assert_eq!(c.connection_url(), "postgres://admin:p%40ss%20word@localhost:5433/nestjs");
        assert_eq!(c.redacted_url(), "postgres://admin:***@localhost:5433/nestjs");
    }

    #[test]
    fn database_url_wins_over_parts() {
        let c = StrataConfig::from_lookup(lookup(&[("DATABASE_URL", "postgres://u@h/d")])).unwrap();
        let c = StrataConfig { host: "ignored".into(), ..c };
        assert_eq!(c.connection_url(), "postgres://u@h/d");
    }

    #[test]
    fn the_library_reads_only_its_own_variables() {
        let c = StrataConfig::from_lookup(lookup(&[
            ("POSTGRES_HOST", "db"),
            ("POSTGRES_PORT", "abc"),
            ("STRATA_SCHEMA", "blog"),
        ]))
        .unwrap();
        assert_eq!(c.connection_url(), StrataConfig::default().connection_url());
        assert_eq!(c.default_schema.as_deref(), Some("blog"));
    }

    #[test]
    fn invalid_variables_are_reported_one_per_line() {
        let err = StrataConfig::from_lookup(lookup(&[
            ("STRATA_LOG_SQL", "sometimes"),
            ("STRATA_POOL_SIZE", "0"),
        ]))
        .unwrap_err();
        assert_eq!(err.kind(), &crate::ErrorKind::Config);
        assert_eq!(err.message().lines().count(), 2, "{}", err.message());
    }

    #[test]
    fn sqlite_urls_pass_through_unchanged() {
        for url in ["sqlite://./data/posts.sqlite", "sqlite::memory:", "sqlite:///var/a.db"] {
            let c = StrataConfig::from_url(url);
            assert_eq!(c.connection_url(), url);
            assert_eq!(c.redacted_url(), url);
        }
        let c =
            StrataConfig::from_lookup(lookup(&[("DATABASE_URL", "sqlite://./x.sqlite")])).unwrap();
        assert_eq!(c.connection_url(), "sqlite://./x.sqlite");
    }

    #[test]
    fn a_password_in_the_query_string_is_hidden_too() {
        assert_eq!(
            redact_url("postgres://u@h/d?sslmode=disable&password=hunter2"),
            "postgres://u@h/d?sslmode=disable&password=***"
        );
        assert_eq!(
            redact_url("postgres://u:p@h/d?PASSWORD=x"),
            "postgres://u:***@h/d?PASSWORD=***"
        );
    }

    #[test]
    fn redaction_keeps_urls_without_passwords() {
        assert_eq!(redact_url("postgres://u@h:1/d"), "postgres://u@h:1/d");
        assert_eq!(redact_url("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
