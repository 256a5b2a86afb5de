//! A worker over the AWS backends, on a moto server of its own.

use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use modelrun_core::blob::BlobStore;
use modelrun_core::config::WorkerConfig;
use modelrun_core::manifest::Resources;
use modelrun_core::model::{ModelMeta, ModelVersion, NewVersion, Runtime};
use modelrun_core::run::Run;
use modelrun_core::schema::InputSchema;
use modelrun_testkit::AwsWorld;
use modelrun_worker::Worker;
use modelrun_worker::blob::S3BlobStore;
use modelrun_worker::ecr::EcrRegistry;
use modelrun_worker::executor::BatchExecutor;
use modelrun_worker::mail::SesMailer;
use serde_json::json;

pub use crate::common::{Base, Parts};

pub struct Harness {
    base: Base,
    /// Shared by [`Harness::another_installation`].
    pub world: Arc<AwsWorld>,
    pub blob: Arc<S3BlobStore>,
    pub executor: Arc<BatchExecutor>,
    pub worker: Worker,
}

impl Deref for Harness {
    type Target = Base;

    fn deref(&self) -> &Base {
        &self.base
    }
}

impl Harness {
    /// The name modelrun gives a version's job definition:
    /// `modelrun-version-<installation>-<id>-<label>`.
    pub async fn definition_name(&self, version: &ModelVersion) -> String {
        let installation = self.store.installation().await.expect("installation");
        format!(
            "modelrun-version-{}-{}-{}",
            installation.id, version.id, version.label
        )
    }

    pub async fn new() -> Self {
        Self::in_world(AwsWorld::create().await, WorkerConfig::default()).await
    }

    pub async fn in_world(world: AwsWorld, config: WorkerConfig) -> Self {
        let sdk = world.sdk.clone();
        Self::through(world, sdk, config).await
    }

    /// A second installation (a database of its own) on the same job
    /// queue and bucket: a database restored or reset, staging beside
    /// production.
    pub async fn another_installation(&self) -> Self {
        let sdk = self.world.sdk.clone();
        Self::sharing(self.world.clone(), sdk, WorkerConfig::default()).await
    }

    /// modelrun's clients use `sdk` (a proxy, say); the test's own use the world's.
    pub async fn through(
        world: AwsWorld,
        sdk: aws_config::SdkConfig,
        config: WorkerConfig,
    ) -> Self {
        Self::sharing(Arc::new(world), sdk, config).await
    }

    async fn sharing(
        world: Arc<AwsWorld>,
        sdk: aws_config::SdkConfig,
        config: WorkerConfig,
    ) -> Self {
        let base = Base::new().await;
        // As `modelrun` itself does: the installation's objects under its id.
        let installation = base.store.installation().await.expect("installation");
        let blob = Arc::new(
            S3BlobStore::new(&sdk, world.s3.clone())
                .scoped(modelrun_core::installation::StorageScope::of(&installation)),
        );
        let batch = modelrun_core::config::BatchConfig {
            api_url: API_URL.to_owned(),
            ..world.batch.clone()
        };
        let executor = Arc::new(BatchExecutor::new(&sdk, batch, &installation));
        let recorder = base.recorder(blob.clone(), "https://models.example.com");
        let parts = Parts {
            blob: blob.clone(),
            executor: executor.clone(),
            mailer: Arc::new(SesMailer::new(&sdk, world.ses.clone())),
            registry: Some(Arc::new(
                EcrRegistry::new(&sdk, world.ecr.clone()).expect("registry"),
            )),
        };
        let worker = base.worker(parts, recorder, config);
        Harness {
            base,
            world,
            blob,
            executor,
            worker,
        }
    }

    /// An image version of model `name`, as the image sync would register it.
    pub async fn image_version(&self, name: &str, tag: &str) -> ModelVersion {
        self.image_version_with_secrets(name, tag, &[]).await
    }

    /// An image version whose manifest declares `secrets`.
    pub async fn image_version_with_secrets(
        &self,
        name: &str,
        tag: &str,
        secrets: &[&str],
    ) -> ModelVersion {
        let digest = format!("sha256:{}", "ab".repeat(32));
        let resources = Resources {
            vcpu: 0.5,
            memory_mib: 1024,
            timeout_seconds: 600,
        };
        self.register_image(name, tag, Some(digest), resources, secrets)
            .await
    }

    /// An image version whose image is pinned to `digest` (`None`: by its
    /// tag only) and whose runs ask for `resources`.
    pub async fn image_version_pinned(
        &self,
        name: &str,
        tag: &str,
        digest: Option<String>,
        resources: Resources,
    ) -> ModelVersion {
        self.register_image(name, tag, digest, resources, &[]).await
    }

