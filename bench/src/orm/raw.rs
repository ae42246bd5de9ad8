//! The baseline: tokio-postgres on one connection with the best hand-written SQL, statements
//! prepared once, rows decoded into the same struct the ORM uses. And binary `COPY`, the
//! floor for inserts.

use super::{Implementation, Scenario, updated_content};
use anyhow::Result;
use futures_util::pin_mut;
use std::time::{Duration, Instant};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Row, Statement};

/// A post as the baseline decodes it.
#[derive(Debug)]
#[allow(dead_code, reason = "decoded to pay the cost an application pays, then dropped")]
struct Post {
    id: i32,
    title: String,
    content: String,
}

impl From<&Row> for Post {
    fn from(row: &Row) -> Self {
        Self { id: row.get(0), title: row.get(1), content: row.get(2) }
    }
}

/// The statements of the baseline.
struct Prepared {
    /// Returns the generated ids, as an ORM must.
    insert_unnest: Statement,
    update_unnest: Statement,
    delete_any: Statement,
    find_by_pk: Statement,
    load_all: Statement,
    insert_one: Statement,
}

/// Hand-written SQL.
pub(super) struct Raw {
    client: Client,
    st: Prepared,
    /// The statements of the relation scenarios, prepared when the first one runs.
    graph: Option<super::graph::Prepared>,
}

impl Raw {
    pub(super) async fn connect(url: &str) -> Result<Self> {
        let client = crate::db::connect(url).await?;
        let st = Prepared {
            insert_unnest: client
                .prepare(
                    "INSERT INTO post_entity (title, content) \
                     SELECT * FROM UNNEST($1::varchar[], $2::varchar[]) RETURNING id",
                )
                .await?,
            update_unnest: client
                .prepare(
                    "UPDATE post_entity AS p SET content = u.content \
                     FROM UNNEST($1::int4[], $2::varchar[]) AS u(id, content) WHERE p.id = u.id",
                )
                .await?,
            delete_any: client.prepare("DELETE FROM post_entity WHERE id = ANY($1)").await?,
            find_by_pk: client
                .prepare("SELECT id, title, content FROM post_entity WHERE id = $1")
                .await?,
            load_all: client.prepare("SELECT id, title, content FROM post_entity").await?,
            insert_one: client
                .prepare("INSERT INTO post_entity (title, content) VALUES ($1, $2) RETURNING id")
                .await?,
        };
        Ok(Self { client, st, graph: None })
    }
}

impl Implementation for Raw {
    fn name(&self) -> &'static str {
        "raw"
    }

    fn supports(&self, _scenario: Scenario) -> bool {
        true
    }

    async fn run(&mut self, scenario: Scenario, n: usize, run: usize) -> Result<Duration> {
        if scenario.is_graph() && self.graph.is_none() {
            self.graph = Some(super::graph::Prepared::new(&self.client).await?);
        }
        let (client, st) = (&mut self.client, &self.st);
        let ids: Vec<i32> = (1..=n as i32).collect();
        let start = Instant::now();
        match scenario {
            Scenario::Insert => {
                let titles: Vec<String> = (1..=n).map(|i| format!("title {i}")).collect();
                let contents: Vec<String> = (1..=n).map(|i| format!("content {i}")).collect();
                let rows = client.query(&st.insert_unnest, &[&titles, &contents]).await?;
                let ids: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
                anyhow::ensure!(ids.len() == n, "inserted {} rows, expected {n}", ids.len());
            }
            Scenario::Update => {
                let contents: Vec<String> =
                    ids.iter().map(|&id| updated_content(run, id)).collect();
                client.execute(&st.update_unnest, &[&ids, &contents]).await?;
            }
            Scenario::Delete => {
                client.execute(&st.delete_any, &[&ids]).await?;
            }
            Scenario::FindByPk => {
                for id in &ids {
                    let row = client.query_one(&st.find_by_pk, &[id]).await?;
                    std::hint::black_box(Post::from(&row));
                }
            }
            Scenario::LoadAll => {
                let rows = client.query(&st.load_all, &[]).await?;
                let posts: Vec<Post> = rows.iter().map(Post::from).collect();
                anyhow::ensure!(posts.len() == n, "loaded {} rows, expected {n}", posts.len());
                std::hint::black_box(posts);
            }
            Scenario::SingleFlush => {
                for i in 1..=n {
                    let tx = client.transaction().await?;
                    let title = format!("title {i}");
                    let content = format!("content {i}");
                    let row = tx.query_one(&st.insert_one, &[&title, &content]).await?;
                    std::hint::black_box(row.get::<_, i32>(0));
                    tx.commit().await?;
                }
            }
            Scenario::Populate | Scenario::FlushGraph => {
                let graph = self.graph.as_ref().expect("prepared above");
                if scenario == Scenario::Populate {
                    super::graph::raw_populate(client, graph, n).await?;
                } else {
                    super::graph::raw_flush_graph(client, graph, n).await?;
                }
            }
        }
        Ok(start.elapsed())
    }
}

/// Binary `COPY … FROM STDIN`: the fastest way PostgreSQL loads rows. No ids come back.
pub(super) struct Copy {
    client: Client,
}

impl Copy {
    pub(super) async fn connect(url: &str) -> Result<Self> {
        Ok(Self { client: crate::db::connect(url).await? })
    }
}

impl Implementation for Copy {
    fn name(&self) -> &'static str {
        "copy"
    }

    fn supports(&self, scenario: Scenario) -> bool {
        scenario == Scenario::Insert
    }

    async fn run(&mut self, _scenario: Scenario, n: usize, _run: usize) -> Result<Duration> {
        let start = Instant::now();
        let sink = self
            .client
            .copy_in("COPY post_entity (title, content) FROM STDIN (FORMAT binary)")
            .await?;
        let writer = BinaryCopyInWriter::new(sink, &[Type::VARCHAR, Type::VARCHAR]);
        pin_mut!(writer);
        for i in 1..=n {
            let title = format!("title {i}");
            let content = format!("content {i}");
            writer.as_mut().write(&[&title, &content]).await?;
        }
        let rows = writer.finish().await?;
        anyhow::ensure!(rows == n as u64, "copied {rows} rows, expected {n}");
        Ok(start.elapsed())
    }
}

/// The memory probe: streams `n` posts into a `Vec` of structs (as a careful application
/// does, without holding the rows twice) and keeps it while the peak resident set is read.
pub(super) async fn hold(url: &str, n: usize) -> Result<super::memory::Held> {
    use futures_util::TryStreamExt;
    let client = crate::db::connect(url).await?;
    let load = client.prepare("SELECT id, title, content FROM post_entity").await?;
    client.query_opt("SELECT id, title, content FROM post_entity WHERE id = 1", &[]).await?;
    let base_kib = super::memory::status_kib("VmRSS")?;
    let rows = client.query_raw(&load, std::iter::empty::<i32>()).await?;
    pin_mut!(rows);
    let mut posts = Vec::new();
    while let Some(row) = rows.try_next().await? {
        posts.push(Post::from(&row));
    }
    anyhow::ensure!(posts.len() == n, "loaded {} posts, expected {n}", posts.len());
    let peak_kib = super::memory::status_kib("VmHWM")?;
    std::hint::black_box(&posts);
    Ok(super::memory::Held { base_kib, peak_kib })
}
