//! A sweep's archive ("Download all"), for the page and the API alike:
//! one zip of every run's outputs with `index.csv`, built by the worker
//! (the `build_sweep_archive` task) and handed out as a run's bundle is
//! ([`crate::bundle`]): a presigned URL on S3, the file itself (with
//! ranges) from a local directory, and "being prepared" while it is built.

use axum::http::HeaderMap;
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::bundle::stored;
use modelrun_core::sweep::archive::{file_name, key, offered};
use modelrun_core::sweep::{BuildSweepArchive, Sweep, Tally};
use modelrun_core::user::User;

use crate::bundle::{Fetched, prepare};
use crate::downloads;
use crate::error::{AppError, AppResult};
use crate::guard::{ClientAddr, audit};
use crate::ranges;
use crate::state::AppState;

/// The archive of `sweep` (already checked to be visible to `user`):
/// ready, or queued to be built. A sweep with a run that has not ended
/// has none yet (409).
///
/// # Errors
/// 409 before every run has ended or when the build gave up (saying why);
/// the store or the blob store failing.
pub async fn fetch(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    sweep: &Sweep,
    request: &HeaderMap,
) -> AppResult<Fetched> {
    let runs = state.store.sweep_runs(sweep.id).await?;
    if !offered(&runs) {
        let tally = Tally::of(&runs);
        return Err(AppError::Conflict(format!(
            "sweep {} has {} of {} runs ended: its archive of every output is offered once \
             every run has succeeded, failed or been cancelled",
            sweep.id,
            tally.ended(),
            tally.total()
        )));
    }
    let key = key(sweep.id);
    let what = format!("the archive of sweep {}", sweep.id);
    let job = BuildSweepArchive { sweep_id: sweep.id };
    if !stored(state.blob.as_ref(), &key).await? && !prepare(state, &job, &key, &what).await? {
        return Ok(Fetched::Preparing);
    }
    if !ranges::continues_download(request) {
        let entry = NewAuditEntry::new(
            Actor::user(user.id, &user.email),
            AuditAction::Download,
            format!("sweep {}", sweep.id),
        )
        .detail(serde_json::json!({ "file": "archive" }))
        .from_address(client.as_str());
        audit(state, entry).await;
    }
    let name = file_name(sweep.id);
    let response = downloads::stored(state, &key, &name, "application/zip", request).await?;
    Ok(Fetched::Ready(response))
}
