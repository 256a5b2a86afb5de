//! The binary on AWS Lambda: the web and worker functions run as they do
//! on Lambda, against the Runtime API, with real event payloads, on AWS APIs
//! emulated by moto. A run goes from an API Gateway request, through the
//! kick, to Batch, a state-change event, the wrapper storing the outputs
//! through the job API of the web function, and a download redirect.

mod deployment;
mod events;
mod gateway;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use modelrun_db::postgres::testing::TempDatabase;
use modelrun_testkit::{AwsWorld, LambdaRuntime};
use serde_json::{Value, json};

use crate::support::{RUNNER_EMAIL, RUNNER_PASSWORD};
use deployment::{API, configuration, create_runner, start, store_secrets};
use events::{batch_event, header, http};

const BUDGET: Duration = Duration::from_secs(60);
const ADMIN_EMAIL: &str = "ops@example.com";
const ADMIN_PASSWORD: &str = "correct horse battery staple";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_goes_from_api_gateway_to_batch_and_back_on_lambda() {
    let world = AwsWorld::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let database = TempDatabase::create().await;
    let config = configuration(&world, &database, &data);

    // As deployed: the functions read the database credentials and the
    // first administrator's password from Secrets Manager.
    let (database_secret, admin_secret) = store_secrets(&world, &database, ADMIN_PASSWORD).await;
    let deployed: Vec<(String, String)> = config
        .iter()
        .filter(|(key, _)| key != "MODELRUN_DATABASE_URL")
        .cloned()
        .chain([("MODELRUN_DATABASE_SECRET_ARN".to_owned(), database_secret)])
        .collect();
    let web_runtime = std::sync::Arc::new(LambdaRuntime::start().await);
    let worker_runtime = LambdaRuntime::start().await;
    let mut web_env = deployed.clone();
    web_env.extend([
        ("MODELRUN_LAMBDA_FUNCTION".to_owned(), "web".to_owned()),
        (
            "MODELRUN_WORKER_FUNCTION".to_owned(),
            "modelrun-worker".to_owned(),
        ),
        ("MODELRUN_ADMIN_EMAIL".to_owned(), ADMIN_EMAIL.to_owned()),
        (
            "MODELRUN_ADMIN_PASSWORD_SECRET_ARN".to_owned(),
            admin_secret,
        ),
    ]);
    let mut worker_env = deployed;
    worker_env.push(("MODELRUN_LAMBDA_FUNCTION".to_owned(), "worker".to_owned()));
    let _web = start(&web_runtime, "modelrun-web", web_env);
    let _worker = start(&worker_runtime, "modelrun-worker", worker_env);
    // The web function created the administrator at init; then a runner.
    web_runtime.ready().await;
    create_runner(&config, RUNNER_EMAIL, RUNNER_PASSWORD);
    let web = |event: Value| async {
        web_runtime
            .invoke(event, BUDGET)
            .await
            .expect("the web function answered")
    };
    let worker = |event: Value| async {
        worker_runtime
            .invoke(event, BUDGET)
            .await
            .expect("the worker function answered")
    };

    // The image pipeline: the manifest, the image, the ECR push event.
    let manifest = include_str!("../../../../examples/models/forecast/modelrun.toml");
    let s3 = world.s3_client();
    s3.put_object()
        .bucket("modelrun-artifacts")
        .key("manifests/forecast/a1b2c3d/modelrun.toml")
        .body(manifest.as_bytes().to_vec().into())
        .send()
        .await
        .expect("manifest");
    let ecr = world.ecr_client();
    ecr.create_repository()
        .repository_name("modelrun/forecast")
        .send()
        .await
        .expect("repository");
    let image = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": format!("sha256:{}", "d".repeat(64))}, "layers": []});
    ecr.put_image()
        .repository_name("modelrun/forecast")
        .image_manifest(image.to_string())
        .image_tag("a1b2c3d")
        .send()
        .await
        .expect("push");
    let pushed = worker(json!({
        "version": "0", "id": "13cde686-328b-6117-af20-0e5566167482", "detail-type": "ECR Image Action", "source": "aws.ecr",
        "account": "123456789012", "time": "2026-11-22T15:00:00Z", "region": "eu-west-1", "resources": [],
        "detail": {"result": "SUCCESS", "repository-name": "modelrun/forecast", "image-digest": format!("sha256:{}", "d".repeat(64)),
                   "action-type": "PUSH", "image-tag": "a1b2c3d"}
    }))
    .await;
    assert_eq!(pushed["event"], "image_pushed");
    assert!(
        pushed["tasks"].as_u64().unwrap_or(0) >= 2,
        "the sync and the job definition ran: {pushed}"
    );

    // The administrator signs in with the password from Secrets Manager.
    let admin = web(http(
        "POST",
        "/login",
        &[("content-type", "application/x-www-form-urlencoded")],
        &[],
        Some(&format!(
            "email={ADMIN_EMAIL}&password={}&next=%2Fmodels",
            ADMIN_PASSWORD.replace(' ', "+")
        )),
    ))
    .await;
    assert_eq!(admin["statusCode"], 303, "{admin}");
    assert_eq!(header(&admin, "location"), "/models", "{admin}");

    // A page through API Gateway: sign in, then the form.
    let signed_in = web(http(
        "POST",
        "/login",
        &[("content-type", "application/x-www-form-urlencoded")],
        &[],
        Some(&format!(
            "email={RUNNER_EMAIL}&password={RUNNER_PASSWORD}&next=%2Fmodels%2Fforecast%2Fruns%2Fnew"
        )),
    ))
    .await;
    assert_eq!(signed_in["statusCode"], 303, "{signed_in}");
    let cookie = signed_in["cookies"][0]
        .as_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(
        cookie.starts_with("__Host-modelrun_session="),
        "HTTPS: the cookie has the __Host- prefix: {signed_in}"
    );
    let form = web(http(
        "GET",
        "/models/forecast/runs/new",
        &[],
        std::slice::from_ref(&cookie),
        None,
    ))
    .await;
    assert_eq!(form["statusCode"], 200);
    assert!(
        form["body"]
            .as_str()
            .unwrap_or_default()
            .contains("value=\"a1b2c3d\"")
    );

    // Submit: the web function commits the run and kicks the worker.
    world.moto.start_recording().await;
    let submitted = web(http(
        "POST",
        "/models/forecast/runs/new",
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            // A browser's form post names the page it comes from.
            ("origin", &format!("https://{API}")),
        ],
        std::slice::from_ref(&cookie),
        Some("version=a1b2c3d&start_month=2027-01&horizon_months=3&base_revenue=100000&growth_rate=0.07&seasonality=none&churn_rate=0"),
    ))
    .await;
    assert_eq!(submitted["statusCode"], 303, "{submitted}");
    let run_path = header(&submitted, "location");
    let run: i64 = run_path
        .trim_start_matches("/runs/")
        .parse()
        .expect("run id");
    let kicks: Vec<_> = world
        .moto
        .recorded_requests()
        .await
        .into_iter()
        .filter(|r| {
            r.url
                .ends_with("/2015-03-31/functions/modelrun-worker/invocations")
        })
        .collect();
    assert_eq!(kicks.len(), 1, "one kick");
    assert_eq!(kicks[0].headers["X-Amz-Invocation-Type"], "Event");
    let kick: Value = serde_json::from_slice(&kicks[0].body).expect("kick payload");
    let tasks = kick["kick"]["tasks"].as_array().expect("task ids");
    assert_eq!(tasks.len(), 1, "the run's dispatch task: {kick}");

    // Lambda delivers the kick: the worker submits the job to Batch.
    let kicked = worker(kick.clone()).await;
    assert_eq!(kicked["event"], "kick");
    assert_eq!(
        kicked["kicked"],
        json!([{"task": tasks[0], "state": "done"}]),
        "{kicked}"
    );
    let jobs = world
        .batch_client()
        .list_jobs()
        .job_queue("modelrun")
        .send()
        .await
        .expect("list");
    assert_eq!(jobs.job_summary_list().len(), 1);
    let job_id = jobs.job_summary_list()[0]
        .job_id()
        .unwrap_or_default()
        .to_owned();
    let described = world
        .batch_client()
        .describe_jobs()
        .jobs(&job_id)
        .send()
        .await
        .expect("describe");
    let job_name = described.jobs()[0]
        .job_name()
        .unwrap_or_default()
        .to_owned();
    assert!(
        job_name.starts_with(&format!("modelrun-run-{run}-")),
        "{job_name}"
    );
    let environment: Vec<(String, String)> = described.jobs()[0]
        .container()
        .map(|c| {
            c.environment()
                .iter()
                .map(|kv| {
                    (
                        kv.name().unwrap_or_default().to_owned(),
                        kv.value().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();

    // Batch starts the job.
    let running = worker(batch_event(
        &job_name,
        &job_id,
        "RUNNING",
        json!({"logStreamName": format!("modelrun/default/{job_id}")}),
    ))
    .await;
    assert_eq!(running["recorded"], true);

    // The container: `modelrun exec` runs the example model, reaching its
    // files through the job API of the web function, behind API Gateway.
    let gateway = gateway::start(web_runtime.clone()).await;
    let wrapper = tokio::process::Command::new(env!("CARGO_BIN_EXE_modelrun"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/forecast"))
        .env_remove("MODELRUN_DATA_DIR")
        .envs(
            environment
                .iter()
                .filter(|(k, _)| k.starts_with("MODELRUN_"))
                .cloned(),
        )
        // Where the job finds API Gateway: here, on this machine.
        .env("MODELRUN_API_URL", &gateway.url)
        .args(["exec", "--", "python3", "forecast.py"])
        .output()
        .await
        .expect("modelrun exec");
    let log = String::from_utf8_lossy(&wrapper.stdout);
    assert!(
        wrapper.status.success(),
        "{log}\n{}",
        String::from_utf8_lossy(&wrapper.stderr)
    );
    assert!(
        log.contains("Forecasting 3 months from 2027-01"),
        "the model's output passes through: {log}"
    );
    assert!(log.contains("[modelrun] stored 2 output files"), "{log}");

    // Batch reports the end: the outputs are indexed from S3.
    let ended = worker(batch_event(
        &job_name,
        &job_id,
        "SUCCEEDED",
        json!({"exitCode": 0}),
    ))
    .await;
    assert_eq!(ended["recorded"], true);
    let page = web(http(
        "GET",
        &run_path,
        &[],
        std::slice::from_ref(&cookie),
        None,
    ))
    .await;
    let body = page["body"].as_str().unwrap_or_default();
    assert!(
        body.contains("status-succeeded"),
        "the run page shows the end"
    );
    assert!(
        body.contains("forecast.csv</a>") && body.contains("metrics.json</a>"),
        "the outputs are listed"
    );

    // The download answers with a presigned S3 URL.
    let download = web(http(
        "GET",
        &format!("{run_path}/outputs/forecast.csv"),
        &[],
        std::slice::from_ref(&cookie),
        None,
    ))
    .await;
    assert_eq!(download["statusCode"], 303);
    let url = header(&download, "location");
    assert!(url.starts_with(&world.moto.url), "{url}");
    let csv = reqwest::get(&url)
        .await
        .expect("GET")
        .text()
        .await
        .expect("csv");
    assert!(
        csv.starts_with("month,revenue,low,high\n2027-01,107000.00,"),
        "{csv}"
    );

    // The schedule: the sweep runs, and finds nothing left to do.
    let swept = worker(json!({"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
        "source": "aws.events", "account": "123456789012", "time": "2026-11-22T15:01:00Z", "region": "eu-west-1",
        "resources": ["arn:aws:events:eu-west-1:123456789012:rule/modelrun-sweep"], "detail": {}})).await;
    assert_eq!(swept["event"], "scheduled");
    let email = world
        .moto
        .recorded_bodies()
        .await
        .into_iter()
        .find(|b| b.get("FromEmailAddress").is_some())
        .expect("SES");
    assert_eq!(
        email["Content"]["Simple"]["Subject"]["Data"],
        format!("Run #{run} of forecast succeeded")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_without_postgres_stops_at_init_naming_the_setting() {
    let world = AwsWorld::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let database = TempDatabase::create().await;
    let runtime = LambdaRuntime::start().await;
    let config: Vec<_> = configuration(&world, &database, &dir.path().join("data"))
        .into_iter()
        .filter(|(key, _)| key != "MODELRUN_DATABASE_URL")
        .chain([("MODELRUN_LAMBDA_FUNCTION".to_owned(), "worker".to_owned())])
        .collect();
    let output = Command::new(deployment::function_binary())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(runtime.environment("modelrun-worker"))
        .envs(config)
        .output()
        .expect("run");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("on Lambda, the database must be Postgres: set MODELRUN_DATABASE_URL"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("data").exists(),
        "nothing was created on the instance's disk"
    );
}
