//! The audit log records who did what, when and from where, and admins
//! read it filtered.

use modelrun_core::audit::{AuditAction, AuditFilter};
use reqwest::StatusCode;

use super::{BOB_EMAIL, hidden, submit};
use crate::support::*;

pub async fn the_audit_log_records_who_did_what(store: StoreKind) {
    let app = TestApp::spawn(store).await;
    let failed = app
        .browser()
        .post_form(
            "/login",
            &[("email", RUNNER_EMAIL), ("password", "wrong password here")],
        )
        .await;
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    let ann = app.signed_in(RUNNER_EMAIL, RUNNER_PASSWORD).await;
    let form = ann.page("/models/forecast/runs/new").await;
    let submitted = ann
        .post_form(
            "/models/forecast/runs/new",
            &[
                ("version", app.forecast_label().await.as_str()),
                ("_key", &hidden(&form, "_key")),
            ],
        )
        .await;
    let run_path = location(&submitted);
    app.drain().await;
    let download = ann.get(&format!("{run_path}/outputs/forecast.csv")).await;
    assert_eq!(download.status(), StatusCode::OK);
    let api = app.api(&app.token(RUNNER_EMAIL).await);
    let id = submit(&api).await;
    let cancel = ann
        .post_form(&format!("/runs/{id}/cancel"), &[("confirmed", "1")])
        .await;
    assert_eq!(cancel.status(), StatusCode::SEE_OTHER);
    let minted = ann
        .post_form(
            "/account/tokens",
            &[
                ("name", "export"),
                ("role", "viewer"),
                ("expires_in_days", ""),
            ],
        )
        .await;
    assert_eq!(minted.status(), StatusCode::CREATED);
    let admin = app.signed_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let created = admin
        .post_form(
            "/admin/users",
            &[("email", BOB_EMAIL), ("role", "viewer"), ("password", "")],
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert!(
        created
            .text()
            .await
            .expect("body")
            .contains("id=\"new-password\"")
    );
    let bob = app
        .store
        .credentials(BOB_EMAIL)
        .await
        .expect("q")
        .expect("bob")
        .user;
    let role = admin
        .post_form(
            &format!("/admin/users/{}/role", bob.id),
            &[("role", "runner")],
        )
        .await;
    assert_eq!(role.status(), StatusCode::SEE_OTHER);
    let label = app.forecast_label().await;
    let retired = admin
        .post_form(
            &format!("/models/forecast/versions/{label}/retire"),
            &[("confirmed", "1")],
        )
        .await;
    assert_eq!(retired.status(), StatusCode::SEE_OTHER);
    let out = ann.post_form("/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);

    let entries = app
        .store
        .audit_entries(&AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .expect("audit");
    let find = |action: AuditAction| {
        entries
            .iter()
            .find(|e| e.action == action)
            .unwrap_or_else(|| panic!("no {action} entry in {entries:#?}"))
    };
    let failed = find(AuditAction::SignInFailed);
    assert_eq!(failed.actor.name, RUNNER_EMAIL);
    assert_eq!(failed.address, "127.0.0.1", "from where");
    assert!(
        entries
            .iter()
            .any(|e| e.action == AuditAction::SignIn && e.actor.name == RUNNER_EMAIL)
    );
    let ui_target = format!("run {}", run_path.trim_start_matches("/runs/"));
    let submit = entries
        .iter()
        .find(|e| e.action == AuditAction::RunSubmit && e.target == ui_target)
        .expect("the form's submit");
    assert_eq!(submit.detail["model"], "forecast");
    assert_eq!(submit.actor.name, RUNNER_EMAIL);
    assert_eq!(submit.address, "127.0.0.1");
    let download = find(AuditAction::Download);
    assert_eq!(download.detail["file"], "forecast.csv");
    assert_eq!(find(AuditAction::RunCancel).target, format!("run {id}"));
    assert_eq!(find(AuditAction::TokenCreate).detail["role"], "viewer");
    let user = find(AuditAction::UserCreate);
    assert_eq!(user.actor.name, ADMIN_EMAIL);
    assert_eq!(user.detail["email"], BOB_EMAIL);
    let change = find(AuditAction::UserRoleChange);
    assert_eq!(
        (change.detail["from"].as_str(), change.detail["to"].as_str()),
        (Some("viewer"), Some("runner"))
    );
    assert_eq!(
        find(AuditAction::VersionRetire).detail["label"],
        label.as_str()
    );
    assert!(
        find(AuditAction::VersionRegister)
            .actor
            .name
            .starts_with("system:")
    );
    assert_eq!(find(AuditAction::SignOut).actor.name, RUNNER_EMAIL);
    for entry in &entries {
        assert!(entry.at <= chrono::Utc::now(), "when");
    }

    let page = admin.page("/admin/audit?action=sign_in_failed").await;
    assert!(page.contains("sign_in_failed") && page.contains(RUNNER_EMAIL));
    assert!(
        !page.contains("<code>run_submit</code>"),
        "the filter applies"
    );
    let by_actor = admin.page("/admin/audit?actor=admin%40example").await;
    assert!(by_actor.contains("<code>user_create</code>"));
    assert!(!by_actor.contains("<code>run_submit</code>"));
    let bad = admin.get("/admin/audit?since=yesterday").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(
        bad.text()
            .await
            .expect("body")
            .contains("since must be a day written YYYY-MM-DD")
    );
}
