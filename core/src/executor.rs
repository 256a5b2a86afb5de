//! Executors run model versions: local processes on one machine, AWS Batch
//! jobs in the cloud. Both follow the same container contract (see
//! `docs/ARCHITECTURE.md`) and report progress as [`JobReport`]s, which the
//! worker turns into status changes.

use std::fmt;

use async_trait::async_trait;

use crate::blob::BlobKey;
use crate::diagnosis::Diagnosis;
use crate::environment::{EnvironmentError, EnvironmentSpec};
use crate::ids::RunId;
use crate::job_access::JobToken;
use crate::manifest::Resources;
use crate::model::{ModelVersion, Runtime};
use crate::resources::ResourceRefusal;
use crate::run::Run;
use crate::status::RunStatus;

/// Everything an executor needs to start one run.
#[derive(Debug, Clone)]
pub struct JobRequest {
    pub run_id: RunId,
    /// The model's name: its secrets are named per model.
    pub model: String,
    /// Deterministic for the run ([`JobRequest::job_name`]), so that a
    /// retried dispatch finds the job it already submitted instead of
    /// submitting twice.
    pub name: String,
    /// The run's own key ([`Run::job_key`]), if it has one.
    pub job_key: Option<String>,
    pub runtime: Runtime,
    pub job_definition: Option<String>,
    pub inputs: BlobKey,
    pub outputs: BlobKey,
    pub resources: Resources,
    /// What the run needs installed (local versions that declare it).
    pub environment: Option<EnvironmentSpec>,
    /// Names of the secrets the model reads from its environment.
    pub secrets: Vec<String>,
    /// Whether the run may use the network (the local sandbox enforces it).
    pub network: bool,
    /// The run's job token, for executors whose jobs fetch their inputs
    /// and store their outputs through the job API
    /// ([`Executor::needs_job_token`]).
    pub job_token: Option<JobToken>,
}

/// Everything an executor needs to start a sweep's runs as one array job.
/// The runs share the version, the resources and one job token.
#[derive(Debug, Clone)]
pub struct ArrayJobRequest {
    pub sweep_id: crate::ids::SweepId,
    /// The sweep's job name ([`crate::sweep::Sweep::job_name`]).
    pub name: String,
    /// Every run of the sweep, in grid order: child `i` runs `runs[i]`.
    pub runs: Vec<RunId>,
    pub runtime: Runtime,
    pub job_definition: Option<String>,
    pub resources: Resources,
    /// The job token every child uses, each for its own run.
    pub job_token: JobToken,
}

impl JobRequest {
    /// `modelrun-run-<id>-<key>`: the job name of a run, with the run's own
    /// random key (`modelrun-run-<id>` for a run made before runs had one).
    /// One run has one job; a dispatch that is retried looks the job up by
    /// this name first. The key keeps another installation's run with the
    /// same id (same queue, another database) from ever matching.
    pub fn job_name(run: &Run) -> String {
        Self::name_for(run.id, run.job_key.as_deref())
    }

    fn name_for(run: RunId, key: Option<&str>) -> String {
        match key {
            Some(key) => format!("modelrun-run-{run}-{key}"),
            None => format!("modelrun-run-{run}"),
        }
    }

    /// The run a job name claims to belong to, if it is named like one of
    /// ours. Whether it is that run's job is for [`JobRequest::is_job_of`].
    pub fn run_of_job_name(name: &str) -> Option<RunId> {
        let rest = name.strip_prefix("modelrun-run-")?;
        let id = rest.split_once('-').map_or(rest, |(id, _)| id);
        id.parse().ok()
    }

    /// Whether a job named `name` is `run`'s own: the run's id and key,
    /// not a job of another installation's run with the same id.
    pub fn is_job_of(name: &str, run: &Run) -> bool {
        name == Self::job_name(run)
    }
}

/// What an executor says about a job it accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    pub job_id: String,
    /// True when the job already existed (a retried dispatch).
    pub existing: bool,
}

