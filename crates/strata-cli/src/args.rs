//! The commands and their options, as clap parses them.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// The Strata commands of an application's binary.
#[derive(Debug, Parser)]
#[command(
    about = "Strata: migrations generated from the entities, the migrator, and the schema tools",
    long_about = "Strata: migrations generated from the entities, the migrator, and the schema \
                  tools.\n\nThe database comes from DATABASE_URL (unless the application \
                  reads a configuration of its own); STRATA_SCHEMA sets the schema.",
    disable_version_flag = true
)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// One command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a migration from the difference between the entities and the schema snapshot
    /// (migrations/.snapshot.json), or the database when there is no snapshot.
    #[command(name = "migration:create")]
    MigrationCreate(CreateArgs),
    /// Apply the pending migrations (all, --from/--to a range, or --only some).
    #[command(name = "migration:up")]
    MigrationUp(UpArgs),
    /// Revert the last applied migration, down to and including --to (0: all), or --only some.
    #[command(name = "migration:down")]
    MigrationDown(DownArgs),
    /// List the applied migrations and when they ran.
    #[command(name = "migration:list")]
    MigrationList(SourceArgs),
    /// List the migrations not applied yet.
    #[command(name = "migration:pending")]
    MigrationPending(SourceArgs),
    /// Exit with 1 when the entities and the database differ (for CI).
    #[command(name = "migration:check")]
    MigrationCheck,
    /// Drop everything in the schema, the migrations table included, and apply every migration.
    #[command(name = "migration:fresh")]
    MigrationFresh(SourceArgs),
    /// Create the entities' tables in an empty database (no migration).
    #[command(name = "schema:create")]
    SchemaCreate(SchemaArgs),
    /// Change the database to match the entities (no migration).
    #[command(name = "schema:update")]
    SchemaUpdate(UpdateArgs),
    /// Drop the entities' tables.
    #[command(name = "schema:drop")]
    SchemaDrop(DropArgs),
    /// Drop everything in the schema and create the entities' tables.
    #[command(name = "schema:fresh")]
    SchemaFresh(FreshArgs),
    /// Create the configured database if it does not exist.
    #[command(name = "database:create")]
    DatabaseCreate,
    /// Show the configuration (password hidden) and every entity with its table and columns.
    #[command(name = "debug")]
    Debug,
}

/// Where the migrations are.
#[derive(Debug, Clone, Default, Args)]
pub struct SourceArgs {
    /// The migrations directory, for the configured database (default: the application's
    /// directory for that database, or the migrations embedded in the binary when it does not
    /// exist). With `migration:create`: write into this directory only.
    #[arg(long, value_name = "DIR")]
    pub path: Option<PathBuf>,
}

/// `migration:create`.
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// The migration's name (default: from its first change).
    #[arg(long, short)]
    pub name: Option<String>,
    /// Create empty files to write by hand.
    #[arg(long, conflicts_with = "initial")]
    pub blank: bool,
    /// Create the first migration: every entity from scratch, ignoring the database. Refused
    /// when migrations exist.
    #[arg(long)]
    pub initial: bool,
    /// Print the SQL instead of writing files (the snapshot is left as it is).
    #[arg(long)]
    pub dump: bool,
    /// Allow changes that lose data (dropping tables or columns, narrowing types).
    #[arg(long)]
    pub allow_destructive: bool,
    /// Where the migrations are.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `migration:up`.
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// Apply up to and including this migration (an id, its timestamp, or its name); 0: all.
    #[arg(long, short, value_name = "NAME")]
    pub to: Option<String>,
    /// Apply only the migrations after this one (it is not applied itself).
    #[arg(long, short, value_name = "NAME")]
    pub from: Option<String>,
    /// Apply only these migrations (comma separated, or the option repeated), if pending.
    #[arg(
        long,
        short,
        value_name = "NAME[,NAME…]",
        value_delimiter = ',',
        conflicts_with_all = ["to", "from"]
    )]
    pub only: Vec<String>,
    /// Where the migrations are.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `migration:down`.
#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Revert down to and including this migration; 0 reverts all.
    #[arg(long, short, value_name = "NAME|0")]
    pub to: Option<String>,
    /// Not for `down`, which always starts from the newest applied migration: use --to or
    /// --only (--from chooses where `migration:up` starts).
    #[arg(long, short, value_name = "NAME", hide = true)]
    pub from: Option<String>,
    /// Revert only these applied migrations (comma separated, or the option repeated), newest
    /// first; the others stay applied.
    #[arg(long, short, value_name = "NAME[,NAME…]", value_delimiter = ',', conflicts_with = "to")]
    pub only: Vec<String>,
    /// Where the migrations are.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Run the SQL or print it: one is required.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct RunOrDump {
    /// Run the SQL.
    #[arg(long)]
    pub run: bool,
    /// Print the SQL.
    #[arg(long)]
    pub dump: bool,
}

/// `schema:create`.
#[derive(Debug, Clone, Args)]
pub struct SchemaArgs {
    /// Run or print.
    #[command(flatten)]
    pub mode: RunOrDump,
}

/// `schema:update`.
#[derive(Debug, Clone, Args)]
pub struct UpdateArgs {
    /// Run or print.
    #[command(flatten)]
    pub mode: RunOrDump,
    /// Allow changes that lose data (dropping tables or columns, narrowing types).
    #[arg(long)]
    pub allow_destructive: bool,
}

/// `schema:drop`.
#[derive(Debug, Clone, Args)]
pub struct DropArgs {
    /// Run or print.
    #[command(flatten)]
    pub mode: RunOrDump,
    /// Drop the migrations table too.
    #[arg(long)]
    pub drop_migrations_table: bool,
}

/// `schema:fresh`.
#[derive(Debug, Clone, Args)]
pub struct FreshArgs {
    /// Run it (required: it drops every table of the schema).
    #[arg(long, required = true)]
    pub run: bool,
}

/// True when `arg` (the first argument after the binary's name) is one of these commands, or
/// starts with their prefixes: `migration:`, `schema:`, `database:`, or is `debug`.
pub fn is_command(arg: &str) -> bool {
    ["migration:", "schema:", "database:"].iter().any(|p| arg.starts_with(p)) || arg == "debug"
}
