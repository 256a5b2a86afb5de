//! The AWS Batch executor: each run is one Batch job named after it and
//! its own key (`modelrun-run-<id>-<key>`, [`JobRequest::job_name`]) and
//! tagged with the installation, on the configured queue, from its
//! version's job definition. The model's image runs `modelrun exec`, which fetches the
//! inputs from S3 and uploads the outputs there.
//!
//! News about jobs arrives two ways, both going through the recorder:
//! "Batch Job State Change" events ([`events`]) and the sweep's
//! `DescribeJobs`. Logs are read from CloudWatch Logs ([`logs`]).

mod array;
mod definition;
mod diagnose;
pub mod events;
mod logs;
mod sizes;
mod start;

use async_trait::async_trait;
use aws_sdk_batch::Client as BatchClient;
use aws_sdk_batch::types::{
    JobDetail, JobStatus, KeyValuePair, KeyValuesPair, ResourceRequirement, ResourceType,
};
use aws_sdk_cloudwatchlogs::Client as LogsClient;
use modelrun_core::config::BatchConfig;
use modelrun_core::diagnosis::Diagnosis;
use modelrun_core::environment::{EnvironmentError, EnvironmentSpec};
use modelrun_core::executor::{
    ArrayJobRequest, Executor, ExecutorError, JobReport, JobRequest, LogPage, LogTail, Submitted,
};
use modelrun_core::installation::Installation;
use modelrun_core::job_access::{API_URL_VARIABLE, JOB_TOKEN_VARIABLE, RUN_ID_VARIABLE};
use modelrun_core::manifest::Resources;
use modelrun_core::model::ModelVersion;
use modelrun_core::resources::ResourceRefusal;
use modelrun_core::run::Run;
use modelrun_core::status::RunStatus;

use crate::aws::AwsFailure;

#[derive(Debug, Clone)]
pub struct BatchExecutor {
    batch: BatchClient,
    logs: LogsClient,
    config: BatchConfig,
    /// This installation's id, read once at start: a tag on every job.
    installation: String,
    /// What the diagnosis of a waiting run reads beyond Batch.
    clients: diagnose::Clients,
}

impl BatchExecutor {
    pub fn new(
        sdk: &aws_config::SdkConfig,
        config: BatchConfig,
        installation: &Installation,
    ) -> Self {
        BatchExecutor {
            batch: BatchClient::new(sdk),
            logs: LogsClient::new(sdk),
            config,
            installation: installation.id.clone(),
            clients: diagnose::Clients::new(sdk),
        }
    }

    /// The job that carries this name on our queue, if any: the guard
    /// against submitting a run twice after a crash.
    async fn find_by_name(&self, name: &str) -> Result<Option<String>, ExecutorError> {
        let found = self
            .batch
            .list_jobs()
            .job_queue(&self.config.job_queue)
            .filters(
                KeyValuesPair::builder()
                    .name("JOB_NAME")
                    .values(name)
                    .build(),
            )
            .send()
            .await
            .map_err(|error| to_executor(AwsFailure::new("Batch ListJobs", error)))?;
        // The children of an array job carry its name and an id of
        // `<array job id>:<index>`: the array job is the one meant.
        Ok(found
            .job_summary_list()
            .iter()
            .filter(|job| job.job_id().is_some_and(|id| !id.contains(':')))
            .find(|job| job.job_name() == Some(name))
            .and_then(|job| job.job_id().map(str::to_owned)))
    }
}

pub(crate) fn to_executor(failure: AwsFailure) -> ExecutorError {
    if failure.transient {
        ExecutorError::Unavailable(failure.message)
    } else {
        ExecutorError::Refused(failure.message)
    }
}

/// A Batch status as a run status.
pub(crate) fn run_status(status: &str) -> Option<RunStatus> {
    Some(match status {
        "SUBMITTED" => RunStatus::Submitted,
        "PENDING" => RunStatus::Pending,
        "RUNNABLE" => RunStatus::Runnable,
        "STARTING" => RunStatus::Starting,
        "RUNNING" => RunStatus::Running,
        "SUCCEEDED" => RunStatus::Succeeded,
        "FAILED" => RunStatus::Failed,
        _ => return None,
    })
}

/// What Batch says about a job, from an event or from `DescribeJobs`.
#[derive(Debug, Default)]
pub(crate) struct JobState<'a> {
    pub job_id: &'a str,
    pub status: &'a str,
    pub status_reason: Option<&'a str>,
    pub container_reason: Option<&'a str>,
    pub exit_code: Option<i32>,
    pub log_stream: Option<&'a str>,
    /// How many attempts have ended (Batch's `attempts`, which also lists
    /// the last one once the job has ended).
    pub attempts_ended: usize,
}

