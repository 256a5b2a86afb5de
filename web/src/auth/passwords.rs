//! Passwords: argon2id, hashed off the async threads because it is slow on
//! purpose.

use std::sync::Arc;

use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::store::Store;
use modelrun_core::user::User;

use crate::error::{AppError, AppResult};

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 1024;

/// A hash of a password nobody knows, verified when the email is unknown,
/// so that a wrong email takes as long to refuse as a wrong password.
const DECOY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$N6VqXZ3o2m7CvWqT6pQ0Vw$8zjf8IJqRS6g0Q5Pp6h8Yl2m7o4sY1dXj3X2n7bqg0E";

/// A password for a person to type once: 24 hex digits, 96 random bits.
pub fn generate_password() -> String {
    modelrun_core::crypto::random_hex(12)
}

/// Says why a new password is refused, if it is.
pub fn check_password_rules(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(format!(
            "the password must have at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    Ok(())
}

pub async fn hash_password(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || password_auth::generate_hash(password))
        .await
        .map_err(AppError::internal)
}

/// Sets `password` (already checked against the rules) as `user`'s
/// password, ends every session of theirs (API tokens stay valid), and
/// records who did it in the audit log.
pub async fn reset_password(
    store: &Arc<dyn Store>,
    user: &User,
    password: &str,
    actor: Actor,
    address: &str,
) -> AppResult<()> {
    let hash = hash_password(password.to_owned()).await?;
    store.set_password(user.id, &hash, None).await?;
    let entry = NewAuditEntry::new(
        actor,
        AuditAction::PasswordReset,
        format!("user {}", user.id),
    )
    .detail(serde_json::json!({ "email": user.email }))
    .from_address(address);
    store.record_audit(entry).await?;
    Ok(())
}

/// Checks a password against a stored hash, or against a decoy when there
/// is none, taking the same time either way.
pub async fn verify_password(password: String, hash: Option<String>) -> Result<bool, AppError> {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DECOY_HASH.to_owned());
        // Verify first, always: the work must not depend on whether the
        // account exists.
        let matches = password_auth::verify_password(password, &hash).is_ok();
        known && matches
    })
    .await
    .map_err(AppError::internal)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// The median time of `tries` checks of a wrong password against `hash`.
    async fn median(hash: Option<String>, tries: usize) -> Duration {
        let mut times = Vec::new();
        for _ in 0..tries {
            let started = Instant::now();
            let matched = verify_password("not the password".to_owned(), hash.clone())
                .await
                .expect("verify");
            times.push(started.elapsed());
            assert!(!matched);
        }
        times.sort();
        times[tries / 2]
    }

    /// A wrong password for a known account and any password for an unknown
    /// one take the same work, so their times tell nothing: the medians are
    /// within a factor of three (without the decoy, they differ a
    /// thousandfold).
    #[tokio::test]
    async fn an_unknown_account_takes_as_long_to_refuse_as_a_known_one() {
        let hash = hash_password("correct horse battery".to_owned())
            .await
            .expect("hash");
        let known = median(Some(hash), 7).await;
        let unknown = median(None, 7).await;
        let ratio = known.as_secs_f64() / unknown.as_secs_f64().max(1e-9);
        assert!(
            (1.0 / 3.0..3.0).contains(&ratio),
            "known {known:?}, unknown {unknown:?}"
        );
    }

    #[tokio::test]
    async fn hashes_verify_and_the_decoy_never_matches() {
        let hash = hash_password("correct horse battery".to_owned())
            .await
            .expect("hash");
        assert!(hash.starts_with("$argon2"));
        assert!(
            verify_password("correct horse battery".to_owned(), Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("wrong".to_owned(), Some(hash))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("anything".to_owned(), None)
                .await
                .expect("verify")
        );
        // The decoy is a well-formed hash, so it costs a real verification.
        assert!(password_auth::verify_password("x", DECOY_HASH).is_err());
        assert!(password_auth::is_hash_obsolete(DECOY_HASH).is_ok());
    }

    #[test]
    fn passwords_have_a_minimum_and_a_generous_maximum() {
        assert!(check_password_rules("short").is_err());
        assert!(check_password_rules(&"x".repeat(12)).is_ok());
        assert!(check_password_rules(&"x".repeat(64)).is_ok());
        assert!(check_password_rules(&"x".repeat(1025)).is_err());
    }
}
