//! What a check found about a run that waits too long in `runnable` or
//! `starting`. The worker writes it into the run's history as a fact
//! ([`Diagnosis::fact`]); the run page shows the latest one, and the next
//! check skips a run whose current status was already diagnosed — both
//! through [`Diagnosis::latest`], the one reader of that fact.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::RunId;
use crate::run::RunEvent;
use crate::status::RunStatus;

/// What an executor found about a run that waits too long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// One sentence: what was found.
    pub summary: String,
    /// What the executor saw, as data.
    pub findings: Findings,
    /// The causes the evidence supports, each with what to do about it;
    /// empty when no check found one. (Diagnoses stored before the checks
    /// hold a fixed list of usual causes here.)
    #[serde(default)]
    pub causes: Vec<Cause>,
    /// Every check that was tried, in the order tried, with its outcome:
    /// what a person reads to see what was looked at.
    #[serde(default)]
    pub checks: Vec<Check>,
}

/// A cause of waiting, in plain words, and what to do about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cause {
    pub cause: String,
    pub check: String,
}

/// One check of a diagnosis: what was looked at and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked, in plain words ("the image in ECR").
    pub subject: String,
    pub outcome: CheckOutcome,
    /// What was seen; for [`CheckOutcome::NotChecked`], why not.
    pub detail: String,
}

/// How a check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    /// Checked, and nothing wrong was seen.
    Clear,
    /// Checked, and the evidence shows a cause (one of [`Diagnosis::causes`]).
    Found,
    /// Could not be checked (refused, unavailable, or not read by
    /// modelrun): never a cause.
    NotChecked,
}

impl Check {
    pub fn new(
        subject: impl Into<String>,
        outcome: CheckOutcome,
        detail: impl Into<String>,
    ) -> Self {
        Check {
            subject: subject.into(),
            outcome,
            detail: detail.into(),
        }
    }

    /// One line for a page or an email: "the image in ECR: found …",
    /// "the subnets' way out: not checked: …".
    pub fn line(&self) -> String {
        match self.outcome {
            CheckOutcome::NotChecked => format!("{}: not checked: {}", self.subject, self.detail),
            CheckOutcome::Clear | CheckOutcome::Found => {
                format!("{}: {}", self.subject, self.detail)
            }
        }
    }
}

impl Cause {
    pub fn new(cause: impl Into<String>, check: impl Into<String>) -> Self {
        Cause {
            cause: cause.into(),
            check: check.into(),
        }
    }
}

/// What the executor saw. Stored without a tag, as the two kinds share no
/// field; the local one comes first because every one of its fields is
/// required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Findings {
    /// The local executor's run slots.
    Local {
        slots: usize,
        busy: usize,
        waiting: usize,
        /// Whether this worker process knows the run's job at all.
        job_known: bool,
    },
    /// AWS Batch: the job, its queue and the queue's compute environments.
    Batch {
        #[serde(default)]
        job_status: Option<String>,
        #[serde(default)]
        job_status_reason: Option<String>,
        #[serde(default)]
        queue: Option<QueueFinding>,
        #[serde(default)]
        compute_environments: Vec<ComputeEnvironmentFinding>,
        /// The earliest job ahead of this one on the queue that Batch
        /// cannot place, if any (boxed: rarely there, and large).
        #[serde(default)]
        blocked_ahead: Option<Box<BlockedJobFinding>>,
    },
}

/// A job ahead in the queue that Batch says it cannot place, as
/// `ListJobs` gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockedJobFinding {
    /// The modelrun run the job's name carries (`modelrun-run-<id>-<key>`);
    /// `None` for a job that is not named like a run.
    pub run: Option<RunId>,
    pub job_id: String,
    pub job_name: String,
    /// Batch's own words (`MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - …`).
    pub status_reason: String,
}

/// An AWS Batch job queue as `DescribeJobQueues` gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueFinding {
    pub name: Option<String>,
    pub state: Option<String>,
    pub status: Option<String>,
    pub status_reason: Option<String>,
}

