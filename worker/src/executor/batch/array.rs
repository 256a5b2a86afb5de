//! A sweep's runs as one AWS Batch array job: child `i` finds its run as
//! the `i`-th of `MODELRUN_SWEEP_RUNS` (by `AWS_BATCH_JOB_ARRAY_INDEX`),
//! and every child uses the sweep's one job token for its own run.

use modelrun_core::executor::{ArrayJobRequest, ExecutorError, Submitted};
use modelrun_core::job_access::{API_URL_VARIABLE, JOB_TOKEN_VARIABLE};
use modelrun_core::sweep::{RUNS_VARIABLE, runs_list};

use super::start::{self, Start};
use super::{BatchExecutor, variable};

/// The longest list of runs a job's environment carries: ECS takes 8192
/// characters for all of a job's overrides, the token, the address and
/// the resources included.
const MAX_LIST_CHARS: usize = 6000;

/// Starts the sweep's array job, or finds the one started under its name.
pub(super) async fn submit(
    executor: &BatchExecutor,
    job: &ArrayJobRequest,
) -> Result<Submitted, ExecutorError> {
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
    let start = Start {
        name: &job.name,
        runtime: &job.runtime,
        definition: job.job_definition.as_deref(),
        resources: &job.resources,
        who: "the runs",
        environment,
        tags,
        array_size: Some(size),
    };
    start::start(executor, start).await
}