impl JobState<'_> {
    /// The attempt this state is about, from 1.
    fn attempt(&self) -> i64 {
        let ended = i64::try_from(self.attempts_ended).unwrap_or(i64::MAX);
        match self.status {
            "SUCCEEDED" | "FAILED" => ended.max(1),
            _ => ended.saturating_add(1),
        }
    }

    /// The report for the recorder; `None` for a status modelrun does not know.
    pub(crate) fn report(&self, run: modelrun_core::ids::RunId) -> Option<JobReport> {
        let mut report = JobReport::new(run, self.job_id, run_status(self.status)?);
        report.exit_code = self.exit_code;
        report.log_stream = self.log_stream.map(str::to_owned);
        report.attempt = Some(self.attempt());
        if let Some(reason) = self.status_reason {
            report
                .facts
                .insert("status_reason".to_owned(), reason.into());
        }
        if let Some(reason) = self.container_reason {
            report
                .facts
                .insert("container_reason".to_owned(), reason.into());
        }
        report.reason = match (report.status, self.container_reason, self.exit_code) {
            (RunStatus::Succeeded, _, _) => None,
            (_, Some(reason), _) => Some(reason.to_owned()),
            (RunStatus::Failed, None, Some(code)) if code != 0 => {
                Some(format!("the model exited with code {code}"))
            }
            _ => self.status_reason.map(str::to_owned),
        };
        Some(report)
    }
}

fn job_state(job: &JobDetail) -> JobState<'_> {
    let container = job.container();
    JobState {
        job_id: job.job_id().unwrap_or_default(),
        status: job.status().map(JobStatus::as_str).unwrap_or_default(),
        status_reason: job.status_reason(),
        container_reason: container.and_then(|c| c.reason()),
        exit_code: container.and_then(|c| c.exit_code()),
        log_stream: container.and_then(|c| c.log_stream_name()),
        attempts_ended: job.attempts().len(),
    }
}

#[async_trait]
impl Executor for BatchExecutor {
    fn kind(&self) -> &'static str {
        "batch"
    }

    /// On AWS the version's image is its environment: the image build
    /// installs its requirements. Nothing is built here.
    async fn prepare_environment(&self, _: &EnvironmentSpec) -> Result<String, EnvironmentError> {
        Err(EnvironmentError::Failed {
            summary: "runs execute on AWS Batch, where a version's image is its environment: \
                      install the requirements in the image (see docs/models.md)"
                .to_owned(),
            log: String::new(),
        })
    }

    fn needs_job_token(&self) -> bool {
        true
    }

    fn runs_array_jobs(&self) -> bool {
        true
    }

    async fn prepare_version(
        &self,
        version: &ModelVersion,
    ) -> Result<Option<String>, ExecutorError> {
        definition::register(self, version).await
    }

    async fn submit(&self, job: &JobRequest) -> Result<Submitted, ExecutorError> {
        let Some(token) = &job.job_token else {
            return Err(ExecutorError::Refused(
                "a Batch job needs a job token to reach its files".to_owned(),
            ));
        };
        // The job reaches its own inputs and outputs, and nothing else,
        // through the job API with its token: the job role has no S3 rights.
        let environment = vec![
            variable(RUN_ID_VARIABLE, job.run_id.to_string()),
            variable(API_URL_VARIABLE, self.config.api_url.clone()),
            variable(JOB_TOKEN_VARIABLE, token.expose().to_owned()),
        ];
        let start = start::Start {
            name: &job.name,
            runtime: &job.runtime,
            definition: job.job_definition.as_deref(),
            resources: &job.resources,
            who: "the run",
            environment,
            tags: job_tags(&self.installation, job),
            array_size: None,
        };
        start::start(self, start).await
    }

    async fn submit_array(&self, job: &ArrayJobRequest) -> Result<Submitted, ExecutorError> {
        array::submit(self, job).await
    }

    fn check_resources(&self, resources: &Resources) -> Result<(), ResourceRefusal> {
        sizes::check(self.config.platform, resources)
    }

    async fn describe(&self, runs: &[Run]) -> Result<Vec<JobReport>, ExecutorError> {
        let with_jobs: Vec<_> = runs.iter().filter(|run| run.job_id.is_some()).collect();
        let mut reports = Vec::new();
        for chunk in with_jobs.chunks(100) {
            let ids: Vec<String> = chunk.iter().filter_map(|run| run.job_id.clone()).collect();
            let described = self
                .batch
                .describe_jobs()
                .set_jobs(Some(ids))
                .send()
                .await
                .map_err(|error| to_executor(AwsFailure::new("Batch DescribeJobs", error)))?;
            for run in chunk {
                let job = described
                    .jobs()
                    .iter()
                    .find(|job| job.job_id() == run.job_id.as_deref());
                match job {
                    Some(job) => reports.extend(job_state(job).report(run.id)),
                    None => {
                        let mut report = JobReport::new(
                            run.id,
                            run.job_id.clone().unwrap_or_default(),
                            RunStatus::Failed,
                        );
                        report.reason = Some("AWS Batch no longer knows the run's job".to_owned());
                        reports.push(report);
                    }
                }
            }
        }
        Ok(reports)
    }

    async fn cancel(&self, run: &Run, reason: &str) -> Result<bool, ExecutorError> {
        let job_id = match &run.job_id {
            Some(id) => id.clone(),
            // Only a name with the run's own key is surely this run's job:
            // `modelrun-run-<id>` alone may be another installation's.
            None if run.job_key.is_some() => {
                match self.find_by_name(&JobRequest::job_name(run)).await? {
                    Some(id) => id,
                    None => return Ok(false),
                }
            }
            None => return Ok(false),
        };
        // TerminateJob also cancels a job that has not started yet.
        self.batch
            .terminate_job()
            .job_id(&job_id)
            .reason(reason)
            .send()
            .await
            .map_err(|error| to_executor(AwsFailure::new("Batch TerminateJob", error)))?;
        Ok(true)
    }

    async fn log(&self, run: &Run, cursor: Option<&str>) -> Result<LogPage, ExecutorError> {
        logs::page(self, run, cursor).await
    }

    async fn log_tail(&self, run: &Run, max_bytes: usize) -> Result<LogTail, ExecutorError> {
        logs::tail(self, run, max_bytes).await
    }

    async fn explain_failure(&self, run: &Run, report: JobReport) -> JobReport {
        logs::explain_failure(self, run, report).await
    }

    async fn diagnose(&self, run: &Run) -> Result<Diagnosis, ExecutorError> {
        diagnose::diagnose(self, run).await
    }
}

