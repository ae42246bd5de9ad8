//! End-to-end tests of the blog API: each test starts the real server on port 0 against a
//! database of its own and drives it over HTTP, once on PostgreSQL and once on SQLite
//! (`<module>::postgres::<test>` and `<module>::sqlite::<test>`).
//!
//! | module | what |
//! | --- | --- |
//! | `authentication` | register, log-in, log-out, the guard and its tokens |
//! | `posts` | posts and categories: shapes, guards, ids |
//! | `statements` | the statements of every route, from the query log |
//! | `improvements` | each item of "Where the rebuild must do better" |
//! | `fuzz` | no request gets a 500 |
//! | `races` | registrations of one email at once |
//! | `wire` | the NestJS wire layer shared with posts-api |
//! | `transcript` | the original's 200 recorded exchanges, replayed |

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod authentication;
mod fuzz;
mod improvements;
mod posts;
mod races;
mod statements;
mod transcript;
mod wire;
