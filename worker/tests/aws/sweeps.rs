//! A sweep's runs on AWS Batch: one array job whose child `i` is the run
//! at position `i`, its events and `DescribeJobs`, cancel, and a version
//! Batch cannot run.

use modelrun_core::blob::{BlobKey, BlobStore};
use modelrun_core::executor::{ArrayJobRequest, Executor};
use modelrun_core::ids::RunId;
use modelrun_core::job_access::{JobToken, hash_job_token, hash_sweep_job_token};
use modelrun_core::model::{ModelMeta, ModelVersion, NewVersion, Runtime};
use modelrun_core::run::{NewRun, Run};
use modelrun_core::schema::Uploads;
use modelrun_core::status::RunStatus;
use modelrun_core::sweep::{Axis, NewSweep, Sweep, SweepCreated};
use serde_json::{Value, json};

use crate::support::*;

/// A sweep of `version` over these growth rates, dispatched as one array job.
async fn sweep_of(h: &Harness, version: &ModelVersion, growth: &[f64]) -> (Sweep, Vec<Run>) {
    let runs = growth
        .iter()
        .map(|rate| {
            let submitted = json!({ "growth": rate });
            let inputs = version
                .inputs
                .validate_with(submitted.as_object().expect("object"), &Uploads::default())
                .expect("valid inputs");
            NewRun {
                version_id: version.id,
                submitted_by: h.user.id,
                inputs,
                resources: version.resources,
                submit_key: None,
                rerun_of: None,
                production_only: false,
            }
        })
        .collect();
    let created = h
        .store
        .create_sweep(
            NewSweep {
                version_id: version.id,
                submitted_by: h.user.id,
                inputs: Default::default(),
                axes: vec![Axis {
                    field: "growth".to_owned(),
                    values: growth.iter().map(|rate| json!(rate)).collect(),
                }],
                runs,
                submit_key: None,
                array: true,
            },
            Default::default(),
        )
        .await
        .expect("create sweep");
    let SweepCreated::New { sweep, tasks } = created else {
        panic!("a new sweep")
    };
    assert_eq!(tasks.len(), 1, "one dispatch_sweep task");
    let runs = h.store.sweep_runs(sweep.id).await.expect("runs");
    (Sweep::clone(&sweep), runs)
}

/// The recorded `SubmitJob` bodies.
async fn submitted_jobs(h: &Harness) -> Vec<Value> {
    h.world
        .moto
        .recorded_bodies()
        .await
        .into_iter()
        .filter(|body| body.get("jobName").is_some() && body.get("jobQueue").is_some())
        .collect()
}

/// The recorded `TerminateJob` bodies: (job id, reason).
async fn terminated_jobs(h: &Harness) -> Vec<(String, String)> {
    h.world
        .moto
        .recorded_requests()
        .await
        .into_iter()
        .filter(|request| request.url.ends_with("/v1/terminatejob"))
        .filter_map(|request| serde_json::from_slice::<Value>(&request.body).ok())
        .map(|body| {
            let text = |key: &str| body[key].as_str().unwrap_or_default().to_owned();
            (text("jobId"), text("reason"))
        })
        .collect()
}

/// The value of `name` in a `SubmitJob` body's container overrides.
fn variable(body: &Value, name: &str) -> Option<String> {
    body["containerOverrides"]["environment"]
        .as_array()?
        .iter()
        .find(|pair| pair["name"] == name)
        .and_then(|pair| pair["value"].as_str())
        .map(str::to_owned)
}

