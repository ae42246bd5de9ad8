//! The ORM benchmark: every scenario of the table below, for Strata, the hand-written
//! tokio-postgres baseline (`raw`), binary `COPY` (`copy`, insert only: the floor) and the
//! MikroORM peer, on one database, the same table and the same data.
//!
//! | scenario       | what is timed                                                        |
//! | -------------- | -------------------------------------------------------------------- |
//! | `insert`       | create n new entities, one flush                                     |
//! | `update`       | change one column of n loaded entities, one flush                    |
//! | `delete`       | remove n loaded entities, one flush                                  |
//! | `find_by_pk`   | n lookups by primary key, a fresh EntityManager each                 |
//! | `load_all`     | load n rows into entities                                            |
//! | `single_flush` | n_single times: create one entity and flush it (one transaction each)|
//! | `populate`     | load n_rel posts with their authors and categories (`graph`)          |
//! | `flush_graph`  | n_rel new posts with new authors and 2 categories each, one flush     |
//!
//! Loading the entities that `update` and `delete` change, and seeding the table, are not
//! timed. Each Rust implementation runs its warm-up and measured runs interleaved with the
//! others (run 1 of each, then run 2 of each, …), so that a slow phase of a noisy machine hits
//! them alike. After every run the table is checked (row count, changed rows), so that a fast
//! wrong answer cannot win.

mod graph;
pub(crate) mod memory;
pub(crate) mod mikroorm;
mod raw;
mod strata_graph;
mod strata_impl;

use crate::stats::Measurement;
use anyhow::{Result, bail};
pub(crate) use graph::DDL as GRAPH_DDL;
use std::time::Duration;
pub(crate) use strata_impl::Breakdown;
use tokio_postgres::Client;

/// One ORM scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scenario {
    Insert,
    Update,
    Delete,
    FindByPk,
    LoadAll,
    SingleFlush,
    Populate,
    FlushGraph,
}

impl Scenario {
    /// Every scenario, in the order of the table.
    pub(crate) const ALL: [Scenario; 8] = [
        Scenario::Insert,
        Scenario::Update,
        Scenario::Delete,
        Scenario::FindByPk,
        Scenario::LoadAll,
        Scenario::SingleFlush,
        Scenario::Populate,
        Scenario::FlushGraph,
    ];

    /// The name used on the command line, in JSON and by the MikroORM peer.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scenario::Insert => "insert",
            Scenario::Update => "update",
            Scenario::Delete => "delete",
            Scenario::FindByPk => "find_by_pk",
            Scenario::LoadAll => "load_all",
            Scenario::SingleFlush => "single_flush",
            Scenario::Populate => "populate",
            Scenario::FlushGraph => "flush_graph",
        }
    }

    /// A one-line description for the table.
    pub(crate) fn describe(self, n: usize) -> String {
        match self {
            Scenario::Insert => format!("insert {n} new entities, one flush"),
            Scenario::Update => format!("update one column of {n} loaded entities, one flush"),
            Scenario::Delete => format!("delete {n} loaded entities, one flush"),
            Scenario::FindByPk => {
                format!("find by primary key {n} times, fresh EntityManager each")
            }
            Scenario::LoadAll => format!("load {n} rows"),
            Scenario::SingleFlush => format!("{n} single-entity persist-and-flush, one tx each"),
            Scenario::Populate => format!("load {n} posts with author and categories"),
            Scenario::FlushGraph => {
                format!("{n} new posts with {n} new authors, 2 categories each, one flush")
            }
        }
    }

    /// Parses a scenario name.
    pub(crate) fn parse(name: &str) -> Result<Self> {
        match Self::ALL.into_iter().find(|s| s.name() == name) {
            Some(s) => Ok(s),
            None => {
                let names: Vec<_> = Self::ALL.iter().map(|s| s.name()).collect();
                bail!("unknown scenario {name:?}; expected one of {}", names.join(", "))
            }
        }
    }

    /// The rows (or operations) per run.
    pub(crate) fn size(self, sizes: Sizes) -> usize {
        match self {
            Scenario::SingleFlush => sizes.n_single,
            Scenario::Populate | Scenario::FlushGraph => sizes.n_rel,
            _ => sizes.n,
        }
    }

    /// True for the scenarios on the relation tables (`graph`).
    pub(crate) fn is_graph(self) -> bool {
        matches!(self, Scenario::Populate | Scenario::FlushGraph)
    }

    /// Empties the tables of the scenario and seeds what its runs start from.
    async fn reset(self, control: &Client, n: usize) -> Result<()> {
        if self.is_graph() {
            let posts = if self == Scenario::Populate { n } else { 0 };
            control.batch_execute(graph::RESET_SQL).await?;
            control.batch_execute(&graph::seed_sql(posts)).await?;
            return Ok(());
        }
        control.batch_execute(crate::db::RESET_SQL).await?;
        let seeded = match self {
            Scenario::Insert | Scenario::SingleFlush => 0,
            _ => n,
        };
        if seeded > 0 {
            control.batch_execute(&crate::db::seed_sql(seeded)).await?;
        }
        Ok(())
    }
}

