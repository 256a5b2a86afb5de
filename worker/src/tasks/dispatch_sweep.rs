//! `dispatch_sweep`: hands a sweep's queued runs to AWS Batch as one array
//! job. Child `i` of the job runs the sweep's run at position `i`; each run
//! records the child's id (`<array job id>:<i>`), so the events and the
//! `DescribeJobs` of each child reach its run as for a run of its own.
//!
//! Idempotent: the executor finds an existing array job by the sweep's
//! deterministic name instead of starting a second one, and runs already
//! past `dispatching` are left alone.

use async_trait::async_trait;
use bytes::Bytes;
use chrono::Utc;
use modelrun_core::blob::BlobKey;
use modelrun_core::executor::ArrayJobRequest;
use modelrun_core::job_access::JobToken;
use modelrun_core::run::{Run, StatusChange, Transitioned};
use modelrun_core::status::RunStatus;
use modelrun_core::sweep::DispatchSweep;

use super::dispatch_run::prepare;
use super::{Handler, TaskError};
use crate::{Services, WorkerError};

#[async_trait]
impl Handler for DispatchSweep {
    async fn run(self, services: &Services) -> Result<(), TaskError> {
        dispatch(services, self).await
    }

    async fn on_dead(self, services: &Services, error: &str) -> Result<(), WorkerError> {
        for run in services.store.sweep_runs(self.sweep_id).await? {
            if matches!(run.status, RunStatus::Queued | RunStatus::Dispatching) {
                services
                    .recorder
                    .end(
                        &run,
                        RunStatus::Failed,
                        &format!("could not start the run: {error}"),
                    )
                    .await?;
            }
        }
        Ok(())
    }
}

fn waiting(run: &Run) -> bool {
    matches!(run.status, RunStatus::Queued | RunStatus::Dispatching)
}

async fn dispatch(services: &Services, payload: DispatchSweep) -> Result<(), TaskError> {
    let store = &services.store;
    let Some(sweep) = store.sweep(payload.sweep_id).await? else {
        return Err(TaskError::Fatal(format!(
            "sweep {} does not exist",
            payload.sweep_id
        )));
    };
    let runs = store.sweep_runs(sweep.id).await?;
    if !runs.iter().any(waiting) {
        return Ok(());
    }
    let Some(version) = store.version(sweep.version_id).await? else {
        return Err(TaskError::Fatal(format!(
            "version {} of sweep {} does not exist",
            sweep.version_id, sweep.id
        )));
    };
    // The sweep's queued runs move to `dispatching` in one write.
    let queued = runs
        .iter()
        .filter(|run| run.status == RunStatus::Queued)
        .map(|run| StatusChange::new(run.id, RunStatus::Dispatching))
        .collect();
    for answer in store.transition_many(queued).await? {
        answer?;
    }
    let version = prepare(services, version).await?;
    for run in runs.iter().filter(|run| waiting(run)) {
        let inputs = serde_json::to_vec(&run.inputs)
            .map_err(|error| TaskError::Fatal(format!("cannot encode the inputs: {error}")))?;
        services
            .blob
            .put(
                &BlobKey::run_inputs(run.id),
                Bytes::from(inputs),
                "application/json",
            )
            .await?;
    }
    // One token for the whole array job, kept for each run: a retried
    // dispatch adds another, and the job it may have started keeps its own.
    let token = JobToken::generate();
    let now = Utc::now();
    for run in &runs {
        store
            .add_job_token(run.id, &token.hash_for_run(run.id), now)
            .await?;
    }
    let first = &runs[0];
    let request = ArrayJobRequest {
        sweep_id: sweep.id,
        name: sweep.job_name(),
        runs: runs.iter().map(|run| run.id).collect(),
        runtime: version.runtime.clone(),
        job_definition: version.job_definition_arn.clone(),
        resources: first.resources,
        job_token: token,
    };
    let submitted = services.executor.submit_array(&request).await?;
    store.set_sweep_job(sweep.id, &submitted.job_id).await?;
    for (position, run) in runs.iter().enumerate() {
        let child = format!("{}:{position}", submitted.job_id);
        if !waiting(run) {
            // Cancelled before the job was submitted: its child stops at
            // once. A run submitted by an earlier attempt is left alone.
            if matches!(run.status, RunStatus::Cancelling | RunStatus::Cancelled) {
                let mut stopped = run.clone();
                stopped.job_id = Some(child);
                services
                    .executor
                    .cancel(&stopped, "its run was cancelled before the sweep started")
                    .await?;
            }
            continue;
        }
        let mut change = StatusChange::new(run.id, RunStatus::Submitted)
            .fact("executor", services.executor.kind())
            .fact("sweep", sweep.id.0)
            .fact("array_index", position);
        if submitted.existing {
            change = change.fact("found_existing_job", true);
        }
        change.job_id = Some(child.clone());
        if let Transitioned::Ignored(now) = services.recorder.transition(change).await?
            && matches!(now.status, RunStatus::Cancelling | RunStatus::Cancelled)
        {
            let mut stopped = *now;
            stopped.job_id = Some(child);
            services
                .executor
                .cancel(&stopped, "cancelled while the sweep was being submitted")
                .await?;
        }
    }
    Ok(())
}
