//! The article's variables, `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`,
//! `POSTGRES_PASSWORD` and `POSTGRES_DB`: the service's own way of giving a PostgreSQL
//! connection in parts. Strata's configuration reads only `DATABASE_URL` and `STRATA_*`; the
//! service's [`Config`](super::Config) reads these too and fills the parts of the
//! `StrataConfig` it builds.

use strata::StrataConfig;

/// The article's variables: a PostgreSQL connection in parts, used when `DATABASE_URL` is not
/// set. The library reads only `DATABASE_URL` and `STRATA_*`; these are the service's.
#[derive(Debug, Default)]
pub(super) struct ArticleVariables {
    host: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    password: Option<String>,
    database: Option<String>,
}

impl ArticleVariables {
    /// Reads `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`, `POSTGRES_PASSWORD` and
    /// `POSTGRES_DB`; an invalid port is a problem.
    pub(super) fn read(get: impl Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Self {
        let port = get("POSTGRES_PORT").and_then(|p| match p.trim().parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => {
                problems.push(format!("POSTGRES_PORT must be a port number (1-65535), got {p:?}"));
                None
            }
        });
        Self {
            host: get("POSTGRES_HOST"),
            port,
            user: get("POSTGRES_USER"),
            password: get("POSTGRES_PASSWORD"),
            database: get("POSTGRES_DB"),
        }
    }

    /// Sets the parts of `config` that the variables give.
    pub(super) fn apply(self, config: &mut StrataConfig) {
        if let Some(host) = self.host {
            config.host = host;
        }
        if let Some(port) = self.port {
            config.port = port;
        }
        if let Some(user) = self.user {
            config.user = user;
        }
        config.password = self.password;
        if let Some(database) = self.database {
            config.database = database;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> =
            vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_lookup(move |k| map.get(k).cloned())
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
}
