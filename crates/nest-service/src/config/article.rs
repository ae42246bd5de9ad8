//! The article's variables, `POSTGRES_HOST`, `POSTGRES_PORT`, `POSTGRES_USER`,
//! `POSTGRES_PASSWORD` and `POSTGRES_DB`: the service's own way of giving a PostgreSQL
//! connection in parts. Strata's configuration reads only `DATABASE_URL` and `STRATA_*`; the
//! service configuration ([`ServiceConfig`](super::ServiceConfig)) reads these too and fills the parts of the
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
