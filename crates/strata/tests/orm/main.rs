//! The ORM's integration suite: every behaviour of the EntityManager against a real
//! PostgreSQL, each test in a database of its own (strata-test).

// Test helpers outside `#[test]` functions may unwrap too: a failure there is a failed test.
#![allow(clippy::unwrap_used)]

mod assign;
mod common;
mod failures;
mod flush;
mod identity_map;
mod queries;
mod transactions;
mod types;
