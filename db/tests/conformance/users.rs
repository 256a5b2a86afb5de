use std::sync::Arc;

use chrono::{Duration, Utc};
use modelrun_core::store::{Store, StoreError};
use modelrun_core::user::{NewApiToken, Role};

use crate::support;

pub async fn creates_users_and_refuses_duplicate_emails(store: Arc<dyn Store>) {
    assert_eq!(store.count_users().await.expect("count"), 0);
    let ann = support::user(&store, "ann@example.com").await;
    assert_eq!(ann.role, Role::Runner);
    assert_eq!(store.count_users().await.expect("count"), 1);
    let again = store
        .create_user(modelrun_core::user::NewUser {
            email: "ann@example.com".to_owned(),
            password_hash: "x".to_owned(),
            role: Role::Admin,
        })
        .await;
    assert!(
        matches!(again, Err(StoreError::Conflict(message)) if message.contains("ann@example.com"))
    );
    let credentials = store
        .credentials("ann@example.com")
        .await
        .expect("query")
        .expect("found");
    assert_eq!(credentials.user, ann);
    assert_eq!(credentials.password_hash, "not-a-real-hash");
    assert!(
        store
            .credentials("bob@example.com")
            .await
            .expect("query")
            .is_none()
    );
    assert_eq!(store.user(ann.id).await.expect("query"), Some(ann));
}

pub async fn sessions_expire_when_idle_or_old(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let start = Utc::now();
    let idle = Duration::minutes(30);
    let absolute = Duration::hours(12);
    store
        .create_session("h1", ann.id, start)
        .await
        .expect("session");
    let at = |minutes| start + Duration::minutes(minutes);
    assert_eq!(
        store
            .session_user("h1", at(20), idle, absolute)
            .await
            .expect("lookup")
            .map(|u| u.id),
        Some(ann.id)
    );
    // The lookup at +20 min refreshed it, so +45 min is only 25 min idle.
    assert!(
        store
            .session_user("h1", at(45), idle, absolute)
            .await
            .expect("lookup")
            .is_some()
    );
    // Idle for 31 minutes: gone, and gone for good.
    assert!(
        store
            .session_user("h1", at(76), idle, absolute)
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        store
            .session_user("h1", at(46), idle, absolute)
            .await
            .expect("lookup")
            .is_none()
    );

    // Kept busy, it still ends at the absolute limit.
    store
        .create_session("h2", ann.id, start)
        .await
        .expect("session");
    for minutes in (20..=700).step_by(20) {
        assert!(
            store
                .session_user("h2", at(minutes), idle, absolute)
                .await
                .expect("lookup")
                .is_some()
        );
    }
    assert!(
        store
            .session_user("h2", at(721), idle, absolute)
            .await
            .expect("lookup")
            .is_none()
    );

    store
        .create_session("h3", ann.id, start)
        .await
        .expect("session");
    store.delete_session("h3").await.expect("delete");
    assert!(
        store
            .session_user("h3", start, idle, absolute)
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        store
            .session_user("unknown", start, idle, absolute)
            .await
            .expect("lookup")
            .is_none()
    );
}

