//! A service's schema: its migrations for each database, embedded in the binary, applied at
//! start-up, and the gate that lets requests wait for them.
//!
//! A service's crate holds `migrations/postgres/` and `migrations/sqlite/`, the same
//! migrations for each database, each directory with its `.snapshot.json` (`cargo run -p
//! <service> -- migration:create` writes the next one into both, see [`Schema::project`]).
//! [`Schema::migrate`] applies the pending ones with the Strata migrator, which records them in
//! `strata_migrations` and takes a lock, so instances starting at once apply each migration
//! once. A [`SchemaGate`] lets a service that started while its database was down migrate on
//! the first request that finds it up. [`Schema::differences`] tells whether the migrated
//! database fits the entities, which start-up logs and `/health` reports.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;
use strata::metadata::EntityMeta;
use strata::{DbKind, Strata};
use strata_migrate::{EmbeddedMigration, MigrationSource, Migrator};

use crate::error::ApiError;
use crate::response::json_response;

/// What a service's schema is made of: its entities and its migrations for each database.
#[derive(Debug)]
pub struct Schema {
    /// The service's binary, for the advice in messages (`posts-api migration:up`).
    pub service: &'static str,
    /// The service's entities.
    pub entities: fn() -> Vec<&'static EntityMeta>,
    /// The PostgreSQL migrations (`strata_migrate::embed_migrations!("migrations/postgres")`).
    pub postgres: &'static [EmbeddedMigration],
    /// The SQLite migrations (`strata_migrate::embed_migrations!("migrations/sqlite")`).
    pub sqlite: &'static [EmbeddedMigration],
}

impl Schema {
    /// The migrations for a database of `kind`, and their directory in the source tree
    /// (relative to the service's crate).
    pub fn migrations_for(&self, kind: DbKind) -> (&'static [EmbeddedMigration], &'static str) {
        match kind {
            DbKind::Sqlite => (self.sqlite, "migrations/sqlite"),
            DbKind::Postgres => (self.postgres, "migrations/postgres"),
        }
    }

    /// The Strata commands' view of the service: its entities, a migration set per database,
    /// in `root/migrations/postgres` and `root/migrations/sqlite` (the binary passes its
    /// crate's directory) with the copies embedded in the binary, and the service's connection
    /// variables for the advice after a connection error.
    pub fn project(&self, root: &Path) -> strata_cli::Project {
        strata_cli::Project::new(&(self.entities)())
            .connection_settings(connection_settings())
            .migrations_for(DbKind::Postgres, root.join("migrations/postgres"), self.postgres)
            .migrations_for(DbKind::Sqlite, root.join("migrations/sqlite"), self.sqlite)
    }

    /// What the service's tables lack or have besides what the entities describe, one line
    /// per change (`add column "post_entity"."tags" varchar(255)`): empty when they fit.
    /// Tables of other applications in the same database are not the service's business and
    /// are ignored.
    ///
    /// # Errors
    ///
    /// The database's error when reading its catalog fails.
    pub async fn differences(&self, orm: &Strata) -> strata::Result<Vec<String>> {
        let changes = strata_migrate::check::entity_differences(orm, &(self.entities)()).await?;
        Ok(changes.summaries_for(orm.db_kind()))
    }

    /// Applies the pending migrations; returns the ids applied.
    ///
    /// # Errors
    ///
    /// Any error of the migrator: the database is unreachable
    /// ([`strata::ErrorKind::Connection`]), a migration fails (named with its statement), or an
    /// applied migration was changed.
    pub async fn migrate(&self, orm: &Strata) -> strata::Result<Vec<String>> {
        let (migrations, _) = self.migrations_for(orm.db_kind());
        let applied = Migrator::new(orm, MigrationSource::Embedded(migrations)).up(None).await?;
        for id in &applied {
            tracing::info!(migration = %id, "migration applied");
        }
        Ok(applied)
    }

    /// The ids of the service's migrations not applied to the database yet.
    ///
    /// # Errors
    ///
    /// Any error of the migrator reading its tracking table.
    pub async fn pending(&self, orm: &Strata) -> strata::Result<Vec<String>> {
        let (migrations, _) = self.migrations_for(orm.db_kind());
        let pending = Migrator::new(orm, MigrationSource::Embedded(migrations)).pending().await?;
        Ok(pending.into_iter().map(|m| m.id).collect())
    }
}

/// The variables of a service's PostgreSQL connection (see [`crate::config`]).
pub fn connection_settings() -> strata_cli::ConnectionSettings {
    strata_cli::ConnectionSettings {
        server: "DATABASE_URL, or POSTGRES_HOST and POSTGRES_PORT".into(),
        login: "DATABASE_URL, or POSTGRES_USER and POSTGRES_PASSWORD".into(),
    }
}

