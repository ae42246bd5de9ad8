//! Entities, schemas and set-up shared by the suite, for every backend.
//!
//! Each test is an `async fn(Backend)`; `conformance!` (strata-test's) at the end of each module
//! runs it once per backend, as `<module>::postgres::<test>` and `<module>::sqlite::<test>`.
//! Behaviour that legitimately differs between databases is declared in strata-test's `Caps`
//! and asserted both ways.

use serde::Serialize;
use strata::driver::{Statement, StatementKind};
use strata::query_log::LoggedStatement;
use strata::{ColumnType, Connect, DbEnum, Entity, Strata, Value};
use strata_test::AnyTestDb;
pub(crate) use strata_test::{Backend, caps, conformance, conformance_sync};

/// The DDL of one table, per backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ddl {
    pub postgres: &'static str,
    pub sqlite: &'static str,
}

impl Ddl {
    fn for_backend(&self, b: Backend) -> &'static str {
        match b {
            Backend::Postgres => self.postgres,
            Backend::Sqlite => self.sqlite,
        }
    }
}

#[derive(Entity, Debug, Clone, PartialEq, Serialize)]
pub(crate) struct PostEntity {
    #[strata(primary_key)]
    pub id: i32,
    pub title: String,
    pub content: String,
}

impl PostEntity {
    pub(crate) fn new(title: &str, content: &str) -> Self {
        Self { id: 0, title: title.into(), content: content.into() }
    }
}

pub(crate) const POST_DDL: Ddl = Ddl {
    postgres: r#"
    CREATE TABLE "post_entity" (
        "id" serial PRIMARY KEY,
        "title" varchar(255) NOT NULL,
        "content" varchar(255) NOT NULL
    );"#,
    sqlite: r#"
    CREATE TABLE "post_entity" (
        "id" INTEGER PRIMARY KEY AUTOINCREMENT,
        "title" varchar(255) NOT NULL,
        "content" varchar(255) NOT NULL
    );"#,
};

#[derive(DbEnum, Debug, Clone, Copy, PartialEq, Serialize)]
pub(crate) enum Status {
    Draft,
    InReview,
    Published,
}

pub(crate) fn now_utc() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

/// Every supported field type and most attributes.
#[derive(Entity, Debug, Clone, PartialEq, Serialize)]
#[strata(table = "article")]
pub(crate) struct Article {
    #[strata(primary_key)]
    pub id: i64,
    #[strata(unique, length = 100)]
    pub slug: String,
    #[strata(type = "text")]
    pub body: String,
    pub views: i32,
    pub priority: i16,
    pub score: f32,
    pub rating: Option<f64>,
    pub published: bool,
    #[strata(enum)]
    pub status: Status,
    pub tags: serde_json::Value,
    pub published_on: Option<chrono::NaiveDate>,
    pub external_id: Option<uuid::Uuid>,
    pub thumbnail: Option<Vec<u8>>,
    #[strata(default = "'untitled'")]
    pub subtitle: Option<String>,
    #[strata(on_create = "now_utc")]
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[strata(on_create = "now_utc", on_update = "now_utc")]
    pub updated_at: chrono::DateTime<chrono::Utc>,
    #[strata(version)]
    pub version: i32,
}

