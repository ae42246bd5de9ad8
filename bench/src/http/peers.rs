//! The servers of the HTTP benchmark and how each is started, on the same database with the
//! same pool size:
//!
//! - `posts-api`: the service (`services/posts-api`, release build), which migrates the
//!   database at start-up as when deployed and so creates the table the others use;
//! - `handwritten`: axum + tokio-postgres without an ORM (`handwritten.rs`), this program again
//!   with `--serve-handwritten PORT`;
//! - `nestjs`: the article's NestJS + MikroORM service (`bench/nestjs`), installed with `npm ci`
//!   from its lock file when its packages are missing, compiled with `tsc` every run, and run
//!   with node.

use super::server::{Server, free_port};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::Command;

/// The NestJS peer's directory.
pub(crate) fn nestjs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("nestjs")
}

/// Starts the posts API on the benchmark database. The ORM benchmark's hand-made table is
/// dropped first: the service creates its own with its migrations, and `/health` answers 200
/// only once the schema fits its entities. `statement_cache` is its `STRATA_STATEMENT_CACHE`
/// (`--statement-cache`), whatever the benchmark's own environment says.
pub(crate) async fn start_posts_api(
    control: &tokio_postgres::Client,
    binary: &Path,
    url: &str,
    workdir: &Path,
    pool_size: usize,
    statement_cache: bool,
) -> Result<Server> {
    control
        .batch_execute(r#"DROP TABLE IF EXISTS "post_entity""#)
        .await
        .context("cannot drop the benchmark's table for the posts API to create its own")?;
    let port = free_port()?;
    let mut command = Command::new(binary);
    // An empty directory, so that no .env of the checkout changes the configuration.
    command
        .current_dir(workdir)
        .env("PORT", port.to_string())
        .env("DATABASE_URL", url)
        .env("STRATA_POOL_SIZE", pool_size.to_string())
        .env("STRATA_STATEMENT_CACHE", if statement_cache { "on" } else { "off" })
        // The service migrates the benchmark database itself, as it does when deployed.
        .env_remove("MIGRATE_ON_START")
        .env("LOG_LEVEL", "warn")
        .env_remove("RUST_LOG");
    Server::start("posts-api", command, port, "/health").await
}

/// Starts the hand-written server: this program with `--serve-handwritten`.
pub(crate) async fn start_handwritten(url: &str, pool_size: usize) -> Result<Server> {
    let port = free_port()?;
    let exe = std::env::current_exe().context("cannot find the benchmark program's path")?;
    let mut command = Command::new(exe);
    command
        .args(["--serve-handwritten", &port.to_string()])
        .args(["--http-pool-size", &pool_size.to_string()])
        .args(["--database-url", url]);
    Server::start("handwritten", command, port, "/posts").await
}

/// Makes the NestJS peer runnable: `None` (said once) when node is not installed; else installs
/// its packages when they are missing and compiles it, and returns node's version.
pub(crate) async fn prepare_nestjs() -> Result<Option<String>> {
    let Some(node) = crate::orm::mikroorm::node_version().await else {
        eprintln!("node is not installed: the NestJS peer is skipped (install Node.js to run it)");
        return Ok(None);
    };
    let dir = nestjs_dir();
    if !dir.join("node_modules/@mikro-orm/nestjs").is_dir()
        || !dir.join("node_modules/typescript").is_dir()
    {
        eprintln!("installing the NestJS peer (npm ci in {}) …", dir.display());
        // `--include=dev`: the compiler is a dev dependency, and NODE_ENV=production would
        // leave it out.
        run_in(&dir, "npm", &["ci", "--include=dev", "--no-audit", "--no-fund", "--loglevel=error"])
            .await
            .context("cannot install the NestJS peer; install Node.js with npm, or leave nestjs out of --http-impls")?;
    }
    eprintln!("compiling the NestJS peer (tsc) …");
    run_in(&dir, "node", &["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"])
        .await
        .context("cannot compile the NestJS peer")?;
    Ok(Some(node))
}

async fn run_in(dir: &Path, program: &str, args: &[&str]) -> Result<()> {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::null())
        .status()
        .await
        .with_context(|| format!("cannot run {program}"))?;
    if !status.success() {
        bail!("`{program} {}` failed in {} ({status})", args.join(" "), dir.display());
    }
    Ok(())
}

/// The installed version of an npm package of the NestJS peer.
pub(crate) fn nestjs_package_version(package: &str) -> Option<String> {
    let path = nestjs_dir().join("node_modules").join(package).join("package.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json.get("version")?.as_str().map(str::to_owned)
}

/// Starts the compiled NestJS peer with node.
pub(crate) async fn start_nestjs(url: &str, pool_size: usize) -> Result<Server> {
    let port = free_port()?;
    let mut command = Command::new("node");
    command
        .arg("dist/main.js")
        .current_dir(nestjs_dir())
        .env("PORT", port.to_string())
        .env("DATABASE_URL", url)
        .env("POOL_SIZE", pool_size.to_string())
        .env("NODE_ENV", "production");
    Server::start("nestjs", command, port, "/posts").await
}

/// The posts API binary: the given path, or the repository's release build, built (or rebuilt
/// when its sources changed: a stale binary would embed stale migrations) by cargo first.
pub(crate) async fn posts_api_binary(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        if !path.is_file() {
            bail!("--posts-api {} does not exist", path.display());
        }
        // Absolute: the server starts in a directory of its own.
        return std::path::absolute(path)
            .with_context(|| format!("cannot resolve --posts-api {}", path.display()));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = root.join("target/release/posts-api");
    eprintln!("building the posts API (cargo build --release -p posts-api) …");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "-p", "posts-api", "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .status()
        .await
        .context("cannot run cargo to build the posts API")?;
    if !status.success() || !binary.is_file() {
        bail!(
            "cannot build the posts API ({status}); build it with `cargo build --release -p \
             posts-api` or pass --posts-api PATH"
        );
    }
    Ok(binary)
}
