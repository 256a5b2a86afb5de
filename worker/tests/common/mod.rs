//! What the local and the AWS worker tests share: a SQLite store in a
//! temporary directory with one runner, a worker over given parts, and runs
//! submitted as that runner.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use modelrun_core::blob::BlobStore;
use modelrun_core::config::WorkerConfig;
use modelrun_core::executor::Executor;
use modelrun_core::ids::RunId;
use modelrun_core::mailer::Mailer;
use modelrun_core::model::ModelVersion;
use modelrun_core::registry::Registry;
use modelrun_core::run::{FollowUp, NewRun, Run, StatusChange};
use modelrun_core::schema::Uploads;
use modelrun_core::status::RunStatus;
use modelrun_core::store::Store;
use modelrun_core::task::{CancelRun, Job};
use modelrun_core::user::{NewUser, Role, User};
use modelrun_worker::kick::LocalKicker;
use modelrun_worker::{Recorder, Services, Worker};

/// A store with one runner, `ann@example.com`, under `dir/data`.
pub struct Base {
    pub dir: tempfile::TempDir,
    pub store: Arc<dyn Store>,
    pub user: User,
}

impl Base {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = modelrun_db::SqliteStore::open(&dir.path().join("data/modelrun.db"))
            .await
            .expect("open");
        db.migrate().await.expect("migrate");
        let store: Arc<dyn Store> = Arc::new(db);
        let user = store
            .create_user(NewUser {
                email: "ann@example.com".to_owned(),
                password_hash: "x".to_owned(),
                role: Role::Runner,
            })
            .await
            .expect("user");
        Base { dir, store, user }
    }

    /// The data directory: the store's file, blobs, logs, work directories.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A recorder that links emails to `public_url`.
    pub fn recorder(&self, blob: Arc<dyn BlobStore>, public_url: &str) -> Recorder {
        Recorder::new(
            self.store.clone(),
            blob,
            Arc::new(LocalKicker::new()),
            public_url,
        )
    }

    /// A worker over these parts and this store.
    pub fn worker(&self, parts: Parts, recorder: Recorder, config: WorkerConfig) -> Worker {
        let services = Services {
            store: self.store.clone(),
            blob: parts.blob,
            executor: parts.executor,
            mailer: parts.mailer,
            registry: parts.registry,
            recorder,
            intake: Default::default(),
        };
        Worker::new(services, config)
    }

    /// A run of `version` submitted by the runner, its inputs validated.
    pub async fn submit(&self, version: &ModelVersion, inputs: serde_json::Value) -> Run {
        self.submit_with(version, inputs, &Uploads::default()).await
    }

    /// A run whose file inputs name `uploads` (by id), as the server looks
    /// them up.
    pub async fn submit_with(
        &self,
        version: &ModelVersion,
        inputs: serde_json::Value,
        uploads: &Uploads,
    ) -> Run {
        let serde_json::Value::Object(submitted) = inputs else {
            panic!("inputs must be an object")
        };
        let inputs = version
            .inputs
            .validate_with(&submitted, uploads)
            .expect("valid inputs");
        self.store
            .create_run(NewRun {
                version_id: version.id,
                submitted_by: self.user.id,
                inputs,
                resources: version.resources,
                submit_key: None,
                rerun_of: None,
                production_only: false,
            })
            .await
            .expect("create run")
            .item
    }

    pub async fn run(&self, id: RunId) -> Run {
        self.store.run(id).await.expect("query").expect("run")
    }

    /// Asks to cancel the run as `by`, as its page does: `cancelling` with
    /// the reason and the `by` fact, and the worker's `cancel_run` task.
    pub async fn cancel(&self, id: RunId, by: &str) {
        let mut change = StatusChange::new(id, RunStatus::Cancelling)
            .reason(format!("cancel requested by {by}"))
            .fact("by", by);
        change.follow_ups.push(FollowUp::Task(
            CancelRun {
                run_id: id,
                by: Some(by.to_owned()),
            }
            .task(),
        ));
        self.store.transition(change).await.expect("cancel");
    }

    /// The statuses of the run's history, oldest first.
    pub async fn statuses(&self, id: RunId) -> Vec<RunStatus> {
        self.store
            .run_events(id)
            .await
            .expect("events")
            .iter()
            .filter_map(|e| e.status)
            .collect()
    }

    /// What the local executor wrote to the run's log file (empty if none):
    /// `logs/<id>-<key>.log`.
    pub async fn log_text(&self, id: RunId) -> String {
        let run = self.run(id).await;
        let key = run.job_key.expect("a run made now has a key");
        std::fs::read_to_string(self.data().join(format!("logs/{id}-{key}.log")))
            .unwrap_or_default()
    }
}

/// The backends a worker runs on.
pub struct Parts {
    pub blob: Arc<dyn BlobStore>,
    pub executor: Arc<dyn Executor>,
    pub mailer: Arc<dyn Mailer>,
    pub registry: Option<Arc<dyn Registry>>,
}
