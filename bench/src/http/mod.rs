//! The HTTP benchmark: the posts API (`services/posts-api`, release build) on loopback under
//! a bounded load per route, next to `pgbench` running the same SQL with as many clients (the
//! ceiling the database sets). Reports requests/s, p50/p99 latency and the server's peak
//! resident memory (`VmHWM` of `/proc/<pid>/status`).
//!
//! Every scenario starts from the table reset and seeded with 100 posts, so `GET /posts`
//! returns 100 rows.

mod load;
mod pgbench;

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// Options of the HTTP benchmark.
#[derive(Debug, clap::Args)]
pub(crate) struct HttpArgs {
    /// Also run the HTTP benchmark of the posts API (and pgbench as its ceiling).
    #[arg(long)]
    pub(crate) http: bool,
    /// Seconds of measured load per route (and per pgbench run).
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=3600))]
    http_seconds: u64,
    /// Seconds of unmeasured load before each route's measurement.
    #[arg(long, default_value_t = 2)]
    http_warmup_seconds: u64,
    /// Concurrent keep-alive connections (and pgbench clients).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
    http_connections: u64,
    /// The posts API binary. Default: target/release/posts-api of this repository, built with
    /// `cargo build --release -p posts-api` when missing.
    #[arg(long)]
    posts_api: Option<PathBuf>,
    /// Only these routes (comma separated): get_one, get_all, create, patch.
    #[arg(long, value_delimiter = ',')]
    http_scenarios: Vec<String>,
}

/// One route under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HttpScenario {
    GetOne,
    GetAll,
    Create,
    Patch,
}

impl HttpScenario {
    const ALL: [HttpScenario; 4] =
        [HttpScenario::GetOne, HttpScenario::GetAll, HttpScenario::Create, HttpScenario::Patch];

