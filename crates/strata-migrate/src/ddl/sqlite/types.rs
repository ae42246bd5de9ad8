//! How SQLite DDL spells what the model describes: the declared type of each [`SqlType`] and
//! the default expressions SQLite needs written differently. What SQLite keeps of them (the
//! storage form schemas are compared in) is the model's, in [`crate::schema::storage`].
//!
//! The declared types are the driver's (`strata_sqlite::declared_type`): every integer and
//! boolean is `integer`, both float types `real`, text-like values (`text`, `uuid`,
//! `timestamptz`, `date`, `jsonb`) `text`, `bytea` `blob`, and `varchar(n)` keeps its length so
//! that introspection reads it back (SQLite does not enforce it). Those names give each column
//! the affinity that keeps values exactly as the driver binds them.

use crate::schema::SqlType;
use crate::schema::storage::{NOW, storage_default, storage_type};

/// The type written in `create table`: `integer`, `real`, `text`, `blob`, `varchar(n)`, or
/// any other type as the model spells it.
pub(crate) fn declared_type(ty: &SqlType) -> String {
    storage_type(ty).to_string()
}

/// True when SQLite stores integers in a column of this type (the type of a rowid alias).
pub(crate) fn is_integer(ty: &SqlType) -> bool {
    storage_type(ty) == SqlType::Other("integer".to_owned())
}

/// The `default …` clause of a column: literals as they are, `now()` as [`NOW`], any other
/// expression in parentheses (SQLite requires them around an expression).
pub(crate) fn default_clause(default: &str) -> String {
    match storage_default(Some(default)).as_deref() {
        Some("now()") => format!("({NOW})"),
        _ if is_literal(default) => default.to_owned(),
        _ => format!("({default})"),
    }
}

/// True for a default that `alter table … add column` accepts: a literal, not an expression
/// nor `current_timestamp` (SQLite refuses both when adding a column).
pub(crate) fn addable_default(default: &str) -> bool {
    is_literal(default) && !default.starts_with("current_")
}

/// A quoted string, a signed number, `true`, `false`, `null` or `current_date` /
/// `current_time`.
fn is_literal(d: &str) -> bool {
    if let Some(inner) = d.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        // One literal: every quote inside is doubled.
        return inner.replace("''", "").find('\'').is_none();
    }
    let number = d.strip_prefix(['-', '+']).unwrap_or(d);
    let numeric = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || c == '.')
        && number.chars().filter(|c| *c == '.').count() <= 1
        && number.chars().any(|c| c.is_ascii_digit());
    numeric || matches!(d, "true" | "false" | "null" | "current_date" | "current_time")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::storage::read_default;

    #[test]
    fn every_type_is_declared_as_the_driver_stores_it() {
        use SqlType as T;
        for (ty, declared) in [
            (T::Boolean, "integer"),
            (T::SmallInt, "integer"),
            (T::Integer, "integer"),
            (T::BigInt, "integer"),
            (T::Real, "real"),
            (T::Double, "real"),
            (T::Varchar(255), "varchar(255)"),
            (T::Text, "text"),
            (T::Uuid, "text"),
            (T::TimestampTz, "text"),
            (T::Date, "text"),
            (T::Jsonb, "text"),
            (T::Bytea, "blob"),
            (T::Other("numeric(10,2)".into()), "numeric(10,2)"),
        ] {
            assert_eq!(declared_type(&ty), declared, "{ty:?}");
            // What introspection reads back has the same storage form.
            assert_eq!(storage_type(&SqlType::parse(declared)), storage_type(&ty), "{ty:?}");
        }
    }

    #[test]
    fn defaults_are_written_as_sqlite_accepts_them_and_read_back_unchanged() {
        for (model, clause, addable) in [
            ("'draft'", "'draft'", true),
            ("'it''s'", "'it''s'", true),
            ("-1", "-1", true),
            ("2.5", "2.5", true),
            ("false", "false", true),
            ("now()", "(strftime('%Y-%m-%dT%H:%M:%f000Z', 'now'))", false),
            ("'a' || 'b'", "('a' || 'b')", false),
            ("(1 + 2)", "((1 + 2))", false),
        ] {
            assert_eq!(default_clause(model), clause, "{model}");
            assert_eq!(addable_default(model), addable, "{model}");
            // pragma_table_info reports the clause without its outer parentheses.
            let reported = clause
                .strip_prefix('(')
                .and_then(|c| c.strip_suffix(')'))
                .filter(|_| !is_literal(model) || model == "now()")
                .unwrap_or(clause);
            assert_eq!(read_default(reported).as_deref(), Some(model), "{model}");
        }
        assert_eq!(storage_default(Some("current_timestamp")).as_deref(), Some("now()"));
    }
}
