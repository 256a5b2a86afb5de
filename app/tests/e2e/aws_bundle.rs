//! A run's zips on AWS backends, against moto (its reproducibility bundle,
//! and all its outputs in one zip): the worker builds each from the run's
//! objects in S3 into S3, and the API hands out a presigned URL to it,
//! which serves the zip.

use std::time::Duration;

use modelrun_core::bundle::BundleManifest;
use modelrun_core::status::RunStatus;
use modelrun_testkit::AwsWorld;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use crate::aws::{exec_forecast, forecast_image, job_environment};
use crate::bundle::entries;
use crate::support::*;

/// A succeeded run of the forecast's image, its outputs stored in S3 by
/// `modelrun exec` as a Batch job's container stores them: a runner's
/// token, and the run as the API answers it.
async fn succeeded_forecast(app: &TestApp) -> (String, Value) {
    let world = app.world.as_ref().expect("world");
    forecast_image(app).await;
    let token = app.token(RUNNER_EMAIL).await;
    let api = app.api(&token);
    let run: Value = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({ "version": "a1b2c3d", "inputs": { "horizon_months": 2 } }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    let id = run["id"].as_i64().expect("id");
    let run_id = modelrun_core::ids::RunId(id);
    app.components.worker.run_due().await.expect("dispatch");
    let job_id = app
        .store
        .run(run_id)
        .await
        .expect("query")
        .and_then(|run| run.job_id)
        .expect("a Batch job");
    // The job's container: `modelrun exec` stores the outputs through the job API.
    let environment = job_environment(world, &job_id).await;
    let wrapper = exec_forecast(&environment).await;
    assert!(
        wrapper.status.success(),
        "{}",
        String::from_utf8_lossy(&wrapper.stderr)
    );
    app.components.worker.sweep().await.expect("sweep");
    app.components.worker.run_due().await.expect("email");
    let run = api.get_json(&format!("/api/v1/runs/{id}")).await;
    assert_eq!(run["status"], RunStatus::Succeeded.to_string());
    (token, run)
}

/// GETs `path` without following redirects while the worker runs the
/// build the request queues; the presigned URL it redirects to.
async fn presigned(app: &TestApp, token: &str, path: &str) -> String {
    let no_redirects = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let request = no_redirects.get(app.url(path)).bearer_auth(token).send();
    let worker = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        app.components.worker.run_due().await.expect("build");
    };
    let (response, ()) = tokio::join!(request, worker);
    let response = response.expect("GET");
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
    location(&response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_on_aws_is_built_into_s3_and_downloaded_presigned() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    let world = app.world.as_ref().expect("world");
    let (token, run) = succeeded_forecast(&app).await;
    let id = run["id"].as_i64().expect("id");
    // The first request queues the build; the worker builds it into S3
    // and the answer is a presigned URL to it.
    let url = presigned(&app, &token, &format!("/api/v1/runs/{id}/bundle")).await;
    assert!(
        url.starts_with(&world.moto.url)
            && url.contains(&format!("bundle/modelrun-run-{id}.zip"))
            && url.contains("X-Amz-Expires=600"),
        "{url}"
    );
    let fetched = reqwest::get(&url).await.expect("GET presigned");
    assert_eq!(fetched.status(), StatusCode::OK);
    let zip = fetched.bytes().await.expect("zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).expect("a zip");
    let manifest: BundleManifest =
        serde_json::from_reader(archive.by_name("bundle.json").expect("manifest")).expect("json");
    assert_eq!(manifest.version.label, "a1b2c3d");
    assert_eq!(manifest.version.runtime, "image");
    assert!(manifest.version.image_uri.is_some(), "{manifest:?}");
    let csv = manifest
        .outputs
        .iter()
        .find(|o| o.name == "forecast.csv")
        .expect("the forecast is in the bundle");
    // The checksum S3 recorded where it gives one (moto may not), else the
    // one computed from the bytes: either way, the bytes' own.
    let recorded = run["outputs"]
        .as_array()
        .and_then(|outputs| outputs.iter().find(|o| o["name"] == "forecast.csv"))
        .map(|o| o["sha256"].clone())
        .expect("the output is recorded");
    if let Some(recorded) = recorded.as_str() {
        assert_eq!(csv.sha256, recorded, "S3's checksum and the bytes agree");
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut archive.by_name("outputs/forecast.csv").expect("entry"),
        &mut bytes,
    )
    .expect("read");
    assert!(bytes.starts_with(b"month,revenue,low,high\n"));
    assert_eq!(modelrun_core::crypto::sha256_hex(&bytes), csv.sha256);
    assert_eq!(csv.size, bytes.len() as u64);

    // Asked again, it is not built again: straight to a new presigned URL.
    let again = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
        .get(app.url(&format!("/api/v1/runs/{id}/bundle")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zip_of_the_outputs_on_aws_is_built_into_s3_and_downloaded_presigned() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    let world = app.world.as_ref().expect("world");
    let (token, run) = succeeded_forecast(&app).await;
    let id = run["id"].as_i64().expect("id");
    let url = presigned(&app, &token, &format!("/api/v1/runs/{id}/outputs.zip")).await;
    assert!(
        url.starts_with(&world.moto.url)
            && url.contains(&format!("bundle/modelrun-run-{id}-outputs.zip"))
            && url.contains("X-Amz-Expires=600"),
        "{url}"
    );
    let fetched = reqwest::get(&url).await.expect("GET presigned");
    assert_eq!(fetched.status(), StatusCode::OK);
    let zip = entries(&fetched.bytes().await.expect("zip"));
    let api = app.api(&token);
    let recorded = run["outputs"].as_array().expect("outputs");
    assert_eq!(zip.len(), recorded.len(), "every output, once");
    for output in recorded {
        let name = output["name"].as_str().expect("name");
        let (_, bytes) = zip
            .iter()
            .find(|(entry, _)| entry == name)
            .unwrap_or_else(|| panic!("{name} is in the zip"));
        let alone = api
            .get(&format!("/api/v1/runs/{id}/outputs/{name}"))
            .send()
            .await
            .expect("GET")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(alone.as_ref(), bytes.as_slice(), "{name}");
    }
}
