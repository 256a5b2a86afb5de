//! The latest progress of runs: one value a run, the last report wins.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use modelrun_core::ids::RunId;
use modelrun_core::progress::{Progress, RunProgress};
use modelrun_core::store::Store;

use crate::support;

/// A report replaces the run's last one, is read back as written (message,
/// time to the millisecond), and one run's progress is never another's.
pub async fn the_last_report_of_each_run_is_kept(store: Arc<dyn Store>) {
    let (user, version, run) = support::seeded(&store).await;
    let other = support::run(&store, &version, user.id).await;
    let quiet = support::run(&store, &version, user.id).await;
    assert_eq!(store.run_progress(run.id).await.expect("none"), None);
    let at = Utc
        .with_ymd_and_hms(2026, 11, 30, 18, 0, 0)
        .single()
        .expect("a time")
        + Duration::milliseconds(250);
    let first = Progress {
        fraction: 0.25,
        message: Some("loading «ventes» 😀".to_owned()),
    };
    store
        .record_progress(run.id, &first, at)
        .await
        .expect("first");
    let last = Progress {
        fraction: 1.0,
        message: None,
    };
    store
        .record_progress(run.id, &last, at + Duration::seconds(1))
        .await
        .expect("replaced");
    store
        .record_progress(other.id, &first, at)
        .await
        .expect("other");
    let expected = RunProgress {
        fraction: 1.0,
        message: None,
        at: at + Duration::seconds(1),
    };
    assert_eq!(
        store.run_progress(run.id).await.expect("read"),
        Some(expected.clone())
    );
    let of_other = RunProgress {
        fraction: 0.25,
        message: first.message.clone(),
        at,
    };
    let listed = store
        .runs_progress(&[run.id, other.id, quiet.id, RunId(i64::MAX)])
        .await
        .expect("listed");
    assert_eq!(listed.len(), 2, "runs without progress are left out");
    assert_eq!(listed.get(&run.id), Some(&expected));
    assert_eq!(listed.get(&other.id), Some(&of_other));
    assert!(store.runs_progress(&[]).await.expect("empty").is_empty());
}

/// Progress of a run that does not exist is refused, never stored.
pub async fn progress_needs_its_run(store: Arc<dyn Store>) {
    let progress = Progress {
        fraction: 0.5,
        message: None,
    };
    store
        .record_progress(RunId(i64::MAX), &progress, Utc::now())
        .await
        .expect_err("no such run");
    assert_eq!(
        store.run_progress(RunId(i64::MAX)).await.expect("read"),
        None
    );
}
