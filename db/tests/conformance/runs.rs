use std::sync::Arc;

use modelrun_core::email::NewEmail;
use modelrun_core::run::{EventKind, FollowUp, RunFilter, RunOutput, StatusChange, Transitioned};
use modelrun_core::status::RunStatus;
use modelrun_core::store::{Store, StoreError};
use modelrun_core::task::{DispatchRun, NewTask, TaskKind};
use serde_json::json;

use crate::support;

pub async fn a_new_run_comes_with_its_event_and_dispatch_task(store: Arc<dyn Store>) {
    let (ann, version, run) = support::seeded(&store).await;
    assert_eq!(run.status, RunStatus::Queued);
    assert_eq!(
        (run.model_name.as_str(), run.version_label.as_str()),
        ("forecast", "v1")
    );
    assert_eq!(run.submitted_by, ann.id);
    assert_eq!(run.submitter_email, "ann@example.com");
    assert_eq!(run.inputs, support::inputs(0.1));
    assert_eq!(run.resources, version.resources);
    assert!(run.started_at.is_none() && run.finished_at.is_none() && run.job_id.is_none());

    let events = store.run_events(run.id).await.expect("events");
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].kind, events[0].status),
        (EventKind::Status, Some(RunStatus::Queued))
    );

    let tasks = store.list_tasks(None, 10).await.expect("tasks");
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].kind, TaskKind::DispatchRun);
    let payload: DispatchRun = serde_json::from_value(tasks[0].payload.clone()).expect("payload");
    assert_eq!(payload.run_id, run.id);
    assert_eq!(store.run(run.id).await.expect("get"), Some(run));

    // The store says which task carries a new run on: the kick names it.
    let second = store
        .create_run(modelrun_core::run::NewRun {
            version_id: version.id,
            submitted_by: ann.id,
            inputs: support::inputs(0.2),
            resources: version.resources,
            submit_key: None,
            rerun_of: None,
            production_only: false,
        })
        .await
        .expect("second run");
    let newest = &store.list_tasks(None, 10).await.expect("tasks")[0];
    assert_eq!(second.task, newest.id);
    let payload: DispatchRun = serde_json::from_value(newest.payload.clone()).expect("payload");
    assert_eq!(payload.run_id, second.item.id);
}

pub async fn transitions_follow_the_status_machine(store: Arc<dyn Store>) {
    let (_, _, run) = support::seeded(&store).await;
    let to = |status| StatusChange::new(run.id, status);
    let mut submitted = to(RunStatus::Submitted);
    submitted.job_id = Some("job-1".to_owned());
    let mut reported = to(RunStatus::Running);
    reported.job_id = Some("job-1".to_owned());
    for change in [to(RunStatus::Dispatching), submitted, reported] {
        assert!(matches!(
            store.transition(change).await.expect("apply"),
            Transitioned::Applied { .. }
        ));
    }
    let running = store.run(run.id).await.expect("get").expect("run");
    assert_eq!(running.status, RunStatus::Running);
    assert_eq!(running.job_id.as_deref(), Some("job-1"));
    assert!(running.started_at.is_some() && running.finished_at.is_none());

    // Stale and repeated reports change nothing.
    assert!(matches!(
        store
            .transition(to(RunStatus::Runnable))
            .await
            .expect("stale"),
        Transitioned::Ignored(_)
    ));
    assert!(matches!(
        store
            .transition(to(RunStatus::Running))
            .await
            .expect("repeat"),
        Transitioned::Ignored(_)
    ));
    // Illegal requests are refused.
    assert!(matches!(
        store.transition(to(RunStatus::Cancelled)).await,
        Err(StoreError::IllegalTransition(_))
    ));
    assert!(matches!(
        store.transition(to(RunStatus::Queued)).await,
        Err(StoreError::IllegalTransition(_))
    ));

    let done = store
        .transition(
            to(RunStatus::Succeeded)
                .reason("exit code 0")
                .fact("exit_code", 0),
        )
        .await
        .expect("finish");
    assert!(matches!(done, Transitioned::Applied { .. }), "{done:?}");
    let done = store.run(run.id).await.expect("get").expect("run");
    assert_eq!(done.status, RunStatus::Succeeded);
    assert_eq!(done.status_reason.as_deref(), Some("exit code 0"));
    assert!(done.finished_at.is_some());
    assert_eq!(done.started_at, running.started_at);
    assert!(matches!(
        store.transition(to(RunStatus::Failed)).await,
        Err(StoreError::IllegalTransition(_))
    ));

    let statuses: Vec<_> = store
        .run_events(run.id)
        .await
        .expect("events")
        .iter()
        .map(|e| e.status)
        .collect();
    assert_eq!(
        statuses,
        [
            Some(RunStatus::Queued),
            Some(RunStatus::Dispatching),
            Some(RunStatus::Submitted),
            Some(RunStatus::Running),
            Some(RunStatus::Succeeded)
        ]
    );
    let events = store.run_events(run.id).await.expect("events");
    assert_eq!(events[0].message, "queued: submitted by ann@example.com");
    assert_eq!(
        events[2].data["job_id"], "job-1",
        "the job id is recorded when first known"
    );
    assert_eq!(events[3].data.get("job_id"), None, "and not repeated");
    assert_eq!(events[4].data, json!({"exit_code": 0}));
    assert!(matches!(
        store
            .transition(StatusChange::new(
                modelrun_core::ids::RunId(999),
                RunStatus::Running
            ))
            .await,
        Err(StoreError::NotFound)
    ));
}