/// Remembers whether the migrations ran, and lets one request at a time run them.
///
/// A database that cannot be reached is retried by the next request; a migration that failed
/// is not: it would fail the same way, so every request answers 500 quickly (the log says why)
/// until the migration or the database is fixed and the service restarted.
#[derive(Debug)]
pub struct SchemaGate {
    schema: &'static Schema,
    ready: AtomicBool,
    lock: tokio::sync::Mutex<()>,
    failed: std::sync::OnceLock<strata::Error>,
    /// The schema is migrated outside the service: nothing to do here.
    external: bool,
}

impl SchemaGate {
    /// A gate that migrates `schema` on first use.
    pub fn new(schema: &'static Schema) -> Self {
        Self {
            schema,
            ready: AtomicBool::new(false),
            lock: tokio::sync::Mutex::new(()),
            failed: std::sync::OnceLock::new(),
            external: false,
        }
    }

    /// A gate that never migrates: the schema is managed outside the service
    /// (`MIGRATE_ON_START=false`, then `<service> migration:up`).
    pub fn disabled(schema: &'static Schema) -> Self {
        Self { ready: AtomicBool::new(true), external: true, ..Self::new(schema) }
    }

    /// The schema this gate migrates.
    pub fn schema(&self) -> &'static Schema {
        self.schema
    }

    /// True for a gate made by [`SchemaGate::disabled`].
    pub fn is_external(&self) -> bool {
        self.external
    }

    /// Prepares the schema if no request has done so yet.
    ///
    /// # Errors
    ///
    /// The migrator's error; a failed migration is remembered and returned again.
    pub async fn ensure(&self, orm: &Strata) -> strata::Result<()> {
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        let _guard = self.lock.lock().await;
        if self.ready.load(Ordering::Acquire) {
            return Ok(());
        }
        if let Some(failed) = self.failed.get() {
            return Err(failed.clone());
        }
        if let Err(e) = self.schema.migrate(orm).await {
            if !e.is_connection() {
                tracing::error!(error = %e, "the migrations failed; fix them and restart");
                let _ = self.failed.set(e.clone());
            }
            return Err(e);
        }
        self.ready.store(true, Ordering::Release);
        tracing::info!("migrations up to date");
        Ok(())
    }

    /// What keeps the database from serving the entities, said for an operator: migrations
    /// pending (when they are run outside the service), or a schema that differs from the
    /// entities after migrating. `None` when the database is ready. Call it after
    /// [`SchemaGate::ensure`].
    ///
    /// # Errors
    ///
    /// The database's error reading the tracking table or the catalog.
    pub async fn not_ready(&self, orm: &Strata) -> strata::Result<Option<String>> {
        let service = self.schema.service;
        if self.external {
            let pending = self.schema.pending(orm).await?;
            if !pending.is_empty() {
                return Ok(Some(format!(
                    "{} migration(s) pending ({}): run `{service} migration:up`",
                    pending.len(),
                    pending.join(", ")
                )));
            }
        }
        let differences = self.schema.differences(orm).await?;
        if differences.is_empty() {
            return Ok(None);
        }
        Ok(Some(format!(
            "the database schema does not match the entities ({}): the service's migrations for \
             this database lack a change; create it with `{service} migration:create` (it writes \
             every database's migration), then apply it with `{service} migration:up`",
            differences.join("; ")
        )))
    }

    /// `GET /health/ready` (and `GET /health`): 200 `{"status":"ok","database":"up"}`, or 503
    /// when the database is down, has pending migrations or a schema the entities do not fit.
    ///
    /// # Errors
    ///
    /// The 503 (or 500) that says what is wrong.
    pub async fn health(&self, orm: &Strata) -> Result<Response, ApiError> {
        orm.ping().await?;
        if !self.external {
            // Migrated by this process (now, if no request has done it yet): nothing can be
            // pending.
            self.ensure(orm).await?;
        }
        // Pending migrations (MIGRATE_ON_START=false before `migration:up`), or a schema the
        // entities do not fit after migrating.
        if let Some(why) = self.not_ready(orm).await? {
            return Err(ApiError::NotReady(why));
        }
        Ok(json_response(StatusCode::OK, &Health { status: "ok", database: "up" }))
    }
}

/// `GET /health/live`: 200 `{"status":"ok"}` while the process serves HTTP. It never touches
/// the database: a load balancer's liveness probe must not restart processes because the
/// database is away (readiness, `GET /health/ready`, says that).
pub async fn live() -> Response {
    json_response(StatusCode::OK, &Live { status: "ok" })
}

/// `{"status":"ok"}`.
#[derive(Serialize)]
struct Live {
    status: &'static str,
}

/// `{"status":"ok","database":"up"}`.
#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
}
