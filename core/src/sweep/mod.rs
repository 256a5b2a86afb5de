//! Scenario sweeps: one submission that runs a version once per
//! combination of the inputs it varies ("growth 2 % to 6 % in 1-point
//! steps, for retail and b2b": 10 runs). A sweep is its own object with its
//! runs in grid order; its status is what its runs' statuses add up to.
//!
//! Locally each run is dispatched on its own and the runs share the
//! executor's slots. On AWS Batch the sweep is one array job: child `i`
//! (`AWS_BATCH_JOB_ARRAY_INDEX`) is the sweep's run at position `i`.

pub mod archive;
mod grid;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use grid::{Axis, Variation, axis, expand, grid_size, label, point, range_values, shown};

use crate::alongside::Alongside;
use crate::ids::{ModelId, RunId, SweepId, TaskId, UserId, VersionId};
use crate::run::{NewRun, Run};
use crate::schema::Inputs;
use crate::status::RunStatus;
use crate::store::StoreResult;
use crate::task::{Job, TaskKind};

/// Email a sweep's submitter that it ended, once every run of it has: a
/// sweep's runs send no email each (a sweep of 200 runs is one message).
/// Queued by each run's end, in the transaction that ends it, one task per
/// run: the task of the run that ends last therefore runs after every end
/// is written and finds the sweep ended (a task shared by the runs could
/// have read before the last end was written). Only the task that claims
/// the sweep's notice ([`SweepStore::claim_sweep_notice`]) sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NotifySweep {
    pub sweep_id: SweepId,
    /// The run whose end queued it.
    pub run_id: RunId,
}

impl Job for NotifySweep {
    const KIND: TaskKind = TaskKind::NotifySweep;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("notify_sweep:{}:{}", self.sweep_id, self.run_id))
    }
}

/// Hand a sweep's queued runs to AWS Batch as one array job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DispatchSweep {
    pub sweep_id: SweepId,
}

impl Job for DispatchSweep {
    const KIND: TaskKind = TaskKind::DispatchSweep;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("dispatch_sweep:{}", self.sweep_id))
    }
}

/// Build the archive of an ended sweep: every run's outputs in one zip
/// ([`archive`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildSweepArchive {
    pub sweep_id: SweepId,
}

impl Job for BuildSweepArchive {
    const KIND: TaskKind = TaskKind::BuildSweepArchive;

    fn dedupe_key(&self) -> Option<String> {
        Some(format!("build_sweep_archive:{}", self.sweep_id))
    }
}

/// The most runs one sweep makes unless configured otherwise
/// (`--max-sweep-runs`).
pub const DEFAULT_MAX_RUNS: u16 = 200;

/// The environment variable that lists an array job's runs, in grid
/// order ([`runs_list`]): child `i` runs the `i`-th.
pub const RUNS_VARIABLE: &str = "MODELRUN_SWEEP_RUNS";

/// The variable AWS Batch sets in each child of an array job, from 0.
pub const ARRAY_INDEX_VARIABLE: &str = "AWS_BATCH_JOB_ARRAY_INDEX";

/// [`RUNS_VARIABLE`] for these runs in grid order: ids separated by
/// commas, a stretch of consecutive ids written `first-last`
/// (`"12-14,20"`). A sweep's runs are made together, so their ids are
/// mostly consecutive and the list stays short: ECS takes at most 8192
/// characters for all of a job's overrides.
pub fn runs_list(runs: &[RunId]) -> String {
    let mut stretches: Vec<(i64, i64)> = Vec::new();
    for run in runs {
        match stretches.last_mut() {
            Some((_, last)) if last.checked_add(1) == Some(run.0) => *last = run.0,
            _ => stretches.push((run.0, run.0)),
        }
    }
    let parts: Vec<String> = stretches
        .iter()
        .map(|(first, last)| {
            if first == last {
                first.to_string()
            } else {
                format!("{first}-{last}")
            }
        })
        .collect();
    parts.join(",")
}

