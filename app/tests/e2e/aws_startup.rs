//! `modelrun up --executor batch` as a person starts it: without AWS
//! credentials, or with names that do not exist, it stops at once naming
//! what is missing; with a working AWS (moto) it starts, and does not
//! register the example model, which runs only on one machine.

use std::process::Command;
use std::time::{Duration, Instant};

use modelrun_testkit::AwsWorld;

use crate::cli::{bare_modelrun, output};
use crate::quick_start::Server;

const JOB_ROLE: &str = "arn:aws:iam::123456789012:role/modelrun-job";

/// `up` on AWS backends with these names, with the person's
/// own AWS settings removed and no metadata service to ask.
fn up_on_aws(
    data: &std::path::Path,
    endpoint: &str,
    bucket: &str,
    queue: &str,
    job_role: &str,
) -> Command {
    let mut command = bare_modelrun();
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ] {
        command.env_remove(name);
    }
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", data.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            data.join("no-aws-credentials"),
        )
        .env("HOME", data)
        .arg("--data-dir")
        .arg(data)
        // The settings as variables: `up` and the server harness put the
        // subcommand after what is given here.
        .env("MODELRUN_EXECUTOR", "batch")
        .env("MODELRUN_BLOB_STORE", "s3")
        .env("MODELRUN_S3_FORCE_PATH_STYLE", "true")
        .env("MODELRUN_S3_BUCKET", bucket)
        .env("MODELRUN_BATCH_JOB_QUEUE", queue)
        .env(
            "MODELRUN_BATCH_EXECUTION_ROLE_ARN",
            "arn:aws:iam::123456789012:role/modelrun-job-execution",
        )
        .env("MODELRUN_BATCH_JOB_ROLE_ARN", job_role)
        .env("MODELRUN_AWS_ENDPOINT_URL", endpoint)
        .env("MODELRUN_AWS_REGION", "eu-west-1");
    command
}

#[test]
fn without_credentials_up_stops_at_once_saying_so() {
    let dir = tempfile::tempdir().expect("dir");
    let started = Instant::now();
    let (ok, _, err) = output(
        up_on_aws(
            dir.path(),
            "http://127.0.0.1:9",
            "modelrun-artifacts",
            "modelrun",
            JOB_ROLE,
        )
        .arg("up")
        .env("MODELRUN_BIND", "127.0.0.1:0"),
    );
    assert!(!ok, "refused");
    assert!(err.contains("no AWS credentials"), "{err}");
    assert!(err.contains("AWS_ACCESS_KEY_ID"), "says how: {err}");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "at once, not after the tasks fail: {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_and_queue_are_named_at_start() {
    let world = AwsWorld::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut command = up_on_aws(
        dir.path(),
        &world.moto.url,
        "no-such-bucket",
        "no-such-queue",
        "modelrun-job",
    );
    let (ok, _, err) = output(
        command
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .arg("up")
            .env("MODELRUN_BIND", "127.0.0.1:0"),
    );
    assert!(!ok, "refused");
    assert!(
        err.contains("the S3 bucket \"no-such-bucket\" (--s3-bucket) does not exist"),
        "{err}"
    );
    assert!(
        err.contains(
            "the AWS Batch job queue \"no-such-queue\" (--batch-job-queue) does not exist"
        ),
        "{err}"
    );
    assert!(
        err.contains("--batch-job-role-arn \"modelrun-job\" is not an IAM role ARN"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_aws_ready_up_starts_without_the_local_example() {
    let world = AwsWorld::create().await;
    let dir = tempfile::tempdir().expect("dir");
    let mut command = up_on_aws(
        dir.path(),
        &world.moto.url,
        &world.s3.bucket,
        &world.batch.job_queue,
        &world.batch.job_role_arn,
    );
    command
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing");
    let server = Server::start(command);
    assert!(
        server
            .printed()
            .iter()
            .any(|line| line.contains("not registered with --executor batch")),
        "{:?}",
        server.printed()
    );
    drop(server);
    let store = modelrun_db::open(
        &modelrun_core::config::DatabaseConfig::Sqlite {
            path: dir.path().join("modelrun.db"),
        },
        false,
    )
    .await
    .expect("the database");
    assert!(
        store.models().await.expect("models").is_empty(),
        "no model that cannot run here"
    );
}
