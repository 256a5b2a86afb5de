//! Durable asynchronous work: at-least-once, with leases, retries and a dead end.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{EmailId, RunId, TaskId, VersionId};

/// The kinds of work the worker knows. Each has a typed payload (a [`Job`])
/// and one idempotent handler, in a file of its own in the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Hand a queued run to the executor.
    DispatchRun,
    /// Send one message from the outbox.
    SendEmail,
    /// Ask the executor to stop a run.
    CancelRun,
    /// Register an image version's AWS Batch job definition.
    RegisterJobDefinition,
    /// Register new versions from the images pushed to ECR.
    SyncImages,
    /// Build a model environment.
    PrepareEnvironment,
    /// Build a run's reproducibility bundle ([`crate::bundle`]).
    BuildBundle,
    /// Hand a sweep's runs to AWS Batch as one array job ([`crate::sweep`]).
    DispatchSweep,
    /// Email a sweep's submitter once every run of it has ended.
    NotifySweep,
    /// Build the zip of every output of an ended sweep ([`crate::sweep`]).
    BuildSweepArchive,
    /// Build the zip of an ended run's outputs ([`crate::outputs_zip`]).
    BuildOutputsZip,
}

impl TaskKind {
    pub const ALL: [TaskKind; 11] = [
        TaskKind::DispatchRun,
        TaskKind::SendEmail,
        TaskKind::CancelRun,
        TaskKind::RegisterJobDefinition,
        TaskKind::SyncImages,
        TaskKind::PrepareEnvironment,
        TaskKind::BuildBundle,
        TaskKind::DispatchSweep,
        TaskKind::NotifySweep,
        TaskKind::BuildSweepArchive,
        TaskKind::BuildOutputsZip,
    ];

    /// Tasks that may take as long as an environment build (minutes, up
    /// to its timeout), and so run in slots of their own.
    pub fn is_long(self) -> bool {
        matches!(self, TaskKind::PrepareEnvironment)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::DispatchRun => "dispatch_run",
            TaskKind::SendEmail => "send_email",
            TaskKind::CancelRun => "cancel_run",
            TaskKind::RegisterJobDefinition => "register_job_definition",
            TaskKind::SyncImages => "sync_images",
            TaskKind::PrepareEnvironment => "prepare_environment",
            TaskKind::BuildBundle => "build_bundle",
            TaskKind::DispatchSweep => "dispatch_sweep",
            TaskKind::NotifySweep => "notify_sweep",
            TaskKind::BuildSweepArchive => "build_sweep_archive",
            TaskKind::BuildOutputsZip => "build_outputs_zip",
        }
    }
}

impl fmt::Display for TaskKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TaskKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TaskKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| format!("unknown task kind {s:?}"))
    }
}

/// Where a task is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// Waiting for `run_after`, or leased to a worker until `locked_until`.
    Queued,
    Done,
    /// Out of attempts; kept for an admin to look at and retry.
    Dead,
}

impl TaskState {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Queued => "queued",
            TaskState::Done => "done",
            TaskState::Dead => "dead",
        }
    }
}

impl FromStr for TaskState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [TaskState::Queued, TaskState::Done, TaskState::Dead]
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown task state {s:?}"))
    }
}

/// A stored task.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Task {
    pub id: TaskId,
    pub kind: TaskKind,
    pub payload: Value,
    pub state: TaskState,
    /// Claims so far, including the current one.
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub dedupe_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A task leased to one worker. Completing or failing it needs the lease
/// token, so that a worker whose lease expired cannot overwrite the outcome
/// of the worker that reclaimed it.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub task: Task,
    pub lease: String,
}

/// Default number of attempts before a task is dead.
pub const DEFAULT_MAX_ATTEMPTS: i32 = 8;

/// A task to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    pub kind: TaskKind,
    pub payload: Value,
    /// While a queued task has this key, enqueuing another with it returns the first.
    pub dedupe_key: Option<String>,
    pub run_after: Option<DateTime<Utc>>,
    pub max_attempts: i32,
}

