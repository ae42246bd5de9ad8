//! Migration files: `<YYYYMMDDHHMMSS>_<name>.up.sql` and an optional `.down.sql` with the same
//! id.
//!
//! - [`check_id`]: the id rule, `<14 digits>_<name>` with a name of ASCII letters, digits, `_`
//!   and `-`; [`new_id`] makes an id that follows it from a timestamp and free text.
//! - [`scan_dir`]: the migrations of a directory, each id with its up file and optional down
//!   file. Files that do not end in `.sql` (a `README.md`, the schema snapshot
//!   `.snapshot.json`) and hidden files are ignored; a `.sql` file whose name breaks the rule,
//!   and a down file without its up file, are errors that name the file.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Why an id is malformed, or `Ok` for `<14 digits>_<name>` with a name of ASCII letters,
/// digits, `_` and `-`.
///
/// ```
/// use strata_conventions::migration::check_id;
/// assert!(check_id("20261124120000_create_post_entity").is_ok());
/// assert!(check_id("create_post_entity").is_err());
/// ```
pub fn check_id(id: &str) -> Result<(), String> {
    let (stamp, name) = id.split_once('_').ok_or_else(|| {
        "expected <YYYYMMDDHHMMSS>_<name>, for example 20261124120000_create_post_entity".to_owned()
    })?;
    if stamp.len() != 14 || !stamp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "the id must start with a 14-digit timestamp YYYYMMDDHHMMSS, found {stamp:?}"
        ));
    }
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(format!(
            "the name after the timestamp must be ASCII letters, digits, '_' or '-', found {name:?}"
        ));
    }
    Ok(())
}

/// A new id from a 14-digit timestamp (`YYYYMMDDHHMMSS`) and a name: the name is lower-cased,
/// every run of other characters than ASCII letters, digits and `-` becomes one `_`, and an
/// empty result is `migration`.
///
/// ```
/// use strata_conventions::migration::new_id;
/// assert_eq!(new_id("20261124120000", "Create Post entity!"), "20261124120000_create_post_entity");
/// ```
pub fn new_id(timestamp: &str, name: &str) -> String {
    let mut clean = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '-' {
            clean.push(c.to_ascii_lowercase());
        } else if !clean.ends_with('_') {
            clean.push('_');
        }
    }
    let clean = clean.trim_matches('_');
    let clean = if clean.is_empty() { "migration" } else { clean };
    format!("{timestamp}_{clean}")
}

/// The file names of migration `id`: `<id>.up.sql` and `<id>.down.sql`.
pub fn file_names(id: &str) -> (String, String) {
    (format!("{id}.up.sql"), format!("{id}.down.sql"))
}

/// The files of one migration found by [`scan_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationFiles {
    /// The `.up.sql` file.
    pub up: PathBuf,
    /// The `.down.sql` file, when there is one.
    pub down: Option<PathBuf>,
}

/// Why [`scan_dir`] could not list a directory's migrations.
#[derive(Debug)]
pub enum ScanError {
    /// The directory, or one of its entries, cannot be read.
    Unreadable {
        /// The directory.
        dir: PathBuf,
        /// What reading it said.
        error: io::Error,
    },
    /// A file breaks the naming rules; the message names the file.
    Malformed(String),
}

impl ScanError {
    /// True when the directory does not exist (a project without migrations yet).
    pub fn is_missing_directory(&self) -> bool {
        matches!(self, ScanError::Unreadable { error, .. } if error.kind() == io::ErrorKind::NotFound)
    }
}

impl fmt::Display for ScanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScanError::Unreadable { dir, error } => {
                write!(f, "cannot read the migrations directory {}: {error}", dir.display())
            }
            ScanError::Malformed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ScanError {}

/// Which half of a migration a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Half {
    Up,
    Down,
}

/// Splits `20261124120000_x.up.sql` into its id and half; `None` for a file that is no
/// migration (not `.sql`, or hidden), an error for a `.sql` file whose name breaks the rules.
fn classify(file_name: &str) -> Option<Result<(&str, Half), String>> {
    let stem = file_name.strip_suffix(".sql")?;
    if file_name.starts_with('.') {
        return None;
    }
    let parsed = if let Some(id) = stem.strip_suffix(".up") {
        check_id(id).map(|()| (id, Half::Up))
    } else if let Some(id) = stem.strip_suffix(".down") {
        check_id(id).map(|()| (id, Half::Down))
    } else {
        Err("a migration file ends in .up.sql or .down.sql".to_owned())
    };
    Some(parsed)
}

