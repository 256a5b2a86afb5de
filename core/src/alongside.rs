//! What a submission writes in its own transaction besides what it
//! creates: the estimate, the audit entry and the submit rate's count.

use crate::audit::NewAuditEntry;
use crate::estimate::Estimate;
use crate::limit::Limit;

/// Makes a submission's audit entry once what it made exists (a run, a
/// sweep: its id, its alias). `Fn`, not `FnOnce`: a store that writes
/// submissions together and then, after a fault, one by one makes the
/// entry again for what it made the second time.
pub type AuditFor<T> = Box<dyn Fn(&T) -> NewAuditEntry + Send + Sync>;

/// What a submission records in its own transaction, so that a run (or a
/// sweep and its runs) exists with them or not at all, and a submit is one
/// write: the estimate each run's page sets against what it took, the
/// audit entry, made from what was created (its target and details name
/// it), and the attempt counted against a rate limit.
pub struct Alongside<T> {
    pub estimate: Option<Estimate>,
    pub audit: Option<AuditFor<T>>,
    /// Counted with the submission's write: for submits written together,
    /// in their transaction, each person's in one statement; for one
    /// written alone, on SQLite as its last statement and on Postgres just
    /// before its transaction, so that the counter's row is not locked
    /// while it runs. Over the limit, nothing
    /// is created and the store answers
    /// [`crate::store::StoreError::OverLimit`]; the refused attempt counts
    /// (as [`crate::store::RateLimits::hit`] counts it), and a submission
    /// that makes nothing for another reason counts nothing.
    pub limit: Option<Counted>,
}

/// An attempt counted against `limit` under `key` (`submit:user:7`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub key: String,
    pub limit: Limit,
}

impl<T> Default for Alongside<T> {
    fn default() -> Self {
        Alongside {
            estimate: None,
            audit: None,
            limit: None,
        }
    }
}

impl<T> std::fmt::Debug for Alongside<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alongside")
            .field("estimate", &self.estimate)
            .field("audit", &self.audit.is_some())
            .field("limit", &self.limit)
            .finish()
    }
}
