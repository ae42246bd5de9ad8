//! [`AppState`]: what every request handler shares — the ORM (its pool), the schema gate, the
//! token keys and the request timeout.

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;
use nest_service::{ApiError, SchemaGate};
use strata::{EntityManager, Strata};

use crate::authentication::jwt::{KeyError, Tokens};
use crate::config::JwtSettings;

/// The state of the application, cheap to clone (one per request).
#[derive(Clone, Debug)]
pub struct AppState {
    orm: Strata,
    schema: Arc<SchemaGate>,
    tokens: Arc<Tokens>,
    request_timeout: Duration,
}

impl AppState {
    /// The default time a request may take before it is answered with 408.
    pub const DEFAULT_REQUEST_TIMEOUT: Duration = nest_service::config::DEFAULT_REQUEST_TIMEOUT;

    /// State over an ORM whose database may not be reachable yet (the schema is prepared by
    /// the first request that finds the database up), signing tokens as `jwt` says.
    ///
    /// # Errors
    ///
    /// A secret the JWT library refuses.
    pub fn new(orm: Strata, jwt: &JwtSettings) -> Result<Self, KeyError> {
        Ok(Self {
            orm,
            schema: Arc::new(SchemaGate::new(&crate::db::SCHEMA)),
            tokens: Arc::new(Tokens::new(jwt)?),
            request_timeout: Self::DEFAULT_REQUEST_TIMEOUT,
        })
    }

    /// Turns off applying migrations at start-up and on the first request: the schema is
    /// managed with `blog-api migration:up` instead.
    #[must_use]
    pub fn without_migrations(mut self) -> Self {
        self.schema = Arc::new(SchemaGate::disabled(&crate::db::SCHEMA));
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

    /// The token keys.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// Prepares the schema if no request has done so yet. Start-up calls it once so that a
    /// reachable database is ready before the first request; a failure here is not fatal.
    pub async fn ensure_schema(&self) -> strata::Result<()> {
        self.schema.ensure(&self.orm).await
    }

    /// What keeps the database from serving the entities, said for an operator; `None` when
    /// it is ready. Call it after [`AppState::ensure_schema`].
    ///
    /// # Errors
    ///
    /// The database's error reading the tracking table or the catalog.
    pub async fn not_ready(&self) -> strata::Result<Option<String>> {
        self.schema.not_ready(&self.orm).await
    }

    /// `GET /health`.
    pub(crate) async fn health(&self) -> Result<Response, ApiError> {
        self.schema.health(&self.orm).await
    }

    /// A fresh EntityManager for one request, once the schema is ready.
    pub(crate) async fn em(&self) -> Result<EntityManager, ApiError> {
        self.ensure_schema().await?;
        Ok(self.orm.em())
    }
}
