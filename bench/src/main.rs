//! The Strata benchmarks.
//!
//! The ORM benchmark times each scenario of `orm` for Strata, for hand-written tokio-postgres
//! SQL (the baseline, plus binary `COPY` as the floor for inserts) and for MikroORM (a node
//! script in `bench/mikroorm`), in one database that the program creates and drops. With
//! `--http` it also load-tests the posts API next to a hand-written axum + tokio-postgres
//! server, the article's NestJS + MikroORM service and `pgbench` running the same SQL, and the
//! blog API's `GET /posts` next to its NestJS + MikroORM original (article #63).
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml -- \
//!     --json docs/benchmarks.jsonl --svg docs/benchmarks.svg
//! ```

mod db;
mod http;
mod jsonl;
mod orm;
mod report;
mod stats;

use anyhow::{Context, Result};
use clap::Parser;
use orm::{Runs, Scenario, Sizes};
use stats::Measurement;
use std::path::PathBuf;

/// Benchmarks Strata against hand-written SQL, binary COPY and MikroORM.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The PostgreSQL server; the benchmark creates (and drops) its own database there.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Measured runs per scenario and implementation.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u16).range(1..))]
    runs: u16,
    /// Untimed warm-up runs before the measured ones.
    #[arg(long, default_value_t = 1)]
    warmup: u16,
    /// Rows for the batch and read scenarios.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    n: u32,
    /// Operations for `single_flush`.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    n_single: u32,
    /// Posts for the relation scenarios (`populate`, `flush_graph`).
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    n_rel: u32,
    /// Posts held for the memory measurement (peak resident set of a process holding them);
    /// 0 skips it.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u32).range(0..=10_000_000))]
    memory_n: u32,
    /// Runs the memory probe of one implementation (raw or strata) and prints its result:
    /// how the benchmark starts its probe processes.
    #[arg(long, hide = true)]
    hold: Option<String>,
    /// Serves the hand-written peer of the HTTP benchmark on this port of loopback, over
    /// `--database-url`: how the benchmark starts it.
    #[arg(long, hide = true, value_name = "PORT")]
    serve_handwritten: Option<u16>,
    /// Only these scenarios (comma separated): insert, update, delete, find_by_pk, load_all,
    /// single_flush, populate, flush_graph, memory. Without it, all of them.
    #[arg(long, value_delimiter = ',')]
    scenarios: Vec<String>,
    /// Only these implementations (comma separated): raw, copy, strata, mikroorm.
    #[arg(long, value_delimiter = ',')]
    impls: Vec<String>,
    /// Skip the MikroORM peer (the same as leaving `mikroorm` out of --impls).
    #[arg(long)]
    no_mikroorm: bool,
    /// Skip the ORM benchmark (with --http: only the HTTP benchmark).
    #[arg(long)]
    no_orm: bool,
    /// Also record Strata's statements and print where each scenario's time went (in
    /// statements or in the ORM). Recording costs a little, so measure without it.
    #[arg(long)]
    breakdown: bool,
    /// Strata loads the new rows of a flush by COPY from this many rows of one table on
    /// (`off`: never); the driver's default otherwise. For finding the threshold.
    #[arg(long, value_name = "ROWS|off", value_parser = parse_copy_rows)]
    copy_rows: Option<CopyRows>,
    /// `off`: Strata sends every statement unnamed, as behind PgBouncer in transaction mode
    /// (`STRATA_STATEMENT_CACHE=off`), to measure what that costs against the default `on`.
    /// With `--http`, the posts API runs with `STRATA_STATEMENT_CACHE` set to the same.
    // A `bool` field is a value-less switch to clap unless told otherwise.
    #[arg(
        long,
        value_name = "on|off",
        default_value = "on",
        value_parser = parse_switch,
        action = clap::ArgAction::Set
    )]
    statement_cache: bool,
    /// Write one JSON line per scenario and implementation to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write a bar chart of the ORM results to this SVG file, and one of the HTTP results
    /// beside it (`NAME-http.svg`).
    #[arg(long)]
    svg: Option<PathBuf>,
    /// Do not measure: read the ORM results of an earlier `--json` file and write --svg and
    /// --markdown from them.
    #[arg(long, value_name = "JSONL")]
    plot_from: Option<PathBuf>,
    /// Write the ORM results as a Markdown table to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    #[command(flatten)]
    http: http::HttpArgs,
}

