//! A `modelrun worker` killed with SIGKILL at each moment of a run's life,
//! on SQLite and Postgres; a new worker takes over:
//!
//! - a run that waited for a slot (its model never started) is dispatched
//!   again and succeeds;
//! - a run whose model was running fails, saying why, and none of its
//!   processes outlives the worker;
//! - a run whose model had ended while its outputs were being stored is
//!   recorded from its working directory, outputs included;
//!
//! and no working directory or journal of an ended run is left behind.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use modelrun_core::config::DatabaseConfig;
use modelrun_core::ids::RunId;
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{NewRun, Run};
use modelrun_core::status::RunStatus;
use modelrun_core::store::Store;
use modelrun_core::user::User;
use modelrun_db::postgres::testing::TempDatabase;

use crate::support::StoreKind;

/// Bytes of the output whose storing the third worker is killed in.
const BIG_OUTPUT_BYTES: u64 = 512 * 1024 * 1024;

struct Worker(Child);

impl Worker {
    /// SIGKILL, as a crash or the OOM killer would.
    fn kill_hard(mut self) {
        signal(self.0.id(), libc::SIGKILL);
        let _ = self.0.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[allow(unsafe_code)]
fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) with plain integers; touches no memory of ours.
    unsafe {
        libc::kill(pid as libc::pid_t, signal);
    }
}

struct Setup {
    /// `--sandbox` of the workers.
    sandbox: &'static str,
    dir: tempfile::TempDir,
    data: PathBuf,
    url: Option<String>,
    store: Arc<dyn Store>,
    user: User,
    version: ModelVersion,
    _database: Option<TempDatabase>,
}

/// The `modelrun` binary on this data directory and database.
fn modelrun(data: &Path, url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_modelrun"));
    command
        .arg("--data-dir")
        .arg(data)
        .env_remove("MODELRUN_DATABASE_URL")
        .env_remove("DATABASE_URL");
    if let Some(url) = url {
        command.env("DATABASE_URL", url);
    }
    command
}

impl Setup {
    fn worker(&self) -> Worker {
        let log = std::fs::File::create(self.dir.path().join("worker.log")).expect("log");
        Worker(
            modelrun(&self.data, self.url.as_deref())
                .args([
                    "worker",
                    "--max-concurrent-runs",
                    "1",
                    "--poll-interval-secs",
                    "1",
                    "--sweep-interval-secs",
                    "1",
                    "--sandbox",
                    self.sandbox,
                ])
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("spawn worker"),
        )
    }

    async fn submit(&self, mode: &str) -> RunId {
        let mut inputs = serde_json::Map::new();
        inputs.insert("mode".to_owned(), mode.into());
        self.store
            .create_run(NewRun {
                version_id: self.version.id,
                submitted_by: self.user.id,
                inputs,
                resources: self.version.resources,
                submit_key: None,
                rerun_of: None,
                production_only: false,
            })
            .await
            .expect("create run")
            .item
            .id
    }

    async fn run(&self, id: RunId) -> Run {
        self.store.run(id).await.expect("read").expect("run")
    }

    /// Waits until the run's status satisfies `done`, for at most 120 s.
    async fn wait_for(&self, id: RunId, what: &str, done: impl Fn(&Run) -> bool) -> Run {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let run = self.run(id).await;
            if done(&run) {
                return run;
            }
            assert!(
                Instant::now() < deadline,
                "run {id} is {} ({:?}), not {what}, after 120 s; worker log:\n{}",
                run.status,
                run.status_reason,
                std::fs::read_to_string(self.dir.path().join("worker.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn journal(&self, run: RunId) -> PathBuf {
        self.data.join("work").join(format!("{run}.journal"))
    }

    /// The phase the run's journal is in, if it has one.
    fn phase(&self, run: RunId) -> Option<String> {
        let text = std::fs::read(self.journal(run)).ok()?;
        let entry: serde_json::Value = serde_json::from_slice(&text).ok()?;
        entry["phase"].as_str().map(str::to_owned)
    }
}

async fn setup(kind: StoreKind, sandbox: &'static str) -> Setup {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).expect("data");
    let (database, url, config) = match kind {
        StoreKind::Sqlite => (
            None,
            None,
            DatabaseConfig::Sqlite {
                path: data.join("modelrun.db"),
            },
        ),
        StoreKind::Postgres => {
            let database = TempDatabase::create().await;
            let url = database.config.url.expose().clone();
            let config = DatabaseConfig::Postgres(database.config.clone());
            (Some(database), Some(url), config)
        }
    };
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).expect("model");
    // `sleep` runs until it is killed; `quick` and `big` write an output.
    let script = format!(
        "mode=$(sed 's/.*\"mode\": *\"\\([a-z]*\\)\".*/\\1/' \"$MODELRUN_INPUTS\"); \
         case $mode in \
         sleep) sleep 600 ;; \
         quick) echo done > \"$MODELRUN_OUTPUT_DIR/quick.txt\" ;; \
         big) head -c {BIG_OUTPUT_BYTES} /dev/zero > \"$MODELRUN_OUTPUT_DIR/big.bin\" ;; \
         esac"
    );
    std::fs::write(
        model.join("modelrun.toml"),
        format!(
            "name = \"crash\"\ncommand = [\"sh\", \"-c\", {script:?}]\n\
             [inputs]\ntype = \"object\"\n\
             [inputs.properties.mode]\ntype = \"string\"\n"
        ),
    )
    .expect("manifest");
    let store = modelrun_db::open(&config, true).await.expect("open");
    for args in [
        vec!["users", "create", "--email", "crash@example.com"],
        vec!["models", "register", model.to_str().expect("path")],
    ] {
        let out = modelrun(&data, url.as_deref())
            .args(&args)
            .output()
            .expect("modelrun");
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let user = store
        .credentials("crash@example.com")
        .await
        .expect("query")
        .expect("user")
        .user;
    let version = store
        .model("crash")
        .await
        .expect("query")
        .expect("model")
        .versions[0]
        .clone();
    Setup {
        sandbox,
        dir,
        data,
        url,
        store,
        user,
        version,
        _database: database,
    }
}

/// Processes of this machine whose environment names the run and the data
/// directory (other tests have runs of the same id).
pub fn processes_of(run: RunId, data: &Path) -> Vec<u32> {
    let marker = format!("MODELRUN_RUN_ID={run}");
    let data = data.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                let variables: Vec<&[u8]> = environ.split(|byte| *byte == 0).collect();
                variables.contains(&marker.as_bytes())
                    && variables
                        .iter()
                        .any(|variable| String::from_utf8_lossy(variable).contains(&data))
            })
        })
        .collect()
}

