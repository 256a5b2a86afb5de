//! What a sweep learns of each active run from the local executor: the
//! end of a job that finished, the progress of one that runs here (and a
//! cancel made through another worker passed on to it), the recovery of a
//! run whose worker process died ([`super::recover`]), and the failure of
//! one that nobody has reported on for too long.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use modelrun_core::executor::{JobReport, JobRequest};
use modelrun_core::ids::RunId;
use modelrun_core::run::Run;
use modelrun_core::status::RunStatus;

use super::owner::Whose;
use super::{Inner, JobEntry, Stop, recover};

/// Reports on `runs` (the store's active runs that have a job), and the
/// tidying of what ended runs left behind.
pub(super) async fn describe(inner: &Inner, runs: &[Run]) -> Vec<JobReport> {
    let now = Utc::now();
    let described: Vec<(&Run, Result<JobReport, String>)> = {
        let mut jobs = inner.jobs();
        // An end stays in the table until its run is no longer active, that
        // is, until it is recorded: a sweep whose report could not be
        // recorded (a full disk) reports it again next time.
        jobs.retain(|run, job| job.ended.is_none() || runs.iter().any(|r| r.id == *run));
        runs.iter()
            .filter_map(|run| Some((run, describe_one(inner, &mut jobs, run, now)?)))
            .collect()
    };
    let mut reports = Vec::with_capacity(described.len());
    for (run, described) in described {
        match described {
            Ok(report) => reports.push(report),
            Err(job_id) => reports.extend(recover::recover(inner, run, job_id).await),
        }
    }
    let active: Vec<RunId> = runs.iter().map(|run| run.id).collect();
    recover::tidy(inner, &active).await;
    reports
}

/// What this executor can say about one active run, if anything:
/// `Err` with the job id when the run's worker process is gone and its
/// journal must be read (see [`recover`]).
fn describe_one(
    inner: &Inner,
    jobs: &mut HashMap<RunId, JobEntry>,
    run: &Run,
    now: DateTime<Utc>,
) -> Option<Result<JobReport, String>> {
    if let Some(job) = jobs.get(&run.id) {
        if let Some(report) = &job.ended {
            return Some(Ok(report.clone()));
        }
        if run.status == RunStatus::Cancelling {
            // Cancelled through another worker process: stop it here.
            let reason = run
                .status_reason
                .clone()
                .unwrap_or_else(|| "cancelled".to_owned());
            job.stop.send_if_modified(|stop| {
                let unset = stop.is_none();
                if unset {
                    *stop = Some(Stop::Cancel(reason));
                }
                unset
            });
        }
        return Some(Ok(JobReport::new(run.id, job.job_id.clone(), job.status)));
    }
    let job_id = run
        .job_id
        .clone()
        .unwrap_or_else(|| JobRequest::job_name(run));
    match inner.owner.whose(&job_id) {
        Whose::Ours | Whose::DeadNeighbour => Some(Err(job_id)),
        Whose::LiveNeighbour | Whose::Elsewhere if overdue(run, now) => {
            let mut report = JobReport::new(run.id, job_id, RunStatus::Failed);
            report.reason = Some(
                "no worker has reported on the run for longer than its time limit; \
                 its worker was probably lost"
                    .to_owned(),
            );
            Some(Ok(report))
        }
        Whose::LiveNeighbour | Whose::Elsewhere => None,
    }
}

/// Started longer ago than its time limit, with ten minutes to spare.
fn overdue(run: &Run, now: DateTime<Utc>) -> bool {
    let limit =
        chrono::Duration::seconds(run.resources.timeout_seconds) + chrono::Duration::minutes(10);
    run.started_at.is_some_and(|started| now - started > limit)
}
