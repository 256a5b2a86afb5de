use std::sync::Arc;

use chrono::{Duration, Utc};
use modelrun_core::run::{RunFilter, StatusChange};
use modelrun_core::status::RunStatus;
use modelrun_core::store::Store;

use crate::support;

pub async fn runs_filter_by_version_submitter_and_dates_both_ways(store: Arc<dyn Store>) {
    let (ann, v1, first) = support::seeded(&store).await;
    let bob = support::user(&store, "bob@example.com").await;
    let v2 = support::version(&store, "forecast", "v2").await;
    let second = support::run(&store, &v2, bob.id).await;
    let third = support::run(&store, &v1, bob.id).await;
    let ids = |filter: RunFilter| {
        let store = store.clone();
        async move {
            store
                .list_runs(&filter)
                .await
                .expect("list")
                .items
                .iter()
                .map(|r| r.id)
                .collect::<Vec<_>>()
        }
    };
    let base = RunFilter {
        limit: 50,
        ..RunFilter::default()
    };
    assert_eq!(
        ids(RunFilter {
            version: Some("v1".into()),
            ..base.clone()
        })
        .await,
        [third.id, first.id]
    );
    assert_eq!(
        ids(RunFilter {
            submitter: Some("bob@example.com".into()),
            ..base.clone()
        })
        .await,
        [third.id, second.id]
    );
    assert_eq!(
        ids(RunFilter {
            oldest_first: true,
            ..base.clone()
        })
        .await,
        [first.id, second.id, third.id]
    );
    let page = store
        .list_runs(&RunFilter {
            oldest_first: true,
            limit: 2,
            ..base.clone()
        })
        .await
        .expect("page");
    assert_eq!(page.next, Some(second.id));
    assert_eq!(
        ids(RunFilter {
            oldest_first: true,
            before: page.next,
            ..base.clone()
        })
        .await,
        [third.id],
        "the cursor of an oldest-first page means after"
    );
    let later = Utc::now() + Duration::minutes(1);
    assert!(
        ids(RunFilter {
            created_from: Some(later),
            ..base.clone()
        })
        .await
        .is_empty()
    );
    assert_eq!(
        ids(RunFilter {
            created_until: Some(later),
            submitted_by: Some(ann.id),
            ..base.clone()
        })
        .await,
        [first.id]
    );
}

pub async fn version_counts_say_how_runs_ended(store: Arc<dyn Store>) {
    let (ann, v1, first) = support::seeded(&store).await;
    let v2 = support::version(&store, "forecast", "v2").await;
    let second = support::run(&store, &v1, ann.id).await;
    let third = support::run(&store, &v1, ann.id).await;
    let end = |run, status| {
        let store = store.clone();
        async move {
            for step in [
                RunStatus::Dispatching,
                RunStatus::Submitted,
                RunStatus::Running,
                status,
            ] {
                store
                    .transition(StatusChange::new(run, step))
                    .await
                    .expect("transition");
            }
        }
    };
    end(first.id, RunStatus::Succeeded).await;
    end(second.id, RunStatus::Failed).await;
    end(third.id, RunStatus::Succeeded).await;
    let counts = store.version_counts(v1.model_id).await.expect("counts");
    assert_eq!(counts.len(), 1, "v2 has no run: {counts:?}");
    let v1_counts = counts[0];
    assert_eq!(v1_counts.version_id, v1.id);
    assert_eq!(
        (v1_counts.total, v1_counts.succeeded, v1_counts.failed),
        (3, 2, 1)
    );
    assert_eq!(v1_counts.success_rate(), Some(2.0 / 3.0));
    assert_ne!(v2.id, v1.id);
}

pub async fn lists_runs_newest_first_with_filters_and_pages(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let forecast = support::version(&store, "forecast", "v1").await;
    let churn = support::version(&store, "churn", "v1").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let version = if i % 2 == 0 { &forecast } else { &churn };
        ids.push(support::run(&store, version, ann.id).await.id);
    }
    store
        .transition(StatusChange::new(ids[6], RunStatus::Failed))
        .await
        .expect("fail");
    store
        .transition(StatusChange::new(ids[2], RunStatus::Failed))
        .await
        .expect("fail");

    let page = |model: Option<&str>, status, before, limit| RunFilter {
        model: model.map(str::to_owned),
        status,
        before,
        limit,
        ..RunFilter::default()
    };
    let all = store
        .list_runs(&page(None, None, None, 50))
        .await
        .expect("list");
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(
        all.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        newest_first
    );
    assert_eq!(all.next, None);

    let first = store
        .list_runs(&page(None, None, None, 3))
        .await
        .expect("page 1");
    assert_eq!(
        first.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        newest_first[..3]
    );
    assert_eq!(first.next, Some(newest_first[2]));
    let second = store
        .list_runs(&page(None, None, first.next, 3))
        .await
        .expect("page 2");
    assert_eq!(
        second.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        newest_first[3..6]
    );
    let third = store
        .list_runs(&page(None, None, second.next, 3))
        .await
        .expect("page 3");
    assert_eq!(
        third.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        newest_first[6..]
    );
    assert_eq!(third.next, None);

    let forecast_runs = store
        .list_runs(&page(Some("forecast"), None, None, 50))
        .await
        .expect("model");
    assert_eq!(
        forecast_runs.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[6], ids[4], ids[2], ids[0]]
    );
    let failed = store
        .list_runs(&page(Some("forecast"), Some(RunStatus::Failed), None, 50))
        .await
        .expect("both");
    assert_eq!(
        failed.items.iter().map(|r| r.id).collect::<Vec<_>>(),
        [ids[6], ids[2]]
    );
    assert!(
        store
            .list_runs(&page(Some("nope"), None, None, 50))
            .await
            .expect("none")
            .items
            .is_empty()
    );

    let active: Vec<_> = store
        .active_runs()
        .await
        .expect("active")
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(active, [ids[0], ids[1], ids[3], ids[4], ids[5]]);
}
