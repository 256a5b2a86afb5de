//! Why a job waits, from evidence. What Batch says of the job, its queue
//! and the compute environments behind it; then checks that each look at
//! one cause: a blocked job ahead on the queue ([`ahead`]), the job's vCPU
//! and memory against the compute environments ([`resources`]), its image
//! in ECR ([`image`]) and the roles it names ([`roles`]). A cause is shown
//! only when a check that ran saw it; a check that could not run says why,
//! and is never a cause.

mod ahead;
mod checks;
mod image;
mod resources;
mod roles;

use aws_sdk_batch::Client as BatchClient;
use aws_sdk_batch::types::{ComputeEnvironmentDetail, JobQueueDetail, JobStatus};
use modelrun_core::diagnosis::{
    BlockedJobFinding, ComputeEnvironmentFinding, Diagnosis, Findings, QueueFinding,
};
use modelrun_core::executor::ExecutorError;
use modelrun_core::run::Run;
use modelrun_core::status::RunStatus;

use super::{BatchExecutor, to_executor};
use crate::aws::AwsFailure;

/// The clients of the checks beyond Batch: ECR for the image, IAM for the roles.
#[derive(Debug, Clone)]
pub(super) struct Clients {
    ecr: aws_sdk_ecr::Client,
    iam: aws_sdk_iam::Client,
}

impl Clients {
    pub(super) fn new(sdk: &aws_config::SdkConfig) -> Self {
        Clients {
            ecr: aws_sdk_ecr::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
        }
    }
}

/// Diagnoses a run that waits in `runnable` or `starting`. Errors: a Batch
/// call that failed (`DescribeJobs`, `DescribeJobQueues`,
/// `DescribeComputeEnvironments`); the other calls' failures become
/// "not checked".
pub(super) async fn diagnose(
    executor: &BatchExecutor,
    run: &Run,
) -> Result<Diagnosis, ExecutorError> {
    let batch = &executor.batch;
    let queue_name = &executor.config.job_queue;
    let job = match &run.job_id {
        Some(job_id) => batch
            .describe_jobs()
            .jobs(job_id)
            .send()
            .await
            .map_err(|error| to_executor(AwsFailure::new("Batch DescribeJobs", error)))?
            .jobs()
            .first()
            .cloned(),
        None => None,
    };
    let queues = batch
        .describe_job_queues()
        .job_queues(queue_name)
        .send()
        .await
        .map_err(|error| to_executor(AwsFailure::new("Batch DescribeJobQueues", error)))?;
    let queue = queues.job_queues().first();
    let environments = describe_environments(batch, queue).await?;

    let mut found = checks::Found::default();
    let unhealthy = checks::check_states(queue, &environments, &mut found);
    let job_reason = job
        .as_ref()
        .and_then(|j| j.status_reason())
        .filter(|r| !r.is_empty());
    if let Some(reason) = job_reason.filter(|r| ahead::is_blocked(r)) {
        found.cause(
            "what Batch says of the job",
            ahead::in_words(reason),
            "Batch cannot place the job",
            "Until that changes the job waits, and the jobs behind it on the queue too.",
        );
    }
    let blocked_ahead = if run.status == RunStatus::Runnable {
        checks::check_ahead(batch, queue_name, job.as_ref(), run, &mut found).await
    } else {
        None
    };
    checks::check_resources(job.as_ref(), run, &environments, &mut found);
    let named = checks::named_by(batch, job.as_ref()).await;
    checks::check_image(&executor.clients, named.as_ref(), &mut found).await;
    checks::check_roles(&executor.clients, named.as_ref(), &environments, &mut found).await;
    checks::not_read(&mut found);

    let summary = summary(
        &found,
        unhealthy.as_deref(),
        job_reason,
        blocked_ahead.as_ref(),
        environments.is_empty(),
    );
    Ok(Diagnosis {
        summary,
        findings: Findings::Batch {
            job_status: job
                .as_ref()
                .and_then(|j| j.status())
                .map(|s| JobStatus::as_str(s).to_owned()),
            job_status_reason: job_reason.map(str::to_owned),
            queue: queue.map(|q| QueueFinding {
                name: q.job_queue_name().map(str::to_owned),
                state: q.state().map(|s| s.as_str().to_owned()),
                status: q.status().map(|s| s.as_str().to_owned()),
                status_reason: q.status_reason().map(str::to_owned),
            }),
            compute_environments: environments.iter().map(environment_finding).collect(),
            blocked_ahead: blocked_ahead.map(Box::new),
        },
        causes: found.causes,
        checks: found.checks,
    })
}

async fn describe_environments(
    batch: &BatchClient,
    queue: Option<&JobQueueDetail>,
) -> Result<Vec<ComputeEnvironmentDetail>, ExecutorError> {
    let names: Vec<String> = queue
        .map(|q| {
            q.compute_environment_order()
                .iter()
                .filter_map(|o| o.compute_environment().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if names.is_empty() {
        return Ok(Vec::new());
    }
    Ok(batch
        .describe_compute_environments()
        .set_compute_environments(Some(names))
        .send()
        .await
        .map_err(|error| to_executor(AwsFailure::new("Batch DescribeComputeEnvironments", error)))?
        .compute_environments()
        .to_vec())
}

fn environment_finding(environment: &ComputeEnvironmentDetail) -> ComputeEnvironmentFinding {
    let resources = environment.compute_resources();
    ComputeEnvironmentFinding {
        name: environment.compute_environment_name().map(str::to_owned),
        state: environment.state().map(|s| s.as_str().to_owned()),
        status: environment.status().map(|s| s.as_str().to_owned()),
        status_reason: environment.status_reason().map(str::to_owned),
        kind: resources
            .and_then(|r| r.r#type())
            .map(|t| t.as_str().to_owned()),
        max_vcpus: resources.and_then(|r| r.maxv_cpus()),
        subnets: resources.map(|r| r.subnets().to_vec()),
    }
}

/// One sentence, the most telling evidence first: a queue or compute
/// environment that cannot run jobs, Batch's own reason for not placing
/// the job, a blocked job ahead, the causes the checks found, then Batch's
/// words or that nothing was found.
fn summary(
    found: &checks::Found,
    unhealthy: Option<&str>,
    job_reason: Option<&str>,
    blocked_ahead: Option<&BlockedJobFinding>,
    no_environment: bool,
) -> String {
    if let Some(unhealthy) = unhealthy {
        return unhealthy.to_owned();
    }
    if let Some(reason) = job_reason.filter(|r| ahead::is_blocked(r)) {
        return format!("Batch cannot place the job: {}", ahead::in_words(reason));
    }
    if let Some(blocked) = blocked_ahead {
        return format!(
            "waits behind {}, which Batch cannot place: {}",
            checks::behind_whom(blocked),
            ahead::in_words(&blocked.status_reason)
        );
    }
    if no_environment {
        return "the job queue has no compute environment".to_owned();
    }
    if !found.causes.is_empty() {
        let causes: Vec<String> = found
            .causes
            .iter()
            .map(|c| sentence_part(&c.cause))
            .collect();
        return causes.join("; ");
    }
    match job_reason {
        Some(reason) => format!("Batch says of the job: {reason}; no check found a cause"),
        None => "the job queue and its compute environments look healthy, Batch gives no reason, \
                 and no check found a cause"
            .to_owned(),
    }
}

/// A cause's title ("The job's image is not in ECR") as a part of a
/// sentence: its first letter in lower case.
fn sentence_part(title: &str) -> String {
    let mut chars = title.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}