/// The run an array job's child runs: the `index`-th of `runs`
/// ([`RUNS_VARIABLE`], as [`runs_list`] writes it; [`ARRAY_INDEX_VARIABLE`]).
///
/// # Errors
/// What is wrong with the two variables, naming the variable, for the
/// job's log.
pub fn run_of_child(runs: &str, index: &str) -> Result<RunId, String> {
    let index: usize = index
        .trim()
        .parse()
        .map_err(|_| format!("{ARRAY_INDEX_VARIABLE} is {index:?}, not an index from 0"))?;
    let mut before = 0usize;
    for part in runs.split(',') {
        let (first, last) = part.split_once('-').unwrap_or((part, part));
        let id = |text: &str| text.trim().parse::<i64>().ok().filter(|id| *id > 0);
        let (Some(first), Some(last)) = (id(first), id(last)) else {
            return Err(format!(
                "{RUNS_VARIABLE} holds {part:?}, not a run id or a range of them"
            ));
        };
        let count = usize::try_from(last - first)
            .map_err(|_| {
                format!("{RUNS_VARIABLE} holds {part:?}, a range that ends before it starts")
            })?
            .saturating_add(1);
        if index - before < count {
            let offset = i64::try_from(index - before).unwrap_or(i64::MAX);
            return Ok(RunId(first + offset));
        }
        before = before.saturating_add(count);
    }
    Err(format!("{RUNS_VARIABLE} lists no run at index {index}"))
}

/// A sweep as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Sweep {
    pub id: SweepId,
    pub model_id: ModelId,
    pub model_name: String,
    pub version_id: VersionId,
    pub version_label: String,
    pub submitted_by: UserId,
    pub submitter_email: String,
    /// The inputs every run shares.
    pub inputs: Inputs,
    /// What varies, in grid order: the first axis changes slowest.
    pub axes: Vec<Axis>,
    pub run_count: i64,
    /// The AWS Batch array job, once submitted.
    pub job_id: Option<String>,
    /// The sweep's own random key, in its array job's name. Internal.
    #[serde(skip)]
    pub job_key: String,
    pub created_at: DateTime<Utc>,
    /// When someone cancelled it.
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl Sweep {
    /// `modelrun-sweep-<id>-<key>`: the name of the sweep's array job.
    pub fn job_name(&self) -> String {
        format!("modelrun-sweep-{}-{}", self.id, self.job_key)
    }

    /// The sweep a job name claims to belong to, if it is named like one.
    pub fn of_job_name(name: &str) -> Option<SweepId> {
        let rest = name.strip_prefix("modelrun-sweep-")?;
        rest.split_once('-')?.0.parse().ok()
    }
}

/// A sweep to create: its runs, already validated, in grid order.
#[derive(Debug, Clone)]
pub struct NewSweep {
    pub version_id: VersionId,
    pub submitted_by: UserId,
    pub inputs: Inputs,
    pub axes: Vec<Axis>,
    pub runs: Vec<NewRun>,
    /// A one-time key: one sweep per key and submitter.
    pub submit_key: Option<String>,
    /// Dispatch the runs together as one array job (one `dispatch_sweep`
    /// task) rather than each on its own.
    pub array: bool,
}

/// What creating a sweep did.
#[derive(Debug)]
pub enum SweepCreated {
    /// A new sweep, with the tasks that dispatch it.
    New {
        sweep: Box<Sweep>,
        tasks: Vec<TaskId>,
    },
    /// The sweep this one-time key made before.
    Repeated(SweepId),
}

/// How many of a sweep's runs are where.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub waiting: i64,
    pub running: i64,
    pub succeeded: i64,
    pub failed: i64,
    pub cancelled: i64,
}

impl Tally {
    pub fn add(&mut self, status: RunStatus, count: i64) {
        let bucket = match status {
            RunStatus::Queued
            | RunStatus::Dispatching
            | RunStatus::Submitted
            | RunStatus::Pending
            | RunStatus::Runnable => &mut self.waiting,
            RunStatus::Starting | RunStatus::Running | RunStatus::Cancelling => &mut self.running,
            RunStatus::Succeeded => &mut self.succeeded,
            RunStatus::Failed => &mut self.failed,
            RunStatus::Cancelled => &mut self.cancelled,
        };
        *bucket += count;
    }

    pub fn of(runs: &[Run]) -> Self {
        let mut tally = Tally::default();
        for run in runs {
            tally.add(run.status, 1);
        }
        tally
    }

    pub fn total(&self) -> i64 {
        self.waiting + self.running + self.succeeded + self.failed + self.cancelled
    }

    pub fn ended(&self) -> i64 {
        self.succeeded + self.failed + self.cancelled
    }

    /// The sweep's status in one word: `running` while any run has not
    /// ended; then `succeeded` when every run did, `cancelled` when any was
    /// cancelled, else `failed`.
    pub fn status(&self) -> &'static str {
        if self.ended() < self.total() {
            if self.running > 0 {
                "running"
            } else {
                "waiting"
            }
        } else if self.succeeded == self.total() {
            "succeeded"
        } else if self.cancelled > 0 {
            "cancelled"
        } else {
            "failed"
        }
    }
}

/// A sweep with how far its runs are.
#[derive(Debug, Clone, Serialize)]
pub struct SweepSummary {
    #[serde(flatten)]
    pub sweep: Sweep,
    pub runs: Tally,
}

