//! Submits that arrive together are written together, and each is still
//! answered for itself: a retired or missing version, a one-time key used
//! before or twice at once, the submit rate, a write that one submit's data
//! breaks. Each test sends its submits at once, so that the store finds
//! them waiting side by side.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use modelrun_core::alongside::{Alongside, AuditFor, Counted};
use modelrun_core::audit::{Actor, AuditAction, AuditFilter, NewAuditEntry};
use modelrun_core::estimate::{DurationStats, Estimate};
use modelrun_core::ids::{UserId, VersionId};
use modelrun_core::limit::{Limit, Verdict};
use modelrun_core::model::ModelVersion;
use modelrun_core::run::{NewRun, Run, RunFilter};
use modelrun_core::status::RunStatus;
use modelrun_core::store::{Store, StoreError, StoreResult};
use modelrun_core::task::{Queued, TaskState};
use tokio::task::JoinSet;

use crate::support;

const RATE: &str = "submit:user:together";

fn new_run(version: VersionId, by: UserId, key: Option<&str>) -> NewRun {
    NewRun {
        version_id: version,
        submitted_by: by,
        inputs: support::inputs(0.4),
        resources: Default::default(),
        submit_key: key.map(str::to_owned),
        rerun_of: None,
        production_only: false,
    }
}

fn entry_by(actor: UserId) -> AuditFor<Run> {
    Box::new(move |run| {
        NewAuditEntry::new(
            Actor::user(actor, "ann@example.com"),
            AuditAction::RunSubmit,
            format!("run {}", run.id),
        )
    })
}

fn alongside(version: &ModelVersion, actor: UserId, max: u32) -> Alongside<Run> {
    Alongside {
        estimate: Some(Estimate::new(
            version.resources,
            1,
            DurationStats::of(vec![30]),
            None,
        )),
        audit: Some(entry_by(actor)),
        limit: Some(Counted {
            key: RATE.to_owned(),
            limit: Limit::new(max, Duration::from_secs(3600)),
        }),
    }
}

/// Sends every submit at once; answers in the order given.
async fn all_at_once(
    store: &Arc<dyn Store>,
    submits: Vec<(NewRun, Alongside<Run>)>,
) -> Vec<StoreResult<Queued<Run>>> {
    let mut set = JoinSet::new();
    for (position, (run, alongside)) in submits.into_iter().enumerate() {
        let store = store.clone();
        set.spawn(async move { (position, store.create_run_with(run, alongside).await) });
    }
    let mut answers: Vec<_> = set.join_all().await;
    answers.sort_by_key(|(position, _)| *position);
    answers.into_iter().map(|(_, answer)| answer).collect()
}

async fn runs_of(store: &Arc<dyn Store>, by: UserId) -> Vec<Run> {
    let filter = RunFilter {
        submitted_by: Some(by),
        limit: 100,
        ..Default::default()
    };
    store.list_runs(&filter).await.expect("runs").items
}

