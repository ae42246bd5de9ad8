//! The commands: one module per group, sharing the context and the helpers here.

mod create;
mod database;
mod debug;
mod migration;
mod schema;

use crate::args::Command;
use crate::connect;
use crate::{Console, Project};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use strata::{DbKind, Error, Result, Strata, StrataConfig};
use strata_migrate::introspect::introspect;
use strata_migrate::schema::Schema;
use strata_migrate::target::target_schema;
use strata_migrate::{Migrator, Progress};

/// What every command gets.
pub(crate) struct Ctx<'a> {
    pub(crate) project: &'a Project,
    pub(crate) config: &'a StrataConfig,
    pub(crate) console: &'a Console,
}

/// Runs a command; `Ok` holds the exit code.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, command: Command) -> Result<u8> {
    match command {
        Command::MigrationCreate(a) => create::run(ctx, &a).await,
        Command::MigrationUp(a) => migration::up(ctx, &a).await,
        Command::MigrationDown(a) => migration::down(ctx, &a).await,
        Command::MigrationList(a) => migration::list(ctx, &a).await,
        Command::MigrationPending(a) => migration::pending(ctx, &a).await,
        Command::MigrationCheck => migration::check(ctx).await,
        Command::MigrationFresh(a) => migration::fresh(ctx, &a).await,
        Command::SchemaCreate(a) => schema::create(ctx, &a).await,
        Command::SchemaUpdate(a) => schema::update(ctx, &a).await,
        Command::SchemaDrop(a) => schema::drop(ctx, &a).await,
        Command::SchemaFresh(_) => schema::fresh(ctx).await,
        Command::DatabaseCreate => database::create(ctx).await,
        Command::Debug => debug::run(ctx).await,
    }
}

impl Ctx<'_> {
    /// Connects to the configured database.
    pub(crate) async fn orm(&self) -> Result<Strata> {
        connect::connect(self.config, self.project.settings()).await
    }

    /// The backend the configuration points at, known without connecting.
    pub(crate) fn backend(&self) -> Result<DbKind> {
        DbKind::from_url(&self.config.connection_url())
    }

    /// The schema the entities want.
    pub(crate) fn target(&self) -> Schema {
        target_schema(self.project.entities(), self.config.default_schema.as_deref())
    }

    /// The database schemas the entities live in, besides the configured one.
    pub(crate) fn entity_schemas(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .project
            .entities()
            .iter()
            .filter_map(|e| e.schema)
            .filter(|s| Some(*s) != self.config.default_schema.as_deref())
            .map(str::to_owned)
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The schema of the live database, in the schemas the entities use.
    pub(crate) async fn introspect(&self, orm: &Strata) -> Result<Schema> {
        let backend = orm.db_kind();
        let mut namespaces = self.entity_schemas();
        namespaces.push(self.config.default_schema.clone().unwrap_or_else(|| "public".into()));
        let mut conn = orm.driver().acquire().await?;
        introspect(conn.as_mut(), backend, &namespaces).await
    }

    /// A migrator of the configured database's migrations (`path` when given) that prints its
    /// progress.
    pub(crate) fn migrator(
        &self,
        orm: &Strata,
        path: Option<&Path>,
    ) -> Result<(Migrator, Arc<AtomicBool>)> {
        let source = self.project.source_for(orm.db_kind(), path)?;
        let console = self.console.clone();
        let open_line = Arc::new(AtomicBool::new(false));
        let open = open_line.clone();
        let migrator =
            Migrator::new(orm, source).with_schemas(self.entity_schemas()).on_progress(move |p| {
                match p {
                    Progress::WaitingForLock => {
                        console.out("Another process is migrating this database; waiting for it …");
                    }
                    Progress::Missing { id } => console
                        .err(format!("warning: migration {id} is applied but its file is missing")),
                    Progress::Dropped { object } => console.out(format!("Dropped {object}")),
                    Progress::Applying { id, index, total } => {
                        open.store(true, Ordering::SeqCst);
                        console.partial(format!("Applying {id} ({index}/{total}) … "));
                    }
                    Progress::Reverting { id, index, total } => {
                        open.store(true, Ordering::SeqCst);
                        console.partial(format!("Reverting {id} ({index}/{total}) … "));
                    }
                    Progress::Applied { elapsed, .. } | Progress::Reverted { elapsed, .. } => {
                        open.store(false, Ordering::SeqCst);
                        console.out(format!("done in {} ms", elapsed.as_millis()));
                    }
                    _ => {}
                }
            });
        Ok((migrator, open_line))
    }

    /// Ends a progress line left open by a failed migration.
    pub(crate) fn close_line(&self, open: &AtomicBool) {
        if open.swap(false, Ordering::SeqCst) {
            self.console.out("failed");
        }
    }

    /// Prints SQL statements, each ending in `;`.
    pub(crate) fn print_sql(&self, statements: &[String]) {
        for s in statements {
            self.console.out(format!("{s};"));
        }
    }
}

/// Runs statements in one transaction.
pub(crate) async fn execute(orm: &Strata, statements: &[String]) -> Result<()> {
    if statements.is_empty() {
        return Ok(());
    }
    let mut sql = statements.join(";\n");
    sql.push(';');
    let mut conn = orm.driver().acquire().await?;
    conn.begin().await?;
    if let Err(e) = conn.batch_execute(&sql).await {
        let _ = conn.rollback().await;
        return Err(e);
    }
    conn.commit().await
}

/// Refuses destructive changes unless allowed; the error lists them.
pub(crate) fn refuse_destructive(
    diff: &strata_migrate::diff::Diff,
    allowed: bool,
    command: &str,
) -> Result<()> {
    let destructive = diff.destructive();
    if allowed || destructive.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = destructive.iter().map(|c| format!("  - {}", c.summary())).collect();
    Err(Error::usage(format!(
        "these changes lose data:\n{}\nNothing was changed. If that is intended, run \
         `{command} --allow-destructive`; for a rename, declare \
         #[strata(renamed_from = \"old_name\")] on the field or entity instead.",
        list.join("\n")
    )))
}
