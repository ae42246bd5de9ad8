//! One test body, run once per database: [`conformance!`](crate::conformance),
//! [`conformance_sync!`](crate::conformance_sync), and the table of what legitimately differs
//! between the databases ([`Caps`], [`caps`]).
//!
//! The ORM's suite, the schema engine's diff fixtures and the posts service's API tests are all
//! written this way: each test is an `async fn name(b: Backend)`, the module ends with
//! `conformance!(name, …)`, and the test runs as `<module>::postgres::<name>` and
//! `<module>::sqlite::<name>`. A behaviour that differs is declared in [`Caps`] and asserted
//! both ways, never skipped; a test that cannot run on SQLite at all is listed after
//! `postgres_only:` with its reason, which becomes the generated test's documentation.

use crate::Backend;

/// Expands a list of `async fn name(b: Backend)` tests into one `#[tokio::test]` per database,
/// `postgres::name` and `sqlite::name`. After `; postgres_only:`, `async fn name()` tests that
/// exercise what SQLite does not have, each with the reason (`name => "why"`). A test left out
/// of the lists is never called, which the `dead_code` lint reports.
///
/// The calling crate needs `tokio` with its `macros` and `rt` features.
///
/// ```ignore
/// use strata_test::{Backend, conformance};
///
/// async fn a_post_round_trips(b: Backend) { /* … */ }
/// async fn the_server_goes_away() { /* … */ }
///
/// conformance!(a_post_round_trips; postgres_only: the_server_goes_away => "a server process");
/// ```
#[macro_export]
macro_rules! conformance {
    (
        $($name:ident),* $(,)?
        $(; postgres_only: $($pg:ident => $why:literal),* $(,)?)?
    ) => {
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await;
                }
            )*
            $($(
                #[doc = $why]
                #[tokio::test]
                async fn $pg() {
                    super::$pg().await;
                }
            )*)?
        }
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await;
                }
            )*
        }
    };
}

/// [`conformance!`](crate::conformance) for tests that are plain functions
/// `fn name(b: Backend)`, which build their own runtimes: tests of code that could block a
/// thread.
#[macro_export]
macro_rules! conformance_sync {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::Backend::Postgres);
                }
            )*
        }
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::Backend::Sqlite);
                }
            )*
        }
    };
}

/// What one database does where databases legitimately differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Caps {
    /// A value longer than `varchar(n)` fails with `ValueTooLong` (SQLite stores it).
    pub enforces_varchar_length: bool,
    /// Text containing NUL fails with `InvalidText` (SQLite stores it).
    pub rejects_nul_in_text: bool,
    /// Tables can live in named schemas (SQLite has none).
    pub schemas: bool,
    /// Foreign-key violations name their constraint (SQLite does not say which one).
    pub names_foreign_keys: bool,
    /// The native code of a unique violation.
    pub unique_violation_code: &'static str,
    /// A reader waits while another connection holds an exclusive lock on the table it reads
    /// (PostgreSQL's `ACCESS EXCLUSIVE`); SQLite's readers never wait for a writer in WAL mode.
    pub reads_wait_for_table_locks: bool,
}

/// The capabilities of `backend`.
///
/// ```
/// use strata_test::{Backend, caps};
/// assert!(caps(Backend::Postgres).schemas);
/// assert!(!caps(Backend::Sqlite).schemas);
/// ```
pub fn caps(backend: Backend) -> Caps {
    match backend {
        Backend::Postgres => Caps {
            enforces_varchar_length: true,
            rejects_nul_in_text: true,
            schemas: true,
            names_foreign_keys: true,
            unique_violation_code: "23505",
            reads_wait_for_table_locks: true,
        },
        Backend::Sqlite => Caps {
            enforces_varchar_length: false,
            rejects_nul_in_text: false,
            schemas: false,
            names_foreign_keys: false,
            unique_violation_code: "2067",
            reads_wait_for_table_locks: false,
        },
    }
}
