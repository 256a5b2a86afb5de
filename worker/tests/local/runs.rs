//! Runs that end on their own: succeeded, failed, refused.

use modelrun_core::email::EmailStatus;
use modelrun_core::executor::Executor;
use modelrun_core::status::RunStatus;
use modelrun_worker::TaskOutcome;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forecast_runs_and_its_outputs_are_stored() {
    let h = Harness::new(2).await;
    let version = h.register(&forecast_dir()).await;
    assert_eq!(version.label.len(), 12);
    let run = h
        .submit(&version, json!({"growth_rate": 0.05, "horizon_months": 6}))
        .await;
    h.drain().await;

    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
    assert!(run.started_at.is_some() && run.finished_at.is_some());
    // The job id names the run and the process that ran it.
    let owner = format!(
        "{}@{}:{}",
        modelrun_core::executor::JobRequest::job_name(&run),
        hostname(),
        std::process::id()
    );
    assert!(
        owner.starts_with(&format!("modelrun-run-{}-", run.id)),
        "{owner}"
    );
    assert_eq!(run.job_id.as_deref(), Some(owner.as_str()));
    // In order: the job reports nothing before its `submitted` is
    // recorded, and a run that finds a slot free is never `runnable`.
    let statuses = h.statuses(run.id).await;
    assert_eq!(
        statuses,
        [
            RunStatus::Queued,
            RunStatus::Dispatching,
            RunStatus::Submitted,
            RunStatus::Starting,
            RunStatus::Running,
            RunStatus::Succeeded
        ]
    );

    let outputs = h.store.run_outputs(run.id).await.expect("outputs");
    let names: Vec<_> = outputs
        .iter()
        .map(|o| (o.name.as_str(), o.content_type.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("forecast.csv", "text/csv"),
            ("metrics.json", "application/json")
        ]
    );
    let csv_path = h
        .data()
        .join(format!("blobs/runs/{}/outputs/forecast.csv", run.id));
    let csv = std::fs::read_to_string(&csv_path).expect("forecast.csv stored");
    assert_eq!(outputs[0].size, csv.len() as i64);
    assert_eq!(
        outputs[0].sha256.as_deref(),
        Some(modelrun_core::crypto::sha256_hex(&csv).as_str())
    );
    // 5 % growth and 1 % churn from 100000: month one is 103950.
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|row| row.starts_with("2027-01,103950.00,")),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 7);

    let log = h.executor.log(&run, None).await.expect("log");
    assert!(
        log.text.contains("Forecasting 6 months from 2027-01"),
        "{}",
        log.text
    );
    assert!(
        !h.data().join(format!("work/{}", run.id)).exists(),
        "working directory removed"
    );

    let emails = h.store.list_emails(None, 10).await.expect("emails");
    assert_eq!(emails.len(), 1);
    assert_eq!(
        (emails[0].status, emails[0].subject.as_str()),
        (
            EmailStatus::Sent,
            format!("Run #{} of forecast succeeded", run.id).as_str()
        )
    );
    assert!(
        h.data()
            .join("outbox")
            .join(format!("{:06}.eml", emails[0].id.0))
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_model_fails_with_its_exit_code_and_keeps_its_log() {
    let h = Harness::new(2).await;
    let version = h.shell_model("broken", "echo working; echo oops >&2; echo partial > \"$MODELRUN_OUTPUT_DIR/partial.txt\"; exit 3", 60).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.status_reason.as_deref(),
        Some("the model exited with code 3; the last lines it printed:\nworking\noops")
    );
    let events = h.store.run_events(run.id).await.expect("events");
    assert_eq!(
        events.last().map(|e| e.data["exit_code"].clone()),
        Some(json!(3))
    );
    let log = h.executor.log(&run, None).await.expect("log");
    assert_eq!(log.text, "working\noops\n");
    let outputs: Vec<_> = h
        .store
        .run_outputs(run.id)
        .await
        .expect("outputs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        outputs,
        ["partial.txt"],
        "what a failed run wrote is kept for debugging"
    );
    let emails = h.store.list_emails(None, 10).await.expect("emails");
    assert!(emails[0].subject.ends_with("failed") && emails[0].text.contains("exited with code 3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_processes_see_only_the_contract_environment() {
    let h = Harness::new(2).await;
    let version = h
        .shell_model(
            "env",
            "env | cut -d= -f1 | sort; cat \"$MODELRUN_INPUTS\"; echo; pwd",
            60,
        )
        .await;
    let run = h.submit(&version, json!({"n": 7})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    let log = h.executor.log(&run, None).await.expect("log").text;
    let mut lines = log.lines();
    let names: Vec<_> = lines.by_ref().take(9).collect();
    // PWD is the shell's own.
    assert_eq!(
        names,
        [
            "HOME",
            "LANG",
            "MODELRUN_INPUTS",
            "MODELRUN_OUTPUT_DIR",
            "MODELRUN_RUN_ID",
            "PATH",
            "PWD",
            "PYTHONUNBUFFERED",
            "TMPDIR"
        ]
    );
    let rest: Vec<_> = lines.collect();
    assert_eq!(rest[rest.len() - 2], "{\"n\":7}");
    assert!(
        rest[rest.len() - 1].ends_with(&format!("work/{}/model", run.id)),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_that_link_outside_the_run_are_not_stored() {
    let h = Harness::new(2).await;
    let script = "ln -s /etc/hostname \"$MODELRUN_OUTPUT_DIR/stolen\"; mkdir \"$MODELRUN_OUTPUT_DIR/sub\"; echo ok > \"$MODELRUN_OUTPUT_DIR/sub/fine.txt\"";
    let version = h.shell_model("sneaky", script, 60).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let names: Vec<_> = h
        .store
        .run_outputs(run.id)
        .await
        .expect("outputs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["sub/fine.txt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_cannot_start_fails_the_run_with_the_reason() {
    let h = Harness::new(2).await;
    let dir = h.dir.path().join("src/missing");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("modelrun.toml"),
        "name = \"missing\"\ncommand = [\"no-such-program-xyz\"]\n[inputs]\ntype = \"object\"\n",
    )
    .expect("write");
    let version = h.register(&dir).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let reason = run.status_reason.unwrap_or_default();
    assert!(
        reason.starts_with("could not start `no-such-program-xyz`"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatch_that_cannot_succeed_fails_the_run_and_tells_the_submitter() {
    let h = Harness::new(2).await;
    let mut image = fixtures::image_version("imaged");
    image.inputs = modelrun_core::schema::InputSchema::parse(&json!({"type": "object"}), "inputs")
        .expect("schema");
    let version = h
        .store
        .register_version(image, Vec::new())
        .await
        .expect("register")
        .version()
        .clone();
    let run = h.submit(&version, json!({})).await;
    let outcome = h.worker.run_one().await.expect("task").expect("a task");
    assert!(
        matches!(outcome, TaskOutcome::Dead { ref error, .. } if error.contains("container image")),
        "{outcome:?}"
    );
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.status_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("could not start the run:"))
    );
    h.drain().await;
    let emails = h.store.list_emails(None, 10).await.expect("emails");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].status, EmailStatus::Sent);
}
