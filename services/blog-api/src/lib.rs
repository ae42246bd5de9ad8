//! The blog API of the article "API with NestJS #63 — Relationships with PostgreSQL and
//! MikroORM" (users with addresses, posts with authors and categories, authentication with a
//! JWT cookie), rebuilt on Strata and axum and wire-compatible with the NestJS original; where
//! the original answered 500, it answers a precise 4xx.
//!
//! The binary (`src/main.rs`) reads the [`config`], opens the database and serves [`app`]. The
//! crate is a library too, so the end-to-end tests build the very same router:
//!
//! ```text
//! entities.rs        Address, User, Category, PostEntity and their relations
//! authentication/    register, log-in, the JWT cookie and the guard; bcrypt passwords
//! categories/        DTOs and CategoriesService
//! posts/             DTOs and PostsService (populate, cascade, pivot differences)
//! views.rs           the JSON shape of every answer
//! errors.rs          the service's own error answers
//! http/              the routes, inside the NestJS wire layer of `nest-service` (shared with
//!                    posts-api)
//! db.rs              the migrations for each database, applied at start-up
//! config.rs          environment and `.env`, JWT_SECRET and JWT_EXPIRATION_TIME
//! ```

#![forbid(unsafe_code)]

pub mod authentication;
pub mod categories;
pub mod config;
pub mod db;
pub mod entities;
pub mod errors;
mod http;
pub mod posts;
mod state;
pub mod views;

pub use http::app;
pub use nest_service::{ServerSettings, serve};
pub use state::AppState;
