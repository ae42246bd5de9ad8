//! The configuration every service shares, from environment variables (and an optional `.env`,
//! loaded by `main` before this runs). A service adds its own variables around it (`blog-api`'s
//! `JWT_SECRET`), reporting every problem of both together.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `DATABASE_URL` | `postgres://user:password@host:port/db` (read by Strata's configuration) | — |
//! | `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_DB` | the article's variables, used when `DATABASE_URL` is not set; the service reads them (Strata's configuration reads `DATABASE_URL` and `STRATA_*` only) | `127.0.0.1`, `5432`, `postgres`, none, `postgres` |
//! | `STRATA_SCHEMA` | the schema of the posts table | the search path (`public`) |
//! | `STRATA_POOL_SIZE`, `STRATA_LOG_SQL` | pool size; log every statement | `10`, `false` |
//! | `SQLITE_PATH` | the SQLite file used when no PostgreSQL variable is set | the service's (`./data/posts.sqlite`, `./data/blog.sqlite`) |
//! | `PORT` | the HTTP port | `3000` |
//! | `REQUEST_TIMEOUT_SECS` | a request taking longer is answered with 408 | `30` |
//! | `HEADER_READ_TIMEOUT_SECS` | a connection that takes longer to send a request's headers (counted from its connection, or from the previous response when kept alive) is closed | `30` |
//! | `WRITE_TIMEOUT_SECS` | a connection whose client reads nothing of its response for this long is closed | `30` |
//! | `SHUTDOWN_TIMEOUT_SECS` | on SIGTERM or Ctrl-C, the longest the service waits for open connections before it closes them and exits | `10` |
//! | `MIGRATE_ON_START` | apply pending migrations at start-up (`false`: run `<service> migration:up` yourself) | `true` |
//! | `RUST_LOG` (or `LOG_LEVEL`) | log filter (`info`, `posts_api=debug,tower_http=info`, …) | `info` |
//!
//! Every invalid variable is reported, one line each, before start-up stops.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use strata::{DbKind, StrataConfig};

use crate::ServerSettings;
use article::ArticleVariables;

mod article;

/// The variables that select PostgreSQL when any of them is set.
const POSTGRES_VARIABLES: [&str; 6] = [
    "DATABASE_URL",
    "POSTGRES_HOST",
    "POSTGRES_PORT",
    "POSTGRES_USER",
    "POSTGRES_PASSWORD",
    "POSTGRES_DB",
];

/// The HTTP port unless `PORT` says otherwise.
pub const DEFAULT_PORT: u16 = 3000;

/// The default time a request may take before it is answered with 408.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The configuration every service shares.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The HTTP port.
    pub port: u16,
    /// Which database stores the data: PostgreSQL when `DATABASE_URL` or one of the
    /// `POSTGRES_*` variables is set (the connection is [`ServiceConfig::strata`]), else SQLite
    /// ([`ServiceConfig::sqlite_path`]).
    pub database: DbKind,
    /// The log filter (`tracing_subscriber::EnvFilter` directives).
    pub log_filter: String,
    /// How long a request may take before it is answered with 408.
    pub request_timeout: Duration,
    /// How long the server waits on its clients: headers, writes, shutdown.
    pub server: ServerSettings,
    /// Whether the service applies its pending migrations at start-up.
    pub migrate_on_start: bool,
    /// The ORM's configuration for the chosen database: its URL, and `STRATA_POOL_SIZE` and
    /// `STRATA_LOG_SQL` (on both databases) and `STRATA_SCHEMA` (PostgreSQL only).
    pub strata: StrataConfig,
}

impl ServiceConfig {
    /// The defaults (SQLite in `sqlite_default`), for printing help when the environment's
    /// configuration is invalid.
    pub fn for_help(sqlite_default: &str) -> Self {
        Self {
            port: DEFAULT_PORT,
            database: DbKind::Sqlite,
            log_filter: "info".to_owned(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            server: ServerSettings::default(),
            migrate_on_start: true,
            strata: StrataConfig::from_url(sqlite_url(Path::new(sqlite_default))),
        }
    }

    /// The SQLite file the data is stored in (`SQLITE_PATH` or a `sqlite:` URL); `None` on
    /// PostgreSQL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self.database {
            DbKind::Sqlite => Some(sqlite_path(&self.strata.connection_url())),
            DbKind::Postgres => None,
        }
    }
}

/// The `sqlite:` URL of a database file.
fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// The file of a `sqlite:` URL (`sqlite://data/x.sqlite`, `sqlite:data/x.sqlite`).
fn sqlite_path(url: &str) -> PathBuf {
    PathBuf::from(url.trim_start_matches("sqlite:").trim_start_matches("//"))
}

