//! Runs that are stopped: timeouts, slots, cancels, restarts.

use std::time::Duration;

use modelrun_core::manifest::Resources;
use modelrun_core::run::{NewRun, StatusChange};
use modelrun_core::schema::Uploads;
use modelrun_core::status::RunStatus;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeout_stops_the_whole_process_group() {
    let h = Harness::new(2).await;
    // A child in the background, and one that left the session.
    let script = "sleep 31301 & setsid sleep 31302 & sleep 30";
    let version = h.shell_model("sleepy", script, 1).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.status_reason.as_deref(),
        Some("timed out after 1 s (the run's time limit)")
    );
    assert!(
        all_gone("sleep 3130").await,
        "a process of the model outlived the timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_asked_for_less_time_is_stopped_at_its_own_limit() {
    let h = Harness::new(2).await;
    let version = h.shell_model("patient", "sleep 31321", 600).await;
    let inputs = version
        .inputs
        .validate_with(&serde_json::Map::new(), &Uploads::default())
        .expect("defaults");
    let asked = Resources {
        timeout_seconds: 1,
        ..version.resources
    };
    let run = h
        .store
        .create_run(NewRun {
            version_id: version.id,
            submitted_by: h.user.id,
            inputs,
            resources: asked,
            submit_key: None,
            rerun_of: None,
            production_only: false,
        })
        .await
        .expect("create run")
        .item;
    let started = std::time::Instant::now();
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(
        run.status_reason.as_deref(),
        Some("timed out after 1 s (the run's time limit)")
    );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "not the version's 600 s"
    );
    assert!(all_gone("sleep 31321").await);
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
    // A grandchild that left the model's session and process group.
    let version = h
        .shell_model("long", "setsid sh -c 'sleep 31311' & sleep 31312", 60)
        .await;
    let run = h.submit(&version, json!({})).await;
    h.wait_for(run.id, RunStatus::Running).await;
    for _ in 0..50 {
        if processes_with("sleep 31311").len() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        processes_with("sleep 31311").len(),
        1,
        "the grandchild runs"
    );
    h.cancel(run.id, "ann@example.com").await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Cancelled);
    assert_eq!(
        run.status_reason.as_deref(),
        Some("cancelled by ann@example.com")
    );
    assert!(
        all_gone("sleep 3131").await,
        "every process of the run ended with it"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cancelled_before_dispatch_never_starts() {
    let h = Harness::new(2).await;
    let version = h
        .shell_model("never", "touch \"$MODELRUN_OUTPUT_DIR/ran\"", 60)
        .await;
    let run = h.submit(&version, json!({})).await;
    h.cancel(run.id, "bob@example.com").await;
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

/// A run whose job belongs to `owner` (`host:pid`), as another process left it.
async fn running_elsewhere(h: &Harness, name: &str, owner: &str) -> modelrun_core::run::Run {
    let version = h.shell_model(name, "sleep 30", 60).await;
    let run = h.submit(&version, json!({})).await;
    let mut running = StatusChange::new(run.id, RunStatus::Running);
    running.job_id = Some(format!("modelrun-run-{}@{owner}", run.id));
    h.store.transition(running).await.expect("running");
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_fails_runs_that_a_restart_lost() {
    let h = Harness::new(2).await;
    // As if this process had started it before a restart.
    let run = running_elsewhere(
        &h,
        "lost",
        &format!("{}:{}", hostname(), std::process::id()),
    )
    .await;
    assert_eq!(h.worker.sweep().await.expect("sweep"), 1);
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Failed);
    assert!(
        run.status_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("the run was lost:")),
        "{:?}",
        run.status_reason
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_leaves_live_neighbours_alone_and_fails_dead_ones() {
    let h = Harness::new(2).await;
    // pid 1 is alive on every machine; a pid above the kernel's maximum never is.
    let alive = running_elsewhere(&h, "alive", &format!("{}:1", hostname())).await;
    let dead = running_elsewhere(&h, "dead", &format!("{}:{}", hostname(), i32::MAX - 1)).await;
    let remote = running_elsewhere(&h, "remote", "other-host.example:42").await;
    h.worker.sweep().await.expect("sweep");
    assert_eq!(h.run(alive.id).await.status, RunStatus::Running);
    assert_eq!(h.run(remote.id).await.status, RunStatus::Running);
    let dead = h.run(dead.id).await;
    assert_eq!(dead.status, RunStatus::Failed);
    assert!(
        dead.status_reason
            .as_deref()
            .is_some_and(|r| r.contains("the worker process that ran it stopped"))
    );

    // Cancelling a neighbour's run leaves the stopping to its owner's sweep.
    h.cancel(alive.id, "ann@example.com").await;
    h.worker.run_due().await.expect("tasks");
    assert_eq!(h.run(alive.id).await.status, RunStatus::Cancelling);
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_leaves_a_waiting_run_to_be_dispatched_again() {
    let h = Harness::new(1).await;
    let version = h.shell_model("queue", "sleep 30", 60).await;
    let busy = h.submit(&version, json!({})).await;
    let waiting = h.submit(&version, json!({})).await;
    h.wait_for(busy.id, RunStatus::Running).await;
    h.wait_for(waiting.id, RunStatus::Runnable).await;
    h.executor.shutdown().await;
    assert_eq!(h.run(busy.id).await.status, RunStatus::Failed);
    // Its model never started: the next sweep sends it back to the queue.
    assert_eq!(h.run(waiting.id).await.status, RunStatus::Runnable);
    h.worker.sweep().await.expect("sweep");
    let again = h.run(waiting.id).await;
    assert_eq!((again.status, again.job_id), (RunStatus::Queued, None));
    let events = h.store.run_events(waiting.id).await.expect("events");
    assert!(
        events
            .last()
            .is_some_and(|event| event.message.contains("dispatched again")),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_waiting_for_a_slot_is_diagnosed_once() {
    let h = Harness::with_config(
        1,
        modelrun_core::config::WorkerConfig {
            stuck_after: std::time::Duration::ZERO,
            ..Default::default()
        },
    )
    .await;
    modelrun_core::store::UserStore::create_user(
        h.store.as_ref(),
        modelrun_core::user::NewUser {
            email: "ops@example.com".to_owned(),
            password_hash: "x".to_owned(),
            role: modelrun_core::user::Role::Admin,
        },
    )
    .await
    .expect("admin");
    let version = h.shell_model("hog", "sleep 30", 60).await;
    let first = h.submit(&version, json!({})).await;
    let second = h.submit(&version, json!({})).await;
    h.wait_for(first.id, RunStatus::Running).await;
    h.wait_for(second.id, RunStatus::Runnable).await;
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    h.worker.sweep().await.expect("sweep");
    h.worker.sweep().await.expect("sweep again");
    let facts: Vec<_> = h
        .store
        .run_events(second.id)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.data.get("diagnosis").is_some())
        .collect();
    assert_eq!(facts.len(), 1, "diagnosed once, however many sweeps");
    assert_eq!(facts[0].data["findings"]["busy"], 1);
    assert!(
        facts[0]
            .message
            .contains("1 of 1 run slots on this machine are busy"),
        "{}",
        facts[0].message
    );
    let emails = h.store.list_emails(None, 10).await.expect("emails");
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0].to, "ops@example.com");
    h.executor.shutdown().await;
}
