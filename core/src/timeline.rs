//! A run's life as a planner reads it: queued, running, then finished,
//! failed or cancelled, with the time spent in each. The status machine
//! ([`crate::status`]) has eleven statuses, several of which a run passes
//! through in the same second (dispatching, submitted, runnable, starting…);
//! to a person they are all "waiting for its turn". This module is the one
//! place that maps statuses to those phases; the run's full history of
//! events stays as it is, for whoever wants the detail.

use chrono::{DateTime, Duration, Utc};

use serde_json::Value;

use crate::diagnosis::Diagnosis;
use crate::run::{EventKind, RunEvent, StatusChange};
use crate::status::RunStatus;

/// The fact a run's history gets while its dispatch waits for its model's
/// environment to be built: the worker writes it, [`timeline`] reads it as
/// the reason the run waits.
pub const WAITING_FOR_ENVIRONMENT: &str = "waiting for the model's environment to be built";

/// The fact a run's status event gets when the local executor found every
/// run slot taken as the run began to wait: its value is the number of runs
/// the executor runs at once. [`timeline`] reads it into [`Step::slots`].
pub const WAITING_FOR_SLOT: &str = "waiting_for_slot";

/// A phase of a run's life, as a planner names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for its turn: from `queued` up to `starting`.
    Queued,
    /// The model is running.
    Running,
    /// A cancel was asked for and is under way.
    Cancelling,
    /// Ended well.
    Finished,
    Failed,
    Cancelled,
}

impl Phase {
    /// The phase a run in `status` is in.
    pub fn of(status: RunStatus) -> Phase {
        match status {
            RunStatus::Queued
            | RunStatus::Dispatching
            | RunStatus::Submitted
            | RunStatus::Pending
            | RunStatus::Runnable
            | RunStatus::Starting => Phase::Queued,
            RunStatus::Running => Phase::Running,
            RunStatus::Cancelling => Phase::Cancelling,
            RunStatus::Succeeded => Phase::Finished,
            RunStatus::Failed => Phase::Failed,
            RunStatus::Cancelled => Phase::Cancelled,
        }
    }

    /// Its name on a page: "Queued", "Running", "Finished"…
    pub fn label(self) -> &'static str {
        match self {
            Phase::Queued => "Queued",
            Phase::Running => "Running",
            Phase::Cancelling => "Cancelling",
            Phase::Finished => "Finished",
            Phase::Failed => "Failed",
            Phase::Cancelled => "Cancelled",
        }
    }

    /// Lower case, for CSS classes and test hooks: "queued", "finished"…
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Queued => "queued",
            Phase::Running => "running",
            Phase::Cancelling => "cancelling",
            Phase::Finished => "finished",
            Phase::Failed => "failed",
            Phase::Cancelled => "cancelled",
        }
    }

    /// An end: a moment, not a span of time.
    pub fn is_end(self) -> bool {
        matches!(self, Phase::Finished | Phase::Failed | Phase::Cancelled)
    }
}

/// One phase of one run: when it began, when the next began, and why the
/// run waited, when its history says.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub phase: Phase,
    pub from: DateTime<Utc>,
    /// When the next phase began; `None` for the phase the run is in.
    pub until: Option<DateTime<Utc>>,
    /// The job's attempt, from the second on (a retried AWS Batch job
    /// waits and runs again).
    pub attempt: Option<i64>,
    /// Why it waited: the latest check of a waiting run made in this
    /// phase (its summary), else the wait for the model's environment.
    /// Why it ended or is cancelling, for those: the reason its status
    /// change gave ("exit code 1", "cancel requested by ann@example.com").
    pub reason: Option<String>,
    /// For a wait: the number of runs the executor runs at once, when it
    /// found all of them running as this run began to wait for a slot
    /// (the [`WAITING_FOR_SLOT`] fact).
    pub slots: Option<u64>,
}

