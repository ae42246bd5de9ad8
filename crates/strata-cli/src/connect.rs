//! Connecting to the configured database (through the facade's `Strata::connect`), and to its
//! server's maintenance database for `database:create`.

use strata::{Connect, DbKind, Error, ErrorKind, Result, Strata, StrataConfig};

/// What an application's configuration calls the settings of its database connection, so that
/// the advice after a PostgreSQL connection error names them. The default is Strata's own
/// configuration ([`StrataConfig::from_env`]), where both are in `DATABASE_URL`.
///
/// ```
/// let settings = strata_cli::ConnectionSettings {
///     server: "DATABASE_URL, or POSTGRES_HOST and POSTGRES_PORT".into(),
///     login: "DATABASE_URL, or POSTGRES_USER and POSTGRES_PASSWORD".into(),
/// };
/// # let entities = [];
/// let project = strata_cli::Project::new(&entities).connection_settings(settings);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionSettings {
    /// Where the server is (host and port).
    pub server: String,
    /// The login (user and password).
    pub login: String,
}

impl Default for ConnectionSettings {
    fn default() -> Self {
        Self { server: "DATABASE_URL".into(), login: "DATABASE_URL".into() }
    }
}

/// Connects to the database of `config` and checks that it answers; a PostgreSQL connection
/// error says what to do next, naming `settings`.
pub(crate) async fn connect(
    config: &StrataConfig,
    settings: &ConnectionSettings,
) -> Result<Strata> {
    let kind = DbKind::from_url(&config.connection_url())?;
    let connected = Strata::connect(config.clone()).await;
    match kind {
        DbKind::Postgres => connected.map_err(|e| advise(e, settings)),
        DbKind::Sqlite => connected,
    }
}

/// Adds what to do next to a connection error. The driver's message already says what failed
/// (the connection, the login, the database) and why; this adds the command that helps, or
/// the application's settings to check when the message does not name them yet.
fn advise(e: Error, settings: &ConnectionSettings) -> Error {
    if e.kind() != &ErrorKind::Connection {
        return e;
    }
    let check = match e.code() {
        Some("3D000") => return e.with_hint("run the `database:create` command to create it"),
        // invalid_password, invalid_authorization_specification
        Some("28P01" | "28000") => &settings.login,
        _ => &settings.server,
    };
    if e.message().contains(check.as_str()) { e } else { e.with_hint(format!("check {check}")) }
}

/// The database name of `config`, and a configuration for the maintenance database `postgres`
/// of the same server (to create the first from).
pub(crate) fn maintenance(config: &StrataConfig) -> Result<(String, StrataConfig)> {
    let mut maint = config.clone().pool_size(1);
    let Some(url) = &config.url else {
        maint.database = "postgres".into();
        return Ok((config.database.clone(), maint));
    };
    let bad = || {
        Error::config(format!(
            "cannot find the database name in {}: expected postgres://user:password@host:port/database",
            config.redacted_url()
        ))
    };
    let after_scheme = url.find("://").ok_or_else(bad)? + 3;
    let path_start = url[after_scheme..].find('/').map(|i| after_scheme + i).ok_or_else(bad)?;
    let path_end = url[path_start..].find('?').map_or(url.len(), |i| path_start + i);
    let name = decode(&url[path_start + 1..path_end]);
    if name.is_empty() {
        return Err(bad());
    }
    maint.url = Some(format!("{}/postgres{}", &url[..path_start], &url[path_end..]));
    Ok((name, maint))
}

/// Percent-decodes a URL path segment.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maintenance_swaps_the_database_of_a_url() {
        let c = StrataConfig::from_url("postgres://u:p@h:5/my%20db?sslmode=disable");
        let (name, m) = maintenance(&c).unwrap();
        assert_eq!(name, "my db");
        assert_eq!(m.url.as_deref(), Some("postgres://u:p@h:5/postgres?sslmode=disable"));
    }

    #[test]
    fn maintenance_swaps_the_database_of_parts() {
        let c = StrataConfig { database: "blog".into(), ..StrataConfig::default() };
        let (name, m) = maintenance(&c).unwrap();
        assert_eq!(name, "blog");
        assert_eq!(m.database, "postgres");
    }

    #[test]
    fn a_url_without_a_database_is_an_error() {
        assert!(maintenance(&StrataConfig::from_url("postgres://u@h")).is_err());
    }
}
