//! A sweep's archive on AWS backends, against moto: once every child of
//! the array job has run and ended, the worker builds the zip from the
//! runs' objects in S3 into S3, and the API hands out a presigned URL to
//! it, which serves the zip with every output and its index.

use std::time::Duration;

use modelrun_testkit::AwsWorld;
use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::aws::{exec_forecast, forecast_image, job_environment};
use crate::aws_sweeps::{child_event, dispatched_sweep};
use crate::support::*;
use crate::sweep_archive::check_archive;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweeps_archive_on_aws_is_built_into_s3_and_downloaded_presigned() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    let world = app.world.as_ref().expect("world");
    forecast_image(&app).await;
    let token = app.token(RUNNER_EMAIL).await;
    let api = app.api(&token);
    let (id, runs, array) = dispatched_sweep(&app, &api, &[0.02, 0.04]).await;
    let archive = format!("/api/v1/sweeps/{id}/archive");
    let early = api.get(&archive).send().await.expect("GET");
    assert_eq!(
        early.status(),
        StatusCode::CONFLICT,
        "not before the runs end"
    );

    let environment = job_environment(world, &format!("{array}:0")).await;
    let name = app
        .store
        .sweep(id)
        .await
        .expect("sweep")
        .expect("sweep")
        .job_name();
    let worker = &app.components.worker;
    for index in 0..runs.len() {
        let mut child = environment.clone();
        child.push(("AWS_BATCH_JOB_ARRAY_INDEX".to_owned(), index.to_string()));
        let wrapper = exec_forecast(&child).await;
        assert!(
            wrapper.status.success(),
            "{}",
            String::from_utf8_lossy(&wrapper.stderr)
        );
        for status in ["RUNNING", "SUCCEEDED"] {
            let event = child_event(&name, &format!("{array}:{index}"), status);
            worker.handle_batch_event(&event).await.expect("event");
        }
    }
    worker.run_due().await.expect("emails");
    let sweep = api.get_json(&format!("/api/v1/sweeps/{id}")).await;
    assert_eq!(sweep["status"], "succeeded", "{sweep}");

    // The first request queues the build; the worker builds it into S3,
    // under the installation's `sweeps/`, and the answer is a presigned URL
    // to it.
    let no_redirects = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let request = no_redirects
        .get(app.url(&archive))
        .bearer_auth(&token)
        .send();
    let build = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        worker.run_due().await.expect("build");
    };
    let (response, ()) = tokio::join!(request, build);
    let response = response.expect("GET");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let url = location(&response);
    assert!(
        url.starts_with(&world.moto.url)
            && url.contains("/sweeps/")
            && url.contains(&format!("/{id}/modelrun-sweep-{id}.zip"))
            && url.contains("X-Amz-Expires=600"),
        "{url}"
    );
    let fetched = reqwest::get(&url).await.expect("GET presigned");
    assert_eq!(fetched.status(), StatusCode::OK);
    let zip = fetched.bytes().await.expect("zip");
    check_archive(&api, &sweep, &zip).await;
}
