//! A sweep's runs as one AWS Batch array job: child `i` finds its run as
//! the `i`-th of `MODELRUN_SWEEP_RUNS` (by `AWS_BATCH_JOB_ARRAY_INDEX`),
//! and every child uses the sweep's one job token for its own run.

use aws_sdk_batch::types::{ArrayProperties, ContainerOverrides};
use modelrun_core::executor::{ArrayJobRequest, Executor, ExecutorError, Submitted};
use modelrun_core::job_access::{API_URL_VARIABLE, JOB_TOKEN_VARIABLE};
use modelrun_core::model::Runtime;
use modelrun_core::sweep::{RUNS_VARIABLE, runs_list};

use super::{BatchExecutor, definition, requirements, to_executor, variable};
use crate::aws::AwsFailure;

/// The longest list of runs a job's environment carries: ECS takes 8192
/// characters for all of a job's overrides, the token, the address and
/// the resources included.
const MAX_LIST_CHARS: usize = 6000;

/// Starts the sweep's array job, or finds the one started under its name.
pub(super) async fn submit(
    executor: &BatchExecutor,
    job: &ArrayJobRequest,
) -> Result<Submitted, ExecutorError> {
    if !matches!(job.runtime, Runtime::Image { .. }) {
        return Err(ExecutorError::Refused(
            "this version runs on the local executor only; AWS Batch runs versions built as images"
                .to_owned(),
        ));
    }
    let Some(definition) = &job.job_definition else {
        return Err(ExecutorError::Unavailable(
            "the version's job definition is not registered yet".to_owned(),
        ));
    };
    if let Some(job_id) = executor.find_by_name(&job.name).await? {
        return Ok(Submitted {
            job_id,
            existing: true,
        });
    }
    executor
        .check_resources(&job.resources)
        .map_err(|refusal| ExecutorError::Refused(format!("the runs cannot start: {refusal}")))?;
    // Batch takes arrays of 2 to 10,000 children; a sweep has 2 or more runs.
    let size = i32::try_from(job.runs.len()).unwrap_or(i32::MAX);
    let runs = runs_list(&job.runs);
    if runs.len() > MAX_LIST_CHARS {
        return Err(ExecutorError::Refused(format!(
            "the sweep's {} runs do not fit in one Batch job: their list takes {} characters of \
             the job's environment, over {MAX_LIST_CHARS}; submit the sweep in smaller parts",
            job.runs.len(),
            runs.len()
        )));
    }
    let environment = vec![
        variable(RUNS_VARIABLE, runs),
        variable(API_URL_VARIABLE, executor.config.api_url.clone()),
        variable(JOB_TOKEN_VARIABLE, job.job_token.expose().to_owned()),
    ];
    let tags = std::collections::HashMap::from([
        (
            "modelrun:installation".to_owned(),
            executor.installation.clone(),
        ),
        ("modelrun:sweep".to_owned(), job.sweep_id.to_string()),
    ]);
    let submitted = executor
        .batch
        .submit_job()
        .job_name(&job.name)
        .job_queue(&executor.config.job_queue)
        .job_definition(definition)
        .array_properties(ArrayProperties::builder().size(size).build())
        .container_overrides(
            ContainerOverrides::builder()
                .set_environment(Some(environment))
                .set_resource_requirements(Some(requirements(&job.resources)))
                .build(),
        )
        .timeout(
            aws_sdk_batch::types::JobTimeout::builder()
                .attempt_duration_seconds(definition::attempt_seconds(
                    job.resources.timeout_seconds,
                ))
                .build(),
        )
        .set_tags(Some(tags))
        .propagate_tags(true)
        .send()
        .await
        .map_err(|error| to_executor(AwsFailure::new("Batch SubmitJob", error)))?;
    let job_id = submitted.job_id().ok_or_else(|| {
        ExecutorError::Unavailable("Batch accepted the array job without an id".to_owned())
    })?;
    Ok(Submitted {
        job_id: job_id.to_owned(),
        existing: false,
    })
}
