//! Sweeps on AWS backends, against moto: a sweep submitted through the API
//! is one Batch array job; each child runs `modelrun exec` as its container
//! does, finds its run by its array index, reaches that run's files with
//! the sweep's one job token, and the sweep ends succeeded with every
//! run's outputs stored.

use modelrun_core::ids::{RunId, SweepId};
use modelrun_core::status::RunStatus;
use modelrun_testkit::AwsWorld;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::aws::{exec_forecast, forecast_image, job_environment};
use crate::support::*;

const SWEEPS: &str = "/api/v1/models/forecast/sweeps";

/// A "Batch Job State Change" event of a child of the sweep's array job.
pub(crate) fn child_event(name: &str, job_id: &str, status: &str) -> Value {
    json!({
        "version": "0",
        "id": "5d7c2f7e-3c52-4d0e-9a8b-2f3e4d5c6b7a",
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "account": "123456789012",
        "time": "2026-11-30T14:00:00Z",
        "region": "us-east-1",
        "resources": [format!("arn:aws:batch:us-east-1:123456789012:job/{job_id}")],
        "detail": {
            "jobArn": format!("arn:aws:batch:us-east-1:123456789012:job/{job_id}"),
            "jobName": name,
            "jobId": job_id,
            "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/modelrun",
            "status": status,
            "attempts": [],
            "createdAt": 1_795_355_834_262_i64,
            "dependsOn": [],
            "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/modelrun:1",
            "parameters": {},
            "container": {"image": "modelrun/forecast:a1b2c3d", "vcpus": 0, "memory": 1024, "command": []},
        }
    })
}

/// Submits a sweep of the forecast over these growth rates and dispatches
/// it: the sweep's id, its runs in grid order and its array job's id.
pub(crate) async fn dispatched_sweep(
    app: &TestApp,
    api: &Api,
    growth: &[f64],
) -> (SweepId, Vec<RunId>, String) {
    let created = api
        .post(SWEEPS)
        .json(&json!({
            "version": "a1b2c3d",
            "inputs": { "horizon_months": 1, "churn_rate": 0 },
            "vary": { "growth_rate": growth }
        }))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    let id = SweepId(created["id"].as_i64().expect("id"));
    app.components.worker.run_due().await.expect("dispatch");
    let runs: Vec<RunId> = app
        .store
        .sweep_runs(id)
        .await
        .expect("runs")
        .iter()
        .map(|run| run.id)
        .collect();
    let array = app
        .store
        .sweep(id)
        .await
        .expect("sweep")
        .and_then(|sweep| sweep.job_id)
        .expect("an array job");
    (id, runs, array)
}

