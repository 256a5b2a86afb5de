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
    /// The run's own random key, in its job's name and tags (16 hex
    /// characters; `None` for runs made before runs had one). Internal:
    /// not shown or serialized.
    #[serde(skip)]
    pub job_key: Option<String>,
    /// Which attempt of its job the run is on, from 1: AWS Batch retries a
    /// job after an infrastructure fault.
    pub attempt: i64,
    /// Whether its version was production or a candidate when the run was
    /// submitted; `None` for runs made before versions had aliases.
    pub alias: Option<crate::alias::Alias>,
}

impl Run {
    /// Run time from start to end, or to `now` while it runs.
    pub fn duration(&self, now: DateTime<Utc>) -> Option<chrono::Duration> {
        let start = self.started_at?;
        Some(self.finished_at.unwrap_or(now) - start)
    }

    /// A run for unit tests of code that reads runs: `id` of model
    /// `forecast` version `v1` (ids 1) by `ann@example.com` (user 1), in
    /// `status`, created at the Unix epoch, default inputs and resources,
    /// first attempt, nothing else set. Change fields with `..`.
    #[doc(hidden)]
    pub fn fixture(id: RunId, status: RunStatus) -> Run {
        Run {
            id,
            model_id: ModelId(1),
            model_name: "forecast".to_owned(),
            version_id: VersionId(1),
            version_label: "v1".to_owned(),
            submitted_by: UserId(1),
            submitter_email: "ann@example.com".to_owned(),
            inputs: Inputs::default(),
            resources: Resources::default(),
            status,
            status_reason: None,
            job_id: None,
            log_stream: None,
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
            started_at: None,
            finished_at: None,
            rerun_of: None,
            job_key: None,
            attempt: 1,
            alias: None,
        }
    }

    /// Whether [`Run::duration`] still grows with `now`: started, not ended.
    pub fn duration_grows(&self) -> bool {
        self.started_at.is_some() && self.finished_at.is_none()
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
    /// Written only while its version is its model's production version:
    /// for a person who may not run candidates (a runner), and for a
    /// schedule that runs production. A promotion that moves production
    /// away between the caller's read of the version and the write makes
    /// the store refuse with [`crate::store::StoreError::Conflict`],
    /// writing nothing; otherwise the run records the alias its version
    /// has when it is written.
    pub production_only: bool,
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

impl RunEvent {
    /// A new run's first event: `queued` when it was created, naming who
    /// submitted it. The store writes it with the run; a submit's answer
    /// shows it without reading it back.
    pub fn submitted(run: &Run) -> RunEvent {
        RunEvent {
            at: run.created_at,
            kind: EventKind::Status,
            status: Some(RunStatus::Queued),
            message: format!("queued: submitted by {}", run.submitter_email),
            data: Value::Object(Default::default()),
        }
    }
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
    /// The attempt of the job the report is about, when the executor
    /// numbers them ([`crate::status::plan_attempt`]).
    pub attempt: Option<i64>,
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
            attempt: None,
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

    /// The words of its event: the status, the attempt from the second on,
    /// and the reason when there is one.
    pub fn message(&self) -> String {
        let status = match self.attempt {
            Some(attempt) if attempt > 1 => format!("{} (attempt {attempt})", self.to),
            _ => self.to.to_string(),
        };
        match &self.reason {
            Some(reason) => format!("{status}: {reason}"),
            None => status,
        }
    }

    /// The reason in the words of an event [`StatusChange::message`] wrote
    /// for `status`: "cancel requested by ann@example.com" of
    /// "cancelling: cancel requested by ann@example.com"; `None` when it
    /// gave none.
    pub fn reason_in(message: &str, status: RunStatus) -> Option<&str> {
        let rest = message.strip_prefix(status.as_str())?;
        let rest = match rest.strip_prefix(" (attempt ") {
            Some(attempt) => &attempt[attempt.find(')')? + 1..],
            None => rest,
        };
        rest.strip_prefix(": ").filter(|reason| !reason.is_empty())
    }

    /// The facts its event keeps: those of the report, and the job id when
    /// it is first known (`known_job` is the one the run already has), so
    /// that the history mentions it once.
    pub fn event_data(&self, known_job: Option<&str>) -> Value {
        let mut data = self.data.clone();
        if let (Some(attempt), Value::Object(map)) = (self.attempt, &mut data)
            && attempt > 1
        {
            map.insert("attempt".to_owned(), Value::from(attempt));
        }
        if let (Some(job_id), Value::Object(map)) = (&self.job_id, &mut data)
            && known_job != Some(job_id.as_str())
        {
            map.insert("job_id".to_owned(), Value::from(job_id.as_str()));
        }
        data
    }
}

/// When a run started and ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunTimes {
    /// When it first reached `running`.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
}

impl RunTimes {
    /// The times once the run enters `to` at `now`: a run starts the first
    /// time it is `running` (a second report does not move the start), and
    /// finishes when it ends.
    pub fn after(self, to: RunStatus, now: DateTime<Utc>) -> RunTimes {
        RunTimes {
            started_at: self
                .started_at
                .or((to == RunStatus::Running).then_some(now)),
            finished_at: if to.is_terminal() {
                Some(now)
            } else {
                self.finished_at
            },
        }
    }
}

/// What became of a [`StatusChange`].
#[derive(Debug, Clone)]
pub enum Transitioned {
    /// Written, with its event and follow-ups; `tasks` are the tasks the
    /// follow-ups queued (what a kick names). The run is not read back: a
    /// caller that shows it reads it (`RunStore::run`), while the executor's
    /// reports, several per run, need only know the change was written.
    Applied { tasks: Vec<TaskId> },
    /// Nothing written: a repeated or stale report, with the run as it is
    /// (boxed: a run is large, and most changes are applied).
    Ignored(Box<Run>),
}

impl Transitioned {
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
    /// A version without runs yet.
    pub fn new(version_id: VersionId) -> Self {
        VersionCounts {
            version_id,
            total: 0,
            succeeded: 0,
            failed: 0,
            cancelled: 0,
        }
    }

