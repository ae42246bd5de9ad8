//! The HTTP benchmark: the posts API (`services/posts-api`, release build) next to two peers
//! serving the same routes on the same database — a hand-written axum + tokio-postgres server
//! and the article's NestJS + MikroORM service — and `pgbench` running the posts API's SQL
//! with as many clients (the ceiling the database sets). Beside them, on a database of its
//! own, the blog API of article #63 (`services/blog-api`) and its NestJS + MikroORM original
//! answer `GET /posts` with every post's author and categories (`blog.rs`).
//!
//! The servers run side by side for the whole benchmark. Before anything is timed their answers
//! to the benchmarked requests are compared (`check`). Then the measurements are interleaved:
//! each round loads every route on every peer in turn, so that a slow phase of the machine hits
//! them all alike; each result is the median over the rounds. Every measurement starts from the
//! tables reset and seeded: 100 posts for the posts API, so `GET /posts` returns 100 rows, and
//! the blog's 100 posts by 10 users in 5 categories.

mod blog;
mod check;
pub(crate) mod handwritten;
mod load;
mod peers;
mod pgbench;
mod report;
mod server;

use anyhow::{Context, Result};
use hyper::Method;
use server::Server;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_postgres::Client;

pub(crate) use report::{markdown, svg};

/// Options of the HTTP benchmark.
#[derive(Debug, clap::Args)]
pub(crate) struct HttpArgs {
    /// Also run the HTTP benchmark: the posts API, its hand-written and NestJS peers, pgbench;
    /// the blog API and its NestJS original.
    #[arg(long)]
    pub(crate) http: bool,
    /// Seconds of measured load per route, peer and round (and per pgbench run).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    http_seconds: u64,
    /// Seconds of unmeasured load before each measurement.
    #[arg(long, default_value_t = 2)]
    http_warmup_seconds: u64,
    /// Rounds: each loads every route on every peer once; results are medians over them.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    http_rounds: u64,
    /// Concurrent keep-alive connections (and pgbench clients).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=1024))]
    http_connections: u64,
    /// Database connections in each server's pool.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub(crate) http_pool_size: u64,
    /// The posts API binary. Default: target/release/posts-api of this repository, built with
    /// `cargo build --release -p posts-api` first.
    #[arg(long)]
    posts_api: Option<PathBuf>,
    /// The blog API binary. Default: target/release/blog-api of this repository, built with
    /// `cargo build --release -p blog-api` first.
    #[arg(long)]
    blog_api: Option<PathBuf>,
    /// Only these routes (comma separated): get_one, get_all, create, patch, blog_get_all.
    #[arg(long, value_delimiter = ',')]
    http_scenarios: Vec<String>,
    /// Only these implementations (comma separated): posts-api, handwritten, nestjs,
    /// blog-api, nestjs-blog, pgbench. The posts API runs whenever a posts route does, and the
    /// blog API whenever the blog route does (their migrations create the tables), measured
    /// or not.
    #[arg(long, value_delimiter = ',')]
    http_impls: Vec<String>,
}

/// The implementations, in the order of the tables and the plot.
pub(crate) const IMPLS: [&str; 6] =
    ["posts-api", "handwritten", "nestjs", "blog-api", "nestjs-blog", "pgbench"];

/// The service a route belongs to, and with it the database and the peers that serve it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    /// The posts API of article #62: `posts-api`, `handwritten`, `nestjs`, `pgbench`.
    Posts,
    /// The blog API of article #63: `blog-api`, `nestjs-blog`.
    Blog,
}

impl Service {
    /// The service an implementation serves.
    pub(crate) fn of(implementation: &str) -> Service {
        match implementation {
            "blog-api" | "nestjs-blog" => Service::Blog,
            _ => Service::Posts,
        }
    }
}

/// One route under load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HttpScenario {
    GetOne,
    GetAll,
    Create,
    Patch,
    /// The blog API's `GET /posts`: 100 posts, each with its author (and address) and its
    /// categories.
    BlogGetAll,
}

