//! Runs, their append-only event history, and their outputs.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::email::NewEmail;
use crate::ids::{ModelId, RunId, TaskId, UserId, VersionId};
use crate::manifest::Resources;
use crate::schema::Inputs;
use crate::status::RunStatus;
use crate::task::NewTask;

/// One execution of one version with validated inputs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: RunId,
    pub model_id: ModelId,
    pub model_name: String,
    pub version_id: VersionId,
    pub version_label: String,
    pub submitted_by: UserId,
    pub submitter_email: String,
    pub inputs: Inputs,
    pub resources: Resources,
    pub status: RunStatus,
    pub status_reason: Option<String>,
    /// The executor's id for the job, once submitted.
    pub job_id: Option<String>,
    /// Where the executor keeps the job's log (a CloudWatch stream), once known.
    pub log_stream: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When it first reached `running`.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The run this one was started from with "Run again".
    pub rerun_of: Option<RunId>,
}

impl Run {
    /// Run time from start to end, or to `now` while it runs.
    pub fn duration(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or(now) - start)
    }
}

/// A run to create. The inputs are already validated against the version.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub version_id: VersionId,
    pub submitted_by: UserId,
    pub inputs: Inputs,
    pub resources: Resources,
    /// A one-time key from the form or the API's `Idempotency-Key`: one run
    /// per key and submitter.
    pub submit_key: Option<String>,
    /// The run this one repeats, with changes ("Run again").
    pub rerun_of: Option<RunId>,
}

/// What an event records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    /// The run's status changed.
    Status,
    /// A fact worth keeping: an exit code, a log stream, a diagnosis.
    Fact,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Status => "status",
            EventKind::Fact => "fact",
        }
    }
}

/// One entry of a run's history. Never changed once written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunEvent {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    /// For status events, the status entered.
    pub status: Option<RunStatus>,
    pub message: String,
    pub data: Value,
}

/// A file a run produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunOutput {
    /// The path relative to the run's output directory, with `/` separators.
    pub name: String,
    pub size: i64,
    pub content_type: String,
    pub sha256: Option<String>,
}

/// Work that must happen if, and only if, the change it comes with is written.
#[derive(Debug, Clone)]
pub enum FollowUp {
    Task(NewTask),
    /// Stored in the outbox, with a task that sends it.
    Email(NewEmail),
}

/// A requested status change, with everything that is written along with it
/// in the same transaction.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub run_id: RunId,
    pub to: RunStatus,
    /// Why, in words a person understands ("exit code 1", "timed out after 600 s").
    pub reason: Option<String>,
    /// The executor's job id, when this change reports the submission.
    pub job_id: Option<String>,
    /// Where the job's log is, when the report says.
    pub log_stream: Option<String>,
    /// Facts that came with the report (exit code, log stream, who cancelled).
    pub data: Value,
    /// The run's outputs, recorded with its end.
    pub outputs: Vec<RunOutput>,
    pub follow_ups: Vec<FollowUp>,
}

impl StatusChange {
    pub fn new(run_id: RunId, to: RunStatus) -> Self {
        StatusChange {
            run_id,
            to,
            reason: None,
            job_id: None,
            log_stream: None,
            data: Value::Object(Default::default()),
            outputs: Vec::new(),
            follow_ups: Vec::new(),
        }
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    pub fn fact(mut self, key: &str, value: impl Into<Value>) -> Self {
        if let Value::Object(map) = &mut self.data {
            map.insert(key.to_owned(), value.into());
        }
        self
    }
}

/// What became of a [`StatusChange`].
#[derive(Debug, Clone)]
pub enum Transitioned {
    /// Written, with its event and follow-ups; `tasks` are the tasks the
    /// follow-ups queued (what a kick names).
    Applied { run: Run, tasks: Vec<TaskId> },
    /// Nothing written: a repeated or stale report.
    Ignored(Run),
}

impl Transitioned {
    pub fn run(&self) -> &Run {
        match self {
            Transitioned::Applied { run, .. } | Transitioned::Ignored(run) => run,
        }
    }

    /// The tasks that were queued along with the change.
    pub fn tasks(&self) -> &[TaskId] {
        match self {
            Transitioned::Applied { tasks, .. } => tasks,
            Transitioned::Ignored(_) => &[],
        }
    }
}

/// Which runs to list, newest first.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub model: Option<String>,
    pub status: Option<RunStatus>,
    /// Only runs of this submitter.
    pub submitted_by: Option<UserId>,
    /// Only runs of the model's version with this label.
    pub version: Option<String>,
    /// Only runs submitted by the user with this email.
    pub submitter: Option<String>,
    /// Only runs created at or after this time.
    pub created_from: Option<DateTime<Utc>>,
    /// Only runs created before this time.
    pub created_until: Option<DateTime<Utc>>,
    /// Oldest first; `before` then means "after".
    pub oldest_first: bool,
    /// The cursor of the previous page: only runs with a smaller id
    /// (newest first) or a larger one (oldest first).
    pub before: Option<RunId>,
    pub limit: u32,
}

/// One page of a list, and the cursor of the next page if there is one.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<RunId>,
}

/// How a version's runs have ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionCounts {
    pub version_id: VersionId,
    pub total: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl VersionCounts {
    /// Succeeded among the runs that succeeded or failed, if any did.
    pub fn success_rate(&self) -> Option<f64> {
        let ended = self.succeeded + self.failed;
        (ended > 0).then(|| self.succeeded as f64 / ended as f64)
    }
}
