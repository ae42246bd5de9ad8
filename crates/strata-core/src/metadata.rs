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

/// The kind of a relation, as in MikroORM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelationKind {
    /// Many of these reference one target: this table holds the foreign key
    /// (`Reference<T>` or `Option<Reference<T>>`).
    ManyToOne,
    /// One of these and one target: the owning side holds a unique foreign key; the inverse
    /// side (`mapped_by`) holds nothing.
    OneToOne,
    /// The inverse of a many-to-one (`Collection<T>`, `mapped_by` names the target's field).
    OneToMany,
    /// Many to many through a pivot table, held by the owning side (`Collection<T>`).
    ManyToMany,
}

/// What a foreign key does when the row it references is deleted or its key changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReferentialAction {
    /// `CASCADE`: the referencing rows are deleted (or follow the new key).
    Cascade,
    /// `SET NULL`: the foreign key becomes NULL (nullable relations only).
    SetNull,
    /// `RESTRICT`: the change is refused at once.
    Restrict,
    /// `NO ACTION`: the change is refused at the end of the statement (the SQL default).
    NoAction,
}

impl ReferentialAction {
    /// The SQL words: `cascade`, `set null`, `restrict`, `no action`.
    pub fn sql(self) -> &'static str {
        match self {
            Self::Cascade => "cascade",
            Self::SetNull => "set null",
            Self::Restrict => "restrict",
            Self::NoAction => "no action",
        }
    }
}

/// What an operation on an entity does to the targets of one of its relations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cascade {
    /// Persisting (and flushing) the entity inserts new targets too. The default.
    pub persist: bool,
    /// Removing the entity removes its loaded targets too.
    pub remove: bool,
}

/// The names of a many-to-many relation's pivot table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PivotNames {
    /// The pivot table (`post_entity_categories`).
    pub table: String,
    /// The column referencing the owning side (`post_entity_id`).
    pub owner_column: String,
    /// The column referencing the target side (`category_id`).
    pub target_column: String,
}

/// One relation of an entity.
#[derive(Debug, Clone, Copy)]
pub struct RelationMeta {
    /// The Rust field name.
    pub field: &'static str,
    /// The kind.
    pub kind: RelationKind,
    /// The target entity's metadata. A function, because entities refer to each other in
    /// cycles that statics cannot.
    pub target: fn() -> &'static EntityMeta,
    /// For an inverse side, the field of the target that owns the relation.
    pub mapped_by: Option<&'static str>,
    /// For an owning to-one, the index of its join column in the entity's columns.
    pub join_column: Option<usize>,
    /// True when the relation may be empty (`Option<Reference<T>>`).
    pub nullable: bool,
    /// What persisting and removing the entity do to the targets.
    pub cascade: Cascade,
    /// A one-to-many or one-to-one whose targets are deleted when they leave it.
    pub orphan_removal: bool,
    /// `ON DELETE` of the foreign key; `None` for MikroORM's default (`set null` when nullable).
    pub on_delete: Option<ReferentialAction>,
    /// `ON UPDATE` of the foreign key; `None` for MikroORM's default (`cascade`).
    pub on_update: Option<ReferentialAction>,
    /// A many-to-many's pivot table, when not `<owner table>_<field>`.
    pub pivot_table: Option<&'static str>,
    /// A many-to-many's pivot column for the owner, when not `<owner table>_<owner key>`.
    pub join_column_name: Option<&'static str>,
    /// A many-to-many's pivot column for the target, when not `<target table>_<target key>`.
    pub inverse_join_column_name: Option<&'static str>,
}

impl PartialEq for RelationMeta {
    /// Relations compare by what they declare; the target by its table.
    fn eq(&self, other: &Self) -> bool {
        self.field == other.field
            && self.kind == other.kind
            && (self.target)().table == (other.target)().table
            && self.mapped_by == other.mapped_by
            && self.join_column == other.join_column
            && self.nullable == other.nullable
            && self.cascade == other.cascade
            && self.orphan_removal == other.orphan_removal
            && self.on_delete == other.on_delete
            && self.on_update == other.on_update
            && self.pivot_table == other.pivot_table
            && self.join_column_name == other.join_column_name
            && self.inverse_join_column_name == other.inverse_join_column_name
    }
}

