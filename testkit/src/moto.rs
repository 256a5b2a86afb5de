//! moto server, one per test.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use modelrun_core::config::AwsSettings;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::ports::{free_port, listens_on};

/// The region every test uses.
pub const REGION: &str = "eu-west-1";

/// A moto server of this test's own.
#[derive(Debug)]
pub struct Moto {
    pub url: String,
    pub port: u16,
    _server: Child,
    /// The server's working directory: its request recording lands here.
    _dir: tempfile::TempDir,
}

fn moto_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("MODELRUN_MOTO_SERVER") {
        // The server runs in a directory of its own: a relative path would break.
        let path = PathBuf::from(path);
        return std::path::absolute(&path).unwrap_or(path);
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/moto_server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("moto_server")
    }
}

impl Moto {
    /// Starts moto with Batch and Lambda running nothing in Docker.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts moto with extra environment (such as
    /// `MOTO_SIMPLE_BATCH_FAIL_AFTER=0`, which makes every job fail), on a
    /// port of its own: when another process took the port first, on the
    /// next of up to 5 ports.
    pub async fn start_with(env: &[(&str, &str)]) -> Self {
        for _ in 0..5 {
            if let Some(moto) = Self::try_start(free_port(), env).await {
                return moto;
            }
        }
        panic!("moto server could not listen on any of 5 free ports of 127.0.0.1")
    }

    /// moto on `port`, once it answers from a socket of its own process;
    /// `None` when it exits first or another server answers on the port.
    async fn try_start(port: u16, env: &[(&str, &str)]) -> Option<Self> {
        let binary = moto_binary();
        // testkit/moto/sitecustomize.py corrects where moto's answers differ from AWS's.
        let corrections = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("moto");
        let dir = tempfile::tempdir().expect("a directory for moto");
        let server = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .current_dir(dir.path())
            .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording.jsonl"))
            .env("PYTHONPATH", corrections)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {} ({error}): run ./scripts/test, which creates .venv with moto, \
                     or set MODELRUN_MOTO_SERVER",
                    binary.display()
                )
            });
        let pid = server.id().expect("moto server's pid");
        let mut moto = Moto {
            url: format!("http://127.0.0.1:{port}"),
            port,
            _server: server,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if moto._server.try_wait().ok().flatten().is_some() {
                return None;
            }
            let answered = moto
                .post(
                    "/moto-api/config",
                    json!({"batch": {"use_docker": false}, "lambda": {"use_docker": false}}),
                )
                .await
                .is_ok();
            if answered {
                // Dropping a foreign answer's moto kills this test's own.
                return listens_on(pid, port).then_some(moto);
            }
            assert!(
                Instant::now() < deadline,
                "moto server did not start on port {port} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// AWS settings that point every client at this server.
    pub fn aws_settings(&self) -> AwsSettings {
        AwsSettings {
            endpoint_url: Some(self.url.clone()),
            region: Some(REGION.to_owned()),
            max_attempts: 1,
            connect_timeout: Duration::from_secs(2),
            operation_timeout: Duration::from_secs(20),
            emulator_credentials: true,
        }
    }

    /// An AWS SDK configuration for this server: its endpoint and region,
    /// fixed fake credentials, one attempt per call. Built here rather
    /// than with modelrun's own loader, so that the harness depends on no
    /// crate it tests.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        let settings = self.aws_settings();
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(aws_config::Region::new(REGION))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "emulator", "emulator", None, None, "emulator",
            ))
            .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .connect_timeout(settings.connect_timeout)
                    .operation_timeout(settings.operation_timeout)
                    .build(),
            )
            .load()
            .await
    }

    async fn post(&self, path: &str, body: Value) -> Result<String, reqwest::Error> {
        reqwest::Client::new()
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await
    }

    /// Starts recording every request the server receives.
    pub async fn start_recording(&self) {
        for path in [
            "/moto-api/recorder/reset-recording",
            "/moto-api/recorder/start-recording",
        ] {
            self.post(path, json!({})).await.expect("moto recorder");
        }
    }

    /// Every request recorded since [`Moto::start_recording`].
    pub async fn recorded_requests(&self) -> Vec<Recorded> {
        use base64::Engine;
        let text = reqwest::get(format!("{}/moto-api/recorder/download-recording", self.url))
            .await
            .and_then(|r| r.error_for_status())
            .expect("moto recording")
            .text()
            .await
            .expect("recording text");
        text.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .map(|request| {
                let body = request["body"].as_str().unwrap_or_default();
                Recorded {
                    method: request["method"].as_str().unwrap_or_default().to_owned(),
                    url: request["url"].as_str().unwrap_or_default().to_owned(),
                    headers: request["headers"].clone(),
                    body: base64::prelude::BASE64_STANDARD
                        .decode(body)
                        .unwrap_or_else(|_| body.as_bytes().to_vec()),
                }
            })
            .collect()
    }

    /// The bodies of the recorded requests that are JSON.
    pub async fn recorded_bodies(&self) -> Vec<Value> {
        self.recorded_requests()
            .await
            .iter()
            .filter_map(|r| serde_json::from_slice(&r.body).ok())
            .collect()
    }

    /// A query-protocol call (IAM, EC2), which moto routes by the service
    /// named in the Authorization header and does not check.
    pub async fn query(&self, service: &str, params: &[(&str, &str)]) -> String {
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=emulator/20260101/{REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0"
        );
        reqwest::Client::new()
            .post(&self.url)
            .header("Authorization", authorization)
            .form(params)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .unwrap_or_else(|error| panic!("moto {service} {params:?}: {error}"))
            .text()
            .await
            .expect("moto answer")
    }
}

/// A request moto received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub url: String,
    pub headers: Value,
    pub body: Vec<u8>,
}

/// The text of the first `<tag>` in an XML answer.
pub(crate) fn xml_value(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    xml.split_once(&open)
        .and_then(|(_, rest)| rest.split_once(&format!("</{tag}>")))
        .map(|(value, _)| value.to_owned())
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
}
