//! The registry of test databases: creation under an advisory lock, and cleanup of leftovers.
//!
//! Every test database has a row in `strata_test.databases` of the maintenance database, written
//! before the database is created. A process that crashes (a test that aborts, a killed
//! `cargo test`) never runs its `Drop`s, so the first creation in each process drops the
//! databases whose creator on this host is gone and any older than [`MAX_AGE`].

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use strata_core::sql::quote_ident;
use tokio_postgres::Client;

/// Every test database name starts with this; cleanup drops nothing else.
pub(crate) const PREFIX: &str = "strata_test_";

/// The advisory lock key that serializes creation across threads and processes ("STRATATS").
const LOCK_KEY: i64 = 0x5354_5241_5441_5453;

/// Registered databases older than this are dropped whatever their creator.
const MAX_AGE: &str = "2 hours";

const REGISTRY_DDL: &str = "
    CREATE SCHEMA IF NOT EXISTS strata_test;
    CREATE TABLE IF NOT EXISTS strata_test.databases (
        name text PRIMARY KEY,
        pid bigint NOT NULL,
        host text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
    );";

/// Whether this process has dropped the leftovers of earlier runs.
static LEFTOVERS_DROPPED: AtomicBool = AtomicBool::new(false);

/// Registers and creates the database `name`, allowing `connection_limit` connections.
///
/// Concurrent `CREATE … IF NOT EXISTS` of the registry can fail with a unique violation in the
/// catalog, and the cleanups of two processes would race to drop the same leftovers, so all of it
/// runs under one advisory lock held by this session.
pub(crate) async fn create(
    client: &Client,
    name: &str,
    connection_limit: usize,
) -> Result<(), tokio_postgres::Error> {
    client.execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY]).await?;
    let created = create_locked(client, name, connection_limit).await;
    client.execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY]).await?;
    created
}

async fn create_locked(
    client: &Client,
    name: &str,
    connection_limit: usize,
) -> Result<(), tokio_postgres::Error> {
    client.batch_execute(REGISTRY_DDL).await?;
    // Other threads of this process wait on the advisory lock, so a plain load/store suffices.
    if !LEFTOVERS_DROPPED.load(Ordering::SeqCst) {
        drop_leftovers(client).await?;
        LEFTOVERS_DROPPED.store(true, Ordering::SeqCst);
    }
    let pid = i64::from(std::process::id());
    client
        .execute(
            "INSERT INTO strata_test.databases (name, pid, host) VALUES ($1, $2, $3)",
            &[&name, &pid, &host()],
        )
        .await?;
    let ddl = format!("CREATE DATABASE {} CONNECTION LIMIT {connection_limit}", quote_ident(name));
    if let Err(e) = client.batch_execute(&ddl).await {
        let _ = client.execute("DELETE FROM strata_test.databases WHERE name = $1", &[&name]).await;
        return Err(e);
    }
    Ok(())
}

/// Drops the registered databases whose creator on this host has exited, and those older than
/// [`MAX_AGE`].
async fn drop_leftovers(client: &Client) -> Result<(), tokio_postgres::Error> {
    let rows = client
        .query(
            &format!(
                "SELECT name, pid, host, created_at < now() - interval '{MAX_AGE}' \
                 FROM strata_test.databases"
            ),
            &[],
        )
        .await?;
    // Judge every row before dropping any: dropping takes a while, and a verdict should match
    // the registry as it was read.
    let leftovers: Vec<String> = rows
        .iter()
        .filter(|row| {
            let (pid, host_name, expired): (i64, &str, bool) = (row.get(1), row.get(2), row.get(3));
            expired || (host_name == host() && !process_alive(pid))
        })
        .map(|row| row.get(0))
        .collect();
    for name in leftovers {
        drop_database(client, &name).await?;
    }
    Ok(())
}

/// Drops the test database `name` (closing its connections) and forgets it.
pub(crate) async fn drop_database(
    client: &Client,
    name: &str,
) -> Result<(), tokio_postgres::Error> {
    if name.starts_with(PREFIX) {
        client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", quote_ident(name)))
            .await?;
    }
    client.execute("DELETE FROM strata_test.databases WHERE name = $1", &[&name]).await?;
    Ok(())
}

/// The name of this machine, which scopes the pids in the registry.
fn host() -> &'static str {
    static HOST: OnceLock<String> = OnceLock::new();
    HOST.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .or_else(|| {
                let out = std::process::Command::new("hostname").output().ok()?;
                String::from_utf8(out.stdout).ok()
            })
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unknown".to_owned())
    })
}

/// Whether process `pid` of this host is running. When that cannot be told, it is assumed to be,
/// leaving its databases to the age limit.
pub(crate) fn process_alive(pid: i64) -> bool {
    if pid == i64::from(std::process::id()) {
        return true;
    }
    if std::path::Path::new("/proc/self").exists() {
        return std::path::Path::new(&format!("/proc/{pid}")).exists();
    }
    std::process::Command::new("ps")
        .args(["-p", &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .map_or(true, |status| status.success())
}

#[cfg(test)]
mod tests {
    use super::{process_alive, quote_ident};

    #[test]
    fn quote_doubles_embedded_quotes() {
        assert_eq!(quote_ident("strata_test_1"), "\"strata_test_1\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }

    #[test]
    fn this_process_is_alive_and_an_impossible_pid_is_not() {
        assert!(process_alive(i64::from(std::process::id())));
        assert!(!process_alive(2_000_000_000));
    }
}
