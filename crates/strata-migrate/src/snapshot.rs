//! The committed snapshot `migrations/.snapshot.json`: the schema the migrations in that
//! directory produce, written by `migration:create` after each migration.
//!
//! Diffing the entities against the snapshot (instead of a live database) lets several
//! migrations be created before any is applied, and a migration be created with no database at
//! all. The file is pretty-printed JSON of a [`Schema`] in canonical order, so a change to it
//! reads well in review; declared renames are not part of it.

use crate::schema::Schema;
use std::path::{Path, PathBuf};
use strata_core::{Error, Result};

/// The snapshot's file name inside the migrations directory.
pub const FILE_NAME: &str = ".snapshot.json";

/// The snapshot's path inside the migrations directory `dir`.
pub fn path(dir: &Path) -> PathBuf {
    dir.join(FILE_NAME)
}

/// Reads `dir/.snapshot.json`; `None` when the file does not exist.
///
/// # Errors
///
/// An error of kind `Config` when the file cannot be read or is not a snapshot; the message
/// names the file.
pub fn load(dir: &Path) -> Result<Option<Schema>> {
    let file = path(dir);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Error::config(format!(
                "cannot read the schema snapshot {}: {e}",
                file.display()
            ))
            .with_source(e));
        }
    };
    let mut schema: Schema = serde_json::from_str(&text).map_err(|e| {
        Error::config(format!(
            "the schema snapshot {} is not valid ({e}); restore it from version control, or \
             delete it to compare with the database instead",
            file.display()
        ))
        .with_source(e)
    })?;
    schema.normalize();
    Ok(Some(schema))
}

/// Writes `schema` to `dir/.snapshot.json`, creating `dir` if needed.
///
/// # Errors
///
/// An error of kind `Config` when the directory or the file cannot be written.
pub fn save(dir: &Path, schema: &Schema) -> Result<()> {
    let file = path(dir);
    let fail = |e: std::io::Error| {
        Error::config(format!("cannot write the schema snapshot {}: {e}", file.display()))
            .with_source(e)
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut canonical = schema.canonical(schema.default_namespace.as_deref());
    for t in &mut canonical.tables {
        t.renamed_from = None;
        t.columns.iter_mut().for_each(|c| c.renamed_from = None);
    }
    let mut text = serde_json::to_string_pretty(&canonical)
        .map_err(|e| Error::config(format!("cannot encode the schema snapshot: {e}")))?;
    text.push('\n');
    std::fs::write(&file, text).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Check, Column, PrimaryKey, SqlType, Table};

    #[test]
    fn a_saved_snapshot_loads_back_equal() {
        let dir = std::env::temp_dir().join(format!("strata-snapshot-{}", std::process::id()));
        let mut post = Table::new(Some("blog".into()), "post");
        let mut id = Column::new("id", SqlType::Integer);
        id.identity = true;
        let mut title = Column::new("title", SqlType::Varchar(100));
        title.default = Some("'untitled'".into());
        post.columns = vec![id, title, Column::new("status", SqlType::Text)];
        post.primary_key =
            Some(PrimaryKey { name: "post_pkey".into(), columns: vec!["id".into()] });
        post.checks.push(Check {
            name: "post_status_check".into(),
            column: "status".into(),
            values: vec!["draft".into(), "published".into()],
        });
        let schema =
            Schema { namespaces: vec!["blog".into()], tables: vec![post], ..Schema::default() };

        assert!(load(&dir).unwrap().is_none());
        save(&dir, &schema).unwrap();
        let text = std::fs::read_to_string(path(&dir)).unwrap();
        assert!(text.contains("\"type\": \"varchar(100)\""), "{text}");
        let loaded = load(&dir).unwrap().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(loaded, schema);
        assert_eq!(loaded.tables, schema.tables);
    }

    #[test]
    fn a_broken_snapshot_is_an_error_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("strata-snapshot-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(path(&dir), "{ not json").unwrap();
        let err = load(&dir).unwrap_err();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.message().contains(".snapshot.json"), "{err}");
    }
}
