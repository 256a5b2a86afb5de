//! `modelrun exec` as a model image runs it on AWS Batch: the model's
//! secrets arrive in its environment (the job definition's `secrets`), and
//! the wrapper masks their values in what reaches CloudWatch Logs, and
//! neither their names nor the job token reach the model. A link the model
//! leaves is skipped with a line in the log. The model's input files reach
//! it through the job API, each input's value the path of its copy.

use bytes::Bytes;
use modelrun_core::blob::BlobKey;
use modelrun_core::ids::RunId;
use modelrun_core::manifest::Resources;
use modelrun_core::model::{ModelMeta, ModelVersion, NewVersion, Runtime};
use modelrun_core::run::NewRun;
use modelrun_core::schema::{FileRef, InputSchema, UploadId, Uploads};
use modelrun_testkit::AwsWorld;
use serde_json::json;
use tokio::process::Command;

use crate::aws::{forecast_image, job_environment};
use crate::job_api::dispatched;
use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrapper_masks_the_models_secrets_in_its_log() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    forecast_image(&app).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let (_, environment) = dispatched(&app, &api).await;
    let wrapper = Command::new(env!("CARGO_BIN_EXE_modelrun"))
        .env_remove("MODELRUN_DATA_DIR")
        .envs(environment)
        .envs([
            ("MODELRUN_SECRET_NAMES", "FX_API_KEY,WAREHOUSE_URL"),
            ("FX_API_KEY", "fx-live-0123456789"),
            ("WAREHOUSE_URL", "postgres://u:Pw-Not-For-Logs@db/x"),
        ])
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            "echo key=$FX_API_KEY; echo url=$WAREHOUSE_URL >&2; \
             test -z \"$MODELRUN_SECRET_NAMES$MODELRUN_JOB_TOKEN\" && echo names-hidden; \
             ln -s /etc/hostname \"$MODELRUN_OUTPUT_DIR/stolen\"; \
             echo fine > \"$MODELRUN_OUTPUT_DIR/fine.txt\"",
        ])
        .output()
        .await
        .expect("modelrun exec");
    let stdout = String::from_utf8_lossy(&wrapper.stdout);
    let stderr = String::from_utf8_lossy(&wrapper.stderr);
    assert!(wrapper.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("key=[secret FX_API_KEY]"), "{stdout}");
    assert!(
        stdout.contains("url=[secret WAREHOUSE_URL]"),
        "stderr joins the log: {stdout}"
    );
    assert!(stdout.contains("names-hidden"), "{stdout}");
    assert!(
        stdout.contains("[modelrun] skipped output \"stolen\": it is a symbolic link")
            && stdout.contains("[modelrun] stored 1 output files"),
        "a link is never an output, on AWS as on one machine: {stdout}"
    );
    for shown in [&stdout, &stderr] {
        assert!(
            !shown.contains("fx-live") && !shown.contains("Pw-Not-For-Logs"),
            "{shown}"
        );
    }
}

/// Writes the file that `overrides` names back in capitals, with the
/// inputs it was given.
const SHOUT: &str = r#"path=$(sed -E 's/.*"overrides":"([^"]*)".*/\1/' "$MODELRUN_INPUTS")
tr a-z A-Z < "$path" > "$MODELRUN_OUTPUT_DIR/shouted.csv" || exit 3
cp "$MODELRUN_INPUTS" "$MODELRUN_OUTPUT_DIR/inputs.json""#;

/// An image version of `shout`, whose input `overrides` is a CSV file.
async fn file_version(app: &TestApp) -> ModelVersion {
    let digest = format!("sha256:{}", "ab".repeat(32));
    let schema = json!({"type": "object", "required": ["overrides"], "properties": {
        "overrides": {"type": "string", "format": "file", "contentMediaType": "text/csv"},
        "n": {"type": "integer", "default": 1}}});
    let version = NewVersion {
        model: ModelMeta {
            name: "shout".to_owned(),
            title: "Shout".to_owned(),
            description: String::new(),
            owner: String::new(),
        },
        label: "a1b2c3d".to_owned(),
        digest: digest.clone(),
        runtime: Runtime::Image {
            uri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelrun/shout:a1b2c3d".to_owned(),
            digest: Some(digest),
        },
        inputs: InputSchema::parse(&schema, "inputs").expect("schema"),
        resources: Resources::default(),
        max_resources: Resources::default(),
        source_commit: None,
        registered_via: "ecr".to_owned(),
        environment: None,
        prepare_environment: false,
        secrets: Vec::new(),
        network: true,
        outputs: Default::default(),
    };
    let registered = app.store.register_version(version, Vec::new()).await;
    registered.expect("register").version().clone()
}

