//! The job API on AWS backends: a job token reaches its own run's files
//! and nothing else, and stops when its run ends.

use modelrun_core::run::StatusChange;
use modelrun_core::status::RunStatus;
use modelrun_testkit::AwsWorld;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::aws::{forecast_image, job_environment};
use crate::support::*;

/// Submits and dispatches a forecast run; its id and the environment
/// Batch gives its job.
pub async fn dispatched(app: &TestApp, api: &Api) -> (i64, Vec<(String, String)>) {
    let created = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {}}))
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.expect("json")["id"]
        .as_i64()
        .expect("id");
    app.components.worker.run_due().await.expect("dispatch");
    let run = app
        .store
        .run(modelrun_core::ids::RunId(id))
        .await
        .expect("query")
        .expect("run");
    let world = app.world.as_ref().expect("world");
    (id, job_environment(world, &run.job_id.expect("job")).await)
}

fn job_token(environment: &[(String, String)]) -> String {
    environment
        .iter()
        .find(|(name, _)| name == "MODELRUN_JOB_TOKEN")
        .expect("a job token")
        .1
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_token_reaches_its_own_run_only_while_it_runs() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    forecast_image(&app).await;
    let user_token = app.token(RUNNER_EMAIL).await;
    let api = app.api(&user_token);
    let (a, a_environment) = dispatched(&app, &api).await;
    let a_token = job_token(&a_environment);
    let (b, _) = dispatched(&app, &api).await;
    let client = reqwest::Client::new();
    let inputs = |run: i64, token: &str| {
        client
            .get(app.url(&format!("/api/v1/jobs/{run}/inputs")))
            .bearer_auth(token)
            .send()
    };
    let status = |response: reqwest::Response| response.status();

    let own = inputs(a, &a_token).await.expect("GET");
    assert_eq!(own.status(), StatusCode::OK);
    let presigned: Value = own.json().await.expect("json");
    let url = presigned["url"].as_str().expect("url");
    assert!(url.contains("X-Amz-Expires=900"), "{url}");
    let fetched = client.get(url).send().await.expect("GET presigned");
    let stored: Value = fetched.json().await.expect("inputs");
    assert_eq!(
        stored["horizon_months"], 24,
        "the run's inputs, defaults filled: {stored}"
    );

    assert_eq!(
        status(inputs(b, &a_token).await.expect("GET")),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(inputs(a, "mrj_0000").await.expect("GET")),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(inputs(a, &user_token).await.expect("GET")),
        StatusCode::UNAUTHORIZED,
        "a person's API token is no job token"
    );
    assert_eq!(
        status(
            client
                .get(app.url(&format!("/api/v1/runs/{a}")))
                .bearer_auth(&a_token)
                .send()
                .await
                .expect("GET")
        ),
        StatusCode::UNAUTHORIZED,
        "a job token opens nothing else"
    );

    let upload = |body: Value| {
        client
            .post(app.url(&format!("/api/v1/jobs/{a}/outputs")))
            .bearer_auth(&a_token)
            .json(&body)
            .send()
    };
    let good = json!({"name": "report/summary.csv", "size": 4, "sha256": "a".repeat(64), "content_type": "text/csv"});
    let signed = upload(good.clone()).await.expect("POST");
    assert_eq!(signed.status(), StatusCode::OK);
    let signed: Value = signed.json().await.expect("json");
    assert_eq!(signed["method"], "PUT");
    assert!(
        signed["url"].as_str().expect("url").contains(&format!(
            "runs/{}/{a}/outputs/report/summary.csv",
            app.store.installation().await.expect("installation").id
        )),
        "{signed}"
    );
    for (field, bad) in [
        (
            "name",
            json!({"name": "../../runs/2/outputs/x.csv", "size": 4, "sha256": "a".repeat(64), "content_type": "text/csv"}),
        ),
        (
            "size",
            json!({"name": "x.csv", "size": 6_000_000_000_u64, "sha256": "a".repeat(64), "content_type": "text/csv"}),
        ),
        (
            "sha256",
            json!({"name": "x.csv", "size": 4, "sha256": "nope", "content_type": "text/csv"}),
        ),
    ] {
        let refused = upload(bad).await.expect("POST");
        assert_eq!(refused.status(), StatusCode::BAD_REQUEST, "{field}");
        let body: Value = refused.json().await.expect("json");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.starts_with(&format!("{field}:")), "{message}");
    }

    app.store
        .transition(StatusChange::new(
            modelrun_core::ids::RunId(a),
            RunStatus::Failed,
        ))
        .await
        .expect("end the run");
    let ended = inputs(a, &a_token).await.expect("GET");
    assert_eq!(ended.status(), StatusCode::CONFLICT);
    assert_eq!(
        status(upload(good).await.expect("POST")),
        StatusCode::CONFLICT
    );
}
