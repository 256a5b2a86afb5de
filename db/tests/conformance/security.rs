use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{Duration, Utc};
use modelrun_core::audit::{Actor, AuditAction, AuditFilter, NewAuditEntry};
use modelrun_core::limit::{Limit, Verdict};
use modelrun_core::run::{NewRun, RunFilter};
use modelrun_core::store::{Store, StoreError};
use modelrun_core::user::Role;
use serde_json::json;

use crate::support;

pub async fn a_password_change_ends_the_other_sessions(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let bob = support::user(&store, "bob@example.com").await;
    let now = Utc::now();
    for (hash, user) in [("a1", ann.id), ("a2", ann.id), ("b1", bob.id)] {
        store
            .create_session(hash, user, now)
            .await
            .expect("session");
    }
    store
        .set_password(ann.id, "new-hash", Some("a1"))
        .await
        .expect("set password");
    let alive = |hash: &'static str| {
        let store = store.clone();
        async move {
            store
                .session_user(hash, now, Duration::minutes(30), Duration::hours(12))
                .await
                .expect("lookup")
                .is_some()
        }
    };
    assert!(alive("a1").await, "the session that made the change stays");
    assert!(!alive("a2").await, "the other session of ann ends");
    assert!(alive("b1").await, "bob is not touched");
    let credentials = store
        .credentials("ann@example.com")
        .await
        .expect("query")
        .expect("found");
    assert_eq!(credentials.password_hash, "new-hash");

    store
        .set_password(ann.id, "newer-hash", None)
        .await
        .expect("set password");
    assert!(!alive("a1").await, "without a session to keep, all end");
    assert!(matches!(
        store
            .set_password(modelrun_core::ids::UserId(9999), "x", None)
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn roles_change(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let changed = store
        .set_role(ann.id, Role::Viewer)
        .await
        .expect("set role");
    assert_eq!(changed.role, Role::Viewer);
    assert_eq!(
        store.user(ann.id).await.expect("query").map(|u| u.role),
        Some(Role::Viewer)
    );
    assert!(matches!(
        store
            .set_role(modelrun_core::ids::UserId(9999), Role::Admin)
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn a_submit_key_makes_one_run(store: Arc<dyn Store>) {
    let (ann, version, _) = support::seeded(&store).await;
    let bob = support::user(&store, "bob@example.com").await;
    let new = |by, key: &str| NewRun {
        version_id: version.id,
        submitted_by: by,
        inputs: support::inputs(0.2),
        resources: version.resources,
        submit_key: Some(key.to_owned()),
        rerun_of: None,
        production_only: false,
    };
    let first = store
        .create_run(new(ann.id, "k1"))
        .await
        .expect("first")
        .item;
    let again = store.create_run(new(ann.id, "k1")).await;
    assert!(
        matches!(again, Err(StoreError::AlreadySubmitted(id)) if id == first.id),
        "{again:?}"
    );
    // Keys are per submitter, and another key is another run.
    let bobs = store.create_run(new(bob.id, "k1")).await.expect("bob").item;
    assert_ne!(bobs.id, first.id);
    store.create_run(new(ann.id, "k2")).await.expect("k2");
    // Runs without a key never collide.
    support::run(&store, &version, ann.id).await;
    support::run(&store, &version, ann.id).await;
    let anns = store
        .list_runs(&RunFilter {
            submitted_by: Some(ann.id),
            limit: 50,
            ..RunFilter::default()
        })
        .await
        .expect("list");
    assert_eq!(
        anns.items.len(),
        5,
        "the seeded run, k1, k2 and two without keys"
    );
    assert!(anns.items.iter().all(|run| run.submitted_by == ann.id));
    let tasks = store
        .list_tasks(None, 100)
        .await
        .expect("tasks")
        .into_iter()
        .filter(|task| task.kind.as_str() == "dispatch_run")
        .count();
    assert_eq!(tasks, 6, "one dispatch task per run, none for the repeat");
}

pub async fn concurrent_submits_with_one_key_make_one_run(store: Arc<dyn Store>) {
    let (ann, version, _) = support::seeded(&store).await;
    let attempts = (0..8).map(|_| {
        let store = store.clone();
        let version = version.clone();
        tokio::spawn(async move {
            store
                .create_run(NewRun {
                    version_id: version.id,
                    submitted_by: ann.id,
                    inputs: support::inputs(0.3),
                    resources: version.resources,
                    submit_key: Some("double-click".to_owned()),
                    rerun_of: None,
                    production_only: false,
                })
                .await
        })
    });
    let mut created = Vec::new();
    let mut repeats = Vec::new();
    for attempt in attempts {
        match attempt.await.expect("join") {
            Ok(queued) => created.push(queued.item.id),
            Err(StoreError::AlreadySubmitted(id)) => repeats.push(id),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(created.len(), 1, "{created:?} {repeats:?}");
    assert!(repeats.iter().all(|id| *id == created[0]));
}

pub async fn the_audit_log_is_appended_and_filtered(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let entries = [
        NewAuditEntry::new(Actor::user(ann.id, &ann.email), AuditAction::SignIn, "")
            .from_address("127.0.0.1"),
        NewAuditEntry::new(
            Actor::anonymous("mallory@example.com"),
            AuditAction::SignInFailed,
            "",
        )
        .from_address("10.0.0.9"),
        NewAuditEntry::new(
            Actor::user(ann.id, &ann.email),
            AuditAction::RunSubmit,
            "run 1",
        )
        .detail(json!({ "model": "forecast" })),
        NewAuditEntry::new(
            Actor::system("image-sync"),
            AuditAction::VersionRegister,
            "version 1",
        ),
    ];
    for entry in entries {
        store.record_audit(entry).await.expect("record");
    }
    let all = store
        .audit_entries(&AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .expect("list");
    let actions: Vec<_> = all.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [
            AuditAction::VersionRegister,
            AuditAction::RunSubmit,
            AuditAction::SignInFailed,
            AuditAction::SignIn
        ]
    );
    assert_eq!(all[1].detail, json!({ "model": "forecast" }));
    assert_eq!(all[1].target, "run 1");
    assert_eq!(all[1].actor.user_id, Some(ann.id));
    assert_eq!(all[2].address, "10.0.0.9");
    assert_eq!(all[0].actor.name, "system:image-sync");

    let filtered = |filter: AuditFilter| {
        let store = store.clone();
        async move {
            store
                .audit_entries(&filter)
                .await
                .expect("list")
                .into_iter()
                .map(|e| e.action)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        filtered(AuditFilter {
            action: Some(AuditAction::SignInFailed),
            limit: 10,
            ..AuditFilter::default()
        })
        .await,
        [AuditAction::SignInFailed]
    );
    assert_eq!(
        filtered(AuditFilter {
            actor: Some("ANN@".to_owned()),
            limit: 10,
            ..AuditFilter::default()
        })
        .await,
        [AuditAction::RunSubmit, AuditAction::SignIn]
    );
    assert_eq!(
        filtered(AuditFilter {
            before: Some(all[1].id),
            limit: 1,
            ..AuditFilter::default()
        })
        .await,
        [AuditAction::SignInFailed]
    );
    assert!(
        filtered(AuditFilter {
            since: Some(Utc::now() + Duration::minutes(1)),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .is_empty()
    );
}

pub async fn rate_limits_count_in_fixed_windows(store: Arc<dyn Store>) {
    let limit = Limit::new(3, StdDuration::from_secs(60));
    let start = Utc::now();
    for _ in 0..3 {
        assert_eq!(
            store.hit("k", limit, start).await.expect("hit"),
            Verdict::Allowed
        );
    }
    let at = |secs| start + Duration::seconds(secs);
    assert_eq!(
        store.hit("k", limit, at(20)).await.expect("hit"),
        Verdict::Refused {
            retry_after: StdDuration::from_secs(40),
            first: true,
        }
    );
    assert_eq!(
        store.hit("k", limit, at(30)).await.expect("hit"),
        Verdict::Refused {
            retry_after: StdDuration::from_secs(30),
            first: false,
        },
        "only the first refusal of a window is the first"
    );
    assert_eq!(
        store.hit("other", limit, at(20)).await.expect("hit"),
        Verdict::Allowed,
        "keys are counted apart"
    );
    // Refusals do not lengthen the window: it ends 60 s after it began.
    assert_eq!(
        store.hit("k", limit, at(60)).await.expect("hit"),
        Verdict::Allowed
    );
    assert_eq!(
        store.purge_limits(at(90)).await.expect("purge"),
        1,
        "`other` ended at 80 s"
    );
    assert_eq!(store.purge_limits(at(121)).await.expect("purge"), 1);
}

pub async fn concurrent_hits_are_all_counted(store: Arc<dyn Store>) {
    let limit = Limit::new(10, StdDuration::from_secs(600));
    let now = Utc::now();
    let hits = (0..16).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.hit("busy", limit, now).await.expect("hit") })
    });
    let mut allowed = 0;
    for hit in hits {
        if hit.await.expect("join") == Verdict::Allowed {
            allowed += 1;
        }
    }
    assert_eq!(allowed, 10);
}

pub async fn a_forgiven_attempt_no_longer_counts(store: Arc<dyn Store>) {
    let limit = Limit::new(2, StdDuration::from_secs(60));
    let now = Utc::now();
    store.forgive("never-hit").await.expect("forgive nothing");
    for _ in 0..5 {
        assert_eq!(
            store.hit("k", limit, now).await.expect("hit"),
            Verdict::Allowed
        );
        store.forgive("k").await.expect("forgive");
    }
    assert_eq!(
        store.hit("k", limit, now).await.expect("hit"),
        Verdict::Allowed
    );
    assert_eq!(
        store.hit("k", limit, now).await.expect("hit"),
        Verdict::Allowed
    );
    assert!(
        matches!(
            store.hit("k", limit, now).await.expect("hit"),
            Verdict::Refused { .. }
        ),
        "two unforgiven attempts fill a limit of two"
    );
}