/// A run of `version` whose `overrides` is an upload of `content` (stored
/// in S3 unless `stored` is false), dispatched to Batch: its id and the
/// environment of its job.
async fn dispatched_with_file(
    app: &TestApp,
    version: &ModelVersion,
    content: &'static [u8],
    stored: bool,
) -> (RunId, Vec<(String, String)>) {
    let file = FileRef {
        upload: UploadId::generate(),
        name: "overrides.csv".to_owned(),
        bytes: content.len() as u64,
        media_type: "text/csv".to_owned(),
    };
    if stored {
        let key = BlobKey::input_file(&file).expect("key");
        let blob = &app.components.blob;
        blob.put(&key, Bytes::from_static(content), "text/csv")
            .await
            .expect("upload");
    }
    let submitted = json!({"overrides": file.upload.to_string()});
    let uploads = Uploads::from([(file.upload.clone(), file)]);
    let inputs = version
        .inputs
        .validate_with(submitted.as_object().expect("object"), &uploads)
        .expect("valid");
    let runner = app.store.credentials(RUNNER_EMAIL).await.expect("query");
    let run = app
        .store
        .create_run(NewRun {
            version_id: version.id,
            submitted_by: runner.expect("the runner").user.id,
            inputs,
            resources: version.resources,
            submit_key: None,
            rerun_of: None,
            production_only: false,
        })
        .await
        .expect("run")
        .item;
    app.components.worker.run_due().await.expect("dispatch");
    let run = app.store.run(run.id).await.expect("query").expect("run");
    let world = app.world.as_ref().expect("world");
    let job = run.job_id.expect("dispatched to Batch");
    (run.id, job_environment(world, &job).await)
}

async fn exec(environment: Vec<(String, String)>, script: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_modelrun"))
        .env_remove("MODELRUN_DATA_DIR")
        .envs(environment)
        .args(["exec", "--", "sh", "-c", script])
        .output()
        .await
        .expect("modelrun exec")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrapper_gives_the_model_its_input_files_through_the_job_api() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    let version = file_version(&app).await;
    let (run, environment) =
        dispatched_with_file(&app, &version, b"region,growth\nnorth,0.05\n", true).await;

    let token = environment
        .iter()
        .find(|(name, _)| name == "MODELRUN_JOB_TOKEN")
        .map(|(_, token)| token.clone())
        .expect("a job token");
    let not_a_file = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/jobs/{run}/files/n")))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(not_a_file.status(), reqwest::StatusCode::NOT_FOUND);
    let body: serde_json::Value = not_a_file.json().await.expect("json");
    assert_eq!(
        body["error"]["message"],
        format!("run {run} has no file input named \"n\"")
    );

    let wrapper = exec(environment, SHOUT).await;
    let stdout = String::from_utf8_lossy(&wrapper.stdout);
    let stderr = String::from_utf8_lossy(&wrapper.stderr);
    assert!(wrapper.status.success(), "{stdout}\n{stderr}");
    let blob = &app.components.blob;
    let output = |name: &str| {
        let key = BlobKey::run_output(run, name).expect("key");
        async move {
            let bytes = blob.read_all(&key, 1 << 20).await;
            String::from_utf8(bytes.expect("stored")).expect("text")
        }
    };
    assert_eq!(output("shouted.csv").await, "REGION,GROWTH\nNORTH,0.05\n");
    let given: serde_json::Value =
        serde_json::from_str(&output("inputs.json").await).expect("json");
    let path = given["overrides"].as_str().expect("a path");
    assert!(
        path.starts_with('/') && path.ends_with("/files/overrides/overrides.csv"),
        "{given}"
    );
    assert_eq!(given["n"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_input_file_fails_the_wrapper_naming_it() {
    let app = TestApp::spawn_on_aws(AwsWorld::create().await).await;
    let version = file_version(&app).await;
    let (_, environment) = dispatched_with_file(&app, &version, b"north\n", false).await;
    let wrapper = exec(environment, "echo the model ran").await;
    let stdout = String::from_utf8_lossy(&wrapper.stdout);
    let stderr = String::from_utf8_lossy(&wrapper.stderr);
    assert_eq!(wrapper.status.code(), Some(125), "{stdout}\n{stderr}");
    // S3 answers 404 for a missing key, or 403 to whom may not list the
    // bucket (moto answers 403): either is a refusal, not retried.
    assert!(
        stderr.contains(
            "[modelrun] the input file overrides.csv of input overrides could not be read: \
             downloading it: 40"
        ),
        "{stderr}"
    );
    assert!(!stdout.contains("the model ran"), "{stdout}");
}
