//! The posts API server: configuration, logging, the database pool, then `axum::serve` until
//! SIGTERM or Ctrl-C (in-flight requests finish first).

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use posts_api::config::{Config, DatabaseChoice};
use posts_api::{AppState, app, serve};
use strata::Strata;
use strata::postgres::PgDriver;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("invalid configuration: the .env file cannot be read: {e}");
        return ExitCode::from(2);
    }
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            for problem in &e.problems {
                eprintln!("invalid configuration: {problem}");
            }
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt().with_env_filter(config.log_filter.as_str()).init();
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("posts-api: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let orm = match &config.database {
        DatabaseChoice::Postgres(pg) => {
            // Lazy: the service starts (and answers 503) while the database is down.
            let driver = PgDriver::lazy(pg).context("cannot set up the PostgreSQL pool")?;
            tracing::info!(database = %pg.redacted_url(), "using PostgreSQL");
            Strata::with_driver(Arc::new(driver), pg.clone())
        }
        DatabaseChoice::Sqlite(path) => anyhow::bail!(
            "no PostgreSQL is configured, so the posts would be stored in the SQLite file {}, \
             but this build has no SQLite support yet; set DATABASE_URL or the POSTGRES_* \
             variables (see .env.example)",
            path.display()
        ),
    };
    let state = AppState::new(orm).with_request_timeout(config.request_timeout);
    if let Err(e) = state.ensure_schema().await {
        tracing::warn!(
            error = %e,
            "the schema is not ready; requests answer 503 until the database is reachable"
        );
    }
    let addr = SocketAddr::from((Ipv4Addr::UNSPECIFIED, config.port));
    let listener = TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on port {} (set PORT to a free port)", config.port)
    })?;
    tracing::info!(address = %listener.local_addr()?, "posts API listening");
    serve(listener, app(state), shutdown_signal()).await.context("the server failed")?;
    tracing::info!("shut down");
    Ok(())
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
