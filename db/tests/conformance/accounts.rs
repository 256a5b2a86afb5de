//! Disabled accounts, the rule that one enabled administrator remains, and
//! the job tokens that stand for a run on AWS Batch.

use std::sync::Arc;

use chrono::{Duration, Utc};
use modelrun_core::ids::UserId;
use modelrun_core::store::{Store, StoreError};
use modelrun_core::user::{NewApiToken, NewUser, Role, User};

async fn admin(store: &Arc<dyn Store>, email: &str) -> User {
    store
        .create_user(NewUser {
            email: email.to_owned(),
            password_hash: "not-a-real-hash".to_owned(),
            role: Role::Admin,
        })
        .await
        .expect("create admin")
}

async fn enabled_admins(store: &Arc<dyn Store>) -> usize {
    store
        .list_users()
        .await
        .expect("list")
        .iter()
        .filter(|user| user.role == Role::Admin && !user.is_disabled())
        .count()
}

fn refused<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(&result, Err(StoreError::Conflict(message)) if message.contains("last enabled administrator"))
}

pub async fn the_last_enabled_admin_stays(store: Arc<dyn Store>) {
    let ann = admin(&store, "ann@example.com").await;
    let now = Utc::now();
    assert!(refused(store.set_role(ann.id, Role::Runner).await));
    assert!(refused(store.set_disabled(ann.id, true, now).await));
    assert_eq!(
        store.user(ann.id).await.expect("query").map(|u| u.role),
        Some(Role::Admin)
    );

    let bob = admin(&store, "bob@example.com").await;
    let disabled = store
        .set_disabled(ann.id, true, now)
        .await
        .expect("disable ann");
    assert_eq!(
        disabled.disabled_at.map(|at| at.timestamp()),
        Some(now.timestamp())
    );
    assert!(
        refused(store.set_role(bob.id, Role::Viewer).await),
        "a disabled administrator does not count"
    );
    let later = now + Duration::minutes(5);
    let again = store
        .set_disabled(ann.id, true, later)
        .await
        .expect("disable again");
    assert_eq!(
        again.disabled_at.map(|at| at.timestamp()),
        Some(now.timestamp()),
        "disabling twice keeps the first time"
    );
    let enabled = store
        .set_disabled(ann.id, false, later)
        .await
        .expect("enable ann");
    assert!(!enabled.is_disabled());
    store
        .set_role(bob.id, Role::Viewer)
        .await
        .expect("demote bob");
    assert!(refused(store.set_role(ann.id, Role::Viewer).await));
    store
        .set_role(bob.id, Role::Admin)
        .await
        .expect("promote bob");
    assert!(matches!(
        store.set_disabled(UserId(9999), true, now).await,
        Err(StoreError::NotFound)
    ));
}

/// Two administrators demote or disable each other at the same moment,
/// many times over: one change wins, the other is refused, and one enabled
/// administrator is always left.
pub async fn concurrent_changes_leave_an_admin(store: Arc<dyn Store>) {
    let ann = admin(&store, "ann@example.com").await;
    let bob = admin(&store, "bob@example.com").await;
    for round in 0..20 {
        let now = Utc::now();
        let (first, second) = (store.clone(), store.clone());
        let (a, b) = if round % 2 == 0 {
            tokio::join!(
                async move { first.set_role(bob.id, Role::Viewer).await.map(|_| ()) },
                async move { second.set_role(ann.id, Role::Viewer).await.map(|_| ()) },
            )
        } else {
            tokio::join!(
                async move { first.set_disabled(bob.id, true, now).await.map(|_| ()) },
                async move { second.set_role(ann.id, Role::Runner).await.map(|_| ()) },
            )
        };
        assert_eq!(
            usize::from(a.is_ok()) + usize::from(b.is_ok()),
            1,
            "round {round}: exactly one change applies: {a:?} {b:?}"
        );
        assert!(refused(if a.is_err() { a } else { b }));
        assert_eq!(enabled_admins(&store).await, 1, "round {round}");
        for user in [ann.id, bob.id] {
            store.set_disabled(user, false, now).await.expect("enable");
            store.set_role(user, Role::Admin).await.expect("restore");
        }
    }
}

pub async fn a_disabled_user_has_no_sessions_or_tokens(store: Arc<dyn Store>) {
    let _keeper = admin(&store, "admin@example.com").await;
    let ann = crate::support::user(&store, "ann@example.com").await;
    let now = Utc::now();
    store
        .create_session("s1", ann.id, now)
        .await
        .expect("session");
    store
        .create_token(NewApiToken {
            user_id: ann.id,
            name: "ci".to_owned(),
            token_hash: "t1".to_owned(),
            prefix: "mr_abcd".to_owned(),
            role: Role::Runner,
            expires_at: None,
        })
        .await
        .expect("token");
    let session = |store: Arc<dyn Store>| async move {
        store
            .session_user("s1", now, Duration::minutes(30), Duration::hours(12))
            .await
            .expect("lookup")
            .is_some()
    };
    let token = |store: Arc<dyn Store>| async move {
        store.token_user("t1", now).await.expect("lookup").is_some()
    };
    assert!(session(store.clone()).await && token(store.clone()).await);

    store
        .set_disabled(ann.id, true, now)
        .await
        .expect("disable");
    assert!(!session(store.clone()).await, "the session stops at once");
    assert!(!token(store.clone()).await, "the token stops at once");
    let credentials = store
        .credentials("ann@example.com")
        .await
        .expect("query")
        .expect("the account is kept");
    assert!(credentials.user.is_disabled());

    store
        .set_disabled(ann.id, false, now)
        .await
        .expect("enable");
    assert!(token(store.clone()).await, "tokens work again once enabled");
    assert!(
        !session(store.clone()).await,
        "an ended session stays ended: the user signs in again"
    );
}

/// A run's job tokens each name it; a second token leaves the first valid;
/// an unknown hash names nothing.
pub async fn job_tokens_name_their_run(store: Arc<dyn Store>) {
    let (_, version, first) = crate::support::seeded(&store).await;
    let second = crate::support::run(&store, &version, first.submitted_by).await;
    let now = Utc::now();
    store
        .add_job_token(first.id, "h1", now)
        .await
        .expect("token");
    store
        .add_job_token(first.id, "h2", now)
        .await
        .expect("retried dispatch");
    store
        .add_job_token(second.id, "h3", now)
        .await
        .expect("token");
    for (hash, run) in [("h1", first.id), ("h2", first.id), ("h3", second.id)] {
        assert_eq!(store.job_token_run(hash).await.expect("lookup"), Some(run));
    }
    assert_eq!(store.job_token_run("nope").await.expect("lookup"), None);
}
