//! A run's zips, for the page and the API alike: its reproducibility
//! bundle, and all its outputs in one zip ("Download all outputs"). Each
//! zip is built by the worker (the `build_bundle` and `build_outputs_zip`
//! tasks) into the blob store and handed out like an output: a presigned
//! URL on S3, the file itself (with ranges) from a local directory. A
//! request never builds one: a zip holds every output, which may be a
//! gigabyte, and on AWS Lambda a response carries at most 6 MB. The first
//! request queues the build and waits a few seconds for it; a larger zip is
//! answered "being prepared", to be asked for again.

use std::time::Duration;

use axum::http::HeaderMap;
use axum::response::Response;
use modelrun_core::blob::BlobKey;
use modelrun_core::bundle::{self, BuildBundle};
use modelrun_core::outputs_zip::{self, BuildOutputsZip};
use modelrun_core::run::Run;
use modelrun_core::task::{Job, TaskState};
use modelrun_core::user::User;

use crate::downloads;
use crate::error::{AppError, AppResult};
use crate::guard::ClientAddr;
use crate::state::AppState;

/// How long a request waits for a bundle being built before it answers
/// that the bundle is being prepared: most bundles take well under this.
const WAIT: Duration = Duration::from_secs(5);

/// How often the wait looks for the stored bundle.
const LOOK_EVERY: Duration = Duration::from_millis(200);

/// How long a client should wait before asking again, in seconds.
pub const RETRY_AFTER_SECONDS: u64 = 2;

/// A run's zip (or a sweep's archive) asked for.
#[derive(Debug)]
pub enum Fetched {
    /// The download: the zip, or a redirect to it.
    Ready(Response),
    /// Being built; ask again in [`RETRY_AFTER_SECONDS`].
    Preparing,
}

/// The bundle of `run` (already checked to be visible to `user`): ready,
/// or queued to be built. A run that has not ended has none (409).
pub async fn fetch(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    run: &Run,
    request: &HeaderMap,
) -> AppResult<Fetched> {
    if !bundle::offered(run.status) {
        return Err(AppError::Conflict(format!(
            "run {} is {}: a reproducibility bundle is offered once the run has succeeded, \
             failed or been cancelled",
            run.id, run.status
        )));
    }
    let key = bundle::key(run.id);
    if !bundle::stored(state.blob.as_ref(), &key).await? && !build(state, run).await? {
        return Ok(Fetched::Preparing);
    }
    downloads::audit_file_download(state, user, client, run, "bundle", request).await;
    let name = bundle::file_name(run.id);
    let response = downloads::stored(state, &key, &name, "application/zip", request).await?;
    Ok(Fetched::Ready(response))
}

/// The zip of every output of `run` (already checked to be visible to
/// `user`, as for one output's download): ready, or queued to be built.
/// A run that has not ended has none yet (409).
///
/// # Errors
/// 409 before the run has ended, or when the build gave up (an output
/// missing, or not the bytes its SHA-256 records, named); the store or the
/// blob store failing.
pub async fn fetch_outputs(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    run: &Run,
    request: &HeaderMap,
) -> AppResult<Fetched> {
    if !outputs_zip::offered(run.status) {
        return Err(AppError::Conflict(format!(
            "run {} is {}: the zip of its outputs is offered once the run has succeeded, \
             failed or been cancelled",
            run.id, run.status
        )));
    }
    let key = outputs_zip::key(run.id);
    let job = BuildOutputsZip { run_id: run.id };
    let what = format!("the zip of the outputs of run {}", run.id);
    if !bundle::stored(state.blob.as_ref(), &key).await?
        && !prepare(state, &job, &key, &what).await?
    {
        return Ok(Fetched::Preparing);
    }
    downloads::audit_file_download(state, user, client, run, "outputs.zip", request).await;
    let name = outputs_zip::file_name(run.id);
    let response = downloads::stored(state, &key, &name, "application/zip", request).await?;
    Ok(Fetched::Ready(response))
}

/// Queues the bundle's build (once: the task has a dedupe key) and waits
/// up to [`WAIT`] for it; whether it is stored now.
async fn build(state: &AppState, run: &Run) -> AppResult<bool> {
    let job = BuildBundle {
        run_id: run.id,
        server_url: state.config.public_url.trim_end_matches('/').to_owned(),
    };
    let what = format!("the bundle of run {}", run.id);
    prepare(state, &job, &bundle::key(run.id), &what).await
}

/// Queues `job`, which stores a zip under `key` (once: the task has a
/// dedupe key), and waits up to [`WAIT`] for it; whether it is stored now.
/// A build that gave up is a 409 saying why, `what` naming the zip ("the
/// bundle of run 4"). Shared by a run's bundle and a sweep's archive.
pub(crate) async fn prepare<J: Job>(
    state: &AppState,
    job: &J,
    key: &BlobKey,
    what: &str,
) -> AppResult<bool> {
    let task = state.store.enqueue(job.task()).await?;
    state.kicker.kick(&[task.id]).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(LOOK_EVERY).await;
        if bundle::stored(state.blob.as_ref(), key).await? {
            return Ok(true);
        }
    }
    match state.store.task(task.id).await? {
        Some(task) if task.state == TaskState::Dead => Err(AppError::Conflict(format!(
            "{what} could not be made: {}",
            task.last_error.as_deref().unwrap_or("no reason was given")
        ))),
        _ => Ok(false),
    }
}
