//! Metadata for tests of statement rendering, which need columns without an entity.

use strata_core::ColumnType;
use strata_core::metadata::{ColumnMeta, Generated};

/// A non-null column named `name` (its field too) of type `ty`: `id` is the identity primary
/// key and `version` the version column, as an entity's would be.
///
/// ```
/// use strata_core::ColumnType;
/// let id = strata_test::column("id", ColumnType::I32);
/// assert!(id.primary_key && !id.nullable);
/// ```
pub fn column(name: &'static str, ty: ColumnType) -> ColumnMeta {
    ColumnMeta {
        field: name,
        name,
        ty,
        nullable: false,
        default: None,
        primary_key: name == "id",
        generated: if name == "id" { Generated::Identity } else { Generated::No },
        unique: false,
        index: false,
        version: name == "version",
        enum_values: None,
        renamed_from: None,
    }
}