/// On SQLite the unique constraint is a named unique index (SQLite keeps no name for an
/// inline `UNIQUE`), and uuid, timestamp, date and JSON columns are TEXT, as the driver stores
/// them.
pub(crate) const ARTICLE_DDL: Ddl = Ddl {
    postgres: r#"
    CREATE TABLE "article" (
        "id" bigserial PRIMARY KEY,
        "slug" varchar(100) NOT NULL CONSTRAINT "article_slug_unique" UNIQUE,
        "body" text NOT NULL,
        "views" integer NOT NULL CHECK ("views" >= 0),
        "priority" smallint NOT NULL,
        "score" real NOT NULL,
        "rating" double precision,
        "published" boolean NOT NULL,
        "status" text NOT NULL,
        "tags" jsonb NOT NULL,
        "published_on" date,
        "external_id" uuid,
        "thumbnail" bytea,
        "subtitle" varchar(255) DEFAULT 'untitled',
        "created_at" timestamptz NOT NULL,
        "updated_at" timestamptz NOT NULL,
        "version" integer NOT NULL
    );"#,
    sqlite: r#"
    CREATE TABLE "article" (
        "id" INTEGER PRIMARY KEY AUTOINCREMENT,
        "slug" varchar(100) NOT NULL,
        "body" TEXT NOT NULL,
        "views" INTEGER NOT NULL CONSTRAINT "article_views_check" CHECK ("views" >= 0),
        "priority" INTEGER NOT NULL,
        "score" REAL NOT NULL,
        "rating" REAL,
        "published" INTEGER NOT NULL,
        "status" TEXT NOT NULL,
        "tags" TEXT NOT NULL,
        "published_on" TEXT,
        "external_id" TEXT,
        "thumbnail" BLOB,
        "subtitle" varchar(255) DEFAULT 'untitled',
        "created_at" TEXT NOT NULL,
        "updated_at" TEXT NOT NULL,
        "version" INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX "article_slug_unique" ON "article" ("slug");"#,
};

pub(crate) fn article(slug: &str) -> Article {
    Article {
        id: 0,
        slug: slug.into(),
        body: "body".into(),
        views: 0,
        priority: 1,
        score: 1.5,
        rating: None,
        published: false,
        status: Status::Draft,
        tags: serde_json::json!({"lang": "en", "meta": {"a": 1, "b": 2}}),
        published_on: None,
        external_id: None,
        thumbnail: None,
        subtitle: None,
        created_at: chrono::DateTime::UNIX_EPOCH,
        updated_at: chrono::DateTime::UNIX_EPOCH,
        version: 0,
    }
}

#[derive(Entity, Debug, Clone, PartialEq)]
pub(crate) struct Tag {
    #[strata(primary_key)]
    pub id: uuid::Uuid,
    pub name: String,
}

pub(crate) const TAG_DDL: Ddl = Ddl {
    postgres: r#"CREATE TABLE "tag" ("id" uuid PRIMARY KEY, "name" varchar(255) NOT NULL);"#,
    sqlite: r#"CREATE TABLE "tag" ("id" TEXT NOT NULL PRIMARY KEY, "name" varchar(255) NOT NULL);"#,
};

/// A test's database, with helpers to set it up and look into it in SQL. The helpers go
/// through an ORM instance of their own, so that they never show in the tested ORM's
/// statement log.
pub(crate) struct Db {
    /// Dropped before `db` (fields drop in order): connections close before the database goes.
    raw: Strata,
    db: AnyTestDb,
}

impl Db {
    /// A configuration for this database, for a second ORM instance.
    pub(crate) fn config(&self) -> strata::StrataConfig {
        self.db.config()
    }

    /// Runs SQL text (several statements allowed).
    pub(crate) async fn execute(&self, sql: &str) {
        self.raw.execute(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The rows of a query, each column read as `returns` declares (PostgreSQL reads by the
    /// column's actual type, which must agree).
    pub(crate) async fn query(&self, sql: &str, returns: &[ColumnType]) -> Vec<Vec<Value>> {
        let mut conn = self.raw.driver().acquire().await.expect("a connection for the test");
        let statement = Statement {
            sql: sql.into(),
            params: Vec::new(),
            returns: returns.to_vec(),
            kind: StatementKind::Select,
        };
        conn.run(&statement).await.unwrap_or_else(|e| panic!("{sql}: {e}")).rows
    }
}

/// The one integer of a query such as `SELECT count(*) …` (any integer width).
pub(crate) async fn scalar_i64(db: &Db, sql: &str) -> i64 {
    let rows = db.query(sql, &[ColumnType::I64]).await;
    assert_eq!(rows.len(), 1, "{sql} returns one row");
    rows[0][0].as_i64().unwrap_or_else(|| panic!("{sql} returned {:?}", rows[0][0]))
}

/// A fresh database on `b` with the given tables created, and an ORM connected to it.
pub(crate) async fn setup(b: Backend, tables: &[Ddl]) -> (Db, Strata) {
    let db = AnyTestDb::new(b).await;
    let raw = Strata::connect(db.config().pool_size(1))
        .await
        .expect("the test database accepts connections");
    let db = Db { raw, db };
    let ddl: String = tables.iter().map(|t| t.for_backend(b)).collect();
    db.execute(&ddl).await;
    let orm = Strata::connect(db.config()).await.expect("the test database accepts connections");
    (db, orm)
}

/// [`setup`], with large flushes going by COPY on PostgreSQL (from 1,000 rows of a table, as
/// `PgDriver::with_copy_rows` turns it on); SQLite has no COPY and is as [`setup`].
pub(crate) async fn setup_with_copy(b: Backend, tables: &[Ddl]) -> (Db, Strata) {
    let (db, orm) = setup(b, tables).await;
    if b != Backend::Postgres {
        return (db, orm);
    }
    let config = db.config();
    let driver = strata::postgres::PgDriver::connect(&config)
        .await
        .expect("the test database accepts connections")
        .with_copy_rows(Some(strata::postgres::DEFAULT_COPY_ROWS));
    (db, Strata::with_driver(std::sync::Arc::new(driver), config))
}

/// The statements captured since the last call, without transaction commands.
pub(crate) fn data_statements(log: &[LoggedStatement]) -> Vec<&LoggedStatement> {
    log.iter().filter(|s| s.kind != StatementKind::Transaction).collect()
}

pub(crate) fn count(log: &[LoggedStatement], kind: StatementKind) -> usize {
    log.iter().filter(|s| s.kind == kind).count()
}

/// Holds the write lock of `table` on a connection of its own until the returned connection
/// commits: writers of other connections wait meanwhile (PostgreSQL: a table lock; SQLite: the
/// database's write lock, taken by `BEGIN IMMEDIATE`).
pub(crate) async fn hold_write_lock(
    db: &Db,
    b: Backend,
    table: &str,
) -> Box<dyn strata::driver::Connection> {
    let mut conn = db.raw.driver().acquire().await.expect("a connection for the lock");
    conn.begin().await.unwrap();
    let sql = match b {
        Backend::Postgres => format!("LOCK TABLE \"{table}\" IN EXCLUSIVE MODE"),
        Backend::Sqlite => format!("UPDATE \"{table}\" SET \"id\" = \"id\" WHERE 0"),
    };
    conn.run(&Statement::raw(sql, StatementKind::Other)).await.unwrap();
    conn
}

/// Ends a [`hold_write_lock`]: commits and returns the connection to the pool.
pub(crate) async fn release_write_lock(mut conn: Box<dyn strata::driver::Connection>) {
    conn.commit().await.unwrap();
}

/// Runs the future that `work` makes on a thread and runtime of their own (two worker threads
/// for spawned tasks) and waits at most `seconds`; `None` when it did not finish. The thread is
/// abandoned, not joined, so a test whose code deadlocks fails instead of hanging the suite.
/// The future need not be `Send`: it may hold an entity guard across an `.await`.
pub(crate) fn within<W, F>(seconds: u64, work: W) -> Option<F::Output>
where
    W: FnOnce() -> F + Send + 'static,
    F: std::future::Future,
    F::Output: Send + 'static,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let _ = tx.send(rt.block_on(work()));
    });
    match rx.recv_timeout(std::time::Duration::from_secs(seconds)) {
        Ok(out) => Some(out),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("the test's work panicked (its message is above)")
        }
    }
}

/// A JSON document with an optional part (`assign` of `null`).
#[derive(Entity, Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Settings {
    #[strata(primary_key)]
    pub id: i32,
    pub data: serde_json::Value,
    pub extra: Option<serde_json::Value>,
}

pub(crate) const SETTINGS_DDL: Ddl = Ddl {
    postgres: r#"
    CREATE TABLE "settings" (
        "id" serial PRIMARY KEY,
        "data" jsonb NOT NULL,
        "extra" jsonb
    );"#,
    sqlite: r#"
    CREATE TABLE "settings" (
        "id" INTEGER PRIMARY KEY AUTOINCREMENT,
        "data" TEXT NOT NULL,
        "extra" TEXT
    );"#,
};