/// How big the scenarios are.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    /// Rows for the batch and read scenarios (10,000 in the issue).
    pub(crate) n: usize,
    /// Operations for `single_flush` (1,000 in the issue).
    pub(crate) n_single: usize,
    /// Posts for the relation scenarios (1,000 in the issue).
    pub(crate) n_rel: usize,
}

/// How many runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Runs {
    pub(crate) warmup: usize,
    pub(crate) measured: usize,
}

/// How Strata runs in the benchmark.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StrataOptions {
    /// Record the statements of each run (`--breakdown`).
    pub(crate) breakdown: bool,
    /// `--copy-rows`: the least number of new rows loaded by COPY (`Some(None)`: never);
    /// `None`: the driver's default.
    pub(crate) copy_rows: Option<Option<usize>>,
    /// `--statement-cache`: prepare and cache statements (the default), or send them unnamed.
    pub(crate) statement_cache: bool,
}

/// A Rust implementation of the scenarios.
trait Implementation {
    /// `strata`, `raw` or `copy`.
    fn name(&self) -> &'static str;

    /// Whether this implementation takes part in `scenario`.
    fn supports(&self, scenario: Scenario) -> bool;

    /// Prepares (untimed) and runs (timed) one run of `scenario`; returns the timed part.
    /// The table has been reset and seeded for the scenario already.
    async fn run(&mut self, scenario: Scenario, n: usize, run: usize) -> Result<Duration>;
}

/// Runs every scenario for Strata, raw and copy. MikroORM runs separately (a node process).
pub(crate) async fn run_rust(
    url: &str,
    scenarios: &[Scenario],
    impls: &[String],
    sizes: Sizes,
    runs: Runs,
    options: StrataOptions,
    json: &mut crate::jsonl::JsonLines,
) -> Result<(Vec<Measurement>, Vec<Breakdown>)> {
    let StrataOptions { breakdown, copy_rows, statement_cache } = options;
    let wanted = |name: &str| impls.is_empty() || impls.iter().any(|i| i == name);
    let control = crate::db::connect(url).await?;
    let mut raw = raw::Raw::connect(url).await?;
    let mut copy = raw::Copy::connect(url).await?;
    let mut strata =
        strata_impl::StrataBench::connect(url, breakdown, copy_rows, statement_cache).await?;
    let mut out = Vec::new();
    let mut breakdowns = Vec::new();
    for &scenario in scenarios {
        let n = scenario.size(sizes);
        eprintln!("  {} (n = {n}) …", scenario.name());
        let mut times: [Vec<Duration>; 3] = Default::default();
        for run in 0..runs.warmup + runs.measured {
            let measured = run >= runs.warmup;
            if wanted("raw") && raw.supports(scenario) {
                let t = one_run(&control, &mut raw, scenario, n, run).await?;
                if measured {
                    times[0].push(t);
                }
            }
            if wanted("copy") && copy.supports(scenario) {
                let t = one_run(&control, &mut copy, scenario, n, run).await?;
                if measured {
                    times[1].push(t);
                }
            }
            if wanted("strata") {
                let t = one_run(&control, &mut strata, scenario, n, run).await?;
                if measured {
                    times[2].push(t);
                }
            }
        }
        // The breakdown of the median measured run.
        let mut recorded: Vec<Breakdown> =
            strata.take_breakdown().into_iter().skip(runs.warmup).collect();
        recorded.sort_by_key(|b| b.total);
        if !recorded.is_empty() {
            breakdowns.push(recorded.swap_remove(recorded.len() / 2));
        }
        for (implementation, t) in ["raw", "copy", "strata"].into_iter().zip(&times) {
            if !t.is_empty() {
                let m = Measurement::from_durations(scenario.name(), implementation, n, t);
                json.write(&m.json())?;
                out.push(m);
            }
        }
    }
    Ok((out, breakdowns))
}