/// Storage of sweeps. Their runs are ordinary runs, linked by position.
#[async_trait]
pub trait SweepStore: Send + Sync {
    /// Creates the sweep, its runs (each with its first event) and their
    /// dispatch: a task per run, or one `dispatch_sweep` task when
    /// `array`, all in one transaction. A one-time key used before by the
    /// same person gives back that sweep and creates nothing.
    /// `Conflict` when the version is retired. `alongside` is written in
    /// the same transaction: its estimate for each run, its audit entry
    /// made from the sweep.
    async fn create_sweep(
        &self,
        sweep: NewSweep,
        alongside: Alongside<Sweep>,
    ) -> StoreResult<SweepCreated>;
    async fn sweep(&self, id: SweepId) -> StoreResult<Option<Sweep>>;
    /// The sweep `user` made with the one-time key `key`, if any.
    async fn sweep_with_key(&self, user: UserId, key: &str) -> StoreResult<Option<SweepId>>;
    /// Sweeps newest first, at most `limit`; only `submitted_by`'s when given.
    async fn sweeps(
        &self,
        submitted_by: Option<UserId>,
        limit: u32,
    ) -> StoreResult<Vec<SweepSummary>>;
    /// The sweep's runs in grid order.
    async fn sweep_runs(&self, id: SweepId) -> StoreResult<Vec<Run>>;
    /// The sweep a run belongs to, and its position (from 0).
    async fn run_sweep(&self, run: RunId) -> StoreResult<Option<(SweepId, usize)>>;
    /// Records the sweep's array job.
    async fn set_sweep_job(&self, id: SweepId, job_id: &str) -> StoreResult<()>;
    /// The run at `position` of the sweep (its array index).
    async fn sweep_run_at(&self, id: SweepId, position: usize) -> StoreResult<Option<RunId>>;
    /// Marks that the sweep's submitter is being told it ended: `true` for
    /// the one caller that marks it first, `false` ever after.
    async fn claim_sweep_notice(&self, id: SweepId, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Marks the sweep cancelled (its runs are cancelled one by one).
    async fn mark_sweep_cancelled(&self, id: SweepId, now: DateTime<Utc>) -> StoreResult<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_runs_writes_stretches_as_ranges() {
        let runs: Vec<RunId> = [12, 13, 14, 20, 22, 23].into_iter().map(RunId).collect();
        let list = runs_list(&runs);
        assert_eq!(list, "12-14,20,22-23");
        for (index, run) in runs.iter().enumerate() {
            assert_eq!(run_of_child(&list, &index.to_string()), Ok(*run));
        }
        assert!(
            run_of_child(&list, "6")
                .expect_err("refused")
                .contains("no run at index 6")
        );
        assert!(
            run_of_child("14-12", "0")
                .expect_err("refused")
                .contains("ends before it starts")
        );
        assert_eq!(runs_list(&[RunId(7), RunId(8)]), "7-8");
    }

    #[test]
    fn a_child_finds_its_run_by_its_index() {
        assert_eq!(run_of_child("12,13,14", "1"), Ok(RunId(13)));
        assert_eq!(run_of_child("12", "0"), Ok(RunId(12)));
        assert!(
            run_of_child("12,13", "2")
                .expect_err("refused")
                .contains("no run at index 2")
        );
        assert!(run_of_child("12,13", "-1").is_err());
        assert!(
            run_of_child("12,x", "1")
                .expect_err("refused")
                .contains("not a run id")
        );
    }

    #[test]
    fn a_job_name_names_its_sweep() {
        assert_eq!(
            Sweep::of_job_name("modelrun-sweep-42-00ff00ff00ff00ff"),
            Some(SweepId(42))
        );
        assert_eq!(Sweep::of_job_name("modelrun-run-42-00ff"), None);
        assert_eq!(Sweep::of_job_name("modelrun-sweep-x-00"), None);
    }

    #[test]
    fn a_tally_says_what_the_runs_add_up_to() {
        let mut tally = Tally::default();
        tally.add(RunStatus::Succeeded, 2);
        tally.add(RunStatus::Running, 1);
        assert_eq!(tally.status(), "running");
        tally.running = 0;
        assert_eq!(tally.status(), "succeeded");
        tally.add(RunStatus::Failed, 1);
        assert_eq!(tally.status(), "failed");
        tally.add(RunStatus::Cancelled, 1);
        assert_eq!(tally.status(), "cancelled");
        tally.add(RunStatus::Queued, 1);
        assert_eq!(tally.status(), "waiting");
    }
}
