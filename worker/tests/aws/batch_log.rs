//! A Batch run's log end, read backwards from its CloudWatch Logs stream.

use modelrun_core::executor::Executor;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_of_the_log_is_read_from_the_streams_end() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let run = h.submit(&version).await;
    run_tasks(&h.worker).await;
    let job_id = h.run(run.id).await.job_id.expect("job id");
    let run = h
        .running_with_log(&run, &job_id, (0..3000).map(|i| format!("progress {i:04}")))
        .await;
    let tail = h.executor.log_tail(&run, 256 * 1024).await.expect("tail");
    assert!(tail.earlier, "3000 lines do not fit one read");
    assert!(
        tail.text.ends_with("progress 2998\nprogress 2999\n"),
        "{}",
        tail.text
    );
    let short = h.executor.log_tail(&run, 30).await.expect("tail");
    assert_eq!(short.text, "progress 2998\nprogress 2999\n");
}

/// A job that failed with an exit code: its reason carries the exception
/// its model printed last, read from the end of its CloudWatch stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_jobs_reason_carries_the_end_of_its_log() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let run = h.submit(&version).await;
    run_tasks(&h.worker).await;
    let job_id = h.run(run.id).await.job_id.expect("job id");
    let lines = [
        "loading the history",
        "Traceback (most recent call last):",
        "  File \"forecast.py\", line 9, in <module>",
        "KeyError: 'revenue'",
    ];
    let stream = h.job_log(&job_id, lines.map(str::to_owned)).await;
    h.worker
        .handle_batch_event(&state_change(
            &run,
            &job_id,
            "FAILED",
            json!({
                "statusReason": "Essential container in task exited",
                "container": {"logStreamName": stream, "exitCode": 1},
            }),
        ))
        .await
        .expect("failed");
    let run = h.run(run.id).await;
    let reason = run.status_reason.unwrap_or_default();
    assert!(
        reason.contains("the last lines it printed:") && reason.ends_with("KeyError: 'revenue'"),
        "{reason}"
    );
}
