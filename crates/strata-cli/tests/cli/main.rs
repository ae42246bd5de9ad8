//! The commands run in-process as a library, against a real PostgreSQL (one database per
//! test), checking exit codes, output and the database.

#![allow(clippy::unwrap_used)]

mod common;

mod create;
mod migrate;
mod schema;
mod setup;
