//! What a submission writes in its own transaction besides what it
//! creates: the estimate and the audit entry.

use crate::audit::NewAuditEntry;
use crate::estimate::Estimate;

/// Makes a submission's audit entry once what it made exists (a run, a
/// sweep: its id, its alias).
pub type AuditFor<T> = Box<dyn FnOnce(&T) -> NewAuditEntry + Send + Sync>;

/// What a submission records in its own transaction, so that a run (or a
/// sweep and its runs) exists with them or not at all, and a submit is one
/// write: the estimate each run's page sets against what it took, and the
/// audit entry, made from what was created (its target and details name
/// it).
pub struct Alongside<T> {
    pub estimate: Option<Estimate>,
    pub audit: Option<AuditFor<T>>,
}

impl<T> Default for Alongside<T> {
    fn default() -> Self {
        Alongside {
            estimate: None,
            audit: None,
        }
    }
}

impl<T> std::fmt::Debug for Alongside<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alongside")
            .field("estimate", &self.estimate)
            .field("audit", &self.audit.is_some())
            .finish()
    }
}
