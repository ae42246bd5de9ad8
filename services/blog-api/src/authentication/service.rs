//! [`AuthenticationService`]: registration and log-in on a request's EntityManager, and the
//! guard: [`token_user_id`], then [`authenticated_user`].
//!
//! Statements: register sends BEGIN, INSERT "address" (when one is given, by cascade), INSERT
//! "user", COMMIT; log-in one SELECT of the user by email, then its address and its posts
//! together (2 or 3); the guard one SELECT of the user and one of its address when it has one
//! (1 or 2), nothing for a missing or invalid cookie.

use axum::http::HeaderMap;
use nest_service::ApiError;
use strata::query::FindOptions;
use strata::{Collection, Entity, EntityManager, Managed, Reference};

use super::dto::{AddressInput, LogIn, RegisterDto};
use super::jwt::{Tokens, cookie_token};
use super::password;
use crate::entities::{Address, User};
use crate::errors::{email_taken, user_not_found, wrong_credentials};

/// A bcrypt hash with the cost of real ones, checked (and its result ignored) when the email
/// is unknown, so that an unknown email takes as long to refuse as a wrong password.
const DUMMY_HASH: &str = "$2b$10$CtLUT4yWMXUOCkDFc3S3d.o9OqWTLqgSdQlxrZ2PTbmW512PHBIvG";

/// The authentication of one request.
#[derive(Debug)]
pub struct AuthenticationService<'a> {
    em: &'a EntityManager,
}

impl<'a> AuthenticationService<'a> {
    /// A service over `em` (the request's).
    pub fn new(em: &'a EntityManager) -> Self {
        Self { em }
    }

    /// Creates a user (and its address, in the same flush) with the password hashed.
    ///
    /// # Errors
    ///
    /// 400 `User with that email already exists` on a unique violation, also when two
    /// registrations of one email race; the database's error otherwise.
    pub async fn register(&self, dto: RegisterDto) -> Result<Managed<User>, ApiError> {
        let RegisterDto { email, name, password, address } = dto;
        let hash = password::hash(password).await.map_err(ApiError::Internal)?;
        let address = match address {
            AddressInput::Given(a) => Some(Reference::to(&Managed::new(Address {
                id: 0,
                street: a.street,
                city: a.city,
                country: a.country,
            }))),
            AddressInput::Absent | AddressInput::Null => None,
        };
        let user = self.em.create(User {
            id: 0,
            email,
            name,
            password: hash,
            address,
            posts: Collection::new(),
        });
        self.em
            .flush()
            .await
            .map_err(|e| if e.is_unique_violation() { email_taken() } else { ApiError::from(e) })?;
        Ok(user)
    }

    /// The user with these credentials, with its address and posts.
    ///
    /// # Errors
    ///
    /// 401 for a missing field, 400 `Wrong credentials provided` for an unknown email or a
    /// wrong password.
    pub async fn log_in(&self, log_in: LogIn) -> Result<Managed<User>, ApiError> {
        let (email, password) = match log_in {
            LogIn::Credentials { email, password } => (email, password),
            LogIn::Missing => return Err(ApiError::unauthorized()),
            LogIn::Unmatchable => return Err(wrong_credentials()),
        };
        let u = User::fields();
        let options = FindOptions::new().limit(1).populate(u.address).populate(u.posts);
        let user = self.em.find(u.email.eq(email), options).await?.into_iter().next();
        let Some(user) = user else {
            password::verify(password, DUMMY_HASH.to_owned()).await;
            return Err(wrong_credentials());
        };
        let hash = user.read().password.clone();
        if password::verify(password, hash).await { Ok(user) } else { Err(wrong_credentials()) }
    }
}

/// The guard's first half: the user id of the request's `Authentication` cookie, checked
/// without the database.
///
/// # Errors
///
/// 401 `Unauthorized` for a missing, empty, malformed, tampered or expired token; 404 `User
/// not found` for a valid token whose id no user can have.
pub fn token_user_id(tokens: &Tokens, headers: &HeaderMap) -> Result<i32, ApiError> {
    let token = cookie_token(headers).ok_or_else(ApiError::unauthorized)?;
    let user_id = tokens.verify(&token).ok_or_else(ApiError::unauthorized)?;
    i32::try_from(user_id).map_err(|_| user_not_found())
}

/// The guard's second half: the user of a valid token, with its address.
///
/// # Errors
///
/// 404 `User not found` for a valid token of a user that does not exist (any more), as the
/// original answers it; the database's error.
pub async fn authenticated_user(
    em: &EntityManager,
    user_id: i32,
) -> Result<Managed<User>, ApiError> {
    let u = User::fields();
    let options = FindOptions::new().limit(1).populate(u.address);
    em.find(u.id.eq(user_id), options).await?.into_iter().next().ok_or_else(user_not_found)
}
