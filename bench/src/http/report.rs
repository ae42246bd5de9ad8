//! The results of the HTTP benchmark: the samples of every round, their medians (one JSON line
//! per route and implementation), the Markdown table with the goals, and the plot.

use super::load::LoadResult;
use super::pgbench::PgbenchResult;
use super::{HttpScenario, IMPLS, Service, Versions};
use serde::Serialize;
use std::fmt::{self, Write as _};
use std::time::Duration;

/// One measurement of one route on one implementation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    rps: f64,
    avg_ms: f64,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    requests: u64,
    errors: u64,
    /// The server's CPU time per answer, in microseconds.
    cpu_us: Option<f64>,
}

impl Sample {
    /// From the load generator, with the server's CPU seconds over the measurement.
    pub(crate) fn of_load(r: &LoadResult, cpu_seconds: Option<f64>) -> Self {
        let requests = r.latencies_us.len() as u64;
        Self {
            rps: r.rps(),
            avg_ms: r.mean_ms(),
            p50_ms: Some(r.quantile_ms(0.5)),
            p99_ms: Some(r.quantile_ms(0.99)),
            requests,
            errors: r.errors,
            cpu_us: cpu_seconds.filter(|_| requests > 0).map(|s| s * 1e6 / requests as f64),
        }
    }

    /// From pgbench, which measures no percentiles reliably.
    pub(crate) fn of_pgbench(p: &PgbenchResult) -> Self {
        Self {
            rps: p.tps,
            avg_ms: p.avg_ms,
            p50_ms: None,
            p99_ms: None,
            requests: p.transactions,
            errors: 0,
            cpu_us: None,
        }
    }
}

impl fmt::Display for Sample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>8.0} req/s", self.rps)?;
        if let Some(p99) = self.p99_ms {
            write!(f, ", p99 {p99:.2} ms")?;
        }
        if let Some(cpu) = self.cpu_us {
            write!(f, ", {cpu:.0} µs CPU/req")?;
        }
        if self.errors > 0 {
            write!(f, ", {} errors", self.errors)?;
        }
        Ok(())
    }
}

/// The samples of every round, per route and implementation.
#[derive(Debug, Default)]
pub(crate) struct Samples {
    entries: Vec<(HttpScenario, &'static str, Vec<Sample>, Option<u64>)>,
}

impl Samples {
    /// Adds a round's sample and the server's peak memory so far.
    pub(crate) fn add(
        &mut self,
        scenario: HttpScenario,
        implementation: &'static str,
        sample: Sample,
        peak_rss_kib: Option<u64>,
    ) {
        let i = match self.entries.iter().position(|e| e.0 == scenario && e.1 == implementation) {
            Some(i) => i,
            None => {
                self.entries.push((scenario, implementation, Vec::new(), None));
                self.entries.len() - 1
            }
        };
        let entry = &mut self.entries[i];
        entry.2.push(sample);
        entry.3 = entry.3.max(peak_rss_kib);
    }

    /// The medians over the rounds, by route and then in the order of [`IMPLS`].
    pub(crate) fn results(&self, connections: usize, seconds: Duration) -> Vec<HttpResult> {
        let mut out: Vec<HttpResult> = self
            .entries
            .iter()
            .map(|(scenario, implementation, samples, rss)| {
                let rps: Vec<f64> = samples.iter().map(|s| s.rps).collect();
                HttpResult {
                    scenario: scenario.name().to_owned(),
                    implementation,
                    connections,
                    seconds: seconds.as_secs_f64(),
                    rounds: samples.len(),
                    requests: samples.iter().map(|s| s.requests).sum(),
                    errors: samples.iter().map(|s| s.errors).sum(),
                    rps: median(rps.clone()).unwrap_or(f64::NAN),
                    rps_min: rps.iter().copied().fold(f64::INFINITY, f64::min),
                    rps_max: rps.iter().copied().fold(0.0, f64::max),
                    avg_ms: median(samples.iter().map(|s| s.avg_ms).collect()).unwrap_or(f64::NAN),
                    p50_ms: median(samples.iter().filter_map(|s| s.p50_ms).collect()),
                    p99_ms: median(samples.iter().filter_map(|s| s.p99_ms).collect()),
                    cpu_us_per_request: median(samples.iter().filter_map(|s| s.cpu_us).collect()),
                    peak_rss_kib: *rss,
                }
            })
            .collect();
        let order = |r: &HttpResult| {
            let s = HttpScenario::ALL.iter().position(|s| s.name() == r.scenario);
            (s, IMPLS.iter().position(|i| *i == r.implementation))
        };
        out.sort_by_key(order);
        out
    }
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    Some(if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 })
}

