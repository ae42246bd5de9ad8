//! `schema:create`, `schema:update`, `schema:drop` and `schema:fresh`: the database changed to
//! match the entities directly, without migration files (for prototypes and tests).

use super::{Ctx, execute, refuse_destructive};
use crate::args::{DropArgs, RunOrDump, SchemaArgs, UpdateArgs};
use strata::Result;
use strata_migrate::ddl::render;
use strata_migrate::diff::diff;
use strata_migrate::migrator::tracking_table;
use strata_migrate::schema::Schema;

/// Runs or prints `statements`, saying what was done.
async fn apply(ctx: &Ctx<'_>, mode: &RunOrDump, statements: &[String], done: &str) -> Result<u8> {
    if mode.dump {
        if statements.is_empty() {
            ctx.console.out("-- No changes required, schema is up-to-date");
        }
        ctx.print_sql(statements);
        return Ok(0);
    }
    if statements.is_empty() {
        ctx.console.out("No changes required, schema is up-to-date");
        return Ok(0);
    }
    let orm = ctx.orm().await?;
    execute(&orm, statements).await?;
    ctx.console.out(format!("{done} ({})", statements_count(statements.len())));
    Ok(0)
}

/// `1 statement`, `2 statements`.
fn statements_count(n: usize) -> String {
    format!("{n} statement{}", if n == 1 { "" } else { "s" })
}

/// `schema:create --run|--dump`: every entity's table, from scratch.
pub(crate) async fn create(ctx: &Ctx<'_>, args: &SchemaArgs) -> Result<u8> {
    let changes = diff(&Schema::default(), &ctx.target());
    let statements = render(&changes, ctx.backend()?)?.up;
    apply(ctx, &args.mode, &statements, "Schema created").await
}

/// `schema:update --run|--dump [--allow-destructive]`: the database changed to the entities.
pub(crate) async fn update(ctx: &Ctx<'_>, args: &UpdateArgs) -> Result<u8> {
    let orm = ctx.orm().await?;
    let current = ctx.introspect(&orm).await?;
    let changes = diff(&current, &ctx.target());
    let backend = ctx.backend()?;
    if args.mode.dump && !args.allow_destructive {
        // Printing runs nothing: show every statement, and mark the ones `--run` refuses.
        let destructive = changes.destructive();
        if !destructive.is_empty() {
            ctx.console.out(
                "-- These changes lose data; `schema:update --run` refuses them without \
                 --allow-destructive:",
            );
            for c in destructive {
                ctx.console.out(format!("--   {}", c.summary()));
            }
        }
    } else {
        refuse_destructive(&changes, args.allow_destructive, "schema:update")?;
    }
    let statements = render(&changes, backend)?.up;
    apply(ctx, &args.mode, &statements, "Schema updated").await
}

/// `schema:drop --run|--dump [--drop-migrations-table]`: the entities' tables dropped.
pub(crate) async fn drop(ctx: &Ctx<'_>, args: &DropArgs) -> Result<u8> {
    let orm = ctx.orm().await?;
    let current = ctx.introspect(&orm).await?;
    let default = current.default_namespace.clone();
    let current = current.canonical(default.as_deref());
    let target = ctx.target().canonical(default.as_deref());
    let mut without = current.clone();
    without.tables.retain(|t| target.table(t.namespace.as_deref(), &t.name).is_none());
    let mut statements = render(&diff(&current, &without), ctx.backend()?)?.up;
    if args.drop_migrations_table {
        statements.push(format!("drop table if exists {}", tracking_table(&orm)));
    }
    apply(ctx, &args.mode, &statements, "Schema dropped").await
}

/// `schema:fresh --run`: everything in the schema dropped, the entities' tables created.
pub(crate) async fn fresh(ctx: &Ctx<'_>) -> Result<u8> {
    let orm = ctx.orm().await?;
    let (migrator, _) = ctx.migrator(&orm, None)?;
    migrator.drop_all().await?;
    let changes = diff(&Schema::default(), &ctx.target());
    let statements = render(&changes, ctx.backend()?)?.up;
    execute(&orm, &statements).await?;
    ctx.console.out(format!("Schema dropped and created ({})", statements_count(statements.len())));
    Ok(0)
}
