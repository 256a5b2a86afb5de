//! A job that AWS Batch retries after an infrastructure fault (the host
//! went away): RUNNING goes back to RUNNABLE as attempt 2, and the run
//! follows it on its timeline instead of ignoring it as a stale report.

use modelrun_core::status::RunStatus;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_job_shows_its_next_attempt() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let run = h.submit(&version).await;
    run_tasks(&h.worker).await;
    let job_id = h.run(run.id).await.job_id.expect("job id");
    let event = |status: &str, extra| state_change(&run, &job_id, status, extra);
    for status in ["RUNNABLE", "STARTING", "RUNNING"] {
        h.worker
            .handle_batch_event(&event(status, json!({})))
            .await
            .expect("event");
    }
    assert_eq!(h.run(run.id).await.attempt, 1);

    // The host is reclaimed: Batch lists the first attempt and queues the
    // job again.
    let lost = json!({
        "attempts": [{
            "container": {"exitCode": null, "reason": "Host EC2 (instance i-0abc) terminated."},
            "startedAt": 1_795_355_900_000_i64,
            "stoppedAt": 1_795_356_000_000_i64,
            "statusReason": "Host EC2 (instance i-0abc) terminated."
        }],
        "statusReason": "Host EC2 (instance i-0abc) terminated."
    });
    h.worker
        .handle_batch_event(&event("RUNNABLE", lost.clone()))
        .await
        .expect("retry");
    let retried = h.run(run.id).await;
    assert_eq!(retried.status, RunStatus::Runnable);
    assert_eq!(retried.attempt, 2);
    let last = h
        .store
        .run_events(run.id)
        .await
        .expect("events")
        .pop()
        .expect("event");
    assert!(
        last.message
            .starts_with("runnable (attempt 2): Host EC2 (instance i-0abc) terminated."),
        "{}",
        last.message
    );
    assert_eq!(last.data["attempt"], 2);

    // A late report of the first attempt changes nothing.
    let before = h.store.run_events(run.id).await.expect("events").len();
    h.worker
        .handle_batch_event(&event("RUNNING", json!({})))
        .await
        .expect("late");
    assert_eq!(h.run(run.id).await.status, RunStatus::Runnable);
    assert_eq!(
        h.store.run_events(run.id).await.expect("events").len(),
        before
    );

    // The second attempt runs and succeeds; Batch lists both attempts.
    h.worker
        .handle_batch_event(&event("RUNNING", lost.clone()))
        .await
        .expect("running again");
    h.put_output(&run, "forecast.csv", b"month,revenue\n2027-01,103950.00\n")
        .await;
    let mut both = lost;
    both["attempts"]
        .as_array_mut()
        .expect("attempts")
        .push(json!({"container": {"exitCode": 0}}));
    both["container"] = json!({"exitCode": 0});
    h.worker
        .handle_batch_event(&event("SUCCEEDED", both))
        .await
        .expect("succeeded");
    let ended = h.run(run.id).await;
    assert_eq!(ended.status, RunStatus::Succeeded);
    assert_eq!(ended.attempt, 2);
    let statuses: Vec<String> = h
        .store
        .run_events(run.id)
        .await
        .expect("events")
        .iter()
        .filter(|e| e.status.is_some())
        .map(|e| e.message.split(':').next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        statuses[statuses.len() - 6..],
        [
            "runnable",
            "starting",
            "running",
            "runnable (attempt 2)",
            "running (attempt 2)",
            "succeeded (attempt 2)"
        ]
    );
}
