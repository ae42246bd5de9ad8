//! Tests of the compiled `posts-api` binary, run as a user runs it: in a working directory of
//! its own, with a clean environment (only `PATH`, `HOME` and the variables a test sets).
//!
//! - the zero-setup run: no database configured, the posts go to `./data/posts.sqlite` and
//!   survive a restart (SIGTERM, then a second start);
//! - PostgreSQL through `DATABASE_URL`: the service migrates its own database and serves;
//! - the Strata commands the binary embeds (`migration:*`, `debug`, `--help`), their output and
//!   exit codes (0 ok, 1 error or differences, 2 usage);
//! - invalid configuration: one line per problem, exit code 2, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod commands;
mod replicas;
mod service;
mod usage;
