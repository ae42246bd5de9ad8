//! [`Project`]: what the commands need to know about the application — its entities, its
//! migrations (one set per database it ships migrations for), and what its configuration calls
//! the connection settings.

use crate::connect::ConnectionSettings;
use std::path::{Path, PathBuf};
use strata::metadata::EntityMeta;
use strata::{DbKind, Error, Result};
use strata_migrate::{EmbeddedMigration, MigrationSource};

/// The migrations of one database: where their files are written and read, and the copy
/// compiled into the binary.
#[derive(Debug, Clone)]
pub struct MigrationSet {
    backend: Option<DbKind>,
    dir: PathBuf,
    embedded: Option<&'static [EmbeddedMigration]>,
}

impl MigrationSet {
    /// The database these migrations are written for; `None` for the one set of an
    /// application that has a single set ([`Project::migrations_dir`]), used whatever the
    /// database.
    pub fn backend(&self) -> Option<DbKind> {
        self.backend
    }

    /// The directory of the files (and of the `.snapshot.json`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The migrations compiled into the binary, if any.
    pub fn embedded(&self) -> Option<&'static [EmbeddedMigration]> {
        self.embedded
    }

    /// Where the migrator reads these migrations: the directory when it exists (so files just
    /// created are seen without a rebuild); else the embedded migrations; else the directory
    /// (which holds none).
    pub fn source(&self) -> MigrationSource {
        match self.embedded {
            Some(list) if !self.dir.is_dir() => MigrationSource::Embedded(list),
            _ => MigrationSource::directory(&self.dir),
        }
    }
}

/// What the commands need to know about the application.
///
/// An application that runs on one kind of database gives one migrations directory:
///
/// ```
/// # let entities = [];
/// let project = strata_cli::Project::new(&entities).migrations_dir("migrations");
/// ```
///
/// One that ships migrations for several databases declares a set per database, and
/// `migration:create` writes each new migration into every set, with the same id:
///
/// ```
/// # let entities = [];
/// # static POSTGRES: &[strata_migrate::EmbeddedMigration] = &[];
/// # static SQLITE: &[strata_migrate::EmbeddedMigration] = &[];
/// use strata_cli::{DbKind, Project};
///
/// let project = Project::new(&entities)
///     .migrations_for(DbKind::Postgres, "migrations/postgres", POSTGRES)
///     .migrations_for(DbKind::Sqlite, "migrations/sqlite", SQLITE);
/// ```
#[derive(Debug, Clone)]
pub struct Project {
    entities: Vec<&'static EntityMeta>,
    sets: Vec<MigrationSet>,
    settings: ConnectionSettings,
}

impl Project {
    /// A project with these entities and one migrations directory, `migrations` (relative to
    /// the working directory; set an absolute one with [`Project::migrations_dir`]).
    pub fn new(entities: &[&'static EntityMeta]) -> Self {
        let any = MigrationSet { backend: None, dir: "migrations".into(), embedded: None };
        Self {
            entities: entities.to_vec(),
            sets: vec![any],
            settings: ConnectionSettings::default(),
        }
    }

    /// What the application's configuration calls its connection settings, named in the
    /// advice after a connection error (default: `DATABASE_URL`, which [`crate::main`] reads).
    #[must_use]
    pub fn connection_settings(mut self, settings: ConnectionSettings) -> Self {
        self.settings = settings;
        self
    }

    /// The connection settings named in connection errors.
    pub fn settings(&self) -> &ConnectionSettings {
        &self.settings
    }

    /// Where migration files are written and read, for whatever database is configured,
    /// usually `concat!(env!("CARGO_MANIFEST_DIR"), "/migrations")`. Replaces the sets of
    /// [`Project::migrations_for`].
    #[must_use]
    pub fn migrations_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        let embedded = self.sets.iter().find(|s| s.backend.is_none()).and_then(|s| s.embedded);
        self.sets = vec![MigrationSet { backend: None, dir: dir.into(), embedded }];
        self
    }

