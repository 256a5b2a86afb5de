//! A worker over the embedded defaults, in a temporary directory.

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use modelrun_core::blob::BlobStore;
use modelrun_core::config::{LocalExecutorConfig, WorkerConfig};
use modelrun_core::intake::Intake;
use modelrun_core::model::ModelVersion;
use modelrun_core::model_secrets::SecretVault;
use modelrun_core::status::RunStatus;
use modelrun_worker::Worker;
use modelrun_worker::blob::LocalBlobStore;
use modelrun_worker::environments::LocalEnvironments;
use modelrun_worker::executor::LocalExecutor;
use modelrun_worker::mail::OutboxMailer;
use modelrun_worker::register::{Registration, register_local};
use modelrun_worker::secrets::LocalVault;
use modelrun_worker::secrets::key::SecretsKey;

pub use crate::common::{Base, Parts};

pub struct Harness {
    base: Base,
    pub executor: LocalExecutor,
    pub worker: Worker,
    pub vault: Arc<dyn SecretVault>,
    pub environments: LocalEnvironments,
    /// What the executor's starts give way to (no web app here: a test
    /// holds an answer to play one).
    pub intake: Intake,
}

impl Deref for Harness {
    type Target = Base;

    fn deref(&self) -> &Base {
        &self.base
    }
}

impl Harness {
    pub async fn new(max_concurrent_runs: usize) -> Self {
        Self::with_config(max_concurrent_runs, WorkerConfig::default()).await
    }

    pub async fn with_config(max_concurrent_runs: usize, config: WorkerConfig) -> Self {
        Self::build(max_concurrent_runs, config, |_| {}).await
    }

    /// A harness whose local executor's configuration `adjust` changes
    /// (environments built offline, a small log limit).
    pub async fn build(
        max_concurrent_runs: usize,
        config: WorkerConfig,
        adjust: impl FnOnce(&mut LocalExecutorConfig),
    ) -> Self {
        Self::assemble(max_concurrent_runs, config, adjust, None).await
    }

    /// A harness whose email goes out through `mailer` (not the outbox).
    pub async fn with_mailer(mailer: Arc<dyn modelrun_core::mailer::Mailer>) -> Self {
        Self::assemble(1, WorkerConfig::default(), |_| {}, Some(mailer)).await
    }

    async fn assemble(
        max_concurrent_runs: usize,
        config: WorkerConfig,
        adjust: impl FnOnce(&mut LocalExecutorConfig),
        mailer: Option<Arc<dyn modelrun_core::mailer::Mailer>>,
    ) -> Self {
        let base = Base::new().await;
        let data = base.data();
        let blob: Arc<dyn BlobStore> = Arc::new(LocalBlobStore::new(data.join("blobs")));
        let recorder = base.recorder(blob.clone(), "http://127.0.0.1:8080");
        let key = SecretsKey::load_or_create(&data.join("secrets.key")).expect("key");
        let vault: Arc<dyn SecretVault> = Arc::new(LocalVault::new(base.store.clone(), key));
        let mut local = LocalExecutorConfig {
            max_concurrent_runs,
            ..LocalExecutorConfig::new(data.clone())
        };
        adjust(&mut local);
        let environments = LocalEnvironments::new(local.environments.clone());
        let intake = Intake::new();
        let executor = LocalExecutor::new(
            local,
            blob.clone(),
            recorder.clone(),
            vault.clone(),
            intake.clone(),
        )
        .expect("the local executor");
        let parts = Parts {
            blob,
            executor: Arc::new(executor.clone()),
            mailer: mailer.unwrap_or_else(|| Arc::new(OutboxMailer::new(data.join("outbox")))),
            registry: None,
        };
        let worker = base.worker(parts, recorder, config);
        Harness {
            base,
            executor,
            worker,
            vault,
            environments,
            intake,
        }
    }

    pub async fn register(&self, dir: &Path) -> ModelVersion {
        self.try_register(dir)
            .await
            .expect("register")
            .version()
            .clone()
    }

    /// The stored environment with this digest.
    pub async fn environment(&self, digest: &str) -> modelrun_core::environment::Environment {
        self.store
            .environment(digest)
            .await
            .expect("query")
            .expect("the environment's row")
    }

    pub async fn try_register(
        &self,
        dir: &Path,
    ) -> Result<modelrun_core::model::Registered, modelrun_worker::register::RegisterError> {
        register_local(
            &self.store,
            &self.data(),
            &self.environments,
            Registration {
                dir: dir.to_owned(),
                label: None,
                via: "test".to_owned(),
                prepare_environment: true,
            },
        )
        .await
    }

    /// A model whose command is a shell script.
    pub async fn shell_model(
        &self,
        name: &str,
        script: &str,
        timeout_seconds: i64,
    ) -> ModelVersion {
        let dir = self.dir.path().join("src").join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let manifest = format!(
            "name = \"{name}\"\ncommand = [\"sh\", \"-c\", {script:?}]\n\
             [resources]\ntimeout_seconds = {timeout_seconds}\n\
             [inputs]\ntype = \"object\"\n[inputs.properties.n]\ntype = \"integer\"\ndefault = 1\n"
        );
        std::fs::write(dir.join("modelrun.toml"), manifest).expect("manifest");
        self.register(&dir).await
    }

    pub async fn drain(&self) {
        self.worker
            .drain(Duration::from_secs(60))
            .await
            .expect("drain");
    }

    pub async fn wait_for(&self, id: modelrun_core::ids::RunId, status: RunStatus) {
        for _ in 0..500 {
            self.worker.run_due().await.expect("tasks");
            if self.run(id).await.status == status {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "run {id} never reached {status}; it is {}",
            self.run(id).await.status
        );
    }
}

/// The processes of this machine whose command line starts with `marker`.
pub fn processes_with(marker: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|cmdline| {
                    String::from_utf8_lossy(&cmdline)
                        .replace('\0', " ")
                        .starts_with(marker)
                })
                .unwrap_or(false)
        })
        .collect()
}

/// Waits up to five seconds for every process starting with `marker` to be gone.
pub async fn all_gone(marker: &str) -> bool {
    for _ in 0..50 {
        if processes_with(marker).is_empty() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

/// This machine's name, as the local executor puts it in job ids.
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_default()
}

pub fn forecast_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/forecast")
}

pub mod fixtures {
    use modelrun_core::manifest::Resources;
    use modelrun_core::model::{ModelMeta, NewVersion, Runtime};
    use modelrun_core::schema::InputSchema;

    pub fn image_version(name: &str) -> NewVersion {
        NewVersion {
            model: ModelMeta {
                name: name.to_owned(),
                title: name.to_owned(),
                description: String::new(),
                owner: String::new(),
            },
            label: "abc1234".to_owned(),
            digest: "sha256:0".to_owned(),
            runtime: Runtime::Image {
                uri: "example.com/model:abc1234".to_owned(),
                digest: None,
            },
            inputs: InputSchema::parse(&serde_json::json!({"type": "object"}), "inputs")
                .expect("schema"),
            resources: Resources::default(),
            max_resources: Resources::default(),
            source_commit: None,
            registered_via: "test".to_owned(),
            environment: None,
            prepare_environment: false,
            secrets: Vec::new(),
            network: true,
            outputs: Default::default(),
        }
    }
}
