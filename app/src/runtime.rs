//! Assembling modelrun from its configuration: the store, blob store,
//! executor, mailer, kicker and worker that `up`, `serve`, `worker` and the
//! tests all use.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use modelrun_core::blob::BlobStore;
use modelrun_core::config::{
    AwsSettings, BatchConfig, DatabaseConfig, EcrConfig, LocalExecutorConfig, S3Config, SesConfig,
    SmtpConfig, WebConfig, WorkerConfig,
};
use modelrun_core::executor::Executor;
use modelrun_core::installation::StorageScope;
use modelrun_core::intake::Intake;
use modelrun_core::kick::Kicker;
use modelrun_core::mailer::Mailer;
use modelrun_core::model_secrets::SecretVault;
use modelrun_core::registry::Registry;
use modelrun_core::secret::Secret;
use modelrun_core::store::Store;
use modelrun_worker::blob::{LocalBlobStore, S3BlobStore};
use modelrun_worker::ecr::EcrRegistry;
use modelrun_worker::environments::LocalEnvironments;
use modelrun_worker::executor::{BatchExecutor, LocalExecutor};
use modelrun_worker::kick::{LambdaKicker, LocalKicker};
use modelrun_worker::mail::{OutboxMailer, SesMailer, SmtpMailer};
use modelrun_worker::secrets::{LocalVault, SecretsManagerVault, key::SecretsKey};
use modelrun_worker::{Recorder, Services, Worker};

use modelrun_web::state::AppState;

/// Everything the configuration decides.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub migrate: bool,
    pub worker: WorkerConfig,
    pub local: LocalExecutorConfig,
    /// Where people reach the app, for links in emails.
    pub public_url: String,
    pub aws: AwsSettings,
    /// AWS Batch instead of local processes.
    pub batch: Option<BatchConfig>,
    /// S3 instead of the data directory.
    pub s3: Option<S3Config>,
    /// SES instead of the outbox directory.
    pub ses: Option<SesConfig>,
    /// `--mailer smtp`.
    pub smtp: Option<SmtpConfig>,
    /// Versions from images pushed to ECR.
    pub ecr: Option<EcrConfig>,
    /// The worker Lambda function that the web function kicks, on Lambda.
    pub kick_function: Option<String>,
    /// The key that seals model secrets on one machine (64 hex digits);
    /// without it, `<data>/secrets.key`, created on first use.
    pub secrets_key: Option<Secret<String>>,
}

impl Settings {
    /// The embedded defaults under `data_dir`.
    pub fn local(data_dir: PathBuf, public_url: String) -> Self {
        Settings {
            database: DatabaseConfig::Sqlite {
                path: data_dir.join("modelrun.db"),
            },
            migrate: true,
            worker: WorkerConfig::default(),
            local: LocalExecutorConfig::new(data_dir.clone()),
            data_dir,
            public_url,
            aws: AwsSettings::default(),
            batch: None,
            s3: None,
            ses: None,
            smtp: None,
            ecr: None,
            kick_function: None,
            secrets_key: None,
        }
    }

    /// Where model secret values live: Secrets Manager when runs execute on
    /// AWS Batch (the job definition passes them), else sealed in the store
    /// with the key, which only a server creates (`create_key`): any other
    /// command sealing with a key of its own would seal values the server
    /// cannot read.
    fn vault(
        &self,
        store: &Arc<dyn Store>,
        sdk: Option<&aws_config::SdkConfig>,
        create_key: bool,
    ) -> anyhow::Result<Arc<dyn SecretVault>> {
        if let Some(batch) = &self.batch {
            let sdk = sdk.context("AWS is not configured")?;
            return Ok(Arc::new(SecretsManagerVault::new(
                sdk,
                batch.secrets_prefix.clone(),
            )));
        }
        let key = match &self.secrets_key {
            Some(hex) => SecretsKey::from_hex(hex.expose())
                .map_err(|why| anyhow::anyhow!("MODELRUN_SECRETS_KEY: {why}"))?,
            None if create_key => SecretsKey::load_or_create(&self.secrets_key_file())
                .map_err(|why| anyhow::anyhow!(why))?,
            None => SecretsKey::load(&self.secrets_key_file())
                .map_err(|why| anyhow::anyhow!(why))?
                .with_context(|| {
                    format!(
                        "there is no secrets key: MODELRUN_SECRETS_KEY is not set and {} does not \
                         exist. Only the server creates the key, when it first starts (`modelrun \
                         up`, `serve` or `worker`); give this command the server's key: its \
                         MODELRUN_SECRETS_KEY, or its data directory (--data-dir or \
                         MODELRUN_DATA_DIR)",
                        self.secrets_key_file().display()
                    )
                })?,
        };
        Ok(Arc::new(LocalVault::new(store.clone(), key)))
    }

