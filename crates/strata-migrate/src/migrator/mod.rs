//! The migrator: applies and reverts migrations, recorded in the `strata_migrations` table.
//!
//! [`Migrator`] works on a [`Strata`] and a [`MigrationSource`]. It takes one connection for a
//! whole run and, on PostgreSQL, holds a session advisory lock on it (`pg_advisory_lock`), so two
//! processes migrating the same database at once apply each migration exactly once: the second
//! waits, then reads the tracking table and finds nothing left to do.
//!
//! Each migration runs in its own transaction together with its tracking-table row. A migration
//! that fails is rolled back entirely and not recorded; the error names the migration and the
//! failing statement. The file is executed as one batch, exactly as the database parses it; only
//! after a failure is it split into statements and re-run one by one in a transaction that is
//! rolled back, to find the statement to name (so a file with unusual syntax still runs exactly
//! as written).
//!
//! Before doing anything, `up` and `down` compare the checksum of every applied migration with
//! its file: an edited applied migration stops the run with a message naming it. An applied
//! migration whose file is missing (a binary older than the database, or a deleted file) does not
//! stop `up` — it is reported through [`Progress::Missing`] and listed as
//! [`MigrationState::Missing`] by [`Migrator::status`] — but `down` refuses to revert it.
//!
//! The SQL of a migration must not contain transaction control (`BEGIN`, `COMMIT`) nor
//! statements that cannot run in a transaction (`CREATE INDEX CONCURRENTLY`).
//!
//! The tracking table lives in the configured schema (`orm.default_schema()`, else `public`):
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS "public"."strata_migrations" (
//!   "id" serial PRIMARY KEY,
//!   "name" varchar(255) NOT NULL UNIQUE,
//!   "checksum" varchar(64) NOT NULL,
//!   "executed_at" timestamptz NOT NULL DEFAULT now()
//! )
//! ```
//!
//! The module is split by noun, as MikroORM's migrator is: `storage` (the tracking table),
//! `runner` (one migration applied or reverted, and the statement that failed located),
//! `resolve` (which migrations a run takes: [`UpTo`], [`DownTo`], and the files checked against
//! the records), `progress` ([`Progress`], [`MigrationStatus`]) and `backend` (what differs per
//! database, one implementation of a trait per [`DbKind`](strata_core::DbKind)). This file holds the [`Migrator`]
//! that ties them together; the files themselves are [`crate::files`].

mod backend;
mod progress;
mod resolve;
mod runner;
mod statements;
mod storage;

pub use progress::{MigrationState, MigrationStatus, Progress};
pub use resolve::{DownTo, UpTo};

use crate::files::{Migration, MigrationSource};
use backend::MigrationBackend;
use progress::Reporter;
use runner::Runner;
use std::time::Instant;
use storage::Storage;
use strata_core::driver::Connection;
use strata_core::{Result, Strata};

/// The name of the tracking table. Schema introspection leaves it out of the diff.
pub use crate::introspect::TRACKING_TABLE;

/// The key of the PostgreSQL advisory lock held while migrating.
pub const LOCK_KEY: i64 = backend::LOCK_KEY;

/// The tracking table of `orm`'s database as SQL, quoted and qualified as the migrator names
/// it: `"public"."strata_migrations"` (the configured schema's), `"strata_migrations"` on
/// SQLite.
pub fn tracking_table(orm: &Strata) -> String {
    Storage::new(
        backend::for_kind(orm.db_kind(), !orm.config().uses_statement_cache()),
        orm.default_schema(),
    )
    .table()
}

/// Applies and reverts migrations from one source on one database.
///
/// ```no_run
/// # async fn run(orm: strata_core::Strata) -> strata_core::Result<()> {
/// use strata_migrate::files::MigrationSource;
/// use strata_migrate::migrator::{DownTo, Migrator};
///
/// let migrator = Migrator::new(&orm, MigrationSource::directory("migrations"));
/// let applied = migrator.up(None).await?;          // every pending migration
/// let reverted = migrator.down(DownTo::OneStep).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Migrator {
    orm: Strata,
    source: MigrationSource,
    backend: &'static dyn MigrationBackend,
    storage: Storage,
    other_schemas: Vec<String>,
    reporter: Reporter,
}

