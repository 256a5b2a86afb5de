//! Why a job waits: what Batch says about the job, its queue and the
//! compute environments behind it.

use aws_sdk_batch::types::JobStatus;
use modelrun_core::diagnosis::{
    Cause, ComputeEnvironmentFinding, Diagnosis, Findings, QueueFinding,
};
use modelrun_core::executor::ExecutorError;
use modelrun_core::run::Run;

use super::{BatchExecutor, to_executor};
use crate::aws::AwsFailure;

/// The usual causes of a job stuck in RUNNABLE or STARTING, with what to check.
fn usual_causes() -> Vec<Cause> {
    [
        (
            "No way out of the private subnets",
            "Jobs run in private subnets without public IPs; they pull their image and write logs through the \
             NAT gateway (or VPC endpoints for ECR, S3 and CloudWatch Logs). Check the subnets' route tables \
             and the NAT gateway.",
        ),
        (
            "The image cannot be pulled",
            "Check that the image exists in ECR with the version's tag and digest, and that the job execution \
             role may pull it (ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer).",
        ),
        (
            "IAM roles",
            "Check the trust policies and permissions of the compute environment's service role and of the \
             job's execution and job roles.",
        ),
        (
            "vCPU limits",
            "The job asks for more vCPU or memory than the compute environment's maxvCpus allows, or the \
             account's Fargate or EC2 vCPU quota is used up: lower the version's resources, raise maxvCpus, \
             or ask AWS for a higher quota.",
        ),
    ]
    .into_iter()
    .map(|(cause, check)| Cause::new(cause, check))
    .collect()
}

pub(super) async fn diagnose(
    executor: &BatchExecutor,
    run: &Run,
) -> Result<Diagnosis, ExecutorError> {
    let batch = &executor.batch;
    let mut job_reason = None;
    let mut job_status = None;
    if let Some(job_id) = &run.job_id {
        let jobs = batch
            .describe_jobs()
            .jobs(job_id)
            .send()
            .await
            .map_err(|error| to_executor(AwsFailure::new("Batch DescribeJobs", error)))?;
        if let Some(job) = jobs.jobs().first() {
            job_reason = job.status_reason().map(str::to_owned);
            job_status = job.status().map(JobStatus::as_str).map(str::to_owned);
        }
    }
    let queues = batch
        .describe_job_queues()
        .job_queues(&executor.config.job_queue)
        .send()
        .await
        .map_err(|error| to_executor(AwsFailure::new("Batch DescribeJobQueues", error)))?;
    let queue = queues.job_queues().first();
    let environments: Vec<String> = queue
        .map(|q| {
            q.compute_environment_order()
                .iter()
                .filter_map(|o| o.compute_environment().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut found = Vec::new();
    if !environments.is_empty() {
        let described = batch
            .describe_compute_environments()
            .set_compute_environments(Some(environments))
            .send()
            .await
            .map_err(|error| {
                to_executor(AwsFailure::new("Batch DescribeComputeEnvironments", error))
            })?;
        for environment in described.compute_environments() {
            let resources = environment.compute_resources();
            found.push(ComputeEnvironmentFinding {
                name: environment.compute_environment_name().map(str::to_owned),
                state: environment.state().map(|s| s.as_str().to_owned()),
                status: environment.status().map(|s| s.as_str().to_owned()),
                status_reason: environment.status_reason().map(str::to_owned),
                kind: resources
                    .and_then(|r| r.r#type())
                    .map(|t| t.as_str().to_owned()),
                max_vcpus: resources.and_then(|r| r.maxv_cpus()),
                subnets: resources.map(|r| r.subnets().to_vec()),
            });
        }
    }
    let unhealthy: Vec<String> = found
        .iter()
        .filter(|e| !e.is_healthy())
        .map(|e| {
            let or_unknown =
                |value: &Option<String>| value.clone().unwrap_or_else(|| "?".to_owned());
            format!(
                "compute environment {} is {} and {}{}",
                or_unknown(&e.name),
                or_unknown(&e.state),
                or_unknown(&e.status),
                e.status_reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    let summary = match (&unhealthy[..], &job_reason) {
        ([], Some(reason)) => format!("Batch says of the job: {reason}"),
        ([], None) if found.is_empty() => "the job queue has no compute environment".to_owned(),
        ([], None) => {
            "the job queue and its compute environments look healthy; Batch gives no reason"
                .to_owned()
        }
        (problems, _) => problems.join("; "),
    };
    Ok(Diagnosis {
        summary,
        findings: Findings::Batch {
            job_status,
            job_status_reason: job_reason,
            queue: queue.map(|q| QueueFinding {
                name: q.job_queue_name().map(str::to_owned),
                state: q.state().map(|s| s.as_str().to_owned()),
                status: q.status().map(|s| s.as_str().to_owned()),
                status_reason: q.status_reason().map(str::to_owned),
            }),
            compute_environments: found,
        },
        causes: usual_causes(),
    })
}