/// One route and implementation, medians over the rounds: one line of `--json`.
#[derive(Debug, Serialize)]
pub(crate) struct HttpResult {
    scenario: String,
    #[serde(rename = "impl")]
    implementation: &'static str,
    connections: usize,
    /// Seconds of measured load per round.
    seconds: f64,
    rounds: usize,
    /// Over all rounds.
    requests: u64,
    errors: u64,
    /// Requests (pgbench: transactions) per second: the median, least and most of the rounds.
    rps: f64,
    rps_min: f64,
    rps_max: f64,
    avg_ms: f64,
    /// Percentiles (the load generator only; pgbench does not measure them reliably).
    #[serde(skip_serializing_if = "Option::is_none")]
    p50_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p99_ms: Option<f64>,
    /// The server process's CPU time (user + system) per answer, in microseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    cpu_us_per_request: Option<f64>,
    /// The server's peak resident memory over the whole benchmark (`VmHWM`).
    #[serde(skip_serializing_if = "Option::is_none")]
    peak_rss_kib: Option<u64>,
}

fn find<'a>(
    results: &'a [HttpResult],
    s: HttpScenario,
    implementation: &str,
) -> Option<&'a HttpResult> {
    results.iter().find(|r| r.scenario == s.name() && r.implementation == implementation)
}

fn label(implementation: &str, versions: &Versions) -> String {
    match implementation {
        "posts-api" => "posts API (Strata)".to_owned(),
        "handwritten" => "hand-written axum + tokio-postgres".to_owned(),
        "nestjs" => format!(
            "NestJS {} + MikroORM {}",
            versions.nestjs.as_deref().unwrap_or("?"),
            versions.mikroorm.as_deref().unwrap_or("?")
        ),
        "blog-api" => "blog API (Strata)".to_owned(),
        "nestjs-blog" => format!(
            "NestJS #63: NestJS {} + MikroORM {}",
            versions.blog_nestjs.as_deref().unwrap_or("?"),
            versions.blog_mikroorm.as_deref().unwrap_or("?")
        ),
        "pgbench" => "pgbench, the posts API's SQL".to_owned(),
        other => other.to_owned(),
    }
}

/// `ours / peer` requests/s of a route and whether it meets `goal`; `–` when either is missing.
fn ratio(results: &[HttpResult], s: HttpScenario, ours: &str, peer: &str, goal: f64) -> String {
    match (find(results, s, ours), find(results, s, peer)) {
        (Some(ours), Some(peer)) => {
            let r = ours.rps / peer.rps;
            let verdict = if r >= goal { "met" } else { "missed" };
            format!("{r:.2}× ({verdict})")
        }
        _ => "–".to_owned(),
    }
}