/// Waits until no process of the run is left, for at most 10 s.
async fn none_left(run: RunId, data: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_of(run, data).is_empty() {
        assert!(
            Instant::now() < deadline,
            "processes of run {run} outlived their worker: {}",
            describe(&processes_of(run, data))
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Each process's id, command line and state, for a failure message.
fn describe(pids: &[u32]) -> String {
    pids.iter()
        .map(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|bytes| String::from_utf8_lossy(&bytes).replace('\0', " "))
                .unwrap_or_default();
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
            let field = |name: &str| {
                status
                    .lines()
                    .find_map(|line| line.strip_prefix(name))
                    .unwrap_or_default()
                    .trim()
                    .to_owned()
            };
            format!(
                "{pid} `{}` (state {}, parent {})",
                cmdline.trim(),
                field("State:"),
                field("PPid:")
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn leftovers(work: &Path, runs: &[RunId]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(work) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
        .filter(|name| {
            runs.iter()
                .any(|run| name.split('.').next() == Some(&run.to_string()))
        })
        .collect()
}

pub async fn a_killed_worker_loses_no_finished_work(kind: StoreKind) {
    killed_at_each_moment(setup(kind, "required").await).await;
}

/// Outside a sandbox only the model's first process dies with its worker;
/// the next worker's sweep kills what it started.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unconfined_run_of_a_killed_worker_leaves_no_process() {
    killed_at_each_moment(setup(StoreKind::Sqlite, "off").await).await;
}

async fn killed_at_each_moment(setup: Setup) {
    let first = setup.worker();
    let running = setup.submit("sleep").await;
    setup
        .wait_for(running, "running", |run| run.status == RunStatus::Running)
        .await;
    // One slot: this one waits for it, its model never started.
    let waiting = setup.submit("quick").await;
    setup
        .wait_for(waiting, "runnable", |run| run.status == RunStatus::Runnable)
        .await;
    assert!(
        !processes_of(running, &setup.data).is_empty(),
        "the model runs"
    );
    first.kill_hard();
    if setup.sandbox != "off" {
        // The sandbox dies with the worker, and everything in it.
        none_left(running, &setup.data).await;
    }

    let second = setup.worker();
    let failed = setup
        .wait_for(running, "ended", |run| run.status.is_terminal())
        .await;
    none_left(running, &setup.data).await;
    assert_eq!(failed.status, RunStatus::Failed);
    let reason = failed.status_reason.unwrap_or_default();
    assert!(
        reason.contains("stopped (it was killed or crashed) while the model was running"),
        "{reason}"
    );
    let again = setup
        .wait_for(waiting, "ended", |run| run.status.is_terminal())
        .await;
    assert_eq!(
        again.status,
        RunStatus::Succeeded,
        "{:?}",
        again.status_reason
    );
    let outputs = setup.store.run_outputs(waiting).await.expect("outputs");
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    let events = setup.store.run_events(waiting).await.expect("events");
    assert!(
        events
            .iter()
            .any(|event| event.message.contains("dispatched again")),
        "{events:?}"
    );

    // The model has ended and its big output is being stored: kill then.
    let big = setup.submit("big").await;
    let deadline = Instant::now() + Duration::from_secs(120);
    while setup.phase(big).as_deref() != Some("exited") {
        assert!(
            Instant::now() < deadline && !setup.run(big).await.status.is_terminal(),
            "the journal of run {big} never said `exited` (it says {:?})",
            setup.phase(big)
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    signal(second.0.id(), libc::SIGSTOP);
    assert_eq!(
        setup.phase(big).as_deref(),
        Some("exited"),
        "the worker stored {BIG_OUTPUT_BYTES} bytes before it could be stopped"
    );
    second.kill_hard();
    assert!(!setup.run(big).await.status.is_terminal());

    let _third = setup.worker();
    let recorded = setup
        .wait_for(big, "ended", |run| run.status.is_terminal())
        .await;
    assert_eq!(
        recorded.status,
        RunStatus::Succeeded,
        "{:?}",
        recorded.status_reason
    );
    let outputs = setup.store.run_outputs(big).await.expect("outputs");
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    assert_eq!(outputs[0].size, BIG_OUTPUT_BYTES as i64);
    let events = setup.store.run_events(big).await.expect("events");
    assert!(
        events
            .iter()
            .any(|event| event.data.get("recovered").is_some()),
        "the history says the end was recovered: {events:?}"
    );

    // Nothing of the three runs is left in the work directory.
    let work = setup.data.join("work");
    let runs = [running, waiting, big];
    let deadline = Instant::now() + Duration::from_secs(20);
    while !leftovers(&work, &runs).is_empty() {
        assert!(
            Instant::now() < deadline,
            "left behind: {:?}",
            leftovers(&work, &runs)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
