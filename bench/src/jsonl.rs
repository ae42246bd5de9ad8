//! The `--json` file: one JSON line per result, each written (and flushed) as soon as it is
//! measured, so that a run that fails or is interrupted half-way keeps what it measured.

use anyhow::{Context, Result};
use serde::Serialize;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Where results go as they are measured: a file, or nowhere (no `--json`).
pub(crate) struct JsonLines {
    file: Option<(PathBuf, File)>,
    lines: usize,
}

impl JsonLines {
    /// Starts the file at `path` (emptied), or a sink that keeps nothing.
    pub(crate) fn create(path: Option<&Path>) -> Result<Self> {
        let file = match path {
            Some(path) => {
                let file = File::create(path)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                Some((path.to_owned(), file))
            }
            None => None,
        };
        Ok(Self { file, lines: 0 })
    }

    /// Appends one result.
    pub(crate) fn write(&mut self, result: &impl Serialize) -> Result<()> {
        let Some((path, file)) = &mut self.file else { return Ok(()) };
        let mut line = serde_json::to_string(result)?;
        line.push('\n');
        file.write_all(line.as_bytes())
            .and_then(|()| file.flush())
            .with_context(|| format!("cannot write {}", path.display()))?;
        self.lines += 1;
        Ok(())
    }

    /// Says where the lines went, if anywhere.
    pub(crate) fn report(&self) {
        if let Some((path, _)) = &self.file {
            eprintln!("wrote {} result lines to {}", self.lines, path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_lines_file_holds_each_result_as_soon_as_it_is_measured() {
        let path = std::env::temp_dir().join(format!("strata-bench-{}.jsonl", std::process::id()));
        std::fs::write(&path, "an earlier run\n").unwrap();
        let mut lines = JsonLines::create(Some(&path)).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "", "a new run starts the file");
        lines.write(&serde_json::json!({"scenario": "insert", "impl": "raw"})).unwrap();
        // Still open, as after a later scenario failed: the first result is on disk already.
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "{\"impl\":\"raw\",\"scenario\":\"insert\"}\n");
        lines.write(&serde_json::json!({"scenario": "update"})).unwrap();
        drop(lines);
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn without_a_path_nothing_is_written() {
        let mut lines = JsonLines::create(None).unwrap();
        lines.write(&serde_json::json!({})).unwrap();
        assert_eq!(lines.lines, 0);
    }
}
