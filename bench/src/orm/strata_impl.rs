//! The scenarios through Strata's EntityManager, as an application writes them.

use super::{Implementation, Scenario, updated_content};
use anyhow::{Context, Result};
use std::time::{Duration, Instant};
use strata::prelude::*;

/// The article's post, mapped to `post_entity`.
#[derive(Entity, Debug, Clone)]
pub(crate) struct PostEntity {
    #[strata(primary_key)]
    pub(crate) id: i32,
    pub(crate) title: String,
    pub(crate) content: String,
}

/// Strata connected to the benchmark database.
pub(super) struct StrataBench {
    orm: Strata,
    /// With `--breakdown`: the statements of the timed part of each run, from the query log.
    breakdown: Option<Vec<Breakdown>>,
}

/// Where the time of one Strata run went: in statements (the driver's encode, the round
/// trip, the server and the decode into values) or in the ORM around them.
#[derive(Debug)]
pub(crate) struct Breakdown {
    pub(crate) scenario: Scenario,
    pub(crate) total: Duration,
    pub(crate) statements: usize,
    pub(crate) in_statements: Duration,
    /// The slowest statements, `(duration, SQL)`, the SQL cut to 60 characters.
    pub(crate) slowest: Vec<(Duration, String)>,
}

impl StrataBench {
    /// Connects with the driver's defaults, or with `copy_rows` as the least number of new
    /// rows a flush loads by COPY (`Some(None)`: never), and with the statement cache on or off.
    pub(super) async fn connect(
        url: &str,
        breakdown: bool,
        copy_rows: Option<Option<usize>>,
        statement_cache: bool,
    ) -> Result<Self> {
        let config = StrataConfig::from_url(url).statement_cache(statement_cache);
        let orm = match copy_rows {
            None => Strata::connect(config).await,
            Some(rows) => strata::postgres::PgDriver::connect(&config).await.map(|driver| {
                Strata::with_driver(std::sync::Arc::new(driver.with_copy_rows(rows)), config)
            }),
        }
        .context("Strata cannot connect to the benchmark database")?;
        Ok(Self { orm, breakdown: breakdown.then(Vec::new) })
    }

    /// The breakdowns recorded so far.
    pub(super) fn take_breakdown(&mut self) -> Vec<Breakdown> {
        self.breakdown.as_mut().map(std::mem::take).unwrap_or_default()
    }

    fn record(&mut self, scenario: Scenario, total: Duration) {
        let Some(out) = &mut self.breakdown else { return };
        let log = self.orm.query_log();
        log.stop_capture();
        let statements = log.take();
        // Pipelined statements are logged with the time of their whole pipeline: count each
        // pipeline once (consecutive entries with the very same duration).
        let mut in_statements = Duration::ZERO;
        let mut previous = None;
        for s in &statements {
            if previous != Some(s.duration) {
                in_statements += s.duration;
            }
            previous = Some(s.duration);
        }
        let mut slowest: Vec<(Duration, String)> =
            statements.iter().map(|s| (s.duration, s.sql.chars().take(60).collect())).collect();
        slowest.sort_by_key(|s| std::cmp::Reverse(s.0));
        slowest.truncate(3);
        out.push(Breakdown {
            scenario,
            total,
            statements: statements.len(),
            in_statements,
            slowest,
        });
    }
}

impl Implementation for StrataBench {
    fn name(&self) -> &'static str {
        "strata"
    }

    fn supports(&self, _scenario: Scenario) -> bool {
        true
    }

    async fn run(&mut self, scenario: Scenario, n: usize, run: usize) -> Result<Duration> {
        let orm = &self.orm;
        // Untimed: the entities that `update` and `delete` change are loaded first.
        let em = orm.em();
        let loaded = match scenario {
            Scenario::Update | Scenario::Delete => {
                em.find_all::<PostEntity>(FindOptions::new()).await?
            }
            _ => Vec::new(),
        };
        if self.breakdown.is_some() {
            orm.query_log().start_capture();
        }
        let start = Instant::now();
        match scenario {
            Scenario::Insert => {
                for i in 1..=n {
                    em.create(PostEntity {
                        id: 0,
                        title: format!("title {i}"),
                        content: format!("content {i}"),
                    });
                }
                em.flush().await?;
            }
            Scenario::Update => {
                for post in &loaded {
                    let mut p = post.write();
                    p.content = updated_content(run, p.id);
                }
                em.flush().await?;
            }
            Scenario::Delete => {
                for post in &loaded {
                    em.remove(post)?;
                }
                em.flush().await?;
            }
            Scenario::FindByPk => {
                for id in 1..=n as i32 {
                    let post = orm.em().find_one::<PostEntity>(id).await?;
                    anyhow::ensure!(post.is_some(), "post {id} not found");
                }
            }
            Scenario::LoadAll => {
                let posts = orm.em().find_all::<PostEntity>(FindOptions::new()).await?;
                anyhow::ensure!(posts.len() == n, "loaded {} posts, expected {n}", posts.len());
            }
            Scenario::Populate => super::strata_graph::populate(orm, n).await?,
            Scenario::FlushGraph => super::strata_graph::flush_graph(orm, n).await?,
            Scenario::SingleFlush => {
                for i in 1..=n {
                    let em = orm.em();
                    em.create(PostEntity {
                        id: 0,
                        title: format!("title {i}"),
                        content: format!("content {i}"),
                    });
                    em.flush().await?;
                }
            }
        }
        let took = start.elapsed();
        drop((em, loaded));
        self.record(scenario, took);
        Ok(took)
    }
}

/// The memory probe: loads `n` posts into one EntityManager and keeps them while the peak
/// resident set is read.
pub(super) async fn hold(url: &str, n: usize) -> Result<super::memory::Held> {
    let orm = Strata::connect(StrataConfig::from_url(url)).await?;
    let em = orm.em();
    // One statement first, so that the connection and its buffers count in the base.
    em.find_one::<PostEntity>(1).await?;
    let base_kib = super::memory::status_kib("VmRSS")?;
    let posts = em.find_all::<PostEntity>(FindOptions::new()).await?;
    anyhow::ensure!(posts.len() == n, "loaded {} posts, expected {n}", posts.len());
    let peak_kib = super::memory::status_kib("VmHWM")?;
    std::hint::black_box((&em, &posts));
    Ok(super::memory::Held { base_kib, peak_kib })
}
