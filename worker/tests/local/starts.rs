//! When a model starts: it gives way to submits being answered in the same
//! process, for a bounded time.

use std::time::Duration;

use modelrun_core::ids::RunId;
use modelrun_core::status::RunStatus;
use modelrun_worker::executor::GIVE_WAY;
use serde_json::json;

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_waits_while_a_submit_is_being_answered() {
    let h = Harness::new(1).await;
    let version = h.shell_model("quick", "true", 60).await;
    let answering = h.intake.answering();
    let run = h.submit(&version, json!({})).await;
    h.wait_for(run.id, RunStatus::Submitted).await;
    // Well within GIVE_WAY: the model would have run and ended by now.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        h.run(run.id).await.status,
        RunStatus::Submitted,
        "the model started while a submit was being answered"
    );
    drop(answering);
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_gives_way_no_longer_than_its_bound() {
    let h = Harness::new(1).await;
    let version = h.shell_model("quick", "true", 60).await;
    // Submits without end: the run starts anyway, GIVE_WAY after `submitted`.
    let _answering = h.intake.answering();
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let run = h.run(run.id).await;
    assert_eq!(run.status, RunStatus::Succeeded, "{:?}", run.status_reason);
    let waited = between(&h, run.id, RunStatus::Submitted, RunStatus::Starting).await;
    assert!(
        waited >= GIVE_WAY && waited < GIVE_WAY + Duration::from_secs(10),
        "{waited:?} from submitted to starting"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_submit_being_answered_a_start_does_not_wait() {
    let h = Harness::new(1).await;
    let version = h.shell_model("quick", "true", 60).await;
    let run = h.submit(&version, json!({})).await;
    h.drain().await;
    let waited = between(&h, run.id, RunStatus::Submitted, RunStatus::Starting).await;
    assert!(waited < GIVE_WAY, "{waited:?} from submitted to starting");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_cancelled_while_it_gives_way_never_starts() {
    let h = Harness::new(1).await;
    let version = h
        .shell_model("never", "touch \"$MODELRUN_OUTPUT_DIR/ran\"", 60)
        .await;
    let _answering = h.intake.answering();
    let run = h.submit(&version, json!({})).await;
    h.wait_for(run.id, RunStatus::Submitted).await;
    h.cancel(run.id, "bob@example.com").await;
    // Ended by the cancel while the submit is still being answered: not by
    // the bound running out.
    h.wait_for(run.id, RunStatus::Cancelled).await;
    let waited = between(&h, run.id, RunStatus::Submitted, RunStatus::Cancelled).await;
    assert!(waited < GIVE_WAY, "{waited:?} from submitted to cancelled");
    let statuses = h.statuses(run.id).await;
    assert!(!statuses.contains(&RunStatus::Starting), "{statuses:?}");
    assert!(
        h.store
            .run_outputs(run.id)
            .await
            .expect("outputs")
            .is_empty()
    );
}

/// The time from the run's `from` event to its `to` event.
async fn between(h: &Harness, run: RunId, from: RunStatus, to: RunStatus) -> Duration {
    let events = h.store.run_events(run).await.expect("events");
    let at = |status| {
        events
            .iter()
            .find(|e| e.status == Some(status))
            .unwrap_or_else(|| panic!("no {status} event"))
            .at
    };
    (at(to) - at(from)).to_std().expect("in order")
}
