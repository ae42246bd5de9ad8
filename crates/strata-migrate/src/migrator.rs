//! The migrator: applies and reverts migrations, recorded in the `strata_migrations` table.
//!
//! [`Migrator`] works on an [`Strata`] and a [`MigrationSource`]. It takes one connection for a
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

mod backend;
mod select;
mod statements;

pub use select::{DownTo, UpTo};

use crate::files::{Migration, MigrationSource};
use backend::{Flavor, text, timestamp};
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};
use strata_core::driver::{Connection, Param, Statement, StatementKind};
use strata_core::sql::quote_ident;
use strata_core::{ColumnType, DbKind, Error, Result, Strata, Value};

/// The name of the tracking table. Schema introspection leaves it out of the diff.
pub use crate::introspect::TRACKING_TABLE;

/// The key of the PostgreSQL advisory lock held while migrating.
pub const LOCK_KEY: i64 = backend::LOCK_KEY;

/// Where one migration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationState {
    /// Applied at this time.
    Executed(DateTime<Utc>),
    /// Not applied yet.
    Pending,
    /// Applied at this time, but its file is not in the source.
    Missing(DateTime<Utc>),
}

/// One line of [`Migrator::status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationStatus {
    /// The migration id.
    pub name: String,
    /// Applied, pending or missing.
    pub state: MigrationState,
}

impl MigrationStatus {
    /// When it was applied, if it was.
    pub fn executed_at(&self) -> Option<DateTime<Utc>> {
        match self.state {
            MigrationState::Executed(at) | MigrationState::Missing(at) => Some(at),
            MigrationState::Pending => None,
        }
    }
}

/// What the migrator is doing, for progress output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress<'a> {
    /// Another process holds the migration lock; waiting for it.
    WaitingForLock,
    /// An applied migration has no file in the source.
    Missing {
        /// The migration id.
        id: &'a str,
    },
    /// Dropped an object (`fresh`), such as `table public.post_entity`.
    Dropped {
        /// What was dropped.
        object: &'a str,
    },
    /// Starting to apply a migration (`index` counts from 1 up to `total`).
    Applying {
        /// The migration id.
        id: &'a str,
        /// Its position in this run, from 1.
        index: usize,
        /// How many this run applies.
        total: usize,
    },
    /// A migration was applied and recorded.
    Applied {
        /// The migration id.
        id: &'a str,
        /// How long it took.
        elapsed: Duration,
    },
    /// Starting to revert a migration.
    Reverting {
        /// The migration id.
        id: &'a str,
        /// Its position in this run, from 1.
        index: usize,
        /// How many this run reverts.
        total: usize,
    },
    /// A migration was reverted and its record deleted.
    Reverted {
        /// The migration id.
        id: &'a str,
        /// How long it took.
        elapsed: Duration,
    },
}

