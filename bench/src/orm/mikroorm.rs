//! The MikroORM peer: `bench/mikroorm/bench.mjs`, run with node. Its dependencies are
//! installed with `npm ci` (from the committed `package-lock.json`) the first time, when
//! `node_modules` is missing. The script prints one JSON line per scenario with the time of
//! every measured run; this module turns them into measurements.

use super::{Runs, Scenario, Sizes};
use crate::stats::Measurement;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use tokio::process::Command;

/// The peer's directory.
pub(crate) fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("mikroorm")
}

/// The installed `@mikro-orm/core` version, if the peer is installed.
pub(crate) fn installed_version() -> Option<String> {
    let text =
        std::fs::read_to_string(dir().join("node_modules/@mikro-orm/core/package.json")).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get("version")?.as_str().map(str::to_owned)
}

/// What the peer runs on, from its first output line.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct PeerInfo {
    /// The installed `@mikro-orm/core` version.
    pub(crate) version: String,
    /// The node version.
    pub(crate) node: String,
}

#[derive(Debug, Deserialize)]
struct ScenarioLine {
    scenario: String,
    n: usize,
    times_ms: Vec<f64>,
}

/// The node version, or `None` when node is not installed.
pub(crate) async fn node_version() -> Option<String> {
    let out = Command::new("node").arg("--version").output().await.ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Installs the peer's packages when `node_modules` is missing.
pub(crate) async fn ensure_installed() -> Result<()> {
    let dir = dir();
    if dir.join("node_modules/@mikro-orm/postgresql").is_dir() {
        return Ok(());
    }
    eprintln!("installing the MikroORM peer (npm ci in {}) …", dir.display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .stdout(Stdio::null())
        .status()
        .await
        .context("cannot run npm; install Node.js with npm, or pass --no-mikroorm")?;
    if !status.success() {
        bail!("npm ci failed in {} ({status}); see its output above", dir.display());
    }
    Ok(())
}

/// Runs the scenarios in node, one node process per scenario (so that the garbage one
/// scenario leaves on the heap does not slow the next), and returns the peer's versions and
/// measurements.
pub(crate) async fn run(
    url: &str,
    scenarios: &[Scenario],
    sizes: Sizes,
    runs: Runs,
    json: &mut crate::jsonl::JsonLines,
) -> Result<(PeerInfo, Vec<Measurement>)> {
    let mut info = None;
    let mut out = Vec::new();
    for &scenario in scenarios {
        eprintln!("  mikroorm {} …", scenario.name());
        let (i, m) = run_process(url, &[scenario.name()], sizes, runs).await?;
        info.get_or_insert(i);
        for measurement in &m {
            json.write(&measurement.json())?;
        }
        out.extend(m);
    }
    let info = info.context("no scenario to run")?;
    Ok((info, out))
}

/// The MikroORM memory probe: the script loads `n` posts into a forked EntityManager and
/// reports its resident set before and its peak after.
pub(crate) async fn hold(url: &str, n: usize) -> Result<super::memory::Held> {
    let script = dir().join("bench.mjs");
    let output = Command::new("node")
        .arg(&script)
        .args(["--url", url, "--n", &n.to_string(), "--scenarios", "memory"])
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("cannot run node {}", script.display()))?;
    if !output.status.success() {
        bail!("the MikroORM memory probe failed ({}); its error is printed above", output.status);
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout
        .lines()
        .find(|l| l.contains("\"peak_kib\""))
        .context("the MikroORM memory probe printed no result")?;
    serde_json::from_str(line)
        .with_context(|| format!("unexpected line from the MikroORM memory probe: {line}"))
}

async fn run_process(
    url: &str,
    names: &[&str],
    sizes: Sizes,
    runs: Runs,
) -> Result<(PeerInfo, Vec<Measurement>)> {
    let script = dir().join("bench.mjs");
    let output = Command::new("node")
        .arg(&script)
        .args(["--url", url])
        .args(["--runs", &runs.measured.to_string()])
        .args(["--warmup", &runs.warmup.to_string()])
        .args(["--n", &sizes.n.to_string()])
        .args(["--n-single", &sizes.n_single.to_string()])
        .args(["--n-rel", &sizes.n_rel.to_string()])
        .args(["--scenarios", &names.join(",")])
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await
        .with_context(|| format!("cannot run node {}", script.display()))?;
    if !output.status.success() {
        bail!("the MikroORM peer failed ({}); its error is printed above", output.status);
    }
    parse(&String::from_utf8_lossy(&output.stdout))
}

fn parse(stdout: &str) -> Result<(PeerInfo, Vec<Measurement>)> {
    let mut lines = stdout.lines().filter(|l| l.trim_start().starts_with('{'));
    let first = lines.next().context("the MikroORM peer printed nothing")?;
    let info: PeerInfo = serde_json::from_str(first)
        .with_context(|| format!("unexpected first line from the MikroORM peer: {first}"))?;
    let mut out = Vec::new();
    for line in lines {
        let l: ScenarioLine = serde_json::from_str(line)
            .with_context(|| format!("unexpected line from the MikroORM peer: {line}"))?;
        let scenario = Scenario::parse(&l.scenario)?;
        out.push(Measurement {
            scenario: scenario.name(),
            implementation: "mikroorm",
            n: l.n,
            times_ms: l.times_ms,
        });
    }
    Ok((info, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_output_is_parsed() {
        let out = "{\"peer\":\"mikroorm\",\"version\":\"7.2.1\",\"node\":\"v20.20.2\"}\n\
                   {\"scenario\":\"insert\",\"n\":10,\"times_ms\":[1.5,2.5]}\n";
        let (info, m) = parse(out).unwrap();
        assert_eq!(info.version, "7.2.1");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].scenario, "insert");
        assert_eq!(m[0].median_ms(), 2.0);
    }

    #[test]
    fn unknown_scenario_is_an_error() {
        let out = "{\"peer\":\"mikroorm\",\"version\":\"7\",\"node\":\"v20\"}\n\
                   {\"scenario\":\"bogus\",\"n\":10,\"times_ms\":[1.0]}\n";
        assert!(parse(out).is_err());
    }
}