/// The results as Markdown: every route and implementation, then the goals: the posts API's
/// against its peers, and the blog API's against its NestJS original.
pub(crate) fn markdown(results: &[HttpResult], versions: &Versions) -> String {
    let mut s = String::new();
    s.push_str(
        "| route | implementation | req/s (min–max) | avg ms | p50 ms | p99 ms | CPU µs/req | \
         peak RSS | errors |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let f = |v: Option<f64>, digits: usize| v.map_or("–".to_owned(), |v| format!("{v:.digits$}"));
    for r in results {
        let Some(scenario) = HttpScenario::ALL.into_iter().find(|s| s.name() == r.scenario) else {
            continue;
        };
        let _ = writeln!(
            s,
            "| `{}` | {} | {:.0} ({:.0}–{:.0}) | {:.2} | {} | {} | {} | {} | {} |",
            scenario.route(),
            label(r.implementation, versions),
            r.rps,
            r.rps_min,
            r.rps_max,
            r.avg_ms,
            f(r.p50_ms, 2),
            f(r.p99_ms, 2),
            f(r.cpu_us_per_request, 0),
            r.peak_rss_kib.map_or("–".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            r.errors,
        );
    }
    let posts: Vec<HttpScenario> = HttpScenario::ALL
        .into_iter()
        .filter(|s| s.service() == Service::Posts && find(results, *s, "posts-api").is_some())
        .collect();
    if !posts.is_empty() {
        s.push_str(
            "\n| route | posts API / hand-written (goal ≥ 0.9) | posts API / NestJS (goal) |\n\
             | --- | ---: | ---: |\n",
        );
    }
    for scenario in posts {
        let goal = scenario.nestjs_goal();
        let _ = writeln!(
            s,
            "| `{}` | {} | {} (≥ {goal}) |",
            scenario.route(),
            ratio(results, scenario, "posts-api", "handwritten", 0.9),
            ratio(results, scenario, "posts-api", "nestjs", goal),
        );
    }
    let blog: Vec<HttpScenario> = HttpScenario::ALL
        .into_iter()
        .filter(|s| s.service() == Service::Blog && find(results, *s, "blog-api").is_some())
        .collect();
    if !blog.is_empty() {
        s.push_str("\n| route | blog API / NestJS #63 (goal) |\n| --- | ---: |\n");
    }
    for scenario in blog {
        let goal = scenario.nestjs_goal();
        let _ = writeln!(
            s,
            "| `{}` | {} (≥ {goal}) |",
            scenario.route(),
            ratio(results, scenario, "blog-api", "nestjs-blog", goal),
        );
    }
    s
}

/// A bar chart of requests/s (log scale) per route, one bar per implementation.
pub(crate) fn svg(results: &[HttpResult], title: &str, versions: &Versions) -> String {
    const WIDTH: f64 = 900.0;
    const LEFT: f64 = 200.0;
    const RIGHT: f64 = 90.0;
    const BAR: f64 = 16.0;
    const GAP: f64 = 14.0;
    const LEGEND_ROW: f64 = 18.0;
    const COLORS: [&str; IMPLS.len()] =
        ["#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#ff7f0e", "#7f7f7f"];
    // The legend, one entry per implementation measured, in rows that fit the width.
    let mut legend = Vec::new();
    let (mut lx, mut ly) = (10.0, 34.0);
    for (i, imp) in IMPLS.iter().enumerate() {
        if !results.iter().any(|r| r.implementation == *imp) {
            continue;
        }
        let text = label(imp, versions);
        let width = 30.0 + 6.5 * text.chars().count() as f64;
        if lx > 10.0 && lx + width > WIDTH {
            (lx, ly) = (10.0, ly + LEGEND_ROW);
        }
        legend.push((lx, ly, COLORS[i], text));
        lx += width;
    }
    let top = ly + 36.0;
    let values: Vec<f64> = results.iter().map(|r| r.rps).filter(|v| *v > 0.0).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min).max(1.0);
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    let (lo_exp, hi_exp) = ((lo / 2.0).log10().floor() as i32, hi.log10().ceil() as i32);
    let plot_w = WIDTH - LEFT - RIGHT;
    let x = |v: f64| {
        let t =
            (v.max(10f64.powi(lo_exp)).log10() - f64::from(lo_exp)) / f64::from(hi_exp - lo_exp);
        LEFT + t * plot_w
    };
    let routes: Vec<HttpScenario> = HttpScenario::ALL
        .into_iter()
        .filter(|s| results.iter().any(|r| r.scenario == s.name()))
        .collect();
    let bars = |s: HttpScenario| IMPLS.iter().filter(|i| find(results, s, i).is_some()).count();
    let plot_h: f64 = routes.iter().map(|s| bars(*s) as f64 * BAR + GAP).sum();
    let height = top + plot_h + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{}</text>"#,
        escape(title)
    );
    for (lx, ly, color, text) in legend {
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="{ly}" width="12" height="12" fill="{color}"/><text x="{}" y="{}">{}</text>"#,
            lx + 16.0,
            ly + 10.0,
            escape(&text)
        );
    }
    for e in lo_exp..=hi_exp {
        let gx = x(10f64.powi(e));
        let _ = writeln!(
            s,
            r##"<line x1="{gx}" y1="{}" x2="{gx}" y2="{}" stroke="#ddd"/><text x="{gx}" y="{}" text-anchor="middle" fill="#555">{}</text>"##,
            top - 6.0,
            top + plot_h,
            top + plot_h + 16.0,
            10f64.powi(e)
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{}" y="{}" text-anchor="middle" fill="#555">requests per second (log scale; longer is better)</text>"##,
        LEFT + plot_w / 2.0,
        top + plot_h + 34.0
    );
    let mut y = top;
    for route in routes {
        let n = bars(route) as f64;
        let _ = writeln!(
            s,
            r#"<text x="{}" y="{}" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y + n * BAR / 2.0 + 4.0,
            escape(route.route())
        );
        for (i, imp) in IMPLS.iter().enumerate() {
            let Some(r) = find(results, route, imp) else { continue };
            let w = (x(r.rps) - LEFT).max(1.0);
            let _ = writeln!(
                s,
                r#"<rect x="{LEFT}" y="{y}" width="{w:.1}" height="{}" fill="{}"><title>{}: {:.0} req/s</title></rect><text x="{:.1}" y="{}">{:.0}</text>"#,
                BAR - 2.0,
                COLORS[i],
                escape(&label(imp, versions)),
                r.rps,
                LEFT + w + 4.0,
                y + BAR - 4.0,
                r.rps
            );
            y += BAR;
        }
        y += GAP;
    }
    s.push_str("</svg>\n");
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(rps: f64) -> Sample {
        Sample {
            rps,
            avg_ms: 1.0,
            p50_ms: Some(1.0),
            p99_ms: Some(rps / 1000.0),
            requests: 10,
            errors: 0,
            cpu_us: Some(50.0),
        }
    }

    /// One round of `scenario` for each implementation and requests/s given.
    fn samples_of(scenario: HttpScenario, rps: &[(&'static str, f64)]) -> Vec<HttpResult> {
        let mut samples = Samples::default();
        for &(implementation, rps) in rps {
            samples.add(scenario, implementation, sample(rps), None);
        }
        samples.results(16, Duration::from_secs(10))
    }

    #[test]
    fn results_are_medians_over_the_rounds_in_table_order() {
        let mut samples = Samples::default();
        for rps in [3000.0, 1000.0, 2000.0] {
            samples.add(HttpScenario::GetOne, "nestjs", sample(rps), Some(90_000));
        }
        for rps in [30_000.0, 10_000.0] {
            samples.add(HttpScenario::GetOne, "posts-api", sample(rps), Some(8_000));
        }
        let r = samples.results(16, Duration::from_secs(10));
        assert_eq!(r.iter().map(|r| r.implementation).collect::<Vec<_>>(), ["posts-api", "nestjs"]);
        assert_eq!(
            (r[0].rps, r[0].rps_min, r[0].rps_max, r[0].rounds),
            (20_000.0, 10_000.0, 30_000.0, 2)
        );
        assert_eq!((r[1].rps, r[1].p99_ms, r[1].requests), (2000.0, Some(2.0), 30));
        let md = markdown(&r, &Versions::default());
        assert!(md.contains("| `GET /posts/1` | – | 10.00× (met) (≥ 10) |"), "{md}");
        let plot = svg(&r, "t", &Versions::default());
        assert_eq!(plot.matches("<title>").count(), 2);
        assert!(!md.contains("blog API / NestJS #63"), "no blog ratio without the blog: {md}");
    }

    #[test]
    fn the_blog_route_is_compared_with_its_nestjs_original() {
        let mut samples = Samples::default();
        samples.add(HttpScenario::BlogGetAll, "nestjs-blog", sample(300.0), Some(200_000));
        samples.add(HttpScenario::BlogGetAll, "blog-api", sample(3600.0), Some(9_000));
        samples.add(HttpScenario::GetAll, "posts-api", sample(6000.0), Some(9_000));
        samples.add(HttpScenario::GetAll, "nestjs", sample(500.0), Some(200_000));
        let r = samples.results(16, Duration::from_secs(10));
        let order: Vec<_> = r.iter().map(|r| (r.scenario.as_str(), r.implementation)).collect();
        assert_eq!(
            order,
            [
                ("get_all", "posts-api"),
                ("get_all", "nestjs"),
                ("blog_get_all", "blog-api"),
                ("blog_get_all", "nestjs-blog")
            ]
        );
        let versions = Versions {
            blog_nestjs: Some("11.2.10".into()),
            blog_mikroorm: Some("7.2.1".into()),
            ..Versions::default()
        };
        let md = markdown(&r, &versions);
        assert!(
            md.contains("| `GET /posts (blog, populated)` | NestJS #63: NestJS 11.2.10 + MikroORM 7.2.1 | 300 "),
            "{md}"
        );
        assert!(md.contains("| `GET /posts (100 rows)` | – | 12.00× (met) (≥ 10) |"), "{md}");
        assert!(
            md.contains(
                "| route | blog API / NestJS #63 (goal) |\n| --- | ---: |\n\
                 | `GET /posts (blog, populated)` | 12.00× (met) (≥ 10) |\n"
            ),
            "{md}"
        );
        let plot = svg(&r, "t", &versions);
        assert_eq!(plot.matches("<title>").count(), 4);
        assert!(plot.contains("GET /posts (blog, populated)</text>"), "{plot}");
        let blog_only: Vec<HttpResult> =
            samples_of(HttpScenario::BlogGetAll, &[("blog-api", 1000.0), ("nestjs-blog", 50.0)]);
        let md = markdown(&blog_only, &Versions::default());
        assert!(!md.contains("posts API / hand-written"), "no posts ratio without it: {md}");
        assert!(md.contains("| 20.00× (met) (≥ 10) |"), "{md}");
    }
}
