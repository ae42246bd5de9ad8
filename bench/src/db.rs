//! The benchmark's own database: created at start (`strata_bench_<pid>`), with the one table
//! every implementation uses, and dropped at the end, also after an error or Ctrl-C. The HTTP
//! benchmark's blog route has a database of its own beside it (`strata_bench_<pid>_blog`),
//! dropped with it.

use anyhow::{Context, Result};
use tokio_postgres::{Client, NoTls};

/// The table of the article's posts, as the posts API and every benchmark peer use it.
pub(crate) const POST_DDL: &str = r#"
    CREATE TABLE "post_entity" (
        "id" serial PRIMARY KEY,
        "title" varchar(255) NOT NULL,
        "content" varchar(255) NOT NULL
    )"#;

/// Empties the table and restarts its ids, so that every run starts from the same state.
pub(crate) const RESET_SQL: &str = r#"TRUNCATE "post_entity" RESTART IDENTITY"#;

/// The rows every read, update and delete scenario starts from: ids 1..=n, "title i",
/// "content i". The MikroORM peer seeds with the same statement.
pub(crate) fn seed_sql(n: usize) -> String {
    format!(
        r#"INSERT INTO "post_entity" ("title", "content")
           SELECT 'title ' || i, 'content ' || i FROM generate_series(1, {n}) AS i"#
    )
}

/// The labels of the databases created beside a benchmark database, `<name>_<label>`
/// ([`BenchDb::create_beside`]): the blog API's tables have the posts API's names.
const BESIDE: [&str; 1] = ["blog"];

/// A database created for one benchmark run.
pub(crate) struct BenchDb {
    admin_url: String,
    name: String,
    url: String,
}

impl BenchDb {
    /// Creates `strata_bench_<pid>` (`strata_bench_<pid>_<n>` for the n-th after the first,
    /// as tests running side by side create) on the server of `admin_url`, and the
    /// `post_entity` table.
    pub(crate) async fn create(admin_url: &str) -> Result<Self> {
        static CREATED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let name = match CREATED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) {
            0 => format!("strata_bench_{}", std::process::id()),
            n => format!("strata_bench_{}_{n}", std::process::id()),
        };
        let admin = connect(admin_url).await.with_context(|| {
            format!(
                "cannot connect to {} to create the benchmark database; start PostgreSQL or \
                 set DATABASE_URL to a server where this user may CREATE DATABASE",
                redact(admin_url)
            )
        })?;
        recreate(&admin, &name).await?;
        let db =
            Self { admin_url: admin_url.to_owned(), url: with_database(admin_url, &name), name };
        let client = connect(&db.url).await.context("cannot connect to the benchmark database")?;
        client.batch_execute(POST_DDL).await.context("cannot create table post_entity")?;
        client
            .batch_execute(crate::orm::GRAPH_DDL)
            .await
            .context("cannot create the tables of the relation scenarios")?;
        Ok(db)
    }

    /// Creates an empty database `<name>_<label>` beside the benchmark database of `url` (on
    /// the same server, created and dropped through a connection to that database). A run
    /// interrupted before dropping it leaves nothing behind: [`BenchDb::drop_db`] of the
    /// benchmark database drops it too.
    pub(crate) async fn create_beside(url: &str, label: &str) -> Result<Self> {
        anyhow::ensure!(BESIDE.contains(&label), "no database is created beside as {label:?}");
        let config: tokio_postgres::Config = url.parse().context("invalid database URL")?;
        let base = config.get_dbname().context("the benchmark database URL names no database")?;
        let name = format!("{base}_{label}");
        let admin = connect(url).await.context("cannot connect to the benchmark database")?;
        recreate(&admin, &name).await?;
        Ok(Self { admin_url: url.to_owned(), url: with_database(url, &name), name })
    }

    /// The URL of the benchmark database.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The database name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Drops the database and those created beside it, closing whatever connections are
    /// still open to them.
    pub(crate) async fn drop_db(self) -> Result<()> {
        let admin = connect(&self.admin_url).await?;
        let beside = BESIDE.iter().map(|label| format!("{}_{label}", self.name));
        for name in beside.chain([self.name.clone()]) {
            admin
                .batch_execute(&format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#))
                .await
                .with_context(|| format!("cannot drop database {name}; drop it by hand"))?;
        }
        Ok(())
    }
}

/// A plain tokio-postgres connection whose connection task runs in the background.
pub(crate) async fn connect(url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        // The connection ends with an error when the database is dropped under it; the
        // benchmark reports failures through the client, so nothing is lost here.
        let _ = connection.await;
    });
    Ok(client)
}

/// `url` with its database replaced by `name` (query parameters are kept).
pub(crate) fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// The URL with its password hidden, for messages.
pub(crate) fn redact(url: &str) -> String {
    strata::config::redact_url(url)
}

/// Drops database `name` if it exists and creates it empty, through `admin`. Two calls: a
/// multi-statement string runs as one transaction, which these refuse.
async fn recreate(admin: &tokio_postgres::Client, name: &str) -> Result<()> {
    for sql in
        [format!(r#"DROP DATABASE IF EXISTS "{name}""#), format!(r#"CREATE DATABASE "{name}""#)]
    {
        admin
            .batch_execute(&sql)
            .await
            .with_context(|| format!("cannot create database {name}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_and_query_kept() {
        let cases = [
            ("postgres://postgres@127.0.0.1:5432/postgres", "postgres://postgres@127.0.0.1:5432/x"),
            ("postgres://u:p@h/db?sslmode=disable", "postgres://u:p@h/x?sslmode=disable"),
            ("postgres://u@h:5432", "postgres://u@h:5432/x"),
        ];
        for (url, expected) in cases {
            assert_eq!(with_database(url, "x"), expected, "for {url}");
        }
    }
}