/// The job's tags (propagated to its ECS task): the installation, the run
/// and the run's key, so that a job is told apart from another
/// installation's in the console and in the bill.
fn job_tags(installation: &str, job: &JobRequest) -> std::collections::HashMap<String, String> {
    let mut tags = std::collections::HashMap::from([
        ("modelrun:installation".to_owned(), installation.to_owned()),
        ("modelrun:run".to_owned(), job.run_id.to_string()),
    ]);
    if let Some(key) = &job.job_key {
        tags.insert("modelrun:run-key".to_owned(), key.clone());
    }
    tags
}

pub(super) fn variable(name: &str, value: String) -> KeyValuePair {
    KeyValuePair::builder().name(name).value(value).build()
}

/// A job's vCPU and memory, as container overrides.
pub(super) fn requirements(resources: &Resources) -> Vec<ResourceRequirement> {
    vec![
        requirement(ResourceType::Vcpu, resources.vcpu.to_string()),
        requirement(ResourceType::Memory, resources.memory_mib.to_string()),
    ]
}

fn requirement(kind: ResourceType, value: String) -> ResourceRequirement {
    ResourceRequirement::builder()
        .r#type(kind)
        .value(value)
        .build()
}

#[cfg(test)]
mod tests {
    use modelrun_core::ids::RunId;

    use super::*;

    #[test]
    fn batch_states_become_reports() {
        let failed = JobState {
            job_id: "j1",
            status: "FAILED",
            status_reason: Some("Essential container in task exited"),
            exit_code: Some(3),
            ..JobState::default()
        };
        let report = failed.report(RunId(1)).expect("report");
        assert_eq!(report.status, RunStatus::Failed);
        assert_eq!(
            report.reason.as_deref(),
            Some("the model exited with code 3")
        );
        assert_eq!(
            report.facts["status_reason"],
            "Essential container in task exited"
        );

        let oom = JobState {
            container_reason: Some("OutOfMemoryError: Container killed due to memory usage"),
            ..failed
        };
        assert_eq!(
            oom.report(RunId(1)).and_then(|r| r.reason).as_deref(),
            Some("OutOfMemoryError: Container killed due to memory usage")
        );
        let succeeded = JobState {
            job_id: "j1",
            status: "SUCCEEDED",
            exit_code: Some(0),
            ..JobState::default()
        };
        assert_eq!(succeeded.report(RunId(1)).and_then(|r| r.reason), None);
        assert!(
            JobState {
                status: "WEIRD",
                ..JobState::default()
            }
            .report(RunId(1))
            .is_none()
        );
    }
}