type ProgressFn = Arc<dyn Fn(&Progress<'_>) + Send + Sync>;

/// A recorded row of the tracking table.
#[derive(Debug, Clone)]
struct Record {
    name: String,
    checksum: String,
    executed_at: DateTime<Utc>,
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
    schema: Option<String>,
    other_schemas: Vec<String>,
    progress: Option<ProgressFn>,
}

impl std::fmt::Debug for Migrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("orm", &self.orm)
            .field("source", &self.source.describe())
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

impl Migrator {
    /// A migrator for `orm`'s database. The tracking table goes into `orm.default_schema()`, or
    /// `public` on PostgreSQL when none is configured.
    pub fn new(orm: &Strata, source: MigrationSource) -> Self {
        let schema = match orm.db_kind() {
            DbKind::Sqlite => None,
            DbKind::Postgres => Some(orm.default_schema().unwrap_or("public").to_owned()),
        };
        Self { orm: orm.clone(), source, schema, other_schemas: Vec::new(), progress: None }
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
        self.progress = Some(Arc::new(f));
        self
    }

    /// The migration source.
    pub fn source(&self) -> &MigrationSource {
        &self.source
    }

    /// The schema of the tracking table (`None` on SQLite).
    pub fn tracking_schema(&self) -> Option<&str> {
        self.schema.as_deref()
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
        let (flavor, mut conn) = self.lock().await?;
        let result = self.up_locked(flavor, conn.as_mut(), &migrations, up).await;
        self.unlock(flavor, conn, result).await
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
        let (flavor, mut conn) = self.lock().await?;
        let result = self.down_locked(flavor, conn.as_mut(), &migrations, &to).await;
        self.unlock(flavor, conn, result).await
    }

    /// Every migration, applied, pending or missing, in id order. Reads only: it neither locks
    /// nor creates the tracking table.
    ///
    /// # Errors
    ///
    /// A file error from the source, or a database error.
    pub async fn status(&self) -> Result<Vec<MigrationStatus>> {
        let migrations = self.source.load()?;
        let flavor = self.flavor()?;
        let mut conn = self.orm.driver().acquire().await?;
        let records = self.read_records(flavor, conn.as_mut(), false).await?;
        let recorded: HashMap<&str, &Record> =
            records.iter().map(|r| (r.name.as_str(), r)).collect();
        let mut out: Vec<MigrationStatus> = migrations
            .iter()
            .map(|m| MigrationStatus {
                name: m.id.clone(),
                state: match recorded.get(m.id.as_str()) {
                    Some(r) => MigrationState::Executed(r.executed_at),
                    None => MigrationState::Pending,
                },
            })
            .collect();
        let known: HashSet<&str> = migrations.iter().map(|m| m.id.as_str()).collect();
        out.extend(records.iter().filter(|r| !known.contains(r.name.as_str())).map(|r| {
            MigrationStatus { name: r.name.clone(), state: MigrationState::Missing(r.executed_at) }
        }));
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The migrations not applied yet, in id order.
    ///
    /// # Errors
    ///
    /// As [`Migrator::status`].
    pub async fn pending(&self) -> Result<Vec<Migration>> {
        let migrations = self.source.load()?;
        let flavor = self.flavor()?;
        let mut conn = self.orm.driver().acquire().await?;
        let records = self.read_records(flavor, conn.as_mut(), false).await?;
        let recorded: HashSet<&str> = records.iter().map(|r| r.name.as_str()).collect();
        Ok(migrations.into_iter().filter(|m| !recorded.contains(m.id.as_str())).collect())
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
        let (flavor, mut conn) = self.lock().await?;
        let result = self.fresh_locked(flavor, conn.as_mut(), &migrations).await;
        self.unlock(flavor, conn, result).await
    }

    /// Drops what [`Migrator::fresh`] drops, without applying anything (`schema:fresh`).
    /// Returns what it dropped, such as `table public.post_entity`.
    ///
    /// # Errors
    ///
    /// A database error; nothing is dropped then (one transaction).
    pub async fn drop_all(&self) -> Result<Vec<String>> {
        let (flavor, mut conn) = self.lock().await?;
        let result = self.drop_locked(flavor, conn.as_mut()).await;
        self.unlock(flavor, conn, result).await
    }

    async fn fresh_locked(
        &self,
        flavor: Flavor,
        conn: &mut dyn Connection,
        migrations: &[Migration],
    ) -> Result<Vec<String>> {
        self.drop_locked(flavor, conn).await?;
        self.up_locked(flavor, conn, migrations, &UpTo::all()).await
    }

    async fn drop_locked(&self, flavor: Flavor, conn: &mut dyn Connection) -> Result<Vec<String>> {
        flavor.begin(conn).await?;
        let dropped =
            match flavor.drop_everything(conn, self.schema.as_deref(), &self.other_schemas).await {
                Ok(dropped) => dropped,
                Err(e) => {
                    let _ = flavor.rollback(conn).await;
                    return Err(e);
                }
            };
        flavor.commit(conn).await?;
        for object in &dropped {
            self.report(&Progress::Dropped { object });
        }
        Ok(dropped)
    }

    fn flavor(&self) -> Result<Flavor> {
        Ok(Flavor::of(self.orm.db_kind()))
    }

    fn report(&self, p: &Progress<'_>) {
        if let Some(f) = &self.progress {
            f(p);
        }
    }

    fn table(&self) -> String {
        match &self.schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(TRACKING_TABLE)),
            None => quote_ident(TRACKING_TABLE),
        }
    }

    /// Takes a connection and the migration lock on it.
    async fn lock(&self) -> Result<(Flavor, Box<dyn Connection>)> {
        let flavor = self.flavor()?;
        let mut conn = self.orm.driver().acquire().await?;
        let report = |p: &Progress<'_>| self.report(p);
        flavor.lock(conn.as_mut(), &report).await?;
        Ok((flavor, conn))
    }

    /// Releases the lock whatever the run returned; the run's error comes first.
    async fn unlock<T>(
        &self,
        flavor: Flavor,
        mut conn: Box<dyn Connection>,
        result: Result<T>,
    ) -> Result<T> {
        let unlocked = flavor.unlock(conn.as_mut()).await;
        let value = result?;
        unlocked?;
        Ok(value)
    }

    async fn ensure_table(&self, flavor: Flavor, conn: &mut dyn Connection) -> Result<()> {
        let sql = flavor.create_tracking_table(self.schema.as_deref(), &self.table());
        conn.batch_execute(&sql)
            .await
            .map_err(|e| wrap(e, &format!("cannot create the tracking table {}", self.table())))
    }

    /// The rows of the tracking table in the order they were applied. With `create`, creates
    /// the table first; without, a missing table reads as empty.
    async fn read_records(
        &self,
        flavor: Flavor,
        conn: &mut dyn Connection,
        create: bool,
    ) -> Result<Vec<Record>> {
        let exists =
            flavor.tracking_table_exists(conn, self.schema.as_deref(), TRACKING_TABLE).await?;
        if create && !exists {
            // Checked first: `CREATE … IF NOT EXISTS` of an existing table makes PostgreSQL
            // send a notice that lands in the application's log on every start.
            self.ensure_table(flavor, conn).await?;
        } else if !create && !exists {
            return Ok(Vec::new());
        }
        let out = conn
            .run(&Statement {
                sql: format!(
                    "SELECT \"name\", \"checksum\", \"executed_at\" FROM {} ORDER BY \"id\"",
                    self.table()
                ),
                params: Vec::new(),
                returns: vec![
                    ColumnType::Varchar(255),
                    ColumnType::Varchar(64),
                    ColumnType::TimestampTz,
                ],
                kind: StatementKind::Select,
            })
            .await?;
        out.rows
            .iter()
            .map(|row| match row.as_slice() {
                [Value::Text(name), Value::Text(checksum), at] => Ok(Record {
                    name: name.clone(),
                    checksum: checksum.clone(),
                    executed_at: timestamp(at)?,
                }),
                other => Err(Error::invalid_value(format!(
                    "unexpected row in {}: {other:?}",
                    self.table()
                ))),
            })
            .collect()
    }

    /// Stops on an edited applied migration; reports applied migrations without a file.
    fn verify(&self, records: &[Record], migrations: &[Migration]) -> Result<()> {
        let by_id: HashMap<&str, &Migration> =
            migrations.iter().map(|m| (m.id.as_str(), m)).collect();
        for r in records {
            match by_id.get(r.name.as_str()) {
                Some(m) if m.checksum != r.checksum => {
                    return Err(Error::usage(format!(
                        "migration {} was changed after it was applied (checksum {} recorded, \
                         {} now): restore its up SQL as it was applied, and put the change in a \
                         new migration",
                        r.name, r.checksum, m.checksum
                    )));
                }
                Some(_) => {}
                None => self.report(&Progress::Missing { id: &r.name }),
            }
        }
        Ok(())
    }

    async fn up_locked(
        &self,
        flavor: Flavor,
        conn: &mut dyn Connection,
        migrations: &[Migration],
        up: &UpTo,
    ) -> Result<Vec<String>> {
        let records = self.read_records(flavor, conn, true).await?;
        self.verify(&records, migrations)?;
        let recorded: HashSet<&str> = records.iter().map(|r| r.name.as_str()).collect();
        let ids: Vec<&str> = migrations.iter().map(|m| m.id.as_str()).collect();
        let pending: Vec<&str> = ids.iter().copied().filter(|id| !recorded.contains(id)).collect();
        let chosen: HashSet<&str> = select::to_apply(&ids, &pending, up)?.into_iter().collect();
        let pending: Vec<&Migration> =
            migrations.iter().filter(|m| chosen.contains(m.id.as_str())).collect();
        let total = pending.len();
        let mut applied = Vec::with_capacity(total);
        for (i, m) in pending.into_iter().enumerate() {
            self.report(&Progress::Applying { id: &m.id, index: i + 1, total });
            let started = Instant::now();
            if self.apply(flavor, conn, m).await? {
                self.report(&Progress::Applied { id: &m.id, elapsed: started.elapsed() });
                applied.push(m.id.clone());
            }
        }
        Ok(applied)
    }

    /// Applies one migration with its record in one transaction. False when another process
    /// applied it meanwhile (SQLite).
    async fn apply(
        &self,
        flavor: Flavor,
        conn: &mut dyn Connection,
        m: &Migration,
    ) -> Result<bool> {
        flavor.begin(conn).await?;
        if flavor.recheck_in_transaction() && self.is_recorded(flavor, conn, &m.id).await? {
            flavor.rollback(conn).await?;
            return Ok(false);
        }
        if let Err(e) = conn.batch_execute(&m.up).await {
            let _ = flavor.rollback(conn).await;
            return Err(self.failure(flavor, conn, &m.id, "up", &m.up, e).await);
        }
        let insert = Statement {
            sql: format!(
                "INSERT INTO {} (\"name\", \"checksum\") VALUES ({}, {})",
                self.table(),
                flavor.placeholder(1),
                flavor.placeholder(2)
            ),
            params: vec![text(&m.id), text(&m.checksum)],
            returns: Vec::new(),
            kind: StatementKind::Insert,
        };
        if let Err(e) = conn.run(&insert).await {
            let _ = flavor.rollback(conn).await;
            return Err(wrap(e, &format!("migration {} ran, but recording it failed", m.id)));
        }
        flavor
            .commit(conn)
            .await
            .map_err(|e| wrap(e, &format!("committing migration {}", m.id)))?;
        Ok(true)
    }

    async fn is_recorded(
        &self,
        flavor: Flavor,
        conn: &mut dyn Connection,
        id: &str,
    ) -> Result<bool> {
        let out = conn
            .run(&Statement {
                sql: format!(
                    "SELECT count(*) FROM {} WHERE \"name\" = {}",
                    self.table(),
                    flavor.placeholder(1)
                ),
                params: vec![text(id)],
                returns: vec![ColumnType::I64],
                kind: StatementKind::Select,
            })
            .await?;
        Ok(backend::first(&out.rows).and_then(Value::as_i64).unwrap_or(0) > 0)
    }

    async fn down_locked(
        &self,
        flavor: Flavor,
        conn: &mut dyn Connection,
        migrations: &[Migration],
        to: &DownTo,
    ) -> Result<Vec<String>> {
        let records = self.read_records(flavor, conn, true).await?;
        self.verify(&records, migrations)?;
        let newest_first: Vec<&str> = records.iter().rev().map(|r| r.name.as_str()).collect();
        let mut known: Vec<&str> = migrations.iter().map(|m| m.id.as_str()).collect();
        known.extend(newest_first.iter().copied());
        known.sort_unstable();
        known.dedup();
        let chosen = select::to_revert(&newest_first, &known, to)?;
        let by_id: HashMap<&str, &Migration> =
            migrations.iter().map(|m| (m.id.as_str(), m)).collect();
        let mut steps = Vec::with_capacity(chosen.len());
        for id in chosen {
            let Some(m) = by_id.get(id) else {
                return Err(Error::usage(format!(
                    "cannot revert migration {id}: its file is missing from {}; nothing was \
                     reverted",
                    self.source.describe()
                )));
            };
            let Some(down) = m.down.as_deref() else {
                return Err(Error::usage(format!(
                    "cannot revert migration {}: it has no down SQL ({}.down.sql); nothing was \
                     reverted",
                    m.id, m.id
                )));
            };
            steps.push((*m, down));
        }
        let total = steps.len();
        let mut reverted = Vec::with_capacity(total);
        for (i, (m, down)) in steps.into_iter().enumerate() {
            self.report(&Progress::Reverting { id: &m.id, index: i + 1, total });
            let started = Instant::now();
            self.revert(flavor, conn, m, down).await?;
            self.report(&Progress::Reverted { id: &m.id, elapsed: started.elapsed() });
            reverted.push(m.id.clone());
        }
        Ok(reverted)
    }

    async fn revert(
        &self,
        flavor: Flavor,
        conn: &mut dyn Connection,
        m: &Migration,
        down: &str,
    ) -> Result<()> {
        flavor.begin(conn).await?;
        if let Err(e) = conn.batch_execute(down).await {
            let _ = flavor.rollback(conn).await;
            return Err(self.failure(flavor, conn, &m.id, "down", down, e).await);
        }
        let delete = Statement {
            sql: format!("DELETE FROM {} WHERE \"name\" = {}", self.table(), flavor.placeholder(1)),
            params: vec![Param::Value(Value::Text(m.id.clone()))],
            returns: Vec::new(),
            kind: StatementKind::Delete,
        };
        if let Err(e) = conn.run(&delete).await {
            let _ = flavor.rollback(conn).await;
            return Err(wrap(
                e,
                &format!("migration {} was reverted, but unrecording it failed", m.id),
            ));
        }
        flavor
            .commit(conn)
            .await
            .map_err(|e| wrap(e, &format!("committing the revert of {}", m.id)))
    }

    /// The error of a failed migration, naming the statement that failed. The transaction has
    /// been rolled back; the statements are re-run one by one in a new one, rolled back too.
    async fn failure(
        &self,
        flavor: Flavor,
        conn: &mut dyn Connection,
        id: &str,
        direction: &str,
        sql: &str,
        error: Error,
    ) -> Error {
        let parts = statements::split(sql);
        let located = if parts.len() == 1 {
            Some((1, parts[0]))
        } else if parts.is_empty() || error.is_connection() {
            None
        } else {
            locate(flavor, conn, &parts).await
        };
        let what = if direction == "up" { "applied" } else { "reverted" };
        let mut message = format!(
            "migration {id} failed ({direction}); it was rolled back: nothing of it was {what}"
        );
        if let Some((n, statement)) = located {
            message.push_str(&format!(
                "\n  statement {n} of {}: {}",
                parts.len(),
                statement.replace('\n', "\n    ")
            ));
        }
        message.push_str(&format!("\n  error: {}", error.message()));
        let mut out = Error::new(error.kind().clone(), message);
        if let Some(code) = error.code() {
            out = out.with_code(code.to_owned());
        }
        out.with_source(error)
    }
}

/// Re-runs `parts` one by one in a transaction that is always rolled back; the first that fails.
async fn locate<'s>(
    flavor: Flavor,
    conn: &mut dyn Connection,
    parts: &[&'s str],
) -> Option<(usize, &'s str)> {
    flavor.begin(conn).await.ok()?;
    let mut found = None;
    for (i, part) in parts.iter().enumerate() {
        if conn.batch_execute(part).await.is_err() {
            found = Some((i + 1, *part));
            break;
        }
    }
    let _ = flavor.rollback(conn).await;
    found
}

/// `e` with `context` in front of its message, keeping its kind and code.
fn wrap(e: Error, context: &str) -> Error {
    let mut out = Error::new(e.kind().clone(), format!("{context}: {}", e.message()));
    if let Some(code) = e.code() {
        out = out.with_code(code.to_owned());
    }
    out.with_source(e)
}
