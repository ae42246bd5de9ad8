//! [`SqliteTestDb`]: a SQLite database file of one test's own, deleted with it.

use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use strata_core::StrataConfig;

use crate::registry::process_alive;

/// The directory of the test database files: `strata-test-sqlite` in the system's temporary
/// directory.
fn directory() -> PathBuf {
    std::env::temp_dir().join("strata-test-sqlite")
}

/// A fresh SQLite database file for one test, deleted (with its `-wal` and `-shm` files) when
/// this value is dropped. Files left by a crashed run are deleted by the first test database
/// of a later process.
///
/// # Examples
///
/// ```
/// use strata_test::SqliteTestDb;
///
/// let db = SqliteTestDb::new();
/// assert!(db.url().starts_with("sqlite://"));
/// assert!(!db.path().exists(), "the driver creates the file when it connects");
/// ```
#[derive(Debug)]
pub struct SqliteTestDb {
    path: PathBuf,
}

impl SqliteTestDb {
    /// The pool size of [`SqliteTestDb::config`], the same as PostgreSQL's.
    pub const POOL_SIZE: usize = crate::TestDb::POOL_SIZE;

    /// A path for a new database file, `<temp>/strata-test-sqlite/<pid>_<n>_<random>.sqlite`.
    /// The file itself is created by the driver when it connects.
    ///
    /// # Panics
    ///
    /// If the directory cannot be created.
    pub fn new() -> SqliteTestDb {
        static CLEANED: AtomicBool = AtomicBool::new(false);
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let dir = directory();
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| {
            panic!("strata-test cannot create the directory {}: {e}", dir.display())
        });
        if !CLEANED.swap(true, Ordering::SeqCst) {
            remove_leftovers(&dir);
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let random = RandomState::new().hash_one((std::process::id(), n)) as u32;
        let path = dir.join(format!("{}_{n}_{random:08x}.sqlite", std::process::id()));
        SqliteTestDb { path }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `sqlite://` URL of the file.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }

    /// A configuration for this database with a pool of [`SqliteTestDb::POOL_SIZE`]
    /// connections.
    pub fn config(&self) -> StrataConfig {
        StrataConfig::from_url(self.url()).pool_size(Self::POOL_SIZE)
    }
}

impl Default for SqliteTestDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SqliteTestDb {
    fn drop(&mut self) {
        remove_files(&self.path);
    }
}

/// Deletes a database file with its `-wal`, `-shm` and `-journal` companions.
fn remove_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(file));
    }
}

/// Deletes the files of processes that are gone.
fn remove_leftovers(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.split('_').next()?.parse::<i64>().ok()) else {
            continue;
        };
        if !process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_unique_and_deleted_on_drop() {
        let (a, b) = (SqliteTestDb::new(), SqliteTestDb::new());
        assert_ne!(a.path(), b.path());
        std::fs::write(a.path(), b"x").unwrap();
        let mut wal = a.path().as_os_str().to_owned();
        wal.push("-wal");
        std::fs::write(&wal, b"x").unwrap();
        let path = a.path().to_path_buf();
        drop(a);
        assert!(!path.exists());
        assert!(!PathBuf::from(wal).exists());
    }
}