/// The allocator the posts and blog APIs use (mimalloc): the hand-written server, the raw SQL
/// baseline and Strata in this process allocate through it alike.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if let Some(bad) = args.impls.iter().find(|i| !report::IMPLS.contains(&i.as_str())) {
        anyhow::bail!("unknown implementation {bad:?}; expected raw, copy, strata or mikroorm");
    }
    if let Some(port) = args.serve_handwritten {
        let pool_size = args.http.http_pool_size as usize;
        return http::handwritten::serve(&args.database_url, port, pool_size).await;
    }
    if let Some(implementation) = &args.hold {
        return orm::memory::hold(&args.database_url, implementation, args.memory_n as usize).await;
    }
    let scenarios = if args.scenarios.is_empty() {
        Scenario::ALL.to_vec()
    } else {
        let timed = args.scenarios.iter().filter(|s| *s != "memory");
        timed.map(|s| Scenario::parse(s)).collect::<Result<Vec<_>>>()?
    };
    if let Some(path) = &args.plot_from {
        return plot_from(&args, path);
    }
    let db = db::BenchDb::create(&args.database_url).await?;
    eprintln!("benchmark database: {}", db.name());
    let outcome = tokio::select! {
        r = run(&args, &scenarios, db.url()) => r,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    let name = db.name().to_owned();
    if let Err(e) = db.drop_db().await {
        eprintln!("warning: {e:#}");
    } else {
        eprintln!("dropped database {name}");
    }
    outcome
}

async fn run(args: &Args, scenarios: &[Scenario], url: &str) -> Result<()> {
    // Each result is written as soon as it is measured: a run that fails later keeps them.
    let mut json = jsonl::JsonLines::create(args.json.as_deref())?;
    let outcome = measure(args, scenarios, url, &mut json).await;
    json.report();
    outcome
}

async fn measure(
    args: &Args,
    scenarios: &[Scenario],
    url: &str,
    json: &mut jsonl::JsonLines,
) -> Result<()> {
    let sizes =
        Sizes { n: args.n as usize, n_single: args.n_single as usize, n_rel: args.n_rel as usize };
    let runs = Runs { warmup: usize::from(args.warmup), measured: usize::from(args.runs) };
    if !args.no_orm {
        let mikroorm = mikroorm_peer(args).await?;
        if !scenarios.is_empty() {
            timed(args, scenarios, url, sizes, runs, mikroorm, json).await?;
        }
        let memory_wanted =
            args.scenarios.is_empty() || args.scenarios.iter().any(|s| s == "memory");
        if args.memory_n > 0 && memory_wanted {
            let wanted = |name: &str| args.impls.is_empty() || args.impls.iter().any(|i| i == name);
            let n = args.memory_n as usize;
            let memory = orm::memory::run(url, n, &wanted, mikroorm, json).await?;
            println!();
            print!("{}", orm::memory::table(&memory));
        }
    }
    if args.http.http {
        let (http, versions) = http::run(&args.http, url, args.statement_cache, json).await?;
        println!();
        print!("{}", http::markdown(&http, &versions));
        if let Some(path) = args.svg.as_deref().map(http_svg_path) {
            let title = "The posts and blog APIs and their peers: requests/s, median of the rounds";
            std::fs::write(&path, http::svg(&http, title, &versions))
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// The HTTP plot beside the ORM plot: `docs/benchmarks.svg` gives `docs/benchmarks-http.svg`.
fn http_svg_path(orm_svg: &std::path::Path) -> PathBuf {
    let stem = orm_svg.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    orm_svg.with_file_name(format!("{stem}-http.svg"))
}

/// `--copy-rows`: a number of rows, or `off` (`None`).
#[derive(Debug, Clone, Copy)]
struct CopyRows(Option<usize>);

fn parse_switch(value: &str) -> std::result::Result<bool, String> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("expected on or off, got {other:?}")),
    }
}

fn parse_copy_rows(value: &str) -> std::result::Result<CopyRows, String> {
    match value {
        "off" => Ok(CopyRows(None)),
        n => n
            .parse()
            .map(|n| CopyRows(Some(n)))
            .map_err(|_| format!("expected a number of rows or `off`, got {n:?}")),
    }
}

