//! [`Connect`]: `Strata::connect(config)`, the one place where a configuration's URL picks a
//! driver.
//!
//! The ORM type, [`Strata`], lives in `strata-core`, which knows no database; the drivers live in
//! their own crates. This facade is the only crate that sees both, so the switch from a URL
//! scheme ([`DbKind::from_url`]) to a driver is written here, once, and everything that opens a
//! database from a configuration (applications, `strata-cli`, the test suites) goes through it.

use std::future::Future;
#[cfg(any(feature = "postgres", feature = "sqlite"))]
use std::sync::Arc;

use strata_core::{DbKind, Result, Strata, StrataConfig};

mod sealed {
    pub trait Sealed {}
    impl Sealed for strata_core::Strata {}
}

/// Opens a [`Strata`] on the database a configuration names. In the prelude, so that
/// `Strata::connect(config)` reads as a constructor.
///
/// ```no_run
/// use strata::prelude::*;
///
/// # async fn demo() -> strata::Result<()> {
/// let orm = Strata::connect(StrataConfig::from_url("sqlite://./data/app.sqlite")).await?;
/// orm.ping().await?;
/// # Ok(()) }
/// ```
pub trait Connect: sealed::Sealed + Sized {
    /// Connects to the database the configuration names and checks that it answers.
    ///
    /// A `postgres://` or `postgresql://` URL (or the configuration's host, port, user and
    /// database parts) selects the PostgreSQL driver; a `sqlite:` URL
    /// (`sqlite://./data/app.sqlite`, `sqlite::memory:`) the SQLite driver, which creates the
    /// file when missing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a URL of another scheme, or of a
    /// database whose driver this build leaves out (the `postgres` and `sqlite` features);
    /// [`ErrorKind::Connection`](crate::ErrorKind::Connection) for an unreachable database,
    /// whose message names the URL without its password.
    fn connect(config: StrataConfig) -> impl Future<Output = Result<Self>> + Send;
}

impl Connect for Strata {
    async fn connect(config: StrataConfig) -> Result<Strata> {
        let kind = DbKind::from_url(&config.connection_url())?;
        match kind {
            #[cfg(feature = "postgres")]
            DbKind::Postgres => {
                let driver = strata_postgres::PgDriver::connect(&config).await?;
                Ok(Strata::with_driver(Arc::new(driver), config))
            }
            #[cfg(feature = "sqlite")]
            DbKind::Sqlite => {
                if !config.read_replicas.is_empty() {
                    return Err(strata_core::Error::config(
                        "read replicas are PostgreSQL streaming standbys; a SQLite database has \
                         none (unset STRATA_READ_REPLICAS)",
                    ));
                }
                let driver = strata_sqlite::SqliteDriver::connect(&config).await?;
                Ok(Strata::with_driver(Arc::new(driver), config))
            }
            #[allow(unreachable_patterns, reason = "reached when a driver feature is off")]
            other => Err(strata_core::Error::config(format!(
                "{} needs the `{}` feature of the strata crate ({})",
                other.title(),
                other.name(),
                config.redacted_url()
            ))),
        }
    }
}
