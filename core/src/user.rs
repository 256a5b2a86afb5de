//! People, their sessions and their API tokens.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{TokenId, UserId};

/// What a person may do. Ordered: each role can do what the ones before it can.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees models and runs.
    Viewer,
    /// Also submits and cancels runs of a model's production version
    /// (a planner).
    Runner,
    /// A data scientist: also runs candidate versions, which nobody has
    /// promoted to production yet (see [`crate::alias`]).
    Scientist,
    /// Also promotes versions, manages users, tokens and versions, and sees the queue and outbox.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Runner, Role::Scientist, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Runner => "runner",
            Role::Scientist => "scientist",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}: use viewer, runner, scientist or admin"))
    }
}

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// When an administrator disabled the account; `None` while it is
    /// enabled. A disabled user cannot sign in and their sessions and API
    /// tokens are refused.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

/// A user to create. The password is already hashed.
#[derive(Clone)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub role: Role,
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("email", &self.email)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A user with the hash that signs them in.
#[derive(Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A named API token. The token itself is shown once and only its hash is kept.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiToken {
    pub id: TokenId,
    pub user_id: UserId,
    pub name: String,
    /// The first characters of the token, so that a person can tell tokens apart.
    pub prefix: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A token to store.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    pub role: Role,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Normalises and checks an email address: trimmed, lowercase, one `@`
/// with text on both sides, no spaces, at most 254 characters.
pub fn normalize_email(email: &str) -> Result<String, &'static str> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@'));
    if valid {
        Ok(email)
    } else {
        Err("must be an email address such as name@example.com")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_power() {
        assert!(Role::Viewer < Role::Runner && Role::Runner < Role::Scientist);
        assert!(Role::Scientist < Role::Admin);
        assert_eq!("scientist".parse::<Role>(), Ok(Role::Scientist));
        assert_eq!("runner".parse::<Role>(), Ok(Role::Runner));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email(" Ann@Example.COM "),
            Ok("ann@example.com".to_owned())
        );
        assert_eq!(
            normalize_email("admin@localhost"),
            Ok("admin@localhost".to_owned())
        );
        for bad in ["", "ann", "@x", "ann@", "a@b@c", "a b@c", "a\n@c"] {
            assert!(normalize_email(bad).is_err(), "{bad:?}");
        }
    }
}
