//! "Batch Job State Change" events from EventBridge. They arrive at least
//! once and in any order; each becomes a report for the recorder, which
//! ignores what is stale or repeated.

use modelrun_core::executor::{JobReport, JobRequest};
use modelrun_core::ids::{RunId, SweepId};
use modelrun_core::sweep::Sweep;
use serde_json::Value;

use super::JobState;

fn text(value: Option<&Value>) -> Option<&str> {
    value.and_then(Value::as_str)
}

/// The name of the job an event is about, if it is a Batch job state
/// change.
pub fn job_name(event: &Value) -> Option<&str> {
    if event.get("source")?.as_str()? != "aws.batch"
        || event.get("detail-type")?.as_str()? != "Batch Job State Change"
    {
        return None;
    }
    event.get("detail")?.get("jobName")?.as_str()
}

/// The report an event carries, if it is a Batch job state change about a
/// job named like one of modelrun's runs (`modelrun-run-<id>[-<key>]`).
/// Whether the job is that run's own is checked against the run
/// ([`JobRequest::is_job_of`]).
pub fn report(event: &Value) -> Option<JobReport> {
    let run = JobRequest::run_of_job_name(job_name(event)?)?;
    job_state(event)?.report(run)
}

/// A child of a sweep's array job (`<array job id>:<index>`, named like
/// the sweep): the sweep, the child's index, and the report with a
/// placeholder run for the caller to fill in from the sweep's run at that
/// index. `None` for the array job itself, which runs nothing.
pub fn sweep_child(event: &Value) -> Option<(SweepId, usize, JobReport)> {
    let sweep = Sweep::of_job_name(job_name(event)?)?;
    let state = job_state(event)?;
    let (_, index) = state.job_id.rsplit_once(':')?;
    let index = index.parse().ok()?;
    Some((sweep, index, state.report(RunId(0))?))
}

fn job_state(event: &Value) -> Option<JobState<'_>> {
    let detail = event.get("detail")?;
    let container = detail.get("container");
    let state = JobState {
        job_id: text(detail.get("jobId"))?,
        status: text(detail.get("status"))?,
        status_reason: text(detail.get("statusReason")),
        container_reason: text(container.and_then(|c| c.get("reason"))),
        exit_code: container
            .and_then(|c| c.get("exitCode"))
            .and_then(Value::as_i64)
            .and_then(|code| i32::try_from(code).ok()),
        log_stream: text(container.and_then(|c| c.get("logStreamName"))),
        attempts_ended: detail
            .get("attempts")
            .and_then(Value::as_array)
            .map_or(0, Vec::len),
    };
    Some(state)
}

#[cfg(test)]
mod tests {
    use modelrun_core::ids::RunId;
    use modelrun_core::status::RunStatus;
    use serde_json::json;

    use super::*;

    fn event(name: &str, status: &str) -> Value {
        json!({
            "version": "0",
            "id": "c8f9c4b5-76e5-d76a-f980-7011e206042b",
            "detail-type": "Batch Job State Change",
            "source": "aws.batch",
            "account": "123456789012",
            "time": "2026-11-22T14:00:00Z",
            "region": "eu-west-1",
            "resources": ["arn:aws:batch:eu-west-1:123456789012:job/4c7599ae-0a82-49aa-ba5a-4727fcce14a8"],
            "detail": {
                "jobName": name,
                "jobId": "4c7599ae-0a82-49aa-ba5a-4727fcce14a8",
                "jobQueue": "arn:aws:batch:eu-west-1:123456789012:job-queue/modelrun",
                "status": status,
                "statusReason": "Essential container in task exited",
                "attempts": [],
                "container": {"exitCode": 2, "logStreamName": "modelrun/default/abc"},
            }
        })
    }

    #[test]
    fn reads_batch_state_changes_about_our_runs() {
        let report = report(&event("modelrun-run-42", "FAILED")).expect("ours");
        assert_eq!(report.run_id, RunId(42));
        assert_eq!(report.status, RunStatus::Failed);
        assert_eq!(report.exit_code, Some(2));
        assert_eq!(report.log_stream.as_deref(), Some("modelrun/default/abc"));
        assert_eq!(
            report.reason.as_deref(),
            Some("the model exited with code 2")
        );
    }

    #[test]
    fn a_retry_is_the_next_attempt() {
        let first = report(&event("modelrun-run-7", "RUNNING")).expect("ours");
        assert_eq!(first.attempt, Some(1));
        let mut retried = event("modelrun-run-7", "RUNNABLE");
        retried["detail"]["attempts"] = json!([{
            "container": {"reason": "Host EC2 (instance i-0abc) terminated."},
            "statusReason": "Host EC2 (instance i-0abc) terminated."
        }]);
        assert_eq!(report(&retried).expect("ours").attempt, Some(2));
        // An ended job lists its last attempt too.
        let mut ended = event("modelrun-run-7", "SUCCEEDED");
        ended["detail"]["attempts"] = json!([{}, {}]);
        assert_eq!(report(&ended).expect("ours").attempt, Some(2));
    }

    #[test]
    fn a_child_of_a_sweep_is_read_with_its_index() {
        let mut child = event("modelrun-sweep-9-00ff00ff00ff00ff", "RUNNING");
        child["detail"]["jobId"] = json!("4c7599ae-0a82-49aa-ba5a-4727fcce14a8:3");
        let (sweep, index, report) = sweep_child(&child).expect("a child");
        assert_eq!((sweep, index), (SweepId(9), 3));
        assert_eq!(report.job_id, "4c7599ae-0a82-49aa-ba5a-4727fcce14a8:3");
        assert_eq!(report.status, RunStatus::Running);
        // The array job itself runs nothing.
        let parent = event("modelrun-sweep-9-00ff00ff00ff00ff", "RUNNING");
        assert!(sweep_child(&parent).is_none());
        assert!(super::report(&child).is_none());
    }

    #[test]
    fn ignores_everything_else() {
        assert!(report(&event("someone-elses-job", "RUNNING")).is_none());
        assert!(report(&event("modelrun-run-x", "RUNNING")).is_none());
        assert!(report(&event("modelrun-run-1", "UNKNOWN")).is_none());
        let mut other = event("modelrun-run-1", "RUNNING");
        other["source"] = json!("aws.ecr");
        assert!(report(&other).is_none());
        assert!(report(&json!({"not": "an event"})).is_none());
    }
}
