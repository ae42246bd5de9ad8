//! Measurements: the runs of one scenario by one implementation, their median, minimum and
//! maximum, and the JSON line each becomes.

use serde::Serialize;
use std::time::Duration;

/// The measured runs of one scenario by one implementation.
#[derive(Debug, Clone)]
pub(crate) struct Measurement {
    /// The scenario's name (`insert`, `update`, …).
    pub(crate) scenario: &'static str,
    /// The implementation: `strata`, `raw`, `copy` or `mikroorm`.
    pub(crate) implementation: &'static str,
    /// Rows (or operations) per run.
    pub(crate) n: usize,
    /// The time of each measured run, in milliseconds.
    pub(crate) times_ms: Vec<f64>,
}

/// One line of the `--json` output.
#[derive(Debug, Serialize)]
pub(crate) struct JsonLine<'a> {
    scenario: &'a str,
    #[serde(rename = "impl")]
    implementation: &'a str,
    n: usize,
    runs: usize,
    median_ms: f64,
    min_ms: f64,
    max_ms: f64,
}

impl Measurement {
    /// A measurement from durations.
    pub(crate) fn from_durations(
        scenario: &'static str,
        implementation: &'static str,
        n: usize,
        times: &[Duration],
    ) -> Self {
        let times_ms = times.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        Self { scenario, implementation, n, times_ms }
    }

    /// The median run (the mean of the middle two for an even count).
    pub(crate) fn median_ms(&self) -> f64 {
        median(&self.times_ms)
    }

    /// The fastest run.
    pub(crate) fn min_ms(&self) -> f64 {
        self.times_ms.iter().copied().fold(f64::INFINITY, f64::min)
    }

    /// The slowest run.
    pub(crate) fn max_ms(&self) -> f64 {
        self.times_ms.iter().copied().fold(0.0, f64::max)
    }

    /// The JSON line, with times rounded to microseconds.
    pub(crate) fn json(&self) -> JsonLine<'_> {
        let round = |ms: f64| (ms * 1000.0).round() / 1000.0;
        JsonLine {
            scenario: self.scenario,
            implementation: self.implementation,
            n: self.n,
            runs: self.times_ms.len(),
            median_ms: round(self.median_ms()),
            min_ms: round(self.min_ms()),
            max_ms: round(self.max_ms()),
        }
    }
}

/// The ORM measurements of a `--json` file, each with its median as its only time (enough to
/// plot; HTTP lines are skipped).
pub(crate) fn from_json_lines(text: &str) -> anyhow::Result<Vec<Measurement>> {
    #[derive(serde::Deserialize)]
    struct Line {
        scenario: String,
        #[serde(rename = "impl")]
        implementation: String,
        n: Option<usize>,
        median_ms: Option<f64>,
        runs: Option<usize>,
    }
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let l: Line = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("not a benchmark JSON line ({e}): {line}"))?;
        let (Some(n), Some(median), Some(runs)) = (l.n, l.median_ms, l.runs) else { continue };
        let scenario = crate::orm::Scenario::parse(&l.scenario)?.name();
        let Some(implementation) =
            crate::report::IMPLS.into_iter().find(|i| *i == l.implementation)
        else {
            continue;
        };
        out.push(Measurement { scenario, implementation, n, times_ms: vec![median; runs] });
    }
    Ok(out)
}

fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn json_line_has_the_documented_keys() {
        let m = Measurement {
            scenario: "insert",
            implementation: "raw",
            n: 10,
            times_ms: vec![2.0, 1.0, 3.0],
        };
        let line = serde_json::to_value(m.json()).unwrap();
        assert_eq!(
            line,
            serde_json::json!({"scenario": "insert", "impl": "raw", "n": 10, "runs": 3,
                               "median_ms": 2.0, "min_ms": 1.0, "max_ms": 3.0})
        );
    }
}
