//! Connection URLs: where the test server is, and the URL of one database on it.

/// The variable that points the tests at a PostgreSQL server.
pub(crate) const ENV: &str = "STRATA_TEST_DATABASE_URL";

/// The variable that sends the code under test through a connection pooler (PgBouncer in
/// transaction mode) in front of the server of [`ENV`]: its URL, e.g.
/// `postgres://postgres@127.0.0.1:6432/postgres?statement_cache=off`. Databases are still
/// created, dropped and set up directly on the server.
pub(crate) const POOLER_ENV: &str = "STRATA_TEST_POOLER_URL";

/// The server used when [`ENV`] is not set: a local PostgreSQL with the default superuser.
const DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The URL of the maintenance database that test databases are created from:
/// `STRATA_TEST_DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`.
///
/// The user must be allowed to create databases on that server.
///
/// # Examples
///
/// ```
/// let url = strata_test::base_url();
/// assert!(url.starts_with("postgres"));
/// ```
pub fn base_url() -> String {
    std::env::var(ENV).ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| DEFAULT.to_owned())
}

/// The pooler of `STRATA_TEST_POOLER_URL`, if set.
pub fn pooler_url() -> Option<String> {
    std::env::var(POOLER_ENV).ok().filter(|v| !v.trim().is_empty())
}

/// `url` with its database name replaced by `database`, keeping the user, password, host, port
/// and query parameters.
pub fn with_database(url: &str, database: &str) -> String {
    let (before_query, query) = match url.find('?') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let authority_start = before_query.find("://").map_or(0, |i| i + 3);
    let server = match before_query[authority_start..].find('/') {
        Some(i) => &before_query[..authority_start + i],
        None => before_query,
    };
    format!("{server}/{database}{query}")
}

/// `url` with its password replaced by `***`, for messages.
pub(crate) fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.to_owned();
    };
    let rest = &url[scheme_end..];
    let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    match authority[..at].find(':') {
        Some(colon) => {
            format!("{}{}:***{}", &url[..scheme_end], &authority[..colon], &url[scheme_end + at..])
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{redact, with_database};

    #[test]
    fn with_database_replaces_only_the_database_name() {
        let cases = [
            ("postgres://u:p@h:5432/postgres", "postgres://u:p@h:5432/t1"),
            ("postgres://u@h/postgres?sslmode=disable", "postgres://u@h/t1?sslmode=disable"),
            ("postgresql://h:5432", "postgresql://h:5432/t1"),
            ("postgres://h?host=/tmp", "postgres://h/t1?host=/tmp"),
            ("postgres:///postgres?host=/run/pg", "postgres:///t1?host=/run/pg"),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "t1"), expected, "for {url}");
        }
    }

    #[test]
    fn redact_hides_the_password_only() {
        let cases = [
            ("postgres://u:secret@h:5432/db", "postgres://u:***@h:5432/db"),
            ("postgres://u:s@cr@t@h/db", "postgres://u:***@h/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("postgres://h/db?user=u", "postgres://h/db?user=u"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact(url), expected, "for {url}");
        }
    }
}
