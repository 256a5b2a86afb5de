//! `modelrun exec` as a model image runs it on AWS Batch: the model's
//! secrets arrive in its environment (the job definition's `secrets`), and
//! the wrapper masks their values in what reaches CloudWatch Logs, and
//! neither their names nor the job token reach the model. A link the model
//! leaves is skipped with a line in the log.

use tokio::process::Command;

use modelrun_testkit::AwsWorld;

use crate::aws::forecast_image;
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
