//! The Strata command line as a library of clap commands that an application's binary embeds.
//!
//! Creating a migration diffs the application's compiled entities against the database, so the
//! commands run inside the application's own binary rather than a separate tool. The binary
//! describes itself with a [`Project`] (its entities, its migrations directory, the migrations
//! it embeds; or one such set per database it ships migrations for, see
//! [`Project::migrations_for`]) and hands its arguments over when the first one is a Strata
//! command:
//!
//! ```no_run
//! # #[derive(strata::Entity, Clone)]
//! # struct PostEntity {
//! #     #[strata(primary_key)]
//! #     id: i32,
//! #     title: String,
//! # }
//! # async fn serve() {}
//! use strata::Entity;
//!
//! static MIGRATIONS: &[strata_migrate::EmbeddedMigration] = &[];
//! // In an application: strata_migrate::embed_migrations!("migrations")
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     if strata_cli::is_command_line(std::env::args()) {
//!         let project = strata_cli::Project::new(&[PostEntity::meta()])
//!             .migrations_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
//!             .embedded_migrations(MIGRATIONS);
//!         return strata_cli::main(&project).await;
//!     }
//!     serve().await;
//!     std::process::ExitCode::SUCCESS
//! }
//! ```
//!
//! The commands (`--help` on each): `migration:create`, `migration:up`, `migration:down`,
//! `migration:list`, `migration:pending`, `migration:check`, `migration:fresh`,
//! `schema:create`, `schema:update`, `schema:drop`, `schema:fresh`, `database:create` and
//! `debug`. Exit codes: 0 success, 1 failure (and `migration:check` finding differences), 2 a
//! usage error.
//!
//! [`run`] is the same entry point with the configuration, the arguments and the output given
//! explicitly, for tests and for applications that read their configuration themselves. The
//! migration engine is `strata-migrate`; this crate only parses, connects and prints.

#![forbid(unsafe_code)]

mod args;
mod commands;
mod connect;
mod console;
mod project;

pub use args::{
    Cli, Command, CreateArgs, DownArgs, DropArgs, FreshArgs, RunOrDump, SchemaArgs, SourceArgs,
    UpArgs, UpdateArgs, is_command,
};
pub use connect::ConnectionSettings;
pub use console::Console;
pub use project::{MigrationSet, Project};
pub use strata::DbKind;

use clap::Parser;
use std::ffi::OsString;
use std::process::ExitCode;
use strata::StrataConfig;

/// True when the first argument after the binary's name is a Strata command (see
/// [`is_command`]).
pub fn is_command_line<I: IntoIterator<Item = String>>(args: I) -> bool {
    args.into_iter().nth(1).is_some_and(|a| is_command(&a))
}

/// Runs the command in `std::env::args()` with the configuration of
/// [`StrataConfig::from_env`], writing to stdout and stderr.
pub async fn main(project: &Project) -> ExitCode {
    let console = Console::stdio();
    let config = match StrataConfig::from_env() {
        Ok(config) => config,
        Err(e) => {
            console.err(format!("error: invalid configuration:\n{}", e.message()));
            return ExitCode::FAILURE;
        }
    };
    ExitCode::from(run(project, &config, std::env::args_os(), &console).await)
}

/// Runs one command: `args` starts with the binary's name, like `std::env::args_os()`. Returns
/// the exit code: 0 success, 1 failure, 2 usage error (clap's; `--help` is 0).
pub async fn run<I, T>(project: &Project, config: &StrataConfig, args: I, console: &Console) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            let text = text.trim_end();
            if e.use_stderr() {
                console.err(text);
            } else {
                console.out(text);
            }
            return u8::try_from(e.exit_code()).unwrap_or(2);
        }
    };
    let ctx = commands::Ctx { project, config, console };
    match commands::dispatch(&ctx, cli.command).await {
        Ok(code) => code,
        Err(e) => {
            ctx.console.err(format!("error: {}", e.message()));
            1
        }
    }
}