/// A report on a job: from an event, a poll, or a local process. Status
/// `queued` is a request rather than news: the job never started the model
/// (its worker died first), so the run is to be dispatched again, with
/// `reason` in its history.
#[derive(Debug, Clone, PartialEq)]
pub struct JobReport {
    pub run_id: RunId,
    pub job_id: String,
    pub status: RunStatus,
    pub reason: Option<String>,
    pub exit_code: Option<i32>,
    pub log_stream: Option<String>,
    /// The job's attempt, from 1, when the executor retries jobs (AWS
    /// Batch); `None` otherwise.
    pub attempt: Option<i64>,
    /// Other facts worth keeping in the run's history (the executor's own
    /// status reason, say), by name.
    pub facts: serde_json::Map<String, serde_json::Value>,
}

impl JobReport {
    pub fn new(run_id: RunId, job_id: impl Into<String>, status: RunStatus) -> Self {
        JobReport {
            run_id,
            job_id: job_id.into(),
            status,
            reason: None,
            exit_code: None,
            log_stream: None,
            attempt: None,
            facts: serde_json::Map::new(),
        }
    }

    /// Whether the report says only what `run` already shows: its status,
    /// on its attempt, with its log stream. A sweep leaves such reports
    /// out rather than write nothing in a transaction per run.
    pub fn repeats(&self, run: &Run) -> bool {
        self.run_id == run.id
            && self.status == run.status
            && self.attempt.is_none_or(|attempt| attempt == run.attempt)
            && self
                .log_stream
                .as_ref()
                .is_none_or(|stream| run.log_stream.as_ref() == Some(stream))
    }
}

/// Part of a run's log. A page never ends inside a character: what is cut
/// off comes with the next page (see [`crate::log_text`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogPage {
    pub text: String,
    /// Where to continue reading; pass it back to get what came after.
    pub next: Option<String>,
    /// True when the text was cut short at the page limit.
    pub truncated: bool,
}

/// The end of a run's log, starting at a line's start.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogTail {
    pub text: String,
    /// True when earlier lines of the log are not in `text`.
    pub earlier: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    /// Worth retrying: the service was unreachable or throttled us.
    #[error("executor unavailable: {0}")]
    Unavailable(String),
    /// Retrying will not help: the job is invalid.
    #[error("executor refused the job: {0}")]
    Refused(String),
}