/// Whether the MikroORM peer takes part: not when it is left out, or node is missing (said
/// once); installed first when it does.
async fn mikroorm_peer(args: &Args) -> Result<bool> {
    if args.no_mikroorm || !(args.impls.is_empty() || args.impls.iter().any(|i| i == "mikroorm")) {
        eprintln!("MikroORM peer skipped");
        return Ok(false);
    }
    match orm::mikroorm::node_version().await {
        None => {
            eprintln!(
                "node is not installed: the MikroORM peer is skipped (install Node.js to run it)"
            );
            Ok(false)
        }
        Some(node) => {
            orm::mikroorm::ensure_installed().await?;
            eprintln!("MikroORM peer on node {node}");
            Ok(true)
        }
    }
}

/// The timed ORM scenarios: every Rust implementation, then the MikroORM peer; prints the
/// table and writes the plots.
async fn timed(
    args: &Args,
    scenarios: &[Scenario],
    url: &str,
    sizes: Sizes,
    runs: Runs,
    mikroorm: bool,
    json: &mut jsonl::JsonLines,
) -> Result<()> {
    eprintln!("ORM benchmark: {} warm-up + {} measured runs", runs.warmup, runs.measured);
    let options = orm::StrataOptions {
        breakdown: args.breakdown,
        copy_rows: args.copy_rows.map(|c| c.0),
        statement_cache: args.statement_cache,
    };
    let (mut results, breakdowns) =
        orm::run_rust(url, scenarios, &args.impls, sizes, runs, options, json).await?;
    let mut mikroorm_label = None;
    if mikroorm {
        let (info, m) = orm::mikroorm::run(url, scenarios, sizes, runs, json).await?;
        mikroorm_label = Some(format!("MikroORM {} on node {}", info.version, info.node));
        results.extend(m);
    }
    println!();
    for s in scenarios {
        println!("{:<13} {}", s.name(), s.describe(s.size(sizes)));
    }
    println!();
    print!("{}", report::table(&results, mikroorm_label.as_deref()));
    if args.breakdown {
        println!();
        print!("{}", orm::breakdown_table(&breakdowns));
    }
    // Written before the HTTP benchmark, so that its failure loses none of them.
    write_plots(args, &results, runs, mikroorm_label.as_deref())
}

/// Writes `--svg` and `--markdown` from the ORM results.
fn write_plots(
    args: &Args,
    results: &[Measurement],
    runs: Runs,
    mikroorm_label: Option<&str>,
) -> Result<()> {
    if let Some(path) = &args.svg
        && !results.is_empty()
    {
        let title = format!(
            "Strata ORM benchmark: median of {} runs (PostgreSQL, loopback)",
            runs.measured
        );
        std::fs::write(path, report::svg(results, &title, mikroorm_label))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.markdown {
        std::fs::write(path, report::markdown(results))
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

/// Writes the plot and the Markdown table from an earlier run's JSON lines.
fn plot_from(args: &Args, path: &std::path::Path) -> Result<()> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let results = stats::from_json_lines(&text)?;
    let runs = results.first().map_or(0, |m| m.times_ms.len());
    let label = orm::mikroorm::installed_version().map(|v| format!("MikroORM {v}"));
    if let Some(svg) = &args.svg {
        let title = format!("Strata ORM benchmark: median of {runs} runs (PostgreSQL, loopback)");
        std::fs::write(svg, report::svg(&results, &title, label.as_deref()))
            .with_context(|| format!("cannot write {}", svg.display()))?;
    }
    if let Some(md) = &args.markdown {
        std::fs::write(md, report::markdown(&results))
            .with_context(|| format!("cannot write {}", md.display()))?;
    }
    print!("{}", report::table(&results, label.as_deref()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_cache_takes_on_or_off() {
        let parse = |extra: &[&str]| {
            Args::try_parse_from(["strata-bench"].iter().chain(extra)).map(|a| a.statement_cache)
        };
        assert!(parse(&[]).unwrap(), "on by default");
        assert!(!parse(&["--statement-cache", "off"]).unwrap());
        assert!(parse(&["--statement-cache=on"]).unwrap());
        assert!(parse(&["--statement-cache", "maybe"]).is_err());
    }
}