    async fn register_image(
        &self,
        name: &str,
        tag: &str,
        digest: Option<String>,
        resources: Resources,
        secrets: &[&str],
    ) -> ModelVersion {
        let version = NewVersion {
            model: ModelMeta { name: name.to_owned(), title: name.to_owned(), description: String::new(), owner: String::new() },
            label: tag.to_owned(),
            digest: format!("sha256:{}", "ab".repeat(32)),
            runtime: Runtime::Image {
                uri: format!("123456789012.dkr.ecr.eu-west-1.amazonaws.com/modelrun/{name}:{tag}"),
                digest,
            },
            inputs: InputSchema::parse(&json!({"type": "object", "properties": {"growth": {"type": "number", "default": 0.02}}}), "inputs")
                .expect("schema"),
            resources,
            max_resources: resources,
            source_commit: Some(tag.to_owned()),
            registered_via: "ecr".to_owned(),
            environment: None,
            prepare_environment: false,
            secrets: secrets.iter().map(|name| (*name).to_owned()).collect(),
            network: true,
            outputs: Default::default(),
        };
        self.store
            .register_version(version, Vec::new())
            .await
            .expect("register")
            .version()
            .clone()
    }

    /// A run of `version` with its default inputs.
    pub async fn submit(&self, version: &ModelVersion) -> Run {
        self.base.submit(version, json!({})).await
    }

    /// The job's CloudWatch stream in the runs' log group, holding `lines`
    /// (one event each, in order); returns the stream's name.
    pub async fn job_log(&self, job_id: &str, lines: impl IntoIterator<Item = String>) -> String {
        let stream = format!("modelrun/default/{job_id}");
        let logs = self.world.logs_client();
        logs.create_log_stream()
            .log_group_name("/modelrun/runs")
            .log_stream_name(&stream)
            .send()
            .await
            .expect("stream");
        let now = chrono::Utc::now().timestamp_millis();
        let events: Vec<_> = lines
            .into_iter()
            .zip(0..)
            .map(|(line, i)| {
                aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                    .timestamp(now + i)
                    .message(line)
                    .build()
                    .expect("event")
            })
            .collect();
        logs.put_log_events()
            .log_group_name("/modelrun/runs")
            .log_stream_name(&stream)
            .set_log_events(Some(events))
            .send()
            .await
            .expect("put");
        stream
    }

    /// The run's job started, its log holding `lines`: as the "RUNNING"
    /// event names the stream. Returns the run as it is then.
    pub async fn running_with_log(
        &self,
        run: &Run,
        job_id: &str,
        lines: impl IntoIterator<Item = String>,
    ) -> Run {
        let stream = self.job_log(job_id, lines).await;
        self.worker
            .handle_batch_event(&state_change(
                run,
                job_id,
                "RUNNING",
                json!({"container": {"logStreamName": stream}}),
            ))
            .await
            .expect("running");
        self.run(run.id).await
    }

    pub async fn put_output(&self, run: &Run, name: &str, body: &'static [u8]) {
        let key = modelrun_core::blob::BlobKey::run_output(run.id, name).expect("key");
        self.blob
            .put(&key, bytes::Bytes::from_static(body), "text/csv")
            .await
            .expect("put output");
    }
}

/// Where the jobs of these tests would reach the job API.
pub const API_URL: &str = "https://models.example.com";

/// A "Batch Job State Change" event as EventBridge delivers it.
pub fn state_change(
    run: &Run,
    job_id: &str,
    status: &str,
    extra: serde_json::Value,
) -> serde_json::Value {
    let mut detail = json!({
        "jobArn": format!("arn:aws:batch:eu-west-1:123456789012:job/{job_id}"),
        "jobName": modelrun_core::executor::JobRequest::job_name(run),
        "jobId": job_id,
        "jobQueue": "arn:aws:batch:eu-west-1:123456789012:job-queue/modelrun",
        "status": status,
        "attempts": [],
        "createdAt": 1_795_355_834_262_i64,
        "retryStrategy": {"attempts": 3},
        "dependsOn": [],
        "jobDefinition": "arn:aws:batch:eu-west-1:123456789012:job-definition/modelrun-version-1:1",
        "parameters": {},
        "container": {"image": "modelrun/forecast:a1b2c3d", "vcpus": 0, "memory": 1024, "command": []},
        "tags": {"modelrun:run": run.id.to_string()},
    });
    if let (Some(detail), Some(extra)) = (detail.as_object_mut(), extra.as_object()) {
        for (key, value) in extra {
            if key == "container" {
                if let (Some(container), Some(more)) =
                    (detail["container"].as_object_mut(), value.as_object())
                {
                    container.extend(more.clone());
                }
            } else {
                detail.insert(key.clone(), value.clone());
            }
        }
    }
    json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Batch Job State Change",
        "source": "aws.batch",
        "account": "123456789012",
        "time": "2026-11-22T14:00:00Z",
        "region": "eu-west-1",
        "resources": [format!("arn:aws:batch:eu-west-1:123456789012:job/{job_id}")],
        "detail": detail,
    })
}

/// Runs due tasks until none is left (no model runs here: jobs are Batch's).
pub async fn run_tasks(worker: &Worker) -> usize {
    worker.run_due().await.expect("tasks")
}

pub const SECOND: Duration = Duration::from_secs(1);