fn token_of(environment: &[(String, String)]) -> String {
    environment
        .iter()
        .find(|(name, _)| name == "MODELRUN_JOB_TOKEN")
        .map(|(_, value)| value.clone())
        .expect("a job token")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_runs_on_batch_as_one_array_job() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    let world = app.world.as_ref().expect("world");
    forecast_image(&app).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let growth = [0.01, 0.05, 0.09];
    let (id, runs, array) = dispatched_sweep(&app, &api, &growth).await;
    let (_, others, other_array) = dispatched_sweep(&app, &api, &[0.02, 0.03]).await;
    let name = app
        .store
        .sweep(id)
        .await
        .expect("sweep")
        .expect("sweep")
        .job_name();

    // What Batch gives each child's container: the sweep's environment.
    let environment = job_environment(world, &format!("{array}:0")).await;
    let listed = modelrun_core::sweep::runs_list(&runs);
    assert!(
        environment.contains(&("MODELRUN_SWEEP_RUNS".to_owned(), listed)),
        "{environment:?}"
    );
    assert!(
        !environment
            .iter()
            .any(|(name, _)| name == "MODELRUN_RUN_ID"),
        "{environment:?}"
    );

    // The one token opens the job API for each run of its sweep, and for
    // no run of another sweep.
    let token = token_of(&environment);
    let inputs = |run: RunId, token: &str| {
        reqwest::Client::new()
            .get(app.url(&format!("/api/v1/jobs/{run}/inputs")))
            .bearer_auth(token)
            .send()
    };
    for run in &runs {
        let answer = inputs(*run, &token).await.expect("GET");
        assert_eq!(answer.status(), StatusCode::OK, "run {run}");
    }
    let refused = inputs(others[0], &token).await.expect("GET");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let theirs = token_of(&job_environment(world, &format!("{other_array}:0")).await);
    let refused = inputs(runs[0], &theirs).await.expect("GET");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    // Each child runs the forecast with its run's inputs and stores its
    // run's outputs.
    for (index, rate) in growth.iter().enumerate() {
        let mut child = environment.clone();
        child.push(("AWS_BATCH_JOB_ARRAY_INDEX".to_owned(), index.to_string()));
        let wrapper = exec_forecast(&child).await;
        let log = String::from_utf8_lossy(&wrapper.stdout);
        assert!(
            wrapper.status.success(),
            "{log}\n{}",
            String::from_utf8_lossy(&wrapper.stderr)
        );
        assert!(log.contains("[modelrun] stored"), "{log}");
        let said = format!("growth {:.2}%", rate * 100.0);
        assert!(log.contains(&said), "child {index} ran its own run: {log}");
    }

    // Batch ends each child; each event reaches its own run.
    let worker = &app.components.worker;
    for index in 0..runs.len() {
        let child = format!("{array}:{index}");
        for status in ["RUNNING", "SUCCEEDED"] {
            let changed = worker
                .handle_batch_event(&child_event(&name, &child, status))
                .await
                .expect("event");
            assert!(changed.is_some(), "{child} {status}");
        }
    }
    let ended = api.get_json(&format!("/api/v1/sweeps/{id}")).await;
    assert_eq!(ended["status"], "succeeded", "{ended}");
    for run in &runs {
        let stored = app.store.run(*run).await.expect("query").expect("run");
        assert_eq!(stored.status, RunStatus::Succeeded);
        let outputs = app.store.run_outputs(*run).await.expect("outputs");
        let names: Vec<_> = outputs.iter().map(|output| output.name.as_str()).collect();
        assert!(
            names.contains(&"forecast.csv") && names.contains(&"metrics.json"),
            "run {run}: {names:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_without_its_run_fails_naming_the_variable() {
    let base = [
        ("MODELRUN_API_URL", "http://127.0.0.1:9"),
        ("MODELRUN_JOB_TOKEN", "mrj_0123"),
    ];
    let cases = [
        (
            "12,13,14",
            Some("x"),
            "AWS_BATCH_JOB_ARRAY_INDEX is \"x\", not an index from 0",
        ),
        (
            "12,13,14",
            Some("3"),
            "MODELRUN_SWEEP_RUNS lists no run at index 3",
        ),
        (
            "12,x,14",
            Some("1"),
            "MODELRUN_SWEEP_RUNS holds \"x\", not a run id",
        ),
        (
            "12,13,14",
            None,
            "MODELRUN_SWEEP_RUNS is set but AWS_BATCH_JOB_ARRAY_INDEX is not",
        ),
    ];
    for (runs, index, message) in cases {
        let mut environment: Vec<(String, String)> = base
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        environment.push(("MODELRUN_SWEEP_RUNS".to_owned(), runs.to_owned()));
        if let Some(index) = index {
            environment.push(("AWS_BATCH_JOB_ARRAY_INDEX".to_owned(), index.to_owned()));
        }
        let wrapper = exec_forecast(&environment).await;
        let stderr = String::from_utf8_lossy(&wrapper.stderr);
        assert_eq!(wrapper.status.code(), Some(125), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.starts_with(&format!("[modelrun] {message}")),
            "{stderr}"
        );
        assert!(wrapper.stdout.is_empty(), "the model did not run");
    }
}
