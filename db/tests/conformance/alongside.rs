//! What a submission writes with its run (or its sweep): its estimate and
//! its audit entry, in the same transaction, so that they exist with the run or
//! not at all; and its first event, which a submit's answer shows without
//! reading it back.

use std::sync::Arc;

use modelrun_core::alongside::{Alongside, AuditFor};
use modelrun_core::audit::{Actor, AuditAction, AuditFilter, NewAuditEntry};
use modelrun_core::estimate::{DurationStats, Estimate};
use modelrun_core::ids::UserId;
use modelrun_core::run::{NewRun, RunEvent, RunFilter};
use modelrun_core::store::{Store, StoreError};
use modelrun_core::sweep::{Axis, NewSweep, Sweep, SweepCreated};
use serde_json::json;

use crate::support;

fn new_run(version: &modelrun_core::model::ModelVersion, by: UserId) -> NewRun {
    NewRun {
        version_id: version.id,
        submitted_by: by,
        inputs: support::inputs(0.3),
        resources: version.resources,
        submit_key: None,
        rerun_of: None,
        production_only: false,
    }
}

fn entry_by(actor: UserId) -> AuditFor<modelrun_core::run::Run> {
    Box::new(move |run| {
        NewAuditEntry::new(
            Actor::user(actor, "ann@example.com"),
            AuditAction::RunSubmit,
            format!("run {}", run.id),
        )
        .detail(json!({"model": run.model_name, "alias": run.alias}))
        .from_address("127.0.0.1")
    })
}

async fn audit_targets(store: &Arc<dyn Store>) -> Vec<String> {
    let filter = AuditFilter {
        action: Some(AuditAction::RunSubmit),
        limit: 10,
        ..AuditFilter::default()
    };
    let entries = store.audit_entries(&filter).await.expect("audit");
    entries.into_iter().map(|entry| entry.target).collect()
}

pub async fn a_run_is_written_with_its_estimate_and_audit_entry_or_not_at_all(
    store: Arc<dyn Store>,
) {
    let (ann, version, _) = support::seeded(&store).await;
    let estimate = Estimate::new(version.resources, 1, DurationStats::of(vec![30, 90]), None);
    let queued = store
        .create_run_with(
            new_run(&version, ann.id),
            Alongside {
                estimate: Some(estimate.clone()),
                audit: Some(entry_by(ann.id)),
                limit: None,
            },
        )
        .await
        .expect("create");
    let run = queued.item;
    assert_eq!(
        store.run_estimate(run.id).await.expect("read"),
        Some(estimate)
    );
    let filter = AuditFilter {
        limit: 10,
        ..AuditFilter::default()
    };
    let entry = store.audit_entries(&filter).await.expect("audit").remove(0);
    assert_eq!(
        (entry.action, entry.target.as_str(), &entry.detail),
        (
            AuditAction::RunSubmit,
            format!("run {}", run.id).as_str(),
            &json!({"model": "forecast", "alias": run.alias}),
        ),
        "the entry is made from the created run"
    );
    // The answer's first event is the one written, to the microsecond.
    assert_eq!(
        store.run_events(run.id).await.expect("events"),
        [RunEvent::submitted(&run)]
    );

    // An entry that cannot be written (its actor is no user) takes the run,
    // its task and its estimate with it.
    let runs = |store: Arc<dyn Store>| async move {
        let filter = RunFilter {
            limit: 10,
            ..Default::default()
        };
        store.list_runs(&filter).await.expect("runs").items.len()
    };
    let (runs_before, tasks_before) = (
        runs(store.clone()).await,
        store.list_tasks(None, 10).await.expect("tasks").len(),
    );
    let refused = store
        .create_run_with(
            new_run(&version, ann.id),
            Alongside {
                estimate: Some(Estimate::new(version.resources, 1, None, None)),
                audit: Some(entry_by(UserId(ann.id.0 + 100))),
                limit: None,
            },
        )
        .await
        .expect_err("an entry by no user is refused");
    assert!(matches!(refused, StoreError::Backend(_)), "{refused:?}");
    assert_eq!(runs(store.clone()).await, runs_before);
    assert_eq!(
        store.list_tasks(None, 10).await.expect("tasks").len(),
        tasks_before
    );
    assert_eq!(audit_targets(&store).await.len(), 1, "only the first run's");

    // Without anything alongside, a run is written alone.
    let plain = store
        .create_run(new_run(&version, ann.id))
        .await
        .expect("plain");
    assert_eq!(store.run_estimate(plain.item.id).await.expect("read"), None);
    assert_eq!(audit_targets(&store).await.len(), 1);
}

pub async fn a_sweep_is_written_with_its_estimates_and_audit_entry_or_not_at_all(
    store: Arc<dyn Store>,
) {
    let (ann, version, _) = support::seeded(&store).await;
    let sweep = |runs: usize| NewSweep {
        version_id: version.id,
        submitted_by: ann.id,
        inputs: Default::default(),
        axes: vec![Axis {
            field: "growth".to_owned(),
            values: (0..runs).map(|i| json!(i)).collect(),
        }],
        runs: (0..runs).map(|_| new_run(&version, ann.id)).collect(),
        submit_key: None,
        array: false,
    };
    let entry_by = |actor: UserId| -> AuditFor<Sweep> {
        Box::new(move |sweep| {
            NewAuditEntry::new(
                Actor::user(actor, "ann@example.com"),
                AuditAction::SweepSubmit,
                format!("sweep {}", sweep.id),
            )
            .detail(json!({"runs": sweep.run_count}))
        })
    };
    let estimate = Estimate::new(version.resources, 1, DurationStats::of(vec![60]), None);
    let created = store
        .create_sweep(
            sweep(3),
            Alongside {
                estimate: Some(estimate.clone()),
                audit: Some(entry_by(ann.id)),
                limit: None,
            },
        )
        .await
        .expect("create");
    let SweepCreated::New { sweep: made, .. } = created else {
        panic!("a new sweep")
    };
    for run in store.sweep_runs(made.id).await.expect("runs") {
        assert_eq!(
            store.run_estimate(run.id).await.expect("read"),
            Some(estimate.clone())
        );
    }
    let filter = AuditFilter {
        action: Some(AuditAction::SweepSubmit),
        limit: 10,
        ..AuditFilter::default()
    };
    let entries = store.audit_entries(&filter).await.expect("audit");
    assert_eq!(
        entries
            .iter()
            .map(|entry| (entry.target.clone(), entry.detail.clone()))
            .collect::<Vec<_>>(),
        [(format!("sweep {}", made.id), json!({"runs": 3}))]
    );

    // An entry that cannot be written takes the sweep and its runs with it.
    let tasks_before = store.list_tasks(None, 50).await.expect("tasks").len();
    let refused = store
        .create_sweep(
            sweep(2),
            Alongside {
                estimate: Some(estimate),
                audit: Some(entry_by(UserId(ann.id.0 + 100))),
                limit: None,
            },
        )
        .await
        .expect_err("an entry by no user is refused");
    assert!(matches!(refused, StoreError::Backend(_)), "{refused:?}");
    assert_eq!(store.sweeps(None, 10).await.expect("sweeps").len(), 1);
    assert_eq!(
        store.list_tasks(None, 50).await.expect("tasks").len(),
        tasks_before
    );
    assert_eq!(store.audit_entries(&filter).await.expect("audit").len(), 1);
}
