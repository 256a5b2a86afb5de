//! `modelrun exec` as a model image runs it on AWS Batch: the model's
//! secrets arrive in its environment (the job definition's `secrets`), and
//! the wrapper masks their values in what reaches CloudWatch Logs.

use std::process::Command;

use modelrun_testkit::AwsWorld;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wrapper_masks_the_models_secrets_in_its_log() {
    let world = AwsWorld::create().await;
    let s3 = world.s3_client();
    s3.put_object()
        .bucket(&world.s3.bucket)
        .key("runs/7/inputs.json")
        .body(b"{}".to_vec().into())
        .send()
        .await
        .expect("inputs");
    let bucket = &world.s3.bucket;
    let wrapper = Command::new(env!("CARGO_BIN_EXE_modelrun"))
        .env_remove("MODELRUN_DATA_DIR")
        .envs([
            (
                "MODELRUN_INPUTS",
                format!("s3://{bucket}/runs/7/inputs.json"),
            ),
            (
                "MODELRUN_OUTPUT_DIR",
                format!("s3://{bucket}/runs/7/outputs/"),
            ),
            ("MODELRUN_AWS_ENDPOINT_URL", world.moto.url.clone()),
            ("MODELRUN_S3_FORCE_PATH_STYLE", "true".to_owned()),
            (
                "MODELRUN_SECRET_NAMES",
                "FX_API_KEY,WAREHOUSE_URL".to_owned(),
            ),
            ("FX_API_KEY", "fx-live-0123456789".to_owned()),
            (
                "WAREHOUSE_URL",
                "postgres://u:Pw-Not-For-Logs@db/x".to_owned(),
            ),
            ("AWS_REGION", "eu-west-1".to_owned()),
            ("AWS_ACCESS_KEY_ID", "emulator".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "emulator".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ])
        .args([
            "exec",
            "--",
            "sh",
            "-c",
            "echo key=$FX_API_KEY; echo url=$WAREHOUSE_URL >&2; \
             test -z \"$MODELRUN_SECRET_NAMES\" && echo names-hidden",
        ])
        .output()
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
    for shown in [&stdout, &stderr] {
        assert!(
            !shown.contains("fx-live") && !shown.contains("Pw-Not-For-Logs"),
            "{shown}"
        );
    }
}
