//! Durations behind estimates, estimates kept with runs, the runs a month
//! counts, and budgets.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use modelrun_core::budget::BudgetScope;
use modelrun_core::config::BatchPlatform;
use modelrun_core::estimate::{DurationStats, Estimate, Prices};
use modelrun_core::ids::{RunId, UserId};
use modelrun_core::run::StatusChange;
use modelrun_core::status::RunStatus;
use modelrun_core::store::{Store, StoreError};

use crate::support;

/// Takes a run from `queued` to `end`, `ms` milliseconds after it started.
async fn finish(store: &Arc<dyn Store>, run: RunId, end: RunStatus, ms: u64) {
    let mut submitted = StatusChange::new(run, RunStatus::Submitted);
    submitted.job_id = Some(format!("job-{run}"));
    for change in [
        StatusChange::new(run, RunStatus::Dispatching),
        submitted,
        StatusChange::new(run, RunStatus::Running),
    ] {
        store.transition(change).await.expect("transition");
    }
    tokio::time::sleep(Duration::from_millis(ms)).await;
    store
        .transition(StatusChange::new(run, end))
        .await
        .expect("end");
}

pub async fn durations_come_from_the_latest_succeeded_runs_of_the_version(store: Arc<dyn Store>) {
    let (user, version, first) = support::seeded(&store).await;
    let other = support::version(&store, "other", "v1").await;
    assert!(
        store
            .succeeded_durations(version.id, 200)
            .await
            .expect("none yet")
            .is_empty(),
        "no history yet"
    );
    finish(&store, first.id, RunStatus::Succeeded, 30).await;
    let failed = support::run(&store, &version, user.id).await;
    finish(&store, failed.id, RunStatus::Failed, 5).await;
    let elsewhere = support::run(&store, &other, user.id).await;
    finish(&store, elsewhere.id, RunStatus::Succeeded, 5).await;
    let second = support::run(&store, &version, user.id).await;
    finish(&store, second.id, RunStatus::Succeeded, 60).await;
    // Still running: not a duration yet.
    let running = support::run(&store, &version, user.id).await;
    store
        .transition(StatusChange::new(running.id, RunStatus::Dispatching))
        .await
        .expect("dispatching");

    let mut durations = store
        .succeeded_durations(version.id, 200)
        .await
        .expect("durations");
    durations.sort_unstable();
    assert_eq!(
        durations.len(),
        2,
        "the failed run and other versions' runs are left out"
    );
    assert!(durations[0] >= 30 && durations[1] >= 60, "{durations:?}");
    assert!(durations[1] < 60_000, "milliseconds: {durations:?}");
    let latest = store
        .succeeded_durations(version.id, 1)
        .await
        .expect("latest");
    assert_eq!(latest.len(), 1);
    assert!(latest[0] >= 60, "the run that ended last: {latest:?}");
}

pub async fn an_estimate_is_kept_once_with_its_run(store: Arc<dyn Store>) {
    let (_, version, run) = support::seeded(&store).await;
    assert_eq!(store.run_estimate(run.id).await.expect("read"), None);
    let prices = Prices::default_for(BatchPlatform::Fargate);
    let estimate = Estimate::new(
        version.resources,
        1,
        DurationStats::of(vec![60, 120, 600]),
        Some(prices.clone()),
    );
    store
        .record_estimate(&[run.id], &estimate)
        .await
        .expect("record");
    let later = Estimate::new(version.resources, 1, None, None);
    store
        .record_estimate(&[run.id], &later)
        .await
        .expect("a second record changes nothing");
    let kept = store
        .run_estimate(run.id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(kept, estimate);

    // A month counts the run once it started, with its prices.
    finish(&store, run.id, RunStatus::Succeeded, 5).await;
    let now = Utc::now();
    let usage = store
        .usage(
            now - chrono::Duration::hours(1),
            now + chrono::Duration::hours(1),
        )
        .await
        .expect("usage");
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0].prices.as_ref(), Some(&prices));
    assert!(usage[0].started_at.is_some() && usage[0].finished_at.is_some());
    let earlier = store
        .usage(
            now - chrono::Duration::hours(2),
            now - chrono::Duration::hours(1),
        )
        .await
        .expect("usage");
    assert!(earlier.is_empty(), "a run counts in the month it started");
}

pub async fn budgets_are_set_replaced_and_removed(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let bob = support::user(&store, "bob@example.com").await;
    let now = Utc::now();
    assert!(store.budgets().await.expect("none").is_empty());
    store
        .set_budget(
            BudgetScope::User(bob.id),
            Some(5_000),
            "admin@example.com",
            now,
        )
        .await
        .expect("bob's");
    store
        .set_budget(
            BudgetScope::User(ann.id),
            Some(2_000),
            "admin@example.com",
            now,
        )
        .await
        .expect("ann's");
    store
        .set_budget(
            BudgetScope::Installation,
            Some(100_000),
            "admin@example.com",
            now,
        )
        .await
        .expect("the team's");
    store
        .set_budget(
            BudgetScope::User(ann.id),
            Some(2_500),
            "root@example.com",
            now,
        )
        .await
        .expect("ann's again");
    let budgets = store.budgets().await.expect("budgets");
    let scopes: Vec<_> = budgets.iter().map(|b| b.scope).collect();
    assert_eq!(
        scopes,
        [
            BudgetScope::Installation,
            BudgetScope::User(ann.id),
            BudgetScope::User(bob.id)
        ],
        "the team's first, then users' by email"
    );
    assert_eq!(budgets[1].monthly_cents, 2_500);
    assert_eq!(budgets[1].set_by, "root@example.com");
    assert_eq!(budgets[1].user_email.as_deref(), Some("ann@example.com"));
    assert_eq!(budgets[0].user_email, None);

    assert!(matches!(
        store
            .set_budget(BudgetScope::User(UserId(999_999)), Some(100), "a", now)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(
        store
            .set_budget(BudgetScope::Installation, Some(0), "a", now)
            .await
            .is_err(),
        "a budget is at least a cent"
    );
    store
        .set_budget(BudgetScope::Installation, None, "a", now)
        .await
        .expect("remove");
    store
        .set_budget(BudgetScope::Installation, None, "a", now)
        .await
        .expect("removing nothing is fine");
    let left: Vec<_> = store
        .budgets()
        .await
        .expect("budgets")
        .iter()
        .map(|b| b.scope)
        .collect();
    assert_eq!(left, [BudgetScope::User(ann.id), BudgetScope::User(bob.id)]);
}