/// An invalid configuration: one problem per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// What is wrong, one entry per variable.
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

impl std::error::Error for ConfigError {}

impl ServiceConfig {
    /// Reads the process environment; without a database variable, the data is stored in the
    /// SQLite file `sqlite_default`.
    ///
    /// # Errors
    ///
    /// Every invalid variable, one line each.
    pub fn from_env(sqlite_default: &str) -> Result<Self, ConfigError> {
        Self::from_lookup(|k| std::env::var(k).ok(), sqlite_default)
    }

    /// Reads variables through `get` (the environment, or a map in tests).
    ///
    /// # Errors
    ///
    /// Every invalid variable, one line each.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
        sqlite_default: &str,
    ) -> Result<Self, ConfigError> {
        let mut problems = Vec::new();
        let config = Self::read(get, sqlite_default, &mut problems);
        match config {
            Some(config) if problems.is_empty() => Ok(config),
            _ => Err(ConfigError { problems }),
        }
    }

    /// Reads variables through `get`, adding every problem to `problems`: a service that has
    /// variables of its own reads them too and reports all problems together. `None` when the
    /// database configuration cannot be built.
    pub fn read(
        get: impl Fn(&str) -> Option<String>,
        sqlite_default: &str,
        problems: &mut Vec<String>,
    ) -> Option<Self> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());

        let port = match get("PORT") {
            None => DEFAULT_PORT,
            Some(p) => p.trim().parse::<u16>().unwrap_or_else(|_| {
                problems.push(format!("PORT must be a port number (0-65535), got {p:?}"));
                0
            }),
        };

        // A positive number of seconds, or the default.
        let mut seconds = |name: &str, default: Duration| match get(name) {
            None => default,
            Some(s) => match s.trim().parse::<u64>() {
                Ok(n) if n > 0 => Duration::from_secs(n),
                _ => {
                    problems
                        .push(format!("{name} must be a positive number of seconds, got {s:?}"));
                    default
                }
            },
        };
        let request_timeout = seconds("REQUEST_TIMEOUT_SECS", DEFAULT_REQUEST_TIMEOUT);
        let server = ServerSettings {
            header_read_timeout: seconds(
                "HEADER_READ_TIMEOUT_SECS",
                ServerSettings::DEFAULT_HEADER_READ_TIMEOUT,
            ),
            write_timeout: seconds("WRITE_TIMEOUT_SECS", ServerSettings::DEFAULT_WRITE_TIMEOUT),
            shutdown_timeout: seconds(
                "SHUTDOWN_TIMEOUT_SECS",
                ServerSettings::DEFAULT_SHUTDOWN_TIMEOUT,
            ),
        };

        let migrate_on_start = match get("MIGRATE_ON_START") {
            None => true,
            Some(s) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => {
                    problems.push(format!("MIGRATE_ON_START must be true or false, got {s:?}"));
                    true
                }
            },
        };

        let log_filter = match (get("RUST_LOG"), get("LOG_LEVEL")) {
            (Some(filter), _) => {
                if let Err(e) = tracing_subscriber::EnvFilter::try_new(&filter) {
                    problems
                        .push(format!("RUST_LOG is not a valid log filter ({e}), got {filter:?}"));
                }
                filter
            }
            (None, Some(level)) => {
                let level = level.trim().to_ascii_lowercase();
                if !["error", "warn", "info", "debug", "trace", "off"].contains(&level.as_str()) {
                    problems.push(format!(
                        "LOG_LEVEL must be one of error, warn, info, debug, trace, off, got {level:?}"
                    ));
                }
                level
            }
            (None, None) => "info".to_owned(),
        };

        // The database, and the URL of the SQLite file when it is SQLite.
        let (database, sqlite) = match get("DATABASE_URL").map(|url| (DbKind::from_url(&url), url))
        {
            Some((Ok(DbKind::Sqlite), url)) => {
                (Some(DbKind::Sqlite), Some(sqlite_url(&sqlite_path(&url))))
            }
            Some((Err(_), url)) => {
                problems.push(format!(
                    "DATABASE_URL must start with postgres:// or postgresql:// (or sqlite:), got {:?}",
                    strata::config::redact_url(&url)
                ));
                (None, None)
            }
            _ if POSTGRES_VARIABLES.iter().any(|k| get(k).is_some()) => {
                (Some(DbKind::Postgres), None)
            }
            _ => {
                let path = get("SQLITE_PATH").unwrap_or_else(|| sqlite_default.to_owned());
                (Some(DbKind::Sqlite), Some(sqlite_url(Path::new(&path))))
            }
        };

        // The library's DATABASE_URL and STRATA_* settings on both databases (the SQLite file
        // as its URL), and the article's POSTGRES_* parts of a PostgreSQL connection.
        let strata = database.and_then(|_| {
            let lookup = |k: &str| match (&sqlite, k) {
                (Some(url), "DATABASE_URL") => Some(url.clone()),
                _ => get(k),
            };
            let library = StrataConfig::from_lookup(lookup)
                .map_err(|e| problems.extend(e.message().lines().map(str::to_owned)));
            let article = ArticleVariables::read(get, problems);
            let mut config = library.ok()?;
            article.apply(&mut config);
            if sqlite.is_some() {
                // SQLite has no schemas: the tables live in the file.
                config.default_schema = None;
            }
            Some(config)
        });

        Some(Self {
            port,
            database: database?,
            log_filter,
            request_timeout,
            server,
            migrate_on_start,
            strata: strata?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const DEFAULT_SQLITE_PATH: &str = "./data/posts.sqlite";

    fn load(vars: &[(&str, &str)]) -> Result<ServiceConfig, ConfigError> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        ServiceConfig::from_lookup(move |k| map.get(k).cloned(), DEFAULT_SQLITE_PATH)
    }

    #[test]
    fn the_sqlite_choice_connects_with_a_sqlite_url() {
        let relative = load(&[("SQLITE_PATH", "./data/posts.sqlite")]).unwrap();
        assert_eq!(relative.strata.connection_url(), "sqlite://./data/posts.sqlite");
        let absolute = load(&[("SQLITE_PATH", "/var/lib/posts.sqlite")]).unwrap();
        assert_eq!(absolute.strata.connection_url(), "sqlite:///var/lib/posts.sqlite");
        let help = ServiceConfig::for_help(DEFAULT_SQLITE_PATH);
        assert_eq!(help.strata.connection_url(), "sqlite://./data/posts.sqlite");
    }

    #[test]
    fn migrate_on_start_can_be_turned_off_and_rejects_other_words() {
        assert!(!load(&[("MIGRATE_ON_START", "false")]).unwrap().migrate_on_start);
        assert!(!load(&[("MIGRATE_ON_START", "0")]).unwrap().migrate_on_start);
        assert!(load(&[("MIGRATE_ON_START", "TRUE")]).unwrap().migrate_on_start);
        let e = load(&[("MIGRATE_ON_START", "sometimes")]).unwrap_err();
        assert_eq!(e.problems, ["MIGRATE_ON_START must be true or false, got \"sometimes\""]);
    }

    #[test]
    fn strata_settings_apply_to_sqlite_too_except_the_schema() {
        let c =
            load(&[("STRATA_POOL_SIZE", "3"), ("STRATA_LOG_SQL", "true"), ("STRATA_SCHEMA", "x")])
                .unwrap();
        assert_eq!(c.strata.connection_url(), "sqlite://./data/posts.sqlite");
        assert_eq!((c.strata.pool_size, c.strata.log_sql), (3, true));
        assert_eq!(c.strata.default_schema, None, "SQLite has no schemas");
        let e = load(&[("STRATA_POOL_SIZE", "0")]).unwrap_err();
        assert_eq!(e.problems.len(), 1, "{:?}", e.problems);
        assert!(e.problems[0].contains("STRATA_POOL_SIZE"), "{:?}", e.problems);
    }

    #[test]
    fn nothing_set_chooses_the_default_sqlite_file_on_port_3000() {
        let c = load(&[]).unwrap();
        assert_eq!(c.port, 3000);
        assert_eq!(c.database, DbKind::Sqlite);
        assert_eq!(c.sqlite_path(), Some(PathBuf::from(DEFAULT_SQLITE_PATH)));
        assert_eq!(c.log_filter, "info");
        assert_eq!(c.request_timeout, Duration::from_secs(30));
        assert_eq!(c.server, ServerSettings::default());
        assert_eq!(c.server.header_read_timeout, Duration::from_secs(30));
        assert_eq!(c.server.write_timeout, Duration::from_secs(30));
        assert_eq!(c.server.shutdown_timeout, Duration::from_secs(10));
        assert!(c.migrate_on_start);
        let c = load(&[("SQLITE_PATH", "/tmp/p.sqlite")]).unwrap();
        assert_eq!(c.database, DbKind::Sqlite);
        assert_eq!(c.sqlite_path(), Some(PathBuf::from("/tmp/p.sqlite")));
    }

    #[test]
    fn the_article_variables_choose_postgres() {
        let c = load(&[
            ("POSTGRES_HOST", "db"),
            ("POSTGRES_PORT", "5433"),
            ("POSTGRES_USER", "admin"),
            ("POSTGRES_PASSWORD", "admin"),
            ("POSTGRES_DB", "nestjs"),
            ("STRATA_SCHEMA", "blog"),
            ("PORT", "8080"),
        ])
        .unwrap();
        assert_eq!(c.port, 8080);
        assert_eq!((c.database, c.sqlite_path()), (DbKind::Postgres, None));
        let pg = &c.strata;
        assert_eq!(pg.redacted_url(), "postgres://admin:***@db:5433/nestjs");
        assert_eq!(pg.default_schema.as_deref(), Some("blog"));
    }

    #[test]
    fn article_variables_build_a_url() {
        let c = load(&[
            ("POSTGRES_HOST", "localhost"),
            ("POSTGRES_PORT", "5433"),
            ("POSTGRES_USER", "admin"),
            ("POSTGRES_PASSWORD", "p@ss word"),
            ("POSTGRES_DB", "nestjs"),
        ])
        .unwrap();
        let c = c.strata;
        assert_eq!(c.connection_url(), "postgres://admin:p%40ss%20word@localhost:5433/nestjs");
        assert_eq!(c.redacted_url(), "postgres://admin:***@localhost:5433/nestjs");
    }

    #[test]
    fn database_url_wins_over_parts() {
        let c =
            load(&[("DATABASE_URL", "postgres://u@h/d"), ("POSTGRES_HOST", "ignored")]).unwrap();
        assert_eq!(c.strata.connection_url(), "postgres://u@h/d");
    }

    #[test]
    fn invalid_variables_are_reported_one_per_line() {
        let e = load(&[("POSTGRES_PORT", "abc"), ("STRATA_POOL_SIZE", "0")]).unwrap_err();
        assert_eq!(e.problems.len(), 2, "{e}");
        assert_eq!(e.to_string().lines().count(), 2, "{e}");
    }

    #[test]
    fn database_url_chooses_the_driver_by_scheme() {
        let c = load(&[("DATABASE_URL", "postgresql://u:p@h/d")]).unwrap();
        assert_eq!((c.database, c.sqlite_path()), (DbKind::Postgres, None));
        assert_eq!(c.strata.connection_url(), "postgresql://u:p@h/d");
        let c = load(&[("DATABASE_URL", "sqlite://data/x.sqlite")]).unwrap();
        assert_eq!(c.database, DbKind::Sqlite);
        assert_eq!(c.sqlite_path(), Some(PathBuf::from("data/x.sqlite")));
    }

    #[test]
    fn every_invalid_variable_is_one_line_and_passwords_stay_hidden() {
        let e = load(&[
            ("PORT", "http"),
            ("POSTGRES_PORT", "99999"),
            ("STRATA_POOL_SIZE", "0"),
            ("LOG_LEVEL", "loud"),
            ("REQUEST_TIMEOUT_SECS", "0"),
        ])
        .unwrap_err();
        assert_eq!(e.problems.len(), 5, "{e}");
        for (problem, variable) in
            e.problems.iter().zip(["PORT", "REQUEST_TIMEOUT_SECS", "LOG_LEVEL"])
        {
            assert!(problem.starts_with(variable), "{problem}");
        }
        let e = load(&[("DATABASE_URL", "mysql://root:hunter2@h/d")]).unwrap_err();
        assert_eq!(e.problems.len(), 1);
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn the_server_timeouts_are_positive_seconds() {
        let c = load(&[
            ("HEADER_READ_TIMEOUT_SECS", "5"),
            ("WRITE_TIMEOUT_SECS", "7"),
            ("SHUTDOWN_TIMEOUT_SECS", "2"),
        ])
        .unwrap();
        let expected = ServerSettings {
            header_read_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(7),
            shutdown_timeout: Duration::from_secs(2),
        };
        assert_eq!(c.server, expected);
        let e = load(&[
            ("HEADER_READ_TIMEOUT_SECS", "0"),
            ("WRITE_TIMEOUT_SECS", "soon"),
            ("SHUTDOWN_TIMEOUT_SECS", "-1"),
        ])
        .unwrap_err();
        assert_eq!(
            e.problems,
            [
                "HEADER_READ_TIMEOUT_SECS must be a positive number of seconds, got \"0\"",
                "WRITE_TIMEOUT_SECS must be a positive number of seconds, got \"soon\"",
                "SHUTDOWN_TIMEOUT_SECS must be a positive number of seconds, got \"-1\"",
            ]
        );
    }

    #[test]
    fn rust_log_wins_over_log_level_and_is_validated() {
        assert_eq!(
            load(&[("RUST_LOG", "debug"), ("LOG_LEVEL", "warn")]).unwrap().log_filter,
            "debug"
        );
        assert_eq!(load(&[("LOG_LEVEL", "WARN")]).unwrap().log_filter, "warn");
        assert!(load(&[("RUST_LOG", "posts_api=notalevel")]).is_err());
    }
}
