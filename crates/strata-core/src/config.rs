//! Configuration: where the database is, the default schema, pool size, SQL logging, the
//! statement cache and read replicas.
//!
//! Read it from a URL, from parts (host, port, user, password, database), or from the
//! environment: `DATABASE_URL`, `STRATA_SCHEMA`, `STRATA_POOL_SIZE`, `STRATA_LOG_SQL`,
//! `STRATA_STATEMENT_CACHE` and `STRATA_READ_REPLICAS`. An application with variables of its own
//! (a service that reads `POSTGRES_HOST`, …) fills the parts from them itself.
//!
//! Behind a connection pooler in transaction mode (PgBouncer's `pool_mode = transaction`),
//! turn the statement cache off: `STRATA_STATEMENT_CACHE=off`, or `?statement_cache=off` at the
//! end of `DATABASE_URL` (see `docs/deployment.md`).
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
    /// Prepare each statement once per connection and keep it (default `true`). `false` sends
    /// every statement unnamed (parsed, bound and executed in one round trip) and keeps no
    /// state in the server session, as a transaction-pooling proxy such as PgBouncer requires.
    /// `?statement_cache=off` in the URL turns it off too.
    pub statement_cache: bool,
    /// Connection URLs of read replicas (streaming standbys) of the database: reads outside a
    /// transaction go to them, spread across them; everything else goes to the primary. Empty
    /// by default.
    pub read_replicas: Vec<String>,
}

impl std::fmt::Debug for StrataConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrataConfig")
            .field("url", &self.redacted_url())
            .field("default_schema", &self.default_schema)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("log_sql", &self.log_sql)
            .field("statement_cache", &self.uses_statement_cache())
            .field(
                "read_replicas",
                &self.read_replicas.iter().map(|u| redact_url(u)).collect::<Vec<_>>(),
            )
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
            statement_cache: true,
            read_replicas: Vec::new(),
        }
    }
}

impl StrataConfig {
    /// A configuration from a connection URL.
    pub fn from_url(url: impl Into<String>) -> Self {
        Self { url: Some(url.into()), ..Self::default() }
    }

    /// Reads `DATABASE_URL`, `STRATA_SCHEMA`, `STRATA_POOL_SIZE`, `STRATA_LOG_SQL`,
    /// `STRATA_STATEMENT_CACHE` (`on`/`off`) and `STRATA_READ_REPLICAS` (URLs separated by
    /// commas). Fails with one line per invalid variable.
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
        if let Some(v) = get("STRATA_STATEMENT_CACHE") {
            match switch(&v) {
                Some(on) => c.statement_cache = on,
                None => problems.push(format!(
                    "STRATA_STATEMENT_CACHE must be on or off (off behind PgBouncer in \
                     transaction mode), got {v:?}"
                )),
            }
        }
        if let Some(v) = get("STRATA_READ_REPLICAS") {
            c.read_replicas =
                v.split(',').map(str::trim).filter(|u| !u.is_empty()).map(str::to_owned).collect();
            for url in &c.read_replicas {
                if !url.starts_with("postgres://") && !url.starts_with("postgresql://") {
                    problems.push(format!(
                        "STRATA_READ_REPLICAS takes postgres:// URLs separated by commas, got {}",
                        redact_url(url)
                    ));
                }
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

    /// Turns the statement cache on or off (see [`StrataConfig::statement_cache`]).
    #[must_use]
    pub fn statement_cache(mut self, on: bool) -> Self {
        self.statement_cache = on;
        self
    }

    /// Adds a read replica (see [`StrataConfig::read_replicas`]).
    #[must_use]
    pub fn read_replica(mut self, url: impl Into<String>) -> Self {
        self.read_replicas.push(url.into());
        self
    }

    /// Whether statements are prepared and cached: [`StrataConfig::statement_cache`] and no
    /// `statement_cache=off` in the URL.
    pub fn uses_statement_cache(&self) -> bool {
        let in_url = self.url.as_deref().and_then(|u| url_setting(u, STATEMENT_CACHE));
        self.statement_cache && in_url.is_none_or(|v| switch(&v) != Some(false))
    }

    /// [`StrataConfig::connection_url`] without Strata's own query parameters
    /// (`statement_cache`), for the driver's connection library.
    pub fn driver_url(&self) -> String {
        without_setting(&self.connection_url(), STATEMENT_CACHE)
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

/// The URL query parameter that turns the statement cache off.
const STATEMENT_CACHE: &str = "statement_cache";

/// `on`/`off` and their synonyms.
fn switch(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The value of query parameter `key` of `url`.
fn url_setting(url: &str, key: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|p| match p.split_once('=') {
        Some((k, v)) if k.eq_ignore_ascii_case(key) => Some(v.to_owned()),
        _ => None,
    })
}

/// `url` without query parameter `key`.
fn without_setting(url: &str, key: &str) -> String {
    let Some((base, query)) = url.split_once('?') else { return url.to_owned() };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| !p.split('=').next().is_some_and(|k| k.eq_ignore_ascii_case(key)))
        .collect();
    if kept.is_empty() { base.to_owned() } else { format!("{base}?{}", kept.join("&")) }
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
    fn the_statement_cache_is_on_unless_the_variable_or_the_url_turns_it_off() {
        let c = StrataConfig::from_lookup(lookup(&[("DATABASE_URL", "postgres://h/db")])).unwrap();
        assert!(c.uses_statement_cache());
        let c = StrataConfig::from_lookup(lookup(&[
            ("DATABASE_URL", "postgres://h/db"),
            ("STRATA_STATEMENT_CACHE", "off"),
        ]))
        .unwrap();
        assert!(!c.uses_statement_cache());
        let c = StrataConfig::from_url("postgres://h:6432/db?sslmode=disable&statement_cache=off");
        assert!(!c.uses_statement_cache());
        assert_eq!(c.driver_url(), "postgres://h:6432/db?sslmode=disable");
        let c = StrataConfig::from_url("postgres://h/db?statement_cache=off");
        assert_eq!(c.driver_url(), "postgres://h/db");
        let c = StrataConfig::from_url("postgres://h/db?statement_cache=on");
        assert!(c.uses_statement_cache());
        let err = StrataConfig::from_lookup(lookup(&[("STRATA_STATEMENT_CACHE", "maybe")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("STRATA_STATEMENT_CACHE must be on or off"), "{err}");
    }

    #[test]
    fn read_replicas_are_a_comma_separated_list_of_postgres_urls() {
        let c = StrataConfig::from_lookup(lookup(&[(
            "STRATA_READ_REPLICAS",
            "postgres://u:pw@r1/db, postgres://r2:5433/db,",
        )]))
        .unwrap();
        assert_eq!(c.read_replicas, ["postgres://u:pw@r1/db", "postgres://r2:5433/db"]);
        assert!(!format!("{c:?}").contains("pw"), "{c:?}");
        let err = StrataConfig::from_lookup(lookup(&[("STRATA_READ_REPLICAS", "r1:5432")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("postgres:// URLs"), "{err}");
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