pub async fn tokens_work_until_revoked_or_expired(store: Arc<dyn Store>) {
    let ann = support::user(&store, "ann@example.com").await;
    let now = Utc::now();
    let new = |name: &str, hash: &str, expires_at| NewApiToken {
        user_id: ann.id,
        name: name.to_owned(),
        token_hash: hash.to_owned(),
        prefix: "mr_abcd".to_owned(),
        role: Role::Viewer,
        expires_at,
    };
    let forever = store
        .create_token(new("ci", "t1", None))
        .await
        .expect("token");
    let brief = store
        .create_token(new("brief", "t2", Some(now + Duration::hours(1))))
        .await
        .expect("token");
    let (user, token) = store
        .token_user("t1", now)
        .await
        .expect("lookup")
        .expect("valid");
    assert_eq!(
        (user.id, token.id, token.role),
        (ann.id, forever.id, Role::Viewer)
    );
    assert!(store.token_user("t2", now).await.expect("lookup").is_some());
    assert!(
        store
            .token_user("t2", now + Duration::hours(2))
            .await
            .expect("lookup")
            .is_none()
    );
    assert!(
        store
            .token_user("nope", now)
            .await
            .expect("lookup")
            .is_none()
    );

    let listed: Vec<_> = store
        .list_tokens(ann.id)
        .await
        .expect("list")
        .into_iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(listed, [brief.id, forever.id]);
    store
        .revoke_token(ann.id, forever.id, now)
        .await
        .expect("revoke");
    assert!(store.token_user("t1", now).await.expect("lookup").is_none());
    assert!(matches!(
        store.revoke_token(ann.id, forever.id, now).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.list_tokens(ann.id).await.expect("list").len(), 1);
}

pub async fn lists_users_by_email(store: Arc<dyn Store>) {
    for email in ["zoe@example.com", "ann@example.com", "max@example.com"] {
        support::user(&store, email).await;
    }
    let emails: Vec<_> = store
        .list_users()
        .await
        .expect("list")
        .into_iter()
        .map(|u| u.email)
        .collect();
    assert_eq!(
        emails,
        ["ann@example.com", "max@example.com", "zoe@example.com"]
    );
}

/// A lookup a moment ago does not outlive a change: a role, a disabled
/// account, a sign-out and new display settings apply to the very next
/// request (credentials are kept for a moment between requests).
pub async fn credential_changes_apply_to_the_next_lookup(store: Arc<dyn Store>) {
    use modelrun_core::display::{DisplaySettings, NumberStyle};
    let admin = support::user(&store, "admin@example.com").await;
    store.set_role(admin.id, Role::Admin).await.expect("admin");
    let ann = support::user(&store, "ann@example.com").await;
    let now = Utc::now();
    let (idle, absolute) = (Duration::minutes(30), Duration::hours(12));
    store
        .create_token(NewApiToken {
            user_id: ann.id,
            name: "ci".to_owned(),
            token_hash: "ann-token".to_owned(),
            prefix: "mr_abcd".to_owned(),
            role: Role::Runner,
            expires_at: None,
        })
        .await
        .expect("token");
    store
        .create_session("ann-session", ann.id, now)
        .await
        .expect("session");
    let person = |store: Arc<dyn Store>| async move {
        store
            .session_person("ann-session", now, idle, absolute)
            .await
            .expect("lookup")
    };
    let token_user = |store: Arc<dyn Store>| async move {
        store
            .token_user("ann-token", now)
            .await
            .expect("lookup")
            .map(|(user, _)| user)
    };
    assert_eq!(
        person(store.clone()).await.expect("live").0.role,
        Role::Runner
    );
    assert_eq!(
        token_user(store.clone()).await.expect("valid").role,
        Role::Runner
    );

    store.set_role(ann.id, Role::Viewer).await.expect("role");
    assert_eq!(
        person(store.clone()).await.expect("live").0.role,
        Role::Viewer
    );
    assert_eq!(
        token_user(store.clone()).await.expect("valid").role,
        Role::Viewer
    );

    let chosen = DisplaySettings {
        time_zone: None,
        number_style: NumberStyle::CommaDecimal,
    };
    store
        .set_display_settings(ann.id, chosen)
        .await
        .expect("settings");
    assert_eq!(person(store.clone()).await.expect("live").1, chosen);

    store
        .set_disabled(ann.id, true, now)
        .await
        .expect("disable");
    assert!(
        person(store.clone()).await.is_none(),
        "disabling ends the session"
    );
    assert!(
        token_user(store.clone()).await.is_none(),
        "and refuses the token"
    );
    store
        .set_disabled(ann.id, false, now)
        .await
        .expect("enable");
    assert!(
        token_user(store.clone()).await.is_some(),
        "the token works again"
    );

    store
        .create_session("ann-session-2", ann.id, now)
        .await
        .expect("session");
    assert!(
        store
            .session_person("ann-session-2", now, idle, absolute)
            .await
            .expect("lookup")
            .is_some()
    );
    store
        .delete_session("ann-session-2")
        .await
        .expect("sign out");
    assert!(
        store
            .session_person("ann-session-2", now, idle, absolute)
            .await
            .expect("lookup")
            .is_none(),
        "signing out ends the session at once"
    );
}