fn email(subject: &str) -> NewEmail {
    NewEmail {
        to: "ann@example.com".to_owned(),
        subject: subject.to_owned(),
        text: "t".to_owned(),
        html: "h".to_owned(),
        run_id: None,
    }
}

pub async fn an_applied_transition_writes_its_outputs_and_follow_ups(store: Arc<dyn Store>) {
    let (_, _, run) = support::seeded(&store).await;
    let mut change = StatusChange::new(run.id, RunStatus::Succeeded);
    change.outputs = vec![
        RunOutput {
            name: "forecast.csv".to_owned(),
            size: 120,
            content_type: "text/csv".to_owned(),
            sha256: Some("ab".repeat(32)),
        },
        RunOutput {
            name: "charts/a.png".to_owned(),
            size: 7,
            content_type: "image/png".to_owned(),
            sha256: None,
        },
    ];
    change.follow_ups = vec![
        FollowUp::Email(email("Run succeeded")),
        FollowUp::Task(NewTask::new(TaskKind::CancelRun, json!({"run_id": run.id}))),
    ];
    let outcome = store.transition(change).await.expect("apply");
    let names: Vec<_> = store
        .run_outputs(run.id)
        .await
        .expect("outputs")
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["charts/a.png", "forecast.csv"]);
    let emails = store.list_emails(None, 10).await.expect("emails");
    assert_eq!(emails.len(), 1);
    let tasks = store.list_tasks(None, 10).await.expect("tasks");
    let kinds: Vec<_> = tasks.iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        [
            TaskKind::CancelRun,
            TaskKind::SendEmail,
            TaskKind::DispatchRun
        ]
    );
    // The outcome names the follow-ups' tasks, in the order of the follow-ups.
    assert_eq!(outcome.tasks(), [tasks[1].id, tasks[0].id]);
}

pub async fn an_ignored_transition_writes_nothing(store: Arc<dyn Store>) {
    let (_, _, run) = support::seeded(&store).await;
    store
        .transition(StatusChange::new(run.id, RunStatus::Running))
        .await
        .expect("running");
    let mut stale = StatusChange::new(run.id, RunStatus::Starting);
    stale.outputs = vec![RunOutput {
        name: "x".to_owned(),
        size: 1,
        content_type: "text/plain".to_owned(),
        sha256: None,
    }];
    stale.follow_ups = vec![FollowUp::Email(email("should not exist"))];
    let outcome = store.transition(stale).await.expect("ignored");
    assert!(matches!(outcome, Transitioned::Ignored(ref r) if r.status == RunStatus::Running));
    assert!(outcome.tasks().is_empty());
    assert!(store.run_outputs(run.id).await.expect("outputs").is_empty());
    assert!(
        store
            .list_emails(None, 10)
            .await
            .expect("emails")
            .is_empty()
    );
    assert_eq!(store.run_events(run.id).await.expect("events").len(), 2);
    assert_eq!(store.list_tasks(None, 10).await.expect("tasks").len(), 1);
}

pub async fn facts_are_appended_without_changing_status(store: Arc<dyn Store>) {
    let (_, _, run) = support::seeded(&store).await;
    store
        .add_fact(
            run.id,
            "log stream is modelrun/1",
            json!({"log_stream": "modelrun/1"}),
        )
        .await
        .expect("fact");
    let events = store.run_events(run.id).await.expect("events");
    assert_eq!(events.len(), 2);
    assert_eq!((events[1].kind, events[1].status), (EventKind::Fact, None));
    assert_eq!(events[1].data["log_stream"], "modelrun/1");
    assert_eq!(
        store.run(run.id).await.expect("get").map(|r| r.status),
        Some(RunStatus::Queued)
    );
    assert!(matches!(
        store
            .add_fact(modelrun_core::ids::RunId(999), "x", json!({}))
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Fifty people submitting at the same moment all get their run: writes wait
/// for each other, none fails with a lock error.
pub async fn concurrent_submitters_all_succeed(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let version = support::version(&store, "forecast", "v1").await;
    let mut handles = Vec::new();
    for _ in 0..50 {
        let store = store.clone();
        let version = version.clone();
        handles.push(tokio::spawn(async move {
            support::run(&store, &version, ann.id).await.id
        }));
    }
    // A busy worker claiming and completing at the same time.
    let worker = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut claimed = 0;
            for _ in 0..200 {
                if let Some(task) = store
                    .claim(chrono::Utc::now(), chrono::Duration::seconds(60))
                    .await
                    .expect("claim")
                {
                    store
                        .complete(&task, chrono::Utc::now())
                        .await
                        .expect("complete");
                    claimed += 1;
                }
                tokio::task::yield_now().await;
            }
            claimed
        })
    };
    let mut ids = Vec::new();
    for handle in handles {
        ids.push(handle.await.expect("submitter"));
    }
    let claimed = worker.await.expect("worker");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 50);
    let remaining = store
        .list_tasks(Some(modelrun_core::task::TaskState::Queued), 100)
        .await
        .expect("tasks")
        .len();
    assert_eq!(claimed + remaining, 50);
}

