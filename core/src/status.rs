//! The run status machine. This module is the only place that decides which
//! status changes are legal; every store calls [`plan`] before it writes.
//!
//! Statuses follow AWS Batch (`submitted … running`), framed by our own
//! `queued`/`dispatching` at the start and `cancelling`/`cancelled` for cancels.
//! Status reports arrive at least once and in any order (events, polling,
//! local processes), so a report that would move a run backwards, or repeat
//! its current status, is not an error: it is a no-op.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Where a run is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    Queued,
    Dispatching,
    Submitted,
    Pending,
    Runnable,
    Starting,
    Running,
    Succeeded,
    Failed,
    Cancelling,
    Cancelled,
}

impl RunStatus {
    /// Every status, in the order of a run's life.
    pub const ALL: [RunStatus; 11] = [
        RunStatus::Queued,
        RunStatus::Dispatching,
        RunStatus::Submitted,
        RunStatus::Pending,
        RunStatus::Runnable,
        RunStatus::Starting,
        RunStatus::Running,
        RunStatus::Succeeded,
        RunStatus::Failed,
        RunStatus::Cancelling,
        RunStatus::Cancelled,
    ];

    /// The statuses a run can still leave.
    pub const ACTIVE: [RunStatus; 8] = [
        RunStatus::Queued,
        RunStatus::Dispatching,
        RunStatus::Submitted,
        RunStatus::Pending,
        RunStatus::Runnable,
        RunStatus::Starting,
        RunStatus::Running,
        RunStatus::Cancelling,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Dispatching => "dispatching",
            RunStatus::Submitted => "submitted",
            RunStatus::Pending => "pending",
            RunStatus::Runnable => "runnable",
            RunStatus::Starting => "starting",
            RunStatus::Running => "running",
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Cancelling => "cancelling",
            RunStatus::Cancelled => "cancelled",
        }
    }

    /// True once nothing can change the status any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled
        )
    }

    /// Position on the forward path; a run only ever moves to a higher rank.
    /// `cancelling` sits after every non-terminal status and before the ends.
    fn rank(self) -> u8 {
        match self {
            RunStatus::Queued => 0,
            RunStatus::Dispatching => 1,
            RunStatus::Submitted => 2,
            RunStatus::Pending => 3,
            RunStatus::Runnable => 4,
            RunStatus::Starting => 5,
            RunStatus::Running => 6,
            RunStatus::Cancelling => 7,
            RunStatus::Succeeded | RunStatus::Failed | RunStatus::Cancelled => 8,
        }
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not a run status.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown run status {0:?}")]
pub struct UnknownStatus(pub String);

impl FromStr for RunStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_owned()))
    }
}

/// What to do with a requested status change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    /// Write this status (the one asked for, or what it means from where
    /// the run is) and append an event.
    Apply(RunStatus),
    /// Already there, or the report is stale: write nothing.
    Ignore,
}

/// A status change that no report or request may cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a run cannot go from {from} to {to}")]
pub struct IllegalTransition {
    pub from: RunStatus,
    pub to: RunStatus,
}

/// Decides a status change.
///
/// * Same status: ignored (reports repeat).
/// * A terminal run never changes.
/// * Forward along the path is applied, skipping steps is fine (a poll may
///   miss `runnable`). Backwards among the executor's statuses (`submitted`
///   to `running`) is a stale report and ignored; back to `queued` or
///   `dispatching`, which only we set, is illegal.
/// * `cancelling` is reachable from any active status; from `cancelling` the
///   run can only end: `cancelled`, `succeeded` if it finished first, and a
///   `failed` report means `cancelled` (a job that a cancel stopped ends
///   `failed` on some executors).
/// * `cancelled` is only reachable through `cancelling`.
pub fn plan(from: RunStatus, to: RunStatus) -> Result<Plan, IllegalTransition> {
    let illegal = Err(IllegalTransition { from, to });
    if from == to {
        return Ok(Plan::Ignore);
    }
    if from.is_terminal() {
        return if to.is_terminal() {
            illegal
        } else {
            // A late report about a run that already ended.
            Ok(Plan::Ignore)
        };
    }
    match (from, to) {
        (RunStatus::Cancelling, RunStatus::Failed) => Ok(Plan::Apply(RunStatus::Cancelled)),
        (RunStatus::Cancelling, to) if to.is_terminal() => Ok(Plan::Apply(to)),
        // The job kept reporting progress while the cancel was under way.
        (RunStatus::Cancelling, _) => Ok(Plan::Ignore),
        (_, RunStatus::Cancelling) => Ok(Plan::Apply(to)),
        (_, RunStatus::Cancelled) => illegal,
        (_, RunStatus::Queued | RunStatus::Dispatching) if to.rank() < from.rank() => illegal,
        (from, to) if to.rank() > from.rank() => Ok(Plan::Apply(to)),
        _ => Ok(Plan::Ignore),
    }
}

/// Decides a status change that comes with the attempt of the job it is
/// about (AWS Batch numbers them from 1; an executor without retries is
/// always on attempt 1), when the run is on `run_attempt`.
///
/// * A report of a later attempt starts it: the run may move back to
///   `runnable` (or any executor status from `submitted` on), which
///   [`plan`] would ignore as stale. Not while cancelling, not after the end.
/// * A report of an earlier attempt is stale and ignored.
/// * Otherwise, as [`plan`].
pub fn plan_attempt(
    from: RunStatus,
    run_attempt: i64,
    to: RunStatus,
    attempt: i64,
) -> Result<Plan, IllegalTransition> {
    let executors = RunStatus::Submitted.rank()..=RunStatus::Running.rank();
    if attempt > run_attempt
        && executors.contains(&from.rank())
        && (executors.contains(&to.rank()) || to.is_terminal())
        && to != RunStatus::Cancelled
    {
        return Ok(Plan::Apply(to));
    }
    if attempt < run_attempt && !from.is_terminal() {
        return Ok(Plan::Ignore);
    }
    plan(from, to)
}