/// An AWS Batch compute environment as `DescribeComputeEnvironments` gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComputeEnvironmentFinding {
    pub name: Option<String>,
    /// `ENABLED` or `DISABLED`.
    pub state: Option<String>,
    /// `VALID`, `INVALID`, `CREATING`…
    pub status: Option<String>,
    pub status_reason: Option<String>,
    /// `FARGATE`, `EC2`, `SPOT`…
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub max_vcpus: Option<i32>,
    pub subnets: Option<Vec<String>>,
}

impl ComputeEnvironmentFinding {
    /// Enabled and valid: able to run jobs.
    pub fn is_healthy(&self) -> bool {
        self.state.as_deref() == Some("ENABLED") && self.status.as_deref() == Some("VALID")
    }
}

/// The fact in a run's history: which status was diagnosed, and what was found.
#[derive(Serialize, Deserialize)]
struct DiagnosisFact {
    diagnosis: RunStatus,
    #[serde(flatten)]
    found: Diagnosis,
}

impl Diagnosis {
    /// The run event data that records this diagnosis of a run in `status`.
    pub fn fact(&self, status: RunStatus) -> Value {
        serde_json::to_value(DiagnosisFact {
            diagnosis: status,
            found: self.clone(),
        })
        .unwrap_or(Value::Null)
    }

    /// The diagnosis `event` records, whatever status it was made in;
    /// `None` for any other event.
    pub fn of_event(event: &RunEvent) -> Option<Diagnosis> {
        DiagnosisFact::deserialize(&event.data)
            .ok()
            .map(|fact| fact.found)
    }

    /// The latest diagnosis of a run in `status` among its events, with
    /// when it was made.
    pub fn latest(events: &[RunEvent], status: RunStatus) -> Option<(DateTime<Utc>, Diagnosis)> {
        events.iter().rev().find_map(|event| {
            let fact = DiagnosisFact::deserialize(&event.data).ok()?;
            (fact.diagnosis == status).then_some((event.at, fact.found))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::EventKind;

    fn event(data: Value) -> RunEvent {
        RunEvent {
            at: Utc::now(),
            kind: EventKind::Fact,
            status: None,
            message: String::new(),
            data,
        }
    }

    #[test]
    fn a_fact_is_found_again_for_its_status_only() {
        let diagnosis = Diagnosis {
            summary: "1 of 1 run slots on this machine are busy".to_owned(),
            findings: Findings::Local {
                slots: 1,
                busy: 1,
                waiting: 2,
                job_known: true,
            },
            causes: vec![Cause::new("Every run slot is taken", "Wait.")],
            checks: vec![Check::new(
                "the run slots",
                CheckOutcome::Found,
                "1 of 1 busy",
            )],
        };
        let events = [
            event(serde_json::json!({"exit_code": 0})),
            event(diagnosis.fact(RunStatus::Runnable)),
        ];
        let (_, found) = Diagnosis::latest(&events, RunStatus::Runnable).expect("found");
        assert_eq!(found, diagnosis);
        assert!(Diagnosis::latest(&events, RunStatus::Starting).is_none());
    }

    #[test]
    fn batch_findings_stored_before_the_type_still_read() {
        let stored = serde_json::json!({
            "diagnosis": "runnable",
            "summary": "compute environment ce is DISABLED and VALID",
            "findings": {
                "job_status": "RUNNABLE",
                "job_status_reason": null,
                "queue": null,
                "compute_environments": [{
                    "name": "ce", "state": "DISABLED", "status": "VALID",
                    "status_reason": null, "type": "FARGATE", "max_vcpus": 16,
                    "subnets": ["subnet-1"]
                }]
            },
            "causes": [{"cause": "IAM roles", "check": "Check the roles."}]
        });
        let (_, found) = Diagnosis::latest(&[event(stored)], RunStatus::Runnable).expect("read");
        let Findings::Batch {
            compute_environments,
            ..
        } = &found.findings
        else {
            panic!("batch findings: {:?}", found.findings)
        };
        assert_eq!(compute_environments[0].kind.as_deref(), Some("FARGATE"));
        assert!(!compute_environments[0].is_healthy());
        assert_eq!(found.causes[0].cause, "IAM roles");
    }
}