    /// Counts `runs` runs that are in `status`.
    pub fn add(&mut self, status: RunStatus, runs: i64) {
        self.total += runs;
        match status {
            RunStatus::Succeeded => self.succeeded += runs,
            RunStatus::Failed => self.failed += runs,
            RunStatus::Cancelled => self.cancelled += runs,
            _ => {}
        }
    }

    /// Succeeded among the runs that succeeded or failed, if any did.
    pub fn success_rate(&self) -> Option<f64> {
        let ended = self.succeeded + self.failed;
        (ended > 0).then(|| self.succeeded as f64 / ended as f64)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(secs, 0).single().expect("time")
    }

    #[test]
    fn a_run_starts_once_and_finishes_when_it_ends() {
        let queued = RunTimes::default();
        assert_eq!(queued.after(RunStatus::Submitted, at(1)), queued);
        let running = queued.after(RunStatus::Running, at(2));
        assert_eq!(running.started_at, Some(at(2)));
        assert_eq!(running.after(RunStatus::Running, at(3)), running);
        let ended = running.after(RunStatus::Failed, at(4));
        assert_eq!(
            (ended.started_at, ended.finished_at),
            (Some(at(2)), Some(at(4)))
        );
        let never_ran = queued.after(RunStatus::Cancelled, at(5));
        assert_eq!(
            (never_ran.started_at, never_ran.finished_at),
            (None, Some(at(5)))
        );
    }

    #[test]
    fn an_event_mentions_the_job_id_when_it_is_first_known() {
        let mut change = StatusChange::new(RunId(1), RunStatus::Submitted).fact("exit_code", 0);
        change.job_id = Some("job-1".to_owned());
        assert_eq!(
            change.event_data(None),
            json!({"exit_code": 0, "job_id": "job-1"})
        );
        assert_eq!(change.event_data(Some("job-1")), json!({"exit_code": 0}));
        assert_eq!(change.event_data(Some("job-0"))["job_id"], json!("job-1"));
    }

    #[test]
    fn an_event_message_gives_the_reason() {
        let change = StatusChange::new(RunId(1), RunStatus::Failed);
        assert_eq!(change.message(), "failed");
        assert_eq!(
            change.clone().reason("exit code 1").message(),
            "failed: exit code 1"
        );
        assert_eq!(StatusChange::reason_in("failed", RunStatus::Failed), None);
        for (change, reason) in [
            (change.clone().reason("exit code 1"), "exit code 1"),
            (
                StatusChange::new(RunId(1), RunStatus::Runnable).reason("host lost"),
                "host lost",
            ),
        ] {
            let mut change = change;
            change.attempt = Some(2);
            let status = change.to;
            assert_eq!(
                StatusChange::reason_in(&change.message(), status),
                Some(reason),
                "read back from {}",
                change.message()
            );
        }
        assert_eq!(
            StatusChange::reason_in("failed: x", RunStatus::Running),
            None,
            "another status's words"
        );
    }

    #[test]
    fn counts_say_how_runs_ended() {
        let mut counts = VersionCounts::new(VersionId(7));
        counts.add(RunStatus::Succeeded, 3);
        counts.add(RunStatus::Failed, 1);
        counts.add(RunStatus::Running, 2);
        counts.add(RunStatus::Cancelled, 1);
        assert_eq!(
            (
                counts.total,
                counts.succeeded,
                counts.failed,
                counts.cancelled
            ),
            (7, 3, 1, 1)
        );
        assert_eq!(counts.success_rate(), Some(0.75));
    }
}