pub async fn submits_written_together_are_each_answered(store: Arc<dyn Store>) {
    let (ann, version, _) = support::seeded(&store).await;
    let bob = support::user(&store, "bob@example.com").await;
    let old = support::version(&store, "forecast", "v0").await;
    store
        .retire_version(old.id, Utc::now())
        .await
        .expect("retire");
    let mut submits = Vec::new();
    // Six keyless submits of Bob's under a limit of four a window.
    for _ in 0..6 {
        submits.push((
            new_run(version.id, bob.id, None),
            alongside(&version, bob.id, 4),
        ));
    }
    // Ann: the same key twice at once, a key used before, a retired version
    // and one that does not exist; no limit.
    let before = store
        .create_run_with(
            new_run(version.id, ann.id, Some("used")),
            Alongside::default(),
        )
        .await
        .expect("a run with a key");
    let no_limit = |by: UserId| Alongside {
        audit: Some(entry_by(by)),
        ..Alongside::default()
    };
    submits.push((new_run(version.id, ann.id, Some("twice")), no_limit(ann.id)));
    submits.push((new_run(version.id, ann.id, Some("twice")), no_limit(ann.id)));
    submits.push((new_run(version.id, ann.id, Some("used")), no_limit(ann.id)));
    submits.push((new_run(old.id, ann.id, None), no_limit(ann.id)));
    submits.push((
        new_run(VersionId(old.id.0 + 1000), ann.id, None),
        no_limit(ann.id),
    ));
    let answers = all_at_once(&store, submits).await;

    // Bob: four made, two refused; all six attempts count.
    let made: Vec<&Queued<Run>> = answers[..6]
        .iter()
        .filter_map(|a| a.as_ref().ok())
        .collect();
    assert_eq!(made.len(), 4, "{:?}", &answers[..6]);
    let refused = answers[..6]
        .iter()
        .filter(|a| matches!(a, Err(StoreError::OverLimit { retry_after, .. }) if *retry_after > Duration::ZERO))
        .count();
    assert_eq!(refused, 2, "{:?}", &answers[..6]);
    let next = store
        .hit(RATE, Limit::new(6, Duration::from_secs(3600)), Utc::now())
        .await
        .expect("hit");
    assert!(
        matches!(next, Verdict::Refused { first: true, .. }),
        "six attempts were counted, so the seventh is the first over six: {next:?}"
    );
    // Each run made is whole: queued, its first event, its dispatch task,
    // its estimate and its audit entry.
    let mut tasks = std::collections::HashSet::new();
    for queued in &made {
        let run = &queued.item;
        assert_eq!(run.status, RunStatus::Queued);
        assert_eq!(run.submitted_by, bob.id);
        assert_eq!(run.model_name, "forecast");
        let events = store.run_events(run.id).await.expect("events");
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].status, Some(RunStatus::Queued));
        let task = store
            .task(queued.task)
            .await
            .expect("task")
            .expect("a task");
        assert_eq!(task.state, TaskState::Queued);
        assert_eq!(task.payload["run_id"], serde_json::json!(run.id.0));
        assert!(tasks.insert(queued.task), "one task per run");
        let estimate = store.run_estimate(run.id).await.expect("estimate");
        assert!(estimate.is_some(), "run {} has its estimate", run.id);
    }
    assert_eq!(runs_of(&store, bob.id).await.len(), 4);
    let entries = store
        .audit_entries(&AuditFilter {
            action: Some(AuditAction::RunSubmit),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("audit");
    for queued in &made {
        let target = format!("run {}", queued.item.id);
        assert!(
            entries.iter().any(|e| e.target == target),
            "an audit entry for {target}"
        );
    }

    // Ann: one run for the key sent twice, and the other answer names it.
    let twice: Vec<_> = answers[6..8].iter().collect();
    let run = twice
        .iter()
        .find_map(|a| a.as_ref().ok())
        .expect("one of the two is made")
        .item
        .id;
    assert!(
        twice
            .iter()
            .any(|a| matches!(a, Err(StoreError::AlreadySubmitted(id)) if *id == run)),
        "{twice:?}"
    );
    assert!(
        matches!(&answers[8], Err(StoreError::AlreadySubmitted(id)) if *id == before.item.id),
        "{:?}",
        answers[8]
    );
    assert!(
        matches!(&answers[9], Err(StoreError::Conflict(m)) if m.contains("retired")),
        "{:?}",
        answers[9]
    );
    assert!(
        matches!(&answers[10], Err(StoreError::NotFound)),
        "{:?}",
        answers[10]
    );
    // The seeded run, the one made before and the one of the key sent twice.
    assert_eq!(runs_of(&store, ann.id).await.len(), 3);
}

pub async fn a_bad_submit_does_not_fail_its_neighbours(store: Arc<dyn Store>) {
    let (ann, version, _) = support::seeded(&store).await;
    let bob = support::user(&store, "bob@example.com").await;
    let mut submits = Vec::new();
    for i in 0..8 {
        // The fourth one's audit entry names no user: its write fails.
        let actor = if i == 3 {
            UserId(ann.id.0 + 1000)
        } else {
            bob.id
        };
        submits.push((
            new_run(version.id, bob.id, None),
            alongside(&version, actor, 100),
        ));
    }
    let answers = all_at_once(&store, submits).await;
    for (i, answer) in answers.iter().enumerate() {
        if i == 3 {
            assert!(matches!(answer, Err(StoreError::Backend(_))), "{answer:?}");
        } else {
            assert!(answer.is_ok(), "submit {i}: {answer:?}");
        }
    }
    assert_eq!(runs_of(&store, bob.id).await.len(), 7);
    // Seven made; the failed one counted nothing.
    let next = store
        .hit(RATE, Limit::new(7, Duration::from_secs(3600)), Utc::now())
        .await
        .expect("hit");
    assert!(
        matches!(next, Verdict::Refused { first: true, .. }),
        "seven attempts were counted: {next:?}"
    );
}
