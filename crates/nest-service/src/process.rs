//! What a service's binary does around its router, the same for every service: loading `.env`,
//! logging, opening the database its configuration names, reporting an error on one line,
//! running a Strata command, and waiting for Ctrl-C or SIGTERM.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use strata::postgres::PgDriver;
use strata::{Connect, DbKind, Strata};

use crate::config::ServiceConfig;
use crate::schema::Schema;

/// Loads `.env` from the working directory, if there is one.
///
/// # Errors
///
/// The message to print when the file exists but cannot be read.
pub fn load_dotenv() -> Result<(), String> {
    match dotenvy::dotenv() {
        Err(e) if !e.not_found() => {
            Err(format!("invalid configuration: the .env file cannot be read: {e}"))
        }
        _ => Ok(()),
    }
}

/// Logs to stdout through `tracing` with `filter` (already validated by the configuration).
pub fn init_tracing(filter: &str) {
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colours_wanted()).init();
}

/// Colours in the log only on a terminal, and never when `NO_COLOR` is set (no-color.org).
fn colours_wanted() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// An error and its causes on one line, each said once: a Strata error's message already
/// holds what its sources say, and a context that a cause repeats is left out. Binaries pass
/// their `anyhow::Error` as `e.as_ref()`.
pub fn report(e: &(dyn std::error::Error + 'static)) -> String {
    let chain = std::iter::successors(Some(e), |cause| cause.source());
    let mut parts: Vec<String> = Vec::new();
    for cause in chain {
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

/// The ORM over the database `config` names. PostgreSQL's pool is lazy: the service starts
/// (and answers 503) while the database is down. A SQLite file is created when missing.
///
/// # Errors
///
/// An invalid PostgreSQL configuration, or a SQLite file that cannot be opened.
pub async fn open_orm(config: &ServiceConfig) -> Result<Strata, OpenError> {
    match config.database {
        DbKind::Postgres => {
            let pg = &config.strata;
            let driver = PgDriver::lazy(pg).map_err(|source| OpenError {
                what: "cannot set up the PostgreSQL pool".to_owned(),
                source,
            })?;
            tracing::info!(database = %pg.redacted_url(), "using PostgreSQL");
            Ok(Strata::with_driver(Arc::new(driver), pg.clone()))
        }
        DbKind::Sqlite => {
            let path = config.sqlite_path().unwrap_or_default();
            let orm = Strata::connect(config.strata.clone()).await.map_err(|source| OpenError {
                what: format!("cannot open the SQLite database {}", path.display()),
                source,
            })?;
            tracing::info!(
                database = %path.display(),
                "using SQLite (set DATABASE_URL or POSTGRES_HOST to use PostgreSQL)"
            );
            Ok(orm)
        }
    }
}

/// The database of the configuration cannot be opened: what was attempted, and Strata's error
/// as the source (which [`report`] prints after it).
#[derive(Debug)]
pub struct OpenError {
    what: String,
    source: strata::Error,
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.what)
    }
}

impl std::error::Error for OpenError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Runs a Strata command (`migration:up`, …) against the service's database and entities.
/// `root` is the service crate's directory: its migration directories are used when they exist
/// (new files are seen without a rebuild), else the migrations compiled into the binary.
pub async fn command(schema: &Schema, root: &Path, config: &ServiceConfig) -> ExitCode {
    let project = schema.project(root);
    let console = strata_cli::Console::stdio();
    ExitCode::from(strata_cli::run(&project, &config.strata, std::env::args_os(), &console).await)
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
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
