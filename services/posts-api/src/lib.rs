//! The posts API of the article "API with NestJS #62 — Introduction to MikroORM with
//! PostgreSQL", rebuilt on Strata and axum and wire-compatible with the NestJS original.
//!
//! The binary (`src/main.rs`) reads the [`config`], opens the database and serves [`app`]. The
//! crate is a library too, so the end-to-end tests build the very same router:
//!
//! ```text
//! http/      the routes of the posts API, inside the NestJS wire layer that `nest-service`
//!            shares with blog-api (error format, bodies, ids, ETag / 304, case-insensitive
//!            paths, the server loop with its timeouts)
//! posts/     the entity, the DTOs and their class-validator rules, PostsService over Strata
//! db.rs      the migrations for each database, applied at start-up
//! config.rs  environment and `.env`
//! ```

#![forbid(unsafe_code)]

pub mod config;
pub mod db;
pub mod http;
pub mod posts;
mod state;

pub use http::app;
pub use nest_service::{ServerSettings, serve};
pub use state::AppState;
