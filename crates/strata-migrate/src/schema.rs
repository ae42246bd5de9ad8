//! The schema model: database schemas (namespaces), tables, columns, keys, indexes, foreign keys
//! and the CHECK constraints of enums stored as text.
//!
//! Three places produce a [`Schema`]: [`target`](crate::target) (what the entities want),
//! [`introspect`](crate::introspect) (what a live database has) and
//! [`snapshot`](crate::snapshot) (what the last migration left). [`diff`](crate::diff) compares
//! two of them. Everything here is in a canonical form so that equal schemas compare equal: type
//! aliases are folded into one [`SqlType`], default expressions go through
//! [`normalize_default`], and lists are sorted by name ([`Schema::normalize`]); only the columns
//! of a table keep their declaration order, which `CREATE TABLE` uses.

pub(crate) mod normalize;
pub(crate) mod storage;

pub use normalize::{MAX_IDENTIFIER_BYTES, constraint_name, normalize_default};

use serde::{Deserialize, Serialize};
use std::fmt;
use strata_core::{ColumnType, DbKind};

/// A column type in canonical form: every alias PostgreSQL accepts for the same type
/// (`int4`, `integer`, `serial`; `varchar(255)`, `character varying(255)`) is one value.
///
/// Serialized as its SQL spelling (`"varchar(255)"`), so snapshots read like DDL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum SqlType {
    /// `boolean` (`bool`).
    Boolean,
    /// `smallint` (`int2`, `smallserial`).
    SmallInt,
    /// `int` (`int4`, `integer`, `serial`).
    Integer,
    /// `bigint` (`int8`, `bigserial`).
    BigInt,
    /// `real` (`float4`).
    Real,
    /// `double precision` (`float8`).
    Double,
    /// `varchar(n)` (`character varying(n)`).
    Varchar(u32),
    /// `text`.
    Text,
    /// `uuid`.
    Uuid,
    /// `timestamptz` (`timestamp with time zone`).
    TimestampTz,
    /// `date`.
    Date,
    /// `jsonb`.
    Jsonb,
    /// `bytea`.
    Bytea,
    /// Any other type, as the database spells it (lowercase, single spaces): `numeric(10,2)`.
    Other(String),
}

impl SqlType {
    /// The type of an entity column.
    pub fn from_column_type(ty: ColumnType) -> SqlType {
        match ty {
            ColumnType::Bool => SqlType::Boolean,
            ColumnType::I16 => SqlType::SmallInt,
            ColumnType::I32 => SqlType::Integer,
            ColumnType::I64 => SqlType::BigInt,
            ColumnType::F32 => SqlType::Real,
            ColumnType::F64 => SqlType::Double,
            ColumnType::Varchar(n) => SqlType::Varchar(n),
            ColumnType::Text => SqlType::Text,
            ColumnType::Uuid => SqlType::Uuid,
            ColumnType::TimestampTz => SqlType::TimestampTz,
            ColumnType::Date => SqlType::Date,
            ColumnType::Json => SqlType::Jsonb,
            ColumnType::Bytes => SqlType::Bytea,
            // `ColumnType` may grow: spell the newcomer as its debug name until it is mapped.
            #[allow(unreachable_patterns)]
            other => SqlType::Other(format!("{other:?}").to_lowercase()),
        }
    }

    /// Reads a type as PostgreSQL or a person writes it, folding aliases
    /// (`SqlType::parse("character varying(100)") == SqlType::Varchar(100)`).
    pub fn parse(text: &str) -> SqlType {
        let t = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        match t.as_str() {
            "bool" | "boolean" => SqlType::Boolean,
            "int2" | "smallint" | "smallserial" | "serial2" => SqlType::SmallInt,
            "int" | "int4" | "integer" | "serial" | "serial4" => SqlType::Integer,
            "int8" | "bigint" | "bigserial" | "serial8" => SqlType::BigInt,
            "float4" | "real" => SqlType::Real,
            "float8" | "double precision" | "float" => SqlType::Double,
            "text" => SqlType::Text,
            "uuid" => SqlType::Uuid,
            "timestamptz" | "timestamp with time zone" => SqlType::TimestampTz,
            "date" => SqlType::Date,
            "jsonb" => SqlType::Jsonb,
            "bytea" => SqlType::Bytea,
            _ => varchar_length(&t).map_or(SqlType::Other(t), SqlType::Varchar),
        }
    }

