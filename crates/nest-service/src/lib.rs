//! The NestJS wire layer that the Strata services share, so that `posts-api` (article #62) and
//! `blog-api` (article #63) answer their clients the way the NestJS originals did, from one
//! implementation.
//!
//! ```text
//! error.rs      ApiError: every error answer in the NestJS format ({"statusCode","message","error"}),
//!               and the mapping of Strata's errors to statuses
//! extract.rs    the request body (JSON and form, 100 kB, as Express parses them) and `:id` path ids
//! js_number.rs  JavaScript's Number() and String(), for path ids and their 404 messages
//! response.rs   JSON responses with a weak ETag, as Express sends them
//! router.rs     the layer stack: trace, catch-panic, timeout, ETag/304, case-insensitive paths,
//!               and the original's `Cannot PUT /posts/1` 404
//! server.rs     the accept loop with header, write and shutdown timeouts
//! config.rs     PORT, timeouts, log filter, DATABASE_URL / POSTGRES_* / SQLite default, `.env`
//! schema.rs     a service's migrations per database, applied at start-up; the schema gate and
//!               the readiness `/health` reports
//! validation.rs class-validator's rules and messages for the DTOs
//! process.rs    what a service binary does around its router: opening the database, logging,
//!               signals, the Strata commands
//! ```
//!
//! A service builds its routes over its own state, then hands them to [`app`]; `main` reads a
//! [`config::ServiceConfig`] and calls [`serve`].

#![forbid(unsafe_code)]

pub mod config;
pub mod error;
pub mod extract;
pub mod js_number;
pub mod process;
pub mod response;
mod router;
pub mod schema;
mod server;
pub mod validation;
mod write_timeout;

pub use error::ApiError;
pub use extract::{BODY_LIMIT, Body, EntityId, ID_MESSAGE, PathId};
pub use response::json_response;
pub use router::app;
pub use schema::{Schema, SchemaGate, live};
pub use server::{ServerSettings, serve};
