//! [`Orm`]: what an application holds for its lifetime — the driver (and its pool), the
//! configuration and the statement log. Fork a request-scoped [`EntityManager`] with
//! [`Orm::em`].

use crate::config::StrataConfig;
use crate::db_kind::DbKind;
use crate::dialect::Dialect;
use crate::driver::{Driver, Statement, StatementKind};
use crate::entity_manager::EntityManager;
use crate::error::Result;
use crate::query_log::QueryLog;
use crate::session::{Session, Slot};
use std::sync::Arc;

/// The ORM instance shared by the whole application. Cheap to clone.
#[derive(Clone)]
pub struct Orm {
    inner: Arc<OrmInner>,
}

struct OrmInner {
    driver: Arc<dyn Driver>,
    dialect: Arc<dyn Dialect>,
    config: StrataConfig,
    log: QueryLog,
}

impl std::fmt::Debug for Orm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orm").field("database", &self.inner.driver.describe()).finish()
    }
}

impl Orm {
    /// An ORM over `driver`. Applications usually call `strata::Strata::connect` instead,
    /// which picks the driver from the configuration.
    pub fn new(driver: Arc<dyn Driver>, config: StrataConfig) -> Self {
        let dialect = driver.dialect();
        let log = QueryLog::new(config.log_sql);
        Self { inner: Arc::new(OrmInner { driver, dialect, config, log }) }
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
