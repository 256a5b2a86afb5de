//! A run on AWS Batch, against moto, has a cost: its resources × the time
//! from the job's RUNNING event to its end × the Fargate prices recorded
//! with its estimate; the next estimate of the version has a history and a
//! cost.

use std::time::Duration;

use modelrun_core::config::BatchPlatform;
use modelrun_core::estimate::Prices;
use modelrun_core::executor::JobRequest;
use modelrun_core::ids::RunId;
use modelrun_core::status::RunStatus;
use modelrun_testkit::AwsWorld;
use serde_json::{Value, json};

use crate::support::*;

/// The "Batch Job State Change" event EventBridge delivers when the job runs.
fn running_event(run: &modelrun_core::run::Run, job_id: &str) -> Value {
    json!({
        "version": "0",
        "id": "2b1c7a52-7b0f-4c8e-9d55-0c3a3f1e2d10",
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "account": "123456789012",
        "time": "2026-11-30T14:00:00Z",
        "region": "us-east-1",
        "resources": [format!("arn:aws:batch:us-east-1:123456789012:job/{job_id}")],
        "detail": {
            "jobArn": format!("arn:aws:batch:us-east-1:123456789012:job/{job_id}"),
            "jobName": JobRequest::job_name(run),
            "jobId": job_id,
            "jobQueue": "arn:aws:batch:us-east-1:123456789012:job-queue/modelrun",
            "status": "RUNNING",
            "attempts": [],
            "createdAt": 1_795_355_834_262_i64,
            "dependsOn": [],
            "jobDefinition": "arn:aws:batch:us-east-1:123456789012:job-definition/modelrun:1",
            "parameters": {},
            "container": {"image": "modelrun/forecast:a1b2c3d", "vcpus": 0, "memory": 512, "command": []},
            "tags": {"modelrun:run": run.id.to_string()},
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_on_batch_costs_its_resources_times_its_running_time() {
    let fargate = Prices::default_for(BatchPlatform::Fargate);
    let prices = fargate.clone();
    let app = TestApp::spawn_full(
        StoreKind::Sqlite,
        Some(AwsWorld::create().await),
        |_| {},
        |web| web.costs.prices = Some(prices),
    )
    .await;
    crate::aws::forecast_image(&app).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let before = api.get_json("/api/v1/models/forecast/estimate").await;
    assert_eq!(before["prices"]["platform"], "FARGATE");
    assert_eq!(before["history"], Value::Null);

    let submitted = api.submit_defaults("forecast").await;
    let id = RunId(submitted["id"].as_i64().expect("id"));
    app.components.worker.run_due().await.expect("dispatch");
    let run = app.store.run(id).await.expect("query").expect("run");
    assert_eq!(run.status, RunStatus::Submitted);
    let job_id = run.job_id.clone().expect("a Batch job");
    app.components
        .worker
        .handle_batch_event(&running_event(&run, &job_id))
        .await
        .expect("running");
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    // moto ends every job SUCCEEDED; the sweep reads it.
    app.components.worker.sweep().await.expect("sweep");
    let run = app.store.run(id).await.expect("query").expect("run");
    assert_eq!(run.status, RunStatus::Succeeded);

    let json = api.get_json(&format!("/api/v1/runs/{id}")).await;
    let cost = &json["cost"];
    assert_eq!(cost["estimate"]["prices"]["platform"], "FARGATE");
    let seconds = (run.finished_at.expect("end") - run.started_at.expect("start"))
        .num_milliseconds() as f64
        / 1000.0;
    assert!(seconds >= 1.0, "{seconds}");
    let expected = fargate.cost(&run.resources, seconds);
    let actual = cost["actual_cost_usd"].as_f64().expect("a cost");
    assert!(
        (actual - expected).abs() < 1e-9,
        "{actual} is 0.25 vCPU and 0.5 GiB × {seconds} s at Fargate's prices, {expected}"
    );
    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let page = browser.page(&format!("/runs/{id}")).await;
    assert!(page.contains(r#"id="actual-cost">$0.0"#), "{page}");

    let after = api.get_json("/api/v1/models/forecast/estimate").await;
    assert_eq!(after["history"]["runs"], 1);
    assert!(after["cost"]["median_per_run"].as_f64().expect("cost") > 0.0);
}
