//! The ORM's integration suite, a driver conformance suite: every behaviour of the
//! EntityManager, each test run against a real PostgreSQL and a real SQLite, in a database of
//! its own (strata-test). `cargo test -p strata --test orm sqlite::` runs one backend. Where
//! the databases legitimately differ, `strata_test::Caps` declares it and the test asserts each
//! backend's behaviour.

// Test helpers outside `#[test]` functions may unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod assign;
mod common;
mod copy;
mod dirty;
mod failures;
mod flush;
mod identity_map;
mod in_flight;
mod locks;
mod queries;
mod relations;
mod transactions;
mod types;
