//! Production and candidate versions: one production version per model,
//! moved atomically, and the alias each run ran under.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::Utc;
use modelrun_core::alias::Alias;
use modelrun_core::alongside::Alongside;
use modelrun_core::ids::VersionId;
use modelrun_core::run::{NewRun, RunFilter};
use modelrun_core::store::{Store, StoreError, StoreResult};
use modelrun_core::sweep::{Axis, NewSweep};
use modelrun_core::user::{NewApiToken, NewUser, Role};
use serde_json::json;
use tokio::task::JoinSet;

use crate::support;

async fn production(store: &Arc<dyn Store>, model: &str) -> Option<VersionId> {
    let model = store.model(model).await.expect("query").expect("model");
    let production: Vec<_> = model
        .versions
        .iter()
        .filter(|v| v.alias == Alias::Production)
        .collect();
    assert!(
        production.len() <= 1,
        "two production versions: {production:?}"
    );
    production.first().map(|v| v.id)
}

pub async fn the_first_version_is_production_and_later_ones_candidates(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let first = support::version(&store, "forecast", "v1").await;
    let second = support::version(&store, "forecast", "v2").await;
    assert_eq!(first.alias, Alias::Production, "a model's first version");
    assert_eq!(second.alias, Alias::Candidate, "a later version waits");
    assert_eq!(production(&store, "forecast").await, Some(first.id));
    let again = store
        .register_version(support::new_version("forecast", "v2", "v2"), Vec::new())
        .await
        .expect("register again");
    assert_eq!(again.version().alias, Alias::Candidate);

    let on_first = support::run(&store, &first, ann.id).await;
    let on_second = support::run(&store, &second, ann.id).await;
    assert_eq!(on_first.alias, Some(Alias::Production));
    assert_eq!(on_second.alias, Some(Alias::Candidate));
    store.promote_version(second.id).await.expect("promote");
    let kept = store.run(on_second.id).await.expect("query").expect("run");
    assert_eq!(
        kept.alias,
        Some(Alias::Candidate),
        "a run keeps the alias it was submitted under"
    );
    let after = support::run(&store, &second, ann.id).await;
    assert_eq!(after.alias, Some(Alias::Production));
}

pub async fn a_promotion_moves_production_and_refuses_retired_versions(store: Arc<dyn Store>) {
    let v1 = support::version(&store, "forecast", "v1").await;
    let v2 = support::version(&store, "forecast", "v2").await;
    let v3 = support::version(&store, "forecast", "v3").await;
    let other = support::version(&store, "churn", "c1").await;

    let promoted = store.promote_version(v2.id).await.expect("promote");
    assert_eq!(promoted.previous, Some(v1.id));
    assert_eq!(production(&store, "forecast").await, Some(v2.id));
    assert_eq!(
        production(&store, "churn").await,
        Some(other.id),
        "another model keeps its own"
    );
    let same = store.promote_version(v2.id).await.expect("promote again");
    assert_eq!(same.previous, Some(v2.id), "nothing changes");

    let rollback = store.promote_version(v1.id).await.expect("roll back");
    assert_eq!(rollback.previous, Some(v2.id));
    assert_eq!(production(&store, "forecast").await, Some(v1.id));

    store
        .retire_version(v3.id, Utc::now())
        .await
        .expect("retire");
    let refused = store.promote_version(v3.id).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("retired")),
        "{refused:?}"
    );
    assert_eq!(production(&store, "forecast").await, Some(v1.id));
    let missing = store.promote_version(VersionId(9999)).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

pub async fn concurrent_promotions_leave_one_production_version(store: Arc<dyn Store>) {
    let first = support::version(&store, "forecast", "v0").await;
    let mut candidates = Vec::new();
    for n in 1..=8 {
        candidates.push(support::version(&store, "forecast", &format!("v{n}")).await);
    }
    let tasks: Vec<_> = candidates
        .iter()
        .map(|version| {
            let store = store.clone();
            let id = version.id;
            tokio::spawn(async move { store.promote_version(id).await })
        })
        .collect();
    let mut previous = Vec::new();
    for task in tasks {
        let promotion = task.await.expect("join").expect("promote");
        previous.push(promotion.previous.expect("there was one"));
    }
    // One after the other: each replaced a different version, so the
    // promotions form one chain from the first version to the last one.
    let distinct: HashSet<_> = previous.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        previous.len(),
        "two promotions saw one production: {previous:?}"
    );
    assert!(distinct.contains(&first.id));
    let last = production(&store, "forecast")
        .await
        .expect("a production version");
    assert!(
        !distinct.contains(&last),
        "the last one replaced nobody's successor"
    );
    assert!(candidates.iter().any(|v| v.id == last));
}

pub async fn retiring_production_needs_another_version_promoted_first(store: Arc<dyn Store>) {
    let v1 = support::version(&store, "forecast", "v1").await;
    let v2 = support::version(&store, "forecast", "v2").await;
    let refused = store.retire_version(v1.id, Utc::now()).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict(m)) if m.contains("promote another")),
        "{refused:?}"
    );
    assert!(
        store
            .version(v1.id)
            .await
            .expect("query")
            .expect("v1")
            .is_active()
    );

    store
        .retire_version(v2.id, Utc::now())
        .await
        .expect("retire a candidate");
    store
        .retire_version(v1.id, Utc::now())
        .await
        .expect("retire the last one");
    assert_eq!(
        production(&store, "forecast").await,
        None,
        "a retired model"
    );

    let v3 = support::version(&store, "forecast", "v3").await;
    assert_eq!(v3.alias, Alias::Production, "the model had none");
}

