//! The worker with the embedded defaults, end to end: a SQLite store, a blob
//! directory, real processes, an outbox directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use modelrun_core::blob::BlobStore;
use modelrun_core::config::{LocalExecutorConfig, WorkerConfig};
use modelrun_core::email::EmailStatus;
use modelrun_core::executor::Executor;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{FollowUp, NewRun, Run, StatusChange};
use modelrun_core::status::RunStatus;
use modelrun_core::store::Store;
use modelrun_core::task::NewTask;
use modelrun_core::user::{NewUser, Role, User};
use modelrun_worker::blob::LocalBlobStore;
use modelrun_worker::executor::LocalExecutor;
use modelrun_worker::kick::LocalKicker;
use modelrun_worker::mail::OutboxMailer;
use modelrun_worker::register::{Registration, register_local};
use modelrun_worker::{Recorder, Services, TaskOutcome, Worker};
use serde_json::json;

struct Harness {
    dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    executor: LocalExecutor,
    worker: Worker,
    user: User,
}

impl Harness {
    async fn new(max_concurrent_runs: usize) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let db = modelrun_db::SqliteStore::open(&data.join("modelrun.db"))
            .await
            .expect("open");
        db.migrate().await.expect("migrate");
        let store: Arc<dyn Store> = Arc::new(db);
        let blob: Arc<dyn BlobStore> = Arc::new(LocalBlobStore::new(data.join("blobs")));
        let kicker = LocalKicker::new();
        let recorder = Recorder::new(
            store.clone(),
            blob.clone(),
            Arc::new(kicker),
            "http://127.0.0.1:8080",
        );
        let executor = LocalExecutor::new(
            LocalExecutorConfig {
                data_dir: data.clone(),
                max_concurrent_runs,
                search_path: "/usr/local/bin:/usr/bin:/bin".to_owned(),
            },
            blob.clone(),
            recorder.clone(),
        );
        let services = Services {
            store: store.clone(),
            blob,
            executor: Arc::new(executor.clone()),
            mailer: Arc::new(OutboxMailer::new(data.join("outbox"))),
            recorder,
        };
        let worker = Worker::new(services, WorkerConfig::default());
        let user = store
            .create_user(NewUser {
                email: "ann@example.com".to_owned(),
                password_hash: "x".to_owned(),
                role: Role::Runner,
            })
            .await
            .expect("user");
        Harness {
            dir,
            store,
            executor,
            worker,
            user,
        }
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    async fn register(&self, dir: &Path) -> ModelVersion {
        register_local(
            &self.store,
            &self.data(),
            Registration {
                dir: dir.to_owned(),
                label: None,
                via: "test".to_owned(),
            },
        )
        .await
        .expect("register")
        .version()
        .clone()
    }

    /// A model whose command is a shell script.
    async fn shell_model(&self, name: &str, script: &str, timeout_seconds: i64) -> ModelVersion {
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

    async fn submit(&self, version: &ModelVersion, inputs: serde_json::Value) -> Run {
        let serde_json::Value::Object(submitted) = inputs else {
            panic!("object")
        };
        let inputs = version.inputs.validate(&submitted).expect("valid inputs");
        self.store
            .create_run(NewRun {
                version_id: version.id,
                submitted_by: self.user.id,
                inputs,
                resources: version.resources,
            })
            .await
            .expect("create run")
    }

    async fn run(&self, id: modelrun_core::ids::RunId) -> Run {
        self.store.run(id).await.expect("query").expect("run")
    }

    async fn drain(&self) {
        self.worker
            .drain(Duration::from_secs(60))
            .await
            .expect("drain");
    }

    async fn wait_for(&self, id: modelrun_core::ids::RunId, status: RunStatus) {
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

fn forecast_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/models/forecast")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_forecast_runs_and_its_outputs_are_stored() {
    let h = Harness::new(2).await;
    let version = h.register(&forecast_dir()).await;
    assert_eq!(version.label.len(), 12);
    let run = h
        .submit(&version, json!({"growth_rate": 0.05, "horizon_months": 6}))
        .await;
    h.drain().await;

    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
    assert!(run.started_at.is_some() && run.finished_at.is_some());
    assert_eq!(
        run.job_id.as_deref(),
        Some(format!("modelrun-run-{}", run.id).as_str())
    );
    // `submitted` is recorded unless the job's first report beat it: both
    // come from different tasks, and either order is correct.
    let statuses: Vec<_> = h
        .store
        .run_events(run.id)
        .await
        .expect("events")
        .iter()
        .filter_map(|e| e.status)
        .filter(|status| *status != RunStatus::Submitted)
        .collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Queued,
            RunStatus::Dispatching,
            RunStatus::Runnable,
            RunStatus::Starting,
            RunStatus::Running,
            RunStatus::Succeeded
        ]
    );

