//! The ceiling: `pgbench` running, with as many clients as the load generator has
//! connections, the SQL the posts API sends for each route. pgbench reports transactions per
//! second and the average latency; its per-transaction log (`-l`) is not used, because with
//! several clients per thread it stamps many transactions with a cached clock (0 µs), which
//! makes its percentiles meaningless.

use super::HttpScenario;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::time::Duration;
use tokio::process::Command;

/// The script pgbench runs for a scenario: the statements the posts API's handler sends.
/// None for the blog's route, which is measured against its NestJS original only.
pub(crate) fn script(scenario: HttpScenario) -> Option<&'static str> {
    Some(match scenario {
        HttpScenario::GetOne => "SELECT id, title, content FROM post_entity WHERE id = 1;\n",
        HttpScenario::GetAll => "SELECT id, title, content FROM post_entity ORDER BY id ASC;\n",
        HttpScenario::Create => {
            "BEGIN;\n\
             INSERT INTO post_entity (title, content) VALUES ('A title', 'Some content') RETURNING id;\n\
             COMMIT;\n"
        }
        HttpScenario::Patch => {
            "\\set r random(1, 1000000000)\n\
             SELECT id, title, content FROM post_entity WHERE id = 1;\n\
             BEGIN;\n\
             UPDATE post_entity SET content = 'patched ' || :r WHERE id = 1;\n\
             COMMIT;\n"
        }
        HttpScenario::BlogGetAll => return None,
    })
}

/// What pgbench measured.
#[derive(Debug)]
pub(crate) struct PgbenchResult {
    pub(crate) tps: f64,
    pub(crate) avg_ms: f64,
    pub(crate) transactions: u64,
}

/// True when `pgbench` can be run.
pub(crate) async fn available() -> bool {
    Command::new("pgbench").arg("--version").output().await.is_ok_and(|o| o.status.success())
}

/// Runs `script`, the scenario's, against `url` with `clients` clients for `duration`.
pub(crate) async fn run(
    url: &str,
    scenario: HttpScenario,
    script: &str,
    clients: usize,
    duration: Duration,
    workdir: &Path,
) -> Result<PgbenchResult> {
    let script_path = workdir.join(format!("{}.sql", scenario.name()));
    tokio::fs::write(&script_path, script).await?;
    let output = Command::new("pgbench")
        .current_dir(workdir)
        .args(["-n", "-M", "prepared"])
        .args(["-c", &clients.to_string(), "-j", "2"])
        .args(["-T", &duration.as_secs().max(1).to_string()])
        .arg("-f")
        .arg(&script_path)
        .arg(url)
        .kill_on_drop(true)
        .output()
        .await
        .context("cannot run pgbench")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    parse_output(&stdout)
}

/// Reads `tps = …`, `latency average = … ms` and the transaction count from pgbench's report.
fn parse_output(stdout: &str) -> Result<PgbenchResult> {
    let number = |prefix: &str| {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .with_context(|| format!("no {prefix:?} in pgbench's output:\n{stdout}"))
    };
    Ok(PgbenchResult {
        tps: number("tps = ")?,
        avg_ms: number("latency average = ")?,
        transactions: number("number of transactions actually processed: ")? as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_gives_tps_latency_and_count() {
        let out = "transaction type: g.sql\nnumber of clients: 16\n\
                   number of transactions actually processed: 165435\n\
                   latency average = 0.190 ms\n\
                   initial connection time = 12.3 ms\n\
                   tps = 84150.969693 (without initial connection time)\n";
        let r = parse_output(out).unwrap();
        assert_eq!(r.transactions, 165435);
        assert_eq!(r.avg_ms, 0.190);
        assert!((r.tps - 84150.97).abs() < 0.01);
        assert!(parse_output("garbage").is_err());
    }
}
