//! The browser flow on AWS backends, against moto: the version comes from
//! an image in ECR, the run goes to Batch, the outputs are in S3 and
//! download through a presigned URL, the email goes out through SES.

use modelrun_core::status::RunStatus;
use modelrun_core::task::{Job, SyncImages};
use modelrun_testkit::AwsWorld;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

const MANIFEST: &str = include_str!("../../../examples/models/forecast/modelrun.toml");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_browser_flow_works_end_to_end_on_aws() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    let world = app.world.as_ref().expect("world");

    forecast_image(&app).await;

    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let form = browser.page("/models/forecast/runs/new").await;
    assert!(
        form.contains("value=\"a1b2c3d\""),
        "the image's version is offered"
    );
    let submitted = browser
        .post_form(
            "/models/forecast/runs/new",
            &[
                ("version", "a1b2c3d"),
                ("start_month", "2027-01"),
                ("horizon_months", "1"),
                ("base_revenue", "100000"),
                ("growth_rate", "0.07"),
                ("seasonality", "none"),
                ("churn_rate", "0"),
            ],
        )
        .await;
    assert_eq!(submitted.status(), StatusCode::SEE_OTHER);
    let run_path = location(&submitted);
    let run_id =
        modelrun_core::ids::RunId(run_path.trim_start_matches("/runs/").parse().expect("id"));

    // Dispatch submits to Batch.
    app.components.worker.run_due().await.expect("dispatch");
    let run = app.store.run(run_id).await.expect("query").expect("run");
    assert_eq!(run.status, RunStatus::Submitted);
    let job_id = run.job_id.clone().expect("a Batch job");
    let jobs = world
        .batch_client()
        .describe_jobs()
        .jobs(&job_id)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        jobs.jobs()[0].job_name(),
        Some(modelrun_core::executor::JobRequest::job_name(&run).as_str())
    );

    // The container runs `modelrun exec` with the environment Batch gives
    // the job: it reaches its files through the job API, with no S3 rights.
    let environment = job_environment(world, &job_id).await;
    let names: Vec<&str> = environment.iter().map(|(name, _)| name.as_str()).collect();
    for expected in ["MODELRUN_RUN_ID", "MODELRUN_API_URL", "MODELRUN_JOB_TOKEN"] {
        assert!(names.contains(&expected), "{names:?}");
    }
    assert!(
        !names.contains(&"MODELRUN_INPUTS"),
        "no S3 location is handed to the job: {names:?}"
    );
    let wrapper = exec_forecast(&environment).await;
    let log = String::from_utf8_lossy(&wrapper.stdout);
    assert!(
        wrapper.status.success(),
        "{log}\n{}",
        String::from_utf8_lossy(&wrapper.stderr)
    );
    assert!(log.contains("[modelrun] stored"), "{log}");
    world.moto.start_recording().await;
    app.components.worker.sweep().await.expect("sweep");
    app.components.worker.run_due().await.expect("email");
    let page = browser.page(&run_path).await;
    assert!(
        page.contains("status-succeeded"),
        "the run page shows the end"
    );
    assert!(page.contains("forecast.csv</a>"));

    // The download is a redirect to a presigned S3 URL, which serves the bytes.
    let download = browser
        .get(&format!("{run_path}/outputs/forecast.csv"))
        .await;
    assert_eq!(download.status(), StatusCode::SEE_OTHER);
    let url = location(&download);
    assert!(
        url.starts_with(&world.moto.url) && url.contains("X-Amz-Expires=600"),
        "{url}"
    );
    let fetched = reqwest::get(&url).await.expect("GET presigned");
    assert_eq!(fetched.status(), StatusCode::OK);
    assert!(
        fetched
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment; filename=\"forecast.csv\""))
    );
    let csv = fetched.bytes().await.expect("bytes");
    assert!(
        csv.starts_with(b"month,revenue,low,high\n2027-01,"),
        "{csv:?}"
    );

    // The email is in SES's sent list.
    let sent = world.moto.recorded_bodies().await;
    let email = sent
        .iter()
        .find(|body| body.get("FromEmailAddress").is_some())
        .expect("SES SendEmail");
    assert_eq!(email["Destination"]["ToAddresses"], json!([RUNNER_EMAIL]));
    assert_eq!(
        email["Content"]["Simple"]["Subject"]["Data"],
        format!("Run #{run_id} of forecast succeeded")
    );
}

/// The build pushes the forecast's image and uploads its manifest; the sync
/// registers it as version `a1b2c3d`.
pub async fn forecast_image(app: &TestApp) {
    let world = app.world.as_ref().expect("world");
    let ecr = world.ecr_client();
    ecr.create_repository()
        .repository_name("modelrun/forecast")
        .send()
        .await
        .expect("repository");
    let image = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": format!("sha256:{}", "c".repeat(64))},
        "layers": []});
    ecr.put_image()
        .repository_name("modelrun/forecast")
        .image_manifest(image.to_string())
        .image_tag("a1b2c3d")
        .send()
        .await
        .expect("push");
    let s3 = world.s3_client();
    s3.put_object()
        .bucket("modelrun-artifacts")
        .key("manifests/forecast/a1b2c3d/modelrun.toml")
        .body(MANIFEST.as_bytes().to_vec().into())
        .send()
        .await
        .expect("manifest");
    app.store.enqueue(SyncImages {}.task()).await.expect("sync");
    app.components.worker.run_due().await.expect("tasks");
}

/// The environment Batch gives the container of a job.
/// The example forecast run as its Batch job's container runs it:
/// `modelrun exec -- python3 forecast.py` with the job's environment only.
pub async fn exec_forecast(environment: &[(String, String)]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_modelrun"))
        .current_dir(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/models/forecast"
        ))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(environment.iter().cloned())
        .args(["exec", "--", "python3", "forecast.py"])
        .output()
        .await
        .expect("modelrun exec")
}

pub async fn job_environment(world: &AwsWorld, job_id: &str) -> Vec<(String, String)> {
    let jobs = world
        .batch_client()
        .describe_jobs()
        .jobs(job_id)
        .send()
        .await
        .expect("describe");
    jobs.jobs()[0]
        .container()
        .map(|container| {
            container
                .environment()
                .iter()
                .filter_map(|pair| Some((pair.name()?.to_owned(), pair.value()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}
