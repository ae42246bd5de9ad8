//! Passwords: bcrypt with cost 10, hashed as `$2b$10$…` like the original's node `bcrypt`, so
//! that the hashes of either can be checked by the other. Hashing takes tens of milliseconds
//! of CPU, so it runs on the blocking thread pool, never on the request's thread.

/// The cost factor of the original (`bcrypt.hash(password, 10)`).
pub const COST: u32 = 10;

/// The bcrypt hash of `password`.
///
/// # Errors
///
/// The message of a hashing failure (only a failing random generator can cause one).
pub async fn hash(password: String) -> Result<String, String> {
    tokio::task::spawn_blocking(move || bcrypt::hash(password, COST))
        .await
        .map_err(|e| format!("the hashing task failed: {e}"))?
        .map_err(|e| format!("bcrypt failed: {e}"))
}

/// Whether `password` matches `hash`; a malformed hash matches nothing.
pub async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by the NestJS original (node's `bcrypt` 5, `bcrypt.hash("alice-password", 10)`), as
    /// its register of `alice@example.com` stored it in article #63's recorded transcript.
    const NODE_HASH: &str = "$2b$10$CtLUT4yWMXUOCkDFc3S3d.o9OqWTLqgSdQlxrZ2PTbmW512PHBIvG";

    /// The same for a password beyond ASCII (`zoë-pässwörd`, hashed as UTF-8).
    const NODE_HASH_UNICODE: &str = "$2b$10$ZOS8ONaoKwuYwianSxrMiebAIiOLfzeeyDAK.Z16z9d/y1Vxjr2zW";

    #[tokio::test]
    async fn hashes_are_2b_with_cost_10_and_verify() {
        let hashed = hash("alice-password".into()).await.unwrap();
        assert!(hashed.starts_with("$2b$10$"), "{hashed}");
        assert_eq!(hashed.len(), 60);
        assert!(verify("alice-password".into(), hashed.clone()).await);
        assert!(!verify("alice-passwore".into(), hashed).await);
    }

    #[tokio::test]
    async fn a_hash_made_by_node_bcrypt_verifies() {
        assert!(verify("alice-password".into(), NODE_HASH.into()).await);
        assert!(!verify("wrong".into(), NODE_HASH.into()).await);
        assert!(verify("zoë-pässwörd".into(), NODE_HASH_UNICODE.into()).await);
        assert!(!verify("zoe-passwort".into(), NODE_HASH_UNICODE.into()).await);
    }

    #[tokio::test]
    async fn a_malformed_hash_matches_nothing() {
        assert!(!verify("x".into(), "not a hash".into()).await);
        assert!(!verify(String::new(), String::new()).await);
    }
}
