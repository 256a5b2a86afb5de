//! How the tests deploy the binary: the environment a deployment gives the
//! functions, the secrets they read, and the processes under a Lambda
//! Runtime API on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

use modelrun_db::postgres::testing::TempDatabase;
use modelrun_testkit::{AwsWorld, LambdaRuntime};
use serde_json::json;

pub const API: &str = "abcd1234.execute-api.eu-west-1.amazonaws.com";

pub struct Function(Child);

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The environment both functions get from their deployment.
pub fn configuration(
    world: &AwsWorld,
    database: &TempDatabase,
    data: &Path,
) -> Vec<(String, String)> {
    let batch = &world.batch;
    [
        ("MODELRUN_DATA_DIR", data.to_string_lossy().into_owned()),
        (
            "MODELRUN_DATABASE_URL",
            database.config.url.expose().to_owned(),
        ),
        ("MODELRUN_PUBLIC_URL", format!("https://{API}")),
        ("MODELRUN_EXECUTOR", "batch".to_owned()),
        ("MODELRUN_BATCH_JOB_QUEUE", batch.job_queue.clone()),
        (
            "MODELRUN_BATCH_EXECUTION_ROLE_ARN",
            batch.execution_role_arn.clone(),
        ),
        ("MODELRUN_BATCH_JOB_ROLE_ARN", batch.job_role_arn.clone()),
        ("MODELRUN_BATCH_LOG_GROUP", batch.log_group.clone()),
        ("MODELRUN_BLOB_STORE", "s3".to_owned()),
        ("MODELRUN_S3_BUCKET", world.s3.bucket.clone()),
        ("MODELRUN_S3_FORCE_PATH_STYLE", "true".to_owned()),
        ("MODELRUN_MAILER", "ses".to_owned()),
        ("MODELRUN_SES_FROM", world.ses.from.clone()),
        (
            "MODELRUN_ECR_REPOSITORY_PREFIX",
            world.ecr.repository_prefix.clone(),
        ),
        ("MODELRUN_AWS_ENDPOINT_URL", world.moto.url.clone()),
        ("AWS_REGION", "eu-west-1".to_owned()),
        ("AWS_ACCESS_KEY_ID", "emulator".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "emulator".to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// The binary the functions run: the `bootstrap` of the Lambda package
/// that `MODELRUN_LAMBDA_PACKAGE` names (the test command packages this
/// build's binary first, with `scripts/build-lambda --check`, so that the
/// real package is what starts under the Runtime API here), else the binary
/// of this test build.
pub fn function_binary() -> PathBuf {
    static BOOTSTRAP: OnceLock<PathBuf> = OnceLock::new();
    BOOTSTRAP
        .get_or_init(|| match std::env::var_os("MODELRUN_LAMBDA_PACKAGE") {
            Some(zip) => unpack(Path::new(&zip)),
            None => PathBuf::from(env!("CARGO_BIN_EXE_modelrun")),
        })
        .clone()
}

/// Unpacks the package's `bootstrap` into a directory of its own, as Lambda does.
fn unpack(zip: &Path) -> PathBuf {
    assert!(
        zip.is_file(),
        "MODELRUN_LAMBDA_PACKAGE names {}, which is not there",
        zip.display()
    );
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lambda-package");
    std::fs::create_dir_all(&dir).expect("a directory for the package");
    // Lambda keeps the file modes the zip records; Python's zipfile does
    // not, so they are applied by hand, and the package must record them.
    let script = "import os, sys, zipfile\n\
                  archive = zipfile.ZipFile(sys.argv[1])\n\
                  for info in archive.infolist():\n\
                  \x20   path = archive.extract(info, sys.argv[2])\n\
                  \x20   os.chmod(path, (info.external_attr >> 16) & 0o7777)\n";
    let status = Command::new("python3")
        .args(["-c", script])
        .arg(zip)
        .arg(&dir)
        .status()
        .expect("python3");
    assert!(status.success(), "the package could not be unpacked");
    let bootstrap = dir.join("bootstrap");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&bootstrap)
        .expect("bootstrap in the package")
        .permissions()
        .mode();
    assert!(
        mode & 0o111 != 0,
        "the package's bootstrap is executable ({mode:o})"
    );
    bootstrap
}

pub fn start(runtime: &LambdaRuntime, name: &str, env: Vec<(String, String)>) -> Function {
    let child = Command::new(function_binary())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(runtime.environment(name))
        .envs(env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the function");
    Function(child)
}

/// Stores the database credentials as RDS writes them, and an
/// administrator's password, in Secrets Manager; returns their ARNs.
pub async fn store_secrets(
    world: &AwsWorld,
    database: &TempDatabase,
    admin_password: &str,
) -> (String, String) {
    let url = reqwest::Url::parse(database.config.url.expose()).expect("database URL");
    let credentials = json!({
        "username": url.username(),
        "password": url.password().unwrap_or_default(),
        "engine": "postgres",
        "host": url.host_str().unwrap_or("127.0.0.1"),
        "port": url.port().unwrap_or(5432),
        "dbname": url.path().trim_start_matches('/'),
        // RDS requires TLS; the machine's server may not offer it.
        "sslmode": "prefer",
    });
    let client = aws_sdk_secretsmanager::Client::new(&world.sdk);
    let mut arns = Vec::new();
    for (name, value) in [
        ("modelrun/database", credentials.to_string()),
        ("modelrun/admin-password", admin_password.to_owned()),
    ] {
        let created = client
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("create secret");
        arns.push(created.arn().unwrap_or_default().to_owned());
    }
    (arns[0].clone(), arns[1].clone())
}

/// The runner account, made with the command line against the same store.
pub fn create_runner(config: &[(String, String)], email: &str, password: &str) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_modelrun"))
        .envs(config.iter().cloned())
        .args(["users", "create", "--email", email, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("users create");
    std::io::Write::write_all(
        &mut child.stdin.take().expect("stdin"),
        format!("{password}\n").as_bytes(),
    )
    .expect("write");
    assert!(child.wait().expect("wait").success());
}
