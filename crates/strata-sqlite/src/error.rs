//! SQLite errors to Strata's [`ErrorKind`]s, by extended result code.
//!
//! The native code ([`Error::code`]) is SQLite's extended result code as a decimal string
//! (`"2067"` for `SQLITE_CONSTRAINT_UNIQUE`), as listed in SQLite's "Result and Error Codes".
//!
//! | result code | kind |
//! | --- | --- |
//! | `SQLITE_CONSTRAINT_UNIQUE` (2067), `_PRIMARYKEY` (1555), `_ROWID` (2579) | [`ErrorKind::UniqueViolation`] (the name of the unique index over the reported columns, when it has one) |
//! | `SQLITE_CONSTRAINT_FOREIGNKEY` (787) | [`ErrorKind::ForeignKeyViolation`] (SQLite does not say which constraint: no name) |
//! | `SQLITE_CONSTRAINT_NOTNULL` (1299) | [`ErrorKind::NotNullViolation`] (column name) |
//! | `SQLITE_CONSTRAINT_CHECK` (275) | [`ErrorKind::CheckViolation`] (constraint name, when the CHECK is named) |
//! | `SQLITE_TOOBIG` (18) | [`ErrorKind::ValueTooLong`] |
//! | `SQLITE_MISMATCH` (20), `SQLITE_CONSTRAINT_DATATYPE` (3091) | [`ErrorKind::InvalidValue`] |
//! | `SQLITE_BUSY` (5), `SQLITE_LOCKED` (6) and their extended codes | [`ErrorKind::SerializationFailure`]: another writer held the database longer than the busy timeout; retry |
//! | `SQLITE_CANTOPEN` (14), `SQLITE_IOERR` (10), `SQLITE_NOTADB` (26) | [`ErrorKind::Connection`] |
//! | anything else | [`ErrorKind::Database`] |
//!
//! SQLite accepts what PostgreSQL refuses with `22001` and `22021`: text longer than a
//! `varchar(n)` column's length, and text containing NUL. Neither [`ErrorKind::ValueTooLong`]
//! nor [`ErrorKind::InvalidText`] comes from this driver for them; validate lengths in the
//! application.

use rusqlite::ffi;
use strata_core::sql::quote_ident;
use strata_core::{Error, ErrorKind};

/// Maps an error of a statement run on `conn` (used to name the violated unique index).
pub(crate) fn map(e: rusqlite::Error, conn: &rusqlite::Connection) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(failure, message) => {
            let message = message.clone().unwrap_or_else(|| failure.to_string());
            let code = failure.extended_code;
            let kind = kind(code, &message, |table, columns| unique_index(conn, table, columns));
            let message = match kind {
                ErrorKind::Database if schema_qualified_missing(&message) => format!(
                    "{message}; if the part before the dot is a schema: SQLite has none, so \
                     remove the entity's `schema` and STRATA_SCHEMA, or ATTACH a database of \
                     that name"
                ),
                _ => message,
            };
            Error::new(kind, message).with_code(code.to_string()).with_source(e)
        }
        _ => other(e),
    }
}

/// True for "no such table: s.t" or "unknown database s": a schema-qualified name.
fn schema_qualified_missing(message: &str) -> bool {
    message.starts_with("unknown database ")
        || message.strip_prefix("no such table: ").is_some_and(|t| t.contains('.'))
}

/// Maps an error that has no connection to consult (opening, pragmas).
pub(crate) fn other(e: rusqlite::Error) -> Error {
    if let rusqlite::Error::SqliteFailure(failure, message) = &e {
        let message = message.clone().unwrap_or_else(|| failure.to_string());
        let code = failure.extended_code;
        let kind = kind(code, &message, |_, _| None);
        return Error::new(kind, message).with_code(code.to_string()).with_source(e);
    }
    let kind = match e {
        rusqlite::Error::InvalidParameterCount(..)
        | rusqlite::Error::ToSqlConversionFailure(_)
        | rusqlite::Error::IntegralValueOutOfRange(..) => ErrorKind::InvalidValue,
        _ => ErrorKind::Database,
    };
    Error::new(kind, format!("SQLite: {e}")).with_source(e)
}

/// Maps a failure to open the database file at `path`.
pub(crate) fn open(e: rusqlite::Error, path: &str) -> Error {
    let mapped = other(e);
    let mut err = Error::new(
        ErrorKind::Connection,
        format!(
            "cannot open the SQLite database {path}: {}; check that the directory exists and is \
             writable, or point DATABASE_URL at another file (sqlite://./data/app.sqlite)",
            mapped.message()
        ),
    );
    if let Some(code) = mapped.code() {
        err = err.with_code(code.to_owned());
    }
    err.with_source(mapped)
}