    /// True when every value of `self` converts to `to` without loss, so changing a column
    /// from `self` to `to` keeps the data (`int` → `bigint`, `varchar(100)` → `varchar(255)`,
    /// `varchar(n)` → `text`, `real` → `double precision`).
    pub fn widens_to(&self, to: &SqlType) -> bool {
        use SqlType as T;
        match (self, to) {
            (a, b) if a == b => true,
            (T::SmallInt, T::Integer | T::BigInt) | (T::Integer, T::BigInt) => true,
            (T::Real, T::Double) => true,
            (T::Varchar(a), T::Varchar(b)) => a <= b,
            (T::Varchar(_), T::Text) => true,
            _ => false,
        }
    }

    /// True for `smallint`, `int` and `bigint`.
    pub fn is_integer(&self) -> bool {
        matches!(self, SqlType::SmallInt | SqlType::Integer | SqlType::BigInt)
    }
}

/// `varchar(n)` / `character varying(n)` → `n`.
fn varchar_length(t: &str) -> Option<u32> {
    let rest = t.strip_prefix("varchar").or_else(|| t.strip_prefix("character varying"))?;
    rest.trim().strip_prefix('(')?.strip_suffix(')')?.trim().parse().ok()
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SqlType::Boolean => f.write_str("boolean"),
            SqlType::SmallInt => f.write_str("smallint"),
            SqlType::Integer => f.write_str("int"),
            SqlType::BigInt => f.write_str("bigint"),
            SqlType::Real => f.write_str("real"),
            SqlType::Double => f.write_str("double precision"),
            SqlType::Varchar(n) => write!(f, "varchar({n})"),
            SqlType::Text => f.write_str("text"),
            SqlType::Uuid => f.write_str("uuid"),
            SqlType::TimestampTz => f.write_str("timestamptz"),
            SqlType::Date => f.write_str("date"),
            SqlType::Jsonb => f.write_str("jsonb"),
            SqlType::Bytea => f.write_str("bytea"),
            SqlType::Other(t) => f.write_str(t),
        }
    }
}

impl From<SqlType> for String {
    fn from(t: SqlType) -> String {
        t.to_string()
    }
}

impl From<String> for SqlType {
    fn from(s: String) -> SqlType {
        SqlType::parse(&s)
    }
}

/// A whole database schema, as far as migrations manage it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Schema {
    /// The database schemas (namespaces) besides the connection's default one, sorted.
    pub namespaces: Vec<String>,
    /// The tables, sorted by namespace then name.
    pub tables: Vec<Table>,
    /// The connection's default schema (`current_schema()`, usually `public`), when known.
    ///
    /// Introspection fills it and reports the tables of that schema with `namespace: None`;
    /// comparisons ([`diff`](crate::diff::diff) and `==`) treat a table whose namespace names
    /// it as unqualified too, so an entity with `schema = "public"` matches the introspected
    /// table. When neither side knows it (a snapshot against the entities), `public` is
    /// assumed. Not part of a snapshot.
    #[serde(skip)]
    pub default_namespace: Option<String>,
    /// The database the schema was read from: introspection fills it, a target or a snapshot
    /// has none. Comparisons ([`diff`](crate::diff::diff) and `==`) with a SQLite schema
    /// compare both sides as SQLite stores them: column types by storage class (`int`,
    /// `bigint` and `boolean` are all `INTEGER`; `uuid`, `timestamptz`, `date` and `jsonb` are
    /// `TEXT`; `varchar(n)` keeps its length), and `now()` and `current_timestamp` as the same
    /// default. Not part of a snapshot.
    #[serde(skip)]
    pub backend: Option<DbKind>,
}