impl std::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("orm", &self.orm)
            .field("source", &self.source.describe())
            .field("schema", &self.storage.schema())
            .finish_non_exhaustive()
    }
}

impl Migrator {
    /// A migrator for `orm`'s database. The tracking table goes into `orm.default_schema()`, or
    /// `public` on PostgreSQL when none is configured.
    pub fn new(orm: &Strata, source: MigrationSource) -> Self {
        let backend = backend::for_kind(orm.db_kind(), !orm.config().uses_statement_cache());
        Self {
            orm: orm.clone(),
            source,
            backend,
            storage: Storage::new(backend, orm.default_schema()),
            other_schemas: Vec::new(),
            reporter: Reporter::default(),
        }
    }

    /// Further schemas the migrations create (entities with their own `schema`): `fresh` drops
    /// them whole, besides emptying the configured schema.
    #[must_use]
    pub fn with_schemas(mut self, schemas: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.other_schemas = schemas.into_iter().map(Into::into).collect();
        self
    }

    /// Calls `f` as the run progresses (lock waits, each migration started and finished).
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(&Progress<'_>) + Send + Sync + 'static) -> Self {
        self.reporter = Reporter::to(f);
        self
    }

    /// The migration source.
    pub fn source(&self) -> &MigrationSource {
        &self.source
    }

    /// The schema of the tracking table (`None` on SQLite).
    pub fn tracking_schema(&self) -> Option<&str> {
        self.storage.schema()
    }

    /// Applies the pending migrations in id order, up to and including `to` when given (an id,
    /// a unique prefix of one such as its timestamp, or its name after the timestamp). Returns
    /// the ids applied.
    ///
    /// # Errors
    ///
    /// A file error from the source; an applied migration whose file changed; an unknown `to`;
    /// a failing migration (the error names it and the failing statement; the migrations before
    /// it stay applied).
    pub async fn up(&self, to: Option<&str>) -> Result<Vec<String>> {
        self.up_with(&UpTo::to(to)).await
    }

    /// Applies the pending migrations that `up` chooses (after `from`, up to `to`, or `only`
    /// the named ones), in id order. Returns the ids applied.
    ///
    /// # Errors
    ///
    /// As [`Migrator::up`]; also an unknown or ambiguous name in `up`, and `only` given together
    /// with `from` or `to`.
    pub async fn up_with(&self, up: &UpTo) -> Result<Vec<String>> {
        let migrations = self.source.load()?;
        let mut conn = self.lock().await?;
        let result = self.up_locked(conn.as_mut(), &migrations, up).await;
        self.unlock(conn, result).await
    }

    /// Reverts applied migrations, newest first: one step, all, or down to and including a
    /// named one. Returns the ids reverted.
    ///
    /// # Errors
    ///
    /// Besides those of [`Migrator::up`]: a migration to revert whose file is missing or has no
    /// down SQL (checked before anything is reverted).
    pub async fn down(&self, to: DownTo) -> Result<Vec<String>> {
        let migrations = self.source.load()?;
        let mut conn = self.lock().await?;
        let result = self.down_locked(conn.as_mut(), &migrations, &to).await;
        self.unlock(conn, result).await
    }

    /// Every migration, applied, pending or missing, in id order. Reads only: it neither locks
    /// nor creates the tracking table.
    ///
    /// # Errors
    ///
    /// A file error from the source, or a database error.
    pub async fn status(&self) -> Result<Vec<MigrationStatus>> {
        let migrations = self.source.load()?;
        let mut conn = self.orm.driver().acquire().await?;
        let records = self.storage.records(conn.as_mut(), false).await?;
        Ok(resolve::status(&records, &migrations))
    }

    /// The migrations not applied yet, in id order.
    ///
    /// # Errors
    ///
    /// As [`Migrator::status`].
    pub async fn pending(&self) -> Result<Vec<Migration>> {
        let migrations = self.source.load()?;
        let mut conn = self.orm.driver().acquire().await?;
        let records = self.storage.records(conn.as_mut(), false).await?;
        Ok(resolve::pending(&records, &migrations).into_iter().cloned().collect())
    }