impl Step {
    /// Time spent in it, up to `now` for the phase the run is in; `None`
    /// for an end.
    pub fn duration(&self, now: DateTime<Utc>) -> Option<Duration> {
        if self.phase.is_end() {
            return None;
        }
        Some((self.until.unwrap_or(now) - self.from).max(Duration::zero()))
    }
}

/// The phases of a run whose history is `events` (oldest first, as the
/// store lists them). Statuses in a row of one phase make one step; a run
/// that goes back to waiting (a later attempt) gets a step for each time.
/// Facts set the reason of the step they fall in.
pub fn timeline(events: &[RunEvent]) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    let mut diagnosed = false;
    for event in events {
        let Some(status) = event.status.filter(|_| event.kind == EventKind::Status) else {
            if let Some(step) = steps.last_mut() {
                diagnosed |= note_reason(step, event, diagnosed);
            }
            continue;
        };
        let phase = Phase::of(status);
        let slots = event.data.get(WAITING_FOR_SLOT).and_then(Value::as_u64);
        if let Some(step) = steps.last_mut().filter(|step| step.phase == phase) {
            step.slots = slots.or(step.slots);
            continue;
        }
        if let Some(step) = steps.last_mut() {
            step.until = Some(event.at);
        }
        diagnosed = false;
        let said = StatusChange::reason_in(&event.message, status)
            .filter(|_| !matches!(phase, Phase::Queued | Phase::Running));
        steps.push(Step {
            phase,
            from: event.at,
            until: None,
            attempt: attempt(event),
            reason: said.map(str::to_owned),
            slots,
        });
    }
    steps
}

/// Sets `step`'s reason from a fact, if the fact is one; a check's
/// summary is kept over the environment's wait. Whether it was a check.
fn note_reason(step: &mut Step, event: &RunEvent, diagnosed: bool) -> bool {
    if step.phase != Phase::Queued {
        return false;
    }
    if let Some(diagnosis) = Diagnosis::of_event(event) {
        step.reason = Some(diagnosis.summary);
        return true;
    }
    if event.message == WAITING_FOR_ENVIRONMENT && !diagnosed {
        step.reason = Some(event.message.clone());
    }
    false
}