    /// Where the key file is, when `MODELRUN_SECRETS_KEY` does not give the key.
    pub fn secrets_key_file(&self) -> PathBuf {
        self.data_dir.join("secrets.key")
    }

    /// The store and the secret vault alone, for the command line: with
    /// the server's key, never a new one.
    pub async fn open_secrets(&self) -> anyhow::Result<(Arc<dyn Store>, Arc<dyn SecretVault>)> {
        let store = open_store(self).await?;
        let sdk = match self.batch.is_some() {
            true => Some(modelrun_worker::aws::sdk_config(&self.aws).await),
            false => None,
        };
        let vault = self.vault(&store, sdk.as_ref(), false)?;
        Ok((store, vault))
    }

    /// Checks, before anything starts, that AWS is there for what the
    /// settings name (credentials, bucket, job queue; see
    /// [`modelrun_worker::preflight`]); a no-op without AWS. `Err` lists
    /// every problem.
    pub async fn check_aws(&self) -> anyhow::Result<()> {
        if !self.uses_aws() {
            return Ok(());
        }
        let sdk = modelrun_worker::aws::sdk_config(&self.aws).await;
        let needs = modelrun_worker::preflight::Needs {
            s3: self.s3.as_ref(),
            batch: self.batch.as_ref(),
        };
        modelrun_worker::preflight::check(&sdk, needs)
            .await
            .map_err(|problems| {
                anyhow::anyhow!(
                    "AWS is not ready for this configuration:\n  - {}",
                    problems.join("\n  - ")
                )
            })
    }

    fn uses_aws(&self) -> bool {
        self.batch.is_some()
            || self.s3.is_some()
            || self.ses.is_some()
            || self.ecr.is_some()
            || self.kick_function.is_some()
    }
}

/// The database, as a person reads it (never the user or password).
pub fn describe(database: &DatabaseConfig) -> String {
    match database {
        DatabaseConfig::Sqlite { path } => format!("the SQLite file {}", path.display()),
        DatabaseConfig::Postgres(config) => match reqwest::Url::parse(config.url.expose()) {
            Ok(url) => format!(
                "the Postgres database {} on {}:{}",
                url.path().trim_start_matches('/'),
                url.host_str().unwrap_or("localhost"),
                url.port().unwrap_or(5432)
            ),
            Err(_) => "the Postgres database of --database-url / DATABASE_URL".to_owned(),
        },
    }
}

/// The running parts.
#[derive(Debug, Clone)]
pub struct Components {
    pub store: Arc<dyn Store>,
    pub blob: Arc<dyn BlobStore>,
    pub executor: Arc<dyn Executor>,
    /// The local executor, when runs execute here (it must be stopped).
    pub local: Option<LocalExecutor>,
    /// Wakes this process's worker loop.
    pub kicker: LocalKicker,
    /// What the web app kicks after committing a task: this process's
    /// worker, or the worker Lambda function.
    pub web_kicker: Arc<dyn Kicker>,
    pub worker: Arc<Worker>,
    /// Where model secret values live.
    pub vault: Arc<dyn SecretVault>,
    /// This machine's model environments (for registering local versions).
    pub environments: LocalEnvironments,
    /// Submits the web app is answering, which local starts give way to.
    pub intake: Intake,
}

/// The configured store, migrated unless told not to.
async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    modelrun_db::open(&settings.database, settings.migrate)
        .await
        .with_context(|| format!("cannot open {}", describe(&settings.database)))
}

