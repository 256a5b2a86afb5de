//! Assembling modelrun from its configuration: the store, blob store,
//! executor, mailer, kicker and worker that `up`, `serve`, `worker` and the
//! tests all use.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use modelrun_core::blob::BlobStore;
use modelrun_core::config::{DatabaseConfig, LocalExecutorConfig, WebConfig, WorkerConfig};
use modelrun_core::store::Store;
use modelrun_worker::blob::LocalBlobStore;
use modelrun_worker::executor::LocalExecutor;
use modelrun_worker::kick::LocalKicker;
use modelrun_worker::mail::OutboxMailer;
use modelrun_worker::{Recorder, Services, Worker};

use crate::state::AppState;

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
            local: LocalExecutorConfig {
                data_dir: data_dir.clone(),
                max_concurrent_runs: 2,
                search_path: "/usr/local/bin:/usr/bin:/bin".to_owned(),
            },
            data_dir,
            public_url,
        }
    }
}

/// The database, as a person reads it in an error (never the password).
fn describe(database: &DatabaseConfig) -> String {
    match database {
        DatabaseConfig::Sqlite { path } => format!("SQLite file {}", path.display()),
        DatabaseConfig::Postgres(_) => "Postgres at --database-url / DATABASE_URL".to_owned(),
    }
}

/// The running parts.
#[derive(Debug, Clone)]
pub struct Components {
    pub store: Arc<dyn Store>,
    pub blob: Arc<dyn BlobStore>,
    pub executor: LocalExecutor,
    pub kicker: LocalKicker,
    pub worker: Arc<Worker>,
}

impl Components {
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        let store = modelrun_db::open(&settings.database, settings.migrate)
            .await
            .with_context(|| {
                format!(
                    "cannot open the database ({})",
                    describe(&settings.database)
                )
            })?;
        let blob: Arc<dyn BlobStore> =
            Arc::new(LocalBlobStore::new(settings.data_dir.join("blobs")));
        let kicker = LocalKicker::new();
        let recorder = Recorder::new(
            store.clone(),
            blob.clone(),
            Arc::new(kicker.clone()),
            settings.public_url.clone(),
        );
        let executor = LocalExecutor::new(settings.local.clone(), blob.clone(), recorder.clone());
        let services = Services {
            store: store.clone(),
            blob: blob.clone(),
            executor: Arc::new(executor.clone()),
            mailer: Arc::new(OutboxMailer::new(settings.data_dir.join("outbox"))),
            recorder,
        };
        let worker = Arc::new(Worker::new(services, settings.worker.clone()));
        Ok(Components {
            store,
            blob,
            executor,
            kicker,
            worker,
        })
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
            executor: Arc::new(self.executor.clone()),
            kicker: Arc::new(self.kicker.clone()),
            config: Arc::new(web),
        }
    }
}
