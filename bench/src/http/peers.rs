//! The servers of the HTTP benchmark and how each is started, on the same database with the
//! same pool size:
//!
//! - `posts-api`: the service (`services/posts-api`, release build), which migrates the
//!   database at start-up as when deployed and so creates the table the others use;
//! - `handwritten`: axum + tokio-postgres without an ORM (`handwritten.rs`), this program again
//!   with `--serve-handwritten PORT`;
//! - `nestjs`: the article's NestJS + MikroORM service (`bench/nestjs`);
//!
//! and on the blog's database:
//!
//! - `blog-api`: the blog service (`services/blog-api`, release build), which migrates its
//!   database at start-up and so creates the tables its peer uses;
//! - `nestjs-blog`: the NestJS + MikroORM service of article #63 (`bench/nestjs-blog`).
//!
//! Both NestJS services are installed with `npm ci` from their lock files when their packages
//! are missing, compiled with `tsc` every run, and run with node.

use super::server::{Server, free_port};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::Command;

/// A NestJS service of `bench/`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NestApp {
    /// Its implementation name: `nestjs`, `nestjs-blog`.
    pub(crate) name: &'static str,
    /// Its directory under `bench/`.
    dir: &'static str,
    /// What it is, for messages.
    what: &'static str,
}

/// The posts service of article #62.
pub(crate) const NESTJS: NestApp =
    NestApp { name: "nestjs", dir: "nestjs", what: "the NestJS peer" };

/// The blog service of article #63.
pub(crate) const NESTJS_BLOG: NestApp =
    NestApp { name: "nestjs-blog", dir: "nestjs-blog", what: "the NestJS #63 peer" };

impl NestApp {
    /// Its directory.
    pub(crate) fn dir(self) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join(self.dir)
    }
}

/// A service of this repository: its package and the option that gives another binary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Service {
    package: &'static str,
    option: &'static str,
    what: &'static str,
}

/// The posts API.
pub(crate) const POSTS_API: Service =
    Service { package: "posts-api", option: "--posts-api", what: "the posts API" };

/// The blog API.
pub(crate) const BLOG_API: Service =
    Service { package: "blog-api", option: "--blog-api", what: "the blog API" };

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
    let command = service_command(binary, url, workdir, port, pool_size, statement_cache);
    Server::start("posts-api", command, port, "/health").await
}

/// The command that runs a service of this repository (`binary`) on `port` over the database
/// of `url`, in `workdir` (an empty directory, so that no .env of the checkout changes the
/// configuration), with `pool_size` connections and the statement cache on or off; it
/// migrates the database itself, as when deployed, and logs warnings only.
fn service_command(
    binary: &Path,
    url: &str,
    workdir: &Path,
    port: u16,
    pool_size: usize,
    statement_cache: bool,
) -> Command {
    let mut command = Command::new(binary);
    command
        .current_dir(workdir)
        .env("PORT", port.to_string())
        .env("DATABASE_URL", url)
        .env("STRATA_POOL_SIZE", pool_size.to_string())
        .env("STRATA_STATEMENT_CACHE", if statement_cache { "on" } else { "off" })
        .env_remove("MIGRATE_ON_START")
        .env("LOG_LEVEL", "warn")
        .env_remove("RUST_LOG");
    command
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

/// Starts the blog API on the blog's database, which it migrates itself, as it does when
/// deployed; `/health` answers 200 once the schema fits its entities. `statement_cache` is
/// its `STRATA_STATEMENT_CACHE`, as for the posts API.
pub(crate) async fn start_blog_api(
    binary: &Path,
    url: &str,
    workdir: &Path,
    pool_size: usize,
    statement_cache: bool,
) -> Result<Server> {
    let port = free_port()?;
    let mut command = service_command(binary, url, workdir, port, pool_size, statement_cache);
    // Required; `GET /posts` signs and checks no token.
    command.env("JWT_SECRET", "strata-bench-blog").env("JWT_EXPIRATION_TIME", "3600");
    Server::start("blog-api", command, port, "/health").await
}

/// Node's version, or `None` (said once) when node is not installed, which skips the NestJS
/// services.
pub(crate) async fn node() -> Option<String> {
    let node = crate::orm::mikroorm::node_version().await;
    if node.is_none() {
        eprintln!(
            "node is not installed: the NestJS peers are skipped (install Node.js to run them)"
        );
    }
    node
}

/// Makes a NestJS service runnable: installs its packages when they are missing and compiles
/// it.
pub(crate) async fn prepare_nestjs(app: NestApp) -> Result<()> {
    let dir = app.dir();
    if !dir.join("node_modules/@mikro-orm/nestjs").is_dir()
        || !dir.join("node_modules/typescript").is_dir()
    {
        eprintln!("installing {} (npm ci in {}) …", app.what, dir.display());
        // `--include=dev`: the compiler is a dev dependency, and NODE_ENV=production would
        // leave it out.
        run_in(
            &dir,
            "npm",
            &["ci", "--include=dev", "--no-audit", "--no-fund", "--loglevel=error"],
        )
        .await
        .with_context(|| {
            format!(
                "cannot install {}; install Node.js with npm, or leave {} out of --http-impls",
                app.what, app.name
            )
        })?;
    }
    eprintln!("compiling {} (tsc) …", app.what);
    run_in(&dir, "node", &["node_modules/typescript/bin/tsc", "-p", "tsconfig.json"])
        .await
        .with_context(|| format!("cannot compile {}", app.what))?;
    Ok(())
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

/// The installed version of an npm package of a NestJS service.
pub(crate) fn nestjs_package_version(app: NestApp, package: &str) -> Option<String> {
    let path = app.dir().join("node_modules").join(package).join("package.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json.get("version")?.as_str().map(str::to_owned)
}

/// Starts a compiled NestJS service with node; it is ready when `GET /posts` answers 200.
pub(crate) async fn start_nestjs(app: NestApp, url: &str, pool_size: usize) -> Result<Server> {
    let port = free_port()?;
    let mut command = Command::new("node");
    command
        .arg("dist/main.js")
        .current_dir(app.dir())
        .env("PORT", port.to_string())
        .env("DATABASE_URL", url)
        .env("POOL_SIZE", pool_size.to_string())
        .env("NODE_ENV", "production");
    Server::start(app.name, command, port, "/posts").await
}

/// A service's binary: the given path, or the repository's release build, built (or rebuilt
/// when its sources changed: a stale binary would embed stale migrations) by cargo first.
pub(crate) async fn service_binary(service: Service, given: Option<&Path>) -> Result<PathBuf> {
    let Service { package, option, what } = service;
    if let Some(path) = given {
        if !path.is_file() {
            bail!("{option} {} does not exist", path.display());
        }
        // Absolute: the server starts in a directory of its own.
        return std::path::absolute(path)
            .with_context(|| format!("cannot resolve {option} {}", path.display()));
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let binary = root.join("target/release").join(package);
    eprintln!("building {what} (cargo build --release -p {package}) …");
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "-p", package, "--manifest-path"])
        .arg(root.join("Cargo.toml"))
        .status()
        .await
        .with_context(|| format!("cannot run cargo to build {what}"))?;
    if !status.success() || !binary.is_file() {
        bail!(
            "cannot build {what} ({status}); build it with `cargo build --release -p \
             {package}` or pass {option} PATH"
        );
    }
    Ok(binary)
}
