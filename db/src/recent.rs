//! Who an API token or a session stood for, kept for [`KEEP`], so that a
//! burst of requests with one credential (a script polling, a page and its
//! requests) costs one database query, not one per request.
//!
//! What is kept can only be older than the database by less than [`KEEP`],
//! and only when the change came from another process (a second web
//! instance, the `modelrun` command line): every change to users, sessions
//! or tokens made through this store forgets everything at once, and a read
//! that overlapped such a change is not kept (each entry carries the
//! generation its read started in). Only found credentials are kept; an
//! unknown token asks the database every time. Requests that come together
//! with one credential share one read of it ([`crate::flight`]). Keys are
//! the credentials' SHA-256 hashes, never the secrets.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use modelrun_core::display::DisplaySettings;
use modelrun_core::user::{ApiToken, User};

/// How long a credential is trusted without asking the database: the
/// longest a revocation, a disabled user or a changed role made by another
/// process takes to apply here.
pub const KEEP: Duration = Duration::from_secs(2);

/// At most this many credentials are kept; when full, all are forgotten.
const MAX_ENTRIES: usize = 10_000;

/// What a credential stood for when it was read.
#[derive(Debug, Clone)]
pub(crate) enum Known {
    Token(User, ApiToken),
    Session {
        user: User,
        display: DisplaySettings,
        created_at: DateTime<Utc>,
        last_seen_at: DateTime<Utc>,
    },
}

#[derive(Debug)]
struct Entry {
    generation: u64,
    read_at: Instant,
    known: Known,
}

/// The credentials read in the last [`KEEP`]; see the module's notes.
#[derive(Debug, Default)]
pub(crate) struct RecentCredentials {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
    /// The last-use time this process last wrote for each credential.
    touched: Mutex<HashMap<String, DateTime<Utc>>>,
    /// Reads of credentials that come together, made once.
    pub(crate) reads: crate::flight::Shared<Option<Known>>,
}

impl RecentCredentials {
    /// The generation a read starts in; pass it to [`Self::keep`].
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// What `key` stood for, if it was read less than [`KEEP`] ago and
    /// nothing changed since through this store.
    pub(crate) fn get(&self, key: &str) -> Option<Known> {
        let generation = self.generation();
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        (entry.generation == generation && entry.read_at.elapsed() < KEEP)
            .then(|| entry.known.clone())
    }

    /// Keeps what a read that started in `generation` found, unless a
    /// change came in between.
    pub(crate) fn keep(&self, key: &str, generation: u64, known: Known) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if self.generation() != generation {
            return;
        }
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key.to_owned(),
            Entry {
                generation,
                read_at: Instant::now(),
                known,
            },
        );
    }

    /// Whether this request, at `now`, is the one to write `key`'s last
    /// use, which is written at most once every `every`: true unless this
    /// process wrote it less than `every` before `now` (or is writing it).
    /// Concurrent requests with a credential all read that it is due (a
    /// burst of 50 submits with one token), and all of them used to write
    /// it, one after another on SQLite's writer, ahead of the submits' own
    /// writes. A write that fails is [`Self::unclaim_touch`]ed.
    pub(crate) fn claim_touch(
        &self,
        key: &str,
        now: DateTime<Utc>,
        every: chrono::Duration,
    ) -> bool {
        let Ok(mut touched) = self.touched.lock() else {
            return true;
        };
        if touched
            .get(key)
            .is_some_and(|at| now.signed_duration_since(*at) < every)
        {
            return false;
        }
        if touched.len() >= MAX_ENTRIES {
            touched.clear();
        }
        touched.insert(key.to_owned(), now);
        true
    }

    /// Forgets a claim whose write failed: the next request tries again.
    pub(crate) fn unclaim_touch(&self, key: &str) {
        if let Ok(mut touched) = self.touched.lock() {
            touched.remove(key);
        }
    }

    /// Forgets `key` alone: what was kept of it is out of date.
    pub(crate) fn forget(&self, key: &str) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(key);
        }
    }

    /// Forgets everything: call after a change to users, sessions or
    /// tokens has committed.
    pub(crate) fn forget_all(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

/// The key of an API token's hash.
pub(crate) fn token_key(hash: &str) -> String {
    format!("token:{hash}")
}

/// The key of a session's hash.
pub(crate) fn session_key(hash: &str) -> String {
    format!("session:{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use modelrun_core::ids::{TokenId, UserId};
    use modelrun_core::user::Role;

    fn known() -> Known {
        let user = User {
            id: UserId(1),
            email: "a@example.com".into(),
            role: Role::Runner,
            created_at: Utc::now(),
            disabled_at: None,
        };
        let token = ApiToken {
            id: TokenId(1),
            user_id: UserId(1),
            name: "t".into(),
            prefix: "mr_1".into(),
            role: Role::Runner,
            created_at: Utc::now(),
            expires_at: None,
            last_used_at: None,
        };
        Known::Token(user, token)
    }

    #[test]
    fn a_kept_credential_is_found_until_a_change() {
        let recent = RecentCredentials::default();
        let generation = recent.generation();
        recent.keep("token:a", generation, known());
        assert!(recent.get("token:a").is_some());
        assert!(recent.get("token:b").is_none());
        recent.forget_all();
        assert!(recent.get("token:a").is_none());
    }

    #[test]
    fn a_read_that_overlapped_a_change_is_not_kept() {
        let recent = RecentCredentials::default();
        let generation = recent.generation();
        recent.forget_all(); // a revocation commits while the read runs
        recent.keep("token:a", generation, known());
        assert!(recent.get("token:a").is_none());
    }
}