    /// Drops every table, view, sequence, enum type and domain of the configured schema
    /// (the tracking table included) and every schema named with [`Migrator::with_schemas`],
    /// then applies every migration. Returns the ids applied.
    ///
    /// # Errors
    ///
    /// As [`Migrator::up`].
    pub async fn fresh(&self) -> Result<Vec<String>> {
        let migrations = self.source.load()?;
        let mut conn = self.lock().await?;
        let result = match self.drop_locked(conn.as_mut()).await {
            Ok(_) => self.up_locked(conn.as_mut(), &migrations, &UpTo::all()).await,
            Err(e) => Err(e),
        };
        self.unlock(conn, result).await
    }

    /// Drops what [`Migrator::fresh`] drops, without applying anything (`schema:fresh`).
    /// Returns what it dropped, such as `table public.post_entity`.
    ///
    /// # Errors
    ///
    /// A database error; nothing is dropped then (one transaction).
    pub async fn drop_all(&self) -> Result<Vec<String>> {
        let mut conn = self.lock().await?;
        let result = self.drop_locked(conn.as_mut()).await;
        self.unlock(conn, result).await
    }

    fn runner(&self) -> Runner<'_> {
        Runner { backend: self.backend, dialect: self.orm.dialect(), storage: &self.storage }
    }

    /// Takes a connection and the migration lock on it.
    async fn lock(&self) -> Result<Box<dyn Connection>> {
        let mut conn = self.orm.driver().acquire().await?;
        let report = |p: &Progress<'_>| self.reporter.report(p);
        self.backend.lock(conn.as_mut(), &report).await?;
        Ok(conn)
    }

    /// Releases the lock whatever the run returned; the run's error comes first.
    async fn unlock<T>(&self, mut conn: Box<dyn Connection>, result: Result<T>) -> Result<T> {
        let unlocked = self.backend.unlock(conn.as_mut()).await;
        let value = result?;
        unlocked?;
        Ok(value)
    }

    async fn drop_locked(&self, conn: &mut dyn Connection) -> Result<Vec<String>> {
        let backend = self.backend;
        backend.begin(conn).await?;
        let dropped =
            match backend.drop_everything(conn, self.storage.schema(), &self.other_schemas).await {
                Ok(dropped) => dropped,
                Err(e) => {
                    let _ = backend.rollback(conn).await;
                    return Err(e);
                }
            };
        backend.commit(conn).await?;
        for object in &dropped {
            self.reporter.report(&Progress::Dropped { object });
        }
        Ok(dropped)
    }

    async fn up_locked(
        &self,
        conn: &mut dyn Connection,
        migrations: &[Migration],
        up: &UpTo,
    ) -> Result<Vec<String>> {
        let records = self.storage.records(conn, true).await?;
        resolve::verify(&records, migrations, &self.reporter)?;
        let steps = resolve::apply_steps(&records, migrations, up)?;
        let (runner, total) = (self.runner(), steps.len());
        let mut applied = Vec::with_capacity(total);
        for (i, m) in steps.into_iter().enumerate() {
            self.reporter.report(&Progress::Applying { id: &m.id, index: i + 1, total });
            let started = Instant::now();
            if runner.apply(conn, m).await? {
                self.reporter.report(&Progress::Applied { id: &m.id, elapsed: started.elapsed() });
                applied.push(m.id.clone());
            }
        }
        Ok(applied)
    }

    async fn down_locked(
        &self,
        conn: &mut dyn Connection,
        migrations: &[Migration],
        to: &DownTo,
    ) -> Result<Vec<String>> {
        let records = self.storage.records(conn, true).await?;
        resolve::verify(&records, migrations, &self.reporter)?;
        let steps = resolve::revert_steps(&records, migrations, to, &self.source.describe())?;
        let (runner, total) = (self.runner(), steps.len());
        let mut reverted = Vec::with_capacity(total);
        for (i, (m, down)) in steps.into_iter().enumerate() {
            self.reporter.report(&Progress::Reverting { id: &m.id, index: i + 1, total });
            let started = Instant::now();
            runner.revert(conn, m, down).await?;
            self.reporter.report(&Progress::Reverted { id: &m.id, elapsed: started.elapsed() });
            reverted.push(m.id.clone());
        }
        Ok(reverted)
    }
}
