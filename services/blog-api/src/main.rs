//! The blog API server: configuration (with `JWT_SECRET` and `JWT_EXPIRATION_TIME`), logging,
//! the database pool, migrations, then [`blog_api::serve`] until SIGTERM or Ctrl-C (in-flight
//! requests finish first, within `SHUTDOWN_TIMEOUT_SECS`).
//!
//! The same binary is the Strata command line for the service's entities:
//! `blog-api migration:create`, `migration:up`, `schema:update --dump`, `debug`, … (run
//! `blog-api migration:up --help`). It uses the database the service would use; commands need
//! no `JWT_*` variable.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use blog_api::config::{self, Config};
use blog_api::{AppState, app, db, serve};
use nest_service::process::{self, report, shutdown_signal};
use tokio::net::TcpListener;

/// mimalloc instead of the C library's allocator: a request allocates and frees many small
/// objects on whichever worker thread runs it, and glibc's malloc spent a third of the CPU of a
/// populated `GET /posts` in its arenas (consolidating, locking). The benchmark's hand-written
/// peer uses it too.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(message) = process::load_dotenv() {
        eprintln!("{message}");
        return ExitCode::from(2);
    }
    // Any argument is a command (or a mistake, which the CLI reports with exit code 2); the
    // service itself takes none.
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(args.as_slice(), [flag] if flag == "--version" || flag == "-V") {
        print_version();
        return ExitCode::SUCCESS;
    }
    if !args.is_empty() {
        let wants_help = args.iter().any(|a| a == "--help" || a == "-h")
            || args.first().is_some_and(|a| a == "help");
        let service = match config::service_from_env() {
            Ok(service) => service,
            // Help needs no database: it is shown whatever the configuration.
            Err(_) if wants_help => config::for_help(),
            Err(e) => return invalid(&e),
        };
        // The service's own text introduces the list of commands, not the help of one.
        if matches!(args.as_slice(), [one] if one == "--help" || one == "-h" || one == "help") {
            print_usage();
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        return process::command(&db::SCHEMA, root, &service).await;
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => return invalid(&e),
    };
    process::init_tracing(&config.service.log_filter);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("blog-api: {}", report(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// Prints every problem of the configuration, one line each; exit code 2.
fn invalid(e: &config::ConfigError) -> ExitCode {
    for problem in &e.problems {
        eprintln!("invalid configuration: {problem}");
    }
    ExitCode::from(2)
}

async fn run(config: Config) -> anyhow::Result<()> {
    let Config { service, jwt } = config;
    // Lazy on PostgreSQL: the service starts (and answers 503) while the database is down.
    let orm = process::open_orm(&service).await?;
    let mut state = AppState::new(orm, &jwt)?.with_request_timeout(service.request_timeout);
    if !service.migrate_on_start {
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
    let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, service.port));
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on port {} (set PORT to a free port)", service.port)
    })?;
    tracing::info!(address = %listener.local_addr()?, "blog API listening");
    serve(listener, app(state), service.server, shutdown_signal())
        .await
        .context("the server failed")?;
    tracing::info!("shut down");
    Ok(())
}

/// What `blog-api --help` prints before the list of commands.
const USAGE: &str = "blog-api: the blog REST API of article #63 (users, posts, categories, \
authentication), on Strata.

Run without arguments to serve the API on PORT (default 3000); JWT_SECRET and
JWT_EXPIRATION_TIME (seconds) are required. The database is PostgreSQL when DATABASE_URL or a
POSTGRES_* variable is set, else the SQLite file SQLITE_PATH (default ./data/blog.sqlite); see
.env.example. `blog-api --version` prints the version.
With a command, runs that Strata command against the same database and the service's entities
(`blog-api help <command>` for one command):
";

#[allow(clippy::print_stdout, reason = "--help prints to stdout, as the CLI's own help does")]
fn print_usage() {
    println!("{USAGE}");
}

#[allow(clippy::print_stdout, reason = "--version prints to stdout, as every CLI does")]
fn print_version() {
    println!("blog-api {}", env!("CARGO_PKG_VERSION"));
}
