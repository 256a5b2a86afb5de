//! Attempts of a job: AWS Batch retries a job after an infrastructure fault.

use std::sync::Arc;

use modelrun_core::run::{StatusChange, Transitioned};
use modelrun_core::status::RunStatus;
use modelrun_core::store::Store;

use crate::support;

/// A retried job: a later attempt takes the run back to `runnable`, an
/// earlier attempt's report is stale.
pub async fn a_later_attempt_goes_back_and_an_earlier_one_is_stale(store: Arc<dyn Store>) {
    let (_, _, run) = support::seeded(&store).await;
    store
        .transition(StatusChange::new(run.id, RunStatus::Running))
        .await
        .expect("running");
    assert_eq!(
        store.run(run.id).await.expect("run").expect("run").attempt,
        1
    );
    let mut retried = StatusChange::new(run.id, RunStatus::Runnable).reason("host lost");
    retried.attempt = Some(2);
    let outcome = store.transition(retried).await.expect("retried");
    assert!(
        matches!(outcome, Transitioned::Applied { .. }),
        "{outcome:?}"
    );
    let retried = store.run(run.id).await.expect("get").expect("run");
    assert_eq!((retried.status, retried.attempt), (RunStatus::Runnable, 2));
    let last = store
        .run_events(run.id)
        .await
        .expect("events")
        .pop()
        .expect("event");
    assert_eq!(last.message, "runnable (attempt 2): host lost");
    assert_eq!(last.data["attempt"], 2);
    let mut stale = StatusChange::new(run.id, RunStatus::Running);
    stale.attempt = Some(1);
    let outcome = store.transition(stale).await.expect("stale");
    assert!(matches!(outcome, Transitioned::Ignored(ref r)
        if r.status == RunStatus::Runnable && r.attempt == 2));
    // A report without an attempt keeps the run's.
    store
        .transition(StatusChange::new(run.id, RunStatus::Running))
        .await
        .expect("running again");
    assert_eq!(
        store.run(run.id).await.expect("run").expect("run").attempt,
        2
    );
}
