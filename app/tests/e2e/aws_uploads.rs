//! Uploads on AWS, against moto: the file goes straight to S3 with a
//! presigned PUT (never through the web function), the pages may send it
//! there (their Content-Security-Policy names the bucket), and the run's
//! input file downloads through a presigned URL.

use modelrun_testkit::AwsWorld;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::aws::forecast_image;
use crate::support::*;

const ACTUALS: &str = "month,revenue\n2027-01,5000\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_goes_straight_to_s3_and_downloads_from_there() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    let moto = app.world.as_ref().expect("world").moto.url.clone();
    forecast_image(&app).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);

    let announced: Value = api
        .post("/api/v1/uploads")
        .json(&json!({
            "name": "actuals.csv",
            "bytes": ACTUALS.len(),
            "sha256": modelrun_core::crypto::sha256_hex(ACTUALS),
        }))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("announced");
    let send = &announced["send"];
    let url = send["url"].as_str().expect("url");
    assert!(url.starts_with(&moto), "straight to the bucket: {url}");
    assert!(url.contains("/uploads/"), "{url}");
    let mut put = reqwest::Client::new().put(url);
    for (header, value) in send["headers"].as_object().expect("headers") {
        put = put.header(header, value.as_str().expect("text"));
    }
    let stored = put.body(ACTUALS).send().await.expect("PUT");
    assert!(stored.status().is_success(), "{}", stored.status());

    let browser = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let form = browser.get("/models/forecast/runs/new").await;
    let policy = form
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        policy.contains(&format!("connect-src 'self' {moto}")),
        "the page may send files to the bucket: {policy}"
    );

    let run: Value = api
        .post("/api/v1/models/forecast/runs")
        .json(&json!({"inputs": {"horizon_months": 1, "actuals": announced["upload"]}}))
        .send()
        .await
        .expect("POST")
        .json()
        .await
        .expect("run");
    assert_eq!(
        run["inputs"]["actuals"],
        json!({"upload": announced["upload"], "name": "actuals.csv", "bytes": ACTUALS.len(), "media_type": "text/csv"}),
        "{run}"
    );
    let download = browser
        .get(&format!("/runs/{}/files/actuals", run["id"]))
        .await;
    assert_eq!(download.status(), StatusCode::SEE_OTHER);
    let fetched = reqwest::get(location(&download))
        .await
        .expect("GET presigned");
    assert_eq!(fetched.text().await.expect("body"), ACTUALS);
}
