//! The one error type of Strata.
//!
//! Every fallible operation of the ORM returns [`Error`]. Its [`ErrorKind`] says what went wrong
//! in terms a caller can act on (a unique violation with the constraint name, an optimistic-lock
//! conflict, a lost connection, …); drivers map their native error codes (SQLSTATE for
//! PostgreSQL) to these kinds in one table each.

use std::fmt;
use std::sync::Arc;

/// What went wrong. New kinds may be added, so match with a wildcard arm.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// An entity looked up by key or filter does not exist (`find_one_or_fail`).
    NotFound,
    /// A unique constraint was violated; holds the constraint name when the database reports it.
    UniqueViolation(Option<String>),
    /// A foreign-key constraint was violated; holds the constraint name when known.
    ForeignKeyViolation(Option<String>),
    /// A NOT NULL column received NULL; holds the column name when known.
    NotNullViolation(Option<String>),
    /// A CHECK constraint was violated; holds the constraint name when known.
    CheckViolation(Option<String>),
    /// A value is longer than its column allows (for example 300 characters for `varchar(255)`).
    ValueTooLong,
    /// A text value the database cannot store, such as one containing a NUL byte.
    InvalidText,
    /// A serializable transaction could not be committed, or a deadlock was detected; retry it.
    SerializationFailure,
    /// An UPDATE or DELETE guarded by a version column found another version: someone else
    /// changed the row since it was loaded.
    OptimisticLock,
    /// A flush's UPDATE or DELETE found no row for a managed or removed entity: another writer
    /// deleted it since it was loaded (or the key never existed). Nothing of the flush was
    /// written. A web service answers this as it answers a missing resource (404).
    RowGone,
    /// The database could not be reached, or the connection was lost mid-operation.
    Connection,
    /// The configuration is invalid or incomplete.
    Config,
    /// A value read from the database, or assigned from outside, does not fit the field's type.
    InvalidValue,
    /// The API was used in a way it does not support (for example persisting a second instance
    /// with the key of one already managed).
    Usage,
    /// Any other error reported by the database; the message carries its text and code.
    Database,
}

/// The error of every Strata operation. Cheap to clone (one reference count), so a service
/// can keep the error of a failed start-up and answer with it.
#[derive(Clone)]
pub struct Error {
    inner: Arc<Inner>,
}

#[derive(Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    code: Option<String>,
    source: Option<Arc<dyn std::error::Error + Send + Sync + 'static>>,
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.inner.kind)
            .field("message", &self.inner.message)
            .field("code", &self.inner.code)
            .field("source", &self.inner.source)
            .finish()
    }
}

/// The result type used across Strata.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Creates an error of `kind` with a message for people.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self { inner: Arc::new(Inner { kind, message: message.into(), code: None, source: None }) }
    }

    /// Attaches the database's native error code (SQLSTATE for PostgreSQL).
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        Arc::make_mut(&mut self.inner).code = Some(code.into());
        self
    }

    /// Attaches the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Arc::make_mut(&mut self.inner).source = Some(Arc::new(source));
        self
    }

    /// The same error (kind and code kept) with `context` before its message, and this error
    /// as its source: `"applying 20260101_init: relation \"x\" already exists"`.
    ///
    /// ```
    /// # use strata_core::{Error, ErrorKind};
    /// let e = Error::new(ErrorKind::Connection, "connection refused").with_code("08001");
    /// let e = e.context("cannot reach the database");
    /// assert_eq!(e.message(), "cannot reach the database: connection refused");
    /// assert_eq!((e.kind(), e.code()), (&ErrorKind::Connection, Some("08001")));
    /// ```
    #[must_use]
    pub fn context(self, context: impl fmt::Display) -> Self {
        let message = format!("{context}: {}", self.inner.message);
        self.wrapped(message)
    }

    /// The same error (kind and code kept) with `hint`, what to do about it, on a line of its
    /// own after its message, and this error as its source.
    ///
    /// ```
    /// # use strata_core::{Error, ErrorKind};
    /// let e = Error::new(ErrorKind::Connection, "database \"blog\" does not exist").with_code("3D000");
    /// let e = e.with_hint("run `database:create` to create it");
    /// assert_eq!(e.message(), "database \"blog\" does not exist\nrun `database:create` to create it");
    /// assert_eq!((e.kind(), e.code()), (&ErrorKind::Connection, Some("3D000")));
    /// ```
    #[must_use]
    pub fn with_hint(self, hint: impl fmt::Display) -> Self {
        let message = format!("{}\n{hint}", self.inner.message);
        self.wrapped(message)
    }

    /// A new error of the same kind and code with `message`, and this one as its source.
    fn wrapped(self, message: String) -> Self {
        Self {
            inner: Arc::new(Inner {
                kind: self.inner.kind.clone(),
                code: self.inner.code.clone(),
                message,
                source: Some(Arc::new(self)),
            }),
        }
    }

    /// A not-found error naming the entity and the key, as `find_one_or_fail` returns it.
    pub fn not_found(entity: &str, key: impl fmt::Display) -> Self {
        Self::new(ErrorKind::NotFound, format!("{entity} not found ({key})"))
    }

    /// A usage error.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }

    /// A configuration error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }

    /// An invalid-value error.
    pub fn invalid_value(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidValue, message)
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.inner.kind
    }

    /// The message, without the kind.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// The database's native error code, if the error came from the database.
    pub fn code(&self) -> Option<&str> {
        self.inner.code.as_deref()
    }

    /// True when an entity was not found.
    pub fn is_not_found(&self) -> bool {
        self.inner.kind == ErrorKind::NotFound
    }

    /// True for a unique violation, named or not.
    pub fn is_unique_violation(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::UniqueViolation(_))
    }

    /// The constraint name of a unique violation; `None` when this is not one, or when the
    /// database did not name the constraint (see [`Error::is_unique_violation`]).
    pub fn unique_violation(&self) -> Option<&str> {
        match &self.inner.kind {
            ErrorKind::UniqueViolation(name) => name.as_deref(),
            _ => None,
        }
    }

    /// True for a foreign-key violation, named or not.
    pub fn is_foreign_key_violation(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::ForeignKeyViolation(_))
    }

    /// The constraint name of a foreign-key violation; `None` when this is not one, or when the
    /// database did not name the constraint (SQLite never does).
    pub fn foreign_key_violation(&self) -> Option<&str> {
        match &self.inner.kind {
            ErrorKind::ForeignKeyViolation(name) => name.as_deref(),
            _ => None,
        }
    }

    /// True for an optimistic-lock conflict.
    pub fn is_optimistic_lock(&self) -> bool {
        self.inner.kind == ErrorKind::OptimisticLock
    }

    /// True when a flush found the row of an entity it had to update or delete gone.
    pub fn is_row_gone(&self) -> bool {
        self.inner.kind == ErrorKind::RowGone
    }

    /// True when the database could not be reached or the connection was lost.
    pub fn is_connection(&self) -> bool {
        self.inner.kind == ErrorKind::Connection
    }

    /// True for errors a caller may fix by retrying the same work later
    /// (serialization failures and lost connections).
    pub fn is_transient(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::SerializationFailure | ErrorKind::Connection)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.inner.message)?;
        if let Some(code) = &self.inner.code {
            write!(f, " (code {code})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}
