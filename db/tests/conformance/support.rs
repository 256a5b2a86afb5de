//! Opening fresh stores and seeding them.

use std::sync::Arc;

use modelrun_core::ids::UserId;
use modelrun_core::manifest::Resources;
use modelrun_core::model::{ModelMeta, ModelVersion, NewVersion, Runtime};
use modelrun_core::run::{NewRun, Run};
use modelrun_core::schema::{InputSchema, Inputs};
use modelrun_core::store::Store;
use modelrun_core::user::{NewUser, Role, User};
use serde_json::json;

/// A fresh store, and where its data lives (removed when the test ends).
pub struct Backend {
    pub store: Arc<dyn Store>,
    _dir: Option<tempfile::TempDir>,
    _database: Option<modelrun_db::postgres::testing::TempDatabase>,
}

impl Backend {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = modelrun_db::SqliteStore::open(&dir.path().join("test.db"))
            .await
            .expect("open sqlite");
        store.migrate().await.expect("migrate");
        Backend {
            store: Arc::new(store),
            _dir: Some(dir),
            _database: None,
        }
    }

    pub async fn postgres() -> Self {
        let database = modelrun_db::postgres::testing::TempDatabase::create().await;
        let store = modelrun_db::PgStore::open(&database.config)
            .await
            .expect("open postgres");
        store.migrate().await.expect("migrate");
        Backend {
            store: Arc::new(store),
            _dir: None,
            _database: Some(database),
        }
    }
}

impl Backend {
    /// Another store on the same database, as another process opens it.
    pub async fn another(&self) -> Arc<dyn Store> {
        match (&self._dir, &self._database) {
            (Some(dir), _) => Arc::new(
                modelrun_db::SqliteStore::open(&dir.path().join("test.db"))
                    .await
                    .expect("open sqlite again"),
            ),
            (None, Some(database)) => Arc::new(
                modelrun_db::PgStore::open(&database.config)
                    .await
                    .expect("open postgres again"),
            ),
            (None, None) => unreachable!("a backend has a file or a database"),
        }
    }
}

pub async fn user(store: &Arc<dyn Store>, email: &str) -> User {
    store
        .create_user(NewUser {
            email: email.to_owned(),
            password_hash: "not-a-real-hash".to_owned(),
            role: Role::Runner,
        })
        .await
        .expect("create user")
}

pub fn new_version(model: &str, label: &str, digest: &str) -> NewVersion {
    let inputs = InputSchema::parse(
        &json!({"type": "object", "properties": {"growth": {"type": "number", "default": 0.1}}}),
        "inputs",
    )
    .expect("schema");
    NewVersion {
        model: ModelMeta {
            name: model.to_owned(),
            title: format!("Model {model}"),
            description: String::new(),
            owner: "tests".to_owned(),
        },
        label: label.to_owned(),
        digest: digest.to_owned(),
        runtime: Runtime::Local {
            command: vec!["true".to_owned()],
            dir: "/tmp".to_owned(),
        },
        inputs,
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

pub async fn version(store: &Arc<dyn Store>, model: &str, label: &str) -> ModelVersion {
    store
        .register_version(new_version(model, label, label), Vec::new())
        .await
        .expect("register")
        .version()
        .clone()
}

pub fn inputs(growth: f64) -> Inputs {
    let mut inputs = Inputs::new();
    inputs.insert("growth".to_owned(), json!(growth));
    inputs
}

pub async fn run(store: &Arc<dyn Store>, version: &ModelVersion, by: UserId) -> Run {
    store
        .create_run(NewRun {
            version_id: version.id,
            submitted_by: by,
            inputs: inputs(0.1),
            resources: version.resources,
            submit_key: None,
            rerun_of: None,
            production_only: false,
        })
        .await
        .expect("create run")
        .item
}

/// A store with one user, one version and one run.
pub async fn seeded(store: &Arc<dyn Store>) -> (User, ModelVersion, Run) {
    let user = user(store, "ann@example.com").await;
    let version = version(store, "forecast", "v1").await;
    let run = run(store, &version, user.id).await;
    (user, version, run)
}
