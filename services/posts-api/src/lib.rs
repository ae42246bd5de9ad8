//! The posts API of the article "API with NestJS #62 — Introduction to MikroORM with
//! PostgreSQL", rebuilt on Strata and axum and wire-compatible with the NestJS original.
//!
//! The binary (`src/main.rs`) reads the [`config`], opens the database and serves [`app`]. The
//! crate is a library too, so the end-to-end tests build the very same router:
//!
//! ```text
//! http/      routing (case-insensitive, trailing slash), body and path-id extraction, the NestJS
//!            error format, ETag / 304, the layer stack (trace, timeout, catch-panic), and the
//!            server loop with its header, write and shutdown timeouts
//! posts/     the entity, the DTOs and their class-validator rules, PostsService over Strata
//! db.rs      creates the table at start-up until the migrator takes over
//! config.rs  environment and `.env`
//! ```

#![forbid(unsafe_code)]

pub mod config;
pub mod db;
pub mod http;
pub mod posts;
mod state;

pub use http::{ServerSettings, app, serve};
pub use state::AppState;