impl HttpScenario {
    const ALL: [HttpScenario; 5] = [
        HttpScenario::GetOne,
        HttpScenario::GetAll,
        HttpScenario::Create,
        HttpScenario::Patch,
        HttpScenario::BlogGetAll,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            HttpScenario::GetOne => "get_one",
            HttpScenario::GetAll => "get_all",
            HttpScenario::Create => "create",
            HttpScenario::Patch => "patch",
            HttpScenario::BlogGetAll => "blog_get_all",
        }
    }

    fn route(self) -> &'static str {
        match self {
            HttpScenario::GetOne => "GET /posts/1",
            HttpScenario::GetAll => "GET /posts (100 rows)",
            HttpScenario::Create => "POST /posts",
            HttpScenario::Patch => "PATCH /posts/1",
            HttpScenario::BlogGetAll => "GET /posts (blog, populated)",
        }
    }

    /// The service whose route this is.
    pub(crate) fn service(self) -> Service {
        if self == HttpScenario::BlogGetAll { Service::Blog } else { Service::Posts }
    }

    /// Whether `implementation` serves this route.
    pub(crate) fn served_by(self, implementation: &str) -> bool {
        Service::of(implementation) == self.service()
    }

    /// The least requests/s ratio of the Strata service to its NestJS original the issues
    /// ask for: PATCH, which one row's lock bounds, 5; the others 10 (the blog's `GET /posts`
    /// too).
    fn nestjs_goal(self) -> f64 {
        if self == HttpScenario::Patch { 5.0 } else { 10.0 }
    }

    fn request(self) -> load::MakeRequest {
        match self {
            HttpScenario::GetOne => |_, _| (Method::GET, "/posts/1", None),
            HttpScenario::GetAll | HttpScenario::BlogGetAll => |_, _| (Method::GET, "/posts", None),
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

/// The result of one route and implementation over all rounds (one JSON line).
pub(crate) use report::HttpResult;

/// What the servers and the rest of the run are, for the report.
#[derive(Debug, Default, Clone)]
pub(crate) struct Versions {
    /// `node --version`, when a NestJS service ran.
    pub(crate) node: Option<String>,
    /// The installed NestJS and MikroORM versions of the posts service (`bench/nestjs`).
    pub(crate) nestjs: Option<String>,
    pub(crate) mikroorm: Option<String>,
    /// The same of the blog service (`bench/nestjs-blog`).
    pub(crate) blog_nestjs: Option<String>,
    pub(crate) blog_mikroorm: Option<String>,
}

/// Connections to the databases the services serve, for resetting their tables.
struct Databases {
    posts: Client,
    /// The blog's database, when the blog route runs.
    blog: Option<Client>,
}

impl Databases {
    /// Resets the tables of `service` to the rows every measurement starts from.
    async fn reset(&self, service: Service) -> Result<()> {
        match (service, &self.blog) {
            (Service::Posts, _) => reset(&self.posts).await,
            (Service::Blog, Some(blog)) => blog::reset(blog).await,
            (Service::Blog, None) => anyhow::bail!("the blog's database was not created"),
        }
    }
}

/// Runs the benchmark; the results go to `json` once every round is done. `statement_cache`
/// (`--statement-cache`) is the Strata services' statement cache setting.
pub(crate) async fn run(
    args: &HttpArgs,
    url: &str,
    statement_cache: bool,
    json: &mut crate::jsonl::JsonLines,
) -> Result<(Vec<HttpResult>, Versions)> {
    let scenarios = parse_list(&args.http_scenarios, &HttpScenario::ALL, HttpScenario::name)?;
    let impls: Vec<&'static str> = parse_list(&args.http_impls, &IMPLS, |i| i)?;
    // The blog's tables have the posts API's names: a database of their own, dropped after.
    let blog_db = if scenarios.iter().any(|s| s.service() == Service::Blog) {
        let db = crate::db::BenchDb::create_beside(url, "blog").await?;
        eprintln!("blog database: {}", db.name());
        Some(db)
    } else {
        None
    };
    let workdir = std::env::temp_dir().join(format!("strata_bench_http_{}", std::process::id()));
    tokio::fs::create_dir_all(&workdir).await?;
    let run = Run {
        args,
        url,
        blog_url: blog_db.as_ref().map(|db| db.url()),
        scenarios: &scenarios,
        impls: &impls,
        statement_cache,
        workdir: &workdir,
    };
    let outcome = run.measure(json).await;
    let _ = tokio::fs::remove_dir_all(&workdir).await;
    if let Some(db) = blog_db
        && let Err(e) = db.drop_db().await
    {
        eprintln!("warning: {e:#}");
    }
    outcome
}

/// What one run of the benchmark measures, and where.
struct Run<'a> {
    args: &'a HttpArgs,
    /// The benchmark database, the posts API's.
    url: &'a str,
    /// The blog's database, when the blog route is chosen.
    blog_url: Option<&'a str>,
    scenarios: &'a [HttpScenario],
    impls: &'a [&'static str],
    statement_cache: bool,
    /// An empty directory the servers start in, and where pgbench's scripts go.
    workdir: &'a Path,
}

