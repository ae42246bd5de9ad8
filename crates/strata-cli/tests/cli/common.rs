//! The test entities, a temporary migrations directory, and running one command in-process.

pub(crate) use std::path::Path;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
pub(crate) use strata::{Entity, StrataConfig};
use strata_cli::{ConnectionSettings, Console, run};
pub(crate) use strata_cli::{DbKind, Project};
pub(crate) use strata_test::{SqliteTestDb, TestDb};

#[derive(Entity, Debug, Clone)]
pub(crate) struct PostEntity {
    #[strata(primary_key)]
    id: i32,
    title: String,
    content: String,
}

/// The post with a new column: the entity after a change.
#[derive(Entity, Debug, Clone)]
#[strata(table = "post_entity")]
pub(crate) struct PostWithTags {
    #[strata(primary_key)]
    id: i32,
    title: String,
    content: String,
    tags: Option<String>,
}

/// A user, the target of the post's author.
#[derive(Entity, Debug, Clone)]
#[strata(table = "user")]
pub(crate) struct User {
    #[strata(primary_key)]
    id: i32,
}

/// The post of the next article: an author.
#[derive(Entity, Debug, Clone)]
#[strata(table = "post_entity")]
pub(crate) struct PostWithAuthor {
    #[strata(primary_key)]
    id: i32,
    title: String,
    content: String,
    #[strata(many_to_one)]
    author: strata::Reference<User>,
}

/// A migrations directory of one test, removed afterwards.
pub(crate) struct Dir(PathBuf);

impl Dir {
    pub(crate) fn new() -> Dir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "strata-cli-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Dir(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    /// The files of the directory, sorted (the snapshot included).
    pub(crate) fn files(&self) -> Vec<String> {
        let mut out: Vec<String> = std::fs::read_dir(&self.0)
            .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        out.sort();
        out
    }

    pub(crate) fn read(&self, suffix: &str) -> String {
        let name = self.files().into_iter().find(|f| f.ends_with(suffix)).unwrap();
        std::fs::read_to_string(self.0.join(name)).unwrap()
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The output of one command.
#[derive(Debug)]
pub(crate) struct Ran {
    pub(crate) code: u8,
    pub(crate) out: String,
    pub(crate) err: String,
}

pub(crate) async fn cli(project: &Project, config: &StrataConfig, args: &[&str]) -> Ran {
    let console = Console::memory();
    let argv = std::iter::once("posts-api").chain(args.iter().copied());
    let code = run(project, config, argv, &console).await;
    Ran { code, out: console.stdout(), err: console.stderr() }
}

/// The posts service's project: one migrations directory, and its configuration's connection
/// variables (the article's `POSTGRES_*` besides `DATABASE_URL`).
pub(crate) fn posts(dir: &Dir) -> Project {
    Project::new(&[PostEntity::meta()]).migrations_dir(dir.path()).connection_settings(
        ConnectionSettings {
            server: "DATABASE_URL, or POSTGRES_HOST and POSTGRES_PORT".into(),
            login: "DATABASE_URL, or POSTGRES_USER and POSTGRES_PASSWORD".into(),
        },
    )
}

/// A project that ships migrations for PostgreSQL and SQLite, in `dir/postgres` and
/// `dir/sqlite`.
pub(crate) fn both(dir: &Dir, entities: &[&'static strata::metadata::EntityMeta]) -> Project {
    Project::new(entities)
        .migrations_for(DbKind::Postgres, dir.path().join("postgres"), &[])
        .migrations_for(DbKind::Sqlite, dir.path().join("sqlite"), &[])
}

/// The sorted file names of `dir`.
pub(crate) fn files_of(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// The text of the one file of `dir` whose name ends in `suffix`.
pub(crate) fn read_in(dir: &Path, suffix: &str) -> String {
    let found: Vec<String> = files_of(dir).into_iter().filter(|f| f.ends_with(suffix)).collect();
    assert_eq!(found.len(), 1, "one *{suffix} in {}: {found:?}", dir.display());
    std::fs::read_to_string(dir.join(&found[0])).unwrap()
}

/// The columns of `table` as `name type nullability`, in order.
pub(crate) async fn columns(db: &TestDb, table: &str) -> Vec<String> {
    let client = db.client().await;
    let rows = client
        .query(
            "SELECT column_name::text, data_type::text, is_nullable::text, \
             coalesce(column_default, '') FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            &[&table],
        )
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            let (name, ty, nullable, default): (String, String, String, String) =
                (r.get(0), r.get(1), r.get(2), r.get(3));
            format!("{name} {ty} {nullable} {default}").trim_end().to_owned()
        })
        .collect()
}

/// `url` (of the test server) with its user replaced by `user` and no password.
pub(crate) fn with_user(url: &str, user: &str) -> String {
    let start = url.find("://").unwrap() + 3;
    let at = start + url[start..].find('@').unwrap();
    format!("{}{user}{}", &url[..start], &url[at..])
}
