//! Migration files: `migrations/<YYYYMMDDHHMMSS>_<name>.up.sql` and `.down.sql`.
//!
//! A [`Migration`] is one pair of files: its id is the shared stem
//! (`20261124120000_create_post_entity`), its up SQL is required, its down SQL optional, and its
//! checksum is the SHA-256 of the up SQL (what the migrator records, to notice an applied file
//! that was edited afterwards).
//!
//! Migrations come from a [`MigrationSource`]: a directory read at run time, or a slice embedded
//! in the binary at compile time by `strata_migrate::embed_migrations!("migrations")`, so that a
//! deployed binary migrates without its source tree. Files that do not end in `.sql` (such as the
//! schema snapshot `.snapshot.json` or a `README.md`) are ignored; a `.sql` file whose name does
//! not follow the pattern is an error that names the file. The id rule and how files pair up are
//! `strata_conventions::migration`'s, which `embed_migrations!` applies at compile time too.
//!
//! [`write_migration`] creates a new pair of files, as `migration:create` does.

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use strata_conventions::migration;
use strata_core::{Error, Result};

/// One migration embedded in the binary, as `embed_migrations!` emits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddedMigration {
    /// The id: the file stem without `.up.sql`, `20261124120000_create_post_entity`.
    pub id: &'static str,
    /// The up SQL.
    pub up: &'static str,
    /// The down SQL, when a `.down.sql` file exists.
    pub down: Option<&'static str>,
}

/// Where the migrator finds its migrations.
#[derive(Debug, Clone)]
pub enum MigrationSource {
    /// `*.up.sql` / `*.down.sql` files in a directory, read when the migrator needs them. A
    /// directory that does not exist holds no migrations.
    Directory(PathBuf),
    /// Migrations compiled into the binary by `embed_migrations!`.
    Embedded(&'static [EmbeddedMigration]),
}

impl MigrationSource {
    /// A directory source.
    pub fn directory(path: impl Into<PathBuf>) -> Self {
        Self::Directory(path.into())
    }

    /// Reads every migration, sorted by id.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](strata_core::ErrorKind::Config) naming the file for a malformed
    /// name, a down file without an up file, or a file that cannot be read.
    pub fn load(&self) -> Result<Vec<Migration>> {
        match self {
            Self::Directory(dir) => load_directory(dir),
            Self::Embedded(list) => {
                let mut out: Vec<Migration> = Vec::with_capacity(list.len());
                for m in *list {
                    check_id(m.id).map_err(|why| {
                        Error::config(format!("embedded migration {:?}: {why}", m.id))
                    })?;
                    out.push(Migration::new(m.id, m.up, m.down));
                }
                out.sort_by(|a, b| a.id.cmp(&b.id));
                if let Some(w) = out.windows(2).find(|w| w[0].id == w[1].id) {
                    return Err(Error::config(format!(
                        "the embedded migration {} appears twice",
                        w[0].id
                    )));
                }
                Ok(out)
            }
        }
    }

    /// A short description for messages: the directory, or `embedded (N migrations)`.
    pub fn describe(&self) -> String {
        match self {
            Self::Directory(dir) => dir.display().to_string(),
            Self::Embedded(list) => format!("embedded ({} migrations)", list.len()),
        }
    }
}

/// One migration: an id, its up SQL, its optional down SQL, and the checksum of the up SQL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The id, `20261124120000_create_post_entity`; migrations apply in id order.
    pub id: String,
    /// The SQL that applies it.
    pub up: String,
    /// The SQL that reverts it, if any.
    pub down: Option<String>,
    /// The SHA-256 of `up`, 64 lowercase hex digits.
    pub checksum: String,
}

impl Migration {
    /// A migration from its parts; computes the checksum.
    pub fn new(
        id: impl Into<String>,
        up: impl Into<String>,
        down: Option<impl Into<String>>,
    ) -> Self {
        let up = up.into();
        let checksum = checksum(&up);
        Self { id: id.into(), up, down: down.map(Into::into), checksum }
    }

    /// The timestamp part of the id (`20261124120000`).
    pub fn version(&self) -> &str {
        self.id.split('_').next().unwrap_or(&self.id)
    }
}

/// The SHA-256 of `sql` as 64 lowercase hex digits.
pub fn checksum(sql: &str) -> String {
    let digest = Sha256::digest(sql.as_bytes());
    let mut out = String::with_capacity(64);
    for b in &digest {
        let _ = write!(out, "{b:02x}");
    }
    out
}

pub use strata_conventions::migration::check_id;

fn load_directory(dir: &Path) -> Result<Vec<Migration>> {
    let found = match migration::scan_dir(dir) {
        Ok(found) => found,
        Err(e) if e.is_missing_directory() => return Ok(Vec::new()),
        Err(e) => return Err(Error::config(e.to_string())),
    };
    let read = |path: &Path| {
        std::fs::read_to_string(path)
            .map_err(|e| Error::config(format!("cannot read {}: {e}", path.display())))
    };
    found
        .into_iter()
        .map(|(id, files)| {
            let down = files.down.as_deref().map(read).transpose()?;
            Ok(Migration::new(id, read(&files.up)?, down))
        })
        .collect()
}