    let outputs = h.store.run_outputs(run.id).await.expect("outputs");
    let names: Vec<_> = outputs
        .iter()
        .map(|o| (o.name.as_str(), o.content_type.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("forecast.csv", "text/csv"),
            ("metrics.json", "application/json")
        ]
    );
    let csv_path = h
        .data()
        .join(format!("blobs/runs/{}/outputs/forecast.csv", run.id));
    let csv = std::fs::read_to_string(&csv_path).expect("forecast.csv stored");
    assert_eq!(outputs[0].size, csv.len() as i64);
    assert_eq!(
        outputs[0].sha256.as_deref(),
        Some(modelrun_core::crypto::sha256_hex(&csv).as_str())
    );
    // 5 % growth and 1 % churn from 100000: month one is 103950.
    assert!(
        csv.lines()
            .nth(1)
            .is_some_and(|row| row.starts_with("2027-01,103950.00,")),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 7);

    let log = h.executor.log(&run, None).await.expect("log");
    assert!(
        log.text.contains("Forecasting 6 months from 2027-01"),
        "{}",
        log.text
    );
    assert!(
        !h.data().join(format!("work/{}", run.id)).exists(),
        "working directory removed"
    );

    let emails = h.store.list_emails(None, 10).await.expect("emails");
    assert_eq!(emails.len(), 1);
    assert_eq!(
        (emails[0].status, emails[0].subject.as_str()),
        (
            EmailStatus::Sent,
            format!("Run #{} of forecast succeeded", run.id).as_str()
        )
    );
    assert!(
        h.data()
            .join("outbox")
            .join(format!("{:06}.eml", emails[0].id.0))
            .exists()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_model_fails_with_its_exit_code_and_keeps_its_log() {
    let h = Harness::new(2).await;
    let version = h.shell_model("broken", "echo working; echo oops >&2; echo partial > \"$MODELRUN_OUTPUT_DIR/partial.txt\"; exit 3", 60).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.status_reason.as_deref(),
        Some("the model exited with code 3")
    );
    let events = h.store.run_events(run.id).await.expect("events");
    assert_eq!(
        events.last().map(|e| e.data["exit_code"].clone()),
        Some(json!(3))
    );
    let log = h.executor.log(&run, None).await.expect("log");
    assert_eq!(log.text, "working\noops\n");
    let outputs: Vec<_> = h
        .store
        .run_outputs(run.id)
        .await
        .expect("outputs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(
        outputs,
        ["partial.txt"],
        "what a failed run wrote is kept for debugging"
    );
    let emails = h.store.list_emails(None, 10).await.expect("emails");
    assert!(emails[0].subject.ends_with("failed") && emails[0].text.contains("exited with code 3"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_stops_the_whole_process_group() {
    let h = Harness::new(2).await;
    let marker = h.dir.path().join("survivor");
    let script = format!("(sleep 3; touch {}) & sleep 30", marker.display());
    let version = h.shell_model("sleepy", &script, 1).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.status_reason.as_deref(),
        Some("timed out after 1 s (the version's limit)")
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !marker.exists(),
        "a background child of the model outlived the timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_beyond_the_slot_limit_wait_in_runnable() {
    let h = Harness::new(1).await;
    let version = h.shell_model("slow", "sleep 1", 60).await;
    let first = h.submit(&version, json!({})).await;
    let second = h.submit(&version, json!({})).await;
    h.wait_for(first.id, RunStatus::Running).await;
    h.wait_for(second.id, RunStatus::Runnable).await;
    assert_eq!(h.run(first.id).await.status, RunStatus::Running);
    h.wait_for(second.id, RunStatus::Running).await;
    assert_eq!(h.run(first.id).await.status, RunStatus::Succeeded);
    h.drain().await;
    assert_eq!(h.run(second.id).await.status, RunStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_run_stops_and_says_who_cancelled_it() {
    let h = Harness::new(2).await;
    let version = h.shell_model("long", "sleep 30", 60).await;
    let run = h.submit(&version, json!({})).await;
    h.wait_for(run.id, RunStatus::Running).await;
    let mut cancel = StatusChange::new(run.id, RunStatus::Cancelling).fact("by", "ann@example.com");
    cancel.follow_ups.push(FollowUp::Task(NewTask::cancel_run(
        run.id,
        "ann@example.com",
    )));
    h.store.transition(cancel).await.expect("cancel");
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(
        run.status_reason.as_deref(),
        Some("cancelled by ann@example.com")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cancelled_before_dispatch_never_starts() {
    let h = Harness::new(2).await;
    let version = h
        .shell_model("never", "touch \"$MODELRUN_OUTPUT_DIR/ran\"", 60)
        .await;
    let run = h.submit(&version, json!({})).await;
    let mut cancel = StatusChange::new(run.id, RunStatus::Cancelling);
    cancel.follow_ups.push(FollowUp::Task(NewTask::cancel_run(
        run.id,
        "bob@example.com",
    )));
    h.store.transition(cancel).await.expect("cancel");
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!((run.status, run.job_id), (RunStatus::Cancelled, None));
    assert!(
        h.store
            .run_outputs(run.id)
            .await
            .expect("outputs")
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_processes_see_only_the_contract_environment() {
    let h = Harness::new(2).await;
    let version = h
        .shell_model(
            "env",
            "env | cut -d= -f1 | sort; cat \"$MODELRUN_INPUTS\"; echo; pwd",
            60,
        )
        .await;
    let run = h.submit(&version, json!({"n": 7})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded);
    let log = h.executor.log(&run, None).await.expect("log").text;
    let mut lines = log.lines();
    let names: Vec<_> = lines.by_ref().take(9).collect();
    // PWD is the shell's own.
    assert_eq!(
        names,
        [
            "HOME",
            "LANG",
            "MODELRUN_INPUTS",
            "MODELRUN_OUTPUT_DIR",
            "MODELRUN_RUN_ID",
            "PATH",
            "PWD",
            "PYTHONUNBUFFERED",
            "TMPDIR"
        ]
    );
    let rest: Vec<_> = lines.collect();
    assert_eq!(rest[rest.len() - 2], "{\"n\":7}");
    assert!(
        rest[rest.len() - 1].ends_with(&format!("work/{}/model", run.id)),
        "{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_that_link_outside_the_run_are_not_stored() {
    let h = Harness::new(2).await;
    let script = "ln -s /etc/hostname \"$MODELRUN_OUTPUT_DIR/stolen\"; mkdir \"$MODELRUN_OUTPUT_DIR/sub\"; echo ok > \"$MODELRUN_OUTPUT_DIR/sub/fine.txt\"";
    let version = h.shell_model("sneaky", script, 60).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let names: Vec<_> = h
        .store
        .run_outputs(run.id)
        .await
        .expect("outputs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["sub/fine.txt"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_cannot_start_fails_the_run_with_the_reason() {
    let h = Harness::new(2).await;
    let dir = h.dir.path().join("src/missing");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("modelrun.toml"),
        "name = \"missing\"\ncommand = [\"no-such-program-xyz\"]\n[inputs]\ntype = \"object\"\n",
    )
    .expect("write");
    let version = h.register(&dir).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    let reason = run.status_reason.unwrap_or_default();
    assert!(
        reason.starts_with("could not start `no-such-program-xyz`"),
        "{reason}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatch_that_cannot_succeed_fails_the_run_and_tells_the_submitter() {
    let h = Harness::new(2).await;
    let mut image = fixtures::image_version("imaged");
    image.inputs = modelrun_core::schema::InputSchema::parse(&json!({"type": "object"}), "inputs")
        .expect("schema");
    let version = h
        .store
        .register_version(image, Vec::new())
        .await
        .expect("register")
        .version()
        .clone();
    let run = h.submit(&version, json!({})).await;
    let outcome = h.worker.run_one().await.expect("task").expect("a task");
    assert!(
        matches!(outcome, TaskOutcome::Dead { ref error, .. } if error.contains("container image")),
        "{outcome:?}"
    );
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.status_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("could not start the run:"))
    );
    h.drain().await;
    let emails = h.store.list_emails(None, 10).await.expect("emails");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].status, EmailStatus::Sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_fails_runs_that_a_restart_lost() {
    let h = Harness::new(2).await;
    let version = h.shell_model("lost", "sleep 30", 60).await;
    let run = h.submit(&version, json!({})).await;
    // As if a previous process had started it and died.
    let mut running = StatusChange::new(run.id, RunStatus::Running);
    running.job_id = Some("modelrun-run-1".to_owned());
    h.store.transition(running).await.expect("running");
    assert_eq!(h.worker.sweep().await.expect("sweep"), 1);
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.status_reason
            .as_deref()
            .is_some_and(|r| r.contains("lost"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_fails_running_runs_with_a_reason() {
    let h = Harness::new(2).await;
    let version = h.shell_model("busy", "sleep 30", 60).await;
    let run = h.submit(&version, json!({})).await;
    h.wait_for(run.id, RunStatus::Running).await;
    h.executor.shutdown().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.status_reason
            .as_deref()
            .is_some_and(|r| r.contains("modelrun stopped"))
    );
}

mod fixtures {
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
            source_commit: None,
            registered_via: "test".to_owned(),
        }
    }
}
