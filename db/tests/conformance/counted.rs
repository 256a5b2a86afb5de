//! A submission's attempt is counted against the submit rate with what it
//! writes: over the limit nothing is made and the refusal is counted, as
//! `RateLimits::hit` counts it; a submission that makes nothing for
//! another reason (a failed write, a repeated one-time key) counts nothing.
//! And several status changes are written in one transaction, each with its
//! own answer.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use modelrun_core::alongside::{Alongside, AuditFor, Counted};
use modelrun_core::audit::{Actor, AuditAction, NewAuditEntry};
use modelrun_core::ids::{RunId, UserId};
use modelrun_core::limit::{Limit, Verdict};
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{NewRun, Run, RunFilter, StatusChange, Transitioned};
use modelrun_core::status::RunStatus;
use modelrun_core::store::{Store, StoreError};
use modelrun_core::sweep::{Axis, NewSweep, SweepCreated};
use serde_json::json;

use crate::support;

fn new_run(version: &ModelVersion, by: UserId, key: Option<&str>) -> NewRun {
    NewRun {
        version_id: version.id,
        submitted_by: by,
        inputs: support::inputs(0.3),
        resources: version.resources,
        submit_key: key.map(str::to_owned),
        rerun_of: None,
        production_only: false,
    }
}

fn rate(max: u32) -> Counted {
    Counted {
        key: "submit:user:test".to_owned(),
        limit: Limit::new(max, Duration::from_secs(3600)),
    }
}

fn counted(max: u32) -> Alongside<Run> {
    Alongside {
        limit: Some(rate(max)),
        ..Alongside::default()
    }
}

async fn run_count(store: &Arc<dyn Store>) -> usize {
    let filter = RunFilter {
        limit: 100,
        ..Default::default()
    };
    store.list_runs(&filter).await.expect("runs").items.len()
}

pub async fn a_submission_counts_only_when_it_makes_something(store: Arc<dyn Store>) {
    let (ann, version, _) = support::seeded(&store).await;
    let before = run_count(&store).await;
    // A write that fails (its audit entry's actor is no user) counts nothing.
    let no_user: AuditFor<Run> = Box::new(move |run| {
        NewAuditEntry::new(
            Actor::user(UserId(ann.id.0 + 100), "nobody@example.com"),
            AuditAction::RunSubmit,
            format!("run {}", run.id),
        )
    });
    let failed = store
        .create_run_with(
            new_run(&version, ann.id, None),
            Alongside {
                audit: Some(no_user),
                limit: Some(rate(2)),
                ..Alongside::default()
            },
        )
        .await
        .expect_err("an entry by no user is refused");
    assert!(matches!(failed, StoreError::Backend(_)), "{failed:?}");
    // Two are allowed; a key's repeat makes nothing and counts nothing.
    let first = store
        .create_run_with(new_run(&version, ann.id, Some("k1")), counted(2))
        .await
        .expect("first");
    let repeated = store
        .create_run_with(new_run(&version, ann.id, Some("k1")), counted(2))
        .await
        .expect_err("the key was used");
    assert!(
        matches!(repeated, StoreError::AlreadySubmitted(id) if id == first.item.id),
        "{repeated:?}"
    );
    store
        .create_run_with(new_run(&version, ann.id, None), counted(2))
        .await
        .expect("second");
    assert_eq!(run_count(&store).await, before + 2);
    // The third is refused, makes nothing, and is the window's first refusal.
    for first in [true, false] {
        let refused = store
            .create_run_with(new_run(&version, ann.id, None), counted(2))
            .await
            .expect_err("over the limit");
        assert!(
            matches!(refused, StoreError::OverLimit { first: f, retry_after } if f == first && retry_after > Duration::ZERO),
            "{refused:?}"
        );
    }
    assert_eq!(run_count(&store).await, before + 2);
    // Two made, two refused: the counter holds four attempts.
    let next = store
        .hit(
            &rate(4).key,
            Limit::new(4, Duration::from_secs(3600)),
            Utc::now(),
        )
        .await
        .expect("hit");
    assert!(
        matches!(next, Verdict::Refused { first: true, .. }),
        "the fifth attempt is the first over four: {next:?}"
    );
}

pub async fn a_sweep_counts_once_however_many_runs(store: Arc<dyn Store>) {
    let (ann, version, _) = support::seeded(&store).await;
    let sweep = |key: &str| NewSweep {
        version_id: version.id,
        submitted_by: ann.id,
        inputs: Default::default(),
        axes: vec![Axis {
            field: "growth".to_owned(),
            values: (0..3).map(|i| json!(i)).collect(),
        }],
        runs: (0..3).map(|_| new_run(&version, ann.id, None)).collect(),
        submit_key: Some(key.to_owned()),
        array: false,
    };
    let with_limit = || Alongside {
        limit: Some(rate(2)),
        ..Alongside::default()
    };
    let made = store
        .create_sweep(sweep("s1"), with_limit())
        .await
        .expect("sweep");
    assert!(matches!(made, SweepCreated::New { .. }));
    // Its repeat makes nothing and is not refused: it counts nothing.
    let again = store
        .create_sweep(sweep("s1"), with_limit())
        .await
        .expect("repeat");
    assert!(matches!(again, SweepCreated::Repeated(_)), "{again:?}");
    // One sweep of three runs counted one: a second is allowed, a third not.
    let second = store
        .create_sweep(sweep("s2"), with_limit())
        .await
        .expect("second sweep");
    assert!(matches!(second, SweepCreated::New { .. }));
    let refused = store
        .create_sweep(sweep("s3"), with_limit())
        .await
        .expect_err("over the limit");
    assert!(
        matches!(refused, StoreError::OverLimit { first: true, .. }),
        "{refused:?}"
    );
}

