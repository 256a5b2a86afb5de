//! A model's progress: its `::progress` lines reach the API, the run page,
//! the runs list and `modelrun runs submit --wait`, on one machine and on
//! AWS Batch (through `modelrun exec` and the job API); thousands of lines
//! make a few writes, and a finished run keeps the last value.

use std::time::{Duration, Instant};

use modelrun_core::ids::RunId;
use modelrun_core::run::StatusChange;
use modelrun_core::status::RunStatus;
use modelrun_testkit::AwsWorld;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::process::Command;

use crate::aws::{forecast_image, job_environment};
use crate::cli_client::{client, run_while_draining};
use crate::support::*;

/// Says it is halfway, waits, then reports 10,000 steps as fast as it can.
const STEPPER: &str = r#"name = "stepper"
command = ["python3", "-c", "import time\nprint('::progress 0.5 halfway', flush=True)\ntime.sleep(4)\nfor i in range(1, 10001):\n    print(f'::progress {i / 10000} step {i}')\n"]
[inputs]
type = "object"
"#;

/// Submits a run of the forecast's image version and dispatches it to Batch: its id and the
/// environment Batch gives its job.
async fn dispatched(app: &TestApp, api: &Api) -> (i64, Vec<(String, String)>) {
    let created: Value = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {}, "version": "a1b2c3d"}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    let id = created["id"].as_i64().expect("id");
    app.components.worker.run_due().await.expect("dispatch");
    let run = app.store.run(RunId(id)).await.expect("query").expect("run");
    let Some(job) = &run.job_id else {
        let events = app.store.run_events(RunId(id)).await.expect("events");
        panic!("not dispatched: {run:?}\n{events:?}");
    };
    let world = app.world.as_ref().expect("world");
    (id, job_environment(world, job).await)
}

