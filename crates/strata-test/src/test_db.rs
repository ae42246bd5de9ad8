//! [`TestDb`]: a database of one test's own, dropped with it.

use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicU64, Ordering};

use strata_core::StrataConfig;

use crate::connect::{connect, describe};
use crate::registry;
use crate::url::{ENV, base_url, pooler_url, redact, with_database};

/// A fresh PostgreSQL database for one test, dropped (with its connections) when this value is
/// dropped.
///
/// # Examples
///
/// ```
/// # async fn example() {
/// use strata_test::TestDb;
///
/// let db = TestDb::new().await;
/// assert!(db.name().starts_with("strata_test_"));
/// assert!(db.url().ends_with(db.name()));
///
/// let client = db.client().await;
/// let row = client.query_one("SELECT current_database()", &[]).await.unwrap();
/// assert_eq!(row.get::<_, String>(0), db.name());
/// # }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(example());
/// ```
#[derive(Debug)]
pub struct TestDb {
    name: String,
    /// Where the code under test connects: through the pooler when one is configured.
    url: String,
    /// The database on the server itself.
    direct_url: String,
    base_url: String,
}

impl TestDb {
    /// The pool size of [`TestDb::config`]. The database accepts two connections more, for
    /// [`TestDb::client`] and a spare (superusers are exempt from that limit).
    pub const POOL_SIZE: usize = 4;

    /// Creates a fresh, empty database on the server of [`base_url`](crate::base_url).
    ///
    /// # Panics
    ///
    /// If the server is unreachable or refuses to create the database; the message says how to
    /// point the tests at a server with `STRATA_TEST_DATABASE_URL`.
    pub async fn new() -> TestDb {
        Self::create(base_url(), pooler_url()).await
    }

    /// Creates a fresh, empty database on the server of `base_url` (a URL of its maintenance
    /// database), never through a pooler: for tests that bring servers of their own, such as
    /// a primary with a streaming standby.
    ///
    /// # Panics
    ///
    /// As [`TestDb::new`].
    pub async fn on_server(base_url: &str) -> TestDb {
        Self::create(base_url.to_owned(), None).await
    }

    async fn create(base_url: String, pooler: Option<String>) -> TestDb {
        let client = connect(&base_url).await.unwrap_or_else(|e| {
            panic!(
                "strata-test cannot connect to PostgreSQL at {}: {}\n\n{}",
                redact(&base_url),
                describe(&e),
                advice()
            )
        });
        let name = unique_name();
        if let Err(e) = registry::create(&client, &name, Self::POOL_SIZE + 2).await {
            panic!(
                "strata-test cannot create the test database {name} on {}: {}\n\n\
                 The user needs CREATEDB and CREATE on the maintenance database.\n{}",
                redact(&base_url),
                describe(&e),
                advice()
            );
        }
        if pooler.is_some() {
            // As docs/deployment.md advises behind a pooler: a backend whose client (the
            // pooler's server connection) went away stops at once, even while it waits.
            let set =
                format!("ALTER DATABASE \"{name}\" SET client_connection_check_interval = '200ms'");
            if let Err(e) = client.batch_execute(&set).await {
                panic!("strata-test cannot configure {name}: {}", describe(&e));
            }
        }
        let direct_url = with_database(&base_url, &name);
        let url = pooler.map_or_else(|| direct_url.clone(), |p| with_database(&p, &name));
        TestDb { url, direct_url, name, base_url }
    }

    /// The database name, `strata_test_<pid>_<n>_<random>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `postgres://` URL of this database for the code under test: through the pooler of
    /// `STRATA_TEST_POOLER_URL` when it is set, else on the server itself.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A configuration for this database with a pool of [`TestDb::POOL_SIZE`] connections.
    pub fn config(&self) -> StrataConfig {
        StrataConfig::from_url(self.url.clone()).pool_size(Self::POOL_SIZE)
    }

    /// The `postgres://` URL of this database on the server itself, never through a pooler.
    pub fn direct_url(&self) -> &str {
        &self.direct_url
    }

    /// A raw connection to this database (on the server itself), for setting up and asserting
    /// in SQL. Its connection task runs on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// If the connection fails.
    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.direct_url).await.unwrap_or_else(|e| {
            panic!("strata-test cannot connect to {}: {}", redact(&self.direct_url), describe(&e))
        })
    }
}

impl Drop for TestDb {
    /// Drops the database from a helper thread with its own runtime: `Drop` cannot await, and
    /// blocking on the test's runtime from inside it would panic under `#[tokio::test]`.
    fn drop(&mut self) {
        let (name, base_url) = (self.name.clone(), self.base_url.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime
                .block_on(async {
                    let client = connect(&base_url).await?;
                    registry::drop_database(&client, &name).await
                })
                .map_err(|e| describe(&e))
        })
        .join()
        .unwrap_or_else(|_| Err("the helper thread panicked".to_owned()));
        if let Err(e) = dropped {
            // A panic here could abort a test that is already unwinding; the next run drops it.
            eprintln!(
                "warning: strata-test could not drop the test database {}: {e}\n\
                 The first test database created after this process exits drops it.",
                self.name
            );
        }
    }
}

/// `strata_test_<pid>_<n>_<random>`: the pid and counter keep names unique on one host, the
/// random part across hosts sharing a server.
fn unique_name() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let random = RandomState::new().hash_one((std::process::id(), n)) as u32;
    format!("{}{}_{n}_{random:08x}", registry::PREFIX, std::process::id())
}

/// How to point the tests at a PostgreSQL server.
fn advice() -> String {
    format!(
        "Run the tests with `scripts/test`, which finds or starts a PostgreSQL for them, or set \
         {ENV} to a server whose user may create databases, e.g.\n    \
         {ENV}=postgres://postgres:password@127.0.0.1:5432/postgres cargo test\n\
         To install one on Debian or Ubuntu: sudo apt-get install postgresql"
    )
}

#[cfg(test)]
mod tests {
    use super::unique_name;

    #[test]
    fn unique_names_differ_and_are_valid_identifiers() {
        let (a, b) = (unique_name(), unique_name());
        assert_ne!(a, b);
        for name in [a, b] {
            assert!(name.len() <= 63, "{name} is longer than PostgreSQL's identifier limit");
            assert!(
                name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{name} needs quoting"
            );
        }
    }
}