/// The paths of a migration's two files in `dir`.
pub fn file_paths(dir: &Path, id: &str) -> (PathBuf, PathBuf) {
    let (up, down) = migration::file_names(id);
    (dir.join(up), dir.join(down))
}

/// A new migration id from a UTC time and a name: `20261124120000_create_post_entity`. The name
/// is lower-cased and every run of other characters than ASCII letters and digits becomes `_`.
pub fn new_id(at: chrono::DateTime<chrono::Utc>, name: &str) -> String {
    migration::new_id(&at.format("%Y%m%d%H%M%S").to_string(), name)
}

/// Writes `<id>.up.sql` and `<id>.down.sql` into `dir` (created if needed) and returns their
/// paths. An existing file is never overwritten.
///
/// # Errors
///
/// [`ErrorKind::Config`](strata_core::ErrorKind::Config) when the directory cannot be created
/// or a file already exists or cannot be written.
pub fn write_migration(dir: &Path, id: &str, up: &str, down: &str) -> Result<(PathBuf, PathBuf)> {
    check_id(id).map_err(|why| Error::config(format!("invalid migration id {id:?}: {why}")))?;
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::config(format!("cannot create {}: {e}", dir.display())))?;
    let (up_path, down_path) = file_paths(dir, id);
    for (path, sql) in [(&up_path, up), (&down_path, down)] {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::config(format!("cannot create {}: {e}", path.display())))?;
        std::io::Write::write_all(&mut file, sql.as_bytes())
            .map_err(|e| Error::config(format!("cannot write {}: {e}", path.display())))?;
    }
    Ok((up_path, down_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("strata-migrate-files-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
        dir
    }

    #[test]
    fn checksum_is_sha256_hex() {
        assert_eq!(
            checksum("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn directory_pairs_up_and_down_files_and_ignores_other_files() {
        let dir = temp_dir("pairs");
        std::fs::write(dir.join("20260102000000_b.up.sql"), "B").unwrap();
        std::fs::write(dir.join("20260101000000_a.up.sql"), "A").unwrap();
        std::fs::write(dir.join("20260101000000_a.down.sql"), "-A").unwrap();
        std::fs::write(dir.join(".snapshot.json"), "{}").unwrap();
        std::fs::write(dir.join("README.md"), "notes").unwrap();
        let list = MigrationSource::directory(&dir).load().unwrap();
        let ids: Vec<_> = list.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["20260101000000_a", "20260102000000_b"]);
        assert_eq!(list[0].down.as_deref(), Some("-A"));
        assert_eq!(list[1].down, None);
        assert_eq!(list[0].checksum, checksum("A"));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn malformed_names_are_reported_with_the_path() {
        let dir = temp_dir("malformed");
        std::fs::write(dir.join("create_posts.up.sql"), "x").unwrap();
        let err = MigrationSource::directory(&dir).load().unwrap_err();
        assert!(err.message().contains("create_posts.up.sql"), "{err}");
        assert!(err.message().contains("YYYYMMDDHHMMSS"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_down_file_without_an_up_file_is_an_error() {
        let dir = temp_dir("orphan");
        std::fs::write(dir.join("20260101000000_a.down.sql"), "x").unwrap();
        let err = MigrationSource::directory(&dir).load().unwrap_err();
        assert!(err.message().contains("20260101000000_a.down.sql"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_directory_holds_no_migrations() {
        let dir = std::env::temp_dir().join("strata-migrate-files-does-not-exist");
        assert!(MigrationSource::directory(dir).load().unwrap().is_empty());
    }

    #[test]
    fn new_ids_clean_the_name() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z").unwrap().to_utc();
        assert_eq!(new_id(at, "Create Post entity!"), "20261124120000_create_post_entity");
        assert_eq!(new_id(at, "  "), "20261124120000_migration");
    }

    #[test]
    fn write_migration_never_overwrites() {
        let dir = temp_dir("write");
        let (up, down) = write_migration(&dir, "20260101000000_a", "U", "D").unwrap();
        assert_eq!(std::fs::read_to_string(up).unwrap(), "U");
        assert_eq!(std::fs::read_to_string(down).unwrap(), "D");
        assert!(write_migration(&dir, "20260101000000_a", "U2", "D2").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn embedded_migrations_are_sorted_and_checked() {
        static LIST: &[EmbeddedMigration] = &[
            EmbeddedMigration { id: "20260102000000_b", up: "B", down: None },
            EmbeddedMigration { id: "20260101000000_a", up: "A", down: Some("-A") },
        ];
        let list = MigrationSource::Embedded(LIST).load().unwrap();
        assert_eq!(list[0].id, "20260101000000_a");
        static BAD: &[EmbeddedMigration] = &[EmbeddedMigration { id: "x", up: "", down: None }];
        assert!(MigrationSource::Embedded(BAD).load().is_err());
    }
}
