//! Environment builds run in slots of their own: a build that takes its
//! time (here, a package index that accepts connections and never answers)
//! holds up neither other runs nor other tasks, and builds past the cap
//! wait their turn.

use std::sync::Arc;
use std::time::Duration;

use modelrun_core::config::{PackageIndex, WorkerConfig};
use modelrun_core::environment::EnvironmentStatus;
use modelrun_core::secret::Secret;
use modelrun_core::status::RunStatus;
use modelrun_core::task::TaskKind;
use modelrun_worker::Worker;
use modelrun_worker::kick::LocalKicker;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::environments::probe_model;
use crate::support::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_build_holds_up_no_other_task() {
    // An index that takes connections and never answers: pip waits on it.
    let stalled = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    let index = format!("http://{}/simple", stalled.local_addr().expect("addr"));
    let config = WorkerConfig {
        concurrency: 1,
        environment_builds: 1,
        poll_interval: Duration::from_millis(200),
        lease: Duration::from_secs(6),
        ..WorkerConfig::default()
    };
    let h = Harness::build(2, config.clone(), move |local| {
        local.environments.search_path = std::env::var("PATH").unwrap_or_default();
        local.environments.index = PackageIndex {
            index_url: Some(Secret::new(index)),
            ..PackageIndex::default()
        };
    })
    .await;
    let sources = tempfile::tempdir().expect("dir");
    let first = h
        .register(&probe_model(
            sources.path(),
            "slow-a",
            "slow-a-package==1.0\n",
        ))
        .await;
    let second = h
        .register(&probe_model(
            sources.path(),
            "slow-b",
            "slow-b-package==1.0\n",
        ))
        .await;
    let quick = h.shell_model("quick", "echo done", 30).await;

    let worker = Arc::new(Worker::new(h.worker.services().clone(), config));
    let shutdown = CancellationToken::new();
    let looping = tokio::spawn(worker.run(LocalKicker::new(), shutdown.clone()));
    let run = h.submit(&quick, json!({})).await;
    // Only the worker loop runs tasks here.
    for _ in 0..300 {
        if h.run(run.id).await.status.is_terminal() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        h.run(run.id).await.status,
        RunStatus::Succeeded,
        "the run went by the builds"
    );

    // One build holds the only build slot; the other waits its turn,
    // given back without counting an attempt (looked at a few times, as a
    // claim may be under way at any moment).
    let mut builds = Vec::new();
    for _ in 0..20 {
        builds = h
            .store
            .list_tasks(None, 50)
            .await
            .expect("tasks")
            .into_iter()
            .filter(|task| task.kind == TaskKind::PrepareEnvironment)
            .map(|task| (task.locked_until.is_some(), task.attempts))
            .collect();
        builds.sort();
        if builds == [(false, 0), (true, 1)] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        builds,
        [(false, 0), (true, 1)],
        "(leased, attempts) of the builds"
    );
    for version in [&first, &second] {
        let digest = version.environment.clone().expect("an environment");
        let environment = h.environment(&digest).await;
        assert_eq!(environment.status, EnvironmentStatus::Preparing);
    }
    shutdown.cancel();
    drop(stalled);
    tokio::time::timeout(Duration::from_secs(30), looping)
        .await
        .expect("the worker stops within its lease")
        .expect("join");
}
