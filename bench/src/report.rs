//! The results as a printed table (medians and ratios to the raw baseline), as JSON lines and
//! as an SVG bar chart (log scale) of every implementation per scenario.

use crate::stats::Measurement;
use std::fmt::Write as _;

/// The implementations in the order they are shown.
pub(crate) const IMPLS: [&str; 4] = ["raw", "copy", "strata", "mikroorm"];

fn find<'a>(results: &'a [Measurement], scenario: &str, imp: &str) -> Option<&'a Measurement> {
    results.iter().find(|m| m.scenario == scenario && m.implementation == imp)
}

/// The scenarios present in `results`, in first-seen order.
fn scenarios(results: &[Measurement]) -> Vec<(&'static str, usize)> {
    let mut out: Vec<(&'static str, usize)> = Vec::new();
    for m in results {
        if !out.iter().any(|(s, _)| *s == m.scenario) {
            out.push((m.scenario, m.n));
        }
    }
    out
}

/// The table of medians, with each implementation's ratio to `raw`, and MikroORM's to Strata.
pub(crate) fn table(results: &[Measurement], mikroorm_label: Option<&str>) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<13} {:>6} {:>9} {:>9} {:>9} {:>11} {:>8} {:>8} {:>9} {:>9}",
        "scenario",
        "n",
        "raw ms",
        "copy ms",
        "strata ms",
        "mikroorm ms",
        "copy/raw",
        "strata/raw",
        "mikro/raw",
        "mikro/strata"
    );
    let cell =
        |m: Option<&Measurement>| m.map_or("-".to_owned(), |m| format!("{:.2}", m.median_ms()));
    let ratio = |a: Option<&Measurement>, b: Option<&Measurement>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}x", a.median_ms() / b.median_ms()),
        _ => "-".to_owned(),
    };
    for (scenario, n) in scenarios(results) {
        let [raw, copy, strata, mikro] = IMPLS.map(|i| find(results, scenario, i));
        let _ = writeln!(
            s,
            "{:<13} {:>6} {:>9} {:>9} {:>9} {:>11} {:>8} {:>10} {:>9} {:>12}",
            scenario,
            n,
            cell(raw),
            cell(copy),
            cell(strata),
            cell(mikro),
            ratio(copy, raw),
            ratio(strata, raw),
            ratio(mikro, raw),
            ratio(mikro, strata),
        );
    }
    if let Some(label) = mikroorm_label {
        let _ = writeln!(s, "mikroorm = {label}");
    }
    s
}

/// The results as a Markdown table (for docs/benchmarks.md).
pub(crate) fn markdown(results: &[Measurement]) -> String {
    let mut s = String::from(
        "| scenario | n | raw | copy | Strata | MikroORM | Strata / raw | MikroORM / raw | MikroORM / Strata |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    let cell = |m: Option<&Measurement>| {
        m.map_or("–".to_owned(), |m| format!("{:.1} ms", m.median_ms()))
    };
    let ratio = |a: Option<&Measurement>, b: Option<&Measurement>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}×", a.median_ms() / b.median_ms()),
        _ => "–".to_owned(),
    };
    for (scenario, n) in scenarios(results) {
        let [raw, copy, strata, mikro] = IMPLS.map(|i| find(results, scenario, i));
        let _ = writeln!(
            s,
            "| `{scenario}` | {n} | {} | {} | {} | {} | {} | {} | {} |",
            cell(raw),
            cell(copy),
            cell(strata),
            cell(mikro),
            ratio(strata, raw),
            ratio(mikro, raw),
            ratio(mikro, strata),
        );
    }
    s
}

const COLORS: [&str; 4] = ["#6b7280", "#a3a3a3", "#2563eb", "#f59e0b"];

