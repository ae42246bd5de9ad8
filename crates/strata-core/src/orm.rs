//! [`Strata`], the ORM: what an application holds for its lifetime — the driver (and its pool),
//! the configuration and the statement log. Fork a request-scoped [`EntityManager`] with
//! [`Strata::em`].
//!
//! The facade crate opens one from a configuration (`Strata::connect`, which picks the driver
//! from the URL); [`Strata::with_driver`] takes a driver built by the caller.

use crate::config::StrataConfig;
use crate::db_kind::DbKind;
use crate::dialect::Dialect;
use crate::driver::{Driver, Statement, StatementKind};
use crate::entity_manager::EntityManager;
use crate::error::Result;
use crate::query_log::QueryLog;
use crate::session::{Session, Slot};
use std::sync::Arc;

/// The ORM instance shared by the whole application: the connection pool, the configuration
/// and the statement log. Cheap to clone; fork a request-scoped [`EntityManager`] with
/// [`Strata::em`].
#[derive(Clone)]
pub struct Strata {
    inner: Arc<Inner>,
}

struct Inner {
    driver: Arc<dyn Driver>,
    dialect: Arc<dyn Dialect>,
    config: StrataConfig,
    log: QueryLog,
}

impl std::fmt::Debug for Strata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Strata").field("database", &self.inner.driver.describe()).finish()
    }
}

impl Strata {
    /// An ORM over a driver built by the caller (a custom pool, a lazy pool, another
    /// database). Applications usually call the facade's `Strata::connect` instead, which picks
    /// the driver from the configuration.
    pub fn with_driver(driver: Arc<dyn Driver>, config: StrataConfig) -> Self {
        let dialect = driver.dialect();
        let log = QueryLog::new(config.log_sql);
        Self { inner: Arc::new(Inner { driver, dialect, config, log }) }
    }

    /// A new EntityManager with its own identity map and unit of work: one per request.
    pub fn em(&self) -> EntityManager {
        EntityManager::new(self.clone())
    }

    /// The driver.
    pub fn driver(&self) -> &Arc<dyn Driver> {
        &self.inner.driver
    }

    /// The SQL dialect.
    pub fn dialect(&self) -> &dyn Dialect {
        self.inner.dialect.as_ref()
    }

    /// Which database this ORM is connected to.
    pub fn db_kind(&self) -> DbKind {
        self.inner.dialect.kind()
    }

    /// The configuration.
    pub fn config(&self) -> &StrataConfig {
        &self.inner.config
    }

    /// The default schema from the configuration.
    pub fn default_schema(&self) -> Option<&str> {
        self.inner.config.default_schema.as_deref()
    }

    /// The statement log: counts, tracing output, and captures for tests.
    pub fn query_log(&self) -> &QueryLog {
        &self.inner.log
    }

    pub(crate) async fn session(&self) -> Result<Session<'_>> {
        let conn = self.inner.driver.acquire().await?;
        Ok(Session::new(Slot::Owned(conn), &self.inner.log))
    }

    /// A session for reads outside a transaction: on a read replica when there is one.
    pub(crate) async fn read_session(&self) -> Result<Session<'_>> {
        let conn = self.inner.driver.acquire_read().await?;
        Ok(Session::for_reads(Slot::Owned(conn), &self.inner.log, self.inner.driver.as_ref()))
    }

    /// Checks that the database answers (`SELECT 1`); for health checks.
    pub async fn ping(&self) -> Result<()> {
        let mut s = self.session().await?;
        s.run(&Statement::raw("SELECT 1", StatementKind::Select)).await?;
        Ok(())
    }

    /// Runs SQL text without parameters (DDL, scripts), outside any EntityManager.
    pub async fn execute(&self, sql: &str) -> Result<()> {
        self.session().await?.batch_execute(sql).await
    }
}
