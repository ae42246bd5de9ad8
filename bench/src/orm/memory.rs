//! Memory: the peak resident set of a process that holds n loaded posts (100,000 by default),
//! for Strata (managed entities in an EntityManager), the hand-written baseline (a `Vec` of
//! structs) and MikroORM (entities in a forked EntityManager).
//!
//! Each implementation runs in a process of its own, started on the seeded `post_entity`
//! table: this program again with the hidden `--hold IMPL` option, or the MikroORM script with
//! `--scenarios memory`. The process notes its resident set after connecting (`base_kib`),
//! loads the posts and keeps them, then reports its peak resident set (`VmHWM`, `peak_kib`).
//! What the posts cost is the difference (`held_kib`).

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use std::process::Stdio;
use tokio::process::Command;

/// What one process reported.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Held {
    /// Resident set after connecting, before loading, in KiB.
    pub(crate) base_kib: u64,
    /// Peak resident set after loading, in KiB.
    pub(crate) peak_kib: u64,
}

/// One line of the `--json` output for memory.
#[derive(Debug, Serialize)]
pub(crate) struct MemoryResult {
    /// Always `memory`.
    pub(crate) scenario: &'static str,
    /// `raw`, `strata` or `mikroorm`.
    #[serde(rename = "impl")]
    pub(crate) implementation: &'static str,
    /// Posts held.
    pub(crate) n: usize,
    /// Resident set before loading.
    pub(crate) base_kib: u64,
    /// Peak resident set.
    pub(crate) peak_kib: u64,
    /// What holding the posts cost: peak minus base.
    pub(crate) held_kib: u64,
}

impl MemoryResult {
    fn new(implementation: &'static str, n: usize, held: &Held) -> Self {
        Self {
            scenario: "memory",
            implementation,
            n,
            base_kib: held.base_kib,
            peak_kib: held.peak_kib,
            held_kib: held.peak_kib.saturating_sub(held.base_kib),
        }
    }
}

/// A field of `/proc/self/status` in KiB (`VmRSS`, `VmHWM`).
pub(crate) fn status_kib(field: &str) -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")
        .context("cannot read /proc/self/status (memory is measured on Linux only)")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in /proc/self/status"))
}

/// Measures every wanted implementation on `n` seeded posts.
pub(crate) async fn run(
    url: &str,
    n: usize,
    wanted: &dyn Fn(&str) -> bool,
    mikroorm: bool,
    json: &mut crate::jsonl::JsonLines,
) -> Result<Vec<MemoryResult>> {
    let control = crate::db::connect(url).await?;
    control.batch_execute(crate::db::RESET_SQL).await?;
    control.batch_execute(&crate::db::seed_sql(n)).await?;
    let mut out = Vec::new();
    for implementation in ["raw", "strata"] {
        if !wanted(implementation) {
            continue;
        }
        eprintln!("  memory: {implementation} holding {n} posts …");
        let exe = std::env::current_exe().context("cannot find the benchmark program")?;
        let output = Command::new(exe)
            .args(["--hold", implementation, "--memory-n", &n.to_string()])
            .args(["--database-url", url])
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .output()
            .await
            .context("cannot start the memory probe")?;
        if !output.status.success() {
            bail!("the {implementation} memory probe failed ({}); see above", output.status);
        }
        let held: Held = serde_json::from_slice(&output.stdout)
            .context("unexpected output from the memory probe")?;
        let result = MemoryResult::new(implementation, n, &held);
        json.write(&result)?;
        out.push(result);
    }
    if mikroorm {
        eprintln!("  memory: mikroorm holding {n} posts …");
        let held = super::mikroorm::hold(url, n).await?;
        let result = MemoryResult::new("mikroorm", n, &held);
        json.write(&result)?;
        out.push(result);
    }
    Ok(out)
}

/// The probe process: loads `n` posts with `implementation`, keeps them, prints [`Held`].
pub(crate) async fn hold(url: &str, implementation: &str, n: usize) -> Result<()> {
    let held = match implementation {
        "strata" => super::strata_impl::hold(url, n).await?,
        "raw" => super::raw::hold(url, n).await?,
        other => bail!("no memory probe for {other:?}; expected raw or strata"),
    };
    println!("{}", serde_json::to_string(&held)?);
    Ok(())
}

/// The memory table: one line per implementation.
pub(crate) fn table(results: &[MemoryResult]) -> String {
    use std::fmt::Write as _;
    let mut s = String::from("memory        n      base MiB  peak MiB  held MiB  per post\n");
    let mib = |kib: u64| kib as f64 / 1024.0;
    for r in results {
        let _ = writeln!(
            s,
            "{:<9} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>7.0} B",
            r.implementation,
            r.n,
            mib(r.base_kib),
            mib(r.peak_kib),
            mib(r.held_kib),
            r.held_kib as f64 * 1024.0 / r.n.max(1) as f64
        );
    }
    if let (Some(s_), Some(m)) = (
        results.iter().find(|r| r.implementation == "strata"),
        results.iter().find(|r| r.implementation == "mikroorm"),
    ) {
        let _ = writeln!(
            s,
            "MikroORM holds {:.1}x the memory Strata holds",
            m.held_kib as f64 / s_.held_kib.max(1) as f64
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resident_set_is_read_from_proc() {
        let rss = status_kib("VmRSS").expect("Linux has /proc/self/status");
        let peak = status_kib("VmHWM").expect("and VmHWM in it");
        assert!(rss > 0 && peak >= rss, "rss {rss}, peak {peak}");
        assert!(status_kib("NoSuchField").is_err());
    }
}
