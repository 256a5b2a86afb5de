//! Runs on AWS Batch after submission: status events, the sweep, cancel,
//! the diagnosis of a waiting run, and the log.

use modelrun_core::config::WorkerConfig;
use modelrun_core::email::EmailStatus;
use modelrun_core::executor::Executor;
use modelrun_core::status::RunStatus;
use modelrun_testkit::{AwsWorld, Moto};
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_apply_in_order_and_late_or_repeated_ones_are_ignored() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let run = h.submit(&version).await;
    run_tasks(&h.worker).await;
    let job_id = h.run(run.id).await.job_id.expect("job id");
    let event = |status: &str, extra| state_change(&run, &job_id, status, extra);

    for status in ["PENDING", "RUNNABLE", "STARTING"] {
        h.worker
            .handle_batch_event(&event(status, json!({})))
            .await
            .expect("event");
    }
    let running = event(
        "RUNNING",
        json!({"container": {"logStreamName": "modelrun/default/task-1"}}),
    );
    h.worker
        .handle_batch_event(&running)
        .await
        .expect("running");
    let after_running = h.run(run.id).await;
    assert_eq!(after_running.status, RunStatus::Running);
    assert_eq!(
        after_running.log_stream.as_deref(),
        Some("modelrun/default/task-1")
    );
    let events_before = h.store.run_events(run.id).await.expect("events").len();

    // Replayed and out of order: nothing changes, nothing is appended.
    h.worker.handle_batch_event(&running).await.expect("replay");
    h.worker
        .handle_batch_event(&event("RUNNABLE", json!({})))
        .await
        .expect("late");
    h.worker
        .handle_batch_event(&event("SUBMITTED", json!({})))
        .await
        .expect("late");
    assert_eq!(h.run(run.id).await.status, RunStatus::Running);
    assert_eq!(
        h.store.run_events(run.id).await.expect("events").len(),
        events_before
    );

    // Someone else's job of the same name is not ours.
    let foreign = state_change(
        &run,
        "00000000-0000-0000-0000-000000000000",
        "FAILED",
        json!({}),
    );
    assert!(
        h.worker
            .handle_batch_event(&foreign)
            .await
            .expect("foreign")
            .is_none()
    );

    h.put_output(&run, "forecast.csv", b"month,revenue\n2027-01,103950.00\n")
        .await;
    let failed = event(
        "FAILED",
        json!({"statusReason": "Essential container in task exited", "container": {"exitCode": 1, "reason": "OutOfMemoryError: Container killed due to memory usage"}}),
    );
    h.worker.handle_batch_event(&failed).await.expect("failed");
    let ended = h.run(run.id).await;
    assert_eq!(ended.status, RunStatus::Failed);
    assert_eq!(
        ended.status_reason.as_deref(),
        Some("OutOfMemoryError: Container killed due to memory usage")
    );
    let last = h
        .store
        .run_events(run.id)
        .await
        .expect("events")
        .pop()
        .expect("event");
    assert_eq!(last.data["exit_code"], 1);
    assert_eq!(
        last.data["status_reason"],
        "Essential container in task exited"
    );
    // Late news after the end changes nothing.
    h.worker
        .handle_batch_event(&event("SUCCEEDED", json!({})))
        .await
        .expect("late end");
    assert_eq!(h.run(run.id).await.status, RunStatus::Failed);
    let statuses: Vec<_> = h
        .store
        .run_events(run.id)
        .await
        .expect("events")
        .iter()
        .filter_map(|e| e.status)
        .collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Queued,
            RunStatus::Dispatching,
            RunStatus::Submitted,
            RunStatus::Pending,
            RunStatus::Runnable,
            RunStatus::Starting,
            RunStatus::Running,
            RunStatus::Failed
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_follows_batch_to_the_end_and_indexes_the_outputs() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let run = h.submit(&version).await;
    run_tasks(&h.worker).await;
    // What `modelrun exec` leaves in S3 when the model is done.
    h.put_output(&run, "forecast.csv", b"month,revenue\n2027-01,103950.00\n")
        .await;
    h.put_output(&run, "charts/band.csv", b"a,b\n").await;
    h.world.moto.start_recording().await;
    // moto ends every job SUCCEEDED at once; the sweep reads that.
    assert_eq!(h.worker.sweep().await.expect("sweep"), 1);
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
    let outputs = h.store.run_outputs(run.id).await.expect("outputs");
    let names: Vec<_> = outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names, ["charts/band.csv", "forecast.csv"]);
    let csv = outputs
        .iter()
        .find(|o| o.name == "forecast.csv")
        .expect("csv");
    assert_eq!(csv.size, 32);
    assert_eq!(
        csv.sha256.as_deref(),
        Some(modelrun_core::crypto::sha256_hex("month,revenue\n2027-01,103950.00\n").as_str())
    );

    // The submitter's email goes out through SES.
    run_tasks(&h.worker).await;
    let email = h
        .store
        .list_emails(None, 1)
        .await
        .expect("emails")
        .pop()
        .expect("email");
    assert_eq!(email.status, EmailStatus::Sent);
    assert!(
        email
            .provider_id
            .as_deref()
            .is_some_and(|id| id.starts_with("ses:"))
    );
    let sent = h.world.moto.recorded_bodies().await;
    let message = sent
        .iter()
        .find(|body| body.get("FromEmailAddress").is_some())
        .expect("an SES SendEmail request");
    assert_eq!(
        message["Destination"]["ToAddresses"],
        json!(["ann@example.com"])
    );
    assert_eq!(
        message["Content"]["Simple"]["Subject"]["Data"],
        format!("Run #{} of forecast succeeded", run.id)
    );
    assert!(
        message["Content"]["Simple"]["Body"]["Html"]["Data"]
            .as_str()
            .unwrap_or_default()
            .contains("https://models.example.com/runs/")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_reads_a_failed_job() {
    let moto = Moto::start_with(&[("MOTO_SIMPLE_BATCH_FAIL_AFTER", "0")]).await;
    let h = Harness::in_world(AwsWorld::create_in(moto).await, WorkerConfig::default()).await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let run = h.submit(&version).await;
    run_tasks(&h.worker).await;
    h.worker.sweep().await.expect("sweep");
    assert_eq!(h.run(run.id).await.status, RunStatus::Failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_terminates_the_job_and_the_end_says_who() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let run = h.submit(&version).await;
    run_tasks(&h.worker).await;
    let job_id = h.run(run.id).await.job_id.expect("job id");
    h.worker
        .handle_batch_event(&state_change(&run, &job_id, "RUNNING", json!({})))
        .await
        .expect("running");
    h.cancel(run.id, "ann@example.com").await;
    run_tasks(&h.worker).await;
    // moto records the termination's reason on the job.
    let jobs = h
        .world
        .batch_client()
        .describe_jobs()
        .jobs(&job_id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        jobs.jobs()[0].status_reason(),
        Some("cancelled by ann@example.com")
    );
    // Batch reports a terminated job as FAILED, with the reason given.
    let terminated = state_change(
        &run,
        &job_id,
        "FAILED",
        json!({"statusReason": "cancelled by ann@example.com"}),
    );
    h.worker
        .handle_batch_event(&terminated)
        .await
        .expect("terminated");
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(
        run.status_reason.as_deref(),
        Some("cancelled by ann@example.com")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_waits_in_runnable_is_diagnosed() {
    let config = WorkerConfig {
        stuck_after: std::time::Duration::ZERO,
        ..WorkerConfig::default()
    };
    let h = Harness::in_world(AwsWorld::create().await, config).await;
    modelrun_core::store::UserStore::create_user(
        h.store.as_ref(),
        modelrun_core::user::NewUser {
            email: "ops@example.com".to_owned(),
            password_hash: "x".to_owned(),
            role: modelrun_core::user::Role::Admin,
        },
    )
    .await
    .expect("admin");
    let version = h.image_version("forecast", "a1b2c3d").await;
    let run = h.submit(&version).await;
    run_tasks(&h.worker).await;
    let job_id = h.run(run.id).await.job_id.expect("job id");
    h.worker
        .handle_batch_event(&state_change(
            &run,
            &job_id,
            "RUNNABLE",
            json!({"statusReason": "waiting for capacity"}),
        ))
        .await
        .expect("runnable");
    tokio::time::sleep(SECOND / 10).await;
    // Not the whole sweep: moto's simple Batch has finished the job already,
    // where real Batch would still hold it in RUNNABLE.
    h.worker.diagnose_waiting().await.expect("diagnosis");

    let facts: Vec<_> = h
        .store
        .run_events(run.id)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.data.get("diagnosis").is_some())
        .collect();
    assert_eq!(facts.len(), 1);
    let fact = &facts[0];
    assert_eq!(fact.data["diagnosis"], "runnable");
    assert_eq!(
        fact.data["findings"]["compute_environments"][0]["name"],
        "modelrun-fargate"
    );
    assert_eq!(
        fact.data["findings"]["compute_environments"][0]["status"],
        "VALID"
    );
    assert_eq!(
        fact.data["findings"]["compute_environments"][0]["state"],
        "ENABLED"
    );
    assert_eq!(fact.data["findings"]["queue"]["name"], "modelrun");
    // No image was pushed to this ECR: the one cause the checks find.
    assert_eq!(fact.data["causes"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        fact.data["causes"][0]["cause"],
        "The job's image is not in ECR"
    );
    assert_eq!(fact.data["summary"], "the job's image is not in ECR");
    assert!(
        fact.message.starts_with("runnable for 0 minutes: "),
        "{}",
        fact.message
    );
    let emails = h.store.list_emails(None, 10).await.expect("emails");
    let to_admins: Vec<_> = emails
        .iter()
        .filter(|e| e.subject.contains("has been runnable"))
        .collect();
    assert_eq!(to_admins.len(), 1, "one email, to the one administrator");
    assert_eq!(to_admins[0].to, "ops@example.com");
    let text = &to_admins[0].text;
    assert!(
        text.contains("What the evidence points to:\n- The job's image is not in ECR: "),
        "{text}"
    );
    assert!(
        text.contains("- the job's image in ECR: the repository modelrun/forecast does not exist"),
        "{text}"
    );
    assert!(
        text.contains("vCPU quota: not checked: modelrun does not read Service Quotas"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_read_from_cloudwatch_a_page_at_a_time() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let run = h.submit(&version).await;
    run_tasks(&h.worker).await;
    let job_id = h.run(run.id).await.job_id.expect("job id");
    // Before the container starts, there is no log and no error.
    assert_eq!(
        h.executor
            .log(&h.run(run.id).await, None)
            .await
            .expect("log")
            .text,
        ""
    );
    let run = h
        .running_with_log(&run, &job_id, (0..1500).map(|i| format!("line {i}")))
        .await;
    let first = h.executor.log(&run, None).await.expect("first page");
    assert!(first.text.starts_with("line 0\nline 1\n"));
    assert_eq!(first.text.lines().count(), 1000);
    assert!(first.truncated);
    let second = h
        .executor
        .log(&run, first.next.as_deref())
        .await
        .expect("second page");
    assert_eq!(second.text.lines().next(), Some("line 1000"));
    assert_eq!(second.text.lines().count(), 500);
    assert!(!second.truncated);
}