impl Schema {
    /// The table `name` in `namespace` (`None`: the default schema).
    pub fn table(&self, namespace: Option<&str>, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.namespace.as_deref() == namespace && t.name == name)
    }

    /// Sorts everything that has no meaningful order (namespaces, tables, keys, indexes,
    /// checks), removing duplicate namespaces. Producers call it before returning a schema.
    pub fn normalize(&mut self) {
        self.namespaces.sort();
        self.namespaces.dedup();
        self.tables.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        for t in &mut self.tables {
            t.uniques.sort_by(|a, b| a.name.cmp(&b.name));
            t.indexes.sort_by(|a, b| a.name.cmp(&b.name));
            t.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
            t.checks.sort_by(|a, b| a.name.cmp(&b.name));
        }
    }

    /// This schema with `default_namespace` written as unqualified: tables (and foreign-key
    /// targets) in it get `namespace: None`, and it leaves the namespace list.
    pub fn canonical(&self, default_namespace: Option<&str>) -> Schema {
        let mut out = self.clone();
        if let Some(d) = default_namespace {
            let unqualify = |ns: &mut Option<String>| {
                if ns.as_deref() == Some(d) {
                    *ns = None;
                }
            };
            out.namespaces.retain(|n| n != d);
            for t in &mut out.tables {
                unqualify(&mut t.namespace);
                for fk in &mut t.foreign_keys {
                    unqualify(&mut fk.referenced_namespace);
                }
            }
        }
        out.default_namespace = None;
        out.normalize();
        out
    }

    /// The default namespace two schemas are compared under: either one's when known, else
    /// `public`, PostgreSQL's default (a snapshot and a target know none).
    pub(crate) fn shared_default<'a>(a: &'a Schema, b: &'a Schema) -> Option<&'a str> {
        a.default_namespace.as_deref().or(b.default_namespace.as_deref()).or(Some("public"))
    }

    /// The backend two schemas are compared for: either one's when known.
    pub(crate) fn shared_backend(a: &Schema, b: &Schema) -> Option<DbKind> {
        a.backend.or(b.backend)
    }

    /// [`Schema::canonical`], then, for SQLite, in the form SQLite stores (see
    /// [`Schema::backend`]).
    pub(crate) fn comparable(
        &self,
        default_namespace: Option<&str>,
        backend: Option<DbKind>,
    ) -> Schema {
        let mut out = self.canonical(default_namespace);
        if backend == Some(DbKind::Sqlite) {
            storage::storage_form(&mut out);
        }
        out
    }
}

/// Equal when they describe the same database objects: compared in canonical form (see
/// [`Schema::canonical`]), ignoring column order and declared renames.
impl PartialEq for Schema {
    fn eq(&self, other: &Schema) -> bool {
        let (d, backend) =
            (Schema::shared_default(self, other), Schema::shared_backend(self, other));
        let (a, b) = (self.comparable(d, backend), other.comparable(d, backend));
        let key = |s: &Schema| -> Vec<Table> {
            s.tables
                .iter()
                .map(|t| {
                    let mut t = t.clone();
                    t.renamed_from = None;
                    t.columns.sort_by(|x, y| x.name.cmp(&y.name));
                    t.columns.iter_mut().for_each(|c| c.renamed_from = None);
                    t
                })
                .collect()
        };
        a.namespaces == b.namespaces && key(&a) == key(&b)
    }
}

impl Eq for Schema {}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// The database schema; `None` for the connection's default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The table name.
    pub name: String,
    /// The columns, in declaration order.
    pub columns: Vec<Column>,
    /// The primary key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<PrimaryKey>,
    /// Unique constraints, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<Unique>,
    /// Indexes that back no constraint, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Foreign keys, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    /// The CHECK constraints of enum columns (`"status" in ('draft', 'published')`), by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
    /// The table's previous name, declared with `#[strata(renamed_from = "…")]`: the diff
    /// renames it instead of dropping one table and creating another. Only targets carry it.
    #[serde(skip)]
    pub renamed_from: Option<String>,
}

impl Table {
    /// An empty table.
    pub fn new(namespace: Option<String>, name: impl Into<String>) -> Table {
        Table {
            namespace,
            name: name.into(),
            columns: Vec::new(),
            primary_key: None,
            uniques: Vec::new(),
            indexes: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
            renamed_from: None,
        }
    }

