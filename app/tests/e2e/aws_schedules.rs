//! Schedules on AWS backends, against moto: the worker function's
//! one-minute invocation fires a due schedule, whose run goes to Batch, and
//! a second invocation for the same slot makes no second run.

use std::time::{Duration, Instant};

use chrono::Utc;
use modelrun_core::ids::ScheduleId;
use modelrun_core::status::RunStatus;
use modelrun_testkit::AwsWorld;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::aws::forecast_image;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_one_minute_invocation_fires_a_schedule_onto_batch() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    forecast_image(&app).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let created = api
        .post("/api/v1/schedules")
        .json(&json!({
            "name": "First weekday", "model": "forecast", "version": "a1b2c3d",
            "cron": "0 6 1W * *", "time_zone": "Europe/Berlin",
            "inputs": { "horizon_months": 1 }
        }))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.expect("json");
    let id = ScheduleId(created["id"].as_i64().expect("id"));
    app.store
        .set_schedule_paused(id, false, Some(Utc::now() - chrono::Duration::seconds(1)))
        .await
        .expect("due");

    let scheduled = json!({"source": "aws.events", "detail-type": "Scheduled Event", "detail": {}});
    let worker = &app.components.worker;
    let deadline = Instant::now() + Duration::from_secs(60);
    let summary = modelrun_worker::lambda::handle(worker, &scheduled, deadline)
        .await
        .expect("invocation");
    assert_eq!(summary["scheduled_runs"], 1, "{summary}");
    let fires = app.store.schedule_fires(id, 10).await.expect("fires");
    let run_id = fires[0].run_id.expect("a run");
    let run = app.store.run(run_id).await.expect("query").expect("run");
    assert_eq!(
        run.status,
        RunStatus::Submitted,
        "dispatched to Batch in the same invocation"
    );
    assert!(run.job_id.is_some(), "a Batch job");
    assert_eq!(run.version_label, "a1b2c3d");

    let again = modelrun_worker::lambda::handle(worker, &scheduled, deadline)
        .await
        .expect("invocation");
    assert_eq!(again["scheduled_runs"], 0, "{again}");
    assert_eq!(
        app.store.schedule_fires(id, 10).await.expect("fires").len(),
        1
    );
}