#[async_trait]
pub trait Executor: Send + Sync + fmt::Debug {
    /// `local` or `batch`.
    fn kind(&self) -> &'static str;
    /// Prepares for running a version (AWS Batch registers its job
    /// definition) and returns what to keep with the version, if anything.
    /// Called once per version, by a task; must be idempotent.
    async fn prepare_version(
        &self,
        version: &ModelVersion,
    ) -> Result<Option<String>, ExecutorError>;
    /// Builds a model environment where this executor runs models, and
    /// returns the end of the installer's output. Idempotent: an
    /// environment that is built is left as it is.
    async fn prepare_environment(&self, spec: &EnvironmentSpec)
    -> Result<String, EnvironmentError>;
    /// Starts the job, or finds the one already started under `job.name`.
    async fn submit(&self, job: &JobRequest) -> Result<Submitted, ExecutorError>;
    /// The dispatcher has recorded the run's `submitted` (or found the run
    /// past it). An executor whose jobs report their own progress from this
    /// process (the local one) holds a new job's first report until then,
    /// so that the run's history keeps its order: `submitted` before
    /// `starting`. The default does nothing.
    fn submission_recorded(&self, _run: RunId) {}
    /// Starts one array job for a sweep's runs (child `i` runs
    /// `job.runs[i]`), or finds the one already started under `job.name`.
    /// Only for executors that [`Executor::runs_array_jobs`].
    async fn submit_array(&self, _job: &ArrayJobRequest) -> Result<Submitted, ExecutorError> {
        Err(ExecutorError::Refused(
            "this executor runs each run of a sweep on its own".to_owned(),
        ))
    }
    /// Current state of these jobs. A job the executor does not know is
    /// reported `failed` with a reason.
    async fn describe(&self, runs: &[Run]) -> Result<Vec<JobReport>, ExecutorError>;
    /// Asks the run's job to stop; it ends with its own report. Finds the job
    /// by id, or by its deterministic name when no id was recorded yet.
    /// `false` when the run has no job, so there is nothing to stop.
    async fn cancel(&self, run: &Run, reason: &str) -> Result<bool, ExecutorError>;
    /// A page of the run's log, from `cursor` (the start when `None`).
    async fn log(&self, run: &Run, cursor: Option<&str>) -> Result<LogPage, ExecutorError>;
    /// The end of the run's log as it is now: at most about `max_bytes`
    /// (UTF-8), from the start of a line, so that a long log shows its
    /// latest lines. Empty when there is no log yet.
    async fn log_tail(&self, run: &Run, max_bytes: usize) -> Result<LogTail, ExecutorError>;
    /// A report of a failed job with what the job's own output says: the
    /// last lines of its log ([`crate::log_text::failure_reason`]), for
    /// reports that come from outside the job (AWS Batch's events and
    /// `DescribeJobs`). The default returns the report as it is: the local
    /// executor's reports carry those lines already.
    async fn explain_failure(&self, _run: &Run, report: JobReport) -> JobReport {
        report
    }
    /// Whether this executor's platform can give a run these resources (AWS
    /// Fargate takes only some vCPU and memory pairs): if not, the part to
    /// change and why. Checked when a run is submitted, and again when it is
    /// dispatched. Resources within a version's bounds suit every platform
    /// unless it says otherwise.
    fn check_resources(&self, _resources: &Resources) -> Result<(), ResourceRefusal> {
        Ok(())
    }
    /// Whether jobs reach their files through the job API with a job token
    /// ([`crate::job_access`]), as on AWS Batch; the dispatcher then makes one.
    fn needs_job_token(&self) -> bool {
        false
    }
    /// Whether a sweep's runs go to this executor together, as one array
    /// job ([`crate::sweep`]), rather than each on its own.
    fn runs_array_jobs(&self) -> bool {
        false
    }
    /// How many runs execute at once when this executor bounds it (the
    /// local executor's slots, `--max-concurrent-runs`); `None` when the
    /// platform decides (AWS Batch: its compute environment's vCPUs).
    fn runs_at_once(&self) -> Option<usize> {
        None
    }
    /// A warning for administrators when runs are not contained here (no
    /// sandbox on this machine), saying what a model can then reach.
    fn containment_warning(&self) -> Option<String> {
        None
    }
    /// Why a run may be stuck waiting (`runnable` or `starting` for long):
    /// what the executor sees, as facts for the run's history and a page.
    async fn diagnose(&self, run: &Run) -> Result<Diagnosis, ExecutorError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn running() -> Run {
        Run {
            job_id: Some("job-7".to_owned()),
            log_stream: Some("stream-1".to_owned()),
            started_at: Some(chrono::DateTime::UNIX_EPOCH),
            ..Run::fixture(RunId(7), RunStatus::Running)
        }
    }

    #[test]
    fn a_report_repeats_a_run_only_when_it_says_nothing_new() {
        let run = running();
        let report = |status| JobReport::new(RunId(7), "job-7", status);
        assert!(report(RunStatus::Running).repeats(&run));
        let mut same = report(RunStatus::Running);
        same.attempt = Some(1);
        same.log_stream = Some("stream-1".to_owned());
        assert!(same.repeats(&run));
        assert!(!report(RunStatus::Succeeded).repeats(&run));
        let mut retried = report(RunStatus::Running);
        retried.attempt = Some(2);
        assert!(!retried.repeats(&run));
        let mut stream = report(RunStatus::Running);
        stream.log_stream = Some("stream-2".to_owned());
        assert!(!stream.repeats(&run));
        let mut other = report(RunStatus::Running);
        other.run_id = RunId(8);
        assert!(!other.repeats(&run));
    }

    #[test]
    fn a_job_name_carries_the_run_and_its_key() {
        assert_eq!(
            JobRequest::run_of_job_name("modelrun-run-42-0f1e2d3c4b5a6978"),
            Some(RunId(42))
        );
        assert_eq!(
            JobRequest::run_of_job_name("modelrun-run-42"),
            Some(RunId(42))
        );
        assert_eq!(JobRequest::run_of_job_name("modelrun-run-x-1"), None);
        assert_eq!(JobRequest::run_of_job_name("other-run-42"), None);
        assert_eq!(
            JobRequest::name_for(RunId(42), Some("0f1e2d3c4b5a6978")),
            "modelrun-run-42-0f1e2d3c4b5a6978"
        );
        assert_eq!(JobRequest::name_for(RunId(42), None), "modelrun-run-42");
    }
}
