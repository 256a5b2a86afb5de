//! Sending a run back to the queue when its job never started the model
//! (its worker died first): only from `submitted` to `starting`, only for
//! the job that asked, with a new dispatch task in the same transaction.

use std::sync::Arc;

use modelrun_core::run::{StatusChange, Transitioned};
use modelrun_core::status::RunStatus;
use modelrun_core::store::Store;
use modelrun_core::task::DispatchRun;

use crate::support;

pub async fn a_run_whose_job_never_started_is_queued_again(store: Arc<dyn Store>) {
    let (_, _, run) = support::seeded(&store).await;
    // The first dispatch ran to its end.
    let now = chrono::Utc::now();
    let dispatch = store
        .claim(now, chrono::Duration::seconds(60))
        .await
        .expect("claim")
        .expect("the dispatch task");
    store.complete(&dispatch, now).await.expect("complete");
    let mut submitted = StatusChange::new(run.id, RunStatus::Submitted);
    submitted.job_id = Some("job-1".to_owned());
    store.transition(submitted).await.expect("submitted");
    store
        .transition(StatusChange::new(run.id, RunStatus::Runnable))
        .await
        .expect("runnable");
    let tasks_before = store.list_tasks(None, 10).await.expect("tasks").len();

    let other = store
        .requeue(run.id, "job-2", "why")
        .await
        .expect("other job");
    assert!(
        matches!(other, Transitioned::Ignored(_)),
        "another job's word"
    );

    let again = store
        .requeue(run.id, "job-1", "dispatched again: its worker stopped")
        .await
        .expect("requeue");
    let Transitioned::Applied { tasks } = again else {
        panic!("not applied: {again:?}");
    };
    let queued = store.run(run.id).await.expect("get").expect("run");
    assert_eq!(queued.status, RunStatus::Queued);
    assert_eq!(queued.job_id, None);
    assert_eq!(
        queued.status_reason.as_deref(),
        Some("dispatched again: its worker stopped")
    );
    assert_eq!(tasks.len(), 1);
    let listed = store.list_tasks(None, 10).await.expect("tasks");
    assert_eq!(listed.len(), tasks_before + 1);
    let payload: DispatchRun = serde_json::from_value(listed[0].payload.clone()).expect("payload");
    assert_eq!((listed[0].id, payload.run_id), (tasks[0], run.id));
    let events = store.run_events(run.id).await.expect("events");
    let last = events.last().expect("event");
    assert_eq!(last.status, Some(RunStatus::Queued));
    assert!(
        last.message.contains("dispatched again"),
        "{}",
        last.message
    );

    // Queued already, then running: nothing goes back again.
    let twice = store.requeue(run.id, "job-1", "why").await.expect("twice");
    assert!(matches!(twice, Transitioned::Ignored(_)));
    let mut resubmitted = StatusChange::new(run.id, RunStatus::Submitted);
    resubmitted.job_id = Some("job-3".to_owned());
    store.transition(resubmitted).await.expect("submitted");
    store
        .transition(StatusChange::new(run.id, RunStatus::Running))
        .await
        .expect("running");
    let running = store
        .requeue(run.id, "job-3", "why")
        .await
        .expect("running");
    assert!(matches!(running, Transitioned::Ignored(_)));
    assert_eq!(
        store.run(run.id).await.expect("run").expect("run").status,
        RunStatus::Running
    );
}