impl Components {
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let store = open_store(settings).await?;
        let sdk = match settings.uses_aws() {
            true => Some(modelrun_worker::aws::sdk_config(&settings.aws).await),
            false => None,
        };
        let aws = || sdk.as_ref().context("AWS is not configured");
        let installation = store
            .installation()
            .await
            .context("cannot read this installation's identity (is the database migrated? see `modelrun migrate`)")?;
        let scope = StorageScope::of(&installation);
        let blob: Arc<dyn BlobStore> = match &settings.s3 {
            Some(s3) => Arc::new(S3BlobStore::new(aws()?, s3.clone()).scoped(scope)),
            None => Arc::new(LocalBlobStore::new(settings.data_dir.join("blobs")).scoped(scope)),
        };
        let kicker = LocalKicker::new();
        let intake = Intake::new();
        let recorder = Recorder::new(
            store.clone(),
            blob.clone(),
            Arc::new(kicker.clone()),
            settings.public_url.clone(),
        );
        let vault = settings.vault(&store, sdk.as_ref(), true)?;
        let (executor, local): (Arc<dyn Executor>, _) = match &settings.batch {
            Some(batch) => (
                Arc::new(BatchExecutor::new(aws()?, batch.clone(), &installation)),
                None,
            ),
            None => {
                let local = LocalExecutor::new(
                    settings.local.clone(),
                    blob.clone(),
                    recorder.clone(),
                    vault.clone(),
                    intake.clone(),
                )
                .map_err(|why| anyhow::anyhow!(why))?;
                (Arc::new(local.clone()), Some(local))
            }
        };
        let mailer: Arc<dyn Mailer> = match (&settings.ses, &settings.smtp) {
            (Some(ses), _) => Arc::new(SesMailer::new(aws()?, ses.clone())),
            (None, Some(smtp)) => {
                Arc::new(SmtpMailer::new(smtp).map_err(|why| anyhow::anyhow!(why))?)
            }
            (None, None) => Arc::new(OutboxMailer::new(settings.data_dir.join("outbox"))),
        };
        let registry: Option<Arc<dyn Registry>> = match &settings.ecr {
            Some(ecr) => Some(Arc::new(
                EcrRegistry::new(aws()?, ecr.clone())
                    .context("--ecr-tag-pattern is not a regular expression")?,
            )),
            None => None,
        };
        let services = Services {
            store: store.clone(),
            blob: blob.clone(),
            executor: executor.clone(),
            mailer,
            registry,
            recorder,
            intake: intake.clone(),
        };
        let worker = Arc::new(Worker::new(services, settings.worker.clone()));
        let web_kicker: Arc<dyn Kicker> = match &settings.kick_function {
            Some(function) => Arc::new(LambdaKicker::new(aws()?, function.clone())),
            None => Arc::new(kicker.clone()),
        };
        Ok(Components {
            store,
            blob,
            executor,
            local,
            kicker,
            web_kicker,
            worker,
            vault,
            environments: LocalEnvironments::new(settings.local.environments.clone()),
            intake,
        })
    }

    /// Stops what runs here (local model processes), recording why.
    pub async fn shutdown(&self) {
        if let Some(local) = &self.local {
            local.shutdown().await;
        }
    }

    /// Wakes this process's worker when another process commits a task
    /// (Postgres `LISTEN`); a no-op for SQLite and behind a proxy.
    pub fn listen_for_tasks(&self, settings: &Settings) {
        if let DatabaseConfig::Postgres(config) = &settings.database {
            let kicker = self.kicker.clone();
            modelrun_db::postgres::spawn_listener(config, Arc::new(move || kicker.wake()));
        }
    }

    /// The web app's state over these parts.
    pub fn app_state(&self, web: WebConfig) -> AppState {
        AppState {
            store: self.store.clone(),
            blob: self.blob.clone(),
            executor: self.executor.clone(),
            kicker: self.web_kicker.clone(),
            vault: self.vault.clone(),
            config: Arc::new(web),
            caches: Arc::default(),
            intake: self.intake.clone(),
        }
    }
}
