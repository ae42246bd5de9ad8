//! The service's configuration: the variables every service shares
//! ([`nest_service::config::ServiceConfig`]), with the posts stored in `./data/posts.sqlite`
//! when no database is configured. `.env` is loaded by `main` before this runs.
//!
//! | variable | meaning | default |
//! | --- | --- | --- |
//! | `DATABASE_URL` | `postgres://user:password@host:port/db` (read by Strata's configuration) | — |
//! | `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD`, `POSTGRES_DB` | the article's variables, used when `DATABASE_URL` is not set | `127.0.0.1`, `5432`, `postgres`, none, `postgres` |
//! | `STRATA_SCHEMA` | the schema of the posts table | the search path (`public`) |
//! | `STRATA_POOL_SIZE`, `STRATA_LOG_SQL` | pool size; log every statement | `10`, `false` |
//! | `SQLITE_PATH` | the SQLite file used when no PostgreSQL variable is set | `./data/posts.sqlite` |
//! | `PORT` | the HTTP port | `3000` |
//! | `REQUEST_TIMEOUT_SECS` | a request taking longer is answered with 408 | `30` |
//! | `HEADER_READ_TIMEOUT_SECS` | a connection that takes longer to send a request's headers is closed | `30` |
//! | `WRITE_TIMEOUT_SECS` | a connection whose client reads nothing of its response for this long is closed | `30` |
//! | `SHUTDOWN_TIMEOUT_SECS` | on SIGTERM or Ctrl-C, the longest the service waits for open connections | `10` |
//! | `MIGRATE_ON_START` | apply pending migrations at start-up (`false`: run `posts-api migration:up` yourself) | `true` |
//! | `RUST_LOG` (or `LOG_LEVEL`) | log filter (`info`, `posts_api=debug,tower_http=info`, …) | `info` |
//!
//! Every invalid variable is reported, one line each, before start-up stops.

pub use nest_service::config::{ConfigError, DEFAULT_PORT, ServiceConfig as Config};

/// The SQLite file used when no PostgreSQL is configured.
pub const DEFAULT_SQLITE_PATH: &str = "./data/posts.sqlite";

/// Reads the process environment.
///
/// # Errors
///
/// Every invalid variable, one line each.
pub fn from_env() -> Result<Config, ConfigError> {
    Config::from_env(DEFAULT_SQLITE_PATH)
}

/// The defaults, for printing help when the environment's configuration is invalid.
pub fn for_help() -> Config {
    Config::for_help(DEFAULT_SQLITE_PATH)
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
        Config::from_lookup(move |k| map.get(k).cloned(), DEFAULT_SQLITE_PATH)
    }

    #[test]
    fn each_choice_is_the_database_of_its_driver() {
        use strata::driver::dialect::Dialect;
        let pg = load(&[("DATABASE_URL", "postgres://u@h/d")]).unwrap().database;
        assert_eq!(pg, strata::postgres::PgDialect::new().kind());
        let sqlite = load(&[("SQLITE_PATH", "x.sqlite")]).unwrap().database;
        assert_eq!(sqlite, strata::sqlite::SqliteDialect::new().kind());
        let (migrations, dir) = crate::db::migrations_for(sqlite);
        assert!(std::ptr::eq(migrations, crate::db::SQLITE_MIGRATIONS) && dir.ends_with("sqlite"));
        let (migrations, dir) = crate::db::migrations_for(pg);
        assert!(
            std::ptr::eq(migrations, crate::db::POSTGRES_MIGRATIONS) && dir.ends_with("postgres")
        );
    }

    #[test]
    fn nothing_set_chooses_data_posts_sqlite() {
        let c = load(&[]).unwrap();
        assert_eq!(c.database, DbKind::Sqlite);
        assert_eq!(c.sqlite_path(), Some(PathBuf::from("./data/posts.sqlite")));
        assert_eq!(for_help().strata.connection_url(), "sqlite://./data/posts.sqlite");
    }
}
