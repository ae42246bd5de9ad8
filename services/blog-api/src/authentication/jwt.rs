//! [`Tokens`]: the authentication cookie's JWT, HS256 with `{"userId":…,"iat":…,"exp":…}` as
//! the original's `@nestjs/jwt` signs it, and the `Authentication` cookie that carries it.
//!
//! A token is accepted when its signature is HS256 with `JWT_SECRET`, it has not expired (no
//! leeway, as node's `jsonwebtoken`), and its `userId` is a number. Anything else — no cookie,
//! an empty or garbage one, a tampered or expired token, another algorithm (`none` included) —
//! is refused without touching the database.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::JwtSettings;

/// The name of the cookie.
pub const COOKIE: &str = "Authentication";

/// The claims of a token.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    #[serde(rename = "userId")]
    pub user_id: i64,
    /// Issued at, in seconds since the epoch.
    pub iat: u64,
    /// Expires at, in seconds since the epoch.
    pub exp: u64,
}

/// Signs and verifies the tokens.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    expiration_secs: u64,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("expiration_secs", &self.expiration_secs).finish()
    }
}

/// A key that `jsonwebtoken` refuses (it accepts any HMAC secret, so this does not happen).
#[derive(Debug)]
pub struct KeyError(String);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JWT_SECRET cannot be used as an HS256 key: {}", self.0)
    }
}

impl std::error::Error for KeyError {}

impl Tokens {
    /// The keys of `settings`.
    ///
    /// # Errors
    ///
    /// A secret the JWT library refuses.
    pub fn new(settings: &JwtSettings) -> Result<Self, KeyError> {
        let secret = settings.secret.as_bytes();
        let encoding = EncodingKey::from_secret(secret).map_err(|e| KeyError(e.to_string()))?;
        let decoding = DecodingKey::from_secret(secret).map_err(|e| KeyError(e.to_string()))?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        Ok(Self { encoding, decoding, validation, expiration_secs: settings.expiration_secs })
    }

    /// The lifetime of a token, in seconds (the cookie's `Max-Age`).
    pub fn expiration_secs(&self) -> u64 {
        self.expiration_secs
    }

    /// A token for `user_id`, valid from now for the configured time.
    ///
    /// # Errors
    ///
    /// The JWT library's error (serializing three numbers does not fail).
    pub fn sign(&self, user_id: i32) -> Result<String, jsonwebtoken::errors::Error> {
        let iat = now();
        let claims = Claims { user_id: i64::from(user_id), iat, exp: iat + self.expiration_secs };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
    }

    /// The user id of a valid token; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<i64> {
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        Some(data.claims.user_id)
    }

    /// `Authentication=<token>; HttpOnly; Path=/; Max-Age=<seconds>`.
    pub fn cookie(&self, token: &str) -> String {
        format!("{COOKIE}={token}; HttpOnly; Path=/; Max-Age={}", self.expiration_secs)
    }
}

/// The cookie that log-out sets: `Authentication=; HttpOnly; Path=/; Max-Age=0`.
pub const CLEARED_COOKIE: &str = "Authentication=; HttpOnly; Path=/; Max-Age=0";

/// The value of the `Authentication` cookie among the request's `Cookie` headers, as Express's
/// cookie-parser reads it (surrounding double quotes removed); the first one wins.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| name.trim() == COOKIE)
        .map(|(_, value)| {
            let value = value.trim();
            value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value).to_owned()
        })
        .filter(|value| !value.is_empty())
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn tokens() -> Tokens {
        Tokens::new(&JwtSettings { secret: "secret".into(), expiration_secs: 3600 }).unwrap()
    }

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for c in cookies {
            headers.append(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        headers
    }

    #[test]
    fn a_signed_token_verifies_and_carries_the_user_id() {
        let t = tokens();
        let token = t.sign(7).unwrap();
        assert_eq!(t.verify(&token), Some(7));
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(t.cookie("abc"), "Authentication=abc; HttpOnly; Path=/; Max-Age=3600");
    }

    #[test]
    fn tampered_foreign_expired_and_unsigned_tokens_are_refused() {
        let t = tokens();
        let token = t.sign(7).unwrap();
        assert_eq!(t.verify(&format!("{token}x")), None, "tampered signature");
        assert_eq!(t.verify("garbage"), None);
        assert_eq!(t.verify(""), None);
        let other = Tokens::new(&JwtSettings { secret: "other".into(), expiration_secs: 60 })
            .unwrap()
            .sign(7)
            .unwrap();
        assert_eq!(t.verify(&other), None, "another secret");
        let key = EncodingKey::from_secret(b"secret").unwrap();
        let expired = Claims { user_id: 1, iat: 1000, exp: 2000 };
        let expired = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &expired, &key).unwrap();
        assert_eq!(t.verify(&expired), None, "expired");
        // {"alg":"none"} with the payload of a valid token and no signature.
        let payload = token.split('.').nth(1).unwrap();
        assert_eq!(t.verify(&format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.")), None);
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        assert_eq!(cookie_token(&headers(&["theme=dark; Authentication=abc"])), Some("abc".into()));
        assert_eq!(cookie_token(&headers(&["a=1", "Authentication=\"x\""])), Some("x".into()));
        assert_eq!(cookie_token(&headers(&["Authentication="])), None);
        assert_eq!(cookie_token(&headers(&["Authorization=abc.def.ghi"])), None);
        assert_eq!(cookie_token(&headers(&["garbage"])), None);
        assert_eq!(cookie_token(&HeaderMap::new()), None);
    }
}