    /// The migrations embedded in the binary (`strata_migrate::embed_migrations!`) for the
    /// directory of [`Project::migrations_dir`], used when that directory does not exist, as on
    /// a server that has only the binary.
    #[must_use]
    pub fn embedded_migrations(mut self, migrations: &'static [EmbeddedMigration]) -> Self {
        match self.sets.iter_mut().find(|s| s.backend.is_none()) {
            Some(any) => any.embedded = Some(migrations),
            None => self.sets.push(MigrationSet {
                backend: None,
                dir: "migrations".into(),
                embedded: Some(migrations),
            }),
        }
        self
    }

    /// The migrations for one database: their directory and the copy embedded in the binary.
    /// Declare one set per database the application supports; the commands use the set of the
    /// configured database, and `migration:create` writes every set. The first call replaces
    /// the single directory of [`Project::new`].
    #[must_use]
    pub fn migrations_for(
        mut self,
        backend: DbKind,
        dir: impl Into<PathBuf>,
        embedded: &'static [EmbeddedMigration],
    ) -> Self {
        self.sets.retain(|s| s.backend.is_some() && s.backend != Some(backend));
        self.sets.push(MigrationSet {
            backend: Some(backend),
            dir: dir.into(),
            embedded: Some(embedded),
        });
        self
    }

    /// The entities.
    pub fn entities(&self) -> &[&'static EntityMeta] {
        &self.entities
    }

    /// Every migration set, in the order they were declared.
    pub fn sets(&self) -> &[MigrationSet] {
        &self.sets
    }

    /// The migration set for a database of `backend`.
    ///
    /// # Errors
    ///
    /// A usage error naming the databases the application has migrations for, when it has
    /// none for `backend`.
    pub fn set_for(&self, backend: DbKind) -> Result<&MigrationSet> {
        if let Some(set) = self.sets.iter().find(|s| s.backend == Some(backend)) {
            return Ok(set);
        }
        if let Some(any) = self.sets.iter().find(|s| s.backend.is_none()) {
            return Ok(any);
        }
        let shipped: Vec<String> = self
            .sets
            .iter()
            .filter_map(|s| s.backend.map(|b| format!("{} ({})", b.title(), s.dir.display())))
            .collect();
        Err(Error::usage(format!(
            "the application has no migrations for {}, only for {}: configure one of those \
             databases",
            backend.title(),
            shipped.join(", ")
        )))
    }

    /// Where the migrator reads the migrations of a database of `backend`: `path` when
    /// given, else as [`MigrationSet::source`] says.
    ///
    /// # Errors
    ///
    /// As [`Project::set_for`].
    pub fn source_for(&self, backend: DbKind, path: Option<&Path>) -> Result<MigrationSource> {
        match path {
            Some(p) => Ok(MigrationSource::directory(p)),
            None => Ok(self.set_for(backend)?.source()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static NONE: &[EmbeddedMigration] = &[];

    #[test]
    fn one_directory_serves_every_database() {
        let p = Project::new(&[]).migrations_dir("m");
        assert_eq!(p.set_for(DbKind::Postgres).unwrap().dir(), Path::new("m"));
        assert_eq!(p.set_for(DbKind::Sqlite).unwrap().dir(), Path::new("m"));
        assert_eq!(p.sets().len(), 1);
    }

    #[test]
    fn per_database_sets_replace_the_single_directory_and_are_chosen_by_database() {
        let p = Project::new(&[])
            .migrations_for(DbKind::Postgres, "m/postgres", NONE)
            .migrations_for(DbKind::Sqlite, "m/sqlite", NONE);
        assert_eq!(p.sets().len(), 2);
        assert_eq!(p.set_for(DbKind::Sqlite).unwrap().dir(), Path::new("m/sqlite"));
        assert_eq!(p.set_for(DbKind::Postgres).unwrap().backend(), Some(DbKind::Postgres));
        let only_pg = Project::new(&[]).migrations_for(DbKind::Postgres, "m/postgres", NONE);
        let err = only_pg.set_for(DbKind::Sqlite).unwrap_err();
        assert!(err.message().contains("no migrations for SQLite, only for PostgreSQL"), "{err}");
    }
}
