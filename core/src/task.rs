//! Durable asynchronous work: at-least-once, with leases, retries and a dead end.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{EmailId, RunId, TaskId, VersionId};

/// The kinds of work the worker knows. Each has a typed payload and one
/// idempotent handler.
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
}

impl TaskKind {
    pub const ALL: [TaskKind; 5] = [
        TaskKind::DispatchRun,
        TaskKind::SendEmail,
        TaskKind::CancelRun,
        TaskKind::RegisterJobDefinition,
        TaskKind::SyncImages,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::DispatchRun => "dispatch_run",
            TaskKind::SendEmail => "send_email",
            TaskKind::CancelRun => "cancel_run",
            TaskKind::RegisterJobDefinition => "register_job_definition",
            TaskKind::SyncImages => "sync_images",
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

    pub fn dispatch_run(run_id: RunId) -> Self {
        NewTask::new(
            TaskKind::DispatchRun,
            serde_json::json!({ "run_id": run_id }),
        )
        .dedupe(format!("dispatch_run:{run_id}"))
    }

    pub fn cancel_run(run_id: RunId, by: &str) -> Self {
        NewTask::new(
            TaskKind::CancelRun,
            serde_json::json!({ "run_id": run_id, "by": by }),
        )
        .dedupe(format!("cancel_run:{run_id}"))
    }

    pub fn send_email(email_id: EmailId) -> Self {
        NewTask::new(
            TaskKind::SendEmail,
            serde_json::json!({ "email_id": email_id }),
        )
        .dedupe(format!("send_email:{email_id}"))
    }

    pub fn register_job_definition(version: VersionId) -> Self {
        NewTask::new(
            TaskKind::RegisterJobDefinition,
            serde_json::json!({ "version_id": version }),
        )
        .dedupe(format!("register_job_definition:{version}"))
    }

    /// One sync at a time: a sync queued while another waits is the same work.
    pub fn sync_images() -> Self {
        NewTask::new(TaskKind::SyncImages, serde_json::json!({})).dedupe("sync_images")
    }

    pub fn dedupe(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }
}

/// Payload of [`TaskKind::DispatchRun`] and [`TaskKind::CancelRun`].
#[derive(Debug, Clone, Deserialize)]
pub struct RunPayload {
    pub run_id: RunId,
    #[serde(default)]
    pub by: Option<String>,
}

/// Payload of [`TaskKind::RegisterJobDefinition`].
#[derive(Debug, Clone, Deserialize)]
pub struct VersionPayload {
    pub version_id: VersionId,
}

/// Payload of [`TaskKind::SendEmail`].
#[derive(Debug, Clone, Deserialize)]
pub struct EmailPayload {
    pub email_id: EmailId,
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