    /// The column `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Where the table is.
    pub fn table_ref(&self) -> TableRef {
        TableRef { namespace: self.namespace.clone(), name: self.name.clone() }
    }
}

/// A possibly schema-qualified table name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TableRef {
    /// The database schema; `None` for the connection's default one.
    pub namespace: Option<String>,
    /// The table name.
    pub name: String,
}

impl fmt::Display for TableRef {
    /// `"blog"."post"` or `"post"`, quoted as in SQL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(ns) = &self.namespace {
            write!(f, "{}.", quote_ident(ns))?;
        }
        f.write_str(&quote_ident(&self.name))
    }
}

/// Quotes an identifier for SQL: `post` → `"post"`, doubling embedded quotes (the core's
/// quoting, shared with every statement Strata writes).
pub use strata_core::sql::quote_ident;

/// Quotes a string literal for SQL: `it's` → `'it''s'`.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// One column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// The column name.
    pub name: String,
    /// The type, in canonical form.
    #[serde(rename = "type")]
    pub ty: SqlType,
    /// True when the column accepts NULL.
    pub nullable: bool,
    /// The default expression, normalised with [`normalize_default`]. `None` for identity
    /// columns, whose sequence default is what `identity` means.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// True when the database assigns the value from a sequence. Strata creates these as
    /// `serial` / `bigserial` / `smallserial` (a sequence owned by the column and a
    /// `nextval(…)` default); introspection also reads identity columns
    /// (`generated … as identity`) as `true`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub identity: bool,
    /// The column's previous name, declared with `#[strata(renamed_from = "…")]`. Only
    /// targets carry it.
    #[serde(skip)]
    pub renamed_from: Option<String>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_false(b: &bool) -> bool {
    !*b
}

impl Column {
    /// A NOT NULL column without default.
    pub fn new(name: impl Into<String>, ty: SqlType) -> Column {
        Column {
            name: name.into(),
            ty,
            nullable: false,
            default: None,
            identity: false,
            renamed_from: None,
        }
    }
}

/// A primary key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrimaryKey {
    /// The constraint name (`post_pkey`).
    pub name: String,
    /// The key columns, in order.
    pub columns: Vec<String>,
}

/// A unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unique {
    /// The constraint name (`post_title_unique`).
    pub name: String,
    /// The columns, in order.
    pub columns: Vec<String>,
}

/// An index that backs no constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// The index name (`post_title_index`).
    pub name: String,
    /// The indexed columns, in order.
    pub columns: Vec<String>,
    /// True for a unique index.
    #[serde(default, skip_serializing_if = "is_false")]
    pub unique: bool,
}

/// What a foreign key does when the referenced row is deleted or its key updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForeignKeyAction {
    /// `no action` (the default).
    #[default]
    NoAction,
    /// `restrict`.
    Restrict,
    /// `cascade`.
    Cascade,
    /// `set null`.
    SetNull,
    /// `set default`.
    SetDefault,
}

impl ForeignKeyAction {
    /// The SQL words.
    pub fn sql(self) -> &'static str {
        match self {
            ForeignKeyAction::NoAction => "no action",
            ForeignKeyAction::Restrict => "restrict",
            ForeignKeyAction::Cascade => "cascade",
            ForeignKeyAction::SetNull => "set null",
            ForeignKeyAction::SetDefault => "set default",
        }
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The constraint name (`comment_post_id_foreign`).
    pub name: String,
    /// The referencing columns, in order.
    pub columns: Vec<String>,
    /// The referenced table's database schema; `None` for the default one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referenced_namespace: Option<String>,
    /// The referenced table.
    pub referenced_table: String,
    /// The referenced columns, in order.
    pub referenced_columns: Vec<String>,
    /// The action on delete of the referenced row.
    #[serde(default)]
    pub on_delete: ForeignKeyAction,
    /// The action on update of the referenced key.
    #[serde(default)]
    pub on_update: ForeignKeyAction,
}

/// The CHECK constraint of an enum stored as text: the column holds one of `values`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// The constraint name (`post_status_check`).
    pub name: String,
    /// The constrained column.
    pub column: String,
    /// The allowed values, in declaration order.
    pub values: Vec<String>,
}