impl NewTask {
    pub fn new(kind: TaskKind, payload: Value) -> Self {
        NewTask {
            kind,
            payload,
            dedupe_key: None,
            run_after: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// A task's payload: the typed job that the worker's handler of
/// [`Job::KIND`] receives, and what everyone who enqueues the task builds.
/// Its JSON form is the task's stored payload.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    const KIND: TaskKind;

    /// While a queued task has this key, enqueuing the same job returns it.
    fn dedupe_key(&self) -> Option<String>;

    /// The task that carries this job.
    fn task(&self) -> NewTask {
        // Plain structs of numbers and strings always serialize.
        let payload = serde_json::to_value(self).unwrap_or(Value::Null);
        let mut task = NewTask::new(Self::KIND, payload);
        task.dedupe_key = self.dedupe_key();
        task
    }
}

/// Hand a queued run to the executor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchRun {
    pub run_id: RunId,
}

impl Job for DispatchRun {
    const KIND: TaskKind = TaskKind::DispatchRun;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("dispatch_run:{}", self.run_id))
    }
}

/// Ask the executor to stop a run that a person cancelled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CancelRun {
    pub run_id: RunId,
    /// Who asked, for the run's reason.
    #[serde(default)]
    pub by: Option<String>,
}

impl Job for CancelRun {
    const KIND: TaskKind = TaskKind::CancelRun;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("cancel_run:{}", self.run_id))
    }
}

/// Send one message of the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SendEmail {
    pub email_id: EmailId,
}

impl Job for SendEmail {
    const KIND: TaskKind = TaskKind::SendEmail;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("send_email:{}", self.email_id))
    }
}

/// Prepare the executor for a new version (its AWS Batch job definition).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegisterJobDefinition {
    pub version_id: VersionId,
}

impl Job for RegisterJobDefinition {
    const KIND: TaskKind = TaskKind::RegisterJobDefinition;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("register_job_definition:{}", self.version_id))
    }
}

/// Build a model environment where runs execute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrepareEnvironment {
    pub digest: String,
}

impl Job for PrepareEnvironment {
    const KIND: TaskKind = TaskKind::PrepareEnvironment;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("prepare_environment:{}", self.digest))
    }
}

/// Register new versions from the images pushed to ECR.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncImages {}

impl Job for SyncImages {
    const KIND: TaskKind = TaskKind::SyncImages;

    /// One sync at a time: a sync queued while another waits is the same work.
    fn dedupe_key(&self) -> Option<String> {
        Some("sync_images".to_owned())
    }
}

/// How a failed task is treated.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// Give up: the task is dead.
    Dead,
}

/// Delay before retry number `attempt` (1-based): 2 s, 4 s, 8 s … capped at
/// 10 minutes, with up to 25 % jitter taken from `jitter` (0.0–1.0) so that
/// tasks that failed together do not retry together.
pub fn backoff(attempt: i32, jitter: f64) -> chrono::Duration {
    let exponent = attempt.clamp(1, 20) as u32;
    let base_ms = (1000i64 << exponent).min(600_000);
    let jitter_ms = (base_ms as f64 * 0.25 * jitter.clamp(0.0, 1.0)) as i64;
    chrono::Duration::milliseconds(base_ms + jitter_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1, 0.0).num_seconds(), 2);
        assert_eq!(backoff(2, 0.0).num_seconds(), 4);
        assert_eq!(backoff(5, 0.0).num_seconds(), 32);
        assert_eq!(backoff(30, 0.0).num_seconds(), 600);
        assert_eq!(backoff(1, 1.0).num_milliseconds(), 2500);
        assert_eq!(backoff(0, 0.0).num_seconds(), 2);
    }

    #[test]
    fn jobs_are_tasks_of_their_kind_with_their_key() {
        let task = CancelRun {
            run_id: RunId(7),
            by: Some("ann@example.com".to_owned()),
        }
        .task();
        assert_eq!(task.kind, TaskKind::CancelRun);
        assert_eq!(task.dedupe_key.as_deref(), Some("cancel_run:7"));
        assert_eq!(
            task.payload,
            serde_json::json!({"run_id": 7, "by": "ann@example.com"})
        );
        let stored: CancelRun =
            serde_json::from_value(serde_json::json!({"run_id": 7})).expect("older payload");
        assert_eq!(stored.by, None);
        assert_eq!(SyncImages {}.task().payload, serde_json::json!({}));
    }

    #[test]
    fn kinds_round_trip() {
        for kind in TaskKind::ALL {
            assert_eq!(kind.as_str().parse::<TaskKind>(), Ok(kind));
        }
    }
}

/// Something stored together with the task that carries it on, such as a
/// new run and its dispatch, or an email and its sending.
#[derive(Debug, Clone)]
pub struct Queued<T> {
    pub item: T,
    pub task: TaskId,
}
