//! DDL: a [`Diff`] as SQL statements, up and down, for one backend.
//!
//! The migration files (`files`) write what [`render`] returns; `schema:create` and
//! `schema:update` run it. Each backend has its renderer in its own module (`ddl/postgres.rs`,
//! `ddl/sqlite.rs`), chosen by one `match` on [`DbKind`]. SQLite's renderer rebuilds a table
//! for most changes, so it reads the unchanged rest of the table from [`Diff::from`] /
//! [`Diff::to`].

mod postgres;
pub(crate) mod sqlite;

use crate::diff::{Change, Diff};
use crate::schema::Schema;
use strata_core::{DbKind, Result};

/// The SQL of a migration: statements without a trailing `;`, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MigrationSql {
    /// The statements that apply the diff.
    pub up: Vec<String>,
    /// The statements that undo it: the inverse of every change, in reverse order.
    pub down: Vec<String>,
}

impl MigrationSql {
    /// True when there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.up.is_empty() && self.down.is_empty()
    }
}

/// Renders `diff` for `backend`: the up statements, and the down statements of
/// [`Diff::reverse`].
///
/// # Errors
///
/// An error of kind `Usage` for what the backend cannot do: on SQLite, a table in a
/// non-default schema, an identity column that is not the only primary key column, or a
/// rebuild of a table that other tables reference with an `on delete` action.
///
/// # Examples
///
/// ```
/// use strata_core::DbKind;
/// use strata_migrate::ddl::render;
/// use strata_migrate::diff::diff;
/// use strata_migrate::schema::{Column, PrimaryKey, Schema, SqlType, Table};
///
/// let mut post = Table::new(None, "post_entity");
/// let mut id = Column::new("id", SqlType::Integer);
/// id.identity = true;
/// post.columns.push(id);
/// post.columns.push(Column::new("title", SqlType::Varchar(255)));
/// post.primary_key =
///     Some(PrimaryKey { name: "post_entity_pkey".into(), columns: vec!["id".into()] });
/// let target = Schema { tables: vec![post], ..Schema::default() };
///
/// let sql = render(&diff(&Schema::default(), &target), DbKind::Postgres)?;
/// assert_eq!(
///     sql.up,
///     [r#"create table "post_entity" ("id" serial primary key, "title" varchar(255) not null)"#]
/// );
/// assert_eq!(sql.down, [r#"drop table "post_entity""#]);
/// # Ok::<(), strata_core::Error>(())
/// ```
pub fn render(diff: &Diff, backend: DbKind) -> Result<MigrationSql> {
    match backend {
        DbKind::Postgres => Ok(MigrationSql {
            up: render_changes(&diff.changes, backend)?,
            down: render_changes(&diff.reverse().changes, backend)?,
        }),
        DbKind::Sqlite => Ok(MigrationSql {
            up: sqlite::render(&diff.from, &diff.changes)?,
            down: sqlite::render(&diff.to, &diff.reverse().changes)?,
        }),
    }
}

/// Renders changes in the given order, one or more statements each.
///
/// On SQLite, a change that needs a table rebuild also needs the table's whole definition,
/// which the changes alone do not carry unless they create the table: prefer [`render`], which
/// has the diff's schemas.
///
/// # Errors
///
/// As [`render`]; on SQLite also an error of kind `Usage` for a change that needs a rebuild
/// of a table the changes do not create.
pub fn render_changes(changes: &[Change], backend: DbKind) -> Result<Vec<String>> {
    match backend {
        DbKind::Postgres => Ok(changes.iter().flat_map(postgres::render).collect()),
        DbKind::Sqlite => sqlite::render(&Schema::default(), changes),
    }
}