impl Eq for RelationMeta {}

impl RelationMeta {
    /// The target's metadata.
    pub fn target(&self) -> &'static EntityMeta {
        (self.target)()
    }

    /// True for the side that holds the foreign key or the pivot table.
    pub fn is_owner(&self) -> bool {
        self.mapped_by.is_none()
    }

    /// True for a relation to one target.
    pub fn is_to_one(&self) -> bool {
        matches!(self.kind, RelationKind::ManyToOne | RelationKind::OneToOne)
    }

    /// The foreign key's `ON DELETE`, MikroORM's default applied: `set null` for a nullable
    /// relation, none otherwise.
    pub fn delete_rule(&self) -> Option<ReferentialAction> {
        self.on_delete.or(self.nullable.then_some(ReferentialAction::SetNull))
    }

    /// The foreign key's `ON UPDATE`, MikroORM's default applied: `cascade`.
    pub fn update_rule(&self) -> ReferentialAction {
        self.on_update.unwrap_or(ReferentialAction::Cascade)
    }

    /// The owning side of this relation: itself, or the target's relation it is mapped by.
    /// `None` when `mapped_by` names no relation of the target (the derive makes that a
    /// compile error).
    pub fn owning_side(&self) -> Option<&'static RelationMeta> {
        let target = self.target();
        match self.mapped_by {
            None => None,
            Some(field) => target.relations.iter().find(|r| r.field == field),
        }
    }

    /// A many-to-many's pivot names, given the metadata of the entity that declares the
    /// relation; `None` for other kinds or when the owning side cannot be found.
    pub fn pivot(&self, owner: &EntityMeta) -> Option<PivotNames> {
        if self.kind != RelationKind::ManyToMany {
            return None;
        }
        if self.mapped_by.is_some() {
            // The inverse side uses the owner's pivot, with the two columns swapped.
            let owning = self.owning_side()?;
            let names = owning.pivot(self.target())?;
            return Some(PivotNames {
                table: names.table,
                owner_column: names.target_column,
                target_column: names.owner_column,
            });
        }
        let target = self.target();
        Some(PivotNames {
            table: self.pivot_table.map_or_else(
                || format!("{}_{}", owner.table, underscore(self.field)),
                str::to_owned,
            ),
            owner_column: self
                .join_column_name
                .map_or_else(|| format!("{}_{}", owner.table, owner.pk().name), str::to_owned),
            target_column: self
                .inverse_join_column_name
                .map_or_else(|| format!("{}_{}", target.table, target.pk().name), str::to_owned),
        })
    }
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
    /// The relations, in field order.
    pub relations: &'static [RelationMeta],
}

impl EntityMeta {
    /// The primary-key column.
    pub fn pk(&self) -> &ColumnMeta {
        &self.columns[self.primary_key]
    }

    /// The tables this entity's foreign keys reference (for the commit order).
    pub fn referenced_tables(&self) -> Vec<&'static str> {
        self.relations
            .iter()
            .filter(|r| r.join_column.is_some())
            .map(|r| r.target().table)
            .collect()
    }

    /// The tables this entity's NOT NULL foreign keys reference: the order a cycle of tables
    /// falls back to (a nullable foreign key can be set after both rows exist).
    pub fn required_references(&self) -> Vec<&'static str> {
        self.relations
            .iter()
            .filter(|r| r.join_column.is_some() && !r.nullable)
            .map(|r| r.target().table)
            .collect()
    }

    /// The relation declared by field `field`.
    pub fn relation(&self, field: &str) -> Option<&'static RelationMeta> {
        self.relations.iter().find(|r| r.field == field)
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
