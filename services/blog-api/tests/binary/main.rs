//! Tests of the compiled `blog-api` binary, run as a user runs it: in a working directory of
//! its own, with a clean environment (only `PATH`, `HOME` and the variables a test sets).
//!
//! - start-up validation: a missing or invalid `JWT_SECRET` / `JWT_EXPIRATION_TIME` is a clear
//!   line and exit code 2, reported with the other variables' problems, never a panic; the
//!   commands and `--help` need no JWT variable;
//! - the zero-setup run: no database configured, the data goes to `./data/blog.sqlite`
//!   (migrated at start-up) and survives a restart;
//! - PostgreSQL through `DATABASE_URL`: the service migrates its own database and serves.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod service;
mod startup;
