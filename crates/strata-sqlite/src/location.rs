//! Where the database is: a `sqlite:` URL to a file path or an in-memory database.
//!
//! | URL | database |
//! | --- | --- |
//! | `sqlite://./data/posts.sqlite`, `sqlite://data/posts.sqlite`, `sqlite:data/posts.sqlite` | the file `data/posts.sqlite`, relative to the working directory |
//! | `sqlite:///var/lib/app/posts.sqlite` | an absolute path |
//! | `sqlite::memory:`, `sqlite://:memory:` | a private in-memory database, gone when the driver is dropped |
//!
//! `%XX` escapes in the path are decoded. The query may say `mode=rwc` (the default: read,
//! write, create the file and its directory), `mode=rw` (the file must exist) or `mode=ro`
//! (read only).

use std::path::PathBuf;
use strata_core::{Error, Result};

/// How a file is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Read, write, and create the file (and its directory) when missing.
    Create,
    /// Read and write an existing file.
    Existing,
    /// Read only.
    ReadOnly,
}

/// A parsed `sqlite:` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A database in memory, private to one driver.
    Memory,
    /// A database file.
    File { path: PathBuf, mode: Mode },
}

impl Location {
    /// Parses a `sqlite:` URL.
    pub(crate) fn parse(url: &str) -> Result<Location> {
        let usage = "use sqlite://path/to/file.sqlite, sqlite:///absolute/path.sqlite or \
                     sqlite::memory:";
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Err(Error::config(format!("{url:?} is not a SQLite URL; {usage}")));
        };
        let rest = rest.strip_prefix("//").unwrap_or(rest);
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut mode = Mode::Create;
        for pair in query.into_iter().flat_map(|q| q.split('&')).filter(|p| !p.is_empty()) {
            mode = match pair {
                "mode=rwc" => Mode::Create,
                "mode=rw" => Mode::Existing,
                "mode=ro" => Mode::ReadOnly,
                other => {
                    return Err(Error::config(format!(
                        "unsupported option {other:?} in the SQLite URL {url}; the only \
                         option is mode=rwc, mode=rw or mode=ro"
                    )));
                }
            };
        }
        if path.is_empty() || path == ":memory:" {
            return Ok(Location::Memory);
        }
        let path = percent_decode(path)
            .ok_or_else(|| Error::config(format!("invalid %-escape in the SQLite URL {url}")))?;
        Ok(Location::File { path: PathBuf::from(path), mode })
    }

    /// The location for messages: the path, or `:memory:`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Location::Memory => ":memory:".to_owned(),
            Location::File { path, .. } => path.display().to_string(),
        }
    }
}

/// Decodes `%XX` escapes; `None` for a malformed escape or invalid UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, mode: Mode) -> Location {
        Location::File { path: PathBuf::from(path), mode }
    }

    #[test]
    fn urls_name_files_or_memory() {
        let cases = [
            ("sqlite://./data/posts.sqlite", file("./data/posts.sqlite", Mode::Create)),
            ("sqlite://data/posts.sqlite", file("data/posts.sqlite", Mode::Create)),
            ("sqlite:data/posts.sqlite", file("data/posts.sqlite", Mode::Create)),
            ("sqlite:///var/lib/a.db", file("/var/lib/a.db", Mode::Create)),
            ("sqlite://my%20data/a.db?mode=ro", file("my data/a.db", Mode::ReadOnly)),
            ("sqlite://a.db?mode=rw", file("a.db", Mode::Existing)),
            ("sqlite::memory:", Location::Memory),
            ("sqlite://:memory:", Location::Memory),
            ("sqlite:", Location::Memory),
        ];
        for (url, expected) in cases {
            assert_eq!(Location::parse(url).unwrap(), expected, "{url}");
        }
    }

    #[test]
    fn bad_urls_are_config_errors_that_show_the_form() {
        for url in ["postgres://h/db", "sqlite://a.db?cache=shared", "sqlite://a%zz.db"] {
            let err = Location::parse(url).unwrap_err();
            assert_eq!(err.kind(), &strata_core::ErrorKind::Config, "{url}");
        }
        let err = Location::parse("postgres://h/db").unwrap_err();
        assert!(err.message().contains("sqlite://"), "{err}");
    }
}