pub async fn status_changes_are_written_together_each_with_its_answer(store: Arc<dyn Store>) {
    let (ann, version, first) = support::seeded(&store).await;
    let second = store
        .create_run_with(new_run(&version, ann.id, None), Alongside::default())
        .await
        .expect("run")
        .item;
    let answers = store
        .transition_many(vec![
            StatusChange::new(first.id, RunStatus::Dispatching),
            StatusChange::new(RunId(first.id.0 + 1000), RunStatus::Dispatching),
            StatusChange::new(second.id, RunStatus::Dispatching),
            // A repeat of the first: ignored, with the run as the batch left it.
            StatusChange::new(first.id, RunStatus::Dispatching),
            // Back to queued is illegal, and fails alone.
            StatusChange::new(second.id, RunStatus::Queued),
        ])
        .await
        .expect("written");
    assert_eq!(answers.len(), 5);
    assert!(
        matches!(answers[0], Ok(Transitioned::Applied { .. })),
        "{:?}",
        answers[0]
    );
    assert!(
        matches!(answers[1], Err(StoreError::NotFound)),
        "{:?}",
        answers[1]
    );
    assert!(
        matches!(answers[2], Ok(Transitioned::Applied { .. })),
        "{:?}",
        answers[2]
    );
    assert!(
        matches!(&answers[3], Ok(Transitioned::Ignored(run)) if run.status == RunStatus::Dispatching),
        "{:?}",
        answers[3]
    );
    assert!(
        matches!(answers[4], Err(StoreError::IllegalTransition(_))),
        "{:?}",
        answers[4]
    );
    for id in [first.id, second.id] {
        let run = store.run(id).await.expect("read").expect("run");
        assert_eq!(run.status, RunStatus::Dispatching);
        let events = store.run_events(id).await.expect("events");
        assert_eq!(
            events
                .iter()
                .filter(|e| e.status == Some(RunStatus::Dispatching))
                .count(),
            1,
            "one event each: {events:?}"
        );
    }
}

/// Several changes of one run in a batch leave it as they would one after
/// the other: the last status, reason and times, and a job id or log
/// stream that a later change does not repeat is kept. Runs changed in one
/// batch are written in one statement, a run with nothing to set beside
/// one with everything.
pub async fn changes_of_one_run_in_a_batch_add_up(store: Arc<dyn Store>) {
    let (ann, version, first) = support::seeded(&store).await;
    let run = store
        .create_run_with(new_run(&version, ann.id, None), Alongside::default())
        .await
        .expect("run")
        .item;
    let mut submitted = StatusChange::new(run.id, RunStatus::Submitted);
    submitted.job_id = Some("job-1".to_owned());
    submitted.log_stream = Some("stream-1".to_owned());
    submitted.reason = Some("handed over".to_owned());
    let answers = store
        .transition_many(vec![
            StatusChange::new(run.id, RunStatus::Dispatching),
            submitted,
            // The first row written: no job, no times, no reason.
            StatusChange::new(first.id, RunStatus::Dispatching),
            StatusChange::new(run.id, RunStatus::Running),
        ])
        .await
        .expect("written");
    assert!(
        answers
            .iter()
            .all(|answer| matches!(answer, Ok(Transitioned::Applied { .. }))),
        "{answers:?}"
    );
    let now = store.run(run.id).await.expect("read").expect("run");
    assert_eq!(now.status, RunStatus::Running);
    assert_eq!(now.job_id.as_deref(), Some("job-1"));
    assert_eq!(now.log_stream.as_deref(), Some("stream-1"));
    assert_eq!(now.status_reason, None, "the last change gave no reason");
    assert!(
        now.started_at.is_some() && now.finished_at.is_none(),
        "{now:?}"
    );
    assert_eq!(now.attempt, 1);
    let statuses: Vec<_> = store
        .run_events(run.id)
        .await
        .expect("events")
        .iter()
        .filter_map(|event| event.status)
        .collect();
    assert_eq!(
        statuses,
        [
            RunStatus::Queued,
            RunStatus::Dispatching,
            RunStatus::Submitted,
            RunStatus::Running
        ]
    );
    let first = store.run(first.id).await.expect("read").expect("run");
    assert_eq!(first.status, RunStatus::Dispatching);
    assert!(
        first.job_id.is_none() && first.log_stream.is_none() && first.started_at.is_none(),
        "{first:?}"
    );
}