/// Polls the run through the API until `ready` holds; panics after 30 s.
async fn until(api: &Api, id: i64, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
        if ready(&run) {
            return run;
        }
        assert!(Instant::now() < deadline, "never came: {run}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn a_models_progress_reaches_the_api_and_the_pages(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("stepper", STEPPER).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let id = api.submit_defaults("stepper").await["id"]
        .as_i64()
        .expect("id");
    let halfway = async {
        let run = until(&api, id, |run| run["progress"]["message"] == "halfway").await;
        assert_eq!(run["status"], "running");
        assert_eq!(run["progress"]["fraction"], 0.5);
        assert!(run["progress"]["at"].is_string(), "{run}");
        let list = api.get_json("/api/v1/runs?fields=id,progress").await;
        assert_eq!(list["runs"][0]["progress"]["fraction"], 0.5, "{list}");
        let page = ann.page(&format!("/runs/{id}")).await;
        assert!(
            page.contains(r#"<progress max="100" value="50""#) && page.contains("50% · halfway"),
            "the run page shows the bar: {page}"
        );
        let runs = ann.page("/runs").await;
        assert!(
            runs.contains(r#"<progress class="mini" max="100" value="50""#),
            "the runs list shows a small bar: {runs}"
        );
    };
    tokio::join!(app.drain(), halfway);

    let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(run["status"], "succeeded");
    assert_eq!(run["progress"]["fraction"], 1.0, "the last line is kept");
    assert_eq!(run["progress"]["message"], "step 10000");
    let log = api
        .get(&format!("/api/v1/runs/{id}/log"))
        .send()
        .await
        .expect("log")
        .text()
        .await
        .expect("text");
    assert!(
        log.starts_with("::progress 0.5 halfway\n") && log.contains("::progress 1.0 step 10000"),
        "progress lines stay in the log"
    );
    let page = ann.page(&format!("/runs/{id}")).await;
    assert!(page.contains(r#"value="100""#) && page.contains("100% · step 10000"));
    let runs = ann.page("/runs").await;
    assert!(
        !runs.contains(r#"class="mini""#),
        "an ended run has no bar in the list"
    );
}

pub async fn runs_submit_wait_shows_the_progress(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    app.register_model("stepper", STEPPER).await;
    let token = app.token(RUNNER_EMAIL).await;
    let mut submit = client(&app, &token);
    submit.args(["runs", "submit", "stepper", "--wait"]);
    let out = run_while_draining(&app, submit).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Not a terminal: plain lines, one for each change.
    assert!(stderr.contains(" s  running  50%  halfway\n"), "{stderr}");
    assert!(
        stderr.contains(" s  succeeded  100%  step 10000\n"),
        "{stderr}"
    );
    assert!(!stderr.contains('\r'), "no bar drawn into a pipe: {stderr}");
}

/// On AWS Batch the wrapper sends the model's progress through the job
/// API; the endpoint takes only the run's own token, while it runs, and
/// refuses a fraction outside 0–1 naming it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_batch_the_wrapper_reports_progress_through_the_job_api() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    forecast_image(&app).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let (id, environment) = dispatched(&app, &api).await;
    let (other, other_environment) = dispatched(&app, &api).await;
    let wrapper = Command::new(env!("CARGO_BIN_EXE_modelrun"))
        .env_remove("MODELRUN_DATA_DIR")
        .envs(environment.clone())
        .args([
            "exec",
            "--",
            "python3",
            "-c",
            "import time\nprint('::progress 25% loading', flush=True)\ntime.sleep(3)\n\
             for i in range(1, 5001):\n    print(f'::progress {i / 5000} step {i}')\n",
        ])
        .output();
    let watched = async {
        let run = until(&api, id, |run| run["progress"]["message"] == "loading").await;
        assert_eq!(run["progress"]["fraction"], 0.25);
    };
    let (wrapper, ()) = tokio::join!(wrapper, watched);
    let wrapper = wrapper.expect("modelrun exec");
    let stdout = String::from_utf8_lossy(&wrapper.stdout);
    assert!(
        wrapper.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&wrapper.stderr)
    );
    assert!(
        stdout.contains("::progress 25% loading\n"),
        "the lines stay in the log: {stdout}"
    );
    let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(
        run["progress"]["fraction"], 1.0,
        "the last line is kept: {run}"
    );
    assert_eq!(run["progress"]["message"], "step 5000");

    let token = |environment: &[(String, String)]| {
        environment
            .iter()
            .find(|(name, _)| name == "MODELRUN_JOB_TOKEN")
            .expect("token")
            .1
            .clone()
    };
    let report = |run: i64, token: String, body: Value| {
        reqwest::Client::new()
            .post(app.url(&format!("/api/v1/jobs/{run}/progress")))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let own = token(&environment);
    let refused = report(id, own.clone(), json!({"fraction": 2, "message": "x"}))
        .await
        .expect("POST");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = refused.text().await.expect("body");
    assert!(body.contains("fraction"), "{body}");
    let unknown = report(id, own.clone(), json!({"fraction": 0.5, "eta": 3}))
        .await
        .expect("POST");
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let across = report(other, own.clone(), json!({"fraction": 0.5}))
        .await
        .expect("POST");
    assert_eq!(across.status(), StatusCode::FORBIDDEN);
    let person = report(
        other,
        app.token(RUNNER_EMAIL).await,
        json!({"fraction": 0.5}),
    )
    .await
    .expect("POST");
    assert_eq!(person.status(), StatusCode::UNAUTHORIZED);
    let theirs = report(other, token(&other_environment), json!({"fraction": 0.1}))
        .await
        .expect("POST");
    assert_eq!(theirs.status(), StatusCode::NO_CONTENT);
    let other_run = api.get_json(&format!("/api/v1/runs/{other}")).await;
    assert_eq!(other_run["progress"]["fraction"], 0.1);
    assert_eq!(other_run["progress"]["message"], Value::Null);

    // Once the run has ended its token reports nothing more.
    app.store
        .transition(StatusChange::new(RunId(id), RunStatus::Succeeded))
        .await
        .expect("end the run");
    let late = report(id, own, json!({"fraction": 0.1}))
        .await
        .expect("POST");
    assert_eq!(late.status(), StatusCode::CONFLICT);
    let kept = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(
        kept["progress"]["fraction"], 1.0,
        "a late report changes nothing"
    );
}
