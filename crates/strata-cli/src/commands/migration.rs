//! `migration:up`, `migration:down`, `migration:list`, `migration:pending`, `migration:check`
//! and `migration:fresh`.

use super::Ctx;
use crate::args::{DownArgs, SourceArgs, UpArgs};
use strata::Result;
use strata_migrate::check::differences;
use strata_migrate::{DownTo, MigrationState, UpTo};

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The names of `--only`: comma or space separated, each trimmed.
fn names(only: &[String]) -> Vec<String> {
    only.iter()
        .flat_map(|o| o.split([',', ' ']))
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `migration:up [--from NAME] [--to NAME] [--only NAME,…]`.
pub(crate) async fn up(ctx: &Ctx<'_>, args: &UpArgs) -> Result<u8> {
    let orm = ctx.orm().await?;
    let (migrator, open) = ctx.migrator(&orm, args.source.path.as_deref())?;
    let only = names(&args.only);
    let choice = UpTo { from: args.from.clone(), to: args.to.clone(), only: only.clone() };
    let result = migrator.up_with(&choice).await;
    ctx.close_line(&open);
    let applied = result?;
    if applied.is_empty() && !only.is_empty() {
        ctx.console.out(format!("Nothing to apply: {} applied already", only.join(", ")));
    } else if applied.is_empty() {
        ctx.console.out("No pending migrations, the database is up-to-date");
    } else {
        let n = applied.len();
        ctx.console.out(format!("Applied {n} migration{}", plural(n)));
    }
    Ok(0)
}

/// `migration:down [--to NAME|0] [--only NAME,…]`.
pub(crate) async fn down(ctx: &Ctx<'_>, args: &DownArgs) -> Result<u8> {
    if let Some(from) = &args.from {
        ctx.console.err(format!(
            "error: migration:down --from {from}: down always starts from the newest applied \
             migration; revert down to one with --to NAME (0: all), or chosen ones with --only \
             NAME,… (--from chooses where migration:up starts)"
        ));
        return Ok(2);
    }
    let orm = ctx.orm().await?;
    let (migrator, open) = ctx.migrator(&orm, args.source.path.as_deref())?;
    let only = names(&args.only);
    let to = if only.is_empty() { DownTo::parse(args.to.as_deref()) } else { DownTo::Only(only) };
    let result = migrator.down(to).await;
    ctx.close_line(&open);
    let reverted = result?;
    if reverted.is_empty() {
        ctx.console.out("No applied migrations to revert");
    } else {
        let n = reverted.len();
        ctx.console.out(format!("Reverted {n} migration{}", plural(n)));
    }
    Ok(0)
}

/// `migration:list`: the applied migrations and when they ran.
pub(crate) async fn list(ctx: &Ctx<'_>, args: &SourceArgs) -> Result<u8> {
    let orm = ctx.orm().await?;
    let (migrator, _) = ctx.migrator(&orm, args.path.as_deref())?;
    let rows: Vec<(String, String)> = migrator
        .status()
        .await?
        .into_iter()
        .filter_map(|s| match s.state {
            MigrationState::Executed(at) => {
                Some((s.name, at.format("%Y-%m-%d %H:%M:%S UTC").to_string()))
            }
            MigrationState::Missing(at) => Some((
                format!("{} (file missing)", s.name),
                at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            )),
            MigrationState::Pending => None,
        })
        .collect();
    if rows.is_empty() {
        ctx.console.out("No migrations have been applied");
        return Ok(0);
    }
    table(ctx, ("Name", "Executed at"), &rows);
    Ok(0)
}

/// `migration:pending`: the migrations not applied yet.
pub(crate) async fn pending(ctx: &Ctx<'_>, args: &SourceArgs) -> Result<u8> {
    let orm = ctx.orm().await?;
    let (migrator, _) = ctx.migrator(&orm, args.path.as_deref())?;
    let pending = migrator.pending().await?;
    if pending.is_empty() {
        ctx.console.out("No pending migrations");
        return Ok(0);
    }
    let rows: Vec<(String, String)> = pending
        .into_iter()
        .map(|m| {
            let down = if m.down.is_some() { "yes" } else { "no" };
            (m.id, down.to_owned())
        })
        .collect();
    table(ctx, ("Name", "Down SQL"), &rows);
    Ok(0)
}

/// `migration:check`: exit 1 when the entities and the database differ.
pub(crate) async fn check(ctx: &Ctx<'_>) -> Result<u8> {
    let orm = ctx.orm().await?;
    let changes = differences(&orm, ctx.project.entities()).await?;
    if changes.is_empty() {
        ctx.console.out("No changes required, schema is up-to-date");
        return Ok(0);
    }
    ctx.console.out("The entities and the database differ:");
    for s in changes.summaries_for(orm.db_kind()) {
        ctx.console.out(format!("  - {s}"));
    }
    let (migrator, _) = ctx.migrator(&orm, None)?;
    let pending = migrator.pending().await.map(|p| p.len()).unwrap_or(0);
    if pending > 0 {
        ctx.console.out(format!(
            "{pending} migration{} pending: apply with `migration:up`, then check again",
            plural(pending)
        ));
    } else {
        ctx.console.out("Create a migration for them with `migration:create`");
    }
    Ok(1)
}

/// `migration:fresh`: drop everything, apply every migration.
pub(crate) async fn fresh(ctx: &Ctx<'_>, args: &SourceArgs) -> Result<u8> {
    let orm = ctx.orm().await?;
    let (migrator, open) = ctx.migrator(&orm, args.path.as_deref())?;
    let result = migrator.fresh().await;
    ctx.close_line(&open);
    let n = result?.len();
    ctx.console.out(format!("Dropped everything and applied {n} migration{}", plural(n)));
    Ok(0)
}

/// Prints a two-column table.
fn table(ctx: &Ctx<'_>, head: (&str, &str), rows: &[(String, String)]) {
    let w0 = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0).max(head.0.len());
    let w1 = rows.iter().map(|r| r.1.chars().count()).max().unwrap_or(0).max(head.1.len());
    let rule = format!("+{}+{}+", "-".repeat(w0 + 2), "-".repeat(w1 + 2));
    ctx.console.out(&rule);
    ctx.console.out(format!("| {:w0$} | {:w1$} |", head.0, head.1));
    ctx.console.out(&rule);
    for (a, b) in rows {
        ctx.console.out(format!("| {a:w0$} | {b:w1$} |"));
    }
    ctx.console.out(&rule);
}
