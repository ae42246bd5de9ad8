//! Authentication, as the original's `AuthenticationService`, `LocalStrategy` and
//! `JwtStrategy`: registration with a bcrypt hash ([`password`]), log-in that answers a JWT in
//! an `HttpOnly` cookie ([`jwt`]), and the guard that checks the cookie on the routes that need
//! a user ([`service::token_user_id`], [`service::authenticated_user`]).

pub mod dto;
pub mod jwt;
pub mod password;
pub mod service;
