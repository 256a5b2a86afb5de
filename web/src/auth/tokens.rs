//! Minting API tokens: named, at most their owner's role, optionally
//! expiring. The token is returned once; the store keeps its SHA-256.
//! Without a chosen role a token gets the least role that acts, so a
//! script's token that leaks reaches no more than submitting runs.

use std::sync::Arc;

use chrono::Utc;
use modelrun_core::crypto::{random_hex, sha256_hex};
use modelrun_core::store::Store;
use modelrun_core::user::{ApiToken, NewApiToken, Role, User};

use crate::error::{AppError, AppResult};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EXPIRY_DAYS: u32 = 3650;

/// The role a new token gets when none is chosen: [`Role::Runner`] (submits
/// and cancels runs), or the owner's own role when that is lower.
pub fn default_role(owner: Role) -> Role {
    owner.min(Role::Runner)
}

/// Creates a token for `owner` with `role`, or [`default_role`] when `None`.
/// Refusals name the field and its limit.
pub async fn mint(
    store: &Arc<dyn Store>,
    owner: &User,
    name: &str,
    role: Option<Role>,
    expires_in_days: Option<u32>,
) -> AppResult<(ApiToken, String)> {
    let role = role.unwrap_or_else(|| default_role(owner.role));
    if role > owner.role {
        return Err(AppError::Forbidden(format!(
            "role: a token cannot have a higher role ({role}) than its owner ({})",
            owner.role
        )));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(AppError::BadRequest(format!(
            "name: the token name must be 1 to {MAX_NAME_CHARS} characters"
        )));
    }
    if let Some(days) = expires_in_days
        && !(1..=MAX_EXPIRY_DAYS).contains(&days)
    {
        return Err(AppError::BadRequest(format!(
            "expires in days: must be from 1 to {MAX_EXPIRY_DAYS}, or empty for no expiry"
        )));
    }
    let token = format!("mr_{}", random_hex(24));
    let stored = store
        .create_token(NewApiToken {
            user_id: owner.id,
            name: name.to_owned(),
            token_hash: sha256_hex(&token),
            prefix: token[..10].to_owned(),
            role,
            expires_at: expires_in_days
                .map(|days| Utc::now() + chrono::Duration::days(i64::from(days))),
        })
        .await?;
    Ok((stored, token))
}
