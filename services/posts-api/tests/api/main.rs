//! End-to-end tests of the posts API: each test starts the real server on port 0 against a
//! PostgreSQL database of its own (`strata_test::TestDb`) and drives it over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bodies;
mod database;
mod helpers;
mod ids;
mod posts;
mod routing;
mod statements;
mod validation;