/// The kind of an extended result code. `unique_name` names the unique index of a table over
/// some columns.
fn kind(
    code: i32,
    message: &str,
    unique_name: impl FnOnce(&str, &[&str]) -> Option<String>,
) -> ErrorKind {
    match code {
        ffi::SQLITE_CONSTRAINT_UNIQUE
        | ffi::SQLITE_CONSTRAINT_PRIMARYKEY
        | ffi::SQLITE_CONSTRAINT_ROWID => {
            ErrorKind::UniqueViolation(unique_constraint(message, unique_name))
        }
        ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation(None),
        ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation(
            detail(message, "NOT NULL constraint failed: ")
                .map(|c| c.rsplit('.').next().unwrap_or(c).to_owned()),
        ),
        ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation(
            detail(message, "CHECK constraint failed: ")
                .filter(|name| name.chars().all(|c| c.is_alphanumeric() || c == '_'))
                .map(str::to_owned),
        ),
        ffi::SQLITE_TOOBIG => ErrorKind::ValueTooLong,
        ffi::SQLITE_MISMATCH | ffi::SQLITE_CONSTRAINT_DATATYPE => ErrorKind::InvalidValue,
        _ => match code & 0xff {
            ffi::SQLITE_BUSY | ffi::SQLITE_LOCKED => ErrorKind::SerializationFailure,
            ffi::SQLITE_CANTOPEN | ffi::SQLITE_IOERR | ffi::SQLITE_NOTADB => ErrorKind::Connection,
            _ => ErrorKind::Database,
        },
    }
}

/// The text after `prefix` in a constraint message.
fn detail<'m>(message: &'m str, prefix: &str) -> Option<&'m str> {
    message.strip_prefix(prefix).map(str::trim).filter(|d| !d.is_empty())
}

/// The constraint of `UNIQUE constraint failed: t.a, t.b` (the unique index of `t` over
/// `a, b`, via `unique_name`) or of `UNIQUE constraint failed: index 'name'`.
fn unique_constraint(
    message: &str,
    unique_name: impl FnOnce(&str, &[&str]) -> Option<String>,
) -> Option<String> {
    let detail = detail(message, "UNIQUE constraint failed: ")?;
    if let Some(name) = detail.strip_prefix("index '").and_then(|n| n.strip_suffix('\'')) {
        return Some(name.to_owned());
    }
    let mut table = None;
    let mut columns = Vec::new();
    for item in detail.split(", ") {
        let (t, c) = item.rsplit_once('.')?;
        if table.is_some_and(|known| known != t) {
            return None;
        }
        table = Some(t);
        columns.push(c);
    }
    unique_name(table?, &columns)
}

