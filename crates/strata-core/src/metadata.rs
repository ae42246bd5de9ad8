//! Entity metadata: tables, columns, types, keys and indexes, known at runtime.
//!
//! `#[derive(Entity)]` emits one `static` [`EntityMeta`] per entity. The EntityManager uses it to
//! build SQL; the migrations engine uses it as the target schema.

use crate::value::ColumnType;

/// How a column's value is produced when the application does not set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generated {
    /// The application always provides the value.
    No,
    /// An identity (serial) column: the database assigns it at insert unless the field is set
    /// (a key of `0` counts as unset).
    Identity,
}

/// One column of an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMeta {
    /// The Rust field name.
    pub field: &'static str,
    /// The column name in the database.
    pub name: &'static str,
    /// The logical type.
    pub ty: ColumnType,
    /// True when the column accepts NULL (an `Option<T>` field, or `nullable`).
    pub nullable: bool,
    /// The SQL default expression (`default = "…"`).
    pub default: Option<&'static str>,
    /// True for the primary-key column.
    pub primary_key: bool,
    /// How the value is generated.
    pub generated: Generated,
    /// True when the column has its own unique constraint.
    pub unique: bool,
    /// True when the column has its own index.
    pub index: bool,
    /// True for the optimistic-lock version column.
    pub version: bool,
    /// For enums stored as text, the allowed values (a CHECK constraint in the schema).
    pub enum_values: Option<&'static [&'static str]>,
    /// The previous column name, when declared with `renamed_from`.
    pub renamed_from: Option<&'static str>,
}

/// An index or unique constraint over one or more columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexMeta {
    /// The index (or constraint) name.
    pub name: String,
    /// The column names, in order.
    pub columns: Vec<&'static str>,
    /// True for a unique constraint.
    pub unique: bool,
}

/// Everything Strata knows about one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityMeta {
    /// The Rust type name, used in messages (`PostEntity not found (1)`).
    pub name: &'static str,
    /// The table name.
    pub table: &'static str,
    /// The schema, when the entity names one; otherwise the configured default applies.
    pub schema: Option<&'static str>,
    /// The columns, in field order.
    pub columns: &'static [ColumnMeta],
    /// The index of the primary-key column in `columns`.
    pub primary_key: usize,
    /// The previous table name, when declared with `renamed_from`.
    pub renamed_from: Option<&'static str>,
    /// Tables this entity references by foreign key (for commit order; filled by relations).
    pub references: &'static [&'static str],
}

impl EntityMeta {
    /// The primary-key column.
    pub fn pk(&self) -> &ColumnMeta {
        &self.columns[self.primary_key]
    }

    /// The index of the version column, if the entity has one.
    pub fn version_column(&self) -> Option<usize> {
        self.columns.iter().position(|c| c.version)
    }

    /// The index of the column for a Rust field name or a column name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.field == name)
            .or_else(|| self.columns.iter().position(|c| c.name == name))
    }

    /// The schema this entity lives in, given the configured default.
    pub fn schema_or<'a>(&'a self, default: Option<&'a str>) -> Option<&'a str> {
        self.schema.or(default)
    }

    /// Indexes and unique constraints: one per column marked `index` or `unique`, named as
    /// MikroORM names them (`post_entity_title_unique`, `post_entity_title_index`).
    pub fn indexes(&self) -> Vec<IndexMeta> {
        let mut out = Vec::new();
        for c in self.columns {
            if c.unique && !c.primary_key {
                out.push(IndexMeta {
                    name: format!("{}_{}_unique", self.table, c.name),
                    columns: vec![c.name],
                    unique: true,
                });
            }
            if c.index && !c.primary_key {
                out.push(IndexMeta {
                    name: format!("{}_{}_index", self.table, c.name),
                    columns: vec![c.name],
                    unique: false,
                });
            }
        }
        out
    }
}

/// MikroORM's UnderscoreNamingStrategy: `PostEntity` → `post_entity`, `HTTPServer` →
/// `http_server`, `createdAt` → `created_at`. The rule lives in `strata-conventions`, which the
/// derive macros apply too.
pub use strata_conventions::underscore;
