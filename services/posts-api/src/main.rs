//! The posts API server: configuration, logging, the database pool, migrations, then
//! [`posts_api::serve`] until SIGTERM or Ctrl-C (in-flight requests finish first, within
//! `SHUTDOWN_TIMEOUT_SECS`).
//!
//! The same binary is the Strata command line for the service's entities:
//! `posts-api migration:create`, `migration:up`, `schema:update --dump`, `debug`, … (run
//! `posts-api migration:up --help`). It uses the database the service would use.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use posts_api::config::Config;
use posts_api::{AppState, app, db, serve};
use strata::postgres::PgDriver;
use strata::{Connect, DbKind, Strata};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("invalid configuration: the .env file cannot be read: {e}");
        return ExitCode::from(2);
    }
    // Any argument is a command (or a mistake, which the CLI reports with exit code 2); the
    // service itself takes none.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(args.as_slice(), [flag] if flag == "--version" || flag == "-V") {
        print_version();
        return ExitCode::SUCCESS;
    }
    let wants_help = args.iter().any(|a| a == "--help" || a == "-h")
        || args.first().is_some_and(|a| a == "help");
    let config = match Config::from_env() {
        Ok(config) => config,
        // Help needs no database: it is shown whatever the configuration.
        Err(_) if wants_help => Config::for_help(),
        Err(e) => {
            for problem in &e.problems {
                eprintln!("invalid configuration: {problem}");
            }
            return ExitCode::from(2);
        }
    };
    if !args.is_empty() {
        // The service's own text introduces the list of commands, not the help of one.
        if matches!(args.as_slice(), [one] if one == "--help" || one == "-h" || one == "help") {
            print_usage();
        }
        return command(&config).await;
    }
    tracing_subscriber::fmt()
        .with_env_filter(config.log_filter.as_str())
        .with_ansi(colours_wanted())
        .init();
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("posts-api: {}", report(&e));
            ExitCode::FAILURE
        }
    }
}

/// Colours in the log only on a terminal, and never when `NO_COLOR` is set (no-color.org).
fn colours_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// An error and its causes on one line, each said once: a Strata error's message already
/// holds what its sources say, and a context that a cause repeats is left out.
fn report(e: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if parts.last().is_some_and(|last| text.starts_with(last.as_str())) {
            parts.pop();
            parts.push(text);
        } else if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        if cause.is::<strata::Error>() {
            break;
        }
    }
    parts.join(": ")
}

async fn run(config: Config) -> anyhow::Result<()> {
    let orm = match config.database {
        DbKind::Postgres => {
            let pg = &config.strata;
            // Lazy: the service starts (and answers 503) while the database is down.
            let driver = PgDriver::lazy(pg).context("cannot set up the PostgreSQL pool")?;
            tracing::info!(database = %pg.redacted_url(), "using PostgreSQL");
            Strata::with_driver(Arc::new(driver), pg.clone())
        }
        DbKind::Sqlite => {
            let path = config.sqlite_path().unwrap_or_default();
            let orm = Strata::connect(config.strata.clone())
                .await
                .with_context(|| format!("cannot open the SQLite database {}", path.display()))?;
            tracing::info!(
                database = %path.display(),
                "using SQLite (set DATABASE_URL or POSTGRES_HOST to use PostgreSQL)"
            );
            orm
        }
    };
    let mut state = AppState::new(orm).with_request_timeout(config.request_timeout);
    if !config.migrate_on_start {
        tracing::info!("MIGRATE_ON_START=false: not applying migrations");
        state = state.without_migrations();
    }
    match state.ensure_schema().await {
        Err(e) if e.is_connection() => tracing::warn!(
            error = %e,
            "the database is unreachable; requests answer 503 until it is, then it is migrated"
        ),
        // Logged by the schema gate.
        Err(_) => {}
        Ok(()) => match state.not_ready().await {
            Ok(None) => tracing::info!("the database schema matches the entities"),
            Ok(Some(why)) => tracing::warn!("{why}; /health answers 503 until then"),
            Err(e) => tracing::warn!(error = %e, "cannot compare the schema with the entities"),
        },
    }
    let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, config.port));
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on port {} (set PORT to a free port)", config.port)
    })?;
    tracing::info!(address = %listener.local_addr()?, "posts API listening");
    serve(listener, app(state), config.server, shutdown_signal())
        .await
        .context("the server failed")?;
    tracing::info!("shut down");
    Ok(())
}

/// What `posts-api --help` prints before the list of commands.
const USAGE: &str = "posts-api: the posts REST API of the article, on Strata.

Run without arguments to serve the API on PORT (default 3000). The database is PostgreSQL when
DATABASE_URL or a POSTGRES_* variable is set, else the SQLite file SQLITE_PATH
(default ./data/posts.sqlite); see .env.example. `posts-api --version` prints the version.
With a command, runs that Strata command against the same database and the service's entities
(`posts-api help <command>` for one command):
";

#[allow(clippy::print_stdout, reason = "--help prints to stdout, as the CLI's own help does")]
fn print_usage() {
    println!("{USAGE}");
}

#[allow(clippy::print_stdout, reason = "--version prints to stdout, as every CLI does")]
fn print_version() {
    println!("posts-api {}", env!("CARGO_PKG_VERSION"));
}

/// Runs a Strata command (`migration:up`, …) against the service's database and entities.
async fn command(config: &Config) -> ExitCode {
    // The source tree's directories when they exist (new files are seen without a rebuild),
    // else the migrations compiled into this binary.
    let project = db::project(std::path::Path::new(env!("CARGO_MANIFEST_DIR")));
    let console = strata_cli::Console::stdio();
    ExitCode::from(strata_cli::run(&project, &config.strata, std::env::args_os(), &console).await)
}

/// Completes on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C received, finishing in-flight requests"),
        () = terminate => tracing::info!("SIGTERM received, finishing in-flight requests"),
    }
}
