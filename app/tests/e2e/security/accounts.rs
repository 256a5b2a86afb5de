//! Disabled accounts, the last administrator, and refused sign-ins that are
//! recorded once, not once per attempt.

use std::time::Duration;

use chrono::Utc;
use modelrun_core::audit::{AuditAction, AuditFilter};
use modelrun_core::ids::UserId;
use modelrun_core::limit::Limit;
use modelrun_core::user::Role;
use reqwest::StatusCode;

use crate::support::*;

async fn id_of(app: &TestApp, email: &str) -> UserId {
    app.store
        .credentials(email)
        .await
        .expect("query")
        .expect("user")
        .user
        .id
}

async fn sign_in(app: &TestApp, password: &str) -> (StatusCode, String) {
    let response = app
        .browser()
        .post_form("/login", &[("email", RUNNER_EMAIL), ("password", password)])
        .await;
    (response.status(), response.text().await.expect("body"))
}

/// Disabling stops the person's open session and their API token at once;
/// the right password then learns the account is disabled, a wrong one
/// learns nothing; enabling brings the token back.
pub async fn an_admin_disables_and_enables_an_account(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let models = || async {
        api.get("/api/v1/models")
            .send()
            .await
            .expect("GET")
            .status()
    };
    assert_eq!(models().await, StatusCode::OK);
    let ann_id = id_of(&app, RUNNER_EMAIL).await;

    let disabled = admin
        .post_form(
            &format!("/admin/users/{ann_id}/disable"),
            &[("confirmed", "1")],
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        ann.get("/models").await.status(),
        StatusCode::SEE_OTHER,
        "session ended"
    );
    assert_eq!(models().await, StatusCode::UNAUTHORIZED, "token stopped");
    let (status, page) = sign_in(&app, RUNNER_PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(page.contains("This account is disabled"), "{page}");
    let (status, page) = sign_in(&app, "wrong password here").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        !page.contains("disabled"),
        "a wrong password learns nothing: {page}"
    );
    let users = admin.page("/admin/users").await;
    assert!(
        users.contains("Enable the account of ann@example.com"),
        "{users}"
    );

    let admin_id = id_of(&app, ADMIN_EMAIL).await;
    let own = admin
        .post_form(&format!("/admin/users/{admin_id}/disable"), &[])
        .await;
    assert_eq!(own.status(), StatusCode::CONFLICT);

    let enabled = admin
        .post_form(&format!("/admin/users/{ann_id}/enable"), &[])
        .await;
    assert_eq!(enabled.status(), StatusCode::SEE_OTHER);
    assert_eq!(models().await, StatusCode::OK, "the token works again");
    assert_eq!(
        sign_in(&app, RUNNER_PASSWORD).await.0,
        StatusCode::SEE_OTHER
    );
    let log = admin.page("/admin/audit?action=user_disable").await;
    assert!(log.contains(&format!("user {ann_id}")), "{log}");
}

/// Two administrators demote each other at the same moment: one change
/// applies, the other gets 409, and one administrator is left.
pub async fn the_last_admin_stays_under_concurrent_demotions(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let carl_email = "carl@example.com";
    let carl_password = "carl-password-for-tests";
    modelrun_app::bootstrap::create_user(&app.store, carl_email, carl_password, Role::Admin)
        .await
        .expect("carl");
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let carl = app.signed_in(carl_email, carl_password).await;
    let admin_id = id_of(&app, ADMIN_EMAIL).await;
    let carl_id = id_of(&app, carl_email).await;
    let carl_path = format!("/admin/users/{carl_id}/role");
    let admin_path = format!("/admin/users/{admin_id}/role");
    let (a, b) = tokio::join!(
        admin.post_form(&carl_path, &[("role", "viewer")]),
        carl.post_form(&admin_path, &[("role", "viewer")]),
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    // One wins. The other is refused either as the last admin (409, when
    // both were read as admins) or as no admin any more (403, when the
    // winner's change came first): both keep one admin.
    assert_eq!(statuses[0], StatusCode::SEE_OTHER, "{statuses:?}");
    assert!(
        matches!(statuses[1], StatusCode::FORBIDDEN | StatusCode::CONFLICT),
        "{statuses:?}"
    );
    let admins = app
        .store
        .list_users()
        .await
        .expect("users")
        .into_iter()
        .filter(|user| user.role == Role::Admin && !user.is_disabled())
        .count();
    assert_eq!(admins, 1);
}

/// An address past its sign-in limit is refused without a trace per
/// attempt: one `sign_in_limited` entry for the window, and no counter for
/// each made-up email it tries.
pub async fn a_flood_of_refused_sign_ins_is_recorded_once(store: StoreKind) {
    let app = TestApp::spawn_with(store, |web| {
        web.limits.sign_in_per_address = Limit::new(3, Duration::from_secs(600));
    })
    .await;
    let browser = app.browser();
    for n in 0..40 {
        let email = format!("nobody{n}@example.com");
        let response = browser
            .post_form(
                "/login",
                &[("email", email.as_str()), ("password", "whatever it is")],
            )
            .await;
        let expected = if n < 3 {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(response.status(), expected, "attempt {n}");
    }
    let entries = app
        .store
        .audit_entries(&AuditFilter {
            limit: 500,
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let count = |action| entries.iter().filter(|e| e.action == action).count();
    assert_eq!(count(AuditAction::SignInFailed), 3);
    assert_eq!(count(AuditAction::SignInLimited), 1);
    let counters = app
        .store
        .purge_limits(Utc::now() + chrono::Duration::days(1))
        .await
        .expect("purge");
    assert_eq!(
        counters, 4,
        "the address and the three emails tried before the limit"
    );
}