/// The migrations of `dir` by id, each with its up file and optional down file.
///
/// # Errors
///
/// [`ScanError::Unreadable`] when the directory cannot be read (see
/// [`ScanError::is_missing_directory`]); [`ScanError::Malformed`] naming the file for a `.sql`
/// file whose name breaks the rules, or a down file without its up file.
pub fn scan_dir(dir: &Path) -> Result<BTreeMap<String, MigrationFiles>, ScanError> {
    let unreadable = |error| ScanError::Unreadable { dir: dir.to_owned(), error };
    let mut halves: BTreeMap<String, (Option<PathBuf>, Option<PathBuf>)> = BTreeMap::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if !path.is_file() {
            continue;
        }
        let Some(parsed) = path.file_name().and_then(|n| n.to_str()).and_then(classify) else {
            continue;
        };
        let (id, half) = parsed.map_err(|why| {
            ScanError::Malformed(format!("malformed migration file name {}: {why}", path.display()))
        })?;
        let slot = halves.entry(id.to_owned()).or_default();
        match half {
            Half::Up => slot.0 = Some(path),
            Half::Down => slot.1 = Some(path),
        }
    }
    halves
        .into_iter()
        .map(|(id, (up, down))| match up {
            Some(up) => Ok((id, MigrationFiles { up, down })),
            None => Err(ScanError::Malformed(format!(
                "{} has no matching {id}.up.sql: every migration needs an up file",
                dir.join(file_names(&id).1).display()
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("strata-conventions-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
        dir
    }

    #[test]
    fn ids_must_have_a_timestamp_and_a_name() {
        assert!(check_id("20261124120000_create_post_entity").is_ok());
        assert!(check_id("20261124120000_").is_err());
        assert!(check_id("2026112412000_x").is_err());
        assert!(check_id("create_post").is_err());
        assert!(check_id("20261124120000_has space").is_err());
    }

    #[test]
    fn new_ids_clean_the_name() {
        assert_eq!(
            new_id("20261124120000", "Create Post entity!"),
            "20261124120000_create_post_entity"
        );
        assert_eq!(new_id("20261124120000", "  "), "20261124120000_migration");
    }

    #[test]
    fn scan_pairs_files_and_skips_others() {
        let dir = temp_dir("pairs");
        std::fs::write(dir.join("20260101000000_a.up.sql"), "A").unwrap();
        std::fs::write(dir.join("20260101000000_a.down.sql"), "-A").unwrap();
        std::fs::write(dir.join("20260102000000_b.up.sql"), "B").unwrap();
        std::fs::write(dir.join(".snapshot.json"), "{}").unwrap();
        std::fs::write(dir.join("README.md"), "notes").unwrap();
        let found = scan_dir(&dir).unwrap();
        assert_eq!(found.keys().collect::<Vec<_>>(), ["20260101000000_a", "20260102000000_b"]);
        assert_eq!(found["20260101000000_a"].down, Some(dir.join("20260101000000_a.down.sql")));
        assert_eq!(found["20260102000000_b"].down, None);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn scan_names_a_malformed_file_and_an_orphan_down_file() {
        let dir = temp_dir("bad");
        std::fs::write(dir.join("posts.up.sql"), "A").unwrap();
        let err = scan_dir(&dir).unwrap_err().to_string();
        assert!(err.contains("posts.up.sql") && err.contains("YYYYMMDDHHMMSS"), "{err}");
        std::fs::remove_file(dir.join("posts.up.sql")).unwrap();
        std::fs::write(dir.join("20260101000000_a.down.sql"), "x").unwrap();
        let err = scan_dir(&dir).unwrap_err().to_string();
        assert!(err.contains("20260101000000_a.down.sql has no matching"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_told_apart() {
        let err = scan_dir(Path::new("/nonexistent/strata-conventions")).unwrap_err();
        assert!(err.is_missing_directory(), "{err}");
        assert!(err.to_string().starts_with("cannot read the migrations directory"), "{err}");
    }
}