/// The attempt a status event names, from the second on.
fn attempt(event: &RunEvent) -> Option<i64> {
    event
        .data
        .get("attempt")
        .and_then(Value::as_i64)
        .filter(|&attempt| attempt > 1)
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::diagnosis::Findings;

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + second, 0).expect("time")
    }

    fn status(second: i64, status: RunStatus) -> RunEvent {
        RunEvent {
            at: at(second),
            kind: EventKind::Status,
            status: Some(status),
            message: status.to_string(),
            data: json!({}),
        }
    }

    fn fact(second: i64, message: &str, data: Value) -> RunEvent {
        RunEvent {
            at: at(second),
            kind: EventKind::Fact,
            status: None,
            message: message.to_owned(),
            data,
        }
    }

    #[test]
    fn every_status_has_one_phase() {
        use RunStatus::*;
        let phases: Vec<Phase> = RunStatus::ALL.into_iter().map(Phase::of).collect();
        assert_eq!(
            phases,
            [
                Phase::Queued,
                Phase::Queued,
                Phase::Queued,
                Phase::Queued,
                Phase::Queued,
                Phase::Queued,
                Phase::Running,
                Phase::Finished,
                Phase::Failed,
                Phase::Cancelling,
                Phase::Cancelled,
            ]
        );
        for status in RunStatus::ALL {
            assert_eq!(Phase::of(status).is_end(), status.is_terminal(), "{status}");
        }
        assert_eq!(Phase::of(Starting).label(), "Queued");
        assert_eq!(Phase::of(Succeeded).as_str(), "finished");
    }

    #[test]
    fn a_finished_run_is_queued_running_finished_with_durations() {
        use RunStatus::*;
        let events = [
            status(0, Queued),
            status(1, Dispatching),
            status(1, Submitted),
            status(2, Runnable),
            status(3, Starting),
            status(4, Running),
            fact(70, "exit code 0", json!({"exit_code": 0})),
            status(94, Succeeded),
        ];
        let steps = timeline(&events);
        let phases: Vec<Phase> = steps.iter().map(|s| s.phase).collect();
        assert_eq!(phases, [Phase::Queued, Phase::Running, Phase::Finished]);
        let now = at(1000);
        assert_eq!(steps[0].duration(now), Some(Duration::seconds(4)));
        assert_eq!(steps[1].duration(now), Some(Duration::seconds(90)));
        assert_eq!(steps[2].duration(now), None, "an end is a moment");
        assert_eq!(steps[2].from, at(94));
        assert!(
            steps
                .iter()
                .all(|s| s.reason.is_none() && s.attempt.is_none())
        );
    }

    #[test]
    fn the_current_phase_counts_up_to_now_with_its_reason() {
        use RunStatus::*;
        let diagnosis = Diagnosis {
            summary: "1 of 1 run slots on this machine are busy".to_owned(),
            findings: Findings::Local {
                slots: 1,
                busy: 1,
                waiting: 1,
                job_known: true,
            },
            causes: Vec::new(),
            checks: Vec::new(),
        };
        let events = [
            status(0, Queued),
            fact(1, WAITING_FOR_ENVIRONMENT, json!({"environment": "abc"})),
            status(30, Runnable),
            fact(600, "runnable for 10 minutes", diagnosis.fact(Runnable)),
            fact(601, WAITING_FOR_ENVIRONMENT, json!({})),
        ];
        let steps = timeline(&events);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].until, None);
        assert_eq!(steps[0].duration(at(700)), Some(Duration::seconds(700)));
        assert_eq!(
            steps[0].reason.as_deref(),
            Some("1 of 1 run slots on this machine are busy"),
            "the check's finding, not the older wait"
        );
        let only_environment = timeline(&events[..3]);
        assert_eq!(
            only_environment[0].reason.as_deref(),
            Some(WAITING_FOR_ENVIRONMENT)
        );
    }

    #[test]
    fn a_wait_for_a_slot_is_read_from_its_status_event() {
        use RunStatus::*;
        let mut waiting = status(1, Runnable);
        waiting.data = json!({ WAITING_FOR_SLOT: 2 });
        let events = [status(0, Queued), waiting, status(75, Starting)];
        let steps = timeline(&events);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].slots, Some(2), "the starting status keeps it");
        assert_eq!(timeline(&events[..1])[0].slots, None);
        let ran = [events[0].clone(), events[1].clone(), status(80, Running)];
        assert_eq!(
            timeline(&ran)[0].slots,
            Some(2),
            "the wait keeps it once over"
        );
        assert_eq!(timeline(&ran)[1].slots, None);
    }

    #[test]
    fn a_retried_job_waits_and_runs_again_and_a_cancel_shows() {
        use RunStatus::*;
        let mut again = status(50, Runnable);
        again.data = json!({"attempt": 2});
        let mut cancel = status(80, Cancelling);
        cancel.message = "cancelling: cancel requested by ann@example.com".to_owned();
        let mut submitted = status(0, Queued);
        submitted.message = "queued: submitted by ann@example.com".to_owned();
        let events = [
            submitted,
            status(5, Running),
            again,
            status(60, Running),
            cancel,
            status(82, Cancelled),
        ];
        let steps = timeline(&events);
        let phases: Vec<Phase> = steps.iter().map(|s| s.phase).collect();
        assert_eq!(
            phases,
            [
                Phase::Queued,
                Phase::Running,
                Phase::Queued,
                Phase::Running,
                Phase::Cancelling,
                Phase::Cancelled
            ]
        );
        assert_eq!(steps[2].attempt, Some(2));
        assert_eq!(
            steps[4].reason.as_deref(),
            Some("cancel requested by ann@example.com"),
            "who cancelled"
        );
        assert_eq!(steps[0].reason, None, "submitting is no reason to wait");
        assert_eq!(steps[4].duration(at(1000)), Some(Duration::seconds(2)));
        assert!(timeline(&[]).is_empty());
    }
}