/// A horizontal bar chart of the medians, one group per scenario, on a log-scale axis.
pub(crate) fn svg(results: &[Measurement], title: &str, mikroorm_label: Option<&str>) -> String {
    const WIDTH: f64 = 900.0;
    const LEFT: f64 = 150.0;
    const RIGHT: f64 = 90.0;
    const TOP: f64 = 70.0;
    const BAR: f64 = 16.0;
    const GAP: f64 = 14.0;
    let groups = scenarios(results);
    let values: Vec<f64> =
        results.iter().map(Measurement::median_ms).filter(|v| *v > 0.0).collect();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min).max(1e-3);
    let hi = values.iter().copied().fold(0.0, f64::max).max(lo * 10.0);
    // Half the smallest value still gets a visible bar: the axis starts a decade below it
    // when it sits near a power of ten.
    let (lo_exp, hi_exp) = ((lo / 2.0).log10().floor() as i32, hi.log10().ceil() as i32);
    let plot_w = WIDTH - LEFT - RIGHT;
    let x = |v: f64| {
        let t =
            (v.max(10f64.powi(lo_exp)).log10() - f64::from(lo_exp)) / f64::from(hi_exp - lo_exp);
        LEFT + t * plot_w
    };
    let group_h = |g: &(&str, usize)| {
        let bars = IMPLS.iter().filter(|i| find(results, g.0, i).is_some()).count();
        bars as f64 * BAR + GAP
    };
    let plot_h: f64 = groups.iter().map(group_h).sum();
    let height = TOP + plot_h + 40.0;

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
    // Legend.
    let mut lx = LEFT;
    for (i, imp) in IMPLS.iter().enumerate() {
        if !results.iter().any(|m| m.implementation == *imp) {
            continue;
        }
        let label = match (*imp, mikroorm_label) {
            ("mikroorm", Some(l)) => l.to_owned(),
            ("raw", _) => "raw tokio-postgres".to_owned(),
            ("copy", _) => "binary COPY".to_owned(),
            ("strata", _) => "Strata".to_owned(),
            (other, _) => other.to_owned(),
        };
        let _ = writeln!(
            s,
            r#"<rect x="{lx}" y="34" width="12" height="12" fill="{}"/><text x="{}" y="44">{}</text>"#,
            COLORS[i],
            lx + 16.0,
            escape(&label)
        );
        lx += 30.0 + 7.0 * label.len() as f64;
    }
    // Grid: one line per power of ten.
    for e in lo_exp..=hi_exp {
        let v = 10f64.powi(e);
        let gx = x(v);
        let label = if v >= 1.0 { format!("{v:.0} ms") } else { format!("{v} ms") };
        let _ = writeln!(
            s,
            r##"<line x1="{gx:.1}" y1="{TOP}" x2="{gx:.1}" y2="{:.1}" stroke="#e5e7eb"/><text x="{gx:.1}" y="{:.1}" text-anchor="middle" fill="#374151">{label}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 16.0
        );
    }
    let _ = writeln!(
        s,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#374151">median time per run (log scale, shorter is faster)</text>"##,
        LEFT + plot_w / 2.0,
        TOP + plot_h + 34.0
    );
    let mut y = TOP;
    for g in &groups {
        let h = group_h(g);
        let _ = writeln!(
            s,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-weight="bold">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#6b7280">n = {}</text>"##,
            LEFT - 8.0,
            y + (h - GAP) / 2.0,
            g.0,
            LEFT - 8.0,
            y + (h - GAP) / 2.0 + 14.0,
            g.1
        );
        let mut by = y;
        for (i, imp) in IMPLS.iter().enumerate() {
            let Some(m) = find(results, g.0, imp) else { continue };
            let v = m.median_ms();
            let w = (x(v) - LEFT).max(1.0);
            let _ = writeln!(
                s,
                r#"<rect x="{LEFT}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{}"><title>{imp}: {v:.2} ms</title></rect><text x="{:.1}" y="{:.1}" font-size="11">{v:.1} ms</text>"#,
                by + 1.0,
                BAR - 2.0,
                COLORS[i],
                LEFT + w + 4.0,
                by + BAR - 4.0
            );
            by += BAR;
        }
        y += h;
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

    fn m(scenario: &'static str, imp: &'static str, ms: f64) -> Measurement {
        Measurement { scenario, implementation: imp, n: 10, times_ms: vec![ms] }
    }

    #[test]
    fn table_shows_ratios_to_raw() {
        let r =
            [m("insert", "raw", 10.0), m("insert", "strata", 12.0), m("insert", "mikroorm", 120.0)];
        let t = table(&r, Some("MikroORM 7.2.1"));
        let row = t.lines().nth(1).unwrap();
        assert!(row.contains("1.20x"), "{row}");
        assert!(row.contains("12.00x"), "{row}");
        assert!(row.contains("10.00x"), "{row}");
        assert!(t.contains("mikroorm = MikroORM 7.2.1"));
    }

    #[test]
    fn svg_has_one_bar_per_measurement() {
        let r = [m("insert", "raw", 10.0), m("insert", "strata", 12.0), m("load_all", "raw", 0.5)];
        let out = svg(&r, "t", None);
        assert_eq!(out.matches("<title>").count(), 3);
        assert!(out.starts_with("<svg") && out.ends_with("</svg>\n"));
    }
}
