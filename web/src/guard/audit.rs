//! Writing the audit log from a request. The action has already happened;
//! a failure to record it is logged as an error and does not undo it.

use modelrun_core::audit::NewAuditEntry;

use crate::state::AppState;
use modelrun_core::error_chain;

pub async fn audit(state: &AppState, entry: NewAuditEntry) {
    let action = entry.action;
    if let Err(error) = state.store.record_audit(entry).await {
        tracing::error!(%action, error = %error_chain(&error), "the audit entry was not written");
    }
}