/// Where Strata's time went, one line per scenario plus its slowest statements.
pub(crate) fn breakdown_table(breakdowns: &[Breakdown]) -> String {
    use std::fmt::Write as _;
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    let mut s = String::from(
        "strata breakdown (median run): total = in statements (driver encode, round trip, \
         server, decode) + in the ORM\n",
    );
    for b in breakdowns {
        let orm = b.total.saturating_sub(b.in_statements);
        let _ = writeln!(
            s,
            "{:<13} total {:>9.2} ms = {:>5} statements {:>9.2} ms + ORM {:>8.2} ms ({:.0}%)",
            b.scenario.name(),
            ms(b.total),
            b.statements,
            ms(b.in_statements),
            ms(orm),
            100.0 * orm.as_secs_f64() / b.total.as_secs_f64().max(1e-9)
        );
        for (d, sql) in &b.slowest {
            let _ = writeln!(s, "{:<13}   {:>8.2} ms  {sql}", "", ms(*d));
        }
    }
    s
}

async fn one_run(
    control: &Client,
    implementation: &mut impl Implementation,
    scenario: Scenario,
    n: usize,
    run: usize,
) -> Result<Duration> {
    scenario.reset(control, n).await?;
    let took = implementation.run(scenario, n, run).await?;
    check(control, scenario, n, run).await.map_err(|e| {
        e.context(format!("{} {} run {run}", implementation.name(), scenario.name()))
    })?;
    Ok(took)
}

/// The content an update run writes into row `id`: different in every run, so that every
/// run really changes every row.
pub(crate) fn updated_content(run: usize, id: i32) -> String {
    format!("updated {run} {id}")
}

/// Checks the table after a run.
async fn check(control: &Client, scenario: Scenario, n: usize, run: usize) -> Result<()> {
    if scenario.is_graph() {
        return graph::check(control, scenario == Scenario::FlushGraph, n).await;
    }
    let count: i64 = control.query_one("SELECT count(*) FROM post_entity", &[]).await?.get(0);
    let expected = if scenario == Scenario::Delete { 0 } else { n as i64 };
    if count != expected {
        bail!("{count} rows in post_entity after the run, expected {expected}");
    }
    if scenario == Scenario::Update {
        let pattern = format!("updated {run} %");
        let changed: i64 = control
            .query_one("SELECT count(*) FROM post_entity WHERE content LIKE $1", &[&pattern])
            .await?
            .get(0);
        if changed != n as i64 {
            bail!("{changed} rows updated, expected {n}");
        }
    }
    if matches!(scenario, Scenario::Insert | Scenario::SingleFlush) {
        let row = control
            .query_one("SELECT title, content FROM post_entity WHERE id = $1", &[&(n as i32)])
            .await?;
        let (title, content): (String, String) = (row.get(0), row.get(1));
        if title != format!("title {n}") || content != format!("content {n}") {
            bail!("row {n} holds ({title:?}, {content:?}), expected the inserted values");
        }
    }
    Ok(())
}