pub async fn the_scientist_role_is_stored_for_users_and_tokens(store: Arc<dyn Store>) {
    let sam = store
        .create_user(NewUser {
            email: "sam@example.com".to_owned(),
            password_hash: "not-a-real-hash".to_owned(),
            role: Role::Scientist,
        })
        .await
        .expect("create a scientist");
    assert_eq!(sam.role, Role::Scientist);
    let token = store
        .create_token(NewApiToken {
            user_id: sam.id,
            name: "notebook".to_owned(),
            token_hash: "t-sam".to_owned(),
            prefix: "mr_sam".to_owned(),
            role: Role::Scientist,
            expires_at: None,
        })
        .await
        .expect("token");
    assert_eq!(token.role, Role::Scientist);
    let (user, _) = store
        .token_user("t-sam", Utc::now())
        .await
        .expect("lookup")
        .expect("valid");
    assert_eq!(user.role, Role::Scientist);
}

/// Reads of one model or version that come together (every submit of a
/// burst) each get the whole answer, and a read that starts after a change
/// has returned sees it.
pub async fn reads_that_come_together_agree_and_see_changes_made_before(store: Arc<dyn Store>) {
    let v1 = support::version(&store, "forecast", "v1").await;
    let v2 = support::version(&store, "forecast", "v2").await;
    let reads: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let model = store
                    .model("forecast")
                    .await
                    .expect("model")
                    .expect("found");
                let version = store.version(v2.id).await.expect("version").expect("found");
                (model, version)
            })
        })
        .collect();
    for read in reads {
        let (model, version) = read.await.expect("task");
        let labels: Vec<_> = model.versions.iter().map(|v| v.label.as_str()).collect();
        assert_eq!(labels, ["v2", "v1"]);
        assert_eq!(version.alias, Alias::Candidate);
        assert!(version.retired_at.is_none());
    }
    store.promote_version(v2.id).await.expect("promote");
    assert_eq!(production(&store, "forecast").await, Some(v2.id));
    let promoted = store.version(v2.id).await.expect("version").expect("found");
    assert_eq!(promoted.alias, Alias::Production);
    store
        .retire_version(v1.id, Utc::now())
        .await
        .expect("retire");
    let retired = store.version(v1.id).await.expect("version").expect("found");
    assert!(retired.retired_at.is_some(), "{retired:?}");
    assert!(store.model("nothing").await.expect("model").is_none());
}

/// A run of a person who runs only production (`production_only`) is
/// written only while its version is production: a promotion between the
/// caller's read of the version and the write refuses it, alone, among
/// submits written together, and in a sweep, and writes nothing.
pub async fn a_production_only_run_is_refused_once_its_version_is_demoted(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let v1 = support::version(&store, "forecast", "v1").await;
    let v2 = support::version(&store, "forecast", "v2").await;
    // v1 was read as production; v2 is promoted before the run is written.
    store.promote_version(v2.id).await.expect("promote");
    let new_run = |version: VersionId, production_only: bool| NewRun {
        version_id: version,
        submitted_by: ann.id,
        inputs: support::inputs(0.1),
        resources: v1.resources,
        submit_key: None,
        rerun_of: None,
        production_only,
    };
    fn demoted<T>(answer: &StoreResult<T>) -> bool {
        matches!(answer, Err(StoreError::Conflict(message))
            if message.starts_with("version v1 stopped being production"))
    }

    let alone = store.create_run(new_run(v1.id, true)).await;
    assert!(demoted(&alone), "{alone:?}");

    let mut set = JoinSet::new();
    for (position, run) in [
        new_run(v1.id, true),
        new_run(v1.id, false),
        new_run(v2.id, true),
        new_run(v1.id, true),
    ]
    .into_iter()
    .enumerate()
    {
        let store = store.clone();
        set.spawn(async move { (position, store.create_run(run).await) });
    }
    let mut answers = set.join_all().await;
    answers.sort_by_key(|(position, _)| *position);
    assert!(demoted(&answers[0].1), "{:?}", answers[0]);
    assert!(demoted(&answers[3].1), "{:?}", answers[3]);
    let candidate = answers[1].1.as_ref().expect("a scientist's run of v1");
    assert_eq!(candidate.item.alias, Some(Alias::Candidate));
    let production = answers[2].1.as_ref().expect("a run of production");
    assert_eq!(production.item.alias, Some(Alias::Production));

    let sweep = store
        .create_sweep(
            NewSweep {
                version_id: v1.id,
                submitted_by: ann.id,
                inputs: Default::default(),
                axes: vec![Axis {
                    field: "growth".to_owned(),
                    values: vec![json!(0.1), json!(0.2)],
                }],
                runs: vec![new_run(v1.id, true), new_run(v1.id, true)],
                submit_key: None,
                array: false,
            },
            Alongside::default(),
        )
        .await;
    assert!(demoted(&sweep), "{:?}", sweep.as_ref().err());

    // Only the two runs that were allowed exist, each with its one task.
    let runs = store
        .list_runs(&RunFilter {
            submitted_by: Some(ann.id),
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("runs")
        .items;
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(store.list_tasks(None, 10).await.expect("tasks").len(), 2);
    assert!(
        store
            .sweeps(Some(ann.id), 10)
            .await
            .expect("sweeps")
            .is_empty()
    );
}
