//! One step of a [`Diff`](super::Diff): what it does, its inverse, its one-line summary and
//! whether it loses data.

use crate::schema::{
    Check, Column, ForeignKey, Index, PrimaryKey, SqlType, Table, TableRef, Unique, quote_ident,
};

/// One change from one schema towards another. Every change has an [`inverse`](Change::inverse),
/// which is how the down migration is made.
///
/// Tables in [`Change::CreateTable`] and [`Change::DropTable`] carry no foreign keys: those are
/// separate [`Change::AddForeignKey`] / [`Change::DropForeignKey`] steps, so that tables that
/// reference each other can be created and dropped in any order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// `create schema`.
    CreateNamespace(String),
    /// `drop schema` (refused by the database when the schema is not empty).
    DropNamespace(String),
    /// `create table`, with its primary key, uniques, indexes and checks.
    CreateTable(Table),
    /// `drop table`. Destructive.
    DropTable(Table),
    /// A table renamed (declared with `renamed_from`); the data stays.
    RenameTable {
        /// The table before the rename.
        table: TableRef,
        /// The new name.
        to: String,
    },
    /// A column renamed (declared with `renamed_from`); the data stays.
    RenameColumn {
        /// The table.
        table: TableRef,
        /// The old column name.
        from: String,
        /// The new column name.
        to: String,
    },
    /// A constraint renamed along with its table or column (`post_pkey` → `article_pkey`).
    RenameConstraint {
        /// The table.
        table: TableRef,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// An index renamed along with its table or column.
    RenameIndex {
        /// The table the index is on (its schema is the index's).
        table: TableRef,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// The sequence of an identity column renamed along with its table or column.
    RenameSequence {
        /// The table the sequence belongs to (its schema is the sequence's).
        table: TableRef,
        /// The old name.
        from: String,
        /// The new name.
        to: String,
    },
    /// A new column.
    AddColumn {
        /// The table.
        table: TableRef,
        /// The column.
        column: Column,
    },
    /// A column dropped. Destructive.
    DropColumn {
        /// The table.
        table: TableRef,
        /// The column as it was (for the down step).
        column: Column,
    },
    /// A column's type changed, converting the data with a `USING` cast. Destructive unless
    /// the new type [widens](SqlType::widens_to) the old one.
    AlterType {
        /// The table.
        table: TableRef,
        /// The column.
        column: String,
        /// The old type.
        from: SqlType,
        /// The new type.
        to: SqlType,
        /// True when the column is an identity column on both sides: its sequence
        /// `<table>_<column>_seq` changes type too.
        identity: bool,
    },
    /// `drop not null` (`nullable: true`) or `set not null`.
    AlterNullable {
        /// The table.
        table: TableRef,
        /// The column.
        column: String,
        /// Whether the column accepts NULL afterwards.
        nullable: bool,
    },
    /// `set default` / `drop default`.
    AlterDefault {
        /// The table.
        table: TableRef,
        /// The column.
        column: String,
        /// The old default.
        from: Option<String>,
        /// The new default.
        to: Option<String>,
    },
    /// An integer column starts (`identity: true`) or stops taking values from its own
    /// sequence `<table>_<column>_seq`.
    AlterIdentity {
        /// The table.
        table: TableRef,
        /// The column.
        column: String,
        /// The column's type (the sequence's type).
        ty: SqlType,
        /// Whether the column is an identity column afterwards.
        identity: bool,
    },
    /// A primary key added.
    AddPrimaryKey {
        /// The table.
        table: TableRef,
        /// The key.
        key: PrimaryKey,
    },
    /// A primary key dropped.
    DropPrimaryKey {
        /// The table.
        table: TableRef,
        /// The key as it was.
        key: PrimaryKey,
    },
    /// A unique constraint added.
    AddUnique {
        /// The table.
        table: TableRef,
        /// The constraint.
        unique: Unique,
    },
    /// A unique constraint dropped.
    DropUnique {
        /// The table.
        table: TableRef,
        /// The constraint as it was.
        unique: Unique,
    },
    /// An index created.
    CreateIndex {
        /// The table.
        table: TableRef,
        /// The index.
        index: Index,
    },
    /// An index dropped.
    DropIndex {
        /// The table.
        table: TableRef,
        /// The index as it was.
        index: Index,
    },
    /// An enum check added.
    AddCheck {
        /// The table.
        table: TableRef,
        /// The check.
        check: Check,
    },
    /// An enum check dropped.
    DropCheck {
        /// The table.
        table: TableRef,
        /// The check as it was.
        check: Check,
    },
    /// A foreign key added.
    AddForeignKey {
        /// The referencing table.
        table: TableRef,
        /// The key.
        key: ForeignKey,
    },
    /// A foreign key dropped.
    DropForeignKey {
        /// The referencing table.
        table: TableRef,
        /// The key as it was.
        key: ForeignKey,
    },
}

impl Change {
    /// The change that undoes this one.
    pub fn inverse(&self) -> Change {
        use Change as C;
        let swap = |table: &TableRef, from: &String, to: &String| {
            (table.clone(), to.clone(), from.clone())
        };
        match self {
            C::CreateNamespace(n) => C::DropNamespace(n.clone()),
            C::DropNamespace(n) => C::CreateNamespace(n.clone()),
            C::CreateTable(t) => C::DropTable(t.clone()),
            C::DropTable(t) => C::CreateTable(t.clone()),
            C::RenameTable { table, to } => C::RenameTable {
                table: TableRef { namespace: table.namespace.clone(), name: to.clone() },
                to: table.name.clone(),
            },
            C::RenameColumn { table, from, to } => {
                let (table, from, to) = swap(table, from, to);
                C::RenameColumn { table, from, to }
            }
            C::RenameConstraint { table, from, to } => {
                let (table, from, to) = swap(table, from, to);
                C::RenameConstraint { table, from, to }
            }
            C::RenameIndex { table, from, to } => {
                let (table, from, to) = swap(table, from, to);
                C::RenameIndex { table, from, to }
            }
            C::RenameSequence { table, from, to } => {
                let (table, from, to) = swap(table, from, to);
                C::RenameSequence { table, from, to }
            }
            C::AddColumn { table, column } => {
                C::DropColumn { table: table.clone(), column: column.clone() }
            }
            C::DropColumn { table, column } => {
                C::AddColumn { table: table.clone(), column: column.clone() }
            }
            C::AlterType { table, column, from, to, identity } => C::AlterType {
                table: table.clone(),
                column: column.clone(),
                from: to.clone(),
                to: from.clone(),
                identity: *identity,
            },
            C::AlterNullable { table, column, nullable } => C::AlterNullable {
                table: table.clone(),
                column: column.clone(),
                nullable: !nullable,
            },
            C::AlterDefault { table, column, from, to } => C::AlterDefault {
                table: table.clone(),
                column: column.clone(),
                from: to.clone(),
                to: from.clone(),
            },
            C::AlterIdentity { table, column, ty, identity } => C::AlterIdentity {
                table: table.clone(),
                column: column.clone(),
                ty: ty.clone(),
                identity: !identity,
            },
            C::AddPrimaryKey { table, key } => {
                C::DropPrimaryKey { table: table.clone(), key: key.clone() }
            }
            C::DropPrimaryKey { table, key } => {
                C::AddPrimaryKey { table: table.clone(), key: key.clone() }
            }
            C::AddUnique { table, unique } => {
                C::DropUnique { table: table.clone(), unique: unique.clone() }
            }
            C::DropUnique { table, unique } => {
                C::AddUnique { table: table.clone(), unique: unique.clone() }
            }
            C::CreateIndex { table, index } => {
                C::DropIndex { table: table.clone(), index: index.clone() }
            }
            C::DropIndex { table, index } => {
                C::CreateIndex { table: table.clone(), index: index.clone() }
            }
            C::AddCheck { table, check } => {
                C::DropCheck { table: table.clone(), check: check.clone() }
            }
            C::DropCheck { table, check } => {
                C::AddCheck { table: table.clone(), check: check.clone() }
            }
            C::AddForeignKey { table, key } => {
                C::DropForeignKey { table: table.clone(), key: key.clone() }
            }
            C::DropForeignKey { table, key } => {
                C::AddForeignKey { table: table.clone(), key: key.clone() }
            }
        }
    }

    /// True when applying this change loses data that its down step cannot bring back:
    /// dropping a table or a column, and changing a column to a type that does not
    /// [widen](SqlType::widens_to) the old one (`varchar(255)` → `varchar(100)`,
    /// `bigint` → `int`, `text` → `int`).
    pub fn is_destructive(&self) -> bool {
        match self {
            Change::DropTable(_) | Change::DropColumn { .. } => true,
            Change::AlterType { from, to, .. } => !from.widens_to(to),
            _ => false,
        }
    }

    /// A one-line description for people: `create table "post_entity"`,
    /// `alter column "post"."title" type varchar(255) -> varchar(100)`.
    pub fn summary(&self) -> String {
        let col = |t: &TableRef, c: &str| format!("{t}.{}", quote_ident(c));
        let default = |d: &Option<String>| d.clone().unwrap_or_else(|| "none".to_owned());
        match self {
            Change::CreateNamespace(n) => format!("create schema {}", quote_ident(n)),
            Change::DropNamespace(n) => format!("drop schema {}", quote_ident(n)),
            Change::CreateTable(t) => format!("create table {}", t.table_ref()),
            Change::DropTable(t) => format!("drop table {}", t.table_ref()),
            Change::RenameTable { table, to } => {
                format!("rename table {table} to {}", quote_ident(to))
            }
            Change::RenameColumn { table, from, to } => {
                format!("rename column {} to {}", col(table, from), quote_ident(to))
            }
            Change::RenameConstraint { table, from, to } => {
                format!("rename constraint {} on {table} to {}", quote_ident(from), quote_ident(to))
            }
            Change::RenameIndex { from, to, .. } => {
                format!("rename index {} to {}", quote_ident(from), quote_ident(to))
            }
            Change::RenameSequence { from, to, .. } => {
                format!("rename sequence {} to {}", quote_ident(from), quote_ident(to))
            }
            Change::AddColumn { table, column } => {
                format!("add column {} {}", col(table, &column.name), column.ty)
            }
            Change::DropColumn { table, column } => {
                format!("drop column {}", col(table, &column.name))
            }
            Change::AlterType { table, column, from, to, .. } => {
                format!("alter column {} type {from} -> {to}", col(table, column))
            }
            Change::AlterNullable { table, column, nullable } => {
                let what = if *nullable { "drop not null" } else { "set not null" };
                format!("alter column {} {what}", col(table, column))
            }
            Change::AlterDefault { table, column, from, to } => format!(
                "alter column {} default {} -> {}",
                col(table, column),
                default(from),
                default(to)
            ),
            Change::AlterIdentity { table, column, identity, .. } => {
                let what = if *identity { "add" } else { "drop" };
                format!("alter column {} {what} identity", col(table, column))
            }
            Change::AddPrimaryKey { table, key } => {
                format!("add primary key {} on {table}", quote_ident(&key.name))
            }
            Change::DropPrimaryKey { table, key } => {
                format!("drop primary key {} on {table}", quote_ident(&key.name))
            }
            Change::AddUnique { table, unique } => {
                format!("add unique {} on {table}", quote_ident(&unique.name))
            }
            Change::DropUnique { table, unique } => {
                format!("drop unique {} on {table}", quote_ident(&unique.name))
            }
            Change::CreateIndex { table, index } => {
                format!("create index {} on {table}", quote_ident(&index.name))
            }
            Change::DropIndex { table, index } => {
                format!("drop index {} on {table}", quote_ident(&index.name))
            }
            Change::AddCheck { table, check } => {
                format!("add check {} on {table}", quote_ident(&check.name))
            }
            Change::DropCheck { table, check } => {
                format!("drop check {} on {table}", quote_ident(&check.name))
            }
            Change::AddForeignKey { table, key } => {
                format!("add foreign key {} on {table}", quote_ident(&key.name))
            }
            Change::DropForeignKey { table, key } => {
                format!("drop foreign key {} on {table}", quote_ident(&key.name))
            }
        }
    }
}