impl Run<'_> {
    /// Whether a route of `service` is chosen.
    fn runs(&self, service: Service) -> bool {
        self.scenarios.iter().any(|s| s.service() == service)
    }

    /// Starts the servers, compares their answers, then measures every round.
    async fn measure(
        &self,
        json: &mut crate::jsonl::JsonLines,
    ) -> Result<(Vec<HttpResult>, Versions)> {
        let databases = Databases {
            posts: crate::db::connect(self.url).await?,
            blog: match self.blog_url {
                Some(url) => Some(
                    crate::db::connect(url)
                        .await
                        .context("cannot connect to the blog's database")?,
                ),
                None => None,
            },
        };
        let (servers, versions) = self.start_servers(&databases.posts).await?;
        for s in &servers {
            eprintln!("HTTP benchmark: {} (pid {}) on {}", s.name, s.pid, s.addr);
        }
        for service in [Service::Posts, Service::Blog] {
            let routes: Vec<HttpScenario> =
                self.scenarios.iter().copied().filter(|s| s.service() == service).collect();
            let addrs: Vec<_> = servers
                .iter()
                .filter(|s| Service::of(s.name) == service)
                .map(|s| (s.name, s.addr))
                .collect();
            if !routes.is_empty() {
                check::compare(&addrs, &routes, || databases.reset(service)).await?;
            }
        }
        eprintln!("the servers' answers agree");
        // Compared with, not measured: a Strata service is stopped when it is left out.
        let (servers, left_out): (Vec<Server>, Vec<Server>) =
            servers.into_iter().partition(|s| self.impls.contains(&s.name));
        for server in left_out {
            server.stop().await;
        }
        let results = self.rounds(servers, &databases).await?;
        for result in &results {
            json.write(result)?;
        }
        Ok((results, versions))
    }

    /// Builds and starts the servers of the chosen routes and implementations, in the order of
    /// [`IMPLS`]: each service's Strata server first, the one its peers must agree with. The
    /// Strata services start before their peers: their migrations create the tables.
    async fn start_servers(&self, posts_control: &Client) -> Result<(Vec<Server>, Versions)> {
        let (args, pool_size) = (self.args, self.args.http_pool_size as usize);
        let mut servers = Vec::new();
        if self.runs(Service::Posts) {
            let binary = peers::service_binary(peers::POSTS_API, args.posts_api.as_deref()).await?;
            let posts_api = peers::start_posts_api(
                posts_control,
                &binary,
                self.url,
                self.workdir,
                pool_size,
                self.statement_cache,
            );
            servers.push(posts_api.await?);
            if self.impls.contains(&"handwritten") {
                servers.push(peers::start_handwritten(self.url, pool_size).await?);
            }
        }
        if let Some(blog_url) = self.blog_url {
            let binary = peers::service_binary(peers::BLOG_API, args.blog_api.as_deref()).await?;
            let blog_api = peers::start_blog_api(
                &binary,
                blog_url,
                self.workdir,
                pool_size,
                self.statement_cache,
            );
            servers.push(blog_api.await?);
        }
        let nest_apps: Vec<peers::NestApp> = [peers::NESTJS, peers::NESTJS_BLOG]
            .into_iter()
            .filter(|app| self.impls.contains(&app.name) && self.runs(Service::of(app.name)))
            .collect();
        let mut versions = Versions::default();
        if !nest_apps.is_empty() {
            versions.node = peers::node().await;
        }
        for app in nest_apps.into_iter().filter(|_| versions.node.is_some()) {
            peers::prepare_nestjs(app).await?;
            let nestjs = peers::nestjs_package_version(app, "@nestjs/core");
            let mikroorm = peers::nestjs_package_version(app, "@mikro-orm/core");
            let url = match Service::of(app.name) {
                Service::Posts => {
                    (versions.nestjs, versions.mikroorm) = (nestjs, mikroorm);
                    self.url
                }
                Service::Blog => {
                    (versions.blog_nestjs, versions.blog_mikroorm) = (nestjs, mikroorm);
                    self.blog_url.unwrap_or(self.url)
                }
            };
            servers.push(peers::start_nestjs(app, url, pool_size).await?);
        }
        servers.sort_by_key(|s| IMPLS.iter().position(|i| *i == s.name));
        Ok((servers, versions))
    }

    /// The measured rounds: every route on every server that serves it (and pgbench), each
    /// after a reset and a warm-up; then the servers are stopped.
    async fn rounds(
        &self,
        mut servers: Vec<Server>,
        databases: &Databases,
    ) -> Result<Vec<HttpResult>> {
        let args = self.args;
        let connections = args.http_connections as usize;
        let duration = Duration::from_secs(args.http_seconds);
        let warmup = Duration::from_secs(args.http_warmup_seconds);
        let wants_pgbench = self.impls.contains(&"pgbench") && self.runs(Service::Posts);
        let pgbench = wants_pgbench && pgbench::available().await;
        if wants_pgbench && !pgbench {
            eprintln!("pgbench is not installed: the database ceiling is skipped");
        }
        let rounds = args.http_rounds as usize;
        eprintln!(
            "{rounds} rounds of {}s per route and implementation ({}s warm-up), {connections} \
             connections, pools of {}",
            args.http_seconds, args.http_warmup_seconds, args.http_pool_size
        );
        let mut samples = report::Samples::default();
        for round in 1..=rounds {
            for &scenario in self.scenarios {
                let service = scenario.service();
                for server in servers.iter_mut().filter(|s| scenario.served_by(s.name)) {
                    databases.reset(service).await?;
                    if !warmup.is_zero() {
                        load::run(server.addr, connections, warmup, scenario.request()).await?;
                        databases.reset(service).await?;
                    }
                    let cpu_before = server.cpu_seconds();
                    let r =
                        load::run(server.addr, connections, duration, scenario.request()).await?;
                    let cpu =
                        server.cpu_seconds().zip(cpu_before).map(|(after, before)| after - before);
                    server.check_alive()?;
                    if let Some(e) = &r.first_error {
                        eprintln!(
                            "    {}: {} responses were errors; the first: {e}",
                            server.name, r.errors
                        );
                    }
                    let sample = report::Sample::of_load(&r, cpu);
                    eprintln!(
                        "  round {round}/{rounds} {:<28} {:<12} {sample}",
                        scenario.route(),
                        server.name
                    );
                    samples.add(scenario, server.name, sample, server.peak_rss_kib());
                }
                if let Some(script) = pgbench::script(scenario).filter(|_| pgbench) {
                    databases.reset(service).await?;
                    let p = pgbench::run(
                        self.url,
                        scenario,
                        script,
                        connections,
                        duration,
                        self.workdir,
                    );
                    let sample = report::Sample::of_pgbench(&p.await?);
                    eprintln!(
                        "  round {round}/{rounds} {:<28} {:<12} {sample}",
                        scenario.route(),
                        "pgbench"
                    );
                    samples.add(scenario, "pgbench", sample, None);
                }
            }
        }
        for server in servers {
            server.stop().await;
        }
        Ok(samples.results(connections, duration))
    }
}

/// The chosen items of a comma-separated option (all when it is empty), in `all`'s order.
fn parse_list<T: Copy>(given: &[String], all: &[T], name: fn(T) -> &'static str) -> Result<Vec<T>> {
    if let Some(bad) = given.iter().find(|g| !all.iter().any(|a| name(*a) == g.as_str())) {
        let expected: Vec<&str> = all.iter().map(|a| name(*a)).collect();
        anyhow::bail!("unknown HTTP option value {bad:?}; expected {}", expected.join(", "));
    }
    Ok(all
        .iter()
        .copied()
        .filter(|a| given.is_empty() || given.iter().any(|g| g == name(*a)))
        .collect())
}

/// Empties the table and seeds the 100 posts every measurement starts from.
async fn reset(control: &tokio_postgres::Client) -> Result<()> {
    control.batch_execute(crate::db::RESET_SQL).await.context("cannot reset the table")?;
    control.batch_execute(&crate::db::seed_sql(100)).await?;
    Ok(())
}

#[cfg(test)]
mod tests;
