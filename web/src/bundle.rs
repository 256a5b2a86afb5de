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

/// Which of a run's zips is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunZip {
    /// The reproducibility bundle ([`bundle`]).
    Bundle,
    /// Every output in one zip ([`outputs_zip`]).
    Outputs,
}

impl RunZip {
    /// "the bundle", "the zip of the outputs".
    pub fn title(self) -> &'static str {
        match self {
            RunZip::Bundle => "the bundle",
            RunZip::Outputs => "the zip of the outputs",
        }
    }

    /// "the bundle of run 4", "the zip of the outputs of run 4".
    pub fn what(self, run: &Run) -> String {
        format!("{} of run {}", self.title(), run.id)
    }

    /// "a reproducibility bundle", "the zip of its outputs": for errors
    /// that have named the run.
    fn its(self) -> &'static str {
        match self {
            RunZip::Bundle => "a reproducibility bundle",
            RunZip::Outputs => "the zip of its outputs",
        }
    }

    /// What it holds, as a sentence for the page shown while it is made.
    pub fn holds(self) -> &'static str {
        match self {
            RunZip::Bundle => {
                "The bundle holds every input file and output of the run, so a large \
                 run's takes a moment to make."
            }
            RunZip::Outputs => {
                "The zip holds every output of the run, so a large run's takes a moment \
                 to make."
            }
        }
    }

    fn offered(self, run: &Run) -> bool {
        match self {
            RunZip::Bundle => bundle::offered(run.status),
            RunZip::Outputs => outputs_zip::offered(run.status),
        }
    }

    fn key(self, run: &Run) -> BlobKey {
        match self {
            RunZip::Bundle => bundle::key(run.id),
            RunZip::Outputs => outputs_zip::key(run.id),
        }
    }

    fn file_name(self, run: &Run) -> String {
        match self {
            RunZip::Bundle => bundle::file_name(run.id),
            RunZip::Outputs => outputs_zip::file_name(run.id),
        }
    }

    /// The name its download is audited under.
    fn audited_as(self) -> &'static str {
        match self {
            RunZip::Bundle => "bundle",
            RunZip::Outputs => "outputs.zip",
        }
    }

    /// Queues its build and waits a little; whether it is stored now.
    async fn build(self, state: &AppState, run: &Run) -> AppResult<bool> {
        let (key, what) = (self.key(run), self.what(run));
        match self {
            RunZip::Bundle => {
                let job = BuildBundle {
                    run_id: run.id,
                    server_url: state.config.public_url.trim_end_matches('/').to_owned(),
                };
                prepare(state, &job, &key, &what).await
            }
            RunZip::Outputs => {
                let job = BuildOutputsZip { run_id: run.id };
                prepare(state, &job, &key, &what).await
            }
        }
    }
}

/// The `zip` of `run` (already checked to be visible to `user`, as for one
/// output's download): ready, or queued to be built.
///
/// # Errors
/// 409 before the run has ended, or when the build gave up (an output
/// missing, or not the bytes its SHA-256 records, named); the store or the
/// blob store failing.
pub async fn fetch(
    state: &AppState,
    user: &User,
    client: &ClientAddr,
    run: &Run,
    zip: RunZip,
    request: &HeaderMap,
) -> AppResult<Fetched> {
    if !zip.offered(run) {
        return Err(AppError::Conflict(format!(
            "run {} is {}: {} is offered once the run has succeeded, failed or been cancelled",
            run.id,
            run.status,
            zip.its()
        )));
    }
    let key = zip.key(run);
    if !bundle::stored(state.blob.as_ref(), &key).await? && !zip.build(state, run).await? {
        return Ok(Fetched::Preparing);
    }
    downloads::audit_file_download(state, user, client, run, zip.audited_as(), request).await;
    let response =
        downloads::stored(state, &key, &zip.file_name(run), "application/zip", request).await?;
    Ok(Fetched::Ready(response))
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