/// A "Batch Job State Change" event of a job named `name`.
fn event_of(run: &Run, name: &str, job_id: &str, status: &str) -> Value {
    state_change(run, job_id, status, json!({ "jobName": name }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_is_one_array_job_whose_children_are_its_runs() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let growth = [0.02, 0.03, 0.04];
    let (sweep, runs) = sweep_of(&h, &version, &growth).await;
    h.world.moto.start_recording().await;
    run_tasks(&h.worker).await;

    let submitted = submitted_jobs(&h).await;
    assert_eq!(submitted.len(), 1, "one SubmitJob: {submitted:?}");
    let body = &submitted[0];
    assert_eq!(body["jobName"], sweep.job_name());
    assert_eq!(
        body["jobName"],
        format!("modelrun-sweep-{}-{}", sweep.id, sweep.job_key)
    );
    assert_eq!(body["arrayProperties"]["size"], 3);
    // The runs in grid order, consecutive ids as a range.
    let first = runs[0].id;
    assert_eq!(
        variable(body, "MODELRUN_SWEEP_RUNS"),
        Some(format!("{first}-{}", RunId(first.0 + 2)))
    );
    assert_eq!(runs[2].id, RunId(first.0 + 2));
    assert_eq!(variable(body, "MODELRUN_API_URL").as_deref(), Some(API_URL));
    assert_eq!(variable(body, "MODELRUN_RUN_ID"), None);
    let token = variable(body, "MODELRUN_JOB_TOKEN").expect("a job token");

    let array = h
        .store
        .sweep(sweep.id)
        .await
        .expect("sweep")
        .and_then(|s| s.job_id)
        .expect("the array job is recorded");
    for (position, run) in runs.iter().enumerate() {
        let run = h.run(run.id).await;
        assert_eq!(run.status, RunStatus::Submitted, "{:?}", run.status_reason);
        assert_eq!(run.job_id, Some(format!("{array}:{position}")));
        // The one token stands for each run of the sweep.
        assert_eq!(
            h.store
                .job_token_run(&hash_sweep_job_token(&token, run.id))
                .await
                .expect("lookup"),
            Some(run.id)
        );
        let inputs = h
            .blob
            .read_head(&BlobKey::run_inputs(run.id), 1024)
            .await
            .expect("inputs in S3");
        assert_eq!(
            serde_json::from_slice::<Value>(&inputs.0).ok(),
            Some(json!({ "growth": growth[position] }))
        );
    }
    assert_eq!(
        h.store
            .job_token_run(&hash_job_token(&token))
            .await
            .expect("lookup"),
        None,
        "the token alone is no run's"
    );

    // Batch answers DescribeJobs for each child: moto ends them SUCCEEDED.
    assert_eq!(h.worker.sweep().await.expect("status sweep"), 3);
    for run in &runs {
        assert_eq!(h.run(run.id).await.status, RunStatus::Succeeded);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_dispatch_finds_the_array_job_by_its_name() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let (sweep, runs) = sweep_of(&h, &version, &[0.02, 0.03]).await;
    // An earlier attempt submitted the array job and stopped before
    // recording it.
    let definition = h
        .executor
        .prepare_version(&version)
        .await
        .expect("prepare")
        .expect("a job definition");
    let earlier = h
        .executor
        .submit_array(&ArrayJobRequest {
            sweep_id: sweep.id,
            name: sweep.job_name(),
            runs: runs.iter().map(|run| run.id).collect(),
            runtime: version.runtime.clone(),
            job_definition: Some(definition),
            resources: version.resources,
            job_token: JobToken::generate(),
        })
        .await
        .expect("submit");
    assert!(!earlier.existing);
    h.world.moto.start_recording().await;
    run_tasks(&h.worker).await;
    assert_eq!(submitted_jobs(&h).await, Vec::<Value>::new());
    for (position, run) in runs.iter().enumerate() {
        let run = h.run(run.id).await;
        assert_eq!(run.status, RunStatus::Submitted, "{:?}", run.status_reason);
        assert_eq!(run.job_id, Some(format!("{}:{position}", earlier.job_id)));
        let events = h.store.run_events(run.id).await.expect("events");
        assert!(
            events
                .iter()
                .any(|event| event.data["found_existing_job"] == json!(true)),
            "{events:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_of_runs_too_long_for_the_environment_is_refused() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let (sweep, _) = sweep_of(&h, &version, &[0.02, 0.03]).await;
    let definition = h.executor.prepare_version(&version).await.expect("prepare");
    // 1,200 ids none of which follows another: no range shortens them.
    let runs = (0..1_200).map(|i| RunId(100_001 + 2 * i)).collect();
    let request = ArrayJobRequest {
        sweep_id: sweep.id,
        name: sweep.job_name(),
        runs,
        runtime: version.runtime.clone(),
        job_definition: definition,
        resources: version.resources,
        job_token: JobToken::generate(),
    };
    let refused = h
        .executor
        .submit_array(&request)
        .await
        .expect_err("too long");
    assert!(
        refused
            .to_string()
            .contains("the sweep's 1200 runs do not fit in one Batch job"),
        "{refused}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_children_reach_their_own_runs() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let (sweep, runs) = sweep_of(&h, &version, &[0.02, 0.03, 0.04]).await;
    run_tasks(&h.worker).await;
    let array = h
        .store
        .sweep(sweep.id)
        .await
        .expect("sweep")
        .and_then(|s| s.job_id)
        .expect("array job");
    let name = sweep.job_name();

    let running = event_of(&runs[1], &name, &format!("{array}:1"), "RUNNING");
    let changed = h.worker.handle_batch_event(&running).await.expect("event");
    assert!(changed.is_some());
    let failed = event_of(&runs[2], &name, &format!("{array}:2"), "FAILED");
    h.worker.handle_batch_event(&failed).await.expect("event");
    let statuses = |runs: Vec<Run>| runs.into_iter().map(|run| run.status).collect::<Vec<_>>();
    let expected = [RunStatus::Submitted, RunStatus::Running, RunStatus::Failed];
    assert_eq!(
        statuses(h.store.sweep_runs(sweep.id).await.expect("runs")),
        expected
    );

    // The array job itself runs nothing; a job with another key is not
    // this sweep's (another installation's sweep of the same id).
    let parent = event_of(&runs[0], &name, &array, "RUNNING");
    let other = format!("modelrun-sweep-{}-00ff00ff00ff00ff", sweep.id);
    let foreign = event_of(&runs[0], &other, &format!("{array}:0"), "RUNNING");
    for event in [parent, foreign] {
        let changed = h.worker.handle_batch_event(&event).await.expect("event");
        assert!(changed.is_none(), "{event}");
    }
    assert_eq!(
        statuses(h.store.sweep_runs(sweep.id).await.expect("runs")),
        expected
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_sweep_terminates_its_children() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let (sweep, runs) = sweep_of(&h, &version, &[0.02, 0.03]).await;
    run_tasks(&h.worker).await;
    let array = h
        .store
        .sweep(sweep.id)
        .await
        .expect("sweep")
        .and_then(|s| s.job_id)
        .expect("array job");
    h.world.moto.start_recording().await;
    for run in &runs {
        h.cancel(run.id, "ann@example.com").await;
    }
    run_tasks(&h.worker).await;
    let mut terminated = terminated_jobs(&h).await;
    terminated.sort();
    let reason = "cancelled by ann@example.com".to_owned();
    assert_eq!(
        terminated,
        [
            (format!("{array}:0"), reason.clone()),
            (format!("{array}:1"), reason)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cancelled_before_dispatch_has_its_child_terminated() {
    let h = Harness::new().await;
    let version = h.image_version("forecast", "a1b2c3d").await;
    let (sweep, runs) = sweep_of(&h, &version, &[0.02, 0.03, 0.04]).await;
    h.cancel(runs[1].id, "ann@example.com").await;
    h.world.moto.start_recording().await;
    run_tasks(&h.worker).await;
    let array = h
        .store
        .sweep(sweep.id)
        .await
        .expect("sweep")
        .and_then(|s| s.job_id)
        .expect("array job");
    assert_eq!(submitted_jobs(&h).await[0]["arrayProperties"]["size"], 3);
    assert_eq!(
        terminated_jobs(&h).await,
        [(
            format!("{array}:1"),
            "its run was cancelled before the sweep started".to_owned()
        )]
    );
    let statuses: Vec<_> = h
        .store
        .sweep_runs(sweep.id)
        .await
        .expect("runs")
        .into_iter()
        .map(|run| run.status)
        .collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Submitted,
            RunStatus::Cancelled,
            RunStatus::Submitted
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_that_is_not_an_image_fails_every_run_with_the_reason() {
    let h = Harness::new().await;
    let image = h.image_version("forecast", "a1b2c3d").await;
    // A version registered from a directory runs on the local executor only.
    let local = NewVersion {
        model: ModelMeta {
            name: "local".to_owned(),
            title: "local".to_owned(),
            description: String::new(),
            owner: String::new(),
        },
        label: "v1".to_owned(),
        digest: format!("sha256:{}", "cd".repeat(32)),
        runtime: Runtime::Local {
            command: vec!["python".to_owned(), "main.py".to_owned()],
            dir: "/srv/models/local".to_owned(),
        },
        inputs: image.inputs.clone(),
        resources: image.resources,
        max_resources: image.max_resources,
        source_commit: None,
        registered_via: "push".to_owned(),
        environment: None,
        prepare_environment: false,
        secrets: Vec::new(),
        network: true,
        outputs: Default::default(),
    };
    let registered = h.store.register_version(local, Vec::new()).await;
    let local = registered.expect("register").version().clone();
    let (_, runs) = sweep_of(&h, &local, &[0.02, 0.03]).await;
    h.world.moto.start_recording().await;
    run_tasks(&h.worker).await;
    assert_eq!(submitted_jobs(&h).await, Vec::<Value>::new());
    for run in &runs {
        let run = h.run(run.id).await;
        assert_eq!(run.status, RunStatus::Failed);
        let reason = run.status_reason.unwrap_or_default();
        assert!(
            reason.starts_with("could not start the run: ")
                && reason.contains("AWS Batch runs versions built as images"),
            "{reason}"
        );
    }
}
