//! End-to-end tests of the posts API: each test starts the real server on port 0 against a
//! database of its own and drives it over HTTP, once on PostgreSQL (`strata_test::TestDb`) and
//! once on SQLite (`strata_test::SqliteTestDb`, a temporary file): `<module>::postgres::<test>`
//! and `<module>::sqlite::<test>`.
//!
//! The HTTP contract is the same on both databases. What legitimately differs is declared
//! where it differs: the tests that make a PostgreSQL server unreachable are listed as
//! `postgres_only` with their reason (see `strata_test::conformance!`), and a lock held by another
//! connection makes reads wait on PostgreSQL but not on SQLite, whose readers never wait for a
//! writer in WAL mode (`TestApp::reads_wait_for_the_lock`).
//!
//! `connections` tests the server's own bounds (header, write and shutdown timeouts) with raw
//! sockets; they do not depend on the database and run on SQLite only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod bodies;
mod connections;
mod database;
mod ids;
mod migrations;
mod posts;
mod races;
mod routing;
mod statements;
mod validation;
