//! `dispatch_run`: hands a queued run to the executor.
//!
//! Idempotent: a run that is past `dispatching` is left alone, and the
//! executor finds an existing job by its deterministic name instead of
//! starting a second one.

use bytes::Bytes;
use chrono::Utc;
use modelrun_core::blob::BlobKey;
use modelrun_core::environment::{EnvironmentSpec, EnvironmentStatus};
use modelrun_core::executor::JobRequest;
use modelrun_core::job_access::JobToken;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{Run, StatusChange, Transitioned};
use modelrun_core::status::RunStatus;
use modelrun_core::store::StoreError;
use modelrun_core::task::DispatchRun;

use async_trait::async_trait;

use serde_json::json;

use super::{Handler, TaskError};
use crate::{Services, WorkerError};

#[async_trait]
impl Handler for DispatchRun {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        dispatch(services, self).await
    }

    async fn on_dead(self, services: &Services, error: &str) -> Result<(), WorkerError> {
        give_up(services, self, error).await
    }
}

async fn dispatch(services: &Services, payload: DispatchRun) -> Result<(), TaskError> {
    // Models started in this process give way until the run is
    // `dispatching` (`modelrun_core::intake`).
    let handing = services.intake.dispatching();
    let store = &services.store;
    let Some(run) = store.run(payload.run_id).await? else {
        return Err(TaskError::Fatal(format!(
            "run {} does not exist",
            payload.run_id
        )));
    };
    if !matches!(run.status, RunStatus::Queued | RunStatus::Dispatching) {
        return Ok(());
    }
    let Some(version) = store.version(run.version_id).await? else {
        return Err(TaskError::Fatal(format!(
            "version {} of run {} does not exist",
            run.version_id, run.id
        )));
    };
    let environment = match &version.environment {
        Some(digest) => match ready_environment(services, &run, digest).await? {
            Readiness::Ready(spec) => Some(spec),
            // An outcome, not a fault of the task: the run fails with the
            // reason and the task is done (no dead task for an admin).
            Readiness::Failed(reason) => {
                services
                    .recorder
                    .end(&run, RunStatus::Failed, &reason)
                    .await
                    .map_err(|error| TaskError::Retry(modelrun_core::error_chain(&error)))?;
                return Ok(());
            }
        },
        None => None,
    };
    services
        .recorder
        .transition(StatusChange::new(run.id, RunStatus::Dispatching))
        .await?;
    drop(handing);
    let version = prepare(services, version).await?;
    let inputs = serde_json::to_vec(&run.inputs)
        .map_err(|error| TaskError::Fatal(format!("cannot encode the inputs: {error}")))?;
    let inputs_key = BlobKey::run_inputs(run.id);
    services
        .blob
        .put(&inputs_key, Bytes::from(inputs), "application/json")
        .await?;
    // A retried dispatch adds a token: the job it may have started already
    // keeps the one it got.
    let job_token = if services.executor.needs_job_token() {
        let token = JobToken::generate();
        store
            .add_job_token(run.id, &token.hash(), Utc::now())
            .await?;
        Some(token)
    } else {
        None
    };
    let request = JobRequest {
        run_id: run.id,
        model: run.model_name.clone(),
        name: JobRequest::job_name(&run),
        job_key: run.job_key.clone(),
        runtime: version.runtime.clone(),
        job_definition: version.job_definition_arn.clone(),
        inputs: inputs_key,
        outputs: BlobKey::run_outputs(run.id),
        resources: run.resources,
        environment,
        secrets: version.secrets.clone(),
        network: version.network,
        job_token,
    };
    let submitted = services.executor.submit(&request).await?;
    let mut change =
        StatusChange::new(run.id, RunStatus::Submitted).fact("executor", services.executor.kind());
    if submitted.existing {
        change = change.fact("found_existing_job", true);
    }
    change.job_id = Some(submitted.job_id);
    // Ignored when the job already reported progress, which is fine, or
    // when the run was cancelled while it was being submitted: then the
    // new job is stopped at once.
    let outcome = services.recorder.transition(change).await?;
    services.executor.submission_recorded(run.id);
    if let Transitioned::Ignored(now) = outcome
        && matches!(now.status, RunStatus::Cancelling | RunStatus::Cancelled)
    {
        services
            .executor
            .cancel(&now, "cancelled while it was being submitted")
            .await?;
    }
    Ok(())
}

/// How often a run that waits for its environment looks again.
const ENVIRONMENT_POLL: chrono::Duration = chrono::Duration::seconds(5);

/// What the run's environment allows.
enum Readiness {
    Ready(EnvironmentSpec),
    /// It failed to build: the run cannot start, for this reason.
    Failed(String),
}

/// The version's environment once it is built. Until then the run stays
/// `queued` and the task looks again later (asking for the build if nobody
/// has); an environment that failed to build fails the run with the reason.
async fn ready_environment(
    services: &Services,
    run: &Run,
    digest: &str,
) -> Result<Readiness, TaskError> {
    let store = &services.store;
    let Some(environment) = store.environment(digest).await? else {
        return Err(TaskError::Fatal(format!(
            "environment {digest} does not exist"
        )));
    };
    match environment.status {
        EnvironmentStatus::Ready => return Ok(Readiness::Ready(environment.spec)),
        EnvironmentStatus::Failed => {
            let why = environment
                .log
                .lines()
                .next()
                .unwrap_or("the installer failed");
            return Ok(Readiness::Failed(format!(
                "could not start the run: the model's environment could not be built ({why}); \
                 an administrator can build it again on the version's page once the \
                 requirements are fixed"
            )));
        }
        EnvironmentStatus::Pending => {
            store.request_environment(digest, Utc::now()).await?;
        }
        EnvironmentStatus::Preparing => {}
    }
    // The run page's timeline reads this fact as the reason the run waits.
    const WAITING: &str = modelrun_core::timeline::WAITING_FOR_ENVIRONMENT;
    let events = store.run_events(run.id).await?;
    if !events.iter().any(|event| event.message == WAITING) {
        store
            .add_fact(run.id, WAITING, json!({ "environment": digest }))
            .await?;
    }
    Err(TaskError::Wait {
        after: ENVIRONMENT_POLL,
        why: WAITING.to_owned(),
    })
}

/// Makes sure the executor is prepared for the version (its job definition
/// on AWS Batch), preparing it now if the task that should have did not yet.
pub(super) async fn prepare(
    services: &Services,
    mut version: ModelVersion,
) -> Result<ModelVersion, TaskError> {
    if version.job_definition_arn.is_some() {
        return Ok(version);
    }
    let Some(arn) = services.executor.prepare_version(&version).await? else {
        return Ok(version);
    };
    match services.store.set_job_definition(version.id, &arn).await {
        Ok(()) => version.job_definition_arn = Some(arn),
        // Prepared meanwhile by another worker: use what it recorded.
        Err(StoreError::Conflict(_)) => {
            version = services
                .store
                .version(version.id)
                .await?
                .ok_or(StoreError::NotFound)?;
        }
        Err(error) => return Err(error.into()),
    }
    Ok(version)
}

/// The run cannot be started: it fails, and its submitter is told why.
async fn give_up(
    services: &Services,
    payload: DispatchRun,
    error: &str,
) -> Result<(), WorkerError> {
    let Some(run) = services.store.run(payload.run_id).await? else {
        return Ok(());
    };
    if run.status.is_terminal() || run.status == RunStatus::Cancelling {
        return Ok(());
    }
    services
        .recorder
        .end(
            &run,
            RunStatus::Failed,
            &format!("could not start the run: {error}"),
        )
        .await?;
    Ok(())
}