    pub(crate) fn name(self) -> &'static str {
        match self {
            HttpScenario::GetOne => "get_one",
            HttpScenario::GetAll => "get_all",
            HttpScenario::Create => "create",
            HttpScenario::Patch => "patch",
        }
    }

    fn route(self) -> &'static str {
        match self {
            HttpScenario::GetOne => "GET /posts/1",
            HttpScenario::GetAll => "GET /posts (100 rows)",
            HttpScenario::Create => "POST /posts",
            HttpScenario::Patch => "PATCH /posts/1",
        }
    }

    fn request(self) -> load::MakeRequest {
        match self {
            HttpScenario::GetOne => |_, _| (Method::GET, "/posts/1", None),
            HttpScenario::GetAll => |_, _| (Method::GET, "/posts", None),
            HttpScenario::Create => |_, _| {
                let body = r#"{"title":"A title","content":"Some content"}"#;
                (Method::POST, "/posts", Some(body.to_owned()))
            },
            // A new content every time, so that every PATCH really writes.
            HttpScenario::Patch => |w, i| {
                (Method::PATCH, "/posts/1", Some(format!(r#"{{"content":"patched {w} {i}"}}"#)))
            },
        }
    }
}

/// The result of one route, for the server or for pgbench.
#[derive(Debug, Serialize)]
pub(crate) struct HttpResult {
    scenario: String,
    #[serde(rename = "impl")]
    implementation: &'static str,
    connections: usize,
    seconds: f64,
    requests: u64,
    errors: u64,
    rps: f64,
    avg_ms: f64,
    /// Percentiles (the load generator only; pgbench does not measure them reliably).
    #[serde(skip_serializing_if = "Option::is_none")]
    p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p99_ms: Option<f64>,
    /// The server's peak resident memory so far (posts-api only).
    #[serde(skip_serializing_if = "Option::is_none")]
    peak_rss_kib: Option<u64>,
}

/// Runs every route against the posts API, then pgbench with the same SQL; each result goes
/// to `json` as soon as it is measured.
pub(crate) async fn run(
    args: &HttpArgs,
    url: &str,
    json: &mut crate::jsonl::JsonLines,
) -> Result<Vec<HttpResult>> {
    let scenarios: Vec<HttpScenario> = if args.http_scenarios.is_empty() {
        HttpScenario::ALL.to_vec()
    } else {
        args.http_scenarios
            .iter()
            .map(|s| {
                HttpScenario::ALL.into_iter().find(|h| h.name() == s).with_context(|| {
                    format!(
                        "unknown HTTP scenario {s:?}; expected get_one, get_all, create or patch"
                    )
                })
            })
            .collect::<Result<_>>()?
    };
    let connections = args.http_connections as usize;
    let duration = Duration::from_secs(args.http_seconds);
    let warmup = Duration::from_secs(args.http_warmup_seconds);
    let binary = posts_api_binary(args.posts_api.as_deref()).await?;
    let workdir = std::env::temp_dir().join(format!("strata_bench_http_{}", std::process::id()));
    tokio::fs::create_dir_all(&workdir).await?;
    let control = crate::db::connect(url).await?;
    let mut server = start_on(&control, &binary, url, &workdir).await?;
    eprintln!(
        "HTTP benchmark: posts API pid {} on {}, {connections} connections, {}s per route",
        server.pid, server.addr, args.http_seconds
    );
    let mut out = Vec::new();
    for &scenario in &scenarios {
        reset(&control).await?;
        eprintln!("  {} …", scenario.route());
        if !warmup.is_zero() {
            load::run(server.addr, connections, warmup, scenario.request()).await?;
            reset(&control).await?;
        }
        let r = load::run(server.addr, connections, duration, scenario.request()).await?;
        if let Some(e) = &r.first_error {
            eprintln!("    {} responses were errors; the first: {e}", r.errors);
        }
        server.check_alive()?;
        let result = HttpResult {
            scenario: scenario.name().to_owned(),
            implementation: "posts-api",
            connections,
            seconds: r.elapsed.as_secs_f64(),
            requests: r.latencies_us.len() as u64,
            errors: r.errors,
            rps: r.rps(),
            avg_ms: r.mean_ms(),
            p50_ms: Some(r.quantile_ms(0.5)),
            p99_ms: Some(r.quantile_ms(0.99)),
            peak_rss_kib: server.peak_rss_kib(),
        };
        json.write(&result)?;
        out.push(result);
    }
    server.stop().await;
    if pgbench::available().await {
        for &scenario in &scenarios {
            reset(&control).await?;
            eprintln!("  pgbench {} …", scenario.name());
            let p = pgbench::run(url, scenario, connections, duration, &workdir).await?;
            let result = HttpResult {
                scenario: scenario.name().to_owned(),
                implementation: "pgbench",
                connections,
                seconds: duration.as_secs_f64(),
                requests: p.transactions,
                errors: 0,
                rps: p.tps,
                avg_ms: p.avg_ms,
                p50_ms: None,
                p99_ms: None,
                peak_rss_kib: None,
            };
            json.write(&result)?;
            out.push(result);
        }
    } else {
        eprintln!("pgbench is not installed: the database ceiling is skipped");
    }
    let _ = tokio::fs::remove_dir_all(&workdir).await;
    Ok(out)
}

/// The table of HTTP results: each route, the API next to pgbench.
pub(crate) fn table(results: &[HttpResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<22} {:>10} {:>8} {:>8} {:>8} {:>7} {:>10} {:>9} {:>8} {:>7}",
        "route",
        "api req/s",
        "avg ms",
        "p50 ms",
        "p99 ms",
        "errors",
        "peak RSS",
        "pg tps",
        "pg avg",
        "api/pg"
    );
    for scenario in HttpScenario::ALL {
        let api = results
            .iter()
            .find(|r| r.scenario == scenario.name() && r.implementation == "posts-api");
        let pg =
            results.iter().find(|r| r.scenario == scenario.name() && r.implementation == "pgbench");
        if api.is_none() && pg.is_none() {
            continue;
        }
        let f =
            |v: Option<f64>, digits: usize| v.map_or("-".to_owned(), |v| format!("{v:.digits$}"));
        let _ = writeln!(
            s,
            "{:<22} {:>10} {:>8} {:>8} {:>8} {:>7} {:>10} {:>9} {:>8} {:>7}",
            scenario.route(),
            f(api.map(|a| a.rps), 0),
            f(api.map(|a| a.avg_ms), 2),
            f(api.and_then(|a| a.p50_ms), 2),
            f(api.and_then(|a| a.p99_ms), 2),
            api.map_or("-".to_owned(), |a| a.errors.to_string()),
            api.and_then(|a| a.peak_rss_kib)
                .map_or("-".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            f(pg.map(|p| p.rps), 0),
            f(pg.map(|p| p.avg_ms), 2),
            match (api, pg) {
                (Some(a), Some(p)) => format!("{:.2}", a.rps / p.rps),
                _ => "-".to_owned(),
            },
        );
    }
    s
}

/// Starts the posts API on the benchmark database as it is deployed: it creates its table with
/// its own migrations at start-up (the ORM benchmark's hand-made table is dropped first), and
/// `/health` answers 200 only once the schema fits its entities.
async fn start_on(
    control: &tokio_postgres::Client,
    binary: &Path,
    url: &str,
    workdir: &Path,
) -> Result<Server> {
    control
        .batch_execute(r#"DROP TABLE IF EXISTS "post_entity""#)
        .await
        .context("cannot drop the benchmark's table for the posts API to create its own")?;
    Server::start(binary, url, workdir).await
}

/// Empties the table and seeds the 100 posts every route starts from.
async fn reset(control: &tokio_postgres::Client) -> Result<()> {
    control.batch_execute(crate::db::RESET_SQL).await?;
    control.batch_execute(&crate::db::seed_sql(100)).await?;
    Ok(())
}

/// The posts API binary: the given path, or the repository's release build, built (or rebuilt
/// when its sources changed: a stale binary would embed stale migrations) by cargo first.
async fn posts_api_binary(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        if !path.is_file() {
            bail!("--posts-api {} does not exist", path.display());
        }
        return Ok(path.to_owned());
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

/// The posts API running as a child process.
struct Server {
    child: Child,
    pid: u32,
    addr: SocketAddr,
}

impl Server {
    async fn start(binary: &Path, url: &str, workdir: &Path) -> Result<Self> {
        let port = {
            let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
            l.local_addr()?.port()
        };
        let child = Command::new(binary)
            // An empty directory, so that no .env of the checkout changes the configuration.
            .current_dir(workdir)
            .env("PORT", port.to_string())
            .env("DATABASE_URL", url)
            // The service migrates the benchmark database itself, as it does when deployed.
            .env_remove("MIGRATE_ON_START")
            .env("LOG_LEVEL", "warn")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", binary.display()))?;
        let pid = child.id().context("the posts API exited at once")?;
        let mut server = Self { child, pid, addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)) };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            server.check_alive()?;
            let last = get(server.addr, "/health").await;
            if last.as_ref().is_ok_and(|(status, _)| *status == 200) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                let answer = match last {
                    Ok((status, body)) => format!("{status} {body}"),
                    Err(e) => format!("no answer: {e:#}"),
                };
                bail!(
                    "the posts API did not answer GET /health with 200 within 20 s; its last \
                     answer: {answer}"
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("the posts API exited ({status}); its output is above");
        }
        Ok(())
    }

    /// `VmHWM` (peak resident set) of the server, in KiB.
    fn peak_rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// The status and body of one GET on a fresh connection.
async fn get(addr: SocketAddr, path: &str) -> Result<(u16, String)> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    let req = Request::get(path).header("host", addr.to_string()).body(Empty::<Bytes>::new())?;
    let res = sender.send_request(req).await?;
    let status = res.status().as_u16();
    let body = res.into_body().collect().await?.to_bytes();
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The posts API binary of this repository's newest build, release or debug.
    fn built_posts_api() -> PathBuf {
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
        ["release", "debug"]
            .iter()
            .map(|profile| target.join(profile).join("posts-api"))
            .filter_map(|p| Some((p.metadata().ok()?.modified().ok()?, p)))
            .max()
            .map(|(_, p)| p)
            .expect("a built posts API: run `cargo build -p posts-api` in the repository first")
    }

    /// The benchmark's database (with its hand-made table, as after the ORM benchmark) is one
    /// the posts API starts healthy on, and the routes serve the seeded posts.
    #[tokio::test]
    async fn the_posts_api_answers_health_with_200_on_the_benchmark_database() {
        let server_url = std::env::var("STRATA_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let db = crate::db::BenchDb::create(&server_url).await.unwrap();
        let workdir =
            std::env::temp_dir().join(format!("strata_bench_test_{}", std::process::id()));
        tokio::fs::create_dir_all(&workdir).await.unwrap();
        let control = crate::db::connect(db.url()).await.unwrap();
        let started = tokio::time::timeout(
            Duration::from_secs(60),
            start_on(&control, &built_posts_api(), db.url(), &workdir),
        )
        .await
        .expect("the server starts within 60 s");
        let outcome = match started {
            Ok(server) => {
                reset(&control).await.unwrap();
                let answer = get(server.addr, "/posts/1").await;
                server.stop().await;
                answer.map_err(|e| anyhow::anyhow!("{e:#}"))
            }
            Err(e) => Err(e),
        };
        drop(control);
        let _ = tokio::fs::remove_dir_all(&workdir).await;
        db.drop_db().await.unwrap();
        let (status, body) = outcome.unwrap();
        assert_eq!(
            (status, body.as_str()),
            (200, r#"{"id":1,"title":"title 1","content":"content 1"}"#)
        );
    }
}
