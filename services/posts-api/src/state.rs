//! [`AppState`]: what every request handler shares — the ORM (its pool), the schema gate and
//! the request timeout.

use std::sync::Arc;
use std::time::Duration;

use strata::Strata;

use crate::db::SchemaGate;
use crate::http::error::ApiError;
use crate::posts::service::PostsService;

/// The state of the application, cheap to clone (one per request).
#[derive(Clone, Debug)]
pub struct AppState {
    orm: Strata,
    schema: Arc<SchemaGate>,
    request_timeout: Duration,
}

impl AppState {
    /// The default time a request may take before it is answered with 408.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

    /// State over an ORM whose database may not be reachable yet: the schema is prepared by
    /// the first request that finds the database up.
    pub fn new(orm: Strata) -> Self {
        Self {
            orm,
            schema: Arc::new(SchemaGate::default()),
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// Turns off applying migrations at start-up and on the first request: the schema is
    /// managed with `posts-api migration:up` instead.
    #[must_use]
    pub fn without_migrations(mut self) -> Self {
        self.schema = Arc::new(SchemaGate::disabled());
        self
    }

    /// Sets the request timeout.
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The ORM.
    pub fn orm(&self) -> &Strata {
        &self.orm
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Prepares the schema if no request has done so yet. Start-up calls it once so that a
    /// reachable database is ready before the first request; a failure here is not fatal.
    pub async fn ensure_schema(&self) -> strata::Result<()> {
        self.schema.ensure(&self.orm).await
    }

    /// True when the service does not migrate its schema itself (`MIGRATE_ON_START=false`).
    pub(crate) fn migrations_are_external(&self) -> bool {
        self.schema.is_external()
    }

    /// What keeps the database from serving the entities, said for an operator: migrations
    /// pending (when they are run outside the service), or a schema that differs from the
    /// entities after migrating. `None` when the database is ready. Call it after
    /// [`AppState::ensure_schema`].
    ///
    /// # Errors
    ///
    /// The database's error reading the tracking table or the catalog.
    pub async fn not_ready(&self) -> strata::Result<Option<String>> {
        if self.migrations_are_external() {
            let pending = crate::db::pending(&self.orm).await?;
            if !pending.is_empty() {
                return Ok(Some(format!(
                    "{} migration(s) pending ({}): run `posts-api migration:up`",
                    pending.len(),
                    pending.join(", ")
                )));
            }
        }
        let differences = crate::db::schema_differences(&self.orm).await?;
        if differences.is_empty() {
            return Ok(None);
        }
        Ok(Some(format!(
            "the database schema does not match the entities ({}): the service's migrations for \
             this database lack a change; create it with `posts-api migration:create` (it writes \
             every database's migration), then apply it with `posts-api migration:up`",
            differences.join("; ")
        )))
    }

    /// A `PostsService` over a fresh, request-scoped EntityManager.
    pub(crate) async fn posts(&self) -> Result<PostsService, ApiError> {
        self.ensure_schema().await?;
        Ok(PostsService::new(self.orm.em()))
    }
}