/// Whether a run may go back to `queued` to be dispatched again: only
/// while its job has not started the model (`submitted` to `starting`),
/// which the executor vouches for (a local job's journal). A running,
/// cancelling or ended run never goes back.
pub fn may_requeue(from: RunStatus) -> bool {
    matches!(
        from,
        RunStatus::Submitted | RunStatus::Pending | RunStatus::Runnable | RunStatus::Starting
    )
}

#[cfg(test)]
mod tests {
    use super::RunStatus::*;
    use super::*;

    #[test]
    fn a_later_attempt_may_go_back_and_an_earlier_one_is_stale() {
        assert_eq!(
            plan_attempt(Running, 1, Runnable, 2),
            Ok(Plan::Apply(Runnable))
        );
        assert_eq!(
            plan_attempt(Running, 1, Running, 2),
            Ok(Plan::Apply(Running))
        );
        assert_eq!(
            plan_attempt(Starting, 1, Succeeded, 2),
            Ok(Plan::Apply(Succeeded))
        );
        assert_eq!(plan_attempt(Runnable, 2, Running, 1), Ok(Plan::Ignore));
        assert_eq!(plan_attempt(Running, 2, Succeeded, 1), Ok(Plan::Ignore));
        // The same attempt: as ever, never backwards.
        assert_eq!(plan_attempt(Running, 2, Runnable, 2), Ok(Plan::Ignore));
        assert_eq!(
            plan_attempt(Runnable, 2, Running, 2),
            Ok(Plan::Apply(Running))
        );
        // Cancelling and ended runs do not start attempts.
        assert_eq!(plan_attempt(Cancelling, 1, Runnable, 2), Ok(Plan::Ignore));
        assert_eq!(plan_attempt(Succeeded, 1, Runnable, 2), Ok(Plan::Ignore));
        assert!(plan_attempt(Running, 1, Queued, 2).is_err());
    }

    #[test]
    fn only_a_run_whose_model_never_started_goes_back_to_queued() {
        let may: Vec<_> = RunStatus::ALL
            .into_iter()
            .filter(|s| may_requeue(*s))
            .collect();
        assert_eq!(may, [Submitted, Pending, Runnable, Starting]);
    }

    #[test]
    fn the_forward_path_applies_step_by_step_and_with_skips() {
        let path = [
            Queued,
            Dispatching,
            Submitted,
            Pending,
            Runnable,
            Starting,
            Running,
            Succeeded,
        ];
        for pair in path.windows(2) {
            assert_eq!(plan(pair[0], pair[1]), Ok(Plan::Apply(pair[1])), "{pair:?}");
        }
        assert_eq!(plan(Submitted, Running), Ok(Plan::Apply(Running)));
        assert_eq!(plan(Queued, Failed), Ok(Plan::Apply(Failed)));
        assert_eq!(plan(Runnable, Succeeded), Ok(Plan::Apply(Succeeded)));
    }

    #[test]
    fn repeats_and_stale_reports_are_ignored() {
        assert_eq!(plan(Running, Running), Ok(Plan::Ignore));
        assert_eq!(plan(Running, Runnable), Ok(Plan::Ignore));
        assert_eq!(plan(Starting, Submitted), Ok(Plan::Ignore));
        assert_eq!(plan(Succeeded, Running), Ok(Plan::Ignore));
        assert_eq!(plan(Cancelled, Cancelling), Ok(Plan::Ignore));
        assert_eq!(plan(Cancelling, Running), Ok(Plan::Ignore));
    }

    #[test]
    fn illegal_changes_are_rejected() {
        for (from, to) in [
            (Succeeded, Failed),
            (Failed, Succeeded),
            (Cancelled, Succeeded),
            (Succeeded, Cancelled),
            (Running, Queued),
            (Submitted, Dispatching),
            (Dispatching, Queued),
        ] {
            assert_eq!(plan(from, to), Err(IllegalTransition { from, to }));
        }
    }

    #[test]
    fn cancel_goes_through_cancelling_from_any_active_status() {
        for from in RunStatus::ACTIVE {
            if from == Cancelling {
                continue;
            }
            assert_eq!(
                plan(from, Cancelling),
                Ok(Plan::Apply(Cancelling)),
                "{from}"
            );
            assert_eq!(
                plan(from, Cancelled),
                Err(IllegalTransition {
                    from,
                    to: Cancelled
                }),
                "{from}"
            );
        }
        assert_eq!(plan(Cancelling, Cancelled), Ok(Plan::Apply(Cancelled)));
        assert_eq!(plan(Cancelling, Succeeded), Ok(Plan::Apply(Succeeded)));
        assert_eq!(
            plan(Cancelling, Failed),
            Ok(Plan::Apply(Cancelled)),
            "a job stopped by a cancel is cancelled"
        );
    }

    #[test]
    fn statuses_round_trip_through_strings() {
        for status in RunStatus::ALL {
            assert_eq!(status.as_str().parse::<RunStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_string(&status).ok(),
                Some(format!("\"{status}\""))
            );
        }
        assert!("RUNNING".parse::<RunStatus>().is_err());
    }

    #[test]
    fn active_and_terminal_partition_all_statuses() {
        for status in RunStatus::ALL {
            assert_ne!(
                RunStatus::ACTIVE.contains(&status),
                status.is_terminal(),
                "{status}"
            );
        }
    }
}
