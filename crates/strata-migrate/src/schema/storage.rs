//! The storage form: what SQLite keeps of what the model describes, so that a schema read from
//! SQLite and one built from the entities (or a snapshot) compare equal when SQLite would store
//! them the same way (see [`Schema::backend`]).
//!
//! SQLite keeps a column's declared type as its affinity: every integer and boolean is
//! `integer`, both float types `real`, text-like values (`text`, `uuid`, `timestamptz`, `date`,
//! `jsonb`) `text`, `bytea` `blob`, and `varchar(n)` keeps its length (SQLite does not enforce
//! it). `current_timestamp` and the driver's timestamp default read back as `now()`. SQLite's
//! DDL (`crate::ddl::sqlite`) writes these forms and introspection reads them back; PostgreSQL
//! stores the model as written.

use super::{Schema, SqlType, normalize_default};

/// SQLite's spelling of `now()`: the driver's timestamp text (UTC, six fractional digits,
/// `Z`), so that a default timestamp sorts with the ones the application writes.
pub(crate) const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')";

/// The storage form of a type: what SQLite keeps of it.
pub(crate) fn storage_type(ty: &SqlType) -> SqlType {
    use SqlType as T;
    match ty {
        T::Boolean | T::SmallInt | T::Integer | T::BigInt => T::Other("integer".to_owned()),
        T::Real | T::Double => T::Other("real".to_owned()),
        T::Text | T::Uuid | T::TimestampTz | T::Date | T::Jsonb => T::Text,
        T::Bytea => T::Other("blob".to_owned()),
        T::Varchar(n) => T::Varchar(*n),
        T::Other(t) => T::Other(t.clone()),
    }
}

/// The storage form of a normalised default: `current_timestamp` is `now()`, as SQLite's
/// timestamp default is read back as `now()`.
pub(crate) fn storage_default(default: Option<&str>) -> Option<String> {
    match default {
        Some("current_timestamp") => Some("now()".to_owned()),
        other => other.map(str::to_owned),
    }
}

/// A default as read from SQLite (`pragma_table_info.dflt_value`), in the model's form.
pub(crate) fn read_default(text: &str) -> Option<String> {
    let d = normalize_default(text)?;
    if normalize_default(NOW).as_deref() == Some(d.as_str()) {
        return Some("now()".to_owned());
    }
    Some(d)
}

/// Folds a canonical schema into SQLite's storage form (see [`Schema::backend`]).
pub(crate) fn storage_form(schema: &mut Schema) {
    for t in &mut schema.tables {
        for c in &mut t.columns {
            c.ty = storage_type(&c.ty);
            c.default = storage_default(c.default.as_deref());
        }
    }
}
