//! The jobs ahead of a waiting job on its queue, and Batch's reasons for
//! the ones it cannot place.
//!
//! A job queue is worked in order: when the job at its head cannot be
//! placed, every job behind it waits too, with no reason of its own. Batch
//! then sets the blocked job's `statusReason` to a code that starts with
//! `MISCONFIGURATION:` or `CAPACITY:` (AWS Batch User Guide, "Jobs stuck in
//! a RUNNABLE status" and the pages it links for each reason); the codes
//! are put in plain words here.

use aws_sdk_batch::Client as BatchClient;
use aws_sdk_batch::types::JobStatus;
use modelrun_core::diagnosis::BlockedJobFinding;
use modelrun_core::executor::JobRequest;

use crate::aws::AwsFailure;

/// At most this many pages of `ListJobs` (up to 100 jobs each) are read,
/// so that a diagnosis of a very long queue stays a few calls.
const MAX_PAGES: usize = 10;

/// Whether Batch's `statusReason` says the job cannot be placed.
pub(super) fn is_blocked(reason: &str) -> bool {
    reason.starts_with("MISCONFIGURATION:") || reason.starts_with("CAPACITY:")
}

/// Batch's reason in plain words, followed by its own words: "the job asks
/// for … (Batch: MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - …)". A reason
/// without a known code is given as it is.
pub(super) fn in_words(reason: &str) -> String {
    let code = reason.split([' ', '-']).next().unwrap_or_default();
    let words = match code {
        "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT" => {
            "the job asks for more vCPU or memory than any compute environment of the queue can \
             give"
        }
        "MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE" => {
            "the job asks for more vCPU than the compute environments' maximum (maxvCpus) allows"
        }
        "MISCONFIGURATION:SERVICE_ROLE_PERMISSIONS" => {
            "Batch's service role lacks the permissions it needs to start capacity for the job"
        }
        "CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY" => {
            "AWS has no spare capacity of the instance types the compute environments may use; \
             this may pass by itself"
        }
        _ if code.starts_with("MISCONFIGURATION:") => {
            "Batch says the queue's setup cannot run the job"
        }
        _ if code.starts_with("CAPACITY:") => "Batch cannot get the capacity the job needs",
        _ => return reason.to_owned(),
    };
    format!("{words} (Batch: {reason})")
}

/// One job of `ListJobs`: id, name, when it was created (milliseconds
/// since the epoch) and its `statusReason`.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Listed {
    pub id: String,
    pub name: String,
    pub created_at: Option<i64>,
    pub reason: Option<String>,
}

/// What the jobs ahead showed: how many there are, and the earliest
/// blocked one.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Ahead {
    pub count: usize,
    pub blocked: Option<BlockedJobFinding>,
}

/// Among the runnable jobs of the queue, those ahead of job `ours`
/// (created before `created_at`; every other one when its creation time is
/// unknown), and the earliest of them that Batch cannot place.
pub(super) fn ahead_of(ours: &str, created_at: Option<i64>, listed: &[Listed]) -> Ahead {
    let ahead: Vec<&Listed> = listed
        .iter()
        .filter(|job| job.id != ours)
        .filter(|job| match (created_at, job.created_at) {
            (Some(ours), Some(theirs)) => theirs < ours,
            _ => true,
        })
        .collect();
    let blocked = ahead
        .iter()
        .filter(|job| job.reason.as_deref().is_some_and(is_blocked))
        .min_by_key(|job| job.created_at.unwrap_or(i64::MAX))
        .map(|job| BlockedJobFinding {
            run: JobRequest::run_of_job_name(&job.name),
            job_id: job.id.clone(),
            job_name: job.name.clone(),
            status_reason: job.reason.clone().unwrap_or_default(),
        });
    Ahead {
        count: ahead.len(),
        blocked,
    }
}

/// The runnable jobs of `queue` (`ListJobs` with `jobStatus=RUNNABLE`).
/// Errors: the failed call, in words, for a "not checked".
pub(super) async fn runnable(batch: &BatchClient, queue: &str) -> Result<Vec<Listed>, String> {
    let mut pages = batch
        .list_jobs()
        .job_queue(queue)
        .job_status(JobStatus::Runnable)
        .into_paginator()
        .send();
    let mut listed = Vec::new();
    for _ in 0..MAX_PAGES {
        let Some(page) = pages.next().await else {
            break;
        };
        let page = page.map_err(|error| AwsFailure::new("Batch ListJobs", error).message)?;
        listed.extend(page.job_summary_list().iter().map(|job| Listed {
            id: job.job_id().unwrap_or_default().to_owned(),
            name: job.job_name().unwrap_or_default().to_owned(),
            created_at: job.created_at(),
            reason: job.status_reason().map(str::to_owned),
        }));
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use modelrun_core::ids::RunId;

    use super::*;

    fn job(id: &str, name: &str, created_at: i64, reason: Option<&str>) -> Listed {
        Listed {
            id: id.to_owned(),
            name: name.to_owned(),
            created_at: Some(created_at),
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn the_earliest_blocked_job_ahead_is_named() {
        let blocked = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - asks too much";
        let listed = [
            job("j3", "modelrun-run-43-cc", 30, None),
            job("j2", "modelrun-run-42-bb", 20, Some(blocked)),
            job("j1", "modelrun-run-41-aa", 10, Some(blocked)),
            job("j9", "modelrun-run-49-ff", 90, Some(blocked)),
        ];
        let ahead = ahead_of("j3", Some(30), &listed);
        assert_eq!(ahead.count, 2);
        let first = ahead.blocked.expect("blocked");
        assert_eq!(first.run, Some(RunId(41)));
        assert_eq!(first.job_id, "j1");
        // Jobs behind, and healthy jobs ahead, block nothing.
        let healthy = [
            job("j1", "x", 10, Some("waiting")),
            job("j9", "y", 90, Some(blocked)),
        ];
        assert_eq!(ahead_of("j3", Some(30), &healthy).blocked, None);
    }

    #[test]
    fn reason_codes_read_in_plain_words_with_batch_words_kept() {
        let raw = "MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT - The job resource requirement \
                   (vCPU/memory/GPU) is higher than that can be met by the CE(s) attached";
        let words = in_words(raw);
        assert!(
            words.starts_with("the job asks for more vCPU or memory"),
            "{words}"
        );
        assert!(words.ends_with(&format!("(Batch: {raw})")));
        assert!(in_words("CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY - none").contains("spare"));
        assert_eq!(in_words("waiting for capacity"), "waiting for capacity");
        assert!(is_blocked(raw));
        assert!(!is_blocked("waiting for capacity"));
    }
}