/// The name of the unique index of `table` over exactly `columns`, unless SQLite named it
/// itself (`sqlite_autoindex_…`, for an inline `UNIQUE` or `PRIMARY KEY` whose name SQLite does
/// not keep).
fn unique_index(conn: &rusqlite::Connection, table: &str, columns: &[&str]) -> Option<String> {
    let quoted = quote_ident(table);
    let mut list = conn.prepare(&format!("PRAGMA index_list({quoted})")).ok()?;
    let indexes: Vec<(String, bool)> = list
        .query_map([], |r| Ok((r.get::<_, String>("name")?, r.get::<_, bool>("unique")?)))
        .ok()?
        .filter_map(Result::ok)
        .collect();
    for (name, unique) in indexes {
        if !unique || name.starts_with("sqlite_autoindex_") {
            continue;
        }
        let quoted = quote_ident(&name);
        let Ok(mut info) = conn.prepare(&format!("PRAGMA index_info({quoted})")) else {
            continue;
        };
        let Ok(rows) = info.query_map([], |r| r.get::<_, Option<String>>("name")) else {
            continue;
        };
        let indexed: Vec<Option<String>> = rows.filter_map(Result::ok).collect();
        if indexed.len() == columns.len()
            && indexed.iter().zip(columns).all(|(a, b)| a.as_deref() == Some(*b))
        {
            return Some(name);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(ddl: &str) -> rusqlite::Connection {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch("PRAGMA foreign_keys = ON").unwrap();
        conn.execute_batch(ddl).unwrap();
        conn
    }

    fn fail(conn: &rusqlite::Connection, sql: &str) -> Error {
        map(conn.execute_batch(sql).unwrap_err(), conn)
    }

    #[test]
    fn unique_violations_name_their_index() {
        let c = conn(
            r#"CREATE TABLE a (
                   id INTEGER PRIMARY KEY, slug TEXT, x INT, y INT, inline TEXT UNIQUE, name TEXT
               );
               CREATE UNIQUE INDEX "a_slug_unique" ON a (slug);
               CREATE UNIQUE INDEX "a_x_y_unique" ON a (x, y);
               CREATE UNIQUE INDEX "a_lower" ON a (lower(name));
               INSERT INTO a VALUES (1, 's', 1, 1, 'i', 'n');"#,
        );
        let e = fail(&c, "INSERT INTO a (slug) VALUES ('s')");
        assert_eq!(e.unique_violation(), Some("a_slug_unique"), "{e}");
        assert_eq!(e.code(), Some("2067"));
        let e = fail(&c, "INSERT INTO a (x, y) VALUES (1, 1)");
        assert_eq!(e.unique_violation(), Some("a_x_y_unique"), "{e}");
        let e = fail(&c, "INSERT INTO a (id) VALUES (1)");
        assert_eq!(e.kind(), &ErrorKind::UniqueViolation(None), "{e}");
        assert_eq!(e.code(), Some("1555"));
        let e = fail(&c, "INSERT INTO a (inline) VALUES ('i')");
        assert_eq!(e.kind(), &ErrorKind::UniqueViolation(None), "an inline UNIQUE keeps no name");
        let e = fail(&c, "INSERT INTO a (name) VALUES ('N')");
        assert_eq!(e.unique_violation(), Some("a_lower"), "{e}");
    }

    #[test]
    fn not_null_check_and_foreign_key_violations_are_told_apart() {
        let c = conn(
            r#"CREATE TABLE p (id INTEGER PRIMARY KEY);
               CREATE TABLE n (
                   id INTEGER PRIMARY KEY,
                   body TEXT NOT NULL,
                   views INT CONSTRAINT "n_views_check" CHECK (views >= 0),
                   other INT CHECK (other <> 1),
                   p_id INT REFERENCES p (id)
               );"#,
        );
        let e = fail(&c, "INSERT INTO n (body) VALUES (NULL)");
        assert_eq!(e.kind(), &ErrorKind::NotNullViolation(Some("body".into())), "{e}");
        let e = fail(&c, "INSERT INTO n (body, views) VALUES ('b', -1)");
        assert_eq!(e.kind(), &ErrorKind::CheckViolation(Some("n_views_check".into())), "{e}");
        let e = fail(&c, "INSERT INTO n (body, other) VALUES ('b', 1)");
        assert_eq!(e.kind(), &ErrorKind::CheckViolation(None), "an unnamed CHECK: {e}");
        let e = fail(&c, "INSERT INTO n (body, p_id) VALUES ('b', 9)");
        assert!(e.is_foreign_key_violation(), "{e}");
        assert_eq!(e.foreign_key_violation(), None, "SQLite does not name it: {e}");
        assert_eq!(e.code(), Some("787"));
    }

    #[test]
    fn busy_is_a_serialization_failure_and_cantopen_a_connection_error() {
        assert_eq!(
            kind(ffi::SQLITE_BUSY, "database is locked", |_, _| None),
            ErrorKind::SerializationFailure
        );
        assert_eq!(
            kind(ffi::SQLITE_BUSY_SNAPSHOT, "", |_, _| None),
            ErrorKind::SerializationFailure
        );
        assert_eq!(kind(ffi::SQLITE_LOCKED, "", |_, _| None), ErrorKind::SerializationFailure);
        assert_eq!(kind(ffi::SQLITE_CANTOPEN, "", |_, _| None), ErrorKind::Connection);
        assert_eq!(kind(ffi::SQLITE_IOERR_READ, "", |_, _| None), ErrorKind::Connection);
        assert_eq!(kind(ffi::SQLITE_ERROR, "no such table: x", |_, _| None), ErrorKind::Database);
    }

    #[test]
    fn a_schema_qualified_table_gets_a_hint() {
        let c = conn("");
        let e = fail(&c, r#"SELECT * FROM "blog"."post""#);
        assert_eq!(e.kind(), &ErrorKind::Database);
        assert!(e.message().contains("blog.post"), "{e}");
        assert!(e.message().contains("SQLite has none"), "{e}");
    }

    #[test]
    fn open_errors_name_the_path_and_are_connection_errors() {
        let e = rusqlite::Connection::open("/nonexistent-dir/x/y.sqlite").unwrap_err();
        let e = open(e, "/nonexistent-dir/x/y.sqlite");
        assert!(e.is_connection(), "{e}");
        assert!(e.message().contains("/nonexistent-dir/x/y.sqlite"), "{e}");
        assert_eq!(e.code(), Some("14"));
    }
}
