//! Starting a job on AWS Batch, a run's or a sweep's array job: the checks
//! both pass, the lookup by name that makes a retried dispatch find the job
//! it started, and the `SubmitJob`.

use std::collections::HashMap;

use aws_sdk_batch::types::{ArrayProperties, ContainerOverrides, JobTimeout, KeyValuePair};
use modelrun_core::executor::{Executor, ExecutorError, Submitted};
use modelrun_core::manifest::Resources;
use modelrun_core::model::Runtime;

use super::{BatchExecutor, definition, requirements, to_executor};
use crate::aws::AwsFailure;

/// One job to start.
pub(super) struct Start<'a> {
    /// Its deterministic name.
    pub name: &'a str,
    pub runtime: &'a Runtime,
    pub definition: Option<&'a str>,
    pub resources: &'a Resources,
    /// Whose job it is, in a refusal: "the run", "the runs".
    pub who: &'a str,
    /// The job's environment: what it reaches modelrun with.
    pub environment: Vec<KeyValuePair>,
    pub tags: HashMap<String, String>,
    /// For an array job, its number of children (Batch takes 2 to 10,000).
    pub array_size: Option<i32>,
}

/// Starts the job, or finds the one already started under its name.
pub(super) async fn start(
    executor: &BatchExecutor,
    job: Start<'_>,
) -> Result<Submitted, ExecutorError> {
    if !matches!(job.runtime, Runtime::Image { .. }) {
        return Err(ExecutorError::Refused(
            "this version runs on the local executor only; AWS Batch runs versions built as images"
                .to_owned(),
        ));
    }
    let Some(definition) = job.definition else {
        return Err(ExecutorError::Unavailable(
            "the version's job definition is not registered yet".to_owned(),
        ));
    };
    if let Some(job_id) = executor.find_by_name(job.name).await? {
        return Ok(Submitted {
            job_id,
            existing: true,
        });
    }
    // Checked at submit too; a run queued before the platform changed
    // fails here with the reason instead of with AWS's refusal.
    executor.check_resources(job.resources).map_err(|refusal| {
        ExecutorError::Refused(format!("{} cannot start: {refusal}", job.who))
    })?;
    let submitted = executor
        .batch
        .submit_job()
        .job_name(job.name)
        .job_queue(&executor.config.job_queue)
        .job_definition(definition)
        .set_array_properties(
            job.array_size
                .map(|size| ArrayProperties::builder().size(size).build()),
        )
        .container_overrides(
            ContainerOverrides::builder()
                .set_environment(Some(job.environment))
                .set_resource_requirements(Some(requirements(job.resources)))
                .build(),
        )
        .timeout(
            JobTimeout::builder()
                .attempt_duration_seconds(definition::attempt_seconds(
                    job.resources.timeout_seconds,
                ))
                .build(),
        )
        .set_tags(Some(job.tags))
        .propagate_tags(true)
        .send()
        .await
        .map_err(|error| to_executor(AwsFailure::new("Batch SubmitJob", error)))?;
    let job_id = submitted.job_id().ok_or_else(|| {
        ExecutorError::Unavailable("Batch accepted the job without an id".to_owned())
    })?;
    Ok(Submitted {
        job_id: job_id.to_owned(),
        existing: false,
    })
}
