//! Two `modelrun worker` processes share one Postgres: every run is
//! dispatched exactly once, and both processes do their share.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use modelrun_core::run::NewRun;
use modelrun_core::store::{ModelStore, RunStore, TaskQueue, UserStore};
use modelrun_core::task::TaskState;
use modelrun_db::PgStore;
use modelrun_db::postgres::testing::TempDatabase;

const RUNS: usize = 1000;

/// A `modelrun` process, killed when dropped.
pub(crate) struct Worker(pub(crate) Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `modelrun` on the data directory `data` and the database `url`.
pub(crate) fn modelrun(data: &std::path::Path, url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_modelrun"));
    command
        .arg("--data-dir")
        .arg(data)
        .env("DATABASE_URL", url)
        .env_remove("MODELRUN_DATABASE_URL");
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_dispatch_a_thousand_runs_exactly_once() {
    let database = TempDatabase::create().await;
    let url = database.config.url.expose().clone();
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("data");
    let ran = dir.path().join("ran.txt");
    let model = dir.path().join("model");
    std::fs::create_dir_all(&model).expect("mkdir");
    let script = format!("echo \"$MODELRUN_RUN_ID\" >> {}", ran.display());
    std::fs::write(
        model.join("modelrun.toml"),
        format!(
            "name = \"tick\"\ncommand = [\"sh\", \"-c\", {script:?}]\n[inputs]\ntype = \"object\"\n"
        ),
    )
    .expect("manifest");

    let setup = |args: &[&str]| {
        let out = modelrun(&data, &url).args(args).output().expect("modelrun");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    setup(&["migrate"]);
    // The database is Postgres; the versions' files still live in the data
    // directory, which an operator prepares for the workers to share.
    std::fs::create_dir_all(&data).expect("data directory");
    setup(&["users", "create", "--email", "load@example.com"]);
    setup(&["models", "register", model.to_str().expect("path")]);

    let store = PgStore::open(&database.config).await.expect("open");
    let user = store
        .credentials("load@example.com")
        .await
        .expect("query")
        .expect("user")
        .user;
    let version = store
        .model("tick")
        .await
        .expect("query")
        .expect("model")
        .versions[0]
        .clone();

    let spawn_worker = || {
        Worker(
            modelrun(&data, &url)
                .args([
                    "worker",
                    "--max-concurrent-runs",
                    "8",
                    "--worker-concurrency",
                    "8",
                    "--poll-interval-secs",
                    "1",
                    // The runs append to a file of the test's, which a
                    // sandbox (a /tmp of its own) would keep from it.
                    "--sandbox",
                    "off",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn worker"),
        )
    };
    let workers = [spawn_worker(), spawn_worker()];
    let pids: Vec<u32> = workers.iter().map(|w| w.0.id()).collect();

    let start = Instant::now();
    for _ in 0..RUNS {
        store
            .create_run(NewRun {
                version_id: version.id,
                submitted_by: user.id,
                inputs: Default::default(),
                resources: version.resources,
                submit_key: None,
                rerun_of: None,
                production_only: false,
            })
            .await
            .expect("create run");
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let active = store.active_runs().await.expect("active").len();
        if active == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{active} runs still active after 300 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let elapsed = start.elapsed();
    drop(workers);

    // Every run succeeded, and each model process ran exactly once.
    let page = store
        .list_runs(&modelrun_core::run::RunFilter {
            limit: 200,
            ..Default::default()
        })
        .await
        .expect("runs");
    assert!(
        page.items
            .iter()
            .all(|run| run.status == modelrun_core::status::RunStatus::Succeeded)
    );
    let lines = std::fs::read_to_string(&ran).expect("ran.txt");
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for line in lines.lines() {
        *seen.entry(line).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "runs executed more than once: {twice:?}");
    assert_eq!(seen.len(), RUNS, "runs never executed");

    // Each run was dispatched once, by one of the two workers, and both worked.
    let mut by_worker: HashMap<u32, usize> = HashMap::new();
    for id in 1..=RUNS as i64 {
        let run = store
            .run(modelrun_core::ids::RunId(id))
            .await
            .expect("query")
            .expect("run");
        assert_eq!(
            run.status,
            modelrun_core::status::RunStatus::Succeeded,
            "run {id}: {:?}",
            run.status_reason
        );
        let events = store.run_events(run.id).await.expect("events");
        let dispatches = events
            .iter()
            .filter(|e| e.status == Some(modelrun_core::status::RunStatus::Dispatching))
            .count();
        assert_eq!(dispatches, 1, "run {id} was dispatched {dispatches} times");
        let pid: u32 = run
            .job_id
            .as_deref()
            .and_then(|id| id.rsplit_once(':'))
            .and_then(|(_, pid)| pid.parse().ok())
            .expect("job id names its worker");
        *by_worker.entry(pid).or_default() += 1;
    }
    assert_eq!(
        by_worker
            .keys()
            .copied()
            .collect::<std::collections::BTreeSet<_>>(),
        pids.iter().copied().collect()
    );
    let dead = store
        .list_tasks(Some(TaskState::Dead), 10)
        .await
        .expect("tasks");
    assert!(dead.is_empty(), "dead tasks: {dead:?}");
    println!(
        "{RUNS} runs through 2 workers in {:.1} s ({:.0} runs/s); runs per worker: {:?}",
        elapsed.as_secs_f64(),
        RUNS as f64 / elapsed.as_secs_f64(),
        by_worker
    );
    store.close().await;
}