/// A multi-step write that fails part-way leaves nothing of itself: here the
/// follow-up email names a run that does not exist, after the status,
/// event and outputs were already written in the same transaction.
/// True when the database refused a write for naming a row that does not
/// exist (a foreign key), and the store passed that on as a backend error.
fn is_dangling_reference(error: &StoreError) -> bool {
    let StoreError::Backend(source) = error else {
        return false;
    };
    matches!(
        source.downcast_ref::<sqlx::Error>(),
        Some(sqlx::Error::Database(db)) if db.is_foreign_key_violation()
    )
}

pub async fn a_failed_transaction_leaves_nothing_behind(store: Arc<dyn Store>) {
    let (ann, version, run) = support::seeded(&store).await;
    let before_events = store.run_events(run.id).await.expect("events").len();
    let mut change = StatusChange::new(run.id, RunStatus::Succeeded);
    change.outputs = vec![RunOutput {
        name: "forecast.csv".to_owned(),
        size: 1,
        content_type: "text/csv".to_owned(),
        sha256: None,
    }];
    change.follow_ups = vec![
        FollowUp::Task(NewTask::new(TaskKind::CancelRun, json!({"run_id": run.id}))),
        FollowUp::Email(NewEmail {
            run_id: Some(modelrun_core::ids::RunId(9999)),
            ..email("dangling")
        }),
    ];
    let error = store
        .transition(change)
        .await
        .expect_err("the dangling email should fail the write");
    assert!(is_dangling_reference(&error), "{error:?}");
    let after = store.run(run.id).await.expect("get").expect("run");
    assert_eq!(after.status, RunStatus::Queued);
    assert!(after.finished_at.is_none());
    assert_eq!(
        store.run_events(run.id).await.expect("events").len(),
        before_events
    );
    assert!(store.run_outputs(run.id).await.expect("outputs").is_empty());
    assert!(
        store
            .list_emails(None, 10)
            .await
            .expect("emails")
            .is_empty()
    );
    assert_eq!(
        store.list_tasks(None, 10).await.expect("tasks").len(),
        1,
        "only the dispatch task"
    );

    // A run for a submitter who does not exist is refused whole: no run, no task.
    let refused = store
        .create_run(modelrun_core::run::NewRun {
            version_id: version.id,
            submitted_by: modelrun_core::ids::UserId(ann.id.0 + 100),
            inputs: support::inputs(0.2),
            resources: version.resources,
            submit_key: None,
            rerun_of: None,
            production_only: false,
        })
        .await
        .expect_err("a run needs a submitter");
    assert!(is_dangling_reference(&refused), "{refused:?}");
    let runs = store
        .list_runs(&RunFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("runs");
    assert_eq!(runs.items.len(), 1);
    assert_eq!(store.list_tasks(None, 10).await.expect("tasks").len(), 1);
    store.ping().await.expect("ping");
    assert!(["sqlite", "postgres"].contains(&store.backend()));
}

pub async fn the_log_stream_is_recorded_from_a_change_or_a_fact(store: Arc<dyn Store>) {
    let (_, _, run) = support::seeded(&store).await;
    assert_eq!(run.log_stream, None);
    store
        .add_fact(
            run.id,
            "log stream known",
            json!({"log_stream": "jobs/default/abc"}),
        )
        .await
        .expect("fact");
    assert_eq!(
        store
            .run(run.id)
            .await
            .expect("get")
            .and_then(|r| r.log_stream)
            .as_deref(),
        Some("jobs/default/abc")
    );
    let mut running = StatusChange::new(run.id, RunStatus::Running);
    running.log_stream = Some("jobs/default/def".to_owned());
    store.transition(running).await.expect("running");
    assert_eq!(
        store
            .run(run.id)
            .await
            .expect("get")
            .and_then(|r| r.log_stream)
            .as_deref(),
        Some("jobs/default/def")
    );
    // A change that says nothing about the log keeps what is known.
    store
        .transition(StatusChange::new(run.id, RunStatus::Succeeded))
        .await
        .expect("end");
    assert_eq!(
        store
            .run(run.id)
            .await
            .expect("get")
            .and_then(|r| r.log_stream)
            .as_deref(),
        Some("jobs/default/def")
    );
}
